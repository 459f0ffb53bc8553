/**
 * Parsed, validated inputs (formats.md, version 1) in exact integer fixed point.
 * Produced by src/inputs/parse-*.ts; consumed by the reference model, the witness builders
 * and the CLI. Scales are named in src/core/fixed-point.ts.
 */

export interface Quote {
  symbol: string;
  /** Decimals of every quote-currency figure (prices, marks, PnL, values). */
  decimals: number;
}

export interface Asset {
  symbol: string;
  /** Base-unit decimals of the token (18 for WETH, 6 for USDC). */
  decimals: number;
  /** Quote units per whole token, at quote.decimals. */
  price: bigint;
  /** Fraction at BPS_DECIMALS (0.825 -> 8250). */
  liquidationThreshold: bigint;
  /**
   * Debt index at DEBT_INDEX_DECIMALS (1.0371 -> 1_037_100_000_000_000_000): debt is committed in
   * index-scaled units, d units worth ceil(d * debtIndex / 10^18) base units (docs/custody.md).
   * DEBT_INDEX_SCALE (index 1) when the file omits it; DEBT_INDEX_SCALE <= debtIndex < 2^64.
   */
  debtIndex: bigint;
}

export type InstrumentKind = "call" | "put" | "future" | "perp";

export interface Instrument {
  id: string;
  /** Index into Market.assets of the underlying. */
  underlying: number;
  kind: InstrumentKind;
  /** Quote units at quote.decimals; 0 for futures and perps without a strike. */
  strike: bigint;
  /** Unix seconds; 0 when the instrument does not expire. */
  expiry: number;
  /** Quote units per contract, at quote.decimals (may be negative for a future's mark-to-market). */
  mark: bigint;
  /** Signed, at RATE_DECIMALS. */
  delta: bigint;
}

export interface Scenario {
  name: string;
  /** At BPS_DECIMALS, in (0, 1]; 10000 when absent. */
  weight: bigint;
  /** One per market asset (same order), signed, at RATE_DECIMALS; missing entries are 0. */
  assetReturns: bigint[];
  /** One per market instrument (same order), quote units per contract at quote.decimals. */
  instrumentPnl: bigint[];
}

export interface Covariance {
  /** Daily return covariance, assets in Market.assets order (the file's own order is mapped). */
  matrix: bigint[][];
  horizonDays: number;
}

export interface Market {
  version: 1;
  epoch: number;
  timestamp: number;
  quote: Quote;
  assets: Asset[];
  instruments: Instrument[];
  scenarioKind: "grid" | "historical";
  scenarios: Scenario[];
  covariance: Covariance;
}

/**
 * A position resolved against a market: amounts converted to base units with each asset's
 * decimals and laid out in the market's asset / instrument order (the commitment's slots).
 */
export interface Position {
  version: 1;
  /** Checksummed EVM address. */
  account: string;
  nonce: bigint;
  /** Blinding of the commitment, a field element below SNARK_FIELD; undefined when absent. */
  salt: bigint | undefined;
  /** Base units, one per Market.assets entry. */
  collateral: bigint[];
  debt: bigint[];
  /** Signed contracts at QUANTITY_DECIMALS, one per Market.instruments entry. */
  quantities: bigint[];
}

export type VarMethod = "historical" | "parametric" | "both";

export interface Policy {
  version: 1;
  /** At BPS_DECIMALS (1.10 -> 11000). */
  minHealthFactor: bigint;
  trigger: { healthFactor: bigint };
  /** Quote units at the market's quote.decimals (a policy is resolved against a market). */
  stress: { minEquity: bigint };
  var: {
    method: VarMethod;
    /** At RATIO_DECIMALS (0.99 -> 990000). */
    confidence: bigint;
    /** At RATIO_DECIMALS (1.5 -> 1500000). */
    capitalMultiplier: bigint;
  };
  /** At RATIO_DECIMALS (0.005 -> 5000). */
  maxSlippage: bigint;
}
