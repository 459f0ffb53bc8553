import path from "node:path";
import { PACKAGE_ROOT } from "../../packages/node/src/setup/paths.ts";
import { readJsonFile } from "../../packages/node/src/read-json.ts";
import { parseMarket } from "../../packages/sdk/src/inputs/parse-market.ts";
import { parsePolicy } from "../../packages/sdk/src/inputs/parse-policy.ts";
import { parsePosition } from "../../packages/sdk/src/inputs/parse-position.ts";
import type { Market, Policy, Position } from "../../packages/sdk/src/inputs/types.ts";

/** The spec's example files (../shared/spec/examples), beside the checkout as in CI. */
export const EXAMPLES_DIR = process.env.ZKS_EXAMPLES_DIR ?? path.resolve(PACKAGE_ROOT, "..", "shared", "spec", "examples");

export const example = (name: string): string => path.join(EXAMPLES_DIR, name);

export function loadMarket(name = "market-grid.json"): Market {
  return parseMarket(readJsonFile(example(name)), name);
}

export function loadPosition(name: string, market: Market): Position {
  return parsePosition(readJsonFile(example(name)), name, market);
}

export function loadPolicy(market: Market, name = "policy.json"): Policy {
  return parsePolicy(readJsonFile(example(name)), name, market);
}
