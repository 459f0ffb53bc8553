import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { Contract, JsonRpcProvider, Wallet } from "ethers";
import { MARKET_ORACLE_ABI, REBALANCE_GATE_ABI, AUDIT_REGISTRY_ABI } from "../src/chain/abi.ts";
import { LENDER_VAULT_ABI } from "../src/chain/lender.ts";
import { UNISWAP_V2_FACTORY_ABI } from "../src/chain/uniswap-v2.ts";
import { gateContext } from "../src/chain/context.ts";
import { policyHash } from "../src/commitment/policy-hash.ts";
import { PACKAGE_ROOT } from "../src/setup/paths.ts";
import type { Deployment } from "../scripts/deploy.ts";
import { example, loadMarket, loadPolicy } from "./helpers/examples.ts";
import { HARDHAT_MNEMONIC, startLocalNode, type LocalNode } from "./helpers/local-node.ts";

const run = promisify(execFile);
const DEPLOY = path.join(PACKAGE_ROOT, "scripts", "deploy.ts");

const deployScript = (args: string[], env: NodeJS.ProcessEnv = {}) =>
  run(process.execPath, ["--import", "tsx", DEPLOY, ...args], { cwd: PACKAGE_ROOT, env: { ...process.env, ...env }, maxBuffer: 16 << 20 });

describe("scripts/deploy.ts", function () {
  let dir: string;
  let node: LocalNode;
  let url: string;

  before(async function () {
    dir = mkdtempSync(path.join(tmpdir(), "zks-deploy-"));
    node = await startLocalNode();
    url = node.url;
  });

  after(async function () {
    await node?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("deploys verifiers, oracle, gate (fresh test tokens, option tokens, a USDC lender, a Uniswap v2 factory) and registry to a local `hardhat node` over JSON-RPC and writes the addresses", async function () {
    const out = path.join(dir, "local.json");
    const key = Wallet.fromPhrase(HARDHAT_MNEMONIC).privateKey;
    const { stdout } = await deployScript(
      ["--rpc", url, "--test-tokens", "--test-lenders", "USDC", "--lender-rate", "1585489599", "--policy", example("policy.json"), "--market", example("market-grid.json"), "--freshness", "7200", "--out", out],
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
      assert.equal(await gate.getFunction("rebalanceSignalCount")(), 32n);
    } finally {
      provider.destroy();
    }
  });

  it("deploys to hardhat's in-process network by default, with given token and factory addresses (0x0 for a slot without one)", async function () {
    const out = path.join(dir, "in-process.json");
    const tokens = ["0x0000000000000000000000000000000000000001", "0x0", "0x0000000000000000000000000000000000000003"];
    const factory = "0x0000000000000000000000000000000000000005";
    await deployScript(["--policy-hash", "12345", "--tokens", tokens.join(","), "--factory", factory, "--out", out]);
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
  });

  it("refuses bad usage with exit status 2 and a message (no policy, wrong token count, no factory, a lender without a token, a key without --rpc)", async function () {
    for (const [args, message] of [
      [["--test-tokens"], /needs a policy/],
      [["--policy-hash", "1", "--tokens", "0x0,0x0", "--factory", "0x0000000000000000000000000000000000000005"], /2 addresses for 3 asset slots/],
      [["--policy-hash", "1", "--tokens", "0x0,0x0,0x0"], /give --factory ADDR/],
      [["--policy-hash", "1", "--test-tokens", "--test-lenders", "DAI"], /--test-lenders: no token for DAI/],
      [["--policy-hash", "1", "--test-tokens", "--private-key", "0x01"], /--private-key is for --rpc/],
      [["--policy-hash", "1", "--test-tokens", "--rpc", url], /needs a signing key/],
    ] as const) {
      await assert.rejects(deployScript([...args], { ZKS_PRIVATE_KEY: "" }), (error: { code?: number; stderr?: string }) => {
        assert.equal(error.code, 2, error.stderr);
        assert.match(error.stderr ?? "", message);
        return true;
      });
    }
  });
});
