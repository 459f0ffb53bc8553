import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync } from "node:fs";
import path from "node:path";
import { SetupError } from "@zk-solvency/sdk/core";
import { hashParts } from "./content-hash.ts";
import { CIRCOM_OPTIONS, CIRCOM_PACKAGE_VERSION, circomPath, runCircom } from "./compile.ts";
import type { InstanceManifest, NativeWitnessManifest } from "./manifest.ts";
import type { NativeToolchain } from "./native-toolchain.ts";

/** Where the generator lives inside an instance directory. */
export const NATIVE_WITNESS_DIR = "main_cpp";

/**
 * -O1, not the Makefile's -O3: on solvency-3x3x16 (one 48 MB generated .cpp) -O3 built in
 * 200 s and -O1 in 92 s for the same 21 ms witness; -O0 built in 55 s but took 40 ms. Part of
 * the cache key. NDEBUG must never be defined: the generator checks every constraint with assert().
 */
const CXX_FLAGS = "-std=c++11 -O1 -I.";

/** The circom flags of the C++ build: the wasm build's, plus --c (and --no_asm without nasm). */
function circomArgs(toolchain: NativeToolchain): string[] {
  return ["--c", ...CIRCOM_OPTIONS, ...(toolchain.asm ? [] : ["--no_asm"])];
}

/** Changes with the circuit (its compileKey), the circom flags or the compiler command. */
export function nativeWitnessKey(circuitCompileKey: string, toolchain: NativeToolchain): string {
  return hashParts({
    circuit: circuitCompileKey,
    circom: `circom2@${CIRCOM_PACKAGE_VERSION} ${circomArgs(toolchain)
      .filter((arg) => arg.startsWith("--"))
      .join(" ")}`,
    cxx: `${toolchain.cxx} ${CXX_FLAGS}`,
  });
}

/** The manifest records a generator built under `key` and both of its files are on disk. */
export function nativeWitnessCurrent(dir: string, manifest: InstanceManifest | undefined, key: string): boolean {
  const native = manifest?.nativeWitness;
  if (!native || native.compileKey !== key) return false;
  return [native.binary, native.dat].every((file) => existsSync(path.join(dir, file)) && statSync(path.join(dir, file)).size > 0);
}

export interface NativeBuildOptions {
  env?: NodeJS.ProcessEnv;
  /** Throws if the circuit's sources changed since the wasm compile; called once circom has read them, before make. */
  sourcesUnchanged?: () => void;
}

/**
 * Generates the instance's C++ witness generator from its main.circom (written by the wasm
 * compile) and builds it with make. Work happens in a staging directory that replaces
 * main_cpp/ only once the binary runs, so a failed build never leaves a half-built generator.
 */
export async function buildNativeWitness(dir: string, key: string, toolchain: NativeToolchain, options: NativeBuildOptions = {}): Promise<NativeWitnessManifest> {
  const env = options.env ?? process.env;
  const started = performance.now();
  const mainFile = path.join(dir, "main.circom");
  if (!existsSync(mainFile)) throw new SetupError(`${mainFile} is missing: compile the instance before its native witness generator`);
  const staging = path.join(dir, `${NATIVE_WITNESS_DIR}.tmp`);
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  try {
    await runCircom([circomPath(mainFile), ...circomArgs(toolchain), "-o", circomPath(staging)]);
    options.sourcesUnchanged?.();
    // circom reserves "main" in C++ and renames the program (main_c today): take what it wrote.
    const generated = readdirSync(staging).find((name) => name.endsWith("_cpp"));
    if (!generated) throw new SetupError(`circom --c wrote no <name>_cpp directory in ${staging}`);
    const program = generated.slice(0, -"_cpp".length);
    const source = path.join(staging, generated);
    await runMake(source, toolchain, env);
    await runChecked(path.join(source, program), [], "the built witness generator");
    // The objects and the generated C++ (tens of MB per instance) are never reused: a
    // changed key regenerates everything.
    for (const name of readdirSync(source)) if (name.endsWith(".o") || name === `${program}.cpp`) rmSync(path.join(source, name));
    const target = path.join(dir, NATIVE_WITNESS_DIR);
    rmSync(target, { recursive: true, force: true });
    renameSync(source, target);
    const binary = path.join(NATIVE_WITNESS_DIR, program);
    return {
      binary,
      dat: `${binary}.dat`,
      compileKey: key,
      asm: toolchain.asm,
      buildSeconds: Number(((performance.now() - started) / 1000).toFixed(1)),
      binaryBytes: statSync(path.join(dir, binary)).size,
    };
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

/** One make job: the generated C++ is a single huge translation unit, and the machine may be shared. */
function runMake(source: string, toolchain: NativeToolchain, env: NodeJS.ProcessEnv): Promise<string> {
  return runChecked("make", ["-C", source, `CC=${toolchain.cxx}`, `CFLAGS=${CXX_FLAGS}`], `make in ${source}`, env);
}

function runChecked(command: string, args: string[], what: string, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (chunk) => (output = (output + chunk).slice(-20_000)));
    child.stderr.on("data", (chunk) => (output = (output + chunk).slice(-20_000)));
    child.on("error", (error) => reject(new SetupError(`${what}: could not run ${command}: ${error.message}`)));
    child.on("close", (code, signal) => {
      if (code === 0) return resolve(output);
      const tail = output.trim().split("\n").slice(-15).join("\n");
      reject(new SetupError(`${what} failed (${signal ? `signal ${signal}` : `exit code ${code}`}):\n${tail}`));
    });
  });
}
