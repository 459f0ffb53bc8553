/**
 * Proof files: snarkjs' proof.json plus what a verifier needs to interpret it (the instance, the
 * signals by name, the key's fingerprint and source). Browser-safe.
 *
 * @module
 */
export { parseProofFile, keyLine, toProofFile, DEVELOPMENT_KEY_LABEL, type ProofFile, type ProofKeyManifest, type ProofMetadata, type KeySourceKind } from "./proof-file.ts";
export type { KeySource, PtauOrigin } from "./key-source.ts";
