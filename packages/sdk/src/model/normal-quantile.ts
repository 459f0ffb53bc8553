/**
 * The standard normal quantile z_alpha for parametric VaR (docs/risk-arithmetic.md section 6):
 * Peter J. Acklam's rational approximation of the inverse normal CDF (relative error below
 * 1.15e-9 over (0, 1)), and its fixed-point form Z = ceil(z_alpha * 10^8) + 1, where the +1
 * covers the approximation error so that Z >= z_alpha * 10^8.
 */
import { RATIO_SCALE } from "../core/fixed-point.ts";
import { ModelError } from "./errors.ts";

/** Scale of Z: 10^8. */
export const QUANTILE_SCALE = 10n ** 8n;

const A = [-3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2, 1.38357751867269e2, -3.066479806614716e1, 2.506628277459239];
const B = [-5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1];
const C = [-7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
const D = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416];
const P_LOW = 0.02425;
const P_HIGH = 1 - P_LOW;

/** Horner evaluation, coefficients from the highest power down. */
const poly = (coefficients: readonly number[], x: number): number => coefficients.reduce((sum, c) => sum * x + c, 0);

/** Tail region: x for p < P_LOW (negative), by the (C, D) rational function of sqrt(-2 ln p). */
function tail(p: number): number {
  const q = Math.sqrt(-2 * Math.log(p));
  return poly(C, q) / (poly(D, q) * q + 1);
}

/** Acklam's inverse standard normal CDF, p in (0, 1). */
export function inverseNormal(p: number): number {
  if (!(p > 0 && p < 1)) throw new RangeError(`inverse normal CDF needs 0 < p < 1 (got ${p})`);
  if (p < P_LOW) return tail(p);
  if (p > P_HIGH) return -tail(1 - p);
  const q = p - 0.5;
  const r = q * q;
  return (poly(A, r) * q) / (poly(B, r) * r + 1);
}

/** z_alpha for a confidence at RATIO (0.99 -> 990000), as a double. */
export function normalQuantile(confidence: bigint): number {
  if (confidence <= 0n || confidence >= RATIO_SCALE) {
    throw new ModelError(`VaR confidence must lie strictly between 0 and 1 (got ${confidence} at ${RATIO_SCALE})`);
  }
  return inverseNormal(Number(confidence) / Number(RATIO_SCALE));
}

/** Z = ceil(z_alpha * 10^8) + 1 (z_alpha * 10^8 is below 2^53, so the product is exact enough). */
export function scaledQuantile(confidence: bigint): bigint {
  return BigInt(Math.ceil(normalQuantile(confidence) * Number(QUANTILE_SCALE))) + 1n;
}
