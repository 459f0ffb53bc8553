/**
 * Portfolio delta in quote units per asset: the net value of the asset plus the delta-mapped
 * instruments on it,
 *
 *     x_i = (vc_i - vd_i) + round( sum_{k: u(k)=i} q_k * delta_k * p_i / 10^16 )
 *
 * exactly the exposure vector of the parametric VaR (docs/risk-arithmetic.md, section 6), and
 * the spot hedges that bring |x_i| inside a band. Instrument trades have no venue in the custody
 * model (docs/custody.md), so the delta-neutral strategy hedges with AMM swaps of the underlying:
 * a long delta sells the asset into the safest other asset, a short one buys it with sellable
 * collateral, safest first.
 */
import { formatHuman } from "../core/decimal.ts";
import { RATIO_SCALE } from "../core/fixed-point.ts";
import type { Market, Position } from "../inputs/types.ts";
import { exposures } from "../model/parametric-var.ts";
import { assetValues } from "../model/values.ts";
import type { Action, SwapAction } from "./actions.ts";
import { VALUE_SCALE } from "./conservation.ts";
import { safestAssets, stateOf, type PlannerContext } from "./search.ts";
import { amountForValue, worstSwap } from "./trades.ts";

/** x_i per market asset, q.u. */
export function portfolioDelta(position: Position, market: Market): bigint[] {
  return exposures(assetValues(position, market), position, market);
}

/** Assets that underlie at least one market instrument, in market order. */
export function underlyings(market: Market): number[] {
  return [...new Set(market.instruments.map((k) => k.underlying))].sort((a, b) => a - b);
}

const abs = (x: bigint): bigint => (x < 0n ? -x : x);

/**
 * The assets the delta-neutral strategy can neutralize with spot swaps: the underlyings of the
 * market's instruments other than the safest asset (the numeraire the hedges swap into), that
 * may be sold themselves or bought with another sellable asset.
 */
export function hedgeableAssets(market: Market, sellable: readonly boolean[]): number[] {
  const numeraire = safestAssets(market)[0];
  return underlyings(market).filter((i) => i !== numeraire && (sellable[i] || sellable.some((ok, j) => ok && j !== i)));
}

export interface HedgePlan {
  actions: SwapAction[];
  /** Per asset: why it could not be hedged (not sellable, not enough collateral). */
  problems: string[];
}

/**
 * Swaps (after `base`) bringing |x_i| <= band for every asset in `assets`: one swap per
 * out-of-band asset, selling it into the safest other asset (x_i > band) or buying it with
 * sellable collateral, safest first (x_i < -band), each at the minOut the planner credits (the
 * quote minus its tolerance, or the policy's floor); the amounts are adjusted until every x_i
 * is inside the band (the other side of each swap moves the deltas too).
 */
export function deltaHedges(ctx: PlannerContext, base: readonly Action[], assets: readonly number[], band: bigint): HedgePlan {
  const { market, policy, allowance } = ctx;
  const safest = safestAssets(market);
  const symbol = (i: number): string => market.assets[i]!.symbol;
  const money = (v: bigint): string => `${formatHuman(v, market.quote.decimals)} ${market.quote.symbol}`;
  const target = new Map<number, bigint>(); // asset -> signed value to sell (+) or buy (-), q.u.

  let failure = "";
  const build = (): SwapAction[] | undefined => {
    const actions: SwapAction[] = [];
    failure = "";
    for (const [i, v] of target) {
      if (v === 0n) continue;
      const state = stateOf(ctx, [...base, ...actions]);
      if (!state) return undefined;
      if (v > 0n) {
        if (!allowance.sellable[i]) {
          failure = `cutting the ${symbol(i)} delta means selling ${symbol(i)}, which the allowance does not list as sellable`;
          return undefined;
        }
        const want = amountForValue(market, i, v * VALUE_SCALE);
        const held = state.position.collateral[i]!;
        const receiver = safest.find((r) => r !== i)!;
        const swap = worstSwap(market, policy, i, want < held ? want : held, receiver, ctx.pricing);
        if (!swap) {
          failure = `cutting the ${symbol(i)} delta means selling about ${money(v)} of ${symbol(i)} and the position holds no ${symbol(i)} collateral to sell`;
          return undefined;
        }
        actions.push(swap);
      } else {
        // Pay (-v) / (1 - maxSlippage) of value so that the least bought covers the short delta.
        const pay = (-v * VALUE_SCALE * RATIO_SCALE) / (RATIO_SCALE - policy.maxSlippage);
        const payers = safest.filter((j) => j !== i && allowance.sellable[j]);
        let chosen: SwapAction | undefined;
        for (const j of payers) {
          const amountIn = amountForValue(market, j, pay) + 1n;
          if (amountIn > state.position.collateral[j]!) continue;
          chosen = worstSwap(market, policy, j, amountIn, i, ctx.pricing);
          if (chosen) break;
        }
        if (!chosen) {
          const held = payers.filter((j) => state.position.collateral[j]! > 0n).map(symbol);
          failure = `covering the ${symbol(i)} delta means buying about ${money(-v)} of ${symbol(i)} and no sellable collateral covers it (sellable collateral held: ${held.join(", ") || "none"})`;
          return undefined;
        }
        actions.push(chosen);
      }
    }
    return actions;
  };

  const delta = (actions: readonly Action[]): bigint[] | undefined => {
    const state = stateOf(ctx, actions);
    return state && portfolioDelta(state.position, market);
  };

  let current = delta(base);
  if (!current) return { actions: [], problems: ["the actions before the hedge cannot be applied"] };
  for (const i of assets) if (abs(current[i]!) > band) target.set(i, current[i]!);
  if (target.size === 0) return { actions: [], problems: [] };

  for (let iteration = 0; iteration < 12; iteration++) {
    const hedges = build();
    if (!hedges) return { actions: [], problems: [failure || `the hedge of ${[...target.keys()].map(symbol).join(", ")} cannot be executed`] };
    current = delta([...base, ...hedges]);
    if (!current) {
      return { actions: [], problems: [`the hedge (${hedges.length} swaps) cannot be applied: at most the instance's swap slots, within the balances`] };
    }
    let inside = true;
    for (const i of assets) {
      if (abs(current[i]!) <= band) continue;
      inside = false;
      const before = target.get(i) ?? 0n;
      const next = before + current[i]!;
      // Selling everything held and still long: more cannot be sold.
      if (next > 0n && before > 0n && hedges.some((s) => s.sell === i && s.amountIn >= (stateOf(ctx, base)?.position.collateral[i] ?? 0n))) {
        return { actions: [], problems: [`selling all the ${symbol(i)} collateral leaves its delta at ${money(current[i]!)}, outside the band +-${money(band)}`] };
      }
      target.set(i, next);
    }
    if (inside) return { actions: hedges, problems: [] };
  }
  return { actions: [], problems: ["the hedge amounts do not settle inside the band"] };
}
