/**
 * An audit worker (`zks audit worker --queue URL`): a BullMQ Worker feeding a warm ProverPool
 * over the three audit instances of one tier, with the queue's concurrency set to the pool's
 * size, so that each machine takes only as many jobs as it proves at once.
 *
 * A worker that dies holding a job does not lose it: its lock stops being renewed, and after
 * `lockSeconds` another worker's stalled-job check puts it back in the queue. Stopping on purpose
 * (`stop()`, SIGTERM/SIGINT in the CLI) either finishes the jobs in hand or, when asked to stop
 * now, hands them back at once.
 */
import { hostname } from "node:os";
import type { Job, Worker } from "bullmq";
import { ZksError } from "@zk-solvency/sdk/core";
import type { AuditInstances } from "@zk-solvency/sdk/audit";
import { UnprovableError } from "@zk-solvency/sdk/prover";
import { describeProverBackend, type ProverBackend, type ProverChoice } from "../../native-prover/index.ts";
import { ProverPool } from "../../prover-pool/prover-pool.ts";
import { auditKeyRecords } from "../audit-keys.ts";
import { AUDIT_INSTANCES } from "../run-audit.ts";
import { checkQueueName, checkRedisReachable, DEFAULT_QUEUE_NAME, errorText, loadBullMQ, parseQueueUrl } from "./connection.ts";
import { parseJobData, unprovableReason, type AuditJobResult } from "./jobs.ts";

export interface AuditWorkerOptions {
  /** `redis://[user:password@]host[:port][/db]` or `rediss://...`. */
  queue: string;
  /** Default "zks-audit". */
  queueName?: string;
  /**
   * The audit instances this worker proves (default: the standard tier), and the tier's name for
   * its first line. A job for other instances, or another key, is put back delayed by
   * `deferSeconds` (default 30) for a worker that can prove it.
   */
  instances?: AuditInstances;
  tierName?: string;
  deferSeconds?: number;
  /** Prover threads, and so jobs at once (default: the machine's available parallelism). */
  workers?: number;
  prover?: ProverChoice | ProverBackend;
  /**
   * How long a job's lock lasts without renewal (renewed every half of it while proving), and how
   * often this worker looks for jobs whose holder died: a killed worker's job is proven again
   * after one to two times this. Default 30 s.
   */
  lockSeconds?: number;
  /**
   * Stop once the queue has had no job this worker could prove (its instances and keys) waiting,
   * prioritized, delayed or active for `idleSeconds` (default 5). Jobs waiting for children do not
   * count: a parent whose child failed, or an abandoned audit's, would keep it alive for ever.
   */
  exitWhenIdle?: boolean;
  idleSeconds?: number;
  /** Lines for people: each job taken and proven, stops. */
  onLog?: (line: string) => void;
}

export interface AuditWorkerStats {
  /** Job ids this worker proved and returned. */
  proved: string[];
  /** Job ids it handed back to the queue unproven (stopping now). */
  returned: string[];
  /** Job ids whose input the circuit rejected (failed, not retried). */
  unprovable: string[];
  /** Job ids for other instances or keys, put back delayed for other workers (each time it met them). */
  deferred: string[];
}

export interface AuditWorkerRun {
  /** The pool's prover ("snarkjs", "rapidsnark (...)"). */
  backend: ProverBackend;
  workers: number;
  /**
   * Stops taking jobs. `now` false: the jobs in hand are finished first. `now` true: they are
   * handed back to the queue at once, for other workers.
   */
  stop(now?: boolean): Promise<AuditWorkerStats>;
  /** Settles when the worker has stopped: after stop(), when idle with exitWhenIdle, or with the error that stopped it (a prover that cannot run, exit 3). */
  finished: Promise<AuditWorkerStats>;
}

/** Maximum times a job may be found stalled (its holder gone) and put back before it fails. */
export const MAX_STALLED = 3;

export async function startAuditWorker(options: AuditWorkerOptions): Promise<AuditWorkerRun> {
  const connection = parseQueueUrl(options.queue);
  const queueName = checkQueueName(options.queueName ?? DEFAULT_QUEUE_NAME);
  const lockSeconds = options.lockSeconds ?? 30;
  if (!Number.isFinite(lockSeconds) || lockSeconds < 1 || lockSeconds > 3600) throw new ZksError(`lockSeconds: expected 1 to 3600 (got ${lockSeconds})`, 2);
  const log = options.onLog ?? (() => {});
  const instances = options.instances ?? AUDIT_INSTANCES.standard;
  const bullmq = await loadBullMQ();
  await checkRedisReachable(bullmq, connection, queueName);

  // This machine's keys: a job names the key its proof will be verified with, and a worker with
  // another key would only make proofs the coordinator rejects.
  const keyRecords = auditKeyRecords(instances);
  const ownKey = new Map([
    [instances.batch, keyRecords.batch.verificationKeyHash],
    [instances.merge, keyRecords.merge.verificationKeyHash],
    [instances.top, keyRecords.top.verificationKeyHash],
  ]);
  const pool = await ProverPool.start([instances.batch, instances.merge, instances.top], {
    ...(options.workers !== undefined ? { workers: options.workers } : {}),
    ...(options.prover !== undefined ? { prover: options.prover } : {}),
  });
  const stats: AuditWorkerStats = { proved: [], returned: [], unprovable: [], deferred: [] };
  const name = `${hostname()}/${process.pid}`;
  const deferMs = (options.deferSeconds ?? 30) * 1000;
  /** Whether a job's data is one this worker proves: its instance, with the key this machine has. */
  const canProve = (data: unknown): boolean => {
    const d = data as { instance?: unknown; verificationKeyHash?: unknown } | null;
    return typeof d?.instance === "string" && ownKey.get(d.instance) !== undefined && ownKey.get(d.instance) === d.verificationKeyHash;
  };
  // Audits whose jobs this worker cannot prove: said once each, not on every pass.
  const foreignAudits = new Set<string>();
  // Jobs in hand, and how to hand each back when stopping now.
  const inHand = new Map<string, { hand: () => void }>();
  let fatal: Error | undefined;
  let stopping: Promise<AuditWorkerStats> | undefined;
  let idleTimer: NodeJS.Timeout | undefined;
  let resolveFinished!: (stats: AuditWorkerStats) => void;
  let rejectFinished!: (error: Error) => void;
  const finished = new Promise<AuditWorkerStats>((resolve, reject) => {
    resolveFinished = resolve;
    rejectFinished = reject;
  });
  // The caller may only await stop(); an unawaited rejection must not end the process by itself.
  finished.catch(() => {});

  /** Hands the job back to the queue (no attempt counted) and tells BullMQ the processor let it go. */
  const handBack = async (job: Job, token: string | undefined): Promise<never> => {
    await job.moveToWait(token);
    stats.returned.push(job.id!);
    throw new bullmq.WaitingError();
  };

  const processor = async (job: Job, token?: string): Promise<AuditJobResult> => {
    if (stopping || fatal) return handBack(job, token);
    let data;
    try {
      data = parseJobData(job.data, job.id);
    } catch (error) {
      // Not this worker's fault nor curable by retrying: the job fails, the worker goes on.
      throw new bullmq.UnrecoverableError(`job ${job.id}: ${(error as Error).message}`);
    }
    const own = ownKey.get(data.instance);
    if (own === undefined || own !== data.verificationKeyHash) {
      // Another tier's audit on the same queue, or jobs left from before a key rotation: another
      // worker may prove it, and this one goes on serving its own. Put back delayed (no attempt
      // counted, not failed), so that this worker does not take it again at once.
      if (!foreignAudits.has(data.auditId)) {
        foreignAudits.add(data.auditId);
        log(
          own === undefined
            ? `audit ${data.auditId}: its jobs are for ${data.instance}, which this worker does not prove (it proves ${instances.batch}, ${instances.merge}, ${instances.top}): left to workers started with that audit's --tier`
            : `audit ${data.auditId}: its jobs are to be verified with key ${data.verificationKeyHash} for ${data.instance}, but this machine's key is ${own}: left to workers with that key (\`zks keys fetch\`, \`zks setup\`)`,
        );
      }
      stats.deferred.push(job.id!);
      await job.moveToDelayed(Date.now() + deferMs, token);
      throw new bullmq.DelayedError();
    }
    log(`proving job ${job.id} (${data.instance}), attempt ${job.attemptsMade + 1}`);
    let handedBack = false;
    const stopNow = new Promise<"stop">((resolve) =>
      inHand.set(job.id!, {
        hand: () => {
          handedBack = true;
          resolve("stop");
        },
      }),
    );
    try {
      const outcome = await Promise.race([pool.prove(data.instance, data.input), stopNow]);
      if (outcome === "stop" || handedBack) return await handBack(job, token);
      const result: AuditJobResult = {
        proof: outcome.proof,
        publicSignals: outcome.publicSignals,
        prover: outcome.prover,
        witness: outcome.witness,
        ms: Math.round(outcome.timings.witnessMs + outcome.timings.proofMs),
        worker: name,
      };
      stats.proved.push(job.id!);
      log(`proved job ${job.id} with ${outcome.prover} (${outcome.witness} witness) in ${(result.ms / 1000).toFixed(2)} s`);
      return result;
    } catch (error) {
      if (error instanceof bullmq.WaitingError || error instanceof bullmq.DelayedError) throw error;
      if (error instanceof UnprovableError) {
        stats.unprovable.push(job.id!);
        log(`job ${job.id}: the circuit rejects its input (${error.detail})`);
        throw new bullmq.UnrecoverableError(unprovableReason(error.detail));
      }
      if (error instanceof ZksError && error.exitCode === 3) {
        // This machine cannot prove (a broken native prover, missing artifacts): the job goes to
        // another worker, and this one stops with the reason.
        fatal ??= error;
        void stop(true);
      }
      if (stopping) return handBack(job, token);
      log(`job ${job.id} failed: ${errorText(error)}`);
      throw error;
    } finally {
      inHand.delete(job.id!);
    }
  };

  const worker: Worker = new bullmq.Worker(queueName, processor, {
    // Recorded on each job it takes (job.processedBy): the coordinator names it when it blames a worker.
    name,
    connection: connection.options,
    concurrency: pool.workers,
    lockDuration: lockSeconds * 1000,
    stalledInterval: lockSeconds * 1000,
    maxStalledCount: MAX_STALLED,
    autorun: false,
  });
  let lastWarning = 0;
  worker.on("error", (error: Error) => {
    // Lost connections are retried by BullMQ; say so once a minute at most.
    if (performance.now() - lastWarning < 60_000) return;
    lastWarning = performance.now();
    log(`Redis at ${connection.display}: ${errorText(error)} (retrying)`);
  });
  worker.on("stalled", (jobId: string) => log(`job ${jobId} was held by a worker that stopped answering: back in the queue`));

  const stop = (now = false): Promise<AuditWorkerStats> => {
    if (!stopping) {
      stopping = (async () => {
        clearInterval(idleTimer);
        if (now) for (const held of inHand.values()) held.hand();
        try {
          await worker.close();
        } finally {
          await pool.close();
        }
        return stats;
      })();
      stopping.then(
        (result) => (fatal ? rejectFinished(fatal) : resolveFinished(result)),
        (error: Error) => rejectFinished(fatal ?? error),
      );
    } else if (now) {
      for (const held of inHand.values()) held.hand();
    }
    return stopping;
  };

  if (options.exitWhenIdle) {
    const idleMs = (options.idleSeconds ?? 5) * 1000;
    const counter = new bullmq.Queue(queueName, { connection: connection.options });
    counter.on("error", () => {});
    let idleSince: number | undefined;
    let checking = false;
    /** Whether the queue holds a job this worker could prove: waiting, prioritized, delayed (a retry's backoff) or active on another worker (which may fail it back). */
    const runnableJobs = async (): Promise<boolean> => {
      const states = ["wait", "prioritized", "delayed", "active"] as const;
      const counts = await counter.getJobCounts(...states);
      for (const state of states) {
        for (let at = 0; at < (counts[state] ?? 0); at += 50) {
          const page = await counter.getJobs([state], at, at + 49);
          if (page.some((job) => job && canProve(job.data))) return true;
          if (page.length === 0) break;
        }
      }
      return false;
    };
    idleTimer = setInterval(() => {
      if (checking) return;
      checking = true;
      void (inHand.size > 0 ? Promise.resolve(true) : runnableJobs())
        .then((busy) => {
          if (busy) idleSince = undefined;
          else if (idleSince === undefined) idleSince = performance.now();
          else if (performance.now() - idleSince >= idleMs) {
            log(`the queue has been idle for ${idleMs / 1000} s: stopping`);
            void stop(false);
          }
        })
        .catch(() => (idleSince = undefined))
        .finally(() => (checking = false));
    }, 500);
    void finished.finally(() => counter.close().catch(() => {})).catch(() => {});
  }

  void worker.run().catch((error: Error) => {
    fatal ??= new ZksError(`the queue's worker stopped: ${errorText(error)}`, 3);
    void stop(true);
  });
  // What this worker serves, so that a tier or key mismatch with the coordinator shows at start.
  const fingerprint = (instance: string) => `${instance} (key ${ownKey.get(instance)!.slice(0, 18)}...)`;
  log(
    `taking jobs from queue ${queueName} at ${connection.display}: ${pool.workers} at a time with ${describeProverBackend(pool.backend)}, tier ${options.tierName ?? "custom"}: ${fingerprint(instances.batch)}, ${fingerprint(instances.merge)}, ${fingerprint(instances.top)}`,
  );
  return { backend: pool.backend, workers: pool.workers, stop, finished };
}
