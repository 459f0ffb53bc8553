/**
 * What each strategy of a backtest is: when it asks the planner (src/rebalance/planner.ts) for
 * a rebalance, and with which options. "none" never rebalances: the baseline the others are
 * measured against. "adaptive" is the planner's threshold strategy with a trigger and a target
 * set each day by a volatility forecast (adaptive-trigger.ts).
 */
import { BPS_SCALE } from "../core/fixed-point.ts";
import { ZksError } from "../core/errors.ts";
import type { Policy } from "../inputs/types.ts";
import { STRATEGIES, type Strategy } from "../rebalance/planner.ts";
import { DEFAULT_ADAPTIVE_SETTINGS, type AdaptiveSettings } from "./adaptive-trigger.ts";
import { VOLATILITY_MODELS, type VolatilityModel } from "./volatility-forecast.ts";

// The planner's grid-hedge strategy is not backtested yet (it needs an option-token wallet the default allowance lacks).
export type BacktestStrategy = "none" | Exclude<Strategy, "grid-hedge"> | "adaptive";
export const BACKTEST_STRATEGIES: readonly BacktestStrategy[] = ["none", ...STRATEGIES.filter((s): s is Exclude<Strategy, "grid-hedge"> => s !== "grid-hedge"), "adaptive"];

/** A backtest option that cannot be used, named by its parameter (CLI flag). Exit code 2. */
export class BacktestOptionsError extends ZksError {
  constructor(
    readonly parameter: string,
    readonly problem: string,
  ) {
    super(`${parameter}: ${problem}`, 2);
  }
}

export interface StrategySettings {
  /** Health factor (BPS) below which threshold and delta-neutral act; default the policy's trigger. */
  triggerHealthFactor: bigint;
  /** Health factor (BPS) every plan restores; default DEFAULT_TARGET_OVER_TRIGGER above the trigger. */
  targetHealthFactor: bigint;
  /** Time: days between scheduled rebalances. */
  intervalDays: number;
  /** Delta-neutral: the band on each asset's delta, as a fraction of the collateral value. */
  deltaBandFraction: number;
  /** Gas price, wei. */
  gasPriceWei: bigint;
  /** Quote units per native token to price gas; undefined = the market's WETH / ETH price at each step. */
  nativePrice: bigint | undefined;
  /** Adaptive: the volatility model and the rule's parameters (adaptive-trigger.ts). */
  adaptive: AdaptiveSettings;
}

/**
 * Default target: 0.25 above the trigger. A target equal to the trigger (the planner's own
 * default) leaves a rebalanced position on the trigger, so the next small fall triggers again:
 * a keeper would rebalance nearly every other day. The band between trigger and target is the
 * hysteresis every real threshold policy has.
 */
export const DEFAULT_TARGET_OVER_TRIGGER = 2_500n;
export const DEFAULT_INTERVAL_DAYS = 7;
export const DEFAULT_DELTA_BAND_FRACTION = 0.1;
export const DEFAULT_GAS_PRICE_WEI = 20n * 10n ** 9n;

export interface StrategySettingsInput {
  trigger?: bigint;
  target?: bigint;
  intervalDays?: number;
  deltaBandFraction?: number;
  gasPriceWei?: bigint;
  nativePrice?: bigint;
  /** Adaptive strategy (`--vol-model`, `--ewma-lambda`, `--adaptive-k`, `--adaptive-reaction-days`, `--adaptive-target-days`). */
  volModel?: string;
  ewmaLambda?: number;
  adaptiveK?: number;
  adaptiveReactionDays?: number;
  adaptiveTargetDays?: number;
}

/** Checks the adaptive strategy's options, naming the flag of a bad one. */
function adaptiveSettings(input: StrategySettingsInput): AdaptiveSettings {
  const d = DEFAULT_ADAPTIVE_SETTINGS;
  const volModel = input.volModel ?? d.volModel;
  if (!VOLATILITY_MODELS.includes(volModel as VolatilityModel)) throw new BacktestOptionsError("--vol-model", `expected one of ${VOLATILITY_MODELS.join(", ")}, got "${volModel}"`);
  const ewmaLambda = input.ewmaLambda ?? d.ewmaLambda;
  if (!(ewmaLambda > 0 && ewmaLambda < 1)) throw new BacktestOptionsError("--ewma-lambda", `must be a decay in (0, 1) (RiskMetrics: 0.94), got ${ewmaLambda}`);
  const k = input.adaptiveK ?? d.k;
  if (!(k > 0 && k <= 10)) throw new BacktestOptionsError("--adaptive-k", `must be a number of standard deviations in (0, 10], got ${k}`);
  const reactionDays = input.adaptiveReactionDays ?? d.reactionDays;
  if (!(reactionDays > 0 && reactionDays <= 365)) throw new BacktestOptionsError("--adaptive-reaction-days", `must be a number of days in (0, 365], got ${reactionDays}`);
  const targetDays = input.adaptiveTargetDays ?? d.targetDays;
  if (!(targetDays > 0 && targetDays <= 365)) throw new BacktestOptionsError("--adaptive-target-days", `must be a number of days in (0, 365], got ${targetDays}`);
  return { ...d, volModel: volModel as VolatilityModel, ewmaLambda, k, reactionDays, targetDays };
}

/** Fills the defaults and checks the values, naming the CLI flag of a bad one. */
export function strategySettings(input: StrategySettingsInput, policy: Policy): StrategySettings {
  const trigger = input.trigger ?? policy.trigger.healthFactor;
  const target = input.target ?? trigger + DEFAULT_TARGET_OVER_TRIGGER;
  const hf = (x: bigint) => `${Number(x) / Number(BPS_SCALE)}`;
  if (trigger < BPS_SCALE || trigger > 100n * BPS_SCALE) throw new BacktestOptionsError("--trigger-hf", `must be in [1, 100], got ${hf(trigger)}`);
  if (target < trigger) throw new BacktestOptionsError("--target-hf", `${hf(target)} is below the trigger ${hf(trigger)}: a rebalanced position would still be triggered`);
  if (target > 100n * BPS_SCALE) throw new BacktestOptionsError("--target-hf", `must be at most 100, got ${hf(target)}`);
  const intervalDays = input.intervalDays ?? DEFAULT_INTERVAL_DAYS;
  if (!(intervalDays > 0) || !Number.isFinite(intervalDays)) throw new BacktestOptionsError("--interval-days", `must be a positive number of days, got ${intervalDays}`);
  const deltaBandFraction = input.deltaBandFraction ?? DEFAULT_DELTA_BAND_FRACTION;
  if (!(deltaBandFraction >= 0 && deltaBandFraction <= 1))
    throw new BacktestOptionsError("--delta-band", `must be a fraction of the collateral value in [0, 1], got ${deltaBandFraction}`);
  const gasPriceWei = input.gasPriceWei ?? DEFAULT_GAS_PRICE_WEI;
  if (gasPriceWei < 0n) throw new BacktestOptionsError("--gas-price", "must be >= 0");
  if (input.nativePrice !== undefined && input.nativePrice <= 0n) throw new BacktestOptionsError("--eth-price", "must be > 0");
  return {
    triggerHealthFactor: trigger,
    targetHealthFactor: target,
    intervalDays,
    deltaBandFraction,
    gasPriceWei,
    nativePrice: input.nativePrice,
    adaptive: adaptiveSettings(input),
  };
}

export function parseStrategies(list: readonly string[]): BacktestStrategy[] {
  if (list.length === 0) throw new BacktestOptionsError("--strategies", `expected at least one of ${BACKTEST_STRATEGIES.join(", ")}`);
  const out: BacktestStrategy[] = [];
  for (const name of list) {
    if (!BACKTEST_STRATEGIES.includes(name as BacktestStrategy)) {
      throw new BacktestOptionsError("--strategies", `unknown strategy "${name}" (${BACKTEST_STRATEGIES.join(", ")})`);
    }
    if (out.includes(name as BacktestStrategy)) throw new BacktestOptionsError("--strategies", `"${name}" is listed twice`);
    out.push(name as BacktestStrategy);
  }
  return out;
}
