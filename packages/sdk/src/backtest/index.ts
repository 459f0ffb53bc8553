/**
 * Strategy backtests (docs/backtest.md): seeded price paths (simulated, or replayed from a
 * return series), the planner's strategies run over them with the reference risk model, the
 * per-strategy metrics, the Markdown report and the SVG charts, and the workflow that runs them
 * all (workflow.ts). Browser-safe: no Node built-ins; @zk-solvency/node's runBacktestFiles reads
 * and writes the files, and `zks backtest` is a thin shell over it.
 *
 * @module
 */
export { SeededRandom } from "./random.ts";
export { cholesky, NotPositiveSemiDefiniteError } from "./cholesky.ts";
export { assertPricePath, type PricePath } from "./price-path.ts";
export { DEFAULT_PRICE_MODEL, pathSeed, priceModelProblems, simulatePaths, type PriceModel, type SimulationGrid } from "./simulate-paths.ts";
export { parseReturnSeries, type ReturnSeries } from "./returns-file.ts";
export { replayPaths, replaySteps, type ReplayGrid } from "./replay-paths.ts";
export { blackScholes, impliedVol, normalCdf, type OptionKind, type OptionQuote } from "./black-scholes.ts";
export { repriceMarket, repricingModel, repricingSummary, type RepricingModel } from "./reprice-market.ts";
export {
  GATE_GAS_OWNER_REBALANCE_WITH_FLOWS,
  GATE_GAS_REBALANCE_NO_FLOW,
  GATE_GAS_REBALANCE_SWAP,
  GATE_GAS_SWAP_LEG,
  GATE_GAS_SOURCE,
  rebalanceGas,
  type RebalanceGas,
} from "./gate-gas.ts";
export {
  BACKTEST_STRATEGIES,
  BacktestOptionsError,
  DEFAULT_DELTA_BAND_FRACTION,
  DEFAULT_GAS_PRICE_WEI,
  DEFAULT_INTERVAL_DAYS,
  DEFAULT_TARGET_OVER_TRIGGER,
  parseStrategies,
  strategySettings,
  type BacktestStrategy,
  type StrategySettings,
  type StrategySettingsInput,
} from "./strategy-settings.ts";
export { HEALTH_FACTOR_CAP, MAX_RETRY_DAYS, runStrategy, type AdaptiveTrace, type RebalanceRecord, type RunContext, type StrategyPathRun } from "./run-strategy.ts";
export { healthFactorQuantiles, quantile, strategyMetrics, type AdaptiveMetrics, type StrategyMetrics } from "./metrics.ts";
export {
  DEFAULT_EWMA_LAMBDA,
  DEFAULT_GARCH_MIN_RETURNS,
  MAX_PERSISTENCE,
  VARIANCE_FLOOR,
  VOLATILITY_MODELS,
  ewmaVariance,
  fitGarch,
  forecastVolatility,
  garchLogLikelihood,
  garchNextVariance,
  horizonVariance,
  nelderMead,
  type ForecastOptions,
  type GarchFit,
  type GarchParams,
  type NelderMeadResult,
  type VolatilityForecast,
  type VolatilityModel,
} from "./volatility-forecast.ts";
export {
  ADAPTIVE_MAX_TARGET,
  ADAPTIVE_MAX_TRIGGER,
  DEFAULT_ADAPTIVE_K,
  DEFAULT_ADAPTIVE_REACTION_DAYS,
  DEFAULT_ADAPTIVE_SETTINGS,
  DEFAULT_ADAPTIVE_TARGET_DAYS,
  adaptiveLevels,
  healthFactorExposure,
  knownReturns,
  marketHistory,
  type AdaptiveLevels,
  type AdaptiveSettings,
  type MarketHistory,
} from "./adaptive-trigger.ts";
export { covarianceMatrix, representativePath, runBacktest, type BacktestInput, type BacktestResult } from "./run-backtest.ts";
export { defaultBacktestAllowance, allowanceText } from "./default-allowance.ts";
export { costRiskChart, healthFactorBandChart, healthFactorPathChart, STRATEGY_COLORS, STRATEGY_LABELS } from "./charts.ts";
export { markdownReport, markdownTable, resultsJson, tableRows, textTable, type BacktestDescription, type PathSource } from "./report.ts";
export {
  BACKTEST_NUMBER_RULES,
  BACKTEST_OUTPUT_FILES,
  BACKTEST_PNG_OF,
  DEFAULT_BACKTEST_PATHS,
  DEFAULT_HORIZON_DAYS,
  DEFAULT_SEED,
  DEFAULT_STEP_DAYS,
  backtestDescription,
  backtestPricePaths,
  backtestReportFiles,
  checkNumberOption,
  parseNumberOption,
  parseNumberPair,
  runBacktestWorkflow,
  type BacktestCharts,
  type BacktestFile,
  type BacktestPathSpec,
  type BacktestPaths,
  type BacktestReportMeta,
  type BacktestRun,
  type BacktestWorkflowInput,
  type NumberRule,
} from "./workflow.ts";
