/**
 * `npm run bench:audit -- --positions 1000 [--positions 10000] [--workers 2]`: the audit at scale
 * (issue 9). For each size: a synthetic book (the spec's examples scaled at random, 10% at risk,
 * seed 1), `runAudit` on the standard audit instances with a ProverPool, then verification of
 * the whole audit and one inclusion check. Records time per stage, proofs per minute, peak
 * memory (resident set of the process, worker threads included) and file sizes in
 * benchmarks/audit.json, and rewrites the audit section of BENCHMARKS.md from it (other sizes
 * measured earlier are kept). Takes about 4 s per batch of 4 positions on 2 cores.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { inclusionFileJson, parseInclusionFile } from "../src/audit/audit-files.ts";
import { checkInclusion, inclusionFile } from "../src/audit/inclusion.ts";
import { syntheticBook } from "../src/audit/synthetic-book.ts";
import { verifyAudit } from "../src/audit/verify-audit.ts";
import { loadInstanceArtifacts } from "../src/node/artifacts.ts";
import { writeAuditDir } from "../src/node/audit/audit-dir.ts";
import { AUDIT_INSTANCES, runAudit } from "../src/node/audit/run-audit.ts";
import { releaseProverThreads } from "../src/prover/release.ts";
import { PACKAGE_ROOT } from "../src/setup/paths.ts";
import { loadMarket, loadPolicy, loadPosition } from "../test/helpers/examples.ts";
import { describeMachine, type Machine } from "./bench/machine.ts";

const { values } = parseArgs({ options: { positions: { type: "string", multiple: true, default: ["1000"] }, workers: { type: "string" }, seed: { type: "string", default: "1" } } });
const sizes = values.positions!.map(Number);
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
  bytes: { auditJson: number; perProof: number; leavesJsonl: number; inclusionProof: number };
  inclusionCheckMs: number;
  machine: Machine;
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
const keys = { batch: loadInstanceArtifacts(instances.batch).verificationKey, merge: loadInstanceArtifacts(instances.merge).verificationKey, top: loadInstanceArtifacts(instances.top).verificationKey };

const previous: AuditScaleResult[] = existsSync(RESULTS_FILE) ? JSON.parse(readFileSync(RESULTS_FILE, "utf8")) : [];
const results = new Map(previous.map((r) => [r.positions, r]));

for (const count of sizes) {
  const book = syntheticBook(healthy, atRisk, { count, seed, atRiskShare: 0.1 }).map((position, i) => ({ position, source: `synthetic:${i}` }));
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
  const files = writeAuditDir(dir, run.report, run.accounts.map((a) => a.leaf));
  const verifyStarted = performance.now();
  await verifyAudit(run.report, keys);
  const verifyMs = performance.now() - verifyStarted;
  const index = Math.floor(run.accounts.length / 2);
  const inclusionText = JSON.stringify(inclusionFileJson(inclusionFile(run.tree, index, run.report)));
  const owner = book.find((b) => BigInt(b.position.account) === run.accounts[index]!.leaf.account)!.position;
  const checkStarted = performance.now();
  checkInclusion(parseInclusionFile(JSON.parse(inclusionText), "inclusion"), owner, market, policy);
  const inclusionCheckMs = performance.now() - checkStarted;
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
      inclusionProof: inclusionText.length,
    },
    inclusionCheckMs,
    machine: describeMachine(),
  };
  rmSync(dir, { recursive: true, force: true });
  results.set(count, result);
  process.stderr.write(`bench:audit ${count}: ${result.seconds.total.toFixed(0)} s, ${proofs.length} proofs, peak ${result.peakRssMiB.toFixed(0)} MiB\n`);
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
      `| ${n(r.positions)} | ${n(r.failing)} | ${r.proofsPerLevel.join(" + ")} | ${r.depth} | ${minutes(r.seconds.figuresAndTree)} | ${minutes(r.seconds.batches)} | ${minutes(r.seconds.merges)} | ${minutes(r.seconds.total)} | ${r.proofsPerMinute.toFixed(1)} | ${r.positionsPerMinute.toFixed(1)} | ${n(r.peakRssMiB)} MiB | ${minutes(r.seconds.verify)} | ${mib(r.bytes.auditJson)} | ${kib(r.bytes.perProof)} | ${kib(r.bytes.inclusionProof)} | ${r.inclusionCheckMs.toFixed(0)} ms |`,
  ),
  "",
  "The number of proofs grows linearly with the positions (one batch proof per 4 positions, plus one merge proof per 8 proofs below it). The pool holds one proof per worker and builds batch inputs only as fast as it proves them; what grows with the book in memory is the positions' figures and the tree. Sizes not in the table are not measured: at the rate measured above, 10,000 positions (2,500 + 313 + 40 + 5 + 1 = 2,859 proofs) would take about 2.3 h on these 2 cores, a projection to be replaced by `npm run bench:audit -- --positions 10000`. Beyond one machine: docs/audit.md (BullMQ).",
  "<!-- audit:end -->",
].join("\n");

const current = existsSync(BENCHMARKS_FILE) ? readFileSync(BENCHMARKS_FILE, "utf8") : "# Benchmarks\n";
const match = /<!-- audit:begin[\s\S]*?<!-- audit:end -->/.exec(current);
writeFileSync(BENCHMARKS_FILE, match ? current.replace(match[0], section) : `${current.trimEnd()}\n\n${section}\n`);
process.stderr.write(`bench:audit: wrote ${RESULTS_FILE} and the audit section of ${BENCHMARKS_FILE}\n`);
