import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { availableParallelism, tmpdir } from "node:os";
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { CircuitSignals } from "snarkjs";
import { InputError, SetupError, ZksError } from "../packages/sdk/src/core/errors.ts";
import { loadInstanceArtifacts, type InstanceArtifacts } from "../packages/node/src/artifacts.ts";
import { NO_RAPIDSNARK, parseProverChoice, resolveProverBackend, type ProverBackend } from "../packages/node/src/native-prover/backend.ts";
import { checkRapidsnark } from "../packages/node/src/native-prover/probe.ts";
import { rapidsnarkProve, rapidsnarkTimeoutMs } from "../packages/node/src/native-prover/rapidsnark.ts";
import { nativeGenerator, proveBuiltInstance } from "../packages/node/src/prove-built.ts";
import { ProverPool } from "../packages/node/src/prover-pool/prover-pool.ts";
import { defaultBuildPaths } from "../packages/node/src/setup/paths.ts";
import { keeperPublicKeyFileJson } from "../packages/sdk/src/encryption/keeper-key.ts";
import { parseProofFile } from "../packages/sdk/src/proof-file/proof-file.ts";
import { UnprovableError } from "../packages/sdk/src/prover/errors.ts";
import { releaseProverThreads } from "../packages/sdk/src/prover/release.ts";
import { calculateWitness } from "../packages/sdk/src/prover/witness.ts";
import { solvencyInput } from "../packages/sdk/src/prover/witness/solvency.ts";
import { verifyProof } from "../packages/sdk/src/verifier/verify.ts";
import { assertOneLineError, zksAsync } from "./helpers/cli.ts";
import { example, loadMarket, loadPolicy, loadPosition } from "./helpers/examples.ts";
import { TEST_KEEPER } from "./helpers/keeper-key.ts";
import { needRapidsnark, RAPIDSNARK } from "./helpers/native-prover.ts";

const INSTANCE = "solvency-3x3x16";
const USAGE = 'echo "Invalid number of parameters" >&2; echo "Usage: prover <circuit.zkey> <witness.wtns> <proof.json> <public.json>" >&2; exit 1';
/** How every error about a broken binary ends. */
const FIX = /; use --prover snarkjs or fix ZKS_RAPIDSNARK$/;

/** An executable shell script; `proving` runs when called with rapidsnark's four arguments, the usage line answers the probe. */
function script(dir: string, name: string, proving: string, probe = USAGE): string {
  const file = path.join(dir, name);
  // Its own PATH: the CLI tests run it with a PATH that has nothing on it.
  writeFileSync(file, `#!/bin/sh\nPATH=/usr/bin:/bin\nif [ $# -ne 4 ]; then ${probe}; fi\n${proving}\n`);
  chmodSync(file, 0o755);
  return file;
}

/** Whether a process runs: a zombie (killed, its parent gone, not yet reaped by init) does not. */
function running(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return false;
  }
}

/** `running(pid)` within `ms`: SIGKILL is delivered asynchronously. */
async function stopsRunning(pid: number, ms = 3000): Promise<boolean> {
  for (const until = Date.now() + ms; Date.now() < until; await new Promise((resolve) => setTimeout(resolve, 50))) if (!running(pid)) return true;
  return !running(pid);
}

/** Resolves when `file` exists (a fake prover writes its pid there when it starts). */
async function appears(file: string, ms = 20_000): Promise<void> {
  const until = Date.now() + ms;
  while (!existsSync(file) || readFileSync(file, "utf8").trim() === "") {
    if (Date.now() > until) throw new Error(`${file} did not appear in ${ms / 1000} s`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const rapidsnark = (binary: string): ProverBackend => ({ kind: "rapidsnark", binary, found: "ZKS_RAPIDSNARK" });

describe("native prover (rapidsnark)", function () {
  let dir: string;
  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), "zks-native-prover-"));
  });
  after(async () => {
    rmSync(dir, { recursive: true, force: true });
    await releaseProverThreads();
  });

  describe("choosing the prover", function () {
    let bin: string;
    let buildDir: string;
    before(() => {
      bin = path.join(dir, "choice-bin");
      buildDir = path.join(dir, "choice-build");
      mkdirSync(bin);
      mkdirSync(path.join(buildDir, "bin"), { recursive: true });
    });
    const paths = () => ({ ...defaultBuildPaths({}), buildDir });

    it("takes auto, snarkjs and rapidsnark; any other name is bad input (exit 2) naming where it came from", function () {
      for (const name of ["auto", "snarkjs", "rapidsnark"]) assert.equal(parseProverChoice(name, "--prover"), name);
      assert.throws(
        () => parseProverChoice("foo", "--prover"),
        (error: unknown) => error instanceof InputError && error.exitCode === 2 && error.message === '--prover: expected one of auto, snarkjs, rapidsnark, got "foo"',
      );
      assert.throws(
        () => resolveProverBackend(undefined, { env: { ZKS_PROVER: "native" }, paths: paths() }),
        (error: unknown) => error instanceof InputError && error.message === 'ZKS_PROVER: expected one of auto, snarkjs, rapidsnark, got "native"',
      );
    });

    it("finds ZKS_RAPIDSNARK, then <buildDir>/bin/rapidsnark, then rapidsnark on PATH, then prover on PATH; auto without any is snarkjs", function () {
      const explicit = script(dir, "explicit-prover", "exit 1");
      const installed = script(path.join(buildDir, "bin"), "rapidsnark", "exit 1");
      const onPath = script(bin, "rapidsnark", "exit 1");
      const named = script(bin, "prover", "exit 1");
      const env = { PATH: `relative/dir${path.delimiter}${bin}`, ZKS_RAPIDSNARK: explicit };
      assert.deepEqual(resolveProverBackend("auto", { env, paths: paths() }), { kind: "rapidsnark", binary: explicit, found: "ZKS_RAPIDSNARK" });
      assert.deepEqual(resolveProverBackend("rapidsnark", { env: { PATH: env.PATH }, paths: paths() }), { kind: "rapidsnark", binary: installed, found: "build" });
      rmSync(installed);
      assert.deepEqual(resolveProverBackend(undefined, { env: { PATH: env.PATH }, paths: paths() }), { kind: "rapidsnark", binary: onPath, found: "PATH" });
      rmSync(onPath);
      assert.deepEqual(resolveProverBackend("auto", { env: { PATH: env.PATH }, paths: paths() }), { kind: "rapidsnark", binary: named, found: "PATH" });
      // snarkjs, asked for, never looks.
      assert.deepEqual(resolveProverBackend("snarkjs", { env, paths: paths() }), { kind: "snarkjs" });
      assert.deepEqual(resolveProverBackend(undefined, { env: { ...env, ZKS_PROVER: "snarkjs" }, paths: paths() }), { kind: "snarkjs" });
      rmSync(named);
      assert.deepEqual(resolveProverBackend("auto", { env: { PATH: env.PATH }, paths: paths() }), { kind: "snarkjs" });
      assert.deepEqual(resolveProverBackend(undefined, { env: {}, paths: paths() }), { kind: "snarkjs" });
    });

    it("rapidsnark asked for (--prover or ZKS_PROVER) and none found is exit 3 saying how to get one", function () {
      for (const attempt of [
        () => resolveProverBackend("rapidsnark", { env: { PATH: bin }, paths: paths() }),
        () => resolveProverBackend(undefined, { env: { ZKS_PROVER: "rapidsnark" }, paths: paths() }),
      ]) {
        assert.throws(attempt, (error: unknown) => error instanceof SetupError && error.exitCode === 3 && error.message === NO_RAPIDSNARK);
      }
      assert.match(NO_RAPIDSNARK, /ZKS_RAPIDSNARK=\/path\/to\/prover.*PATH.*`zks setup --native-prover SRC_DIR`/);
    });

    it("a `prover` on PATH that does not answer like rapidsnark is another program: passed over", function () {
      // Its own directory: a probe's verdict is kept for the life of the process, by path.
      const otherBin = path.join(dir, "other-bin");
      mkdirSync(otherBin);
      script(otherBin, "prover", "exit 0", 'echo "prover: theorem prover 1.0"; exit 0');
      assert.deepEqual(resolveProverBackend("auto", { env: { PATH: otherBin }, paths: paths() }), { kind: "snarkjs" });
      assert.throws(
        () => resolveProverBackend("rapidsnark", { env: { PATH: otherBin }, paths: paths() }),
        (error: unknown) => error instanceof SetupError && error.message === NO_RAPIDSNARK,
      );
    });

    it("ZKS_RAPIDSNARK at a missing file, a directory or a non-executable file is exit 3 naming the variable and the path, under auto too", function () {
      const plain = path.join(dir, "not-executable");
      writeFileSync(plain, "#!/bin/sh\n");
      chmodSync(plain, 0o644);
      for (const [target, problem] of [
        [path.join(dir, "missing"), "no such file"],
        [bin, "not a file"],
        [plain, "not executable"],
      ] as const) {
        for (const choice of ["auto", "rapidsnark"] as const) {
          assert.throws(
            () => resolveProverBackend(choice, { env: { ZKS_RAPIDSNARK: target }, paths: paths() }),
            (error: unknown) => error instanceof SetupError && error.message.startsWith(`ZKS_RAPIDSNARK=${target}: ${problem}`) && !error.message.includes("\n"),
          );
        }
      }
    });

    it("the native witness generator comes from the build dir the artifacts were loaded from, not the default one", function () {
      // Two build dirs, each with its own generator for the same instance: a generator of another
      // build would compute witnesses for another circuit, under this build's proving key.
      const built = path.join(defaultBuildPaths().buildDir, "circuits", INSTANCE);
      const buildDirs = ["default-build", "other-build"].map((name) => {
        const instanceDir = path.join(dir, name, "circuits", INSTANCE);
        mkdirSync(path.join(instanceDir, "main_cpp"), { recursive: true });
        const manifest = JSON.parse(readFileSync(path.join(built, "manifest.json"), "utf8")) as Record<string, unknown>;
        writeFileSync(path.join(instanceDir, "manifest.json"), JSON.stringify({ ...manifest, nativeWitness: { binary: "main_cpp/main", dat: "main_cpp/main.dat" } }));
        copyFileSync(path.join(built, "verification_key.json"), path.join(instanceDir, "verification_key.json"));
        for (const file of ["main_cpp/main", "main_cpp/main.dat", "circuit.zkey"]) writeFileSync(path.join(instanceDir, file), "");
        return path.join(dir, name);
      });
      const saved = process.env.ZKS_BUILD_DIR;
      process.env.ZKS_BUILD_DIR = buildDirs[0];
      try {
        const artifacts = loadInstanceArtifacts(INSTANCE, { ...defaultBuildPaths(), buildDir: buildDirs[1]! });
        assert.equal(nativeGenerator(artifacts)?.binary, path.join(buildDirs[1]!, "circuits", INSTANCE, "main_cpp", "main"));
        // Key bytes name no directory: no generator is guessed for them.
        assert.equal(nativeGenerator({ ...artifacts, zkey: new Uint8Array() }), undefined);
      } finally {
        if (saved === undefined) delete process.env.ZKS_BUILD_DIR;
        else process.env.ZKS_BUILD_DIR = saved;
      }
    });

    it("a torn install in the build dir (not executable) is reported, not passed over", function () {
      const torn = path.join(buildDir, "bin", "rapidsnark");
      writeFileSync(torn, "");
      chmodSync(torn, 0o644);
      try {
        assert.throws(() => resolveProverBackend("auto", { env: {}, paths: paths() }), /bin\/rapidsnark: not executable .*zks setup --native-prover SRC_DIR/);
      } finally {
        rmSync(torn);
      }
    });
  });

  describe("proving", function () {
    let artifacts: InstanceArtifacts;
    let healthy: CircuitSignals;
    let atRisk: CircuitSignals;
    /** The healthy position under another context: another statement, with a valid proof of its own. */
    let other: CircuitSignals;
    let otherDir: string;
    let fakes: Record<"notRapidsnark" | "crashes" | "fails" | "writesNothing" | "forged" | "swapped" | "threads" | "hangs" | "env", string>;
    let threadLog: string;
    /** Where `hangs` writes its pid, and `env` its environment. */
    let hangPid: string;
    let envLog: string;

    before(async function () {
      needRapidsnark(this);
      artifacts = loadInstanceArtifacts(INSTANCE);
      const market = loadMarket();
      const policy = loadPolicy(market);
      const layout = { nAssets: 3, nInstruments: 3, nScenarios: 16 };
      healthy = solvencyInput(loadPosition("position-healthy.json", market), market, policy, layout);
      other = solvencyInput(loadPosition("position-healthy.json", market), market, policy, layout, "position", 7n);
      // The at-risk example fails the stress check: the circuit has no witness for it.
      atRisk = solvencyInput(loadPosition("position-at-risk.json", market), market, policy, layout);

      otherDir = path.join(dir, "other");
      mkdirSync(otherDir);
      const otherProof = await proveBuiltInstance(other, artifacts, { prover: rapidsnark(RAPIDSNARK) });
      writeFileSync(path.join(otherDir, "proof.json"), JSON.stringify(otherProof.proof));
      writeFileSync(path.join(otherDir, "public.json"), JSON.stringify(otherProof.publicSignals));

      const fakeDir = path.join(dir, "fakes");
      mkdirSync(fakeDir);
      threadLog = path.join(dir, "threads.log");
      hangPid = path.join(dir, "hang.pid");
      envLog = path.join(dir, "env.log");
      fakes = {
        notRapidsnark: script(fakeDir, "not-rapidsnark", "exit 0", 'echo "usage: prover [--verbose] FILE"; exit 2'),
        crashes: script(fakeDir, "crashes", "kill -SEGV $$"),
        fails: script(fakeDir, "fails", 'echo "Error: Invalid witness length. Circuit: 17592, witness: 3" >&2; exit 1'),
        writesNothing: script(fakeDir, "writes-nothing", "exit 0"),
        // A valid proof, but of another input (both files copied).
        forged: script(fakeDir, "forged", `cp "${otherDir}/proof.json" "$3" && cp "${otherDir}/public.json" "$4"`),
        // The right public signals with another input's proof: it does not verify.
        swapped: script(fakeDir, "swapped", `"${RAPIDSNARK}" "$@" && cp "${otherDir}/proof.json" "$3"`),
        // The real prover, recording the OMP_NUM_THREADS it was given.
        threads: script(fakeDir, "threads", `echo "\${OMP_NUM_THREADS-unset}" >> "${threadLog}"; exec "${RAPIDSNARK}" "$@"`),
        // Never finishes: it says its pid and becomes `sleep` (same pid), which the timeout or a close() must kill.
        hangs: script(fakeDir, "hangs", `echo $$ > "${hangPid}"; exec sleep 60`),
        // What it was given to run with.
        env: script(fakeDir, "env", `env > "${envLog}"; exit 1`),
      };
    });

    it("both backends prove the same input, snarkjs verifies both, and their public signals are the same", async function () {
      const native = nativeGenerator(artifacts) ? "native" : "wasm";
      const bySnarkjs = await proveBuiltInstance(healthy, artifacts, { prover: "snarkjs" });
      const byRapidsnark = await proveBuiltInstance(healthy, artifacts, { prover: rapidsnark(RAPIDSNARK) });
      assert.equal(bySnarkjs.prover, "snarkjs");
      assert.equal(byRapidsnark.prover, "rapidsnark");
      assert.equal(byRapidsnark.witness, native);
      assert.equal(await verifyProof(artifacts.verificationKey, bySnarkjs), true);
      assert.equal(await verifyProof(artifacts.verificationKey, byRapidsnark), true);
      assert.deepEqual(byRapidsnark.publicSignals, bySnarkjs.publicSignals);
      assert.ok(byRapidsnark.timings.witnessMs > 0 && byRapidsnark.timings.proofMs > 0);
    });

    it("rapidsnarkProve takes the witness as bytes or as a file, and OMP_NUM_THREADS only when told", async function () {
      const witness = (await calculateWitness(healthy, artifacts.wasm, INSTANCE)).data!;
      const file = path.join(dir, "healthy.wtns");
      writeFileSync(file, witness);
      rmSync(threadLog, { force: true });
      const fromBytes = await rapidsnarkProve(fakes.threads, artifacts.zkey as string, witness, artifacts.verificationKey);
      const fromFile = await rapidsnarkProve(fakes.threads, artifacts.zkey as string, { file }, artifacts.verificationKey, { threads: 1 });
      assert.deepEqual(readFileSync(threadLog, "utf8").split("\n").filter(Boolean), [process.env.OMP_NUM_THREADS ?? "unset", "1"]);
      for (const proof of [fromBytes, fromFile]) {
        assert.equal(await verifyProof(artifacts.verificationKey, proof), true);
        assert.ok(proof.ms > 0);
      }
      assert.deepEqual(fromFile.publicSignals, fromBytes.publicSignals);
    });

    it("a broken binary is exit 3, one line naming it and the cause, never an UnprovableError; nothing it wrote is returned", async function () {
      const witness = (await calculateWitness(healthy, artifacts.wasm, INSTANCE)).data!;
      const cases: [string, RegExp][] = [
        [fakes.notRapidsnark, /: not rapidsnark's prover \(run without arguments it should print "Usage: prover .*"; it printed "usage: prover \[--verbose\] FILE"\)/],
        [fakes.crashes, /: it crashed \(SIGSEGV\) while proving/],
        [fakes.fails, /: it failed \(exit 1\): "Error: Invalid witness length\. Circuit: 17592, witness: 3"/],
        [fakes.writesNothing, /: it exited 0 but wrote no proof\.json/],
        [fakes.forged, /: its public signal 5 is 7, but the witness it was given has 0: not a proof of this input/],
        [fakes.swapped, /: it wrote a proof that does not verify under the instance's verification key \(snarkjs\)/],
      ];
      for (const [binary, cause] of cases) {
        await assert.rejects(rapidsnarkProve(binary, artifacts.zkey as string, witness, artifacts.verificationKey), (error: unknown) => {
          assert.ok(error instanceof SetupError && !(error instanceof UnprovableError), `${binary}: ${String(error)}`);
          assert.equal(error.exitCode, 3);
          assert.ok(error.message.startsWith(`rapidsnark ${binary}: `), error.message);
          assert.match(error.message, cause);
          assert.match(error.message, FIX);
          assert.doesNotMatch(error.message, /\n/);
          return true;
        });
      }
      // The probe's verdict is kept: a second call does not run the binary again, and says the same.
      await assert.rejects(checkRapidsnark(fakes.notRapidsnark), /not rapidsnark's prover/);
    });

    it("a rapidsnark that hangs is killed after its timeout: exit 3, one line; ZKS_RAPIDSNARK_TIMEOUT_MS sets it, default at least 120 s", async function () {
      const witness = (await calculateWitness(healthy, artifacts.wasm, INSTANCE)).data!;
      rmSync(hangPid, { force: true });
      const started = performance.now();
      await assert.rejects(rapidsnarkProve(fakes.hangs, artifacts.zkey as string, witness, artifacts.verificationKey, { timeoutMs: 500 }), (error: unknown) => {
        assert.ok(error instanceof SetupError, String(error));
        assert.equal(
          error.message,
          `rapidsnark ${fakes.hangs}: it did not finish in 0.5 s and was killed (ZKS_RAPIDSNARK_TIMEOUT_MS sets the limit, in milliseconds); use --prover snarkjs or fix ZKS_RAPIDSNARK`,
        );
        return true;
      });
      assert.ok(performance.now() - started < 5000);
      assert.equal(running(Number(readFileSync(hangPid, "utf8"))), false, "the hung prover still runs");
      assert.equal(rapidsnarkTimeoutMs(fakes.hangs, { ZKS_RAPIDSNARK_TIMEOUT_MS: "2500" }), 2500);
      assert.ok(rapidsnarkTimeoutMs(fakes.hangs, {}) >= 120_000);
      assert.throws(
        () => rapidsnarkTimeoutMs(fakes.hangs, { ZKS_RAPIDSNARK_TIMEOUT_MS: "2m" }),
        (error: unknown) =>
          error instanceof InputError && error.exitCode === 2 && /ZKS_RAPIDSNARK_TIMEOUT_MS.*expected a positive whole number of milliseconds, got "2m"/.test(error.message),
      );
    });

    it("rapidsnark runs with PATH, HOME, LANG/LC_*, OMP_NUM_THREADS and LD_LIBRARY_PATH only: none of our secrets", async function () {
      const witness = (await calculateWitness(healthy, artifacts.wasm, INSTANCE)).data!;
      const secrets = { ZKS_TEST_REDIS_URL: "redis://:hunter2@10.0.0.5:6379", LC_TEST_LOCALE: "C.UTF-8" };
      Object.assign(process.env, secrets);
      try {
        await assert.rejects(rapidsnarkProve(fakes.env, artifacts.zkey as string, witness, artifacts.verificationKey, { threads: 1 }), /it failed \(exit 1\)/);
      } finally {
        delete process.env.ZKS_TEST_REDIS_URL;
        delete process.env.LC_TEST_LOCALE;
      }
      const names = readFileSync(envLog, "utf8")
        .split("\n")
        .filter(Boolean)
        .map((line) => line.split("=")[0]!);
      assert.doesNotMatch(readFileSync(envLog, "utf8"), /hunter2/);
      // sh adds PWD (and SHLVL, _) itself; the script sets PATH.
      const ours = names.filter((name) => !["PWD", "SHLVL", "_", "OLDPWD"].includes(name));
      assert.ok(
        ours.every((name) => ["PATH", "HOME", "LANG", "OMP_NUM_THREADS", "LD_LIBRARY_PATH"].includes(name) || name.startsWith("LC_")),
        ours.join(" "),
      );
      assert.ok(ours.includes("OMP_NUM_THREADS") && ours.includes("LC_TEST_LOCALE"), ours.join(" "));
    });

    it("closing the pool mid-proof kills rapidsnark, rejects the proof (exit 70) and removes the pool's private temp root", async function () {
      rmSync(hangPid, { force: true });
      const before = new Set(readdirSync(tmpdir()));
      const pool = await ProverPool.start([INSTANCE], { workers: 1, prover: rapidsnark(fakes.hangs) });
      const roots = readdirSync(tmpdir()).filter((name) => !before.has(name) && name.startsWith(`zks-pool-${process.pid}-`));
      assert.equal(roots.length, 1, roots.join(" "));
      const root = path.join(tmpdir(), roots[0]!);
      assert.equal(statSync(root).mode & 0o777, 0o700);
      const proof = pool.prove(INSTANCE, healthy);
      const settled = proof.then(
        () => undefined,
        (error: unknown) => error,
      );
      await appears(hangPid);
      // The witness is in the root, in the proof's own directory.
      assert.ok(readdirSync(root).some((name) => name.startsWith("zks-witness-")));
      const pid = Number(readFileSync(hangPid, "utf8"));
      assert.equal(running(pid), true);
      await pool.close();
      const error = await settled;
      assert.ok(error instanceof ZksError && error.exitCode === 70, String(error));
      assert.equal(error.message, "ProverPool: closed before this proof finished");
      assert.equal(running(pid), false, "rapidsnark outlived the pool");
      assert.equal(existsSync(root), false, "the pool's temp root is still there");
    });

    it("a process killed by SIGINT / SIGTERM mid-proof (one-off or pool) kills rapidsnark and leaves no temp files", async function () {
      // A child node process with its own TMPDIR: whatever it leaves there is a leak.
      const runs = (["one-off", "pool"] as const).map(async (mode) => {
        const tmp = mkdtempSync(path.join(dir, `signal-${mode}-`));
        const pidFile = path.join(dir, `hang-${mode}.pid`);
        const hangs = script(tmp, "hangs", `echo $$ > "${pidFile}"; exec sleep 60`);
        // tsx's compile cache lives in TMPDIR too: share ours, so the child starts warm.
        const tsxCache = path.join(tmpdir(), `tsx-${process.getuid?.() ?? 0}`);
        if (existsSync(tsxCache)) symlinkSync(tsxCache, path.join(tmp, path.basename(tsxCache)));
        const main = path.join(dir, `signal-${mode}.mts`);
        const src = path.resolve("packages/node/src");
        writeFileSync(
          main,
          [
            `import { loadInstanceArtifacts } from ${JSON.stringify(path.join(src, "artifacts.ts"))};`,
            `import { proveBuiltInstance } from ${JSON.stringify(path.join(src, "prove-built.ts"))};`,
            `import { ProverPool } from ${JSON.stringify(path.join(src, "prover-pool/prover-pool.ts"))};`,
            `const signals = ${JSON.stringify(healthy, (_key, value: unknown) => (typeof value === "bigint" ? value.toString() : value))};`,
            `const prover = { kind: "rapidsnark", binary: ${JSON.stringify(hangs)}, found: "ZKS_RAPIDSNARK" } as const;`,
            mode === "pool"
              ? `const pool = await ProverPool.start([${JSON.stringify(INSTANCE)}], { workers: 1, prover }); await pool.prove(${JSON.stringify(INSTANCE)}, signals);`
              : `await proveBuiltInstance(signals, loadInstanceArtifacts(${JSON.stringify(INSTANCE)}), { prover });`,
          ].join("\n"),
        );
        const child = spawn(process.execPath, ["--import", "tsx", main], { env: { ...process.env, TMPDIR: tmp }, stdio: ["ignore", "ignore", "pipe"] });
        let stderr = "";
        child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
        const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on("exit", (_code, signal) => resolve(signal)));
        await Promise.race([appears(pidFile), exited.then(() => assert.fail(`${mode}: exited before proving: ${stderr}`))]);
        const signal = mode === "pool" ? "SIGTERM" : "SIGINT";
        child.kill(signal);
        assert.equal(await exited, signal, stderr);
        const pid = Number(readFileSync(pidFile, "utf8"));
        assert.equal(await stopsRunning(pid), true, `${mode}: rapidsnark outlived the process`);
        assert.deepEqual(
          readdirSync(tmp).filter((name) => name.startsWith("zks-")),
          [],
          `${mode}: left in TMPDIR`,
        );
      });
      await Promise.all(runs);
    });

    it("the prover pool proves a stream with rapidsnark, one core per worker, and verifies every proof", async function () {
      rmSync(threadLog, { force: true });
      const pool = await ProverPool.start([INSTANCE], { workers: 2, prover: rapidsnark(fakes.threads) });
      try {
        assert.equal(pool.backend.kind, "rapidsnark");
        const inputs = [healthy, other, atRisk, healthy];
        const proofs = await Promise.allSettled(inputs.map((signals) => pool.prove(INSTANCE, signals)));
        for (const [i, outcome] of proofs.entries()) {
          if (inputs[i] === atRisk) {
            // The witness step judges the input, as with snarkjs.
            assert.ok(outcome.status === "rejected" && outcome.reason instanceof UnprovableError, `input ${i}`);
            continue;
          }
          assert.ok(outcome.status === "fulfilled", `input ${i}: ${outcome.status === "rejected" ? String(outcome.reason) : ""}`);
          assert.equal(outcome.value.prover, "rapidsnark");
          assert.equal(outcome.value.witness, pool.witnessFor(INSTANCE));
          assert.equal(await verifyProof(artifacts.verificationKey, outcome.value), true);
        }
        const share = String(Math.max(1, Math.floor(availableParallelism() / 2)));
        assert.deepEqual(readFileSync(threadLog, "utf8").split("\n").filter(Boolean), [share, share, share]);
      } finally {
        await pool.close();
      }
    });

    it("the pool reports a binary that fails the probe before starting, and one that crashes as exit 3 for that proof", async function () {
      await assert.rejects(ProverPool.start([INSTANCE], { workers: 1, prover: rapidsnark(fakes.notRapidsnark) }), (error: unknown) => error instanceof SetupError);
      const pool = await ProverPool.start([INSTANCE], { workers: 1, prover: rapidsnark(fakes.crashes) });
      try {
        await assert.rejects(pool.prove(INSTANCE, healthy), (error: unknown) => {
          assert.ok(error instanceof SetupError, String(error));
          assert.match(error.message, /crashed \(SIGSEGV\) while proving; use --prover snarkjs or fix ZKS_RAPIDSNARK$/);
          return true;
        });
      } finally {
        await pool.close();
      }
    });

    describe("zks CLI", function () {
      const inputs = ["--position", example("position-healthy.json"), "--market", example("market-grid.json"), "--policy", example("policy.json"), "--instance", INSTANCE];
      /** Neither ZKS_RAPIDSNARK, ZKS_PROVER nor anything on PATH: only what the command is given. */
      const bare = (): NodeJS.ProcessEnv => ({ ZKS_RAPIDSNARK: undefined, ZKS_PROVER: undefined, PATH: path.join(dir, "empty-path") });
      before(() => mkdirSync(path.join(dir, "empty-path"), { recursive: true }));

      it("zks prove says which prover made the proof (stderr, and --json), and writes a proof that verifies", async function () {
        const [native, plain, rebalanced] = [path.join(dir, "cli-rapidsnark"), path.join(dir, "cli-snarkjs"), path.join(dir, "cli-rebalance")];
        const keeperKey = path.join(dir, "keeper.pub.json");
        writeFileSync(keeperKey, keeperPublicKeyFileJson(TEST_KEEPER.publicKey));
        const allow = path.join(dir, "allow.json");
        writeFileSync(allow, JSON.stringify({ version: 1, wallet: { USDC: "20000" }, sellable: ["WETH", "WBTC"], tradable: [], maxActions: 4 }));
        const atRiskInputs = ["--position", example("position-at-risk.json"), "--market", example("market-grid.json"), "--policy", example("policy.json")];
        const [byRapidsnark, bySnarkjs, rebalance] = await Promise.all([
          zksAsync(["prove", "health", ...inputs, "--out", native, "--prover", "rapidsnark"], { ...bare(), ZKS_RAPIDSNARK: RAPIDSNARK }),
          zksAsync(["prove", "health", ...inputs, "--out", plain, "--json"], { ...bare(), ZKS_PROVER: "snarkjs", ZKS_RAPIDSNARK: RAPIDSNARK }),
          // `zks prove rebalance` hands --prover on to `zks rebalance`.
          zksAsync(["prove", "rebalance", ...atRiskInputs, "--out", rebalanced, "--allow", allow, "--keeper-key", keeperKey, "--prover", "rapidsnark", "--json"], {
            ...bare(),
            ZKS_RAPIDSNARK: RAPIDSNARK,
          }),
        ]);
        assert.equal(rebalance.code, 0, rebalance.stderr);
        assert.deepEqual((({ prover, proverBinary, proverFound }) => ({ prover, proverBinary, proverFound }))(JSON.parse(rebalance.stdout) as Record<string, unknown>), {
          prover: "rapidsnark",
          proverBinary: RAPIDSNARK,
          proverFound: "ZKS_RAPIDSNARK",
        });
        assert.equal(byRapidsnark.code, 0, byRapidsnark.stderr);
        const witness = nativeGenerator(artifacts) ? "native" : "wasm";
        // It names the binary it handed the witness to (under auto: whatever PATH had).
        const by = `by ${RAPIDSNARK} (from ZKS_RAPIDSNARK)`.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
        assert.match(byRapidsnark.stderr, new RegExp(`^proved with rapidsnark \\(${witness} witness\\) in \\d+\\.\\d\\d s ${by}$`, "m"));
        assert.match(byRapidsnark.stdout, /^PROVED: health/);
        assert.equal(bySnarkjs.code, 0, bySnarkjs.stderr);
        const json = JSON.parse(bySnarkjs.stdout) as { prover: string; witness: string };
        assert.equal(json.prover, "snarkjs");
        assert.equal(json.witness, witness);
        for (const out of [native, plain]) {
          const { zkProof } = parseProofFile(JSON.parse(readFileSync(path.join(out, "proof.json"), "utf8")), "proof.json");
          assert.equal(await verifyProof(artifacts.verificationKey, zkProof), true);
        }
      });

      it("--prover rapidsnark with none found is exit 3, one line; --prover foo is exit 2", async function () {
        if (existsSync(path.join(defaultBuildPaths().buildDir, "bin", "rapidsnark"))) {
          console.log("      (the build dir has a rapidsnark from `zks setup --native-prover`: the none-found case is checked through the API above)");
        }
        const [none, foo] = await Promise.all([
          zksAsync(["prove", "health", ...inputs, "--out", path.join(dir, "none"), "--prover", "rapidsnark"], bare()),
          zksAsync(["prove", "health", ...inputs, "--out", path.join(dir, "foo"), "--prover", "foo"], bare()),
        ]);
        if (!existsSync(path.join(defaultBuildPaths().buildDir, "bin", "rapidsnark"))) {
          assert.equal(none.code, 3, none.stderr);
          assertOneLineError(
            none,
            /^zks: no rapidsnark prover found: set ZKS_RAPIDSNARK=\/path\/to\/prover, put rapidsnark on PATH, or build one with `zks setup --native-prover SRC_DIR`/,
          );
        }
        assert.equal(foo.code, 2, foo.stderr);
        assertOneLineError(foo, /^zks: --prover: expected one of auto, snarkjs, rapidsnark, got "foo"$/);
        assert.equal(existsSync(path.join(dir, "none", "proof.json")), false);
      });

      it("ZKS_RAPIDSNARK missing, not executable, not rapidsnark, crashing, or writing a proof that does not verify: exit 3, one line naming the cause, no proof written", async function () {
        const plain = path.join(dir, "plain-file");
        writeFileSync(plain, "");
        chmodSync(plain, 0o644);
        const cases: [string, string, RegExp][] = [
          ["missing", path.join(dir, "no-such-prover"), /^zks: ZKS_RAPIDSNARK=.*no-such-prover: no such file; point it at rapidsnark's prover binary, or unset it$/],
          ["not-executable", plain, /^zks: ZKS_RAPIDSNARK=.*plain-file: not executable \(chmod \+x it\)/],
          ["not-rapidsnark", fakes.notRapidsnark, /^zks: rapidsnark .*not-rapidsnark: not rapidsnark's prover .*; use --prover snarkjs or fix ZKS_RAPIDSNARK$/],
          ["crashes", fakes.crashes, /^zks: rapidsnark .*crashes: it crashed \(SIGSEGV\) while proving; use --prover snarkjs or fix ZKS_RAPIDSNARK$/],
          ["swapped", fakes.swapped, /^zks: rapidsnark .*swapped: it wrote a proof that does not verify under the instance's verification key \(snarkjs\); use --prover snarkjs/],
        ];
        // Under auto (no --prover): ZKS_RAPIDSNARK alone asks for it. --json keeps progress lines off stderr.
        const results = await Promise.all(
          cases.map(([name, binary]) => zksAsync(["prove", "health", ...inputs, "--out", path.join(dir, name), "--json"], { ...bare(), ZKS_RAPIDSNARK: binary })),
        );
        for (const [i, [name, , line]] of cases.entries()) {
          assert.equal(results[i]!.code, 3, `${name}: ${results[i]!.stderr}`);
          assertOneLineError(results[i]!, line);
          assert.equal(existsSync(path.join(dir, name, "proof.json")), false, `${name}: a proof was written`);
        }
      });
    });
  });
});
