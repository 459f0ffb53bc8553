import { InputError } from "../core/errors.ts";
import type { Market, Policy, Position } from "../inputs/types.ts";
import { toProofFile, type ProofFile } from "../proof-file/proof-file.ts";
import type { TimedProof } from "../prover/prove.ts";
import { solvencyInput } from "../prover/witness/solvency.ts";
import { verifyProof } from "../verifier/verify.ts";
import { checkWorkflow, type CheckWorkflowResult } from "./check.ts";
import { chooseProver, proofSeconds, type ProverChoice } from "./instance-prover.ts";

/** Statements a Solvency proof makes; the name is recorded as the proof's purpose (zks.statement). */
export const SOLVENCY_STATEMENTS = ["health", "stress", "var", "audit"] as const;
export type SolvencyStatementName = (typeof SOLVENCY_STATEMENTS)[number];

export interface ProveStatementInput {
  statement: SolvencyStatementName;
  /** Must carry its salt: the proof opens the position's commitment. */
  position: Position;
  market: Market;
  policy: Policy;
  /** Binds the proof to one contract on one chain (gateContext); 0, the default, is for off-chain checks. */
  context?: bigint;
  /** Names the position in error messages (its file). */
  source?: string;
}

export type ProveStatementResult = CheckWorkflowResult & { statement: SolvencyStatementName } & (
    | { proved: false }
    | {
        proved: true;
        instance: string;
        context: bigint;
        proof: TimedProof;
        /** The proof file (proof.json): snarkjs' proof plus the metadata a verifier needs. */
        file: ProofFile;
        proofSeconds: number;
      }
  );

/**
 * Proves a statement about a private position with a Solvency instance: the policy's checks
 * first (a failing position is `{ proved: false }` with the failing checks, and no prover is
 * chosen), then the witness, the proof, a check of the proof under the instance's key, and the
 * proof file. A proof that does not verify under its own key is a bug, thrown as such.
 */
export async function proveStatementWorkflow(input: ProveStatementInput, prover: ProverChoice): Promise<ProveStatementResult> {
  const { statement, position, market, policy } = input;
  const source = input.source ?? "position";
  const context = input.context ?? 0n;
  if (!(SOLVENCY_STATEMENTS as readonly string[]).includes(statement))
    throw new InputError("statement", "", `expected one of ${SOLVENCY_STATEMENTS.join(", ")}, got "${statement}"`);
  if (position.salt === undefined) throw new InputError(source, "salt", "missing; the proof opens the position's commitment (run `zks commit --add-salt` first)");

  const checked = checkWorkflow(position, market, policy);
  if (!checked.pass) return { ...checked, statement, proved: false };

  const chosen = await chooseProver(prover);
  const proof = await chosen.prove(solvencyInput(position, market, policy, chosen.layout, source, context));
  if (!(await verifyProof(chosen.verificationKey, proof))) throw new Error("the proof just made does not verify");
  const file = toProofFile(proof, { statement, epoch: market.epoch, manifest: chosen.manifest });
  return { ...checked, statement, proved: true, instance: chosen.manifest.instance, context, proof, file, proofSeconds: proofSeconds(proof) };
}
