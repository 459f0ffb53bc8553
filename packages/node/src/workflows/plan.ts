/**
 * `zks plan` as a function: read the files, plan, and write the plan file when there is a plan.
 * The plan file never replaces one of the run's inputs (the position file holds the salt).
 */
import { existsSync, realpathSync } from "node:fs";
import path from "node:path";
import { InputError } from "@zk-solvency/sdk/core";
import type { Market, Position } from "@zk-solvency/sdk/inputs";
import type { PlanOptions } from "@zk-solvency/sdk/rebalance";
import { planWorkflow, type PlanWorkflowResult } from "@zk-solvency/sdk/workflows";
import { writeFileSafely } from "../write-file-safely.ts";
import { loadAllowanceFile, loadMarketFile, loadPolicyFile, loadPositionFile } from "./load-inputs.ts";

export interface PlanRebalanceFilesOptions {
  position: string;
  market: string;
  policy: string;
  /** allow.json; default nothing allowed. */
  allow?: string;
  /** Where to write the plan file (private: it holds the new position and its salt); untouched when there is no plan. */
  out?: string;
  /** The planner's options, or a function of the market (decimals and symbols) returning them. */
  options: PlanOptions | ((market: Market) => PlanOptions);
}

export type PlanRebalanceFilesResult = PlanWorkflowResult & { position: Position; market: Market; written?: string };

const resolved = (file: string): string => (existsSync(file) ? realpathSync(file) : path.resolve(file));

export function planRebalanceFiles(options: PlanRebalanceFilesOptions): PlanRebalanceFilesResult {
  if (options.out !== undefined) {
    const out = resolved(options.out);
    for (const [flag, file] of [
      ["--position", options.position],
      ["--market", options.market],
      ["--policy", options.policy],
      ["--allow", options.allow],
    ] as const) {
      if (file !== undefined && resolved(file) === out) throw new InputError("--out", "", `${options.out} is also the ${flag} file; choose another file for the plan`);
    }
  }
  const market = loadMarketFile(options.market);
  const position = loadPositionFile(options.position, market);
  const policy = loadPolicyFile(options.policy, market);
  const allowance = loadAllowanceFile(options.allow, market);
  const planOptions = typeof options.options === "function" ? options.options(market) : options.options;
  const result = planWorkflow({ position, market, policy, allowance, options: planOptions });
  if (result.kind === "none" || options.out === undefined) return { ...result, position, market };
  writeFileSafely(options.out, `${JSON.stringify(result.json, null, 2)}\n`);
  return { ...result, position, market, written: options.out };
}
