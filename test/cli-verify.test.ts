import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Contract, HDNodeWallet, JsonRpcProvider, NonceManager, Wallet } from "ethers";
import * as snarkjs from "snarkjs";
import type { VerificationKey } from "snarkjs";
import { MARKET_ORACLE_ABI } from "../src/chain/abi.ts";
import { marketRoot } from "../src/commitment/market-root.ts";
import { ZksError } from "../src/core/errors.ts";
import { loadInstanceArtifacts } from "../src/node/artifacts.ts";
import { readJsonFile } from "../src/node/read-json.ts";
import { writeProofFiles } from "../src/node/write-proof.ts";
import { parseProofFile, toProofFile, type ProofFile } from "../src/proof-file/proof-file.ts";
import { generateProof } from "../src/prover/prove.ts";
import { releaseProverThreads } from "../src/prover/release.ts";
import { positionOpeningInput } from "../src/prover/witness/position-opening.ts";
import { rebalanceInput } from "../src/prover/witness/rebalance.ts";
import { solvencyInput } from "../src/prover/witness/solvency.ts";
import { emptyPosition, noMovements } from "../src/rebalance/transition.ts";
import { loadInstances } from "../src/setup/instances.ts";
import { defaultBuildPaths, instanceDir, PACKAGE_ROOT } from "../src/setup/paths.ts";
import { verificationKeyHash } from "../src/verifier/key-hash.ts";
import { ProofKeyError, ProofMetadataError, verifyProofFile, type InstanceDeclaration } from "../src/verifier/proof-file-verdict.ts";
import { LAYOUT, transitionOf, WETH } from "./helpers/contracts-fixtures.ts";
import { example, loadMarket, loadPolicy, loadPosition } from "./helpers/examples.ts";
import { HARDHAT_MNEMONIC, startLocalNode, type LocalNode } from "./helpers/local-node.ts";

const ZKS = path.join(PACKAGE_ROOT, "bin", "zks.js");
const SNARKJS = path.join(PACKAGE_ROOT, "node_modules", "snarkjs", "build", "cli.cjs");
const run = (command: string, args: string[], env: NodeJS.ProcessEnv = {}) =>
  spawnSync(process.execPath, [command, ...args], { encoding: "utf8", env: { ...process.env, ZKS_DEBUG: "", ...env } });
const verify = (...args: string[]) => run(ZKS, ["verify", ...args]);
const hardhatKey = (index: number) => HDNodeWallet.fromPhrase(HARDHAT_MNEMONIC, undefined, `m/44'/60'/0'/0/${index}`).privateKey;

/** Async: the parent's event loop keeps running while a hardhat node is its child. */
function zksAsync(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [ZKS, ...args], { env: { ...process.env, ZKS_DEBUG: "", ...env }, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    child.on("error", reject);
    child.on("close", (status) => resolve({ status, stdout, stderr }));
  });
}

/** Exit `status`, one line on stderr matching `fragment`, nothing on stdout, no stack trace. */
function rejected(result: { status: number | null; stdout: string; stderr: string }, status: number, fragment: RegExp): void {
  assert.equal(result.status, status, `exit ${result.status}: ${result.stdout}${result.stderr}`);
  const lines = result.stderr.trim().split("\n");
  assert.equal(lines.length, 1, `expected one line, got:\n${result.stderr}`);
  assert.match(lines[0]!, fragment);
  assert.doesNotMatch(result.stderr, /\bat .+:\d+:\d+/);
  assert.equal(result.stdout, "");
}

const declarationOf = (name: string): InstanceDeclaration => {
  const declared = loadInstances().find((i) => i.name === name)!;
  return { instance: name, template: declared.template, params: declared.params, publicSignals: declared.publicSignals };
};

describe("proof files and zks verify", function () {
  this.timeout(600_000);
  let dir: string;
  let commitmentProof: string;
  let commitmentPublic: string;
  let healthProof: string;
  let healthFile: ProofFile;
  const market = loadMarket();
  const policy = loadPolicy(market);
  const ACCOUNT = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";

  /** A copy of `source` with `edit` applied, as a new proof file. */
  const edited = (source: string, name: string, edit: (file: any) => void): string => {
    const file = JSON.parse(readFileSync(source, "utf8"));
    edit(file);
    const out = path.join(dir, `${name}.json`);
    writeFileSync(out, JSON.stringify(file));
    return out;
  };

  before(async function () {
    dir = mkdtempSync(path.join(tmpdir(), "zks-verify-"));
    const position = loadPosition("position-healthy.json", market);
    const commitment = loadInstanceArtifacts("commitment-3x3");
    const zkProof = await generateProof(positionOpeningInput(position, market, { nAssets: 3, nInstruments: 3 }), commitment);
    ({ proof: commitmentProof, publicSignals: commitmentPublic } = writeProofFiles(path.join(dir, "commitment"), toProofFile(zkProof, { statement: "commitment", epoch: market.epoch, manifest: commitment.manifest })));
    // An off-chain health proof (context 0) of the healthy example, as `zks prove health` makes it.
    const solvency = loadInstanceArtifacts("solvency-3x3x16");
    const health = await generateProof(solvencyInput(position, market, policy, LAYOUT, "position-healthy.json", 0n), solvency);
    healthFile = toProofFile(health, { statement: "health", epoch: market.epoch, manifest: solvency.manifest });
    healthProof = writeProofFiles(path.join(dir, "health"), healthFile).proof;
  });
  after(async function () {
    rmSync(dir, { recursive: true, force: true });
    await releaseProverThreads();
  });

  it("accepts a valid proof file (exit 0) and prints only values read from its public signals, with the key's fingerprint and source", function () {
    const key = loadInstanceArtifacts("commitment-3x3").manifest.verificationKeyHash!;
    const result = verify("--proof", commitmentProof);
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stdout, /^VALID: commitment proof, instance commitment-3x3 \(PositionCommitment\)\n/);
    assert.match(result.stdout, new RegExp(`key\\s+${key}, development key: made by one machine's setup, not for production\\n`));
    // The epoch is not a signal: without --market or --rpc it is not stated as a fact.
    assert.match(result.stdout, /epoch\s+not verified/);
    assert.doesNotMatch(result.stdout, /\b42\b/);
    assert.match(result.stdout, /commitment\s+0x[0-9a-f]{64}/);
    assert.match(result.stdout, new RegExp(`account\\s+0x0{24}${ACCOUNT.slice(2).toLowerCase()} \\(${ACCOUNT}\\)`));

    const json = JSON.parse(verify("--proof", commitmentProof, "--json").stdout);
    assert.equal(json.valid, true);
    assert.equal(json.epoch, null);
    assert.equal(json.account, ACCOUNT);
    assert.deepEqual(json.key, { verificationKeyHash: key, source: "development", sourceVerified: true });
    assert.deepEqual(Object.keys(json.publicSignals), ["commitment", "account", "nonce"]);

    const health = JSON.parse(verify("--proof", healthProof, "--json").stdout);
    assert.equal(health.statement, "health");
    assert.deepEqual(health.proves, ["healthFactor", "stress", "historicalVar", "parametricVar"]);
  });

  it("snarkjs groth16 verify accepts the same files as they are", function () {
    const vkey = path.join(instanceDir(defaultBuildPaths(), "commitment-3x3"), "verification_key.json");
    const result = run(SNARKJS, ["groth16", "verify", vkey, commitmentPublic, commitmentProof]);
    assert.equal(result.status, 0, result.stdout + result.stderr);
    assert.match(result.stdout, /OK/);
  });

  it("a tampered public signal is INVALID (exit 1); a malformed file and a version 1 file are bad input (exit 2, one line)", function () {
    const tampered = edited(commitmentProof, "tampered", (file) => (file.zks.publicSignals[2] = (BigInt(file.zks.publicSignals[2]) + 1n).toString()));
    const invalid = verify("--proof", tampered);
    assert.equal(invalid.status, 1);
    assert.match(invalid.stdout, /^INVALID: the proof does not verify under instance commitment-3x3's key 0x[0-9a-f]{64}\n$/);

    rejected(verify("--proof", edited(commitmentProof, "malformed", (file) => (file.pi_a = ["1", "2"]))), 2, /malformed\.json: pi_a/);
    const v1 = edited(commitmentProof, "v1", (file) => {
      file.zks.version = 1;
      delete file.zks.verificationKeyHash;
      delete file.zks.keySource;
    });
    rejected(verify("--proof", v1), 2, /v1\.json: zks\.version: version 1 proof file, made by an older zks without the key's fingerprint; prove again$/);
  });

  describe("forged metadata: exit 1 naming the field", function () {
    it("an account in zks.named that is not the account signal", function () {
      const forged = edited(healthProof, "forged-account", (file) => (file.zks.named.account = `0x${"0".repeat(24)}${"ab".repeat(20)}`));
      rejected(verify("--proof", forged), 1, /forged-account\.json: zks\.named\.account: the file says "0x0{24}(ab){20}" but the public signal account is 0x0{24}70997970c51812dc3a010c7d01b50e0d17dc79c8$/);
      const extra = edited(healthProof, "forged-extra", (file) => (file.zks.named.solvent = "0x01"));
      rejected(verify("--proof", extra), 1, /zks\.named\.solvent: instance solvency-3x3x16 has no public signal solvent/);
    });

    it("a statement the instance's circuit does not make", function () {
      rejected(verify("--proof", edited(healthProof, "forged-statement", (file) => (file.zks.statement = "rebalance"))), 1, /forged-statement\.json: zks\.statement: "rebalance" is not a statement instance solvency-3x3x16 can prove: it checks health factor, scenario stress, historical VaR, parametric VaR \(checks = 15\), so its proofs state health, stress, var, audit$/);
      rejected(verify("--proof", edited(commitmentProof, "forged-commitment-statement", (file) => (file.zks.statement = "health"))), 1, /zks\.statement: "health" is not a statement of a PositionCommitment proof \(expected commitment\)/);
    });

    it("an epoch other than the market's whose root the proof carries (with --market); without --market the epoch is not printed", function () {
      const forged = edited(healthProof, "forged-epoch", (file) => (file.zks.epoch = 99));
      rejected(verify("--proof", forged, "--market", example("market-grid.json")), 1, /forged-epoch\.json: zks\.epoch: the file says epoch 99 but the proof's market root is the market of epoch 42$/);
      const unchecked = verify("--proof", forged);
      assert.equal(unchecked.status, 0, unchecked.stderr);
      assert.doesNotMatch(unchecked.stdout, /\b99\b/);
      assert.match(unchecked.stdout, /epoch\s+not verified \(not a public signal; check it with --market FILE or --rpc\)/);
    });

    it("a key source other than the manifest's", function () {
      rejected(verify("--proof", edited(commitmentProof, "forged-source", (file) => (file.zks.keySource = "ceremony"))), 1, /forged-source\.json: zks\.keySource: the file says "ceremony" but the manifest of key 0x[0-9a-f]{64} says "development"$/);
    });
  });

  describe("the instance name: checked against circuits/instances.json before any path is built from it (exit 2)", function () {
    it("a path-traversal instance", function () {
      for (const instance of ["../../../../tmp/evil", "../solvency-3x3x16", "/tmp/evil"]) {
        rejected(verify("--proof", edited(healthProof, "traversal", (file) => (file.zks.instance = instance))), 2, /traversal\.json: zks\.instance: expected an instance name of circuits\/instances\.json \(a-z, 0-9 and -\)$/);
      }
    });

    it("a well-formed name that is not declared, and an audit instance", function () {
      rejected(verify("--proof", edited(healthProof, "undeclared", (file) => (file.zks.instance = "evil"))), 2, /undeclared\.json: zks\.instance: "evil" is not an instance of circuits\/instances\.json$/);
      const audit = loadInstances().find((i) => i.template === "AuditMerge")!.name;
      rejected(verify("--proof", edited(healthProof, "audit-instance", (file) => (file.zks.instance = audit))), 2, new RegExp(`zks\\.instance: ${audit} is an AuditMerge instance; audit proofs are checked with \`zks audit verify\`$`));
    });
  });

  describe("the key: pinned by its fingerprint; another key is an error naming both, never INVALID", function () {
    const solvencyVkey = () => path.join(instanceDir(defaultBuildPaths(), "solvency-3x3x16"), "verification_key.json");

    it("another instance's key with --vkey (exit 2)", function () {
      rejected(verify("--proof", commitmentProof, "--vkey", solvencyVkey()), 2, /--vkey .*verification_key\.json: it is the key of instance solvency-3x3x16 \(.*\), not of commitment-3x3, the proof file's instance$/);
      // A key this machine did not build is still refused by its shape: another instance's signal count.
      const foreign = path.join(dir, "foreign-vkey.json");
      writeFileSync(foreign, readFileSync(solvencyVkey()));
      const renamed = { ...(readJsonFile(foreign) as VerificationKey) };
      (renamed.vk_alpha_1 as string[])[0] = "1"; // no longer the built key (its fingerprint differs)
      writeFileSync(foreign, JSON.stringify(renamed));
      rejected(verify("--proof", commitmentProof, "--vkey", foreign), 2, /foreign-vkey\.json: the verification key has 6 public signals and instance commitment-3x3 has 3: it is another instance's key$/);
      // A Solvency proof relabelled as another Solvency instance (the same signals) under its own key.
      const relabelled = edited(healthProof, "relabelled", (file) => (file.zks.instance = "health-var-3x3x128"));
      rejected(verify("--proof", relabelled, "--vkey", solvencyVkey()), 2, /it is the key of instance solvency-3x3x16 \(.*\), not of health-var-3x3x128, the proof file's instance$/);
    });

    describe("a key of the same instance from another setup", function () {
      let otherVkey: string;
      let otherHash: string;
      let otherBuild: string;
      const builtHash = () => loadInstanceArtifacts("commitment-3x3").manifest.verificationKeyHash!;

      before(async function () {
        // A real second key: one more phase-2 contribution to the built zkey.
        const built = loadInstanceArtifacts("commitment-3x3");
        const zkey = path.join(dir, "other.zkey");
        await snarkjs.zKey.contribute(built.zkey, zkey, "another setup", "entropy of another machine");
        const vkey = (await snarkjs.zKey.exportVerificationKey(zkey)) as VerificationKey;
        otherHash = verificationKeyHash(vkey);
        otherVkey = path.join(dir, "other-vkey.json");
        writeFileSync(otherVkey, JSON.stringify(vkey));
        // A build directory holding that key (ZKS_BUILD_DIR), as another machine's `zks setup` would.
        otherBuild = path.join(dir, "other-build");
        const instance = path.join(otherBuild, "circuits", "commitment-3x3");
        mkdirSync(instance, { recursive: true });
        writeFileSync(path.join(instance, "manifest.json"), JSON.stringify({ ...built.manifest, verificationKeyHash: otherHash }));
        copyFileSync(otherVkey, path.join(instance, "verification_key.json"));
      });

      it("with --vkey: exit 2 naming both hashes", function () {
        assert.notEqual(otherHash, builtHash());
        rejected(verify("--proof", commitmentProof, "--vkey", otherVkey), 2, new RegExp(`other-vkey\\.json: the verification key's hash is ${otherHash} but the proof was made with key ${builtHash()} \\(zks\\.verificationKeyHash\\)`));
      });

      it("as the build's key: exit 3 naming both hashes", function () {
        const result = run(ZKS, ["verify", "--proof", commitmentProof], { ZKS_BUILD_DIR: otherBuild });
        rejected(result, 3, new RegExp(`the built key of commitment-3x3 \\(.*other-build.*\\): the verification key's hash is ${otherHash} but the proof was made with key ${builtHash()}.*; verify with that setup's key \\(--vkey\\)$`));
      });

      it("a file that claims the other key is INVALID under it (the fingerprint is metadata; the pairing decides)", function () {
        const claimed = edited(commitmentProof, "claims-other-key", (file) => (file.zks.verificationKeyHash = otherHash));
        const result = verify("--proof", claimed, "--vkey", otherVkey);
        assert.equal(result.status, 1, result.stderr);
        assert.match(result.stdout, /^INVALID/);
      });
    });
  });

  describe("--market and --policy: recomputed and compared with the signals", function () {
    it("matching files verify the epoch and the policy", function () {
      const result = verify("--proof", healthProof, "--market", example("market-grid.json"), "--policy", example("policy.json"));
      assert.equal(result.status, 0, result.stderr);
      assert.match(result.stdout, /epoch\s+42 \(verified: .*market-grid\.json's root is the proof's marketRoot\)/);
      assert.match(result.stdout, /policyHash is .*policy\.json's/);
      const json = JSON.parse(verify("--proof", healthProof, "--market", example("market-grid.json"), "--json").stdout);
      assert.equal(json.epoch, 42);
      assert.equal(json.epochVerifiedBy, "market");
    });

    it("another market or policy: exit 1 naming the signal", function () {
      rejected(verify("--proof", healthProof, "--market", example("market-historical.json")), 1, /health\/proof\.json: marketRoot: the proof's market root is 0x[0-9a-f]{64}, not the given market's \(epoch \d+\) 0x[0-9a-f]{64}$/);
      const stricter = path.join(dir, "policy-stricter.json");
      writeFileSync(stricter, JSON.stringify({ ...(readJsonFile(example("policy.json")) as object), minHealthFactor: "1.2" }));
      rejected(verify("--proof", healthProof, "--market", example("market-grid.json"), "--policy", stricter), 1, /health\/proof\.json: policyHash: the proof's policy hash is 0x[0-9a-f]{64}, not the given policy's 0x[0-9a-f]{64}$/);
      rejected(verify("--proof", commitmentProof, "--market", example("market-grid.json")), 2, /a PositionCommitment proof carries no marketRoot signal/);
      rejected(verify("--proof", healthProof, "--policy", example("policy.json")), 2, /--policy: needs --market/);
    });
  });

  describe("statements an instance cannot make", function () {
    it("toProofFile refuses to write a stress statement for an instance that skips stress (health-var: checks = 13)", function () {
      const healthVar = loadInstances().find((i) => i.name === "health-var-3x3x128")!;
      assert.equal(healthVar.params[3]! & 2, 0, "health-var-3x3x128 does not check stress");
      const manifest = { instance: healthVar.name, template: healthVar.template, params: healthVar.params, publicSignals: healthVar.publicSignals, verificationKeyHash: healthFile.zks.verificationKeyHash };
      const { zks: _zks, ...proof } = healthFile;
      const zkProof = { proof, publicSignals: healthFile.zks.publicSignals };
      assert.throws(() => toProofFile(zkProof, { statement: "stress", epoch: 42, manifest }), (error: ZksError) => {
        assert.equal(error.exitCode, 2);
        assert.match(error.message, /^statement: "stress" is not a statement instance health-var-3x3x128 can prove: it checks health factor, historical VaR, parametric VaR \(checks = 13\), so its proofs state health, var$/);
        return true;
      });
      assert.throws(() => toProofFile(zkProof, { statement: "audit", epoch: 42, manifest }), /"audit" is not a statement instance health-var-3x3x128 can prove/);
    });

    it("verifyProofFile rejects a stress statement recorded for an instance without stress (ProofMetadataError naming zks.statement)", async function () {
      // The SDK call with the instance's declaration and a key that is the proof's: only the statement is wrong.
      const vkey = loadInstanceArtifacts("solvency-3x3x16").verificationKey;
      const file = { ...healthFile, zks: { ...healthFile.zks, instance: "health-var-3x3x128", statement: "stress" } };
      await assert.rejects(verifyProofFile(file, vkey, declarationOf("health-var-3x3x128")), (error: ProofMetadataError) => {
        assert.ok(error instanceof ProofMetadataError);
        assert.equal(error.field, "zks.statement");
        assert.equal(error.exitCode, 1);
        assert.match(error.message, /"stress" is not a statement instance health-var-3x3x128 can prove/);
        return true;
      });
    });

    it("verifyProofFile returns only signal values, and throws (not false) for another instance's key", async function () {
      const { file } = parseProofFile(readJsonFile(healthProof), healthProof);
      const verdict = await verifyProofFile(file, loadInstanceArtifacts("solvency-3x3x16").verificationKey, declarationOf("solvency-3x3x16"), { market, policy });
      assert.ok(verdict.valid);
      assert.equal(verdict.account, ACCOUNT);
      assert.equal(verdict.epoch, 42);
      assert.deepEqual(Object.keys(verdict.signals), ["commitment", "marketRoot", "policyHash", "account", "nonce", "context"]);
      assert.equal(verdict.signals.marketRoot, `0x${marketRoot(market, LAYOUT).toString(16).padStart(64, "0")}`);
      await assert.rejects(verifyProofFile(file, loadInstanceArtifacts("commitment-3x3").verificationKey, declarationOf("solvency-3x3x16")), (error: ProofKeyError) => {
        assert.ok(error instanceof ProofKeyError);
        assert.match(error.message, /has 3 public signals and instance solvency-3x3x16 has 6: it is another instance's key/);
        return true;
      });
    });
  });

  describe("--rpc: against a deployment on a local `hardhat node`", function () {
    let node: LocalNode;
    let deployment: { contracts: Record<string, string>; contexts: { RebalanceGate: string; AuditRegistry: string } };
    let claimProof: string;
    let registerProof: string;

    before(async function () {
      node = await startLocalNode();
      const file = path.join(dir, "local.json");
      const deployed = await zksAsync(["deploy", "--rpc", node.url, "--policy", example("policy.json"), "--market", example("market-grid.json"), "--test-tokens", "--out", file], { ZKS_PRIVATE_KEY: hardhatKey(0) });
      assert.equal(deployed.status, 0, deployed.stderr);
      deployment = JSON.parse(readFileSync(file, "utf8"));
      // The oracle publishes epoch 42's root (the deployer is its first publisher).
      const provider = new JsonRpcProvider(node.url, undefined, { staticNetwork: true });
      try {
        const oracle = new Contract(deployment.contracts.MarketOracle!, MARKET_ORACLE_ABI, new NonceManager(new Wallet(hardhatKey(0), provider)));
        const latest = (await provider.getBlock("latest"))!;
        await (await oracle.getFunction("publish")(42n, marketRoot(market, LAYOUT), BigInt(latest.timestamp))).wait();
      } finally {
        provider.destroy();
      }
      // An audit claim bound to the registry and a registration bound to the gate.
      const position = loadPosition("position-healthy.json", market);
      const solvency = loadInstanceArtifacts("solvency-3x3x16");
      const claim = await generateProof(solvencyInput(position, market, policy, LAYOUT, "claim", BigInt(deployment.contexts.AuditRegistry)), solvency);
      claimProof = writeProofFiles(path.join(dir, "claim"), toProofFile(claim, { statement: "audit", epoch: market.epoch, manifest: solvency.manifest })).proof;
      const rebalance = loadInstanceArtifacts("rebalance-3x3x16");
      const deposit = noMovements(market);
      deposit.flows[WETH] = 10n ** 18n;
      const t = transitionOf(emptyPosition(ACCOUNT, market), deposit, 7n);
      const register = await generateProof(rebalanceInput(t, market, policy, LAYOUT, "register", BigInt(deployment.contexts.RebalanceGate)), rebalance);
      registerProof = writeProofFiles(path.join(dir, "register"), toProofFile(register, { statement: "register", epoch: market.epoch, manifest: rebalance.manifest })).proof;
    });
    after(async function () {
      await node?.stop();
    });

    const chain = (proof: string, ...flags: string[]) => zksAsync(["verify", "--proof", proof, "--rpc", node.url, ...flags]);

    it("a proof bound to the deployment: context, policy, the oracle's root for its epoch and the verifier's key all match (exit 0)", async function () {
      const claim = await chain(claimProof, "--gate", deployment.contracts.RebalanceGate!, "--registry", deployment.contracts.AuditRegistry!);
      assert.equal(claim.status, 0, claim.stderr);
      assert.match(claim.stdout, /^VALID: audit proof, instance solvency-3x3x16/);
      assert.match(claim.stdout, /epoch\s+42 \(verified: the oracle's root for it is the proof's marketRoot\)/);
      assert.match(claim.stdout, new RegExp(`on chain 31337: bound to AuditRegistry ${deployment.contracts.AuditRegistry}; its policy, its oracle's root for epoch 42 and its verifier's key \\(${deployment.contracts.SolvencyVerifier}\\) are the proof's`));

      const register = await chain(registerProof, "--gate", deployment.contracts.RebalanceGate!, "--json");
      assert.equal(register.status, 0, register.stderr);
      const json = JSON.parse(register.stdout);
      assert.equal(json.statement, "register");
      assert.equal(json.epochVerifiedBy, "chain");
      assert.deepEqual(json.matched.chain, { chainId: "31337", contract: "RebalanceGate", address: deployment.contracts.RebalanceGate, oracle: deployment.contracts.MarketOracle, verifier: deployment.contracts.RebalanceVerifier });
    });

    it("a wrong gate: another contract's context (exit 1 naming context), an address without code (exit 2), a registry of another gate (exit 1)", async function () {
      // The registry's address given as the gate: its context is not the one the proof is bound to.
      rejected(await chain(registerProof, "--gate", deployment.contracts.AuditRegistry!), 1, new RegExp(`register/proof\\.json: context: the proof's context 0x[0-9a-f]{64} is another contract or chain; RebalanceGate ${deployment.contracts.AuditRegistry} on chain 31337 takes 0x[0-9a-f]{64}$`));
      rejected(await chain(registerProof, "--gate", "0x000000000000000000000000000000000000dEaD"), 2, /--gate: no contract at 0x000000000000000000000000000000000000dEaD on chain 31337$/);
      rejected(await chain(claimProof, "--gate", deployment.contracts.MarketOracle!, "--registry", deployment.contracts.AuditRegistry!), 1, new RegExp(`--registry: the AuditRegistry at ${deployment.contracts.AuditRegistry} audits the gate ${deployment.contracts.RebalanceGate}, not --gate ${deployment.contracts.MarketOracle}$`));
      // An off-chain proof (context 0) is bound to no contract.
      rejected(await chain(healthProof, "--gate", deployment.contracts.RebalanceGate!, "--registry", deployment.contracts.AuditRegistry!), 1, /health\/proof\.json: context: the proof's context 0x0{64} is 0, an off-chain proof bound to no contract/);
    });

    it("an epoch the oracle has no market for (exit 1 naming zks.epoch); a Solvency proof without --registry (exit 2)", async function () {
      const forged = edited(claimProof, "claim-epoch", (file) => (file.zks.epoch = 43));
      rejected(await chain(forged, "--gate", deployment.contracts.RebalanceGate!, "--registry", deployment.contracts.AuditRegistry!), 1, /claim-epoch\.json: zks\.epoch: the file says epoch 43, for which the oracle 0x[0-9a-fA-F]{40} published no market$/);
      rejected(await chain(claimProof, "--gate", deployment.contracts.RebalanceGate!), 2, /--registry: a Solvency proof is an audit claim/);
    });
  });
});
