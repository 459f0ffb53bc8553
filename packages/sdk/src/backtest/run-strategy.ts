/**
 * One strategy over one price path. Each step, in the order things happen on-chain:
 *
 * 1. the market moves (the step's repriced market);
 * 2. the position is evaluated with the reference model (checkPosition's rules); below a
 *    health factor of 1, or with negative equity, it is liquidated: the run ends there, since a
 *    liquidator acts on the new prices before any keeper's next rebalance;
 * 3. the strategy decides whether to ask the planner (threshold: a check fails or the health
 *    factor is below the trigger; time: the scheduled day has come; delta-neutral: an asset's
 *    delta is outside the band or the threshold condition holds; adaptive: as threshold, with
 *    the day's trigger and target from a volatility forecast of the returns known that day
 *    (adaptive-trigger.ts); none: never), and applies the
 *    plan's new position, paying the gate's measured gas and the plan's slippage. The owner's
 *    wallet shrinks by what the plan deposits or repays from it.
 *
 * The decision in 3 is the planner's own rule evaluated first (meetsGoal with the trigger,
 * portfolioDelta against the band) so that the planner runs only on the steps where it would
 * act: it is the slow part, and a "nothing to do" answer costs as much as the check.
 */
import { BPS_SCALE } from "../core/fixed-point.ts";
import type { Market, Policy, Position } from "../inputs/types.ts";
import { BOUND_BITS, checkMarketBounds, withinBits } from "../model/bounds.ts";
import { checkPositionUnderCheckedMarket, type RiskReport } from "../model/check.ts";
import type { Allowance } from "../rebalance/allowance.ts";
import { costModel, gasCost } from "../rebalance/costs.ts";
import { hedgeableAssets, portfolioDelta } from "../rebalance/delta.ts";
import { meetsGoal, type Goal } from "../rebalance/goal.ts";
import { plan, type PlanOptions } from "../rebalance/planner.ts";
import { adaptiveLevels, type AdaptiveLevels, type MarketHistory } from "./adaptive-trigger.ts";
import { rebalanceGas } from "./gate-gas.ts";
import type { GarchParams } from "./volatility-forecast.ts";
import type { BacktestStrategy, StrategySettings } from "./strategy-settings.ts";

/**
 * The longest a keeper waits before asking the planner again after it found no plan (days):
 * the waits double from one day. A failed search is the planner's slowest answer and usually
 * fails again the next day (the allowance is what falls short), so asking every step would
 * multiply the run time for nothing; the liquidation check still runs every step.
 */
export const MAX_RETRY_DAYS = 8;

/** Health factors above this (and "no debt") count as this in drawdowns, averages and charts. */
export const HEALTH_FACTOR_CAP = 10;

export interface RebalanceRecord {
  step: number;
  day: number;
  /** Health factor before and after (capped). */
  before: number;
  after: number;
  actions: string[];
  gateGas: bigint;
  tradeGas: bigint;
  /** q.u. */
  gasCost: bigint;
  /** q.u.: the plan's exact loss at the worst execution the policy allows. */
  slippage: bigint;
}

export interface StrategyPathRun {
  strategy: BacktestStrategy;
  /** Health factor after the market moved, before any action, per step (capped); null once liquidated. */
  healthFactorBefore: (number | null)[];
  /** Health factor at the end of each step (after a rebalance); null once liquidated. */
  healthFactorAfter: (number | null)[];
  liquidation?: { step: number; day: number; cause: "health factor below 1" | "negative equity"; healthFactor: number; equity: bigint };
  rebalances: RebalanceRecord[];
  /** Steps where the strategy asked and the planner found no plan within the allowance. */
  failedAttempts: number;
  /** The first no-plan reason, for the report. */
  firstFailure?: string;
  /** Steps alive (before liquidation) where some check of the policy failed, before any action. */
  stepsFailingPolicy: number;
  stepsAlive: number;
  /** Time-averaged collateral value over time-averaged debt value, alive steps, end of step; null if never any debt. */
  collateralPerDebt: number | null;
  /** Lowest health factor before action over the alive steps from step 1 on, or at the liquidation (capped). */
  minHealthFactor: number;
  /** Largest relative fall of the health factor (before action, from step 1 on) below its running peak (every value seen before, after actions included), in [0, 1]. */
  maxDrawdown: number;
  gateGas: bigint;
  tradeGas: bigint;
  gasCost: bigint;
  slippage: bigint;
  /** Adaptive only: per step the day's trigger and target (health factors) and the forecast daily volatility of log HF; null once liquidated. */
  adaptive?: AdaptiveTrace;
}

export interface AdaptiveTrace {
  trigger: (number | null)[];
  target: (number | null)[];
  dailyVolatility: (number | null)[];
  /** Steps where GARCH was asked for and EWMA answered (too short a history, no variation). */
  fallbackSteps: number;
}

export interface RunContext {
  position: Position;
  policy: Policy;
  allowance: Allowance;
  settings: StrategySettings;
  /** The path's markets, one per step, step 0 the market file. */
  markets: readonly Market[];
  days: readonly number[];
  /** What the adaptive strategy's forecaster may see (required for it): the market history and the path's returns. */
  history?: MarketHistory;
}

const hfNumber = (report: RiskReport): number => {
  const value = report.healthFactor.value;
  if (value === null) return HEALTH_FACTOR_CAP;
  const hf = Number(value) / Number(BPS_SCALE);
  return hf > HEALTH_FACTOR_CAP ? HEALTH_FACTOR_CAP : hf;
};

function plannerOptions(strategy: Exclude<BacktestStrategy, "none">, settings: StrategySettings, market: Market, report: RiskReport, levels?: AdaptiveLevels): PlanOptions {
  const options: PlanOptions = {
    // Adaptive is the planner's threshold strategy with the day's levels.
    strategy: strategy === "adaptive" ? "threshold" : strategy,
    trigger: { healthFactor: levels?.trigger ?? settings.triggerHealthFactor },
    target: { healthFactor: levels?.target ?? settings.targetHealthFactor },
    intervalDays: settings.intervalDays,
    now: market.timestamp,
    gasPriceWei: settings.gasPriceWei,
    ...(settings.nativePrice !== undefined && { nativePrice: settings.nativePrice }),
  };
  if (strategy === "delta-neutral") options.deltaBand = deltaBand(report, settings);
  return options;
}

/** The band in q.u.: the fraction of the collateral value, at least one whole quote unit. */
function deltaBand(report: RiskReport, settings: StrategySettings): bigint {
  const collateral = report.values.collateral.reduce((s, v) => s + v, 0n);
  const band = BigInt(Math.floor(Number(collateral) * settings.deltaBandFraction));
  const one = 10n ** BigInt(report.quote.decimals);
  return band > one ? band : one;
}

/** The planner's delta-neutral trigger: an asset it can hedge has |delta| above the band. */
function deltaOutsideBand(position: Position, market: Market, allowance: Allowance, band: bigint): boolean {
  const hedgeable = hedgeableAssets(market, allowance.sellable);
  if (hedgeable.length === 0) return false;
  const x = portfolioDelta(position, market);
  return hedgeable.some((i) => (x[i]! < 0n ? -x[i]! : x[i]!) > band);
}

export function runStrategy(strategy: BacktestStrategy, ctx: RunContext): StrategyPathRun {
  const { policy, settings, markets, days } = ctx;
  if (strategy === "adaptive" && !ctx.history) throw new RangeError("runStrategy: the adaptive strategy needs the market history (RunContext.history)");
  const trigger: Goal = { healthFactor: settings.triggerHealthFactor, varHeadroom: 0n };
  let position = ctx.position;
  let allowance = ctx.allowance;
  let nextScheduledAt = markets[0]!.timestamp; // the time strategy rebalances at the start, then every interval
  const run: StrategyPathRun = {
    strategy,
    healthFactorBefore: [],
    healthFactorAfter: [],
    rebalances: [],
    failedAttempts: 0,
    stepsFailingPolicy: 0,
    stepsAlive: 0,
    collateralPerDebt: null,
    minHealthFactor: HEALTH_FACTOR_CAP,
    maxDrawdown: 0,
    gateGas: 0n,
    tradeGas: 0n,
    gasCost: 0n,
    slippage: 0n,
    ...(strategy === "adaptive" && { adaptive: { trigger: [], target: [], dailyVolatility: [], fallbackSteps: 0 } }),
  };
  // Yesterday's GARCH estimate: today's fit starts from it (the history grew by one return).
  let garchStart: GarchParams | undefined;
  // After a search that found no plan, ask again 1, 2, 4, then every MAX_RETRY_DAYS days.
  let retryDay = 0;
  let failuresInARow = 0;
  // Sums over the alive steps (end of step): their ratio is the time-averaged collateral per unit of time-averaged debt.
  let collateralSum = 0;
  let debtSum = 0;
  let peak = 0;

  for (let step = 0; step < markets.length; step++) {
    const market = markets[step]!;
    const day = days[step]!;
    if (run.liquidation) {
      run.healthFactorBefore.push(null);
      run.healthFactorAfter.push(null);
      run.adaptive?.trigger.push(null);
      run.adaptive?.target.push(null);
      run.adaptive?.dailyVolatility.push(null);
      continue;
    }
    let report = checkPositionUnderCheckedMarket(position, market, policy);
    const hf = hfNumber(report);
    run.healthFactorBefore.push(hf);
    run.stepsAlive++;
    if (!report.pass) run.stepsFailingPolicy++;
    // The strategies' record starts with the first move: step 0 is the position as given.
    if (step > 0) {
      if (hf < run.minHealthFactor) run.minHealthFactor = hf;
      if (peak > 0) run.maxDrawdown = Math.max(run.maxDrawdown, (peak - hf) / peak);
    }
    peak = Math.max(peak, hf);

    const { numerator, denominator } = report.healthFactor;
    const belowOne = denominator > 0n && numerator < BPS_SCALE * denominator;
    if (belowOne || report.equity.value < 0n) {
      run.minHealthFactor = Math.min(run.minHealthFactor, hf);
      run.liquidation = { step, day, cause: belowOne ? "health factor below 1" : "negative equity", healthFactor: hf, equity: report.equity.value };
      run.healthFactorAfter.push(null);
      run.adaptive?.trigger.push(null);
      run.adaptive?.target.push(null);
      run.adaptive?.dailyVolatility.push(null);
      continue;
    }

    // The adaptive levels of the day, from the returns known on this step (the move just made included, none after).
    let levels: AdaptiveLevels | undefined;
    if (run.adaptive) {
      levels = adaptiveLevels(report, market, policy, settings.adaptive, ctx.history!, step, garchStart);
      garchStart = levels.forecast?.params ?? garchStart;
      if (levels.forecast?.fallback !== undefined && settings.adaptive.volModel === "garch") run.adaptive.fallbackSteps++;
      run.adaptive.trigger.push(Number(levels.trigger) / Number(BPS_SCALE));
      run.adaptive.target.push(Number(levels.target) / Number(BPS_SCALE));
      run.adaptive.dailyVolatility.push(levels.dailyVolatility);
    }
    let asks = false;
    if (strategy === "threshold") asks = day >= retryDay && !meetsGoal(report, trigger);
    else if (strategy === "time") asks = market.timestamp >= nextScheduledAt;
    else if (strategy === "delta-neutral") asks = day >= retryDay && (!meetsGoal(report, trigger) || deltaOutsideBand(position, market, allowance, deltaBand(report, settings)));
    else if (strategy === "adaptive") asks = day >= retryDay && !meetsGoal(report, { healthFactor: levels!.trigger, varHeadroom: 0n });

    if (asks && strategy !== "none") {
      const result = plan(position, market, policy, allowance, plannerOptions(strategy, settings, market, report, levels));
      if (strategy === "time" && result.nextRebalanceAt !== undefined) nextScheduledAt = result.nextRebalanceAt;
      if (result.kind === "none") {
        run.failedAttempts++;
        run.firstFailure ??= `day ${day}: ${result.reason}`;
        retryDay = day + Math.min(MAX_RETRY_DAYS, 2 ** failuresInARow);
        failuresInARow++;
      } else {
        failuresInARow = 0;
      }
      if (result.kind === "plan" && result.needed) {
        const gas = rebalanceGas(result.actions, result.flows);
        const model = costModel(market, policy, { gasPriceWei: settings.gasPriceWei, ...(settings.nativePrice !== undefined && { nativePrice: settings.nativePrice }) });
        const cost = gasCost(model, gas.gate + gas.trades);
        position = result.position;
        allowance = { ...allowance, wallet: allowance.wallet.map((w, i) => w - result.flows[i]!) };
        report = result.after;
        run.rebalances.push({
          step,
          day,
          before: hf,
          after: hfNumber(report),
          actions: result.steps.map((s) => s.text),
          gateGas: gas.gate,
          tradeGas: gas.trades,
          gasCost: cost,
          slippage: result.cost.lost,
        });
        run.gateGas += gas.gate;
        run.tradeGas += gas.trades;
        run.gasCost += cost;
        run.slippage += result.cost.lost;
      }
    }
    const after = hfNumber(report);
    run.healthFactorAfter.push(after);
    peak = Math.max(peak, after);
    const collateral = report.values.collateral.reduce((s, v) => s + v, 0n);
    const debt = report.values.debt.reduce((s, v) => s + v, 0n);
    collateralSum += Number(collateral);
    debtSum += Number(debt);
  }
  run.collateralPerDebt = debtSum > 0 ? collateralSum / debtSum : null;
  return run;
}

/**
 * The markets of a path: the file's at step 0, then repriced. Each repriced market is held to
 * the model's bounds, so an extreme path is refused rather than evaluated beyond what a proof
 * could back. Only marks, deltas and scenario PnL move (returns and covariance are the file's,
 * checked once by the caller); the PnL are tested with withinBits first because the full check
 * formats every value it tests, which would cost more than the backtest's own work.
 */
export function checkedMarkets(markets: readonly Market[]): readonly Market[] {
  for (const m of markets.slice(1)) {
    // One scenario stands for the rest here (they share the file's count, weights and returns).
    checkMarketBounds({ ...m, scenarios: m.scenarios.slice(0, 1) });
    if (!m.scenarios.every((s) => s.instrumentPnl.every((g) => withinBits(g, BOUND_BITS.pnl)))) checkMarketBounds(m);
  }
  return markets;
}
