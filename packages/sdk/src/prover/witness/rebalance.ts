import { Base8, mulPointEscalar } from "@zk-kit/baby-jubjub";
import { poseidonEncrypt } from "@zk-kit/poseidon-cipher";
import type { CircuitSignals } from "snarkjs";
import type { CircuitLayout } from "../../commitment/circuit-layout.ts";
import { padSlots } from "../../commitment/slot-layout.ts";
import { commitmentWords, positionSignals } from "../../commitment/position-commitment.ts";
import { encryptOpening, openingPlaintext, randomEphemeralSecret, type EncryptedOpening } from "../../encryption/opening-cipher.ts";
import { validateKeeperPublicKey, type Point } from "../../encryption/keeper-key.ts";
import { InputError } from "../../core/errors.ts";
import { SNARK_FIELD, toField } from "../../core/field.ts";
import type { Market, Policy, Position } from "../../inputs/types.ts";
import { SWAP_SLOTS, type Transition } from "../../rebalance/transition.ts";
import { solvencyInput } from "./solvency.ts";

/** A transition as packages/circuits/rebalance.circom proves it (docs/custody.md). */
export type RebalanceTransition = Transition;

/** A rebalance instance's layout: the risk slots plus its swap slots (default SWAP_SLOTS). */
export interface RebalanceLayout extends CircuitLayout {
  nSwaps?: number;
}

/** What the enforcement part of a rebalance proof binds: the keeper key its opening is encrypted to. */
export interface EnforcementInputs {
  /** The gate's current keeper key (RebalanceGate.keeperKey()); validated here as governance does. */
  keeperKey: Point;
  /** The ECDH secret of this encryption; fresh (randomEphemeralSecret: uniform in [1, subOrder), minus the 3 unprovable scalars) when omitted. Pass one only to reproduce a witness. */
  ephemeralSecret?: bigint;
}

/**
 * Inputs of packages/circuits/rebalance.circom; `context` as in solvencyInput. The new position is proven
 * as the Solvency statement of P' at nonce + 1; the old one opens the commitment the gate holds
 * (for a registration, the empty position with salt 0). Swap slots beyond the transition's swaps
 * are empty (0, 0, 0, 0). The opening of P' is encrypted to `enforcement.keeperKey` under nonce + 1
 * (src/encryption/opening-cipher.ts); a liquidation's terms fill its signals (zeros otherwise).
 */
export function rebalanceInput(
  t: Transition,
  market: Market,
  policy: Policy,
  layout: RebalanceLayout,
  source: string,
  context: bigint,
  enforcement: EnforcementInputs,
): CircuitSignals {
  // Required at run time too: JavaScript callers and old call sites must not prove without it.
  if (enforcement === undefined || enforcement === null || enforcement.keeperKey === undefined) {
    throw new InputError(source, "keeperKey", "a rebalance proof encrypts the new opening to the gate's keeper key: pass { keeperKey } (RebalanceGate.keeperKey())");
  }
  const oldSalt = t.fromEmpty ? 0n : t.old.salt;
  if (oldSalt === undefined) throw new InputError(source, "salt", "the old position has no salt; it cannot open its commitment");
  if (t.next.salt === undefined) throw new InputError(source, "salt", "the new position needs a salt");
  const nSwaps = layout.nSwaps ?? SWAP_SLOTS;
  if (t.swaps.length > nSwaps) throw new InputError(source, "swaps", `${t.swaps.length} swaps, but the circuit instance has ${nSwaps} swap slots`);
  const next = solvencyInput({ ...t.next, nonce: t.old.nonce + 1n }, market, policy, layout, source, context) as Record<string, unknown>;
  const old = positionSignals(t.old, oldSalt, layout);
  const { account: _account, nonce: _nonce, ...rest } = next;
  const slot = <T>(pick: (s: Transition["swaps"][number]) => T, empty: T): T[] => Array.from({ length: nSwaps }, (_, s) => (t.swaps[s] === undefined ? empty : pick(t.swaps[s]!)));
  const liquidation = t.liquidation;
  let liquidator = 0n;
  if (liquidation) {
    if (!/^0x[0-9a-fA-F]{40}$/.test(liquidation.liquidator)) throw new InputError(source, "liquidator", `${liquidation.liquidator} is not an address`);
    liquidator = BigInt(liquidation.liquidator);
    if (liquidation.bonus.length > layout.nAssets)
      throw new InputError(source, "bonus", `${liquidation.bonus.length} entries, but the circuit instance has ${layout.nAssets} asset slots`);
  }
  const sealed = sealOpening({ ...t.next, nonce: t.old.nonce + 1n }, enforcement, layout);
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
    liquidation: liquidation ? 1n : 0n,
    urgent: liquidation?.urgent ? 1n : 0n,
    liquidator,
    liquidationBonus: liquidation?.bonusBps ?? 0n,
    bonus: padSlots(liquidation?.bonus ?? [], layout.nAssets).map(toField),
    keeperKey: [...enforcement.keeperKey],
    ephemeralKey: [...sealed.ephemeralKey],
    ciphertext: sealed.ciphertext,
    ephemeralSecret: sealed.ephemeralSecret,
    oldSalt: old.salt,
    oldCollateral: old.collateral,
    oldDebt: old.debt,
    oldQuantity: old.quantity,
  } as unknown as CircuitSignals;
}

/**
 * The opening of P' encrypted to the keeper key under its nonce (nonce + 1), with encryptOpening. A P'
 * outside the commitment's ranges has no opening (openingPlaintext refuses it) and no proof; its
 * words are then encrypted as the circuit computes them (field elements), so the witness
 * generator stops at the range check that refuses P', not at the ciphertext.
 */
function sealOpening(next: Position, enforcement: EnforcementInputs, layout: RebalanceLayout): EncryptedOpening {
  const key = validateKeeperPublicKey(enforcement.keeperKey, "keeper key", "keeperKey");
  const ephemeralSecret = enforcement.ephemeralSecret ?? randomEphemeralSecret();
  try {
    openingPlaintext(next, layout);
  } catch (error) {
    if (!(error instanceof InputError) || next.salt === undefined) throw error;
    const words = commitmentWords(positionSignals(next, next.salt, layout))
      .slice(1)
      .map((w) => ((w % SNARK_FIELD) + SNARK_FIELD) % SNARK_FIELD);
    const [ex, ey] = mulPointEscalar(Base8, ephemeralSecret);
    return { ephemeralKey: [ex, ey], ciphertext: poseidonEncrypt(words, mulPointEscalar([key[0], key[1]], ephemeralSecret), next.nonce), ephemeralSecret };
  }
  return encryptOpening(next, next.nonce, key, layout, ephemeralSecret);
}
