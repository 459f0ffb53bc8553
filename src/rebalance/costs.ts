/**
 * The planner's cost model, in quote units (q.u.):
 *
 * - slippage: each trade is assumed to lose the most the policy allows, maxSlippage * traded
 *   (docs/rebalance.md's `traded`), so an execution within the policy's bound never does worse
 *   than planned. Deposits, repays and repayWithCollateral trade nothing and lose nothing.
 * - gas: a constant estimate per action kind plus one proof verification per rebalance, priced
 *   at a gas price (default 20 gwei) and the native token's price in the quote currency
 *   (default: the market's WETH or ETH price; without one, gas is counted in units only).
 */
import { RATIO_SCALE } from "../core/fixed-point.ts";
import type { Market, Policy, Quote } from "../inputs/types.ts";
import { ceilDiv } from "../model/rounding.ts";
import { legsOf, type Action, type ActionKind } from "./actions.ts";
import { legValues, VALUE_SCALE } from "./conservation.ts";

/**
 * Gas estimates per action (order of magnitude of the vault's calls on an EVM chain):
 * balance moves (deposit / withdraw / repay / borrow / repayWithCollateral) ~150k, a DEX swap
 * ~180k, a derivative trade with its cash leg ~250k; the rebalance proof's on-chain Groth16
 * verification ~300k, once per rebalance.
 */
export const GAS_PER_ACTION: Readonly<Record<ActionKind, bigint>> = {
  deposit: 150_000n,
  withdraw: 150_000n,
  borrow: 150_000n,
  repay: 150_000n,
  repayWithCollateral: 150_000n,
  swap: 180_000n,
  hedge: 250_000n,
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

/** maxSlippage * traded, traded at q.u. * 10^18, rounded up to q.u. */
export function slippageBound(model: CostModel, traded: bigint): bigint {
  return ceilDiv(model.maxSlippage * traded, RATIO_SCALE * VALUE_SCALE);
}

export interface ActionCost {
  /** Index into the plan's actions. */
  action: number;
  kind: ActionKind;
  gas: bigint;
  /** q.u. */
  gasCost: bigint;
  /** The action's traded value, q.u. * 10^18 (0 for balance moves). */
  traded: bigint;
  /** maxSlippage * traded, q.u., rounded up: the most this action may lose. */
  slippage: bigint;
}

export interface PlanCost {
  actions: ActionCost[];
  /** Gas of the proof verification (0 when there is nothing to do). */
  verificationGas: bigint;
  totalGas: bigint;
  /** q.u.; 0 when gas is not priced. */
  gasCost: bigint;
  /** Upper bound of the value lost to slippage: maxSlippage * traded of the whole plan, q.u., rounded up. */
  slippage: bigint;
  /** The planned legs' exact loss (the worst execution the policy allows), q.u., rounded up; <= slippage. */
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
    const { traded } = legValues(legsOf([action], market), market);
    return { action: index, kind: action.kind, gas, gasCost: gasCost(model, gas), traded, slippage: slippageBound(model, traded) };
  });
  const values = legValues(legsOf(actions, market), market);
  const verificationGas = actions.length > 0 ? PROOF_VERIFICATION_GAS : 0n;
  const totalGas = perAction.reduce((sum, a) => sum + a.gas, verificationGas);
  const gas = gasCost(model, totalGas);
  const slippage = slippageBound(model, values.traded);
  return {
    actions: perAction,
    verificationGas,
    totalGas,
    gasCost: gas,
    slippage,
    lost: ceilDiv(values.lost, VALUE_SCALE),
    total: slippage + gas,
    priced: model.nativePrice !== undefined,
    gasPriceWei: model.gasPriceWei,
    nativePrice: model.nativePrice,
  };
}
