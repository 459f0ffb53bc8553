export { proveFromWitness, generateProof, type ZkProof, type TimedProof, type ProveOptions } from "./prove.ts";
export { solvencyInput } from "./witness/solvency.ts";
export { rebalanceInput, type RebalanceLayout } from "./witness/rebalance.ts";
export { releaseProverThreads } from "./release.ts";
export { WarmProver } from "./warm-prover.ts";
export { UnprovableError } from "./errors.ts";
export { type ProvingArtifacts, type Artifact } from "./artifacts.ts";
