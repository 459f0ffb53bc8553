/**
 * Volatility forecasts from a return history, for the adaptive trigger strategy
 * (docs/backtest.md, "Adaptive triggers"): RiskMetrics EWMA and GARCH(1,1) fitted by Gaussian
 * maximum likelihood. Pure and browser-safe; the returns are whatever series the caller forecasts
 * (the backtest passes a position's health-factor log-returns), zero-mean by assumption, as
 * RiskMetrics and most daily risk models take them: a daily mean is tiny next to the daily
 * volatility and estimating it adds noise, not accuracy.
 *
 * Written out rather than taken from npm: the registry has no GARCH package (the name "garch" is
 * not taken), and the one general minimiser found (fmin 0.0.4) has not been released since 2016;
 * Nelder-Mead on a two-parameter reparameterisation is 60 lines that the tests pin.
 *
 * - EWMA (J.P. Morgan / Reuters, RiskMetrics Technical Document, 1996):
 *       s2[t+1] = lambda s2[t] + (1 - lambda) r[t]^2,  lambda = 0.94 for daily data;
 *   its variance over n steps is n s2[t+1] (it has no mean reversion: an IGARCH).
 * - GARCH(1,1) (Bollerslev 1986): h[t+1] = omega + alpha r[t]^2 + beta h[t], with omega > 0,
 *   alpha, beta >= 0, alpha + beta < 1. Fitted with variance targeting (Engle & Mezrich 1996):
 *   the long-run variance V = omega / (1 - alpha - beta) is held at the sample's mean square, so
 *   only (alpha, beta) are searched, through a reparameterisation that keeps every constraint:
 *       alpha + beta = MAX_PERSISTENCE * logistic(u),  alpha / (alpha + beta) = logistic(v),
 *   omega = V (1 - alpha - beta) > 0. The recursion starts at h[1] = V. Nelder-Mead from a few
 *   typical starts (or from the caller's previous estimate) keeps the best. Its variance over n steps is
 *       n V + (h[t+1] - V) (1 - p^n) / (1 - p),  p = alpha + beta,
 *   so a shock fades towards V instead of persisting as in EWMA.
 *
 * Degenerate histories never produce NaN: fewer than `minReturns` returns (default 50: a
 * GARCH fitted on fewer is mostly noise) or a history with no variation (mean square below
 * VARIANCE_FLOOR) fall back to EWMA, and the forecast says so; EWMA with no return at all is its
 * prior. Non-finite returns are refused (RangeError: a caller's bug; files are checked upstream).
 */

export type VolatilityModel = "ewma" | "garch";
export const VOLATILITY_MODELS: readonly VolatilityModel[] = ["ewma", "garch"];

/** RiskMetrics' decay for daily returns. */
export const DEFAULT_EWMA_LAMBDA = 0.94;
/** Fewer returns than this and GARCH falls back to EWMA. */
export const DEFAULT_GARCH_MIN_RETURNS = 50;
/** alpha + beta stay below this: omega = V (1 - alpha - beta) stays positive and the fit stationary. */
export const MAX_PERSISTENCE = 0.999;
/** Per-step variance below which a history counts as having no variation (a volatility of 1e-7). */
export const VARIANCE_FLOOR = 1e-14;

export interface GarchParams {
  omega: number;
  alpha: number;
  beta: number;
}

export interface GarchFit {
  params: GarchParams;
  /** omega / (1 - alpha - beta): the sample's mean square (variance targeting). */
  longRunVariance: number;
  /** Gaussian log-likelihood at the estimate, constants included. */
  logLikelihood: number;
  /** The conditional variance for the step after the last return. */
  nextVariance: number;
  /** Likelihood evaluations spent. */
  evaluations: number;
}

/** A forecast of the next step's variance and of its term structure. */
export interface VolatilityForecast {
  /** The model that produced it: "ewma" also when GARCH fell back (then `fallback` says why). */
  model: VolatilityModel;
  fallback?: string;
  /** Variance of the next step's return. */
  nextVariance: number;
  /** Where the variance reverts to (GARCH's V); for EWMA, nextVariance (no reversion). */
  longRunVariance: number;
  /** alpha + beta for GARCH; 1 for EWMA. */
  persistence: number;
  /** GARCH only. */
  params?: GarchParams;
  /** How many returns the forecast saw. */
  returns: number;
}

function assertFiniteReturns(returns: readonly number[]): void {
  returns.forEach((r, i) => {
    if (!Number.isFinite(r)) throw new RangeError(`volatility forecast: return ${i} is not finite (${r})`);
  });
}

const meanSquare = (returns: readonly number[]): number => (returns.length === 0 ? 0 : returns.reduce((s, r) => s + r * r, 0) / returns.length);

/**
 * The EWMA variance for the step after the last return. `initialVariance` is the variance before
 * the first return (default: the history's mean square); with no return the forecast is it.
 */
export function ewmaVariance(returns: readonly number[], lambda: number = DEFAULT_EWMA_LAMBDA, initialVariance?: number): number {
  if (!(lambda > 0 && lambda < 1)) throw new RangeError(`EWMA lambda must be in (0, 1), got ${lambda}`);
  assertFiniteReturns(returns);
  const start = initialVariance ?? meanSquare(returns);
  if (!(start >= 0) || !Number.isFinite(start)) throw new RangeError(`EWMA initial variance must be finite and >= 0, got ${start}`);
  let variance = start;
  for (const r of returns) variance = lambda * variance + (1 - lambda) * r * r;
  return variance;
}

/**
 * The Gaussian log-likelihood of zero-mean `returns` under GARCH(1,1) `params`, the recursion
 * started at `initialVariance` (default the long-run variance). -Infinity when a variance is not
 * positive (parameters outside the model).
 */
export function garchLogLikelihood(returns: readonly number[], params: GarchParams, initialVariance?: number): number {
  const { omega, alpha, beta } = params;
  let h = initialVariance ?? omega / (1 - alpha - beta);
  let sum = 0;
  for (const r of returns) {
    if (!(h > 0) || !Number.isFinite(h)) return Number.NEGATIVE_INFINITY;
    sum += Math.log(2 * Math.PI * h) + (r * r) / h;
    h = omega + alpha * r * r + beta * h;
  }
  return -sum / 2;
}

/** The GARCH conditional variance after the last return, the recursion started at `initialVariance`. */
export function garchNextVariance(returns: readonly number[], params: GarchParams, initialVariance: number): number {
  let h = initialVariance;
  for (const r of returns) h = params.omega + params.alpha * r * r + params.beta * h;
  return h;
}

const logistic = (x: number): number => 1 / (1 + Math.exp(-x));
const logit = (p: number): number => Math.log(p / (1 - p));

/** (u, v) -> (alpha, beta): every (u, v) gives alpha, beta >= 0 and alpha + beta < MAX_PERSISTENCE. */
function paramsOf(u: number, v: number): { alpha: number; beta: number } {
  const persistence = MAX_PERSISTENCE * logistic(u);
  const share = logistic(v);
  return { alpha: persistence * share, beta: persistence * (1 - share) };
}

function coordinatesOf(alpha: number, beta: number): [number, number] {
  const clamp = (p: number) => Math.min(1 - 1e-9, Math.max(1e-9, p));
  return [logit(clamp((alpha + beta) / MAX_PERSISTENCE)), logit(clamp(alpha / (alpha + beta)))];
}

export interface NelderMeadResult {
  x: number[];
  fx: number;
  evaluations: number;
}

/**
 * Minimises `f` by Nelder-Mead (the standard reflection 1, expansion 2, contraction 1/2, shrink
 * 1/2), from a simplex of `x0` and `x0 + step` along each axis, until the simplex's values and
 * points agree within the tolerances or `maxEvaluations` is spent. A non-finite value counts as
 * +Infinity (a point outside the model is never chosen). Deterministic.
 */
export function nelderMead(
  f: (x: readonly number[]) => number,
  x0: readonly number[],
  options: { step?: number; fTolerance?: number; xTolerance?: number; maxEvaluations?: number } = {},
): NelderMeadResult {
  const { step = 0.5, fTolerance = 1e-10, xTolerance = 1e-8, maxEvaluations = 1000 } = options;
  const n = x0.length;
  let evaluations = 0;
  const value = (x: number[]) => {
    evaluations++;
    const y = f(x);
    return Number.isFinite(y) ? y : Number.POSITIVE_INFINITY;
  };
  let simplex = [x0.slice(), ...x0.map((_, i) => x0.map((c, j) => (i === j ? c + step : c)))].map((x) => ({ x, fx: value(x) }));
  const combine = (a: number[], b: number[], t: number) => a.map((ai, i) => ai + t * (b[i]! - ai));
  while (evaluations < maxEvaluations) {
    simplex.sort((p, q) => p.fx - q.fx);
    const best = simplex[0]!;
    const worst = simplex[n]!;
    const spreadF = Math.abs(worst.fx - best.fx);
    const spreadX = Math.max(...simplex.slice(1).map((p) => Math.max(...p.x.map((c, i) => Math.abs(c - best.x[i]!)))));
    if (spreadF <= fTolerance * (Math.abs(best.fx) + 1e-12) && spreadX <= xTolerance) break;
    if (spreadF === 0 && spreadX <= xTolerance) break;
    const centroid = x0.map((_, i) => simplex.slice(0, n).reduce((s, p) => s + p.x[i]!, 0) / n);
    const reflected = combine(centroid, worst.x, -1);
    const fr = value(reflected);
    if (fr < best.fx) {
      const expanded = combine(centroid, worst.x, -2);
      const fe = value(expanded);
      simplex[n] = fe < fr ? { x: expanded, fx: fe } : { x: reflected, fx: fr };
    } else if (fr < simplex[n - 1]!.fx) {
      simplex[n] = { x: reflected, fx: fr };
    } else {
      // Contract towards the better of the worst point and its reflection.
      const outside = fr < worst.fx;
      const contracted = combine(centroid, outside ? reflected : worst.x, 0.5);
      const fc = value(contracted);
      if (fc < (outside ? fr : worst.fx)) simplex[n] = { x: contracted, fx: fc };
      else
        simplex = simplex.map((p, i) => {
          if (i === 0) return p;
          const x = combine(best.x, p.x, 0.5);
          return { x, fx: value(x) };
        });
    }
  }
  simplex.sort((p, q) => p.fx - q.fx);
  return { x: simplex[0]!.x, fx: simplex[0]!.fx, evaluations };
}

/** The starting (alpha, beta) of the search: typical daily estimates, a low-persistence and a near-integrated one. */
const GARCH_STARTS: readonly [number, number][] = [
  [0.05, 0.9],
  [0.1, 0.8],
  [0.2, 0.5],
  [0.03, 0.96],
];

/**
 * Fits GARCH(1,1) to zero-mean `returns` by Gaussian maximum likelihood with variance targeting
 * (module comment), from the typical starts (GARCH_STARTS), or from `start` alone when given (a
 * previous estimate: re-fitting a day later converges from it in a few steps, five times faster). Undefined when the history is too short (< 3 returns) or has
 * no variation: there is nothing to fit.
 */
export function fitGarch(returns: readonly number[], start?: GarchParams): GarchFit | undefined {
  assertFiniteReturns(returns);
  const longRun = meanSquare(returns);
  if (returns.length < 3 || !(longRun >= VARIANCE_FLOOR)) return undefined;
  let evaluations = 0;
  const negativeLogLikelihood = ([u, v]: readonly number[]) => {
    const { alpha, beta } = paramsOf(u!, v!);
    return -garchLogLikelihood(returns, { omega: longRun * (1 - alpha - beta), alpha, beta }, longRun);
  };
  // A previous estimate is a good start on nearly the same history (a day later); a cold fit tries the typical ones.
  const starts = start ? [coordinatesOf(start.alpha, start.beta)] : GARCH_STARTS.map(([a, b]) => coordinatesOf(a, b));
  let best: NelderMeadResult | undefined;
  for (const x0 of starts) {
    let result = nelderMead(negativeLogLikelihood, x0);
    // One restart from the optimum: Nelder-Mead can stall on a collapsed simplex.
    const again = nelderMead(negativeLogLikelihood, result.x, { step: 0.1 });
    evaluations += result.evaluations + again.evaluations;
    if (again.fx < result.fx) result = again;
    if (!best || result.fx < best.fx) best = result;
  }
  const { alpha, beta } = paramsOf(best!.x[0]!, best!.x[1]!);
  const params = { omega: longRun * (1 - alpha - beta), alpha, beta };
  return { params, longRunVariance: longRun, logLikelihood: -best!.fx, nextVariance: garchNextVariance(returns, params, longRun), evaluations };
}

/**
 * The variance of the sum of the next `steps` returns (steps > 0, fractional allowed): for EWMA
 * (persistence 1) steps times the next step's; for GARCH the mean-reverting sum.
 */
export function horizonVariance(forecast: Pick<VolatilityForecast, "nextVariance" | "longRunVariance" | "persistence">, steps: number): number {
  if (!(steps > 0) || !Number.isFinite(steps)) throw new RangeError(`horizon must be a positive number of steps, got ${steps}`);
  const { nextVariance: h, longRunVariance: v, persistence: p } = forecast;
  if (p >= 1) return steps * h;
  const sum = steps * v + ((h - v) * (1 - p ** steps)) / (1 - p);
  // A fractional horizon below one step can dip under the one-step share; never below zero.
  return Math.max(0, sum);
}

export interface ForecastOptions {
  model: VolatilityModel;
  /** EWMA decay (default 0.94). */
  lambda?: number;
  /** EWMA's variance before the first return: a prior such as the oracle's published covariance (default: the history's mean square). */
  priorVariance?: number;
  /** GARCH: fewer returns and it falls back to EWMA (default 50). */
  minReturns?: number;
  /** GARCH: a previous estimate to start the search from (instead of the typical starts). */
  start?: GarchParams;
}

/** The next step's variance and term structure from `returns` (oldest first), by the chosen model. */
export function forecastVolatility(returns: readonly number[], options: ForecastOptions): VolatilityForecast {
  const lambda = options.lambda ?? DEFAULT_EWMA_LAMBDA;
  const ewma = (fallback?: string): VolatilityForecast => {
    const next = ewmaVariance(returns, lambda, options.priorVariance);
    return { model: "ewma", ...(fallback !== undefined && { fallback }), nextVariance: next, longRunVariance: next, persistence: 1, returns: returns.length };
  };
  if (options.model === "ewma") return ewma();
  const minReturns = options.minReturns ?? DEFAULT_GARCH_MIN_RETURNS;
  if (returns.length < minReturns) return ewma(`${returns.length} return${returns.length === 1 ? "" : "s"}, fewer than the ${minReturns} a GARCH fit needs`);
  const fit = fitGarch(returns, options.start);
  if (!fit) return ewma("no variation in the history");
  return {
    model: "garch",
    nextVariance: fit.nextVariance,
    longRunVariance: fit.longRunVariance,
    persistence: fit.params.alpha + fit.params.beta,
    params: fit.params,
    returns: returns.length,
  };
}
