/**
 * Section 6 of docs/risk-arithmetic.md (risk-model.md section 3, delta-normal):
 *   x_i  = (vc_i - vd_i) + floor( (sum_{k: u(k)=i} q_k * delta_k * p_i + 5 * 10^15) / 10^16 )   (q.u.)
 *   Qf   = ceil( x^T Sigma x / COV )                                                     (q.u.^2)
 *   Z    = ceil(z_alpha * 10^8) + 1
 *   V    = the smallest V with (V * 10^8)^2 >= Z^2 * h * Qf                              (q.u.)
 *   pass <=> E >= 0 and capitalMultiplier * V <= E * RATIO, E = floor(E* / 10^8)
 */
import { COVARIANCE_SCALE, QUANTITY_SCALE, RATE_SCALE, RATIO_SCALE } from "../core/fixed-point.ts";
import type { Market, Position } from "../inputs/types.ts";
import { ModelError } from "./errors.ts";
import { normalQuantile, QUANTILE_SCALE, scaledQuantile } from "./normal-quantile.ts";
import { ceilDiv, floorDiv, isqrtCeil } from "./rounding.ts";
import { netValues, type AssetValues } from "./values.ts";

/** Scale of q_k * delta_k * p_i: QTY * RATE = 10^16 (times q.u.). */
const DELTA_EXPOSURE_SCALE = QUANTITY_SCALE * RATE_SCALE;

export interface ParametricVarResult {
  /** x_i, q.u., one per asset. */
  exposures: bigint[];
  /** x^T Sigma x, q.u.^2 * COV (exact, before rounding). */
  quadraticFormScaled: bigint;
  /** Qf = ceil(x^T Sigma x / COV), q.u.^2. */
  quadraticForm: bigint;
  /** z_alpha as computed (Acklam). */
  z: number;
  /** Z = ceil(z_alpha * 10^8) + 1. */
  scaledZ: bigint;
  horizonDays: number;
  /** V, q.u. */
  value: bigint;
  /** E * RATIO - capitalMultiplier * V (q.u. * RATIO). */
  margin: bigint;
  pass: boolean;
}

/** x_i: net value plus the delta-mapped instruments on asset i, rounded half away once per asset. */
export function exposures(values: AssetValues, position: Position, market: Market): bigint[] {
  const deltaValue = market.assets.map(() => 0n);
  market.instruments.forEach((k, index) => {
    deltaValue[k.underlying] = deltaValue[k.underlying]! + position.quantities[index]! * k.delta * market.assets[k.underlying]!.price;
  });
  return netValues(values).map((net, i) => net + floorDiv(deltaValue[i]! + DELTA_EXPOSURE_SCALE / 2n, DELTA_EXPOSURE_SCALE));
}

/** x^T Sigma x at q.u.^2 * COV, exact. */
export function quadraticFormScaled(x: readonly bigint[], matrix: readonly (readonly bigint[])[]): bigint {
  return matrix.reduce((sum, row, i) => sum + x[i]! * row.reduce((inner, entry, j) => inner + entry * x[j]!, 0n), 0n);
}

/** Qf = ceil(x^T Sigma x / COV); a negative form (Sigma not PSD) is refused. */
export function quadraticForm(x: readonly bigint[], matrix: readonly (readonly bigint[])[]): bigint {
  const scaled = quadraticFormScaled(x, matrix);
  if (scaled < 0n) {
    throw new ModelError(
      `the market's covariance matrix is not positive semidefinite: x^T Sigma x = ${scaled} (at ${COVARIANCE_SCALE}) is negative for this position's exposures, so parametric VaR is undefined`,
    );
  }
  return ceilDiv(scaled, COVARIANCE_SCALE);
}

/** V = ceil( ceil(sqrt(Z^2 * h * Qf)) / 10^8 ): the smallest V with (V * 10^8)^2 >= Z^2 * h * Qf. */
export function parametricVarValue(scaledZ: bigint, horizonDays: number, quadraticForm: bigint): bigint {
  return ceilDiv(isqrtCeil(scaledZ * scaledZ * BigInt(horizonDays) * quadraticForm), QUANTILE_SCALE);
}

/** Parametric VaR and its check against the reported equity E (q.u.). Ratios at RATIO. */
export function parametricVar(values: AssetValues, position: Position, market: Market, equity: bigint, confidence: bigint, capitalMultiplier: bigint): ParametricVarResult {
  const x = exposures(values, position, market);
  const scaledForm = quadraticFormScaled(x, market.covariance.matrix);
  const form = quadraticForm(x, market.covariance.matrix);
  const scaledZ = scaledQuantile(confidence);
  const horizonDays = market.covariance.horizonDays;
  const value = parametricVarValue(scaledZ, horizonDays, form);
  const margin = equity * RATIO_SCALE - capitalMultiplier * value;
  return {
    exposures: x,
    quadraticFormScaled: scaledForm,
    quadraticForm: form,
    z: normalQuantile(confidence),
    scaledZ,
    horizonDays,
    value,
    margin,
    pass: equity >= 0n && margin >= 0n,
  };
}
