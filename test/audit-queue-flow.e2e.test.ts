/**
 * The audit on BullMQ, quickly (test-tier instances, 3 positions: 2 batch proofs and the root):
 * the flow mirrors the tree with deterministic job ids; against a real redis-server, a coordinator
 * killed after enqueueing resumes without proving anything again, a forged result in Redis is
 * refused naming its job (and that job alone is proven again), a worker's "unprovable" is confirmed
 * by the coordinator's own witness (data altered in Redis is a worker fault, exit 3, and the next
 * run replaces the altered job and completes), jobs of other tiers or keys are put back for other
 * workers, strings from Redis are sanitised, the URL can come from ZKS_QUEUE, and an unreachable
 * Redis is one line. The multi-process crash run (workers killed mid-proof) is
 * test/audit-queue.e2e.test.ts.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Queue } from "bullmq";
import { AUDIT_INSTANCES, auditProofInput, prepareAudit, type PreparedAudit } from "../packages/node/src/audit/run-audit.ts";
import { auditFlow, auditId, auditJobData, auditJobId, auditJobs, decodeSignals, parseJobData, parseJobResult } from "../packages/node/src/audit/queue/jobs.ts";
import { parseQueueUrl, resolveQueueUrl, untrustedLine } from "../packages/node/src/audit/queue/connection.ts";
import { startAuditWorker } from "../packages/node/src/audit/queue/worker.ts";
import { confirmUnprovable, removeAuditJobs, runQueuedAudit } from "../packages/node/src/audit/queue/coordinator.ts";
import { writeAuditDir } from "../packages/node/src/audit/audit-dir.ts";
import { readBook } from "../packages/node/src/audit/read-book.ts";
import { SetupError } from "../packages/sdk/src/core/errors.ts";
import { loadInstanceArtifacts } from "../packages/node/src/artifacts.ts";
import { parseAuditReport } from "../packages/sdk/src/audit/audit-files.ts";
import { syntheticBook } from "../packages/sdk/src/audit/synthetic-book.ts";
import { verifyAudit } from "../packages/sdk/src/audit/verify-audit.ts";
import { positionToJson } from "../packages/sdk/src/inputs/position-file.ts";
import { releaseProverThreads } from "../packages/sdk/src/prover/release.ts";
import type { Position } from "../packages/sdk/src/inputs/types.ts";
import { assertOneLineError, zks, ZKS, zksAsync } from "./helpers/cli.ts";
import { example, loadMarket, loadPolicy, loadPosition } from "./helpers/examples.ts";
import { RAPIDSNARK, rapidsnarkAvailable } from "./helpers/native-prover.ts";
import { requireRedisOrSkip, startRedis, type LocalRedis } from "./helpers/redis.ts";

const TEST = AUDIT_INSTANCES.test;

/** The coordinator as a user runs it, in the background: resolves with its exit code and output. */
function coordinator(args: string[]): { done: Promise<{ code: number | null; stdout: string; stderr: string }>; stderr: () => string; kill: () => void } {
  const child = spawn(process.execPath, [ZKS, "audit", "prove", ...args], { env: { ...process.env, ZKS_DEBUG: "" }, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => child.on("close", (code) => resolve({ code, stdout, stderr })));
  return { done, stderr: () => stderr, kill: () => child.kill("SIGKILL") };
}

async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe("audit on BullMQ (queue, workers, resume)", function () {
  this.timeout(300_000);
  const market = loadMarket();
  const policy = loadPolicy(market);
  const healthy = loadPosition("position-healthy.json", market);
  const atRisk = loadPosition("position-at-risk.json", market);
  const entries = (book: Position[]) => book.map((position, i) => ({ position, source: `book.jsonl:${i + 1}` }));

  describe("the flow (no Redis)", function () {
    // 7 positions: 4 batches of 2, 2 merges, the root.
    const book = syntheticBook(healthy, atRisk, { count: 7, seed: 5, atRiskShare: 0.3 });
    let prepared: PreparedAudit;
    before(function () {
      prepared = prepareAudit(entries(book), market, policy, { instances: TEST });
    });

    it("mirrors the tree: the root proof's job, the merges below it, the batches as leaves, with ids <auditId>.<level>.<index>", function () {
      const id = auditId(prepared);
      assert.match(id, /^[0-9a-f]{16}$/);
      const flow = auditFlow(prepared, id, "zks-audit");
      const shape = (node: typeof flow): unknown => ({ id: node.opts!.jobId, name: node.name, children: (node.children ?? []).map((c) => shape(c as typeof flow)) });
      const leaf = (i: number) => ({ id: `${id}.0.${i}`, name: "batch", children: [] });
      assert.deepEqual(shape(flow), {
        id: `${id}.2.0`,
        name: "top",
        children: [
          { id: `${id}.1.0`, name: "merge", children: [leaf(0), leaf(1)] },
          { id: `${id}.1.1`, name: "merge", children: [leaf(2), leaf(3)] },
        ],
      });
      assert.deepEqual(
        auditJobs(prepared, id).map((j) => j.id),
        [0, 1, 2, 3].map((i) => `${id}.0.${i}`).concat([`${id}.1.0`, `${id}.1.1`, `${id}.2.0`]),
      );
      assert.equal(flow.opts!.attempts, 3);
      assert.equal(flow.queueName, "zks-audit");
    });

    it("each job carries its whole circuit input (decimal strings) and the key it will be verified with; the data survives JSON", function () {
      const id = auditId(prepared);
      for (const [level, index, instance, role] of [
        [0, 3, TEST.batch, "batch"],
        [1, 1, TEST.merge, "merge"],
        [2, 0, TEST.top, "top"],
      ] as const) {
        const data = JSON.parse(JSON.stringify(auditJobData(prepared, id, level, index)));
        assert.equal(data.instance, instance);
        assert.equal(data.verificationKeyHash, prepared.keys[role].verificationKeyHash);
        const parsed = parseJobData(data, auditJobId(id, level, index));
        assert.deepEqual(parsed.input, auditProofInput(prepared, level, index));
        // A job's data must be for the job it sits in (a copy under another id is refused).
        assert.throws(() => parseJobData(data, auditJobId(id, level, index + 1)), /its data is for job/);
      }
      assert.throws(() => decodeSignals({ a: ["1", "x"] }), /input\.a\[1\]: expected a field element/);
      assert.throws(() => decodeSignals({ a: "21888242871839275222246405745257275088548364400416034343698204186575808495617" }), /input\.a/);
    });

    it("the audit id is fixed by the book, market, policy and keys: the same inputs give the same id, another book another", function () {
      assert.equal(auditId(prepareAudit(entries(book), market, policy, { instances: TEST })), auditId(prepared));
      const other = syntheticBook(healthy, atRisk, { count: 7, seed: 5, atRiskShare: 0 });
      assert.notEqual(auditId(prepareAudit(entries(other), market, policy, { instances: TEST })), auditId(prepared));
    });

    it("a returned result is rebuilt field by field; anything that is not a canonical Groth16 proof is refused", function () {
      const good = {
        proof: {
          pi_a: ["1", "2", "1"],
          pi_b: [
            ["1", "2"],
            ["3", "4"],
            ["1", "0"],
          ],
          pi_c: ["5", "6", "1"],
          protocol: "groth16",
          curve: "bn128",
          extra: "dropped",
        },
        publicSignals: ["7"],
        worker: "host/1",
        injected: "<script>",
      };
      const parsed = parseJobResult(good);
      assert.ok(typeof parsed !== "string");
      assert.deepEqual(Object.keys(parsed.proof), ["pi_a", "pi_b", "pi_c", "protocol", "curve"]);
      assert.equal("injected" in parsed, false);
      assert.match(parseJobResult({ ...good, proof: { ...good.proof, pi_a: ["1", "2", "2"] } }) as string, /proof\.pi_a\.2/);
      const p = "21888242871839275222246405745257275088696311157297823662689037894645226208583";
      assert.match(parseJobResult({ ...good, proof: { ...good.proof, pi_c: [p, "1", "1"] } }) as string, /BN254 base field/);
      assert.match(parseJobResult({ ...good, publicSignals: ["-1"] }) as string, /publicSignals/);
      assert.match(parseJobResult("a string") as string, /not a proof/);
      // A worker's name reaches the terminal and --json: no escape sequence or line break from Redis, at most 100 characters.
      const named = (worker: string) => (parseJobResult({ ...good, worker }) as { worker?: string }).worker;
      assert.equal(named("host-1.internal/4242"), "host-1.internal/4242");
      assert.equal(named("evil\u001b]0;pwned\u0007\r\nzks: PROVEN host/1"), "evil0pwnedzks:PROVENhost/1");
      assert.equal(named("\u001b\u202e"), undefined);
      assert.equal(named("a".repeat(300))!.length, 100);
    });

    it("strings from Redis shown to people (a job's failure reason) are one line without control characters, and bounded", function () {
      assert.equal(untrustedLine("Assert Failed\nat line 3\u001b[2J\u001b[31m red\r\u202eevil"), "Assert Failed at line 3[2J[31m red evil");
      const long = untrustedLine("x".repeat(5000));
      assert.ok(long.length < 400, `${long.length} characters`);
      assert.match(long, /\.\.\. \(4700 more characters\)$/);
    });

    it("a malformed %-escape in the URL's password is exit 2 naming --queue, without echoing the password", function () {
      for (const bad of ["redis://:%E0%A4%A@host", "redis://us%zzer:pw@host", "rediss://:hunter2%E0%A4%A@host:6380"]) {
        assert.throws(
          () => parseQueueUrl(bad),
          (error: Error & { exitCode?: number }) => {
            assert.equal(error.exitCode, 2);
            assert.equal(error.message, "--queue: the user or password has an invalid %-escape");
            return true;
          },
        );
      }
    });

    it("the URL from ZKS_QUEUE (off the command line): `--queue env`, or a worker without --queue; unset or malformed is exit 2 naming it", function () {
      const env = { ZKS_QUEUE: "redis://:hunter2@cache.internal:6380" };
      assert.equal(resolveQueueUrl("env", env), env.ZKS_QUEUE);
      assert.equal(resolveQueueUrl(undefined, env), env.ZKS_QUEUE);
      assert.equal(resolveQueueUrl("redis://other:6379", env), "redis://other:6379");
      assert.equal(resolveQueueUrl(undefined, {}), undefined);
      assert.throws(
        () => resolveQueueUrl("env", {}),
        (error: Error & { exitCode?: number }) => error.exitCode === 2 && error.message === '--queue: "env" takes the URL from ZKS_QUEUE, which is not set',
      );
      assert.throws(
        () => resolveQueueUrl("env", { ZKS_QUEUE: "http://:hunter2@host" }),
        (error: Error & { exitCode?: number }) => error.exitCode === 2 && /^ZKS_QUEUE: expected redis:\/\//.test(error.message) && !error.message.includes("hunter2"),
      );
    });

    it("the coordinator confirms an unprovable input itself: the model's input has a witness; one the circuit rejects has none, with the circuit's reason", async function () {
      const failing = prepared.accounts.findIndex((a) => a.leaf.figures.fails === 1n);
      assert.ok(failing >= 0);
      const batch = Math.floor(failing / prepared.batchSize);
      assert.equal(await confirmUnprovable(prepared, 0, batch), undefined);
      assert.equal(await confirmUnprovable(prepared, 1, 0), undefined);
      // A model that claims the failing position passes: the circuit enforces the policy on it and has no witness.
      const broken = { ...prepared, accounts: prepared.accounts.map((a, i) => (i === failing ? { ...a, leaf: { ...a.leaf, figures: { ...a.leaf.figures, fails: 0n } } } : a)) };
      assert.match((await confirmUnprovable(broken, 0, batch))!, /^Assert Failed/);
    });

    it("queue URLs: redis:// and rediss:// with credentials, never shown; anything else is exit 2 without echoing it", function () {
      const parsed = parseQueueUrl("rediss://user:s%40cret@cache.internal:6380/2");
      assert.deepEqual(parsed.options, { host: "cache.internal", port: 6380, username: "user", password: "s@cret", db: 2, tls: { servername: "cache.internal" } });
      assert.equal(parsed.display, "rediss://cache.internal:6380/2");
      assert.deepEqual(parseQueueUrl("redis://127.0.0.1").options, { host: "127.0.0.1", port: 6379 });
      for (const bad of ["http://user:hunter2@host", "redis://:hunter2@host/x", "not a url hunter2"]) {
        assert.throws(
          () => parseQueueUrl(bad),
          (error: Error) => !error.message.includes("hunter2") && /--queue/.test(error.message),
        );
      }
    });
  });

  describe("against a real Redis", function () {
    let redis: LocalRedis;
    let dir: string;
    const common = ["--market", example("market-grid.json"), "--policy", example("policy.json"), "--tier", "test"];
    // 3 positions: 2 batch proofs and the root (no merge level: the top merges the 2 batches).
    const book = syntheticBook(healthy, atRisk, { count: 3, seed: 7, atRiskShare: 0.34 });

    before(async function () {
      requireRedisOrSkip(this);
      redis = await startRedis();
      dir = mkdtempSync(path.join(tmpdir(), "zks-audit-queue-"));
      writeFileSync(path.join(dir, "book.jsonl"), `${book.map((p) => JSON.stringify(positionToJson(p, market))).join("\n")}\n`);
    });
    after(async function () {
      await redis?.stop();
      if (dir) rmSync(dir, { recursive: true, force: true });
      await releaseProverThreads();
    });

    const keys = () => ({
      batch: loadInstanceArtifacts(TEST.batch).verificationKey,
      merge: loadInstanceArtifacts(TEST.merge).verificationKey,
      top: loadInstanceArtifacts(TEST.top).verificationKey,
    });
    const readReport = (out: string) => parseAuditReport(JSON.parse(readFileSync(path.join(out, "audit.json"), "utf8")), "audit.json");
    // rapidsnark where there is one (CI has it), for speed: the queue does not care who proves.
    const prover = rapidsnarkAvailable() ? ({ kind: "rapidsnark", binary: RAPIDSNARK, found: "ZKS_RAPIDSNARK" } as const) : ("snarkjs" as const);
    const inProcessWorker = (queueName: string) =>
      startAuditWorker({ queue: redis.url, queueName, instances: TEST, workers: 1, prover, exitWhenIdle: true, idleSeconds: 1, lockSeconds: 5 });

    it("a coordinator killed after enqueueing resumes: an in-process worker proves each job once, a second coordinator proves nothing again, and a forged result is refused naming its job", async function () {
      const queueName = "resume";
      const out = path.join(dir, "out-resume");
      const args = ["--positions", path.join(dir, "book.jsonl"), ...common, "--out", out, "--queue", redis.url, "--queue-name", queueName, "--keep-jobs"];
      const inProcess = { queue: redis.url, queueName, instances: TEST };

      // 1. The coordinator (the CLI, a process) enqueues the flow, then dies before any worker runs.
      const first = coordinator(args);
      await until("the flow to be enqueued", () => /enqueued audit [0-9a-f]{16}: 3 proof jobs/.test(first.stderr()));
      first.kill();
      await first.done;

      // 2. A worker proves the three jobs with no coordinator running.
      const worker = await inProcessWorker(queueName);
      const stats = await worker.finished;
      assert.equal(stats.proved.length, 3, `proved: ${stats.proved.join(", ")}`);
      assert.equal(new Set(stats.proved).size, 3);

      // 3. A new coordinator finds every proof done: it proves nothing (no worker runs), and its audit verifies.
      const notes: string[] = [];
      const resumed = await runQueuedAudit(readBook(path.join(dir, "book.jsonl"), market), market, policy, { ...inProcess, onNote: (line) => notes.push(line) });
      assert.match(notes.join("\n"), /resuming audit [0-9a-f]{16} on queue resume at redis:\/\/127\.0\.0\.1:\d+: 3 of 3 proofs done/);
      assert.equal(resumed.queue.resumed, true);
      assert.equal(resumed.queue.alreadyDone, 3);
      assert.equal((await verifyAudit(resumed.report, keys())).proofs, 3);
      writeAuditDir(
        out,
        resumed.report,
        resumed.accounts.map((a) => a.leaf),
      );

      // 4. A forged result: batch 1's job returns batch 0's proof (valid, but of another subtree).
      const id = resumed.queue.auditId;
      const queue = new Queue(queueName, { connection: parseQueueUrl(redis.url).options });
      try {
        const batch0 = await queue.getJob(auditJobId(id, 0, 0));
        const client = await queue.client;
        await client.hset(`bull:${queueName}:${auditJobId(id, 0, 1)}`, { returnvalue: JSON.stringify(batch0!.returnvalue) });
        const forged = await coordinator(args).done;
        assert.equal(forged.code, 1);
        const lastLine = forged.stderr.trim().split("\n").at(-1)!;
        assert.match(
          lastLine,
          new RegExp(
            `^zks: job ${id}\\.0\\.1 \\(batch 1 \\(.*book\\.jsonl:\\d\\)\\): its proof is valid but not this job's: the proof's subtree differs from the reference model's; the result was not used, and the job is queued to be proven again$`,
          ),
        );
        assert.equal(forged.stdout, "");
        assert.equal(await queue.getJobState(auditJobId(id, 0, 1)), "waiting");
        // The written audit is untouched by the refused run.
        assert.deepEqual(readReport(out).proofs, resumed.report.proofs);

        // 5. Only that job is proven again; the next run completes with the other proofs unchanged, and removes the jobs.
        const again = await (await inProcessWorker(queueName)).finished;
        assert.deepEqual(again.proved, [auditJobId(id, 0, 1)]);
        const third = await runQueuedAudit(readBook(path.join(dir, "book.jsonl"), market), market, policy, inProcess);
        assert.equal(third.queue.alreadyDone, 3);
        assert.deepEqual(third.report.proofs[0]![0], resumed.report.proofs[0]![0]);
        assert.deepEqual(third.report.proofs[1], resumed.report.proofs[1]);
        assert.deepEqual(third.report.proofs[0]![1]!.publicSignals, resumed.report.proofs[0]![1]!.publicSignals);
        await verifyAudit(third.report, keys());
        assert.equal(await removeAuditJobs(inProcess, third.queue.rootJob), true);
        assert.equal(await queue.getJobState(auditJobId(id, 0, 0)), "unknown");
        assert.equal(await queue.getJobState(third.queue.rootJob), "unknown");
      } finally {
        await queue.close();
      }
    });

    it("a worker's 'unprovable' is checked by the coordinator: data altered in Redis is a worker fault (exit 3, jobs kept); a resumed run replaces the altered job and completes; jobs of other tiers or keys are put back, not failed, and do not keep a batch worker alive", async function () {
      const queueName = "unprovable";
      const prepared = prepareAudit(entries(book), market, policy, { instances: TEST });
      const failingSlot = prepared.accounts.findIndex((a) => a.leaf.figures.fails === 1n);
      assert.ok(failingSlot >= 0, "the book should hold a position failing the policy");
      const batch = Math.floor(failingSlot / prepared.batchSize);
      const notes: string[] = [];
      const inProcess = { queue: redis.url, queueName, instances: TEST, keepJobs: false };
      const run = runQueuedAudit(entries(book), market, policy, { ...inProcess, onNote: (line) => notes.push(line) });
      run.catch(() => {});
      await until("the flow to be enqueued", () => notes.some((line) => /^enqueued audit/.test(line)));
      const queue = new Queue(queueName, { connection: parseQueueUrl(redis.url).options });
      const id = auditId(prepared);
      const jobId = auditJobId(id, 0, batch);
      try {
        // Before any worker runs, Redis' copy of the job's input claims the failing position passes
        // the policy: the circuit then enforces the policy on it, and the worker finds no witness.
        const job = await queue.getJob(jobId);
        const data = structuredClone(job!.data);
        data.input.fails[failingSlot % prepared.batchSize] = "0";
        await job!.updateData(data);
        // Jobs this worker cannot prove: stale ones after a key rotation, and another tier's.
        const stale = { ...auditJobData(prepared, "0123456789abcdef", 0, 0), verificationKeyHash: `0x${"ab".repeat(32)}` };
        await queue.add("batch", stale, { jobId: auditJobId("0123456789abcdef", 0, 0) });
        const otherTier = { ...auditJobData(prepared, "fedcba9876543210", 0, 0), instance: AUDIT_INSTANCES.standard.batch };
        await queue.add("batch", otherTier, { jobId: auditJobId("fedcba9876543210", 0, 0) });

        const log: string[] = [];
        const worker = await startAuditWorker({
          queue: redis.url,
          queueName,
          instances: TEST,
          tierName: "test",
          workers: 1,
          prover,
          exitWhenIdle: true,
          idleSeconds: 1,
          lockSeconds: 5,
          onLog: (line) => log.push(line),
        });
        // The start line names the prover and its binary, so an operator sees which one each machine runs.
        const backend = typeof prover === "string" ? "snarkjs" : `rapidsnark \\(${prover.binary.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}, from ZKS_RAPIDSNARK\\)`;
        assert.match(
          log[0]!,
          new RegExp(`^taking jobs from queue unprovable .* 1 at a time with ${backend}, tier test: ${TEST.batch} \\(key 0x[0-9a-f]{16}\\.\\.\\.\\), ${TEST.merge} \\(key`),
        );
        await assert.rejects(run, (error: Error & { exitCode?: number }) => {
          assert.equal(error.exitCode, 3);
          assert.match(
            error.message,
            new RegExp(
              `^job ${jobId.replace(/\./g, "\\.")} \\(batch ${batch} \\(.*\\)\\): worker [\\w.-]+/${process.pid} reported that the circuit rejects its input \\(Assert Failed.*\\), but its witness computes here: a fault of that worker .* \\(the audit's jobs stay in the queue\\)$`,
            ),
          );
          return true;
        });
        // The worker proved the other batch, failed the altered one once, put the foreign jobs back, and stopped:
        // the root waiting for its failed child does not keep it alive.
        const stats = await worker.finished;
        assert.deepEqual(stats.unprovable, [jobId]);
        assert.equal(stats.proved.length, 1);
        assert.deepEqual(new Set(stats.deferred), new Set([auditJobId("0123456789abcdef", 0, 0), auditJobId("fedcba9876543210", 0, 0)]));
        assert.equal(log.filter((line) => /^audit 0123456789abcdef: its jobs are to be verified with key 0xabab/.test(line)).length, 1);
        assert.equal(
          log.filter((line) => new RegExp(`^audit fedcba9876543210: its jobs are for ${AUDIT_INSTANCES.standard.batch}, which this worker does not prove`).test(line)).length,
          1,
        );
        for (const foreign of ["0123456789abcdef", "fedcba9876543210"]) {
          const kept = await queue.getJob(auditJobId(foreign, 0, 0));
          assert.equal(await kept!.getState(), "delayed");
          assert.equal(kept!.attemptsMade, 0);
        }
        assert.equal(await queue.getJobState(jobId), "failed");
        assert.equal(await queue.getJobState(auditJobId(id, 1, 0)), "waiting-children");

        // 2. The next run finds the altered job, sets its data back to this run's, and completes.
        const again: string[] = [];
        const resumed = runQueuedAudit(entries(book), market, policy, { ...inProcess, onNote: (line) => again.push(line) });
        resumed.catch(() => {});
        await until("the resumed run's note", () => again.some((line) => /^resuming audit/.test(line)));
        assert.match(
          again.find((line) => /^resuming audit/.test(line))!,
          /: 1 of 3 proofs done, 1 jobs whose data differed from this run's replaced \(to be proven again\)$/,
        );
        const second = await (await inProcessWorker(queueName)).finished;
        assert.deepEqual(second.proved, [jobId, auditJobId(id, 1, 0)]);
        const done = await resumed;
        assert.equal(done.queue.replaced, 1);
        assert.equal((await verifyAudit(done.report, keys())).proofs, 3);
        assert.equal(await removeAuditJobs(inProcess, done.queue.rootJob), true);
      } finally {
        await queue.obliterate({ force: true });
        await queue.close();
      }
    });

    it("an unreachable Redis is one line, exit 3, for the coordinator (the CLI) and for a worker", async function () {
      const unreachable = "redis://127.0.0.1:1";
      const prove = zks("audit", "prove", "--positions", path.join(dir, "book.jsonl"), ...common, "--out", path.join(dir, "never"), "--queue", unreachable);
      assert.equal(prove.code, 3);
      assertOneLineError(prove, /^zks: cannot reach Redis at redis:\/\/127\.0\.0\.1:1 \(.*ECONNREFUSED.*\): start it, or fix --queue/);
      // The URL from ZKS_QUEUE, so that its password is on no command line: `--queue env` for the
      // coordinator, no --queue for a worker; never echoed; unset is exit 2 naming it.
      const [fromEnv, unset] = await Promise.all([
        zksAsync(["audit", "prove", "--positions", path.join(dir, "book.jsonl"), ...common, "--out", path.join(dir, "never"), "--queue", "env"], {
          ZKS_QUEUE: "redis://:hunter2@127.0.0.1:1",
        }),
        zksAsync(["audit", "worker", "--tier", "test"], { ZKS_QUEUE: "" }),
      ]);
      assert.equal(fromEnv.code, 3, fromEnv.stderr);
      assertOneLineError(fromEnv, /^zks: cannot reach Redis at redis:\/\/127\.0\.0\.1:1 \(.*ECONNREFUSED.*\): start it, or fix --queue/);
      assert.doesNotMatch(fromEnv.stderr, /hunter2/);
      assert.equal(unset.code, 2);
      assertOneLineError(unset, /^zks: --queue: missing: give the Redis URL, or set ZKS_QUEUE to it/);
      await assert.rejects(startAuditWorker({ queue: unreachable, instances: TEST }), (error: Error) => {
        assert.ok(error instanceof SetupError);
        assert.match(error.message, /^cannot reach Redis at redis:\/\/127\.0\.0\.1:1 \(.*ECONNREFUSED.*\)/);
        return true;
      });
    });
  });
});
