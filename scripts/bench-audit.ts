/**
 * `npm run bench:audit -- --positions 1000 [--positions 10000] [--workers 2]`: the audit at scale
 * (issue 9). For each size: a synthetic book (the spec's examples scaled at random, 10% at risk,
 * seed 1), `runAudit` on the standard audit instances with a ProverPool, then verification of
 * the whole audit and one inclusion check. Records time per stage, proofs per minute, peak
 * memory (resident set of the process, worker threads included) and file sizes in
 * benchmarks/audit.json, and rewrites the audit section of BENCHMARKS.md from it (other sizes
 * measured earlier are kept). Takes about 4 s per batch of 4 positions on 2 cores.
 * `--render-only` rewrites the BENCHMARKS.md section from benchmarks/audit.json without measuring;
 * `--inclusion-from DIR` measures only the inclusion proof, on an audit directory this script's
 * run wrote (same seed), and updates that size's row.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
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
import { releaseProverThreads } from "../packages/sdk/src/prover/release.ts";
import { PACKAGE_ROOT } from "../packages/node/src/setup/paths.ts";
import { loadMarket, loadPolicy, loadPosition } from "../test/helpers/examples.ts";
import { describeMachine, type Machine } from "./bench/machine.ts";

const { values } = parseArgs({
  options: {
    positions: { type: "string", multiple: true, default: ["1000"] },
    workers: { type: "string" },
    seed: { type: "string", default: "1" },
    "render-only": { type: "boolean", default: false },
    "inclusion-from": { type: "string" },
  },
});
const sizes = values["render-only"] || values["inclusion-from"] ? [] : values.positions!.map(Number);
const workers = values.workers ? Number(values.workers) : undefined;
const seed = Number(values.seed);
for (const n of sizes) if (!Number.isInteger(n) || n < 1) throw new Error(`--positions: expected a positive whole number, got ${n}`);

interface AuditScaleResult {
  positions: number;
  failing: number;
  batchSize: number;
  fanIn: number;
  depth: number;
  proofsPerLevel: number[];
  constraints: { batch: number; merge: number; top: number };
  workers: number;
  seconds: { figuresAndTree: number; batches: number; merges: number; total: number; verify: number };
  proofsPerMinute: number;
  positionsPerMinute: number;
  peakRssMiB: number;
  bytes: { auditJson: number; perProof: number; leavesJsonl: number };
  /** One account's inclusion proof (format version 2: path into its batch, proofs up to the root). */
  inclusion?: InclusionMeasurement;
  machine: Machine;
}

interface InclusionMeasurement {
  bytes: number;
  steps: number;
  proofs: number;
  /** Rebuilding the leaf, following the path and verifying every proof on it. */
  checkMs: number;
}

const BENCH_DIR = path.join(PACKAGE_ROOT, "benchmarks");
const RESULTS_FILE = path.join(BENCH_DIR, "audit.json");
const BENCHMARKS_FILE = path.join(PACKAGE_ROOT, "BENCHMARKS.md");

const market = loadMarket();
const policy = loadPolicy(market);
const healthy = loadPosition("position-healthy.json", market);
const atRisk = loadPosition("position-at-risk.json", market);
const instances = AUDIT_INSTANCES.standard;
const constraints = Object.fromEntries(
  (["batch", "merge", "top"] as const).map((role) => [role, loadInstanceArtifacts(instances[role]).manifest.nConstraints]),
) as AuditScaleResult["constraints"];
const keys = loadAuditKeys({ instances, ...auditLayout(instances) }, "bench:audit");
const bookOf = (count: number) => syntheticBook(healthy, atRisk, { count, seed, atRiskShare: 0.1 }).map((position, i) => ({ position, source: `synthetic:${i}` }));

/** The inclusion proof of the middle account, as its owner receives and checks it. */
async function measureInclusion(report: AuditReport, leaves: readonly AuditLeaf[], book: readonly BookEntry[]): Promise<InclusionMeasurement> {
  const index = Math.floor(leaves.length / 2);
  const file = inclusionFile(buildSumTree(leaves, report.layout, report.depth), index, report);
  const text = JSON.stringify(inclusionFileJson(file));
  const owner = book.find((b) => BigInt(b.position.account) === leaves[index]!.account);
  if (!owner) throw new Error(`bench:audit: no position of the book is leaf ${index}; is the audit from seed ${seed}?`);
  const started = performance.now();
  await checkInclusion(parseInclusionFile(JSON.parse(text), "inclusion"), owner.position, market, policy, keys);
  return { bytes: text.length, steps: file.merklePath.path.length, proofs: file.zkProofs.length, checkMs: performance.now() - started };
}

const previous: AuditScaleResult[] = existsSync(RESULTS_FILE) ? JSON.parse(readFileSync(RESULTS_FILE, "utf8")) : [];
const results = new Map(previous.map((r) => [r.positions, r]));

for (const count of sizes) {
  const book = bookOf(count);
  let peak = process.memoryUsage().rss;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 250);
  let lastLog = 0;
  const run = await runAudit(book, market, policy, {
    instances,
    ...(workers ? { workers } : {}),
    onProgress: (p) => {
      if (p.stage !== "proofs" || (performance.now() - lastLog < 30_000 && p.done !== p.total)) return;
      lastLog = performance.now();
      process.stderr.write(`bench:audit ${count}: ${p.done}/${p.total} proofs\n`);
    },
  });
  clearInterval(sampler);
  const dir = mkdtempSync(path.join(tmpdir(), "zks-bench-audit-"));
  const files = writeAuditDir(
    dir,
    run.report,
    run.accounts.map((a) => a.leaf),
  );
  const verifyStarted = performance.now();
  await verifyAudit(run.report, keys);
  const verifyMs = performance.now() - verifyStarted;
  const inclusion = await measureInclusion(
    run.report,
    run.accounts.map((a) => a.leaf),
    book,
  );
  const proofs = run.report.proofs.flat();
  const result: AuditScaleResult = {
    positions: count,
    failing: Number(run.report.root.sums.fails),
    batchSize: run.shape.batchSize,
    fanIn: run.shape.fanIn,
    depth: run.shape.depth,
    proofsPerLevel: run.shape.proofsPerLevel,
    constraints,
    workers: workers ?? (await import("node:os")).availableParallelism(),
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
    bytes: {
      auditJson: statSync(files.audit).size,
      perProof: Math.round(proofs.reduce((sum, p) => sum + JSON.stringify(p).length, 0) / proofs.length),
      leavesJsonl: statSync(files.leaves).size,
    },
    inclusion,
    machine: describeMachine(),
  };
  rmSync(dir, { recursive: true, force: true });
  results.set(count, result);
  process.stderr.write(`bench:audit ${count}: ${result.seconds.total.toFixed(0)} s, ${proofs.length} proofs, peak ${result.peakRssMiB.toFixed(0)} MiB\n`);
}
if (values["inclusion-from"]) {
  const { report } = readAuditReport(values["inclusion-from"]);
  const positions = Number(report.root.sums.positions);
  const row = results.get(positions);
  if (!row) throw new Error(`bench:audit: benchmarks/audit.json has no row for ${positions} positions to add the inclusion proof to`);
  row.inclusion = await measureInclusion(report, readLeaves(values["inclusion-from"], report.layout), bookOf(positions));
  process.stderr.write(`bench:audit ${positions}: inclusion proof ${row.inclusion.bytes} bytes, checked in ${row.inclusion.checkMs.toFixed(0)} ms\n`);
}
await releaseProverThreads();

const sorted = [...results.values()].sort((a, b) => a.positions - b.positions);
writeFileSync(RESULTS_FILE, `${JSON.stringify(sorted, null, 2)}\n`);

const n = (v: number) => Math.round(v).toLocaleString("en-US");
const kib = (b: number) => `${(b / 1024).toFixed(1)} KiB`;
const mib = (b: number) => `${(b / 2 ** 20).toFixed(1)} MiB`;
const minutes = (s: number) => (s >= 120 ? `${(s / 60).toFixed(1)} min` : `${s.toFixed(1)} s`);
const last = sorted.at(-1)!;
const section = [
  "<!-- audit:begin (written by `npm run bench:audit`; kept by `npm run bench`) -->",
  "## Audit at scale (issue 9)",
  "",
  `\`npm run bench:audit -- --positions N\`: a synthetic book (the spec's examples scaled at random, 10% at risk, seed ${seed}), proven with the standard audit instances (\`${instances.batch}\` ${n(last.constraints.batch)} constraints, \`${instances.merge}\` ${n(last.constraints.merge)}, \`${instances.top}\` ${n(last.constraints.top)}) on a ProverPool, then the whole audit verified and one inclusion proof checked. Peak memory is the resident set of the process, worker threads included. Machine: ${last.machine.cpu}, ${last.machine.cores} cores, Node ${last.machine.node}; commit ${last.machine.commit}, ${last.machine.date}.`,
  "",
  "| positions | failing | proofs (batches + merges) | depth | figures + tree | batch proofs | merge proofs | total | proofs/min | positions/min | peak memory | verify all | audit.json | per proof | inclusion proof | inclusion check |",
  "| ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
  ...sorted.map(
    (r) =>
      `| ${n(r.positions)} | ${n(r.failing)} | ${r.proofsPerLevel.map(n).join(" + ")} | ${r.depth} | ${minutes(r.seconds.figuresAndTree)} | ${minutes(r.seconds.batches)} | ${minutes(r.seconds.merges)} | ${minutes(r.seconds.total)} | ${r.proofsPerMinute.toFixed(1)} | ${r.positionsPerMinute.toFixed(1)} | ${n(r.peakRssMiB)} MiB | ${minutes(r.seconds.verify)} | ${mib(r.bytes.auditJson)} | ${kib(r.bytes.perProof)} | ${r.inclusion ? `${kib(r.inclusion.bytes)} (${r.inclusion.steps} steps, ${r.inclusion.proofs} proofs)` : "–"} | ${r.inclusion ? `${r.inclusion.checkMs.toFixed(0)} ms` : "–"} |`,
  ),
  "",
  scalingNote(sorted),
  "<!-- audit:end -->",
].join("\n");

/** Why the table scales as it does, from the measured rows; sizes not measured are never projected into it. */
function scalingNote(rows: AuditScaleResult[]): string {
  const smallest = rows[0]!;
  const largest = rows.at(-1)!;
  const growth =
    rows.length > 1
      ? ` From ${n(smallest.positions)} to ${n(largest.positions)} positions the rate went from ${smallest.proofsPerMinute.toFixed(1)} to ${largest.proofsPerMinute.toFixed(1)} proofs/min and peak memory from ${n(smallest.peakRssMiB)} to ${n(largest.peakRssMiB)} MiB; verifying the whole audit took ${(largest.seconds.verify / smallest.seconds.verify).toFixed(1)}x as long for ${(largest.positions / smallest.positions).toFixed(0)}x the positions.`
      : "";
  const unmeasured = rows.filter((r) => !r.inclusion).map((r) => n(r.positions));
  const inclusion =
    " An inclusion proof is the account's path into its batch (sibling hashes and sums digests, no figures) and the proofs from that batch up to the root; checking it rebuilds the leaf from the owner's position and verifies those proofs." +
    (unmeasured.length > 0
      ? ` Rows with – (${unmeasured.join(", ")} positions) were measured when inclusion proofs carried sibling sums instead of proofs, and not re-measured since.`
      : "");
  return `The number of proofs grows linearly with the positions (one batch proof per ${largest.batchSize} positions, plus one merge proof per ${largest.fanIn} proofs below it), and proving is nearly all of the time. The pool holds one proof per worker and builds batch inputs only as fast as it proves them; what grows with the book in memory is the positions' figures, the tree and the finished proofs.${growth}${inclusion} Beyond one machine: docs/audit.md (BullMQ).`;
}

const current = existsSync(BENCHMARKS_FILE) ? readFileSync(BENCHMARKS_FILE, "utf8") : "# Benchmarks\n";
const match = /<!-- audit:begin[\s\S]*?<!-- audit:end -->/.exec(current);
writeFileSync(BENCHMARKS_FILE, match ? current.replace(match[0], section) : `${current.trimEnd()}\n\n${section}\n`);
process.stderr.write(`bench:audit: wrote ${RESULTS_FILE} and the audit section of ${BENCHMARKS_FILE}\n`);
