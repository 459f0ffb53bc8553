/**
 * The TypeScript reference risk model (docs/risk-arithmetic.md): pure integer functions, no
 * Node built-ins, mirrored unit for unit by the circuits.
 *
 * @module
 */
export { ModelError, ModelBoundsError } from "./errors.ts";
export { floorDiv, ceilDiv, roundHalfAway, isqrtFloor, isqrtCeil } from "./rounding.ts";
export { assetValues, collateralValue, debtAssets, debtValue, netValues, type AssetValues } from "./values.ts";
export { BOUND_BITS, withinBits, checkDebtAssetBounds, checkMarketBounds, checkQuantityBounds, checkValueBounds } from "./bounds.ts";
export { healthFactor, type HealthFactorResult } from "./health-factor.ts";
export { EQUITY_SCALE, equityScaled, reportedEquity } from "./equity.ts";
export { scenarioLoss, scenarioLosses, reportedLoss } from "./scenario-loss.ts";
export { STRESS_SCALE, stressTest, type StressResult } from "./stress.ts";
export { allowedExceptions, historicalVar, type HistoricalVarResult } from "./historical-var.ts";
export { QUANTILE_SCALE, inverseNormal, normalQuantile, scaledQuantile } from "./normal-quantile.ts";
export { exposures, quadraticFormScaled, quadraticForm, parametricVarValue, parametricVar, type ParametricVarResult } from "./parametric-var.ts";
export { checkPosition, riskReportJson, type CheckName, type RiskReport, type RiskReportJson, type VarReport } from "./check.ts";
export { explainChecks, explainReport, type CheckExplanation } from "./explain.ts";
