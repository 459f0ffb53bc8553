import { parseMarket } from "../inputs/parse-market.ts";
import { parsePolicy } from "../inputs/parse-policy.ts";
import { parsePosition } from "../inputs/parse-position.ts";
import type { Market, Policy, Position } from "../inputs/types.ts";
import { readJsonFile } from "../node/read-json.ts";

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
