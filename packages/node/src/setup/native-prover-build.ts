import { spawn, spawnSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import {
  appendFileSync,
  chmodSync,
  closeSync,
  copyFileSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import path from "node:path";
import type { CircuitSignals, VerificationKey } from "snarkjs";
import { SetupError } from "@zk-solvency/sdk/core";
// Only light modules are imported up front: a cached run loads none of snarkjs, the instance
// manifests or the prover, and `zks setup --native-prover` answers in about a second. The test
// proof imports them when a build needs it.
import { checkRapidsnark, RAPIDSNARK_FIX } from "../native-prover/probe.ts";
import { writeFileSafely } from "../write-file-safely.ts";
import { findExecutable } from "./native-toolchain.ts";
import { defaultBuildPaths, instanceDir, type BuildPaths } from "./paths.ts";

/** Everything a build needs, in one line a user can paste (Debian/Ubuntu). */
export const NATIVE_PROVER_APT = "apt-get install -y cmake g++ make libgmp-dev nasm nlohmann-json3-dev";

const CLONE = "git clone --recursive https://github.com/iden3/rapidsnark";

/** Debian's nlohmann-json3-dev: stands in for the depends/json submodule, which only the prover's headers need. */
const DEBIAN_NLOHMANN = "/usr/include/nlohmann";

/** The installed prover: `<buildDir>/bin/rapidsnark`, where `--prover auto` looks after ZKS_RAPIDSNARK. */
export function nativeProverInstallPath(paths: BuildPaths = defaultBuildPaths()): string {
  return path.join(paths.buildDir, "bin", "rapidsnark");
}

/** What `<buildDir>/bin/rapidsnark.json` records about the installed binary. */
export interface NativeProverRecord {
  /** The checkout it was built from (absolute). */
  sourceDir: string;
  /** `git rev-parse HEAD` of the checkout, when it is a git checkout. */
  commit: string | null;
  /** sha256 over the checkout's files (without .git and build trees): decides whether to rebuild. */
  sourceSha256: string;
  /** The build commands and platform: also part of the cache decision. */
  recipe: string;
  /** sha256 of the installed binary: a replaced or damaged binary is rebuilt. */
  sha256: string;
  builtAt: string;
  buildSeconds: number;
  /** Where nlohmann/json came from: the checkout's submodule or Debian's package. */
  nlohmannJson: "source" | "debian";
  /** First line of each tool's --version, for a bug report. */
  toolchain: Record<string, string>;
}

export interface NativeProverBuildOptions {
  /** A checkout of github.com/iden3/rapidsnark with its submodules. Never written to. */
  sourceDir: string;
  paths?: BuildPaths;
  /** Rebuild even when the installed binary is current. */
  force?: boolean;
  env?: NodeJS.ProcessEnv;
  /** Progress lines (the CLI prints them on stderr). */
  log?: (message: string) => void;
}

export interface NativeProverBuildResult {
  binary: string;
  record: NativeProverRecord;
  /** True when the installed binary was current and nothing was built. */
  cached: boolean;
  /** Wall time of this call. */
  seconds: number;
  /** The proof made with the new binary and verified before it was installed; absent when cached or no commitment instance is built. */
  selfTest?: { instance: string; ms: number };
}

/** A platform cmake can build for with upstream's CMakeLists: its flags and whether x86-64 assembly (nasm) is needed. */
interface Platform {
  cmakeArgs: string[];
  nasm: boolean;
}

function buildPlatform(): Platform {
  // upstream's Makefile: `host` (x86-64 assembly through nasm) and `host_arm64` (TARGET_PLATFORM=aarch64).
  if (process.platform === "linux" && process.arch === "x64") return { cmakeArgs: [], nasm: true };
  if (process.platform === "linux" && process.arch === "arm64") return { cmakeArgs: ["-DTARGET_PLATFORM=aarch64"], nasm: false };
  throw new SetupError(
    `zks setup --native-prover builds rapidsnark on Linux (x86-64, arm64), not ${process.platform}-${process.arch}: build it with upstream's instructions (github.com/iden3/rapidsnark, README) or take an upstream release binary, and set ZKS_RAPIDSNARK to it`,
  );
}

/** The commands a binary is built with: a change rebuilds it. */
function recipeOf(platform: Platform): string {
  return [`cmake -DCMAKE_BUILD_TYPE=Release ${platform.cmakeArgs.join(" ")}`.trim(), "make prover", `${process.platform}-${process.arch}`].join("; ");
}

/**
 * Builds rapidsnark's standalone `prover` from a source checkout and installs it as
 * `<buildDir>/bin/rapidsnark` with rapidsnark.json beside it. The build runs in a temporary copy
 * (upstream's CMakeLists writes nasm's objects into the source tree's build/), and the new
 * binary replaces the installed one only after it passed the probe and, when a commitment
 * instance is built, proved a witness that snarkjs verified: a broken build never displaces a
 * working prover. Cached: when rapidsnark.json records the same source content and recipe and
 * the installed binary still has the recorded sha256, nothing is built.
 */
export async function buildNativeProver(options: NativeProverBuildOptions): Promise<NativeProverBuildResult> {
  const started = performance.now();
  const env = options.env ?? process.env;
  const log = options.log ?? (() => {});
  const paths = options.paths ?? defaultBuildPaths(env);
  const sourceDir = path.resolve(options.sourceDir);
  // Everything that can be judged without building is judged before the first progress line,
  // so a wrong directory or a missing tool is the only line the user sees.
  checkRapidsnarkSource(sourceDir);
  const platform = buildPlatform();
  const recipe = recipeOf(platform);
  const binary = nativeProverInstallPath(paths);
  const recordFile = `${binary}.json`;
  const entries = sourceEntries(sourceDir);
  const sourceSha256 = snapshotSource(sourceDir, entries);
  const seconds = () => Number(((performance.now() - started) / 1000).toFixed(2));

  const recorded = readRecord(recordFile);
  if (!options.force && recorded && recorded.sourceSha256 === sourceSha256 && recorded.recipe === recipe && fileSha256(binary) === recorded.sha256) {
    try {
      await checkRapidsnark(binary);
      return { binary, record: recorded, cached: true, seconds: seconds() };
    } catch (error) {
      // Same bytes, yet it no longer runs: the system changed under it (e.g. libgmp). Rebuild against it.
      if (!(error instanceof SetupError)) throw error;
      log(`rapidsnark: the installed ${binary} no longer runs (${error.message}); rebuilding`);
    }
  }

  const tools = checkProverToolchain(sourceDir, platform, env);
  const nlohmannJson = tools.nlohmannJson;
  const commit = gitCommit(sourceDir, env);
  const work = mkdtempSync(path.join(tmpdir(), "zks-rapidsnark-build-"));
  const logDir = mkdtempSync(path.join(tmpdir(), "zks-rapidsnark-log-"));
  const logFile = path.join(logDir, "build.log");
  let keepLog = true;
  try {
    const copy = path.join(work, "rapidsnark");
    const cmakeDir = path.join(work, "build");
    log(`rapidsnark: building from ${sourceDir}${commit ? ` (commit ${commit.slice(0, 12)})` : ""} in ${copy}; log: ${logFile}`);
    // The copy is made from the bytes that were hashed, so the record describes what was built.
    if (snapshotSource(sourceDir, entries, copy) !== sourceSha256) {
      throw new SetupError(`--native-prover: ${sourceDir} changed while it was being read; run zks setup --native-prover again once it is stable`);
    }
    if (nlohmannJson === "debian") {
      const include = path.join(copy, "depends", "json", "single_include");
      rmSync(path.join(include, "nlohmann"), { recursive: true, force: true });
      mkdirSync(include, { recursive: true });
      symlinkSync(DEBIAN_NLOHMANN, path.join(include, "nlohmann"));
    }
    writeFileSync(logFile, `zks setup --native-prover ${sourceDir}: built in a copy at ${copy} (compiler paths below are in that copy)\n`);
    // LC_ALL=C: English compiler messages, so the failing line can be picked out of the log.
    const buildEnv = { ...env, LC_ALL: "C" };
    const step = { env: buildEnv, logFile, copy, sourceDir };
    log("rapidsnark: cmake -DCMAKE_BUILD_TYPE=Release...");
    await runLogged("cmake", "cmake", ["-S", copy, "-B", cmakeDir, "-DCMAKE_BUILD_TYPE=Release", ...platform.cmakeArgs], step);
    const jobs = availableParallelism();
    log(`rapidsnark: make -j${jobs} prover (about 20 s on 2 cores)...`);
    await runLogged("make", "make", ["-C", cmakeDir, `-j${jobs}`, "prover"], step);
    const built = path.join(cmakeDir, "src", "prover");
    if (!existsSync(built)) throw new SetupError(`building rapidsnark: make prover succeeded but wrote no ${built}; full log: ${logFile}`);

    const binDir = path.dirname(binary);
    mkdirSync(binDir, { recursive: true });
    // Staged beside its final name (same filesystem, so the rename is atomic) and checked there.
    const staged = path.join(binDir, `.rapidsnark.${process.pid}.${randomBytes(4).toString("hex")}.tmp`);
    try {
      copyFileSync(built, staged);
      chmodSync(staged, 0o755);
      // The test input is prepared first: a problem with the instance is not the binary's.
      const testInput = await selfTestInput(paths, log);
      log("rapidsnark: probing the new binary...");
      let selfTest: NativeProverBuildResult["selfTest"];
      try {
        await checkRapidsnark(staged);
        if (testInput) {
          log(`rapidsnark: test proof on ${testInput.instance}...`);
          const { rapidsnarkProve } = await import("../native-prover/index.ts");
          const { ms } = await rapidsnarkProve(staged, testInput.zkey, testInput.witness, testInput.verificationKey);
          selfTest = { instance: testInput.instance, ms: Math.round(ms) };
        }
      } catch (error) {
        // The fix is not the user's ZKS_RAPIDSNARK here but the source or the toolchain; the old binary stays.
        if (!(error instanceof SetupError)) throw error;
        const cause = error.message.replace(`; ${RAPIDSNARK_FIX}`, "").replace(`rapidsnark ${staged}: `, "");
        throw new SetupError(`the rapidsnark just built from ${sourceDir} fails its check, so it was not installed: ${cause}; full log: ${logFile}`);
      }
      const record: NativeProverRecord = {
        sourceDir,
        commit,
        sourceSha256,
        recipe,
        sha256: fileSha256(staged)!,
        builtAt: new Date().toISOString(),
        buildSeconds: seconds(),
        nlohmannJson,
        toolchain: tools.versions,
      };
      // Binary first: a crash between the two leaves a record whose sha256 does not match, i.e. a rebuild.
      renameSync(staged, binary);
      writeFileSafely(recordFile, `${JSON.stringify(record, null, 2)}\n`);
      keepLog = false;
      return { binary, record, cached: false, seconds: seconds(), selfTest };
    } finally {
      rmSync(staged, { force: true });
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
    if (!keepLog) rmSync(logDir, { recursive: true, force: true });
  }
}

/** The installed binary's record, or undefined when it is missing or not one of ours (a rebuild decides). */
export function readNativeProverRecord(paths: BuildPaths = defaultBuildPaths()): NativeProverRecord | undefined {
  return readRecord(`${nativeProverInstallPath(paths)}.json`);
}

function readRecord(file: string): NativeProverRecord | undefined {
  try {
    const value = JSON.parse(readFileSync(file, "utf8")) as Partial<NativeProverRecord>;
    const strings = [value.sourceSha256, value.recipe, value.sha256];
    return strings.every((s) => typeof s === "string" && s.length > 0) ? (value as NativeProverRecord) : undefined;
  } catch {
    return undefined;
  }
}

function fileSha256(file: string): string | undefined {
  try {
    return createHash("sha256").update(readFileSync(file)).digest("hex");
  } catch {
    return undefined;
  }
}

/**
 * A rapidsnark checkout: upstream's CMakeLists.txt (project rapidsnark), the standalone prover's
 * source, and the ffiasm submodule checked out (a clone without --recursive leaves it empty).
 */
export function checkRapidsnarkSource(sourceDir: string): void {
  let stats;
  try {
    stats = statSync(sourceDir);
  } catch {
    throw new SetupError(`--native-prover: ${sourceDir} does not exist; give a checkout of rapidsnark (${CLONE})`);
  }
  if (!stats.isDirectory()) throw new SetupError(`--native-prover: ${sourceDir} is not a directory; give a checkout of rapidsnark (${CLONE})`);
  const cmakeLists = path.join(sourceDir, "CMakeLists.txt");
  let declaresProject: boolean;
  try {
    declaresProject = statSync(cmakeLists).isFile() && /^\s*project\s*\(\s*rapidsnark\b/im.test(readFileSync(cmakeLists, "utf8"));
  } catch {
    declaresProject = false; // missing or unreadable
  }
  const mainProver = path.join(sourceDir, "src", "main_prover.cpp");
  if (!declaresProject || !existsSync(mainProver)) {
    const why = declaresProject ? `no ${path.join("src", "main_prover.cpp")}` : "no CMakeLists.txt declaring project(rapidsnark)";
    throw new SetupError(`--native-prover: ${sourceDir} is not a rapidsnark source checkout (${why}); give a checkout of rapidsnark (${CLONE})`);
  }
  const ffiasm = path.join(sourceDir, "depends", "ffiasm");
  if (!nonEmptyDirectory(ffiasm)) {
    throw new SetupError(`--native-prover: ${ffiasm} is empty, the checkout's submodules are missing: run git submodule update --init --recursive in ${sourceDir}`);
  }
}

function nonEmptyDirectory(dir: string): boolean {
  try {
    // A submodule that was never initialised is an empty directory (or one holding only a .git file).
    return statSync(dir).isDirectory() && readdirSync(dir).some((name) => name !== ".git");
  } catch {
    return false;
  }
}

/** nlohmann/json from the checkout's submodule, else Debian's headers, else none (named by the toolchain check). */
function nlohmannSource(sourceDir: string): "source" | "debian" | undefined {
  if (existsSync(path.join(sourceDir, "depends", "json", "single_include", "nlohmann", "json.hpp"))) return "source";
  if (existsSync(path.join(DEBIAN_NLOHMANN, "json.hpp"))) return "debian";
  return undefined;
}

interface SourceEntry {
  /** Relative, with "/" separators, as hashed. */
  rel: string;
  kind: "dir" | "file" | "link";
  mode: number;
}

/**
 * The checkout's sources in a fixed order. Left out, as not sources: version control (.git,
 * including submodules' .git files), node_modules, cmake build trees (upstream's build_* at the
 * top, or any directory holding a CMakeCache.txt) and object files (the nasm outputs upstream's
 * CMakeLists writes into build/, which holds sources too). Sockets and devices are skipped.
 */
function sourceEntries(root: string): SourceEntry[] {
  const entries: SourceEntry[] = [];
  const visit = (rel: string): void => {
    // Code-unit order: the same on every machine.
    for (const name of readdirSync(path.join(root, rel)).sort()) {
      if (name === ".git" || name === "node_modules") continue;
      const childRel = rel ? `${rel}/${name}` : name;
      const full = path.join(root, childRel);
      const stats = lstatSync(full);
      const mode = stats.mode & 0o777;
      if (stats.isSymbolicLink()) entries.push({ rel: childRel, kind: "link", mode });
      else if (stats.isDirectory()) {
        if ((rel === "" && name.startsWith("build_")) || existsSync(path.join(full, "CMakeCache.txt"))) continue;
        entries.push({ rel: childRel, kind: "dir", mode });
        visit(childRel);
      } else if (stats.isFile() && !name.endsWith(".o")) entries.push({ rel: childRel, kind: "file", mode });
    }
  };
  visit("");
  return entries;
}

/**
 * sha256 over the entries' kinds, paths and contents (a symlink by its target text); with `copyTo`,
 * also writes those very bytes there, so what is built is what was hashed.
 */
function snapshotSource(root: string, entries: SourceEntry[], copyTo?: string): string {
  const hash = createHash("sha256");
  if (copyTo) mkdirSync(copyTo, { recursive: true });
  for (const entry of entries) {
    const full = path.join(root, entry.rel);
    let body: Buffer;
    try {
      body = entry.kind === "file" ? readFileSync(full) : entry.kind === "link" ? Buffer.from(readlinkSync(full)) : Buffer.alloc(0);
    } catch (error) {
      throw new SetupError(`--native-prover: cannot read ${full}: ${(error as Error).message}`);
    }
    hash.update(`${entry.kind}\0${entry.rel}\0${body.length}\0`);
    hash.update(body);
    if (!copyTo) continue;
    const target = path.join(copyTo, entry.rel);
    if (entry.kind === "dir") mkdirSync(target, { recursive: true, mode: entry.mode | 0o700 });
    else if (entry.kind === "link") symlinkSync(body.toString(), target);
    else writeFileSync(target, body, { mode: entry.mode | 0o600 });
  }
  return hash.digest("hex");
}

function gitCommit(sourceDir: string, env: NodeJS.ProcessEnv): string | null {
  if (!existsSync(path.join(sourceDir, ".git"))) return null;
  const result = spawnSync("git", ["-C", sourceDir, "rev-parse", "HEAD"], { encoding: "utf8", env, stdio: ["ignore", "pipe", "ignore"], timeout: 10_000 });
  const commit = result.status === 0 ? result.stdout.trim() : "";
  return /^[0-9a-f]{40}([0-9a-f]{24})?$/.test(commit) ? commit : null;
}

/**
 * Every tool the build needs, checked before anything runs, with one SetupError listing every
 * missing piece and the one apt-get line that installs them all.
 */
function checkProverToolchain(sourceDir: string, platform: Platform, env: NodeJS.ProcessEnv): { versions: Record<string, string>; nlohmannJson: "source" | "debian" } {
  const missing: string[] = [];
  const nlohmannJson = nlohmannSource(sourceDir);
  const cmake = findExecutable("cmake", env);
  const make = findExecutable("make", env);
  // cmake picks $CXX / $CC, else c++ / cc (g++ / gcc on Debian).
  const cxx = [env.CXX?.trim().split(/\s+/)[0], "c++", "g++"]
    .filter((c): c is string => Boolean(c))
    .map((c) => findExecutable(c, env))
    .find(Boolean);
  const cc = [env.CC?.trim().split(/\s+/)[0], "cc", "gcc"]
    .filter((c): c is string => Boolean(c))
    .map((c) => findExecutable(c, env))
    .find(Boolean);
  const nasm = platform.nasm ? findExecutable("nasm", env) : undefined;
  if (!cmake) missing.push("cmake (Debian package cmake)");
  if (!make) missing.push("make (make)");
  if (!cxx || !cc) missing.push(`a ${cxx ? "C" : "C++"} compiler (g++)`);
  if (platform.nasm && !nasm) missing.push("nasm (nasm)");
  // upstream's build_gmp.sh puts a static GMP in depends/gmp/package; without it, the system's.
  const bundledGmp = existsSync(path.join(sourceDir, "depends", "gmp", "package", "include", "gmp.h"));
  if (!bundledGmp && (!cxx || !gmpUsable(cxx, env))) missing.push("the GMP library and header gmp.h (libgmp-dev)");
  if (!nlohmannJson) missing.push(`nlohmann/json.hpp (nlohmann-json3-dev, or the depends/json submodule: git submodule update --init --recursive in ${sourceDir})`);
  if (missing.length > 0 || !nlohmannJson) throw new SetupError(`cannot build rapidsnark: missing ${missing.join(", ")}. On Debian/Ubuntu: ${NATIVE_PROVER_APT}`);
  const versions: Record<string, string> = {};
  for (const [name, tool, flag] of [["cmake", cmake!, "--version"], ["make", make!, "--version"], ["c++", cxx!, "--version"], ...(nasm ? [["nasm", nasm, "-v"]] : [])] as [
    string,
    string,
    string,
  ][]) {
    const result = spawnSync(tool, [flag], { encoding: "utf8", env, timeout: 10_000 });
    versions[name] = (result.stdout ?? "").split("\n")[0]!.trim() || tool;
  }
  return { versions, nlohmannJson };
}

/** The header by preprocessing, the library by linking: a header without the library fails only at link time. */
function gmpUsable(cxx: string, env: NodeJS.ProcessEnv): boolean {
  const work = mkdtempSync(path.join(tmpdir(), "zks-gmp-"));
  try {
    const program = "#include <gmp.h>\nint main() { mpz_t x; mpz_init(x); mpz_clear(x); return 0; }\n";
    const linked = spawnSync(cxx, ["-x", "c++", "-", "-o", path.join(work, "probe"), "-lgmp"], { input: program, env, stdio: ["pipe", "ignore", "ignore"], timeout: 60_000 });
    return linked.status === 0;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

interface StepContext {
  env: NodeJS.ProcessEnv;
  logFile: string;
  /** The temporary copy and the user's checkout: compiler paths in the copy are reported as the user's. */
  copy: string;
  sourceDir: string;
}

/** Runs one build step with its output appended to the log; a failure is one line: the step, the telling line, the log. */
async function runLogged(step: string, command: string, args: string[], context: StepContext): Promise<void> {
  appendFileSync(context.logFile, `\n$ ${command} ${args.join(" ")}\n`);
  const offset = statSync(context.logFile).size;
  const fd = openSync(context.logFile, "a");
  let outcome: { code: number | null; signal: NodeJS.Signals | null } | { error: Error };
  try {
    outcome = await new Promise((resolve) => {
      const child = spawn(command, args, { env: context.env, stdio: ["ignore", fd, fd] });
      child.on("error", (error) => resolve({ error }));
      child.on("close", (code, signal) => resolve({ code, signal }));
    });
  } finally {
    closeSync(fd);
  }
  if ("error" in outcome) throw new SetupError(`building rapidsnark: cannot run ${command}: ${outcome.error.message}; full log: ${context.logFile}`);
  if (outcome.code === 0) return;
  const output = readFileSync(context.logFile, "utf8").slice(offset);
  const status = outcome.signal ? `killed by ${outcome.signal}` : `exit code ${outcome.code}`;
  throw new SetupError(`building rapidsnark failed at ${step} (${status}): ${tellingLine(output, context)}; full log: ${context.logFile}`);
}

/**
 * The line that says what went wrong: cmake's last "CMake Error" with its first detail line, else
 * the compiler's or linker's last error (make's "*** Error" lines, collect2's summary, gcc's
 * source excerpts and progress lines say nothing new), else the last line with any content.
 */
function tellingLine(output: string, context: { copy: string; sourceDir: string }): string {
  const lines = output.split("\n").map((line) => line.trimEnd());
  const cmakeError = lines.findLastIndex((line) => line.startsWith("CMake Error"));
  let found: string | undefined;
  if (cmakeError >= 0) {
    const detail = lines.slice(cmakeError + 1).find((line) => line.trim() !== "");
    found = `${lines[cmakeError]!.replace(/:$/, "")}: ${detail?.trim() ?? ""}`;
  } else {
    const noise =
      /^(g?make(\[\d+\])?: |\[\s*\d+%\]|-- |collect2: |compilation terminated\.|In file included from |\s+from |\s*\d* \| |.*: In (member |static )?function |.*: At global scope:|\$ )/;
    const meaningful = lines.filter((line) => line.trim() !== "" && !noise.test(line));
    // make's own complaint (e.g. no rule for the target) when nothing else was said.
    found = meaningful.findLast((line) => /\b(error|undefined reference)\b/i.test(line)) ?? meaningful.at(-1) ?? lines.findLast((line) => line.trim() !== "");
  }
  if (!found) return "no output (see the log)";
  const line = found.split(`${context.copy}/`).join(`${context.sourceDir}/`).replace(/\s+/g, " ").trim();
  return line.length > 400 ? `${line.slice(0, 397)}...` : line;
}

/**
 * The test proof's input: a commitment opening on the first built PositionCommitment instance
 * (instances.json order: commitment-3x3, the smallest, first), which rapidsnarkProve proves,
 * verifies with snarkjs and checks against the witness's own public signals. A commitment
 * instance because any in-range opening is a valid input, so no market, policy or position file
 * is needed. Undefined when none is built.
 */
async function selfTestInput(
  paths: BuildPaths,
  log: (message: string) => void,
): Promise<{ instance: string; zkey: string; witness: Uint8Array; verificationKey: VerificationKey } | undefined> {
  const [{ loadInstances }, { manifestFiles, readManifest }, { loadInstanceArtifacts }, snarkjs] = await Promise.all([
    import("./instances.ts"),
    import("./manifest.ts"),
    import("../artifacts.ts"),
    import("snarkjs"),
  ]);
  const instance = loadInstances()
    .filter((config) => config.template === "PositionCommitment")
    .find((config) => readManifest(instanceDir(paths, config.name))?.setupKey !== undefined);
  if (!instance) {
    log("rapidsnark: no commitment instance is built, so no test proof (zks setup --instance commitment-3x3 makes one possible)");
    return undefined;
  }
  const artifacts = loadInstanceArtifacts(instance.name, paths);
  const [nAssets, nInstruments] = artifacts.manifest.params as [number, number];
  // Any in-range opening will do; these values make every packed word non-zero.
  const signals: CircuitSignals = {
    account: "1",
    nonce: "1",
    salt: "1",
    collateral: Array.from({ length: nAssets }, (_, i) => String(i + 1)),
    debt: Array.from({ length: nAssets }, (_, i) => String(i)),
    quantity: Array.from({ length: nInstruments }, (_, k) => String(k)),
  };
  const witness: { type: "mem"; data?: Uint8Array } = { type: "mem" };
  try {
    await snarkjs.wtns.calculate(signals, artifacts.wasm, witness);
  } catch (error) {
    const message = (error instanceof Error ? error.message : String(error)).split("\n")[0];
    throw new SetupError(`the test proof's witness on ${instance.name} failed (${message}): rebuild the instance with zks setup --force --instance ${instance.name}`);
  }
  // loadInstanceArtifacts gives files by path; the manifest's are typed as such.
  const zkey = manifestFiles(instanceDir(paths, instance.name), artifacts.manifest).zkey;
  return { instance: instance.name, zkey, witness: witness.data!, verificationKey: artifacts.verificationKey };
}
