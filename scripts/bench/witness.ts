/**
 * Witness generation, wasm against circom's C++ generator (README, "Native witness").
 *
 *   npx tsx scripts/bench/witness.ts [--runs N] [INSTANCE...]
 *
 * Times, per built instance (compile-only builds are enough): the prover's wasm path cold
 * (snarkjs.wtns.calculate compiles the wasm on every call), the wasm warm (circom_runtime's
 * calculator built once, as a long-running prover could keep it), and the native generator
 * (process start and file I/O included), on scripts/bench/inputs.ts' example inputs. Medians;
 * the outputs are compared byte for byte, since timing a wrong witness proves nothing.
 */
import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";
import type { CircuitSignals } from "snarkjs";
import { nativeWitnessCalculator } from "../../packages/node/src/native-witness.ts";
import { WarmWitnessCalculator } from "../../packages/sdk/src/prover/warm-witness.ts";
import { calculateWitness } from "../../packages/sdk/src/prover/witness.ts";
import { loadInstances } from "../../packages/node/src/setup/instances.ts";
import { manifestFiles, readManifest, type InstanceManifest } from "../../packages/node/src/setup/manifest.ts";
import { defaultBuildPaths, instanceDir } from "../../packages/node/src/setup/paths.ts";
import { benchInput } from "./inputs.ts";
import { median } from "./stats.ts";

export interface WitnessTimings {
  wasmColdMs: number;
  wasmWarmMs: number;
  /** Only when the instance has a native generator (`zks setup --native-witness`). */
  nativeMs?: number;
  nativeBuildMs?: number;
  nativeBinaryBytes?: number;
}

type Backend = () => Promise<Uint8Array>;

/**
 * One untimed run of each backend (JIT, page cache), then `runs` rounds running every backend
 * once, in rotating order, so drift on a shared machine hits all of them alike. Medians, and
 * each backend's first output.
 */
async function interleaved(runs: number, backends: Backend[]): Promise<{ ms: number[]; outputs: Uint8Array[] }> {
  const outputs: Uint8Array[] = [];
  for (const backend of backends) outputs.push(await backend());
  const times: number[][] = backends.map(() => []);
  for (let round = 0; round < runs; round++) {
    for (let k = 0; k < backends.length; k++) {
      const which = (round + k) % backends.length;
      const t0 = performance.now();
      await backends[which]!();
      times[which]!.push(performance.now() - t0);
    }
  }
  return { ms: times.map(median), outputs };
}

function built(instance: string): { dir: string; manifest: InstanceManifest } {
  const dir = instanceDir(defaultBuildPaths(), instance);
  const manifest = readManifest(dir);
  if (!manifest) throw new Error(`${instance} is not built; run \`zks setup --instance ${instance} --compile-only --native-witness\``);
  return { dir, manifest };
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}

/** Median witness times of each backend for `input` on a built instance. */
export async function measureWitnessBackends(instance: string, input: CircuitSignals, runs: number): Promise<WitnessTimings> {
  const { dir, manifest } = built(instance);
  const wasm = manifestFiles(dir, manifest).wasm;

  const warm = await WarmWitnessCalculator.compile(readFileSync(wasm), instance);
  const backends: Backend[] = [async () => (await calculateWitness(input, wasm, instance)).data!, () => warm.calculate(input)];
  if (manifest.nativeWitness) {
    const native = nativeWitnessCalculator(instance);
    backends.push(() => native(input));
  }
  const { ms, outputs } = await interleaved(runs, backends);
  for (const output of outputs.slice(1)) {
    if (!sameBytes(outputs[0]!, output)) throw new Error(`${instance}: the backends disagree on the witness`);
  }
  const [wasmColdMs, wasmWarmMs, nativeMs] = ms as [number, number, number | undefined];
  if (!manifest.nativeWitness || nativeMs === undefined) return { wasmColdMs, wasmWarmMs };
  return { wasmColdMs, wasmWarmMs, nativeMs, nativeBuildMs: manifest.nativeWitness.buildSeconds * 1000, nativeBinaryBytes: manifest.nativeWitness.binaryBytes };
}

async function main(argv: string[]): Promise<void> {
  const runsAt = argv.indexOf("--runs");
  const runs = runsAt >= 0 ? Number(argv[runsAt + 1]) : 5;
  if (!Number.isInteger(runs) || runs < 1) throw new Error(`--runs: expected a positive integer, got "${argv[runsAt + 1]}"`);
  const named = argv.filter((arg, i) => !arg.startsWith("--") && i !== runsAt + 1);
  const configs = loadInstances().filter((config) => (named.length > 0 ? named.includes(config.name) : readManifest(instanceDir(defaultBuildPaths(), config.name))));
  const ms = (value: number | undefined) => (value === undefined ? "-" : value.toFixed(value < 100 ? 1 : 0));
  console.log(`medians of ${runs} runs\n`);
  console.log("| instance | constraints | wasm cold (ms) | wasm warm (ms) | native (ms) | vs cold | vs warm | C++ build (s) | binary (MB) |");
  console.log("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
  for (const config of configs) {
    const { manifest } = built(config.name);
    const t = await measureWitnessBackends(config.name, benchInput(config), runs);
    const speedup = (wasmMs: number) => (t.nativeMs === undefined ? "-" : `${(wasmMs / t.nativeMs).toFixed(1)}x`);
    const build = t.nativeBuildMs === undefined ? "-" : (t.nativeBuildMs / 1000).toFixed(0);
    const size = t.nativeBinaryBytes === undefined ? "-" : (t.nativeBinaryBytes / 2 ** 20).toFixed(1);
    console.log(
      `| ${config.name} | ${manifest.nConstraints.toLocaleString("en-US")} | ${ms(t.wasmColdMs)} | ${ms(t.wasmWarmMs)} | ${ms(t.nativeMs)} | ${speedup(t.wasmColdMs)} | ${speedup(t.wasmWarmMs)} | ${build} | ${size} |`,
    );
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  await main(process.argv.slice(2));
  // snarkjs keeps worker threads alive.
  process.exit(0);
}
