import { zksAsync as runZksAsync } from "./helpers/cli.ts";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { Contract, ContractFactory, getAddress, HDNodeWallet, JsonRpcProvider, NonceManager, Wallet } from "ethers";
import * as snarkjs from "snarkjs";
import type { VerificationKey } from "snarkjs";
import { MARKET_ORACLE_ABI, REBALANCE_GATE_ABI } from "../packages/sdk/src/chain/abi.ts";
import { marketRoot } from "../packages/sdk/src/commitment/market-root.ts";
import { policyHash } from "../packages/sdk/src/commitment/policy-hash.ts";
import { ZksError } from "../packages/sdk/src/core/errors.ts";
import { keeperPublicKeyFileJson } from "../packages/sdk/src/encryption/keeper-key.ts";
import { SNARK_FIELD } from "../packages/sdk/src/core/field.ts";
import { loadInstanceArtifacts } from "../packages/node/src/artifacts.ts";
import { readJsonFile } from "../packages/node/src/read-json.ts";
import { writeProofFiles } from "../packages/node/src/write-proof.ts";
import { parseProofFile, signalHex, toProofFile, type ProofFile } from "../packages/sdk/src/proof-file/proof-file.ts";
import { generateProof } from "../packages/sdk/src/prover/prove.ts";
import { releaseProverThreads } from "../packages/sdk/src/prover/release.ts";
import { positionOpeningInput } from "../packages/sdk/src/prover/witness/position-opening.ts";
import { rebalanceInput } from "../packages/sdk/src/prover/witness/rebalance.ts";
import { solvencyInput } from "../packages/sdk/src/prover/witness/solvency.ts";
import { emptyPosition, noMovements } from "../packages/sdk/src/rebalance/transition.ts";
import { loadInstances } from "../packages/node/src/setup/instances.ts";
import { defaultBuildPaths, instanceDir, PACKAGE_ROOT } from "../packages/node/src/setup/paths.ts";
import { BN254_BASE_FIELD } from "../packages/sdk/src/verifier/key-check.ts";
import { verificationKeyHash } from "../packages/sdk/src/verifier/key-hash.ts";
import { ProofKeyError, ProofMetadataError, verifyProofFile, type InstanceDeclaration } from "../packages/sdk/src/verifier/proof-file-verdict.ts";
import { verifyProof } from "../packages/sdk/src/verifier/verify.ts";
import { LAYOUT, transitionOf, WETH } from "./helpers/contracts-fixtures.ts";
import { example, loadMarket, loadPolicy, loadPosition } from "./helpers/examples.ts";
import { TEST_KEEPER } from "./helpers/keeper-key.ts";
import { forgeTrapdoorProof } from "./helpers/forged-key.ts";
import { HARDHAT_MNEMONIC, startLocalNode, type LocalNode } from "./helpers/local-node.ts";

const ZKS = path.join(PACKAGE_ROOT, "packages", "cli", "bin", "zks.js");
const SNARKJS = path.join(PACKAGE_ROOT, "node_modules", "snarkjs", "build", "cli.cjs");
const run = (command: string, args: string[], env: NodeJS.ProcessEnv = {}) =>
  spawnSync(process.execPath, [command, ...args], { encoding: "utf8", env: { ...process.env, ZKS_DEBUG: "", ...env } });
const verify = (...args: string[]) => run(ZKS, ["verify", ...args]);
const hardhatKey = (index: number) => HDNodeWallet.fromPhrase(HARDHAT_MNEMONIC, undefined, `m/44'/60'/0'/0/${index}`).privateKey;
const HASH = "0x[0-9a-f]{64}";

/** Async: the parent's event loop keeps running while a hardhat node (or a fake endpoint) is its child. */
async function zksAsync(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const { code, stdout, stderr } = await runZksAsync(args, env);
  return { status: code, stdout, stderr };
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

/** Runs independent CLI checks side by side (each CLI start costs seconds) and checks each as `rejected` does. */
async function allRejected(cases: [Promise<{ status: number | null; stdout: string; stderr: string }>, number, RegExp][]): Promise<void> {
  const results = await Promise.all(cases.map(([result]) => result));
  results.forEach((result, i) => rejected(result, cases[i]![1], cases[i]![2]));
}
const verifyAsync = (...args: string[]) => zksAsync(["verify", ...args]);

/** The trusted declaration of an instance, as an SDK caller builds it from its own build's key. */
const declarationOf = (name: string, verificationKeyHash: string): InstanceDeclaration => {
  const declared = loadInstances().find((i) => i.name === name)!;
  return { instance: name, template: declared.template, params: declared.params, publicSignals: declared.publicSignals, verificationKeyHash };
};
const builtHashOf = (name: string) => verificationKeyHash(loadInstanceArtifacts(name).verificationKey);
const builtVkey = (name: string) => path.join(instanceDir(defaultBuildPaths(), name), "verification_key.json");

describe("proof files and zks verify", function () {
  this.timeout(600_000);
  let dir: string;
  let commitmentProof: string;
  let commitmentPublic: string;
  let healthProof: string;
  let healthFile: ProofFile;
  /** A build directory with nothing built: only a pin other than the build can vouch for a key. */
  let emptyBuild: string;
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
  const writeJson = (name: string, value: unknown): string => {
    const out = path.join(dir, name);
    writeFileSync(out, JSON.stringify(value));
    return out;
  };

  before(async function () {
    dir = mkdtempSync(path.join(tmpdir(), "zks-verify-"));
    emptyBuild = path.join(dir, "empty-build");
    mkdirSync(emptyBuild);
    const position = loadPosition("position-healthy.json", market);
    const commitment = loadInstanceArtifacts("commitment-3x3");
    const zkProof = await generateProof(positionOpeningInput(position, market, { nAssets: 3, nInstruments: 3 }), commitment);
    ({ proof: commitmentProof, publicSignals: commitmentPublic } = writeProofFiles(
      path.join(dir, "commitment"),
      toProofFile(zkProof, { statement: "commitment", epoch: market.epoch, manifest: commitment.manifest }),
    ));
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

  it("accepts a valid proof file (exit 0) and prints only values read from its public signals, with the key's fingerprint, source and pin", function () {
    const key = loadInstanceArtifacts("commitment-3x3").manifest.verificationKeyHash!;
    const result = verify("--proof", commitmentProof);
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stdout, /^VALID: commitment proof, instance commitment-3x3 \(PositionCommitment\)\n/);
    assert.match(
      result.stdout,
      new RegExp(`key\\s+${key}, development key: made by one machine's setup, not for production \\(pinned by this machine's build \\(.*commitment-3x3\\)\\)\\n`),
    );
    // A commitment opening has no market: no epoch is stated.
    assert.match(result.stdout, /epoch\s+none \(a PositionCommitment proof carries no marketRoot\)/);
    assert.doesNotMatch(result.stdout, /\b42\b/);
    assert.match(result.stdout, /commitment\s+0x[0-9a-f]{64}\n/);
    assert.match(result.stdout, new RegExp(`account\\s+0x0{24}${ACCOUNT.slice(2).toLowerCase()} \\(${ACCOUNT}\\)`));

    const json = JSON.parse(verify("--proof", commitmentProof, "--json").stdout);
    assert.equal(json.valid, true);
    assert.equal(json.epoch, null);
    assert.equal(json.account, ACCOUNT);
    assert.deepEqual(json.key, { verificationKeyHash: key, pinnedBy: "build", source: "development", claimedSource: "development", untrustedPtau: false });
    assert.deepEqual(json.checked, { marketRoot: null, policyHash: null, context: null, epoch: null });
    assert.deepEqual(Object.keys(json.publicSignals), ["commitment", "account", "nonce"]);
  });

  it("marks every binding the prover chose freely as not checked: marketRoot, policyHash, context and the epoch", function () {
    const text = verify("--proof", healthProof);
    assert.equal(text.status, 0, text.stderr);
    assert.match(text.stdout, /^VALID: health proof, instance solvency-3x3x16 \(Solvency; the circuit checks health factor, scenario stress, historical VaR, parametric VaR\)\n/);
    assert.match(text.stdout, /epoch\s+not checked \(not a public signal; check it with --market FILE or --rpc\)/);
    assert.match(text.stdout, new RegExp(`marketRoot\\s+${HASH} \\(not checked: give --market FILE or --rpc\\)`));
    assert.match(text.stdout, new RegExp(`policyHash\\s+${HASH} \\(not checked: give --policy FILE or --rpc\\)`));
    assert.match(text.stdout, /context\s+0x0{64} \(0: an off-chain proof, bound to no contract\)/);
    const json = JSON.parse(verify("--proof", healthProof, "--json").stdout);
    assert.equal(json.statement, "health");
    assert.deepEqual(json.proves, ["healthFactor", "stress", "historicalVar", "parametricVar"]);
    assert.deepEqual(json.checked, { marketRoot: false, policyHash: false, context: false, epoch: false });
  });

  it("snarkjs groth16 verify accepts the same files as they are", function () {
    const result = run(SNARKJS, ["groth16", "verify", builtVkey("commitment-3x3"), commitmentPublic, commitmentProof]);
    assert.equal(result.status, 0, result.stdout + result.stderr);
    assert.match(result.stdout, /OK/);
  });

  it("a tampered public signal or one >= r is INVALID (exit 1); a malformed file and a version 1 file are bad input (exit 2, one line)", function () {
    const tampered = edited(commitmentProof, "tampered", (file) => (file.zks.publicSignals[2] = (BigInt(file.zks.publicSignals[2]) + 1n).toString()));
    const invalid = verify("--proof", tampered);
    assert.equal(invalid.status, 1);
    assert.match(invalid.stdout, new RegExp(`^INVALID: the proof does not verify under instance commitment-3x3's key ${HASH}\\n$`));
    // nonce + r is the same field element: snarkjs refuses signals outside the field, as the contracts do.
    const aliased = edited(commitmentProof, "aliased", (file) => {
      file.zks.publicSignals[2] = (BigInt(file.zks.publicSignals[2]) + SNARK_FIELD).toString();
      file.zks.named.nonce = signalHex(file.zks.publicSignals[2]);
    });
    const outside = verify("--proof", aliased, "--json");
    assert.equal(outside.status, 1, outside.stderr);
    assert.equal(JSON.parse(outside.stdout).valid, false);

    rejected(
      verify(
        "--proof",
        edited(commitmentProof, "malformed", (file) => (file.pi_a = ["1", "2"])),
      ),
      2,
      /malformed\.json: pi_a/,
    );
    const v1 = edited(commitmentProof, "v1", (file) => {
      file.zks.version = 1;
      delete file.zks.verificationKeyHash;
      delete file.zks.keySource;
    });
    rejected(verify("--proof", v1), 2, /v1\.json: zks\.version: version 1 proof file, made by an older zks without the key's fingerprint; prove again$/);
  });

  it("proof points must be affine (z = 1) with coordinates below the base field: the contracts' calldata drops z (exit 2 naming the field)", async function () {
    const P = BN254_BASE_FIELD;
    await allRejected([
      [
        verifyAsync(
          "--proof",
          edited(commitmentProof, "z-a", (file) => (file.pi_a[2] = (P - 1n).toString())),
        ),
        2,
        /z-a\.json: pi_a\[2\]: expected the affine z coordinate "1"/,
      ],
      [
        verifyAsync(
          "--proof",
          edited(commitmentProof, "z-b", (file) => (file.pi_b[2] = ["2", "0"])),
        ),
        2,
        /z-b\.json: pi_b\[2\]\[0\]: expected the affine z coordinate "1"/,
      ],
      [
        verifyAsync(
          "--proof",
          edited(commitmentProof, "z-c", (file) => (file.pi_c[2] = "0")),
        ),
        2,
        /z-c\.json: pi_c\[2\]: expected the affine z coordinate "1"/,
      ],
      // x + p is x to snarkjs but not to the pairing precompile.
      [
        verifyAsync(
          "--proof",
          edited(commitmentProof, "x-p", (file) => (file.pi_a[0] = (BigInt(file.pi_a[0]) + P).toString())),
        ),
        2,
        /x-p\.json: pi_a\[0\]: expected a coordinate below the BN254 base field/,
      ],
    ]);
  });

  it("an epoch beyond 2^53 - 1 is bad input naming zks.epoch (it made ethers throw, exit 70)", function () {
    const big = readFileSync(healthProof, "utf8").replace(/"epoch":\s*\d+/, '"epoch": 18446744073709551616');
    const file = path.join(dir, "big-epoch.json");
    writeFileSync(file, big);
    rejected(verify("--proof", file), 2, /big-epoch\.json: zks\.epoch: expected a whole number of at most 2\^53 - 1/);
  });

  describe("forged metadata: exit 1 naming the field", function () {
    it("an account in zks.named that is not the account signal (and --json says so on stdout)", function () {
      const forged = edited(healthProof, "forged-account", (file) => (file.zks.named.account = `0x${"0".repeat(24)}${"ab".repeat(20)}`));
      rejected(
        verify("--proof", forged),
        1,
        /forged-account\.json: zks\.named\.account: the file says "0x0{24}(ab){20}" but the public signal account is 0x0{24}70997970c51812dc3a010c7d01b50e0d17dc79c8$/,
      );
      const json = verify("--proof", forged, "--json");
      assert.equal(json.status, 1);
      const body = JSON.parse(json.stdout);
      assert.deepEqual(Object.keys(body), ["valid", "instance", "field", "problem"]);
      assert.equal(body.valid, false);
      assert.equal(body.field, "zks.named.account");
      assert.match(body.problem, /^the file says "0x0{24}(ab){20}" but the public signal account is/);
      assert.match(json.stderr, /zks\.named\.account/);
      const extra = edited(healthProof, "forged-extra", (file) => (file.zks.named.solvent = "0x01"));
      rejected(verify("--proof", extra), 1, /zks\.named\.solvent: instance solvency-3x3x16 has no public signal solvent/);
    });

    it("a statement the instance's circuit does not make", function () {
      rejected(
        verify(
          "--proof",
          edited(healthProof, "forged-statement", (file) => (file.zks.statement = "rebalance")),
        ),
        1,
        /forged-statement\.json: zks\.statement: "rebalance" is not a statement instance solvency-3x3x16 can prove: it checks health factor, scenario stress, historical VaR, parametric VaR \(checks = 15\), so its proofs state health, stress, var, audit$/,
      );
      rejected(
        verify(
          "--proof",
          edited(commitmentProof, "forged-commitment-statement", (file) => (file.zks.statement = "health")),
        ),
        1,
        /zks\.statement: "health" is not a statement of a PositionCommitment proof \(expected commitment\)/,
      );
    });

    it("an epoch other than the market's whose root the proof carries (with --market); without --market the epoch is not printed", function () {
      const forged = edited(healthProof, "forged-epoch", (file) => (file.zks.epoch = 99));
      rejected(
        verify("--proof", forged, "--market", example("market-grid.json")),
        1,
        /forged-epoch\.json: zks\.epoch: the file says epoch 99 but the proof's market root is the market of epoch 42$/,
      );
      const unchecked = verify("--proof", forged);
      assert.equal(unchecked.status, 0, unchecked.stderr);
      assert.doesNotMatch(unchecked.stdout, /\b99\b/);
      assert.match(unchecked.stdout, /epoch\s+not checked/);
    });

    it("a key source other than the manifest's", function () {
      rejected(
        verify(
          "--proof",
          edited(commitmentProof, "forged-source", (file) => (file.zks.keySource = "ceremony")),
        ),
        1,
        new RegExp(`forged-source\\.json: zks\\.keySource: the file says "ceremony" but the manifest of key ${HASH} says "development"$`),
      );
    });
  });

  describe("the instance name: checked against circuits/instances.json before any path is built from it (exit 2)", function () {
    it("a path-traversal instance", async function () {
      await allRejected(
        ["../../../../tmp/evil", "../solvency-3x3x16", "/tmp/evil"].map((instance, i) => [
          verifyAsync(
            "--proof",
            edited(healthProof, `traversal-${i}`, (file) => (file.zks.instance = instance)),
          ),
          2,
          new RegExp(`traversal-${i}\\.json: zks\\.instance: expected an instance name of circuits/instances\\.json \\(a-z, 0-9 and -\\)$`),
        ]),
      );
    });

    it("a well-formed name that is not declared, and an audit instance", function () {
      rejected(
        verify(
          "--proof",
          edited(healthProof, "undeclared", (file) => (file.zks.instance = "evil")),
        ),
        2,
        /undeclared\.json: zks\.instance: "evil" is not an instance of circuits\/instances\.json$/,
      );
      const audit = loadInstances().find((i) => i.template === "AuditMerge")!.name;
      rejected(
        verify(
          "--proof",
          edited(healthProof, "audit-instance", (file) => (file.zks.instance = audit)),
        ),
        2,
        new RegExp(`zks\\.instance: ${audit} is an AuditMerge instance; audit proofs are checked with \`zks audit verify\`$`),
      );
    });
  });

  describe("the key: pinned by a source other than the file; another key is an error naming both fingerprints, never INVALID", function () {
    let forgedProof: string;
    let forgedVkey: string;
    let forgedHash: string;

    before(async function () {
      // The reviewer's forgery: an attacker's key with a known trapdoor and a file claiming a
      // ceremony-keyed audit of solvency-3x3x16 over the real market root and policy hash.
      const signals = [1n, marketRoot(market, LAYOUT), policyHash(policy), BigInt("0x000000000000000000000000000000000000dEaD"), 5n, 0n];
      const { vkey, proof } = await forgeTrapdoorProof(signals);
      forgedHash = verificationKeyHash(vkey);
      forgedVkey = writeJson("forged-vkey.json", vkey);
      const names = loadInstances().find((i) => i.name === "solvency-3x3x16")!.publicSignals;
      const publicSignals = signals.map(String);
      forgedProof = writeJson("forged-proof.json", {
        ...proof,
        zks: {
          version: 2,
          instance: "solvency-3x3x16",
          statement: "audit",
          epoch: 42,
          publicSignals,
          named: Object.fromEntries(names.map((n, i) => [n, signalHex(publicSignals[i]!)])),
          verificationKeyHash: forgedHash,
          keySource: "ceremony",
          createdAt: new Date().toISOString(),
        },
      });
      // The forgery is a real pairing under its own key: only the pin stands between it and VALID.
      const { file } = parseProofFile(readJsonFile(forgedProof), forgedProof);
      const { zks: _zks, ...groth16 } = file;
      assert.ok(await verifyProof(vkey, { proof: groth16, publicSignals }));
    });

    it("a trapdoor key with --vkey, whatever the file claims: exit 2, unpinned key", function () {
      rejected(
        verify("--proof", forgedProof, "--vkey", forgedVkey, "--market", example("market-grid.json"), "--policy", example("policy.json")),
        2,
        new RegExp(
          `--vkey .*forged-vkey\\.json: unpinned key: its hash is ${forgedHash} and this machine's built key of solvency-3x3x16 is ${builtHashOf("solvency-3x3x16")}; a key says nothing of the circuit it was made for .* pin it with --key-hash HASH from a source you trust, --deployment FILE or --rpc with the deployment$`,
        ),
      );
      // Without --vkey the build's key decides: not the file's key, a setup error naming both.
      rejected(
        verify("--proof", forgedProof),
        3,
        new RegExp(`the built key of solvency-3x3x16 \\(.*\\): the verification key's hash is ${builtHashOf("solvency-3x3x16")} but the proof was made with key ${forgedHash}`),
      );
      // A --key-hash that is not the build's key, without --vkey: the build is another setup's (exit 3).
      rejected(
        verify("--proof", forgedProof, "--key-hash", forgedHash),
        3,
        new RegExp(
          `the built key of solvency-3x3x16 \\(.*\\) is ${builtHashOf("solvency-3x3x16")}, not ${forgedHash}, the key --key-hash pins; verify with that key \\(--vkey\\)$`,
        ),
      );
      // --key-hash pins the build's key: the trapdoor key is not it.
      rejected(
        verify("--proof", forgedProof, "--vkey", forgedVkey, "--key-hash", builtHashOf("solvency-3x3x16")),
        2,
        new RegExp(`forged-vkey\\.json: the key's hash is ${forgedHash}, not the pinned --key-hash ${builtHashOf("solvency-3x3x16")}$`),
      );
    });

    it("the SDK requires the trusted fingerprint and throws ProofKeyError (naming both) for the trapdoor key", async function () {
      const { file } = parseProofFile(readJsonFile(forgedProof), forgedProof);
      const vkey = readJsonFile(forgedVkey) as VerificationKey;
      await assert.rejects(verifyProofFile(file, vkey, declarationOf("solvency-3x3x16", builtHashOf("solvency-3x3x16"))), (error: ProofKeyError) => {
        assert.ok(error instanceof ProofKeyError);
        assert.equal(error.message, `the verification key's hash is ${forgedHash} but the trusted key of instance solvency-3x3x16 is ${builtHashOf("solvency-3x3x16")}`);
        return true;
      });
      const { verificationKeyHash: _omitted, ...unpinned } = declarationOf("solvency-3x3x16", "");
      await assert.rejects(verifyProofFile(file, vkey, unpinned as InstanceDeclaration), /no trusted key fingerprint for instance solvency-3x3x16/);
    });

    it("a key whose unhashed parts differ: z coordinates, curve, IC count (exit 2 naming the field; exit 3 as the build's key)", async function () {
      const P = BN254_BASE_FIELD;
      const vkey = readJsonFile(forgedVkey) as any;
      // gamma's z = -1 and IC0's z = -1 keep the fingerprint and make snarkjs accept negated signals.
      const twisted = structuredClone(vkey);
      twisted.vk_gamma_2[2] = [(P - 1n).toString(), "0"];
      twisted.IC[0][2] = (P - 1n).toString();
      assert.equal(verificationKeyHash(twisted), forgedHash);
      const { file } = parseProofFile(readJsonFile(forgedProof), forgedProof);
      const { zks, ...groth16 } = file;
      const negated = zks.publicSignals.map((s) => ((SNARK_FIELD - BigInt(s)) % SNARK_FIELD).toString());
      assert.ok(await verifyProof(twisted, { proof: groth16, publicSignals: negated }), "the attack works on a bare snarkjs verify");
      const pinned = ["--key-hash", forgedHash];
      const ic0 = structuredClone(vkey);
      ic0.IC[0][2] = (P - 1n).toString();
      const offCurve = structuredClone(vkey);
      offCurve.vk_alpha_1[1] = "1";
      const withKey = (name: string, key: unknown) => verifyAsync("--proof", forgedProof, "--vkey", writeJson(name, key), ...pinned);
      await allRejected([
        [withKey("twisted.json", twisted), 2, /twisted\.json: vk_gamma_2\[2\]: expected the affine z \["1", "0"\], got \[".*","0"\]/],
        [withKey("ic0.json", ic0), 2, /ic0\.json: IC\[0\]\[2\]: expected the affine z "1"/],
        [withKey("bls.json", { ...vkey, curve: "bls12381" }), 2, /bls\.json: curve: expected "bn128" \(BN254\), got "bls12381"/],
        [withKey("short.json", { ...vkey, IC: vkey.IC.slice(0, 3) }), 2, /short\.json: IC: expected nPublic \+ 1 = 7 points, got 3/],
        [withKey("off-curve.json", offCurve), 2, /off-curve\.json: vk_alpha_1: not a point of BN254's G1/],
      ]);
      // The same twist in a build directory's key, its manifest recording the (unchanged) fingerprint: a setup error.
      const built = loadInstanceArtifacts("commitment-3x3");
      const twistedBuild = path.join(dir, "twisted-build");
      const instance = path.join(twistedBuild, "circuits", "commitment-3x3");
      mkdirSync(instance, { recursive: true });
      const key = structuredClone(built.verificationKey) as any;
      key.vk_delta_2[2] = [(P - 1n).toString(), "0"];
      writeFileSync(path.join(instance, "manifest.json"), JSON.stringify(built.manifest));
      writeFileSync(path.join(instance, "verification_key.json"), JSON.stringify(key));
      rejected(
        run(ZKS, ["verify", "--proof", commitmentProof], { ZKS_BUILD_DIR: twistedBuild }),
        3,
        /twisted-build.*verification_key\.json: not a usable verification key \(vk_delta_2\[2\]: expected the affine z \["1", "0"\]/,
      );
    });

    it("another instance's key with --vkey (exit 2, naming both fingerprints)", function () {
      const solvency = builtHashOf("solvency-3x3x16");
      rejected(
        verify("--proof", commitmentProof, "--vkey", builtVkey("solvency-3x3x16")),
        2,
        new RegExp(
          `--vkey .*verification_key\\.json: it is the key of instance solvency-3x3x16 \\(.*\\), not of commitment-3x3, the proof file's instance \\(key ${solvency}; commitment-3x3's is ${builtHashOf("commitment-3x3")}\\)$`,
        ),
      );
      // A Solvency proof relabelled as another Solvency instance (the same signals) under its own key.
      const relabelled = edited(healthProof, "relabelled", (file) => (file.zks.instance = "health-var-3x3x128"));
      rejected(
        verify("--proof", relabelled, "--vkey", builtVkey("solvency-3x3x16")),
        2,
        new RegExp(
          `it is the key of instance solvency-3x3x16 \\(.*\\), not of health-var-3x3x128, the proof file's instance \\(key ${solvency}; health-var-3x3x128's is not built here\\)$`,
        ),
      );
      // Pinned by hand, another instance's key still fails its signal count (the SDK names both fingerprints).
      rejected(
        verify("--proof", commitmentProof, "--vkey", forgedVkey, "--key-hash", forgedHash),
        2,
        new RegExp(`forged-vkey\\.json: the trusted key ${forgedHash} has 6 public signals and instance commitment-3x3 has 3: it is another instance's key$`),
      );
    });

    describe("a key of the same instance from another setup", function () {
      let otherVkey: string;
      let otherHash: string;
      let otherBuild: string;
      let otherProof: string;

      before(async function () {
        // A real second key: one more phase-2 contribution to the built zkey, and a proof made with it.
        const built = loadInstanceArtifacts("commitment-3x3");
        const zkey = path.join(dir, "other.zkey");
        await snarkjs.zKey.contribute(built.zkey, zkey, "another setup", "entropy of another machine");
        const vkey = (await snarkjs.zKey.exportVerificationKey(zkey)) as VerificationKey;
        otherHash = verificationKeyHash(vkey);
        otherVkey = writeJson("other-vkey.json", vkey);
        const position = loadPosition("position-healthy.json", market);
        const zkProof = await generateProof(positionOpeningInput(position, market, { nAssets: 3, nInstruments: 3 }), { ...built, zkey });
        otherProof = writeProofFiles(
          path.join(dir, "other"),
          toProofFile(zkProof, { statement: "commitment", epoch: market.epoch, manifest: { ...built.manifest, verificationKeyHash: otherHash } }),
        ).proof;
        // A build directory holding that key (ZKS_BUILD_DIR), as another machine's `zks setup` would.
        otherBuild = path.join(dir, "other-build");
        const instance = path.join(otherBuild, "circuits", "commitment-3x3");
        mkdirSync(instance, { recursive: true });
        writeFileSync(path.join(instance, "manifest.json"), JSON.stringify({ ...built.manifest, verificationKeyHash: otherHash }));
        copyFileSync(otherVkey, path.join(instance, "verification_key.json"));
      });

      it("with --vkey and nothing pinning it: exit 2, unpinned key", function () {
        assert.notEqual(otherHash, builtHashOf("commitment-3x3"));
        rejected(
          verify("--proof", otherProof, "--vkey", otherVkey),
          2,
          new RegExp(`other-vkey\\.json: unpinned key: its hash is ${otherHash} and this machine's built key of commitment-3x3 is ${builtHashOf("commitment-3x3")}`),
        );
        // Relabelled to an instance this machine only compiled (no key, no fingerprint): nothing pins it either.
        const relabelled = edited(otherProof, "relabelled-8x8", (file) => (file.zks.instance = "commitment-8x8"));
        rejected(verify("--proof", relabelled, "--vkey", otherVkey), 2, new RegExp(`unpinned key: its hash is ${otherHash} and commitment-8x8 is not built here`));
      });

      it("pinned with --key-hash: VALID, its source only the file's claim (source null, claimedSource)", function () {
        const text = verify("--proof", otherProof, "--vkey", otherVkey, "--key-hash", otherHash);
        assert.equal(text.status, 0, text.stderr);
        assert.match(
          text.stdout,
          new RegExp(`key\\s+${otherHash}, source not known here \\(the file says: development key: made by one machine's setup, not for production\\) \\(pinned by --key-hash\\)`),
        );
        const json = JSON.parse(verify("--proof", otherProof, "--vkey", otherVkey, "--key-hash", otherHash, "--json").stdout);
        assert.deepEqual(json.key, { verificationKeyHash: otherHash, pinnedBy: "key-hash", source: null, claimedSource: "development", untrustedPtau: false });
      });

      it("a pinned key that is not the proof's: exit 2 naming both hashes", function () {
        rejected(
          verify("--proof", commitmentProof, "--vkey", otherVkey, "--key-hash", otherHash),
          2,
          new RegExp(
            `other-vkey\\.json: the verification key's hash is ${otherHash} but the proof was made with key ${builtHashOf("commitment-3x3")} \\(zks\\.verificationKeyHash\\)`,
          ),
        );
      });

      it("as the build's key: exit 3 naming both hashes", function () {
        const result = run(ZKS, ["verify", "--proof", commitmentProof], { ZKS_BUILD_DIR: otherBuild });
        rejected(
          result,
          3,
          new RegExp(
            `the built key of commitment-3x3 \\(.*other-build.*\\): the verification key's hash is ${otherHash} but the proof was made with key ${builtHashOf("commitment-3x3")}.*; verify with that setup's key \\(--vkey\\) and a pin$`,
          ),
        );
      });

      it("a file that claims the other key is INVALID under it (the fingerprint is metadata; the pairing decides)", function () {
        const claimed = edited(commitmentProof, "claims-other-key", (file) => (file.zks.verificationKeyHash = otherHash));
        const result = verify("--proof", claimed, "--vkey", otherVkey, "--key-hash", otherHash);
        assert.equal(result.status, 1, result.stderr);
        assert.match(result.stdout, /^INVALID/);
      });
    });
  });

  describe("a stale build: instances.json and the build disagree (exit 3)", function () {
    it("a manifest whose signals or parameters are not the declared instance's", async function () {
      const built = loadInstanceArtifacts("commitment-3x3");
      const fields = [
        ["params", [3, 4]],
        ["publicSignals", ["commitment", "nonce", "account"]],
        ["template", "Solvency"],
      ] as const;
      await allRejected(
        fields.map(([field, value]) => {
          const stale = path.join(dir, `stale-${field}`);
          const instance = path.join(stale, "circuits", "commitment-3x3");
          mkdirSync(instance, { recursive: true });
          writeFileSync(path.join(instance, "manifest.json"), JSON.stringify({ ...built.manifest, [field]: value }));
          copyFileSync(builtVkey("commitment-3x3"), path.join(instance, "verification_key.json"));
          return [
            zksAsync(["verify", "--proof", commitmentProof], { ZKS_BUILD_DIR: stale }),
            3,
            new RegExp(
              `the build of commitment-3x3 \\(.*stale-${field}.*\\) is stale: its manifest's ${field} .* is not circuits/instances\\.json's .*; run \`zks setup --instance commitment-3x3\`$`,
            ),
          ];
        }),
      );
    });
  });

  describe("--market and --policy: recomputed and compared with the signals", function () {
    it("matching files verify the epoch and the policy", function () {
      const result = verify("--proof", healthProof, "--market", example("market-grid.json"), "--policy", example("policy.json"));
      assert.equal(result.status, 0, result.stderr);
      assert.match(result.stdout, /epoch\s+42 \(checked: .*market-grid\.json's root is the proof's marketRoot\)/);
      assert.match(result.stdout, new RegExp(`marketRoot\\s+${HASH} \\(checked: .*market-grid\\.json's root\\)`));
      assert.match(result.stdout, new RegExp(`policyHash\\s+${HASH} \\(checked: .*policy\\.json's hash\\)`));
      const json = JSON.parse(verify("--proof", healthProof, "--market", example("market-grid.json"), "--json").stdout);
      assert.equal(json.epoch, 42);
      assert.equal(json.epochVerifiedBy, "market");
      assert.deepEqual(json.checked, { marketRoot: true, policyHash: false, context: false, epoch: true });
    });

    it("another market or policy: exit 1 naming the signal", function () {
      rejected(
        verify("--proof", healthProof, "--market", example("market-historical.json")),
        1,
        /health\/proof\.json: marketRoot: the proof's market root is 0x[0-9a-f]{64}, not the given market's \(epoch \d+\) 0x[0-9a-f]{64}$/,
      );
      const stricter = writeJson("policy-stricter.json", { ...(readJsonFile(example("policy.json")) as object), minHealthFactor: "1.2" });
      rejected(
        verify("--proof", healthProof, "--market", example("market-grid.json"), "--policy", stricter),
        1,
        /health\/proof\.json: policyHash: the proof's policy hash is 0x[0-9a-f]{64}, not the given policy's 0x[0-9a-f]{64}$/,
      );
      rejected(verify("--proof", commitmentProof, "--market", example("market-grid.json")), 2, /a PositionCommitment proof carries no marketRoot signal/);
      rejected(verify("--proof", healthProof, "--policy", example("policy.json")), 2, /--policy: needs --market/);
    });
  });

  describe("statements an instance cannot make", function () {
    it("toProofFile refuses to write a stress statement for an instance that skips stress (health-var: checks = 13)", function () {
      const healthVar = loadInstances().find((i) => i.name === "health-var-3x3x128")!;
      assert.equal(healthVar.params[3]! & 2, 0, "health-var-3x3x128 does not check stress");
      const manifest = {
        instance: healthVar.name,
        template: healthVar.template,
        params: healthVar.params,
        publicSignals: healthVar.publicSignals,
        verificationKeyHash: healthFile.zks.verificationKeyHash,
      };
      const { zks: _zks, ...proof } = healthFile;
      const zkProof = { proof, publicSignals: healthFile.zks.publicSignals };
      assert.throws(
        () => toProofFile(zkProof, { statement: "stress", epoch: 42, manifest }),
        (error: ZksError) => {
          assert.equal(error.exitCode, 2);
          assert.match(
            error.message,
            /^statement: "stress" is not a statement instance health-var-3x3x128 can prove: it checks health factor, historical VaR, parametric VaR \(checks = 13\), so its proofs state health, var$/,
          );
          return true;
        },
      );
      assert.throws(() => toProofFile(zkProof, { statement: "audit", epoch: 42, manifest }), /"audit" is not a statement instance health-var-3x3x128 can prove/);
    });

    it("verifyProofFile rejects a stress statement recorded for an instance without stress (ProofMetadataError naming zks.statement)", async function () {
      // The SDK call with the instance's declaration and a key its caller trusts for it: only the statement is wrong.
      const vkey = loadInstanceArtifacts("solvency-3x3x16").verificationKey;
      const file = { ...healthFile, zks: { ...healthFile.zks, instance: "health-var-3x3x128", statement: "stress" } };
      await assert.rejects(verifyProofFile(file, vkey, declarationOf("health-var-3x3x128", builtHashOf("solvency-3x3x16"))), (error: ProofMetadataError) => {
        assert.ok(error instanceof ProofMetadataError);
        assert.equal(error.field, "zks.statement");
        assert.equal(error.exitCode, 1);
        assert.match(error.message, /"stress" is not a statement instance health-var-3x3x128 can prove/);
        return true;
      });
    });

    it("verifyProofFile returns only signal values, and throws (not false) for another instance's key, naming both fingerprints", async function () {
      const { file } = parseProofFile(readJsonFile(healthProof), healthProof);
      const verdict = await verifyProofFile(file, loadInstanceArtifacts("solvency-3x3x16").verificationKey, declarationOf("solvency-3x3x16", builtHashOf("solvency-3x3x16")), {
        market,
        policy,
      });
      assert.ok(verdict.valid);
      assert.equal(verdict.account, ACCOUNT);
      assert.equal(verdict.epoch, 42);
      assert.deepEqual(verdict.keySource, { kind: null, claimed: "development" });
      assert.deepEqual(Object.keys(verdict.signals), ["commitment", "marketRoot", "policyHash", "account", "nonce", "context"]);
      assert.equal(verdict.signals.marketRoot, signalHex(marketRoot(market, LAYOUT)));
      await assert.rejects(
        verifyProofFile(file, loadInstanceArtifacts("commitment-3x3").verificationKey, declarationOf("solvency-3x3x16", builtHashOf("solvency-3x3x16"))),
        (error: ProofKeyError) => {
          assert.ok(error instanceof ProofKeyError);
          assert.equal(
            error.message,
            `the verification key's hash is ${builtHashOf("commitment-3x3")} but the trusted key of instance solvency-3x3x16 is ${builtHashOf("solvency-3x3x16")}: it has 3 public signals and the instance 6, another instance's key`,
          );
          return true;
        },
      );
    });
  });

  describe("--rpc: against a deployment on a local `hardhat node`", function () {
    let node: LocalNode;
    let deploymentFile: string;
    let deployment: { contracts: Record<string, string>; contexts: { RebalanceGate: string; AuditRegistry: string } };
    let claimProof: string;
    let registerProof: string;
    let rebalanceProof: string;
    let provider: JsonRpcProvider;
    let owner: NonceManager;
    let gate: Contract;

    /** Sends a raw contract creation; returns the new contract's address. */
    const create = async (initCode: string): Promise<string> => getAddress((await (await owner.sendTransaction({ data: initCode })).wait())!.contractAddress!);
    /** A contract that returns `word` to every call: a lying verifier or an attacker's registry. */
    const constantContract = (word: string) => create(`0x6029600c60003960296000f37f${word.slice(2).padStart(64, "0")}60005260206000f3`);
    const artifact = (name: string) =>
      JSON.parse(readFileSync(path.join(PACKAGE_ROOT, "artifacts", "packages", "contracts", "contracts", `${name}.sol`, `${name}.json`), "utf8")) as {
        abi: never;
        bytecode: string;
      };
    const send = async (contract: Contract, fn: string, ...args: unknown[]) => (await (await contract.getFunction(fn)(...args)).wait())!;

    before(async function () {
      node = await startLocalNode();
      deploymentFile = path.join(dir, "local.json");
      const keeperKeyFile = path.join(dir, "keeper.pub.json");
      writeFileSync(keeperKeyFile, keeperPublicKeyFileJson(TEST_KEEPER.publicKey));
      const deployed = await zksAsync(
        [
          "deploy",
          "--rpc",
          node.url,
          "--policy",
          example("policy.json"),
          "--market",
          example("market-grid.json"),
          "--test-tokens",
          "--keeper-key",
          keeperKeyFile,
          "--out",
          deploymentFile,
        ],
        { ZKS_PRIVATE_KEY: hardhatKey(0) },
      );
      assert.equal(deployed.status, 0, deployed.stderr);
      deployment = JSON.parse(readFileSync(deploymentFile, "utf8"));
      provider = new JsonRpcProvider(node.url, undefined, { staticNetwork: true });
      owner = new NonceManager(new Wallet(hardhatKey(0), provider));
      gate = new Contract(deployment.contracts.RebalanceGate!, REBALANCE_GATE_ABI, owner);
      // The oracle publishes epoch 42's root (the deployer is its first publisher) and, for the
      // mismatch test, another root as epoch 43.
      const oracle = new Contract(deployment.contracts.MarketOracle!, MARKET_ORACLE_ABI, owner);
      const published = BigInt((await provider.getBlock("latest"))!.timestamp);
      await send(oracle, "publish", 42n, marketRoot(market, LAYOUT), published);
      // Each block's timestamp exceeds its parent's: one second later is never in the future.
      await send(oracle, "publish", 43n, 12_345n, published + 1n);
      // An audit claim bound to the registry, a registration bound to the gate and a rebalance after it.
      const position = loadPosition("position-healthy.json", market);
      const solvency = loadInstanceArtifacts("solvency-3x3x16");
      const claim = await generateProof(solvencyInput(position, market, policy, LAYOUT, "claim", BigInt(deployment.contexts.AuditRegistry)), solvency);
      claimProof = writeProofFiles(path.join(dir, "claim"), toProofFile(claim, { statement: "audit", epoch: market.epoch, manifest: solvency.manifest })).proof;
      const rebalance = loadInstanceArtifacts("rebalance-3x3x16");
      const gateContext = BigInt(deployment.contexts.RebalanceGate);
      const deposit = noMovements(market);
      deposit.flows[WETH] = 10n ** 18n;
      const registration = transitionOf(emptyPosition(ACCOUNT, market), deposit, 7n);
      const register = await generateProof(rebalanceInput(registration, market, policy, LAYOUT, "register", gateContext, { keeperKey: TEST_KEEPER.publicKey }), rebalance);
      registerProof = writeProofFiles(path.join(dir, "register"), toProofFile(register, { statement: "register", epoch: market.epoch, manifest: rebalance.manifest })).proof;
      const move = transitionOf(registration.next, deposit, 8n);
      const moved = await generateProof(rebalanceInput(move, market, policy, LAYOUT, "rebalance", gateContext, { keeperKey: TEST_KEEPER.publicKey }), rebalance);
      rebalanceProof = writeProofFiles(path.join(dir, "rebalance"), toProofFile(moved, { statement: "rebalance", epoch: market.epoch, manifest: rebalance.manifest })).proof;
    });
    after(async function () {
      provider?.destroy();
      await node?.stop();
    });

    const chain = (proof: string, ...flags: string[]) => zksAsync(["verify", "--proof", proof, "--rpc", node.url, ...flags]);
    const atGate = () => ["--gate", deployment.contracts.RebalanceGate!];
    const atRegistry = () => [...atGate(), "--registry", deployment.contracts.AuditRegistry!];

    it("a proof bound to the deployment: context, policy, the oracle's root for its epoch and the verifier's key all match (exit 0)", async function () {
      const claim = await chain(claimProof, ...atRegistry());
      assert.equal(claim.status, 0, claim.stderr);
      assert.match(claim.stdout, /^VALID: audit proof, instance solvency-3x3x16/);
      assert.match(claim.stdout, /epoch\s+42 \(checked: the oracle's root for it is the proof's marketRoot\)/);
      assert.match(claim.stdout, new RegExp(`context\\s+${HASH} \\(checked: AuditRegistry ${deployment.contracts.AuditRegistry} on chain 31337\\)`));
      assert.match(
        claim.stdout,
        new RegExp(
          `on chain 31337: bound to AuditRegistry ${deployment.contracts.AuditRegistry}; its policy, its oracle's root for epoch 42 and its verifier's key \\(${deployment.contracts.SolvencyVerifier}, in its code\\) are the proof's`,
        ),
      );

      const register = await chain(registerProof, ...atGate(), "--json");
      assert.equal(register.status, 0, register.stderr);
      const json = JSON.parse(register.stdout);
      assert.equal(json.statement, "register");
      assert.equal(json.epochVerifiedBy, "chain");
      assert.deepEqual(json.checked, { marketRoot: true, policyHash: true, context: true, epoch: true });
      assert.deepEqual(json.matched.chain, {
        chainId: "31337",
        contract: "RebalanceGate",
        address: deployment.contracts.RebalanceGate,
        oracle: deployment.contracts.MarketOracle,
        verifier: deployment.contracts.RebalanceVerifier,
      });

      const moved = await chain(rebalanceProof, ...atGate());
      assert.equal(moved.status, 0, moved.stderr);
      assert.match(moved.stdout, /^VALID: rebalance proof, instance rebalance-3x3x16/);
    });

    it("--deployment FILE: the deployments file gives the gate and registry and pins the key by instance", async function () {
      const claim = await chain(claimProof, "--deployment", deploymentFile);
      assert.equal(claim.status, 0, claim.stderr);
      assert.match(claim.stdout, new RegExp(`key\\s+${builtHashOf("solvency-3x3x16")}, development key: .* \\(pinned by .*local\\.json\\)`));
      // On a machine with no build, the deployments file alone pins a copy of the key (no --rpc needed).
      const copy = writeJson("rebalance-vkey.json", readJsonFile(builtVkey("rebalance-3x3x16")));
      const offline = await zksAsync(["verify", "--proof", registerProof, "--vkey", copy, "--deployment", deploymentFile, "--json"], { ZKS_BUILD_DIR: emptyBuild });
      assert.equal(offline.status, 0, offline.stderr);
      assert.deepEqual(JSON.parse(offline.stdout).key, {
        verificationKeyHash: builtHashOf("rebalance-3x3x16"),
        pinnedBy: "deployment",
        source: "development",
        claimedSource: "development",
        untrustedPtau: false,
      });
      rejected(await chain(claimProof, "--deployment", deploymentFile, ...atGate()), 2, /--gate: --deployment gives the gate and registry; leave this out/);
    });

    it("the statement against fromEmpty, both ways: a registration labelled rebalance, a rebalance labelled register (exit 1)", async function () {
      rejected(
        verify(
          "--proof",
          edited(registerProof, "register-as-rebalance", (file) => (file.zks.statement = "rebalance")),
        ),
        1,
        /register-as-rebalance\.json: zks\.statement: "rebalance" but the public signal fromEmpty is 1 \(a registration from the empty position\)$/,
      );
      rejected(
        verify(
          "--proof",
          edited(rebalanceProof, "rebalance-as-register", (file) => (file.zks.statement = "register")),
        ),
        1,
        /rebalance-as-register\.json: zks\.statement: "register" but the public signal fromEmpty is 0 \(a rebalance of a registered position\)$/,
      );
    });

    it("a wrong gate: another contract's context (exit 1 naming context), an address without code (exit 2), a registry of another gate (exit 1)", async function () {
      const json = chain(healthProof, ...atRegistry(), "--json");
      await allRejected([
        // The registry's address given as the gate: its context is not the one the proof is bound to.
        [
          chain(registerProof, "--gate", deployment.contracts.AuditRegistry!),
          1,
          new RegExp(
            `register/proof\\.json: context: the proof's context ${HASH} is another contract or chain; RebalanceGate ${deployment.contracts.AuditRegistry} on chain 31337 takes ${HASH}$`,
          ),
        ],
        [chain(registerProof, "--gate", "0x000000000000000000000000000000000000dEaD"), 2, /--gate: no contract at 0x000000000000000000000000000000000000dEaD on chain 31337$/],
        [
          chain(claimProof, "--gate", deployment.contracts.MarketOracle!, "--registry", deployment.contracts.AuditRegistry!),
          1,
          new RegExp(
            `--registry: the AuditRegistry at ${deployment.contracts.AuditRegistry} audits the gate ${deployment.contracts.RebalanceGate}, not --gate ${deployment.contracts.MarketOracle}$`,
          ),
        ],
        // An off-chain proof (context 0) is bound to no contract; --json says so on stdout.
        [chain(healthProof, ...atRegistry()), 1, /health\/proof\.json: context: the proof's context 0x0{64} is 0, an off-chain proof bound to no contract/],
      ]);
      const failed = await json;
      assert.equal(failed.status, 1);
      assert.deepEqual({ ...JSON.parse(failed.stdout), problem: "" }, { valid: false, instance: "solvency-3x3x16", field: "context", problem: "" });
    });

    it("the epoch: one the oracle has no market for (naming zks.epoch), one whose root is not the proof's (naming marketRoot); a Solvency proof without --registry (exit 2)", async function () {
      rejected(
        await chain(
          edited(claimProof, "claim-epoch", (file) => (file.zks.epoch = 44)),
          ...atRegistry(),
        ),
        1,
        /claim-epoch\.json: zks\.epoch: the file says epoch 44, for which the oracle 0x[0-9a-fA-F]{40} published no market$/,
      );
      rejected(
        await chain(
          edited(claimProof, "claim-epoch-43", (file) => (file.zks.epoch = 43)),
          ...atRegistry(),
        ),
        1,
        new RegExp(
          `claim-epoch-43\\.json: marketRoot: the proof's market root ${HASH} is not the one the oracle 0x[0-9a-fA-F]{40} published for epoch 43 \\(the file's zks\\.epoch\\): 0x0{60}3039$`,
        ),
      );
      rejected(await chain(claimProof, ...atGate()), 2, /--registry: a Solvency proof is an audit claim/);
    });

    it("a policy the gate no longer enforces (setPolicyHash): exit 1 naming policyHash", async function () {
      const enforced = (await gate.getFunction("policyHash")()) as bigint;
      await send(gate, "setPolicyHash", enforced + 1n);
      try {
        rejected(
          await chain(registerProof, ...atGate()),
          1,
          new RegExp(
            `register/proof\\.json: policyHash: the proof's policy hash ${HASH} is not the policy RebalanceGate ${deployment.contracts.RebalanceGate} on chain 31337 enforces \\(${HASH}\\)$`,
          ),
        );
        // The registry still enforces the old one: it no longer shares the gate's policy.
        rejected(
          await chain(claimProof, ...atRegistry()),
          1,
          new RegExp(`--registry: the AuditRegistry at ${deployment.contracts.AuditRegistry} enforces the policy ${HASH}, not the gate's ${HASH}: not the deployment's registry$`),
        );
      } finally {
        await send(gate, "setPolicyHash", enforced);
      }
    });

    it("the gate's verifier: another verifier's key, a contract without VERIFICATION_KEY_HASH(), one that returns the key's hash without the key (exit 1)", async function () {
      const rebalanceHash = builtHashOf("rebalance-3x3x16");
      const liar = await constantContract(rebalanceHash);
      const copy = writeJson("rebalance-vkey-2.json", readJsonFile(builtVkey("rebalance-3x3x16")));
      // The words of the key a verifier embeds: alpha (2), beta, gamma, delta (4 each), 2 per IC point (one per public signal, plus one).
      const keyWords = 14 + 2 * (loadInstanceArtifacts("rebalance-3x3x16").verificationKey.IC as unknown[]).length;
      try {
        await send(gate, "setVerifier", deployment.contracts.SolvencyVerifier!);
        rejected(
          await chain(registerProof, ...atGate()),
          1,
          new RegExp(
            `register/proof\\.json: zks\\.verificationKeyHash: the proof's key ${rebalanceHash} is not the key of the verifier ${deployment.contracts.SolvencyVerifier} that RebalanceGate .* calls \\(${builtHashOf("solvency-3x3x16")}\\)$`,
          ),
        );
        await send(gate, "setVerifier", deployment.contracts.MarketOracle!);
        rejected(
          await chain(registerProof, ...atGate()),
          1,
          new RegExp(`zks\\.verificationKeyHash: the verifier ${deployment.contracts.MarketOracle} that RebalanceGate .* calls has no VERIFICATION_KEY_HASH\\(\\)`),
        );
        await send(gate, "setVerifier", liar);
        rejected(
          await chain(registerProof, ...atGate()),
          1,
          new RegExp(
            `^zks: verifier: the verifier ${liar} that RebalanceGate .* calls returns the proof's key fingerprint but ${keyWords} of the key's words are not in its code: it does not verify with that key$`,
          ),
        );
        // The liar cannot pin a key either: --rpc as the only pin of a --vkey on a machine with no build.
        rejected(
          await zksAsync(["verify", "--proof", registerProof, "--vkey", copy, "--rpc", node.url, ...atGate()], { ZKS_BUILD_DIR: emptyBuild }),
          1,
          new RegExp(`verifier: .* ${keyWords} of the key's words are not in its code`),
        );
      } finally {
        await send(gate, "setVerifier", deployment.contracts.RebalanceVerifier!);
      }
      // With the real verifier, --rpc pins the key: the deployed verifier's code holds it.
      const pinned = await zksAsync(["verify", "--proof", registerProof, "--vkey", copy, "--rpc", node.url, ...atGate()], { ZKS_BUILD_DIR: emptyBuild });
      assert.equal(pinned.status, 0, pinned.stderr);
      assert.match(pinned.stdout, new RegExp(`key\\s+${rebalanceHash}, source not known here .* \\(pinned by the deployed verifier's code \\(--rpc\\)\\)`));
    });

    it("a registry that is not the deployment's: an attacker's contract, a real AuditRegistry with another oracle or policy (exit 1)", async function () {
      // Answers gate() with the real gate, as the old check required, and anything else the same way.
      const attacker = await constantContract(`0x${deployment.contracts.RebalanceGate!.slice(2).padStart(64, "0")}`);
      rejected(
        await chain(claimProof, ...atGate(), "--registry", attacker),
        1,
        new RegExp(`^zks: --registry: the code at ${attacker} is not the compiled AuditRegistry's \\(immutables aside\\)`),
      );
      const registry = artifact("AuditRegistry");
      const factory = new ContractFactory(registry.abi, registry.bytecode, owner);
      const enforced = (await gate.getFunction("policyHash")()) as bigint;
      const deploy = async (oracle: string, policyHash: bigint) => {
        const contract = await factory.deploy(oracle, deployment.contracts.RebalanceGate!, deployment.contracts.SolvencyVerifier!, policyHash, await owner.getAddress());
        await contract.waitForDeployment();
        return contract.getAddress();
      };
      const otherOracle = await deploy(deployment.contracts.RebalanceVerifier!, enforced);
      rejected(
        await chain(claimProof, ...atGate(), "--registry", otherOracle),
        1,
        new RegExp(
          `--registry: the AuditRegistry at ${otherOracle} reads the oracle ${deployment.contracts.RebalanceVerifier}, not the gate's ${deployment.contracts.MarketOracle}: not the deployment's registry$`,
        ),
      );
      const otherPolicy = await deploy(deployment.contracts.MarketOracle!, enforced + 1n);
      rejected(
        await chain(claimProof, ...atGate(), "--registry", otherPolicy),
        1,
        new RegExp(`--registry: the AuditRegistry at ${otherPolicy} enforces the policy ${HASH}, not the gate's ${HASH}: not the deployment's registry$`),
      );
    });

    it("an endpoint that fails mid-check: one line, exit 3 (not 'no VERIFICATION_KEY_HASH', not a bug)", async function () {
      // Answers eth_chainId and fails everything else, as a flaky or rate-limiting endpoint does.
      const server = createServer((request, response) => {
        let body = "";
        request.on("data", (chunk: Buffer) => (body += chunk.toString()));
        request.on("end", () => {
          const call = JSON.parse(body) as { id: number; method?: string };
          if (call.method === "eth_chainId") response.end(JSON.stringify({ jsonrpc: "2.0", id: call.id, result: "0x7a69" }));
          else response.writeHead(503).end("unavailable");
        });
      });
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      try {
        const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
        rejected(
          await zksAsync(["verify", "--proof", registerProof, "--rpc", url, ...atGate()]),
          3,
          new RegExp(`--rpc: the JSON-RPC endpoint failed while reading the code at ${deployment.contracts.RebalanceGate}`),
        );
      } finally {
        server.close();
      }
    });
  });
});
