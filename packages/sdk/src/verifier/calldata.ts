import type { ZkProof } from "../prover/prove.ts";

/** Arguments of the generated verifiers' `verifyProof(a, b, c, input)`. */
export interface SolidityProof {
  a: [bigint, bigint];
  b: [[bigint, bigint], [bigint, bigint]];
  c: [bigint, bigint];
  input: bigint[];
}

/**
 * snarkjs' proof in the layout the EVM pairing precompile expects: G2 coordinates are
 * (imaginary, real), the reverse of snarkjs' JSON.
 */
export function toSolidityProof({ proof, publicSignals }: ZkProof): SolidityProof {
  const g1 = (point: string[]): [bigint, bigint] => [BigInt(point[0]!), BigInt(point[1]!)];
  const g2 = (pair: string[]): [bigint, bigint] => [BigInt(pair[1]!), BigInt(pair[0]!)];
  return {
    a: g1(proof.pi_a),
    b: [g2(proof.pi_b[0]!), g2(proof.pi_b[1]!)],
    c: g1(proof.pi_c),
    input: publicSignals.map((signal) => BigInt(signal)),
  };
}
