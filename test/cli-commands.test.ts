import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Contract, HDNodeWallet, JsonRpcProvider, Wallet } from "ethers";
import * as snarkjs from "snarkjs";
import { MARKET_ORACLE_ABI, REBALANCE_GATE_ABI } from "../src/chain/abi.ts";
import { encodeRegister } from "../src/chain/calldata.ts";
import { loadInstanceArtifacts } from "../src/node/artifacts.ts";
import { readJsonFile } from "../src/node/read-json.ts";
import { parseProofFile } from "../src/proof-file/proof-file.ts";
import { releaseProverThreads } from "../src/prover/release.ts";
import { PACKAGE_ROOT } from "../src/setup/paths.ts";
import { example } from "./helpers/examples.ts";
import { HARDHAT_MNEMONIC, startLocalNode, type LocalNode } from "./helpers/local-node.ts";

const ZKS = path.join(PACKAGE_ROOT, "bin", "zks.js");
const hardhatKey = (index: number) => HDNodeWallet.fromPhrase(HARDHAT_MNEMONIC, undefined, `m/44'/60'/0'/0/${index}`).privateKey;

function zks(args: string[], env: NodeJS.ProcessEnv = {}) {
  const result = spawnSync(process.execPath, [ZKS, ...args], { encoding: "utf8", env: { ...process.env, ZKS_DEBUG: "", ...env }, maxBuffer: 16 << 20 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** Async variant: the parent's event loop keeps running (needed while a hardhat node is a child). */
function zksAsync(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [ZKS, ...args], { env: { ...process.env, ZKS_DEBUG: "", ...env }, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

function assertOneLineError(stderr: string, fragment: RegExp): void {
  const lines = stderr.trim().split("\n");
  assert.equal(lines.length, 1, `expected one line, got:\n${stderr}`);
  assert.match(lines[0]!, fragment);
  assert.doesNotMatch(stderr, /\bat .+:\d+:\d+/);
}

const inputs = (position: string) => ["--position", example(position), "--market", example("market-grid.json"), "--policy", example("policy.json")];

describe("zks prove, calldata, inspect, deploy, submit", function () {
  let dir: string;
  let healthy: string;
  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), "zks-cli-commands-"));
    healthy = path.join(dir, "healthy");
  });
  after(async () => {
    rmSync(dir, { recursive: true, force: true });
    await releaseProverThreads(); // snarkjs.groth16.verify's worker threads
  });

  describe("prove", function () {
    it("proves `health` for the healthy example: exit 0, zks verify and snarkjs accept the files", async function () {
      const result = zks(["prove", "health", ...inputs("position-healthy.json"), "--out", healthy]);
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stdout, /PROVED: health \(all 4 checks/);
      const proofFile = path.join(healthy, "proof.json");
      const file = parseProofFile(readJsonFile(proofFile), proofFile).file;
      assert.equal(file.zks.statement, "health");
      assert.equal(file.zks.instance, "solvency-3x3x16");
      assert.equal(BigInt(file.zks.named.context!), 0n);

      const verified = zks(["verify", "--proof", proofFile, "--json"]);
      assert.equal(verified.code, 0, verified.stderr);
      assert.equal(JSON.parse(verified.stdout).valid, true);

      const vkey = loadInstanceArtifacts("solvency-3x3x16").verificationKey;
      const publicSignals = JSON.parse(readFileSync(path.join(healthy, "public.json"), "utf8"));
      const proof = JSON.parse(readFileSync(proofFile, "utf8"));
      assert.equal(await snarkjs.groth16.verify(vkey, publicSignals, proof), true);
    });

    it("binds the proof to a contract with --chain-id/--contract, in JSON", function () {
      const out = path.join(dir, "bound");
      const result = zks(["prove", "audit", ...inputs("position-healthy.json"), "--out", out, "--chain-id", "31337", "--contract", "0x0165878A594ca255338adfa4d48449f69242Eb8F", "--json"]);
      assert.equal(result.code, 0, result.stderr);
      const json = JSON.parse(result.stdout);
      assert.equal(json.proved, true);
      assert.equal(json.statement, "audit");
      assert.notEqual(json.context, "0");
      assert.equal(BigInt(json.publicSignals.context), BigInt(json.context));
    });

    it("refuses the at-risk example for `stress`: exit 1, names the failing check, writes nothing", function () {
      const out = path.join(dir, "at-risk");
      const result = zks(["prove", "stress", ...inputs("position-at-risk.json"), "--out", out]);
      assert.equal(result.code, 1, result.stderr);
      assert.match(result.stdout, /FAIL: no stress proof: 2 of 4 checks fail/);
      assert.match(result.stdout, /FAIL {2}stress: worst loss 5,532.34 USD/);
      assert.equal(existsSync(path.join(out, "proof.json")), false);

      const json = zks(["prove", "stress", ...inputs("position-at-risk.json"), "--out", out, "--json"]);
      assert.equal(json.code, 1);
      assert.deepEqual(JSON.parse(json.stdout).failing.map((f: { check: string }) => f.check), ["stress", "historicalVar"]);
    });

    it("`prove rebalance` runs `zks rebalance` (plans with --allow, writes the new position and a Rebalance proof)", function () {
      const allow = path.join(dir, "allow.json");
      writeFileSync(allow, JSON.stringify({ version: 1, wallet: { USDC: "20000" }, sellable: ["WETH", "WBTC"], tradable: [], maxActions: 4 }));
      const out = path.join(dir, "rebalanced");
      const result = zks(["prove", "rebalance", ...inputs("position-at-risk.json"), "--out", out, "--allow", allow, "--json"]);
      assert.equal(result.code, 0, result.stderr);
      const json = JSON.parse(result.stdout);
      assert.equal(json.instance, "rebalance-3x3x16");
      assert.deepEqual(json.pass, { before: false, after: true });
      assert.ok(existsSync(path.join(out, "position.json")));
      const verified = zks(["verify", "--proof", path.join(out, "proof.json")]);
      assert.equal(verified.code, 0, verified.stderr);
      assert.match(verified.stdout, /VALID: rebalance proof/);
      const calldata = JSON.parse(zks(["calldata", "--proof", path.join(out, "proof.json"), "--for", "rebalance", "--epoch", "42", "--json"]).stdout);
      assert.equal(calldata.input.length, 11);
      assert.match(calldata.call.data, /^0x[0-9a-f]+$/);
    });

    it("bad statement or flags: exit 2, one line", function () {
      const bad = zks(["prove", "solvent", ...inputs("position-healthy.json"), "--out", path.join(dir, "x")]);
      assert.equal(bad.code, 2);
      assertOneLineError(bad.stderr, /statement: expected one of health, stress, var, audit, rebalance, got "solvent"/);
      const both = zks(["prove", "health", ...inputs("position-healthy.json"), "--out", path.join(dir, "x"), "--context", "1", "--chain-id", "1"]);
      assert.equal(both.code, 2);
      assertOneLineError(both.stderr, /not both/);
      const rebalance = zks(["prove", "rebalance", ...inputs("position-at-risk.json"), "--out", path.join(dir, "x")]);
      assert.equal(rebalance.code, 2);
      assertOneLineError(rebalance.stderr, /needs --plan FILE .* or --allow FILE/);
      const help = zks(["prove", "--help"]);
      assert.equal(help.code, 0);
      assert.match(help.stdout, /one proof covers ALL of the policy's checks/);
    });
  });

  describe("calldata", function () {
    it("prints a, b, c, input as decimal strings, and the gate call's ABI-encoded data", function () {
      const proofFile = path.join(healthy, "proof.json");
      const result = zks(["calldata", "--proof", proofFile, "--json"]);
      assert.equal(result.code, 0, result.stderr);
      const json = JSON.parse(result.stdout);
      const decimal = (x: unknown) => typeof x === "string" && /^\d+$/.test(x);
      assert.equal(json.a.length, 2);
      assert.ok(json.a.every(decimal) && json.c.every(decimal) && json.input.every(decimal));
      assert.equal(json.b.length, 2);
      assert.ok(json.b.every((pair: unknown[]) => pair.length === 2 && pair.every(decimal)));
      assert.equal(json.c.length, 2);
      assert.deepEqual(json.input, JSON.parse(readFileSync(path.join(healthy, "public.json"), "utf8")));
      assert.equal(json.call, undefined);

      const withCall = zks(["calldata", "--proof", proofFile, "--for", "register", "--epoch", "42", "--json"]);
      assert.equal(withCall.code, 0, withCall.stderr);
      const { zkProof } = parseProofFile(readJsonFile(proofFile), proofFile);
      assert.deepEqual(JSON.parse(withCall.stdout).call, { function: "register", contract: "RebalanceGate", epoch: "42", data: encodeRegister(42n, zkProof) });

      const wrong = zks(["calldata", "--proof", proofFile, "--for", "rebalance"]);
      assert.equal(wrong.code, 2);
      assertOneLineError(wrong.stderr, /not a Rebalance proof/);
      const unknown = zks(["calldata", "--proof", proofFile, "--for", "withdraw"]);
      assert.equal(unknown.code, 2);
      assertOneLineError(unknown.stderr, /--for: expected one of register, rebalance, recordClaim/);
    });
  });

  describe("inspect", function () {
    it("lists every declared instance, and shows one in detail", function () {
      const table = zks(["inspect"]);
      assert.equal(table.code, 0, table.stderr);
      assert.match(table.stdout, /solvency-3x3x16\s+Solvency\(3, 3, 16, 15\)\s+test\s+[\d,]+\s+6\s+yes/);
      assert.match(table.stdout, /rebalance-3x3x16/);
      const list = JSON.parse(zks(["inspect", "--json"]).stdout);
      const names = list.instances.map((i: { instance: string }) => i.instance);
      const declared = Object.keys(JSON.parse(readFileSync(path.join(PACKAGE_ROOT, "circuits", "instances.json"), "utf8")).instances);
      assert.deepEqual(names, declared);

      const details = zks(["inspect", "solvency-3x3x16", "--json"]);
      assert.equal(details.code, 0, details.stderr);
      const json = JSON.parse(details.stdout);
      assert.equal(json.template, "Solvency");
      assert.deepEqual(json.publicSignals, ["commitment", "marketRoot", "policyHash", "account", "nonce", "context"]);
      assert.match(json.zkeySha256, /^[0-9a-f]{64}$/);
      assert.equal(json.built, true);
      assert.ok(json.constraints > 0);
      const text = zks(["inspect", "solvency-3x3x16"]);
      assert.match(text.stdout, /public signals {3}0:commitment 1:marketRoot/);
      assert.match(text.stdout, /zkey sha256/);

      const unknown = zks(["inspect", "nope"]);
      assert.equal(unknown.code, 3);
      assertOneLineError(unknown.stderr, /unknown circuit instance "nope"/);
    });
  });

  describe("deploy and submit without a chain", function () {
    it("deploy to an unreachable RPC URL ends in one line, exit 3", function () {
      const result = zks(["deploy", "--rpc", "http://127.0.0.1:1", "--policy-hash", "1", "--test-tokens"], { ZKS_PRIVATE_KEY: hardhatKey(0) });
      assert.equal(result.code, 3);
      assertOneLineError(result.stderr, /cannot reach the JSON-RPC endpoint http:\/\/127\.0\.0\.1:1/);
    });

    it("deploys in-process (a dry run) and writes the deployments file; bad usage is exit 2", function () {
      const out = path.join(dir, "in-process.json");
      const result = zks(["deploy", "--policy", example("policy.json"), "--market", example("market-grid.json"), "--test-tokens", "--out", out, "--json"]);
      assert.equal(result.code, 0, result.stderr);
      const printed = JSON.parse(result.stdout);
      assert.deepEqual(printed, JSON.parse(readFileSync(out, "utf8")));
      assert.equal(printed.network, "in-process");
      assert.deepEqual(printed.tokens.map((t: { symbol: string }) => t.symbol), ["WETH", "WBTC", "USDC"]);

      const usage = zks(["deploy", "--policy-hash", "1"]);
      assert.equal(usage.code, 2);
      assertOneLineError(usage.stderr, /exactly one of --tokens/);
    });

    it("submit to an unreachable RPC URL ends in one line, exit 3; an in-process deployment is refused (exit 2)", function () {
      const deployment = path.join(dir, "unreachable.json");
      const file = JSON.parse(readFileSync(path.join(dir, "in-process.json"), "utf8"));
      writeFileSync(deployment, JSON.stringify({ ...file, network: "json-rpc" }));
      const args = ["submit", "--proof", path.join(healthy, "proof.json"), "--for", "register", "--epoch", "42"];
      const result = zks([...args, "--deployment", deployment, "--rpc", "http://127.0.0.1:1"], { ZKS_PRIVATE_KEY: hardhatKey(1) });
      assert.equal(result.code, 3);
      assertOneLineError(result.stderr, /cannot reach the JSON-RPC endpoint http:\/\/127\.0\.0\.1:1/);
      const inProcess = zks([...args, "--deployment", path.join(dir, "in-process.json")], { ZKS_PRIVATE_KEY: hardhatKey(1) });
      assert.equal(inProcess.code, 2);
      assertOneLineError(inProcess.stderr, /in-process deployment is a dry run/);
    });
  });

  describe("deploy and submit to a local `hardhat node`", function () {
    let node: LocalNode;
    let url: string;

    before(async function () {
      node = await startLocalNode();
      url = node.url;
    });

    after(async function () {
      await node?.stop();
    });

    it("deploys, registers the healthy example with a bound proof (tx hash and gas), and decodes reverts to named errors (exit 1)", async function () {
      const deploymentFile = path.join(dir, "local.json");
      const deployed = await zksAsync(["deploy", "--rpc", url, "--policy", example("policy.json"), "--market", example("market-grid.json"), "--test-tokens", "--out", deploymentFile], { ZKS_PRIVATE_KEY: hardhatKey(0) });
      assert.equal(deployed.code, 0, deployed.stderr);
      assert.match(deployed.stdout, /deployed to chain 31337 \(json-rpc\)/);
      const deployment = JSON.parse(readFileSync(deploymentFile, "utf8"));

      // A proof for the gate (its context), and the epoch's market root published on the oracle.
      const out = path.join(dir, "bound-gate");
      const proved = await zksAsync(["prove", "health", ...inputs("position-healthy.json"), "--out", out, "--context", deployment.contexts.RebalanceGate]);
      assert.equal(proved.code, 0, proved.stderr);
      const proofFile = path.join(out, "proof.json");
      const { file } = parseProofFile(readJsonFile(proofFile), proofFile);
      const provider = new JsonRpcProvider(url, undefined, { staticNetwork: true });
      try {
        const publisher = new Wallet(hardhatKey(0), provider);
        const oracle = new Contract(deployment.contracts.MarketOracle, MARKET_ORACLE_ABI, publisher);
        const latest = (await provider.getBlock("latest"))!;
        await (await oracle.getFunction("publish")(42n, BigInt(file.zks.named.marketRoot!), BigInt(latest.timestamp))).wait();

        const submitArgs = ["submit", "--proof", proofFile, "--deployment", deploymentFile, "--for", "register", "--epoch", "42", "--rpc", url];
        // From the wrong account: the gate's NotAccount error, by name.
        const wrongSender = await zksAsync(submitArgs, { ZKS_PRIVATE_KEY: hardhatKey(2) });
        assert.equal(wrongSender.code, 1, wrongSender.stderr);
        assert.match(wrongSender.stderr.trim().split("\n").at(-1)!, /^zks: RebalanceGate\.register reverted: RebalanceGate__NotAccount\(/);

        const submitted = await zksAsync([...submitArgs, "--json"], { ZKS_PRIVATE_KEY: hardhatKey(1) });
        assert.equal(submitted.code, 0, submitted.stderr);
        const receipt = JSON.parse(submitted.stdout);
        assert.match(receipt.transaction, /^0x[0-9a-f]{64}$/);
        assert.ok(Number(receipt.gasUsed) > 100_000);
        const gate = new Contract(deployment.contracts.RebalanceGate, REBALANCE_GATE_ABI, provider);
        assert.equal(await gate.getFunction("commitmentOf")("0x70997970C51812dc3A010C7d01b50e0d17dc79C8"), BigInt(file.zks.named.commitment!));

        // The same proof again: already registered.
        const again = await zksAsync(submitArgs, { ZKS_PRIVATE_KEY: hardhatKey(1) });
        assert.equal(again.code, 1);
        assert.match(again.stderr, /RebalanceGate__AlreadyRegistered\(0x70997970C51812dc3A010C7d01b50e0d17dc79C8\)/);
        assert.doesNotMatch(again.stderr, /\bat .+:\d+:\d+/);

        // An off-chain proof (context 0) as an audit claim: the registry's WrongContext.
        const claim = await zksAsync(["submit", "--proof", path.join(healthy, "proof.json"), "--deployment", deploymentFile, "--for", "recordClaim", "--rpc", url], { ZKS_PRIVATE_KEY: hardhatKey(1) });
        assert.equal(claim.code, 1);
        assert.match(claim.stderr, /AuditRegistry\.recordClaim reverted: AuditRegistry__WrongContext\(\)/);
      } finally {
        provider.destroy();
      }
    });
  });
});
