import { poseidonChain } from "./poseidon-chain.ts";

/**
 * A symbol or instrument id as one field element: its UTF-8 bytes as a big-endian integer when
 * they fit in 31 bytes (always below the BN254 prime), else a Poseidon digest of the length and
 * 31-byte chunks. Mirrors nothing in-circuit: circuits take the element as given and hash it.
 */
export function textToField(text: string): bigint {
  const bytes = new TextEncoder().encode(text);
  const toInt = (chunk: Uint8Array) => chunk.reduce((acc, byte) => (acc << 8n) | BigInt(byte), 0n);
  if (bytes.length <= 31) return toInt(bytes);
  const chunks: bigint[] = [BigInt(bytes.length)];
  for (let offset = 0; offset < bytes.length; offset += 31) chunks.push(toInt(bytes.subarray(offset, offset + 31)));
  return poseidonChain(chunks);
}
