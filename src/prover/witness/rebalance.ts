import type { CircuitSignals } from "snarkjs";
import type { CircuitLayout } from "../../commitment/circuit-layout.ts";
import { padSlots } from "../../commitment/slot-layout.ts";
import { positionSignals } from "../../commitment/position-commitment.ts";
import { InputError } from "../../core/errors.ts";
import { toField } from "../../core/field.ts";
import type { Market, Policy, Position } from "../../inputs/types.ts";
import { solvencyInput } from "./solvency.ts";

/**
 * A state transition as circuits/rebalance.circom sees it (docs/rebalance.md): the old and new
 * positions, the public token flows and the private trade legs, per market asset / instrument.
 */
export interface RebalanceTransition {
  old: Position;
  next: Position;
  /** Signed base units per asset: deposits and repayments positive, withdrawals and borrows negative. */
  flows: bigint[];
  assetBought: bigint[];
  assetSold: bigint[];
  instrumentBought: bigint[];
  instrumentSold: bigint[];
  /** A keeper's rebalance: proves the old position was below the policy's trigger. */
  forced: boolean;
}

/** Inputs of circuits/rebalance.circom; `context` as in solvencyInput. */
export function rebalanceInput(t: RebalanceTransition, market: Market, policy: Policy, layout: CircuitLayout, source = "position", context = 0n): CircuitSignals {
  if (t.old.salt === undefined) throw new InputError(source, "salt", "the old position has no salt; it cannot open its commitment");
  if (t.next.salt === undefined) throw new InputError(source, "salt", "the new position needs a salt");
  // P' is proven as the Solvency statement of the new position, at nonce + 1.
  const next = solvencyInput({ ...t.next, nonce: t.old.nonce + 1n }, market, policy, layout, source, context) as Record<string, unknown>;
  const old = positionSignals(t.old, t.old.salt, layout);
  const { account: _account, nonce: _nonce, ...rest } = next;
  return {
    ...rest,
    account: old.account,
    nonce: old.nonce,
    forced: t.forced ? 1n : 0n,
    flow: padSlots(t.flows, layout.nAssets).map(toField),
    oldSalt: old.salt,
    oldCollateral: old.collateral,
    oldDebt: old.debt,
    oldQuantity: old.quantity,
    assetBought: padSlots(t.assetBought, layout.nAssets),
    assetSold: padSlots(t.assetSold, layout.nAssets),
    instrumentBought: padSlots(t.instrumentBought, layout.nInstruments),
    instrumentSold: padSlots(t.instrumentSold, layout.nInstruments),
  } as unknown as CircuitSignals;
}
