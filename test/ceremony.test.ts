import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { HDNodeWallet, JsonRpcProvider } from "ethers";
import * as snarkjs from "snarkjs";
import type { VerificationKey } from "snarkjs";
import { developmentKeyRefusal, type VerifierKey } from "../src/setup/deploy-keys.ts";
import { loadInstanceArtifacts } from "../src/node/artifacts.ts";
import { generateProof } from "../src/prover/prove.ts";
import { releaseProverThreads } from "../src/prover/release.ts";
import { positionOpeningInput } from "../src/prover/witness/position-opening.ts";
import { ceremonyKeySource, CeremonyError, type CeremonyVerification, type CeremonyTranscript } from "../src/setup/ceremony.ts";
import { manifestFiles, readManifest } from "../src/setup/manifest.ts";
import { instanceDir, type BuildPaths } from "../src/setup/paths.ts";
import { verificationKeyHash } from "../src/verifier/key-hash.ts";
import { assertOneLineError, ZKS } from "./helpers/cli.ts";
import { example, loadMarket, loadPosition } from "./helpers/examples.ts";
import { HARDHAT_MNEMONIC, startLocalNode, type LocalNode } from "./helpers/local-node.ts";
import { DEV_PTAU, TempDirs } from "./helpers/setup-fixtures.ts";

const INSTANCE = "commitment-3x3";

type Run = { code: number | null; stdout: string; stderr: string };

/**
 * Flips one bit in the middle of a zkey section (binfile layout: "zkey", version, section count,
 * then per section a u32 type, a u64 size and the body): section 8 holds the L points a
 * contribution rescales, section 10 the contributions' public keys.
 */
function flipInSection(file: string, type: number): void {
  const bytes = readFileSync(file);
  let position = 12;
  for (let i = 0; i < bytes.readUInt32LE(8); i++) {
    const size = Number(bytes.readBigUInt64LE(position + 4));
    if (bytes.readUInt32LE(position) === type) {
      bytes[position + 12 + Math.floor(size / 2)]! ^= 1;
      writeFileSync(file, bytes);
      return;
    }
    position += 12 + size;
  }
  throw new Error(`no section ${type} in ${file}`);
}

describe("zks ceremony: a multi-party phase-2 key, verified and installed by zks setup --zkey", function () {
  // Each snarkjs zkey new or verify of commitment-3x3 reads the 2^16 ptau (~6-8 s on 2 cores).
  this.timeout(600_000);

  const temp = new TempDirs();
  let paths: BuildPaths;
  let dir: string;
  let env: NodeJS.ProcessEnv;
  let developmentVkey: VerificationKey;
  const zkey = (name: string) => path.join(dir, `${INSTANCE}_${name}.zkey`);
  const transcriptFile = () => path.join(dir, "transcript.json");
  const transcript = (): CeremonyTranscript => JSON.parse(readFileSync(transcriptFile(), "utf8"));
  // The ceremony's build and verifiers stay in temporary directories: the checkout's build/ and contracts/generated are never touched.
  const zks = (...args: string[]): Run => {
    const result = spawnSync(process.execPath, [ZKS, ...args], { encoding: "utf8", env, maxBuffer: 16 << 20 });
    return { code: result.status, stdout: result.stdout, stderr: result.stderr };
  };

  before(function () {
    paths = { buildDir: temp.make("ceremony-build"), generatedContractsDir: temp.make("ceremony-contracts") };
    dir = path.join(temp.make("ceremony"), "keys");
    env = { ...process.env, ZKS_DEBUG: "", ZKS_PTAU: DEV_PTAU, ZKS_BUILD_DIR: paths.buildDir, ZKS_GENERATED_CONTRACTS_DIR: paths.generatedContractsDir };
  });

  after(async function () {
    await releaseProverThreads();
    temp.cleanup();
  });

  it("a plain zks setup makes a development key and says so (setup output, manifest, inspect, verifier header)", function () {
    const setup = zks("setup", "--instance", INSTANCE);
    assert.equal(setup.code, 0, setup.stderr);
    assert.match(setup.stdout, /commitment-3x3 .* development key/);
    assert.match(setup.stderr, /WARNING development keys \(one contribution by the machine that ran `zks setup`.*\): commitment-3x3$/m);
    const manifest = readManifest(instanceDir(paths, INSTANCE))!;
    assert.deepEqual(manifest.keySource, { kind: "development", contributions: 1 });
    developmentVkey = JSON.parse(readFileSync(manifestFiles(instanceDir(paths, INSTANCE), manifest).vkey, "utf8"));
    assert.match(zks("inspect").stdout, /commitment-3x3 .* yes, development/);
    assert.match(zks("inspect", INSTANCE).stdout, /key source {7}DEVELOPMENT key/);
    assert.match(readFileSync(path.join(paths.generatedContractsDir, "Commitment3x3Verifier.sol"), "utf8"), /^\/\/ Key: DEVELOPMENT key/m);
  });

  it("init, two contributions and the beacon: each step prints its contribution hash and the transcript records it", function () {
    const init = zks("ceremony", "init", "--instance", INSTANCE, "--out", dir);
    assert.equal(init.code, 0, init.stderr);
    assert.match(init.stdout, /^INITIALIZED: commitment-3x3 \(\d+ constraints\)/);
    const start = transcript();
    assert.equal(start.instance, INSTANCE);
    assert.deepEqual(start.entries, []);
    assert.equal(start.circuit.compileKey, readManifest(instanceDir(paths, INSTANCE))!.compileKey);

    const alice = zks("ceremony", "contribute", "--in", zkey("0000"), "--out", zkey("0001"), "--name", "alice");
    assert.equal(alice.code, 0, alice.stderr);
    const bob = zks("ceremony", "contribute", "--in", zkey("0001"), "--out", zkey("0002"), "--name", "bob", "--entropy", "bob's dice rolls", "--json");
    assert.equal(bob.code, 0, bob.stderr);
    assert.equal(JSON.parse(bob.stdout).entry.name, "bob");
    // Contributing on an older key would drop bob's contribution: refused.
    const stale = zks("ceremony", "contribute", "--in", zkey("0001"), "--out", path.join(dir, "mallory.zkey"), "--name", "mallory", "--transcript", transcriptFile());
    assert.equal(stale.code, 1);
    assertOneLineError(stale, /commitment-3x3_0001\.zkey: not the ceremony's latest key: its sha256 is [0-9a-f]{16}…, the transcript's latest, entries\[1\] \(bob, commitment-3x3_0002\.zkey\), is [0-9a-f]{16}…/);
    const beacon = zks("ceremony", "finalize", "--in", zkey("0002"), "--out", zkey("final"), "--beacon", "0x5d2c4b1e0f", "--iterations", "10");
    assert.equal(beacon.code, 0, beacon.stderr);
    assert.match(beacon.stdout, /^FINALIZED: #3 final beacon/);
    assert.equal(zks("ceremony", "finalize", "--in", zkey("0000"), "--out", path.join(dir, "early.zkey"), "--beacon", "ab").code, 1, "a key other than the latest is refused");

    const entries = transcript().entries;
    assert.deepEqual(entries.map((e) => [e.index, e.kind, e.name]), [[1, "contribution", "alice"], [2, "contribution", "bob"], [3, "beacon", "final beacon"]]);
    assert.deepEqual(entries[2]!.beacon, { hash: "5d2c4b1e0f", iterationsExp: 10 });
    // What each party saw printed is what the transcript publishes.
    assert.ok(alice.stdout.includes(`contribution hash  ${entries[0]!.contributionHash}`), alice.stdout);
    assert.ok(beacon.stdout.includes(entries[2]!.contributionHash));
  });

  it("nothing follows the beacon: contribute refuses a finalized ceremony", function () {
    const after = zks("ceremony", "contribute", "--in", zkey("final"), "--out", path.join(dir, "late.zkey"), "--name", "late");
    assert.equal(after.code, 1);
    assertOneLineError(after, /the ceremony is finalized \(entries\[2\] is the beacon\): no step follows it/);
  });

  it("verify: snarkjs zkey verify against the r1cs and ptau, every contribution hash against the transcript", function () {
    const result = zks("ceremony", "verify", "--zkey", zkey("final"), "--instance", INSTANCE, "--json");
    assert.equal(result.code, 0, result.stderr);
    const report = JSON.parse(result.stdout);
    const entries = transcript().entries;
    assert.deepEqual(
      report.contributions.map((c: { name: string; contributionHash: string }) => [c.name, c.contributionHash]),
      entries.map((e) => [e.name, e.contributionHash]),
    );
    assert.deepEqual(report.contributions[2].beacon, { hash: "5d2c4b1e0f", iterationsExp: 10 });
    assert.deepEqual(report.deployable, { ok: true, contributions: 2 });
  });

  it("a tampered contribution is rejected by zks ceremony verify and by zks setup --zkey (exit 1, one line)", function () {
    // A forged contribution record (its public key edited) breaks the chain snarkjs recomputes.
    const forged = path.join(temp.make("tampered"), "forged.zkey");
    copyFileSync(zkey("final"), forged);
    flipInSection(forged, 10);
    const verify = zks("ceremony", "verify", "--zkey", forged, "--instance", INSTANCE, "--transcript", transcriptFile());
    assert.equal(verify.code, 1);
    assertOneLineError(verify, /forged\.zkey: does not verify against the r1cs of commitment-3x3 and the ptau \(snarkjs zkey verify: INVALID\(\d\): .*\)/);

    // Key points edited after the last contribution: the L section no longer follows delta.
    const tampered = path.join(path.dirname(forged), "final.zkey");
    copyFileSync(zkey("final"), tampered);
    flipInSection(tampered, 8);
    const setup = zks("setup", "--instance", INSTANCE, "--zkey", tampered, "--transcript", transcriptFile());
    assert.equal(setup.code, 1);
    const last = setup.stderr.trim().split("\n").at(-1)!;
    assert.match(last, /^zks: .*final\.zkey: does not verify against the r1cs of commitment-3x3 and the ptau \(snarkjs zkey verify: L section does not match\)$/);
    assert.doesNotMatch(setup.stderr, /\bat .+:\d+:\d+/);
    assert.deepEqual(readManifest(instanceDir(paths, INSTANCE))!.keySource, { kind: "development", contributions: 1 }, "the installed key is unchanged");
  });

  it("a transcript that disagrees with the key is rejected, naming the field", function () {
    const other = temp.make("transcript");
    const edited = transcript();
    edited.entries[1]!.contributionHash = edited.entries[0]!.contributionHash;
    const file = path.join(other, "transcript.json");
    writeFileSync(file, JSON.stringify(edited));
    const result = zks("ceremony", "verify", "--zkey", zkey("final"), "--instance", INSTANCE, "--transcript", file);
    assert.equal(result.code, 1);
    assertOneLineError(result, /transcript\.json: entries\[1\]\.contributionHash: [0-9a-f]{16}… but the key's contribution #2 \(bob\) has [0-9a-f]{16}…/);

    // A transcript for another circuit fails before any verification.
    writeFileSync(file, JSON.stringify({ ...transcript(), circuit: { ...transcript().circuit, compileKey: "0".repeat(64) } }));
    const circuit = zks("ceremony", "verify", "--zkey", zkey("final"), "--instance", INSTANCE, "--transcript", file);
    assert.equal(circuit.code, 1);
    assertOneLineError(circuit, /transcript\.json: circuit\.compileKey: the ceremony's circuit \(0000000000000000…\) is not this checkout's commitment-3x3/);
  });

  it("setup --zkey installs the final key: the manifest says ceremony, a plain setup keeps it, and a proof made with it verifies under it only", async function () {
    const setup = zks("setup", "--instance", INSTANCE, "--zkey", zkey("final"), "--transcript", transcriptFile());
    assert.equal(setup.code, 0, setup.stderr);
    assert.match(setup.stdout, /commitment-3x3 .* built \(setup, ceremony key\)/);
    assert.doesNotMatch(setup.stderr, /WARNING development keys/);
    const buildDir = instanceDir(paths, INSTANCE);
    const manifest = readManifest(buildDir)!;
    const transcriptSha256 = (await import("node:crypto")).createHash("sha256").update(readFileSync(transcriptFile())).digest("hex");
    assert.deepEqual(manifest.keySource, { kind: "ceremony", contributions: 2, beacon: "5d2c4b1e0f", transcriptSha256 });
    assert.equal(manifest.zkeySha256, transcript().entries[2]!.zkeySha256);
    const vkey: VerificationKey = JSON.parse(readFileSync(manifestFiles(buildDir, manifest).vkey, "utf8"));
    assert.equal(manifest.verificationKeyHash, verificationKeyHash(vkey));
    assert.notEqual(manifest.verificationKeyHash, verificationKeyHash(developmentVkey));
    const contract = readFileSync(path.join(paths.generatedContractsDir, "Commitment3x3Verifier.sol"), "utf8");
    assert.ok(contract.includes(`bytes32 public constant VERIFICATION_KEY_HASH = ${manifest.verificationKeyHash};`));
    assert.match(contract, /^\/\/ Key: phase-2 ceremony, 2 contributions and beacon 5d2c4b1e0f/m);
    assert.match(zks("inspect", INSTANCE).stdout, /key source {7}phase-2 ceremony: 2 contributions, beacon 5d2c4b1e0f/);

    // `zks setup` again (ZKS_PTAU set, so the ptau is resolved) must not put a development key back.
    const again = zks("setup", "--instance", INSTANCE);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /cached, ceremony key/);
    assert.deepEqual(readManifest(buildDir), manifest);

    const market = loadMarket();
    const artifacts = loadInstanceArtifacts(INSTANCE, paths);
    const { proof, publicSignals } = await generateProof(positionOpeningInput(loadPosition("position-healthy.json", market), market, { nAssets: 3, nInstruments: 3 }), artifacts);
    assert.equal(await snarkjs.groth16.verify(vkey, publicSignals, proof), true);
    assert.equal(await snarkjs.groth16.verify(developmentVkey, publicSignals, proof), false, "the development key does not accept it");
  });

  it("the rule for a deployable key: at least two contributions, then the beacon, and the transcript's final key", function () {
    const hash = (c: string) => c.repeat(128);
    const verification = (contributions: CeremonyVerification["contributions"], entries = contributions.length): CeremonyVerification => ({
      zkey: "final.zkey",
      zkeySha256: "0".repeat(64),
      circuitHash: hash("c"),
      contributions,
      transcript: { file: "transcript.json", sha256: "1".repeat(64), content: { entries: new Array(entries) } as unknown as CeremonyTranscript },
    });
    const party = (index: number) => ({ index, name: `p${index}`, contributionHash: hash("a") });
    const beacon = (index: number) => ({ index, name: "beacon", contributionHash: hash("b"), beacon: { hash: "ab", iterationsExp: 10 } });
    const refused = (v: CeremonyVerification, pattern: RegExp) => assert.throws(() => ceremonyKeySource(v), (e: unknown) => e instanceof CeremonyError && pattern.test(e.message));
    refused(verification([party(1), beacon(2)]), /1 contribution\(s\) before the beacon; a deployable key needs at least 2/);
    refused(verification([party(1), party(2)]), /not finalized: the last contribution must be the public beacon/);
    refused(verification([party(1), party(2), beacon(3)], 4), /not the ceremony's final key: it has 3 of the transcript's 4 entries/);
    assert.deepEqual(ceremonyKeySource(verification([party(1), party(2), beacon(3)])), { kind: "ceremony", contributions: 2, beacon: "ab", transcriptSha256: "1".repeat(64) });
  });

  it("bad input is one line, exit 2: unknown or path-like instance, bad beacon, iterations, name, a reused directory, --zkey without --transcript", function () {
    const cases: [string[], RegExp][] = [
      [["ceremony", "init", "--instance", "../../tmp/evil", "--out", temp.make("evil")], /--instance: unknown circuit instance "\.\.\/\.\.\/tmp\/evil"/],
      [["ceremony", "init", "--instance", INSTANCE, "--out", dir], /--out: .*transcript\.json exists: start each ceremony in a directory of its own/],
      [["ceremony", "finalize", "--in", zkey("0002"), "--out", path.join(dir, "x.zkey"), "--beacon", "not-hex"], /--beacon: expected 1 to 255 bytes of hex/],
      [["ceremony", "finalize", "--in", zkey("0002"), "--out", path.join(dir, "x.zkey"), "--beacon", "ab", "--iterations", "5"], /--iterations: .*an integer from 10 to 63; got "5"/],
      [["ceremony", "contribute", "--in", zkey("final"), "--out", path.join(dir, "x.zkey"), "--name", "x".repeat(65)], /--name: 1 to 64 characters/],
      [["ceremony", "contribute", "--in", path.join(dir, "missing.zkey"), "--out", path.join(dir, "x.zkey"), "--name", "eve"], /missing\.zkey: file not found \(--in\)/],
      [["setup", "--instance", INSTANCE, "--zkey", zkey("final")], /--transcript: a ceremony key is installed with its transcript/],
    ];
    for (const [args, pattern] of cases) {
      const result = zks(...args);
      assert.equal(result.code, 2, `${args.join(" ")}: ${result.stderr}`);
      assertOneLineError(result, pattern);
    }
  });
});

describe("zks deploy: development keys only on local chains", function () {
  this.timeout(300_000);
  const key = (kind: VerifierKey["kind"]): VerifierKey => ({ contract: `${kind}Verifier`, instance: null, kind, verificationKeyHash: null });

  it("the decision: ceremony keys anywhere; development or unknown keys on 31337 and 1337, or when allowed", function () {
    assert.equal(developmentKeyRefusal(11155111n, [key("ceremony")], false), undefined);
    for (const chainId of [31337n, 1337n]) assert.equal(developmentKeyRefusal(chainId, [key("development"), key("unknown")], false), undefined);
    assert.equal(developmentKeyRefusal(1n, [key("development")], true), undefined);
    const refusal = developmentKeyRefusal(1n, [key("ceremony"), key("development"), key("unknown")], false);
    assert.match(refusal ?? "", /chain 1 is not a local chain .*: developmentVerifier \(development key\), unknownVerifier \(its compiled key matches no key in the build/);
    assert.doesNotMatch(refusal ?? "", /ceremonyVerifier/);
  });

  describe("against a hardhat node posing as Sepolia (chain id 11155111)", function () {
    let node: LocalNode;
    const deployer = HDNodeWallet.fromPhrase(HARDHAT_MNEMONIC, undefined, "m/44'/60'/0'/0/0");
    const temp = new TempDirs();

    before(async function () {
      node = await startLocalNode(120_000, 11155111);
    });
    after(async function () {
      await node?.stop();
      temp.cleanup();
    });

    /** Async: the hardhat node is this process's child and must keep being served. */
    const zksAsync = (...args: string[]): Promise<Run> =>
      new Promise((resolve, reject) => {
        const child = spawn(process.execPath, [ZKS, ...args], { env: { ...process.env, ZKS_DEBUG: "", ZKS_PRIVATE_KEY: deployer.privateKey }, stdio: ["ignore", "pipe", "pipe"] });
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
        child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
        child.on("error", reject);
        child.on("close", (code) => resolve({ code, stdout, stderr }));
      });

    it("refuses the checkout's development keys before sending anything (exit 3, one line); --allow-development-keys deploys and labels them", async function () {
      const out = path.join(temp.make("deploy"), "sepolia.json");
      mkdirSync(path.dirname(out), { recursive: true });
      const args = ["deploy", "--rpc", node.url, "--policy", example("policy.json"), "--market", example("market-grid.json"), "--test-tokens", "--out", out];
      const refused = await zksAsync(...args);
      assert.equal(refused.code, 3, refused.stderr);
      assertOneLineError(refused, /^zks: deploy: chain 11155111 is not a local chain \(31337, 1337\) and these verifiers have no ceremony key: Solvency3x3x16Verifier \(.*\), Rebalance3x3x16Verifier \(.*\); .* or pass --allow-development-keys$/);
      const provider = new JsonRpcProvider(node.url, undefined, { staticNetwork: true });
      try {
        assert.equal(await provider.getTransactionCount(deployer.address), 0, "nothing was sent");
        const allowed = await zksAsync(...args, "--allow-development-keys");
        assert.equal(allowed.code, 0, allowed.stderr);
        assert.match(allowed.stdout, /deployed to chain 11155111 \(json-rpc\)/);
        assert.match(allowed.stdout, /key of Solvency3x3x16Verifier +(0x[0-9a-f]{64}|\(none built\)) (DEVELOPMENT|UNKNOWN) key/);
        assert.equal(JSON.parse(readFileSync(out, "utf8")).verifierKeys.length, 2);
        assert.match(allowed.stderr, /WARNING verifiers without a ceremony key.*: Solvency3x3x16Verifier, Rebalance3x3x16Verifier/);
        assert.ok((await provider.getTransactionCount(deployer.address)) > 0);
      } finally {
        provider.destroy();
      }
    });
  });
});
