/** Node-only parts of the SDK: build artifacts on disk, input files, circuit setup. */
export { loadInstanceArtifacts, type InstanceArtifacts } from "./node/artifacts.ts";
export { readJsonFile } from "./node/read-json.ts";
export { buildCircuits, type BuildOptions, type BuildResult, type BuildProgress } from "./setup/build.ts";
export { loadInstances, type InstanceConfig } from "./setup/instances.ts";
export { resolvePtau, readPtauHeader, CEREMONY_BLAKE2B, type PtauChoice } from "./setup/ptau.ts";
export { loadWarmProver } from "./node/load-warm-prover.ts";
export { ProverPool, type ProverPoolOptions, type PooledProof, type PoolOutcome } from "./node/prover-pool/prover-pool.ts";
export { locateNativeWitness, nativeWitnessCalculator, type NativeWitnessBinary, type NativeWitnessCalculator } from "./node/native-witness.ts";
export { checkNativeToolchain, nativeToolchainChoice, type NativeToolchain } from "./setup/native-toolchain.ts";
export { runAudit, auditLayout, AUDIT_INSTANCES, type AuditRun, type AuditProgress, type RunAuditOptions } from "./node/audit/run-audit.ts";
export { readBook, type BookEntry } from "./node/audit/read-book.ts";
export { writeAuditDir, readAuditReport, readLeaves } from "./node/audit/audit-dir.ts";
export { loadAuditKeys } from "./node/audit/audit-keys.ts";
