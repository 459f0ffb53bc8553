import { fromField, toField } from "../core/field.ts";
import { DEBT_INDEX_BITS, DEBT_INDEX_LIMIT, DEBT_INDEX_SCALE } from "../core/fixed-point.ts";
import type { Market } from "../inputs/types.ts";
import type { CircuitLayout } from "./circuit-layout.ts";
import { poseidonChain } from "./poseidon-chain.ts";
import { textToField } from "./text-field.ts";
import { poseidon7 } from "poseidon-lite";

/**
 * The market as the circuits see it: every value the statements use, laid out in the instance's
 * slots (padding: symbol 0, scale 1, price 0, debt index 1; empty instruments and scenarios; zero covariance),
 * signed values field-encoded. Mirrors circuits/market/*.circom.
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
    symbol: pad(market.assets.map((a) => textToField(a.symbol)), nAssets, 0n),
    scale: pad(market.assets.map((a) => 10n ** BigInt(a.decimals)), nAssets, 1n),
    price: pad(market.assets.map((a) => a.price), nAssets, 0n),
    threshold: pad(market.assets.map((a) => a.liquidationThreshold), nAssets, 0n),
    // Padding slots hold index 1: the circuit range-checks every slot's index to [1, 2^64 / 10^18).
    debtIndex: pad(market.assets.map((a) => a.debtIndex), nAssets, DEBT_INDEX_SCALE),
    instrumentId: pad(market.instruments.map((k) => textToField(k.id)), nInstruments, 0n),
    underlying: pad(market.instruments.map((k) => BigInt(k.underlying)), nInstruments, 0n),
    mark: pad(market.instruments.map((k) => toField(k.mark)), nInstruments, 0n),
    delta: pad(market.instruments.map((k) => toField(k.delta)), nInstruments, 0n),
    scenarioCount: BigInt(market.scenarios.length),
    weight: pad(market.scenarios.map((s) => s.weight), nScenarios, 0n),
    assetReturn: pad(market.scenarios.map((s) => pad(s.assetReturns.map(toField), nAssets, 0n)), nScenarios, Array<bigint>(nAssets).fill(0n)),
    instrumentPnl: pad(market.scenarios.map((s) => pad(s.instrumentPnl.map(toField), nInstruments, 0n)), nScenarios, Array<bigint>(nInstruments).fill(0n)),
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
 * Small values packed for hashing, exactly as circuits/lib/pack.circom: `perWord` per word, value
 * u of a word at bit `bits * u`, each stored as value + offset, which must lie in [0, 2^bits):
 * a value outside would spill into its neighbour and two markets could share a root, so it is
 * refused (the parser bounds weights, thresholds and underlyings; returns beyond 2^31 are outside
 * docs/risk-arithmetic.md's bounds and cannot be proven anyway).
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

/** Thresholds and scenario weights (BPS, <= 1e4): 16 per word in 14-bit slots (circuits/market/*.circom). */
const BPS_BITS = 14;
const BPS_PER_WORD = 16;
/** Asset returns (RATE, |r| < 2^31): 7 per word in 32-bit slots, offset by 2^31 (circuits/market/scenarios-digest.circom). */
const RETURN_BITS = 32;
const RETURNS_PER_WORD = 7;
const RETURN_OFFSET = 1n << 31n;
/** Underlying asset slots (< 256): 31 per word in 8-bit slots (circuits/market/instruments-digest.circom). */
const UNDERLYING_BITS = 8;
const UNDERLYINGS_PER_WORD = 31;
/** Debt indices (10^18 <= index < 2^64): 3 per word in 64-bit slots (circuits/market/assets-digest.circom). */
const DEBT_INDICES_PER_WORD = 3;

export function marketDigests(m: MarketSignals): MarketDigests {
  // The packing refuses an index at or above 2^64; one below 1 packs but no circuit accepts it.
  m.debtIndex.forEach((index) => {
    if (index < DEBT_INDEX_SCALE || index >= DEBT_INDEX_LIMIT) {
      throw new RangeError(`market root: debt index ${index} is outside [${DEBT_INDEX_SCALE}, 2^${DEBT_INDEX_BITS}), the range the market root commits to`);
    }
  });
  const assets = [
    ...m.symbol.flatMap((symbol, i) => [symbol, m.scale[i]!, m.price[i]!]),
    ...packWords(m.threshold, BPS_BITS, BPS_PER_WORD, 0n, "liquidation threshold"),
    ...packWords(m.debtIndex, DEBT_INDEX_BITS, DEBT_INDICES_PER_WORD, 0n, "debt index"),
  ];
  const instruments = [...m.instrumentId.flatMap((id, k) => [id, m.mark[k]!, m.delta[k]!]), ...packWords(m.underlying, UNDERLYING_BITS, UNDERLYINGS_PER_WORD, 0n, "underlying slot")];
  const scenarios = [
    m.scenarioCount,
    ...packWords(m.weight, BPS_BITS, BPS_PER_WORD, 0n, "scenario weight"),
    ...packWords(m.assetReturn.flat().map(fromField), RETURN_BITS, RETURNS_PER_WORD, RETURN_OFFSET, "asset return"),
    ...m.instrumentPnl.flat(),
  ];
  return {
    assets: poseidonChain(assets),
    instruments: poseidonChain(instruments),
    scenarios: poseidonChain(scenarios),
    covariance: poseidonChain([m.horizonDays, ...m.covarianceUpper]),
  };
}

/** marketRoot: what the oracle contract publishes for the epoch (circuits/market/market-root.circom). */
export function marketRootOf(m: MarketSignals, digests: MarketDigests = marketDigests(m)): bigint {
  return poseidon7([m.epoch, m.timestamp, m.quoteScale, digests.assets, digests.instruments, digests.scenarios, digests.covariance]);
}

export function marketRoot(market: Market, layout: CircuitLayout): bigint {
  return marketRootOf(marketSignals(market, layout));
}
