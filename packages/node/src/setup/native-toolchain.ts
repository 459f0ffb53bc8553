import { spawnSync } from "node:child_process";
import { accessSync, constants, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { SetupError } from "@zk-solvency/sdk/core";

/** The tools circom's C++ witness generator needs, as `zks setup --native-witness` will use them. */
export interface NativeToolchain {
  /** C++ compiler command: $ZKS_CXX, else g++ (circom's Makefile assumes a GCC-compatible one). */
  cxx: string;
  /** nasm is optional: without it circom emits portable C++ field arithmetic (`--no_asm`). */
  asm: boolean;
}

/** One missing piece: what it is and the Debian package that provides it. */
interface Missing {
  what: string;
  debianPackage: string;
}

/** An executable found the way a shell would: a path as given, else the first match on PATH. */
export function findExecutable(command: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const executable = (file: string): boolean => {
    try {
      accessSync(file, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  };
  if (command.includes(path.sep)) return executable(command) ? path.resolve(command) : undefined;
  for (const dir of (env.PATH ?? "").split(path.delimiter).filter(Boolean)) {
    const candidate = path.join(dir, command);
    if (executable(candidate)) return candidate;
  }
  return undefined;
}

/**
 * Which compiler and field arithmetic a native build would use. Cheap (no process is started),
 * so a cached build can decide it is current without probing the toolchain.
 */
export function nativeToolchainChoice(env: NodeJS.ProcessEnv = process.env): NativeToolchain {
  return { cxx: env.ZKS_CXX || "g++", asm: findExecutable("nasm", env) !== undefined };
}

/**
 * Probes everything the C++ witness generator's Makefile needs and throws one SetupError
 * listing every missing piece with its Debian package, so a user fixes it in one go.
 */
export function checkNativeToolchain(choice: NativeToolchain, env: NodeJS.ProcessEnv = process.env): void {
  const missing: Missing[] = [];
  const cxx = findExecutable(choice.cxx, env);
  if (!cxx) {
    const origin = env.ZKS_CXX ? ` (from ZKS_CXX)` : "";
    missing.push({ what: `the C++ compiler "${choice.cxx}"${origin}`, debianPackage: "g++" });
  }
  if (!findExecutable("make", env)) missing.push({ what: "make", debianPackage: "make" });
  if (cxx) missing.push(...missingLibraries(cxx, env));
  if (missing.length === 0) return;
  // Without a compiler the libraries cannot be probed, so their packages are named too.
  const packages = [...new Set([...missing.map((m) => m.debianPackage), ...(cxx ? [] : ["libgmp-dev", "nlohmann-json3-dev"])])];
  throw new SetupError(
    `cannot build the native witness generator: missing ${missing.map((m) => `${m.what} (Debian package ${m.debianPackage})`).join(", ")}. ` +
      `On Debian/Ubuntu: apt-get install -y ${packages.join(" ")}${cxx ? "" : " (or set ZKS_CXX to a C++ compiler)"}. ` +
      "Without --native-witness the portable wasm witness needs none of this.",
  );
}

/** Headers by preprocessing (fast), GMP also by linking, since a header without the library fails only at link time. */
function missingLibraries(cxx: string, env: NodeJS.ProcessEnv): Missing[] {
  const missing: Missing[] = [];
  const preprocesses = (header: string) =>
    spawnSync(cxx, ["-E", "-x", "c++", "-", "-o", "/dev/null"], { input: `#include <${header}>\n`, env, stdio: ["pipe", "ignore", "ignore"] }).status === 0;
  if (!preprocesses("gmp.h")) missing.push({ what: "the GMP header gmp.h", debianPackage: "libgmp-dev" });
  if (!preprocesses("nlohmann/json.hpp")) missing.push({ what: "the header nlohmann/json.hpp", debianPackage: "nlohmann-json3-dev" });
  if (missing.length === 0) {
    const work = mkdtempSync(path.join(tmpdir(), "zks-gmp-"));
    try {
      const program = "#include <gmp.h>\nint main() { mpz_t x; mpz_init(x); mpz_clear(x); return 0; }\n";
      const linked = spawnSync(cxx, ["-x", "c++", "-", "-o", path.join(work, "probe"), "-lgmp"], { input: program, env, stdio: ["pipe", "ignore", "ignore"] });
      if (linked.status !== 0) missing.push({ what: "the GMP library (-lgmp)", debianPackage: "libgmp-dev" });
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  }
  return missing;
}
