/**
 * The audit at scale (issues 9 and 20). Two measurements, both on a synthetic book (the spec's
 * examples scaled at random, 10% at risk, seed 1):
 *
 *   npm run bench:audit -- --positions 10000 [--positions 1000] [--prover auto|snarkjs|rapidsnark] [--workers 2]
 *     runAudit on the standard audit instances with a ProverPool and the chosen prover, then
 *     verification of the whole audit and one inclusion check. Records per row the prover and the
 *     witness kind (native when `zks setup --native-witness` built the audit instances, else wasm),
 *     time per stage, worker-seconds per proof by level, proofs per minute, peak memory (the
 *     process with its worker threads, and with rapidsnark its largest child) and file sizes, in
 *     benchmarks/audit.json (a run replaces the row of the same size, prover and workers).
 *
 *   npm run bench:audit -- --scale-out --positions N [--prover rapidsnark] [--processes 1,2]
 *     the audit over BullMQ: a private redis-server, the coordinator in this process, and
 *     `zks audit worker` processes pinned to one core each, first 1 then 2 (scripts/bench/scale-out.ts).
 *     Records proofs per minute of each, their ratio, time per proof by level and peak memory per
 *     worker in benchmarks/audit-scale-out.json.
 *
 * Either way, the audit section of BENCHMARKS.md is rewritten from both files (other rows are
 * kept), with the 10,000-position target's verdict from measured rows and a projection for
 * 100,000 positions from the scale-out's measured rates, labelled as a projection.
 *
 * Other options:
 *   --tier test          the small test-tier instances (smoke runs; needs --results-dir or --no-write)
 *   --results-dir DIR    read and write audit.json, audit-scale-out.json and BENCHMARKS.md in DIR
 *                        (seeded from the repository's on first use) instead of the tracked files
 *   --no-write           print the measured rows as JSON and write nothing
 *   --render-only        rewrite the BENCHMARKS.md section from the JSON files without measuring
 *   --inclusion-from DIR measure only the inclusion proof on an audit directory written with the
 *                        same seed, and add it to the rows of that size that have none
 */
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { inclusionFileJson, parseInclusionFile, type AuditReport } from "../packages/sdk/src/audit/audit-files.ts";
import { checkInclusion, inclusionFile } from "../packages/sdk/src/audit/inclusion.ts";
import { buildSumTree, type AuditLeaf } from "../packages/sdk/src/audit/merkle-sum-tree.ts";
import { syntheticBook } from "../packages/sdk/src/audit/synthetic-book.ts";
import { verifyAudit } from "../packages/sdk/src/audit/verify-audit.ts";
import { loadInstanceArtifacts } from "../packages/node/src/artifacts.ts";
import { readAuditReport, readLeaves, writeAuditDir } from "../packages/node/src/audit/audit-dir.ts";
import { loadAuditKeys } from "../packages/node/src/audit/audit-keys.ts";
import type { BookEntry } from "../packages/node/src/audit/read-book.ts";
import { AUDIT_INSTANCES, auditLayout, runAudit } from "../packages/node/src/audit/run-audit.ts";
import type { ProverBackend } from "../packages/node/src/native-prover/backend.ts";
import { nativeGenerator } from "../packages/node/src/prove-built.ts";
import { releaseProverThreads } from "../packages/sdk/src/prover/release.ts";
import { PACKAGE_ROOT } from "../packages/node/src/setup/paths.ts";
import { loadMarket, loadPolicy, loadPosition } from "../test/helpers/examples.ts";
import { auditRowKey, renderAuditSection, scaleOutVerdict, type AuditScaleResult, type ScaleOutResult } from "./bench/audit-report.ts";
import { describeMachine } from "./bench/machine.ts";
import { largestPeakMiB, ProcessTreeSampler } from "./bench/proc-memory.ts";
import { benchProverBackend, parseBenchProver, rapidsnarkExe } from "./bench/prover.ts";
import { measureScaleOut } from "./bench/scale-out.ts";

const { values } = parseArgs({
  options: {
    positions: { type: "string", multiple: true, default: ["1000"] },
    workers: { type: "string" },
    prover: { type: "string", default: "auto" },
    tier: { type: "string", default: "standard" },
    seed: { type: "string", default: "1" },
    "scale-out": { type: "boolean", default: false },
    processes: { type: "string", default: "1,2" },
    "results-dir": { type: "string" },
    "no-write": { type: "boolean", default: false },
    "render-only": { type: "boolean", default: false },
    "inclusion-from": { type: "string" },
  },
});
const fail = (message: string): never => {
  process.stderr.write(`bench:audit: ${message}\n`);
  process.exit(2);
};
const measuring = !values["render-only"] && !values["inclusion-from"];
const sizes = measuring ? values.positions!.map(Number) : [];
for (const size of sizes) if (!Number.isInteger(size) || size < 1) fail(`--positions: expected a positive whole number, got ${size}`);
const workers = values.workers === undefined ? undefined : Number(values.workers);
if (workers !== undefined && (!Number.isInteger(workers) || workers < 1)) fail(`--workers: expected a positive whole number, got ${values.workers}`);
const seed = Number(values.seed);
if (values.tier !== "standard" && values.tier !== "test") fail(`--tier: expected standard or test, got ${values.tier}`);
const tier = values.tier as "standard" | "test";
const processes = values.processes!.split(",").map(Number);
if (processes.some((p) => !Number.isInteger(p) || p < 1 || p > availableParallelism()))
  fail(`--processes: expected worker process counts from 1 to ${availableParallelism()} (one core each), got ${values.processes}`);
if (values["scale-out"] && workers !== undefined) fail("--workers is for the local run; --scale-out runs worker processes of one prover thread each (--processes)");
const writing = !values["no-write"];
if (tier === "test" && writing && !values["results-dir"])
  fail("--tier test is for smoke runs: give --results-dir DIR or --no-write, so that benchmarks/ keeps the standard tier's figures");

// Where the results live: the tracked files, or a copy of them for a smoke run.
const resultsDir = values["results-dir"] ? path.resolve(values["results-dir"]) : path.join(PACKAGE_ROOT, "benchmarks");
const RESULTS_FILE = path.join(resultsDir, "audit.json");
const SCALE_OUT_FILE = path.join(resultsDir, "audit-scale-out.json");
const BENCHMARKS_FILE = values["results-dir"] ? path.join(resultsDir, "BENCHMARKS.md") : path.join(PACKAGE_ROOT, "BENCHMARKS.md");
if (values["results-dir"]) {
  mkdirSync(resultsDir, { recursive: true });
  const seedFrom = (name: string, tracked: string) => {
    if (!existsSync(path.join(resultsDir, name)) && existsSync(tracked)) copyFileSync(tracked, path.join(resultsDir, name));
  };
  seedFrom("audit.json", path.join(PACKAGE_ROOT, "benchmarks", "audit.json"));
  seedFrom("audit-scale-out.json", path.join(PACKAGE_ROOT, "benchmarks", "audit-scale-out.json"));
  seedFrom("BENCHMARKS.md", path.join(PACKAGE_ROOT, "BENCHMARKS.md"));
}
const log = (message: string) => process.stderr.write(`bench:audit: ${message}\n`);

const market = loadMarket();
const policy = loadPolicy(market);
const healthy = loadPosition("position-healthy.json", market);
const atRisk = loadPosition("position-at-risk.json", market);
const instances = AUDIT_INSTANCES[tier];
const bookOf = (count: number): BookEntry[] => syntheticBook(healthy, atRisk, { count, seed, atRiskShare: 0.1 }).map((position, i) => ({ position, source: `synthetic:${i}` }));

const readJson = <T>(file: string): T[] => (existsSync(file) ? (JSON.parse(readFileSync(file, "utf8")) as T[]) : []);
const local = new Map(readJson<AuditScaleResult>(RESULTS_FILE).map((r) => [auditRowKey(r), r]));
const scaleOut = new Map(readJson<ScaleOutResult>(SCALE_OUT_FILE).map((r) => [`${r.positions}/${r.prover}`, r]));

if (measuring || values["inclusion-from"]) await measure();
await releaseProverThreads();

if (writing) {
  const localRows = [...local.values()].sort((a, b) => a.positions - b.positions);
  const scaleOutRows = [...scaleOut.values()].sort((a, b) => a.positions - b.positions || a.prover.localeCompare(b.prover));
  writeFileSync(RESULTS_FILE, `${JSON.stringify(localRows, null, 2)}\n`);
  if (scaleOutRows.length > 0) writeFileSync(SCALE_OUT_FILE, `${JSON.stringify(scaleOutRows, null, 2)}\n`);
  const section = renderAuditSection(localRows, scaleOutRows, { seed });
  const current = existsSync(BENCHMARKS_FILE) ? readFileSync(BENCHMARKS_FILE, "utf8") : "# Benchmarks\n";
  const match = /<!-- audit:begin[\s\S]*?<!-- audit:end -->/.exec(current);
  writeFileSync(BENCHMARKS_FILE, match ? current.replace(match[0], () => section) : `${current.trimEnd()}\n\n${section}\n`);
  log(`wrote ${RESULTS_FILE}${scaleOutRows.length > 0 ? `, ${SCALE_OUT_FILE}` : ""} and the audit section of ${BENCHMARKS_FILE}`);
}
// snarkjs' and BullMQ's handles must not keep a finished benchmark alive.
process.exit(0);

async function measure(): Promise<void> {
  const keys = loadAuditKeys({ instances, ...auditLayout(instances) }, "bench:audit");
  const constraints = {
    batch: loadInstanceArtifacts(instances.batch).manifest.nConstraints,
    merge: loadInstanceArtifacts(instances.merge).manifest.nConstraints,
    top: loadInstanceArtifacts(instances.top).manifest.nConstraints,
  };
  const backend = measuring ? await benchProverBackend(parseBenchProver(values.prover)) : undefined;
  if (backend) log(`prover: ${backend.kind === "rapidsnark" ? `rapidsnark (${backend.binary})` : "snarkjs"}, witness: ${witnessKind(backend)}; ${tier} instances`);

  /** The inclusion proof of the middle account, as its owner receives and checks it. */
  async function measureInclusion(report: AuditReport, leaves: readonly AuditLeaf[], book: readonly BookEntry[]): Promise<NonNullable<AuditScaleResult["inclusion"]>> {
    const index = Math.floor(leaves.length / 2);
    const file = inclusionFile(buildSumTree(leaves, report.layout, report.depth), index, report);
    const text = JSON.stringify(inclusionFileJson(file));
    const owner = book.find((b) => BigInt(b.position.account) === leaves[index]!.account);
    if (!owner) throw new Error(`bench:audit: no position of the book is leaf ${index}; is the audit from seed ${seed}?`);
    const started = performance.now();
    await checkInclusion(parseInclusionFile(JSON.parse(text), "inclusion"), owner.position, market, policy, keys);
    return { bytes: text.length, steps: file.merklePath.path.length, proofs: file.zkProofs.length, checkMs: performance.now() - started };
  }

  for (const count of sizes) {
    const book = bookOf(count);
    if (values["scale-out"]) {
      const result = await scaleOutRun(backend!, book, count, constraints, keys);
      scaleOut.set(`${result.positions}/${result.prover}`, result);
      if (!writing) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
      log(`${count} positions over BullMQ: scale-out ${scaleOutVerdict(result)}`);
      continue;
    }
    const poolWorkers = workers ?? availableParallelism();
    let peak = process.memoryUsage().rss;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 250);
    const children = backend!.kind === "rapidsnark" ? new ProcessTreeSampler(process.pid) : undefined;
    let lastLog = 0;
    const run = await runAudit(book, market, policy, {
      instances,
      workers: poolWorkers,
      prover: backend!,
      onProgress: (p) => {
        if (p.stage !== "proofs" || (performance.now() - lastLog < 30_000 && p.done !== p.total)) return;
        lastLog = performance.now();
        log(`${count}: ${p.done}/${p.total} proofs`);
      },
    });
    clearInterval(sampler);
    const rapidsnark = rapidsnarkExe(backend!);
    const rapidsnarkPeakMiB = children && rapidsnark ? largestPeakMiB(children.stop(), (exe) => exe === rapidsnark) : undefined;
    const dir = mkdtempSync(path.join(tmpdir(), "zks-bench-audit-"));
    const leaves = run.accounts.map((a) => a.leaf);
    const files = writeAuditDir(dir, run.report, leaves);
    const verifyStarted = performance.now();
    await verifyAudit(run.report, keys);
    const verifyMs = performance.now() - verifyStarted;
    const inclusion = await measureInclusion(run.report, leaves, book);
    const proofs = run.report.proofs.flat();
    const result: AuditScaleResult = {
      positions: count,
      failing: Number(run.report.root.sums.fails),
      batchSize: run.shape.batchSize,
      fanIn: run.shape.fanIn,
      depth: run.shape.depth,
      proofsPerLevel: run.shape.proofsPerLevel,
      constraints,
      workers: poolWorkers,
      prover: backend!.kind,
      witness: witnessKind(backend!),
      ...(backend!.kind === "rapidsnark" ? { threadsPerProof: Math.max(1, Math.floor(availableParallelism() / poolWorkers)) } : {}),
      seconds: {
        figuresAndTree: (run.timings.figuresMs + run.timings.treeMs) / 1000,
        batches: run.timings.levelsMs[0]! / 1000,
        merges: run.timings.levelsMs.slice(1).reduce((a, b) => a + b, 0) / 1000,
        total: run.timings.totalMs / 1000,
        verify: verifyMs / 1000,
      },
      proofsPerMinute: proofs.length / (run.timings.totalMs / 60_000),
      positionsPerMinute: count / (run.timings.totalMs / 60_000),
      peakRssMiB: peak / 2 ** 20,
      ...(rapidsnarkPeakMiB !== undefined ? { rapidsnarkPeakMiB } : {}),
      bytes: {
        auditJson: statSync(files.audit).size,
        perProof: Math.round(proofs.reduce((sum, p) => sum + JSON.stringify(p).length, 0) / proofs.length),
        leavesJsonl: statSync(files.leaves).size,
      },
      inclusion,
      machine: describeMachine(),
    };
    rmSync(dir, { recursive: true, force: true });
    local.set(auditRowKey(result), result);
    if (!writing) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    log(
      `${count} with ${result.prover} (${result.witness} witness, ${poolWorkers} workers): ${result.seconds.total.toFixed(1)} s, ${proofs.length} proofs, peak ${result.peakRssMiB.toFixed(0)} MiB`,
    );
  }

  if (values["inclusion-from"]) {
    const { report } = readAuditReport(values["inclusion-from"]);
    const positions = Number(report.root.sums.positions);
    const rows = [...local.values()].filter((r) => r.positions === positions && !r.inclusion);
    if (rows.length === 0) throw new Error(`bench:audit: ${RESULTS_FILE} has no row for ${positions} positions without an inclusion proof`);
    const inclusion = await measureInclusion(report, readLeaves(values["inclusion-from"], report.layout), bookOf(positions));
    for (const row of rows) row.inclusion = inclusion;
    log(`${positions}: inclusion proof ${inclusion.bytes} bytes, checked in ${inclusion.checkMs.toFixed(0)} ms`);
  }
}

/** "native" or "wasm" for the three audit instances, as the pool will compute their witnesses; per role when they differ. */
function witnessKind(backend: ProverBackend): string {
  const roles = ["batch", "merge", "top"] as const;
  const kinds = roles.map((role) => (backend.kind === "rapidsnark" && nativeGenerator(loadInstanceArtifacts(instances[role])) ? "native" : "wasm"));
  return kinds.every((k) => k === kinds[0]) ? kinds[0]! : roles.map((role, i) => `${role} ${kinds[i]}`).join(", ");
}

async function scaleOutRun(
  backend: ProverBackend,
  book: BookEntry[],
  count: number,
  constraints: AuditScaleResult["constraints"],
  keys: ReturnType<typeof loadAuditKeys>,
): Promise<ScaleOutResult> {
  const measured = await measureScaleOut({ book, market, policy, instances, tier, backend, processes, log: (line) => log(`${count}: ${line}`) });
  const verifyStarted = performance.now();
  await verifyAudit(measured.last.report, keys);
  const verifySeconds = (performance.now() - verifyStarted) / 1000;
  const one = measured.runs.find((r) => r.processes === 1);
  const most = measured.runs.reduce((a, r) => (r.processes > a.processes ? r : a));
  return {
    positions: count,
    failing: Number(measured.last.report.root.sums.fails),
    instances,
    constraints,
    batchSize: measured.last.shape.batchSize,
    fanIn: measured.last.shape.fanIn,
    proofsPerLevel: measured.last.shape.proofsPerLevel,
    prover: backend.kind,
    witness: witnessKind(backend),
    runs: measured.runs,
    ...(one && most.processes > 1 ? { ratio: most.proofsPerMinute / one.proofsPerMinute } : {}),
    verifySeconds,
    machine: describeMachine(),
  };
}
