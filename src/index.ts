/**
 * zk-solvency SDK: the browser-safe surface (no Node built-ins). Node-only helpers (artifact
 * locations, file reading, circuit setup) are in `zk-solvency/node`.
 */
export * from "./core/decimal.ts";
export * from "./core/errors.ts";
export * from "./core/field.ts";
export * from "./core/fixed-point.ts";
export * from "./inputs/index.ts";
export * from "./model/index.ts";
export * from "./rebalance/index.ts";
export * from "./chain/index.ts";
export { randomSalt, formatSalt } from "./commitment/salt.ts";
export { poseidonChain } from "./commitment/poseidon-chain.ts";
export { commitPosition, commitmentWords, positionSignals, type PositionSignals } from "./commitment/position-commitment.ts";
export { STANDARD_LAYOUT, checkMarketFits, parseLayout, type SlotLayout } from "./commitment/slot-layout.ts";
export type { CircuitLayout } from "./commitment/circuit-layout.ts";
export { positionOpeningInput } from "./prover/witness/position-opening.ts";
export { solvencyInput } from "./prover/witness/solvency.ts";
export { rebalanceInput, type RebalanceTransition } from "./prover/witness/rebalance.ts";
export { marketRoot, marketSignals, marketDigests, type MarketSignals } from "./commitment/market-root.ts";
export { policyHash, policySignals, type PolicySignals } from "./commitment/policy-hash.ts";
export { toProofFile, parseProofFile, type ProofFile, type ProofMetadata, type ProofKeyManifest, type KeySourceKind } from "./proof-file/proof-file.ts";
export { positionToJson } from "./inputs/position-file.ts";
export { generateProof, proveFromWitness, type ZkProof, type ProveOptions, type ProveStage, type ProveTimings, type TimedProof } from "./prover/prove.ts";
export { WarmProver } from "./prover/warm-prover.ts";
export type { Artifact, ProvingArtifacts } from "./prover/artifacts.ts";
export { UnprovableError } from "./prover/errors.ts";
export { releaseProverThreads } from "./prover/release.ts";
export { verifyProof } from "./verifier/verify.ts";
export { verificationKeyHash } from "./verifier/key-hash.ts";
export { verifyProofFile, checkProofKey, ProofKeyError, ProofMetadataError, type InstanceDeclaration, type ProofFileChecks, type ProofFileVerdict, type VerifiedProofFile, type InvalidProofFile } from "./verifier/proof-file-verdict.ts";
export { checkChainBinding, ChainMismatchError, isCompiledRuntime, VERIFIER_KEY_ABI, type ChainBinding, type ChainTarget, type CompiledRuntime } from "./verifier/chain-binding.ts";
export { canonicalVerificationKey, VerificationKeyShapeError } from "./verifier/key-check.ts";
export { statementsOf, provenChecks, CHECK_BITS, type ProvenCheck } from "./verifier/statements.ts";
export { toSolidityProof, type SolidityProof } from "./verifier/calldata.ts";
export * from "./browser/index.ts";
export { buildSumTree, inclusionProof, followInclusion, ownerHash, AuditTreeError, type AuditFigures, type AuditLeaf, type FigureLayout, type SumNode, type MerkleSumTree, type InclusionProof } from "./audit/merkle-sum-tree.ts";
export { auditFigures, accountFigures } from "./audit/figures.ts";
export { parseAuditReport, parseInclusionFile, auditReportJson, inclusionFileJson, type AuditReport, type InclusionFile, type AuditInstances, type AuditChain, type AuditKey, type AuditKeyRecords } from "./audit/audit-files.ts";
export { checkInclusion, inclusionFile, locateLeaf, matchLeaf, type InclusionResult } from "./audit/inclusion.ts";
export { verifyAudit, checkAuditKeys, AuditVerificationError, AuditKeyError, type AuditKeys, type AuditVerdict } from "./audit/verify-audit.ts";
export { checkAgainstGate, checkBookAgainstGate, type GateSnapshot, type CompletenessVerdict, type ReserveLine } from "./audit/completeness.ts";
export { readGateSnapshot } from "./audit/gate-snapshot.ts";
export { aggregateStatements, type AggregateStatements } from "./audit/statements.ts";
export { auditShape, type AuditShape } from "./audit/audit-shape.ts";
export { auditGeometry, checkDeclaredGeometry, AuditInstancesError, type AuditGeometry, type AuditInstanceInfo } from "./audit/audit-instances.ts";
export { syntheticBook } from "./audit/synthetic-book.ts";
