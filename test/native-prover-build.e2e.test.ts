import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { appendFileSync, cpSync, existsSync, lstatSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import * as snarkjs from "snarkjs";
import { loadInstanceArtifacts } from "../packages/node/src/artifacts.ts";
import { buildCircuits } from "../packages/node/src/setup/build.ts";
import type { NativeProverRecord } from "../packages/node/src/setup/native-prover-build.ts";
import { findExecutable } from "../packages/node/src/setup/native-toolchain.ts";
import { defaultBuildPaths, instanceDir, PACKAGE_ROOT } from "../packages/node/src/setup/paths.ts";
import { releaseProverThreads } from "../packages/sdk/src/prover/release.ts";
import { solvencyInput } from "../packages/sdk/src/prover/witness/solvency.ts";
import { verifyProof } from "../packages/sdk/src/verifier/verify.ts";
import { assertOneLineError, zks, zksAsync } from "./helpers/cli.ts";
import { loadMarket, loadPolicy, loadPosition } from "./helpers/examples.ts";
import { TempDirs } from "./helpers/setup-fixtures.ts";

/** rapidsnark's upstream source with its submodules (../shared/tools/rapidsnark/README.md), as CI has it. */
const TARBALL = path.resolve(PACKAGE_ROOT, "../shared/tools/rapidsnark/rapidsnark-src.tar.gz");
const APT = "apt-get install -y cmake g\\+\\+ make libgmp-dev nasm nlohmann-json3-dev";

/** Skips (with the reason) unless CI demands the native prover (ZKS_REQUIRE_RAPIDSNARK=1). */
function requireOrSkip(context: Mocha.Context, missing: string | undefined): void {
  if (!missing) return;
  if (process.env.ZKS_REQUIRE_RAPIDSNARK === "1") throw new Error(`ZKS_REQUIRE_RAPIDSNARK=1 but ${missing}`);
  console.log(`      skipped: ${missing}`);
  context.skip();
}

function extract(into: string, ...tarOptions: string[]): string {
  const result = spawnSync("tar", ["xzf", TARBALL, "-C", into, ...tarOptions], { encoding: "utf8" });
  assert.equal(result.status, 0, result.stderr);
  return path.join(into, "rapidsnark");
}

/** Every name, symlink target and file content under `root`, with modes: any write into the tree changes it. */
function treeDigest(root: string): string {
  const hash = createHash("sha256");
  const visit = (dir: string): void => {
    for (const name of readdirSync(dir).sort()) {
      const full = path.join(dir, name);
      const stats = lstatSync(full);
      hash.update(`${path.relative(root, full)}\0${stats.mode}\0`);
      if (stats.isSymbolicLink()) hash.update(readlinkSync(full));
      else if (stats.isDirectory()) visit(full);
      else hash.update(readFileSync(full));
    }
  };
  visit(root);
  return hash.digest("hex");
}

/** A path inside a RegExp, matched literally. */
const literal = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

const sha256 = (file: string) => createHash("sha256").update(readFileSync(file)).digest("hex");

describe("zks setup --native-prover SRC_DIR: refuses what it cannot build (exit 3, one line)", function () {
  this.timeout(120_000);
  const temp = new TempDirs();
  after(() => temp.cleanup());
  const inTempBuild = (args: string[], env: NodeJS.ProcessEnv = {}) => zksAsync(["setup", "--native-prover", ...args], { ZKS_BUILD_DIR: temp.make("npb-build"), ...env });

  it("a directory that does not exist", async function () {
    const missing = path.join(temp.make("npb-missing"), "rapidsnark");
    const result = await inTempBuild([missing]);
    assert.equal(result.code, 3, result.stderr);
    assertOneLineError(result, new RegExp(`^zks: --native-prover: ${literal(missing)} does not exist; give a checkout of rapidsnark \\(git clone --recursive`));
  });

  it("a directory that is not rapidsnark (this repository)", async function () {
    const result = await inTempBuild([PACKAGE_ROOT]);
    assert.equal(result.code, 3, result.stderr);
    assertOneLineError(result, /^zks: --native-prover: .* is not a rapidsnark source checkout \(no CMakeLists\.txt declaring project\(rapidsnark\)\)/);
  });

  it("a CMake project named rapidsnark without the standalone prover's source", async function () {
    const dir = temp.make("npb-impostor");
    writeFileSync(path.join(dir, "CMakeLists.txt"), "cmake_minimum_required(VERSION 3.10)\nproject(rapidsnark LANGUAGES CXX)\n");
    const result = await inTempBuild([dir]);
    assert.equal(result.code, 3, result.stderr);
    assertOneLineError(result, /is not a rapidsnark source checkout \(no src\/main_prover\.cpp\)/);
  });

  it("a checkout without its submodules (clone without --recursive: depends/ffiasm empty)", async function () {
    requireOrSkip(this, existsSync(TARBALL) ? undefined : `no rapidsnark source at ${TARBALL}`);
    const source = extract(temp.make("npb-nosub"), "--exclude=rapidsnark/depends/ffiasm/*");
    assert.deepEqual(readdirSync(path.join(source, "depends", "ffiasm")), []);
    const result = await inTempBuild([source]);
    assert.equal(result.code, 3, result.stderr);
    assertOneLineError(result, new RegExp(`depends/ffiasm is empty, the checkout's submodules are missing: run git submodule update --init --recursive in ${literal(source)}$`));
  });

  it("no cmake, make, compiler or nasm on PATH: names them and the Debian packages", async function () {
    requireOrSkip(this, existsSync(TARBALL) ? undefined : `no rapidsnark source at ${TARBALL}`);
    const source = extract(temp.make("npb-nopath"));
    // The CLI needs no PATH itself (it runs as process.execPath); the build tools do.
    const result = await inTempBuild([source], { PATH: temp.make("npb-empty-path"), CXX: "", CC: "" });
    assert.equal(result.code, 3, result.stderr);
    assertOneLineError(
      result,
      new RegExp(
        `^zks: cannot build rapidsnark: missing cmake \\(Debian package cmake\\), make \\(make\\), a C\\+\\+ compiler \\(g\\+\\+\\), nasm \\(nasm\\), .*On Debian/Ubuntu: ${APT}$`,
      ),
    );
  });

  it("circuit flags with --native-prover are bad input (exit 2), not silently ignored", function () {
    const result = zks("setup", "--native-prover", PACKAGE_ROOT, "--instance", "commitment-3x3");
    assert.equal(result.code, 2, result.stderr);
    assertOneLineError(result, /^zks: --native-prover: builds only the native prover: run `zks setup --instance \.\.\.` for the circuits separately$/);
  });
});

describe("zks setup --native-prover SRC_DIR: builds rapidsnark from source", function () {
  // One build costs about 20 s on 2 idle cores; this block builds twice, plus one that fails early.
  this.timeout(900_000);
  const temp = new TempDirs();
  let source: string;
  let sourceDigest: string;
  let buildDir: string;
  let binary: string;
  let env: NodeJS.ProcessEnv;

  before(async function () {
    requireOrSkip(this, !existsSync(TARBALL) ? `no rapidsnark source at ${TARBALL}` : !findExecutable("cmake") ? "no cmake (apt-get install -y cmake)" : undefined);
    source = extract(temp.make("npb-src"));
    sourceDigest = treeDigest(source);
    buildDir = temp.make("npb-build");
    binary = path.join(buildDir, "bin", "rapidsnark");
    env = { ZKS_BUILD_DIR: buildDir };
    // The self-test proof needs a built commitment instance: the checkout's (cached), copied in.
    await buildCircuits({ instances: ["commitment-3x3", "solvency-3x3x16"] });
    cpSync(instanceDir(defaultBuildPaths(), "commitment-3x3"), path.join(buildDir, "circuits", "commitment-3x3"), { recursive: true });
  });
  after(async function () {
    await releaseProverThreads();
    temp.cleanup();
  });

  it("builds in a copy, proves and verifies a test proof, installs <buildDir>/bin/rapidsnark and its record", async function () {
    const result = await zksAsync(["setup", "--native-prover", source], env);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, new RegExp(`^zks setup: rapidsnark built in \\d+\\.\\d s from ${literal(source)}, installed at ${literal(binary)}\\n`));
    assert.match(result.stdout, /\n {2}test proof on commitment-3x3 verified with snarkjs \(\d+\.\d\d s\)\n/);
    for (const line of result.stderr.trim().split("\n")) assert.match(line, /^zks setup: rapidsnark: /);
    assert.match(result.stderr, /make -j\d+ prover/);
    assert.ok(statSync(binary).mode & 0o100, "installed executable");
    const record = JSON.parse(readFileSync(`${binary}.json`, "utf8")) as NativeProverRecord;
    assert.equal(record.sha256, sha256(binary));
    assert.equal(record.sourceDir, source);
    assert.equal(record.commit, null, "the tarball is no git checkout");
    assert.equal(record.nlohmannJson, "debian", "the tarball has no depends/json: Debian's headers are linked into the copy");
    assert.match(record.toolchain.cmake!, /^cmake version /);
    // Nothing was written into the checkout, and no staging file is left beside the binary.
    assert.equal(treeDigest(source), sourceDigest);
    assert.deepEqual(readdirSync(path.dirname(binary)).sort(), ["rapidsnark", "rapidsnark.json"]);
  });

  it("the built binary proves solvency-3x3x16 and snarkjs verifies the proof", async function () {
    const artifacts = loadInstanceArtifacts("solvency-3x3x16");
    const market = loadMarket();
    const signals = solvencyInput(loadPosition("position-healthy.json", market), market, loadPolicy(market), { nAssets: 3, nInstruments: 3, nScenarios: 16 });
    const witness: { type: "mem"; data?: Uint8Array } = { type: "mem" };
    await snarkjs.wtns.calculate(signals, artifacts.wasm, witness);
    const dir = temp.make("npb-proof");
    const [wtns, proofFile, publicFile] = ["witness.wtns", "proof.json", "public.json"].map((name) => path.join(dir, name)) as [string, string, string];
    writeFileSync(wtns, witness.data!);
    assert.equal(typeof artifacts.zkey, "string");
    const run = spawnSync(binary, [artifacts.zkey as string, wtns, proofFile, publicFile], { encoding: "utf8" });
    assert.equal(run.status, 0, run.stderr);
    const proof = { proof: JSON.parse(readFileSync(proofFile, "utf8")), publicSignals: JSON.parse(readFileSync(publicFile, "utf8")) as string[] };
    assert.equal(await verifyProof(artifacts.verificationKey, proof), true);
    const values = await snarkjs.wtns.exportJson({ type: "mem", data: witness.data });
    assert.deepEqual(proof.publicSignals, values.slice(1, 1 + artifacts.manifest.nPublic).map(String));
  });

  it("a second run with the same source is cached: no build, under 2 s for the whole command", async function () {
    const before = statSync(binary).mtimeMs;
    const started = performance.now();
    const result = await zksAsync(["setup", "--native-prover", source], env);
    const ms = performance.now() - started;
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, new RegExp(`^zks setup: rapidsnark cached in \\d+\\.\\d s \\(source unchanged since .*, binary sha256 matches\\): ${literal(binary)}\\n`));
    assert.equal(result.stderr, "");
    assert.equal(statSync(binary).mtimeMs, before);
    console.log(`      cached run: ${(ms / 1000).toFixed(2)} s`);
    assert.ok(ms < 2000, `cached run took ${ms.toFixed(0)} ms`);
    const json = await zksAsync(["setup", "--native-prover", source, "--json"], env);
    assert.equal(json.code, 0, json.stderr);
    const summary = JSON.parse(json.stdout) as { nativeProver: { binary: string; cached: boolean; sha256: string; selfTest: unknown } };
    assert.deepEqual([summary.nativeProver.binary, summary.nativeProver.cached, summary.nativeProver.sha256, summary.nativeProver.selfTest], [binary, true, sha256(binary), null]);
  });

  it("a compile error is one line with the failing source line (in SRC_DIR's terms) and the kept log; the installed binary stays", async function () {
    const broken = path.join(temp.make("npb-broken"), "rapidsnark");
    cpSync(source, broken, { recursive: true, verbatimSymlinks: true });
    // The field library is the first thing make compiles: the failure comes within seconds.
    appendFileSync(path.join(broken, "build", "fr.cpp"), "\n#error zks test: a deliberate compile error\n");
    const installed = sha256(binary);
    const result = await zksAsync(["setup", "--native-prover", broken], env);
    assert.equal(result.code, 3, result.stderr);
    const last = result.stderr.trim().split("\n").at(-1)!;
    const match = new RegExp(
      `^zks: building rapidsnark failed at make \\(exit code \\d+\\): ${literal(broken)}/build/fr\\.cpp:\\d+:\\d+: error: #error zks test: a deliberate compile error; full log: (\\S+)$`,
    ).exec(last);
    assert.ok(match, last);
    assert.match(readFileSync(match[1]!, "utf8"), /#error zks test: a deliberate compile error/);
    rmSync(path.dirname(match[1]!), { recursive: true, force: true });
    assert.doesNotMatch(result.stderr, /\bat .+:\d+:\d+\)?$/m);
    assert.equal(result.stdout, "");
    assert.equal(sha256(binary), installed);
    assert.deepEqual(readdirSync(path.dirname(binary)).sort(), ["rapidsnark", "rapidsnark.json"]);
  });

  it("a binary that no longer matches its record is rebuilt, not trusted", async function () {
    writeFileSync(binary, "#!/bin/sh\necho 'Usage: prover <circuit.zkey> <witness.wtns> <proof.json> <public.json>' >&2\nexit 1\n");
    const result = await zksAsync(["setup", "--native-prover", source], env);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^zks setup: rapidsnark built in /);
    assert.equal(sha256(binary), (JSON.parse(readFileSync(`${binary}.json`, "utf8")) as NativeProverRecord).sha256);
    assert.equal(readFileSync(binary).subarray(0, 4).toString("latin1"), "\x7fELF", "the built binary again, not the script");
  });
});
