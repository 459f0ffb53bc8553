/**
 * A verification key exactly as its fingerprint covers it. The fingerprint (key-hash.ts) hashes
 * the affine x and y of each point, as the Solidity verifier holds them; snarkjs reads more of the
 * JSON than that: the projective z of each point, the curve's name, and as many IC points as there
 * are signals. A key whose z is -1 has the fingerprint of a key whose points are the negation of
 * its own (so it verifies negated signals), and a key naming another curve or missing IC points
 * verifies nothing while still matching. So a key is used only after this check, and only as the
 * object rebuilt here from the very words the fingerprint hashes. Browser-safe.
 */
import type { VerificationKey } from "snarkjs";

/** BN254's base field: every coordinate of a key or proof point is below it (the pairing precompile refuses the rest). */
export const BN254_BASE_FIELD = 21888242871839275222246405745257275088696311157297823662689037894645226208583n;
const P = BN254_BASE_FIELD;

/** The key is not a canonical Groth16 BN254 key; `field` is its JSON path. */
export class VerificationKeyShapeError extends Error {
  constructor(
    readonly field: string,
    readonly problem: string,
  ) {
    super(`${field}: ${problem}`);
  }
}

type Fp2 = [bigint, bigint];
const mod = (a: bigint) => ((a % P) + P) % P;
const pow = (base: bigint, exponent: bigint): bigint => {
  let result = 1n;
  for (let b = mod(base), e = exponent; e > 0n; e >>= 1n, b = (b * b) % P) if (e & 1n) result = (result * b) % P;
  return result;
};
const f2mul = ([a0, a1]: Fp2, [b0, b1]: Fp2): Fp2 => [mod(a0 * b0 - a1 * b1), mod(a0 * b1 + a1 * b0)];
const f2add = ([a0, a1]: Fp2, [b0, b1]: Fp2): Fp2 => [mod(a0 + b0), mod(a1 + b1)];
/** (a0 + a1 u)^-1 = (a0 - a1 u) / (a0^2 + a1^2), u^2 = -1. */
const f2inv = ([a0, a1]: Fp2): Fp2 => {
  const norm = pow(mod(a0 * a0 + a1 * a1), P - 2n);
  return [mod(a0 * norm), mod(-a1 * norm)];
};
/** The twist's b: 3 / (9 + u), G2 being y^2 = x^3 + b' over Fp2. */
const TWIST_B = f2mul([3n, 0n], f2inv([9n, 1n]));

const COORDINATE = /^\d+$/;

function coordinate(value: unknown, field: string): string {
  if (typeof value !== "string" || !COORDINATE.test(value) || BigInt(value) >= P) {
    throw new VerificationKeyShapeError(field, "expected a decimal coordinate below the BN254 base field");
  }
  return value;
}

function g1(value: unknown, field: string): [string, string, string] {
  if (!Array.isArray(value) || value.length !== 3) throw new VerificationKeyShapeError(field, 'expected a G1 point [x, y, "1"]');
  const x = coordinate(value[0], `${field}[0]`);
  const y = coordinate(value[1], `${field}[1]`);
  // z is not hashed: any z but 1 would make snarkjs read another point under the same fingerprint.
  if (value[2] !== "1") throw new VerificationKeyShapeError(`${field}[2]`, `expected the affine z "1", got ${JSON.stringify(value[2])}`);
  const [X, Y] = [BigInt(x), BigInt(y)];
  if (mod(Y * Y) !== mod(X * X * X + 3n)) throw new VerificationKeyShapeError(field, "not a point of BN254's G1 (y^2 != x^3 + 3)");
  return [x, y, "1"];
}

function g2(value: unknown, field: string): [[string, string], [string, string], [string, string]] {
  const pair = (v: unknown, f: string): [string, string] => {
    if (!Array.isArray(v) || v.length !== 2) throw new VerificationKeyShapeError(f, "expected an Fp2 element [c0, c1]");
    return [coordinate(v[0], `${f}[0]`), coordinate(v[1], `${f}[1]`)];
  };
  if (!Array.isArray(value) || value.length !== 3) throw new VerificationKeyShapeError(field, 'expected a G2 point [[x0, x1], [y0, y1], ["1", "0"]]');
  const x = pair(value[0], `${field}[0]`);
  const y = pair(value[1], `${field}[1]`);
  const z = value[2] as unknown;
  if (!Array.isArray(z) || z.length !== 2 || z[0] !== "1" || z[1] !== "0") {
    throw new VerificationKeyShapeError(`${field}[2]`, `expected the affine z ["1", "0"], got ${JSON.stringify(z)}`);
  }
  const X: Fp2 = [BigInt(x[0]), BigInt(x[1])];
  const Y: Fp2 = [BigInt(y[0]), BigInt(y[1])];
  const lhs = f2mul(Y, Y);
  const rhs = f2add(f2mul(f2mul(X, X), X), TWIST_B);
  if (lhs[0] !== rhs[0] || lhs[1] !== rhs[1]) throw new VerificationKeyShapeError(field, "not a point of BN254's G2 twist");
  return [x, y, ["1", "0"]];
}

/**
 * Validates a parsed verification key and returns it rebuilt from exactly the words its
 * fingerprint covers (curve "bn128", protocol "groth16", affine points on the curve, nPublic + 1
 * IC points; other fields such as vk_alphabeta_12 dropped: snarkjs' verifier does not read them).
 * Throws VerificationKeyShapeError naming the field.
 */
export function canonicalVerificationKey(json: unknown): VerificationKey {
  if (typeof json !== "object" || json === null || Array.isArray(json)) throw new VerificationKeyShapeError("(key)", "not a JSON object");
  const key = json as Record<string, unknown>;
  if (key.protocol !== "groth16") throw new VerificationKeyShapeError("protocol", `expected "groth16", got ${JSON.stringify(key.protocol)}`);
  // snarkjs picks the curve by this name, which the fingerprint does not cover: only BN254 is ours.
  if (key.curve !== "bn128") throw new VerificationKeyShapeError("curve", `expected "bn128" (BN254), got ${JSON.stringify(key.curve)}`);
  const nPublic = key.nPublic;
  if (typeof nPublic !== "number" || !Number.isInteger(nPublic) || nPublic < 0) throw new VerificationKeyShapeError("nPublic", "expected a non-negative integer");
  const ic = key.IC;
  // snarkjs indexes IC by signal: a short list throws inside the pairing code and reads as "invalid".
  if (!Array.isArray(ic) || ic.length !== nPublic + 1) {
    throw new VerificationKeyShapeError("IC", `expected nPublic + 1 = ${nPublic + 1} points, got ${Array.isArray(ic) ? ic.length : "none"}`);
  }
  return {
    protocol: "groth16",
    curve: "bn128",
    nPublic,
    vk_alpha_1: g1(key.vk_alpha_1, "vk_alpha_1"),
    vk_beta_2: g2(key.vk_beta_2, "vk_beta_2"),
    vk_gamma_2: g2(key.vk_gamma_2, "vk_gamma_2"),
    vk_delta_2: g2(key.vk_delta_2, "vk_delta_2"),
    IC: ic.map((point, i) => g1(point, `IC[${i}]`)),
  } as unknown as VerificationKey;
}

/** The key's 32-byte words in the order the fingerprint hashes them (and the Solidity verifier holds them as constants). */
export function verificationKeyWords(key: VerificationKey): bigint[] {
  const alpha = key.vk_alpha_1 as string[];
  const g2words = (point: unknown) => {
    const [[x0, x1], [y0, y1]] = point as [[string, string], [string, string]];
    return [x1, x0, y1, y0];
  };
  return [alpha[0]!, alpha[1]!, ...g2words(key.vk_beta_2), ...g2words(key.vk_gamma_2), ...g2words(key.vk_delta_2), ...(key.IC as string[][]).flatMap((p) => [p[0]!, p[1]!])].map(
    (w) => BigInt(w),
  );
}
