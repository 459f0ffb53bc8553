/**
 * Systemic risk (docs/systemic.md): the closed-form restore rule every vault follows (the
 * planner's threshold repair reduced to the health factor, in integer arithmetic), constant-product
 * pools, books of vaults varied from example positions, and the cascade simulation that runs
 * thousands of vaults through the pools and measures whether synchronized triggers amplify a
 * shock. Browser-safe: no Node built-ins; @zk-solvency/node's runSystemicFiles reads and writes the
 * files, and `zks systemic` is a thin shell over it.
 *
 * @module
 */
export { byLiquidationThreshold, healthTerms, restoreRule, type RestoreOptions, type RestorePlan, type RestoreStep } from "./restore-rule.ts";
export { amountOut, buyAsset, DEFAULT_FEE_BPS, FEE_SCALE, largestPassing, movePool, poolAt, poolPrice, sellAsset, type Pool } from "./amm.ts";
export {
  bookAsIs,
  DEFAULT_BOOK_VARIATION,
  generateBook,
  strategyOf,
  VAULT_STRATEGIES,
  type BookVariation,
  type StrategyMix,
  type StrategyParameters,
  type Vault,
  type VaultStrategy,
} from "./book.ts";
export {
  ACCOUNTS,
  RUN_MODES,
  simulate,
  standing,
  stateHoldings,
  type Account,
  type Ledger,
  type RunMode,
  type SimulationConfig,
  type SimulationRun,
  type StepRecord,
  type Trade,
  type VaultOutcome,
} from "./simulate.ts";
export { amplification, summarize, type Amplification, type PoolDrain, type RunSummary } from "./metrics.ts";
export {
  checkSystemicNumber,
  LIQUIDITY_LEVELS,
  mixLabel,
  parseDepth,
  parseHealthFactor,
  parseLiquidity,
  parseMix,
  parseMixes,
  parseQuoteAsset,
  parseRange,
  parseShock,
  parseSystemicNumber,
  parseVaultCounts,
  SYSTEMIC_NUMBER_RULES,
  SystemicOptionsError,
  type SystemicNumberRule,
} from "./options.ts";
export {
  ALL_RANDOMIZED,
  ALL_THRESHOLD,
  DEFAULT_BONUS,
  DEFAULT_INTERVAL_STEPS,
  DEFAULT_JITTER,
  DEFAULT_LIQUIDITY,
  DEFAULT_MAX_DELAY,
  DEFAULT_SEED,
  DEFAULT_SHOCK,
  DEFAULT_STEP_HOURS,
  DEFAULT_STEPS,
  DEFAULT_SWEEP_MIXES,
  DEFAULT_SWEEP_VAULTS,
  DEFAULT_TARGET_OVER_TRIGGER,
  DEFAULT_VAULTS,
  exogenousPath,
  MIXED,
  REFERENCE_VAULTS,
  runSystemicWorkflow,
  sweepPlan,
  systemicSettings,
  type SweepPoint,
  type SystemicInput,
  type SystemicRun,
  type SystemicSettings,
} from "./workflow.ts";
export { amplificationChart, liquidationChart, liquidityChart, priceChart, sweepLiquidationChart, systemicCharts, volumeChart } from "./charts.ts";
export {
  markdownTable,
  RUN_HEADER,
  runRows,
  SWEEP_HEADER,
  sweepRows,
  SYSTEMIC_OUTPUT_FILES,
  SYSTEMIC_PNG_OF,
  systemicMarkdown,
  systemicReportFiles,
  systemicResultJson,
  systemicSummaryJson,
  textTable,
  type SystemicFile,
  type SystemicReportMeta,
} from "./report.ts";
