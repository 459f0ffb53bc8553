/**
 * market.json (formats.md, version 1) -> Market in exact fixed point, every value checked
 * and laid out in the market's own asset / instrument order (the commitment's slots).
 */
import { BPS_DECIMALS, BPS_SCALE, COVARIANCE_DECIMALS, DEBT_INDEX_DECIMALS, DEBT_INDEX_LIMIT, DEBT_INDEX_SCALE, RATE_DECIMALS } from "../core/fixed-point.ts";
import { BOUND_BITS } from "../model/bounds.ts";
import { formatDecimal } from "../core/decimal.ts";
import { Fields, NON_NEGATIVE, POSITIVE, readRaw, type Bounds } from "./fields.ts";
import { marketSchema, type RawCovariance, type RawInstrument, type RawMarket, type RawScenario } from "./schemas.ts";
import type { Asset, Covariance, Instrument, Market, Scenario } from "./types.ts";

/**
 * |x| < 2^bits: the market values the circuits range-check (docs/risk-arithmetic.md, "Bounds"), so a
 * market file the circuits would refuse is refused here, naming the field, before any root or
 * figure is computed from it.
 */
const magnitudeBelow = (bits: number): Bounds => ({ min: -(1n << BigInt(bits)), max: 1n << BigInt(bits), minOpen: true, maxOpen: true });
const MARK = magnitudeBelow(BOUND_BITS.mark);
const PNL = magnitudeBelow(BOUND_BITS.pnl);
const RATE = magnitudeBelow(BOUND_BITS.assetReturn);
const DELTA = magnitudeBelow(BOUND_BITS.delta);
const COVARIANCE = magnitudeBelow(BOUND_BITS.covariance);

/** Symbol / id -> index in the market's order. */
interface Names {
  assets: Map<string, number>;
  instruments: Map<string, number>;
}

export function parseMarket(json: unknown, source: string): Market {
  const raw = readRaw(marketSchema, json, source);
  const at = new Fields(source);
  const quoteDecimals = raw.quote.decimals;
  const names: Names = {
    assets: at.uniqueNames(
      "assets",
      "symbol",
      raw.assets.map((a) => a.symbol),
    ),
    instruments: at.uniqueNames(
      "instruments",
      "id",
      raw.instruments.map((k) => k.id),
    ),
  };
  return {
    version: 1,
    epoch: raw.epoch,
    timestamp: raw.timestamp,
    quote: { symbol: raw.quote.symbol, decimals: quoteDecimals },
    assets: raw.assets.map((asset, i) => parseAsset(at, asset, `assets[${i}]`, quoteDecimals)),
    instruments: raw.instruments.map((k, i) => parseInstrument(at, k, `instruments[${i}]`, names, quoteDecimals)),
    scenarioKind: raw.scenarios.kind,
    scenarios: raw.scenarios.items.map((s, j) => parseScenario(at, s, `scenarios.items[${j}]`, names, quoteDecimals)),
    covariance: parseCovariance(at, raw.covariance, names.assets),
  };
}

function parseAsset(at: Fields, raw: RawMarket["assets"][number], path: string, quoteDecimals: number): Asset {
  // decimals <= 18 (the circuits prove each scale 10^decimals with decimals <= 18, and divide by
  // it) and quote.decimals <= 8 are the schema's (schemas.ts), checked before this runs.
  return {
    symbol: raw.symbol,
    decimals: raw.decimals,
    price: parsePrice(at, `${path}.price`, raw.price, quoteDecimals),
    liquidationThreshold: at.decimal(`${path}.liquidationThreshold`, raw.liquidationThreshold, BPS_DECIMALS, {
      min: 0n,
      max: BPS_SCALE,
    }),
    // An index below 1 would value debt below its units; 2^64 is what the market root packs.
    debtIndex: at.decimal(`${path}.debtIndex`, raw.debtIndex ?? "1", DEBT_INDEX_DECIMALS, {
      min: DEBT_INDEX_SCALE,
      max: DEBT_INDEX_LIMIT,
      maxOpen: true,
    }),
  };
}

/** > 0 (a price of 0 values everything at 0), then below 2^64 quote units: the circuits' price slot. */
function parsePrice(at: Fields, path: string, text: string, quoteDecimals: number): bigint {
  const price = at.decimal(path, text, quoteDecimals, POSITIVE);
  const limit = 1n << BigInt(BOUND_BITS.price);
  if (price >= limit) at.fail(path, `must be < ${formatDecimal(limit, quoteDecimals)} (2^${BOUND_BITS.price} quote units), got "${text}"`);
  return price;
}

function parseInstrument(at: Fields, raw: RawInstrument, path: string, names: Names, quoteDecimals: number): Instrument {
  // An option without strike or expiry cannot be valued; futures and perps may omit both.
  const isOption = raw.kind === "call" || raw.kind === "put";
  if (isOption && raw.strike === undefined) at.fail(`${path}.strike`, `required for a ${raw.kind}`);
  if (isOption && raw.expiry === undefined) at.fail(`${path}.expiry`, `required for a ${raw.kind}`);
  return {
    id: raw.id,
    underlying: at.lookup(`${path}.underlying`, raw.underlying, names.assets, `asset "${raw.underlying}"`),
    kind: raw.kind,
    strike: raw.strike === undefined ? 0n : at.decimal(`${path}.strike`, raw.strike, quoteDecimals, NON_NEGATIVE),
    expiry: raw.expiry ?? 0,
    mark: at.decimal(`${path}.mark`, raw.mark, quoteDecimals, MARK),
    delta: at.decimal(`${path}.delta`, raw.delta, RATE_DECIMALS, DELTA),
  };
}

function parseScenario(at: Fields, raw: RawScenario, path: string, names: Names, quoteDecimals: number): Scenario {
  const weight = raw.weight ?? "1";
  return {
    name: raw.name,
    weight: at.decimal(`${path}.weight`, weight, BPS_DECIMALS, { min: 0n, minOpen: true, max: BPS_SCALE }),
    assetReturns: at.byName(raw.assetReturns, `${path}.assetReturns`, names.assets, "asset", (field, text) => at.decimal(field, text, RATE_DECIMALS, RATE)),
    instrumentPnl: at.byName(raw.instrumentPnl, `${path}.instrumentPnl`, names.instruments, "instrument", (field, text) => at.decimal(field, text, quoteDecimals, PNL)),
  };
}

function parseCovariance(at: Fields, raw: RawCovariance, assets: ReadonlyMap<string, number>): Covariance {
  // 1 <= horizonDays <= 1023 is the schema's (schemas.ts), as the circuits check it.
  const order = covarianceOrder(at, raw.assets, assets);
  const file = covarianceMatrix(at, raw.matrix, order.length);
  // order[f] is the market index of file row f; invert it to read rows in market order.
  const fileRow = new Array<number>(order.length);
  order.forEach((marketIndex, f) => (fileRow[marketIndex] = f));
  return {
    matrix: fileRow.map((f) => fileRow.map((g) => file[f]![g]!)),
    horizonDays: raw.horizonDays,
  };
}

/** Market index of each covariance.assets entry; every market asset exactly once. */
function covarianceOrder(at: Fields, listed: readonly string[], assets: ReadonlyMap<string, number>): number[] {
  const seen = new Map<number, number>();
  const order = listed.map((symbol, f) => {
    const path = `covariance.assets[${f}]`;
    const index = at.lookup(path, symbol, assets, `asset "${symbol}"`);
    const first = seen.get(index);
    if (first !== undefined) at.fail(path, `duplicate asset "${symbol}" (also covariance.assets[${first}])`);
    seen.set(index, f);
    return index;
  });
  const missing = [...assets.keys()].filter((_, i) => !seen.has(i));
  if (missing.length > 0) {
    at.fail("covariance.assets", `missing ${missing.join(", ")} (every market asset needs a row)`);
  }
  return order;
}

/** The file's matrix at COVARIANCE_DECIMALS: n x n, exactly symmetric, diagonal >= 0. */
function covarianceMatrix(at: Fields, rows: readonly (readonly string[])[], n: number): bigint[][] {
  if (rows.length !== n) {
    at.fail("covariance.matrix", `expected ${n} rows (one per covariance.assets entry), got ${rows.length}`);
  }
  const matrix = rows.map((row, i) => {
    if (row.length !== n) at.fail(`covariance.matrix[${i}]`, `expected ${n} entries, got ${row.length}`);
    return row.map((text, j) => at.decimal(`covariance.matrix[${i}][${j}]`, text, COVARIANCE_DECIMALS, COVARIANCE));
  });
  matrix.forEach((row, i) => {
    if (row[i]! < 0n) at.fail(`covariance.matrix[${i}][${i}]`, `a variance must be >= 0, got "${rows[i]![i]}"`);
    row.forEach((value, j) => {
      if (j > i && value !== matrix[j]![i]) {
        at.fail(`covariance.matrix[${i}][${j}]`, `matrix is not symmetric: "${rows[i]![j]}" differs from covariance.matrix[${j}][${i}] "${rows[j]![i]}"`);
      }
    });
  });
  return matrix;
}
