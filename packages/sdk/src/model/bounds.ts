/**
 * The bounds table of docs/risk-arithmetic.md. A position or market outside it cannot be
 * proven (the circuits range-check every bound so nothing wraps the BN254 field), so the model
 * refuses it with a ModelBoundsError naming the quantity rather than computing a figure no
 * proof could back.
 */
import { formatDecimal, formatHuman } from "../core/decimal.ts";
import * as C from "../core/constants.generated.ts";
import { COVARIANCE_DECIMALS, DEBT_INDEX_DECIMALS, DEBT_INDEX_SCALE, QUANTITY_DECIMALS, RATE_DECIMALS } from "../core/fixed-point.ts";
import type { Market, Position } from "../inputs/types.ts";
import { ModelBoundsError } from "./errors.ts";
import { abs } from "./rounding.ts";
import { debtAssets, type AssetValues } from "./values.ts";

/** Each bound is |x| < 2^bits in the quantity's own fixed-point unit (packages/circuits/constants.json, which the circuits' definitions are checked against). */
export const BOUND_BITS = {
  /** Per-asset values vc_i, vd_i (q.u.). */
  value: C.VALUE_BITS,
  /** Asset returns (RATE). */
  assetReturn: C.RETURN_BITS,
  /** Asset prices (q.u. per whole token), >= 0. */
  price: C.PRICE_BITS,
  /** Instrument marks (q.u. per contract). */
  mark: C.MARK_BITS,
  /** Scenario PnL (q.u. per contract): five fit a 250-bit word of the market root (scenarios-digest.circom). */
  pnl: C.PNL_BITS,
  /** Instrument quantities in the risk checks (QTY). */
  quantity: C.QUANTITY_BITS,
  /** Deltas (RATE): 10,995 underlying units per contract, so 100-unit option contracts fit. */
  delta: C.DELTA_BITS,
  /** Covariance entries (COV). */
  covariance: C.COVARIANCE_BITS,
  /** Instrument notionals |q * m| and scenario PnL |q * g| (q.u. * 1e8): 2^80 q.u. */
  notional: C.NOTIONAL_BITS,
  /** Delta exposure per asset, sum_k q * delta * p, in q.u. after rounding. */
  deltaExposure: C.DELTA_EXPOSURE_BITS,
  /** Policy minimum equity (q.u.). */
  minEquity: C.VALUE_BITS,
  /** Debt valued through its index, ceil(d * I / 1e18) (base units): an amount, as the commitment's. */
  debtAssets: C.DEBT_ASSETS_BITS,
  /** Debt index (at 1e18), at least 1e18 (index 1). */
  debtIndex: C.DEBT_INDEX_BITS,
} as const;

/** Token decimals: the circuits prove scale = 10^decimals for decimals in [0, 18] and divide by it (< 2^60). */
export const MAX_ASSET_DECIMALS = C.MAX_DECIMALS;
/** VaR horizon in days: the circuits check 1 <= horizonDays <= 1023. */
export const MAX_HORIZON_DAYS = 2 ** C.HORIZON_BITS - 1;
/**
 * Quote decimals: prices and marks below 2^64 and PnL below 2^49 quote units are $1.8e11 and
 * $5.6M per unit at 8 quote decimals, but only 18.4 and 0.00056 at 18, so a market is published at
 * 8 quote decimals or fewer (6 for a USDC-style quote is fine). The circuits only hash quoteScale.
 */
export const MAX_QUOTE_DECIMALS = 8;
/** Liquidation thresholds and scenario weights are fractions up to 1 (BPS): the circuits check <= 10^4. */
const BPS_ONE = BigInt(C.BPS_ONE);

/** True when |x| < 2^bits. */
export const withinBits = (x: bigint, bits: number): boolean => abs(x) < 1n << BigInt(bits);

/** `shown` is a thunk: formatting every market value for a message that is almost never thrown dominated the planner's and the audit's loops. */
function ensure(x: bigint, bits: number, quantity: string, shown: () => string, unit: string, subject: string): void {
  if (withinBits(x, bits)) return;
  throw new ModelBoundsError(
    quantity,
    bits,
    `${quantity} exceeds 2^${bits} ${unit} in magnitude (${shown()}); ${subject} outside the bounds of docs/risk-arithmetic.md cannot be proven`,
  );
}

/**
 * Every market value the circuits range-check (docs/risk-arithmetic.md, "Bounds"): quote decimals,
 * token decimals, prices, liquidation thresholds, debt indices, horizon, marks, deltas,
 * underlyings, the scenario count (at least 1; at most the instance's slots is the instance
 * selection's), weights, returns, PnL and covariances. The parser refuses a market file outside
 * these already; this covers markets built in code (a repriced backtest market).
 */
export function checkMarketBounds(market: Market): void {
  const quote = market.quote;
  const money = (x: bigint): string => `${formatHuman(x, quote.decimals)} ${quote.symbol} = ${x} quote units`;
  const fixed = (x: bigint, decimals: number): string => `${formatDecimal(x, decimals)} = ${x} units`;
  const { price, mark, pnl, delta, assetReturn, covariance } = BOUND_BITS;
  const subject = "a market";
  if (!Number.isInteger(quote.decimals) || quote.decimals < 0 || quote.decimals > MAX_QUOTE_DECIMALS) {
    throw new ModelBoundsError(
      "quote.decimals",
      price,
      `quote.decimals is ${quote.decimals}; at most ${MAX_QUOTE_DECIMALS} can be proven: publish the market at ${MAX_QUOTE_DECIMALS} quote decimals or fewer (6 for a USDC-style quote is fine)`,
    );
  }
  const fraction = (x: bigint, what: string): void => {
    if (x < 0n || x > BPS_ONE) {
      throw new ModelBoundsError(what, C.BPS_BITS, `${what} is ${formatDecimal(x, 4)}; only 0 to 1 can be proven (docs/risk-arithmetic.md, Bounds)`);
    }
  };
  market.assets.forEach((a) => {
    fraction(a.liquidationThreshold, `liquidation threshold of ${a.symbol}`);
    if (a.decimals > MAX_ASSET_DECIMALS) {
      throw new ModelBoundsError(`decimals of ${a.symbol}`, C.SCALE_BITS, `decimals of ${a.symbol} is ${a.decimals}; at most ${MAX_ASSET_DECIMALS} can be proven`);
    }
    if (a.price < 0n) throw new ModelBoundsError(`price of ${a.symbol}`, price, `price of ${a.symbol} is negative (${money(a.price)}); ${subject} with it cannot be proven`);
    ensure(a.price, price, `price of ${a.symbol}`, () => money(a.price), "quote units", subject);
  });
  market.assets.forEach((a) => {
    // The parser enforces this for files; a market built in code (a repriced backtest market) is checked here.
    if (a.debtIndex < DEBT_INDEX_SCALE || !withinBits(a.debtIndex, BOUND_BITS.debtIndex)) {
      throw new ModelBoundsError(
        `debt index of ${a.symbol}`,
        BOUND_BITS.debtIndex,
        `debt index of ${a.symbol} is ${formatDecimal(a.debtIndex, DEBT_INDEX_DECIMALS)}; it must be >= 1 and below 2^${BOUND_BITS.debtIndex} / 10^${DEBT_INDEX_DECIMALS} to be proven`,
      );
    }
  });
  if (market.covariance.horizonDays < 1 || market.covariance.horizonDays > MAX_HORIZON_DAYS) {
    throw new ModelBoundsError("covariance.horizonDays", C.HORIZON_BITS, `covariance.horizonDays is ${market.covariance.horizonDays}; only 1 to ${MAX_HORIZON_DAYS} can be proven`);
  }
  if (market.scenarios.length < 1) {
    throw new ModelBoundsError("scenario count", 0, `a market with no scenario cannot be proven: the circuits check 1 <= count <= the instance's scenario slots`);
  }
  market.instruments.forEach((k) => {
    if (!Number.isInteger(k.underlying) || k.underlying < 0 || k.underlying >= market.assets.length) {
      throw new ModelBoundsError(
        `underlying of instrument ${k.id}`,
        8,
        `underlying of instrument ${k.id} is slot ${k.underlying}, not one of the market's ${market.assets.length} assets; it cannot be proven`,
      );
    }
    ensure(k.mark, mark, `mark of instrument ${k.id}`, () => money(k.mark), "quote units", subject);
    ensure(k.delta, delta, `delta of instrument ${k.id}`, () => fixed(k.delta, RATE_DECIMALS), `units at ${RATE_DECIMALS} decimals`, subject);
  });
  market.scenarios.forEach((s) => {
    // The parser requires > 0 (formats.md); the circuits prove 0 <= w <= 1, which the model keeps.
    fraction(s.weight, `weight of scenario '${s.name}'`);
    s.assetReturns.forEach((r, i) =>
      ensure(r, assetReturn, `return of ${market.assets[i]!.symbol} in scenario '${s.name}'`, () => fixed(r, RATE_DECIMALS), `units at ${RATE_DECIMALS} decimals`, subject),
    );
    s.instrumentPnl.forEach((g, k) => ensure(g, pnl, `PnL of instrument ${market.instruments[k]!.id} in scenario '${s.name}'`, () => money(g), "quote units", subject));
  });
  market.covariance.matrix.forEach((row, i) =>
    row.forEach((entry, j) =>
      ensure(
        entry,
        covariance,
        `covariance entry [${market.assets[i]!.symbol}][${market.assets[j]!.symbol}]`,
        () => fixed(entry, COVARIANCE_DECIMALS),
        `units at ${COVARIANCE_DECIMALS} decimals`,
        subject,
      ),
    ),
  );
}

/** Instrument quantities: |q| < 2^80 at QTY in the risk checks (the commitment allows 2^95). */
export function checkQuantityBounds(position: Position, market: Market): void {
  position.quantities.forEach((q, k) =>
    ensure(
      q,
      BOUND_BITS.quantity,
      `quantity of instrument ${market.instruments[k]!.id}`,
      () => `${formatDecimal(q, QUANTITY_DECIMALS)} contracts = ${q} units`,
      `units at ${QUANTITY_DECIMALS} decimals`,
      "a position",
    ),
  );
}

/** Debt valued through its index, ceil(d_i * I_i / 1e18) < 2^96 base units: DebtAssets' range check. */
export function checkDebtAssetBounds(position: Position, market: Market): void {
  position.debt.forEach((units, i) => {
    const asset = market.assets[i]!;
    const owed = debtAssets(units, asset);
    ensure(
      owed,
      BOUND_BITS.debtAssets,
      `${asset.symbol} debt valued through its index`,
      () => `${units} units at index ${formatDecimal(asset.debtIndex, DEBT_INDEX_DECIMALS)} = ${owed} base units`,
      "base units",
      "a position",
    );
  });
}

/** Per-asset values vc_i, vd_i < 2^80 q.u. */
export function checkValueBounds(values: AssetValues, market: Market): void {
  const quote = market.quote;
  const check = (side: "collateral" | "debt") =>
    values[side].forEach((v, i) =>
      ensure(
        v,
        BOUND_BITS.value,
        `value of ${market.assets[i]!.symbol} ${side}`,
        () => `${formatHuman(v, quote.decimals)} ${quote.symbol} = ${v} quote units`,
        "quote units",
        "a position",
      ),
    );
  check("collateral");
  check("debt");
}

/** |q * m| and |q * g| below 2^107 (2^80 quote units): the circuits size their comparisons so. */
export function checkNotionalBounds(position: Position, market: Market): void {
  const quote = market.quote;
  position.quantities.forEach((q, k) => {
    const id = market.instruments[k]!.id;
    const show = (x: bigint) => `${formatHuman(x / 10n ** 8n, quote.decimals)} ${quote.symbol}`;
    const mark = q * market.instruments[k]!.mark;
    ensure(mark, BOUND_BITS.notional, `notional of instrument ${id}`, () => show(mark), "quote units * 1e8", "a position");
    market.scenarios.forEach((s) => {
      const pnl = q * s.instrumentPnl[k]!;
      ensure(pnl, BOUND_BITS.notional, `PnL of instrument ${id} in scenario '${s.name}'`, () => show(pnl), "quote units * 1e8", "a position");
    });
  });
}

/** Delta exposure per asset below 2^84 quote units: the parametric-VaR circuit's range. */
export function checkDeltaExposureBounds(position: Position, market: Market): void {
  const exposure = market.assets.map(() => 0n);
  position.quantities.forEach((q, k) => {
    const instrument = market.instruments[k]!;
    exposure[instrument.underlying]! += q * instrument.delta * market.assets[instrument.underlying]!.price;
  });
  exposure.forEach((e, i) => {
    // Compared before rounding: |floor((e + 5e15) / 1e16)| < 2^84 holds when |e| < 2^84 * 1e16 - 1e16.
    const limit = (1n << BigInt(BOUND_BITS.deltaExposure)) * 10n ** 16n - 10n ** 16n;
    if (abs(e) >= limit) {
      throw new ModelBoundsError(
        `delta exposure on ${market.assets[i]!.symbol}`,
        BOUND_BITS.deltaExposure,
        `delta exposure on ${market.assets[i]!.symbol} exceeds 2^${BOUND_BITS.deltaExposure} quote units in magnitude; a position outside the bounds of docs/risk-arithmetic.md cannot be proven`,
      );
    }
  });
}

/** Minimum equity below 2^80 quote units. */
export function checkPolicyBounds(minEquity: bigint): void {
  if (minEquity >= 1n << BigInt(BOUND_BITS.minEquity)) {
    throw new ModelBoundsError(
      "stress.minEquity",
      BOUND_BITS.minEquity,
      `stress.minEquity exceeds 2^${BOUND_BITS.minEquity} quote units; a policy outside the bounds of docs/risk-arithmetic.md cannot be proven`,
    );
  }
}
