/**
 * The audit on BullMQ, quickly (test-tier instances, 3 positions: 2 batch proofs and the root):
 * the flow mirrors the tree with deterministic job ids; against a real redis-server, a coordinator
 * killed after enqueueing resumes without proving anything again, a forged result in Redis is
 * refused naming its job (and that job alone is proven again), an input the circuit rejects fails
 * naming its batch, and an unreachable Redis is one line. The multi-process crash run (workers
 * killed mid-proof) is test/audit-queue.e2e.test.ts.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Queue } from "bullmq";
import { AUDIT_INSTANCES, auditProofInput, prepareAudit, type PreparedAudit } from "../packages/node/src/audit/run-audit.ts";
import { auditFlow, auditId, auditJobData, auditJobId, auditJobs, decodeSignals, parseJobData, parseJobResult } from "../packages/node/src/audit/queue/jobs.ts";
import { parseQueueUrl } from "../packages/node/src/audit/queue/connection.ts";
import { startAuditWorker } from "../packages/node/src/audit/queue/worker.ts";
import { QueueResultError, removeAuditJobs, runQueuedAudit } from "../packages/node/src/audit/queue/coordinator.ts";
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
import { assertOneLineError, zks, ZKS } from "./helpers/cli.ts";
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

    it("an input the circuit rejects fails its job at once (no retry) and the coordinator fails naming the batch (exit 1)", async function () {
      const queueName = "unprovable";
      const prepared = prepareAudit(entries(book), market, policy, { instances: TEST });
      const failingSlot = prepared.accounts.findIndex((a) => a.leaf.figures.fails === 1n);
      assert.ok(failingSlot >= 0, "the book should hold a position failing the policy");
      const batch = Math.floor(failingSlot / prepared.batchSize);
      const notes: string[] = [];
      const run = runQueuedAudit(entries(book), market, policy, { queue: redis.url, queueName, instances: TEST, onNote: (line) => notes.push(line) });
      run.catch(() => {});
      await until("the flow to be enqueued", () => notes.some((line) => /^enqueued audit/.test(line)));
      // Before any worker runs, the job's input claims the failing position passes the policy:
      // the circuit then enforces the policy on it, and has no witness.
      const queue = new Queue(queueName, { connection: parseQueueUrl(redis.url).options });
      const jobId = auditJobId(auditId(prepared), 0, batch);
      try {
        const job = await queue.getJob(jobId);
        const data = structuredClone(job!.data);
        data.input.fails[failingSlot % prepared.batchSize] = "0";
        await job!.updateData(data);
        const worker = await inProcessWorker(queueName);
        await assert.rejects(run, (error: Error) => {
          assert.ok(error instanceof QueueResultError);
          assert.equal(error.exitCode, 1);
          assert.match(
            error.message,
            new RegExp(
              `^batch ${batch} \\(book\\.jsonl:\\d(, book\\.jsonl:\\d)?\\) cannot be proven: Assert Failed.* \\(job ${jobId.replace(/\./g, "\\.")}; the audit's jobs (were removed from|stay in) the queue\\)$`,
            ),
          );
          return true;
        });
        const stats = await worker.finished;
        assert.deepEqual(stats.unprovable, [jobId]);
        const failed = await queue.getJob(jobId);
        // Failed at once: one attempt, no retry (when the jobs were not removed).
        if (failed) assert.equal(failed.attemptsMade, 1);
      } finally {
        await queue.close();
      }
    });

    it("an unreachable Redis is one line, exit 3, for the coordinator (the CLI) and for a worker", async function () {
      const unreachable = "redis://127.0.0.1:1";
      const prove = zks("audit", "prove", "--positions", path.join(dir, "book.jsonl"), ...common, "--out", path.join(dir, "never"), "--queue", unreachable);
      assert.equal(prove.code, 3);
      assertOneLineError(prove, /^zks: cannot reach Redis at redis:\/\/127\.0\.0\.1:1 \(.*ECONNREFUSED.*\): start it, or fix --queue/);
      await assert.rejects(startAuditWorker({ queue: unreachable, instances: TEST }), (error: Error) => {
        assert.ok(error instanceof SetupError);
        assert.match(error.message, /^cannot reach Redis at redis:\/\/127\.0\.0\.1:1 \(.*ECONNREFUSED.*\)/);
        return true;
      });
    });
  });
});
