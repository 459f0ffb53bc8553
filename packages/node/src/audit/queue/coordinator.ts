/**
 * The audit's coordinator on BullMQ (`zks audit prove --queue URL`): everything runAudit does
 * before proving, then one flow of jobs mirroring the tree, proven by `zks audit worker`s on any
 * number of machines; it waits for them, verifies every returned proof against the audit's keys
 * and checks it against the reference model, exactly as the local run checks its own, and returns
 * the same AuditRun, which the CLI writes as the local run does.
 *
 * It trusts nothing it reads from Redis: a result that is not a valid proof of its job's subtree
 * is an error naming the job (exit 1), never part of the audit.
 */
import type { Job, Queue, QueueEvents } from "bullmq";
import { ZksError } from "@zk-solvency/sdk/core";
import type { Market, Policy } from "@zk-solvency/sdk/inputs";
import type { ZkProof } from "@zk-solvency/sdk/prover";
import { verifyProof } from "@zk-solvency/sdk/verifier";
import * as snarkjs from "snarkjs";
import type { VerificationKey } from "snarkjs";
import { loadInstanceArtifacts } from "../../artifacts.ts";
import { auditLayout } from "../audit-keys.ts";
import type { BookEntry } from "../read-book.ts";
import {
  auditLevelInstance,
  auditProofInput,
  auditProofMismatch,
  auditRunOf,
  describeAuditProof,
  prepareAudit,
  type AuditRun,
  type PreparedAudit,
  type RunAuditOptions,
} from "../run-audit.ts";
import { checkQueueName, checkRedisReachable, DEFAULT_QUEUE_NAME, errorText, loadBullMQ, parseQueueUrl, untrustedLine, type QueueConnection } from "./connection.ts";
import { auditFlow, auditId, auditJobData, auditJobs, parseJobResult, safeName, UNPROVABLE, type AuditJobRef } from "./jobs.ts";

export interface QueuedAuditOptions extends Pick<RunAuditOptions, "instances" | "chain" | "onProgress" | "liquidity"> {
  /** `redis://[user:password@]host[:port][/db]` or `rediss://...`. */
  queue: string;
  /** Default "zks-audit". */
  queueName?: string;
  /**
   * Leave the jobs of an audit that cannot be proven in Redis. (Once proven, the caller removes
   * them with removeAuditJobs after writing the audit, so that a failed write loses no proof.)
   */
  keepJobs?: boolean;
  /** Lines for people: what was enqueued or resumed, retried, removed. */
  onNote?: (line: string) => void;
  /** Besides the queue's events, look at every unfinished job this often (default 15 s): a missed event costs at most that. */
  sweepSeconds?: number;
}

export interface QueuedAuditRun extends AuditRun {
  queue: {
    auditId: string;
    name: string;
    /** The queue URL without credentials. */
    redis: string;
    jobs: number;
    /** The run found the audit's flow in Redis and resumed it. */
    resumed: boolean;
    /** Jobs already completed when this run started (their proofs verified and kept, not proven again). */
    alreadyDone: number;
    /** Jobs found in Redis with other data than this run's (forged, or from another version), set to this run's and proven again. */
    replaced: number;
    /** hostname/pid of each worker that returned a proof, with how many. */
    workers: Record<string, number>;
    /** The flow's root job: removing it with its children removes the audit's jobs (removeAuditJobs). */
    rootJob: string;
  };
}

/** A job's outcome the coordinator will not use: exit 1, naming the job. */
export class QueueResultError extends ZksError {
  constructor(message: string) {
    super(message, 1);
  }
}

export async function runQueuedAudit(book: readonly BookEntry[], market: Market, policy: Policy, options: QueuedAuditOptions): Promise<QueuedAuditRun> {
  const started = performance.now();
  const connection = parseQueueUrl(options.queue);
  const queueName = checkQueueName(options.queueName ?? DEFAULT_QUEUE_NAME);
  const note = options.onNote ?? (() => {});
  const bullmq = await loadBullMQ();
  // Before the figures and the tree: an unreachable Redis is a one-line error at once.
  await checkRedisReachable(bullmq, connection, queueName);
  // The workers prove the plain audit's instances of their tier: a crowding audit (its own
  // instances, the liquidity inputs of its root) runs locally for now.
  if (options.liquidity !== undefined || (options.instances !== undefined && auditLayout(options.instances).layout.crowding))
    throw new ZksError("--crowding: not with --queue yet (the workers prove the plain audit's instances); run the crowding audit locally, without --queue", 2);
  const prepared = prepareAudit(book, market, policy, options);
  const id = auditId(prepared);
  const jobs = auditJobs(prepared, id);
  const keys = {
    batch: loadInstanceArtifacts(prepared.instances.batch).verificationKey,
    merge: loadInstanceArtifacts(prepared.instances.merge).verificationKey,
    top: loadInstanceArtifacts(prepared.instances.top).verificationKey,
  };

  const queue = new bullmq.Queue(queueName, { connection: connection.options });
  const events = new bullmq.QueueEvents(queueName, { connection: connection.options });
  const lost = connectionWarner(connection, note);
  queue.on("error", lost);
  events.on("error", lost);
  try {
    await events.waitUntilReady();
    const run = new Coordinator(prepared, id, jobs, keys, queue, events, connection, queueName, options, note);
    return await run.run(bullmq, started);
  } finally {
    await Promise.allSettled([events.close(), queue.close()]);
  }
}

/**
 * Removes a proven audit's jobs from Redis (they hold positions): call it once the audit is
 * written. Returns false when some job is locked by a worker (none is, once the audit is proven).
 */
export async function removeAuditJobs(options: Pick<QueuedAuditOptions, "queue" | "queueName">, rootJob: string): Promise<boolean> {
  const connection = parseQueueUrl(options.queue);
  const bullmq = await loadBullMQ();
  const queue = new bullmq.Queue(checkQueueName(options.queueName ?? DEFAULT_QUEUE_NAME), { connection: connection.options });
  queue.on("error", () => {});
  try {
    return (await queue.remove(rootJob, { removeChildren: true })) === 1;
  } finally {
    await queue.close();
  }
}

/** BullMQ reconnects by itself after Redis goes away mid-run; say so once a minute at most, never with a stack. */
function connectionWarner(connection: QueueConnection, note: (line: string) => void): (error: Error) => void {
  let last = 0;
  return (error: Error) => {
    if (performance.now() - last < 60_000) return;
    last = performance.now();
    note(`Redis at ${connection.display}: ${errorText(error)} (retrying)`);
  };
}

/**
 * Whether proof (level, index) of the audit truly has no witness: its input by the reference
 * model, through the instance's own witness generator, on this machine. The circuit's reason when
 * it has none; undefined when the witness computes (so a worker that says otherwise is at fault:
 * a stale generator, a broken machine, or Redis' data altered after the jobs were enqueued).
 */
export async function confirmUnprovable(prepared: PreparedAudit, level: number, index: number): Promise<string | undefined> {
  const { wasm } = loadInstanceArtifacts(auditLevelInstance(prepared, level));
  const witness: { type: "mem"; data?: Uint8Array } = { type: "mem" };
  // circom's calculator prints "ERROR: ..." before it throws; the reason is in the error.
  const consoleError = console.error;
  console.error = () => {};
  try {
    await snarkjs.wtns.calculate(auditProofInput(prepared, level, index), wasm, witness);
    return undefined;
  } catch (error) {
    // circom reports the failing template and its callers on separate lines, after "Error: ".
    const lines = (error instanceof Error ? error.message : String(error)).split("\n").map((line) => line.trim().replace(/^Error: /, ""));
    return untrustedLine(lines.filter(Boolean).join(" <- ") || "witness calculation failed");
  } finally {
    console.error = consoleError;
  }
}

class Coordinator {
  private readonly pending = new Map<string, AuditJobRef>();
  private readonly dirty = new Set<string>();
  private readonly proofs: ZkProof[][];
  private readonly workers: Record<string, number> = {};
  private readonly levelDone: number[];
  private readonly levelFinished: number[];
  private waitStarted = 0;
  private wake: (() => void) | undefined;
  private done = 0;

  constructor(
    private readonly prepared: PreparedAudit,
    private readonly id: string,
    private readonly jobs: AuditJobRef[],
    private readonly keys: Record<"batch" | "merge" | "top", VerificationKey>,
    private readonly queue: Queue,
    private readonly events: QueueEvents,
    private readonly connection: QueueConnection,
    private readonly queueName: string,
    private readonly options: QueuedAuditOptions,
    private readonly note: (line: string) => void,
  ) {
    this.proofs = prepared.shape.proofsPerLevel.map((count) => new Array<ZkProof>(count));
    this.levelDone = prepared.shape.proofsPerLevel.map(() => 0);
    this.levelFinished = prepared.shape.proofsPerLevel.map(() => 0);
    for (const job of jobs) this.pending.set(job.id, job);
  }

  async run(bullmq: Awaited<ReturnType<typeof loadBullMQ>>, started: number): Promise<QueuedAuditRun> {
    const ring = ({ jobId }: { jobId: string }) => {
      if (!this.pending.has(jobId)) return;
      this.dirty.add(jobId);
      this.wake?.();
    };
    this.events.on("completed", ring);
    this.events.on("failed", ring);

    const rootId = this.jobs.at(-1)!.id;
    const allIds = this.jobs.map((job) => job.id);
    let states = await this.states(allIds);
    const missing = [...states.values()].filter((state) => state === "unknown").length;
    const resumed = missing < this.jobs.length;
    // Jobs found in Redis must hold exactly what this run would enqueue: one forged, or written by
    // another version, would otherwise be proven (and fail) again on every run.
    const replaced = resumed ? await this.replaceAltered(states) : 0;
    if (missing > 0) {
      // A fresh audit, or one whose jobs were partly removed by hand: BullMQ keeps the jobs
      // that exist (and their results) and adds the missing ones to their parents.
      const producer = new bullmq.FlowProducer({ connection: this.connection.options });
      producer.on("error", () => {});
      try {
        await producer.add(auditFlow(this.prepared, this.id, this.queueName));
      } finally {
        await producer.close();
      }
      states = await this.states(allIds);
    }
    const alreadyDone = [...states.values()].filter((state) => state === "completed").length;
    const where = `queue ${this.queueName} at ${this.connection.display}`;
    if (!resumed) this.note(`enqueued audit ${this.id}: ${this.jobs.length} proof jobs in one flow on ${where}; waiting for workers (\`zks audit worker --queue URL\`)`);
    else
      this.note(
        `resuming audit ${this.id} on ${where}: ${alreadyDone} of ${this.jobs.length} proofs done${missing > 0 ? `, ${missing} jobs enqueued again` : ""}${replaced > 0 ? `, ${replaced} jobs whose data differed from this run's replaced (to be proven again)` : ""}`,
      );

    // Failures from an earlier run (workers that crashed, lost keys...) get their attempts back;
    // an input the circuit rejects fails again below, with its reason, once this machine agrees.
    for (const [jobId, state] of states) {
      if (state !== "failed") continue;
      const job = await this.queue.getJob(jobId);
      if (!job) continue;
      const ref = this.pending.get(jobId)!;
      if (job.failedReason?.startsWith(UNPROVABLE) && (await confirmUnprovable(this.prepared, ref.level, ref.index)) !== undefined) continue;
      await job.retry("failed", { resetAttemptsMade: true, resetAttemptsStarted: true });
      this.note(`retrying job ${jobId} (it failed before: ${untrustedLine(job.failedReason ?? "no reason recorded")})`);
      states.set(jobId, "waiting");
    }

    this.waitStarted = performance.now();
    await this.take(states);
    const sweepMs = (this.options.sweepSeconds ?? 15) * 1000;
    let lastSweep = performance.now();
    while (this.pending.size > 0) {
      let timer: NodeJS.Timeout | undefined;
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        if (this.dirty.size > 0) resolve();
        else timer = setTimeout(resolve, Math.max(0, sweepMs - (performance.now() - lastSweep)));
      });
      clearTimeout(timer);
      this.wake = undefined;
      let ids: string[];
      if (performance.now() - lastSweep >= sweepMs) {
        ids = [...this.pending.keys()];
        lastSweep = performance.now();
      } else {
        ids = [...this.dirty];
      }
      this.dirty.clear();
      await this.take(await this.states(ids));
    }

    // Levels overlap in a flow (merges start while other batches are still proven): each level's
    // time runs from the end of the level below (the start of waiting for batches) to its last proof.
    const levelsMs = this.levelFinished.map((at, level) => Math.max(0, at - (level === 0 ? this.waitStarted : this.levelFinished[level - 1]!)));
    const run = auditRunOf(this.prepared, this.proofs, this.options.chain, { levelsMs, totalMs: performance.now() - started });
    return {
      ...run,
      queue: {
        auditId: this.id,
        name: this.queueName,
        redis: this.connection.display,
        rootJob: rootId,
        jobs: this.jobs.length,
        resumed,
        alreadyDone,
        replaced,
        workers: this.workers,
      },
    };
  }

  /**
   * Sets every existing job whose data is not what this run would enqueue back to this run's data,
   * to be proven again (a result from other data is of no use); returns how many. A job a worker is
   * proving right now cannot be changed under it: exit 3, run again once it is done.
   */
  private async replaceAltered(states: Map<string, string>): Promise<number> {
    let replaced = 0;
    const existing = this.jobs.filter((ref) => states.get(ref.id) !== "unknown");
    for (let at = 0; at < existing.length; at += 200) {
      const chunk = existing.slice(at, at + 200);
      const found = await Promise.all(chunk.map((ref) => this.queue.getJob(ref.id)));
      for (const [i, ref] of chunk.entries()) {
        const job = found[i];
        if (!job) continue;
        const expected = auditJobData(this.prepared, this.id, ref.level, ref.index);
        if (JSON.stringify(job.data) === JSON.stringify(expected)) continue;
        const state = await job.getState();
        if (state === "active")
          throw new ZksError(
            `job ${ref.id} (${this.describe(ref)}) in queue ${this.queueName} holds other data than this run's and a worker is proving it now: run the command again once it has finished (its result will not be used)`,
            3,
          );
        await job.updateData(expected);
        if (state === "completed") await job.retry("completed");
        else if (state === "failed") await job.retry("failed", { resetAttemptsMade: true, resetAttemptsStarted: true });
        states.set(ref.id, state === "completed" || state === "failed" ? "waiting" : state);
        replaced++;
      }
    }
    return replaced;
  }

  /** Job states, a few hundred requests at a time. */
  private async states(ids: readonly string[]): Promise<Map<string, string>> {
    const states = new Map<string, string>();
    for (let at = 0; at < ids.length; at += 500) {
      const chunk = ids.slice(at, at + 500);
      const answers = await Promise.all(chunk.map((jobId) => this.queue.getJobState(jobId)));
      chunk.forEach((jobId, i) => states.set(jobId, answers[i]!));
    }
    return states;
  }

  /** Takes the completed jobs among `states` (verified, checked) and fails on failed or vanished ones. */
  private async take(states: Map<string, string>): Promise<void> {
    for (const [jobId, state] of states) {
      const ref = this.pending.get(jobId);
      if (!ref) continue;
      if (state === "completed") await this.accept(ref);
      else if (state === "failed") await this.failed(ref);
      else if (state === "unknown")
        throw new ZksError(
          `job ${jobId} (${this.describe(ref)}) vanished from queue ${this.queueName} while the audit ran (removed by hand?): run the command again to enqueue it`,
          3,
        );
    }
  }

  private describe(ref: AuditJobRef): string {
    return describeAuditProof(this.prepared, ref.level, ref.index);
  }

  private async accept(ref: AuditJobRef): Promise<void> {
    const job = await this.queue.getJob(ref.id);
    if (!job) return; // removed between the two reads: the next sweep says so
    const problem = await this.check(ref, job);
    if (problem !== undefined) {
      // Not used; queued again, so that the next run proves it afresh rather than meeting the same result.
      const requeued = await job.retry("completed").then(
        () => true,
        () => false,
      );
      throw new QueueResultError(`job ${ref.id} (${this.describe(ref)}): ${problem}; the result was not used${requeued ? ", and the job is queued to be proven again" : ""}`);
    }
    this.pending.delete(ref.id);
    this.levelDone[ref.level]!++;
    if (this.levelDone[ref.level] === this.prepared.shape.proofsPerLevel[ref.level]) this.levelFinished[ref.level] = performance.now();
    this.options.onProgress?.({ stage: "proofs", done: ++this.done, total: this.jobs.length, level: ref.level });
  }

  /** Why the job's result cannot be used, or undefined when it is a valid proof of exactly the subtree the model says. */
  private async check(ref: AuditJobRef, job: Job): Promise<string | undefined> {
    const result = parseJobResult(job.returnvalue);
    if (typeof result === "string") return result;
    const role = ref.level === 0 ? "batch" : ref.level === this.prepared.shape.proofsPerLevel.length - 1 ? "top" : "merge";
    const instance = this.prepared.instances[role];
    if (!(await verifyProof(this.keys[role], result))) return `its proof does not verify under the audit's key for ${instance}`;
    const mismatch = auditProofMismatch(this.prepared, ref.level, ref.index, result.publicSignals);
    if (mismatch) return `its proof is valid but not this job's: ${mismatch}`;
    this.proofs[ref.level]![ref.index] = { proof: result.proof, publicSignals: result.publicSignals };
    const worker = result.worker ?? "unknown worker";
    this.workers[worker] = (this.workers[worker] ?? 0) + 1;
    return undefined;
  }

  private async failed(ref: AuditJobRef): Promise<void> {
    const job = await this.queue.getJob(ref.id);
    // Whatever Redis says is untrusted text: one line, no control characters, bounded.
    const raw = job?.failedReason ?? "no reason recorded";
    const reason = untrustedLine(raw);
    if (raw.startsWith(UNPROVABLE)) {
      // A worker's word is not enough to declare the audit unprovable: this machine computes the
      // witness itself, from the reference model's input, with the instance's generator.
      const rejection = await confirmUnprovable(this.prepared, ref.level, ref.index);
      if (rejection === undefined) {
        const worker = safeName(job?.processedBy) ?? "an unknown worker";
        throw new ZksError(
          `job ${ref.id} (${this.describe(ref)}): worker ${worker} reported that the circuit rejects its input (${untrustedLine(raw.slice(UNPROVABLE.length))}), but its witness computes here: a fault of that worker (a stale witness generator?) or of the data in Redis, not of the audit; fix or stop that worker and run the command again (the audit's jobs stay in the queue)`,
          3,
        );
      }
      // Confirmed: the audit cannot complete, and its jobs (which hold positions) leave Redis,
      // unless kept or still locked by a worker (a later run removes them then).
      const removed = this.options.keepJobs ? 0 : await this.queue.remove(this.jobs.at(-1)!.id, { removeChildren: true }).catch(() => 0);
      throw new QueueResultError(
        `${this.describe(ref)} cannot be proven: ${rejection} (job ${ref.id}; ${removed === 1 ? "the audit's jobs were removed from the queue" : "the audit's jobs stay in the queue"})`,
      );
    }
    throw new ZksError(
      `job ${ref.id} (${this.describe(ref)}) failed on the workers after ${job?.attemptsMade ?? "?"} attempts: ${reason}; fix the workers and run the command again (finished proofs are kept)`,
      3,
    );
  }
}
