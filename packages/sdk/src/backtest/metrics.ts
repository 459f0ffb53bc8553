/**
 * Per-strategy figures over all paths (docs/backtest.md, "Metrics", defines each). Costs are
 * means per path in quote units; a liquidated path stops paying at its liquidation.
 */
import type { BacktestStrategy } from "./strategy-settings.ts";
import type { StrategyPathRun } from "./run-strategy.ts";

export interface StrategyMetrics {
  strategy: BacktestStrategy;
  paths: number;
  liquidations: number;
  /** liquidations / paths. */
  liquidationRate: number;
  /** Of the liquidations, how many were by the health factor (the rest: negative equity). */
  liquidationsByHealthFactor: number;
  /** Mean day of liquidation over the liquidated paths; null without any. */
  meanLiquidationDay: number | null;
  /** Mean over paths of the path's largest relative fall of the health factor from its running peak. */
  meanMaxDrawdown: number;
  /** The largest such fall over all paths. */
  worstMaxDrawdown: number;
  /** 5th percentile and median over paths of the path's lowest health factor (before any action; capped). */
  minHealthFactorP5: number;
  minHealthFactorMedian: number;
  /** Mean rebalances per path, and the total. */
  meanRebalances: number;
  rebalances: number;
  /** Asks that found no plan within the allowance, total. */
  failedAttempts: number;
  /** Mean gas units per path: the measured gate calls plus the estimated trades. */
  meanGas: number;
  meanGateGas: number;
  meanTradeGas: number;
  /** Mean per path, q.u. (floats for the report; exact sums are in the per-path records). */
  meanGasCost: number;
  meanSlippage: number;
  meanCost: number;
  /** Mean over paths of the path's time-averaged collateral value per unit of time-averaged debt value; null when no path has debt. */
  collateralPerDebt: number | null;
  /** Mean over paths of the share of alive steps that fail some check of the policy. */
  shareFailingPolicy: number;
  /** Adaptive only: its trigger and target over every alive step of every path. */
  adaptive?: AdaptiveMetrics;
}

export interface AdaptiveMetrics {
  /** Health factors: mean, 5th and 95th percentile over the steps. */
  trigger: { mean: number; p5: number; p95: number };
  target: { mean: number; p5: number; p95: number };
  /** Share of the steps where GARCH was asked for and EWMA answered (0 with --vol-model ewma). */
  fallbackShare: number;
}

function adaptiveMetrics(runs: readonly StrategyPathRun[]): AdaptiveMetrics | undefined {
  if (!runs.every((r) => r.adaptive)) return undefined;
  const alive = (pick: (r: StrategyPathRun) => (number | null)[]) => runs.flatMap((r) => pick(r).filter((x): x is number => x !== null));
  const summary = (xs: number[]) => ({ mean: mean(xs), p5: xs.length === 0 ? 0 : quantile(xs, 0.05), p95: xs.length === 0 ? 0 : quantile(xs, 0.95) });
  const triggers = alive((r) => r.adaptive!.trigger);
  const fallbacks = runs.reduce((s, r) => s + r.adaptive!.fallbackSteps, 0);
  return { trigger: summary(triggers), target: summary(alive((r) => r.adaptive!.target)), fallbackShare: triggers.length === 0 ? 0 : fallbacks / triggers.length };
}

/** The q-th quantile (0..1) of `values` by linear interpolation between order statistics. */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const position = (sorted.length - 1) * q;
  const low = Math.floor(position);
  const high = Math.ceil(position);
  return sorted[low]! + (sorted[high]! - sorted[low]!) * (position - low);
}

const mean = (values: readonly number[]): number => (values.length === 0 ? 0 : values.reduce((s, v) => s + v, 0) / values.length);

export function strategyMetrics(strategy: BacktestStrategy, runs: readonly StrategyPathRun[], quoteDecimals: number): StrategyMetrics {
  const money = (x: bigint) => Number(x) / 10 ** quoteDecimals;
  const liquidated = runs.filter((r) => r.liquidation);
  const efficiency = runs.map((r) => r.collateralPerDebt).filter((x): x is number => x !== null);
  const gateGas = runs.map((r) => Number(r.gateGas));
  const tradeGas = runs.map((r) => Number(r.tradeGas));
  const adaptive = strategy === "adaptive" ? adaptiveMetrics(runs) : undefined;
  return {
    strategy,
    paths: runs.length,
    liquidations: liquidated.length,
    liquidationRate: runs.length === 0 ? 0 : liquidated.length / runs.length,
    liquidationsByHealthFactor: liquidated.filter((r) => r.liquidation!.cause === "health factor below 1").length,
    meanLiquidationDay: liquidated.length === 0 ? null : mean(liquidated.map((r) => r.liquidation!.day)),
    meanMaxDrawdown: mean(runs.map((r) => r.maxDrawdown)),
    worstMaxDrawdown: Math.max(0, ...runs.map((r) => r.maxDrawdown)),
    minHealthFactorP5: quantile(
      runs.map((r) => r.minHealthFactor),
      0.05,
    ),
    minHealthFactorMedian: quantile(
      runs.map((r) => r.minHealthFactor),
      0.5,
    ),
    meanRebalances: mean(runs.map((r) => r.rebalances.length)),
    rebalances: runs.reduce((s, r) => s + r.rebalances.length, 0),
    failedAttempts: runs.reduce((s, r) => s + r.failedAttempts, 0),
    meanGas: mean(gateGas) + mean(tradeGas),
    meanGateGas: mean(gateGas),
    meanTradeGas: mean(tradeGas),
    meanGasCost: mean(runs.map((r) => money(r.gasCost))),
    meanSlippage: mean(runs.map((r) => money(r.slippage))),
    meanCost: mean(runs.map((r) => money(r.gasCost + r.slippage))),
    collateralPerDebt: efficiency.length === 0 ? null : mean(efficiency),
    shareFailingPolicy: mean(runs.map((r) => (r.stepsAlive === 0 ? 0 : r.stepsFailingPolicy / r.stepsAlive))),
    ...(adaptive && { adaptive }),
  };
}

/**
 * Per step, the q-quantile over paths of the health factor at the end of the step, a liquidated
 * path counting as 0 from its liquidation on (so the band shows the liquidations).
 */
export function healthFactorQuantiles(runs: readonly StrategyPathRun[], q: number): number[] {
  const steps = runs[0]?.healthFactorAfter.length ?? 0;
  return Array.from({ length: steps }, (_, t) =>
    quantile(
      runs.map((r) => r.healthFactorAfter[t] ?? 0),
      q,
    ),
  );
}
