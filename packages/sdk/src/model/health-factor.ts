/**
 * Section 2 of docs/risk-arithmetic.md (risk-model.md section 1, Aave v3 semantics):
 *   HFnum = sum_i vc_i * LT_i   (q.u. * BPS)      HFden = sum_i vd_i   (q.u.)
 *   pass <=> HFden = 0 or HFnum >= minHealthFactor * HFden      (exact, no division)
 *   reported HF = floor(HFnum / HFden) at BPS; null when HFden = 0
 */
import type { Market } from "../inputs/types.ts";
import { floorDiv } from "./rounding.ts";
import type { AssetValues } from "./values.ts";

export interface HealthFactorResult {
  /** HFnum, q.u. * BPS. */
  numerator: bigint;
  /** HFden, q.u. */
  denominator: bigint;
  /** floor(HFnum / HFden) at BPS; null with no debt (unbounded). */
  value: bigint | null;
  /** policy.minHealthFactor at BPS. */
  minimum: bigint;
  /** HFnum - minimum * HFden (q.u. * BPS): >= 0 exactly when the check passes. */
  margin: bigint;
  pass: boolean;
}

export function healthFactor(values: AssetValues, market: Market, minimum: bigint): HealthFactorResult {
  const numerator = values.collateral.reduce((sum, vc, i) => sum + vc * market.assets[i]!.liquidationThreshold, 0n);
  const denominator = values.debt.reduce((sum, vd) => sum + vd, 0n);
  const margin = numerator - minimum * denominator;
  return {
    numerator,
    denominator,
    value: denominator === 0n ? null : floorDiv(numerator, denominator),
    minimum,
    margin,
    pass: denominator === 0n || margin >= 0n,
  };
}
