/**
 * Verifiable encryption of a position's opening to the keeper key (docs/enforcement.md), the
 * TypeScript mirror of packages/circuits/rebalance.circom's encryption check: MACI's pattern, Baby Jubjub
 * ECDH then Poseidon encryption (@zk-kit/poseidon-cipher, the same sponge as @zk-kit/circuits'
 * poseidon-cipher.circom).
 *
 * Plaintext: the position commitment's packed words 1.. (src/commitment/position-commitment.ts),
 * i.e. [salt, collateral[i] + debt[i] * 2^96 per asset slot, offset quantity pairs]. Word 0
 * (account + nonce * 2^160) is public, so it is not encrypted. The cipher nonce is the position's
 * nonce, which never repeats for an account; a fresh ephemeral key per encryption makes every
 * shared key fresh anyway.
 */
import { Base8, mulPointEscalar, subOrder } from "@zk-kit/baby-jubjub";
import { poseidonDecrypt, poseidonEncrypt } from "@zk-kit/poseidon-cipher";
import { getAddress } from "ethers";
import { InputError, ZksError } from "../core/errors.ts";
import { SNARK_FIELD } from "../core/field.ts";
import { AMOUNT_BITS, MAX_AMOUNT, QUANTITY_OFFSET } from "../core/fixed-point.ts";
import type { Market, Position } from "../inputs/types.ts";
import type { CircuitLayout } from "../commitment/circuit-layout.ts";
import { commitPosition, commitmentWords, positionSignals } from "../commitment/position-commitment.ts";
import type { SlotLayout } from "../commitment/slot-layout.ts";
import { randomScalar, validateKeeperPublicKey, type Point } from "./keeper-key.ts";

/** A published ciphertext that does not open under the keeper's key to the committed position. Exit code 2. */
export class OpeningDecryptionError extends ZksError {
  constructor(message: string) {
    super(message, 2);
  }
}

export interface EncryptedOpening {
  ephemeralKey: Point;
  ciphertext: bigint[];
  /** Known only to the prover (a private circuit input); never published. */
  ephemeralSecret: bigint;
}

/** What the gate's OpeningEncrypted event publishes for one commitment. */
export interface PublishedOpening {
  account: string;
  nonce: bigint;
  commitment: bigint;
  ephemeralKey: Point;
  ciphertext: bigint[];
}

/**
 * circomlib's EscalarMulFix(253, Base8), which the circuit uses for ephemeralKey, has no witness
 * for the secrets whose low 249 bits are this value: its first segment has 249 bits (83 windows
 * of 3), and at that segment's last adder the running sum 2^250 + sum_i (1 + a_i) * 8^i equals
 * subOrder, so the Montgomery adder gets P and -P. sum_i 8^i over the 83 windows is
 * (2^249 - 1) / 7, hence the value (packages/circuits/lib/opening-encryption.circom's header). Sixteen
 * 253-bit scalars have these low bits; three of them are below subOrder.
 */
export const UNPROVABLE_EPHEMERAL_LOW_BITS = subOrder - (1n << 250n) - ((1n << 249n) - 1n) / 7n;
const LOW_249 = (1n << 249n) - 1n;

/** The circuit can prove an encryption under this secret (it is neither ≡ 0 mod subOrder nor one of EscalarMulFix's 16 gaps). */
export function isProvableEphemeralSecret(secret: bigint): boolean {
  return secret >= 0n && secret < 1n << 253n && secret % subOrder !== 0n && (secret & LOW_249) !== UNPROVABLE_EPHEMERAL_LOW_BITS;
}

/**
 * A fresh ephemeral secret: uniform in [1, subOrder) except the three scalars there that the
 * circuit cannot prove (isProvableEphemeralSecret), drawn again when hit (probability 3 / subOrder,
 * about 2^-249; skipping them costs nothing measurable in uniformity). `random` as randomScalar's.
 */
export function randomEphemeralSecret(random?: () => bigint): bigint {
  for (;;) {
    const secret = randomScalar(random);
    if (isProvableEphemeralSecret(secret)) return secret;
  }
}

/** The cipher's nonce must be below 2^128 (poseidon-cipher); a position nonce is below 2^64. */
const NONCE_LIMIT = 1n << 64n;
const SHIFT = 1n << BigInt(AMOUNT_BITS);

/** L = 1 + nAssets + ceil(nInstruments / 2): the salt, one word per asset slot, one per instrument pair. */
export function openingPlaintextLength(layout: SlotLayout): number {
  return 1 + layout.nAssets + Math.ceil(layout.nInstruments / 2);
}

/** C = 3 * ceil(L / 3) + 1: the sponge's blocks of three plus the authentication tag. */
export function openingCiphertextLength(layout: SlotLayout): number {
  return 3 * Math.ceil(openingPlaintextLength(layout) / 3) + 1;
}

/**
 * The L words the circuit encrypts: the commitment's words 1.., built by the commitment's own
 * packing code so the two can never disagree. The position must be in range (the packing is
 * injective only there); the circuit would refuse anything else.
 */
export function openingPlaintext(position: Position, layout: CircuitLayout | SlotLayout): bigint[] {
  const source = `position of ${position.account}`;
  if (position.salt === undefined) throw new InputError(source, "salt", "an opening needs the position's salt");
  if (position.salt < 0n || position.salt >= SNARK_FIELD) throw new InputError(source, "salt", "must be a field element");
  if (position.collateral.length > layout.nAssets || position.debt.length > layout.nAssets) {
    throw new InputError(source, "collateral", `more assets than the instance's ${layout.nAssets} slots`);
  }
  if (position.quantities.length > layout.nInstruments) throw new InputError(source, "quantities", `more instruments than the instance's ${layout.nInstruments} slots`);
  for (const [field, values] of [
    ["collateral", position.collateral],
    ["debt", position.debt],
  ] as const) {
    values.forEach((x, i) => {
      if (x < 0n || x > MAX_AMOUNT) throw new InputError(source, `${field}[${i}]`, "outside [0, 2^96)");
    });
  }
  position.quantities.forEach((q, k) => {
    if (q < -QUANTITY_OFFSET || q >= QUANTITY_OFFSET) throw new InputError(source, `quantities[${k}]`, "outside [-2^95, 2^95)");
  });
  return commitmentWords(positionSignals(position, position.salt, layout)).slice(1);
}

/**
 * Encrypts `position`'s opening to `keeperKey` under cipher nonce `nonce`, which must be the
 * position's own nonce (the circuit uses the new position's nonce). `ephemeralSecret` is drawn
 * uniformly from [1, subOrder) when omitted (randomEphemeralSecret, which skips the 3 scalars the
 * circuit cannot prove); pass one only to reproduce a witness.
 */
export function encryptOpening(position: Position, nonce: bigint, keeperKey: Point, layout: CircuitLayout | SlotLayout, ephemeralSecret?: bigint): EncryptedOpening {
  const source = `position of ${position.account}`;
  if (nonce !== position.nonce) throw new InputError(source, "nonce", `the cipher nonce ${nonce} must be the position's nonce ${position.nonce}`);
  if (nonce < 1n || nonce >= NONCE_LIMIT) throw new InputError(source, "nonce", "a committed position's nonce is in [1, 2^64)");
  const key = validateKeeperPublicKey(keeperKey, "keeper key");
  const secret = ephemeralSecret ?? randomEphemeralSecret();
  if (secret < 1n || secret >= subOrder) throw new InputError("ephemeral secret", "", "must be a Baby Jubjub scalar in [1, subOrder)");
  if (!isProvableEphemeralSecret(secret)) {
    throw new InputError("ephemeral secret", "", "has no proof: its low 249 bits are the one value circomlib's EscalarMulFix cannot multiply (draw another)");
  }
  const plaintext = openingPlaintext(position, layout);
  const shared = mulPointEscalar([key[0], key[1]], secret);
  const [ex, ey] = mulPointEscalar(Base8, secret);
  return { ephemeralKey: [ex, ey], ciphertext: poseidonEncrypt(plaintext, shared, nonce), ephemeralSecret: secret };
}

/**
 * Opens a published ciphertext with the keeper's secret and checks the result against the
 * published commitment: a position is returned only if its commitment is exactly `commitment`
 * for `account` at `nonce`, so a keeper never acts on a wrong opening.
 */
export function decryptOpening(published: PublishedOpening, keeperSecret: bigint, market: Market, layout: CircuitLayout | SlotLayout): Position {
  const at = `opening of ${published.account} at nonce ${published.nonce}`;
  const fail = (problem: string): never => {
    throw new OpeningDecryptionError(`${at}: ${problem}`);
  };
  if (market.assets.length > layout.nAssets || market.instruments.length > layout.nInstruments) fail(`the market does not fit the ${layout.nAssets}x${layout.nInstruments} layout`);
  const length = openingPlaintextLength(layout);
  const cLength = openingCiphertextLength(layout);
  if (published.ciphertext.length !== cLength)
    fail(`the ciphertext has ${published.ciphertext.length} elements; the ${layout.nAssets}x${layout.nInstruments} layout's has ${cLength}`);
  if (published.ciphertext.some((c) => c < 0n || c >= SNARK_FIELD)) fail("a ciphertext element is not a field element");
  if (published.nonce < 1n || published.nonce >= NONCE_LIMIT) fail("the nonce is outside [1, 2^64)");
  if (keeperSecret < 1n || keeperSecret >= subOrder) fail("the keeper secret is not a scalar in [1, subOrder)");
  let ephemeralKey: Point;
  try {
    ephemeralKey = validateKeeperPublicKey(published.ephemeralKey, at, "ephemeralKey");
  } catch (error) {
    return fail(`the ephemeral key is invalid: ${(error as InputError).problem}`);
  }
  const shared = mulPointEscalar([ephemeralKey[0], ephemeralKey[1]], keeperSecret);

  let words: bigint[];
  try {
    words = poseidonDecrypt(published.ciphertext, shared, published.nonce, length);
  } catch {
    return fail("the ciphertext does not decrypt under this keeper key (authentication tag mismatch: another key, another nonce, or a tampered ciphertext)");
  }
  // The library checks the padding only for L > 3; re-encrypting is the whole check, as the circuit's.
  const again = poseidonEncrypt(words, shared, published.nonce);
  if (again.some((c, j) => c !== published.ciphertext[j])) fail("the ciphertext's padding is not zero");

  const position = decodeOpening(words, published, market, layout, fail);
  if (commitPosition(position, position.salt!, layout) !== published.commitment) {
    fail("the decrypted opening does not reproduce the published commitment");
  }
  return position;
}

/** Inverse of the commitment's packing, refusing any word outside the encoding's range. */
function decodeOpening(words: bigint[], published: PublishedOpening, market: Market, layout: SlotLayout, fail: (problem: string) => never): Position {
  const salt = words[0]!;
  const collateral: bigint[] = [];
  const debt: bigint[] = [];
  for (let i = 0; i < layout.nAssets; i++) {
    const w = words[1 + i]!;
    if (w >= SHIFT * SHIFT) fail(`asset slot ${i}'s word is outside [0, 2^192)`);
    collateral.push(w % SHIFT);
    debt.push(w / SHIFT);
  }
  const quantities: bigint[] = [];
  for (let m = 0; m < layout.nInstruments; m += 2) {
    const w = words[1 + layout.nAssets + m / 2]!;
    const pair = m + 1 < layout.nInstruments;
    if (w >= (pair ? SHIFT * SHIFT : SHIFT)) fail(`instrument word ${m / 2} is out of range`);
    quantities.push((w % SHIFT) - QUANTITY_OFFSET);
    if (pair) quantities.push(w / SHIFT - QUANTITY_OFFSET);
  }
  const nA = market.assets.length;
  const nK = market.instruments.length;
  if ([...collateral.slice(nA), ...debt.slice(nA)].some((x) => x !== 0n) || quantities.slice(nK).some((q) => q !== 0n)) {
    fail("the opening holds balances in slots the market does not have");
  }
  let account: string;
  try {
    account = getAddress(published.account);
  } catch {
    return fail("the account is not an address");
  }
  return { version: 1, account, nonce: published.nonce, salt, collateral: collateral.slice(0, nA), debt: debt.slice(0, nA), quantities: quantities.slice(0, nK) };
}
