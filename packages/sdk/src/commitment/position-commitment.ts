import { fromField, toField } from "../core/field.ts";
import { AMOUNT_BITS, QUANTITY_OFFSET } from "../core/fixed-point.ts";
import type { Position } from "../inputs/types.ts";
import { poseidonChain } from "./poseidon-chain.ts";
import { padSlots, type SlotLayout } from "./slot-layout.ts";

/** The private signals of packages/circuits/position-commitment.circom for one position. */
export interface PositionSignals {
  account: bigint;
  nonce: bigint;
  salt: bigint;
  collateral: bigint[];
  debt: bigint[];
  /** Signed quantities, field-encoded (negative -> p - |q|). */
  quantity: bigint[];
}

export function positionSignals(position: Position, salt: bigint, layout: SlotLayout): PositionSignals {
  return {
    account: BigInt(position.account),
    nonce: position.nonce,
    salt,
    collateral: padSlots(position.collateral, layout.nAssets),
    debt: padSlots(position.debt, layout.nAssets),
    quantity: padSlots(position.quantities, layout.nInstruments).map(toField),
  };
}

/**
 * The words the commitment hashes; see the header of packages/circuits/position-commitment.circom for
 * the encoding and why it is injective. Inputs are assumed validated (src/inputs).
 */
export function commitmentWords(signals: PositionSignals): bigint[] {
  const shift = 1n << BigInt(AMOUNT_BITS);
  const centred = signals.quantity.map((q) => fromField(q) + QUANTITY_OFFSET);
  const words = [signals.account + (signals.nonce << 160n), signals.salt];
  signals.collateral.forEach((c, i) => words.push(c + signals.debt[i]! * shift));
  for (let m = 0; m < centred.length; m += 2) {
    words.push(m + 1 < centred.length ? centred[m]! + centred[m + 1]! * shift : centred[m]!);
  }
  return words;
}

/** The Poseidon commitment to a position with a given salt, equal to the circuit's output. */
export function commitPosition(position: Position, salt: bigint, layout: SlotLayout): bigint {
  return poseidonChain(commitmentWords(positionSignals(position, salt, layout)));
}
