/**
 * The CLI's workflows over files (Node): read and validate the inputs, call the SDK's
 * browser-safe workflow, write the outputs atomically, and return a typed result the caller
 * prints. `zks prove`, `plan`, `verify`, `commit`, `inspect` and `backtest` are thin shells over these.
 */
export { loadAllowanceFile, loadInputFiles, loadMarketFile, loadPolicyFile, loadPositionFile } from "./load-inputs.ts";
export { builtInstanceProver, proveStatementFiles, type ProveStatementFilesOptions, type ProveStatementFilesResult } from "./prove.ts";
export { planRebalanceFiles, type PlanRebalanceFilesOptions, type PlanRebalanceFilesResult } from "./plan.ts";
export { rebalanceFiles, type RebalanceFilesOptions, type RebalanceFilesResult } from "./rebalance.ts";
export { verifyProofFiles, type KeyPinnedBy, type RpcConnector, type VerifyProofFilesOptions, type VerifyProofFilesResult } from "./verify.ts";
export { commitPositionFile, type CommitPositionFileOptions } from "./commit.ts";
export { inspectInstance, inspectInstances, type InstanceDetails, type InstanceSummary } from "./inspect.ts";
export { runBacktestFiles, type BacktestFilesOptions, type BacktestFilesResult } from "./backtest.ts";
export { runSystemicFiles, type SystemicFileSettings, type SystemicFilesOptions, type SystemicFilesResult, type WrittenSystemicReport } from "./systemic.ts";
export {
  EXECUTION_BACKTEST_FILES,
  executionBacktestFiles,
  SCHEDULE_OUTPUT_FILES,
  scheduleExecutionFiles,
  type ExecutionBacktestFilesResult,
  type ScheduleExecutionFilesOptions,
  type ScheduleExecutionFilesResult,
} from "./execution.ts";
