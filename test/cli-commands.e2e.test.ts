import { zksAsync as runZksAsync } from "./helpers/cli.ts";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Contract, HDNodeWallet, JsonRpcProvider, NonceManager, Wallet, type Signer } from "ethers";
import * as snarkjs from "snarkjs";
import { ERC20_ABI, MARKET_ORACLE_ABI, REBALANCE_GATE_ABI } from "../packages/sdk/src/chain/abi.ts";
import { encodeRecordClaim } from "../packages/sdk/src/chain/calldata.ts";
import { marketRoot } from "../packages/sdk/src/commitment/market-root.ts";
import { commitPosition } from "../packages/sdk/src/commitment/position-commitment.ts";
import { keeperPublicKeyFileJson } from "../packages/sdk/src/encryption/keeper-key.ts";
import { decryptOpening } from "../packages/sdk/src/encryption/opening-cipher.ts";
import { parsePosition } from "../packages/sdk/src/inputs/parse-position.ts";
import type { Position } from "../packages/sdk/src/inputs/types.ts";
import { positionToJson } from "../packages/sdk/src/inputs/position-file.ts";
import { loadInstanceArtifacts } from "../packages/node/src/artifacts.ts";
import { readJsonFile } from "../packages/node/src/read-json.ts";
import { writeProofFiles } from "../packages/node/src/write-proof.ts";
import { parseProofFile, toProofFile } from "../packages/sdk/src/proof-file/proof-file.ts";
import { generateProof } from "../packages/sdk/src/prover/prove.ts";
import { releaseProverThreads } from "../packages/sdk/src/prover/release.ts";
import { rebalanceInput } from "../packages/sdk/src/prover/witness/rebalance.ts";
import { solvencyInput } from "../packages/sdk/src/prover/witness/solvency.ts";
import { emptyPosition, noMovements, type Movements } from "../packages/sdk/src/rebalance/transition.ts";
import { PACKAGE_ROOT } from "../packages/node/src/setup/paths.ts";
import { LAYOUT, transitionOf, USDC, WETH } from "./helpers/contracts-fixtures.ts";
import { example, loadMarket, loadPolicy } from "./helpers/examples.ts";
import { OTHER_KEEPER, TEST_KEEPER } from "./helpers/keeper-key.ts";
import { HARDHAT_MNEMONIC, startLocalNode, type LocalNode } from "./helpers/local-node.ts";

const ZKS = path.join(PACKAGE_ROOT, "packages", "cli", "bin", "zks.js");
const hardhatKey = (index: number) => HDNodeWallet.fromPhrase(HARDHAT_MNEMONIC, undefined, `m/44'/60'/0'/0/${index}`).privateKey;

function zks(args: string[], env: NodeJS.ProcessEnv = {}) {
  const result = spawnSync(process.execPath, [ZKS, ...args], { encoding: "utf8", env: { ...process.env, ZKS_DEBUG: "", ...env }, maxBuffer: 16 << 20 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** Async variant: the parent's event loop keeps running (needed while a hardhat node is a child). */
function zksAsync(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return runZksAsync(args, env);
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
  /** The keeper's public-key file every deployment here is made with (TEST_KEEPER). */
  let keeperKeyFile: string;
  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), "zks-cli-commands-"));
    healthy = path.join(dir, "healthy");
    keeperKeyFile = path.join(dir, "keeper.pub.json");
    writeFileSync(keeperKeyFile, keeperPublicKeyFileJson(TEST_KEEPER.publicKey));
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
      const result = zks([
        "prove",
        "audit",
        ...inputs("position-healthy.json"),
        "--out",
        out,
        "--chain-id",
        "31337",
        "--contract",
        "0x0165878A594ca255338adfa4d48449f69242Eb8F",
        "--json",
      ]);
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
      assert.deepEqual(
        JSON.parse(json.stdout).failing.map((f: { check: string }) => f.check),
        ["stress", "historicalVar"],
      );
    });

    it("`prove rebalance` runs `zks rebalance` (plans with --allow, writes the new position and a Rebalance proof)", function () {
      const allow = path.join(dir, "allow.json");
      writeFileSync(allow, JSON.stringify({ version: 1, wallet: { USDC: "20000" }, sellable: ["WETH", "WBTC"], tradable: [], maxActions: 4 }));
      const out = path.join(dir, "rebalanced");
      const result = zks(["prove", "rebalance", ...inputs("position-at-risk.json"), "--out", out, "--allow", allow, "--keeper-key", keeperKeyFile, "--json"]);
      assert.equal(result.code, 0, result.stderr);
      const json = JSON.parse(result.stdout);
      assert.equal(json.instance, "rebalance-3x3x16");
      assert.equal(BigInt(json.publicSignals["keeperKey[0]"]), TEST_KEEPER.publicKey[0]);
      assert.deepEqual(json.pass, { before: false, after: true });
      assert.ok(existsSync(path.join(out, "position.json")));
      const verified = zks(["verify", "--proof", path.join(out, "proof.json")]);
      assert.equal(verified.code, 0, verified.stderr);
      assert.match(verified.stdout, /VALID: rebalance proof/);
      const calldata = JSON.parse(zks(["calldata", "--proof", path.join(out, "proof.json"), "--for", "rebalance", "--epoch", "42", "--json"]).stdout);
      // 32 signals before enforcement, then liquidation, urgent, liquidator, liquidationBonus, bonus[3], keeperKey[2], ephemeralKey[2], ciphertext[7].
      assert.equal(calldata.input.length, 50);
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
      const keyed = zks(["prove", "health", ...inputs("position-healthy.json"), "--out", path.join(dir, "x"), "--keeper-key", keeperKeyFile]);
      assert.equal(keyed.code, 2);
      assertOneLineError(keyed.stderr, /--keeper-key: is for `zks prove rebalance`, not health/);
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

      const withCall = zks(["calldata", "--proof", proofFile, "--for", "recordClaim", "--epoch", "42", "--json"]);
      assert.equal(withCall.code, 0, withCall.stderr);
      const { zkProof } = parseProofFile(readJsonFile(proofFile), proofFile);
      assert.deepEqual(JSON.parse(withCall.stdout).call, { function: "recordClaim", contract: "AuditRegistry", epoch: "42", data: encodeRecordClaim(42n, zkProof) });

      // register and rebalance take Rebalance proofs (a registration is a proven deposit, docs/custody.md).
      for (const fn of ["register", "rebalance"]) {
        const wrong = zks(["calldata", "--proof", proofFile, "--for", fn]);
        assert.equal(wrong.code, 2);
        assertOneLineError(wrong.stderr, /not a Rebalance proof/);
      }
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
      const declared = Object.keys(JSON.parse(readFileSync(path.join(PACKAGE_ROOT, "packages", "circuits", "instances.json"), "utf8")).instances);
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
      const result = zks(["deploy", "--rpc", "http://127.0.0.1:1", "--policy-hash", "1", "--test-tokens", "--keeper-key", keeperKeyFile], { ZKS_PRIVATE_KEY: hardhatKey(0) });
      assert.equal(result.code, 3);
      assertOneLineError(result.stderr, /cannot reach the JSON-RPC endpoint http:\/\/127\.0\.0\.1:1/);
    });

    it("deploys in-process (a dry run) and writes the deployments file; bad usage is exit 2", function () {
      const out = path.join(dir, "in-process.json");
      const result = zks([
        "deploy",
        "--policy",
        example("policy.json"),
        "--market",
        example("market-grid.json"),
        "--test-tokens",
        "--keeper-key",
        keeperKeyFile,
        "--out",
        out,
        "--json",
      ]);
      assert.equal(result.code, 0, result.stderr);
      const printed = JSON.parse(result.stdout);
      assert.deepEqual(printed, JSON.parse(readFileSync(out, "utf8")));
      assert.equal(printed.network, "in-process");
      assert.deepEqual(
        printed.tokens.map((t: { symbol: string }) => t.symbol),
        ["WETH", "WBTC", "USDC"],
      );
      assert.deepEqual(printed.keeperKey, TEST_KEEPER.publicKey.map(String));

      const usage = zks(["deploy", "--policy-hash", "1", "--keeper-key", keeperKeyFile]);
      assert.equal(usage.code, 2);
      assertOneLineError(usage.stderr, /exactly one of --tokens/);
      const keyless = zks(["deploy", "--policy-hash", "1", "--test-tokens"]);
      assert.equal(keyless.code, 2);
      assertOneLineError(keyless.stderr, /--keeper-key: missing/);
    });

    it("submit to an unreachable RPC URL ends in one line, exit 3; an in-process deployment is refused (exit 2)", function () {
      const deployment = path.join(dir, "unreachable.json");
      const file = JSON.parse(readFileSync(path.join(dir, "in-process.json"), "utf8"));
      writeFileSync(deployment, JSON.stringify({ ...file, network: "json-rpc" }));
      const args = ["submit", "--proof", path.join(healthy, "proof.json"), "--for", "recordClaim", "--epoch", "42"];
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

    let deploymentFile: string;
    it("deploys; registers with a proven deposit (approving the gate first); refuses a transition it cannot back (exit 2, nothing sent); decodes reverts to named errors (exit 1)", async function () {
      deploymentFile = path.join(dir, "local.json");
      const deployed = await zksAsync(
        [
          "deploy",
          "--rpc",
          url,
          "--policy",
          example("policy.json"),
          "--market",
          example("market-grid.json"),
          "--test-tokens",
          "--test-lenders",
          "USDC",
          "--keeper-key",
          keeperKeyFile,
          "--out",
          deploymentFile,
        ],
        { ZKS_PRIVATE_KEY: hardhatKey(0) },
      );
      assert.equal(deployed.code, 0, deployed.stderr);
      assert.match(deployed.stdout, /deployed to chain 31337 \(json-rpc\)/);
      const deployment = JSON.parse(readFileSync(deploymentFile, "utf8"));
      assert.equal(deployment.lenders[USDC].test, true);

      const market = loadMarket();
      const policy = loadPolicy(market);
      const artifacts = loadInstanceArtifacts("rebalance-3x3x16");
      const context = BigInt(deployment.contexts.RebalanceGate);
      const account = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"; // hardhat's account #1
      /** A proof of old -> old + m bound to the gate, written as a proof file; returns its path and the new position. */
      const proveFile = async (name: string, old: Position, m: Movements, salt: bigint) => {
        const t = transitionOf(old, m, salt);
        const zk = await generateProof(rebalanceInput(t, market, policy, LAYOUT, name, context, { keeperKey: TEST_KEEPER.publicKey }), artifacts);
        const out = path.join(dir, name);
        writeProofFiles(out, toProofFile(zk, { statement: t.fromEmpty ? "register" : "rebalance", epoch: market.epoch, manifest: artifacts.manifest }));
        return { proofFile: path.join(out, "proof.json"), next: t.next };
      };
      const registration = noMovements(market);
      registration.flows[WETH] = 10n ** 18n; // deposit 1 WETH
      const registered = await proveFile("register", emptyPosition(account, market), registration, 7n);

      const provider = new JsonRpcProvider(url, undefined, { staticNetwork: true });
      try {
        // NonceManager: the provider's short cache of the nonce would hand consecutive transactions the same one.
        const owner = new NonceManager(new Wallet(hardhatKey(0), provider));
        const oracle = new Contract(deployment.contracts.MarketOracle, MARKET_ORACLE_ABI, owner);
        const latest = (await provider.getBlock("latest"))!;
        await (await oracle.getFunction("publish")(42n, marketRoot(market, LAYOUT), BigInt(latest.timestamp))).wait();
        const token = (i: number, signer: Signer = owner) => new Contract(deployment.tokens[i].address, [...ERC20_ABI, "function mint(address to, uint256 amount)"], signer);
        const submitArgs = (proof: string, fn: string) => ["submit", "--proof", proof, "--deployment", deploymentFile, "--for", fn, "--epoch", "42", "--rpc", url];

        // The wallet does not hold the WETH yet: refused before sending, one line, exit 2.
        const poor = await zksAsync(submitArgs(registered.proofFile, "register"), { ZKS_PRIVATE_KEY: hardhatKey(1) });
        assert.equal(poor.code, 2, poor.stderr);
        assertOneLineError(poor.stderr, /^zks: the transition cannot be backed: deposit of 1 WETH exceeds the wallet's balance \(0 WETH\); nothing sent$/);
        await (await token(WETH).getFunction("mint")(account, 10n ** 18n)).wait();
        await (await token(USDC).getFunction("mint")(account, 1_000n * 10n ** 6n)).wait();

        // From the wrong account: the gate's NotAccount error, by name.
        const wrongSender = await zksAsync(submitArgs(registered.proofFile, "register"), { ZKS_PRIVATE_KEY: hardhatKey(2) });
        assert.equal(wrongSender.code, 1, wrongSender.stderr);
        assert.match(wrongSender.stderr.trim().split("\n").at(-1)!, /^zks: RebalanceGate\.register reverted: RebalanceGate__NotAccount\(/);
        // A registration is not a rebalance.
        const notRebalance = await zksAsync(submitArgs(registered.proofFile, "rebalance"), { ZKS_PRIVATE_KEY: hardhatKey(1) });
        assert.equal(notRebalance.code, 2);
        assertOneLineError(notRebalance.stderr, /starts from the empty position .* use --for register/);

        // The account registers: submit approves the gate for the 1 WETH deposit, then sends.
        const submitted = await zksAsync([...submitArgs(registered.proofFile, "register"), "--json"], { ZKS_PRIVATE_KEY: hardhatKey(1) });
        assert.equal(submitted.code, 0, submitted.stderr);
        const receipt = JSON.parse(submitted.stdout);
        assert.match(receipt.transaction, /^0x[0-9a-f]{64}$/);
        assert.ok(Number(receipt.gasUsed) > 400_000);
        const gate = new Contract(deployment.contracts.RebalanceGate, REBALANCE_GATE_ABI, provider);
        assert.equal(await gate.getFunction("commitmentOf")(account), commitPosition(registered.next, registered.next.salt!, LAYOUT));
        assert.equal(await token(WETH).getFunction("balanceOf")(deployment.contracts.RebalanceGate), 10n ** 18n);
        assert.equal(await token(WETH).getFunction("balanceOf")(account), 0n);

        // The same proof again: already registered.
        const again = await zksAsync(submitArgs(registered.proofFile, "register"), { ZKS_PRIVATE_KEY: hardhatKey(1) });
        assert.equal(again.code, 1);
        assert.match(again.stderr, /RebalanceGate__AlreadyRegistered\(0x70997970C51812dc3A010C7d01b50e0d17dc79C8\)/);
        assert.doesNotMatch(again.stderr, /\bat .+:\d+:\d+/);

        // A valid proof withdrawing 5 WETH from another opening of the account (10 WETH the gate never saw):
        // the position file says what this position holds; without it, the gate's whole balance bounds it.
        const positionFile = path.join(dir, "registered-position.json");
        writeFileSync(positionFile, JSON.stringify(positionToJson(registered.next, market)));
        const inflated = { ...registered.next, collateral: [10n * 10n ** 18n, 0n, 0n] };
        const five = noMovements(market);
        five.flows[WETH] = -5n * 10n ** 18n;
        const held = (await gate.getFunction("commitmentOf")(account)) as bigint;
        const greedy = await proveFile("greedy", inflated, five, 8n);
        const refused = await zksAsync([...submitArgs(greedy.proofFile, "rebalance"), "--position", positionFile, "--market", example("market-grid.json")], {
          ZKS_PRIVATE_KEY: hardhatKey(1),
        });
        assert.equal(refused.code, 2, refused.stderr);
        assertOneLineError(refused.stderr, /^zks: the transition cannot be backed: withdrawal of 5 WETH exceeds what this position holds \(1 WETH\); nothing sent$/);
        const refusedBare = await zksAsync(submitArgs(greedy.proofFile, "rebalance"), { ZKS_PRIVATE_KEY: hardhatKey(1) });
        assert.equal(refusedBare.code, 2, refusedBare.stderr);
        assertOneLineError(refusedBare.stderr, /withdrawal of 5 WETH exceeds what the gate holds in all \(1 WETH\)/);
        assert.equal(await gate.getFunction("commitmentOf")(account), held, "nothing was sent");

        // A backed rebalance: withdraw 0.5 WETH and deposit 1,000 USDC (approved by submit).
        const move = noMovements(market);
        move.flows[WETH] = -(10n ** 18n) / 2n;
        move.flows[USDC] = 1_000n * 10n ** 6n;
        const rebalanced = await proveFile("rebalanced", registered.next, move, 9n);
        const ok = await zksAsync([...submitArgs(rebalanced.proofFile, "rebalance"), "--position", positionFile, "--market", example("market-grid.json")], {
          ZKS_PRIVATE_KEY: hardhatKey(1),
        });
        assert.equal(ok.code, 0, ok.stderr);
        assert.match(ok.stderr, /approving the gate for the deposit of 1,000 USDC/);
        assert.match(ok.stdout, /OK: RebalanceGate\.rebalance mined in block \d+/);
        assert.notEqual(await gate.getFunction("commitmentOf")(account), held, "the gate holds the rebalanced position's commitment");
        assert.equal(await token(WETH).getFunction("balanceOf")(account), 10n ** 18n / 2n);
        assert.equal(await token(USDC).getFunction("balanceOf")(deployment.contracts.RebalanceGate), 1_000n * 10n ** 6n);

        // An audit claim about the position the gate now holds: off-chain (context 0) the registry's
        // WrongContext; bound to the registry, recorded.
        const solvency = loadInstanceArtifacts("solvency-3x3x16");
        const claimFile = async (name: string, claimContext: bigint) => {
          const zk = await generateProof(solvencyInput(rebalanced.next, market, policy, LAYOUT, name, claimContext), solvency);
          writeProofFiles(path.join(dir, name), toProofFile(zk, { statement: "audit", epoch: market.epoch, manifest: solvency.manifest }));
          return path.join(dir, name, "proof.json");
        };
        const claimArgs = (proof: string) => ["submit", "--proof", proof, "--deployment", deploymentFile, "--for", "recordClaim", "--rpc", url];
        const offChain = await zksAsync(claimArgs(await claimFile("claim-off-chain", 0n)), { ZKS_PRIVATE_KEY: hardhatKey(2) });
        assert.equal(offChain.code, 1, offChain.stderr);
        assert.match(offChain.stderr, /AuditRegistry\.recordClaim reverted: AuditRegistry__WrongContext\(\)/);
        const recorded = await zksAsync(claimArgs(await claimFile("claim", BigInt(deployment.contexts.AuditRegistry))), { ZKS_PRIVATE_KEY: hardhatKey(2) });
        assert.equal(recorded.code, 0, recorded.stderr);
        assert.match(recorded.stdout, /OK: AuditRegistry\.recordClaim mined/);
      } finally {
        provider.destroy();
      }
    });

    it("zks register takes the keeper key from the deployments file and the gate; after a rotation a stale deployments file, and a proof under the old key, are refused (exit 2, nothing sent)", async function () {
      const market = loadMarket();
      const provider = new JsonRpcProvider(url, undefined, { staticNetwork: true });
      try {
        const deployment = JSON.parse(readFileSync(deploymentFile, "utf8"));
        const owner = new NonceManager(new Wallet(hardhatKey(0), provider));
        const gate = new Contract(deployment.contracts.RebalanceGate, REBALANCE_GATE_ABI, owner);
        const weth = new Contract(deployment.tokens[WETH].address, [...ERC20_ABI, "function mint(address to, uint256 amount)"], owner);
        /** A 1 WETH position of hardhat's account `index`, unregistered (nonce 0). */
        const positionOf = (index: number) => {
          const file = path.join(dir, `account-${index}.json`);
          const account = new Wallet(hardhatKey(index)).address;
          writeFileSync(file, JSON.stringify({ version: 1, account, nonce: 0, collateral: { WETH: "1" }, debt: {}, derivatives: {} }));
          return { file, account };
        };
        const register = (index: number, out: string, ...key: string[]) =>
          zksAsync([
            "register",
            "--position",
            positionOf(index).file,
            "--market",
            example("market-grid.json"),
            "--policy",
            example("policy.json"),
            "--out",
            path.join(dir, out),
            ...key,
            "--json",
          ]);
        const submit = (out: string, index: number) =>
          zksAsync(["submit", "--proof", path.join(dir, out, "proof.json"), "--deployment", deploymentFile, "--for", "register", "--rpc", url], {
            ZKS_PRIVATE_KEY: hardhatKey(index),
          });
        const mint = async (account: string) => (await weth.getFunction("mint")(account, 10n ** 18n)).wait();

        // Both sources agree (the gate's key is the deployment's): the proof is bound to the gate and encrypted to its key.
        const three = positionOf(3);
        const agreed = await register(3, "register-3", "--deployment", deploymentFile, "--rpc", url);
        assert.equal(agreed.code, 0, agreed.stderr);
        const summary = JSON.parse(agreed.stdout);
        assert.deepEqual(summary.keeperKey.sources, [`${deploymentFile} (keeperKey)`, `gate ${deployment.contracts.RebalanceGate} keeperKey() (generation 1)`]);
        assert.equal(BigInt(summary.publicSignals.context), BigInt(deployment.contexts.RebalanceGate));
        await mint(three.account);
        const sent = await submit("register-3", 3);
        assert.equal(sent.code, 0, sent.stderr);
        // The gate published the opening; the keeper's secret reads it back as the committed position.
        const [event] = await gate.queryFilter(gate.filters.OpeningEncrypted!(three.account));
        const [, commitment, nonce, keyGeneration, ephemeralKey, ciphertext] = (event as unknown as { args: [string, bigint, bigint, bigint, bigint[], bigint[]] }).args;
        assert.equal(keyGeneration, 1n);
        const opened = decryptOpening(
          { account: three.account, nonce, commitment, ephemeralKey: [ephemeralKey[0]!, ephemeralKey[1]!], ciphertext: [...ciphertext] },
          TEST_KEEPER.secret,
          market,
          LAYOUT,
        );
        const written = parsePosition(readJsonFile(path.join(dir, "register-3", "position.json")), "register-3/position.json", market);
        assert.deepEqual(opened, written);

        // A contract that is not a gate with keeper keys (the oracle): one line, exit 2, before proving.
        const notGate = await register(5, "register-5", "--rpc", url, "--contract", deployment.contracts.MarketOracle);
        assert.equal(notGate.code, 2, notGate.stderr);
        assertOneLineError(
          notGate.stderr,
          new RegExp(`^zks: --rpc: ${deployment.contracts.MarketOracle} on chain 31337 has no keeperKey\\(\\): not a RebalanceGate with keeper keys$`),
        );

        // A proof made now for account 4, then governance rotates the key (generation 2).
        const stale = await register(4, "register-4-stale", "--deployment", deploymentFile);
        assert.equal(stale.code, 0, stale.stderr);
        await (await gate.getFunction("setKeeperKey")(...OTHER_KEEPER.publicKey)).wait();
        const shown = (p: readonly bigint[]) => `\\(${p[0]}, ${p[1]}\\)`;

        // The deployments file still names generation 1's key: refused, both sources named, before proving.
        const disagree = await register(4, "register-4-disagree", "--deployment", deploymentFile, "--rpc", url);
        assert.equal(disagree.code, 2, disagree.stderr);
        assertOneLineError(
          disagree.stderr,
          new RegExp(
            `local\\.json \\(keeperKey\\): keeper key ${shown(TEST_KEEPER.publicKey)} differs from gate ${deployment.contracts.RebalanceGate} keeperKey\\(\\) \\(generation 2\\)'s ${shown(OTHER_KEEPER.publicKey)}`,
          ),
        );
        assert.equal(existsSync(path.join(dir, "register-4-disagree")), false);

        // The proof under the old key: submit refuses it before sending (the gate would revert WrongKeeperKey).
        await mint(positionOf(4).account);
        const refused = await submit("register-4-stale", 4);
        assert.equal(refused.code, 2, refused.stderr);
        assertOneLineError(
          refused.stderr,
          new RegExp(
            `proof\\.json: zks\\.named\\.keeperKey: the proof encrypts the opening to keeper key ${shown(TEST_KEEPER.publicKey)}, but the gate's current key \\(generation 2\\) is ${shown(OTHER_KEEPER.publicKey)}: prove again .*; nothing sent$`,
          ),
        );
        assert.equal(await gate.getFunction("isRegistered")(positionOf(4).account), false);

        // From the gate alone (--rpc with --contract: the context on the endpoint's chain): proven under generation 2 and accepted.
        const fresh = await register(4, "register-4", "--rpc", url, "--contract", deployment.contracts.RebalanceGate);
        assert.equal(fresh.code, 0, fresh.stderr);
        assert.equal(BigInt(JSON.parse(fresh.stdout).publicSignals["keeperKey[0]"]), OTHER_KEEPER.publicKey[0]);
        const accepted = await submit("register-4", 4);
        assert.equal(accepted.code, 0, accepted.stderr);
        assert.equal(await gate.getFunction("keyGenerationOf")(positionOf(4).account), 2n);
        assert.equal(await gate.getFunction("keyGenerationOf")(three.account), 1n, "a position re-encrypts only on its next transition");
        assert.equal(await gate.getFunction("positionsUnderKey")(2n), 1n);

        // A keeper's liquidation proof is not for register or rebalance (the gate's WrongMode): refused before encoding.
        const file = JSON.parse(readFileSync(path.join(dir, "register-4", "proof.json"), "utf8"));
        file.zks.named.liquidation = `0x${"0".repeat(63)}1`;
        const tampered = path.join(dir, "liquidation-proof.json");
        writeFileSync(tampered, JSON.stringify(file));
        const calldata = zks(["calldata", "--proof", tampered, "--for", "rebalance"]);
        assert.equal(calldata.code, 2, calldata.stderr);
        assertOneLineError(
          calldata.stderr,
          /liquidation-proof\.json: zks\.named\.liquidation: a keeper's liquidation proof \(liquidation = 1\): the gate takes it with flagBelowTrigger or liquidate/,
        );
      } finally {
        provider.destroy();
      }
    });
  });
});
