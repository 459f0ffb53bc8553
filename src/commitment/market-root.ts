import { toField } from "../core/field.ts";
import type { Market } from "../inputs/types.ts";
import type { CircuitLayout } from "./circuit-layout.ts";
import { poseidonChain } from "./poseidon-chain.ts";
import { textToField } from "./text-field.ts";
import { poseidon7 } from "poseidon-lite";

/**
 * The market as the circuits see it: every value the statements use, laid out in the instance's
 * slots (padding: symbol 0, scale 1, price 0; empty instruments and scenarios; zero covariance),
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

export function marketDigests(m: MarketSignals): MarketDigests {
  const assets = m.symbol.flatMap((symbol, i) => [symbol, m.scale[i]!, m.price[i]!, m.threshold[i]!]);
  const instruments = m.instrumentId.flatMap((id, k) => [id, m.underlying[k]!, m.mark[k]!, m.delta[k]!]);
  const scenarios = [m.scenarioCount, ...m.weight.flatMap((w, j) => [w, ...m.assetReturn[j]!, ...m.instrumentPnl[j]!])];
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
