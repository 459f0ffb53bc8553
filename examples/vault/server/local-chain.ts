/**
 * The chain side of the vault example, run by its server (Node): deploys the gate contracts to a
 * JSON-RPC node (`npx hardhat node`) with scripts/deploy.ts, plays the risk oracle (publishes the
 * market of an epoch and serves its file) and funds the example account's wallet with test tokens.
 * None of this is the vault page's job; the page only reads the chain and sends the user's proofs.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { Contract, JsonRpcProvider, NonceManager, Wallet } from "ethers";
import type { Deployment } from "../../../scripts/deploy.ts";
import { MARKET_ORACLE_ABI } from "../../../src/chain/abi.ts";
import { marketRoot } from "../../../src/commitment/market-root.ts";
import type { CircuitLayout } from "../../../src/commitment/circuit-layout.ts";
import { formatDecimal } from "../../../src/core/decimal.ts";
import { SetupError } from "../../../src/core/errors.ts";
import { defaultExamplesDir, DEMO_WALLET, loadScenario, SHOCK_PERCENT } from "../../../src/demo/scenario.ts";
import { parseMarket } from "../../../src/inputs/parse-market.ts";
import { positionToJson } from "../../../src/inputs/position-file.ts";
import { readJsonFile } from "../../../src/node/read-json.ts";
import { PACKAGE_ROOT } from "../../../src/setup/paths.ts";

const run = promisify(execFile);

/** Hardhat's public development mnemonic: `hardhat node` funds and unlocks its accounts. Never a real key. */
export const DEV_MNEMONIC = "test test test test test test test test test test test junk";

const TOKEN_ABI = ["function mint(address to, uint256 amount)", "function balanceOf(address) view returns (uint256)"] as const;

/** What the page is told about the chain (served as /zks/config.json). */
export interface PageConfig {
  chainId: string;
  /** JSON-RPC endpoint for the page: the dev server's proxy to the node. */
  rpc: string;
  /** The example position's account: one of the node's unlocked accounts, so the page can sign as it. */
  account: string;
  size: string;
  instances: { solvency: string; rebalance: string };
  contracts: Deployment["contracts"];
  tokens: { slot: number; symbol: string | null; address: string }[];
  /** The server offers POST /zks/dev/shock (a local oracle's price shock, for trying the rebalance). */
  devOracle: boolean;
}

export interface Published {
  epoch: number;
  timestamp: number;
  marketRoot: string;
}

export interface VaultChain {
  rpcUrl: string;
  chainId: bigint;
  deployment: Deployment;
  layout: CircuitLayout;
  config(): PageConfig;
  /** The market file of the latest published epoch (what the oracle serves). */
  market(): unknown;
  policy(): unknown;
  /** The example position file (the demo's: 20 WETH against 34,000 USDC). */
  examplePosition(): unknown;
  /** The spec's example market file as it is (epoch 42, its own timestamp), for off-chain proving. */
  exampleMarket(): unknown;
  /** Publishes the next epoch with one asset's price down `percent` (default: WETH -25%, the demo's shock). */
  shock(symbol?: string, percent?: bigint): Promise<Published>;
  close(): Promise<void>;
}

export interface VaultChainOptions {
  rpcUrl: string;
  /** Deployer, oracle publisher and token minter. Default: the node's account #0 (dev mnemonic). */
  privateKey?: string;
  examplesDir?: string;
  /** Instance size of the gate's verifiers. */
  size?: string;
  log?: (line: string) => void;
}

/** Deploys, publishes the example market as the current epoch and funds the example account. */
export async function setUpVaultChain(options: VaultChainOptions): Promise<VaultChain> {
  const log = options.log ?? (() => {});
  const size = options.size ?? "3x3x16";
  const match = /^(\d+)x(\d+)x(\d+)$/.exec(size);
  if (!match) throw new SetupError(`size: expected assets x instruments x scenarios, got ${size}`);
  const layout: CircuitLayout = { nAssets: Number(match[1]), nInstruments: Number(match[2]), nScenarios: Number(match[3]) };
  const examplesDir = options.examplesDir ?? defaultExamplesDir();
  const scenario = loadScenario(examplesDir);
  const marketFile = path.join(examplesDir, "market-grid.json");
  const policyFile = path.join(examplesDir, "policy.json");
  const rawMarket = readJsonFile(marketFile) as Record<string, unknown>;
  const rawPolicy = readJsonFile(policyFile);
  const key = options.privateKey ?? Wallet.fromPhrase(DEV_MNEMONIC).privateKey;

  // 1. The contracts, by the deploy script (a child process: hardhat's runtime stays out of this one).
  const dir = mkdtempSync(path.join(tmpdir(), "zks-vault-"));
  const out = path.join(dir, "deployment.json");
  log(`deploying the gate contracts (${size}) to ${options.rpcUrl}...`);
  try {
    await run(
      process.execPath,
      ["--import", "tsx", path.join(PACKAGE_ROOT, "scripts", "deploy.ts"), "--rpc", options.rpcUrl, "--size", size, "--test-tokens", "--policy", policyFile, "--market", marketFile, "--out", out],
      { cwd: PACKAGE_ROOT, env: { ...process.env, ZKS_PRIVATE_KEY: key }, maxBuffer: 16 << 20 },
    );
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    const e = error as { stderr?: string; message: string };
    throw new SetupError(`deploying the contracts failed: ${(e.stderr || e.message).trim()}`);
  }
  const deployment = JSON.parse(readFileSync(out, "utf8")) as Deployment;
  rmSync(dir, { recursive: true, force: true });

  const provider = new JsonRpcProvider(options.rpcUrl, undefined, { staticNetwork: true, pollingInterval: 100 });
  const signer = new NonceManager(new Wallet(key, provider));
  const chainId = BigInt(deployment.chainId);
  const oracle = new Contract(deployment.contracts.MarketOracle, MARKET_ORACLE_ABI, signer);
  const account = scenario.position.account;

  // 2. The oracle publishes the example market as the current epoch: its timestamp is the chain's
  // now, so the epoch is fresh (the file's own timestamp is a year old).
  let current: Record<string, unknown> = rawMarket;
  const latestTimestamp = async () => (await provider.getBlock("latest"))!.timestamp;
  const publish = async (raw: Record<string, unknown>): Promise<Published> => {
    const market = parseMarket(raw, "market");
    const root = marketRoot(market, layout);
    const receipt = await (await oracle.getFunction("publish")(market.epoch, root, market.timestamp)).wait();
    if (receipt?.status !== 1) throw new Error(`publishing epoch ${market.epoch} failed`);
    current = raw;
    log(`published epoch ${market.epoch} (root 0x${root.toString(16).slice(0, 12)}...)`);
    return { epoch: market.epoch, timestamp: market.timestamp, marketRoot: root.toString() };
  };
  await publish({ ...rawMarket, timestamp: await latestTimestamp() });

  // 3. The account's wallet holds what the demo allows (20,000 USDC); the gate holds a reserve of
  // every token so that withdrawals (negative flows) can be paid: the protocol behind it.
  for (const [symbol, amount] of Object.entries(DEMO_WALLET)) {
    const t = deployment.tokens.find((x) => x.symbol === symbol);
    const asset = scenario.market.assets.find((a) => a.symbol === symbol);
    if (!t || !asset) continue;
    await (await new Contract(t.address, TOKEN_ABI, signer).getFunction("mint")(account, BigInt(amount) * 10n ** BigInt(asset.decimals))).wait();
  }
  for (const t of deployment.tokens) {
    const decimals = scenario.market.assets[t.slot]?.decimals ?? 18;
    await (await new Contract(t.address, TOKEN_ABI, signer).getFunction("mint")(deployment.contracts.RebalanceGate, 1_000_000n * 10n ** BigInt(decimals))).wait();
  }

  const examplePosition = positionToJson(scenario.position, scenario.market);
  return {
    rpcUrl: options.rpcUrl,
    chainId,
    deployment,
    layout,
    config: () => ({
      chainId: chainId.toString(),
      rpc: "/rpc",
      account,
      size,
      instances: { solvency: `solvency-${size}`, rebalance: `rebalance-${size}` },
      contracts: deployment.contracts,
      tokens: deployment.tokens.map(({ slot, symbol, address }) => ({ slot, symbol, address })),
      devOracle: true,
    }),
    market: () => current,
    policy: () => rawPolicy,
    examplePosition: () => examplePosition,
    exampleMarket: () => rawMarket,
    async shock(symbol = "WETH", percent = SHOCK_PERCENT) {
      const market = parseMarket(current, "market");
      const i = market.assets.findIndex((a) => a.symbol === symbol);
      if (i < 0) throw new SetupError(`the market has no asset ${symbol}`);
      // A few minutes later on the chain's clock, so the new timestamp is past the last one.
      await provider.send("evm_increaseTime", [300]);
      await provider.send("evm_mine", []);
      const assets = (current.assets as Record<string, unknown>[]).map((a, k) =>
        k === i ? { ...a, price: formatDecimal((market.assets[i]!.price * (100n - percent)) / 100n, market.quote.decimals) } : a,
      );
      return publish({ ...current, epoch: market.epoch + 1, timestamp: await latestTimestamp(), assets });
    },
    async close() {
      provider.destroy();
    },
  };
}
