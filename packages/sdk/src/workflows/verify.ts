import type { VerificationKey } from "snarkjs";
import type { Market, Policy } from "../inputs/types.ts";
import type { ProofFile } from "../proof-file/proof-file.ts";
import { ChainMismatchError, checkChainBinding, type ChainBinding, type ChainTarget } from "../verifier/chain-binding.ts";
import { ProofMetadataError, verifyProofFile, type InstanceDeclaration, type VerifiedProofFile } from "../verifier/proof-file-verdict.ts";

export interface VerifyProofFileWorkflowInput {
  file: ProofFile;
  /** Names the proof file in messages. */
  source: string;
  /** The key to check the proof under; its fingerprint must be `declaration.verificationKeyHash`. */
  verificationKey: VerificationKey;
  /** The instance as the verifier knows it (instances.json), with the key fingerprint it trusts from a source other than the file. */
  declaration: InstanceDeclaration;
  /** The market the proof claims: its root must be the proof's marketRoot (then the epoch is verified). */
  market?: Market;
  /** The policy: its hash must be the proof's policyHash. */
  policy?: Policy;
  /**
   * The deployment to check the proof's bindings against (context, policy, the oracle's root for
   * the epoch, the verifier's key in its code). A function, so an endpoint is reached only for a
   * proof that verifies; `close` is called when the check is done.
   */
  chain?: () => Promise<ChainTarget & { close?: () => void }>;
}

export type VerifyProofFileWorkflowResult =
  | { valid: true; verdict: VerifiedProofFile; chain?: ChainBinding }
  | {
      valid: false;
      /** What failed: the pairing ("proof"), the file's metadata, market or policy against the signals ("metadata"), or the deployment ("chain"). */
      stage: "proof" | "metadata" | "chain";
      instance: string;
      /** The field that disagrees; null when the proof itself does not verify. */
      field: string | null;
      problem: string;
      /** One line for people, naming the file or contract. */
      message: string;
      /** The key's fingerprint, when the pairing failed. */
      verificationKeyHash?: string;
    };

/**
 * Verifies a proof file under a pinned key and reports only what its public signals say: the
 * pairing, then that the file's metadata (and a given market, policy and deployment) agrees
 * with the signals. A failed check is `{ valid: false }` with the field and problem; a key that
 * is not the proof's or the instance's throws ProofKeyError (the proof means nothing under it).
 */
export async function verifyProofFileWorkflow(input: VerifyProofFileWorkflowInput): Promise<VerifyProofFileWorkflowResult> {
  const { file, source, declaration } = input;
  const instance = declaration.instance;
  const failed = (stage: "metadata" | "chain", error: ProofMetadataError | ChainMismatchError, named: boolean) => ({
    valid: false as const,
    stage,
    instance,
    field: error.field,
    problem: error.problem,
    message: named ? `${source}: ${error.message}` : error.message,
  });

  let verdict;
  try {
    verdict = await verifyProofFile(file, input.verificationKey, declaration, { market: input.market, policy: input.policy });
  } catch (error) {
    if (error instanceof ProofMetadataError) return failed("metadata", error, true);
    throw error;
  }
  if (!verdict.valid) {
    const problem = `the proof does not verify under instance ${instance}'s key ${verdict.verificationKeyHash}`;
    return { valid: false, stage: "proof", instance, field: null, problem, message: `INVALID: ${problem}`, verificationKeyHash: verdict.verificationKeyHash };
  }
  if (input.chain === undefined) return { valid: true, verdict };

  const target = await input.chain();
  try {
    const chain = await checkChainBinding(verdict, input.verificationKey, file.zks.epoch, target);
    return { valid: true, verdict, chain };
  } catch (error) {
    if (error instanceof ProofMetadataError) return failed("chain", error, true);
    if (error instanceof ChainMismatchError) return failed("chain", error, false);
    throw error;
  } finally {
    target.close?.();
  }
}
