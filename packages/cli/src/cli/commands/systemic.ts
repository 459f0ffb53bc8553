import type { Command } from "commander";
import {
  DEFAULT_BONUS,
  DEFAULT_INTERVAL_STEPS,
  DEFAULT_JITTER,
  DEFAULT_MAX_DELAY,
  DEFAULT_SEED,
  DEFAULT_STEP_HOURS,
  DEFAULT_STEPS,
  DEFAULT_SWEEP_VAULTS,
  DEFAULT_VAULTS,
  parseHealthFactor,
  parseLiquidity,
  parseMix,
  parseMixes,
  parseRange,
  parseSystemicNumber,
  parseVaultCounts,
  RUN_HEADER,
  runRows,
  SWEEP_HEADER,
  sweepRows,
  SYSTEMIC_NUMBER_RULES as RULES,
  systemicSummaryJson,
  SystemicOptionsError,
  textTable,
} from "@zk-solvency/sdk/systemic";
import { runSystemicFiles, type SystemicFileSettings } from "@zk-solvency/node";
import { printJson } from "../output.ts";

interface SystemicFlags {
  market: string;
  policy: string;
  out: string;
  book?: string;
  position: string[];
  asIs?: boolean;
  vaults?: string;
  mix?: string;
  steps?: string;
  stepHours?: string;
  seed?: string;
  shock?: string;
  shockStep?: string;
  simulate?: boolean;
  quoteAsset?: string;
  ammDepth?: string;
  liquidity?: string;
  fee?: string;
  guard: boolean;
  recovery?: string;
  bonus?: string;
  triggerHf?: string;
  targetHf?: string;
  intervalSteps?: string;
  jitter?: string;
  maxDelay?: string;
  hfRange?: string;
  sweep: string | boolean;
  sweepMixes?: string;
  png: boolean;
  json?: boolean;
}

const collect = (value: string, previous: string[]): string[] => [...previous, value];

/** The flags that need no market, parsed; the workflow checks the rest and every range. */
function settingsOf(flags: SystemicFlags): SystemicFileSettings {
  const number = (flag: keyof typeof RULES, text: string | undefined) => (text === undefined ? undefined : parseSystemicNumber(flag, text, RULES[flag]));
  const settings: SystemicFileSettings = {
    ...(flags.asIs && { asIs: true }),
    ...(flags.vaults !== undefined && { vaults: number("--vaults", flags.vaults)! }),
    ...(flags.mix !== undefined && { mix: parseMix(flags.mix) }),
    ...(flags.steps !== undefined && { steps: number("--steps", flags.steps)! }),
    ...(flags.stepHours !== undefined && { stepHours: number("--step-hours", flags.stepHours)! }),
    ...(flags.seed !== undefined && { seed: number("--seed", flags.seed)! }),
    ...(flags.shockStep !== undefined && { shockStep: number("--shock-step", flags.shockStep)! }),
    ...(flags.simulate && { simulate: true }),
    ...(flags.liquidity !== undefined && { liquidity: parseLiquidity(flags.liquidity) }),
    ...(flags.fee !== undefined && { fee: number("--fee", flags.fee)! }),
    guard: flags.guard,
    ...(flags.recovery !== undefined && { recovery: number("--recovery", flags.recovery)! }),
    ...(flags.bonus !== undefined && { bonus: number("--bonus", flags.bonus)! }),
    ...(flags.triggerHf !== undefined && { trigger: parseHealthFactor("--trigger-hf", flags.triggerHf) }),
    ...(flags.targetHf !== undefined && { target: parseHealthFactor("--target-hf", flags.targetHf) }),
    ...(flags.intervalSteps !== undefined && { intervalSteps: number("--interval-steps", flags.intervalSteps)! }),
    ...(flags.jitter !== undefined && { jitter: number("--jitter", flags.jitter)! }),
    ...(flags.maxDelay !== undefined && { maxDelay: number("--max-delay", flags.maxDelay)! }),
    ...(flags.hfRange !== undefined && { variation: { healthFactor: parseRange("--hf-range", flags.hfRange, RULES["--hf-range"]) } }),
  };
  if (flags.sweep === false) {
    if (flags.sweepMixes !== undefined) throw new SystemicOptionsError("--sweep-mixes", "has no effect with --no-sweep");
    settings.sweep = false;
  } else {
    settings.sweep = {
      ...(typeof flags.sweep === "string" && { vaults: parseVaultCounts(flags.sweep) }),
      ...(flags.sweepMixes !== undefined && { mixes: parseMixes(flags.sweepMixes) }),
    };
  }
  return settings;
}

/** The command line as typed, minus the node and script paths, for the report. */
function commandLine(): string {
  const args = process.argv.slice(2).map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, "'\\''")}'`));
  return `zks ${args.join(" ")}`;
}

export function registerSystemic(program: Command): void {
  program
    .command("systemic")
    .description(
      "simulate N vaults following their strategies into constant-product pools after a shock: liquidations, drained liquidity, the price path, and how much synchronized triggers amplify the shock",
    )
    // One line for a flag commander refuses, as for every other bad flag of this command.
    .showHelpAfterError(false)
    .showSuggestionAfterError(false)
    .requiredOption("--market <file>", "market.json: the starting prices, thresholds, instruments and covariance")
    .requiredOption("--policy <file>", "policy.json: the trigger, the minimum health factor and the slippage bound")
    .requiredOption("--out <dir>", "directory for report.md, result.json and the charts (created if missing; files replaced atomically)")
    .option("--book <path>", "a directory of position files or a .jsonl book: the templates the vaults are varied from")
    .option("--position <file>", "a position file to vary vaults from (repeatable; e.g. the spec's example positions)", collect, [])
    .option("--as-is", "take the book's positions as the vaults, unvaried (N = the book's size)")
    .option("--vaults <n>", `vaults to simulate (default ${DEFAULT_VAULTS})`)
    .option("--mix <fractions>", "strategy mix, e.g. threshold=0.5,time=0.3,randomized=0.2 (of threshold, time, randomized, none; default threshold=1)")
    .option("--steps <n>", `steps after the start (default ${DEFAULT_STEPS})`)
    .option("--step-hours <h>", `hours per step, the oracle's epoch (default ${DEFAULT_STEP_HOURS})`)
    .option("--seed <n>", `seed of the book, the strategies' draws and any simulated path (default ${DEFAULT_SEED})`)
    .option("--shock <changes>", "exogenous shock, e.g. WETH=-0.2,WBTC=-0.15 (default: the most volatile asset -0.2)")
    .option("--shock-step <n>", "the step the shock hits (default 1)")
    .option("--simulate", "add a seeded path of the backtest's price model (docs/backtest.md) to the shock")
    .option("--quote-asset <symbol>", "the pools' quote asset (default: the market's least volatile asset)")
    .option("--amm-depth <depths>", "pool depths in whole tokens of the quote asset, e.g. WETH=50000000,WBTC=20000000 (default: from --liquidity)")
    .option("--liquidity <level>", "thin, medium, deep or a multiple: each pool holds this multiple of the collateral value 1,000 vaults hold in its asset (default medium = 1)")
    .option("--fee <fraction>", "pool fee (default 0.003, Uniswap v2's)")
    .option("--no-guard", "vaults take what the pools pay, without the gate's slippage bound")
    .option("--recovery <fraction>", "share of the gap to the outside price arbitrage closes each step (default 0)")
    .option("--bonus <fraction>", `liquidation bonus (default ${DEFAULT_BONUS})`)
    .option("--trigger-hf <x>", "threshold vaults act below this health factor (default: the policy's trigger)")
    .option("--target-hf <x>", "health factor the rule restores (default: the trigger + 0.25)")
    .option("--interval-steps <n>", `time vaults act every n steps (default ${DEFAULT_INTERVAL_STEPS})`)
    .option("--jitter <x>", `randomized vaults: trigger +- up to x (default ${DEFAULT_JITTER})`)
    .option("--max-delay <n>", `randomized vaults: act 0 to n steps after the trigger (default ${DEFAULT_MAX_DELAY})`)
    .option("--hf-range <lo,hi>", "initial health factors of the varied vaults (default 1.3,3)")
    .option("--sweep [counts]", `also run these vault counts for every sweep mix (default ${DEFAULT_SWEEP_VAULTS.join(",")})`, true)
    .option("--no-sweep", "run the book only, no sweep over N and the mix")
    .option("--sweep-mixes <mixes>", 'mixes of the sweep separated by ";" (default "threshold=1;threshold=0.5,time=0.3,randomized=0.2;randomized=1")')
    .option("--no-png", "do not write PNG copies of the charts even when @resvg/resvg-js is installed")
    .option("--json", "print the summaries, the amplification and the sweep as JSON on stdout")
    .action(async (flags: SystemicFlags) => {
      const startedAt = performance.now();
      const settings = settingsOf(flags);
      const { run, written } = await runSystemicFiles({
        market: flags.market,
        policy: flags.policy,
        out: flags.out,
        ...(flags.book !== undefined && { book: flags.book }),
        positions: flags.position,
        settings,
        ...(flags.shock !== undefined && { shock: flags.shock }),
        ...(flags.ammDepth !== undefined && { depth: flags.ammDepth }),
        ...(flags.quoteAsset !== undefined && { quoteAsset: flags.quoteAsset }),
        png: flags.png,
        command: commandLine(),
        startedAt,
      });
      const seconds = (written.runtimeMs / 1000).toFixed(1);
      if (flags.json) {
        printJson({ version: 1, kind: "zks-systemic-summary", out: flags.out, runtimeMs: Math.round(written.runtimeMs), ...systemicSummaryJson(run) });
      } else {
        const s = run.settings;
        const lines = [
          `systemic: ${s.vaults} vaults x ${s.steps} steps of ${s.stepHours} h, in ${seconds} s`,
          textTable(RUN_HEADER, runRows(run)),
          ...(run.sweep.length > 0 ? ["", textTable(SWEEP_HEADER, sweepRows(run))] : []),
        ];
        process.stdout.write(`${lines.join("\n")}\n`);
      }
      process.stderr.write(`zks: wrote ${written.names.join(", ")} to ${flags.out}${written.pngNote && written.pngs.length === 0 ? `; ${written.pngNote}` : ""}\n`);
    });
}
