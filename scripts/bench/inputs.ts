/**
 * One valid input per circuit instance, from the spec's example files (../shared/spec/examples):
 * the healthy example position, on the grid market or, for instances with more scenario slots,
 * on the historical market cut to the instance's size.
 */
import path from "node:path";
import type { CircuitSignals } from "snarkjs";
import { keeperPublicKey } from "../../packages/sdk/src/encryption/keeper-key.ts";
import { parseMarket } from "../../packages/sdk/src/inputs/parse-market.ts";
import { parsePolicy } from "../../packages/sdk/src/inputs/parse-policy.ts";
import { parsePosition } from "../../packages/sdk/src/inputs/parse-position.ts";
import type { Market, Position } from "../../packages/sdk/src/inputs/types.ts";
import { readJsonFile } from "../../packages/node/src/read-json.ts";
import { layoutOf } from "../../packages/node/src/select-instance.ts";
import { positionOpeningInput } from "../../packages/sdk/src/prover/witness/position-opening.ts";
import { rebalanceInput } from "../../packages/sdk/src/prover/witness/rebalance.ts";
import { noMovements, type Transition } from "../../packages/sdk/src/rebalance/transition.ts";
import { solvencyInput } from "../../packages/sdk/src/prover/witness/solvency.ts";
import type { InstanceConfig } from "../../packages/node/src/setup/instances.ts";
import { PACKAGE_ROOT } from "../../packages/node/src/setup/paths.ts";

export const EXAMPLES_DIR = process.env.ZKS_EXAMPLES_DIR ?? path.resolve(PACKAGE_ROOT, "..", "shared", "spec", "examples");

function load(name: string, nScenarios?: number) {
  const market: Market = parseMarket(readJsonFile(path.join(EXAMPLES_DIR, name)), name);
  if (nScenarios !== undefined && market.scenarios.length > nScenarios) market.scenarios = market.scenarios.slice(0, nScenarios);
  const policy = parsePolicy(readJsonFile(path.join(EXAMPLES_DIR, "policy.json")), "policy.json", market);
  const position = parsePosition(readJsonFile(path.join(EXAMPLES_DIR, "position-healthy.json")), "position-healthy.json", market);
  return { market, policy, position };
}

/**
 * A fixed keeper key and ephemeral secret: the same witness every run (timings compare like with
 * like). Both are public here, so they protect nothing: benchmark inputs only.
 */
const BENCH_KEEPER_KEY = keeperPublicKey(0xbe9c4n);
const BENCH_EPHEMERAL_SECRET = 0xe9e3e2a1n;

/** A rebalance that moves nothing but re-salts the position: valid for any passing position. */
function resalt(old: Position, market: Market): Transition {
  return { old, next: { ...old, nonce: old.nonce + 1n, salt: old.salt! + 1n }, ...noMovements(market), forced: false, fromEmpty: false };
}

export function benchInput(instance: InstanceConfig): CircuitSignals {
  if (instance.template === "PositionCommitment") {
    const [nAssets, nInstruments] = instance.params as [number, number];
    const { market, position } = load("market-grid.json");
    return positionOpeningInput(position, market, { nAssets, nInstruments });
  }
  const layout = layoutOf(instance);
  const { market, policy, position } = load(layout.nScenarios > 16 ? "market-historical.json" : "market-grid.json", layout.nScenarios);
  if (instance.template === "Solvency") return solvencyInput(position, market, policy, layout);
  if (instance.template === "Rebalance")
    return rebalanceInput(resalt(position, market), market, policy, layout, "position-healthy.json", 0n, { keeperKey: BENCH_KEEPER_KEY, ephemeralSecret: BENCH_EPHEMERAL_SECRET });
  throw new Error(`bench: no example input for template ${instance.template} (instance ${instance.name})`);
}
