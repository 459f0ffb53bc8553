import { parseMarket } from "@zk-solvency/sdk/inputs";
import { parsePolicy } from "@zk-solvency/sdk/inputs";
import { parsePosition } from "@zk-solvency/sdk/inputs";
import type { Market, Policy, Position } from "@zk-solvency/sdk/inputs";
import { readJsonFile } from "@zk-solvency/node";

/** Reads and validates the market file; errors name the file (exit 2). */
export function loadMarketFile(file: string): Market {
  return parseMarket(readJsonFile(file), file);
}

export function loadPositionFile(file: string, market: Market): Position {
  return parsePosition(readJsonFile(file), file, market);
}

export function loadPolicyFile(file: string, market: Market): Policy {
  return parsePolicy(readJsonFile(file), file, market);
}
