/**
 * The manifests for an audit across several hosts (deploy/, docs/distributed-audit.md). They are
 * documented, not run here (no Docker daemon, no cluster), so this checks what can be checked
 * without one, against the real sources of truth rather than copies of them:
 * - every YAML file under deploy/ parses, every document, with no duplicate key;
 * - every zks command line in them (worker, coordinator, key fetch) is parsed by the real zks
 *   command tree (commander, as `zks ARGS` would parse it) and uses only flags the issue-20 design
 *   names, with values it accepts, the tier's instances as the audit runs them (AUDIT_INSTANCES);
 * - docker-compose.yml and the Kubernetes manifests agree: the same image (the CLI's version),
 *   the same command lines, the same Redis and its start script, the same resources;
 * - Redis is exposed to nothing but the workers and the coordinator: ClusterIP only, a
 *   NetworkPolicy that admits exactly those pods, no published port and an internal network in
 *   compose; the password is never written in a manifest nor on any command line (the queue URL
 *   reaches zks through ZKS_QUEUE: a worker without --queue, the coordinator with `--queue env`),
 *   and Redis' start script refuses the Secret's placeholder, a short password or one that would
 *   break a redis:// URL.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { Command } from "commander";
import { parseAllDocuments } from "yaml";
import { registerAudit } from "../packages/cli/src/cli/commands/audit.ts";
import { registerKeys } from "../packages/cli/src/cli/commands/keys.ts";
import { AUDIT_INSTANCES } from "../packages/node/src/audit/run-audit.ts";
import { PACKAGE_ROOT } from "../packages/node/src/setup/paths.ts";

const DEPLOY = path.join(PACKAGE_ROOT, "deploy");
const K8S = path.join(DEPLOY, "k8s");
const CLI_VERSION: string = JSON.parse(readFileSync(path.join(PACKAGE_ROOT, "packages", "cli", "package.json"), "utf8")).version;
const NAMESPACE = "zks-audit";
/** The Secret holding the Redis password, and its key. */
const REDIS_SECRET = { name: "zks-redis", key: "password" };
/** Where the image's zks reads its keys (Dockerfile ENV ZKS_BUILD_DIR). */
const BUILD_DIR = "/var/lib/zks/build";

/**
 * The flags the issue-20 design (and the brief of these manifests) names for each command line the
 * manifests run. `--tier` of `audit prove` is its existing option (README, "CLI"), passed so the
 * coordinator's tier is written next to the workers'.
 */
const DESIGN_FLAGS: Record<string, readonly string[]> = {
  "audit worker": ["--queue", "--workers", "--prover", "--tier", "--lock-seconds", "--exit-when-idle"],
  "audit prove": ["--positions", "--market", "--policy", "--out", "--queue", "--queue-name", "--tier"],
  "keys fetch": ["--from", "--version", "--expect-index-sha256", "--instance"],
};
const PROVERS = ["auto", "snarkjs", "rapidsnark"];

/** Every file under `dir` whose name ends with one of `extensions`, recursively. */
function filesUnder(dir: string, extensions: readonly string[]): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && extensions.some((ext) => entry.name.endsWith(ext)))
    .map((entry) => path.join(entry.parentPath, entry.name))
    .sort();
}

/** All documents of a YAML file; any error or warning (a duplicate key among them) fails, naming the file. */
function readYaml(file: string): any[] {
  const documents = parseAllDocuments(readFileSync(file, "utf8"), { uniqueKeys: true });
  const list = Array.isArray(documents) ? documents : [documents];
  return list.map((doc, index) => {
    const problems = [...doc.errors, ...doc.warnings].map((problem) => problem.message);
    assert.deepEqual(problems, [], `${path.relative(PACKAGE_ROOT, file)}, document ${index + 1}`);
    return doc.toJS();
  });
}

interface K8sObject {
  file: string;
  kind: string;
  name: string;
  body: any;
}

function k8sObjects(): K8sObject[] {
  return filesUnder(K8S, [".yaml", ".yml"])
    .filter((file) => path.basename(file) !== "kustomization.yaml")
    .flatMap((file) => readYaml(file).map((body) => ({ file: path.relative(K8S, file), kind: body.kind, name: body.metadata?.name, body })));
}

function k8sObject(objects: K8sObject[], kind: string, name: string): K8sObject {
  const found = objects.filter((o) => o.kind === kind && o.name === name);
  assert.equal(found.length, 1, `exactly one ${kind} ${name} under deploy/k8s`);
  return found[0]!;
}

/** The pod template (or pod spec, for a Pod) of a workload, with its labels. */
function podOf(o: K8sObject): { labels: Record<string, string>; spec: any } | undefined {
  if (o.kind === "Pod") return { labels: o.body.metadata.labels ?? {}, spec: o.body.spec };
  if (["Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job"].includes(o.kind))
    return { labels: o.body.spec.template.metadata?.labels ?? {}, spec: o.body.spec.template.spec };
  if (o.kind === "CronJob") return { labels: o.body.spec.jobTemplate.spec.template.metadata?.labels ?? {}, spec: o.body.spec.jobTemplate.spec.template.spec };
  return undefined;
}

function containersOf(spec: any): any[] {
  return [...(spec.initContainers ?? []), ...(spec.containers ?? [])];
}

function container(spec: any, name: string): any {
  const found = containersOf(spec).filter((c) => c.name === name);
  assert.equal(found.length, 1, `exactly one container ${name}`);
  return found[0];
}

/** Kubernetes label-selector semantics (matchLabels and matchExpressions, ANDed). */
function selects(selector: any, labels: Record<string, string>): boolean {
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) if (labels[key] !== value) return false;
  for (const { key, operator, values } of selector.matchExpressions ?? []) {
    const has = Object.hasOwn(labels, key);
    const ok =
      operator === "In"
        ? has && values.includes(labels[key])
        : operator === "NotIn"
          ? !has || !values.includes(labels[key])
          : operator === "Exists"
            ? has
            : operator === "DoesNotExist"
              ? !has
              : false;
    if (!ok) return false;
  }
  return true;
}

/**
 * Parses a zks command line with the real command tree, as `zks ARGS` would, without running the
 * command: walks down the subcommands named first, then lets commander parse the options (its
 * value parsers and choices run; an unknown option comes back in `unknown`).
 */
function parseZks(args: readonly string[]): { command: string; flags: string[]; known: string[]; unknown: string[]; operands: string[]; opts: Record<string, any> } {
  const program = new Command();
  registerAudit(program);
  registerKeys(program);
  let command = program;
  let rest = [...args];
  const names: string[] = [];
  for (;;) {
    const sub = command.commands.find((c) => c.name() === rest[0]);
    if (!sub) break;
    names.push(sub.name());
    command = sub;
    rest = rest.slice(1);
  }
  command.exitOverride();
  const { operands, unknown } = command.parseOptions(rest);
  return { command: names.join(" "), flags: args.filter((a) => a.startsWith("-")), known: command.options.map((o) => o.long ?? ""), unknown, operands, opts: command.opts() };
}

/** Asserts a command line is `expected`, parsed by zks with only design-named flags; returns its options. */
function checkCommandLine(where: string, args: readonly string[], expected: string): Record<string, any> {
  const parsed = parseZks(args);
  assert.equal(parsed.command, expected, `${where}: runs \`zks ${expected}\``);
  assert.deepEqual(parsed.unknown, [], `${where}: options zks does not know`);
  assert.deepEqual(parsed.operands, [], `${where}: stray arguments`);
  for (const flag of parsed.flags) {
    assert.ok(DESIGN_FLAGS[expected]!.includes(flag), `${where}: ${flag} is not a flag the design names for \`zks ${expected}\` (${DESIGN_FLAGS[expected]!.join(" ")})`);
    assert.ok(parsed.known.includes(flag), `${where}: ${flag} is not an option of \`zks ${expected}\``);
  }
  return parsed.opts;
}

/** `${NAME}`, `${NAME:?msg}`, `${NAME:-x}` (compose) and `$(NAME)` (kubelet) all become `$NAME`. */
function normaliseVariables(value: string): string {
  return value.replace(/\$\{([A-Z_][A-Z0-9_]*)(?::?[?-][^}]*)?\}/g, "$$$1").replace(/\$\(([A-Z_][A-Z0-9_]*)\)/g, "$$$1");
}

const QUEUE_URL = /^(rediss?):\/\/:(.+)@([a-z0-9.-]+):(\d+)$/;

/** A command line with its queue URL's host replaced, and every variable reference normalised. */
function normaliseCommand(args: readonly string[], redisHost: string): string[] {
  return args.map((arg) => {
    const url = QUEUE_URL.exec(arg);
    if (!url) return normaliseVariables(arg);
    assert.equal(url[3], redisHost, `${arg}: the queue URL names the Redis service (${redisHost})`);
    return `${url[1]}://:${normaliseVariables(url[2]!)}@REDIS:${url[4]}`;
  });
}

/** Bytes of a Kubernetes quantity (512Mi, 1Gi) or a compose/Docker size (512m, 1g: binary units). */
function bytes(size: string | number): number {
  const match = /^(\d+)\s*(Ki|Mi|Gi|k|m|g|b)?$/i.exec(String(size));
  assert.ok(match, `a size: ${size}`);
  const unit = match[2] ?? "";
  const scale: Record<string, number> = { "": 1, b: 1, ki: 1024, k: 1024, mi: 1024 ** 2, m: 1024 ** 2, gi: 1024 ** 3, g: 1024 ** 3 };
  return Number(match[1]) * scale[unit.toLowerCase()]!;
}

/** The shell script Redis starts with, as the container's shell sees it (compose's `$$` is `$`). */
function composeScript(text: string): string {
  return text.replaceAll("$$", "$");
}

describe("deploy/: manifests for the audit across several hosts", function () {
  const objects = k8sObjects();
  const compose = readYaml(path.join(DEPLOY, "docker-compose.yml"))[0];
  const services = compose.services;
  const worker = k8sObject(objects, "Deployment", "zks-audit-worker");
  const job = k8sObject(objects, "Job", "zks-audit-coordinator");
  const redis = k8sObject(objects, "Deployment", "zks-redis");
  const redisService = k8sObject(objects, "Service", "zks-redis");
  const workerPod = podOf(worker)!;
  const jobPod = podOf(job)!;
  const redisPod = podOf(redis)!;

  it("every YAML file under deploy/ parses, every document, with no duplicate key", function () {
    const files = filesUnder(DEPLOY, [".yaml", ".yml"]);
    assert.ok(files.length >= 10, `the compose file and the Kubernetes manifests (found ${files.length})`);
    for (const file of files) {
      const documents = readYaml(file);
      for (const [index, doc] of documents.entries()) assert.ok(doc && typeof doc === "object", `${path.relative(PACKAGE_ROOT, file)}, document ${index + 1}: a mapping`);
    }
    for (const o of objects) {
      assert.ok(typeof o.body.apiVersion === "string" && typeof o.kind === "string" && typeof o.name === "string", `${o.file}: apiVersion, kind and metadata.name`);
      assert.equal(o.body.metadata.namespace ?? o.name, NAMESPACE, `${o.file}: ${o.kind} ${o.name} is in the ${NAMESPACE} namespace`);
    }
  });

  it("the worker command lines use only the design's flags, with values zks accepts: one rapidsnark per core", function () {
    const lines: [string, readonly string[], any][] = [
      ["docker-compose.yml, service worker", services.worker.command, { cpu: services.worker.deploy.resources.limits.cpus }],
      ["k8s/worker.yaml, container worker", container(workerPod.spec, "worker").args, { cpu: container(workerPod.spec, "worker").resources.limits.cpu }],
    ];
    for (const [where, args, { cpu }] of lines) {
      const opts = checkCommandLine(where, args, "audit worker");
      assert.ok(PROVERS.includes(String(opts.prover)), `${where}: --prover ${opts.prover}`);
      assert.equal(String(opts.prover), "rapidsnark", `${where}: the image's rapidsnark, and exit 3 rather than a silent fall-back to snarkjs`);
      assert.ok(Object.hasOwn(AUDIT_INSTANCES, String(opts.tier)), `${where}: --tier ${opts.tier}`);
      assert.ok(Number.isInteger(Number(opts.lockSeconds)) && Number(opts.lockSeconds) >= 1, `${where}: --lock-seconds ${opts.lockSeconds}`);
      // One pool thread, so one rapidsnark, per core the container may use.
      assert.equal(Number(opts.workers), Number(cpu), `${where}: --workers ${opts.workers} equals the container's CPU limit ${cpu}`);
      assert.ok(!args.includes("--exit-when-idle"), `${where}: a long-lived worker does not exit when the queue is idle`);
    }
  });

  it("the coordinator and the key fetch use only the design's flags; the keys are the tier's audit instances", function () {
    const coordinators: [string, readonly string[]][] = [
      ["docker-compose.yml, service coordinator", services.coordinator.command],
      ["k8s/run/coordinator-job.yaml, container coordinator", container(jobPod.spec, "coordinator").args],
    ];
    const workerTier = String(parseZks(services.worker.command).opts.tier);
    for (const [where, args] of coordinators) {
      const opts = checkCommandLine(where, args, "audit prove");
      // The workers pass no --queue-name: they serve the default queue, so the coordinator must fill that one.
      assert.equal(opts.queueName, "zks-audit", `${where}: --queue-name is the workers' (default) queue`);
      assert.equal(String(opts.tier), workerTier, `${where}: the coordinator's tier is the workers'`);
    }
    const fetches: [string, readonly string[]][] = [
      ["docker-compose.yml, service keys", services.keys.command],
      ["k8s/worker.yaml, init container fetch-keys", container(workerPod.spec, "fetch-keys").args],
      ["k8s/run/coordinator-job.yaml, init container fetch-keys", container(jobPod.spec, "fetch-keys").args],
    ];
    const tierInstances = Object.values(AUDIT_INSTANCES[workerTier as keyof typeof AUDIT_INSTANCES]).sort();
    for (const [where, args] of fetches) {
      const opts = checkCommandLine(where, args, "keys fetch");
      assert.deepEqual([...opts.instance].sort(), tierInstances, `${where}: exactly the ${workerTier} tier's audit instances`);
      assert.ok(args.includes("--expect-index-sha256"), `${where}: the release is pinned by its index's sha256`);
    }
  });

  it("zks containers run the image's entrypoint (tini, then zks) and read the keys where the image says", function () {
    const dockerfile = readFileSync(path.join(DEPLOY, "Dockerfile"), "utf8");
    assert.match(dockerfile, /^ENTRYPOINT \["\/usr\/bin\/tini", "--", "zks"\]$/m);
    assert.match(dockerfile, new RegExp(`ZKS_BUILD_DIR=${BUILD_DIR}\\b`));
    for (const [where, spec] of [
      ["worker", workerPod.spec],
      ["coordinator", jobPod.spec],
    ] as const) {
      for (const c of containersOf(spec)) {
        assert.equal(c.command, undefined, `k8s ${where}, container ${c.name}: no command, so the image's tini and zks run`);
        assert.ok(
          c.volumeMounts.some((m: any) => m.name === "keys" && m.mountPath === BUILD_DIR),
          `k8s ${where}, container ${c.name}: the keys volume at ${BUILD_DIR}`,
        );
      }
      // The keys are written by the init container only.
      assert.equal(container(spec, where).volumeMounts.find((m: any) => m.name === "keys").readOnly, true, `k8s ${where}: keys mounted read-only`);
    }
    for (const name of ["worker", "keys", "coordinator"]) {
      assert.equal(services[name].entrypoint, undefined, `compose ${name}: the image's entrypoint`);
      assert.ok(
        services[name].volumes.some((v: string) => v.startsWith(`keys:${BUILD_DIR}`)),
        `compose ${name}: the keys volume at ${BUILD_DIR}`,
      );
    }
    assert.ok(
      services.worker.volumes.includes(`keys:${BUILD_DIR}:ro`) && services.coordinator.volumes.includes(`keys:${BUILD_DIR}:ro`),
      "compose: keys read-only but for the fetch",
    );
  });

  it("compose and Kubernetes agree: the same image (the CLI's version), command lines, Redis and resources", function () {
    // The image, everywhere, and its version the CLI's.
    const zksImage = `zks-worker:${CLI_VERSION}`;
    for (const name of ["worker", "keys", "coordinator"]) assert.equal(services[name].image, zksImage, `compose ${name}`);
    assert.equal(services.worker.build.args.ZKS_VERSION, CLI_VERSION, "compose: the image is built at the CLI's version");
    const dockerfile = readFileSync(path.join(DEPLOY, "Dockerfile"), "utf8");
    const versionArgs = [...dockerfile.matchAll(/^ARG ZKS_VERSION=(.+)$/gm)].map((m) => m[1]);
    assert.ok(versionArgs.length >= 1 && versionArgs.every((v) => v === CLI_VERSION), `Dockerfile: ARG ZKS_VERSION defaults to ${CLI_VERSION} (${versionArgs.join(", ")})`);
    for (const o of objects) {
      const pod = podOf(o);
      if (!pod) continue;
      for (const c of containersOf(pod.spec)) {
        if (o.name === "zks-redis") assert.equal(c.image, services.redis.image, `${o.file}: Redis is compose's Redis image`);
        else assert.equal(c.image, zksImage, `${o.file}, container ${c.name}`);
      }
    }
    // Each kustomization maps the image the same way (an operator sets their registry in all three).
    const kustomizations = filesUnder(K8S, ["kustomization.yaml"]);
    assert.equal(kustomizations.length, 3, "deploy/k8s, run/ and data/");
    const mappings = kustomizations.map((file) => JSON.stringify(readYaml(file)[0].images));
    assert.equal(new Set(mappings).size, 1, `the same images: mapping in ${kustomizations.map((f) => path.relative(K8S, f)).join(", ")}`);
    assert.deepEqual(JSON.parse(mappings[0]!), [{ name: "zks-worker", newName: "zks-worker", newTag: CLI_VERSION }]);
    for (const file of kustomizations) {
      for (const resource of readYaml(file)[0].resources) assert.ok(existsSync(path.join(path.dirname(file), resource)), `${path.relative(K8S, file)}: ${resource} exists`);
    }

    // The same command lines, the Redis host and the variable syntax aside.
    const pairs: [string, readonly string[], readonly string[]][] = [
      ["worker", services.worker.command, container(workerPod.spec, "worker").args],
      ["coordinator", services.coordinator.command, container(jobPod.spec, "coordinator").args],
      ["key fetch (worker)", services.keys.command, container(workerPod.spec, "fetch-keys").args],
      ["key fetch (coordinator)", services.keys.command, container(jobPod.spec, "fetch-keys").args],
    ];
    for (const [what, composeArgs, k8sArgs] of pairs) {
      assert.deepEqual(normaliseCommand(k8sArgs, redisService.name), normaliseCommand(composeArgs, "redis"), `${what}: compose and Kubernetes run the same command`);
    }

    // The same Redis: image, start script (guard and flags) and port.
    const k8sRedis = container(redisPod.spec, "redis");
    assert.deepEqual(k8sRedis.command, services.redis.entrypoint, "Redis: the same entrypoint");
    assert.equal(k8sRedis.args.length, 1);
    assert.equal(k8sRedis.args[0], composeScript(services.redis.command[0]), "Redis: the same start script");
    assert.match(k8sRedis.args[0], /^exec redis-server --requirepass "\$ZKS_REDIS_PASSWORD" .*--maxmemory-policy noeviction/m, "Redis: requirepass, and BullMQ's noeviction");
    assert.doesNotMatch(k8sRedis.args[0], /--port\b/, "Redis on its default port, 6379, the queue URLs' port");
    assert.deepEqual(
      redisService.body.spec.ports.map((p: any) => p.port),
      [6379],
    );

    // The same resources per worker: CPU, and the provisional memory figures.
    const k8sWorker = container(workerPod.spec, "worker");
    const limits = services.worker.deploy.resources.limits;
    assert.equal(Number(limits.cpus), Number(k8sWorker.resources.limits.cpu), "worker CPU limit");
    assert.equal(Number(k8sWorker.resources.requests.cpu), Number(k8sWorker.resources.limits.cpu), "worker CPU request = limit: a whole core");
    assert.equal(bytes(limits.memory), bytes(k8sWorker.resources.limits.memory), "worker memory limit");
    assert.equal(bytes(services.worker.deploy.resources.reservations.memory), bytes(k8sWorker.resources.requests.memory), "worker memory request");
    assert.equal(bytes(k8sWorker.resources.requests.memory), bytes("512Mi"));
    assert.equal(bytes(k8sWorker.resources.limits.memory), bytes("1Gi"));
  });

  it("the queue URL (with the password) is on no command line: ZKS_QUEUE in the environment, read by a worker without --queue and by `--queue env`", function () {
    const lines: [string, readonly string[], string | undefined, "audit worker" | "audit prove"][] = [
      ["compose worker", services.worker.command, services.worker.environment?.ZKS_QUEUE, "audit worker"],
      ["compose coordinator", services.coordinator.command, services.coordinator.environment?.ZKS_QUEUE, "audit prove"],
      ["k8s worker", container(workerPod.spec, "worker").args, container(workerPod.spec, "worker").env.find((e: any) => e.name === "ZKS_QUEUE")?.value, "audit worker"],
      ["k8s coordinator", container(jobPod.spec, "coordinator").args, container(jobPod.spec, "coordinator").env.find((e: any) => e.name === "ZKS_QUEUE")?.value, "audit prove"],
    ];
    for (const [where, args, url, command] of lines) {
      for (const arg of args) {
        assert.doesNotMatch(arg, /rediss?:\/\/|PASSWORD/, `${where}: no queue URL or password among the arguments (${arg})`);
      }
      const opts = parseZks(args).opts;
      // The worker's --queue is optional and defaults to ZKS_QUEUE; the coordinator says `env`, since without --queue it would prove locally.
      if (command === "audit worker") assert.equal(opts.queue, undefined, `${where}: no --queue, so ZKS_QUEUE`);
      else assert.equal(opts.queue, "env", `${where}: --queue env`);
      assert.ok(url !== undefined && QUEUE_URL.test(url), `${where}: ZKS_QUEUE is a redis:// URL (${url})`);
    }
    // The same URL in compose and Kubernetes, the Redis host and the variable syntax aside.
    assert.deepEqual(normaliseCommand([lines[2]![2]!], redisService.name), normaliseCommand([lines[0]![2]!], "redis"));
    assert.equal(lines[0]![2], lines[1]![2], "compose: the workers' and the coordinator's URL");
    assert.equal(lines[2]![2], lines[3]![2], "k8s: the workers' and the coordinator's URL");
    // The kubelet expands $(VAR) only from variables defined before it in the list.
    for (const [where, spec, name] of [
      ["worker", workerPod.spec, "worker"],
      ["coordinator", jobPod.spec, "coordinator"],
    ] as const) {
      const names = container(spec, name).env.map((e: any) => e.name);
      assert.ok(names.indexOf("ZKS_REDIS_PASSWORD") >= 0 && names.indexOf("ZKS_REDIS_PASSWORD") < names.indexOf("ZKS_QUEUE"), `k8s ${where}: ZKS_REDIS_PASSWORD before ZKS_QUEUE`);
    }
  });

  it("the Redis password is never written in a manifest: the Secret (k8s) or .env (compose), required, never defaulted", function () {
    for (const [where, spec, name] of [
      ["worker", workerPod.spec, "worker"],
      ["coordinator", jobPod.spec, "coordinator"],
      ["redis", redisPod.spec, "redis"],
    ] as const) {
      const env = container(spec, name).env.find((e: any) => e.name === "ZKS_REDIS_PASSWORD");
      assert.deepEqual(env?.valueFrom?.secretKeyRef, REDIS_SECRET, `k8s ${where}: ZKS_REDIS_PASSWORD from Secret ${REDIS_SECRET.name}`);
    }
    for (const spec of [container(workerPod.spec, "worker"), container(jobPod.spec, "coordinator")]) {
      const url = spec.env.find((e: any) => e.name === "ZKS_QUEUE").value;
      assert.equal(QUEUE_URL.exec(url)![2], "$(ZKS_REDIS_PASSWORD)", `k8s: ${url}`);
    }
    // Every compose reference to the password is the required form: no default, no empty value.
    const text = readFileSync(path.join(DEPLOY, "docker-compose.yml"), "utf8");
    const references = [...text.matchAll(/\$\{ZKS_REDIS_PASSWORD([^}]*)\}/g)].map((m) => m[1]!);
    assert.ok(references.length >= 3, "the password is referenced by Redis, the workers and the coordinator");
    for (const rest of references) assert.match(rest, /^:\?/, `\${ZKS_REDIS_PASSWORD${rest}}: compose refuses to start without it`);
    for (const name of ["worker", "coordinator"]) assert.match(services[name].environment.ZKS_QUEUE, /^redis:\/\/:\$\{ZKS_REDIS_PASSWORD:\?[^}]*\}@redis:6379$/);
    assert.match(readFileSync(path.join(DEPLOY, ".env.example"), "utf8"), /^ZKS_REDIS_PASSWORD=$/m, ".env.example ships no password");
    // The Secret is applied once, by hand: `kubectl apply -k` must never put its placeholder back.
    const secret = k8sObject(objects, "Secret", REDIS_SECRET.name);
    for (const file of filesUnder(K8S, ["kustomization.yaml"])) {
      assert.ok(!readYaml(file)[0].resources.includes(path.relative(path.dirname(file), path.join(K8S, secret.file))), `${path.relative(K8S, file)} leaves out ${secret.file}`);
    }
    // Kept out of the image's build context and of git.
    assert.match(readFileSync(path.join(DEPLOY, ".dockerignore"), "utf8"), /^\*$/m, ".dockerignore: nothing but what it re-includes");
    assert.match(readFileSync(path.join(DEPLOY, ".gitignore"), "utf8"), /^\.env$/m);
  });

  it("Redis' start script refuses the Secret's placeholder, a short password and one that would break a redis:// URL", function () {
    const script: string = container(redisPod.spec, "redis").args[0];
    // The guard is everything before `exec redis-server`: run it alone, with the real shell.
    const guard = script.slice(0, script.indexOf("exec redis-server"));
    assert.ok(guard.length > 0);
    const run = (password: string) => spawnSync("sh", ["-c", guard], { encoding: "utf8", env: { PATH: process.env.PATH, ZKS_REDIS_PASSWORD: password } });
    const placeholder: string = k8sObject(objects, "Secret", REDIS_SECRET.name).body.stringData[REDIS_SECRET.key];
    const refused: [string, RegExp][] = [
      [placeholder, /letters and digits only/],
      ["", /at least 32 characters/],
      ["0123456789abcdef", /at least 32 characters/],
      [`${"a".repeat(32)}@evil:6379`, /letters and digits only/],
      [`${"a".repeat(32)} --port 1`, /letters and digits only/],
      [`${"a".repeat(32)}/0`, /letters and digits only/],
    ];
    for (const [password, message] of refused) {
      const result = run(password);
      assert.equal(result.status, 1, `refused: ${JSON.stringify(password)}`);
      assert.match(result.stderr, message, JSON.stringify(password));
      assert.equal(result.stderr.trim().split("\n").length, 1, "one line");
    }
    const accepted = run("9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08");
    assert.equal(accepted.status, 0, accepted.stderr);
    assert.equal(accepted.stderr, "");
  });

  it("no Service exposes Redis outside the cluster, and a NetworkPolicy admits only the workers and the coordinator", function () {
    // Services: ClusterIP only.
    const servicesK8s = objects.filter((o) => o.kind === "Service");
    assert.ok(servicesK8s.length >= 1);
    for (const s of servicesK8s) {
      assert.ok(s.body.spec.type === undefined || s.body.spec.type === "ClusterIP", `${s.file}: Service ${s.name} is type ClusterIP (${s.body.spec.type})`);
      assert.equal(s.body.spec.externalIPs, undefined, `${s.file}: Service ${s.name} has no external IPs`);
      for (const port of s.body.spec.ports) assert.equal(port.nodePort, undefined, `${s.file}: Service ${s.name} has no node port`);
    }
    assert.ok(selects({ matchLabels: redisService.body.spec.selector }, redisPod.labels), "the Service selects the Redis pods");
    for (const o of objects) {
      assert.ok(!["Ingress", "Gateway", "HTTPRoute", "TCPRoute", "TLSRoute"].includes(o.kind), `${o.file}: no ${o.kind}`);
      const pod = podOf(o);
      if (!pod) continue;
      assert.ok(!pod.spec.hostNetwork && !pod.spec.hostPID && !pod.spec.hostIPC, `${o.file}: not on the host's network or namespaces`);
      for (const c of containersOf(pod.spec)) for (const port of c.ports ?? []) assert.equal(port.hostPort, undefined, `${o.file}: no host port`);
    }

    // NetworkPolicies: default deny, then Redis' ingress from exactly the workers and the coordinator.
    const policies = objects.filter((o) => o.kind === "NetworkPolicy");
    const defaultDeny = policies.find((p) => Object.keys(p.body.spec.podSelector).length === 0);
    assert.ok(defaultDeny, "a default-deny NetworkPolicy (empty podSelector)");
    assert.deepEqual([...defaultDeny.body.spec.policyTypes].sort(), ["Egress", "Ingress"]);
    assert.equal(defaultDeny.body.spec.ingress, undefined, "default deny: no ingress rule");
    assert.equal(defaultDeny.body.spec.egress, undefined, "default deny: no egress rule");

    const pods = objects.flatMap((o) => {
      const pod = podOf(o);
      return pod ? [{ name: `${o.kind} ${o.name}`, labels: pod.labels }] : [];
    });
    const redisPolicies = policies.filter((p) => p !== defaultDeny && selects(p.body.spec.podSelector, redisPod.labels) && p.body.spec.policyTypes.includes("Ingress"));
    assert.equal(redisPolicies.length, 1, "one NetworkPolicy for Redis' ingress");
    const admitted = new Set<string>();
    for (const rule of redisPolicies[0]!.body.spec.ingress) {
      assert.ok(Array.isArray(rule.from) && rule.from.length > 0, "every ingress rule names its sources (an empty `from` admits everyone)");
      assert.deepEqual(
        rule.ports.map((p: any) => p.port),
        [6379],
        "only Redis' port",
      );
      for (const peer of rule.from) {
        assert.deepEqual(Object.keys(peer), ["podSelector"], "sources are pods of this namespace: no namespaceSelector, no ipBlock");
        for (const pod of pods) if (selects(peer.podSelector, pod.labels)) admitted.add(pod.name);
      }
    }
    assert.deepEqual(
      [...admitted].sort(),
      ["Deployment zks-audit-worker", "Job zks-audit-coordinator"],
      "Redis admits the workers and the coordinator, and no other pod (not the data pod)",
    );

    // Egress of the workers and the coordinator: named destinations only, single addresses at most.
    const egress = policies.filter((p) => p.body.spec.policyTypes.includes("Egress") && p.body.spec.egress !== undefined);
    for (const p of egress) {
      for (const rule of p.body.spec.egress) {
        assert.ok(Array.isArray(rule.to) && rule.to.length > 0, `${p.name}: every egress rule names its destinations (an empty \`to\` allows anywhere)`);
        for (const peer of rule.to) if (peer.ipBlock) assert.match(peer.ipBlock.cidr, /\/32$/, `${p.name}: ${peer.ipBlock.cidr} is one address (the key host), not a range`);
      }
      const selected = pods.filter((pod) => selects(p.body.spec.podSelector, pod.labels)).map((pod) => pod.name);
      assert.deepEqual(selected.sort(), ["Deployment zks-audit-worker", "Job zks-audit-coordinator"], `${p.name} opens egress for the workers and the coordinator only`);
    }
    assert.equal(egress.length, 1, "one egress policy");

    // Compose: Redis publishes no port, and every network it, the workers and the coordinator are on is internal.
    assert.equal(services.redis.ports, undefined, "compose: Redis publishes no port");
    for (const name of ["redis", "worker", "coordinator"]) {
      assert.equal(services[name].network_mode, undefined, `compose ${name}: no network_mode (host)`);
      assert.equal(services[name].ports, undefined, `compose ${name}: no published port`);
      for (const network of services[name].networks) assert.equal(compose.networks[network].internal, true, `compose ${name}: network ${network} is internal`);
    }
  });

  it("every pod runs unprivileged: non-root, no privilege escalation, read-only root, no capabilities, no API token", function () {
    const namespace = k8sObject(objects, "Namespace", NAMESPACE);
    assert.equal(namespace.body.metadata.labels["pod-security.kubernetes.io/enforce"], "restricted");
    for (const o of objects) {
      const pod = podOf(o);
      if (!pod) continue;
      assert.equal(pod.spec.automountServiceAccountToken, false, `${o.file}: no service account token`);
      assert.equal(pod.spec.securityContext.runAsNonRoot, true, `${o.file}: runAsNonRoot`);
      assert.equal(pod.spec.securityContext.seccompProfile.type, "RuntimeDefault", `${o.file}: seccomp`);
      for (const c of containersOf(pod.spec)) {
        assert.equal(c.securityContext.allowPrivilegeEscalation, false, `${o.file}, ${c.name}`);
        assert.equal(c.securityContext.readOnlyRootFilesystem, true, `${o.file}, ${c.name}`);
        assert.deepEqual(c.securityContext.capabilities.drop, ["ALL"], `${o.file}, ${c.name}`);
        assert.ok(c.resources?.limits?.memory, `${o.file}, ${c.name}: a memory limit`);
      }
    }
    for (const name of ["redis", "keys", "worker", "coordinator"]) {
      assert.equal(services[name].read_only, true, `compose ${name}: read-only root`);
      assert.deepEqual(services[name].cap_drop, ["ALL"], `compose ${name}`);
      assert.ok(services[name].security_opt.includes("no-new-privileges:true"), `compose ${name}`);
    }
  });

  it("the Dockerfile builds rapidsnark at the commits ../shared/tools/rapidsnark/README.md names", function () {
    const dockerfile = readFileSync(path.join(DEPLOY, "Dockerfile"), "utf8");
    const arg = (name: string) => new RegExp(`^ARG ${name}=([0-9a-f]{40})$`, "m").exec(dockerfile)?.[1];
    const pins = { rapidsnark: arg("RAPIDSNARK_COMMIT"), ffiasm: arg("FFIASM_COMMIT"), circom_runtime: arg("CIRCOM_RUNTIME_COMMIT") };
    for (const [name, commit] of Object.entries(pins)) assert.ok(commit, `Dockerfile pins ${name} by a full commit hash`);
    // The build checks out each pinned commit and refuses a tree at any other.
    assert.match(dockerfile, /test "\$\(git rev-parse HEAD\)" = "\$RAPIDSNARK_COMMIT"/);
    assert.match(dockerfile, /test "\$\(git -C depends\/ffiasm rev-parse HEAD\)" = "\$FFIASM_COMMIT"/);
    assert.match(dockerfile, /test "\$\(git -C depends\/circom_runtime rev-parse HEAD\)" = "\$CIRCOM_RUNTIME_COMMIT"/);
    const readme = path.join(PACKAGE_ROOT, "..", "shared", "tools", "rapidsnark", "README.md");
    if (!existsSync(readme)) this.skip();
    const text = readFileSync(readme, "utf8").replace(/\s+/g, " ");
    assert.match(text, new RegExp(`iden3/rapidsnark at ${pins.rapidsnark}`), "the README's upstream commit");
    assert.match(text, new RegExp(`ffiasm \\(${pins.ffiasm}\\)`), "the README's ffiasm commit");
    assert.match(text, new RegExp(`circom_runtime \\(${pins.circom_runtime}\\)`), "the README's circom_runtime commit");
  });
});
