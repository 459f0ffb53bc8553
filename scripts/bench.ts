/**
 * `npm run bench`: measures every built circuit instance (constraints, witness and proving time
 * cold, warm and pooled, side by side with plain snarkjs, memory, verification, sizes), the gas
 * of each contract call, and regenerates BENCHMARKS.md, benchmarks/scaling.svg and one line of
 * benchmarks/history.jsonl. Takes minutes; not part of `npm test`.
 *
 *   npm run bench -- [--runs 5] [--instances a,b] [--native] [--skip-gas] [--skip-browser] [--skip-costs] [--skip-setup]
 *
 * --render-only rewrites BENCHMARKS.md and the plot from the last line of benchmarks/history.jsonl
 * (after a change to the report's format) without measuring anything.
 * --native also builds circom's C++ witness generators (2-3 min of g++ per instance); without
 * it, the native witness is measured on the instances that already have one.
 */
import { spawnSync } from "node:child_process";
import { appendFileSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { svgChart } from "../packages/sdk/src/plot/svg-chart.ts";
import { releaseProverThreads } from "../packages/sdk/src/prover/release.ts";
import { buildCircuits } from "../packages/node/src/setup/build.ts";
import { loadInstances } from "../packages/node/src/setup/instances.ts";
import { manifestFiles, readManifest } from "../packages/node/src/setup/manifest.ts";
import { defaultBuildPaths, instanceDir, PACKAGE_ROOT } from "../packages/node/src/setup/paths.ts";
import { describeMachine, type Machine } from "./bench/machine.ts";
import { marginalCosts, type MarginalCostRow } from "./bench/marginal-costs.ts";
import {
  renderBenchmarks,
  type BrowserResult,
  type CircuitChange,
  type InstanceResult,
  type MemoryResult,
  type PoolResult,
  type ProveResult,
  type WitnessBackends,
} from "./bench/report.ts";
import { runChild } from "./bench/run-child.ts";

const { values: flags } = parseArgs({
  options: {
    runs: { type: "string", default: "5" },
    instances: { type: "string" },
    "skip-gas": { type: "boolean", default: false },
    "skip-costs": { type: "boolean", default: false },
    "skip-setup": { type: "boolean", default: false },
    native: { type: "boolean", default: false },
    "skip-browser": { type: "boolean", default: false },
    "render-only": { type: "boolean", default: false },
  },
});
const runs = Number(flags.runs);
if (!Number.isInteger(runs) || runs < 1) throw new Error(`--runs must be a positive integer (got ${flags.runs})`);

const BENCHMARKS_FILE = path.join(PACKAGE_ROOT, "BENCHMARKS.md");
const BENCH_DIR = path.join(PACKAGE_ROOT, "benchmarks");
const PLOT_FILE = "benchmarks/scaling.svg";
const started = performance.now();
const log = (message: string) => process.stderr.write(`bench: ${message}\n`);

interface HistoryEntry {
  machine: Machine;
  runs: number;
  results: InstanceResult[];
  costs?: MarginalCostRow[];
  seconds?: number;
}
function lastHistoryEntry(): HistoryEntry {
  const file = path.join(BENCH_DIR, "history.jsonl");
  const last = existsSync(file) ? readFileSync(file, "utf8").trim().split("\n").at(-1) : undefined;
  if (!last) throw new Error(`bench: --render-only needs a previous run in ${file}`);
  return JSON.parse(last) as HistoryEntry;
}
const previous = flags["render-only"] ? lastHistoryEntry() : undefined;
const measure = !previous;

const selected =
  flags.instances?.split(",").map((name) => name.trim()) ??
  loadInstances()
    .filter((i) => i.tier !== "large")
    .map((i) => i.name);
if (measure && !flags["skip-setup"]) {
  log(`setting up ${selected.join(", ")} (cached when sources are unchanged)`);
  await buildCircuits({ instances: selected, tiers: ["test", "standard", "large"], nativeWitness: flags.native, log: (m) => log(m) });
  await releaseProverThreads();
}

const paths = defaultBuildPaths();
const results: InstanceResult[] = previous?.results ?? [];
for (const config of measure ? loadInstances().filter((i) => selected.includes(i.name)) : []) {
  const dir = instanceDir(paths, config.name);
  const manifest = readManifest(dir);
  if (!manifest?.setupKey) {
    log(`skipping ${config.name}: not set up (run \`zks setup --instance ${config.name}\`)`);
    continue;
  }
  const files = manifestFiles(dir, manifest);
  log(`${config.name} (${manifest.nConstraints.toLocaleString("en-US")} constraints): cold, snarkjs, warm and verify x ${runs}`);
  const prove = await runChild<ProveResult>("scripts/bench/measure-instance.ts", [config.name, "prove", String(runs)]);
  log(`${config.name}: peak memory of one cold proof`);
  const memory = await runChild<MemoryResult>("scripts/bench/measure-instance.ts", [config.name, "memory", "1"]);
  log(`${config.name}: prover pool throughput`);
  const pool = await runChild<PoolResult>("scripts/bench/measure-instance.ts", [config.name, "pool", String(runs)]);
  const witness = await measureWitness(config.name);
  results.push({
    instance: config.name,
    template: config.template,
    tier: config.tier,
    constraints: manifest.nConstraints,
    publicSignals: manifest.nPublic,
    wasmBytes: statSync(files.wasm).size,
    zkeyBytes: statSync(files.zkey).size,
    prove,
    memory,
    pool,
    witness,
  });
  log(
    `${config.name}: cold ${(prove.sdkColdMs / 1000).toFixed(2)} s, snarkjs ${(prove.snarkjsColdMs / 1000).toFixed(2)} s, warm ${(prove.warmMs / 1000).toFixed(2)} s, pool ${(pool.perProofMs / 1000).toFixed(2)} s/proof`,
  );
}
if (results.length === 0) throw new Error("bench: no instance is set up; run `zks setup` first");

/** WASM cold and warm, and the native generator where one is built. */
async function measureWitness(instance: string): Promise<WitnessBackends> {
  log(`${instance}: witness backends`);
  return runChild<WitnessBackends>("scripts/bench/measure-witness.ts", [instance, String(runs)]);
}

let costs = previous?.costs;
if (measure && !flags["skip-costs"]) {
  log("marginal constraint costs (12 compiles)");
  costs = await marginalCosts((row) => log(`costs: ${row.checks}: ${row.constraints}`));
}

/** A test file run with ZKS_BENCHMARKS=1: the gas and browser tests write their own figures. */
function benchmarkTest(file: string): void {
  const mocha = spawnSync(process.execPath, [path.join(PACKAGE_ROOT, "node_modules", "mocha", "bin", "mocha.js"), "--no-config", "-n", "import=tsx", "--timeout", "900000", file], {
    cwd: PACKAGE_ROOT,
    env: { ...process.env, ZKS_BENCHMARKS: "1" },
    encoding: "utf8",
  });
  if (mocha.status !== 0) throw new Error(`bench: ${file} failed:\n${mocha.stdout.slice(-2000)}${mocha.stderr.slice(-2000)}`);
}
if (measure && !flags["skip-gas"]) {
  log("gas: test/contracts.test.ts with ZKS_BENCHMARKS=1");
  benchmarkTest("test/contracts.test.ts");
}
const BROWSER_FILE = path.join(BENCH_DIR, "browser.json");
if (measure && !flags["skip-browser"]) {
  log("browser: test/browser.test.ts with ZKS_BENCHMARKS=1 (headless Chromium)");
  benchmarkTest("test/browser.test.ts");
}
const browser: BrowserResult | undefined = existsSync(BROWSER_FILE) ? JSON.parse(readFileSync(BROWSER_FILE, "utf8")) : undefined;
const current = existsSync(BENCHMARKS_FILE) ? readFileSync(BENCHMARKS_FILE, "utf8") : "";
const gasSection = /<!-- gas:begin[\s\S]*?<!-- gas:end -->/.exec(current)?.[0];
// Written by `npm run bench:audit` (scripts/bench-audit.ts), which takes far longer; kept as it is.
// Sections other benchmarks write (bench:keeper, bench:audit) are kept as they are.
const keptSections = [/<!-- keeper:begin[\s\S]*?<!-- keeper:end -->/, /<!-- audit:begin[\s\S]*?<!-- audit:end -->/]
  .map((re) => re.exec(current)?.[0])
  .filter((x): x is string => x !== undefined);
const auditSection = keptSections.length > 0 ? keptSections.join("\n\n") : undefined;

const changesFile = path.join(BENCH_DIR, "circuit-changes.json");
const changes: CircuitChange[] = existsSync(changesFile) ? JSON.parse(readFileSync(changesFile, "utf8")) : [];

mkdirSync(BENCH_DIR, { recursive: true });
const byConstraints = [...results].sort((a, b) => a.constraints - b.constraints);
const series = (name: string, ms: (r: InstanceResult) => number, extra: { dashed?: boolean } = {}) => ({
  name,
  points: byConstraints.map((r) => ({ x: r.constraints, y: ms(r) / 1000 })),
  ...extra,
});
writeFileSync(
  path.join(PACKAGE_ROOT, PLOT_FILE),
  svgChart({
    title: `Groth16 proving time against constraints (${(previous?.machine ?? describeMachine()).cores} cores)`,
    xLabel: "constraints (circom --O2)",
    yLabel: "seconds per proof",
    series: [
      series("snarkjs fullProve, cold", (r) => r.prove.snarkjsColdMs, { dashed: true }),
      series("SDK, cold", (r) => r.prove.sdkColdMs),
      series("WarmProver", (r) => r.prove.warmMs),
      series(`ProverPool, per proof (${results[0]!.pool.workers} workers)`, (r) => r.pool.perProofMs),
    ],
    xRange: [0, Math.max(...results.map((r) => r.constraints)) * 1.05],
    yRange: [0, (Math.max(...results.map((r) => Math.max(r.prove.snarkjsColdMs, r.prove.sdkColdMs))) / 1000) * 1.1],
  }),
);

const machine = previous?.machine ?? describeMachine();
const seconds = previous?.seconds ?? (performance.now() - started) / 1000;
writeFileSync(
  BENCHMARKS_FILE,
  renderBenchmarks({ machine, runs: previous?.runs ?? runs, results, costs, changes, gasSection, auditSection, browser, plotFile: PLOT_FILE, seconds }),
);
if (measure) appendFileSync(path.join(BENCH_DIR, "history.jsonl"), `${JSON.stringify({ machine, runs, results, costs, seconds })}\n`);
log(
  measure
    ? `wrote BENCHMARKS.md, ${PLOT_FILE} and benchmarks/history.jsonl in ${Math.round(seconds)} s`
    : `rewrote BENCHMARKS.md and ${PLOT_FILE} from the last run in benchmarks/history.jsonl`,
);
