import type { Command } from "commander";
import { InputError } from "@zk-solvency/sdk/core";
import {
  checkExecutionWindow,
  DEFAULT_EXECUTION_BACKTEST,
  executionBacktestTable,
  MAX_SLICES,
  MIN_SLICE_SPACING_SECONDS,
  ScheduleError,
  type ExecutionBacktestOptions,
} from "@zk-solvency/sdk/execution";
import { executionBacktestFiles, scheduleExecutionFiles, SCHEDULE_OUTPUT_FILES } from "@zk-solvency/node";
import { printJson } from "../output.ts";

interface ScheduleFlags {
  plan: string;
  position: string;
  market: string;
  policy: string;
  out: string;
  windowHours: string;
  slices: string;
  start?: string;
  reproduce?: string;
  force?: boolean;
  json?: boolean;
}

interface BacktestFlags {
  out: string;
  paths: string;
  seed: string;
  windowHours: string;
  slices: string;
  blockSeconds: string;
  tradeFractions: string;
  fee: string;
  tolerance: string;
  volatility: string;
  sizeSamples: string;
  json?: boolean;
}

const DECIMAL = /^\d+(\.\d+)?$/;

/** A number flag, checked: one line naming the flag and what it takes (exit 2). */
function numberFlag(flag: string, text: string, rule: { integer?: boolean; min: number; max: number; minOpen?: boolean }): number {
  const value = Number(text);
  const ok =
    DECIMAL.test(text) && Number.isFinite(value) && (!rule.integer || Number.isInteger(value)) && (rule.minOpen ? value > rule.min : value >= rule.min) && value <= rule.max;
  if (!ok) {
    const kind = rule.integer ? "an integer" : "a number";
    throw new InputError(flag, "", `expected ${kind} ${rule.minOpen ? ">" : "from"} ${rule.min}${rule.minOpen ? " and <=" : " to"} ${rule.max}, got "${text}"`);
  }
  return value;
}

/** Hours as whole seconds: the circuit counts seconds. */
function windowSeconds(text: string): number {
  const hours = numberFlag("--window-hours", text, { min: 0, max: (2 ** 32 - 1) / 3600, minOpen: true });
  const seconds = Math.round(hours * 3600);
  if (Math.abs(seconds - hours * 3600) > 1e-6) throw new InputError("--window-hours", "", `${text} hours is not a whole number of seconds`);
  return seconds;
}

/** The next full hour from now: a window must open after its commitment is published. */
const nextHour = (): number => Math.ceil(Date.now() / 1000 / 3600) * 3600 + 3600;

/** The command line as typed, minus the node and script paths, for the report. */
function commandLine(): string {
  const args = process.argv.slice(2).map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, "'\\''")}'`));
  return `zks ${args.join(" ")}`;
}

export function registerExecution(program: Command): void {
  const execution = program
    .command("execution")
    .description("time-weighted, randomized execution (docs/execution.md): split a plan into slices drawn from a committed seed; backtest front-running");

  execution
    .command("schedule")
    .description("split a plan's swaps into seeded slices over a window; write the public seed commitment and the private seed and schedule")
    .requiredOption("--plan <file>", "the plan file (zks plan --out)")
    .requiredOption("--position <file>", "position.json the plan starts from (private)")
    .requiredOption("--market <file>", "market.json of the plan's epoch")
    .requiredOption("--policy <file>", "policy.json: every slice must leave the position passing it")
    .requiredOption("--out <dir>", "directory for commitment.json (public), seed.json and schedule.json (private); created if missing")
    .option("--window-hours <h>", "length of the window the slices are spread over", "6")
    .option("--slices <n>", `number of slices, 1 to ${MAX_SLICES}`, "8")
    .option("--start <unix>", "when the window opens, unix seconds, after now (default: the start of the hour after next)")
    .option("--reproduce <seed.json>", "reproduce the schedule of an earlier run from its seed.json (same secret and plan); allows a --start in the past")
    .option("--force", "replace seed.json, schedule.json and commitment.json if --out already holds them")
    .option("--json", "machine-readable summary (no slice times)")
    .addHelpText(
      "after",
      [
        "",
        "Publish commitment.json before the window opens; keep seed.json and schedule.json private (they say when and how much each",
        "slice sells). Each slice is proven as a Rebalance plus a ScheduleSlice proof (SDK: proveRebalance, proveScheduleSlice) and a chain",
        `of them is checked with verifyScheduleChain. The window must give each slice at least ${MIN_SLICE_SPACING_SECONDS} s on average. An existing`,
        "output file is never replaced without --force (seed.json may be the secret behind a published commitment); the files are",
        "written owner-only, commitment.json last. Exit status: 0 written, 2 bad input (a file, a flag, an existing output, or a plan a",
        "slice of which the rebalance circuit would refuse).",
      ].join("\n"),
    )
    .action((flags: ScheduleFlags) => {
      const slices = numberFlag("--slices", flags.slices, { integer: true, min: 1, max: MAX_SLICES });
      const seconds = windowSeconds(flags.windowHours);
      const start = flags.start === undefined ? nextHour() : numberFlag("--start", flags.start, { integer: true, min: 0, max: 2 ** 40 - 1 });
      // A window that opened already could be drawn knowing the prices; only a reproduced schedule (its seed committed earlier) may be in the past.
      const now = Math.floor(Date.now() / 1000);
      if (start <= now && flags.reproduce === undefined) {
        throw new InputError(
          "--start",
          "",
          `${start} (${new Date(start * 1000).toISOString()}) is not after now: a window must open after its commitment is published (--reproduce SEED.json to redo an earlier schedule)`,
        );
      }
      try {
        checkExecutionWindow({ start, seconds, slices });
      } catch (error) {
        if (error instanceof ScheduleError) throw new InputError("--window-hours", "", error.message);
        throw error;
      }
      const result = scheduleExecutionFiles({
        plan: flags.plan,
        position: flags.position,
        market: flags.market,
        policy: flags.policy,
        out: flags.out,
        window: { start, seconds, slices },
        ...(flags.reproduce !== undefined && { reproduce: flags.reproduce }),
        ...(flags.force && { force: true }),
      });
      const { schedule, planSwaps } = result.sliced;
      const commitment = `0x${schedule.seedCommitment.toString(16).padStart(64, "0")}`;
      if (flags.json) {
        printJson({
          version: 1,
          kind: "zks-execution-schedule-summary",
          seedCommitment: commitment,
          window: schedule.window,
          spacingSeconds: schedule.spacingSeconds,
          out: flags.out,
          written: result.written,
        });
      } else {
        const symbol = (i: number) => result.market.assets[i]!.symbol;
        const pairs = planSwaps.map((s) => `${symbol(s.sell)} -> ${symbol(s.buy)}`).join(", ");
        process.stdout.write(
          [
            `schedule: ${slices} slices of ${pairs} over ${seconds} s from ${new Date(start * 1000).toISOString()} (${schedule.spacingSeconds} s apart on average)`,
            `seed commitment ${commitment}`,
            "",
          ].join("\n"),
        );
      }
      process.stderr.write(
        `zks: wrote ${result.written.join(", ")} (owner-only) to ${flags.out}; publish ${SCHEDULE_OUTPUT_FILES.commitment} before the window opens, keep ${SCHEDULE_OUTPUT_FILES.seed} and ${SCHEDULE_OUTPUT_FILES.schedule} private\n`,
      );
    });

  const d = DEFAULT_EXECUTION_BACKTEST;
  execution
    .command("backtest")
    .description(
      "compare a single trade, a public deterministic schedule, seeded slices in public sub-windows and the proven whole-window rule under slippage and an adaptive front-runner",
    )
    .requiredOption("--out <dir>", "directory for execution-backtest.md and execution-backtest.json (created if missing)")
    .option("--paths <n>", "price paths", String(d.paths))
    .option("--seed <n>", "seed of the paths and of the randomized schedules' secrets, an integer in [0, 2^32)", String(d.seed))
    .option("--window-hours <h>", "the execution window", String(d.windowHours))
    .option("--slices <n>", `slices of the deterministic and randomized schedules, 1 to ${MAX_SLICES}`, String(d.slices))
    .option("--block-seconds <n>", "seconds per block", String(d.blockSeconds))
    .option("--trade-fractions <list>", "comma-separated sale sizes as fractions of the pool's reserve", d.tradeFractions.join(","))
    .option("--fee <x>", "the pool's fee on inputs", String(d.fee))
    .option("--tolerance <x>", "each slice's minOut is its quote times 1 - tolerance", String(d.tolerance))
    .option("--volatility <x>", "annualized volatility of the market price", String(d.volatility))
    .option("--size-samples <n>", "samples of a slice's size the adversary averages over", String(d.sizeSamples))
    .option("--json", "print the rows as JSON on stdout")
    .addHelpText("after", "\nExit status: 0 written, 2 bad input.")
    .action((flags: BacktestFlags) => {
      const options: ExecutionBacktestOptions = {
        paths: numberFlag("--paths", flags.paths, { integer: true, min: 1, max: 100_000 }),
        seed: numberFlag("--seed", flags.seed, { integer: true, min: 0, max: 2 ** 32 - 1 }),
        windowHours: windowSeconds(flags.windowHours) / 3600,
        slices: numberFlag("--slices", flags.slices, { integer: true, min: 1, max: MAX_SLICES }),
        blockSeconds: numberFlag("--block-seconds", flags.blockSeconds, { integer: true, min: 1, max: 3600 }),
        tradeFractions: flags.tradeFractions.split(",").map((f) => numberFlag("--trade-fractions", f.trim(), { min: 0, max: 0.5, minOpen: true })),
        fee: numberFlag("--fee", flags.fee, { min: 0, max: 0.099 }),
        tolerance: numberFlag("--tolerance", flags.tolerance, { min: 0, max: 0.49 }),
        volatility: numberFlag("--volatility", flags.volatility, { min: 0, max: 10 }),
        sizeSamples: numberFlag("--size-samples", flags.sizeSamples, { integer: true, min: 1, max: 10_000 }),
      };
      const started = performance.now();
      const { result, written } = executionBacktestFiles(options, flags.out, commandLine());
      const seconds = ((performance.now() - started) / 1000).toFixed(1);
      if (flags.json) printJson({ version: 1, kind: "zks-execution-backtest-summary", blocksPerSlice: result.blocksPerSlice, rows: result.rows });
      else process.stdout.write(`execution backtest: ${options.paths} paths in ${seconds} s (basis points of the sale's start value)\n${executionBacktestTable(result)}\n`);
      process.stderr.write(`zks: wrote ${written.join(", ")} to ${flags.out}\n`);
    });
}
