import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { loadInstanceArtifacts } from "../src/node/artifacts.ts";
import { writeProofFiles } from "../src/node/write-proof.ts";
import { toProofFile } from "../src/proof-file/proof-file.ts";
import { generateProof } from "../src/prover/prove.ts";
import { releaseProverThreads } from "../src/prover/release.ts";
import { positionOpeningInput } from "../src/prover/witness/position-opening.ts";
import { defaultBuildPaths, instanceDir, PACKAGE_ROOT } from "../src/setup/paths.ts";
import { loadMarket, loadPosition } from "./helpers/examples.ts";

const ZKS = path.join(PACKAGE_ROOT, "bin", "zks.js");
const SNARKJS = path.join(PACKAGE_ROOT, "node_modules", "snarkjs", "build", "cli.cjs");
const run = (command: string, args: string[]) => spawnSync(process.execPath, [command, ...args], { encoding: "utf8" });

describe("proof files and zks verify", function () {
  let dir: string;
  let proofPath: string;
  let publicPath: string;

  before(async function () {
    dir = mkdtempSync(path.join(tmpdir(), "zks-verify-"));
    const market = loadMarket();
    const position = loadPosition("position-healthy.json", market);
    const artifacts = loadInstanceArtifacts("commitment-3x3");
    const zkProof = await generateProof(positionOpeningInput(position, market, { nAssets: 3, nInstruments: 3 }), artifacts);
    const file = toProofFile(zkProof, { instance: "commitment-3x3", statement: "commitment", epoch: market.epoch, signalNames: artifacts.manifest.publicSignals });
    ({ proof: proofPath, publicSignals: publicPath } = writeProofFiles(dir, file));
  });
  after(async function () {
    rmSync(dir, { recursive: true, force: true });
    await releaseProverThreads();
  });

  it("zks verify accepts a valid proof file (exit 0) and names its public signals", function () {
    const result = run(ZKS, ["verify", "--proof", proofPath]);
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stdout, /^VALID: commitment proof, instance commitment-3x3, epoch 42/);
    assert.match(result.stdout, /commitment\s+0x[0-9a-f]{64}/);
    const json = JSON.parse(run(ZKS, ["verify", "--proof", proofPath, "--json"]).stdout);
    assert.equal(json.valid, true);
  });

  it("snarkjs groth16 verify accepts the same files as they are", function () {
    const vkey = path.join(instanceDir(defaultBuildPaths(), "commitment-3x3"), "verification_key.json");
    const result = run(SNARKJS, ["groth16", "verify", vkey, publicPath, proofPath]);
    assert.equal(result.status, 0, result.stdout + result.stderr);
    assert.match(result.stdout, /OK/);
  });

  it("a tampered public signal is INVALID (exit 1); a malformed file is bad input (exit 2, one line)", function () {
    const file = JSON.parse(readFileSync(proofPath, "utf8"));
    file.zks.publicSignals[2] = (BigInt(file.zks.publicSignals[2]) + 1n).toString();
    const tampered = path.join(dir, "tampered.json");
    writeFileSync(tampered, JSON.stringify(file));
    const invalid = run(ZKS, ["verify", "--proof", tampered]);
    assert.equal(invalid.status, 1);
    assert.match(invalid.stdout, /^INVALID/);

    const malformed = path.join(dir, "malformed.json");
    writeFileSync(malformed, JSON.stringify({ ...file, pi_a: ["1", "2"] }));
    const bad = run(ZKS, ["verify", "--proof", malformed]);
    assert.equal(bad.status, 2);
    assert.equal(bad.stderr.trim().split("\n").length, 1);
    assert.match(bad.stderr, /malformed\.json: pi_a/);
  });
});
