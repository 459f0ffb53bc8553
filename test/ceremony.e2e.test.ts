import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { HDNodeWallet, JsonRpcProvider } from "ethers";
import * as snarkjs from "snarkjs";
import type { VerificationKey } from "snarkjs";
import { ceremonyCircuit } from "../packages/cli/src/cli/commands/ceremony.ts";
import { InputError, SetupError } from "../packages/sdk/src/core/errors.ts";
import { keeperPublicKeyFileJson } from "../packages/sdk/src/encryption/keeper-key.ts";
import { loadInstanceArtifacts } from "../packages/node/src/artifacts.ts";
import { generateProof } from "../packages/sdk/src/prover/prove.ts";
import { releaseProverThreads } from "../packages/sdk/src/prover/release.ts";
import { positionOpeningInput } from "../packages/sdk/src/prover/witness/position-opening.ts";
import { buildCircuits } from "../packages/node/src/setup/build.ts";
import {
  ceremonyContribute,
  CeremonyError,
  ceremonyInit,
  ceremonyKeySource,
  loadTranscript,
  parseBeacon,
  parseIterations,
  readZkeyContributions,
  resolveCeremonyPtau,
  verifyCeremonyZkey,
  type CeremonyCircuit,
  type CeremonyTranscript,
  type CeremonyVerification,
  type LoadedTranscript,
} from "../packages/node/src/setup/ceremony.ts";
import { compiledVerifier, developmentKeyRefusal, verifierKey, verifierKeys, type CompiledVerifier, type VerifierKey } from "../packages/node/src/setup/deploy-keys.ts";
import { manifestFiles, readManifest, writeManifest } from "../packages/node/src/setup/manifest.ts";
import { instanceDir, PACKAGE_ROOT, type BuildPaths } from "../packages/node/src/setup/paths.ts";
import { CEREMONY_BLAKE2B } from "../packages/node/src/setup/ptau.ts";
import { verificationKeyHash } from "../packages/sdk/src/verifier/key-hash.ts";
import { assertOneLineError, ZKS, zksAsync as runZksAsync } from "./helpers/cli.ts";
import { example, loadMarket, loadPosition } from "./helpers/examples.ts";
import { TEST_KEEPER } from "./helpers/keeper-key.ts";
import { HARDHAT_MNEMONIC, startLocalNode, type LocalNode } from "./helpers/local-node.ts";
import { DEV_PTAU, TempDirs } from "./helpers/setup-fixtures.ts";

const INSTANCE = "commitment-3x3";
const CONTRACT = "Commitment3x3Verifier";
const BEACON = "5d2c4b1e0f";
const BEACON_SOURCE = "hash of test block 42, announced before it was mined";

type Run = { code: number | null; stdout: string; stderr: string };

const sha256 = (file: string) => createHash("sha256").update(readFileSync(file)).digest("hex");

/**
 * Flips one bit of a zkey section (binfile layout: "zkey", version, section count, then per
 * section a u32 type, a u64 size and the body), at `offset` into its body or in its middle:
 * section 8 holds the L points a contribution rescales, section 10 the contributions' records.
 */
function flipInSection(file: string, type: number, offset?: number): void {
  const bytes = readFileSync(file);
  let position = 12;
  for (let i = 0; i < bytes.readUInt32LE(8); i++) {
    const size = Number(bytes.readBigUInt64LE(position + 4));
    if (bytes.readUInt32LE(position) === type) {
      bytes[position + 12 + (offset ?? Math.floor(size / 2))]! ^= 1;
      writeFileSync(file, bytes);
      return;
    }
    position += 12 + size;
  }
  throw new Error(`no section ${type} in ${file}`);
}

/** solc (the npm build hardhat.config.ts pins) with the project's settings: the runtime bytecode of each source's verifier. */
function compileVerifiers(sources: Record<string, string>): Record<string, CompiledVerifier> {
  const solc = createRequire(import.meta.url)("solc") as { compile(input: string): string };
  const input = {
    language: "Solidity",
    sources: Object.fromEntries(Object.entries(sources).map(([name, content]) => [`${name}.sol`, { content }])),
    settings: { optimizer: { enabled: true, runs: 1000 }, evmVersion: "cancun", outputSelection: { "*": { [CONTRACT]: ["evm.deployedBytecode.object"] } } },
  };
  const output = JSON.parse(solc.compile(JSON.stringify(input))) as {
    errors?: { severity: string; formattedMessage: string }[];
    contracts: Record<string, Record<string, { evm: { deployedBytecode: { object: string } } }>>;
  };
  const errors = (output.errors ?? []).filter((e) => e.severity === "error");
  assert.deepEqual(errors, [], errors.map((e) => e.formattedMessage).join("\n"));
  return Object.fromEntries(
    Object.entries(sources).map(([name, content]) => [name, { source: content, deployedBytecode: output.contracts[`${name}.sol`]![CONTRACT]!.evm.deployedBytecode.object }]),
  );
}

/** The verifier's key constants (`uint256 constant alphax = ...;` through the IC points), to splice another key into a verifier. */
const keyConstants = (source: string): string[] => [...source.matchAll(/^ {4}uint256 constant (?:alpha|beta|gamma|delta|IC)\w* += \d+;$/gm)].map((m) => m[0]);

describe("zks ceremony: a multi-party phase-2 key, verified and installed by zks setup --zkey", function () {
  // Each snarkjs zkey new or verify of commitment-3x3 reads the 2^16 ptau (~6-10 s on 2 loaded cores).
  this.timeout(600_000);

  const temp = new TempDirs();
  let paths: BuildPaths;
  let dir: string;
  let env: NodeJS.ProcessEnv;
  let developmentVkey: VerificationKey;
  let developmentVerifier: string;
  let circuit: CeremonyCircuit;
  const zkey = (name: string) => path.join(dir, `${INSTANCE}_${name}.zkey`);
  const transcriptFile = () => path.join(dir, "transcript.json");
  const transcript = (): CeremonyTranscript => JSON.parse(readFileSync(transcriptFile(), "utf8"));
  const generated = () => path.join(paths.generatedContractsDir, `${CONTRACT}.sol`);
  /** A transcript written to its own file (forged, edited), loaded as verify and setup load one. */
  const transcriptAt = (content: unknown, label = "transcript"): LoadedTranscript => {
    const file = path.join(temp.make(label), "transcript.json");
    writeFileSync(file, JSON.stringify(content));
    return loadTranscript(file);
  };
  // The ceremony's build and verifiers stay in temporary directories: the checkout's build/ and packages/contracts/contracts/generated are never touched.
  const zks = (...args: string[]): Run => {
    const result = spawnSync(process.execPath, [ZKS, ...args], { encoding: "utf8", env, maxBuffer: 16 << 20 });
    return { code: result.status, stdout: result.stdout, stderr: result.stderr };
  };
  const rejects = (promise: Promise<unknown>, type: new (...args: never[]) => Error, pattern: RegExp) =>
    assert.rejects(promise, (error: unknown) => {
      assert.ok(error instanceof type, `expected ${type.name}, got ${String(error)}`);
      assert.match((error as Error).message, pattern);
      return true;
    });

  before(function () {
    paths = { buildDir: temp.make("ceremony-build"), generatedContractsDir: temp.make("ceremony-contracts") };
    dir = path.join(temp.make("ceremony"), "keys");
    env = { ...process.env, ZKS_DEBUG: "", ZKS_PTAU: DEV_PTAU, ZKS_BUILD_DIR: paths.buildDir, ZKS_GENERATED_CONTRACTS_DIR: paths.generatedContractsDir };
  });

  after(async function () {
    await releaseProverThreads();
    temp.cleanup();
  });

  it("a plain zks setup makes a development key and says so (setup output, manifest, inspect, verifier header); its compiled verifier classifies as development", async function () {
    const setup = zks("setup", "--instance", INSTANCE);
    assert.equal(setup.code, 0, setup.stderr);
    assert.match(setup.stdout, /commitment-3x3 .* development key/);
    assert.match(setup.stderr, /WARNING development keys \(one contribution by the machine that ran `zks setup`.*\): commitment-3x3$/m);
    const manifest = readManifest(instanceDir(paths, INSTANCE))!;
    assert.deepEqual(manifest.keySource, { kind: "development", contributions: 1 });
    developmentVkey = JSON.parse(readFileSync(manifestFiles(instanceDir(paths, INSTANCE), manifest).vkey, "utf8"));
    assert.match(zks("inspect").stdout, /commitment-3x3 .* yes, development/);
    assert.match(zks("inspect", INSTANCE).stdout, /key source {7}DEVELOPMENT key/);
    developmentVerifier = readFileSync(generated(), "utf8");
    assert.match(developmentVerifier, /^\/\/ Key: DEVELOPMENT key/m);

    const key = await verifierKey(CONTRACT, compileVerifiers({ development: developmentVerifier }).development, paths);
    assert.deepEqual(key, {
      contract: CONTRACT,
      instance: INSTANCE,
      kind: "development",
      deployable: false,
      label: "DEVELOPMENT key",
      verificationKeyHash: manifest.verificationKeyHash,
    });
  });

  it("init refuses a ptau that is not a public ceremony file unless --untrusted-ptau; then two contributions by distinct names and the beacon, each printing its hash", async function () {
    const refused = zks("ceremony", "init", "--instance", INSTANCE, "--out", dir);
    assert.equal(refused.code, 2);
    assertOneLineError(
      refused,
      /--ptau: .*dev-16\.ptau \(power 16, blake2b [0-9a-f]{16}…\) is not a known public ceremony file: whoever made it knows tau and can forge proofs whatever phase 2 does\. .* pass --untrusted-ptau for a rehearsal/,
    );

    const init = zks("ceremony", "init", "--instance", INSTANCE, "--out", dir, "--untrusted-ptau");
    assert.equal(init.code, 0, init.stderr);
    assert.match(init.stdout, /^INITIALIZED: commitment-3x3 \(\d+ constraints\)/);
    assert.match(init.stdout, /ptau {15}.*dev-16\.ptau \(power 16, blake2b [0-9a-f]{16}…, NOT a known public ceremony file: an untrusted phase 1\)/);
    const start = transcript();
    assert.equal(start.instance, INSTANCE);
    assert.deepEqual(start.entries, []);
    // The ceremony compiled in its own scratch build: the installed build is not its concern.
    assert.equal(start.circuit.compileKey, readManifest(instanceDir({ ...paths, buildDir: path.join(paths.buildDir, "ceremony") }, INSTANCE))!.compileKey);

    const alice = zks("ceremony", "contribute", "--in", zkey("0000"), "--out", zkey("0001"), "--name", "alice", "--statement", "https://example.org/alice-hash.asc");
    assert.equal(alice.code, 0, alice.stderr);
    // The beacon ends the ceremony, so one contribution is refused through the CLI before it is wasted.
    const early = zks("ceremony", "finalize", "--in", zkey("0001"), "--out", path.join(dir, "early.zkey"), "--beacon", "ab", "--beacon-source", "x");
    assert.equal(early.code, 1);
    assertOneLineError(early, /commitment-3x3_0001\.zkey: 1 contribution\(s\) so far; a deployable key needs at least 2 before the beacon/);

    // The same party under another spelling of its name is refused: two names are the rule's floor.
    await rejects(
      ceremonyContribute({ input: zkey("0001"), output: zkey("0002"), name: "Alice" }),
      InputError,
      /--name: "Alice" already contributed \(entries\[0\]\): each party contributes once/,
    );
    const bob = await ceremonyContribute({ input: zkey("0001"), output: zkey("0002"), name: "bob", entropy: "bob's dice rolls" });
    assert.equal(bob.entry.name, "bob");
    // Contributing on an older key would drop bob's contribution: refused.
    await rejects(
      ceremonyContribute({ input: zkey("0001"), output: path.join(dir, "mallory.zkey"), name: "mallory", transcript: transcriptFile() }),
      CeremonyError,
      /commitment-3x3_0001\.zkey: not the ceremony's latest key: its sha256 is [0-9a-f]{16}…, the transcript's latest, entries\[1\] \(bob, commitment-3x3_0002\.zkey\), is [0-9a-f]{16}…/,
    );
    const beacon = zks("ceremony", "finalize", "--in", zkey("0002"), "--out", zkey("final"), "--beacon", `0x${BEACON}`, "--iterations", "10", "--beacon-source", BEACON_SOURCE);
    assert.equal(beacon.code, 0, beacon.stderr);
    assert.match(beacon.stdout, /^FINALIZED: #3 final beacon/);
    assert.match(beacon.stdout, new RegExp(`--expect-beacon ${BEACON}$`, "m"));

    const entries = transcript().entries;
    assert.deepEqual(
      entries.map((e) => [e.index, e.kind, e.name, e.statement]),
      [
        [1, "contribution", "alice", "https://example.org/alice-hash.asc"],
        [2, "contribution", "bob", undefined],
        [3, "beacon", "final beacon", undefined],
      ],
    );
    assert.deepEqual(entries[2]!.beacon, { hash: BEACON, iterationsExp: 10, source: BEACON_SOURCE });
    // What each party saw printed is what the transcript publishes, and what the key records.
    assert.ok(alice.stdout.includes(`contribution hash  ${entries[0]!.contributionHash}`), alice.stdout);
    assert.ok(beacon.stdout.includes(entries[2]!.contributionHash));
    const recorded = await readZkeyContributions(zkey("final"));
    assert.deepEqual(
      recorded.contributions.map((c) => [c.index, c.name, c.contributionHash]),
      entries.map((e) => [e.index, e.name, e.contributionHash]),
    );
    assert.equal(recorded.circuitHash, start.circuit.circuitHash);
    circuit = await ceremonyCircuit(INSTANCE, DEV_PTAU, [], loadTranscript(transcriptFile()), paths);
  });

  it("nothing follows the beacon: contribute refuses a finalized ceremony", function () {
    const late = zks("ceremony", "contribute", "--in", zkey("final"), "--out", path.join(dir, "late.zkey"), "--name", "late");
    assert.equal(late.code, 1);
    assertOneLineError(late, /the ceremony is finalized \(entries\[2\] is the beacon\): no step follows it/);
  });

  it("verify: snarkjs zkey verify against the r1cs and ptau, the key's own contribution records against the transcript and the announced beacon; a key on an untrusted ptau is not deployable", function () {
    const result = zks("ceremony", "verify", "--zkey", zkey("final"), "--instance", INSTANCE, "--expect-beacon", BEACON, "--json");
    assert.equal(result.code, 0, result.stderr);
    const report = JSON.parse(result.stdout);
    const entries = transcript().entries;
    assert.deepEqual(
      report.contributions.map((c: { name: string; contributionHash: string }) => [c.name, c.contributionHash]),
      entries.map((e) => [e.name, e.contributionHash]),
    );
    assert.deepEqual(report.contributions[2].beacon, { hash: BEACON, iterationsExp: 10 });
    assert.equal(report.ptau.publicCeremony, false);
    assert.equal(report.deployable.ok, false);
    assert.match(
      report.deployable.reason,
      /not deployable: phase 1 is not a known public ceremony \(ptau .*dev-16\.ptau, power 16, blake2b [0-9a-f]{16}…\): whoever made that ptau can forge proofs/,
    );
  });

  it("a tampered contribution is rejected by zks ceremony verify and by zks setup --zkey, even with a transcript forged to match it (exit 1, one line)", async function () {
    // Bob's contribution record edited (a point of his public key): the chain snarkjs recomputes breaks.
    const forged = path.join(temp.make("tampered"), "forged.zkey");
    copyFileSync(zkey("final"), forged);
    const aliceRecord = 64 * 3 + 128 + 64 + 4 + 4 + (1 + 1 + "alice".length);
    flipInSection(forged, 10, 64 + 4 + aliceRecord + 64 + 10);
    const verify = zks("ceremony", "verify", "--zkey", forged, "--instance", INSTANCE);
    assert.equal(verify.code, 1);
    assertOneLineError(verify, /forged\.zkey: does not verify against the r1cs of commitment-3x3 and the ptau \(snarkjs zkey verify: INVALID\(1\): .*\)/);
    // Against the published transcript the edited record no longer hashes to bob's published hash.
    await rejects(
      verifyCeremonyZkey(circuit, forged, loadTranscript(transcriptFile())),
      CeremonyError,
      /transcript\.json: entries\[1\]\.contributionHash: [0-9a-f]{16}… but the key's contribution #2 \(bob\) has [0-9a-f]{16}…/,
    );

    // Key points edited after the last contribution, and the transcript edited to the new file's sha256: only zkey verify can tell.
    const tampered = path.join(path.dirname(forged), "final.zkey");
    copyFileSync(zkey("final"), tampered);
    flipInSection(tampered, 8);
    const lying = transcript();
    lying.entries[2]!.zkeySha256 = sha256(tampered);
    const lyingFile = transcriptAt(lying, "lying").file;
    const setup = zks("setup", "--instance", INSTANCE, "--zkey", tampered, "--transcript", lyingFile, "--expect-beacon", BEACON, "--untrusted-ptau");
    assert.equal(setup.code, 1);
    const last = setup.stderr.trim().split("\n").at(-1)!;
    assert.match(last, /^zks: .*final\.zkey: does not verify against the r1cs of commitment-3x3 and the ptau \(snarkjs zkey verify: L section does not match\)$/);
    assert.doesNotMatch(setup.stderr, /\bat .+:\d+:\d+/);
    assert.deepEqual(readManifest(instanceDir(paths, INSTANCE))!.keySource, { kind: "development", contributions: 1 }, "the installed key is unchanged");
  });

  it("a transcript or announcement that disagrees with the key is rejected, naming the field, before the expensive verification", async function () {
    const swapped = transcript();
    swapped.entries[1]!.contributionHash = swapped.entries[0]!.contributionHash;
    await rejects(
      verifyCeremonyZkey(circuit, zkey("final"), transcriptAt(swapped)),
      CeremonyError,
      /transcript\.json: entries\[1\]\.contributionHash: [0-9a-f]{16}… but the key's contribution #2 \(bob\) has [0-9a-f]{16}…/,
    );
    await rejects(
      verifyCeremonyZkey(circuit, zkey("final"), transcriptAt({ ...transcript(), circuit: { ...transcript().circuit, compileKey: "0".repeat(64) } })),
      CeremonyError,
      /transcript\.json: circuit\.compileKey: the ceremony's circuit \(0000000000000000…\) is not this checkout's commitment-3x3/,
    );
    await rejects(
      verifyCeremonyZkey(circuit, zkey("final"), loadTranscript(transcriptFile()), { expectBeacon: "ab" }),
      CeremonyError,
      new RegExp(`--expect-beacon: the key's beacon is ${BEACON}, not the announced ab`),
    );
    // A transcript listing one party twice, or a name that would print as two lines, is bad input.
    const twice = transcript();
    twice.entries[1]!.name = "ALICE";
    assert.throws(
      () => transcriptAt(twice),
      (e: unknown) => e instanceof InputError && /entries\[1\]\.name: "ALICE" is entries\[0\]'s name too/.test(e.message),
    );
    const newline = transcript();
    newline.entries[1]!.name = "bob\nVERIFIED";
    assert.throws(
      () => transcriptAt(newline),
      (e: unknown) => e instanceof InputError && /entries\[1\]\.name: no control or format characters/.test(e.message),
    );
  });

  it("the log-parser attack: a beacon named with a newline, then a contribution after it posing as the beacon, is rejected by verify and by setup --zkey", async function () {
    // As the attacker would, with snarkjs itself: it accepts any name, and a contribution after a beacon.
    const attack = temp.make("attack");
    const hidden = path.join(attack, "hidden-beacon.zkey");
    const mallory = path.join(attack, "mallory.zkey");
    await snarkjs.zKey.beacon(zkey("0002"), hidden, "x\ny", BEACON, 10);
    const malloryHash = Buffer.from(await snarkjs.zKey.contribute(hidden, mallory, "final beacon", "mallory keeps this")).toString("hex");
    // To snarkjs the key is sound: every contribution chains from the r1cs and ptau.
    assert.equal(await snarkjs.zKey.verifyFromR1cs(circuit.r1cs, DEV_PTAU, mallory), true);
    // The key's own records show four contributions, the beacon third; a transcript claims three, the beacon last with mallory's hash.
    const recorded = await readZkeyContributions(mallory);
    assert.deepEqual(
      recorded.contributions.map((c) => [c.index, c.name, Boolean(c.beacon)]),
      [
        [1, "alice", false],
        [2, "bob", false],
        [3, "x\ny", true],
        [4, "final beacon", false],
      ],
    );
    const claim = transcript();
    claim.entries[2] = { ...claim.entries[2]!, contributionHash: malloryHash, zkeySha256: sha256(mallory), file: "mallory.zkey" };
    const forged = transcriptAt(claim, "claim");
    await rejects(
      verifyCeremonyZkey(circuit, mallory, forged),
      CeremonyError,
      /mallory\.zkey: contribution #3 is named "x\\ny": control or format characters, or surrounding spaces, are refused/,
    );
    await rejects(
      buildCircuits({ instances: [INSTANCE], paths, ptau: DEV_PTAU, ceremony: { zkey: mallory, transcript: forged.file, expectBeacon: BEACON, untrustedPtau: true } }),
      CeremonyError,
      /mallory\.zkey: contribution #3 is named "x\\ny"/,
    );

    // The same with a printable beacon name: what follows the beacon is refused for itself.
    const plain = path.join(attack, "plain-beacon.zkey");
    const after = path.join(attack, "after.zkey");
    await snarkjs.zKey.beacon(zkey("0002"), plain, "beacon", BEACON, 10);
    await snarkjs.zKey.contribute(plain, after, "final beacon", "mallory keeps this");
    await rejects(
      verifyCeremonyZkey(circuit, after, forged),
      CeremonyError,
      /after\.zkey: contribution #4 \(final beacon\) follows the beacon #3 \(beacon\): nothing may follow the beacon, or its maker chose the final key/,
    );

    // One party under two names in the key itself (made with snarkjs directly, past `contribute`'s check).
    const again = path.join(attack, "again.zkey");
    await snarkjs.zKey.contribute(zkey("0002"), again, "Alice", "the same party");
    await rejects(verifyCeremonyZkey(circuit, again), CeremonyError, /again\.zkey: contribution #3 is named "Alice" like contribution #1: each party contributes once/);
  });

  it("a key for another circuit and ptau: contribute refuses it against the transcript's circuit hash, verify against the transcript and against the r1cs and ptau", async function () {
    // A real Groth16 zkey of another circuit, made on another ptau: circom_runtime's test fixture (pinned version).
    const foreign = path.join(temp.make("foreign"), "handed.zkey");
    copyFileSync(path.join(PACKAGE_ROOT, "node_modules", "circom_runtime", "test", "circuit", "circuit.zkey"), foreign);
    const handed = transcriptAt({ ...transcript(), initial: { file: "handed.zkey", zkeySha256: sha256(foreign) }, entries: [] }, "handed");
    await rejects(
      ceremonyContribute({ input: foreign, output: path.join(path.dirname(foreign), "next.zkey"), name: "carol", transcript: handed.file }),
      CeremonyError,
      /handed\.zkey: its circuit hash [0-9a-f]{16}… is not the transcript's \([0-9a-f]{16}…\)/,
    );
    await rejects(verifyCeremonyZkey(circuit, foreign, handed), CeremonyError, /transcript\.json: circuit\.circuitHash: [0-9a-f]{16}… is not the key's [0-9a-f]{16}…/);
    await rejects(
      verifyCeremonyZkey(circuit, foreign),
      CeremonyError,
      /handed\.zkey: does not verify against the r1cs of commitment-3x3 and the ptau \(snarkjs zkey verify: INVALID: Different circuit parameters\)/,
    );
  });

  it("the ptau a transcript names: a public file only within a small margin of the circuit's size, else --ptau; never a download the transcript picks", async function () {
    const base = transcript();
    const at = (power: number, blake2b: string) => transcriptAt({ ...base, ptau: { power, blake2b } }, "ptau");
    const resolve = (t: LoadedTranscript) =>
      resolveCeremonyPtau({ env: {}, requiredPower: 11, transcript: t, hashCacheFile: path.join(paths.buildDir, "ptau-hashes.json"), log: () => {} });
    await rejects(
      resolve(at(19, CEREMONY_BLAKE2B[19]!)),
      InputError,
      /--ptau: the transcript names the power-19 public ptau, more than 2 above what the circuit needs \(11\): download it yourself and pass it with --ptau/,
    );
    // The file's power comes from its hash, not from the transcript's `power` field.
    await rejects(resolve(at(11, CEREMONY_BLAKE2B[18]!)), InputError, /power-18 public ptau/);
    await rejects(resolve(at(16, base.ptau.blake2b)), CeremonyError, /ptau\.blake2b: [0-9a-f]{16}… is not a known public ceremony file; pass the ceremony's ptau with --ptau/);
  });

  it("setup --zkey: refused on an untrusted ptau without --untrusted-ptau; with it, installs a key labelled so, prints every hash to match; a plain setup keeps it; a proof verifies under it only", async function () {
    const refused = zks("setup", "--instance", INSTANCE, "--zkey", zkey("final"), "--transcript", transcriptFile(), "--expect-beacon", BEACON);
    assert.equal(refused.code, 1);
    assert.match(
      refused.stderr.trim().split("\n").at(-1)!,
      /^zks: .*commitment-3x3_final\.zkey: not deployable: phase 1 is not a known public ceremony \(ptau .*dev-16\.ptau, power 16, blake2b [0-9a-f]{16}…\).*pass --untrusted-ptau/,
    );

    const setup = zks("setup", "--instance", INSTANCE, "--zkey", zkey("final"), "--transcript", transcriptFile(), "--expect-beacon", `0x${BEACON}`, "--untrusted-ptau");
    assert.equal(setup.code, 0, setup.stderr);
    assert.match(setup.stdout, /commitment-3x3 .* built \(setup, ceremony key on an UNTRUSTED ptau\)/);
    assert.doesNotMatch(setup.stderr, /WARNING development keys/);
    assert.match(setup.stderr, /WARNING ceremony keys on an UNTRUSTED ptau \(its phase 1 is not a known public ceremony file.*\): commitment-3x3$/m);
    const entries = transcript().entries;
    for (const e of entries) assert.ok(setup.stdout.includes(`#${e.index} ${e.name}  ${e.contributionHash}`), setup.stdout);
    assert.match(setup.stdout, /#1 alice {2}[0-9a-f]{128} {2}\(statement: https:\/\/example\.org\/alice-hash\.asc\)/);

    const buildDir = instanceDir(paths, INSTANCE);
    const manifest = readManifest(buildDir)!;
    const ptauBlake2b = transcript().ptau.blake2b;
    assert.deepEqual(manifest.keySource, {
      kind: "ceremony",
      contributions: 2,
      beacon: BEACON,
      transcriptSha256: sha256(transcriptFile()),
      ptau: { power: 16, blake2b: ptauBlake2b, origin: "user" },
    });
    assert.equal(manifest.zkeySha256, entries[2]!.zkeySha256);
    const vkey: VerificationKey = JSON.parse(readFileSync(manifestFiles(buildDir, manifest).vkey, "utf8"));
    assert.equal(manifest.verificationKeyHash, verificationKeyHash(vkey));
    assert.notEqual(manifest.verificationKeyHash, verificationKeyHash(developmentVkey));
    const contract = readFileSync(generated(), "utf8");
    assert.ok(contract.includes(`bytes32 public constant VERIFICATION_KEY_HASH = ${manifest.verificationKeyHash};`));
    assert.match(
      contract,
      /^\/\/ Key: phase-2 ceremony, 2 contributions and beacon 5d2c4b1e0f .*\n\/\/ phase 1: an UNTRUSTED ptau \(blake2b [0-9a-f]{16}\.\.\.\), not a known public ceremony file: for rehearsals and local chains only\.$/m,
    );
    assert.match(zks("inspect", INSTANCE).stdout, /key source {7}phase-2 ceremony: 2 contributions, beacon 5d2c4b1e0f.*\n {2}phase 1 {10}UNTRUSTED ptau \(power 16/);

    // `zks setup` again (the ptau named, so it is resolved) must not put a development key back.
    const again = await buildCircuits({ instances: [INSTANCE], paths, ptau: DEV_PTAU });
    assert.equal(again.instances[0]!.setUp, false);
    assert.deepEqual(readManifest(buildDir), manifest);

    const market = loadMarket();
    const artifacts = loadInstanceArtifacts(INSTANCE, paths);
    const { proof, publicSignals } = await generateProof(positionOpeningInput(loadPosition("position-healthy.json", market), market, { nAssets: 3, nInstruments: 3 }), artifacts);
    assert.equal(await snarkjs.groth16.verify(vkey, publicSignals, proof), true);
    assert.equal(await snarkjs.groth16.verify(developmentVkey, publicSignals, proof), false, "the development key does not accept it");
  });

  it("the compiled verifier, not the hash it declares, decides its key: an edit keeping VERIFICATION_KEY_HASH with another key's points is unknown, rewritten by zks setup, and refused by deploy", async function () {
    const ceremonyVerifier = readFileSync(generated(), "utf8");
    // The attack: the ceremony verifier's text (header, zkey sha256, VERIFICATION_KEY_HASH) with the development key's points.
    const [ours, theirs] = [keyConstants(ceremonyVerifier), keyConstants(developmentVerifier)];
    assert.equal(ours.length, theirs.length);
    let edited = ceremonyVerifier;
    ours.forEach((line, i) => (edited = edited.replace(line, theirs[i]!)));
    assert.notEqual(edited, ceremonyVerifier);
    assert.ok(edited.includes(`VERIFICATION_KEY_HASH = ${readManifest(instanceDir(paths, INSTANCE))!.verificationKeyHash}`));
    const compiled = compileVerifiers({ ceremony: ceremonyVerifier, edited });

    const genuine = await verifierKey(CONTRACT, compiled.ceremony, paths);
    assert.deepEqual([genuine.kind, genuine.deployable, genuine.label], ["ceremony", false, "ceremony key on an UNTRUSTED ptau"]);
    const forged = await verifierKey(CONTRACT, compiled.edited, paths);
    assert.equal(forged.kind, "unknown");
    assert.match(forged.label, /^UNKNOWN key \(compiled from a source other than the verifier the installed key of commitment-3x3 makes \(a stale compile or an edited file\)/);
    // A build-info naming the genuine source beside the edited bytecode: the bytecode lacks the key's points (phase 2 changes
    // only delta: alpha, beta, gamma and IC come from the ptau and the circuit, shared with the development key).
    const mixed = await verifierKey(CONTRACT, { source: ceremonyVerifier, deployedBytecode: compiled.edited!.deployedBytecode }, paths);
    assert.match(mixed.label, /^UNKNOWN key \(its bytecode lacks the key's delta\[0\]/);

    const refusal = developmentKeyRefusal(11155111n, [genuine, forged], false) ?? "";
    assert.match(
      refusal,
      /^chain 11155111 is not a local chain \(31337, 1337\) and these verifiers have no deployable key: Commitment3x3Verifier \(ceremony key on an UNTRUSTED ptau\), Commitment3x3Verifier \(UNKNOWN key \(compiled from a source other/,
    );
    assert.equal(developmentKeyRefusal(31337n, [genuine, forged], false), undefined);

    // zks setup rewrites the edited file, though it kept the key hash and the zkey's sha256.
    writeFileSync(generated(), edited);
    await buildCircuits({ instances: [INSTANCE], paths, ptau: DEV_PTAU });
    assert.equal(readFileSync(generated(), "utf8"), ceremonyVerifier);

    // The same reading of hardhat's own artifacts (the checkout's, read only): the source solc compiled and its bytecode.
    const real = compiledVerifier(CONTRACT, path.join(PACKAGE_ROOT, "artifacts"));
    assert.ok(real, "the checkout's contracts are compiled (npm run compile:contracts)");
    assert.match(real.source ?? "", /^contract Commitment3x3Verifier \{$/m);
    assert.match(real.deployedBytecode, /^0x[0-9a-f]{1000,}$/);
  });

  it("a changed circuit with a ceremony key installed: plain setup refuses, a new ceremony still compiles; a zkey swapped on disk is refused; --force installs a development key", async function () {
    const buildDir = instanceDir(paths, INSTANCE);
    const installed = readManifest(buildDir)!;
    writeManifest(buildDir, { ...installed, compileKey: "0".repeat(64) });
    await rejects(
      buildCircuits({ instances: [INSTANCE], paths, ptau: DEV_PTAU }),
      SetupError,
      /commitment-3x3 has a ceremony key for another version of its circuit \(compileKey 000000000000…, now [0-9a-f]{12}…\): run a new ceremony/,
    );
    // The ceremony commands compile in their own scratch build, so the new ceremony can start here.
    const fresh = await ceremonyCircuit(INSTANCE, DEV_PTAU, [], undefined, paths);
    assert.equal(fresh.compileKey, circuit.compileKey);
    writeManifest(buildDir, installed);

    const zkeyFile = manifestFiles(buildDir, installed).zkey;
    copyFileSync(zkey("0002"), zkeyFile);
    await rejects(
      buildCircuits({ instances: [INSTANCE], paths, ptau: DEV_PTAU }),
      SetupError,
      /circuit\.zkey: sha256 [0-9a-f]{16}… is not the ceremony key its manifest records \([0-9a-f]{16}…\): install it again/,
    );

    const forced = await buildCircuits({ instances: [INSTANCE], paths, ptau: DEV_PTAU, force: true });
    assert.equal(forced.instances[0]!.setUp, true);
    assert.deepEqual(readManifest(buildDir)!.keySource, { kind: "development", contributions: 1 });
    assert.match(readFileSync(generated(), "utf8"), /^\/\/ Key: DEVELOPMENT key/m);
  });

  it("the rule for a deployable key: at least two contributions, then the beacon, the transcript's final key, a public phase 1", function () {
    const hash = (c: string) => c.repeat(128);
    const ptau = (publicCeremony: boolean) => ({ path: "p.ptau", power: 16, blake2b: publicCeremony ? CEREMONY_BLAKE2B[16]! : hash("d"), publicCeremony });
    const verification = (contributions: CeremonyVerification["contributions"], entries = contributions.length, publicCeremony = true): CeremonyVerification => ({
      zkey: "final.zkey",
      zkeySha256: "0".repeat(64),
      circuitHash: hash("c"),
      contributions,
      ptau: ptau(publicCeremony),
      transcript: { file: "transcript.json", sha256: "1".repeat(64), content: { entries: new Array(entries) } as unknown as CeremonyTranscript },
    });
    const party = (index: number) => ({ index, name: `p${index}`, contributionHash: hash("a") });
    const beacon = (index: number) => ({ index, name: "beacon", contributionHash: hash("b"), beacon: { hash: "ab", iterationsExp: 10 } });
    const refused = (v: CeremonyVerification, pattern: RegExp) =>
      assert.throws(
        () => ceremonyKeySource(v),
        (e: unknown) => e instanceof CeremonyError && pattern.test(e.message),
      );
    refused(verification([party(1), beacon(2)]), /1 contribution\(s\) before the beacon; a deployable key needs at least 2/);
    refused(verification([party(1), party(2)]), /not finalized: the last contribution must be the public beacon/);
    refused(verification([party(1), party(2), beacon(3)], 4), /not the ceremony's final key: it has 3 of the transcript's 4 entries/);
    refused(verification([party(1), party(2), beacon(3)], 3, false), /not deployable: phase 1 is not a known public ceremony/);
    assert.deepEqual(ceremonyKeySource(verification([party(1), party(2), beacon(3)])), {
      kind: "ceremony",
      contributions: 2,
      beacon: "ab",
      transcriptSha256: "1".repeat(64),
      ptau: { power: 16, blake2b: CEREMONY_BLAKE2B[16], origin: "ceremony" },
    });
    assert.equal(ceremonyKeySource(verification([party(1), party(2), beacon(3)], 3, false), { untrustedPtau: true }).ptau?.origin, "user");
  });

  it("bad input is one line, exit 2: a path-like instance, a reused directory, --out a file, --in a directory, a name with a newline, a bad beacon, setup --zkey without the announced beacon", async function () {
    // The library's refusals (the CLI prints them as the cases below show).
    const aFile = path.join(temp.make("file"), "not-a-dir");
    writeFileSync(aFile, "");
    await rejects(ceremonyInit(circuit, aFile, { untrustedPtau: true }), InputError, /^--out: .*not-a-dir is a file: --out names a directory for the ceremony$/);
    await rejects(ceremonyContribute({ input: zkey("final"), output: path.join(dir, "x.zkey"), name: "eve\nVERIFIED" }), InputError, /^--name: no control or format characters/);
    await rejects(ceremonyContribute({ input: zkey("final"), output: path.join(dir, "x.zkey"), name: "x".repeat(65) }), InputError, /^--name: 1 to 64 characters/);
    assert.throws(
      () => parseBeacon("not-hex"),
      (e: unknown) => e instanceof InputError && /^--beacon: expected 1 to 255 bytes of hex/.test(e.message),
    );
    assert.throws(
      () => parseIterations("5"),
      (e: unknown) => e instanceof InputError && /^--iterations: .*an integer from 10 to 63; got "5"$/.test(e.message),
    );
    const cases: [string[], RegExp][] = [
      [["ceremony", "init", "--instance", "../../tmp/evil", "--out", temp.make("evil")], /--instance: unknown circuit instance "\.\.\/\.\.\/tmp\/evil"/],
      [["ceremony", "init", "--instance", INSTANCE, "--out", dir, "--untrusted-ptau"], /--out: .*transcript\.json exists: start each ceremony in a directory of its own/],
      [["ceremony", "contribute", "--in", dir, "--out", path.join(dir, "x.zkey"), "--name", "eve"], /keys: not a file \(--in\)/],
      [["setup", "--instance", INSTANCE, "--zkey", zkey("final"), "--transcript", transcriptFile()], /--expect-beacon: with --zkey, give the beacon value the ceremony announced/],
    ];
    for (const [args, pattern] of cases) {
      const result = zks(...args);
      assert.equal(result.code, 2, `${args.join(" ")}: ${result.stderr}`);
      assertOneLineError(result, pattern);
    }
    // The announcement is part of the transcript: finalize without it is a usage error (commander's).
    const unannounced = zks("ceremony", "finalize", "--in", zkey("0002"), "--out", path.join(dir, "x.zkey"), "--beacon", "ab");
    assert.equal(unannounced.code, 2);
    assert.match(unannounced.stderr, /required option '--beacon-source <text>' not specified/);
  });
});

describe("zks deploy: development keys only on local chains", function () {
  this.timeout(300_000);
  const key = (kind: VerifierKey["kind"], deployable = false): VerifierKey => ({
    contract: `${kind}${deployable ? "Public" : ""}Verifier`,
    instance: null,
    kind,
    deployable,
    label: `${kind} label`,
    verificationKeyHash: null,
  });

  it("the decision: deployable ceremony keys anywhere; development, untrusted-ptau ceremony or unknown keys on 31337 and 1337, or when allowed", function () {
    assert.equal(developmentKeyRefusal(11155111n, [key("ceremony", true)], false), undefined);
    for (const chainId of [31337n, 1337n]) assert.equal(developmentKeyRefusal(chainId, [key("development"), key("ceremony"), key("unknown")], false), undefined);
    assert.equal(developmentKeyRefusal(1n, [key("development")], true), undefined);
    const refusal = developmentKeyRefusal(1n, [key("ceremony", true), key("development"), key("ceremony"), key("unknown")], false);
    assert.match(
      refusal ?? "",
      /chain 1 is not a local chain .*: developmentVerifier \(development label\), ceremonyVerifier \(ceremony label\), unknownVerifier \(unknown label\)/,
    );
    assert.doesNotMatch(refusal ?? "", /ceremonyPublicVerifier/);
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
      // verifierKeys reads the keys with snarkjs, whose cached curve keeps worker threads alive.
      await releaseProverThreads();
      temp.cleanup();
    });

    /** Async: the hardhat node is this process's child and must keep being served. */
    const zksAsync = (...args: string[]): Promise<Run> => runZksAsync(args, { ZKS_PRIVATE_KEY: deployer.privateKey });

    it("refuses the checkout's verifiers (no deployable key) before sending anything (exit 3, one line); --allow-development-keys deploys and labels them", async function () {
      // What this checkout's build and compile hold, read the way deploy reads them: every label must appear as computed.
      const keys = await verifierKeys(["Solvency3x3x16Verifier", "Rebalance3x3x16Verifier"]);
      assert.ok(
        keys.every((k) => !k.deployable),
        "a checkout built offline has no deployable key",
      );
      const out = path.join(temp.make("deploy"), "sepolia.json");
      mkdirSync(path.dirname(out), { recursive: true });
      const keeperKeyFile = path.join(path.dirname(out), "keeper.pub.json");
      writeFileSync(keeperKeyFile, keeperPublicKeyFileJson(TEST_KEEPER.publicKey));
      const args = [
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
        out,
      ];
      const refused = await zksAsync(...args);
      assert.equal(refused.code, 3, refused.stderr);
      const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
      assertOneLineError(
        refused,
        new RegExp(
          `^zks: deploy: chain 11155111 is not a local chain \\(31337, 1337\\) and these verifiers have no deployable key: ${keys.map((k) => `${k.contract} \\(${escape(k.label)}\\)`).join(", ")}; .* or pass --allow-development-keys$`,
        ),
      );
      const provider = new JsonRpcProvider(node.url, undefined, { staticNetwork: true });
      try {
        assert.equal(await provider.getTransactionCount(deployer.address), 0, "nothing was sent");
        const allowed = await zksAsync(...args, "--allow-development-keys");
        assert.equal(allowed.code, 0, allowed.stderr);
        assert.match(allowed.stdout, /deployed to chain 11155111 \(json-rpc\)/);
        for (const k of keys)
          assert.ok(allowed.stdout.includes(`key of ${k.contract.padEnd(26)} ${k.verificationKeyHash ?? "(none built)"} ${k.label} (tests and local chains only)`), allowed.stdout);
        assert.deepEqual(JSON.parse(readFileSync(out, "utf8")).verifierKeys, keys);
        assert.match(allowed.stderr, /WARNING verifiers without a deployable ceremony key.*: Solvency3x3x16Verifier \(.*\), Rebalance3x3x16Verifier \(.*\)/);
        assert.ok((await provider.getTransactionCount(deployer.address)) > 0);
      } finally {
        provider.destroy();
      }
    });
  });
});
