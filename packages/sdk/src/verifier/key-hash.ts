import { keccak256, AbiCoder } from "ethers";
import type { VerificationKey } from "snarkjs";

type G1 = [string, string, ...string[]];
type G2 = [[string, string], [string, string], ...unknown[]];

/**
 * The verification key's fingerprint: keccak256 of its curve points as 32-byte words, in the
 * order snarkjs' Solidity verifier declares its constants (alphax, alphay, betax1, betax2, betay1,
 * betay2, gamma..., delta..., IC0x, IC0y, IC1x, ...). An auditor can therefore recompute it from
 * the deployed verifier's own source, and the verifier returns it as VERIFICATION_KEY_HASH().
 * Recorded in each instance's manifest, every proof file and audit.json, so a proof can only be
 * checked under the key it was made for (a swapped key is an error, never "invalid").
 * Browser-safe.
 */
export function verificationKeyHash(vkey: VerificationKey): string {
  const alpha = vkey.vk_alpha_1 as G1;
  const g2 = (point: G2) => [point[0][1], point[0][0], point[1][1], point[1][0]];
  const ic = vkey.IC as G1[];
  if (!alpha || !vkey.vk_beta_2 || !vkey.vk_gamma_2 || !vkey.vk_delta_2 || !Array.isArray(ic)) {
    throw new TypeError("not a Groth16 verification key (missing curve points)");
  }
  const words = [alpha[0], alpha[1], ...g2(vkey.vk_beta_2 as G2), ...g2(vkey.vk_gamma_2 as G2), ...g2(vkey.vk_delta_2 as G2), ...ic.flatMap((point) => [point[0], point[1]])].map(
    (word) => BigInt(word),
  );
  return keccak256(
    AbiCoder.defaultAbiCoder().encode(
      words.map(() => "uint256"),
      words,
    ),
  );
}
