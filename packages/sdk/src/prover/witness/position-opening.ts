import type { CircuitSignals } from "snarkjs";
import { positionSignals } from "../../commitment/position-commitment.ts";
import { checkMarketFits, type SlotLayout } from "../../commitment/slot-layout.ts";
import { InputError } from "../../core/errors.ts";
import type { Market, Position } from "../../inputs/types.ts";

/**
 * Inputs of the commitment-opening circuits (packages/circuits/position-commitment.circom): the
 * position's slots, its account, nonce and salt.
 */
export function positionOpeningInput(position: Position, market: Market, layout: SlotLayout, source = "position"): CircuitSignals {
  checkMarketFits(market, layout, source);
  if (position.salt === undefined) throw new InputError(source, "salt", "missing; a commitment needs the position's secret salt");
  const signals = positionSignals(position, position.salt, layout);
  return {
    account: signals.account,
    nonce: signals.nonce,
    salt: signals.salt,
    collateral: signals.collateral,
    debt: signals.debt,
    quantity: signals.quantity,
  };
}
