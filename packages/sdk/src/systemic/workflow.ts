/**
 * The cascade simulation as one workflow (what `zks systemic` runs, reusable by any app): the
 * book, the pools, the exogenous path, the three runs (feedback, no-impact, passive), the
 * amplification, the sweep over N and the strategy mix, and the charts. Pure and browser-safe;
 * @zk-solvency/node's runSystemicFiles reads the inputs and writes the outputs.
 */
import { InputError } from "../core/errors.ts";
import { COVARIANCE_SCALE } from "../core/fixed-point.ts";
import type { Market, Policy, Position } from "../inputs/types.ts";
import { NotPositiveSemiDefiniteError } from "../backtest/cholesky.ts";
import { repricingModel } from "../backtest/reprice-market.ts";
import { DEFAULT_PRICE_MODEL, simulatePaths, type PriceModel } from "../backtest/simulate-paths.ts";
import { collateralValue } from "../model/values.ts";
import { safestAssets } from "../rebalance/search.ts";
import { DEFAULT_FEE_BPS } from "./amm.ts";
import { bookAsIs, DEFAULT_BOOK_VARIATION, generateBook, type BookVariation, type StrategyMix, type StrategyParameters, type Vault, type VaultStrategy } from "./book.ts";
import { systemicCharts } from "./charts.ts";
import { amplification, summarize, type Amplification, type RunSummary } from "./metrics.ts";
import { checkSystemicNumber, mixLabel, SYSTEMIC_NUMBER_RULES as RULES, SystemicOptionsError } from "./options.ts";
import { simulate, type RunMode, type SimulationConfig, type SimulationRun } from "./simulate.ts";

export const DEFAULT_VAULTS = 1000;
export const DEFAULT_STEPS = 30;
export const DEFAULT_STEP_HOURS = 1;
export const DEFAULT_SEED = 1;
export const DEFAULT_SHOCK = -0.2;
export const DEFAULT_LIQUIDITY = 1;
export const DEFAULT_BONUS = 0.05;
export const DEFAULT_INTERVAL_STEPS = 6;
export const DEFAULT_JITTER = 0.1;
export const DEFAULT_MAX_DELAY = 3;
/** The reference book the liquidity level is a multiple of: pools sized for 1,000 vaults, whatever N is. */
export const REFERENCE_VAULTS = 1000;
/** Target above trigger, as the backtest's default (health factor units at BPS). */
export const DEFAULT_TARGET_OVER_TRIGGER = 2_500n;

export const ALL_THRESHOLD: StrategyMix = { threshold: 1, time: 0, randomized: 0, none: 0 };
export const MIXED: StrategyMix = { threshold: 0.5, time: 0.3, randomized: 0.2, none: 0 };
export const ALL_RANDOMIZED: StrategyMix = { threshold: 0, time: 0, randomized: 1, none: 0 };
export const DEFAULT_SWEEP_VAULTS: readonly number[] = [100, 300, 1000, 3000];
export const DEFAULT_SWEEP_MIXES: readonly StrategyMix[] = [ALL_THRESHOLD, MIXED, ALL_RANDOMIZED];

export interface SystemicInput {
  market: Market;
  policy: Policy;
  /** The positions the vaults are varied from (or, with asIs, the vaults themselves). */
  templates: readonly Position[];
  asIs?: boolean;
  vaults?: number;
  steps?: number;
  stepHours?: number;
  seed?: number;
  mix?: StrategyMix;
  /** Default: the most volatile asset (not the quote asset) -20%. */
  shock?: readonly { asset: number; change: number }[];
  shockStep?: number;
  /** Add a seeded path of the backtest's price model (true: its defaults). */
  simulate?: boolean | Partial<PriceModel>;
  /** The pools' quote asset; default the market's safest (least variance). */
  quote?: number;
  /** Per asset, a pool depth in quote-asset base units (undefined: from the liquidity level). */
  depth?: readonly (bigint | undefined)[];
  /** Multiple of the collateral value the reference book holds in each asset. */
  liquidity?: number;
  /** Pool fee, a fraction (default 0.003). */
  fee?: number;
  guard?: boolean;
  recovery?: number;
  /** Liquidation bonus, a fraction of the debt (default 0.05). */
  bonus?: number;
  trigger?: bigint;
  target?: bigint;
  intervalSteps?: number;
  jitter?: number;
  maxDelay?: number;
  variation?: Partial<BookVariation>;
  /** false: no sweep. Default DEFAULT_SWEEP_VAULTS x DEFAULT_SWEEP_MIXES. */
  sweep?: false | { vaults?: readonly number[]; mixes?: readonly StrategyMix[] };
  recordTrades?: boolean;
  /** Names the market in messages. */
  marketSource?: string;
  onProgress?: (done: number, total: number, what: string) => void;
}

export interface SystemicSettings {
  vaults: number;
  asIs: boolean;
  templates: number;
  steps: number;
  stepHours: number;
  seed: number;
  mix: StrategyMix;
  shock: { asset: number; change: number }[];
  shockStep: number;
  simulate: PriceModel | undefined;
  quote: number;
  /** Per asset, the pool's quote-side reserve, quote-asset base units (0: no pool). */
  depth: bigint[];
  /** Per asset, where its depth comes from. */
  depthSource: ("given" | "liquidity" | "none")[];
  liquidity: number;
  feeBps: bigint;
  guard: boolean;
  recovery: number;
  bonusBps: bigint;
  strategy: StrategyParameters;
  variation: BookVariation;
  /** The policy's maxSlippage (RATIO): the guard's bound. */
  maxSlippage: bigint;
}

export interface SweepPoint {
  vaults: number;
  mix: StrategyMix;
  mixLabel: string;
  feedback: RunSummary;
  noImpact: RunSummary;
  amplification: Amplification;
}

export interface SystemicRun {
  market: Market;
  settings: SystemicSettings;
  vaults: readonly Vault[];
  /** The exogenous factors, one row per step. */
  exogenous: number[][];
  runs: Record<RunMode, SimulationRun>;
  summaries: Record<RunMode, RunSummary>;
  amplification: Amplification;
  sweep: SweepPoint[];
  /** Strategy counts of the main book. */
  composition: Record<VaultStrategy, number>;
  /** The SVG charts, by file name. */
  charts: Record<string, string>;
  runtimeMs: number;
}

const fraction = (parameter: string, value: number | undefined, fallback: number, rule: { min?: number; max?: number }): number =>
  checkSystemicNumber(parameter, value ?? fallback, rule);

/** The exogenous price factors: a simulated path (optional) times the shock from its step on. */
export function exogenousPath(
  market: Market,
  settings: Pick<SystemicSettings, "steps" | "stepHours" | "shock" | "shockStep" | "simulate" | "seed">,
  marketSource = "market",
): number[][] {
  const n = market.assets.length;
  let rows: number[][] = Array.from({ length: settings.steps + 1 }, () => new Array<number>(n).fill(1));
  if (settings.simulate) {
    const covariance = market.covariance.matrix.map((row) => row.map((c) => Number(c) / Number(COVARIANCE_SCALE)));
    try {
      rows = simulatePaths(covariance, settings.simulate, { steps: settings.steps, stepDays: settings.stepHours / 24 }, 1, settings.seed)[0]!.factors;
    } catch (error) {
      if (error instanceof NotPositiveSemiDefiniteError) {
        throw new InputError(marketSource, "covariance.matrix", `is not a covariance matrix: ${error.message} (${market.assets[error.index]?.symbol})`);
      }
      throw error;
    }
  }
  return rows.map((row, t) => row.map((f, i) => settings.shock.reduce((x, s) => (s.asset === i && t >= settings.shockStep ? x * (1 + s.change) : x), f)));
}

/** Fills the defaults and checks every option, naming its flag. */
export function systemicSettings(input: SystemicInput): SystemicSettings {
  const { market, policy } = input;
  const n = market.assets.length;
  const asIs = input.asIs ?? false;
  if (input.templates.length === 0) throw new SystemicOptionsError("--book", "holds no positions");
  if (asIs && input.vaults !== undefined && input.vaults !== input.templates.length) {
    throw new SystemicOptionsError("--vaults", `a book taken as it is (--as-is) has its own ${input.templates.length} vaults; leave --vaults out`);
  }
  const vaults = asIs ? input.templates.length : checkSystemicNumber("--vaults", input.vaults ?? DEFAULT_VAULTS, RULES["--vaults"]);
  const steps = checkSystemicNumber("--steps", input.steps ?? DEFAULT_STEPS, RULES["--steps"]);
  const stepHours = checkSystemicNumber("--step-hours", input.stepHours ?? DEFAULT_STEP_HOURS, RULES["--step-hours"]);
  const seed = checkSystemicNumber("--seed", input.seed ?? DEFAULT_SEED, RULES["--seed"]);
  const quote = input.quote ?? safestAssets(market)[0]!;
  if (!Number.isInteger(quote) || quote < 0 || quote >= n) throw new SystemicOptionsError("--quote-asset", `asset index ${quote} is not in the market`);
  const shockStep = checkSystemicNumber("--shock-step", input.shockStep ?? 1, RULES["--shock-step"]);
  if (shockStep > steps) throw new SystemicOptionsError("--shock-step", `step ${shockStep} is after the last step (${steps})`);
  const variance = (i: number) => market.covariance.matrix[i]?.[i] ?? 0n;
  const volatile = market.assets.map((_, i) => i).filter((i) => i !== quote);
  if (volatile.length === 0) throw new SystemicOptionsError("--quote-asset", "the market has no asset but the quote asset: there is nothing to pool");
  const mostVolatile = volatile.reduce((best, i) => (variance(i) > variance(best) ? i : best), volatile[0]!);
  const shock = input.shock ? [...input.shock] : input.simulate ? [] : [{ asset: mostVolatile, change: DEFAULT_SHOCK }];
  for (const s of shock)
    if (s.asset === quote) throw new SystemicOptionsError("--shock", `${market.assets[quote]!.symbol} is the pools' quote asset (the numeraire); shock the other assets`);
  const simulated = input.simulate === undefined || input.simulate === false ? undefined : { ...DEFAULT_PRICE_MODEL, ...(input.simulate === true ? {} : input.simulate) };
  const mix = input.mix ?? ALL_THRESHOLD;
  const liquidity = checkSystemicNumber("--liquidity", input.liquidity ?? DEFAULT_LIQUIDITY, RULES["--liquidity"]);
  const fee = fraction("--fee", input.fee, Number(DEFAULT_FEE_BPS) / 1e4, RULES["--fee"]);
  const recovery = fraction("--recovery", input.recovery, 0, RULES["--recovery"]);
  const bonus = fraction("--bonus", input.bonus, DEFAULT_BONUS, RULES["--bonus"]);
  const trigger = input.trigger ?? policy.trigger.healthFactor;
  const target = input.target ?? trigger + DEFAULT_TARGET_OVER_TRIGGER;
  if (trigger <= policy.minHealthFactor && input.trigger !== undefined) {
    throw new SystemicOptionsError("--trigger-hf", `must be above the policy's minimum health factor ${Number(policy.minHealthFactor) / 1e4}`);
  }
  if (target < trigger) throw new SystemicOptionsError("--target-hf", `the target (${Number(target) / 1e4}) is below the trigger (${Number(trigger) / 1e4})`);
  const strategy: StrategyParameters = {
    trigger,
    target,
    intervalSteps: checkSystemicNumber("--interval-steps", input.intervalSteps ?? DEFAULT_INTERVAL_STEPS, RULES["--interval-steps"]),
    triggerJitter: checkSystemicNumber("--jitter", input.jitter ?? DEFAULT_JITTER, RULES["--jitter"]),
    maxDelaySteps: checkSystemicNumber("--max-delay", input.maxDelay ?? DEFAULT_MAX_DELAY, RULES["--max-delay"]),
  };
  const variation: BookVariation = { ...DEFAULT_BOOK_VARIATION, ...input.variation };
  for (const h of variation.healthFactor) checkSystemicNumber("--hf-range", h, RULES["--hf-range"]);
  if (variation.healthFactor[0] > variation.healthFactor[1]) throw new SystemicOptionsError("--hf-range", "the first number must not exceed the second");
  if (input.depth && input.depth.length !== n) throw new SystemicOptionsError("--amm-depth", `${input.depth.length} depths for ${n} assets`);
  return {
    vaults,
    asIs,
    templates: input.templates.length,
    steps,
    stepHours,
    seed,
    mix,
    shock,
    shockStep,
    simulate: simulated,
    quote,
    depth: market.assets.map(() => 0n),
    depthSource: market.assets.map(() => "none"),
    liquidity,
    feeBps: BigInt(Math.round(fee * 1e4)),
    guard: input.guard ?? true,
    recovery,
    bonusBps: BigInt(Math.round(bonus * 1e4)),
    strategy,
    variation,
    maxSlippage: policy.maxSlippage,
  };
}

/** Each pool's depth: the given one, else the liquidity level times the reference book's holdings (0: nobody holds it, no pool). */
function resolveDepth(settings: SystemicSettings, market: Market, reference: readonly Vault[], given: readonly (bigint | undefined)[] | undefined): void {
  const q = market.assets[settings.quote]!;
  market.assets.forEach((asset, i) => {
    if (i === settings.quote) return;
    const explicit = given?.[i];
    if (explicit !== undefined) {
      settings.depth[i] = explicit;
      settings.depthSource[i] = "given";
      return;
    }
    const held = reference.reduce((sum, v) => sum + collateralValue(v.position.collateral[i]!, asset), 0n);
    // held is in q.u.; the pool's quote side holds the same value times the level, in quote-asset base units.
    const value = BigInt(Math.round(Number(held) * settings.liquidity));
    const units = (value * 10n ** BigInt(q.decimals)) / q.price;
    settings.depth[i] = units;
    settings.depthSource[i] = units > 0n ? "liquidity" : "none";
  });
}

function simulationConfig(
  input: SystemicInput,
  settings: SystemicSettings,
  vaults: readonly Vault[],
  exogenous: number[][],
  repricing: ReturnType<typeof repricingModel>,
): SimulationConfig {
  return {
    market: input.market,
    repricing,
    policy: input.policy,
    vaults,
    exogenous,
    stepHours: settings.stepHours,
    quote: settings.quote,
    depth: settings.depth,
    feeBps: settings.feeBps,
    guard: settings.guard,
    recovery: settings.recovery,
    liquidationBonusBps: settings.bonusBps,
    intervalSteps: settings.strategy.intervalSteps,
    maxDelaySteps: settings.strategy.maxDelaySteps,
    seed: settings.seed,
    recordTrades: input.recordTrades ?? false,
  };
}

/** The sweep's vault counts and mixes, checked (none with `sweep: false`). */
export function sweepPlan(input: Pick<SystemicInput, "sweep">, settings: SystemicSettings): { vaults: number[]; mixes: StrategyMix[] } {
  if (input.sweep === false) return { vaults: [], mixes: [] };
  const vaults = [...(input.sweep?.vaults ?? DEFAULT_SWEEP_VAULTS)];
  const mixes = [...(input.sweep?.mixes ?? DEFAULT_SWEEP_MIXES)];
  if (vaults.length === 0 || mixes.length === 0) throw new SystemicOptionsError("--sweep", "needs at least one vault count and one mix");
  vaults.forEach((v, i) => {
    checkSystemicNumber("--sweep", v, RULES["--vaults"]);
    if (i > 0 && v <= vaults[i - 1]!) throw new SystemicOptionsError("--sweep", "vault counts must increase");
    if (settings.asIs && v > settings.vaults) throw new SystemicOptionsError("--sweep", `${v} vaults is more than the book's ${settings.vaults} (--as-is)`);
  });
  return { vaults, mixes };
}

/** Runs the main book in the three modes, then the sweep. Options are checked before any run. */
export function runSystemicWorkflow(input: SystemicInput): SystemicRun {
  const started = performance.now();
  const { market } = input;
  const settings = systemicSettings(input);
  const { vaults: sweepVaults, mixes: sweepMixes } = sweepPlan(input, settings);
  const exogenous = exogenousPath(market, settings, input.marketSource);
  const repricing = repricingModel(market);
  const bookOf = (mix: StrategyMix, count: number): Vault[] =>
    settings.asIs
      ? bookAsIs(input.templates, settings.seed, mix, settings.strategy).slice(0, count)
      : generateBook(input.templates, market, count, settings.seed, mix, settings.strategy, settings.quote, settings.variation);
  // Positions do not depend on the mix (strategy draws come last), so one reference sizes every pool.
  const reference = settings.asIs ? bookOf(settings.mix, settings.vaults) : bookOf(settings.mix, REFERENCE_VAULTS);
  resolveDepth(settings, market, reference, input.depth);

  const vaults = bookOf(settings.mix, settings.vaults);
  const sweepPoints = sweepMixes.length * sweepVaults.length;
  const total = 3 + 2 * sweepPoints;
  let done = 0;
  const run = (mode: RunMode, book: readonly Vault[], what: string): SimulationRun => {
    const r = simulate(simulationConfig(input, settings, book, exogenous, repricing), mode);
    input.onProgress?.(++done, total, what);
    return r;
  };
  const runs: Record<RunMode, SimulationRun> = {
    feedback: run("feedback", vaults, "feedback"),
    "no-impact": run("no-impact", vaults, "no-impact"),
    passive: run("passive", vaults, "passive"),
  };
  const summaries: Record<RunMode, RunSummary> = {
    feedback: summarize(runs.feedback, market),
    "no-impact": summarize(runs["no-impact"], market),
    passive: summarize(runs.passive, market),
  };
  const main = amplification(summaries, exogenous, settings.quote);

  const sweep: SweepPoint[] = [];
  const sameMix = (a: StrategyMix, b: StrategyMix) => (Object.keys(a) as VaultStrategy[]).every((k) => Math.abs(a[k] - b[k]) < 1e-12);
  for (const mix of sweepMixes) {
    const largest = sweepVaults.at(-1)!;
    const book = bookOf(mix, largest);
    for (const count of sweepVaults) {
      const label = `${count} vaults, ${mixLabel(mix)}`;
      let feedback: RunSummary;
      let noImpact: RunSummary;
      if (count === settings.vaults && sameMix(mix, settings.mix)) {
        feedback = summaries.feedback;
        noImpact = summaries["no-impact"];
        done += 2;
        input.onProgress?.(done, total, label);
      } else {
        const slice = book.slice(0, count);
        feedback = summarize(run("feedback", slice, label), market);
        noImpact = summarize(run("no-impact", slice, label), market);
      }
      const amp = amplification({ feedback, "no-impact": noImpact }, exogenous, settings.quote);
      sweep.push({ vaults: count, mix, mixLabel: mixLabel(mix), feedback, noImpact, amplification: amp });
    }
  }
  const composition: Record<VaultStrategy, number> = { threshold: 0, time: 0, randomized: 0, none: 0 };
  for (const v of vaults) composition[v.strategy]++;
  const result: SystemicRun = { market, settings, vaults, exogenous, runs, summaries, amplification: main, sweep, composition, charts: {}, runtimeMs: 0 };
  result.charts = systemicCharts(result);
  result.runtimeMs = performance.now() - started;
  return result;
}
