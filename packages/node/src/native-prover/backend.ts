/**
 * Which Groth16 prover makes a proof: snarkjs (JavaScript and WebAssembly, always there) or
 * rapidsnark (iden3's native C++ prover, several times faster and lighter: README, "Native prover
 * (rapidsnark)"). `auto` takes rapidsnark when one is found and snarkjs otherwise, so users without
 * it keep snarkjs. The binary is looked for in this order:
 *   1. ZKS_RAPIDSNARK: an explicit path (a missing or non-executable file is an error, even under
 *      `auto`: the user asked for it);
 *   2. <buildDir>/bin/rapidsnark, what `zks setup --native-prover SRC_DIR` installs;
 *   3. `rapidsnark` on PATH, then `prover` on PATH (rapidsnark's own build names it `prover`; as
 *      that name is common, a `prover` that does not answer like rapidsnark is passed over).
 */
import { accessSync, constants, statSync } from "node:fs";
import path from "node:path";
import { InputError, SetupError } from "@zk-solvency/sdk/core";
import { defaultBuildPaths, type BuildPaths } from "../setup/paths.ts";
import { probeRapidsnarkSync } from "./probe.ts";

export const PROVER_CHOICES = ["auto", "snarkjs", "rapidsnark"] as const;
export type ProverChoice = (typeof PROVER_CHOICES)[number];

/** What made a proof. */
export type ProverKind = "snarkjs" | "rapidsnark";
/** What computed its witness: circom's C++ generator (`zks setup --native-witness`) or the wasm. */
export type WitnessKind = "native" | "wasm";

export type ProverBackend = { kind: "snarkjs" } | { kind: "rapidsnark"; binary: string; found: "ZKS_RAPIDSNARK" | "build" | "PATH" };

export const NO_RAPIDSNARK =
  'no rapidsnark prover found: set ZKS_RAPIDSNARK=/path/to/prover, put rapidsnark on PATH, or build one with `zks setup --native-prover SRC_DIR` (README, "Native prover")';

/** "auto" | "snarkjs" | "rapidsnark"; anything else is bad input (exit 2) naming where it came from (`--prover`, `ZKS_PROVER`). */
export function parseProverChoice(value: string, where: string): ProverChoice {
  if ((PROVER_CHOICES as readonly string[]).includes(value)) return value as ProverChoice;
  throw new InputError(where, "", `expected one of ${PROVER_CHOICES.join(", ")}, got ${JSON.stringify(value)}`);
}

export interface ResolveProverOptions {
  /** Where ZKS_PROVER, ZKS_RAPIDSNARK and PATH are read (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** Whose `<buildDir>/bin/rapidsnark` counts (default: the default build paths of `env`). */
  paths?: BuildPaths;
}

/**
 * The backend for `choice`, else ZKS_PROVER, else "auto". `rapidsnark` with no binary found is a
 * SetupError (exit 3) saying how to get one; `auto` with none found is snarkjs. The binary is not
 * run here, except a `prover` on PATH (to tell rapidsnark's from another program of that name):
 * call checkRapidsnark before the first proof to report a broken binary early.
 */
export function resolveProverBackend(choice?: ProverChoice, options: ResolveProverOptions = {}): ProverBackend {
  const env = options.env ?? process.env;
  const chosen = choice === undefined ? (env.ZKS_PROVER ? parseProverChoice(env.ZKS_PROVER, "ZKS_PROVER") : "auto") : parseProverChoice(choice, "prover");
  if (chosen === "snarkjs") return { kind: "snarkjs" };
  const found = findRapidsnark(env, options.paths ?? defaultBuildPaths(env));
  if (found) return found;
  if (chosen === "rapidsnark") throw new SetupError(NO_RAPIDSNARK);
  return { kind: "snarkjs" };
}

/** The name of a backend as the CLI and logs print it: "snarkjs", "rapidsnark (/path/to/prover, from PATH)". */
export function describeProverBackend(backend: ProverBackend): string {
  return backend.kind === "snarkjs" ? "snarkjs" : `rapidsnark (${backend.binary}, from ${backend.found})`;
}

function findRapidsnark(env: NodeJS.ProcessEnv, paths: BuildPaths): ProverBackend | undefined {
  if (env.ZKS_RAPIDSNARK) {
    const binary = path.resolve(env.ZKS_RAPIDSNARK);
    const problem = notExecutable(binary);
    if (problem) throw new SetupError(`ZKS_RAPIDSNARK=${binary}: ${problem}; point it at rapidsnark's prover binary, or unset it`);
    return { kind: "rapidsnark", binary, found: "ZKS_RAPIDSNARK" };
  }
  const installed = path.join(paths.buildDir, "bin", "rapidsnark");
  const problem = notExecutable(installed);
  if (!problem) return { kind: "rapidsnark", binary: installed, found: "build" };
  // Something is there but cannot run: a torn install, reported rather than silently passed over.
  if (problem !== MISSING) throw new SetupError(`${installed}: ${problem}; rebuild it with \`zks setup --native-prover SRC_DIR\` or remove it`);
  for (const name of ["rapidsnark", "prover"]) {
    for (const dir of (env.PATH ?? "").split(path.delimiter)) {
      if (!dir || !path.isAbsolute(dir)) continue; // a relative PATH entry would depend on the working directory
      const binary = path.join(dir, name);
      if (notExecutable(binary)) continue;
      if (name === "prover" && !probeRapidsnarkSync(binary)) continue;
      return { kind: "rapidsnark", binary, found: "PATH" };
    }
  }
  return undefined;
}

const MISSING = "no such file";

/** Why `file` cannot be run as a program, or undefined when it can. */
function notExecutable(file: string): string | undefined {
  let stat;
  try {
    stat = statSync(file);
  } catch {
    return MISSING;
  }
  if (!stat.isFile()) return "not a file";
  try {
    accessSync(file, constants.X_OK);
  } catch {
    return "not executable (chmod +x it)";
  }
  return undefined;
}
