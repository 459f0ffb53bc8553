/**
 * The planner's cost model, in quote units (q.u.):
 *
 * - slippage: a swap costs what it gives up at the oracle's prices, V_sell(amountIn) -
 *   V_buy(minOut) (the position is credited with minOut, never more), so an execution the gate
 *   accepts never does worse than planned. Every other action trades nothing and loses nothing
 *   (a borrow's or repayment's index rounding is a fraction of a base unit).
 * - gas: a constant estimate per action kind plus one proof verification per rebalance, priced
 *   at a gas price (default 20 gwei) and the native token's price in the quote currency
 *   (default: the market's WETH or ETH price; without one, gas is counted in units only).
 */
import { RATIO_SCALE } from "../core/fixed-point.ts";
import type { Market, Policy, Quote } from "../inputs/types.ts";
import { ceilDiv } from "../model/rounding.ts";
import { movementsOf, type Action, type ActionKind } from "./actions.ts";
import { movementValues, VALUE_SCALE } from "./conservation.ts";

/**
 * Gas estimates per action (order of magnitude of the vault's calls on an EVM chain):
 * token and lender movements (deposit / withdraw / repay / borrow / repayWithCollateral) and
 * option-token flows ~150k, an AMM swap slot ~180k; the rebalance proof's on-chain Groth16
 * verification ~300k, once per rebalance.
 */
export const GAS_PER_ACTION: Readonly<Record<ActionKind, bigint>> = {
  deposit: 150_000n,
  withdraw: 150_000n,
  borrow: 150_000n,
  repay: 150_000n,
  repayWithCollateral: 150_000n,
  swap: 180_000n,
  depositInstrument: 150_000n,
  withdrawInstrument: 150_000n,
};
export const PROOF_VERIFICATION_GAS = 300_000n;

export const GWEI = 10n ** 9n;
/** Default gas price: 20 gwei. */
export const DEFAULT_GAS_PRICE_WEI = 20n * GWEI;
/** Wei per native token. */
const NATIVE_UNIT = 10n ** 18n;

export interface CostOptions {
  /** Gas price in wei (default 20 gwei). */
  gasPriceWei?: bigint;
  /** Quote units (at quote.decimals) per whole native token; default the market's WETH / ETH price. */
  nativePrice?: bigint;
}

export interface CostModel {
  quote: Quote;
  /** policy.maxSlippage at RATIO. */
  maxSlippage: bigint;
  gasPriceWei: bigint;
  /** Quote units per native token; undefined when unknown (gas is then not priced). */
  nativePrice: bigint | undefined;
  /** Where the native price comes from: "WETH" (the market), "option", or undefined. */
  nativeSource: string | undefined;
}

/** The market asset that prices gas by default: WETH, else ETH (case-insensitive). */
export function nativeAsset(market: Market): number {
  for (const symbol of ["WETH", "ETH"]) {
    const i = market.assets.findIndex((a) => a.symbol.toUpperCase() === symbol);
    if (i >= 0) return i;
  }
  return -1;
}

export function costModel(market: Market, policy: Policy, options: CostOptions = {}): CostModel {
  const native = nativeAsset(market);
  const fromMarket = native >= 0 ? market.assets[native]! : undefined;
  const nativePrice = options.nativePrice ?? fromMarket?.price;
  return {
    quote: market.quote,
    maxSlippage: policy.maxSlippage,
    gasPriceWei: options.gasPriceWei ?? DEFAULT_GAS_PRICE_WEI,
    nativePrice,
    nativeSource: options.nativePrice !== undefined ? "option" : fromMarket?.symbol,
  };
}

/** gas * gasPrice * nativePrice / 10^18, rounded up, in q.u. (0 when gas is not priced). */
export function gasCost(model: CostModel, gas: bigint): bigint {
  if (model.nativePrice === undefined) return 0n;
  return ceilDiv(gas * model.gasPriceWei * model.nativePrice, NATIVE_UNIT);
}

/** maxSlippage * traded, traded at q.u. * 10^18, rounded up to q.u.: the most the policy lets swaps of that value lose. */
export function slippageBound(model: CostModel, traded: bigint): bigint {
  return ceilDiv(model.maxSlippage * traded, RATIO_SCALE * VALUE_SCALE);
}

/** q.u. * 10^18 to q.u., rounded up (0 for a gain). */
const toQuote = (scaled: bigint): bigint => (scaled <= 0n ? 0n : ceilDiv(scaled, VALUE_SCALE));

export interface ActionCost {
  /** Index into the plan's actions. */
  action: number;
  kind: ActionKind;
  gas: bigint;
  /** q.u. */
  gasCost: bigint;
  /** What the action sells on the AMM, q.u. * 10^18 (0 for everything but a swap). */
  traded: bigint;
  /** V_sell(amountIn) - V_buy(minOut), q.u., rounded up: what this action gives up at the oracle's prices. */
  slippage: bigint;
}

export interface PlanCost {
  actions: ActionCost[];
  /** Gas of the proof verification (0 when there is nothing to do). */
  verificationGas: bigint;
  totalGas: bigint;
  /** q.u.; 0 when gas is not priced. */
  gasCost: bigint;
  /** What the swaps give up at the oracle's prices: sum of V_sell(amountIn) - V_buy(minOut), q.u., rounded up. */
  slippage: bigint;
  /** The same loss (kept for readers of `lost`): the worst execution the gate accepts, q.u., rounded up. */
  lost: bigint;
  /** slippage + gasCost, q.u. */
  total: bigint;
  /** Gas is priced in the quote currency. */
  priced: boolean;
  gasPriceWei: bigint;
  nativePrice: bigint | undefined;
}

/** The cost of executing `actions` as one rebalance. */
export function planCost(actions: readonly Action[], market: Market, model: CostModel): PlanCost {
  const perAction: ActionCost[] = actions.map((action, index) => {
    const gas = GAS_PER_ACTION[action.kind];
    const values = action.kind === "swap" ? movementValues(movementsOf([action], market), market) : { sold: 0n, lost: 0n };
    return { action: index, kind: action.kind, gas, gasCost: gasCost(model, gas), traded: values.sold, slippage: toQuote(values.lost) };
  });
  const swaps = actions.filter((a) => a.kind === "swap");
  const values = swaps.length > 0 ? movementValues(movementsOf(swaps, market, { swapSlots: swaps.length }), market) : { lost: 0n };
  const verificationGas = actions.length > 0 ? PROOF_VERIFICATION_GAS : 0n;
  const totalGas = perAction.reduce((sum, a) => sum + a.gas, verificationGas);
  const gas = gasCost(model, totalGas);
  const slippage = toQuote(values.lost);
  return {
    actions: perAction,
    verificationGas,
    totalGas,
    gasCost: gas,
    slippage,
    lost: slippage,
    total: slippage + gas,
    priced: model.nativePrice !== undefined,
    gasPriceWei: model.gasPriceWei,
    nativePrice: model.nativePrice,
  };
}
