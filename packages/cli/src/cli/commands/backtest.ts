import { readFileSync } from "node:fs";
import path from "node:path";
import type { Command } from "commander";
import { costRiskChart, healthFactorBandChart, healthFactorPathChart } from "@zk-solvency/sdk/backtest";
import { allowanceText, defaultBacktestAllowance } from "@zk-solvency/sdk/backtest";
import { NotPositiveSemiDefiniteError } from "@zk-solvency/sdk/backtest";
import type { PricePath } from "@zk-solvency/sdk/backtest";
import { replayPaths, replaySteps } from "@zk-solvency/sdk/backtest";
import { markdownReport, resultsJson, textTable, type BacktestDescription, type PathSource } from "@zk-solvency/sdk/backtest";
import { parseReturnSeries } from "@zk-solvency/sdk/backtest";
import { covarianceMatrix, runBacktest } from "@zk-solvency/sdk/backtest";
import { DEFAULT_PRICE_MODEL, simulatePaths, type PriceModel } from "@zk-solvency/sdk/backtest";
import { BACKTEST_STRATEGIES, BacktestOptionsError, parseStrategies, strategySettings, type StrategySettingsInput } from "@zk-solvency/sdk/backtest";
import { DecimalError, formatDecimal, parseDecimal } from "@zk-solvency/sdk/core";
import { InputError } from "@zk-solvency/sdk/core";
import { BPS_DECIMALS } from "@zk-solvency/sdk/core";
import type { Market } from "@zk-solvency/sdk/inputs";
import { loadPngRenderer, prepareOutputDir, writeOutputs, type OutputFile } from "@zk-solvency/node";
import { readJsonFile } from "@zk-solvency/node";
import { parseAllowance } from "@zk-solvency/sdk/rebalance";
import { amountText } from "@zk-solvency/sdk/rebalance";
import { loadMarketFile, loadPolicyFile, loadPositionFile } from "../load-inputs.ts";
import { printJson } from "../output.ts";

/**
 * Defaults sized to the planner's speed: it takes 10-30 ms per rebalance it plans on the
 * example market, and the spec's at-risk position needs about 35 searches per path over 90
 * days across the four strategies (0.8 s a path), so the default of 5 paths is a first look in
 * a few seconds; figures to quote need --paths 100 or more (docs/backtest.md, "Run time").
 */
export const DEFAULT_PATHS = 5;
export const DEFAULT_HORIZON_DAYS = 90;
export const DEFAULT_STEP_DAYS = 1;
export const DEFAULT_SEED = 1;

interface BacktestFlags {
  position: string;
  market: string;
  policy: string;
  out: string;
  allow?: string;
  returns?: string;
  strategies: string;
  paths: string;
  horizonDays?: string;
  stepDays: string;
  seed?: string;
  drift?: string;
  volScale?: string;
  volRegimes?: string;
  regimeSwitch?: string;
  jumpsPerYear?: string;
  jumpMean?: string;
  jumpStd?: string;
  triggerHf?: string;
  targetHf?: string;
  intervalDays?: string;
  deltaBand?: string;
  gasPrice?: string;
  ethPrice?: string;
  png: boolean;
  json?: boolean;
}

/** A number flag; anything else is an error naming the flag (exit 2). */
function numberFlag(flag: string, text: string, rule: { integer?: boolean; min?: number; max?: number; minOpen?: boolean }): number {
  const value = Number(text);
  const ok = /^[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?$/.test(text.trim()) && Number.isFinite(value);
  const range = `${rule.min !== undefined ? `${rule.minOpen ? ">" : ">="} ${rule.min}` : ""}${rule.min !== undefined && rule.max !== undefined ? " and " : ""}${rule.max !== undefined ? `<= ${rule.max}` : ""}`;
  const what = `${rule.integer ? "an integer" : "a number"}${range ? ` ${range}` : ""}`;
  if (!ok || (rule.integer && !Number.isInteger(value))) throw new BacktestOptionsError(flag, `expected ${what}, got "${text}"`);
  if (rule.min !== undefined && (rule.minOpen ? value <= rule.min : value < rule.min)) throw new BacktestOptionsError(flag, `expected ${what}, got ${text}`);
  if (rule.max !== undefined && value > rule.max) throw new BacktestOptionsError(flag, `expected ${what}, got ${text}`);
  return value;
}

function pairFlag(flag: string, text: string, rule: { min: number; max: number }): [number, number] {
  const parts = text.split(",");
  if (parts.length !== 2) throw new BacktestOptionsError(flag, `expected two numbers separated by a comma, e.g. "0.8,2", got "${text}"`);
  return [numberFlag(flag, parts[0]!.trim(), rule), numberFlag(flag, parts[1]!.trim(), rule)];
}

function decimalFlag(flag: string, text: string, decimals: number): bigint {
  try {
    return parseDecimal(text, decimals);
  } catch (error) {
    if (error instanceof DecimalError) throw new BacktestOptionsError(flag, error.message);
    throw error;
  }
}

function priceModel(flags: BacktestFlags): PriceModel {
  const d = DEFAULT_PRICE_MODEL;
  return {
    drift: flags.drift === undefined ? d.drift : numberFlag("--drift", flags.drift, { min: -10, max: 10 }),
    volScale: flags.volScale === undefined ? d.volScale : numberFlag("--vol-scale", flags.volScale, { min: 0, max: 10 }),
    regimeVol: flags.volRegimes === undefined ? d.regimeVol : pairFlag("--vol-regimes", flags.volRegimes, { min: 0, max: 10 }),
    regimeSwitch: flags.regimeSwitch === undefined ? d.regimeSwitch : pairFlag("--regime-switch", flags.regimeSwitch, { min: 0, max: 1 }),
    jumpsPerYear: flags.jumpsPerYear === undefined ? d.jumpsPerYear : numberFlag("--jumps-per-year", flags.jumpsPerYear, { min: 0, max: 365 }),
    jumpMean: flags.jumpMean === undefined ? d.jumpMean : numberFlag("--jump-mean", flags.jumpMean, { min: -2, max: 2 }),
    jumpStd: flags.jumpStd === undefined ? d.jumpStd : numberFlag("--jump-std", flags.jumpStd, { min: 0, max: 2 }),
  };
}

function settingsInput(flags: BacktestFlags, market: Market): StrategySettingsInput {
  return {
    ...(flags.triggerHf !== undefined && { trigger: decimalFlag("--trigger-hf", flags.triggerHf, BPS_DECIMALS) }),
    ...(flags.targetHf !== undefined && { target: decimalFlag("--target-hf", flags.targetHf, BPS_DECIMALS) }),
    ...(flags.intervalDays !== undefined && { intervalDays: numberFlag("--interval-days", flags.intervalDays, { min: 0, minOpen: true, max: 3650 }) }),
    ...(flags.deltaBand !== undefined && { deltaBandFraction: numberFlag("--delta-band", flags.deltaBand, { min: 0, max: 1 }) }),
    ...(flags.gasPrice !== undefined && { gasPriceWei: decimalFlag("--gas-price", flags.gasPrice, 9) }),
    ...(flags.ethPrice !== undefined && { nativePrice: decimalFlag("--eth-price", flags.ethPrice, market.quote.decimals) }),
  };
}

/** The command line as typed, minus the node and script paths, for the report. */
function commandLine(): string {
  const args = process.argv.slice(2).map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, "'\\''")}'`));
  return `zks ${args.join(" ")}`;
}

export const OUTPUT_FILES = ["report.md", "results.json", "hf-paths.svg", "hf-percentiles.svg", "cost-vs-risk.svg", "cost-vs-drawdown.svg"] as const;
const PNG_OF: Record<string, string> = { "hf-paths.svg": "hf-paths.png", "cost-vs-risk.svg": "cost-vs-risk.png" };

export function registerBacktest(program: Command): void {
  program
    .command("backtest")
    .description("run the planner's strategies over simulated or historical price paths and measure liquidations, health-factor drawdown, rebalances, gas, slippage and capital efficiency")
    .requiredOption("--position <file>", "position.json (private)")
    .requiredOption("--market <file>", "market.json: the starting prices, instruments, scenarios and covariance")
    .requiredOption("--policy <file>", "policy.json: the governance thresholds")
    .requiredOption("--out <dir>", "directory for report.md, results.json and the charts (created if missing; files replaced atomically)")
    .option("--allow <file>", "allow.json as for zks plan (default: the position's collateral may be sold and its instruments traded; empty wallet)")
    .option("--returns <file>", "replay a CSV of daily returns (date,SYMBOL,...) instead of simulating (docs/backtest.md)")
    .option("--strategies <list>", `comma-separated, of ${BACKTEST_STRATEGIES.join(", ")}`, BACKTEST_STRATEGIES.join(","))
    .option("--paths <n>", "simulated paths, or at most this many rolling windows of a replay", String(DEFAULT_PATHS))
    .option("--horizon-days <n>", `days per path (default ${DEFAULT_HORIZON_DAYS}; with --returns the whole file)`)
    .option("--step-days <n>", "days per step (an integer with --returns)", String(DEFAULT_STEP_DAYS))
    .option("--seed <n>", `seed of the simulated paths, an integer in [0, 2^32) (default ${DEFAULT_SEED})`)
    .option("--drift <x>", `annual log-drift of every asset (default ${DEFAULT_PRICE_MODEL.drift})`)
    .option("--vol-scale <x>", `multiplier on the market's covariance volatilities (default ${DEFAULT_PRICE_MODEL.volScale})`)
    .option("--vol-regimes <calm,stressed>", `volatility multipliers of the two regimes (default ${DEFAULT_PRICE_MODEL.regimeVol.join(",")})`)
    .option("--regime-switch <p,q>", `daily probabilities calm->stressed and stressed->calm (default ${DEFAULT_PRICE_MODEL.regimeSwitch.join(",")})`)
    .option("--jumps-per-year <x>", `expected jumps per year (default ${DEFAULT_PRICE_MODEL.jumpsPerYear})`)
    .option("--jump-mean <x>", `mean log-size of a jump (default ${DEFAULT_PRICE_MODEL.jumpMean})`)
    .option("--jump-std <x>", `standard deviation of a jump's log-size (default ${DEFAULT_PRICE_MODEL.jumpStd})`)
    .option("--trigger-hf <x>", "threshold and delta-neutral act below this health factor (default: the policy's trigger)")
    .option("--target-hf <x>", "health factor every plan restores (default: the trigger + 0.25)")
    .option("--interval-days <n>", "time: days between scheduled rebalances (default 7)")
    .option("--delta-band <fraction>", "delta-neutral: band on each asset's delta, as a fraction of the collateral value (default 0.1)")
    .option("--gas-price <gwei>", "gas price in gwei (default 20)")
    .option("--eth-price <amount>", "ETH price in the quote currency for gas (default: the path's WETH/ETH price at each rebalance)")
    .option("--no-png", "do not write PNG copies of the charts even when @resvg/resvg-js is installed")
    .option("--json", "print the per-strategy metrics as JSON on stdout")
    .action(async (flags: BacktestFlags) => {
      const started = performance.now();
      const market = loadMarketFile(flags.market);
      const position = loadPositionFile(flags.position, market);
      const policy = loadPolicyFile(flags.policy, market);
      const allowance = flags.allow === undefined ? defaultBacktestAllowance(position, market) : parseAllowance(readJsonFile(flags.allow), flags.allow, market);
      const strategies = parseStrategies(flags.strategies.split(",").map((s) => s.trim()).filter((s) => s !== ""));
      const settings = strategySettings(settingsInput(flags, market), policy);
      const paths = numberFlag("--paths", flags.paths, { integer: true, min: 1, max: 100_000 });
      const stepDays = numberFlag("--step-days", flags.stepDays, { min: 0, minOpen: true, max: 365 });
      const symbols = market.assets.map((a) => a.symbol);

      let pricePaths: PricePath[];
      let source: PathSource;
      let horizonDays: number;
      if (flags.returns !== undefined) {
        for (const [flag, given] of [["--seed", flags.seed], ["--drift", flags.drift], ["--vol-scale", flags.volScale], ["--vol-regimes", flags.volRegimes], ["--regime-switch", flags.regimeSwitch], ["--jumps-per-year", flags.jumpsPerYear], ["--jump-mean", flags.jumpMean], ["--jump-std", flags.jumpStd]] as const) {
          if (given) throw new BacktestOptionsError(flag, "applies to simulated paths; a replay (--returns) follows the file");
        }
        if (!Number.isInteger(stepDays)) throw new BacktestOptionsError("--step-days", `must be a whole number of days with --returns (rows per step), got ${flags.stepDays}`);
        let text: string;
        try {
          text = readFileSync(flags.returns, "utf8");
        } catch (error) {
          const code = (error as NodeJS.ErrnoException).code;
          throw new InputError(flags.returns, "", code === "ENOENT" ? "file not found" : code === "EISDIR" ? "is a directory, not a file" : `cannot be read (${code})`);
        }
        const series = parseReturnSeries(text, flags.returns, symbols);
        const available = replaySteps(series, stepDays);
        if (available < 1) throw new BacktestOptionsError("--step-days", `${stepDays} rows per step, but ${flags.returns} has ${series.returns.length} row(s)`);
        let steps = available;
        if (flags.horizonDays !== undefined) {
          const horizon = numberFlag("--horizon-days", flags.horizonDays, { integer: true, min: 1 });
          if (horizon % stepDays !== 0) throw new BacktestOptionsError("--horizon-days", `${horizon} is not a whole number of steps of ${stepDays} days`);
          steps = horizon / stepDays;
          if (steps > available) throw new BacktestOptionsError("--horizon-days", `${horizon} days is longer than ${flags.returns}, which has ${available * stepDays} (${series.returns.length} rows)`);
        }
        horizonDays = steps * stepDays;
        pricePaths = replayPaths(series, symbols, { stepRows: stepDays, steps, maxPaths: paths }, flags.returns);
        source = {
          kind: "replay",
          file: flags.returns,
          rows: series.returns.length,
          first: series.labels[0]!,
          last: series.labels.at(-1)!,
          assetsHeld: symbols.filter((s) => !series.symbols.includes(s)),
        };
      } else {
        horizonDays = flags.horizonDays === undefined ? DEFAULT_HORIZON_DAYS : numberFlag("--horizon-days", flags.horizonDays, { min: 0, minOpen: true, max: 3650 });
        const steps = horizonDays / stepDays;
        if (Math.abs(steps - Math.round(steps)) > 1e-9) throw new BacktestOptionsError("--horizon-days", `${horizonDays} is not a whole number of steps of ${stepDays} days`);
        const seed = flags.seed === undefined ? DEFAULT_SEED : numberFlag("--seed", flags.seed, { integer: true, min: 0, max: 0xffffffff });
        const model = priceModel(flags);
        try {
          pricePaths = simulatePaths(covarianceMatrix(market), model, { steps: Math.round(steps), stepDays }, paths, seed);
        } catch (error) {
          if (error instanceof NotPositiveSemiDefiniteError) {
            throw new InputError(flags.market, "covariance.matrix", `is not a covariance matrix: ${error.message} (${symbols[error.index]})`);
          }
          throw error;
        }
        source = { kind: "simulated", model, seed };
      }

      const pngNames = flags.png ? Object.values(PNG_OF) : [];
      const dir = prepareOutputDir(flags.out, [...OUTPUT_FILES, ...pngNames], [
        { flag: "--position", file: flags.position },
        { flag: "--market", file: flags.market },
        { flag: "--policy", file: flags.policy },
        ...(flags.allow !== undefined ? [{ flag: "--allow", file: flags.allow }] : []),
        ...(flags.returns !== undefined ? [{ flag: "--returns", file: flags.returns }] : []),
      ]);
      const result = runBacktest({ position, market, policy, allowance }, strategies, settings, pricePaths);
      const quote = market.quote.symbol;
      const svgs = {
        "hf-paths.svg": healthFactorPathChart(result),
        "hf-percentiles.svg": healthFactorBandChart(result),
        "cost-vs-risk.svg": costRiskChart(result, quote, "liquidations"),
        "cost-vs-drawdown.svg": costRiskChart(result, quote, "drawdown"),
      };
      const pngs: OutputFile[] = [];
      let pngNote: string | undefined;
      if (flags.png) {
        const render = await loadPngRenderer();
        if (render) {
          for (const [svgName, pngName] of Object.entries(PNG_OF)) pngs.push({ name: pngName, content: render(svgs[svgName as keyof typeof svgs]) });
          pngNote = `PNG copies: ${pngs.map((p) => `\`${p.name}\``).join(", ")} (rendered by @resvg/resvg-js).`;
        } else {
          pngNote = "PNG copies were not written: the optional renderer @resvg/resvg-js is not installed (`npm install @resvg/resvg-js` adds it).";
        }
      }
      const gasPricing =
        settings.nativePrice === undefined
          ? `Priced at ${formatDecimal(settings.gasPriceWei, 9)} gwei and the path's WETH/ETH price on the day of each rebalance.`
          : `Priced at ${formatDecimal(settings.gasPriceWei, 9)} gwei and ${formatDecimal(settings.nativePrice, market.quote.decimals)} ${quote} per ETH.`;
      const description: BacktestDescription = {
        command: commandLine(),
        inputs: {
          position: path.basename(flags.position),
          market: path.basename(flags.market),
          policy: path.basename(flags.policy),
          allow: flags.allow === undefined ? "default" : path.basename(flags.allow),
          ...(flags.returns !== undefined && { returns: path.basename(flags.returns) }),
        },
        allowance: allowanceText(allowance, market, amountText),
        source,
        horizonDays,
        stepDays,
        quote,
        quoteDecimals: market.quote.decimals,
        gasPricing,
        runtimeMs: performance.now() - started,
        charts: [...Object.keys(svgs), ...pngs.map((p) => p.name)],
        ...(pngNote !== undefined && { pngNote }),
      };
      const files: OutputFile[] = [
        { name: "report.md", content: markdownReport(result, description) },
        { name: "results.json", content: resultsJson(result, description) },
        ...Object.entries(svgs).map(([name, content]) => ({ name, content })),
        ...pngs,
      ];
      writeOutputs(dir, files);

      const seconds = (description.runtimeMs / 1000).toFixed(1);
      if (flags.json) {
        printJson({ version: 1, kind: "zks-backtest-summary", out: flags.out, runtimeMs: Math.round(description.runtimeMs), metrics: result.metrics });
      } else {
        const what = source.kind === "simulated" ? `${pricePaths.length} simulated paths (seed ${source.seed})` : `${pricePaths.length} window${pricePaths.length === 1 ? "" : "s"} of ${source.file}`;
        process.stdout.write(`backtest: ${what} x ${horizonDays} days, ${strategies.length} strategies, in ${seconds} s (means per path, ${quote})\n${textTable(result.metrics, quote)}\n`);
      }
      process.stderr.write(`zks: wrote ${files.map((f) => f.name).join(", ")} to ${flags.out}${pngNote && pngs.length === 0 ? `; ${pngNote}` : ""}\n`);
    });
}
