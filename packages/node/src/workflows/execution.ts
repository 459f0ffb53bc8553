/**
 * `zks execution` over files (docs/execution.md): the schedule of a plan (three files: the public
 * commitment, the private seed, the private schedule) and the execution backtest's report.
 */
import { closeSync, fsyncSync, lstatSync, openSync, renameSync, rmSync, writeSync } from "node:fs";
import path from "node:path";
import { InputError } from "@zk-solvency/sdk/core";
import {
  checkExecutionWindow,
  executionBacktestMarkdown,
  parseSeedFile,
  randomScheduleSecret,
  runExecutionBacktest,
  scheduleFiles,
  scheduleTransitions,
  slicePlan,
  type ExecutionBacktestOptions,
  type ExecutionBacktestResult,
  type ScheduleSecret,
  type ScheduleWindow,
  type SlicedPlan,
} from "@zk-solvency/sdk/execution";
import type { Market, Position } from "@zk-solvency/sdk/inputs";
import { parsePlanFile } from "@zk-solvency/sdk/rebalance";
import { prepareOutputDir, writeOutputs } from "../backtest-files.ts";
import { readJsonFile } from "../read-json.ts";
import { loadMarketFile, loadPolicyFile, loadPositionFile } from "./load-inputs.ts";

/** The files `zks execution schedule` writes, in its output directory, in the order they are written (the public commitment last). */
export const SCHEDULE_OUTPUT_FILES = { seed: "seed.json", schedule: "schedule.json", commitment: "commitment.json" } as const;
/** The files `zks execution backtest` writes. */
export const EXECUTION_BACKTEST_FILES = { report: "execution-backtest.md", results: "execution-backtest.json" } as const;

export interface ScheduleExecutionFilesOptions {
  /** The plan file (`zks plan --out`). */
  plan: string;
  /** position.json the plan starts from (with its salt). */
  position: string;
  market: string;
  policy: string;
  /** The output directory (created if missing). */
  out: string;
  window: ScheduleWindow;
  /**
   * seed.json of an earlier run to reproduce that schedule (the same secret and committed plan;
   * the plan file must still make exactly those swaps). A fresh secret (Web Crypto) when omitted.
   */
  reproduce?: string;
  /** Replace existing output files (default false: an existing seed.json may be the secret behind a published commitment). */
  force?: boolean;
}

export interface ScheduleExecutionFilesResult {
  sliced: SlicedPlan;
  market: Market;
  position: Position;
  dir: string;
  written: string[];
}

const errorCode = (error: unknown): string => (error as NodeJS.ErrnoException).code ?? (error as Error).message;

/**
 * Writes the schedule's files into `dir` all or nothing, each owner-only (mode 0600, whatever an
 * existing file's mode was: a rerun must not leave a new seed world-readable). Each is first
 * written whole to a temporary file, then renamed into place in SCHEDULE_OUTPUT_FILES order, so
 * commitment.json never exists without the seed behind it; a failure removes the temporaries and
 * any output already renamed, and is one line (exit 2) naming the file.
 */
function writeScheduleOutputs(dir: string, files: readonly { name: string; content: string }[]): string[] {
  const temporaries: string[] = [];
  const placed: string[] = [];
  let current = "";
  try {
    for (const { name, content } of files) {
      current = path.join(dir, name);
      const temporary = path.join(dir, `.${name}.${process.pid}.tmp`);
      const fd = openSync(temporary, "wx", 0o600);
      temporaries.push(temporary);
      try {
        writeSync(fd, content);
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
    }
    files.forEach(({ name }, k) => {
      current = path.join(dir, name);
      renameSync(temporaries[k]!, current);
      placed.push(current);
    });
    return placed;
  } catch (error) {
    for (const file of [...temporaries, ...placed]) rmSync(file, { force: true });
    throw new InputError("--out", "", `cannot write ${current} (${errorCode(error)}); the schedule's files written so far were removed`);
  }
}

/**
 * Reads the plan against the position it starts from, splits it into the slices a fresh secret
 * (or the reproduced seed.json's) draws, checks that every slice is a transition the rebalance
 * circuit accepts (each P_{i+1} passing the policy under this market), and writes seed.json and
 * schedule.json (private), then commitment.json (public), into `out`. Refuses, before anything is
 * written: a window an execution may not use (checkExecutionWindow), an existing output file
 * without `force` (or one that is not a regular file), a reproduced seed whose committed plan the
 * plan file no longer makes. InputError / ScheduleError (exit 2) naming what is wrong.
 */
export function scheduleExecutionFiles(options: ScheduleExecutionFilesOptions): ScheduleExecutionFilesResult {
  checkExecutionWindow(options.window);
  const market = loadMarketFile(options.market);
  const policy = loadPolicyFile(options.policy, market);
  const position = loadPositionFile(options.position, market);
  const plan = parsePlanFile(readJsonFile(options.plan), options.plan, market, position);
  if (!plan.needed) throw new InputError(options.plan, "needed", "the plan needs no rebalance: there is nothing to execute");
  let secret: ScheduleSecret;
  if (options.reproduce !== undefined) {
    const seed = parseSeedFile(readJsonFile(options.reproduce), options.reproduce);
    secret = seed.secret;
    const swaps = plan.movements.swaps;
    const same = swaps.length === seed.plan.length && swaps.every((s, k) => s.sell === seed.plan[k]!.sell && s.buy === seed.plan[k]!.buy && s.amountIn === seed.plan[k]!.amountIn);
    if (!same) throw new InputError(options.reproduce, "plan.swaps", `are not the swaps of ${options.plan}: the seed was committed with another plan`);
  } else {
    secret = randomScheduleSecret();
  }
  const sliced = slicePlan(plan, secret, options.window, market, policy);
  // Every slice must be provable on its own before anything is committed to.
  scheduleTransitions(sliced, position, market, policy, plan);
  const files = scheduleFiles(sliced, secret, { account: position.account, nonce: position.nonce, market });
  const names = Object.values(SCHEDULE_OUTPUT_FILES);
  const dir = prepareOutputDir(options.out, names, [
    { flag: "--plan", file: options.plan },
    { flag: "--position", file: options.position },
    { flag: "--market", file: options.market },
    { flag: "--policy", file: options.policy },
    ...(options.reproduce !== undefined ? [{ flag: "--reproduce", file: options.reproduce }] : []),
  ]);
  for (const name of names) {
    const file = path.join(dir, name);
    let kind: "missing" | "file" | "other" = "missing";
    try {
      kind = lstatSync(file).isFile() ? "file" : "other";
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw new InputError("--out", "", `cannot inspect ${file} (${errorCode(error)})`);
    }
    if (kind === "other") throw new InputError("--out", "", `${file} exists and is not a regular file; nothing was written`);
    if (kind === "file" && !options.force) {
      throw new InputError(
        "--out",
        "",
        `${file} exists: a new schedule would replace it (and seed.json may be the secret behind a commitment already published); choose another directory or pass --force`,
      );
    }
  }
  const json = (value: unknown): string => `${JSON.stringify(value, null, 2)}\n`;
  const written = writeScheduleOutputs(dir, [
    { name: SCHEDULE_OUTPUT_FILES.seed, content: json(files.seed) },
    { name: SCHEDULE_OUTPUT_FILES.schedule, content: json(files.schedule) },
    { name: SCHEDULE_OUTPUT_FILES.commitment, content: json(files.commitment) },
  ]);
  return { sliced, market, position, dir, written: written.map((file) => path.basename(file)) };
}

export interface ExecutionBacktestFilesResult {
  result: ExecutionBacktestResult;
  dir: string;
  written: string[];
}

/** Runs the execution backtest and writes its Markdown report and JSON results into `out`. */
export function executionBacktestFiles(options: Partial<ExecutionBacktestOptions>, out: string, command?: string): ExecutionBacktestFilesResult {
  const result = runExecutionBacktest(options);
  const dir = prepareOutputDir(out, Object.values(EXECUTION_BACKTEST_FILES), []);
  const written = writeOutputs(dir, [
    { name: EXECUTION_BACKTEST_FILES.report, content: executionBacktestMarkdown(result, command) },
    { name: EXECUTION_BACKTEST_FILES.results, content: `${JSON.stringify({ version: 1, kind: "zks-execution-backtest", ...result }, null, 2)}\n` },
  ]);
  return { result, dir, written: written.map((file) => path.basename(file)) };
}
