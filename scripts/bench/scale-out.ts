/**
 * The audit over BullMQ with worker processes pinned to cores (issue 20's scale-out figure), for
 * scripts/bench-audit.ts `--scale-out`:
 *
 *   1. a private redis-server on 127.0.0.1 (test/helpers/redis.ts), one queue per run;
 *   2. the coordinator, runQueuedAudit (what `zks audit prove --queue` runs), in this process and
 *      unpinned, with the queue paused: it prepares and enqueues the flow;
 *   3. N `zks audit worker --queue URL --workers 1 --tier T --prover P --exit-when-idle` processes,
 *      the k-th run as `taskset -c k` (rapidsnark children inherit the pin), under
 *      `/usr/bin/time -f %M` when it is there, their process trees sampled for VmHWM;
 *   4. once every worker has its prover pool loaded (its "taking jobs" line), the queue resumes;
 *   5. when the coordinator has verified every proof, each job's processedOn / finishedOn /
 *      returned timings are read back from Redis, then the jobs are removed.
 *
 * Worker start-up (tsx, keys, pool threads) is thus outside the measured window: the figure is
 * the steady rate of the workers, from the first job started to the last one finished.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, realpathSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Job } from "bullmq";
import type { AuditInstances } from "../../packages/sdk/src/audit/index.ts";
import type { Market, Policy } from "../../packages/sdk/src/inputs/types.ts";
import type { ProverBackend } from "../../packages/node/src/native-prover/backend.ts";
import { parseQueueUrl } from "../../packages/node/src/audit/queue/connection.ts";
import { removeAuditJobs, runQueuedAudit, type QueuedAuditRun } from "../../packages/node/src/audit/queue/coordinator.ts";
import type { BookEntry } from "../../packages/node/src/audit/read-book.ts";
import { PACKAGE_ROOT } from "../../packages/node/src/setup/paths.ts";
import { startRedis } from "../../test/helpers/redis.ts";
import type { ScaleOutRun, WorkerMemory } from "./audit-report.ts";
import { largestPeakMiB, ProcessTreeSampler, type ProcessPeak } from "./proc-memory.ts";
import { proverEnv, rapidsnarkExe } from "./prover.ts";

const ZKS_BIN = path.join(PACKAGE_ROOT, "packages", "cli", "bin", "zks.js");
const GNU_TIME = "/usr/bin/time";
/** Start-up of a worker: tsx compiling the CLI, keys, the pool's threads. Generous: the machine may be busy. */
const READY_TIMEOUT_MS = 300_000;
/** After the last job, `--exit-when-idle` stops a worker 5 s into an idle queue. */
const EXIT_TIMEOUT_MS = 120_000;

export interface ScaleOutOptions {
  book: readonly BookEntry[];
  market: Market;
  policy: Policy;
  instances: AuditInstances;
  tier: "test" | "standard";
  backend: ProverBackend;
  /** Worker process counts to run, in order, e.g. [1, 2]; the k-th process of a run is pinned to core k. */
  processes: number[];
  log: (line: string) => void;
}

export interface ScaleOutMeasurement {
  runs: ScaleOutRun[];
  /** The last run's audit (each run proves the same book), for verification and its shape. */
  last: QueuedAuditRun;
}

interface SpawnedWorker {
  core: number;
  child: ChildProcess;
  sampler: ProcessTreeSampler;
  timeFile?: string;
  output: string[];
  ready: Promise<void>;
  exited: Promise<number | null>;
}

export async function measureScaleOut(options: ScaleOutOptions): Promise<ScaleOutMeasurement> {
  const redis = await startRedis();
  const work = mkdtempSync(path.join(tmpdir(), "zks-bench-scale-out-"));
  options.log(`redis-server at ${redis.url}`);
  try {
    const runs: ScaleOutRun[] = [];
    let last: QueuedAuditRun | undefined;
    for (const processes of options.processes) {
      const { run, audit } = await measureOne(options, redis.url, work, processes);
      runs.push(run);
      last = audit;
      options.log(
        `${processes} worker process(es): ${run.jobs} proofs in ${run.windowSeconds.toFixed(1)} s, ${run.proofsPerMinute.toFixed(1)} proofs/min; batch ${run.perProofSeconds.batch.toFixed(2)} s, merge ${run.perProofSeconds.merge.toFixed(2)} s per proof`,
      );
    }
    return { runs, last: last! };
  } finally {
    await redis.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

async function measureOne(options: ScaleOutOptions, url: string, work: string, processes: number): Promise<{ run: ScaleOutRun; audit: QueuedAuditRun }> {
  const { Queue } = await import("bullmq");
  const queueName = `zks-bench-${processes}`;
  const connection = parseQueueUrl(url).options;
  const control = new Queue(queueName, { connection });
  control.on("error", () => {});
  const workers: SpawnedWorker[] = [];
  try {
    // Paused before the flow exists: no worker takes a job until all of them are ready.
    await control.pause();
    const started = performance.now();
    let treeSeconds = Number.NaN;
    let prepareSeconds = Number.NaN;
    let enqueued!: () => void;
    const flowEnqueued = new Promise<void>((resolve) => (enqueued = resolve));
    const coordinator = runQueuedAudit(options.book, options.market, options.policy, {
      queue: url,
      queueName,
      instances: options.instances,
      keepJobs: true,
      sweepSeconds: 5,
      // The figures and the tree grow with the positions; keys and the flow come after the tree.
      onProgress: (progress) => {
        if (progress.stage === "tree") treeSeconds = (performance.now() - started) / 1000;
      },
      onNote: (line) => {
        options.log(`coordinator: ${line}`);
        if (line.startsWith("enqueued audit")) {
          prepareSeconds = (performance.now() - started) / 1000;
          enqueued();
        }
      },
    });
    await Promise.race([
      flowEnqueued,
      coordinator.then(() => {
        throw new Error("bench:audit --scale-out: the coordinator finished without enqueuing a fresh flow (jobs left in Redis?)");
      }),
    ]);
    options.log(`coordinator enqueued the flow in ${prepareSeconds.toFixed(1)} s; starting ${processes} pinned worker process(es)`);

    for (let core = 0; core < processes; core++) workers.push(spawnWorker(options, url, queueName, core, work));
    await Promise.all(workers.map((w) => w.ready));
    options.log(`all ${processes} worker(s) ready: resuming the queue`);
    await control.resume();

    const audit = await coordinator;
    const coordinatorTotal = (performance.now() - started) / 1000;

    const jobs = await readJobs(control, audit);
    const exits = await Promise.all(workers.map((w) => withTimeout(w.exited, EXIT_TIMEOUT_MS)));
    for (const [k, code] of exits.entries()) {
      if (code === "timeout") {
        workers[k]!.child.kill("SIGTERM");
        throw new Error(`bench:audit --scale-out: worker on core ${workers[k]!.core} did not exit within ${EXIT_TIMEOUT_MS / 1000} s of an idle queue`);
      }
      if (code !== 0) throw new Error(`bench:audit --scale-out: worker on core ${workers[k]!.core} exited with ${code}:\n${workers[k]!.output.slice(-10).join("\n")}`);
    }
    await removeAuditJobs({ queue: url, queueName }, audit.queue.rootJob);

    const first = Math.min(...jobs.map((j) => j.processedOn));
    const lastDone = Math.max(...jobs.map((j) => j.finishedOn));
    const windowSeconds = (lastDone - first) / 1000;
    const mean = (values: number[]) => (values.length === 0 ? Number.NaN : values.reduce((a, b) => a + b, 0) / values.length);
    const of = (kind: "batch" | "merge") => jobs.filter((j) => (kind === "batch" ? j.level === 0 : j.level > 0));
    const rapidsnark = rapidsnarkExe(options.backend);
    const node = realpathSync(process.execPath);
    return {
      audit,
      run: {
        processes,
        jobs: jobs.length,
        windowSeconds,
        proofsPerMinute: jobs.length / (windowSeconds / 60),
        perProofSeconds: { batch: mean(of("batch").map((j) => j.heldMs)) / 1000, merge: mean(of("merge").map((j) => j.heldMs)) / 1000 },
        proverSeconds: { batch: mean(of("batch").map((j) => j.proverMs)) / 1000, merge: mean(of("merge").map((j) => j.proverMs)) / 1000 },
        coordinatorSeconds: { figuresAndTree: treeSeconds, enqueue: prepareSeconds - treeSeconds, total: coordinatorTotal },
        retried: jobs.filter((j) => j.retried).length,
        workers: workers.map((w) => workerMemory(w, w.sampler.stop(), jobs, node, rapidsnark)),
      },
    };
  } finally {
    for (const w of workers) {
      w.sampler.stop();
      if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill("SIGTERM");
    }
    await control.close();
  }
}

function spawnWorker(options: ScaleOutOptions, url: string, queueName: string, core: number, work: string): SpawnedWorker {
  const zks = [
    process.execPath,
    ZKS_BIN,
    "audit",
    "worker",
    "--queue",
    url,
    "--queue-name",
    queueName,
    "--workers",
    "1",
    "--tier",
    options.tier,
    "--prover",
    options.backend.kind,
    "--exit-when-idle",
  ];
  const pinned = ["taskset", "-c", String(core), ...zks];
  const timeFile = existsSync(GNU_TIME) ? path.join(work, `time-${queueName}-${core}.txt`) : undefined;
  const command = timeFile ? [GNU_TIME, "-f", "%M", "-o", timeFile, ...pinned] : pinned;
  const child = spawn(command[0]!, command.slice(1), { cwd: PACKAGE_ROOT, env: { ...process.env, ...proverEnv(options.backend) }, stdio: ["ignore", "pipe", "pipe"] });
  const sampler = new ProcessTreeSampler(child.pid!);
  const output: string[] = [];
  let markReady!: () => void;
  let fail!: (error: Error) => void;
  const ready = new Promise<void>((resolve, reject) => {
    markReady = resolve;
    fail = reject;
  });
  ready.catch(() => {});
  const timer = setTimeout(
    () => fail(new Error(`bench:audit --scale-out: worker on core ${core} not ready after ${READY_TIMEOUT_MS / 1000} s:\n${output.slice(-10).join("\n")}`)),
    READY_TIMEOUT_MS,
  );
  const onLine = (line: string) => {
    output.push(line);
    if (line.includes("taking jobs from queue")) {
      clearTimeout(timer);
      markReady();
    }
  };
  for (const stream of [child.stdout!, child.stderr!]) {
    let rest = "";
    stream.on("data", (chunk: Buffer) => {
      const lines = (rest + chunk.toString()).split("\n");
      rest = lines.pop()!;
      lines.forEach(onLine);
    });
  }
  const exited = new Promise<number | null>((resolve) =>
    child.on("exit", (code) => {
      clearTimeout(timer);
      fail(new Error(`bench:audit --scale-out: worker on core ${core} exited (${code}) before it was ready:\n${output.slice(-10).join("\n")}`));
      resolve(code);
    }),
  );
  return { core, child, sampler, ...(timeFile ? { timeFile } : {}), output, ready, exited };
}

interface JobTiming {
  level: number;
  processedOn: number;
  finishedOn: number;
  heldMs: number;
  proverMs: number;
  worker: string;
  retried: boolean;
}

/** Every job of the audit, as Redis recorded it (the coordinator kept them: keepJobs). */
async function readJobs(queue: InstanceType<typeof import("bullmq").Queue>, audit: QueuedAuditRun): Promise<JobTiming[]> {
  const refs = audit.shape.proofsPerLevel.flatMap((count, level) => Array.from({ length: count }, (_, index) => ({ level, id: `${audit.queue.auditId}.${level}.${index}` })));
  const timings: JobTiming[] = [];
  for (let at = 0; at < refs.length; at += 200) {
    const chunk = refs.slice(at, at + 200);
    const jobs = await Promise.all(chunk.map((ref) => queue.getJob(ref.id)));
    for (const [k, job] of jobs.entries()) timings.push(timing(chunk[k]!.id, chunk[k]!.level, job));
  }
  return timings;
}

function timing(id: string, level: number, job: Job | undefined): JobTiming {
  if (!job || job.processedOn === undefined || job.finishedOn === undefined) throw new Error(`bench:audit --scale-out: job ${id} has no start or finish time in Redis`);
  const result = job.returnvalue as { ms?: number; worker?: string } | null;
  return {
    level,
    processedOn: job.processedOn,
    finishedOn: job.finishedOn,
    heldMs: job.finishedOn - job.processedOn,
    proverMs: result?.ms ?? Number.NaN,
    worker: result?.worker ?? "unknown",
    retried: job.attemptsStarted > 1 || job.stalledCounter > 0,
  };
}

function workerMemory(w: SpawnedWorker, peaks: ProcessPeak[], jobs: readonly JobTiming[], node: string, rapidsnark: string | undefined): WorkerMemory {
  // The worker's node process (under /usr/bin/time, as the image taskset execs): the one the jobs' results name, else the largest node in the tree.
  const nodes = peaks.filter((p) => p.exe === node);
  const nodeProcess =
    nodes.find((p) => jobs.some((j) => j.worker.endsWith(`/${p.pid}`))) ?? nodes.reduce<ProcessPeak | undefined>((a, p) => (a && a.peakKiB >= p.peakKiB ? a : p), undefined);
  const name = nodeProcess ? jobs.find((j) => j.worker.endsWith(`/${nodeProcess.pid}`))?.worker : undefined;
  const timeKiB = w.timeFile && existsSync(w.timeFile) ? Number(readFileSync(w.timeFile, "utf8").trim().split("\n").at(-1)) : Number.NaN;
  const rapidsnarkPeak = rapidsnark ? largestPeakMiB(peaks, (exe) => exe === rapidsnark) : undefined;
  return {
    worker: name ?? (nodeProcess ? `pid ${nodeProcess.pid}` : "unknown"),
    core: w.core,
    jobs: name ? jobs.filter((j) => j.worker === name).length : 0,
    ...(nodeProcess ? { nodePeakMiB: nodeProcess.peakKiB / 1024 } : {}),
    ...(rapidsnarkPeak !== undefined ? { rapidsnarkPeakMiB: rapidsnarkPeak } : {}),
    ...(Number.isFinite(timeKiB) ? { timeMaxRssMiB: timeKiB / 1024 } : {}),
  };
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T | "timeout"> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([promise, new Promise<"timeout">((resolve) => (timer = setTimeout(() => resolve("timeout"), ms)))]).finally(() => clearTimeout(timer));
}
