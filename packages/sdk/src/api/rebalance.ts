/**
 * Rebalance proofs in one call each: `proveRebalance` takes a transition (old position, new
 * position, the token movements between them) and an instance's artifacts and returns the proof
 * with its public signals decoded by name, as the gate reads them; `verifyRebalance` checks the
 * Groth16 proof and that every named field is what the signals say. Browser-safe.
 */
import type { Groth16Proof, NumericString } from "snarkjs";
import { decodeTransition, type DecodedTransition } from "../chain/custody.ts";
import { InputError } from "../core/errors.ts";
import type { Point } from "../encryption/keeper-key.ts";
import type { Market, Policy } from "../inputs/types.ts";
import { UnprovableError } from "../prover/errors.ts";
import { rebalanceInput } from "../prover/witness/rebalance.ts";
import { checkTransition, type Transition } from "../rebalance/transition.ts";
import { instanceShape, type CircuitArtifacts, type CircuitKey, type InstanceShape } from "./artifacts.ts";
import { proveWith, type ApiProveOptions } from "./prove-with.ts";
import { contextSignal, signalValues, verdictOf, type ProofEnvelope, type ProofVerdict } from "./verdict.ts";

/** What a Rebalance proof is made of. */
export interface RebalanceProofInput {
  /**
   * The transition P -> P' (docs/custody.md): `old` with its salt (for a registration, the empty
   * position: `emptyPosition`, fromEmpty true), `next` at nonce + 1 with its own salt (a fresh
   * `randomSalt()`; a keeper's transition keeps the owner's), and the movements between them, e.g.
   * `{ old, next: plan.position, ...plan.movements, forced: false, fromEmpty: false }` from the
   * planner, or `backedTransition(...)`, which also applies the gate's rules for keepers.
   */
  transition: Transition;
  /** The market of the epoch: P' must pass the policy under it. */
  market: Market;
  /** The policy: P' must pass its checks. */
  policy: Policy;
  /** The gate's keeper key (`RebalanceGate.keeperKey()`): the new opening is encrypted to it. */
  keeperKey: Point;
  /** `gateContext(chainId, gateAddress)` of the gate that will take the proof; 0 (default): off-chain only. */
  context?: bigint;
  /** The encryption's ephemeral secret; fresh when omitted (pass one only to reproduce a proof). */
  ephemeralSecret?: bigint;
}

/**
 * A Rebalance proof: the position committed to by `oldCommitment` (at `nonce`) became the one
 * committed to by `newCommitment` (at nonce + 1) by exactly these token movements, and the new
 * position passes the policy `policyHash` under the market `marketRoot`. The named fields are
 * the public signals decoded as the gate reads them (`decodeTransition`); `verifyRebalance`
 * refuses an object whose fields say anything else.
 */
export interface RebalanceProof extends ProofEnvelope, DecodedTransition {
  template: "Rebalance";
}

function decodeRebalance(x: readonly bigint[], key: { instance: string; shape?: InstanceShape }): Omit<RebalanceProof, "proof" | "publicSignals"> {
  const { nAssets, nInstruments, nSwaps } = key.shape!.layout;
  return { template: "Rebalance", instance: key.instance, ...decodeTransition(x, { nAssets, nInstruments, nSwaps: nSwaps! }) };
}

/**
 * The typed proof object of a Groth16 proof and its public signals made with `key`'s instance
 * (e.g. received as JSON `{ proof, publicSignals }`). Throws InputError when the signals are not
 * the instance's; the proof itself is checked by `verifyRebalance`.
 */
export function rebalanceProofOf(zkProof: { proof: Groth16Proof; publicSignals: NumericString[] }, key: CircuitKey): RebalanceProof {
  const shape = instanceShape(key, "Rebalance");
  const values = signalValues(zkProof.publicSignals, shape.nPublic);
  if (typeof values === "string") throw new InputError(`proof of ${key.instance}`, "publicSignals", values);
  return { ...decodeRebalance(values, { instance: key.instance, shape }), proof: zkProof.proof, publicSignals: [...zkProof.publicSignals] };
}

/**
 * Proves the transition with `artifacts`' Rebalance instance. The transition is first checked
 * with `checkTransition`, the circuit's TypeScript mirror: conservation of every balance, the
 * swaps' slippage, the keeper rules of a forced transition or liquidation, and P' passing the
 * policy; a transition that breaks one throws UnprovableError (exit 1) naming it, before the
 * circuit runs. InputError (exit 2) for a missing salt, a market or swaps the instance cannot
 * hold, or an invalid keeper key. The gate's own rules beyond the circuit (what a keeper may
 * move, docs/custody.md) are `backedTransition`'s.
 */
export async function proveRebalance(input: RebalanceProofInput, artifacts: CircuitArtifacts, options: ApiProveOptions = {}): Promise<RebalanceProof> {
  const shape = instanceShape(artifacts, "Rebalance");
  const layout = { ...shape.layout, nSwaps: shape.layout.nSwaps! };
  const check = checkTransition(input.transition, input.market, input.policy, { swapSlots: layout.nSwaps });
  // Arrays of the wrong length are the caller's mistake (exit 2), not a transition the circuit refuses.
  const shapeProblem = check.violations.find((v) => v.rule === "shape");
  if (shapeProblem) throw new InputError("transition", "", shapeProblem.message);
  const signals = rebalanceInput(input.transition, input.market, input.policy, layout, "transition", contextSignal(input.context), {
    keeperKey: input.keeperKey,
    ...(input.ephemeralSecret !== undefined && { ephemeralSecret: input.ephemeralSecret }),
  });
  if (!check.valid) {
    const more = check.violations.length > 1 ? ` (and ${check.violations.length - 1} more)` : "";
    throw new UnprovableError(artifacts.instance, `the transition breaks the rule "${check.violations[0]!.rule}": ${check.violations[0]!.message}${more}`);
  }
  const { proof, publicSignals } = await proveWith(signals, artifacts, options);
  return rebalanceProofOf({ proof, publicSignals }, artifacts);
}

/**
 * Whether `proof` verifies under `key` (its instance's CircuitKey: what loadCircuitArtifacts or
 * fetchCircuitArtifacts return), and if not, why: the proof must claim that instance, its Groth16
 * proof must verify, and every named field must be what its public signals say under the
 * instance's layout. Throws only for a key that is not a canonical Groth16 BN254 key.
 */
export function checkRebalanceProof(proof: RebalanceProof, key: CircuitKey): Promise<ProofVerdict> {
  return verdictOf(proof, key, "Rebalance", decodeRebalance);
}

/** `checkRebalanceProof(proof, key).valid`: true only for an untampered, valid Rebalance proof of the key's instance. */
export async function verifyRebalance(proof: RebalanceProof, key: CircuitKey): Promise<boolean> {
  return (await checkRebalanceProof(proof, key)).valid;
}
