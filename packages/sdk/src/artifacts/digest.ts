import { sha256 as sha256Js } from "ethers";

const hex = (bytes: ArrayBuffer) => Array.from(new Uint8Array(bytes), (b) => b.toString(16).padStart(2, "0")).join("");

/**
 * Lowercase hex sha256 of `bytes`. WebCrypto where there is one (Node, and pages in a secure
 * context: about 15 ms per MB here); pages served over plain http have no `crypto.subtle`, and
 * get ethers' JavaScript sha256 instead (same digest, a few times slower) rather than no check.
 */
export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const subtle = (globalThis as { crypto?: Crypto }).crypto?.subtle;
  if (subtle) return hex(await subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>));
  return sha256Js(bytes).slice(2);
}
