import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { availableParallelism, tmpdir } from "node:os";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { CircuitSignals } from "snarkjs";
import { InputError, SetupError } from "../packages/sdk/src/core/errors.ts";
import { loadInstanceArtifacts, type InstanceArtifacts } from "../packages/node/src/artifacts.ts";
import { NO_RAPIDSNARK, parseProverChoice, resolveProverBackend, type ProverBackend } from "../packages/node/src/native-prover/backend.ts";
import { checkRapidsnark } from "../packages/node/src/native-prover/probe.ts";
import { rapidsnarkProve } from "../packages/node/src/native-prover/rapidsnark.ts";
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
import { assertOneLineError, ZKS } from "./helpers/cli.ts";
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

const rapidsnark = (binary: string): ProverBackend => ({ kind: "rapidsnark", binary, found: "ZKS_RAPIDSNARK" });

/** The CLI as a child with exactly this environment on top of ours (undefined removes a variable). */
function zks(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [ZKS, ...args], { env: { ...process.env, ZKS_DEBUG: "", ...env }, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

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
    let fakes: Record<"notRapidsnark" | "crashes" | "fails" | "writesNothing" | "forged" | "swapped" | "threads", string>;
    let threadLog: string;

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
          zks(["prove", "health", ...inputs, "--out", native, "--prover", "rapidsnark"], { ...bare(), ZKS_RAPIDSNARK: RAPIDSNARK }),
          zks(["prove", "health", ...inputs, "--out", plain, "--json"], { ...bare(), ZKS_PROVER: "snarkjs", ZKS_RAPIDSNARK: RAPIDSNARK }),
          // `zks prove rebalance` hands --prover on to `zks rebalance`.
          zks(["prove", "rebalance", ...atRiskInputs, "--out", rebalanced, "--allow", allow, "--keeper-key", keeperKey, "--prover", "rapidsnark", "--json"], {
            ...bare(),
            ZKS_RAPIDSNARK: RAPIDSNARK,
          }),
        ]);
        assert.equal(rebalance.code, 0, rebalance.stderr);
        assert.equal((JSON.parse(rebalance.stdout) as { prover: string }).prover, "rapidsnark");
        assert.equal(byRapidsnark.code, 0, byRapidsnark.stderr);
        const witness = nativeGenerator(artifacts) ? "native" : "wasm";
        assert.match(byRapidsnark.stderr, new RegExp(`^proved with rapidsnark \\(${witness} witness\\) in \\d+\\.\\d\\d s$`, "m"));
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
          zks(["prove", "health", ...inputs, "--out", path.join(dir, "none"), "--prover", "rapidsnark"], bare()),
          zks(["prove", "health", ...inputs, "--out", path.join(dir, "foo"), "--prover", "foo"], bare()),
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
          cases.map(([name, binary]) => zks(["prove", "health", ...inputs, "--out", path.join(dir, name), "--json"], { ...bare(), ZKS_RAPIDSNARK: binary })),
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
