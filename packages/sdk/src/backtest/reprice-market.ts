/**
 * The market at a step of a price path: the market file with its asset prices moved by the
 * path's factors and its instruments' marks and deltas moved with their underlyings
 * (docs/backtest.md, "Repricing"):
 *
 * - options (call, put) are repriced by Black-Scholes at the volatility implied by the file's
 *   mark (sticky strike, zero rates) as their expiry draws nearer; the file's mark and delta
 *   are kept as the anchor and move by the model's change, so step 0 is the file exactly:
 *       m(t) = max(0, m0 + BS(S_t, T_t) - BS(S_0, T_0)),  delta(t) = delta0 + BSdelta(t) - BSdelta(0)
 *   (delta clamped to [0, 1] for a call, [-1, 0] for a put); an option whose mark no
 *   volatility reproduces moves linearly like a future, its mark floored at 0;
 * - futures and perpetuals move linearly: m(t) = m0 + delta0 * (S_t - S_0), delta unchanged;
 * - each scenario's PnL per contract keeps the oracle's published figure as its anchor and
 *   moves by the change of the model's PnL for the scenario's return r_j of the underlying:
 *       g_j(t) = g_j(0) + [P(S_t (1 + r_j), T_t) - P(S_t, T_t)] - [P(S_0 (1 + r_j), T_0) - P(S_0, T_0)]
 *   with P the instrument's pricing above (for a future, delta0 * r_j * (S_t - S_0)), so a
 *   short call's stress loss grows as the call goes into the money, while what the oracle put
 *   in beyond the spot move (a volatility shock, say) stays as published;
 * - the epoch advances one per step and the timestamp with the path's days; the scenario
 *   returns, weights and the covariance are kept as published (a real oracle would re-estimate
 *   them every epoch).
 */
import { RATE_DECIMALS, RATE_SCALE } from "../core/fixed-point.ts";
import type { Instrument, Market } from "../inputs/types.ts";
import { blackScholes, impliedVol, type OptionQuote } from "./black-scholes.ts";

const DAY_SECONDS = 86_400;
const YEAR_SECONDS = 365 * DAY_SECONDS;

type InstrumentPricing =
  { kind: "black-scholes"; option: "call" | "put"; vol: number; strike: number; anchor: OptionQuote; anchorScenarioPnl: number[] } | { kind: "linear"; floorAtZero: boolean };

export interface RepricingModel {
  base: Market;
  instruments: InstrumentPricing[];
}

const toFloat = (value: bigint, decimals: number): number => Number(value) / 10 ** decimals;
const toUnits = (value: number, decimals: number): bigint => BigInt(Math.round(value * 10 ** decimals));

/** How each instrument of `base` moves; options get the volatility implied by their mark. */
export function repricingModel(base: Market): RepricingModel {
  const decimals = base.quote.decimals;
  const instruments = base.instruments.map((k): InstrumentPricing => {
    if (k.kind !== "call" && k.kind !== "put") return { kind: "linear", floorAtZero: false };
    const spot = toFloat(base.assets[k.underlying]!.price, decimals);
    const strike = toFloat(k.strike, decimals);
    const years = (k.expiry - base.timestamp) / YEAR_SECONDS;
    const vol = impliedVol(k.kind, toFloat(k.mark, decimals), spot, strike, years);
    if (vol === undefined) return { kind: "linear", floorAtZero: true };
    const anchor = blackScholes(k.kind, spot, strike, years, vol);
    const anchorScenarioPnl = base.scenarios.map((s) =>
      scenarioModelPnl(k.kind as "call" | "put", spot, strike, years, vol, anchor.price, returnOf(s.assetReturns[k.underlying]!)),
    );
    return { kind: "black-scholes", option: k.kind, vol, strike, anchor, anchorScenarioPnl };
  });
  return { base, instruments };
}

/** Which instruments are repriced by Black-Scholes (with their implied volatility) and which linearly. */
export function repricingSummary(model: RepricingModel): { id: string; method: string }[] {
  return model.base.instruments.map((k, index) => {
    const pricing = model.instruments[index]!;
    return {
      id: k.id,
      method: pricing.kind === "black-scholes" ? `Black-Scholes, implied volatility ${(pricing.vol * 100).toFixed(1)}%` : "linear in the underlying (delta held)",
    };
  });
}

/** The market after `day` days of the path, with prices at `factors` times the file's; `step` numbers the epoch. */
export function repriceMarket(model: RepricingModel, factors: readonly number[], day: number, step: number): Market {
  const { base } = model;
  if (factors.length !== base.assets.length) throw new RangeError(`repriceMarket: ${factors.length} factors for ${base.assets.length} assets`);
  if (step === 0 && day === 0 && factors.every((f) => f === 1)) return base;
  const decimals = base.quote.decimals;
  const timestamp = base.timestamp + Math.round(day * DAY_SECONDS);
  const assets = base.assets.map((a, i) => {
    const price = BigInt(Math.round(Number(a.price) * factors[i]!));
    return { ...a, price: price > 0n ? price : 1n };
  });
  // pnlShift[k][j]: what scenario j's PnL per contract of instrument k moves by (q.u.).
  const pnlShift: bigint[][] = [];
  const instruments = base.instruments.map((k, index): Instrument => {
    const pricing = model.instruments[index]!;
    const spot0 = base.assets[k.underlying]!.price;
    const spot = assets[k.underlying]!.price;
    if (pricing.kind === "linear") {
      pnlShift.push(base.scenarios.map((s) => roundDiv(k.delta * s.assetReturns[k.underlying]! * (spot - spot0), RATE_SCALE * RATE_SCALE)));
      const moved = k.mark + roundDiv(k.delta * (spot - spot0), RATE_SCALE);
      return { ...k, mark: pricing.floorAtZero && moved < 0n ? 0n : moved };
    }
    const years = (k.expiry - timestamp) / YEAR_SECONDS;
    const spotNow = toFloat(spot, decimals);
    const now = blackScholes(pricing.option, spotNow, pricing.strike, years, pricing.vol);
    pnlShift.push(
      base.scenarios.map((s, j) => {
        const pnl = scenarioModelPnl(pricing.option, spotNow, pricing.strike, years, pricing.vol, now.price, returnOf(s.assetReturns[k.underlying]!));
        return toUnits(pnl - pricing.anchorScenarioPnl[j]!, decimals);
      }),
    );
    const mark = toFloat(k.mark, decimals) + now.price - pricing.anchor.price;
    const delta = toFloat(k.delta, RATE_DECIMALS) + now.delta - pricing.anchor.delta;
    const [lo, hi] = pricing.option === "call" ? [0, 1] : [-1, 0];
    return { ...k, mark: mark > 0 ? toUnits(mark, decimals) : 0n, delta: toUnits(Math.min(hi, Math.max(lo, delta)), RATE_DECIMALS) };
  });
  const scenarios = base.scenarios.map((s, j) => ({ ...s, instrumentPnl: s.instrumentPnl.map((g, k) => g + pnlShift[k]![j]!) }));
  return { ...base, epoch: base.epoch + step, timestamp, assets, instruments, scenarios };
}

const returnOf = (rate: bigint): number => Number(rate) / Number(RATE_SCALE);

/** The model's PnL per contract of an option worth `price` at `spot` when the underlying moves by `r`. */
function scenarioModelPnl(option: "call" | "put", spot: number, strike: number, years: number, vol: number, price: number, r: number): number {
  return blackScholes(option, spot * (1 + r), strike, years, vol).price - price;
}

/** round(a / b), halves away from zero, b > 0. */
function roundDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  const r = a % b;
  if (2n * (r < 0n ? -r : r) >= b) return q + (a < 0n ? -1n : 1n);
  return q;
}
