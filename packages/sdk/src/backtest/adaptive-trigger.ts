/**
 * The adaptive strategy's trigger and target (docs/backtest.md, "Adaptive triggers"): each day a
 * volatility forecast (EWMA or GARCH(1,1), volatility-forecast.ts) of the position's health factor
 * sets them.
 *
 * The health factor's sensitivity. HF = C / D with C = sum_i vc_i LT_i and D = sum_i vd_i, so
 * for asset log-returns r_i its log moves by, to first order,
 *
 *     d log HF = sum_i e_i r_i,   e_i = vc_i LT_i / C - vd_i / D
 *
 * (e_i: asset i's share of the liquidation-weighted collateral minus its share of the debt; a
 * stablecoin debt against WETH collateral gives e_WETH = 1, the brief's "exposure share"). The
 * forecaster sees the series x_s = sum_i e_i r_{s,i} over the market history, with today's
 * exposures: how today's position would have moved.
 *
 * The rule. With sigma(h) the forecast volatility of log HF over h days:
 *
 *     trigger = minHF * exp(k sigma(reaction days))   bounded to [minHF, maxTrigger]
 *     target  = trigger * exp(k sigma(target days))   bounded to [trigger, maxTarget]
 *
 * The trigger is the health factor from which a k-sigma fall over the keeper's reaction time still
 * leaves the policy's minimum: a position above it should not fail the policy before the keeper's
 * next look. The target is the health factor from which a k-sigma fall over the target horizon
 * still stays above the trigger: a rebalanced position should not need another one within that
 * horizon. The exponential is the brief's 1 / (1 - k sigma) to first order, on the log scale the
 * series is measured in, and never divides by zero. Both are rounded up to the BPS grid. With no
 * debt there is no health factor to protect: both are minHF.
 *
 * No look-ahead: on step t the forecaster sees the returns up to step t (the move that brought the
 * market to step t included: it has happened), never a later one (knownReturns).
 */
import { BPS_SCALE } from "../core/fixed-point.ts";
import type { Market, Policy } from "../inputs/types.ts";
import type { RiskReport } from "../model/check.ts";
import type { PricePath } from "./price-path.ts";
import { DEFAULT_EWMA_LAMBDA, forecastVolatility, horizonVariance, type GarchParams, type VolatilityForecast, type VolatilityModel } from "./volatility-forecast.ts";

export interface AdaptiveSettings {
  volModel: VolatilityModel;
  ewmaLambda: number;
  /** Sigmas the trigger and the target must survive. */
  k: number;
  /** Days the keeper may take to act (the trigger's horizon). */
  reactionDays: number;
  /** Days a rebalanced position should last (the target's horizon). */
  targetDays: number;
  /** Bounds at BPS. */
  maxTrigger: bigint;
  maxTarget: bigint;
}

/** k = 2.33: the one-sided 99% normal quantile, the example policy's VaR confidence. */
export const DEFAULT_ADAPTIVE_K = 2.33;
/** A keeper that looks once a day acts at most a day after a move. */
export const DEFAULT_ADAPTIVE_REACTION_DAYS = 1;
/** A rebalance should hold for a week, as the time strategy's default interval. */
export const DEFAULT_ADAPTIVE_TARGET_DAYS = 7;
/** Caps: a forecast in a crash must not ask for an unreachable health factor (the planner would find no plan). */
export const ADAPTIVE_MAX_TRIGGER = 3n * BPS_SCALE;
export const ADAPTIVE_MAX_TARGET = 5n * BPS_SCALE;

export const DEFAULT_ADAPTIVE_SETTINGS: AdaptiveSettings = {
  volModel: "ewma",
  ewmaLambda: DEFAULT_EWMA_LAMBDA,
  k: DEFAULT_ADAPTIVE_K,
  reactionDays: DEFAULT_ADAPTIVE_REACTION_DAYS,
  targetDays: DEFAULT_ADAPTIVE_TARGET_DAYS,
  maxTrigger: ADAPTIVE_MAX_TRIGGER,
  maxTarget: ADAPTIVE_MAX_TARGET,
};

/**
 * What the forecaster may see of one price path: per step, each market asset's log return, the
 * market history before day 0 first (a replay's rows before its window), then the path's own.
 */
export interface MarketHistory {
  /** Oldest first; rows [0, before) precede day 0, row before + s is the move from step s to s + 1. */
  logReturns: readonly (readonly number[])[];
  before: number;
  /** The market's published daily covariance (floats, market asset order): the prior before any return. */
  dailyCovariance: readonly (readonly number[])[];
  /** Days per step. */
  stepDays: number;
}

export function marketHistory(path: PricePath, dailyCovariance: readonly (readonly number[])[]): MarketHistory {
  const past = (path.history ?? []).map((row) => row.map(Math.log));
  const own = path.factors.slice(1).map((row, t) => row.map((f, i) => Math.log(f / path.factors[t]![i]!)));
  return { logReturns: [...past, ...own], before: past.length, dailyCovariance, stepDays: path.days[1]! - path.days[0]! };
}

/** The returns known on step `step`: the history and the path's moves up to that step, never a later one. */
export function knownReturns(history: MarketHistory, step: number): readonly (readonly number[])[] {
  return history.logReturns.slice(0, history.before + step);
}

/** e_i of the module comment, one per market asset; undefined without debt (no health factor to move). */
export function healthFactorExposure(report: RiskReport, market: Market): number[] | undefined {
  const weighted = report.values.collateral.map((v, i) => (Number(v) * Number(market.assets[i]!.liquidationThreshold)) / Number(BPS_SCALE));
  const debt = report.values.debt.map(Number);
  const c = weighted.reduce((s, x) => s + x, 0);
  const d = debt.reduce((s, x) => s + x, 0);
  if (!(d > 0)) return undefined;
  return weighted.map((w, i) => (c > 0 ? w / c : 0) - debt[i]! / d);
}

export interface AdaptiveLevels {
  /** At BPS. */
  trigger: bigint;
  target: bigint;
  /** Forecast volatility of log HF over one day (the next step's, per day); 0 without debt. */
  dailyVolatility: number;
  /** Undefined without debt (nothing was forecast). */
  forecast?: VolatilityForecast;
}

/** hf rounded up to the BPS grid and held to [lo, hi]; a non-finite hf (a forecast beyond any scale) is hi. */
function boundedBps(hf: number, lo: bigint, hi: bigint): bigint {
  const scaled = hf * Number(BPS_SCALE);
  if (!(scaled < Number(hi))) return hi;
  const bps = BigInt(Math.ceil(scaled - 1e-9));
  return bps < lo ? lo : bps;
}

/**
 * The day's trigger and target for a position whose report is `report`, from the returns known on
 * `step`. `start`: yesterday's GARCH estimate, to start today's fit from.
 */
export function adaptiveLevels(
  report: RiskReport,
  market: Market,
  policy: Policy,
  settings: AdaptiveSettings,
  history: MarketHistory,
  step: number,
  start?: GarchParams,
): AdaptiveLevels {
  const floor = policy.minHealthFactor;
  const exposure = healthFactorExposure(report, market);
  if (!exposure) return { trigger: floor, target: floor, dailyVolatility: 0 };
  const series = knownReturns(history, step).map((row) => row.reduce((s, r, i) => s + exposure[i]! * r, 0));
  const prior = exposure.reduce((s, ei, i) => s + ei * exposure.reduce((t, ej, j) => t + history.dailyCovariance[i]![j]! * ej, 0), 0) * history.stepDays;
  const forecast = forecastVolatility(series, { model: settings.volModel, lambda: settings.ewmaLambda, priorVariance: Math.max(0, prior), ...(start && { start }) });
  const sigma = (days: number) => Math.sqrt(horizonVariance(forecast, days / history.stepDays));
  const minHf = Number(floor) / Number(BPS_SCALE);
  // A policy whose minimum is above a cap wins over the cap: the trigger is never below the policy.
  const max = (a: bigint, b: bigint) => (a > b ? a : b);
  const trigger = boundedBps(minHf * Math.exp(settings.k * sigma(settings.reactionDays)), floor, max(settings.maxTrigger, floor));
  const target = boundedBps((Number(trigger) / Number(BPS_SCALE)) * Math.exp(settings.k * sigma(settings.targetDays)), trigger, max(settings.maxTarget, trigger));
  return { trigger, target, dailyVolatility: sigma(1), forecast };
}
