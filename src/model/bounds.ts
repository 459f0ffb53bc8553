/**
 * The bounds table of docs/risk-arithmetic.md. A position or market outside it cannot be
 * proven (the circuits range-check every bound so nothing wraps the BN254 field), so the model
 * refuses it with a ModelBoundsError naming the quantity rather than computing a figure no
 * proof could back.
 */
import { formatDecimal, formatHuman } from "../core/decimal.ts";
import { COVARIANCE_DECIMALS, QUANTITY_DECIMALS, RATE_DECIMALS } from "../core/fixed-point.ts";
import type { Market, Position } from "../inputs/types.ts";
import { ModelBoundsError } from "./errors.ts";
import { abs } from "./rounding.ts";
import type { AssetValues } from "./values.ts";

/** Each bound is |x| < 2^bits in the quantity's own fixed-point unit. */
export const BOUND_BITS = {
  /** Per-asset values vc_i, vd_i (q.u.). */
  value: 80,
  /** Asset returns (RATE). */
  assetReturn: 31,
  /** Instrument marks and scenario PnL (q.u. per contract). */
  mark: 64,
  /** Instrument quantities in the risk checks (QTY). */
  quantity: 80,
  /** Deltas (RATE). */
  delta: 31,
  /** Covariance entries (COV). */
  covariance: 40,
} as const;

/** True when |x| < 2^bits. */
export const withinBits = (x: bigint, bits: number): boolean => abs(x) < 1n << BigInt(bits);

function ensure(x: bigint, bits: number, quantity: string, shown: string, unit: string, subject: string): void {
  if (withinBits(x, bits)) return;
  throw new ModelBoundsError(
    quantity,
    bits,
    `${quantity} exceeds 2^${bits} ${unit} in magnitude (${shown}); ${subject} outside the bounds of docs/risk-arithmetic.md cannot be proven`,
  );
}

/** Returns, marks, PnL, deltas and covariances of the market. */
export function checkMarketBounds(market: Market): void {
  const quote = market.quote;
  const money = (x: bigint): string => `${formatHuman(x, quote.decimals)} ${quote.symbol} = ${x} quote units`;
  const fixed = (x: bigint, decimals: number): string => `${formatDecimal(x, decimals)} = ${x} units`;
  const { mark, delta, assetReturn, covariance } = BOUND_BITS;
  const subject = "a market";
  market.instruments.forEach((k) => {
    ensure(k.mark, mark, `mark of instrument ${k.id}`, money(k.mark), "quote units", subject);
    ensure(k.delta, delta, `delta of instrument ${k.id}`, fixed(k.delta, RATE_DECIMALS), `units at ${RATE_DECIMALS} decimals`, subject);
  });
  market.scenarios.forEach((s) => {
    s.assetReturns.forEach((r, i) =>
      ensure(
        r,
        assetReturn,
        `return of ${market.assets[i]!.symbol} in scenario '${s.name}'`,
        fixed(r, RATE_DECIMALS),
        `units at ${RATE_DECIMALS} decimals`,
        subject,
      ),
    );
    s.instrumentPnl.forEach((g, k) =>
      ensure(g, mark, `PnL of instrument ${market.instruments[k]!.id} in scenario '${s.name}'`, money(g), "quote units", subject),
    );
  });
  market.covariance.matrix.forEach((row, i) =>
    row.forEach((entry, j) =>
      ensure(
        entry,
        covariance,
        `covariance entry [${market.assets[i]!.symbol}][${market.assets[j]!.symbol}]`,
        fixed(entry, COVARIANCE_DECIMALS),
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
      `${formatDecimal(q, QUANTITY_DECIMALS)} contracts = ${q} units`,
      `units at ${QUANTITY_DECIMALS} decimals`,
      "a position",
    ),
  );
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
        `${formatHuman(v, quote.decimals)} ${quote.symbol} = ${v} quote units`,
        "quote units",
        "a position",
      ),
    );
  check("collateral");
  check("debt");
}
