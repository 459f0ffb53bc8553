import {
  poseidon1,
  poseidon2,
  poseidon3,
  poseidon4,
  poseidon5,
  poseidon6,
  poseidon7,
  poseidon8,
  poseidon9,
  poseidon10,
  poseidon11,
  poseidon12,
  poseidon13,
  poseidon14,
  poseidon15,
  poseidon16,
} from "poseidon-lite";

const BY_ARITY = [
  poseidon1,
  poseidon2,
  poseidon3,
  poseidon4,
  poseidon5,
  poseidon6,
  poseidon7,
  poseidon8,
  poseidon9,
  poseidon10,
  poseidon11,
  poseidon12,
  poseidon13,
  poseidon14,
  poseidon15,
  poseidon16,
];

function poseidon(inputs: bigint[]): bigint {
  return BY_ARITY[inputs.length - 1]!(inputs);
}

/**
 * Digest of any number of field elements, exactly as packages/circuits/lib/poseidon-chain.circom:
 * the first <= 16 elements in one Poseidon, then each further <= 15 chained after the digest.
 */
export function poseidonChain(inputs: readonly bigint[]): bigint {
  if (inputs.length === 0) throw new RangeError("poseidonChain: inputs must not be empty");
  let digest = poseidon(inputs.slice(0, 16));
  for (let offset = 16; offset < inputs.length; offset += 15) {
    digest = poseidon([digest, ...inputs.slice(offset, offset + 15)]);
  }
  return digest;
}
