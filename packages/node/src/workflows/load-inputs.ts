/**
 * The input files every workflow reads, parsed and validated: every problem is an InputError
 * naming the file and field (exit 2).
 */
import { parseMarket, parsePolicy, parsePosition, type Market, type Policy, type Position } from "@zk-solvency/sdk/inputs";
import { emptyAllowance, parseAllowance, type Allowance } from "@zk-solvency/sdk/rebalance";
import { readJsonFile } from "../read-json.ts";

export function loadMarketFile(file: string): Market {
  return parseMarket(readJsonFile(file), file);
}

export function loadPositionFile(file: string, market: Market): Position {
  return parsePosition(readJsonFile(file), file, market);
}

export function loadPolicyFile(file: string, market: Market): Policy {
  return parsePolicy(readJsonFile(file), file, market);
}

/** allow.json, or `fallback` (default: nothing allowed) without a file. */
export function loadAllowanceFile(file: string | undefined, market: Market, fallback: () => Allowance = () => emptyAllowance(market)): Allowance {
  return file === undefined ? fallback() : parseAllowance(readJsonFile(file), file, market);
}

/** The market, policy and position of one run, in the order their errors are reported. */
export function loadInputFiles(files: { position: string; market: string; policy: string }): { market: Market; policy: Policy; position: Position } {
  const market = loadMarketFile(files.market);
  const policy = loadPolicyFile(files.policy, market);
  const position = loadPositionFile(files.position, market);
  return { market, policy, position };
}
