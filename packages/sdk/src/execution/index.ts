/**
 * Time-weighted, randomized execution (docs/execution.md): a rebalance plan's swaps split into
 * slices over a window, each slice's time and size drawn from a seed the owner committed to before
 * the window opened; the slice proofs and the verifier of a chain of slices; the front-running
 * backtest of deterministic against randomized schedules; the schedule files. Browser-safe: no
 * Node built-ins; `zks execution` (packages/cli) reads and writes the files.
 *
 * @module
 */
export {
  checkExecutionWindow,
  checkSecret,
  checkWindow,
  deriveSchedule,
  deterministicSchedule,
  drawParts,
  DRAW_TIME_BITS,
  DRAW_WEIGHT_BITS,
  MAX_DELAY_SPACING_FRACTION,
  maxDelayLimit,
  MAX_SCHEDULE_AMOUNT,
  MAX_SCHEDULE_ASSET,
  MAX_SLICES,
  MAX_WINDOW_SECONDS,
  MAX_WINDOW_START,
  MIN_SCHEDULE_SALT,
  MIN_SLICE_SPACING_SECONDS,
  paddedPlan,
  parseSecretField,
  planHash,
  randomScheduleSecret,
  SCHEDULE_SLICE_INSTANCE,
  SCHEDULE_SWAP_SLOTS,
  scheduleCommitment,
  scheduleDraws,
  ScheduleError,
  sliceDraw,
  spacingSeconds,
  splitByWeights,
  WEIGHT_BASE,
  type Schedule,
  type ScheduledSlice,
  type ScheduleSecret,
  type ScheduleSwap,
  type ScheduleWindow,
} from "./schedule.ts";
export {
  ceilSplit,
  planSwapsOf,
  scheduleTransitions,
  sliceMinOut,
  slicePlan,
  type PlanSwap,
  type SchedulablePlan,
  type ScheduleTransitionOptions,
  type SlicedPlan,
  type SliceStep,
} from "./slices.ts";
export {
  checkScheduleSliceProof,
  decodeSliceSignals,
  proveScheduleSlice,
  scheduleSliceInput,
  sliceProofOf,
  sliceShape,
  type DecodedSliceSignals,
  type ScheduleSliceProof,
  type ScheduleSliceProofInput,
  type SliceShape,
} from "./slice-proof.ts";
export {
  DEFAULT_MAX_DELAY_SECONDS,
  ScheduleChainError,
  verifyScheduleChain,
  type ScheduleChainFailure,
  type ScheduleChainInput,
  type ScheduleChainReport,
  type ScheduleChainStep,
  type SoldPair,
} from "./verify-chain.ts";
export {
  adaptiveFrontRun,
  amountOut,
  blindFrontRun,
  knownSandwich,
  largestFrontRun,
  poolAt,
  roundTripCost,
  sandwich,
  sellBase,
  sellQuote,
  type LandingOutcome,
  type Pool,
  type SandwichOutcome,
} from "./front-running.ts";
export {
  checkExecutionBacktestOptions,
  DEFAULT_EXECUTION_BACKTEST,
  EXECUTION_SCHEDULES,
  executionBacktestMarkdown,
  executionBacktestTable,
  runExecutionBacktest,
  type Distribution,
  type ExecutionBacktestOptions,
  type ExecutionBacktestResult,
  type ExecutionBacktestRow,
  type ExecutionSchedule,
} from "./backtest.ts";
export {
  COMMITMENT_FILE_KIND,
  SCHEDULE_FILE_KIND,
  SEED_FILE_KIND,
  parseCommitmentFile,
  parseSeedFile,
  scheduleFiles,
  type ScheduleFiles,
  type PublishedCommitment,
  type SeedFile,
} from "./schedule-files.ts";
