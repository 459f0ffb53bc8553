import { fromField, toField } from "../core/field.ts";
import { BPS_SCALE, DEBT_INDEX_BITS, DEBT_INDEX_LIMIT, DEBT_INDEX_SCALE } from "../core/fixed-point.ts";
import type { Market } from "../inputs/types.ts";
import type { CircuitLayout } from "./circuit-layout.ts";
import { poseidonChain } from "./poseidon-chain.ts";
import { textToField } from "./text-field.ts";
import { poseidon7 } from "poseidon-lite";

/**
 * The market as the circuits see it: every value the statements use, laid out in the instance's
 * slots (padding: symbol 0, scale 1, price 0, debt index 1; empty instruments and scenarios; zero covariance),
 * signed values field-encoded. Mirrors packages/circuits/market/*.circom.
 */
export interface MarketSignals {
  epoch: bigint;
  timestamp: bigint;
  quoteScale: bigint;
  symbol: bigint[];
  scale: bigint[];
  price: bigint[];
  threshold: bigint[];
  /** At 10^18 (index 1 = 10^18): debt units are valued as ceil(d * debtIndex / 10^18) base units. */
  debtIndex: bigint[];
  instrumentId: bigint[];
  underlying: bigint[];
  mark: bigint[];
  delta: bigint[];
  scenarioCount: bigint;
  weight: bigint[];
  assetReturn: bigint[][];
  instrumentPnl: bigint[][];
  horizonDays: bigint;
  covarianceUpper: bigint[];
}

const pad = <T>(values: T[], length: number, filler: T): T[] => [...values, ...Array<T>(Math.max(length - values.length, 0)).fill(filler)];

export function marketSignals(market: Market, layout: CircuitLayout): MarketSignals {
  const { nAssets, nInstruments, nScenarios } = layout;
  const covarianceUpper: bigint[] = [];
  for (let i = 0; i < nAssets; i++) {
    for (let j = i; j < nAssets; j++) covarianceUpper.push(toField(market.covariance.matrix[i]?.[j] ?? 0n));
  }
  return {
    epoch: BigInt(market.epoch),
    timestamp: BigInt(market.timestamp),
    quoteScale: 10n ** BigInt(market.quote.decimals),
    symbol: pad(
      market.assets.map((a) => textToField(a.symbol)),
      nAssets,
      0n,
    ),
    scale: pad(
      market.assets.map((a) => 10n ** BigInt(a.decimals)),
      nAssets,
      1n,
    ),
    price: pad(
      market.assets.map((a) => a.price),
      nAssets,
      0n,
    ),
    threshold: pad(
      market.assets.map((a) => a.liquidationThreshold),
      nAssets,
      0n,
    ),
    // Padding slots hold index 1: the circuit range-checks every slot's index to [1, 2^64 / 10^18).
    debtIndex: pad(
      market.assets.map((a) => a.debtIndex),
      nAssets,
      DEBT_INDEX_SCALE,
    ),
    instrumentId: pad(
      market.instruments.map((k) => textToField(k.id)),
      nInstruments,
      0n,
    ),
    underlying: pad(
      market.instruments.map((k) => BigInt(k.underlying)),
      nInstruments,
      0n,
    ),
    mark: pad(
      market.instruments.map((k) => toField(k.mark)),
      nInstruments,
      0n,
    ),
    delta: pad(
      market.instruments.map((k) => toField(k.delta)),
      nInstruments,
      0n,
    ),
    scenarioCount: BigInt(market.scenarios.length),
    weight: pad(
      market.scenarios.map((s) => s.weight),
      nScenarios,
      0n,
    ),
    assetReturn: pad(
      market.scenarios.map((s) => pad(s.assetReturns.map(toField), nAssets, 0n)),
      nScenarios,
      Array<bigint>(nAssets).fill(0n),
    ),
    instrumentPnl: pad(
      market.scenarios.map((s) => pad(s.instrumentPnl.map(toField), nInstruments, 0n)),
      nScenarios,
      Array<bigint>(nInstruments).fill(0n),
    ),
    horizonDays: BigInt(market.covariance.horizonDays),
    covarianceUpper,
  };
}

export interface MarketDigests {
  assets: bigint;
  instruments: bigint;
  scenarios: bigint;
  covariance: bigint;
}

/**
 * Small values packed for hashing, exactly as packages/circuits/lib/pack.circom: `perWord` per word, value
 * u of a word at bit `bits * u`, each stored as value + offset, which must lie in [0, 2^bits):
 * a value outside would spill into its neighbour and two markets could share a root, so it is
 * refused. The circuits range-check every slot they compute with, so a market refused here has
 * no proof either (docs/risk-arithmetic.md, "Bounds").
 */
export function packWords(values: readonly bigint[], bits: number, perWord: number, offset = 0n, what = "value"): bigint[] {
  const words: bigint[] = [];
  for (let start = 0; start < values.length; start += perWord) {
    let word = 0n;
    values.slice(start, start + perWord).forEach((value, u) => {
      const slot = value + offset;
      if (slot < 0n || slot >= 1n << BigInt(bits)) {
        throw new RangeError(`market root: ${what} ${value} is outside [${-offset}, ${(1n << BigInt(bits)) - offset}), the range the market root commits to`);
      }
      word += slot << BigInt(bits * u);
    });
    words.push(word);
  }
  return words;
}

/**
 * How each market value is packed (packages/circuits/market/*.circom; the bounds of docs/risk-arithmetic.md):
 * slot width, values per word (width * perWord <= 252), the offset that makes signed values
 * non-negative, and for thresholds and weights the largest value (10^4, checked in-circuit beside
 * the slot).
 */
export const MARKET_PACKING = {
  /** Token decimals, 0..18 (scale = 10^decimals): 5-bit slots (assets-digest.circom). */
  decimals: { bits: 5, perWord: 50, offset: 0n },
  /** Prices, quote units per whole token, [0, 2^64) (assets-digest.circom). */
  price: { bits: 64, perWord: 3, offset: 0n },
  /** Liquidation thresholds (BPS, <= 1e4) (assets-digest.circom). */
  threshold: { bits: 14, perWord: 16, offset: 0n, max: BPS_SCALE },
  /** Debt indices, [10^18, 2^64) (assets-digest.circom). */
  debtIndex: { bits: DEBT_INDEX_BITS, perWord: 3, offset: 0n },
  /** Instrument marks, |m| < 2^64 (instruments-digest.circom). */
  mark: { bits: 65, perWord: 3, offset: 1n << 64n },
  /** Deltas (RATE), |delta| < 2^40 (instruments-digest.circom). */
  delta: { bits: 41, perWord: 6, offset: 1n << 40n },
  /** Underlying asset slots, < 256 (instruments-digest.circom). */
  underlying: { bits: 8, perWord: 31, offset: 0n },
  /** Scenario weights (BPS, <= 1e4) (scenarios-digest.circom). */
  weight: { bits: 14, perWord: 16, offset: 0n, max: BPS_SCALE },
  /** Asset returns (RATE), |r| < 2^31 (scenarios-digest.circom). */
  assetReturn: { bits: 32, perWord: 7, offset: 1n << 31n },
  /** Scenario PnL per contract (q.u.), |g| < 2^49 (scenarios-digest.circom). */
  instrumentPnl: { bits: 50, perWord: 5, offset: 1n << 49n },
  /** Covariance entries (COV), |c| < 2^40 (covariance-digest.circom). */
  covariance: { bits: 41, perWord: 6, offset: 1n << 40n },
} as const;

/** Largest token decimals a scale may have (assets-digest.circom's one-hot over 10^0 .. 10^18). */
const MAX_SCALE_DECIMALS = 18;
/**
 * Largest quote decimals: no circuit computes with quoteScale (it is only hashed), but every bound
 * in quote units (prices, marks, PnL below 2^64, 2^64 and 2^49) is sized for at most 8, and a
 * power of ten beyond 10^76 would exceed the field (src/model/bounds.ts, MAX_QUOTE_DECIMALS).
 */
const MAX_QUOTE_DECIMALS = 8;
/** VaR horizon bounds (covariance-digest.circom). */
const MAX_HORIZON_DAYS = 1023;

const pack = (values: readonly bigint[], kind: keyof typeof MARKET_PACKING, what: string): bigint[] => {
  const packing: { bits: number; perWord: number; offset: bigint; max?: bigint } = MARKET_PACKING[kind];
  // Thresholds and weights fit their 14-bit slots up to 16,383; the circuits also prove them <= 10^4.
  const { max } = packing;
  if (max !== undefined) {
    const over = values.find((v) => v > max);
    if (over !== undefined) throw new RangeError(`market root: ${what} ${over} is above ${max}, the range the market root commits to`);
  }
  return packWords(values, packing.bits, packing.perWord, packing.offset, what);
};

/** The decimals of a scale that is an exact power of ten up to 10^18; anything else has no root. */
function decimalsOf(scale: bigint): bigint {
  for (let d = 0; d <= MAX_SCALE_DECIMALS; d++) if (scale === 10n ** BigInt(d)) return BigInt(d);
  throw new RangeError(`market root: scale ${scale} is not 10^decimals with decimals in [0, ${MAX_SCALE_DECIMALS}], the range the market root commits to`);
}

export function marketDigests(m: MarketSignals): MarketDigests {
  // The packing refuses an index at or above 2^64; one below 1 packs but no circuit accepts it.
  m.debtIndex.forEach((index) => {
    if (index < DEBT_INDEX_SCALE || index >= DEBT_INDEX_LIMIT) {
      throw new RangeError(`market root: debt index ${index} is outside [${DEBT_INDEX_SCALE}, 2^${DEBT_INDEX_BITS}), the range the market root commits to`);
    }
  });
  // Checked by the circuits beside their slots: 1 <= count <= the instance's scenario slots, 1 <= horizon <= 1023.
  const nScenarios = BigInt(m.weight.length);
  if (m.scenarioCount < 1n || m.scenarioCount > nScenarios) {
    throw new RangeError(`market root: scenario count ${m.scenarioCount} is outside [1, ${nScenarios}], the range the market root commits to`);
  }
  if (m.horizonDays < 1n || m.horizonDays > BigInt(MAX_HORIZON_DAYS)) {
    throw new RangeError(`market root: horizonDays ${m.horizonDays} is outside [1, ${MAX_HORIZON_DAYS}], the range the market root commits to`);
  }
  // ParametricVarCheck proves each underlying an asset slot; the 8-bit packing alone would admit 255.
  const nAssets = BigInt(m.symbol.length);
  const strayUnderlying = m.underlying.find((u) => u < 0n || u >= nAssets);
  if (strayUnderlying !== undefined) {
    throw new RangeError(`market root: underlying slot ${strayUnderlying} is outside [0, ${nAssets}), the asset slots the market root commits to`);
  }
  const assets = [
    ...m.symbol,
    ...pack(m.scale.map(decimalsOf), "decimals", "decimals"),
    ...pack(m.price, "price", "price"),
    ...pack(m.threshold, "threshold", "liquidation threshold"),
    ...pack(m.debtIndex, "debtIndex", "debt index"),
  ];
  const instruments = [
    ...m.instrumentId,
    ...pack(m.mark.map(fromField), "mark", "instrument mark"),
    ...pack(m.delta.map(fromField), "delta", "delta"),
    ...pack(m.underlying, "underlying", "underlying slot"),
  ];
  const scenarios = [
    m.scenarioCount,
    ...pack(m.weight, "weight", "scenario weight"),
    ...pack(m.assetReturn.flat().map(fromField), "assetReturn", "asset return"),
    ...pack(m.instrumentPnl.flat().map(fromField), "instrumentPnl", "scenario PnL"),
  ];
  return {
    assets: poseidonChain(assets),
    instruments: poseidonChain(instruments),
    scenarios: poseidonChain(scenarios),
    covariance: poseidonChain([m.horizonDays, ...pack(m.covarianceUpper.map(fromField), "covariance", "covariance entry")]),
  };
}

/** marketRoot: what the oracle contract publishes for the epoch (packages/circuits/market/market-root.circom). */
export function marketRootOf(m: MarketSignals, digests: MarketDigests = marketDigests(m)): bigint {
  if (![...Array(MAX_QUOTE_DECIMALS + 1).keys()].some((d) => m.quoteScale === 10n ** BigInt(d))) {
    throw new RangeError(`market root: quote scale ${m.quoteScale} is not 10^decimals with decimals in [0, ${MAX_QUOTE_DECIMALS}], the range the market root commits to`);
  }
  return poseidon7([m.epoch, m.timestamp, m.quoteScale, digests.assets, digests.instruments, digests.scenarios, digests.covariance]);
}

export function marketRoot(market: Market, layout: CircuitLayout): bigint {
  return marketRootOf(marketSignals(market, layout));
}
