/**
 * A backtest: every strategy over every path, on the same paths (common random numbers, so the
 * differences between strategies are theirs and not the draws'), then the per-strategy
 * metrics. Pure and browser-safe: paths and inputs come in, figures go out.
 */
import { COVARIANCE_SCALE } from "../core/fixed-point.ts";
import type { Market, Policy, Position } from "../inputs/types.ts";
import { checkPosition } from "../model/check.ts";
import type { Allowance } from "../rebalance/allowance.ts";
import { marketHistory } from "./adaptive-trigger.ts";
import { strategyMetrics, type StrategyMetrics } from "./metrics.ts";
import { assertPricePath, type PricePath } from "./price-path.ts";
import { repriceMarket, repricingModel, repricingSummary } from "./reprice-market.ts";
import { checkedMarkets, runStrategy, type StrategyPathRun } from "./run-strategy.ts";
import type { BacktestStrategy, StrategySettings } from "./strategy-settings.ts";

export interface BacktestInput {
  position: Position;
  market: Market;
  policy: Policy;
  allowance: Allowance;
}

export interface BacktestResult {
  strategies: BacktestStrategy[];
  settings: StrategySettings;
  paths: PricePath[];
  /** runs[s][p]: strategy strategies[s] over path p. */
  runs: StrategyPathRun[][];
  metrics: StrategyMetrics[];
  /** The path the health-factor chart shows (see representativePath). */
  representativePath: number;
  /** How each instrument is repriced. */
  repricing: { id: string; method: string }[];
  /** Health factor of the position in the market file (capped), before anything moves. */
  startHealthFactor: number;
}

/** The market's daily covariance as floats, market asset order. */
export function covarianceMatrix(market: Market): number[][] {
  return market.covariance.matrix.map((row) => row.map((c) => Number(c) / Number(COVARIANCE_SCALE)));
}

/**
 * The path shown as "representative": the lower decile of the baseline's lowest health factor
 * (the baseline is "none" when it runs, else the first strategy), a bad path but not the single
 * worst, where the strategies' differences show.
 */
export function representativePath(runs: readonly StrategyPathRun[]): number {
  const order = runs.map((r, index) => ({ index, low: r.minHealthFactor })).sort((a, b) => a.low - b.low || a.index - b.index);
  const rank = Math.floor(0.1 * (order.length - 1));
  return order[rank]?.index ?? 0;
}

export function runBacktest(
  input: BacktestInput,
  strategies: readonly BacktestStrategy[],
  settings: StrategySettings,
  paths: readonly PricePath[],
  onPath?: (done: number, total: number) => void,
): BacktestResult {
  const { position, market, policy, allowance } = input;
  if (strategies.length === 0) throw new RangeError("runBacktest: no strategy");
  if (paths.length === 0) throw new RangeError("runBacktest: no path");
  for (const p of paths) assertPricePath(p, market.assets.length);
  // The full check once: market and policy bounds, and a position the model can evaluate.
  const start = checkPosition(position, market, policy);
  const model = repricingModel(market);
  const runs: StrategyPathRun[][] = strategies.map(() => []);
  const covariance = strategies.includes("adaptive") ? covarianceMatrix(market) : undefined;
  paths.forEach((path, p) => {
    const markets = checkedMarkets(path.factors.map((factors, t) => repriceMarket(model, factors, path.days[t]!, t)));
    const history = covariance && marketHistory(path, covariance);
    strategies.forEach((strategy, s) => {
      runs[s]!.push(runStrategy(strategy, { position, policy, allowance, settings, markets, days: path.days, ...(history && { history }) }));
    });
    onPath?.(p + 1, paths.length);
  });
  const baseline = Math.max(0, strategies.indexOf("none"));
  const hf = start.healthFactor.value;
  return {
    strategies: [...strategies],
    settings,
    paths: [...paths],
    runs,
    metrics: strategies.map((s, i) => strategyMetrics(s, runs[i]!, market.quote.decimals)),
    representativePath: representativePath(runs[baseline]!),
    repricing: repricingSummary(model),
    startHealthFactor: hf === null ? Number.POSITIVE_INFINITY : Number(hf) / 1e4,
  };
}
