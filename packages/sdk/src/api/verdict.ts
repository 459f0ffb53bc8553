/**
 * What verifySolvency and verifyRebalance share: which key a proof is checked under, the shape of
 * the proof object, and the comparison of its named fields with what its public signals encode.
 * Browser-safe.
 */
import type { Groth16Proof, NumericString, VerificationKey } from "snarkjs";
import { SOLVENCY_SIGNAL_COUNT } from "../chain/calldata.ts";
import { InputError } from "../core/errors.ts";
import { SNARK_FIELD } from "../core/field.ts";
import { groth16ProofSchema } from "../proof-file/proof-file.ts";
import { canonicalVerificationKey } from "../verifier/key-check.ts";
import { verifyProof } from "../verifier/verify.ts";
import { instanceShape, type CircuitKey, type InstanceShape, type ProofTemplate } from "./artifacts.ts";

/** Why a proof object does not verify, or that it does. */
export type ProofVerdict = { valid: true } | { valid: false; problem: string };

/** What every proof object of the high-level API carries besides its named fields. */
export interface ProofEnvelope {
  /** Which template's proof this is. */
  template: ProofTemplate;
  /** The circuit instance it was made with. */
  instance: string;
  /** snarkjs' Groth16 proof. */
  proof: Groth16Proof;
  /** The public signals, in the instance's order, as decimal strings: what the proof proves. */
  publicSignals: NumericString[];
}

const CANONICAL_DECIMAL = /^(0|[1-9][0-9]*)$/;

/** The signals as field elements, or why they are not canonical ones (a signal snarkjs would read as another value). */
export function signalValues(signals: unknown, count: number): bigint[] | string {
  if (!Array.isArray(signals)) return "publicSignals is not an array";
  if (signals.length !== count) return `publicSignals has ${signals.length} entries; the instance has ${count}`;
  const values: bigint[] = [];
  for (const [i, s] of signals.entries()) {
    // p has 77 digits: a longer string is refused before BigInt parses it (a megabyte signal would cost time).
    if (typeof s !== "string" || s.length > 77 || !CANONICAL_DECIMAL.test(s) || BigInt(s) >= SNARK_FIELD) return `publicSignals[${i}] is not a canonical decimal field element`;
    values.push(BigInt(s));
  }
  return values;
}

/**
 * The context a proof is bound to, checked: the circuit would reduce anything outside the field
 * modulo p, so the proof would carry another context than the one asked for.
 */
export function contextSignal(context: bigint | undefined): bigint {
  const value = context ?? 0n;
  if (typeof value !== "bigint" || value < 0n || value >= SNARK_FIELD) {
    throw new InputError("context", "", "expected a bigint field element in [0, p): gateContext(chainId, address), or 0 for a proof checked off-chain only");
  }
  return value;
}

/**
 * The key a proof is checked under and the shape of its instance, or why the proof cannot be of
 * it. A CircuitKey names its instance (and its params, when its name does not say its shape): the
 * proof must claim that instance. A bare verification key names nothing, so only a Solvency proof
 * may be checked under one: its signals decode the same in every Solvency instance, while a
 * Rebalance proof's layout depends on the instance, and a layout read from the name the proof
 * itself claims would let a relabelled proof decode into other flows (rebalance-3x3x16 and
 * rebalance-2x4x16 with 3 swap slots both have 50 signals). A shape that does not fit is a
 * verdict, not an exception: a verifier that looks its key up by the name a proof claims must get
 * `false` for a proof of the wrong kind. A key that is not a canonical Groth16 key is the
 * verifier's own error: VerificationKeyShapeError.
 */
export function resolveKey(
  proof: { instance?: unknown },
  key: VerificationKey | CircuitKey,
  template: ProofTemplate,
): { instance: string; nPublic: number; shape?: InstanceShape; vkey: VerificationKey } | string {
  if (typeof proof.instance !== "string") return "instance is missing";
  if (!isCircuitKey(key)) {
    if (template !== "Solvency")
      throw new TypeError(`a ${template} proof is checked under its instance's CircuitKey (instance, verificationKey, params), not a bare verification key`);
    const vkey = canonicalVerificationKey(key);
    if (vkey.nPublic !== SOLVENCY_SIGNAL_COUNT) return `the key has ${vkey.nPublic} public signals; a Solvency proof has ${SOLVENCY_SIGNAL_COUNT}: it is another circuit's key`;
    return { instance: proof.instance, nPublic: SOLVENCY_SIGNAL_COUNT, vkey };
  }
  const vkey = canonicalVerificationKey(key.verificationKey);
  if (proof.instance !== key.instance) return `the proof claims instance "${proof.instance}", but the key is ${key.instance}'s`;
  try {
    const shape = instanceShape({ ...key, verificationKey: vkey }, template);
    return { instance: key.instance, nPublic: shape.nPublic, shape, vkey };
  } catch (error) {
    if (error instanceof InputError) return error.message;
    throw error;
  }
}

/** A CircuitKey rather than a bare snarkjs verification key. */
export function isCircuitKey(key: VerificationKey | CircuitKey): key is CircuitKey {
  const inner = (key as Partial<CircuitKey>).verificationKey;
  return typeof inner === "object" && inner !== null && typeof (key as Partial<CircuitKey>).instance === "string";
}

/** Field by field: bigints, strings, numbers, booleans, arrays and plain objects. */
function sameValue(a: unknown, b: unknown): boolean {
  if (typeof a !== typeof b) return false;
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((x, i) => sameValue(x, b[i]));
  if (typeof a === "object" && a !== null) {
    if (typeof b !== "object" || b === null || Array.isArray(b)) return false;
    const ka = Object.keys(a);
    const kb = Object.keys(b);
    return ka.length === kb.length && ka.every((k) => Object.hasOwn(b, k) && sameValue((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
  }
  return a === b;
}

/** The first named field of `proof` that differs from what its signals decode to, or null. */
export function fieldMismatch(proof: object, decoded: Record<string, unknown>): string | null {
  for (const [name, value] of Object.entries(decoded)) {
    if (!sameValue((proof as Record<string, unknown>)[name], value)) return `${name} is not what the public signals encode`;
  }
  return null;
}

/**
 * The checks every verify* makes: the key, the proof's Groth16 shape (affine points below the base
 * field, as on chain), canonical signals of the instance's count, the named fields against the
 * decoded signals, then the pairing check.
 */
export async function verdictOf(
  proof: unknown,
  key: VerificationKey | CircuitKey,
  template: ProofTemplate,
  decode: (signals: bigint[], key: { instance: string; shape?: InstanceShape }) => Record<string, unknown>,
): Promise<ProofVerdict> {
  const invalid = (problem: string): ProofVerdict => ({ valid: false, problem });
  if (typeof proof !== "object" || proof === null) return invalid("not a proof object");
  const p = proof as Partial<ProofEnvelope>;
  if (p.template !== template) return invalid(`template is ${JSON.stringify(p.template)}, not "${template}"`);
  const resolved = resolveKey(p, key, template);
  if (typeof resolved === "string") return invalid(resolved);
  const groth16 = groth16ProofSchema.safeParse(p.proof);
  if (!groth16.success) return invalid(`proof is not an affine Groth16 BN254 proof (${groth16.error.issues[0]?.message ?? "malformed"})`);
  const values = signalValues(p.publicSignals, resolved.nPublic);
  if (typeof values === "string") return invalid(values);
  const mismatch = fieldMismatch(proof, decode(values, resolved));
  if (mismatch) return invalid(mismatch);
  const ok = await verifyProof(resolved.vkey, { proof: p.proof as Groth16Proof, publicSignals: p.publicSignals as NumericString[] });
  return ok ? { valid: true } : invalid(`the Groth16 proof does not verify under ${resolved.instance}'s key`);
}
