import type { CircuitSignals } from "snarkjs";
import type { CircuitLayout } from "../../commitment/circuit-layout.ts";
import { padSlots } from "../../commitment/slot-layout.ts";
import { positionSignals } from "../../commitment/position-commitment.ts";
import { InputError } from "../../core/errors.ts";
import { toField } from "../../core/field.ts";
import type { Market, Policy } from "../../inputs/types.ts";
import { SWAP_SLOTS, type Transition } from "../../rebalance/transition.ts";
import { solvencyInput } from "./solvency.ts";

/** A transition as circuits/rebalance.circom proves it (docs/custody.md). */
export type RebalanceTransition = Transition;

/** A rebalance instance's layout: the risk slots plus its swap slots (default SWAP_SLOTS). */
export interface RebalanceLayout extends CircuitLayout {
  nSwaps?: number;
}

/**
 * Inputs of circuits/rebalance.circom; `context` as in solvencyInput. The new position is proven
 * as the Solvency statement of P' at nonce + 1; the old one opens the commitment the gate holds
 * (for a registration, the empty position with salt 0). Swap slots beyond the transition's swaps
 * are empty (0, 0, 0, 0).
 */
export function rebalanceInput(t: Transition, market: Market, policy: Policy, layout: RebalanceLayout, source = "position", context = 0n): CircuitSignals {
  const oldSalt = t.fromEmpty ? 0n : t.old.salt;
  if (oldSalt === undefined) throw new InputError(source, "salt", "the old position has no salt; it cannot open its commitment");
  if (t.next.salt === undefined) throw new InputError(source, "salt", "the new position needs a salt");
  const nSwaps = layout.nSwaps ?? SWAP_SLOTS;
  if (t.swaps.length > nSwaps) throw new InputError(source, "swaps", `${t.swaps.length} swaps, but the circuit instance has ${nSwaps} swap slots`);
  const next = solvencyInput({ ...t.next, nonce: t.old.nonce + 1n }, market, policy, layout, source, context) as Record<string, unknown>;
  const old = positionSignals(t.old, oldSalt, layout);
  const { account: _account, nonce: _nonce, ...rest } = next;
  const slot = <T>(pick: (s: Transition["swaps"][number]) => T, empty: T): T[] =>
    Array.from({ length: nSwaps }, (_, s) => (t.swaps[s] === undefined ? empty : pick(t.swaps[s]!)));
  return {
    ...rest,
    account: old.account,
    nonce: old.nonce,
    forced: t.forced ? 1n : 0n,
    fromEmpty: t.fromEmpty ? 1n : 0n,
    flow: padSlots(t.flows, layout.nAssets).map(toField),
    debtDelta: padSlots(t.debtDelta, layout.nAssets).map(toField),
    debtAssets: padSlots(t.debtAssets, layout.nAssets),
    swapSell: slot((s) => BigInt(s.sell), 0n),
    swapBuy: slot((s) => BigInt(s.buy), 0n),
    swapIn: slot((s) => s.amountIn, 0n),
    swapMinOut: slot((s) => s.minOut, 0n),
    instrumentFlow: padSlots(t.instrumentFlows, layout.nInstruments).map(toField),
    oldSalt: old.salt,
    oldCollateral: old.collateral,
    oldDebt: old.debt,
    oldQuantity: old.quantity,
  } as unknown as CircuitSignals;
}
