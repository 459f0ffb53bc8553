/**
 * Where a circuit instance's proving artifacts come from: a file path in Node, a URL in the
 * browser, or the bytes themselves anywhere (snarkjs accepts all three).
 */
export type Artifact = string | Uint8Array;

export interface ProvingArtifacts {
  /** Instance name, for error messages. */
  instance: string;
  wasm: Artifact;
  zkey: Artifact;
}
