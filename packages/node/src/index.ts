/**
 * zk-solvency's Node-only parts: circuit instances built on disk (`loadCircuitArtifacts` for the
 * SDK's high-level API), input files, the warm prover and the prover pool, the native witness
 * generator, the audit run and the workflows that read and write files. Circuit setup and
 * ceremonies are `@zk-solvency/node/setup`, published keys `@zk-solvency/node/keys`, deployment
 * `@zk-solvency/node/deploy`.
 *
 * @packageDocumentation
 */
export { loadCircuitArtifacts, loadInstanceArtifacts, type InstanceArtifacts, type LoadArtifactsOptions } from "./artifacts.ts";
export { readJsonFile } from "./read-json.ts";
export { buildCircuits, type BuildOptions, type BuildResult, type BuildProgress, type InstanceBuildResult } from "./setup/build.ts";
export { loadInstances, type InstanceConfig } from "./setup/instances.ts";
export { resolvePtau, readPtauHeader, CEREMONY_BLAKE2B, type PtauChoice, type PtauHeader, type ResolvePtauOptions } from "./setup/ptau.ts";
export { PTAU_POWER_MARGIN, type ZkeyContribution } from "./setup/ceremony.ts";
export { loadWarmProver } from "./load-warm-prover.ts";
export { ProverPool, type ProverPoolOptions, type PooledProof, type PoolOutcome } from "./prover-pool/prover-pool.ts";
export { locateNativeWitness, nativeWitnessCalculator, type NativeWitnessBinary, type NativeWitnessCalculator } from "./native-witness.ts";
export { checkNativeToolchain, nativeToolchainChoice, type NativeToolchain } from "./setup/native-toolchain.ts";
export { runAudit, auditLayout, AUDIT_INSTANCES, CROWDING_AUDIT_INSTANCES, type AuditAccount, type AuditRun, type AuditProgress, type RunAuditOptions } from "./audit/run-audit.ts";
export { readLiquidityFile } from "./audit/liquidity-file.ts";
export { auditLevelInstance, auditProofInput, auditProofMismatch, describeAuditProof, modelSubtree, prepareAudit, type PreparedAudit } from "./audit/run-audit.ts";
export {
  auditFlow,
  auditId,
  auditJobData,
  auditJobId,
  auditJobs,
  checkQueueName,
  checkQueueReachable,
  DEFAULT_QUEUE_NAME,
  JOB_ATTEMPTS,
  MAX_STALLED,
  parseJobData,
  parseJobResult,
  parseQueueUrl,
  QUEUE_ENV,
  QueueResultError,
  removeAuditJobs,
  resolveQueueUrl,
  runQueuedAudit,
  startAuditWorker,
  type AuditJobData,
  type AuditJobRef,
  type AuditJobResult,
  type AuditWorkerOptions,
  type AuditWorkerRun,
  type AuditWorkerStats,
  type QueueConnection,
  type RedisConnectionOptions,
  type EncodedSignal,
  type QueuedAuditOptions,
  type QueuedAuditRun,
} from "./audit/queue/index.ts";
export { readBook, type BookEntry } from "./audit/read-book.ts";
export { writeAuditDir, readAuditReport, readLeaves } from "./audit/audit-dir.ts";
export { loadAuditKeys } from "./audit/audit-keys.ts";
export { developmentKeys } from "./audit/audit-keys.ts";
export { readTextFile } from "./read-json.ts";
export { writeFileSafely } from "./write-file-safely.ts";
export {
  loadPngRenderer,
  prepareOutputDir,
  writeBacktestReport,
  writeOutputs,
  type BacktestReportOptions,
  type OutputFile,
  type PngRenderer,
  type WrittenBacktestReport,
} from "./backtest-files.ts";
export { requiredChecks, selectInstance, layoutOf } from "./select-instance.ts";
export { writeProofFiles } from "./write-proof.ts";
export { proveBuiltInstance, type BuiltProof, type ProveBuiltOptions } from "./prove-built.ts";
export {
  checkRapidsnark,
  describeProverBackend,
  NO_RAPIDSNARK,
  parseProverChoice,
  PROVER_CHOICES,
  RAPIDSNARK_FIX,
  rapidsnarkProve,
  resolveProverBackend,
  witnessPublicSignals,
  type ProverBackend,
  type ProverChoice,
  type ProverKind,
  type RapidsnarkOptions,
  type ResolveProverOptions,
  type WitnessKind,
} from "./native-prover/index.ts";
export { deployUniswapV2Factory } from "./deploy/uniswap-v2-factory.ts";
export {
  builtInstanceProver,
  commitPositionFile,
  inspectInstance,
  inspectInstances,
  loadAllowanceFile,
  loadInputFiles,
  loadMarketFile,
  loadPolicyFile,
  loadPositionFile,
  planRebalanceFiles,
  proveStatementFiles,
  rebalanceFiles,
  runBacktestFiles,
  runSystemicFiles,
  verifyProofFiles,
  EXECUTION_BACKTEST_FILES,
  executionBacktestFiles,
  SCHEDULE_OUTPUT_FILES,
  scheduleExecutionFiles,
  type ExecutionBacktestFilesResult,
  type ScheduleExecutionFilesOptions,
  type ScheduleExecutionFilesResult,
  type BacktestFilesOptions,
  type BacktestFilesResult,
  type SystemicFileSettings,
  type SystemicFilesOptions,
  type SystemicFilesResult,
  type WrittenSystemicReport,
  type CommitPositionFileOptions,
  type InstanceDetails,
  type InstanceSummary,
  type KeyPinnedBy,
  type PlanRebalanceFilesOptions,
  type PlanRebalanceFilesResult,
  type ProveStatementFilesOptions,
  type ProveStatementFilesResult,
  type RebalanceFilesOptions,
  type RebalanceFilesResult,
  type RpcConnector,
  type VerifyProofFilesOptions,
  type VerifyProofFilesResult,
} from "./workflows/index.ts";
export { fetchKeys, publishKeys, type FetchKeysOptions, type FetchKeysResult, type PublishKeysOptions, type PublishResult } from "./keys/index.ts";
