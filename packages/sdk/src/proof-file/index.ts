export { parseProofFile, keyLine, toProofFile, DEVELOPMENT_KEY_LABEL, type ProofFile, type KeySourceKind } from "./proof-file.ts";
export type { KeySource, PtauOrigin } from "./key-source.ts";
