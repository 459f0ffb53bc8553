/**
 * Builders for the risk-model tests: positions laid out against a market by symbol, market and
 * policy edits on parsed copies, and a seeded generator of random markets / positions / policies.
 */
import type { Asset, Instrument, Market, Policy, Position, Scenario, VarMethod } from "../../packages/sdk/src/inputs/types.ts";
import { DEBT_INDEX_SCALE } from "../../packages/sdk/src/core/fixed-point.ts";
import { mulberry32 } from "../../packages/sdk/src/core/seeded-random.ts";

export const ACCOUNT = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";

export interface Holdings {
  collateral?: Record<string, bigint>;
  debt?: Record<string, bigint>;
  /** Instrument id -> quantity at QTY (10^8 per contract). */
  derivatives?: Record<string, bigint>;
}

/** A position in base units, resolved against `market` (unknown names throw). */
export function positionOf(market: Market, holdings: Holdings): Position {
  const slots = (names: string[], values: Record<string, bigint> = {}): bigint[] => {
    for (const name of Object.keys(values)) if (!names.includes(name)) throw new Error(`unknown ${name}`);
    return names.map((name) => values[name] ?? 0n);
  };
  const assets = market.assets.map((a) => a.symbol);
  return {
    version: 1,
    account: ACCOUNT,
    nonce: 0n,
    salt: undefined,
    collateral: slots(assets, holdings.collateral),
    debt: slots(assets, holdings.debt),
    quantities: slots(
      market.instruments.map((k) => k.id),
      holdings.derivatives,
    ),
  };
}

/** A deep copy (bigints included) to mutate freely. */
export const copy = <T>(value: T): T => structuredClone(value);

export function withPolicy(policy: Policy, edit: (p: Policy) => void): Policy {
  const next = copy(policy);
  edit(next);
  return next;
}

export function withMarket(market: Market, edit: (m: Market) => void): Market {
  const next = copy(market);
  edit(next);
  return next;
}

export { mulberry32 };

export class Random {
  readonly next: () => number;
  constructor(seed: number) {
    this.next = mulberry32(seed);
  }
  /** Integer in [lo, hi]. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(0, items.length - 1)]!;
  }
  /** Log-uniform in [lo, hi]. */
  logUniform(lo: number, hi: number): number {
    return Math.exp(Math.log(lo) + this.next() * (Math.log(hi) - Math.log(lo)));
  }
  /** A uniform bigint in [0, 10^digits). */
  digits(digits: number): bigint {
    let text = "0";
    for (let i = 0; i < digits; i++) text += String(this.int(0, 9));
    return BigInt(text);
  }
  /** A signed integer uniform in [-bound, bound] (bound < 2^53). */
  signed(bound: number): bigint {
    return BigInt(Math.round((this.next() * 2 - 1) * bound));
  }
  /**
   * `whole` (a positive double) at `decimals`: its leading ~12 significant digits, then random
   * digits below them, so that products with prices rarely divide evenly.
   */
  fixed(whole: number, decimals: number): bigint {
    const exponent = Math.floor(Math.log10(whole));
    const keep = Math.min(decimals, Math.max(0, 12 - exponent));
    const head = BigInt(Math.round(whole * 10 ** keep)) * 10n ** BigInt(decimals - keep);
    return head + (decimals > keep ? this.digits(decimals - keep) : 0n);
  }
}

const SCENARIO_COUNTS = [1, 2, 3, 5, 8, 16, 20, 50, 100, 250] as const;

/** A random market: 2-4 assets, 0-3 instruments, PSD covariance A * A^T built in exact integers. */
export function randomMarket(rng: Random): Market {
  const quoteDecimals = rng.pick([2, 4, 6, 8]);
  const quoteScale = 10 ** quoteDecimals;
  const n = rng.int(2, 4);
  const assets: Asset[] = Array.from({ length: n }, (_, i) => ({
    symbol: `A${i}`,
    decimals: rng.pick([0, 2, 6, 8, 9, 18]),
    price: (() => {
      const price = rng.fixed(rng.logUniform(1e-3, 1e5), quoteDecimals);
      return price > 0n ? price : 1n;
    })(),
    liquidationThreshold: BigInt(rng.int(0, 10_000)),
    // Index 1, drawn from no random number, so every seeded case stays what it was before debt indices.
    debtIndex: DEBT_INDEX_SCALE,
  }));
  const instruments: Instrument[] = Array.from({ length: rng.int(0, 3) }, (_, k) => ({
    id: `K${k}`,
    underlying: rng.int(0, n - 1),
    kind: rng.pick(["call", "put", "future", "perp"] as const),
    strike: 0n,
    expiry: 0,
    mark: rng.signed(1e4 * quoteScale),
    delta: rng.signed(1.2e8),
  }));
  const count = rng.pick(SCENARIO_COUNTS);
  const wide = rng.chance(0.15);
  const scenarios: Scenario[] = Array.from({ length: count }, (_, j) => ({
    name: `s${j}`,
    weight: rng.chance(0.7) ? 10_000n : BigInt(rng.int(1, 10_000)),
    assetReturns: assets.map(() => (rng.chance(0.1) ? 0n : rng.signed(wide ? 3e8 : 0.5e8))),
    instrumentPnl: instruments.map(() => rng.signed(2e4 * quoteScale)),
  }));
  // Sigma = A A^T with A at 10^6 (entries up to 0.05) is exactly PSD at 10^12.
  const a = assets.map(() => assets.map(() => (rng.chance(0.15) ? 0n : rng.signed(5e4))));
  const matrix = a.map((row) => a.map((other) => row.reduce((sum, x, k) => sum + x * other[k]!, 0n)));
  return {
    version: 1,
    epoch: 1,
    timestamp: 0,
    quote: { symbol: "QC", decimals: quoteDecimals },
    assets,
    instruments,
    scenarioKind: count >= 50 ? "historical" : "grid",
    scenarios,
    covariance: { matrix, horizonDays: rng.pick([1, 1, 1, 5, 10]) },
  };
}

/** A random position whose asset values lie between 10^-2 and 10^7 whole quote units. */
export function randomPosition(rng: Random, market: Market): Position {
  const amount = (asset: Asset, probability: number): bigint => {
    if (!rng.chance(probability)) return 0n;
    const price = Number(asset.price) / 10 ** market.quote.decimals;
    return rng.fixed(rng.logUniform(1e-2, 1e7) / price, asset.decimals);
  };
  return {
    version: 1,
    account: ACCOUNT,
    nonce: 0n,
    salt: undefined,
    collateral: market.assets.map((asset) => amount(asset, 0.7)),
    debt: market.assets.map((asset) => amount(asset, 0.45)),
    quantities: market.instruments.map(() => {
      if (rng.chance(0.2)) return 0n;
      const q = rng.fixed(rng.logUniform(1e-2, 1e3), 8);
      return rng.chance(0.5) ? -q : q;
    }),
  };
}

export function randomPolicy(rng: Random, market: Market): Policy {
  const confidence = rng.chance(0.8) ? BigInt(rng.pick([900_000, 950_000, 975_000, 990_000, 995_000, 999_000])) : BigInt(rng.int(500_001, 999_999));
  return {
    version: 1,
    minHealthFactor: BigInt(rng.int(10_000, 20_000)),
    trigger: { healthFactor: 12_500n },
    stress: {
      minEquity: rng.chance(0.5) ? 0n : rng.fixed(rng.logUniform(1e-2, 1e5), market.quote.decimals),
    },
    var: {
      method: rng.pick<VarMethod>(["historical", "parametric", "both"]),
      confidence,
      capitalMultiplier: BigInt(rng.int(1_000_000, 3_000_000)),
    },
    maxSlippage: 5_000n,
  };
}
