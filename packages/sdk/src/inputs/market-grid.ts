/**
 * The portfolio-margin grid (docs/portfolio-margin-grid.md): from a market file, the scenarios of
 * a spot x volatility grid, by default 9 spot moves x 3 volatility moves = 27 scenarios, the grid
 * of Derive's PMRM and Deribit's portfolio margin, each instrument fully revalued by Black-Scholes
 * (zero rates, an instantaneous shock: no time passes).
 *
 * - Spot: `spotPoints` moves evenly over [-range_i, +range_i] per asset, every asset moving by the
 *   same fraction of its own range in a scenario (the joint moves of the SPAN example grid).
 *   range_i is given per asset, or is `spotRange` scaled by the asset's daily volatility over the
 *   most volatile asset's (sqrt of the covariance diagonal), so that every asset moves by the same
 *   number of standard deviations: 15% for WETH gives WBTC 12% and USDC 0.21% in the example
 *   market, the example grid's own ranges for WETH and WBTC.
 * - Volatility: each move v scales every option's volatility to sigma * (1 + v).
 * - Options (call, put) before expiry: PnL per contract g = BS(S (1 + r), sigma (1 + v)) - BS(S, sigma),
 *   sigma the instrument's `impliedVol` field when the file has one, else the volatility implied
 *   by its mark (inverted by bisection; the model's price at the centre is then the mark). An
 *   option at or after expiry is worth its intrinsic value; futures and perpetuals move linearly,
 *   g = delta * S * r, and not with volatility.
 *
 * Figures are rounded half away from zero to the file's scales (returns at 8 decimals, PnL at
 * the quote's decimals); the output is the input file with its scenarios replaced, checked by the
 * market parser before it is returned. Pure: no Node built-ins.
 */
import { InputError } from "../core/errors.ts";
import { formatDecimal } from "../core/decimal.ts";
import { RATE_DECIMALS } from "../core/fixed-point.ts";
import { blackScholes, impliedVol } from "../backtest/black-scholes.ts";
import { parseMarket } from "./parse-market.ts";
import type { Market } from "./types.ts";

/** The default grid: 9 spot moves over +-15% (the most volatile asset) x volatility -30%, unchanged, +30%. */
export const DEFAULT_SPOT_RANGE = 0.15;
export const DEFAULT_SPOT_POINTS = 9;
export const DEFAULT_VOL_MOVES: readonly number[] = [-0.3, 0, 0.3];
/** At most this many scenarios: the largest Solvency instance's slots (health-var-3x3x250). */
export const MAX_GRID_SCENARIOS = 250;

export interface GridOptions {
  /** Range of the most volatile asset, a fraction in (0, 1); the others scale by their volatility. Default 0.15. */
  spotRange?: number;
  /** Per asset symbol, its range, a fraction in [0, 1): overrides the scaled range (0 keeps the asset still). */
  assetRanges?: Readonly<Record<string, number>>;
  /** Spot moves per asset, >= 2 (default 9): evenly spaced from -range to +range. */
  spotPoints?: number;
  /** Relative volatility moves, each > -1 (default -0.3, 0, +0.3). */
  volMoves?: readonly number[];
}

export interface GridAssetRange {
  symbol: string;
  /** The fraction its price moves at the grid's edge. */
  range: number;
  /** "given" (assetRanges) or "scaled" (spotRange x its volatility over the most volatile asset's). */
  source: "given" | "scaled";
}

export interface GridInstrumentPricing {
  id: string;
  /** "black-scholes", "intrinsic" (at or after expiry) or "linear" (futures and perpetuals). */
  method: "black-scholes" | "intrinsic" | "linear";
  /** The annual volatility the option is priced at (black-scholes only). */
  vol?: number;
  /** Where it comes from: the file's `impliedVol`, or inverted from the mark. */
  volSource?: "impliedVol field" | "implied by the mark";
}

export interface MarketGrid {
  /** The market file (JSON) with `scenarios` replaced by the grid. */
  json: Record<string, unknown>;
  /** The same, parsed. */
  market: Market;
  ranges: GridAssetRange[];
  instruments: GridInstrumentPricing[];
  spotPoints: number;
  volMoves: number[];
}

const YEAR_SECONDS = 365 * 86_400;

/** round(x * 10^decimals) as a decimal string, halves away from zero. */
function fixed(x: number, decimals: number): string {
  const scaled = Math.round(Math.abs(x) * 10 ** decimals);
  return formatDecimal(BigInt(Math.sign(x) < 0 ? -scaled : scaled), decimals);
}

const percent = (x: number): string => `${x > 0 ? "+" : ""}${Number((x * 100).toFixed(4))}%`;

/** "price -4/4 range" for the j-th of n spot points: the move as a fraction of the range. */
function spotLabel(j: number, n: number): string {
  let num = 2 * j - (n - 1);
  let den = n - 1;
  if (den % 2 === 0) {
    num /= 2;
    den /= 2;
  }
  return `price ${num >= 0 ? "+" : ""}${num}/${den} range`;
}

const volLabel = (v: number): string => (v === 0 ? "vol unchanged" : `vol ${percent(v)}`);

function checkOptions(options: GridOptions, market: Market): { spotPoints: number; volMoves: number[]; spotRange: number } {
  const fail = (flag: string, problem: string): never => {
    throw new InputError(flag, "", problem);
  };
  const spotRange = options.spotRange ?? DEFAULT_SPOT_RANGE;
  if (!(spotRange > 0 && spotRange < 1)) fail("--spot-range", `the range must be a fraction in (0, 1), got ${spotRange}`);
  const spotPoints = options.spotPoints ?? DEFAULT_SPOT_POINTS;
  if (!Number.isInteger(spotPoints) || spotPoints < 2) fail("--spot-points", `expected an integer >= 2, got ${spotPoints}`);
  const volMoves = [...(options.volMoves ?? DEFAULT_VOL_MOVES)];
  if (volMoves.length === 0) fail("--vol-moves", "expected at least one volatility move");
  for (const v of volMoves) {
    if (!Number.isFinite(v) || v <= -1 || v > 10) fail("--vol-moves", `each move must be in (-1, 10] (a volatility of sigma * (1 + move) > 0), got ${v}`);
  }
  if (new Set(volMoves).size !== volMoves.length) fail("--vol-moves", `a move is listed twice (${volMoves.join(", ")})`);
  const total = spotPoints * volMoves.length;
  if (total > MAX_GRID_SCENARIOS)
    fail("--spot-points", `${spotPoints} spot x ${volMoves.length} volatility moves are ${total} scenarios, above the ${MAX_GRID_SCENARIOS} of the largest instance`);
  for (const [symbol, range] of Object.entries(options.assetRanges ?? {})) {
    if (!market.assets.some((a) => a.symbol === symbol)) fail("--spot-range", `unknown asset "${symbol}" (the market has ${market.assets.map((a) => a.symbol).join(", ")})`);
    if (!(range >= 0 && range < 1)) fail("--spot-range", `${symbol}'s range must be a fraction in [0, 1), got ${range}`);
  }
  return { spotPoints, volMoves, spotRange };
}

/** Each asset's range: given, or spotRange x sigma_i / sigma_max (spotRange for all when no asset has a variance). */
function assetRanges(market: Market, spotRange: number, given: Readonly<Record<string, number>>): GridAssetRange[] {
  const sigma = market.assets.map((_, i) => Math.sqrt(Number(market.covariance.matrix[i]![i]!)));
  const largest = Math.max(...sigma);
  return market.assets.map((a, i) => {
    // Own properties only: a symbol such as "constructor" must not find Object.prototype's.
    const explicit = Object.hasOwn(given, a.symbol) ? given[a.symbol] : undefined;
    if (explicit !== undefined) return { symbol: a.symbol, range: explicit, source: "given" as const };
    return { symbol: a.symbol, range: largest > 0 ? (spotRange * sigma[i]!) / largest : spotRange, source: "scaled" as const };
  });
}

/** `instruments[k].impliedVol`, when the file gives one: an annual volatility as a decimal string in (0, 10]. */
function fileVol(raw: unknown, k: number, source: string): number | undefined {
  const instrument = (raw as { instruments?: unknown[] }).instruments?.[k] as Record<string, unknown> | undefined;
  const text = instrument?.impliedVol;
  if (text === undefined) return undefined;
  const field = `instruments[${k}].impliedVol`;
  if (typeof text !== "string" || !/^\d+(\.\d+)?$/.test(text))
    throw new InputError(source, field, `expected an annual volatility as a decimal string like "0.62", got ${JSON.stringify(text)}`);
  const vol = Number(text);
  if (!(vol > 0 && vol <= 10)) throw new InputError(source, field, `must be in (0, 10], got "${text}"`);
  return vol;
}

type Pricer = (r: number, v: number) => number;

/** How instrument k is revalued: its PnL per contract for a spot move r and a volatility move v, in quote units. */
function pricer(raw: unknown, market: Market, k: number, source: string): { pnl: Pricer; info: GridInstrumentPricing } {
  const instrument = market.instruments[k]!;
  const decimals = market.quote.decimals;
  const toFloat = (x: bigint): number => Number(x) / 10 ** decimals;
  const spot = toFloat(market.assets[instrument.underlying]!.price);
  if (instrument.kind === "future" || instrument.kind === "perp") {
    const delta = Number(instrument.delta) / 10 ** RATE_DECIMALS;
    return { pnl: (r) => delta * spot * r, info: { id: instrument.id, method: "linear" } };
  }
  const option = instrument.kind;
  const strike = toFloat(instrument.strike);
  const years = (instrument.expiry - market.timestamp) / YEAR_SECONDS;
  if (!(years > 0)) {
    const now = blackScholes(option, spot, strike, 0, 0).price;
    return { pnl: (r) => blackScholes(option, spot * (1 + r), strike, 0, 0).price - now, info: { id: instrument.id, method: "intrinsic" } };
  }
  const given = fileVol(raw, k, source);
  const vol = given ?? impliedVol(option, toFloat(instrument.mark), spot, strike, years);
  if (vol === undefined) {
    const intrinsic = blackScholes(option, spot, strike, 0, 0).price;
    throw new InputError(
      source,
      `instruments[${k}].mark`,
      `${formatDecimal(instrument.mark, decimals)} is a price no volatility in [0.0001, 10] gives this ${option} (intrinsic value ${intrinsic.toFixed(2)}): give its volatility as instruments[${k}].impliedVol`,
    );
  }
  const centre = blackScholes(option, spot, strike, years, vol).price;
  return {
    pnl: (r, v) => blackScholes(option, spot * (1 + r), strike, years, vol * (1 + v)).price - centre,
    info: { id: instrument.id, method: "black-scholes", vol, volSource: given === undefined ? "implied by the mark" : "impliedVol field" },
  };
}

/**
 * The market file `json` (read from `source`) with its scenarios replaced by the spot x volatility
 * grid. Throws InputError (exit 2) naming the file and field for a bad market, or the option
 * (`--spot-range`, `--spot-points`, `--vol-moves`) for bad options.
 */
export function portfolioMarginGrid(json: unknown, source: string, options: GridOptions = {}): MarketGrid {
  const market = parseMarket(json, source);
  const { spotPoints, volMoves, spotRange } = checkOptions(options, market);
  const ranges = assetRanges(market, spotRange, options.assetRanges ?? {});
  const pricers = market.instruments.map((_, k) => pricer(json, market, k, source));
  const items: Record<string, unknown>[] = [];
  for (let j = 0; j < spotPoints; j++) {
    const fraction = (2 * j) / (spotPoints - 1) - 1;
    const assetReturns: Record<string, string> = {};
    const returns = ranges.map((a) => a.range * fraction);
    ranges.forEach((a, i) => {
      const text = fixed(returns[i]!, RATE_DECIMALS);
      if (text !== "0") assetReturns[a.symbol] = text;
    });
    for (const v of volMoves) {
      const instrumentPnl: Record<string, string> = {};
      market.instruments.forEach((instrument, k) => {
        // The move the file's return says, to the digit: what the circuit and the model apply to the asset.
        const r = Number(assetReturns[market.assets[instrument.underlying]!.symbol] ?? "0");
        const text = fixed(pricers[k]!.pnl(r, v), market.quote.decimals);
        if (text !== "0") instrumentPnl[instrument.id] = text;
      });
      items.push({ name: `${spotLabel(j, spotPoints)}, ${volLabel(v)}`, assetReturns, instrumentPnl });
    }
  }
  const out: Record<string, unknown> = { ...(json as Record<string, unknown>), scenarios: { kind: "grid", items } };
  // The grid must be a market every command reads: the parser's bounds (the circuits') hold for it.
  const parsed = parseMarket(out, `${source} (with the grid)`);
  return { json: out, market: parsed, ranges, instruments: pricers.map((p) => p.info), spotPoints, volMoves };
}
