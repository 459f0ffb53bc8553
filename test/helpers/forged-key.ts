/**
 * An attacker's verification key with a known trapdoor, and a "proof" of any public signals under
 * it (the reviewer's /tmp/rv/forge.mjs). With gamma = delta = G2 and every other point a known
 * multiple of the generator, C = -(IC0 + sum s_i IC_i) makes the pairing check hold for whatever
 * signals the forger picks: a well-formed Groth16 key proves nothing unless it is the circuit's.
 */
import { buildBn128 } from "ffjavascript";
import type { Groth16Proof, VerificationKey } from "snarkjs";
import { SNARK_FIELD } from "../../packages/sdk/src/core/field.ts";

interface Group {
  g: Uint8Array;
  timesScalar(point: Uint8Array, scalar: Uint8Array): Uint8Array;
  toAffine(point: Uint8Array): Uint8Array;
  toObject(point: Uint8Array): unknown;
}
interface Bn128 {
  G1: Group;
  G2: Group;
  Fr: { e(value: bigint): Uint8Array };
  terminate(): Promise<void>;
}

const strings = (value: unknown): any => (Array.isArray(value) ? value.map(strings) : String(value));

export async function forgeTrapdoorProof(signals: bigint[]): Promise<{ vkey: VerificationKey; proof: Groth16Proof }> {
  const curve = (await buildBn128(true)) as unknown as Bn128;
  try {
    const g1 = (k: bigint) => strings(curve.G1.toObject(curve.G1.toAffine(curve.G1.timesScalar(curve.G1.g, curve.Fr.e(k)))));
    const g2 = (k: bigint) => strings(curve.G2.toObject(curve.G2.toAffine(curve.G2.timesScalar(curve.G2.g, curve.Fr.e(k)))));
    const [a, b] = [7n, 11n];
    const ic = signals.map((_, i) => 101n + BigInt(i));
    const ic0 = 100n;
    const vkey = {
      protocol: "groth16",
      curve: "bn128",
      nPublic: signals.length,
      vk_alpha_1: g1(a),
      vk_beta_2: g2(b),
      vk_gamma_2: g2(1n),
      vk_delta_2: g2(1n),
      vk_alphabeta_12: [],
      IC: [ic0, ...ic].map(g1),
    };
    const k = signals.reduce((sum, s, i) => (sum + s * ic[i]!) % SNARK_FIELD, ic0);
    const proof = { pi_a: g1((a * b) % SNARK_FIELD), pi_b: g2(1n), pi_c: g1((SNARK_FIELD - k) % SNARK_FIELD), protocol: "groth16", curve: "bn128" };
    return { vkey: vkey as unknown as VerificationKey, proof: proof as unknown as Groth16Proof };
  } finally {
    await curve.terminate();
  }
}
