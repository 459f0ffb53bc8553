import { randomSalt } from "../commitment/salt.ts";
import { InputError } from "../core/errors.ts";
import type { Point } from "../encryption/keeper-key.ts";
import type { Market, Policy, Position } from "../inputs/types.ts";
import { checkPosition, type RiskReport } from "../model/check.ts";
import { toProofFile, type ProofFile } from "../proof-file/proof-file.ts";
import type { TimedProof } from "../prover/prove.ts";
import { rebalanceInput } from "../prover/witness/rebalance.ts";
import { backedTransition } from "../rebalance/conservation.ts";
import type { Movements, Transition } from "../rebalance/transition.ts";
import { verifyProof } from "../verifier/verify.ts";
import { chooseProver, proofSeconds, type InstanceProver, type ProverChoice } from "./instance-prover.ts";

/** What a rebalance proof is bound to: the gate's context and the keeper key its opening is encrypted to. */
export interface RebalanceBinding {
  context: bigint;
  /** RebalanceGate.keeperKey() of the gate the proof is for. */
  keeperKey: Point;
}

/**
 * The witness and the proof of one transition: shared by the rebalance workflow and the keeper
 * (whose transitions come from the liquidation planner, proven with its warm prover). The
 * circuit's refusal is an UnprovableError, left to the caller.
 */
export function proveTransition(
  transition: Transition,
  market: Market,
  policy: Policy,
  prover: Pick<InstanceProver, "layout" | "prove">,
  binding: RebalanceBinding & { source: string },
): Promise<TimedProof> {
  return prover.prove(rebalanceInput(transition, market, policy, prover.layout, binding.source, binding.context, { keeperKey: binding.keeperKey }));
}

export interface RebalanceWorkflowInput {
  /** The current position; must carry its salt (it opens the current commitment). */
  position: Position;
  market: Market;
  policy: Policy;
  /** The new position and the token movements that back it: a plan's (planWorkflow, or a parsed plan file). */
  planned: { position: Position; movements: Movements };
  /** A keeper's rebalance: also proves the old position was below the trigger, and keeps the owner's salt. */
  forced?: boolean;
  /** The gate binding, or a function reading it (e.g. from the chain), called once the transition is known to be backed. */
  binding: RebalanceBinding | (() => Promise<RebalanceBinding>);
  /** Names the position in error messages (its file). */
  source?: string;
}

export interface RebalanceWorkflowResult {
  /** The new position (nonce + 1; a fresh salt unless forced): private, it opens the new commitment. */
  next: Position;
  transition: Transition;
  binding: RebalanceBinding;
  instance: string;
  proof: TimedProof;
  file: ProofFile;
  proofSeconds: number;
  before: RiskReport;
  after: RiskReport;
}

/**
 * Proves a planned rebalance: the new position gets the next nonce and a fresh salt (the old
 * salt is known to whoever saw the old position; a forced transition keeps the owner's, which
 * the circuit requires), the transition must be one the gate can back (exit 2 before proving
 * otherwise), then the binding, the proof, a check of it under the instance's key, and the
 * proof file. The new position must pass the whole policy: choose an instance that checks all four.
 */
export async function rebalanceWorkflow(input: RebalanceWorkflowInput, prover: ProverChoice): Promise<RebalanceWorkflowResult> {
  const { position, market, policy } = input;
  const source = input.source ?? "position";
  const forced = Boolean(input.forced);
  if (position.salt === undefined) throw new InputError(source, "salt", "missing; the old position must open its commitment (run `zks commit --add-salt` first)");
  const next: Position = { ...input.planned.position, nonce: position.nonce + 1n, salt: forced ? position.salt : randomSalt() };
  const transition = backedTransition(position, next, input.planned.movements, market, policy, forced);
  const binding = typeof input.binding === "function" ? await input.binding() : input.binding;
  const chosen = await chooseProver(prover);
  const proof = await proveTransition(transition, market, policy, chosen, { ...binding, source });
  if (!(await verifyProof(chosen.verificationKey, proof))) throw new Error("the proof just made does not verify");
  const file = toProofFile(proof, { statement: "rebalance", epoch: market.epoch, manifest: chosen.manifest });
  return {
    next,
    transition,
    binding,
    instance: chosen.manifest.instance,
    proof,
    file,
    proofSeconds: proofSeconds(proof),
    before: checkPosition(position, market, policy),
    after: checkPosition(next, market, policy),
  };
}
