/**
 * Gas a backtest charges per rebalance. The gate call is measured, not estimated: the figures
 * are BENCHMARKS.md's "Gas" table, written by test/contracts.test.ts (ZKS_BENCHMARKS=1) from
 * real proofs of rebalance-3x3x16 on hardhat's in-process network (EDR, hardfork osaka, solc
 * 0.8.37, optimizer 1,000 runs, 2026-11-21). test/backtest.test.ts checks that these constants
 * still equal that table, so a regenerated table that moves them fails until they are updated.
 *
 * The gate does not execute swaps or option trades; a plan that has them must also trade on a
 * venue, which is charged at the planner's own per-action estimate (src/rebalance/costs.ts,
 * GAS_PER_ACTION) and reported apart from the measured figure.
 */
import type { Action } from "../rebalance/actions.ts";
import { GAS_PER_ACTION } from "../rebalance/costs.ts";

export const GATE_GAS_SOURCE = "BENCHMARKS.md, Gas (test/contracts.test.ts: rebalance-3x3x16 with real proofs, hardhat EDR osaka, solc 0.8.37, 2026-11-21)";

/** `RebalanceGate.rebalance` by the owner with 2 token flows (transferFrom + transfer): what a rebalance with token flows costs. */
export const GATE_GAS_OWNER_REBALANCE_WITH_FLOWS = 390_141n;
/** `RebalanceGate.rebalance` forced by a keeper, no token flow: the same call without transfers. */
export const GATE_GAS_REBALANCE_NO_FLOW = 321_103n;

export interface RebalanceGas {
  /** The gate call, measured. */
  gate: bigint;
  /** Swaps and hedges executed off the gate, at the planner's estimates. */
  trades: bigint;
}

/**
 * Gas of one rebalance: the measured gate call (with transfers when any token flows, without
 * otherwise; a plan with more than two flows is charged the two-flow figure) plus the planner's
 * estimate for each swap or hedge.
 */
export function rebalanceGas(actions: readonly Action[], flows: readonly bigint[]): RebalanceGas {
  const gate = flows.some((f) => f !== 0n) ? GATE_GAS_OWNER_REBALANCE_WITH_FLOWS : GATE_GAS_REBALANCE_NO_FLOW;
  const trades = actions.reduce((sum, a) => (a.kind === "swap" || a.kind === "hedge" ? sum + GAS_PER_ACTION[a.kind] : sum), 0n);
  return { gate, trades };
}
