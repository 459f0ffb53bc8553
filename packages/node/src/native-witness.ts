/**
 * Witnesses from circom's C++ witness generator (`zks setup --native-witness`), for Node
 * provers that make many proofs. The result is the .wtns file's bytes, which snarkjs'
 * groth16.prove takes in place of a witness file. Node only: it runs a native binary.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { CircuitSignals } from "snarkjs";
import { InputError, SetupError, SNARK_FIELD } from "@zk-solvency/sdk/core";
import { UnprovableError } from "@zk-solvency/sdk/prover";
import { trackDir } from "./native-prover/children.ts";
import { runNative } from "./native-prover/run-native.ts";
import { childEnv } from "./native-prover/probe.ts";
import { manifestPath, readManifest, type InstanceManifest } from "./setup/manifest.ts";
import { defaultBuildPaths, instanceDir, type BuildPaths } from "./setup/paths.ts";

export type NativeWitnessCalculator = (signals: CircuitSignals) => Promise<Uint8Array>;

/** An instance's generator: the executable, which reads `<binary>.dat` beside itself. */
export interface NativeWitnessBinary {
  instance: string;
  binary: string;
}

/** The generator `zks setup --native-witness` recorded in the instance's manifest. */
export function locateNativeWitness(instance: string, paths: BuildPaths = defaultBuildPaths()): NativeWitnessBinary {
  const dir = instanceDir(paths, instance);
  const rebuild = `run \`zks setup --instance ${instance} --native-witness\``;
  const manifest = readManifest(dir);
  if (!manifest) throw new SetupError(`circuit instance "${instance}" is not built in ${paths.buildDir}; ${rebuild}`);
  return nativeWitnessIn(dir, instance, manifest);
}

/**
 * The generator listed in `manifest`, the manifest of the instance built in `dir`: for artifacts
 * already loaded, so that the generator is the one built with their proving key, not whatever the
 * default build directory holds for an instance of that name.
 */
export function nativeWitnessIn(dir: string, instance: string, manifest: InstanceManifest): NativeWitnessBinary {
  const rebuild = `run \`zks setup --instance ${instance} --native-witness\``;
  if (!manifest.nativeWitness) throw new SetupError(`${manifestPath(dir)}: nativeWitness: circuit instance "${instance}" has no native witness generator; ${rebuild}`);
  for (const file of [manifest.nativeWitness.binary, manifest.nativeWitness.dat]) {
    if (!existsSync(path.join(dir, file))) throw new SetupError(`${path.join(dir, file)} is missing (listed in ${manifestPath(dir)}); ${rebuild}`);
  }
  return { instance, binary: path.join(dir, manifest.nativeWitness.binary) };
}

/**
 * A witness calculator running the instance's C++ generator once per call. An input the
 * circuit rejects (a failed assert: a range or solvency check) is an UnprovableError, as on
 * the wasm path; a generator that cannot start is a SetupError.
 */
export function nativeWitnessCalculator(source: string | NativeWitnessBinary, paths?: BuildPaths): NativeWitnessCalculator {
  const write = nativeWitnessWriter(source, paths);
  return async (signals) => {
    const work = mkdtempSync(path.join(tmpdir(), "zks-wtns-"));
    const release = trackDir(work);
    try {
      const output = path.join(work, "witness.wtns");
      await write(signals, output);
      const bytes = readFileSync(output);
      return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    } finally {
      rmSync(work, { recursive: true, force: true });
      release();
    }
  };
}

/** Writes the .wtns of `signals` to `output`; the input file is written beside it and removed. */
export type NativeWitnessWriter = (signals: CircuitSignals, output: string) => Promise<void>;

/**
 * The generator writing the witness to a file of the caller's choosing, read by nobody here: for
 * rapidsnark, which reads the file itself. Rejections and crashes as nativeWitnessCalculator's.
 */
export function nativeWitnessWriter(source: string | NativeWitnessBinary, paths?: BuildPaths): NativeWitnessWriter {
  const { instance, binary } = typeof source === "string" ? locateNativeWitness(source, paths) : source;
  return async (signals, output) => {
    const input = `${output}.input.json`;
    try {
      writeFileSync(input, JSON.stringify(signals, fieldDecimals));
      const timeoutMs = nativeWitnessTimeoutMs();
      // The minimal environment rapidsnark gets: the generator reads two files and needs no secrets.
      const run = await runNative(binary, [input, output], { env: childEnv(), timeoutMs });
      if (run.error !== undefined) throw new SetupError(`${binary}: cannot run the native witness generator (${run.error}); rebuild it with \`zks setup --native-witness\``);
      const printed = `${run.stdout}\n${run.stderr}`;
      if (run.timedOut)
        throw new SetupError(
          `${binary}: the native witness generator of ${instance} did not finish in ${Number((timeoutMs / 1000).toFixed(1))} s and was killed (ZKS_WITNESS_TIMEOUT_MS sets the limit, in milliseconds); rebuild it with \`zks setup --instance ${instance} --native-witness\``,
        );
      if (run.code === 0 && existsSync(output)) return;
      // assert() and uncaught exceptions abort; any other signal is a crash, not a verdict on the input.
      if (run.signal && run.signal !== "SIGABRT")
        throw new Error(`${binary}: the native witness generator of ${instance} crashed (${run.signal}): ${printed.trim().slice(0, 500)}`);
      if (run.code === 0) throw new Error(`${binary}: the native witness generator of ${instance} exited without writing a witness: ${printed.trim().slice(0, 500)}`);
      throw new UnprovableError(instance, rejection(printed));
    } finally {
      rmSync(input, { force: true });
    }
  };
}

/**
 * Field elements as decimal strings, reduced into the field as circom's wasm runtime reduces
 * them: the C++ reader takes only unsigned digits, and 64-bit doubles lose precision.
 */
function fieldDecimals(_key: string, value: unknown): unknown {
  if (typeof value === "bigint") return (((value % SNARK_FIELD) + SNARK_FIELD) % SNARK_FIELD).toString();
  if (typeof value === "number" && Number.isInteger(value)) return fieldDecimals(_key, BigInt(value));
  return value;
}

/**
 * How long one witness may take before its generator is killed: 120 s by default, a thousand times
 * what the largest instance's takes here (0.06-0.09 s for a 65,000-constraint audit batch), so
 * only a hung or broken binary reaches it; ZKS_WITNESS_TIMEOUT_MS overrides it.
 */
export function nativeWitnessTimeoutMs(env: NodeJS.ProcessEnv = process.env): number {
  const set = env.ZKS_WITNESS_TIMEOUT_MS;
  if (set === undefined || set === "") return 120_000;
  if (!/^[1-9][0-9]{0,9}$/.test(set)) throw new InputError("ZKS_WITNESS_TIMEOUT_MS", "", `expected a positive whole number of milliseconds, got ${JSON.stringify(set)}`);
  return Number(set);
}

/** Noise around circom's own message: assert.h's restatement of the C expression and the C++ runtime's preamble. */
const NOISE = [/Assertion `.*' failed\.$/, /^terminate called after throwing/, /^Aborted/];

/** circom's message, first lines first (e.g. "Failed assert in template/function Num2Bits line 38. Followed trace of components: main.stress..."). */
function rejection(output: string): string {
  const lines = output
    .split("\n")
    .map((line) => line.trim().replace(/^what\(\):\s*/, ""))
    .filter((line) => line && !NOISE.some((noise) => noise.test(line)));
  return lines.length > 0 ? lines.slice(0, 3).join(" <- ") : "the native witness generator rejected the input";
}
