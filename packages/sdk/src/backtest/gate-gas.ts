/**
 * Gas a backtest charges per rebalance, measured, not estimated: the figures are BENCHMARKS.md's
 * "Gas" table, written by test/contracts.test.ts (ZKS_BENCHMARKS=1) from real proofs of
 * rebalance-3x3x16 on hardhat's in-process network, with the gate executing every movement in the
 * same call (docs/custody.md): wallet flows as ERC-20 transfers, swaps on a real Uniswap v2 pair,
 * borrows and repayments on the LenderVault. test/backtest.test.ts checks that these constants
 * still equal that table, so a regenerated table that moves them fails until they are updated.
 */
import type { Action } from "../rebalance/actions.ts";

export const GATE_GAS_SOURCE =
  "BENCHMARKS.md, Gas (test/contracts.test.ts: rebalance-3x3x16 with real proofs, Uniswap v2 pair and LenderVault, hardhat EDR osaka, solc 0.8.37, 2026-12-05; 50 public signals since issue 18)";

/** `RebalanceGate.rebalance` with a token flow (a withdrawal: one `transfer` to the wallet): what a rebalance that moves the wallet or the lender costs. */
export const GATE_GAS_OWNER_REBALANCE_WITH_FLOWS = 639_395n;
/** `RebalanceGate.rebalance` with no movement: checks, reads, proof and storage, no external transfer. */
export const GATE_GAS_REBALANCE_NO_FLOW = 622_887n;
/** `RebalanceGate.rebalance` with one swap on the v2 pair (and nothing else). */
export const GATE_GAS_REBALANCE_SWAP = 739_296n;
/** What one swap executed by the gate adds to a call: the swap row minus the no-movement row. */
export const GATE_GAS_SWAP_LEG = GATE_GAS_REBALANCE_SWAP - GATE_GAS_REBALANCE_NO_FLOW;

export interface RebalanceGas {
  /** The gate call without its swaps, measured. */
  gate: bigint;
  /** The plan's swaps, each executed by the gate on the v2 pair: GATE_GAS_SWAP_LEG apiece (measured). */
  trades: bigint;
}

/** Actions the gate performs with the lender (a borrow, a repayment from the wallet or from collateral). */
const LENDER_ACTIONS = new Set<Action["kind"]>(["borrow", "repay", "repayWithCollateral"]);

/**
 * Gas of one rebalance: the measured gate call with a token movement when the plan moves the
 * wallet or the lender (GATE_GAS_OWNER_REBALANCE_WITH_FLOWS; a plan with several is charged that
 * one figure), without otherwise (GATE_GAS_REBALANCE_NO_FLOW), plus GATE_GAS_SWAP_LEG per swap.
 */
export function rebalanceGas(actions: readonly Action[], flows: readonly bigint[]): RebalanceGas {
  const moves = flows.some((f) => f !== 0n) || actions.some((a) => LENDER_ACTIONS.has(a.kind));
  const gate = moves ? GATE_GAS_OWNER_REBALANCE_WITH_FLOWS : GATE_GAS_REBALANCE_NO_FLOW;
  const trades = BigInt(actions.filter((a) => a.kind === "swap").length) * GATE_GAS_SWAP_LEG;
  return { gate, trades };
}
