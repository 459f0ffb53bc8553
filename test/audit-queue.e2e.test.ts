/**
 * The audit on BullMQ across processes, with real proofs (test-tier instances) and a real
 * redis-server: a coordinator (`zks audit prove --queue`) and four `zks audit worker`s. One worker
 * is SIGKILLed while it holds a job, one is stopped with SIGTERM (it finishes its job), one with two
 * SIGINTs (it hands its job back at once); the last finishes the audit. Then: the killed worker's
 * job was retried, no finished job was proven again (each job has exactly one proof, and the proofs
 * returned before the kill are byte-identical in audit.json), the audit verifies, and its root,
 * figures and statements are those of a local `zks audit prove` of the same book (the proofs
 * differ by Groth16's randomness only).
 */
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Queue } from "bullmq";
import { parseQueueUrl } from "../packages/node/src/audit/queue/connection.ts";
import { parseAuditReport, type AuditReport } from "../packages/sdk/src/audit/audit-files.ts";
import { syntheticBook } from "../packages/sdk/src/audit/synthetic-book.ts";
import { positionToJson } from "../packages/sdk/src/inputs/position-file.ts";
import { assertOneLineError, ZKS, zksAsync } from "./helpers/cli.ts";
import { example, loadMarket, loadPosition } from "./helpers/examples.ts";
import { requireRedisOrSkip, startRedis, type LocalRedis } from "./helpers/redis.ts";

/** A zks child process whose stderr is read line by line as it comes. */
class Zks {
  readonly child: ChildProcess;
  stdout = "";
  readonly lines: string[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private readonly watchers: ((line: string) => void)[] = [];

  constructor(
    readonly name: string,
    args: string[],
  ) {
    this.child = spawn(process.execPath, [ZKS, ...args], { env: { ...process.env, ZKS_DEBUG: "" }, stdio: ["ignore", "pipe", "pipe"] });
    this.child.stdout!.on("data", (chunk: Buffer) => (this.stdout += chunk.toString()));
    let partial = "";
    this.child.stderr!.on("data", (chunk: Buffer) => {
      const parts = (partial + chunk.toString()).split("\n");
      partial = parts.pop()!;
      for (const line of parts) {
        this.lines.push(line);
        for (const watch of this.watchers) watch(line);
      }
    });
    this.exited = new Promise((resolve) => this.child.on("close", (code, signal) => resolve({ code, signal })));
  }

  /** Calls `watch` on every stderr line from now on. */
  onLine(watch: (line: string) => void): void {
    this.watchers.push(watch);
  }

  /** Job ids of this process's log lines "proving job X" / "proved job X". */
  jobs(verb: "proving" | "proved"): string[] {
    return this.lines.flatMap((line) => {
      const match = new RegExp(`^zks audit worker: ${verb} job (\\S+)`).exec(line);
      return match ? [match[1]!] : [];
    });
  }
}

const firstMatch = (proc: Zks, pattern: RegExp, timeoutMs = 300_000): Promise<RegExpExecArray> =>
  new Promise((resolve, reject) => {
    const found = proc.lines.map((line) => pattern.exec(line)).find(Boolean);
    if (found) return resolve(found);
    const timer = setTimeout(() => reject(new Error(`${proc.name}: no line matching ${pattern} within ${timeoutMs} ms:\n${proc.lines.join("\n")}`)), timeoutMs);
    proc.onLine((line) => {
      const match = pattern.exec(line);
      if (match) {
        clearTimeout(timer);
        resolve(match);
      }
    });
  });

describe("audit on BullMQ across processes: a worker killed mid-proof, the audit resumes and is identical (real proofs)", function () {
  this.timeout(1_200_000);
  const market = loadMarket();
  // 16 positions: 8 batch proofs, 4 + 2 merges and the root (15 jobs, 4 levels).
  const book = syntheticBook(loadPosition("position-healthy.json", market), loadPosition("position-at-risk.json", market), { count: 16, seed: 33, atRiskShare: 0.25 });
  const common = ["--market", example("market-grid.json"), "--policy", example("policy.json"), "--tier", "test"];
  let redis: LocalRedis;
  let dir: string;
  const started: Zks[] = [];

  before(async function () {
    requireRedisOrSkip(this);
    redis = await startRedis();
    dir = mkdtempSync(path.join(tmpdir(), "zks-audit-queue-e2e-"));
    writeFileSync(path.join(dir, "book.jsonl"), `${book.map((p) => JSON.stringify(positionToJson(p, market))).join("\n")}\n`);
  });
  after(async function () {
    for (const proc of started) if (proc.child.exitCode === null && proc.child.signalCode === null) proc.child.kill("SIGKILL");
    await redis?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("the worker's CLI: an unreachable Redis is exit 3, one line; a bad URL or a flag the coordinator does not take is exit 2, without echoing credentials", async function () {
    const worker = await zksAsync(["audit", "worker", "--queue", "redis://127.0.0.1:1", "--tier", "test"]);
    assert.equal(worker.code, 3);
    assertOneLineError(worker, /^zks: cannot reach Redis at redis:\/\/127\.0\.0\.1:1 \(.*ECONNREFUSED.*\): start it, or fix --queue/);
    const bad = await zksAsync(["audit", "worker", "--queue", "http://user:hunter2@127.0.0.1:1"]);
    assert.equal(bad.code, 2);
    assertOneLineError(bad, /^zks: --queue: expected redis:\/\//);
    assert.doesNotMatch(bad.stderr, /hunter2/);
    const lock = await zksAsync(["audit", "worker", "--queue", redis.url, "--lock-seconds", "0"]);
    assert.equal(lock.code, 2);
    assertOneLineError(lock, /^zks: --lock-seconds: expected a whole number of seconds from 1 to 3600, got "0"/);
    const both = await zksAsync([
      "audit",
      "prove",
      "--positions",
      path.join(dir, "book.jsonl"),
      ...common,
      "--out",
      path.join(dir, "never"),
      "--queue",
      redis.url,
      "--workers",
      "2",
    ]);
    assert.equal(both.code, 2);
    assertOneLineError(both, /^zks: --workers: with --queue the workers prove/);
    const keep = await zksAsync(["audit", "prove", "--positions", path.join(dir, "book.jsonl"), ...common, "--out", path.join(dir, "never"), "--keep-jobs"]);
    assert.equal(keep.code, 2);
    assertOneLineError(keep, /^zks: --keep-jobs: needs --queue/);
  });

  it("coordinator + 4 workers: SIGKILL, SIGTERM and SIGINT x2 mid-proof; every job proven once (the killed one retried), the audit verifies and equals the local run's", async function () {
    const local = await zksAsync(["audit", "prove", "--positions", path.join(dir, "book.jsonl"), ...common, "--out", path.join(dir, "local"), "--workers", "2"]);
    assert.equal(local.code, 0, local.stderr);

    const queueName = "crash";
    const out = path.join(dir, "queued");
    const coordinator = new Zks("coordinator", [
      "audit",
      "prove",
      "--positions",
      path.join(dir, "book.jsonl"),
      ...common,
      "--out",
      out,
      "--queue",
      redis.url,
      "--queue-name",
      queueName,
      "--keep-jobs",
    ]);
    started.push(coordinator);
    const [, auditId] = await firstMatch(coordinator, /enqueued audit ([0-9a-f]{16}): 15 proof jobs/);
    // snarkjs for every worker: a proof takes seconds, so a signal sent as a job starts lands while it is held.
    const worker = (name: string) => {
      const proc = new Zks(name, [
        "audit",
        "worker",
        "--queue",
        redis.url,
        "--queue-name",
        queueName,
        "--tier",
        "test",
        "--workers",
        "1",
        "--prover",
        "snarkjs",
        "--lock-seconds",
        "5",
        "--exit-when-idle",
      ]);
      started.push(proc);
      return proc;
    };
    const [killed, termed, interrupted, survivor] = ["killed", "termed", "interrupted", "survivor"].map(worker) as [Zks, Zks, Zks, Zks];
    const all = [killed, termed, interrupted, survivor];
    const provedSoFar = () => all.flatMap((w) => w.jobs("proved"));

    // SIGTERM once as it takes its first job: it finishes that job, then stops.
    const [, termedJob] = await firstMatch(termed, /^zks audit worker: proving job (\S+)/);
    termed.child.kill("SIGTERM");
    // SIGINT twice as it takes its first job: it hands the job back at once.
    const [, interruptedJob] = await firstMatch(interrupted, /^zks audit worker: proving job (\S+)/);
    interrupted.child.kill("SIGINT");
    await firstMatch(interrupted, /SIGINT: finishing the jobs in hand/);
    interrupted.child.kill("SIGINT");

    // SIGKILL as it takes a job once at least two proofs are done: that job is held by a dead worker.
    const killedJob = await new Promise<string>((resolve) => {
      const attempt = (line: string) => {
        const match = /^zks audit worker: proving job (\S+)/.exec(line);
        if (match && provedSoFar().length >= 2 && killed.child.exitCode === null) {
          killed.child.kill("SIGKILL");
          resolve(match[1]!);
        }
      };
      killed.onLine(attempt);
    });
    assert.deepEqual((await killed.exited).signal, "SIGKILL");
    const doneBeforeKill = provedSoFar();
    assert.ok(doneBeforeKill.length >= 2);
    assert.ok(!doneBeforeKill.includes(killedJob), "the killed worker's job had not finished");
    // What the workers returned for the jobs finished before the kill, as Redis holds it.
    const queue = new Queue(queueName, { connection: parseQueueUrl(redis.url).options });
    let returned: Map<string, unknown>;
    try {
      returned = new Map(await Promise.all(doneBeforeKill.map(async (id) => [id, (await queue.getJob(id))!.returnvalue] as [string, unknown])));
    } finally {
      await queue.close();
    }

    const result = await coordinator.exited;
    assert.equal(result.code, 0, coordinator.lines.join("\n"));
    for (const proc of [termed, interrupted, survivor]) assert.equal((await proc.exited).code, 0, `${proc.name}:\n${proc.lines.join("\n")}`);

    // The stopped workers: SIGTERM finished its job; two SIGINTs handed theirs back unproven.
    assert.ok(termed.jobs("proved").includes(termedJob!), termed.lines.join("\n"));
    assert.match(termed.stdout, /^audit worker stopped: proved \d+ jobs\n$/);
    assert.ok(!interrupted.jobs("proved").includes(interruptedJob!), interrupted.lines.join("\n"));
    assert.match(interrupted.stdout, /handed 1 back to the queue/);

    // Every job proven exactly once: nothing finished was redone, and the killed job was retried by another worker.
    const proved = provedSoFar();
    assert.equal(proved.length, 15, proved.join(", "));
    assert.equal(new Set(proved).size, 15, `a job was proven twice: ${proved.join(", ")}`);
    assert.ok(survivor.jobs("proved").includes(killedJob) || termed.jobs("proved").includes(killedJob), "another worker proved the killed one's job");
    assert.ok(
      all.some((w) => w.lines.some((line) => line.includes(`job ${killedJob} was held by a worker that stopped answering`))),
      "a worker found the killed one's job stalled",
    );
    for (const id of proved) assert.ok(id.startsWith(`${auditId}.`));

    const read = (location: string): AuditReport => parseAuditReport(JSON.parse(readFileSync(path.join(location, "audit.json"), "utf8")), "audit.json");
    const queued = read(out);
    const reference = read(path.join(dir, "local"));
    // The proofs returned before the kill are in audit.json as the workers returned them.
    for (const [id, value] of returned) {
      const [, level, index] = id.split(".").map(Number) as [number, number, number];
      const { proof, publicSignals } = value as { proof: unknown; publicSignals: unknown };
      assert.equal(JSON.stringify(queued.proofs[level]![index]), JSON.stringify({ proof, publicSignals }), `job ${id}`);
    }

    const verified = await zksAsync(["audit", "verify", "--audit", out, "--market", example("market-grid.json"), "--policy", example("policy.json")]);
    assert.equal(verified.code, 0, verified.stderr);
    assert.match(verified.stdout, /^VALID: audit of epoch \d+: 16 positions, \d+ failing the policy on their own; .* \(15 proofs checked\)/);

    // The same audit as the local run, Groth16's randomness aside.
    const { proofs: queuedProofs, createdAt: _a, ...queuedRest } = queued;
    const { proofs: localProofs, createdAt: _b, ...localRest } = reference;
    assert.deepEqual(queuedRest, localRest);
    assert.deepEqual(
      queuedProofs.map((level) => level.map((p) => p.publicSignals)),
      localProofs.map((level) => level.map((p) => p.publicSignals)),
    );
    assert.notDeepEqual(queuedProofs[0]![0]!.proof, localProofs[0]![0]!.proof);
    assert.equal(readFileSync(path.join(out, "leaves.jsonl"), "utf8"), readFileSync(path.join(dir, "local", "leaves.jsonl"), "utf8"));
    const statements = (stdout: string) => stdout.split("\n").filter((line) => /^(PROVEN| {2}total| {2}aggregate| {2}worst| {2}per token| {2}root| {2}failing)/.test(line));
    assert.deepEqual(statements(coordinator.stdout), statements(local.stdout));
    assert.match(coordinator.stdout, /proven through queue crash at redis:\/\/127\.0\.0\.1:\d+ \(audit [0-9a-f]{16}\) by \d workers; every proof verified here/);
  });
});
