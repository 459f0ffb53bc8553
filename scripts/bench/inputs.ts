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
import { AUDIT_INSTANCES, auditProofInput, prepareAudit } from "../../packages/node/src/audit/run-audit.ts";
import { syntheticBook } from "../../packages/sdk/src/audit/synthetic-book.ts";
import { scheduleSliceInput, type ScheduleSecret } from "../../packages/sdk/src/execution/index.ts";
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
  if (instance.template === "AuditBatch" || instance.template === "AuditMerge") return auditInput(instance);
  if (instance.template === "ScheduleSlice") return sliceInput(instance);
  throw new Error(`bench: no example input for template ${instance.template} (instance ${instance.name})`);
}

/**
 * A batch, merge or root proof of a small audit: the book `zks audit sample` makes (the healthy
 * and at-risk examples scaled at random, 10% at risk, seed 1) on the grid market, just large
 * enough for the tree to have a merge level below its root.
 */
function auditInput(instance: InstanceConfig): CircuitSignals {
  const tier = Object.values(AUDIT_INSTANCES).find((t) => [t.batch, t.merge, t.top].includes(instance.name));
  if (!tier) throw new Error(`bench: ${instance.name} is in no audit tier (AUDIT_INSTANCES)`);
  const { market, policy, position } = load("market-grid.json");
  const atRisk = parsePosition(readJsonFile(path.join(EXAMPLES_DIR, "position-at-risk.json")), "position-at-risk.json", market);
  const probe = prepareAudit([{ position, source: "position-healthy.json" }], market, policy, { instances: tier });
  const count = probe.batchSize * probe.fanIn * 2;
  const book = syntheticBook(position, atRisk, { count, seed: 1 }).map((p, i) => ({ position: p, source: `book.jsonl:${i + 1}` }));
  const prepared = prepareAudit(book, market, policy, { instances: tier });
  const levels = prepared.shape.proofsPerLevel.length;
  const level = instance.name === tier.batch ? 0 : instance.name === tier.top ? levels - 1 : 1;
  return auditProofInput(prepared, level, 0);
}

/** Slice 3 of 8 of a two-swap plan over a six-hour window, from a fixed seed (public here: benchmark inputs only). */
function sliceInput(instance: InstanceConfig): CircuitSignals {
  const [, nSwaps] = instance.params as [number, number];
  const secret: ScheduleSecret = { seed: 0xbe9c4_5eedn, salt: (1n << 230n) + 0x5a17n };
  const plan = [
    { sell: 0, buy: 2, amountIn: 3n * 10n ** 18n },
    { sell: 1, buy: 2, amountIn: 12_345_678n },
  ].slice(0, nSwaps);
  return scheduleSliceInput({ secret, window: { start: 1_767_225_600, seconds: 21_600, slices: 8 }, index: 3, plan, oldCommitment: 0x1111n, newCommitment: 0x2222n });
}
