import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { Contract, JsonRpcProvider, Wallet } from "ethers";
import { MARKET_ORACLE_ABI, REBALANCE_GATE_ABI, AUDIT_REGISTRY_ABI } from "../packages/sdk/src/chain/abi.ts";
import { LENDER_VAULT_ABI } from "../packages/sdk/src/chain/lender.ts";
import { UNISWAP_V2_FACTORY_ABI } from "../packages/sdk/src/chain/uniswap-v2.ts";
import { gateContext } from "../packages/sdk/src/chain/context.ts";
import { policyHash } from "../packages/sdk/src/commitment/policy-hash.ts";
import { demoKeeperKey } from "../packages/cli/src/demo/run.ts";
import { keeperKeyFileJson, keeperPublicKeyFileJson } from "../packages/sdk/src/encryption/keeper-key.ts";
import { PACKAGE_ROOT } from "../packages/node/src/setup/paths.ts";
import type { Deployment } from "../scripts/deploy.ts";
import { example, loadMarket, loadPolicy } from "./helpers/examples.ts";
import { OTHER_KEEPER, TEST_KEEPER } from "./helpers/keeper-key.ts";
import { HARDHAT_MNEMONIC, startLocalNode, type LocalNode } from "./helpers/local-node.ts";

const run = promisify(execFile);
const DEPLOY = path.join(PACKAGE_ROOT, "scripts", "deploy.ts");

const deployScript = (args: string[], env: NodeJS.ProcessEnv = {}) =>
  run(process.execPath, ["--import", "tsx", DEPLOY, ...args], { cwd: PACKAGE_ROOT, env: { ...process.env, ...env }, maxBuffer: 16 << 20 });

describe("scripts/deploy.ts", function () {
  let dir: string;
  let node: LocalNode;
  let url: string;
  /** The keeper's public-key file and another keeper's key file (secret and public half). */
  let publicKeyFile: string, keyFile: string;

  before(async function () {
    dir = mkdtempSync(path.join(tmpdir(), "zks-deploy-"));
    publicKeyFile = path.join(dir, "keeper.pub.json");
    writeFileSync(publicKeyFile, keeperPublicKeyFileJson(TEST_KEEPER.publicKey));
    keyFile = path.join(dir, "other-keeper.json");
    writeFileSync(keyFile, keeperKeyFileJson(OTHER_KEEPER), { mode: 0o600 });
    node = await startLocalNode();
    url = node.url;
  });

  after(async function () {
    await node?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("deploys verifiers, oracle, gate (fresh test tokens, option tokens, a USDC lender, a Uniswap v2 factory, the keeper key, default liquidation terms) and registry to a local `hardhat node` over JSON-RPC and writes the addresses", async function () {
    const out = path.join(dir, "local.json");
    const key = Wallet.fromPhrase(HARDHAT_MNEMONIC).privateKey;
    const { stdout } = await deployScript(
      ["--rpc", url, "--test-tokens", "--test-lenders", "USDC", "--lender-rate", "1585489599", "--policy", example("policy.json"), "--market", example("market-grid.json"), "--freshness", "7200", "--keeper-key", publicKeyFile, "--out", out],
      { ZKS_PRIVATE_KEY: key },
    );
    assert.match(stdout, /deployed to chain 31337 \(json-rpc\)/);
    assert.doesNotMatch(stdout, new RegExp(key.slice(2)));
    const deployment = JSON.parse(readFileSync(out, "utf8")) as Deployment;
    assert.equal(deployment.network, "json-rpc");
    assert.equal(deployment.chainId, "31337");
    assert.deepEqual(deployment.tokens.map((t) => t.symbol), ["WETH", "WBTC", "USDC"]);
    assert.deepEqual(deployment.verifierContracts, { solvency: "Solvency3x3x16Verifier", rebalance: "Rebalance3x3x16Verifier" });

    const provider = new JsonRpcProvider(url, undefined, { staticNetwork: true });
    try {
      for (const [name, at] of Object.entries(deployment.contracts)) assert.notEqual(await provider.getCode(at), "0x", `${name} has code`);
      const market = loadMarket();
      const gate = new Contract(deployment.contracts.RebalanceGate, REBALANCE_GATE_ABI, provider);
      const registry = new Contract(deployment.contracts.AuditRegistry, AUDIT_REGISTRY_ABI, provider);
      const oracle = new Contract(deployment.contracts.MarketOracle, MARKET_ORACLE_ABI, provider);
      assert.equal(await gate.getFunction("policyHash")(), policyHash(loadPolicy(market)));
      assert.equal(BigInt(deployment.policyHash), policyHash(loadPolicy(market)));
      assert.equal(await gate.getFunction("nAssets")(), 3n);
      for (const t of deployment.tokens) assert.equal(await gate.getFunction("tokenOf")(t.slot), t.address);
      assert.equal(await gate.getFunction("context")(), gateContext(31337n, deployment.contracts.RebalanceGate));
      assert.equal(deployment.contexts.RebalanceGate, gateContext(31337n, deployment.contracts.RebalanceGate).toString());
      assert.equal(await registry.getFunction("gate")(), deployment.contracts.RebalanceGate);
      assert.equal(await oracle.getFunction("freshnessWindow")(), 7200n);
      assert.equal(await oracle.getFunction("isPublisher")(deployment.deployer), true);
      assert.equal(await oracle.getFunction("owner")(), deployment.deployer);
      // Custody (docs/custody.md): option tokens per instrument, the lender (the gate its only borrower), the v2 factory, the swap slots.
      assert.equal(await gate.getFunction("nInstruments")(), 3n);
      assert.deepEqual(deployment.instrumentTokens.map((t) => t.id), market.instruments.map((k) => k.id));
      for (const t of deployment.instrumentTokens) {
        assert.equal(t.test, true);
        assert.equal(await gate.getFunction("instrumentTokenOf")(t.slot), t.address);
      }
      assert.deepEqual(deployment.lenders.map((l) => l.test), [false, false, true]);
      for (const l of deployment.lenders) assert.equal(await gate.getFunction("lenderOf")(l.slot), l.address);
      const lender = new Contract(deployment.lenders[2]!.address, LENDER_VAULT_ABI, provider);
      assert.equal(await lender.getFunction("borrower")(), deployment.contracts.RebalanceGate);
      assert.equal(await lender.getFunction("asset")(), deployment.tokens[2]!.address);
      assert.equal(await lender.getFunction("ratePerSecond")(), 1585489599n);
      assert.equal(deployment.uniswapV2Factory.test, true);
      assert.equal(await gate.getFunction("factory")(), deployment.uniswapV2Factory.address);
      assert.equal(await new Contract(deployment.uniswapV2Factory.address, UNISWAP_V2_FACTORY_ABI, provider).getFunction("allPairsLength")(), 0n);
      assert.equal(deployment.nSwaps, 2);
      assert.equal(await gate.getFunction("nSwaps")(), 2n);
      assert.equal(await gate.getFunction("rebalanceSignalCount")(), 50n);
      // Enforcement (docs/enforcement.md): the keeper key of generation 1 and the default terms, on the chain and in the file.
      assert.deepEqual([...(await gate.getFunction("keeperKey")())], [...TEST_KEEPER.publicKey]);
      assert.equal(await gate.getFunction("keyGeneration")(), 1n);
      assert.equal(await gate.getFunction("liquidationBonus")(), 500n);
      assert.equal(await gate.getFunction("liquidationWindow")(), 3600n);
      assert.deepEqual(
        [deployment.keeperKey, deployment.keyGeneration, deployment.liquidationBonus, deployment.liquidationWindow],
        [TEST_KEEPER.publicKey.map(String), "1", "500", "3600"],
      );
      assert.match(stdout, /keeper key \(generation 1\) x = \d+, y = \d+; liquidation bonus 500 bps, grace window 3600 s/);
    } finally {
      provider.destroy();
    }
  });

  it("deploys to hardhat's in-process network by default, with given token and factory addresses (0x0 for a slot without one)", async function () {
    const out = path.join(dir, "in-process.json");
    const tokens = ["0x0000000000000000000000000000000000000001", "0x0", "0x0000000000000000000000000000000000000003"];
    const factory = "0x0000000000000000000000000000000000000005";
    // A key file (secret and public half) works too: only its public half is used, checked against the secret.
    const { stdout } = await deployScript(["--policy-hash", "12345", "--tokens", tokens.join(","), "--factory", factory, "--keeper-key", keyFile, "--liquidation-bonus", "750", "--liquidation-window", "0", "--out", out]);
    assert.doesNotMatch(stdout, new RegExp(OTHER_KEEPER.secret.toString(16)));
    const deployment = JSON.parse(readFileSync(out, "utf8")) as Deployment;
    assert.equal(deployment.network, "in-process");
    assert.equal(deployment.policyHash, "12345");
    assert.deepEqual(
      deployment.tokens.map((t) => t.address),
      [tokens[0], "0x0000000000000000000000000000000000000000", tokens[2]],
    );
    assert.deepEqual(deployment.uniswapV2Factory, { address: factory, test: false });
    assert.ok(deployment.lenders.every((l) => l.address === "0x0000000000000000000000000000000000000000"));
    assert.ok(deployment.instrumentTokens.every((t) => t.address === "0x0000000000000000000000000000000000000000"));
    assert.deepEqual([deployment.keeperKey, deployment.liquidationBonus, deployment.liquidationWindow], [OTHER_KEEPER.publicKey.map(String), "750", "0"]);
    assert.equal(JSON.stringify(deployment).includes(OTHER_KEEPER.secret.toString()), false, "the deployments file holds no secret");
  });

  it("refuses bad usage with exit status 2 and a message (no policy, wrong token count, no factory, a lender without a token, a key without --rpc, keeper keys and liquidation terms)", async function () {
    // Keeper key files that must not reach a gate: a corrupt key file (public half not the
    // secret's), a public key off the curve, one outside the prime subgroup, not JSON.
    const corrupt = path.join(dir, "corrupt.json");
    writeFileSync(corrupt, keeperKeyFileJson({ secret: OTHER_KEEPER.secret, publicKey: TEST_KEEPER.publicKey }));
    const offCurve = path.join(dir, "off-curve.pub.json");
    writeFileSync(offCurve, keeperPublicKeyFileJson([TEST_KEEPER.publicKey[0], TEST_KEEPER.publicKey[1] + 1n]));
    const orderTwo = path.join(dir, "order-two.pub.json");
    writeFileSync(orderTwo, JSON.stringify({ version: 1, kind: "zks-keeper-public-key", publicKey: ["0", (21888242871839275222246405745257275088548364400416034343698204186575808495617n - 1n).toString()] }));
    const notJson = path.join(dir, "not-json.json");
    writeFileSync(notJson, "keeper");
    const base = ["--policy-hash", "1", "--test-tokens"];
    const withKey = [...base, "--keeper-key", publicKeyFile];
    // Keeper keys and terms are checked before any network: the in-process script says why (what
    // its command line prints with exit 2, as the two subprocess cases below show).
    const { main } = await import("../scripts/deploy.ts");
    for (const [args, message] of [
      [[...base, "--keeper-key", offCurve], /off-curve\.pub\.json: publicKey: the point is not on the Baby Jubjub curve/],
      [[...base, "--keeper-key", orderTwo], /order-two\.pub\.json: publicKey: the point is not in Baby Jubjub's prime-order subgroup/],
      [[...base, "--keeper-key", notJson], /not-json\.json: malformed JSON/],
      [[...base, "--keeper-key", path.join(dir, "missing.json")], /missing\.json: file not found/],
      [[...withKey, "--liquidation-bonus", "2001"], /--liquidation-bonus: basis points of the debt value repaid, an integer from 0 to 2000; got 2001/],
      [[...withKey, "--liquidation-window", "2592001"], /--liquidation-window: seconds, an integer from 0 to 2592000; got 2592001/],
      [[...withKey, "--liquidation-window", "1h"], /--liquidation-window: seconds, an integer from 0 to 2592000; got 1h/],
    ] as const) {
      await assert.rejects(main([...args]), (error: Error) => {
        assert.ok(["UsageError", "InputError"].includes(error.constructor.name), `${error.constructor.name}: ${error.message}`);
        assert.match(error.message, message);
        return true;
      });
    }
    for (const [args, message] of [
      [["--test-tokens", "--keeper-key", publicKeyFile], /needs a policy/],
      [["--policy-hash", "1", "--tokens", "0x0,0x0", "--factory", "0x0000000000000000000000000000000000000005", "--keeper-key", publicKeyFile], /2 addresses for 3 asset slots/],
      [["--policy-hash", "1", "--tokens", "0x0,0x0,0x0", "--keeper-key", publicKeyFile], /give --factory ADDR/],
      [[...withKey, "--test-lenders", "DAI"], /--test-lenders: no token for DAI/],
      [[...withKey, "--private-key", "0x01"], /--private-key is for --rpc/],
      [[...withKey, "--rpc", url], /needs a signing key/],
      [base, /give --keeper-key FILE/],
      [[...base, "--keeper-key", corrupt], /corrupt\.json: publicKey: does not match the secret/],
    ] as const) {
      await assert.rejects(deployScript([...args], { ZKS_PRIVATE_KEY: "" }), (error: { code?: number; stderr?: string }) => {
        assert.equal(error.code, 2, error.stderr);
        assert.match(error.stderr ?? "", message);
        return true;
      });
    }
  });

  it("on a chain other than 31337 and 1337 (a node posing as chain 1), refuses with exit 2 before any transaction: a grace window of 0, the demo's keeper key, a key file holding the keeper's secret", async function () {
    const mainnet = await startLocalNode(120_000, 1);
    try {
      const demoFile = path.join(dir, "demo.pub.json");
      writeFileSync(demoFile, keeperPublicKeyFileJson(demoKeeperKey().publicKey));
      const key = Wallet.fromPhrase(HARDHAT_MNEMONIC).privateKey;
      const base = ["--rpc", mainnet.url, "--policy-hash", "1", "--test-tokens"];
      for (const [args, message] of [
        [["--keeper-key", publicKeyFile, "--liquidation-window", "0"], /--liquidation-window: chain 1 is not a local chain \(31337, 1337\): a grace window of 0 lets a keeper flag a position and liquidate it in the next transaction/],
        [["--keeper-key", demoFile], /demo\.pub\.json: chain 1 is not a local chain \(31337, 1337\): this is the demo's keeper key, derived from a public seed/],
        [["--keeper-key", keyFile], /other-keeper\.json: chain 1 is not a local chain \(31337, 1337\): the file holds the keeper's secret; give its public-key file/],
      ] as const) {
        await assert.rejects(deployScript([...base, ...args], { ZKS_PRIVATE_KEY: key }), (error: { code?: number; stderr?: string }) => {
          assert.equal(error.code, 2, error.stderr);
          assert.match(error.stderr ?? "", message);
          return true;
        });
      }
      // Nothing was sent: the deployer's nonce on that chain is still 0.
      const provider = new JsonRpcProvider(mainnet.url, undefined, { staticNetwork: true });
      try {
        assert.equal(await provider.getTransactionCount(new Wallet(key).address), 0);
      } finally {
        provider.destroy();
      }
      // The same settings go to a local chain (the first test deploys the public-key file with the defaults; window 0 and a key file: the second).
    } finally {
      await mainnet.stop();
    }
  });
});
