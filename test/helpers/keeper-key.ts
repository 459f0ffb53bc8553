/**
 * Deterministic keeper keys for tests: the same key on every run, so witnesses and fixtures are
 * reproducible. A seeded PRNG is fine here and nowhere else (real keys come from Web Crypto).
 */
import { generateKeeperKey, type KeeperKeyPair } from "../../packages/sdk/src/encryption/keeper-key.ts";
import { randomEphemeralSecret } from "../../packages/sdk/src/encryption/opening-cipher.ts";
import { mulberry32 } from "../../packages/sdk/src/core/seeded-random.ts";

/** 256-bit draws from mulberry32(seed): eight 32-bit words per call. */
export function seededBits(seed: number): () => bigint {
  const next = mulberry32(seed);
  return () => {
    let value = 0n;
    for (let k = 0; k < 8; k++) value = (value << 32n) | BigInt(Math.floor(next() * 2 ** 32));
    return value;
  };
}

/** The tests' keeper key (seed 18, after the issue). */
export const TEST_KEEPER: KeeperKeyPair = generateKeeperKey(seededBits(18));

/** Another keeper key, for "wrong key" cases. */
export const OTHER_KEEPER: KeeperKeyPair = generateKeeperKey(seededBits(81));

/** Ephemeral secrets drawn from a seed, so a witness can be rebuilt exactly. */
export function seededEphemeral(seed: number): () => bigint {
  const bits = seededBits(seed);
  return () => randomEphemeralSecret(bits);
}
