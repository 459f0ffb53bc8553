/**
 * The chain side of the vault example, run by its server (Node): deploys the gate contracts to a
 * JSON-RPC node (`npx hardhat node`) with `deployStack` of @zk-solvency/node/deploy, as `zks deploy`
 * does (test tokens and option tokens, a LenderVault for USDC, a Uniswap v2 factory), seeds the Uniswap v2 pairs with liquidity at the
 * oracle's prices, funds the lender vault from a lender account, plays the risk oracle (publishes
 * the market of an epoch, with the lender's debt index projected to the end of the freshness
 * window, and serves its file) and funds the example account's wallet with what its position
 * holds. The gate itself is never given a token: every balance it holds arrived with a proof
 * (docs/custody.md). None of this is the vault page's job; the page only reads the chain and sends
 * the user's proofs.
 */
import path from "node:path";
import { Contract, HDNodeWallet, JsonRpcProvider, NonceManager, Wallet, ZeroAddress } from "ethers";
import { deployStack, type Deployment } from "../../../packages/node/src/deploy/index.ts";
import { MARKET_ORACLE_ABI } from "../../../packages/sdk/src/chain/abi.ts";
import { LENDER_VAULT_ABI } from "../../../packages/sdk/src/chain/lender.ts";
import { addLiquidity, arbitrageSwap, createPair, reservesOf, UNISWAP_V2_FACTORY_ABI, UNISWAP_V2_PAIR_ABI } from "../../../packages/sdk/src/chain/uniswap-v2.ts";
import { marketRoot } from "../../../packages/sdk/src/commitment/market-root.ts";
import type { CircuitLayout } from "../../../packages/sdk/src/commitment/circuit-layout.ts";
import { formatDecimal } from "../../../packages/sdk/src/core/decimal.ts";
import { SetupError } from "../../../packages/sdk/src/core/errors.ts";
import { policyHash } from "../../../packages/sdk/src/commitment/policy-hash.ts";
import { releaseProverThreads } from "../../../packages/sdk/src/prover/release.ts";
import { generateKeeperKey } from "../../../packages/sdk/src/encryption/keeper-key.ts";
import { defaultExamplesDir, DEMO_WALLET, loadScenario, SHOCK_PERCENT } from "../../../packages/cli/src/demo/scenario.ts";
import { parseMarket } from "../../../packages/sdk/src/inputs/parse-market.ts";
import { parsePolicy } from "../../../packages/sdk/src/inputs/parse-policy.ts";
import { positionToJson } from "../../../packages/sdk/src/inputs/position-file.ts";
import type { Asset } from "../../../packages/sdk/src/inputs/types.ts";
import { readJsonFile } from "../../../packages/node/src/read-json.ts";
import { swapValue } from "../../../packages/sdk/src/rebalance/transition.ts";

/** Hardhat's public development mnemonic: `hardhat node` funds and unlocks its accounts. Never a real key. */
export const DEV_MNEMONIC = "test test test test test test test test test test test junk";

const TOKEN_ABI = [
  "function mint(address to, uint256 amount)",
  "function balanceOf(address) view returns (uint256)",
  "function approve(address spender, uint256 amount) returns (bool)",
  "function transfer(address to, uint256 amount) returns (bool)",
] as const;

/** What the lender account deposits into the USDC LenderVault (the liquidity the gate borrows). */
export const LENDER_LIQUIDITY = { USDC: "5000000" } as const;
/** The lender's interest rate: 5% a year (simple), per second at 18 decimals. */
export const LENDER_RATE_PER_SECOND = (5n * 10n ** 16n) / 31_536_000n;
/** Depth of each Uniswap v2 pool, per side, in quote units (USD): swaps of a few WETH move it little. */
export const POOL_DEPTH = 50_000_000n;

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
  /** Option tokens per instrument slot (the zero address for none): back long holdings only. */
  instrumentTokens: { slot: number; id: string | null; address: string }[];
  /** The LenderVault per asset slot (the zero address for none). */
  lenders: { slot: number; symbol: string | null; address: string }[];
  /** The Uniswap v2 factory the gate's swaps run on. */
  uniswapV2Factory: string;
  nSwaps: number;
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
  /** The example position file (the demo's: 20 WETH against 34,000 USDC, and two options). */
  examplePosition(): unknown;
  /** The spec's example market file as it is (epoch 42, its own timestamp), for off-chain proving. */
  exampleMarket(): unknown;
  /** Publishes the next epoch with one asset's price down `percent` (default: WETH -25%, the demo's shock) and arbitrages the pools to it. */
  shock(symbol?: string, percent?: bigint): Promise<Published>;
  close(): Promise<void>;
}

export interface VaultChainOptions {
  rpcUrl: string;
  /** Deployer, oracle publisher, token minter and liquidity provider. Default: the node's account #0 (dev mnemonic). */
  privateKey?: string;
  /** Deposits the lender vault's liquidity. Default: the node's account #2 (dev mnemonic). */
  lenderKey?: string;
  examplesDir?: string;
  /** Instance size of the gate's verifiers. */
  size?: string;
  log?: (line: string) => void;
}

/** Deploys, seeds the pools and the lender, publishes the example market as the current epoch and funds the example account. */
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
  const lenderKey = options.lenderKey ?? HDNodeWallet.fromPhrase(DEV_MNEMONIC, undefined, "m/44'/60'/0'/0/2").privateKey;
  const debtSymbols = Object.keys(LENDER_LIQUIDITY);

  // 1. The contracts, as `zks deploy --test-tokens --test-lenders USDC` deploys them.
  const provider = new JsonRpcProvider(options.rpcUrl, undefined, { staticNetwork: true, pollingInterval: 100 });
  log(`deploying the gate contracts (${size}) to ${options.rpcUrl}...`);
  // One NonceManager for every transaction of account #0, deployStack's included: the provider's
  // short cache of eth_getTransactionCount would hand a second one a nonce already used.
  const signer = new NonceManager(new Wallet(key, provider));
  let deployment: Deployment;
  try {
    deployment = await deployStack(signer, {
      size,
      policyHash: policyHash(parsePolicy(rawPolicy, policyFile, scenario.market)),
      market: scenario.market,
      tokens: "test",
      testLenders: debtSymbols,
      lenderRate: LENDER_RATE_PER_SECOND,
      // The protocol keeper's key (docs/enforcement.md): a fresh one per example chain, its secret
      // dropped (no keeper runs here); the page reads the public half from the gate's keeperKey().
      keeperKey: { publicKey: generateKeeperKey().publicKey, source: "a key generated for this example chain", hadSecret: false },
    });
  } catch (error) {
    provider.destroy();
    throw new SetupError(`deploying the contracts failed: ${(error as Error).message}`);
  } finally {
    // deployStack reads each verifier's key with snarkjs, whose curve keeps worker threads alive
    // (they would keep this process from exiting); the next snarkjs call builds them again.
    await releaseProverThreads();
  }
  // Whatever fails from here on, the provider goes (a live one would keep the process running).
  try {
    const lenderSigner = new NonceManager(new Wallet(lenderKey, provider));
    const self = await signer.getAddress();
    const chainId = BigInt(deployment.chainId);
    const oracle = new Contract(deployment.contracts.MarketOracle, MARKET_ORACLE_ABI, signer);
    const freshness = BigInt(deployment.freshnessWindow);
    const account = scenario.position.account;
    const token = (slot: number) => new Contract(deployment.tokens[slot]!.address, TOKEN_ABI, signer);
    const send = async (what: string, tx: Promise<{ wait(): Promise<{ status?: number | null } | null> }>) => {
      const receipt = await (await tx).wait();
      if (receipt?.status !== 1) throw new Error(`${what} failed`);
    };
    const units = (amount: string | bigint, decimals: number) => BigInt(amount) * 10n ** BigInt(decimals);

    // 2. The lender account funds each LenderVault: the liquidity the gate borrows (the gate is its only borrower).
    for (const [symbol, amount] of Object.entries(LENDER_LIQUIDITY)) {
      const slot = scenario.market.assets.findIndex((a) => a.symbol === symbol);
      const lender = deployment.lenders[slot];
      if (slot < 0 || !lender || lender.address === ZeroAddress) throw new SetupError(`no lender vault for ${symbol}`);
      const liquidity = units(amount, scenario.market.assets[slot]!.decimals);
      const lenderAddress = await lenderSigner.getAddress();
      await send(`minting ${symbol} to the lender`, token(slot).getFunction("mint")(lenderAddress, liquidity));
      await send(`approving the ${symbol} lender vault`, (token(slot).connect(lenderSigner) as Contract).getFunction("approve")(lender.address, liquidity));
      await send(`depositing into the ${symbol} lender vault`, new Contract(lender.address, LENDER_VAULT_ABI, lenderSigner).getFunction("deposit")(liquidity, lenderAddress));
      log(`lender ${lenderAddress} deposited ${amount} ${symbol} into ${lender.address}`);
    }

    // 3. Uniswap v2 pairs of every two tokens, seeded by this account at the oracle's prices.
    const factory = new Contract(deployment.uniswapV2Factory.address, UNISWAP_V2_FACTORY_ABI, signer);
    const assets = scenario.market.assets;
    const quote = scenario.market.quote.decimals;
    const depth = (a: Asset) => (POOL_DEPTH * 10n ** BigInt(quote) * 10n ** BigInt(a.decimals)) / a.price;
    const pairs: { a: number; b: number; address: string }[] = [];
    for (let a = 0; a < assets.length; a++) {
      for (let b = a + 1; b < assets.length; b++) {
        const pair = await createPair(factory, deployment.tokens[a]!.address, deployment.tokens[b]!.address);
        const [amountA, amountB] = [depth(assets[a]!), depth(assets[b]!)];
        await send("minting liquidity", token(a).getFunction("mint")(self, amountA));
        await send("minting liquidity", token(b).getFunction("mint")(self, amountB));
        await addLiquidity(pair, signer, deployment.tokens[a]!.address, amountA, deployment.tokens[b]!.address, amountB);
        pairs.push({ a, b, address: await pair.getAddress() });
      }
    }
    log(`seeded ${pairs.length} Uniswap v2 pairs with ${POOL_DEPTH.toLocaleString("en-US")} ${scenario.market.quote.symbol} a side`);

    /** Arbitrage: one swap by this account brings the pair's price to the ratio of the two assets' oracle prices. */
    const align = async (pairAt: { a: number; b: number; address: string }, prices: readonly Asset[]) => {
      const pair = new Contract(pairAt.address, UNISWAP_V2_PAIR_ABI, signer);
      const [tokenA, tokenB] = [deployment.tokens[pairAt.a]!.address, deployment.tokens[pairAt.b]!.address];
      const { reserveIn: ra, reserveOut: rb } = await reservesOf(pair, tokenA);
      const [wa, wb] = [swapValue(1n, prices[pairAt.a]!), swapValue(1n, prices[pairAt.b]!)];
      const { sellA, amountIn, amountOut } = arbitrageSwap(ra, rb, wa, wb);
      const [sell, tokenIn] = sellA ? [pairAt.a, tokenA] : [pairAt.b, tokenB];
      if (amountIn <= 0n || amountOut <= 0n) return;
      await send("minting the arbitrage", token(sell).getFunction("mint")(self, amountIn));
      await send("the arbitrage transfer", token(sell).getFunction("transfer")(pairAt.address, amountIn));
      const zeroFirst = tokenIn.toLowerCase() < (tokenIn === tokenA ? tokenB : tokenA).toLowerCase();
      await send("the arbitrage swap", pair.getFunction("swap")(zeroFirst ? 0n : amountOut, zeroFirst ? amountOut : 0n, self, "0x"));
    };

    // 4. The oracle publishes the example market as the current epoch: its timestamp is the chain's
    // now, so the epoch is fresh (the file's own timestamp is a year old), and each asset with a
    // lender carries the lender's index projected to the end of the freshness window (so it stays
    // at or above the lender's index while the epoch is fresh: a proof can only overstate debt).
    let current: Record<string, unknown> = rawMarket;
    const latestTimestamp = async () => (await provider.getBlock("latest"))!.timestamp;
    const withDebtIndex = async (raw: Record<string, unknown>, timestamp: number): Promise<Record<string, unknown>> => {
      const rows = raw.assets as Record<string, unknown>[];
      const out = await Promise.all(
        rows.map(async (row, slot) => {
          const lender = deployment.lenders[slot];
          if (!lender || lender.address === ZeroAddress) return row;
          const index = (await new Contract(lender.address, LENDER_VAULT_ABI, provider).getFunction("indexAt")(BigInt(timestamp) + freshness)) as bigint;
          return { ...row, debtIndex: formatDecimal(index, 18) };
        }),
      );
      return { ...raw, timestamp, assets: out };
    };
    const publish = async (raw: Record<string, unknown>): Promise<Published> => {
      const market = parseMarket(raw, "market");
      const root = marketRoot(market, layout);
      await send(`publishing epoch ${market.epoch}`, oracle.getFunction("publish")(market.epoch, root, market.timestamp));
      current = raw;
      log(`published epoch ${market.epoch} (root 0x${root.toString(16).slice(0, 12)}...)`);
      return { epoch: market.epoch, timestamp: market.timestamp, marketRoot: root.toString() };
    };
    await publish(await withDebtIndex(rawMarket, await latestTimestamp()));

    // 5. The account's wallet holds what its position is made of: the collateral it deposits to
    // register, the long option tokens, and the demo's spare USDC (20,000) for a rebalance. Its
    // debt is borrowed from the lender when it registers. Nothing is minted to the gate.
    for (const [slot, amount] of scenario.position.collateral.entries()) {
      if (amount > 0n) await send("funding the account", token(slot).getFunction("mint")(account, amount));
    }
    for (const [symbol, amount] of Object.entries(DEMO_WALLET)) {
      const slot = assets.findIndex((a) => a.symbol === symbol);
      if (slot >= 0) await send("funding the account", token(slot).getFunction("mint")(account, units(amount, assets[slot]!.decimals)));
    }
    for (const [slot, quantity] of scenario.position.quantities.entries()) {
      const option = deployment.instrumentTokens[slot];
      if (quantity > 0n && option && option.address !== ZeroAddress) {
        await send("funding the account", new Contract(option.address, TOKEN_ABI, signer).getFunction("mint")(account, quantity));
      }
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
        instrumentTokens: deployment.instrumentTokens.map(({ slot, id, address }) => ({ slot, id, address })),
        lenders: deployment.lenders.map(({ slot, symbol, address }) => ({ slot, symbol, address })),
        uniswapV2Factory: deployment.uniswapV2Factory.address,
        nSwaps: deployment.nSwaps,
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
        const shocked = market.assets.map((a, k) => (k === i ? { ...a, price: (a.price * (100n - percent)) / 100n } : a));
        const rows = (current.assets as Record<string, unknown>[]).map((a, k) => (k === i ? { ...a, price: formatDecimal(shocked[k]!.price, market.quote.decimals) } : a));
        // Arbitrageurs bring the pools to the new price (this account plays them), so a swap at the
        // shocked oracle price can meet the policy's slippage bound.
        for (const pair of pairs.filter((p) => p.a === i || p.b === i)) await align(pair, shocked);
        const next = await withDebtIndex({ ...current, epoch: market.epoch + 1, assets: rows }, await latestTimestamp());
        return publish(next);
      },
      async close() {
        provider.destroy();
      },
    };
  } catch (error) {
    provider.destroy();
    throw error;
  }
}
