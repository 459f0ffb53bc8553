/**
 * Portfolio delta in quote units per asset: the net value of the asset plus the delta-mapped
 * instruments on it,
 *
 *     x_i = (vc_i - vd_i) + round( sum_{k: u(k)=i} q_k * delta_k * p_i / 10^16 )
 *
 * exactly the exposure vector of the parametric VaR (docs/risk-arithmetic.md, section 6), and
 * the hedges that bring |x_i| inside a band with an allowed instrument on asset i.
 */
import { formatDecimal, formatHuman } from "../core/decimal.ts";
import { QUANTITY_DECIMALS, QUANTITY_SCALE, RATE_SCALE } from "../core/fixed-point.ts";
import type { Instrument, InstrumentKind, Market, Position } from "../inputs/types.ts";
import { exposures } from "../model/parametric-var.ts";
import { roundHalfAway } from "../model/rounding.ts";
import { assetValues } from "../model/values.ts";
import type { Action, HedgeAction } from "./actions.ts";
import { safestAssets, stateOf, type PlannerContext } from "./search.ts";
import { worstHedgeBuy, worstHedgeSell } from "./trades.ts";

/** x_i per market asset, q.u. */
export function portfolioDelta(position: Position, market: Market): bigint[] {
  return exposures(assetValues(position, market), position, market);
}

/** Assets that underlie at least one market instrument, in market order. */
export function underlyings(market: Market): number[] {
  return [...new Set(market.instruments.map((k) => k.underlying))].sort((a, b) => a - b);
}

const KIND_PREFERENCE: Record<InstrumentKind, number> = { perp: 0, future: 1, call: 2, put: 2 };
const abs = (x: bigint): bigint => (x < 0n ? -x : x);

/**
 * The allowed instrument that hedges asset i: tradable, on i, with a nonzero delta and a mark
 * >= 0 (a negative mark cannot be traded within docs/rebalance.md's cash legs); perpetuals
 * first, then futures, then options with the largest |delta|.
 */
export function hedgeInstrument(market: Market, tradable: readonly boolean[], asset: number): number | undefined {
  return hedgeCandidates(market, tradable, asset)[0];
}

/** Every allowed instrument that can hedge asset i, best first (see hedgeInstrument). */
export function hedgeCandidates(market: Market, tradable: readonly boolean[], asset: number): number[] {
  const candidates = market.instruments
    .map((k, index) => ({ k, index }))
    .filter(({ k, index }) => tradable[index] && k.underlying === asset && k.delta !== 0n && k.mark >= 0n);
  candidates.sort((a, b) => {
    const kind = KIND_PREFERENCE[a.k.kind] - KIND_PREFERENCE[b.k.kind];
    if (kind !== 0) return kind;
    const da = abs(a.k.delta);
    const db = abs(b.k.delta);
    return da === db ? a.index - b.index : da > db ? -1 : 1;
  });
  return candidates.map((c) => c.index);
}

/** Contracts (QTY) of k that offset `exposure` q.u. of its underlying: -x * 10^16 / (delta * p). */
function offsetting(exposure: bigint, k: Instrument, market: Market): bigint {
  return roundHalfAway(-exposure * QUANTITY_SCALE * RATE_SCALE, k.delta * market.assets[k.underlying]!.price);
}

export interface HedgePlan {
  actions: HedgeAction[];
  /** Per asset: why it could not be hedged (no instrument, no cash). */
  problems: string[];
}

/**
 * Hedge actions (after `base`) bringing |x_i| <= band for every asset in `assets`: one trade
 * per out-of-band asset in its hedge instrument, buying paid from sellable collateral (safest
 * asset first, the hedged asset last) and selling received into the safest other asset, each at
 * the worst price the policy allows; the quantities are adjusted until every x_i is inside the
 * band (the cash legs move the deltas too).
 */
export function deltaHedges(ctx: PlannerContext, base: readonly Action[], assets: readonly number[], band: bigint): HedgePlan {
  const { market, policy, allowance } = ctx;
  const safest = safestAssets(market);
  const problems: string[] = [];
  const quantity = new Map<number, bigint>(); // asset -> signed contracts of its hedge instrument
  const instrument = new Map<number, number>();

  let failure = "";
  const build = (): HedgeAction[] | undefined => {
    const actions: HedgeAction[] = [];
    failure = "";
    for (const [asset, q] of quantity) {
      if (q === 0n) continue;
      const k = instrument.get(asset)!;
      const state = stateOf(ctx, [...base, ...actions]);
      if (!state) return undefined;
      if (q > 0n) {
        const payers = [...safest.filter((s) => s !== asset), asset].filter((s) => allowance.sellable[s] || market.instruments[k]!.mark === 0n);
        let action: HedgeAction | undefined;
        for (const s of payers) {
          const h = worstHedgeBuy(market, policy, k, q, s);
          if (h && h.cash <= state.position.collateral[s]!) {
            action = h;
            break;
          }
        }
        if (!action) {
          const id = market.instruments[k]!.id;
          const price = (q * market.instruments[k]!.mark) / QUANTITY_SCALE;
          const held = market.assets.filter((_, s) => allowance.sellable[s] && state.position.collateral[s]! > 0n).map((a) => a.symbol);
          failure =
            `hedging ${market.assets[asset]!.symbol} means buying ${formatDecimal(q, QUANTITY_DECIMALS)} contracts of ${id} ` +
            `(about ${formatHuman(price, market.quote.decimals)} ${market.quote.symbol} at the mark, plus slippage) and no sellable collateral covers it ` +
            `(sellable collateral held: ${held.join(", ") || "none"})`;
          return undefined;
        }
        actions.push(action);
      } else {
        const receivers = [...safest.filter((r) => r !== asset), asset];
        const action = receivers.map((r) => worstHedgeSell(market, policy, k, -q, r)).find((h) => h !== undefined);
        if (!action) {
          failure = `selling ${formatDecimal(-q, QUANTITY_DECIMALS)} contracts of ${market.instruments[k]!.id} cannot be priced within the policy's slippage`;
          return undefined;
        }
        actions.push(action);
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
  for (const i of assets) {
    if (abs(current[i]!) <= band) continue;
    const candidates = hedgeCandidates(market, allowance.tradable, i);
    if (candidates.length === 0) {
      problems.push(`${market.assets[i]!.symbol} has no tradable instrument with a nonzero delta and a mark >= 0`);
      continue;
    }
    // The first candidate whose trade can be built (a purchase needs sellable collateral to pay).
    let chosen = candidates[0]!;
    for (const k of candidates) {
      instrument.set(i, k);
      quantity.set(i, offsetting(current[i]!, market.instruments[k]!, market));
      if (build()) {
        chosen = k;
        break;
      }
    }
    instrument.set(i, chosen);
    quantity.set(i, offsetting(current[i]!, market.instruments[chosen]!, market));
  }
  if (problems.length > 0) return { actions: [], problems };

  for (let iteration = 0; iteration < 12; iteration++) {
    const hedges = build();
    if (!hedges) {
      const names = [...quantity.keys()].map((i) => market.assets[i]!.symbol).join(", ");
      return { actions: [], problems: [failure || `the hedge of ${names} cannot be executed`] };
    }
    current = delta([...base, ...hedges]);
    if (!current) return { actions: [], problems: ["the hedge cannot be applied"] };
    let inside = true;
    for (const i of assets) {
      if (abs(current[i]!) <= band) continue;
      inside = false;
      const k = instrument.get(i) ?? hedgeInstrument(market, allowance.tradable, i);
      if (k === undefined) return { actions: [], problems: [`${market.assets[i]!.symbol} has no tradable instrument to hedge with`] };
      instrument.set(i, k);
      quantity.set(i, (quantity.get(i) ?? 0n) + offsetting(current[i]!, market.instruments[k]!, market));
    }
    if (inside) return { actions: roundQuantities(ctx, base, assets, band, quantity, build, hedges), problems: [] };
  }
  return { actions: [], problems: ["the hedge quantities do not settle inside the band"] };
}

/** Rounds each hedge quantity to fewer significant digits where the deltas stay inside the band. */
function roundQuantities(
  ctx: PlannerContext,
  base: readonly Action[],
  assets: readonly number[],
  band: bigint,
  quantity: Map<number, bigint>,
  build: () => HedgeAction[] | undefined,
  exact: HedgeAction[],
): HedgeAction[] {
  let best = exact;
  for (const [asset, q] of [...quantity]) {
    const magnitude = abs(q);
    for (let digits = 2; digits <= 8; digits++) {
      const length = magnitude.toString().length;
      if (length <= digits) break;
      const unit = 10n ** BigInt(length - digits);
      const rounded = ((magnitude + unit / 2n) / unit) * unit;
      quantity.set(asset, q < 0n ? -rounded : rounded);
      const hedges = build();
      const state = hedges && stateOf(ctx, [...base, ...hedges]);
      const x = state && portfolioDelta(state.position, ctx.market);
      if (hedges && x && assets.every((i) => abs(x[i]!) <= band)) {
        best = hedges;
        break;
      }
      quantity.set(asset, q);
    }
  }
  return build() ?? best;
}
