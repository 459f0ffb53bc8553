/**
 * Simulated price paths: correlated geometric Brownian motion with Merton-style jumps and
 * two-state regime-switching volatility (docs/backtest.md, "Price model"). Per step of dt days,
 * for every asset i,
 *
 *     log S_i(t+dt) - log S_i(t) = (mu/365 - m_r^2 Sigma_ii / 2 - lambda kappa_i) dt
 *                                  + m_r sqrt(dt) (L z)_i  +  beta_i (J_1 + ... + J_N)
 *
 * - Sigma: the market's daily return covariance (correlations come with it), L its Cholesky
 *   factor, z independent standard normals;
 * - r: the volatility regime, a two-state Markov chain (calm, stressed) that switches with the
 *   given daily probabilities; m_r its volatility multiplier; every path starts calm;
 * - N ~ Poisson(lambda dt) jumps, each J ~ Normal(jumpMean, jumpStd^2) in log price, common to
 *   all assets (crashes are market-wide) and scaled by beta_i = sigma_i / max_j sigma_j, so the
 *   most volatile asset takes the full jump and a stablecoin almost none;
 * - kappa_i = E[exp(beta_i J)] - 1 compensates the jumps and -m_r^2 Sigma_ii / 2 the convexity,
 *   so E[S_i(t)] = S_i(0) exp(mu t / 365) whatever the volatility and jumps.
 */
import { cholesky } from "./cholesky.ts";
import type { PricePath } from "./price-path.ts";
import { SeededRandom } from "./random.ts";

export interface PriceModel {
  /** Expected annual log-drift mu of every asset (0: no trend). */
  drift: number;
  /** Multiplier on the market's covariance (1: as published). */
  volScale: number;
  /** Volatility multipliers of the calm and the stressed regime. */
  regimeVol: [calm: number, stressed: number];
  /** Daily probabilities of switching calm -> stressed and stressed -> calm. */
  regimeSwitch: [toStressed: number, toCalm: number];
  /** Expected jumps per year (lambda * 365). */
  jumpsPerYear: number;
  /** Mean and standard deviation of a jump's log-size (before beta). */
  jumpMean: number;
  jumpStd: number;
}

/** Defaults (docs/backtest.md explains each): no trend, the published covariance, crypto-like stress and crashes. */
export const DEFAULT_PRICE_MODEL: PriceModel = {
  drift: 0,
  volScale: 1,
  regimeVol: [0.8, 2],
  regimeSwitch: [0.02, 0.1],
  jumpsPerYear: 4,
  jumpMean: -0.08,
  jumpStd: 0.06,
};

export interface SimulationGrid {
  /** Number of steps after the start. */
  steps: number;
  /** Days per step (> 0). */
  stepDays: number;
}

/** Problems with a price model, named by parameter; empty when usable. */
export function priceModelProblems(model: PriceModel): { parameter: keyof PriceModel; problem: string }[] {
  const out: { parameter: keyof PriceModel; problem: string }[] = [];
  const finite = (x: number) => Number.isFinite(x);
  if (!finite(model.drift) || Math.abs(model.drift) > 10) out.push({ parameter: "drift", problem: `must be a number in [-10, 10] (annual log-drift), got ${model.drift}` });
  if (!finite(model.volScale) || model.volScale < 0 || model.volScale > 10) out.push({ parameter: "volScale", problem: `must be in [0, 10], got ${model.volScale}` });
  if (model.regimeVol.length !== 2 || model.regimeVol.some((m) => !finite(m) || m < 0 || m > 10)) {
    out.push({ parameter: "regimeVol", problem: `must be two multipliers in [0, 10] (calm, stressed), got ${model.regimeVol.join(",")}` });
  }
  if (model.regimeSwitch.length !== 2 || model.regimeSwitch.some((p) => !finite(p) || p < 0 || p > 1)) {
    out.push({ parameter: "regimeSwitch", problem: `must be two daily probabilities in [0, 1] (calm->stressed, stressed->calm), got ${model.regimeSwitch.join(",")}` });
  }
  if (!finite(model.jumpsPerYear) || model.jumpsPerYear < 0 || model.jumpsPerYear > 365)
    out.push({ parameter: "jumpsPerYear", problem: `must be in [0, 365], got ${model.jumpsPerYear}` });
  if (!finite(model.jumpMean) || Math.abs(model.jumpMean) > 2) out.push({ parameter: "jumpMean", problem: `must be a log-size in [-2, 2], got ${model.jumpMean}` });
  if (!finite(model.jumpStd) || model.jumpStd < 0 || model.jumpStd > 2) out.push({ parameter: "jumpStd", problem: `must be in [0, 2], got ${model.jumpStd}` });
  return out;
}

/**
 * `count` paths over `grid` for assets with daily covariance `covariance` (floats, market asset
 * order), from `seed`. Path p uses its own generator seeded from (seed, p), so a path does not
 * change when the number of paths does.
 */
export function simulatePaths(covariance: readonly (readonly number[])[], model: PriceModel, grid: SimulationGrid, count: number, seed: number): PricePath[] {
  const problems = priceModelProblems(model);
  if (problems.length > 0) throw new RangeError(`price model: ${problems[0]!.parameter} ${problems[0]!.problem}`);
  if (!Number.isInteger(grid.steps) || grid.steps < 1) throw new RangeError(`steps must be an integer >= 1, got ${grid.steps}`);
  if (!(grid.stepDays > 0) || !Number.isFinite(grid.stepDays)) throw new RangeError(`stepDays must be > 0, got ${grid.stepDays}`);
  const n = covariance.length;
  const scaled = covariance.map((row) => row.map((c) => c * model.volScale ** 2));
  const lower = cholesky(scaled);
  const sigma = scaled.map((row, i) => Math.sqrt(Math.max(0, row[i]!)));
  const sigmaMax = Math.max(0, ...sigma);
  const beta = sigma.map((s) => (sigmaMax > 0 ? s / sigmaMax : 0));
  const dt = grid.stepDays;
  const jumpRate = model.jumpsPerYear / 365;
  const kappa = beta.map((b) => Math.exp(b * model.jumpMean + (b * model.jumpStd) ** 2 / 2) - 1);
  // Switching within a step of dt days: 1 - (1 - p)^dt.
  const switchProbability = model.regimeSwitch.map((p) => 1 - (1 - p) ** dt);
  const drift = (regime: number) => {
    const m = model.regimeVol[regime]!;
    return sigma.map((s, i) => (model.drift / 365 - (m * s) ** 2 / 2 - jumpRate * kappa[i]!) * dt);
  };
  const drifts = [drift(0), drift(1)];

  const paths: PricePath[] = [];
  for (let p = 0; p < count; p++) {
    const rng = new SeededRandom(pathSeed(seed, p));
    const logs = new Array<number>(n).fill(0);
    const days = [0];
    const factors = [logs.map(() => 1)];
    const regimes = [0];
    const jumps = [0];
    let regime = 0;
    for (let t = 1; t <= grid.steps; t++) {
      if (rng.uniform() < switchProbability[regime]!) regime = 1 - regime;
      const z = Array.from({ length: n }, () => rng.normal());
      const count = rng.poisson(jumpRate * dt);
      let jump = 0;
      for (let k = 0; k < count; k++) jump += model.jumpMean + model.jumpStd * rng.normal();
      const m = model.regimeVol[regime]! * Math.sqrt(dt);
      for (let i = 0; i < n; i++) {
        let shock = 0;
        for (let k = 0; k <= i; k++) shock += lower[i]![k]! * z[k]!;
        logs[i] = logs[i]! + drifts[regime]![i]! + m * shock + beta[i]! * jump;
      }
      days.push(Number((t * dt).toPrecision(12)));
      factors.push(logs.map(Math.exp));
      regimes.push(regime);
      jumps.push(count);
    }
    paths.push({ days, factors, regimes, jumps, label: `simulated path ${p + 1}` });
  }
  return paths;
}

/** A 32-bit seed for path `index` of a run seeded with `seed` (splitmix-style mixing). */
export function pathSeed(seed: number, index: number): number {
  let z = (Math.imul(seed >>> 0, 0x9e3779b1) ^ Math.imul(index + 1, 0x85ebca6b)) >>> 0;
  z = Math.imul(z ^ (z >>> 15), 0x2c1b3c6d);
  z = Math.imul(z ^ (z >>> 12), 0x297a2d39);
  return (z ^ (z >>> 15)) >>> 0;
}
