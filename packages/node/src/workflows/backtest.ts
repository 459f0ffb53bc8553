/**
 * `zks backtest` as a function: read the position, market, policy, allowance and returns files,
 * make the price paths, check the output directory, run the strategies and write report.md,
 * results.json and the charts. The computing is the SDK's (runBacktestWorkflow); this reads and
 * writes the files. Options are named as the command's flags in messages.
 */
import path from "node:path";
import {
  BacktestOptionsError,
  BACKTEST_OUTPUT_FILES,
  BACKTEST_PNG_OF,
  BACKTEST_STRATEGIES,
  backtestPricePaths,
  defaultBacktestAllowance,
  parseStrategies,
  runBacktestWorkflow,
  strategySettings,
  type BacktestPathSpec,
  type BacktestRun,
  type PriceModel,
  type StrategySettingsInput,
} from "@zk-solvency/sdk/backtest";
import type { Market } from "@zk-solvency/sdk/inputs";
import { prepareOutputDir, writeBacktestReport, type WrittenBacktestReport } from "../backtest-files.ts";
import { readTextFile } from "../read-json.ts";
import { loadAllowanceFile, loadMarketFile, loadPolicyFile, loadPositionFile } from "./load-inputs.ts";

export interface BacktestFilesOptions {
  position: string;
  market: string;
  policy: string;
  /** Directory for the outputs (created if missing; files replaced atomically; never an input's place). */
  out: string;
  /** allow.json; default: the position's collateral may be sold, nothing traded, an empty wallet. */
  allow?: string;
  /** A CSV of daily returns to replay instead of simulating. */
  returns?: string;
  /** Default all of BACKTEST_STRATEGIES. */
  strategies?: readonly string[];
  /** Strategy settings, or a function of the market (its quote decimals) returning them. */
  settings?: StrategySettingsInput | ((market: Market) => StrategySettingsInput);
  paths?: number;
  horizonDays?: number;
  stepDays?: number;
  /** Simulated paths only. */
  seed?: number;
  /** Simulated paths only: price-model parameters (the rest default). */
  model?: Partial<PriceModel>;
  /** PNG copies of two charts when @resvg/resvg-js is installed (default true). */
  png?: boolean;
  /** The command line the report records, for reproducing the run. */
  command?: string;
  /** performance.now() at the start (default: this call's start). */
  startedAt?: number;
  pngRendererModule?: string;
}

export interface BacktestFilesResult {
  run: BacktestRun;
  /** The output directory, resolved. */
  dir: string;
  written: WrittenBacktestReport;
}

/** The flags of the price-model parameters, in the order a replay reports them given. */
const MODEL_FLAGS: [keyof PriceModel, string][] = [
  ["drift", "--drift"],
  ["volScale", "--vol-scale"],
  ["regimeVol", "--vol-regimes"],
  ["regimeSwitch", "--regime-switch"],
  ["jumpsPerYear", "--jumps-per-year"],
  ["jumpMean", "--jump-mean"],
  ["jumpStd", "--jump-std"],
];

export async function runBacktestFiles(options: BacktestFilesOptions): Promise<BacktestFilesResult> {
  const startedAt = options.startedAt ?? performance.now();
  const market = loadMarketFile(options.market);
  const position = loadPositionFile(options.position, market);
  const policy = loadPolicyFile(options.policy, market);
  const allowance = loadAllowanceFile(options.allow, market, () => defaultBacktestAllowance(position, market));
  // Checked here, before the paths, as the command reports them; the workflow checks them again.
  const strategies = parseStrategies(options.strategies ?? BACKTEST_STRATEGIES);
  const settings = typeof options.settings === "function" ? options.settings(market) : (options.settings ?? {});
  strategySettings(settings, policy);

  let spec: BacktestPathSpec;
  if (options.returns !== undefined) {
    const given = [["--seed", options.seed] as const, ...MODEL_FLAGS.map(([key, flag]) => [flag, options.model?.[key]] as const)].find(([, value]) => value !== undefined);
    if (given) throw new BacktestOptionsError(given[0], "applies to simulated paths; a replay (--returns) follows the file");
    spec = { kind: "replay", text: readTextFile(options.returns), file: options.returns, paths: options.paths, horizonDays: options.horizonDays, stepDays: options.stepDays };
  } else {
    spec = { kind: "simulated", paths: options.paths, horizonDays: options.horizonDays, stepDays: options.stepDays, seed: options.seed, model: options.model };
  }
  const paths = backtestPricePaths(market, spec, options.market);

  const pngNames = (options.png ?? true) ? Object.values(BACKTEST_PNG_OF) : [];
  const dir = prepareOutputDir(
    options.out,
    [...BACKTEST_OUTPUT_FILES, ...pngNames],
    [
      { flag: "--position", file: options.position },
      { flag: "--market", file: options.market },
      { flag: "--policy", file: options.policy },
      ...(options.allow !== undefined ? [{ flag: "--allow", file: options.allow }] : []),
      ...(options.returns !== undefined ? [{ flag: "--returns", file: options.returns }] : []),
    ],
  );
  const run = runBacktestWorkflow({ position, market, policy, allowance, strategies, settings, paths });
  const written = await writeBacktestReport(dir, run, {
    command: options.command ?? "runBacktestFiles",
    inputs: {
      position: path.basename(options.position),
      market: path.basename(options.market),
      policy: path.basename(options.policy),
      allow: options.allow === undefined ? "default" : path.basename(options.allow),
      ...(options.returns !== undefined && { returns: path.basename(options.returns) }),
    },
    startedAt,
    png: options.png ?? true,
    ...(options.pngRendererModule !== undefined && { pngRendererModule: options.pngRendererModule }),
  });
  return { run, dir, written };
}
