import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { CircuitSignals } from "snarkjs";
import { InputError, SetupError } from "../packages/sdk/src/core/errors.ts";
import type { Market, Policy } from "../packages/sdk/src/inputs/types.ts";
import { loadInstanceArtifacts, type InstanceArtifacts } from "../packages/node/src/artifacts.ts";
import { nativeWitnessCalculator, nativeWitnessTimeoutMs, nativeWitnessWriter, type NativeWitnessCalculator } from "../packages/node/src/native-witness.ts";
import { proveBuiltInstance } from "../packages/node/src/prove-built.ts";
import { positionOpeningInput } from "../packages/sdk/src/prover/witness/position-opening.ts";
import { UnprovableError } from "../packages/sdk/src/prover/errors.ts";
import { proveFromWitness } from "../packages/sdk/src/prover/prove.ts";
import { releaseProverThreads } from "../packages/sdk/src/prover/release.ts";
import { calculateWitness } from "../packages/sdk/src/prover/witness.ts";
import { solvencyInput } from "../packages/sdk/src/prover/witness/solvency.ts";
import { buildCircuits } from "../packages/node/src/setup/build.ts";
import { checkNativeToolchain, nativeToolchainChoice } from "../packages/node/src/setup/native-toolchain.ts";
import { PACKAGE_ROOT } from "../packages/node/src/setup/paths.ts";
import { verifyProof } from "../packages/sdk/src/verifier/verify.ts";
import { loadMarket, loadPolicy, loadPosition } from "./helpers/examples.ts";

const INSTANCE = "solvency-3x3x16";
const LAYOUT = { nAssets: 3, nInstruments: 3, nScenarios: 16 };
const ZKS = path.join(PACKAGE_ROOT, "packages", "cli", "bin", "zks.js");
const NO_COMPILER = { ...process.env, ZKS_CXX: "/nonexistent/g++" };

describe("native witness generator (zks setup --native-witness)", function () {
  it("a missing C++ compiler is a SetupError naming it and the Debian packages to install", function () {
    assert.throws(
      () => checkNativeToolchain(nativeToolchainChoice(NO_COMPILER), NO_COMPILER),
      (error: unknown) =>
        error instanceof SetupError &&
        error.exitCode === 3 &&
        error.message.includes('"/nonexistent/g++" (from ZKS_CXX)') &&
        error.message.includes("apt-get install -y g++ libgmp-dev nlohmann-json3-dev"),
    );
  });

  it("zks setup --native-witness exits 3 with that message before compiling anything", function () {
    const buildDir = mkdtempSync(path.join(tmpdir(), "zks-native-"));
    try {
      const args = [ZKS, "setup", "--instance", "commitment-3x3", "--compile-only", "--native-witness"];
      const result = spawnSync(process.execPath, args, { encoding: "utf8", env: { ...NO_COMPILER, ZKS_BUILD_DIR: buildDir, ZKS_DEBUG: "" } });
      assert.equal(result.status, 3, result.stderr);
      assert.match(result.stderr, /^zks: cannot build the native witness generator: missing the C\+\+ compiler "\/nonexistent\/g\+\+".*apt-get install -y g\+\+/);
      assert.doesNotMatch(result.stderr, /\bat .+:\d+:\d+/);
      assert.equal(existsSync(path.join(buildDir, "circuits")), false);
    } finally {
      rmSync(buildDir, { recursive: true, force: true });
    }
  });

  describe("a generator that hangs or reads the environment", function () {
    let dir: string;
    const saved = { timeout: process.env.ZKS_WITNESS_TIMEOUT_MS, secret: process.env.ZKS_QUEUE };
    before(() => (dir = mkdtempSync(path.join(tmpdir(), "zks-fake-wtns-"))));
    after(() => {
      rmSync(dir, { recursive: true, force: true });
      for (const [name, value] of [
        ["ZKS_WITNESS_TIMEOUT_MS", saved.timeout],
        ["ZKS_QUEUE", saved.secret],
      ] as const) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
    });
    const script = (name: string, body: string): string => {
      const file = path.join(dir, name);
      writeFileSync(file, `#!/bin/sh\n${body}\n`);
      chmodSync(file, 0o755);
      return file;
    };

    it("a hung generator is killed after ZKS_WITNESS_TIMEOUT_MS: a SetupError (exit 3) naming the binary and the limit", async function () {
      const binary = script("hangs", "exec sleep 30");
      process.env.ZKS_WITNESS_TIMEOUT_MS = "400";
      const started = Date.now();
      await assert.rejects(nativeWitnessWriter({ instance: INSTANCE, binary })({ a: 1n }, path.join(dir, "w.wtns")), (error: unknown) => {
        assert.ok(error instanceof SetupError, String(error));
        assert.equal(error.exitCode, 3);
        assert.match(error.message, /hangs: the native witness generator of solvency-3x3x16 did not finish in 0\.4 s and was killed \(ZKS_WITNESS_TIMEOUT_MS/);
        return true;
      });
      assert.ok(Date.now() - started < 10_000, "killed, not waited for");
    });

    it("a bad ZKS_WITNESS_TIMEOUT_MS is an InputError naming it; unset is 120 s", function () {
      assert.equal(nativeWitnessTimeoutMs({}), 120_000);
      assert.equal(nativeWitnessTimeoutMs({ ZKS_WITNESS_TIMEOUT_MS: "1500" }), 1500);
      for (const bad of ["0", "-1", "1e3", "soon"])
        assert.throws(
          () => nativeWitnessTimeoutMs({ ZKS_WITNESS_TIMEOUT_MS: bad }),
          (e: unknown) => e instanceof InputError && /ZKS_WITNESS_TIMEOUT_MS/.test(e.message),
        );
    });

    it("the generator gets a minimal environment: no queue URL or other secret reaches it", async function () {
      const seen = path.join(dir, "env.txt");
      const binary = script("prints-env", `env > ${seen}; printf x > "$2"`);
      delete process.env.ZKS_WITNESS_TIMEOUT_MS;
      process.env.ZKS_QUEUE = "redis://:hunter2@127.0.0.1:6379";
      await nativeWitnessWriter({ instance: INSTANCE, binary })({ a: 1n }, path.join(dir, "w2.wtns"));
      const env = readFileSync(seen, "utf8");
      assert.doesNotMatch(env, /hunter2|ZKS_QUEUE/);
    });
  });

  describe(`on ${INSTANCE}`, function () {
    let artifacts: InstanceArtifacts;
    let native: NativeWitnessCalculator;
    let market: Market;
    let policy: Policy;
    let healthy: CircuitSignals;

    before(async function () {
      try {
        checkNativeToolchain(nativeToolchainChoice());
      } catch (error) {
        if (!(error instanceof SetupError)) throw error;
        console.log(`      skipped: ${error.message}`);
        this.skip();
      }
      // Cached after the first run; building the generator costs about 100 s on 2 cores.
      this.timeout(900_000);
      await buildCircuits({ instances: [INSTANCE], compileOnly: true, nativeWitness: true });
      artifacts = loadInstanceArtifacts(INSTANCE);
      native = nativeWitnessCalculator(INSTANCE);
      market = loadMarket();
      policy = loadPolicy(market);
      healthy = solvencyInput(loadPosition("position-healthy.json", market), market, policy, LAYOUT);
    });
    after(releaseProverThreads);

    it("computes the wasm's witness, byte for byte, for the healthy example", async function () {
      const wasm = await calculateWitness(healthy, artifacts.wasm, INSTANCE);
      assert.deepEqual(await native(healthy), wasm.data);
    });

    it("rejects the at-risk example (stress fails) with the UnprovableError of the wasm path", async function () {
      const atRisk = solvencyInput(loadPosition("position-at-risk.json", market), market, policy, LAYOUT);
      await assert.rejects(calculateWitness(atRisk, artifacts.wasm, INSTANCE), UnprovableError);
      await assert.rejects(native(atRisk), (error: unknown) => {
        assert.ok(error instanceof UnprovableError);
        assert.equal(error.exitCode, 1);
        assert.match(
          error.message,
          /^solvency-3x3x16: the circuit rejects this input, so no proof exists \(Failed assert in template\/function \w+ line \d+\. Followed trace of components: main\./,
        );
        return true;
      });
    });

    it("its witness makes a Groth16 proof that verifies", async function () {
      const proof = await proveFromWitness(() => native(healthy), artifacts.zkey);
      assert.equal(await verifyProof(artifacts.verificationKey, proof), true);
    });

    it("the CLI's one-off proofs use it when it is built, and fall back to the wasm when it is not", async function () {
      const proof = await proveBuiltInstance(healthy, artifacts);
      assert.equal(proof.witnessBackend, "native");
      assert.equal(await verifyProof(artifacts.verificationKey, proof), true);
      // A manifest claiming a generator the build directory does not have: the wasm proves.
      const other = loadInstanceArtifacts("commitment-3x3");
      const claimed = { ...other, manifest: { ...other.manifest, nativeWitness: artifacts.manifest.nativeWitness } };
      const opening = positionOpeningInput(loadPosition("position-healthy.json", market), market, { nAssets: 3, nInstruments: 3 });
      const fallback = await proveBuiltInstance(opening, claimed);
      assert.equal(fallback.witnessBackend, "wasm");
      assert.equal(await verifyProof(other.verificationKey, fallback), true);
    });

    it("a rebuild with unchanged sources is cached", async function () {
      const started = performance.now();
      const result = await buildCircuits({ instances: [INSTANCE], compileOnly: true, nativeWitness: true });
      assert.equal(result.instances[0]!.nativeBuilt, false);
      assert.ok(performance.now() - started < 5_000);
    });
  });
});
