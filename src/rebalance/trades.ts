/**
 * Worst-case trade amounts: the planner assumes every trade executes at the worst price the
 * policy's maxSlippage allows (docs/rebalance.md, "Conservation"), so the position it plans is
 * the worst an execution within the bound can produce. Each amount is the exact extreme that
 * still satisfies `lost >= 0 and lost * 10^6 <= maxSlippage * traded` for the action alone (a
 * plan's actions then satisfy it together, the rule being additive).
 */
import { QUANTITY_DECIMALS, RATIO_SCALE } from "../core/fixed-point.ts";
import type { Asset, Instrument, Market, Policy } from "../inputs/types.ts";
import { ceilDiv, floorDiv } from "../model/rounding.ts";
import type { HedgeAction, SwapAction } from "./actions.ts";
import { VALUE_DECIMALS } from "./conservation.ts";

/** V_i of one base unit: p_i * 10^(18 - decimals_i) (q.u. * 10^18). */
export const unitValue = (asset: Asset): bigint => asset.price * 10n ** BigInt(VALUE_DECIMALS - asset.decimals);

/** H_k of one contract unit (10^-8 contracts) at a positive mark: m_k * 10^10. */
const contractUnitValue = (k: Instrument): bigint => k.mark * 10n ** BigInt(VALUE_DECIMALS - QUANTITY_DECIMALS);

/**
 * swap(sell, x, buy, y) with the least y the policy allows: y * u_buy * 10^6 >= V_sell(x) * (10^6 - s),
 * provided V_buy(y) <= V_sell(x) (no value from nowhere). Undefined when no such y exists
 * (zero slippage and prices that do not divide) or x is 0.
 */
export function worstSwap(market: Market, policy: Policy, sell: number, sellAmount: bigint, buy: number): SwapAction | undefined {
  if (sellAmount <= 0n || sell === buy) return undefined;
  const given = sellAmount * unitValue(market.assets[sell]!);
  const u = unitValue(market.assets[buy]!);
  const buyAmount = ceilDiv(given * (RATIO_SCALE - policy.maxSlippage), RATIO_SCALE * u);
  if (buyAmount * u > given || buyAmount <= 0n) return undefined;
  return { kind: "swap", sell, sellAmount, buy, buyAmount };
}

/**
 * The largest sell amount whose worst-case proceeds stay <= `limit` base units of `buy`
 * (e.g. the debt left to repay): V_sell(x) * (10^6 - s) <= limit * u_buy * 10^6.
 */
export function maxSellFor(market: Market, policy: Policy, sell: number, buy: number, limit: bigint): bigint {
  const denominator = unitValue(market.assets[sell]!) * (RATIO_SCALE - policy.maxSlippage);
  return floorDiv(limit * unitValue(market.assets[buy]!) * RATIO_SCALE, denominator);
}

/**
 * hedge(k, buy, n, asset, a) paying the most the policy allows:
 * V(a) * (10^6 - s) <= H(n) * (10^6 + s) and V(a) >= H(n). A mark of 0 trades for no cash;
 * a negative mark cannot be bought within the rules (the cash leg of a buy only pays).
 */
export function worstHedgeBuy(market: Market, policy: Policy, instrument: number, quantity: bigint, asset: number): HedgeAction | undefined {
  const k = market.instruments[instrument]!;
  if (quantity <= 0n || k.mark < 0n) return undefined;
  if (k.mark === 0n) return { kind: "hedge", instrument, side: "buy", quantity, asset, cash: 0n };
  const h = quantity * contractUnitValue(k);
  const u = unitValue(market.assets[asset]!);
  const s = policy.maxSlippage;
  const cash = floorDiv(h * (RATIO_SCALE + s), (RATIO_SCALE - s) * u);
  if (cash * u < h) return undefined;
  return { kind: "hedge", instrument, side: "buy", quantity, asset, cash };
}

/**
 * hedge(k, sell, n, asset, a) receiving the least the policy allows:
 * V(a) * 10^6 >= H(n) * (10^6 - s) and V(a) <= H(n). A mark of 0 trades for no cash; a
 * negative mark cannot be sold within the rules (the cash leg of a sale only receives).
 */
export function worstHedgeSell(market: Market, policy: Policy, instrument: number, quantity: bigint, asset: number): HedgeAction | undefined {
  const k = market.instruments[instrument]!;
  if (quantity <= 0n || k.mark < 0n) return undefined;
  if (k.mark === 0n) return { kind: "hedge", instrument, side: "sell", quantity, asset, cash: 0n };
  const h = quantity * contractUnitValue(k);
  const u = unitValue(market.assets[asset]!);
  const cash = ceilDiv(h * (RATIO_SCALE - policy.maxSlippage), RATIO_SCALE * u);
  if (cash * u > h) return undefined;
  return { kind: "hedge", instrument, side: "sell", quantity, asset, cash };
}

/** The most contracts of k (mark > 0) whose worst-case price fits `cash` base units of `asset`. */
export function maxBuyWith(market: Market, policy: Policy, instrument: number, asset: number, cash: bigint): bigint {
  const k = market.instruments[instrument]!;
  if (k.mark <= 0n) return 0n;
  const s = policy.maxSlippage;
  return floorDiv(cash * unitValue(market.assets[asset]!) * (RATIO_SCALE - s), contractUnitValue(k) * (RATIO_SCALE + s));
}
