/**
 * The audit's figures in BENCHMARKS.md (between `<!-- audit:begin` and `<!-- audit:end -->`),
 * rendered from benchmarks/audit.json (runAudit in one process, scripts/bench-audit.ts) and
 * benchmarks/audit-scale-out.json (the audit over BullMQ with pinned worker processes,
 * scripts/bench/scale-out.ts). Pure functions of the recorded results, so that the verdicts and
 * the projection can be tested without measuring (test/bench-report.test.ts).
 *
 * Verdicts are taken from measured rows only. The one projection (100,000 positions) is computed
 * from measured rates per proof and says so in its heading and on every row.
 */
import { auditShape } from "../../packages/sdk/src/audit/audit-shape.ts";
import type { Machine } from "./machine.ts";

export type ProverName = "snarkjs" | "rapidsnark";

/** One `runAudit` run (scripts/bench-audit.ts). */
export interface AuditScaleResult {
  positions: number;
  failing: number;
  batchSize: number;
  fanIn: number;
  depth: number;
  proofsPerLevel: number[];
  constraints: { batch: number; merge: number; top: number };
  /** Prover threads of the pool (proofs side by side). */
  workers: number;
  /** Who made the proofs. Rows from before issue 20 have none: snarkjs made them. */
  prover?: ProverName;
  /** What computed the witnesses: "native" (circom's C++ generators, rapidsnark only), "wasm", or per role when they differ. */
  witness?: string;
  /** OMP_NUM_THREADS of each rapidsnark run. */
  threadsPerProof?: number;
  seconds: { figuresAndTree: number; batches: number; merges: number; total: number; verify: number };
  proofsPerMinute: number;
  positionsPerMinute: number;
  /** Resident set of the process, worker threads included (not its child processes). */
  peakRssMiB: number;
  /** The largest rapidsnark child's peak resident set (sampled VmHWM), rapidsnark only. */
  rapidsnarkPeakMiB?: number;
  bytes: { auditJson: number; perProof: number; leavesJsonl: number };
  inclusion?: { bytes: number; steps: number; proofs: number; checkMs: number };
  machine: Machine;
}

/** Peak memory of one `zks audit worker` process. */
export interface WorkerMemory {
  /** hostname/pid, as the jobs' results name the worker. */
  worker: string;
  core: number;
  jobs: number;
  /** The worker's node process (its prover threads included), VmHWM sampled until it exited. */
  nodePeakMiB?: number;
  /** The largest rapidsnark child it ran (sampled VmHWM). */
  rapidsnarkPeakMiB?: number;
  /** `/usr/bin/time -f %M`: the largest of the process and its waited-for children (so node or rapidsnark, whichever was larger). */
  timeMaxRssMiB?: number;
}

/** The audit proven by `processes` worker processes, each pinned to one core. */
export interface ScaleOutRun {
  processes: number;
  jobs: number;
  /** From the first job a worker started to the last one finished (BullMQ's processedOn / finishedOn). */
  windowSeconds: number;
  proofsPerMinute: number;
  /** Mean time a worker held a job (processedOn to finishedOn): batch jobs, and merge jobs (the root proof included). */
  perProofSeconds: { batch: number; merge: number };
  /** Mean time the workers report for witness, proof and verification of one job. */
  proverSeconds: { batch: number; merge: number };
  /**
   * The coordinator: from its start to the tree built (Redis checked, figures of every position,
   * the tree), then to the flow enqueued (the keys' records, every job's input, the flow added),
   * then the whole run.
   */
  coordinatorSeconds: { figuresAndTree: number; enqueue: number; total: number };
  /** Jobs taken more than once (a stalled or failed attempt). */
  retried: number;
  workers: WorkerMemory[];
}

export interface ScaleOutResult {
  positions: number;
  failing: number;
  instances: { batch: string; merge: string; top: string };
  constraints: { batch: number; merge: number; top: number };
  batchSize: number;
  fanIn: number;
  proofsPerLevel: number[];
  prover: ProverName;
  witness: string;
  runs: ScaleOutRun[];
  /** proofs/min of the run with the most processes over that of one process. */
  ratio?: number;
  /** Verifying every proof of the audit once (verifyAudit), as the coordinator does while the workers prove. */
  verifySeconds: number;
  machine: Machine;
}

export const TARGET_POSITIONS = 10_000;
export const TARGET_SECONDS = 15 * 60;
export const TARGET_CORES = 2;
export const SCALE_OUT_TARGET = 1.8;
export const PROJECTED_POSITIONS = 100_000;
/** Hosts in the projection's multi-host row, each as the measured machine running one pinned worker per core. */
export const PROJECTED_HOSTS = 8;

const n = (v: number) => Math.round(v).toLocaleString("en-US");
const kib = (b: number) => `${(b / 1024).toFixed(1)} KiB`;
const mib = (b: number) => `${(b / 2 ** 20).toFixed(1)} MiB`;
const secs = (s: number) => (s >= 10 ? `${s.toFixed(1)} s` : `${s.toFixed(2)} s`);
const minutes = (s: number) => (s >= 120 ? `${(s / 60).toFixed(1)} min` : `${s.toFixed(1)} s`);
const hours = (s: number) => (s >= 2 * 3600 ? `${(s / 3600).toFixed(1)} h` : minutes(s));
const sum = (values: readonly number[]) => values.reduce((a, b) => a + b, 0);

export const proverOf = (r: AuditScaleResult): ProverName => r.prover ?? "snarkjs";
export const witnessOf = (r: AuditScaleResult): string => r.witness ?? "wasm";

/**
 * Worker-seconds per proof at each level: the level's wall time times the proofs proven side by
 * side, over its proofs. runAudit proves one level after the other, each with every worker busy
 * except in the last few proofs of a level.
 */
export function perProofSeconds(r: AuditScaleResult): { batch: number; merge: number } {
  const merges = sum(r.proofsPerLevel.slice(1));
  return { batch: (r.seconds.batches * r.workers) / r.proofsPerLevel[0]!, merge: (r.seconds.merges * r.workers) / merges };
}

/** The issue 20 target, from the measured rows of TARGET_POSITIONS positions on TARGET_CORES cores; never from a projection. */
export function targetVerdict(rows: readonly AuditScaleResult[]): string {
  const goal = `${n(TARGET_POSITIONS)} positions in at most ${TARGET_SECONDS / 60} minutes on ${TARGET_CORES} cores`;
  const measured = rows.filter((r) => r.positions === TARGET_POSITIONS && r.machine.cores === TARGET_CORES);
  if (measured.length === 0) return `**Target (issue 20): ${goal}: not measured yet** (no ${n(TARGET_POSITIONS)}-position run on ${TARGET_CORES} cores in benchmarks/audit.json).`;
  const best = measured.reduce((a, r) => (r.seconds.total < a.seconds.total ? r : a));
  const met = best.seconds.total <= TARGET_SECONDS;
  const each = measured.map((r) => `${proverOf(r)} (${witnessOf(r)} witness, ${r.workers} workers): ${minutes(r.seconds.total)}`).join("; ");
  return `**Target (issue 20): ${goal}: ${met ? "met" : "not met"}**, measured: ${each}.`;
}

/** Local rows, old and new, sorted by positions, then prover. */
export function sortAuditRows(rows: Iterable<AuditScaleResult>): AuditScaleResult[] {
  return [...rows].sort((a, b) => a.positions - b.positions || proverOf(a).localeCompare(proverOf(b)) || a.workers - b.workers);
}

/** The key a run replaces: the same size, prover and pool size. */
export const auditRowKey = (r: Pick<AuditScaleResult, "positions" | "workers"> & { prover?: ProverName }): string => `${r.positions}/${r.prover ?? "snarkjs"}/${r.workers}`;

function peakText(r: AuditScaleResult): string {
  return r.rapidsnarkPeakMiB === undefined ? `${n(r.peakRssMiB)} MiB` : `${n(r.peakRssMiB)} MiB (+ rapidsnark ${n(r.rapidsnarkPeakMiB)} MiB)`;
}

export function localAuditTable(rows: readonly AuditScaleResult[]): string[] {
  return [
    "| positions | prover | witness | workers | constraints (batch / merge) | failing | proofs (batches + merges) | depth | figures + tree | batch proofs | merge proofs | total | per batch proof | per merge proof | proofs/min | peak memory | verify all | audit.json | per proof | inclusion proof | inclusion check | measured |",
    "| ---: | --- | --- | ---: | --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ...rows.map((r) => {
      const per = perProofSeconds(r);
      return `| ${n(r.positions)} | ${proverOf(r)} | ${witnessOf(r)} | ${r.workers} | ${n(r.constraints.batch)} / ${n(r.constraints.merge)} | ${n(r.failing)} | ${r.proofsPerLevel.map(n).join(" + ")} | ${r.depth} | ${minutes(r.seconds.figuresAndTree)} | ${minutes(r.seconds.batches)} | ${minutes(r.seconds.merges)} | ${minutes(r.seconds.total)} | ${secs(per.batch)} | ${secs(per.merge)} | ${r.proofsPerMinute.toFixed(1)} | ${peakText(r)} | ${minutes(r.seconds.verify)} | ${mib(r.bytes.auditJson)} | ${kib(r.bytes.perProof)} | ${r.inclusion ? `${kib(r.inclusion.bytes)} (${r.inclusion.steps} steps, ${r.inclusion.proofs} proofs)` : "–"} | ${r.inclusion ? `${r.inclusion.checkMs.toFixed(0)} ms` : "–"} | ${r.machine.date}, ${r.machine.commit} |`;
    }),
  ];
}

/** "met (1.93x)" against SCALE_OUT_TARGET, from the measured runs. */
export function scaleOutVerdict(result: ScaleOutResult): string {
  if (result.ratio === undefined) return "not measured (needs a run with 1 and one with 2 processes)";
  return `${result.ratio >= SCALE_OUT_TARGET ? "met" : "not met"} (${result.ratio.toFixed(2)}x)`;
}

function workerMemoryText(w: WorkerMemory): string {
  const parts = [
    w.nodePeakMiB !== undefined ? `node ${n(w.nodePeakMiB)} MiB` : undefined,
    w.rapidsnarkPeakMiB !== undefined ? `rapidsnark ${n(w.rapidsnarkPeakMiB)} MiB` : undefined,
    w.timeMaxRssMiB !== undefined ? `max RSS ${n(w.timeMaxRssMiB)} MiB` : undefined,
  ].filter((p): p is string => p !== undefined);
  return `core ${w.core}: ${parts.length > 0 ? parts.join(", ") : "not measured"} (${n(w.jobs)} jobs)`;
}

export function scaleOutTable(results: readonly ScaleOutResult[]): string[] {
  return [
    "| positions | prover | witness | worker processes (pinned) | proofs | first job started to last finished | proofs/min | vs 1 process | per batch proof | per merge proof | coordinator: figures and tree, then enqueue | retried jobs | peak memory per worker | measured |",
    "| ---: | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |",
    ...results.flatMap((result) => {
      const one = result.runs.find((run) => run.processes === 1);
      return result.runs.map(
        (run) =>
          `| ${n(result.positions)} | ${result.prover} | ${result.witness} | ${run.processes} | ${n(run.jobs)} | ${minutes(run.windowSeconds)} | ${run.proofsPerMinute.toFixed(1)} | ${one ? `${(run.proofsPerMinute / one.proofsPerMinute).toFixed(2)}x` : "–"} | ${secs(run.perProofSeconds.batch)} | ${secs(run.perProofSeconds.merge)} | ${minutes(run.coordinatorSeconds.figuresAndTree)}, ${minutes(run.coordinatorSeconds.enqueue)} | ${run.retried} | ${run.workers.map(workerMemoryText).join("; ")} | ${result.machine.date}, ${result.machine.commit} |`,
      );
    }),
  ];
}

export interface ProjectionRow {
  setup: string;
  workers: number;
  prepareSeconds: number;
  batchSeconds: number;
  mergeSeconds: number;
  /** Proving bound by the coordinator, which verifies every proof on one thread. */
  coordinatorBoundSeconds: number;
  totalSeconds: number;
}

/**
 * PROJECTED_POSITIONS positions from a scale-out result's measured rates: the tree's shape from
 * auditShape, each level taking ceil(proofs / workers) times the measured time per proof of its
 * kind (batch, merge), the levels one after the other (the flow overlaps them a little: an upper
 * bound), the coordinator's figures and tree scaled linearly from its measured time, and the
 * proving no faster than the coordinator can verify (its measured verify time per proof).
 * One worker uses the 1-process run's time per proof; 2 workers and several hosts the 2-process
 * run's (each host a copy of the measured machine, with Redis and the network keeping up).
 */
export function projectAudit(result: ScaleOutResult, positions = PROJECTED_POSITIONS, hosts = PROJECTED_HOSTS): { proofsPerLevel: number[]; rows: ProjectionRow[] } {
  const shape = auditShape(positions, result.batchSize, result.fanIn);
  const totalProofs = sum(shape.proofsPerLevel);
  const measuredProofs = sum(result.proofsPerLevel);
  const verifyPerProof = result.verifySeconds / measuredProofs;
  const single = result.runs.find((run) => run.processes === 1);
  const pair = result.runs.find((run) => run.processes === 2);
  const scale = positions / result.positions;
  const row = (setup: string, workers: number, run: ScaleOutRun): ProjectionRow => {
    const rounds = (count: number) => Math.ceil(count / workers);
    const batchSeconds = rounds(shape.proofsPerLevel[0]!) * run.perProofSeconds.batch;
    const mergeSeconds = sum(shape.proofsPerLevel.slice(1).map(rounds)) * run.perProofSeconds.merge;
    const coordinatorBoundSeconds = totalProofs * verifyPerProof;
    // Both scale with the book: figures per position, tree nodes, jobs' inputs (fixed costs, such as hashing the keys, make this an overestimate from a small run).
    const prepareSeconds = (run.coordinatorSeconds.figuresAndTree + run.coordinatorSeconds.enqueue) * scale;
    return {
      setup,
      workers,
      prepareSeconds,
      batchSeconds,
      mergeSeconds,
      coordinatorBoundSeconds,
      totalSeconds: prepareSeconds + Math.max(batchSeconds + mergeSeconds, coordinatorBoundSeconds),
    };
  };
  const rows: ProjectionRow[] = [];
  if (single) rows.push(row("1 worker process (1 core)", 1, single));
  if (pair) {
    rows.push(row(`2 worker processes (1 host, ${result.machine.cores} cores)`, 2, pair));
    rows.push(row(`${hosts} hosts like this one, 2 worker processes each`, 2 * hosts, pair));
  }
  return { proofsPerLevel: shape.proofsPerLevel, rows };
}

export function projectionSection(results: readonly ScaleOutResult[], hosts = PROJECTED_HOSTS): string[] {
  const lines = [`### ${n(PROJECTED_POSITIONS)} positions: projection, not measured`, ""];
  if (results.length === 0) return [...lines, "No scale-out run recorded yet (`npm run bench:audit -- --scale-out`): nothing to project from.", ""];
  for (const result of results) {
    const { proofsPerLevel, rows } = projectAudit(result, PROJECTED_POSITIONS, hosts);
    if (rows.length === 0) continue;
    const verifyMs = (1000 * result.verifySeconds) / sum(result.proofsPerLevel);
    lines.push(
      `From the ${n(result.positions)}-position ${result.prover} run above (${result.witness} witness): ${n(PROJECTED_POSITIONS)} positions make ${proofsPerLevel.map(n).join(" + ")} proofs (auditShape, batches of ${result.batchSize}, merges of ${result.fanIn}). Each level takes ceil(proofs / workers) times the measured time per proof of its kind, levels one after the other; the coordinator's figures, tree and enqueuing scale linearly from its measured time (from a run of a few thousand positions; fixed costs make it an overestimate from a small one); proving can go no faster than the coordinator verifies (${verifyMs.toFixed(0)} ms per proof measured, one thread). Hosts are assumed to be copies of this machine, with Redis and the network keeping up. **Projection, not measured.**`,
      "",
      "| setup (projection, not measured) | worker processes | coordinator: figures, tree, enqueue | batch proofs | merge proofs | coordinator's verification alone | total |",
      "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
      ...rows.map(
        (r) =>
          `| ${r.setup} | ${r.workers} | ${hours(r.prepareSeconds)} | ${hours(r.batchSeconds)} | ${hours(r.mergeSeconds)} | ${hours(r.coordinatorBoundSeconds)} | **${hours(r.totalSeconds)}** (projection) |`,
      ),
      "",
    );
  }
  return lines;
}

export function scaleOutSection(results: readonly ScaleOutResult[]): string[] {
  const lines = ["## Audit across worker processes (issue 20)", ""];
  if (results.length === 0) return [...lines, "Not measured yet: `npm run bench:audit -- --scale-out --positions N [--prover rapidsnark]`.", "", ...projectionSection(results)];
  const last = results.at(-1)!;
  lines.push(
    `\`npm run bench:audit -- --scale-out --positions N --prover P\`: a private \`redis-server\` on 127.0.0.1; the coordinator (\`runQueuedAudit\`, as \`zks audit prove --queue\`) in the benchmark's process, unpinned (it prepares the flow, then waits and verifies each returned proof); then \`zks audit worker --queue URL --workers 1 --tier standard --prover P --exit-when-idle\` processes, each pinned to one core with \`taskset -c\` (its rapidsnark children inherit the pin; one prover thread each). The queue is held paused until every worker has its prover pool loaded, so start-up is not measured. Proofs per minute count every job of the audit over the time from the first job a worker started to the last one finished (BullMQ's processedOn and finishedOn). Time per proof: the mean time a worker held a job. Peak memory per worker: the node process (its prover thread included) and the largest rapidsnark child, each its VmHWM sampled every 200 ms until it exited, and \`/usr/bin/time -f %M\`, the largest of the process and its waited-for children. Machine: ${last.machine.cpu}, ${last.machine.cores} cores, Node ${last.machine.node}.`,
    "",
    ...scaleOutTable(results),
    "",
    ...results.map((r) =>
      r.ratio === undefined
        ? `**Scale-out, ${r.prover}, ${n(r.positions)} positions: ${scaleOutVerdict(r)}.**`
        : `**Scale-out, ${r.prover}, ${n(r.positions)} positions: 2 worker processes pinned to one core each reach ${r.ratio.toFixed(2)}x the proofs per minute of 1; target >= ${SCALE_OUT_TARGET}x: ${scaleOutVerdict(r)}.**`,
    ),
    "",
    ...projectionSection(results),
  );
  return lines;
}

/** Why the local table scales as it does, from the measured rows; sizes not measured are never projected into it. */
function scalingNote(rows: readonly AuditScaleResult[]): string {
  const lines: string[] = [];
  for (const prover of ["snarkjs", "rapidsnark"] as const) {
    const mine = rows.filter((r) => proverOf(r) === prover);
    if (mine.length < 2) continue;
    const smallest = mine[0]!;
    const largest = mine.at(-1)!;
    if (largest.positions === smallest.positions) continue;
    lines.push(
      `With ${prover}, from ${n(smallest.positions)} to ${n(largest.positions)} positions the rate went from ${smallest.proofsPerMinute.toFixed(1)} to ${largest.proofsPerMinute.toFixed(1)} proofs/min and peak memory from ${n(smallest.peakRssMiB)} to ${n(largest.peakRssMiB)} MiB; verifying the whole audit took ${(largest.seconds.verify / smallest.seconds.verify).toFixed(1)}x as long for ${(largest.positions / smallest.positions).toFixed(0)}x the positions.`,
    );
  }
  const unmeasured = rows.filter((r) => !r.inclusion).map((r) => `${n(r.positions)} ${proverOf(r)}`);
  const inclusion =
    "An inclusion proof is the account's path into its batch (sibling hashes and sums digests, no figures) and the proofs from that batch up to the root; checking it rebuilds the leaf from the owner's position and verifies those proofs." +
    (unmeasured.length > 0 ? ` Rows with – (${unmeasured.join(", ")}) have no inclusion measurement (measured before inclusion proofs carried proofs, or run without it).` : "");
  const largest = rows.at(-1)!;
  return [
    `The number of proofs grows linearly with the positions (one batch proof per ${largest.batchSize} positions, plus one merge proof per ${largest.fanIn} proofs below it), and proving is nearly all of the time. Time per proof is worker-seconds: a level's wall time times the proofs proven side by side, over its proofs. The pool holds one proof per worker and builds batch inputs only as fast as it proves them; what grows with the book in memory is the positions' figures, the tree and the finished proofs. Peak memory is the process's resident set (its prover threads included); with rapidsnark, each proof also runs in a child process, whose largest peak is given beside it.`,
    ...lines,
    inclusion,
  ].join(" ");
}

export function renderAuditSection(local: readonly AuditScaleResult[], scaleOut: readonly ScaleOutResult[], options: { seed: number }): string {
  const rows = sortAuditRows(local);
  const lines = ["<!-- audit:begin (written by `npm run bench:audit`; kept by `npm run bench`) -->", "## Audit at scale (issues 9 and 20)", ""];
  if (rows.length === 0) {
    lines.push("Not measured yet: `npm run bench:audit -- --positions N [--prover rapidsnark]`.", "");
  } else {
    const last = rows.reduce((a, r) => (r.machine.date >= a.machine.date ? r : a));
    lines.push(
      `\`npm run bench:audit -- --positions N [--prover snarkjs|rapidsnark] [--workers W]\`: a synthetic book (the spec's examples scaled at random, 10% at risk, seed ${options.seed}), proven with the standard audit instances by \`runAudit\` on a ProverPool of W worker threads (with rapidsnark, each thread runs one rapidsnark process at a time on cores / W threads, and verifies its proof), then the whole audit verified and one inclusion proof checked. Witness "native": circom's C++ generators, built by \`zks setup --native-witness\` for the audit instances; "wasm" otherwise. Latest machine: ${last.machine.cpu}, ${last.machine.cores} cores, Node ${last.machine.node}.`,
      "",
      targetVerdict(rows),
      "",
      ...localAuditTable(rows),
      "",
      scalingNote(rows),
      "",
    );
  }
  lines.push(...scaleOutSection(scaleOut), "Beyond one machine: docs/distributed-audit.md.", "<!-- audit:end -->");
  return lines.join("\n");
}
