/**
 * `npm run bench`: measures every built circuit instance (constraints, witness and proving time
 * cold, warm and pooled, and with the native prover rapidsnark one-off and pooled, side by side
 * with plain snarkjs, memory, verification, sizes), the gas of each contract call, and regenerates
 * BENCHMARKS.md, benchmarks/scaling.svg and one line of benchmarks/history.jsonl. Takes minutes;
 * not part of `npm test`.
 *
 *   npm run bench -- [--runs 5] [--instances a,b] [--native] [--skip-native-prover] [--skip-gas] [--skip-browser] [--skip-costs] [--skip-setup]
 *   npm run bench -- --only-native [--runs 5] [--instances a,b]
 *
 * rapidsnark is measured when one is found (ZKS_RAPIDSNARK, `zks setup --native-prover`, PATH, or
 * the machine's build beside the checkout, scripts/bench/prover.ts); instances without its
 * figures show – in the table. --only-native measures only the rapidsnark columns and merges them
 * into the last run's results (benchmarks/history.jsonl), then rewrites BENCHMARKS.md from them
 * and appends the merged run to the history: the snarkjs figures are kept as they were measured.
 * --out-dir DIR reads and writes BENCHMARKS.md and benchmarks/ (history, plot) under DIR, seeded
 * from the repository's, for trial runs; the gas and browser tests write the repository's own
 * files, so it implies --skip-gas and --skip-browser.
 *
 * --render-only rewrites BENCHMARKS.md and the plot from the last line of benchmarks/history.jsonl
 * (after a change to the report's format) without measuring anything.
 * --native also builds circom's C++ witness generators (2-3 min of g++ per instance); without
 * it, the native witness is measured on the instances that already have one.
 */
import { spawnSync } from "node:child_process";
import { appendFileSync, copyFileSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { svgChart } from "../packages/sdk/src/plot/svg-chart.ts";
import { releaseProverThreads } from "../packages/sdk/src/prover/release.ts";
import { buildCircuits } from "../packages/node/src/setup/build.ts";
import { loadInstances } from "../packages/node/src/setup/instances.ts";
import { manifestFiles, readManifest } from "../packages/node/src/setup/manifest.ts";
import { defaultBuildPaths, instanceDir, PACKAGE_ROOT } from "../packages/node/src/setup/paths.ts";
import { describeMachine, sampleLoad, type Machine } from "./bench/machine.ts";
import { marginalCosts, type MarginalCostRow } from "./bench/marginal-costs.ts";
import {
  renderBenchmarks,
  type BrowserResult,
  type CircuitChange,
  type InstanceResult,
  type MemoryResult,
  type NativeResult,
  type PoolResult,
  type ProveResult,
  type WitnessBackends,
} from "./bench/report.ts";
import { benchProverBackend } from "./bench/prover.ts";
import { runChild } from "./bench/run-child.ts";
import type { ProverBackend } from "../packages/node/src/native-prover/backend.ts";
import { SetupError } from "../packages/sdk/src/core/errors.ts";

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
    "only-native": { type: "boolean", default: false },
    "skip-native-prover": { type: "boolean", default: false },
    "out-dir": { type: "string" },
  },
});
if (flags["only-native"] && (flags["render-only"] || flags["skip-native-prover"]))
  throw new Error("bench: --only-native measures rapidsnark only; it goes with neither --render-only nor --skip-native-prover");
const runs = Number(flags.runs);
if (!Number.isInteger(runs) || runs < 1) throw new Error(`--runs must be a positive integer (got ${flags.runs})`);

const OUT_ROOT = flags["out-dir"] ? path.resolve(flags["out-dir"]) : PACKAGE_ROOT;
const BENCHMARKS_FILE = path.join(OUT_ROOT, "BENCHMARKS.md");
const BENCH_DIR = path.join(OUT_ROOT, "benchmarks");
if (flags["out-dir"]) {
  flags["skip-gas"] = flags["skip-browser"] = true;
  mkdirSync(BENCH_DIR, { recursive: true });
  for (const file of ["BENCHMARKS.md", "benchmarks/history.jsonl", "benchmarks/browser.json", "benchmarks/circuit-changes.json"]) {
    if (!existsSync(path.join(OUT_ROOT, file)) && existsSync(path.join(PACKAGE_ROOT, file))) copyFileSync(path.join(PACKAGE_ROOT, file), path.join(OUT_ROOT, file));
  }
}
const PLOT_FILE = "benchmarks/scaling.svg";
const started = performance.now();
const stopLoadSampling = sampleLoad();
const log = (message: string) => process.stderr.write(`bench: ${message}\n`);

interface HistoryEntry {
  machine: Machine;
  runs: number;
  results: InstanceResult[];
  costs?: MarginalCostRow[];
  seconds?: number;
  /** Set on a run that only refreshed the rapidsnark figures (--only-native) of the run before it. */
  onlyNative?: { date: string; commit: string; instances: string[] };
}
function lastHistoryEntry(): HistoryEntry {
  const file = path.join(BENCH_DIR, "history.jsonl");
  const last = existsSync(file) ? readFileSync(file, "utf8").trim().split("\n").at(-1) : undefined;
  if (!last) throw new Error(`bench: --render-only and --only-native need a previous run in ${file}`);
  return JSON.parse(last) as HistoryEntry;
}
const onlyNative = flags["only-native"];
const previous = flags["render-only"] || onlyNative ? lastHistoryEntry() : undefined;
const measure = !previous;

/** The rapidsnark to measure, or undefined (logged) when there is none or it is not wanted. */
async function nativeBackend(): Promise<Extract<ProverBackend, { kind: "rapidsnark" }> | undefined> {
  if (flags["render-only"] || flags["skip-native-prover"]) return undefined;
  try {
    const backend = await benchProverBackend("rapidsnark");
    if (backend.kind === "rapidsnark") return backend;
  } catch (error) {
    if (!(error instanceof SetupError)) throw error;
    if (onlyNative) throw error;
    log(`rapidsnark not measured: ${error.message}`);
  }
  return undefined;
}
const rapidsnark = await nativeBackend();
const measureNative = (instance: string) => runChild<NativeResult>("scripts/bench/measure-instance.ts", [instance, "native", String(runs), rapidsnark!.binary]);

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
/** Instances whose measurement failed this run (named in BENCHMARKS.md, not silently dropped). */
const unmeasured: { instance: string; reason: string }[] = [];
for (const config of measure ? loadInstances().filter((i) => selected.includes(i.name)) : []) {
  const dir = instanceDir(paths, config.name);
  const manifest = readManifest(dir);
  if (!manifest?.setupKey) {
    log(`skipping ${config.name}: not set up (run \`zks setup --instance ${config.name}\`)`);
    continue;
  }
  const files = manifestFiles(dir, manifest);
  log(`${config.name} (${manifest.nConstraints.toLocaleString("en-US")} constraints): cold, snarkjs, warm and verify x ${runs}`);
  let prove: ProveResult, memory: MemoryResult, pool: PoolResult, witness: WitnessBackends;
  let native: NativeResult | undefined;
  try {
    prove = await runChild<ProveResult>("scripts/bench/measure-instance.ts", [config.name, "prove", String(runs)]);
    log(`${config.name}: peak memory of one cold proof`);
    memory = await runChild<MemoryResult>("scripts/bench/measure-instance.ts", [config.name, "memory", "1"]);
    log(`${config.name}: prover pool throughput`);
    pool = await runChild<PoolResult>("scripts/bench/measure-instance.ts", [config.name, "pool", String(runs)]);
    witness = await measureWitness(config.name);
    if (rapidsnark) {
      log(`${config.name}: rapidsnark one-off and pool`);
      native = await measureNative(config.name);
    }
  } catch (error) {
    // One instance that cannot be measured must not throw away the others' minutes of measurements.
    const reason = (error as Error).message.split("\n").find((line) => line.startsWith("Error: ")) ?? (error as Error).message.split("\n")[0]!;
    log(`${config.name}: not measured: ${reason}`);
    unmeasured.push({ instance: config.name, reason });
    continue;
  }
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
    ...(native ? { native } : {}),
  });
  log(
    `${config.name}: cold ${(prove.sdkColdMs / 1000).toFixed(2)} s, snarkjs ${(prove.snarkjsColdMs / 1000).toFixed(2)} s, warm ${(prove.warmMs / 1000).toFixed(2)} s, pool ${(pool.perProofMs / 1000).toFixed(2)} s/proof`,
  );
}
const refreshed: string[] = [];
if (onlyNative) {
  for (const result of results.filter((r) => selected.includes(r.instance))) {
    const manifest = readManifest(instanceDir(paths, result.instance));
    if (!manifest?.setupKey) {
      log(`skipping ${result.instance}: not set up (run \`zks setup --instance ${result.instance}\`)`);
      continue;
    }
    log(`${result.instance}: rapidsnark one-off and pool x ${runs}`);
    if (manifest.nConstraints !== result.constraints)
      log(
        `warning: ${result.instance} has ${manifest.nConstraints} constraints now, ${result.constraints} in the last full run: the table says so; run \`npm run bench\` to compare like with like`,
      );
    result.native = await measureNative(result.instance);
    refreshed.push(result.instance);
    log(
      `${result.instance}: rapidsnark ${(result.native.oneOffMs / 1000).toFixed(2)} s one-off (snarkjs ${(result.prove.snarkjsColdMs / 1000).toFixed(2)} s), pool ${(result.native.pool.perProofMs / 1000).toFixed(2)} s/proof`,
    );
  }
  // Instances the last full run did not measure have no snarkjs figures to stand beside.
  for (const name of selected.filter((name) => !results.some((r) => r.instance === name)))
    log(`skipping ${name}: not in the last full run (run \`npm run bench -- --instances ${name}\` first)`);
  if (refreshed.length === 0) throw new Error("bench: --only-native measured nothing");
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
  log("browser: test/browser.e2e.test.ts with ZKS_BENCHMARKS=1 (headless Chromium)");
  benchmarkTest("test/browser.e2e.test.ts");
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
  path.join(OUT_ROOT, PLOT_FILE),
  svgChart({
    title: `Groth16 proving time against constraints (${(previous?.machine ?? describeMachine()).cores} cores)`,
    xLabel: "constraints (circom --O2)",
    yLabel: "seconds per proof",
    series: [
      series("snarkjs fullProve, cold", (r) => r.prove.snarkjsColdMs, { dashed: true }),
      series("SDK, cold", (r) => r.prove.sdkColdMs),
      series("WarmProver", (r) => r.prove.warmMs),
      series(`ProverPool, per proof (${results[0]!.pool.workers} workers)`, (r) => r.pool.perProofMs),
      ...nativeSeries(),
    ],
    xRange: [0, Math.max(...results.map((r) => r.constraints)) * 1.05],
    yRange: [0, (Math.max(...results.map((r) => Math.max(r.prove.snarkjsColdMs, r.prove.sdkColdMs))) / 1000) * 1.1],
  }),
);

/** rapidsnark's lines, over the instances it was measured on (none when it was measured on none). */
function nativeSeries() {
  const measured = byConstraints.filter((r) => r.native);
  if (measured.length === 0) return [];
  // At the constraints rapidsnark was measured on (--only-native may follow a circuit change).
  const points = (ms: (r: InstanceResult) => number) => measured.map((r) => ({ x: r.native!.constraints, y: ms(r) / 1000 })).sort((a, b) => a.x - b.x);
  return [
    { name: "rapidsnark, one-off", points: points((r) => r.native!.oneOffMs) },
    { name: `rapidsnark ProverPool, per proof (${measured[0]!.native!.pool.workers} workers)`, points: points((r) => r.native!.pool.perProofMs) },
  ];
}

const instanceNames = new Set(loadInstances().map((i) => i.name));
const machine = previous?.machine ?? { ...describeMachine(), load: stopLoadSampling() };
const seconds = previous?.seconds ?? (performance.now() - started) / 1000;
writeFileSync(
  BENCHMARKS_FILE,
  renderBenchmarks({
    machine,
    runs: previous?.runs ?? runs,
    results,
    costs,
    changes,
    gasSection,
    auditSection,
    browser,
    plotFile: PLOT_FILE,
    seconds,
    unmeasured,
    // Today's instances only: a build directory can hold one since renamed or removed.
    current: Object.fromEntries(results.map((r) => [r.instance, instanceNames.has(r.instance) ? readManifest(instanceDir(paths, r.instance))?.nConstraints : undefined])),
  }),
);
if (measure) appendFileSync(path.join(BENCH_DIR, "history.jsonl"), `${JSON.stringify({ machine, runs, results, costs, seconds })}\n`);
if (onlyNative) {
  const now = describeMachine();
  const entry: HistoryEntry = { ...previous!, results, onlyNative: { date: now.date, commit: now.commit, instances: refreshed } };
  appendFileSync(path.join(BENCH_DIR, "history.jsonl"), `${JSON.stringify(entry)}\n`);
}
log(
  measure
    ? `wrote BENCHMARKS.md, ${PLOT_FILE} and benchmarks/history.jsonl in ${Math.round(seconds)} s`
    : onlyNative
      ? `measured rapidsnark on ${refreshed.join(", ")}; rewrote BENCHMARKS.md and ${PLOT_FILE} and appended the merged run to benchmarks/history.jsonl`
      : `rewrote BENCHMARKS.md and ${PLOT_FILE} from the last run in benchmarks/history.jsonl`,
);
