import { spawn } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import * as snarkjs from "snarkjs";
import { SetupError } from "@zk-solvency/sdk/core";
import { mainComponentSource, type InstanceConfig } from "./instances.ts";
import { CIRCUITS_DIR } from "./paths.ts";

const require = createRequire(import.meta.url);

/**
 * circom2: circom compiled to WASM, so no native toolchain is needed. An optional peer of this
 * package: resolved without throwing, so an install without it still loads (every command
 * imports this module through the package index) and only compiling says it is missing.
 */
const circom2 = ((): { cli: string; version: string } | undefined => {
  try {
    return { cli: require.resolve("circom2/cli.js"), version: (require("circom2/package.json") as { version: string }).version };
  } catch {
    return undefined;
  }
})();
export const CIRCOM_CLI: string | undefined = circom2?.cli;
export const CIRCOM_PACKAGE_VERSION: string = circom2?.version ?? "(not installed)";
export { CIRCUITS_DIR };
/** The directory holding circomlib, passed to circom as a library path. */
export const CIRCUIT_LIBRARY_DIR = path.dirname(path.dirname(require.resolve("circomlib/package.json")));

export interface CompiledCircuit {
  r1cs: string;
  wasm: string;
  sym: string;
  nConstraints: number;
  nPublic: number;
}

/**
 * circom2's working directory: the file-system root. Its WASI sandbox sees only the working
 * directory and what lies under it, and the circuits, circomlib and the build directory may sit
 * anywhere (a checkout, node_modules, the user cache).
 */
const CIRCOM_CWD = path.parse(process.cwd()).root;

/** A path as circom2 must be given it: relative to its working directory (see runCircom). */
export const circomPath = (file: string): string => path.relative(CIRCOM_CWD, path.resolve(file)) || ".";

/** Optimisation and library paths shared by every circom run, so the wasm and C++ witness generators come from the same circuit. */
export const CIRCOM_OPTIONS: readonly string[] = ["--O2", ...[CIRCUITS_DIR, CIRCUIT_LIBRARY_DIR].flatMap((dir) => ["-l", circomPath(dir)])];

// circom colours its diagnostics; a log file or a CI page wants plain text.
// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-9;]*m/g;

/** Runs circom2 from the file-system root; resolves with its output, or a SetupError carrying it. */
export function runCircom(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    if (!CIRCOM_CLI) {
      reject(
        new SetupError(
          "circom2 is not installed: compiling a circuit needs it (`npm install circom2`, an optional peer of @zk-solvency/node); or install built keys with `zks keys fetch`",
        ),
      );
      return;
    }
    // circom2's WASI sandbox sees the working directory and its parents, through relative paths.
    const child = spawn(process.execPath, [CIRCOM_CLI, ...args], { cwd: CIRCOM_CWD, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (chunk) => (output += chunk));
    child.stderr.on("data", (chunk) => (output += chunk));
    child.on("error", reject);
    child.on("close", (code) => {
      const text = output.replace(ANSI, "");
      // circom2 can exit 0 after printing errors, so its verdict line is checked as well.
      if (code === 0 && text.includes("Everything went okay")) resolve(text);
      else reject(new SetupError(`circom failed:\n${text.trim()}`));
    });
  });
}

/** Writes the instance's main component and compiles it with --O2 (snarkjs counts linear constraints too). */
export async function compileInstance(instance: InstanceConfig, dir: string): Promise<CompiledCircuit> {
  mkdirSync(dir, { recursive: true });
  const mainFile = path.join(dir, "main.circom");
  // Templates are included by name through a library path: a relative include from a build
  // directory elsewhere (say /tmp) would leave the part of the tree circom2's sandbox sees.
  writeFileSync(mainFile, mainComponentSource(instance, instance.file));
  await runCircom([circomPath(mainFile), "--r1cs", "--wasm", "--sym", ...CIRCOM_OPTIONS, "-o", circomPath(dir)]);
  const compiled = {
    r1cs: path.join(dir, "main.r1cs"),
    wasm: path.join(dir, "main_js", "main.wasm"),
    sym: path.join(dir, "main.sym"),
  };
  const info = await snarkjs.r1cs.info(compiled.r1cs);
  const nPublic = info.nOutputs + info.nPubInputs;
  checkPublicSignals(instance, compiled.sym, nPublic);
  return { ...compiled, nConstraints: info.nConstraints, nPublic };
}

/**
 * The order of public signals is part of every verifier's ABI; the config states it and this
 * check makes the compiled circuit agree (witness index 1..nPublic are the public signals).
 */
function checkPublicSignals(instance: InstanceConfig, symFile: string, nPublic: number): void {
  const byWitness = new Map<number, string>();
  for (const line of readFileSync(symFile, "utf8").split("\n")) {
    const [, witness, , name] = line.split(",");
    if (name && witness) byWitness.set(Number(witness), name.replace(/^main\./, ""));
  }
  const actual = Array.from({ length: nPublic }, (_, i) => byWitness.get(i + 1) ?? "?");
  if (actual.join(",") !== instance.publicSignals.join(",")) {
    throw new SetupError(
      `instance ${instance.name}: circuits/instances.json says public signals [${instance.publicSignals.join(", ")}] but the circuit has [${actual.join(", ")}]`,
    );
  }
}
