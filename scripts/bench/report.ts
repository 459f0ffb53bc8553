/** The Markdown of BENCHMARKS.md from one bench run's measurements. */
import type { Machine } from "./machine.ts";
import { marginalCostTable, type MarginalCostRow, COST_BASE } from "./marginal-costs.ts";

export interface ProveResult {
  sdkColdMs: number;
  sdkColdWitnessMs: number;
  sdkColdProofMs: number;
  snarkjsColdMs: number;
  warmLoadMs: number;
  warmMs: number;
  warmWitnessMs: number;
  warmProofMs: number;
  verifyMs: number;
  runs: number;
}
export interface MemoryResult {
  baselineMiB: number;
  peakMiB: number;
}
export interface PoolResult {
  workers: number;
  proofs: number;
  startMs: number;
  perProofMs: number;
  proofsPerMinute: number;
  peakMiB: number;
}
export interface WitnessBackends {
  wasmColdMs: number;
  wasmWarmMs: number;
  nativeMs?: number;
  nativeBuildMs?: number;
  nativeBinaryBytes?: number;
}
/**
 * The native prover (rapidsnark) on one instance: a one-off proof as the CLI makes it
 * (proveBuiltInstance with prover rapidsnark: witness, rapidsnark process, verification; the whole
 * call), and a ProverPool proving with it. Measured by `npm run bench` when rapidsnark is found, or
 * alone by `npm run bench -- --only-native`, possibly on another day than the snarkjs figures.
 */
export interface NativeResult {
  binary: string;
  /** The instance's constraints when rapidsnark was measured (the circuit may have changed since the snarkjs figures). */
  constraints: number;
  /** What computed the witnesses: circom's C++ generator (`zks setup --native-witness`) or the wasm. */
  witness: "native" | "wasm";
  oneOffMs: number;
  oneOffWitnessMs: number;
  /** rapidsnark and the verification of its proof. */
  oneOffProofMs: number;
  /** The largest rapidsnark process of the one-off runs (sampled VmHWM). */
  rapidsnarkPeakMiB?: number;
  pool: { workers: number; threadsPerProof: number; proofs: number; startMs: number; perProofMs: number; proofsPerMinute: number };
  runs: number;
  date: string;
  commit: string;
}
export interface InstanceResult {
  instance: string;
  template: string;
  tier: string;
  constraints: number;
  publicSignals: number;
  wasmBytes: number;
  zkeyBytes: number;
  prove: ProveResult;
  memory: MemoryResult;
  pool: PoolResult;
  witness?: WitnessBackends;
  /** Absent when rapidsnark was not measured on this instance: the table shows –. */
  native?: NativeResult;
}
export interface BrowserResult {
  date: string;
  chromium: string;
  instance: string;
  constraints: number;
  proveMs: number;
  witnessMs: number;
  workerStartMs: number;
}
export interface CircuitChange {
  change: string;
  files?: string[];
  before: Record<string, number>;
  after: Record<string, number>;
}

const n = (value: number): string => Math.round(value).toLocaleString("en-US");
const s = (ms: number): string => (ms / 1000).toFixed(2);
const mib = (bytes: number): string => (bytes / 2 ** 20).toFixed(1);
const x = (ratio: number): string => `${ratio.toFixed(2)}x`;

/**
 * The rows whose circuit changed since they were measured (today's constraint count differs), as a
 * paragraph, or nothing when every row is current or today's counts are unknown.
 */
export function stalenessNote(results: readonly InstanceResult[], current: Record<string, number | undefined> | undefined): string[] {
  if (!current) return [];
  const stale = results.filter((r) => current[r.instance] !== undefined && current[r.instance] !== r.constraints);
  const unbuilt = results.filter((r) => current[r.instance] === undefined).map((r) => `\`${r.instance}\``);
  const lines: string[] = [];
  if (stale.length > 0) {
    const changes = stale.map((r) => `\`${r.instance}\` ${n(r.constraints)} -> ${n(current[r.instance]!)}`).join(", ");
    lines.push(
      `**Not yet re-measured:** ${stale.length} of ${results.length} instances changed since this run measured them (constraints then -> now: ${changes}). Their snarkjs, witness and memory figures are the old circuits'; rerun \`npm run bench\` to compare like with like.`,
    );
  }
  if (unbuilt.length > 0)
    lines.push(
      `${lines.length > 0 ? "" : "**Not checked:** "}Not compared with today's circuits (not built in this build directory, or no longer in instances.json): ${unbuilt.join(", ")}.`,
    );
  return lines.length > 0 ? [lines.join(" "), ""] : [];
}

export function renderBenchmarks(args: {
  machine: Machine;
  runs: number;
  results: InstanceResult[];
  costs?: MarginalCostRow[];
  changes: CircuitChange[];
  gasSection?: string;
  /** The audit's scale section, from `npm run bench:audit`. */
  auditSection?: string;
  browser?: BrowserResult;
  plotFile: string;
  seconds: number;
  /** Instances whose measurement failed in this run, with the reason: named under the Circuits table. */
  unmeasured?: { instance: string; reason: string }[];
  /**
   * Each instance's constraint count in today's build (undefined: not built here). Rows measured on
   * another count are named in a note at the top, so a reader never takes an old circuit's time
   * for today's.
   */
  current?: Record<string, number | undefined>;
}): string {
  const { machine, results } = args;
  const worst = (pick: (r: InstanceResult) => number) => results.reduce((a, r) => (pick(r) > pick(a) ? r : a));
  const best = (pick: (r: InstanceResult) => number) => results.reduce((a, r) => (pick(r) < pick(a) ? r : a));
  const sdkVsSnarkjs = (r: InstanceResult) => r.prove.sdkColdMs / r.prove.snarkjsColdMs;
  const warmGain = (r: InstanceResult) => r.prove.sdkColdMs / r.prove.warmMs;
  const poolGain = (r: InstanceResult) => r.prove.sdkColdMs / r.pool.perProofMs;
  const lines: string[] = [
    "# Benchmarks",
    "",
    `Generated by \`npm run bench\` on ${machine.date} (commit ${machine.commit}) in ${Math.round(args.seconds / 60)} min.`,
    `Machine: ${machine.cpu}, ${machine.cores} cores, ${machine.memoryGiB} GiB, ${machine.os}; Node ${machine.node}, snarkjs ${machine.snarkjs}, circom2 ${machine.circom2} (circuits compiled with \`--O2\`).`,
    ...(machine.load
      ? [
          `Load average (1 min) during the run: mean ${machine.load.mean}, max ${machine.load.max} on ${machine.cores} cores${
            machine.load.mean > machine.cores ? ": other work shared the cores, so absolute times are inflated; the ratios are measured side by side and hold better" : ""
          }.`,
        ]
      : []),
    `Times are medians of ${args.runs} runs on the spec's healthy example position (\`scripts/bench/inputs.ts\`); memory is the peak resident set of a fresh process.`,
    "",
    ...stalenessNote(results, args.current),
    "## Summary against the goals",
    "",
    "| goal | measured | verdict |",
    "| --- | --- | --- |",
    `| SDK cold proof vs \`snarkjs groth16 fullprove\`, same input: <= 1.05x | ${x(sdkVsSnarkjs(best(sdkVsSnarkjs)))} to ${x(sdkVsSnarkjs(worst(sdkVsSnarkjs)))} | ${verdict(results, sdkVsSnarkjs, (r) => r <= 1.05)} |`,
    `| warm prover vs repeated cold calls: >= 1.5x faster per proof | one warm prover (latency): ${x(warmGain(best(warmGain)))} to ${x(warmGain(worst(warmGain)))}; prover pool (throughput, ${results[0]!.pool.workers} workers): ${x(poolGain(best(poolGain)))} to ${x(poolGain(worst(poolGain)))} | pool: ${verdict(results, poolGain, (r) => r >= 1.5)}; one warm prover: ${verdict(results, warmGain, (r) => r >= 1.5)} |`,
    gasGoalRow(args.gasSection),
    "",
    "## Circuits",
    "",
    "| instance | tier | constraints | public signals | wasm (MiB) | zkey (MiB) |",
    "| --- | --- | ---: | ---: | ---: | ---: |",
    ...results.map((r) => `| \`${r.instance}\` | ${r.tier} | ${n(r.constraints)} | ${r.publicSignals} | ${mib(r.wasmBytes)} | ${mib(r.zkeyBytes)} |`),
    "",
    ...(args.unmeasured && args.unmeasured.length > 0
      ? [`Not measured in this run (the measurement failed): ${args.unmeasured.map((u) => `\`${u.instance}\` (${u.reason})`).join("; ")}.`, ""]
      : []),
  ];
  if (args.costs) {
    lines.push(
      `Marginal costs of the Solvency template around ${COST_BASE.nAssets} assets, ${COST_BASE.nInstruments} instruments and ${COST_BASE.nScenarios} scenarios (what one more of each adds; also \`npm run costs\`):`,
      "",
      ...marginalCostTable(args.costs),
      "",
    );
  }
  lines.push(
    "## Proving time",
    "",
    "- **cold**: one call that loads the wasm and zkey from disk and builds the curve (`generateProof`, then `releaseProverThreads()`), as a one-off CLI run does;",
    "- **snarkjs**: `snarkjs.groth16.fullProve` on the same files and input, with the curve terminated after each call, alternating with the SDK run;",
    "- **warm**: `WarmProver` (SDK root) or `loadWarmProver` (`zk-solvency/node`): artifacts, compiled witness calculator and curve kept in memory, one proof at a time using every core;",
    `- **pool**: \`ProverPool\` (\`zk-solvency/node\`), ${results[0]!.pool.workers} worker threads with a single-threaded curve each, proofs side by side; time per proof = wall time / proofs.`,
    "",
    "| instance | constraints | cold (s) | of which witness | snarkjs (s) | SDK / snarkjs | warm (s) | cold / warm | pool per proof (s) | cold / pool | pool proofs/min | verify (ms) | peak memory, cold proof (MiB) |",
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ...results.map(
      (r) =>
        `| \`${r.instance}\` | ${n(r.constraints)} | ${s(r.prove.sdkColdMs)} | ${s(r.prove.sdkColdWitnessMs)} | ${s(r.prove.snarkjsColdMs)} | ${x(sdkVsSnarkjs(r))} | ${s(r.prove.warmMs)} | ${x(warmGain(r))} | ${s(r.pool.perProofMs)} | ${x(poolGain(r))} | ${r.pool.proofsPerMinute.toFixed(1)} | ${r.prove.verifyMs.toFixed(0)} | ${n(r.memory.peakMiB)} (process before proving: ${n(r.memory.baselineMiB)}) |`,
    ),
    "",
    `![Proving time against constraints](${args.plotFile})`,
    "",
    "What a warm prover saves is per call and fixed: building the curve, compiling the witness wasm and reading the",
    "zkey (cold minus warm above). It dominates small instances and fades as the proof itself grows. The pool adds",
    "overlap: snarkjs' multi-exponentiations use every core, but its QAP evaluation and FFT joins run on one, and two",
    "single-threaded proofs side by side keep both cores busy through them. Above ~25k constraints neither reaches",
    "1.5x on 2 cores; what would is a faster QAP evaluation (snarkjs evaluates it coefficient by coefficient in",
    "JavaScript) or a native prover: rapidsnark is measured in [Native prover](#native-prover-rapidsnark-against-snarkjs).",
    "",
    "Time per constraint, warm, largest instance: " +
      (() => {
        const largest = results.reduce((a, r) => (r.constraints > a.constraints ? r : a));
        return `${((1000 * largest.prove.warmMs) / largest.constraints).toFixed(0)} us (\`${largest.instance}\`).`;
      })(),
    "",
    "Warm prover and pool start-up (paid once): " + results.map((r) => `\`${r.instance}\` ${s(r.prove.warmLoadMs)} s / ${s(r.pool.startMs)} s`).join(", ") + ".",
    "",
  );
  lines.push(...nativeTable(results));
  const withWitness = results.filter((r) => r.witness);
  if (withWitness.length > 0) {
    lines.push(
      "## Witness generation",
      "",
      "WASM cold: `snarkjs.wtns.calculate` (compiles the wasm on every call). WASM warm: the calculator compiled once (what `WarmProver` and the pool use).",
      "Native: circom's C++ witness generator (`zks setup --native-witness`), process start and file I/O included.",
      "",
      "| instance | constraints | WASM cold (ms) | WASM warm (ms) | native (ms) | native build (s) | native binary (MiB) | fastest |",
      "| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
      ...withWitness.map((r) => {
        const w = r.witness!;
        const options: [string, number | undefined][] = [
          ["WASM cold", w.wasmColdMs],
          ["WASM warm", w.wasmWarmMs],
          ["native", w.nativeMs],
        ];
        const fastest = options.filter((o): o is [string, number] => o[1] !== undefined).reduce((a, o) => (o[1] < a[1] ? o : a))[0];
        return `| \`${r.instance}\` | ${n(r.constraints)} | ${w.wasmColdMs.toFixed(0)} | ${w.wasmWarmMs.toFixed(0)} | ${w.nativeMs?.toFixed(0) ?? "not built"} | ${w.nativeBuildMs !== undefined ? s(w.nativeBuildMs) : ""} | ${w.nativeBinaryBytes !== undefined ? mib(w.nativeBinaryBytes) : ""} | ${fastest} |`;
      }),
      "",
    );
  }
  lines.push("## Browser", "");
  if (args.browser) {
    const b = args.browser;
    const node = results.find((r) => r.instance === b.instance);
    lines.push(
      `Measured by \`test/browser.e2e.test.ts\` (\`ZKS_BENCHMARKS=1\`) in headless Chromium ${b.chromium} on ${b.date.slice(0, 10)}: the example vault page's Web Worker`,
      "(`BrowserProver`, a `WarmProver` in a worker, artifacts fetched by URL), median of 3 proofs.",
      "",
      "| instance | constraints | proof in the browser (s) | of which witness (ms) | worker start and load (s) | Node WarmProver (s) |",
      "| --- | ---: | ---: | ---: | ---: | ---: |",
      `| \`${b.instance}\` | ${n(b.constraints)} | ${s(b.proveMs)} | ${b.witnessMs.toFixed(0)} | ${s(b.workerStartMs)} | ${node ? s(node.prove.warmMs) : "not measured"} |`,
      "",
    );
  } else {
    lines.push("Not measured in this run (`--skip-browser`, or no Chromium).", "");
  }
  if (args.changes.length > 0) {
    const instances = [...new Set(args.changes.flatMap((c) => Object.keys(c.after)))];
    lines.push(
      "## Circuit changes (constraints before -> after)",
      "",
      "In the order applied (`benchmarks/circuit-changes.json`). The cuts weaken no range check; each says why it is sound. A soundness fix that adds constraints is listed as such.",
      "",
      `| change | ${instances.map((i) => `\`${i}\``).join(" | ")} |`,
      `| --- | ${instances.map(() => "---:").join(" | ")} |`,
      ...args.changes.map(
        (c) => `| ${c.change} | ${instances.map((i) => (c.before[i] !== undefined && c.after[i] !== undefined ? `${n(c.before[i]!)} -> ${n(c.after[i]!)}` : "")).join(" | ")} |`,
      ),
      "",
    );
  }
  if (args.gasSection) lines.push(args.gasSection, "");
  if (args.auditSection) lines.push(args.auditSection, "");
  lines.push("Every run also appends its figures to `benchmarks/history.jsonl` (one JSON object per run), so changes can be compared over time.", "");
  return lines.join("\n");
}

/**
 * Every way to prove an instance, as a speed-up over plain snarkjs (`snarkjs.groth16.fullProve`,
 * cold): the SDK cold, warm and pooled, and rapidsnark one-off and pooled. – where rapidsnark was
 * not measured on the instance.
 */
export function nativeTable(results: readonly InstanceResult[]): string[] {
  const dash = "–";
  const speedUp = (snarkjsMs: number, ms: number | undefined) => (ms === undefined ? dash : x(snarkjsMs / ms));
  const seconds = (ms: number | undefined) => (ms === undefined ? dash : s(ms));
  const measured = results.filter((r) => r.native);
  const when = [...new Set(measured.map((r) => `${r.native!.date} (commit ${r.native!.commit})`))];
  const binaries = [...new Set(measured.map((r) => r.native!.binary))];
  const pool = measured[0]?.native!.pool;
  return [
    "## Native prover (rapidsnark) against snarkjs",
    "",
    "Speed-up = plain snarkjs cold (`snarkjs.groth16.fullProve`, column 3) / the time in the column before it. **rapidsnark one-off**: `proveBuiltInstance` with `prover: rapidsnark`, as a one-off `zks prove --prover rapidsnark` makes it: the witness (circom's C++ generator where `zks setup --native-witness` built it, else the wasm compiled for the call), the rapidsnark process on every core, and the verification of its proof with snarkjs, the whole call. " +
      (pool
        ? `**rapidsnark pool**: a \`ProverPool\` with \`prover: rapidsnark\`, ${pool.workers} worker threads each running one rapidsnark at a time on ${pool.threadsPerProof} thread(s) and verifying its proof; time per proof = wall time / proofs. `
        : "") +
      (measured.length > 0
        ? `Measured on ${when.join(", ")} with ${binaries.map((b) => `\`${b}\``).join(", ")}, medians of ${measured[0]!.native!.runs} runs; the other columns come from the run this page was generated from.`
        : "Not measured in this run (no rapidsnark found: set ZKS_RAPIDSNARK, then `npm run bench -- --only-native`)."),
    "",
    "| instance | constraints | snarkjs (s) | SDK cold (s) | speed-up | warm (s) | speed-up | pool per proof (s) | speed-up | rapidsnark one-off (s) | speed-up | of which witness (s) | witness | rapidsnark pool per proof (s) | speed-up | peak memory, snarkjs cold proof / rapidsnark process (MiB) |",
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: |",
    ...results.map((r) => {
      const sj = r.prove.snarkjsColdMs;
      const nat = r.native;
      const memory = `${n(r.memory.peakMiB)} / ${nat?.rapidsnarkPeakMiB !== undefined ? n(nat.rapidsnarkPeakMiB) : dash}`;
      // Figures of two circuits are not compared silently: --only-native may run after a circuit change.
      const changed = nat && nat.constraints !== r.constraints ? ` (on ${n(nat.constraints)} constraints)` : "";
      return `| \`${r.instance}\` | ${n(r.constraints)} | ${s(sj)} | ${s(r.prove.sdkColdMs)} | ${speedUp(sj, r.prove.sdkColdMs)} | ${s(r.prove.warmMs)} | ${speedUp(sj, r.prove.warmMs)} | ${s(r.pool.perProofMs)} | ${speedUp(sj, r.pool.perProofMs)} | ${seconds(nat?.oneOffMs)}${changed} | ${speedUp(sj, nat?.oneOffMs)} | ${seconds(nat?.oneOffWitnessMs)} | ${nat?.witness ?? dash} | ${seconds(nat?.pool.perProofMs)} | ${speedUp(sj, nat?.pool.perProofMs)} | ${memory} |`;
    }),
    "",
  ];
}

/** The bare verifiers' ratios, read back from the Gas section the contract test wrote. */
function gasGoalRow(gasSection: string | undefined): string {
  const ratios = (gasSection ?? "")
    .split("\n")
    .filter((line) => line.includes("bare verifier"))
    .map((line) => /\| ([\d.]+)x \|/.exec(line)?.[1])
    .filter((r): r is string => r !== undefined)
    .map(Number);
  if (ratios.length === 0) return "| bare Groth16 verification gas: <= 1.15x the minimum | not measured in this run (`--skip-gas`) | |";
  const worst = Math.max(...ratios);
  return `| bare Groth16 verification gas: <= 1.15x the minimum | ${ratios.map((r) => `${r.toFixed(3)}x`).join(", ")} ([Gas](#gas)) | ${worst <= 1.15 ? "met" : "not met"} |`;
}

/** "met on all 7", or "met on 4 of 7; not on a (1.40x), b (1.31x)". */
function verdict(results: readonly InstanceResult[], ratio: (r: InstanceResult) => number, meets: (value: number) => boolean): string {
  const missed = results.filter((r) => !meets(ratio(r)));
  if (missed.length === 0) return `met on all ${results.length}`;
  return `met on ${results.length - missed.length} of ${results.length}; not on ${missed.map((r) => `${r.instance} (${ratio(r).toFixed(2)}x)`).join(", ")}`;
}
