/**
 * A fresh commitment salt: 31 random bytes, so it is always below the BN254 prime and the
 * commitment hides the position. Uses Web Crypto, present in Node >= 19 and browsers.
 */
export function randomSalt(): bigint {
  const bytes = new Uint8Array(31);
  globalThis.crypto.getRandomValues(bytes);
  return BigInt(`0x${Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("")}`);
}

export function formatSalt(salt: bigint): string {
  return `0x${salt.toString(16).padStart(62, "0")}`;
}
