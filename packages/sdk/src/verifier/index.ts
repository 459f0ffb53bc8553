export { toSolidityProof } from "./calldata.ts";
export { verifyProof } from "./verify.ts";
export { ALL_CHECKS, describeChecks, isProofFileTemplate, CHECK_BITS } from "./statements.ts";
export { ChainMismatchError, checkChainBinding, type ChainBinding, type CompiledRuntime } from "./chain-binding.ts";
export { canonicalVerificationKey, VerificationKeyShapeError } from "./key-check.ts";
export { verificationKeyHash } from "./key-hash.ts";
export { ProofKeyError, ProofMetadataError, verifyProofFile, type InstanceDeclaration, type VerifiedProofFile } from "./proof-file-verdict.ts";
