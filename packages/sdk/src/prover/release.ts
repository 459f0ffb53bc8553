/**
 * snarkjs keeps a pool of worker threads alive behind a cached curve object, which keeps
 * Node from exiting. Call this after the last proof or setup step; the next snarkjs call
 * simply builds a new curve.
 */
export async function releaseProverThreads(): Promise<void> {
  const curve = (globalThis as { curve_bn128?: { terminate(): Promise<void> } | null }).curve_bn128;
  if (curve) await curve.terminate();
}
