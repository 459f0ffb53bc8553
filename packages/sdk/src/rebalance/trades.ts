/**
 * The swaps the planner builds (docs/custody.md, "Swaps on a real AMM"): sell `amountIn` for at
 * least `minOut`, where minOut is an AMM quote minus a tolerance when the caller gives a quote
 * function, else the policy's slippage floor (the least minOut withinSlippage allows). The
 * position is credited with minOut, so what the planner plans is the worst execution the gate
 * accepts. A quote below the policy's floor cannot be executed within the policy: no swap.
 */
import { RATIO_SCALE } from "../core/fixed-point.ts";
import type { Asset, Market, Policy } from "../inputs/types.ts";
import { floorDiv } from "../model/rounding.ts";
import type { SwapAction } from "./actions.ts";
import { VALUE_DECIMALS } from "./conservation.ts";
import { slippageFloor } from "./transition.ts";

/** An AMM quote: the output of selling `amountIn` of asset `sell` for asset `buy`, base units. */
export type SwapQuote = (sell: number, buy: number, amountIn: bigint) => bigint;

/** Default tolerance under a quote: 0.5% (RATIO scale). */
export const DEFAULT_QUOTE_TOLERANCE = 5_000n;

export interface SwapPricing {
  quote?: SwapQuote;
  /** At RATIO: minOut = floor(quote * (1 - tolerance)). Default DEFAULT_QUOTE_TOLERANCE. */
  quoteTolerance?: bigint;
}

/** V_i of one base unit: p_i * 10^(18 - decimals_i) (q.u. * 10^18). */
export const unitValue = (asset: Asset): bigint => asset.price * 10n ** BigInt(VALUE_DECIMALS - asset.decimals);

/** The minOut of selling `amountIn` of `sell` for `buy`: the quote minus its tolerance, or the policy's floor; undefined when below the floor. */
export function swapMinOut(market: Market, policy: Policy, sell: number, amountIn: bigint, buy: number, pricing: SwapPricing = {}): bigint | undefined {
  const floor = slippageFloor(sell, amountIn, buy, market, policy);
  if (!pricing.quote) return floor;
  const quoted = pricing.quote(sell, buy, amountIn);
  const tolerance = pricing.quoteTolerance ?? DEFAULT_QUOTE_TOLERANCE;
  const minOut = (quoted * (RATIO_SCALE - tolerance)) / RATIO_SCALE;
  return minOut >= floor ? minOut : undefined;
}

/** swap(sell, x, buy, minOut) as the planner builds it; undefined when x is 0, the assets are the same or the pool is below the floor. */
export function worstSwap(market: Market, policy: Policy, sell: number, amountIn: bigint, buy: number, pricing: SwapPricing = {}): SwapAction | undefined {
  if (amountIn <= 0n || sell === buy) return undefined;
  const minOut = swapMinOut(market, policy, sell, amountIn, buy, pricing);
  if (minOut === undefined || minOut <= 0n) return undefined;
  return { kind: "swap", sell, amountIn, buy, minOut };
}

/**
 * The largest sell amount whose floor proceeds stay <= `limit` base units of `buy` (e.g. the
 * debt left to repay): V_sell(x) * (10^6 - s) <= limit * u_buy * 10^6.
 */
export function maxSellFor(market: Market, policy: Policy, sell: number, buy: number, limit: bigint): bigint {
  const denominator = unitValue(market.assets[sell]!) * (RATIO_SCALE - policy.maxSlippage);
  return floorDiv(limit * unitValue(market.assets[buy]!) * RATIO_SCALE, denominator);
}

/** The amount of `sell` whose oracle value is about `value` quote units (q.u. * 10^18 scale input). */
export function amountForValue(market: Market, asset: number, valueScaled: bigint): bigint {
  return floorDiv(valueScaled, unitValue(market.assets[asset]!));
}
