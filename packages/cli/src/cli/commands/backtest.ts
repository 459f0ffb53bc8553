import type { Command } from "commander";
import {
  BACKTEST_NUMBER_RULES,
  BACKTEST_STRATEGIES,
  BacktestOptionsError,
  DEFAULT_ADAPTIVE_SETTINGS,
  DEFAULT_BACKTEST_PATHS,
  DEFAULT_HORIZON_DAYS,
  DEFAULT_PRICE_MODEL,
  DEFAULT_SEED,
  DEFAULT_STEP_DAYS,
  parseNumberOption,
  parseNumberPair,
  textTable,
  VOLATILITY_MODELS,
  type PriceModel,
  type StrategySettingsInput,
} from "@zk-solvency/sdk/backtest";
import { BPS_DECIMALS, DecimalError, parseDecimal } from "@zk-solvency/sdk/core";
import type { Market } from "@zk-solvency/sdk/inputs";
import { runBacktestFiles } from "@zk-solvency/node";
import { printJson } from "../output.ts";

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
  volModel?: string;
  ewmaLambda?: string;
  adaptiveK?: string;
  adaptiveReactionDays?: string;
  adaptiveTargetDays?: string;
  png: boolean;
  json?: boolean;
}

const RULES = BACKTEST_NUMBER_RULES;

function decimalFlag(flag: string, text: string, decimals: number): bigint {
  try {
    return parseDecimal(text, decimals);
  } catch (error) {
    if (error instanceof DecimalError) throw new BacktestOptionsError(flag, error.message);
    throw error;
  }
}

/** The price-model parameters given as flags; the others keep DEFAULT_PRICE_MODEL's. */
function priceModel(flags: BacktestFlags): Partial<PriceModel> {
  return {
    ...(flags.drift !== undefined && { drift: parseNumberOption("--drift", flags.drift, RULES["--drift"]) }),
    ...(flags.volScale !== undefined && { volScale: parseNumberOption("--vol-scale", flags.volScale, RULES["--vol-scale"]) }),
    ...(flags.volRegimes !== undefined && { regimeVol: parseNumberPair("--vol-regimes", flags.volRegimes, RULES["--vol-regimes"]) }),
    ...(flags.regimeSwitch !== undefined && { regimeSwitch: parseNumberPair("--regime-switch", flags.regimeSwitch, RULES["--regime-switch"]) }),
    ...(flags.jumpsPerYear !== undefined && { jumpsPerYear: parseNumberOption("--jumps-per-year", flags.jumpsPerYear, RULES["--jumps-per-year"]) }),
    ...(flags.jumpMean !== undefined && { jumpMean: parseNumberOption("--jump-mean", flags.jumpMean, RULES["--jump-mean"]) }),
    ...(flags.jumpStd !== undefined && { jumpStd: parseNumberOption("--jump-std", flags.jumpStd, RULES["--jump-std"]) }),
  };
}

function settingsInput(flags: BacktestFlags, market: Market): StrategySettingsInput {
  return {
    ...(flags.triggerHf !== undefined && { trigger: decimalFlag("--trigger-hf", flags.triggerHf, BPS_DECIMALS) }),
    ...(flags.targetHf !== undefined && { target: decimalFlag("--target-hf", flags.targetHf, BPS_DECIMALS) }),
    ...(flags.intervalDays !== undefined && { intervalDays: parseNumberOption("--interval-days", flags.intervalDays, RULES["--interval-days"]) }),
    ...(flags.deltaBand !== undefined && { deltaBandFraction: parseNumberOption("--delta-band", flags.deltaBand, RULES["--delta-band"]) }),
    ...(flags.gasPrice !== undefined && { gasPriceWei: decimalFlag("--gas-price", flags.gasPrice, 9) }),
    ...(flags.ethPrice !== undefined && { nativePrice: decimalFlag("--eth-price", flags.ethPrice, market.quote.decimals) }),
    ...adaptiveInput(flags),
  };
}

/** The adaptive strategy's flags (checked again, with the model name, by strategySettings). */
function adaptiveInput(flags: BacktestFlags): StrategySettingsInput {
  return {
    ...(flags.volModel !== undefined && { volModel: flags.volModel }),
    ...(flags.ewmaLambda !== undefined && { ewmaLambda: parseNumberOption("--ewma-lambda", flags.ewmaLambda, RULES["--ewma-lambda"]) }),
    ...(flags.adaptiveK !== undefined && { adaptiveK: parseNumberOption("--adaptive-k", flags.adaptiveK, RULES["--adaptive-k"]) }),
    ...(flags.adaptiveReactionDays !== undefined && {
      adaptiveReactionDays: parseNumberOption("--adaptive-reaction-days", flags.adaptiveReactionDays, RULES["--adaptive-reaction-days"]),
    }),
    ...(flags.adaptiveTargetDays !== undefined && { adaptiveTargetDays: parseNumberOption("--adaptive-target-days", flags.adaptiveTargetDays, RULES["--adaptive-target-days"]) }),
  };
}

/** The adaptive flags given, by flag, to refuse them when the adaptive strategy does not run (they would change nothing). */
const ADAPTIVE_FLAGS = [
  ["--vol-model", "volModel"],
  ["--ewma-lambda", "ewmaLambda"],
  ["--adaptive-k", "adaptiveK"],
  ["--adaptive-reaction-days", "adaptiveReactionDays"],
  ["--adaptive-target-days", "adaptiveTargetDays"],
] as const;

/** The command line as typed, minus the node and script paths, for the report. */
function commandLine(): string {
  const args = process.argv.slice(2).map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, "'\\''")}'`));
  return `zks ${args.join(" ")}`;
}

export function registerBacktest(program: Command): void {
  program
    .command("backtest")
    .description(
      "run the planner's strategies over simulated or historical price paths and measure liquidations, health-factor drawdown, rebalances, gas, slippage and capital efficiency",
    )
    .requiredOption("--position <file>", "position.json (private)")
    .requiredOption("--market <file>", "market.json: the starting prices, instruments, scenarios and covariance")
    .requiredOption("--policy <file>", "policy.json: the governance thresholds")
    .requiredOption("--out <dir>", "directory for report.md, results.json and the charts (created if missing; files replaced atomically)")
    .option("--allow <file>", "allow.json as for zks plan (default: the position's collateral may be sold and its instruments traded; empty wallet)")
    .option("--returns <file>", "replay a CSV of daily returns (date,SYMBOL,...) instead of simulating (docs/backtest.md)")
    .option("--strategies <list>", `comma-separated, of ${BACKTEST_STRATEGIES.join(", ")}`, BACKTEST_STRATEGIES.join(","))
    .option("--paths <n>", "simulated paths, or at most this many rolling windows of a replay", String(DEFAULT_BACKTEST_PATHS))
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
    .option("--vol-model <model>", `adaptive: the volatility forecast, ${VOLATILITY_MODELS.join(" or ")} (default ${DEFAULT_ADAPTIVE_SETTINGS.volModel})`)
    .option("--ewma-lambda <x>", `adaptive: the EWMA decay in (0, 1) (default ${DEFAULT_ADAPTIVE_SETTINGS.ewmaLambda}, RiskMetrics)`)
    .option("--adaptive-k <x>", `adaptive: standard deviations the trigger and target must survive (default ${DEFAULT_ADAPTIVE_SETTINGS.k})`)
    .option("--adaptive-reaction-days <n>", `adaptive: the trigger's horizon, days a keeper may take to act (default ${DEFAULT_ADAPTIVE_SETTINGS.reactionDays})`)
    .option("--adaptive-target-days <n>", `adaptive: the target's horizon, days a rebalance should hold (default ${DEFAULT_ADAPTIVE_SETTINGS.targetDays})`)
    .option("--no-png", "do not write PNG copies of the charts even when @resvg/resvg-js is installed")
    .option("--json", "print the per-strategy metrics as JSON on stdout")
    .action(async (flags: BacktestFlags) => {
      const startedAt = performance.now();
      const strategies = flags.strategies
        .split(",")
        .map((s) => s.trim())
        .filter((s) => s !== "");
      if (!strategies.includes("adaptive")) {
        const given = ADAPTIVE_FLAGS.find(([, key]) => flags[key] !== undefined);
        if (given) throw new BacktestOptionsError(given[0], "applies to the adaptive strategy, which --strategies does not include");
      }
      const paths = parseNumberOption("--paths", flags.paths, RULES["--paths"]);
      const stepDays = parseNumberOption("--step-days", flags.stepDays, RULES["--step-days"]);
      let simulation: { seed?: number; model?: Partial<PriceModel> } = {};
      let horizonDays: number | undefined;
      if (flags.returns !== undefined) {
        for (const [flag, given] of [
          ["--seed", flags.seed],
          ["--drift", flags.drift],
          ["--vol-scale", flags.volScale],
          ["--vol-regimes", flags.volRegimes],
          ["--regime-switch", flags.regimeSwitch],
          ["--jumps-per-year", flags.jumpsPerYear],
          ["--jump-mean", flags.jumpMean],
          ["--jump-std", flags.jumpStd],
        ] as const) {
          if (given) throw new BacktestOptionsError(flag, "applies to simulated paths; a replay (--returns) follows the file");
        }
        if (flags.horizonDays !== undefined) horizonDays = parseNumberOption("--horizon-days", flags.horizonDays, RULES["--replay-horizon-days"]);
      } else {
        if (flags.horizonDays !== undefined) horizonDays = parseNumberOption("--horizon-days", flags.horizonDays, RULES["--horizon-days"]);
        simulation = { ...(flags.seed !== undefined && { seed: parseNumberOption("--seed", flags.seed, RULES["--seed"]) }), model: priceModel(flags) };
      }
      const { run, written } = await runBacktestFiles({
        position: flags.position,
        market: flags.market,
        policy: flags.policy,
        out: flags.out,
        ...(flags.allow !== undefined && { allow: flags.allow }),
        ...(flags.returns !== undefined && { returns: flags.returns }),
        strategies,
        settings: (market) => settingsInput(flags, market),
        paths,
        stepDays,
        ...(horizonDays !== undefined && { horizonDays }),
        ...simulation,
        png: flags.png,
        command: commandLine(),
        startedAt,
      });

      const quote = run.market.quote.symbol;
      const { source, pricePaths } = run.paths;
      const seconds = (written.runtimeMs / 1000).toFixed(1);
      if (flags.json) {
        printJson({ version: 1, kind: "zks-backtest-summary", out: flags.out, runtimeMs: Math.round(written.runtimeMs), metrics: run.result.metrics });
      } else {
        const what =
          source.kind === "simulated"
            ? `${pricePaths.length} simulated paths (seed ${source.seed})`
            : `${pricePaths.length} window${pricePaths.length === 1 ? "" : "s"} of ${source.file}`;
        process.stdout.write(
          `backtest: ${what} x ${run.paths.horizonDays} days, ${run.strategies.length} strategies, in ${seconds} s (means per path, ${quote})\n${textTable(run.result.metrics, quote)}\n`,
        );
      }
      process.stderr.write(`zks: wrote ${written.names.join(", ")} to ${flags.out}${written.pngNote && written.pngs.length === 0 ? `; ${written.pngNote}` : ""}\n`);
    });
}
