/**
 * Verifying proofs off-chain: Groth16 verification, the key's fingerprint and canonical form,
 * proof files as statements (which key, which metadata the signals back), the binding of a
 * deployed verifier to a key, and the contracts' calldata layout. Browser-safe.
 *
 * @module
 */
export { toSolidityProof, type SolidityProof } from "./calldata.ts";
export { verifyProof } from "./verify.ts";
export { ALL_CHECKS, describeChecks, isProofFileTemplate, CHECK_BITS, provenChecks, statementsOf, type ProofFileTemplate, type ProvenCheck } from "./statements.ts";
export { ChainMismatchError, checkChainBinding, isCompiledRuntime, VERIFIER_KEY_ABI, type ChainBinding, type ChainTarget, type CompiledRuntime } from "./chain-binding.ts";
export { canonicalVerificationKey, VerificationKeyShapeError } from "./key-check.ts";
export { verificationKeyHash } from "./key-hash.ts";
export {
  checkProofKey,
  ProofKeyError,
  ProofMetadataError,
  verifyProofFile,
  type InstanceDeclaration,
  type InvalidProofFile,
  type ProofFileChecks,
  type ProofFileVerdict,
  type VerifiedProofFile,
} from "./proof-file-verdict.ts";
