/**
 * The high-level API: prove and verify Solvency and Rebalance proofs from parsed files and an
 * instance's artifacts, with the public signals decoded by name. Browser-safe.
 */
export { instanceShape, type CircuitArtifacts, type CircuitKey, type InstanceShape, type ProofTemplate } from "./artifacts.ts";
export { proveSolvency, verifySolvency, checkSolvencyProof, solvencyProofOf, type SolvencyProof, type SolvencyProofInput } from "./solvency.ts";
export { proveRebalance, verifyRebalance, checkRebalanceProof, rebalanceProofOf, type RebalanceProof, type RebalanceProofInput } from "./rebalance.ts";
export { proofFileOf, proofFromFile, signalNames, type ProofFileMeta } from "./proof-file.ts";
export type { ProofEnvelope, ProofVerdict } from "./verdict.ts";
export type { ApiProveOptions } from "./prove-with.ts";
