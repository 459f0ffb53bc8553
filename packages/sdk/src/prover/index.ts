/**
 * Groth16 proving with snarkjs, in Node and in the browser: witness inputs of each circuit, a
 * one-off prover and a warm one, and the snarkjs types the SDK's signatures use. Browser-safe.
 *
 * @module
 */
export { proveFromWitness, generateProof, type ZkProof, type TimedProof, type ProveOptions, type ProveStage, type ProveTimings } from "./prove.ts";
export { positionOpeningInput } from "./witness/position-opening.ts";
export { solvencyInput } from "./witness/solvency.ts";
export { rebalanceInput, type EnforcementInputs, type RebalanceLayout, type RebalanceTransition } from "./witness/rebalance.ts";
export { releaseProverThreads } from "./release.ts";
export { WarmProver } from "./warm-prover.ts";
export { WarmWitnessCalculator } from "./warm-witness.ts";
export { UnprovableError } from "./errors.ts";
export { type ProvingArtifacts, type Artifact } from "./artifacts.ts";
export type { CircuitSignals, Groth16Proof, NumericString, SignalValue, VerificationKey, ZKArtifact } from "snarkjs";
