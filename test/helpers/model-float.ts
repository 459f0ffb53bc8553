/**
 * A floating-point evaluation of the formulas of shared/spec/risk-model.md sections 1-3
 * (no rounding of values, no fixed point), and the tolerances within which the integer model
 * of docs/risk-arithmetic.md must agree with it.
 */
import type { Market, Policy, Position } from "../../packages/sdk/src/inputs/types.ts";
import { inverseNormal } from "../../packages/sdk/src/model/normal-quantile.ts";

export interface FloatFigures {
  /** value(c_i), value(d_i) in quote units (q.u.). */
  collateral: number[];
  debt: number[];
  /** HF as a plain ratio; null with no debt. */
  healthFactor: number | null;
  equity: number;
  /** L_j, q.u. */
  losses: number[];
  /** max(0, max_j w_j L_j), q.u. */
  worst: number;
  exceptions: number;
  historicalVar: number;
  /** x_i, q.u. */
  exposures: number[];
  /** x^T Sigma x, q.u.^2 */
  quadraticForm: number;
  z: number;
  parametricVar: number;
  pass: { healthFactor: boolean; stress: boolean; historical: boolean; parametric: boolean };
  /** Sums of absolute terms, to bound the float evaluation's own rounding. */
  magnitude: { equity: number; losses: number[]; quadraticForm: number };
}

const num = (x: bigint, decimals = 0): number => Number(x) / 10 ** decimals;

/** Exact e = floor((1 - alpha) * S) from the confidence at 10^6 (a float product may misround it). */
export function exceptionsOf(confidence: bigint, scenarios: number): number {
  return Number(((1_000_000n - confidence) * BigInt(scenarios)) / 1_000_000n);
}

export function floatFigures(position: Position, market: Market, policy: Policy): FloatFigures {
  const value = (amount: bigint, i: number): number => {
    const asset = market.assets[i]!;
    return (num(amount) * num(asset.price)) / 10 ** asset.decimals;
  };
  const collateral = position.collateral.map(value);
  const debt = position.debt.map(value);
  const net = collateral.map((c, i) => c - debt[i]!);
  const quantity = position.quantities.map((x) => num(x, 8));

  const totalDebt = debt.reduce((s, d) => s + d, 0);
  const adjusted = collateral.reduce((s, c, i) => s + c * num(market.assets[i]!.liquidationThreshold, 4), 0);
  const healthFactor = position.debt.every((d) => d === 0n) ? null : adjusted / totalDebt;

  const derivativeEquity = market.instruments.map((k, i) => quantity[i]! * num(k.mark));
  const equity = net.reduce((s, v) => s + v, 0) + derivativeEquity.reduce((s, v) => s + v, 0);
  const equityMagnitude = [...collateral, ...debt].reduce((s, v) => s + Math.abs(v), 0) + derivativeEquity.reduce((s, v) => s + Math.abs(v), 0);

  const lossTerms = market.scenarios.map((s) => [...net.map((v, i) => v * num(s.assetReturns[i]!, 8)), ...quantity.map((x, k) => x * num(s.instrumentPnl[k]!))]);
  const losses = lossTerms.map((terms) => -terms.reduce((s, t) => s + t, 0));
  const worst = Math.max(0, ...market.scenarios.map((s, j) => num(s.weight, 4) * losses[j]!));

  const exceptions = exceptionsOf(policy.var.confidence, losses.length);
  const sorted = [...losses].sort((a, b) => b - a);
  const historicalVar = Math.max(0, sorted[exceptions]!);

  const exposures = net.map((v, i) =>
    market.instruments.reduce((s, k, index) => (k.underlying === i ? s + quantity[index]! * num(k.delta, 8) * num(market.assets[i]!.price) : s), v),
  );
  const sigma = market.covariance.matrix.map((row) => row.map((x) => num(x, 12)));
  let quadraticForm = 0;
  let formMagnitude = 0;
  sigma.forEach((row, i) =>
    row.forEach((s, j) => {
      quadraticForm += exposures[i]! * s * exposures[j]!;
      formMagnitude += Math.abs(exposures[i]! * s * exposures[j]!);
    }),
  );
  const z = inverseNormal(num(policy.var.confidence, 6));
  const h = market.covariance.horizonDays;
  const parametricVar = z * Math.sqrt(Math.max(0, quadraticForm)) * Math.sqrt(h);

  const cm = num(policy.var.capitalMultiplier, 6);
  return {
    collateral,
    debt,
    healthFactor,
    equity,
    losses,
    worst,
    exceptions,
    historicalVar,
    exposures,
    quadraticForm,
    z,
    parametricVar,
    pass: {
      healthFactor: healthFactor === null || healthFactor >= num(policy.minHealthFactor, 4),
      stress: equity >= worst + num(policy.stress.minEquity),
      historical: cm * historicalVar <= equity,
      parametric: cm * parametricVar <= equity,
    },
    magnitude: {
      equity: equityMagnitude,
      losses: lossTerms.map((terms) => terms.reduce((s, t) => s + Math.abs(t), 0)),
      quadraticForm: formMagnitude,
    },
  };
}

/** Bound on the float evaluation's own rounding error for a sum of terms of total size `magnitude`. */
export const floatSlack = (magnitude: number): number => magnitude * 2 ** -46;

/**
 * Tolerances, derived in the test file's header comment. `rounded[i]` counts the nonzero
 * amounts of asset i among c_i, d_i (each value rounds by less than 1 q.u.).
 */
export interface Tolerances {
  /** HF at BPS units: fixed <= float * 10^4 <= fixed + this. */
  healthFactor: number;
  /** equity: fixed <= float <= fixed + this. */
  equity: number;
  /** |L_j(fixed) - L_j(float)| <= this, per scenario. */
  losses: number[];
  /** |worstLoss(fixed) - worst(float)|. */
  worst: number;
  /** |VaR_hist(fixed) - VaR_hist(float)|. */
  historicalVar: number;
  /** |V - VaR_param(float)|. */
  parametricVar: number;
}

export function tolerances(position: Position, market: Market, figures: FloatFigures, fixedDebt: bigint): Tolerances {
  const rounded = market.assets.map((_, i) => (position.collateral[i]! !== 0n ? 1 : 0) + (position.debt[i]! !== 0n ? 1 : 0));
  const equity = rounded.reduce((s, n) => s + n, 0) + 1 + floatSlack(figures.magnitude.equity);
  const lossRounding = market.scenarios.map((s) => rounded.reduce((sum, n, i) => sum + n * Math.abs(num(s.assetReturns[i]!, 8)), 0));
  const losses = lossRounding.map((r, j) => r + 1 + floatSlack(figures.magnitude.losses[j]!));
  const worst = Math.max(...market.scenarios.map((s, j) => num(s.weight, 4) * (losses[j]! - 1))) + 1;
  const historicalVar = Math.max(...losses);

  // HF: floor (1 BPS unit) plus the value rounding: (sum of LT over rounded collateral + HF * debts) / sum vd.
  let healthFactor = 0;
  if (figures.healthFactor !== null) {
    const lt = market.assets.reduce((s, a, i) => s + (position.collateral[i]! !== 0n ? num(a.liquidationThreshold) : 0), 0);
    const debts = position.debt.filter((d) => d !== 0n).length;
    healthFactor = 1 + (lt + figures.healthFactor * 1e4 * debts) / Number(fixedDebt) + floatSlack(figures.healthFactor * 1e4) * 8;
  }

  // Parametric: |dx_i| < rounded_i + 1/2 (values, then the delta term's rounding); ||dx||_Sigma <=
  // sum |dx_i| sigma_i; Qf's ceiling moves sqrt by at most min(1, 1/(2 sqrt Qf)); Z / 10^8 exceeds
  // z by at most 2e-8 (plus Acklam's 1.2e-9 relative error against the true quantile); V's ceilings < 1.
  const h = market.covariance.horizonDays;
  const zHigh = Math.abs(figures.z) + 2e-8;
  const deltaRounded = market.assets.map((_, i) => (market.instruments.some((k) => k.underlying === i) ? 0.5 : 0));
  const sigma = market.covariance.matrix.map((row, i) => Math.sqrt(num(row[i]!, 12)));
  const dx = sigma.reduce((s, sd, i) => s + (rounded[i]! + deltaRounded[i]!) * sd, 0);
  // sqrt of the fixed-point form is at least root - dx; sqrt(Q + 1) - sqrt(Q) <= min(1, 1 / (2 sqrt Q)).
  const root = Math.max(0, Math.sqrt(Math.max(0, figures.quadraticForm)) - dx);
  const ceilQf = root > 0.5 ? 1 / (2 * root) : 1;
  const parametricVar =
    1 +
    zHigh * Math.sqrt(h) * (dx + ceilQf) +
    figures.parametricVar * (2e-8 / Math.abs(figures.z) + 1.2e-9) +
    zHigh * Math.sqrt(h) * sqrtShift(Math.max(0, figures.quadraticForm), floatSlack(figures.magnitude.quadraticForm));
  return { healthFactor, equity, losses, worst, historicalVar, parametricVar };
}

/** Bound on |sqrt(Q) - sqrt(Q')| for |Q - Q'| <= delta, Q, Q' >= 0. */
function sqrtShift(form: number, delta: number): number {
  const denominator = Math.sqrt(form) + Math.sqrt(Math.max(0, form - delta));
  return Math.min(Math.sqrt(delta), denominator > 0 ? delta / denominator : Infinity);
}

/** The tolerance as docs/risk-arithmetic.md states it ("Tolerance against the exact formulas"). */
export function documentedTolerances(market: Market, figures: FloatFigures): { equity: number; losses: number; parametricVar: number } {
  const n = market.assets.length;
  const maxSigma = Math.max(...market.covariance.matrix.map((row, i) => Math.sqrt(num(row[i]!, 12))));
  return {
    equity: n + 1,
    losses: n + 1,
    parametricVar: 1 + Math.abs(figures.z) * Math.sqrt(market.covariance.horizonDays) * n * 0.5 * maxSigma,
  };
}
