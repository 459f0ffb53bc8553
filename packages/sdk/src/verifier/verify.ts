import * as snarkjs from "snarkjs";
import type { VerificationKey } from "snarkjs";
import type { ZkProof } from "../prover/prove.ts";

const silent = { debug() {}, info() {}, warn() {}, error() {} };

/**
 * Off-chain Groth16 verification. Returns false (never throws) for a proof that does not
 * verify, including public signals that are not canonical field elements.
 */
export async function verifyProof(verificationKey: VerificationKey, zkProof: ZkProof): Promise<boolean> {
  if (zkProof.publicSignals.length !== verificationKey.nPublic) return false;
  try {
    return await snarkjs.groth16.verify(verificationKey, zkProof.publicSignals, zkProof.proof, silent);
  } catch {
    return false;
  }
}
