/**
 * The backtest as one workflow (what `zks backtest` runs, reusable by any app): price paths
 * (simulated or replayed), the strategies over them, the charts, and the report files. Pure and
 * browser-safe: the caller reads the returns file and writes (or shows) the outputs; the Node
 * package's runBacktestFiles / writeBacktestReport do that with files.
 *
 * Options are checked here and named by their `zks backtest` flag (BacktestOptionsError, exit 2),
 * as strategySettings already does, so a CLI, a web form and a script report them alike.
 */
import { InputError } from "../core/errors.ts";
import { formatDecimal } from "../core/decimal.ts";
import type { Market, Policy, Position } from "../inputs/types.ts";
import type { Allowance } from "../rebalance/allowance.ts";
import { amountText } from "../rebalance/explain.ts";
import { costRiskChart, healthFactorBandChart, healthFactorPathChart } from "./charts.ts";
import { NotPositiveSemiDefiniteError } from "./cholesky.ts";
import { allowanceText, defaultBacktestAllowance } from "./default-allowance.ts";
import type { PricePath } from "./price-path.ts";
import { replayPaths, replaySteps } from "./replay-paths.ts";
import { markdownReport, resultsJson, type BacktestDescription, type PathSource } from "./report.ts";
import { parseReturnSeries } from "./returns-file.ts";
import { covarianceMatrix, runBacktest, type BacktestResult } from "./run-backtest.ts";
import { DEFAULT_PRICE_MODEL, priceModelProblems, simulatePaths, type PriceModel } from "./simulate-paths.ts";
import {
  BACKTEST_STRATEGIES,
  BacktestOptionsError,
  parseStrategies,
  strategySettings,
  type BacktestStrategy,
  type StrategySettings,
  type StrategySettingsInput,
} from "./strategy-settings.ts";

/**
 * Defaults sized to the planner's speed: it takes 10-30 ms per rebalance it plans on the
 * example market, and the spec's at-risk position needs about 35 searches per path over 90
 * days across the four strategies (0.8 s a path), so the default of 5 paths is a first look in
 * a few seconds; figures to quote need 100 paths or more (docs/backtest.md, "Run time").
 */
export const DEFAULT_BACKTEST_PATHS = 5;
export const DEFAULT_HORIZON_DAYS = 90;
export const DEFAULT_STEP_DAYS = 1;
export const DEFAULT_SEED = 1;

/** The files a backtest writes, charts included; PNG copies of two charts are added when rendered. */
export const BACKTEST_OUTPUT_FILES = ["report.md", "results.json", "hf-paths.svg", "hf-percentiles.svg", "cost-vs-risk.svg", "cost-vs-drawdown.svg"] as const;
/** The charts worth a PNG copy (for slides and chats that do not show SVG), by SVG name. */
export const BACKTEST_PNG_OF: Readonly<Record<string, string>> = { "hf-paths.svg": "hf-paths.png", "cost-vs-risk.svg": "cost-vs-risk.png" };

/** The range a number option must be in; `minOpen` excludes the minimum itself. */
export interface NumberRule {
  integer?: boolean;
  min?: number;
  max?: number;
  minOpen?: boolean;
}

/**
 * The numeric options, by flag. A replay's horizon is whole days of the file (no upper bound: the
 * file bounds it); a simulated horizon is any positive number of days up to ten years.
 */
export const BACKTEST_NUMBER_RULES = {
  "--paths": { integer: true, min: 1, max: 100_000 },
  "--step-days": { min: 0, minOpen: true, max: 365 },
  "--horizon-days": { min: 0, minOpen: true, max: 3650 },
  "--replay-horizon-days": { integer: true, min: 1 },
  "--seed": { integer: true, min: 0, max: 0xffffffff },
  "--drift": { min: -10, max: 10 },
  "--vol-scale": { min: 0, max: 10 },
  "--vol-regimes": { min: 0, max: 10 },
  "--regime-switch": { min: 0, max: 1 },
  "--jumps-per-year": { min: 0, max: 365 },
  "--jump-mean": { min: -2, max: 2 },
  "--jump-std": { min: 0, max: 2 },
  "--interval-days": { min: 0, minOpen: true, max: 3650 },
  "--delta-band": { min: 0, max: 1 },
  "--ewma-lambda": { min: 0, minOpen: true, max: 1 },
  "--adaptive-k": { min: 0, minOpen: true, max: 10 },
  "--adaptive-reaction-days": { min: 0, minOpen: true, max: 365 },
  "--adaptive-target-days": { min: 0, minOpen: true, max: 365 },
} as const satisfies Record<string, NumberRule>;

function ruleText(rule: NumberRule): string {
  const range = `${rule.min !== undefined ? `${rule.minOpen ? ">" : ">="} ${rule.min}` : ""}${rule.min !== undefined && rule.max !== undefined ? " and " : ""}${rule.max !== undefined ? `<= ${rule.max}` : ""}`;
  return `${rule.integer ? "an integer" : "a number"}${range ? ` ${range}` : ""}`;
}

/** Checks a number option against its rule; `shown` is the value as the user typed it. */
export function checkNumberOption(parameter: string, value: number, rule: NumberRule, shown: string = String(value)): number {
  const what = ruleText(rule);
  if (!Number.isFinite(value) || (rule.integer && !Number.isInteger(value))) throw new BacktestOptionsError(parameter, `expected ${what}, got "${shown}"`);
  if (rule.min !== undefined && (rule.minOpen ? value <= rule.min : value < rule.min)) throw new BacktestOptionsError(parameter, `expected ${what}, got ${shown}`);
  if (rule.max !== undefined && value > rule.max) throw new BacktestOptionsError(parameter, `expected ${what}, got ${shown}`);
  return value;
}

/** A number option typed as text (a flag, a form field): a plain decimal or exponent notation, in range. */
export function parseNumberOption(parameter: string, text: string, rule: NumberRule): number {
  const value = Number(text);
  const ok = /^[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?$/.test(text.trim()) && Number.isFinite(value);
  if (!ok) throw new BacktestOptionsError(parameter, `expected ${ruleText(rule)}, got "${text}"`);
  return checkNumberOption(parameter, value, rule, text);
}

/** Two numbers separated by a comma ("0.8,2"), each in range. */
export function parseNumberPair(parameter: string, text: string, rule: NumberRule): [number, number] {
  const parts = text.split(",");
  if (parts.length !== 2) throw new BacktestOptionsError(parameter, `expected two numbers separated by a comma, e.g. "0.8,2", got "${text}"`);
  return [parseNumberOption(parameter, parts[0]!.trim(), rule), parseNumberOption(parameter, parts[1]!.trim(), rule)];
}

/** The flag of each price-model parameter, for messages. */
const MODEL_FLAG: Record<keyof PriceModel, string> = {
  drift: "--drift",
  volScale: "--vol-scale",
  regimeVol: "--vol-regimes",
  regimeSwitch: "--regime-switch",
  jumpsPerYear: "--jumps-per-year",
  jumpMean: "--jump-mean",
  jumpStd: "--jump-std",
};

/** Where the price paths come from. */
export type BacktestPathSpec =
  | {
      kind: "simulated";
      /** Paths to simulate (default 5). */
      paths?: number;
      /** Days per path (default 90); a whole number of steps. */
      horizonDays?: number;
      stepDays?: number;
      /** An integer in [0, 2^32) (default 1): the same seed gives the same paths. */
      seed?: number;
      /** The price model; missing parameters take DEFAULT_PRICE_MODEL's. */
      model?: Partial<PriceModel>;
    }
  | {
      kind: "replay";
      /** A CSV of daily returns (date,SYMBOL,...; docs/backtest.md). */
      text: string;
      /** Names the returns file in messages and the report. */
      file: string;
      /** At most this many rolling windows (default 5). */
      paths?: number;
      /** Days per window (default the whole file); a whole number of steps. */
      horizonDays?: number;
      /** Rows per step (an integer, default 1). */
      stepDays?: number;
    };

export interface BacktestPaths {
  pricePaths: PricePath[];
  source: PathSource;
  horizonDays: number;
  stepDays: number;
}

/**
 * The price paths of a spec, checked: a replay's windows of the returns file, or seeded
 * simulated paths from the market's covariance. `marketSource` names the market in the error
 * for a covariance that is not one.
 */
export function backtestPricePaths(market: Market, spec: BacktestPathSpec, marketSource = "market"): BacktestPaths {
  const rules = BACKTEST_NUMBER_RULES;
  const paths = checkNumberOption("--paths", spec.paths ?? DEFAULT_BACKTEST_PATHS, rules["--paths"]);
  const stepDays = checkNumberOption("--step-days", spec.stepDays ?? DEFAULT_STEP_DAYS, rules["--step-days"]);
  const symbols = market.assets.map((a) => a.symbol);

  if (spec.kind === "replay") {
    if (!Number.isInteger(stepDays)) throw new BacktestOptionsError("--step-days", `must be a whole number of days with --returns (rows per step), got ${stepDays}`);
    const series = parseReturnSeries(spec.text, spec.file, symbols);
    const available = replaySteps(series, stepDays);
    if (available < 1) throw new BacktestOptionsError("--step-days", `${stepDays} rows per step, but ${spec.file} has ${series.returns.length} row(s)`);
    let steps = available;
    if (spec.horizonDays !== undefined) {
      const horizon = checkNumberOption("--horizon-days", spec.horizonDays, rules["--replay-horizon-days"]);
      if (horizon % stepDays !== 0) throw new BacktestOptionsError("--horizon-days", `${horizon} is not a whole number of steps of ${stepDays} days`);
      steps = horizon / stepDays;
      if (steps > available)
        throw new BacktestOptionsError("--horizon-days", `${horizon} days is longer than ${spec.file}, which has ${available * stepDays} (${series.returns.length} rows)`);
    }
    return {
      pricePaths: replayPaths(series, symbols, { stepRows: stepDays, steps, maxPaths: paths }, spec.file),
      source: {
        kind: "replay",
        file: spec.file,
        rows: series.returns.length,
        first: series.labels[0]!,
        last: series.labels.at(-1)!,
        assetsHeld: symbols.filter((s) => !series.symbols.includes(s)),
      },
      horizonDays: steps * stepDays,
      stepDays,
    };
  }

  const horizonDays = checkNumberOption("--horizon-days", spec.horizonDays ?? DEFAULT_HORIZON_DAYS, rules["--horizon-days"]);
  const steps = horizonDays / stepDays;
  if (Math.abs(steps - Math.round(steps)) > 1e-9) throw new BacktestOptionsError("--horizon-days", `${horizonDays} is not a whole number of steps of ${stepDays} days`);
  const seed = checkNumberOption("--seed", spec.seed ?? DEFAULT_SEED, rules["--seed"]);
  const model: PriceModel = { ...DEFAULT_PRICE_MODEL, ...spec.model };
  const problem = priceModelProblems(model)[0];
  if (problem) throw new BacktestOptionsError(MODEL_FLAG[problem.parameter], problem.problem);
  let pricePaths: PricePath[];
  try {
    pricePaths = simulatePaths(covarianceMatrix(market), model, { steps: Math.round(steps), stepDays }, paths, seed);
  } catch (error) {
    if (error instanceof NotPositiveSemiDefiniteError) {
      throw new InputError(marketSource, "covariance.matrix", `is not a covariance matrix: ${error.message} (${symbols[error.index]})`);
    }
    throw error;
  }
  return { pricePaths, source: { kind: "simulated", model, seed }, horizonDays, stepDays };
}

export interface BacktestWorkflowInput {
  position: Position;
  market: Market;
  policy: Policy;
  /** Default: the position's collateral may be sold, nothing traded, an empty wallet (defaultBacktestAllowance). */
  allowance?: Allowance;
  /** Default: all of BACKTEST_STRATEGIES. Names are checked (unknown or repeated: exit 2). */
  strategies?: readonly string[];
  settings?: StrategySettingsInput;
  /** A spec, or paths already made by backtestPricePaths (to check an output place between the two). */
  paths: BacktestPathSpec | BacktestPaths;
  /** Names the market in messages. */
  marketSource?: string;
  onPath?: (done: number, total: number) => void;
}

/** The four charts, by file name. */
export type BacktestCharts = Record<"hf-paths.svg" | "hf-percentiles.svg" | "cost-vs-risk.svg" | "cost-vs-drawdown.svg", string>;

export interface BacktestRun {
  result: BacktestResult;
  strategies: BacktestStrategy[];
  settings: StrategySettings;
  allowance: Allowance;
  paths: BacktestPaths;
  charts: BacktestCharts;
  market: Market;
}

/**
 * Runs the strategies over the price paths and draws the charts. The options are checked
 * before any path runs, strategies first, then settings, then the paths.
 */
export function runBacktestWorkflow(input: BacktestWorkflowInput): BacktestRun {
  const { position, market, policy } = input;
  const allowance = input.allowance ?? defaultBacktestAllowance(position, market);
  const strategies = parseStrategies(input.strategies ?? BACKTEST_STRATEGIES);
  const settings = strategySettings(input.settings ?? {}, policy);
  const paths = "pricePaths" in input.paths ? input.paths : backtestPricePaths(market, input.paths, input.marketSource);
  const result = runBacktest({ position, market, policy, allowance }, strategies, settings, paths.pricePaths, input.onPath);
  const quote = market.quote.symbol;
  const charts: BacktestCharts = {
    "hf-paths.svg": healthFactorPathChart(result),
    "hf-percentiles.svg": healthFactorBandChart(result),
    "cost-vs-risk.svg": costRiskChart(result, quote, "liquidations"),
    "cost-vs-drawdown.svg": costRiskChart(result, quote, "drawdown"),
  };
  return { result, strategies, settings, allowance, paths, charts, market };
}

/** A file of a backtest's output: its name in the output directory and its content. */
export interface BacktestFile {
  name: string;
  content: string | Uint8Array;
}

export interface BacktestReportMeta {
  /** The command (or call) that produced the run, for reproducing it. */
  command: string;
  /** The input files' names as the report shows them ("default" for an allowance not from a file). */
  inputs: BacktestDescription["inputs"];
  runtimeMs: number;
  /** PNG copies of charts, rendered by the caller (Node: @resvg/resvg-js). */
  pngs?: readonly BacktestFile[];
  /** A notice about PNGs (written, or why not), for the report. */
  pngNote?: string;
}

/** What the report says about the run. */
export function backtestDescription(run: BacktestRun, meta: BacktestReportMeta): BacktestDescription {
  const { market, settings } = run;
  const quote = market.quote.symbol;
  const gasPricing =
    settings.nativePrice === undefined
      ? `Priced at ${formatDecimal(settings.gasPriceWei, 9)} gwei and the path's WETH/ETH price on the day of each rebalance.`
      : `Priced at ${formatDecimal(settings.gasPriceWei, 9)} gwei and ${formatDecimal(settings.nativePrice, market.quote.decimals)} ${quote} per ETH.`;
  return {
    command: meta.command,
    inputs: meta.inputs,
    allowance: allowanceText(run.allowance, market, amountText),
    source: run.paths.source,
    horizonDays: run.paths.horizonDays,
    stepDays: run.paths.stepDays,
    quote,
    quoteDecimals: market.quote.decimals,
    gasPricing,
    runtimeMs: meta.runtimeMs,
    charts: [...Object.keys(run.charts), ...(meta.pngs ?? []).map((p) => p.name)],
    ...(meta.pngNote !== undefined && { pngNote: meta.pngNote }),
  };
}

/** Every output file of a run: report.md, results.json, the SVG charts and any PNG copies. */
export function backtestReportFiles(run: BacktestRun, meta: BacktestReportMeta): BacktestFile[] {
  const description = backtestDescription(run, meta);
  return [
    { name: "report.md", content: markdownReport(run.result, description) },
    { name: "results.json", content: resultsJson(run.result, description) },
    ...Object.entries(run.charts).map(([name, content]) => ({ name, content })),
    ...(meta.pngs ?? []),
  ];
}
