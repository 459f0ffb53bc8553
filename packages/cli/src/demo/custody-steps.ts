/**
 * The custody side of `zks demo` (docs/custody.md): the registration's movements, the lender's
 * projected index in the published market, the approvals a transition's deposits need, the
 * arbitrage that moves a pool to the oracle's new price, and the backing invariant checked on the
 * chain after the rebalance.
 */
import { Contract, type Signer } from "ethers";
import { arbitrageSwap, reservesOf } from "@zk-solvency/sdk/chain";
import { swapValue } from "@zk-solvency/sdk/rebalance";
import type { Asset, Market, Position } from "@zk-solvency/sdk/inputs";
import type { Movements } from "@zk-solvency/sdk/rebalance";
import { send } from "./chain.ts";

/** The asset the demo position borrows from the lender vault (and the pools' quote side). */
export const DEMO_DEBT_ASSET = "USDC";
/** The lender's borrow rate: 5% a year, per second at 10^18 (linear accrual, docs/custody.md). */
export const LENDER_RATE_PER_SECOND = (5n * 10n ** 16n) / (365n * 24n * 3600n);
/** What the lender's depositor supplies, whole tokens of the debt asset. */
export const LENDER_LIQUIDITY = 1_000_000n;
/** Whole tokens of each asset in its pool against the debt asset (the quote side matches at the oracle's price). */
export const POOL_TOKENS = 500n;

export const poolDepth = (decimals: number): bigint => POOL_TOKENS * 10n ** BigInt(decimals);

/** The market with `index` as the debt index of asset `i`. */
export function withDebtIndex(market: Market, i: number, index: bigint): Market {
  return { ...market, assets: market.assets.map((a, j) => (j === i ? { ...a, debtIndex: index } : a)) };
}

/** Approves the gate for every deposit of `m` (tokens it pulls); returns the gas. */
export async function approveFlows(m: Movements, tokens: Contract[], optionTokens: (Contract | undefined)[], account: Signer, gate: string): Promise<bigint> {
  let gas = 0n;
  for (const [i, flow] of m.flows.entries()) if (flow > 0n) gas += await send(tokens[i]!, account, "approve", gate, flow);
  for (const [k, flow] of m.instrumentFlows.entries()) if (flow > 0n) gas += await send(optionTokens[k]!, account, "approve", gate, flow);
  return gas;
}

const PAIR_ABI = ["function token0() view returns (address)", "function swap(uint256 amount0Out, uint256 amount1Out, address to, bytes data)"] as const;

/**
 * Swaps `token` against `quoteToken` in their pool until the pool's price is the oracle's
 * (arbitrageSwap: ignoring the fee), as an arbitrageur would after a price move: the trader is
 * minted what it sells (test tokens).
 */
export async function arbitrageToPrice(pair: Contract, token: Contract, quoteToken: Contract, trader: Signer, asset: Asset, quote: Asset): Promise<void> {
  const tokenAddress = await token.getAddress();
  const { reserveIn, reserveOut } = await reservesOf(pair, tokenAddress);
  const { sellA, amountIn, amountOut } = arbitrageSwap(reserveIn, reserveOut, swapValue(1n, asset), swapValue(1n, quote));
  if (amountIn === 0n || amountOut === 0n) return;
  const sold = sellA ? token : quoteToken;
  const traderAddress = await trader.getAddress();
  await send(sold, trader, "mint", traderAddress, amountIn);
  await send(sold, trader, "transfer", await pair.getAddress(), amountIn);
  const v2 = new Contract(await pair.getAddress(), PAIR_ABI, trader);
  const soldIsZero = String(await v2.getFunction("token0")()).toLowerCase() === (await sold.getAddress()).toLowerCase();
  await send(v2, trader, "swap", soldIsZero ? 0n : amountOut, soldIsZero ? amountOut : 0n, traderAddress, "0x");
}

/**
 * docs/custody.md's invariants on the chain: the gate holds at least the committed collateral of
 * every token, and owes the lender exactly the committed debt units. Throws when either fails.
 */
export async function checkBacking(tokens: Contract[], lender: Contract, debtAsset: number, gate: Contract, positions: Position[]): Promise<void> {
  const gateAddress = await gate.getAddress();
  for (const [i, token] of tokens.entries()) {
    const held = (await token.getFunction("balanceOf")(gateAddress)) as bigint;
    const committed = positions.reduce((s, p) => s + p.collateral[i]!, 0n);
    if (held < committed) throw new Error(`custody broken: the gate holds ${held} of token #${i} but positions commit ${committed}`);
  }
  const units = (await lender.getFunction("debtUnitsOf")(gateAddress)) as bigint;
  const committedDebt = positions.reduce((s, p) => s + p.debt[debtAsset]!, 0n);
  if (units !== committedDebt) throw new Error(`custody broken: the gate owes the lender ${units} units but positions commit ${committedDebt}`);
}
