/**
 * checkPosition: every check of risk-model.md sections 1-3 by the integer rules of
 * docs/risk-arithmetic.md, with the exact figures behind each verdict; riskReportJson: the
 * `zks check --json` object of formats.md.
 */
import { BPS_DECIMALS } from "../core/fixed-point.ts";
import { formatDecimal } from "../core/decimal.ts";
import type { Market, Policy, Position, Quote, VarMethod } from "../inputs/types.ts";
import { checkDebtAssetBounds, checkDeltaExposureBounds, checkMarketBounds, checkNotionalBounds, checkPolicyBounds, checkQuantityBounds, checkValueBounds } from "./bounds.ts";
import { equityScaled, reportedEquity } from "./equity.ts";
import { healthFactor, type HealthFactorResult } from "./health-factor.ts";
import { historicalVar, type HistoricalVarResult } from "./historical-var.ts";
import { parametricVar, type ParametricVarResult } from "./parametric-var.ts";
import { reportedLoss, scenarioLosses } from "./scenario-loss.ts";
import { stressTest, type StressResult } from "./stress.ts";
import { assetValues, assertResolved, type AssetValues } from "./values.ts";

export type CheckName = "healthFactor" | "stress" | "historicalVar" | "parametricVar";

export interface VarReport {
  method: VarMethod;
  /** At RATIO. */
  confidence: bigint;
  /** At RATIO. */
  capitalMultiplier: bigint;
  /** Present when the policy asks for historical VaR ("historical" or "both"). */
  historical?: HistoricalVarResult;
  /** Present when the policy asks for parametric VaR ("parametric" or "both"). */
  parametric?: ParametricVarResult;
  /** Every VaR method the policy asks for passes. */
  pass: boolean;
}

export interface RiskReport {
  quote: Quote;
  /** vc_i, vd_i (q.u.). */
  values: AssetValues;
  healthFactor: HealthFactorResult;
  equity: {
    /** E*, q.u. * 10^8. */
    scaled: bigint;
    /** E = floor(E* / 10^8), q.u. */
    value: bigint;
  };
  losses: {
    /** L*_j, q.u. * 10^8, one per scenario. */
    scaled: bigint[];
    /** L_j = ceil(L*_j / 10^8), q.u. */
    value: bigint[];
  };
  stress: StressResult;
  var: VarReport;
  /** The checks that fail, in the order health factor, stress, historical VaR, parametric VaR. */
  failures: CheckName[];
  /** Every check passes. */
  pass: boolean;
}

/**
 * Evaluates the position (resolved against `market`) under the policy (resolved against the
 * same market). Throws ModelBoundsError when the position or market lies outside the bounds
 * the circuits can prove, and ModelError on a negative quadratic form.
 */
export function checkPosition(position: Position, market: Market, policy: Policy): RiskReport {
  assertResolved(position, market);
  checkMarketBounds(market);
  checkPolicyBounds(policy.stress.minEquity);
  return checkPositionUnderCheckedMarket(position, market, policy);
}

/**
 * checkPosition without the checks that depend on the market and policy alone, for callers that
 * evaluate many positions under one market (the planner's search) and have run checkPosition
 * once: formatting every scenario's bounds dominated that search.
 */
export function checkPositionUnderCheckedMarket(position: Position, market: Market, policy: Policy): RiskReport {
  assertResolved(position, market);
  checkQuantityBounds(position, market);
  checkNotionalBounds(position, market);
  checkDeltaExposureBounds(position, market);
  checkDebtAssetBounds(position, market);
  const values = assetValues(position, market);
  checkValueBounds(values, market);

  const hf = healthFactor(values, market, policy.minHealthFactor);
  const scaled = equityScaled(values, position, market);
  const equity = reportedEquity(scaled);
  const losses = scenarioLosses(values, position, market);
  const stress = stressTest(scaled, losses, market.scenarios, policy.stress.minEquity);

  const { method, confidence, capitalMultiplier } = policy.var;
  const historical = method === "parametric" ? undefined : historicalVar(losses, scaled, confidence, capitalMultiplier);
  const parametric = method === "historical" ? undefined : parametricVar(values, position, market, equity, confidence, capitalMultiplier);

  const failures: CheckName[] = [];
  if (!hf.pass) failures.push("healthFactor");
  if (!stress.pass) failures.push("stress");
  if (historical && !historical.pass) failures.push("historicalVar");
  if (parametric && !parametric.pass) failures.push("parametricVar");

  return {
    quote: market.quote,
    values,
    healthFactor: hf,
    equity: { scaled, value: equity },
    losses: { scaled: losses, value: losses.map(reportedLoss) },
    stress,
    var: {
      method,
      confidence,
      capitalMultiplier,
      ...(historical && { historical }),
      ...(parametric && { parametric }),
      pass: (historical?.pass ?? true) && (parametric?.pass ?? true),
    },
    failures,
    pass: failures.length === 0,
  };
}

/** The `zks check --json` object (formats.md). Values are decimal strings in the quote currency. */
export interface RiskReportJson {
  /**
   * floor of the exact ratio HFnum / (HFden * BPS) with at least 18 decimals (Aave's wad) and at
   * least 18 significant digits (more decimals below 1), trailing zeros dropped; null with no debt.
   */
  healthFactor: string | null;
  /** The health factor as the exact rational, in lowest terms; null with no debt. */
  healthFactorExact: { numerator: string; denominator: string } | null;
  equity: string;
  stress: { worstLoss: string; scenario: string; pass: boolean };
  var: { historical?: string; parametric?: string; pass: boolean };
  pass: boolean;
}

/** Decimals of the JSON health factor: Aave's wad. */
export const HEALTH_FACTOR_DECIMALS = 18;
/** Significant digits the JSON health factor keeps however small it is: a deeply underwater 0.0083... must not read as 0.0083. */
export const HEALTH_FACTOR_DIGITS = 18;

const gcd = (a: bigint, b: bigint): bigint => (b === 0n ? a : gcd(b, a % b));

/**
 * numerator / denominator (both positive or numerator 0) as a decimal string, floored, with at
 * least HEALTH_FACTOR_DECIMALS decimals and HEALTH_FACTOR_DIGITS significant digits however small
 * the ratio (1 / (3 * 10^30) prints eighteen 3s), trailing zeros dropped (so an exact ratio such
 * as 1 / 10^30 prints its one digit). Exact integer arithmetic: no binary floating point anywhere.
 */
export function exactRatioDecimal(numerator: bigint, denominator: bigint): string {
  if (numerator === 0n) return "0";
  let decimals = HEALTH_FACTOR_DECIMALS;
  let scaled = (numerator * 10n ** BigInt(decimals)) / denominator;
  // Each pass adds the digits still missing (all of them while the floor is 0), so the loop ends
  // with exactly HEALTH_FACTOR_DIGITS significant digits once the first one appears.
  while (scaled === 0n || scaled.toString().length < HEALTH_FACTOR_DIGITS) {
    decimals += HEALTH_FACTOR_DIGITS - (scaled === 0n ? 0 : scaled.toString().length);
    scaled = (numerator * 10n ** BigInt(decimals)) / denominator;
  }
  return formatDecimal(scaled, decimals);
}

export function riskReportJson(report: RiskReport, market: Market): RiskReportJson {
  const money = (value: bigint): string => formatDecimal(value, market.quote.decimals);
  const { historical, parametric } = report.var;
  // HF = HFnum / (HFden * BPS): HFnum is in q.u. * BPS, HFden in q.u.
  const { numerator, denominator } = report.healthFactor;
  const scaledDenominator = denominator * 10n ** BigInt(BPS_DECIMALS);
  const divisor = denominator === 0n ? 1n : gcd(numerator, scaledDenominator);
  return {
    healthFactor: denominator === 0n ? null : exactRatioDecimal(numerator, scaledDenominator),
    healthFactorExact: denominator === 0n ? null : { numerator: (numerator / divisor).toString(), denominator: (scaledDenominator / divisor).toString() },
    equity: money(report.equity.value),
    stress: { worstLoss: money(report.stress.worstLoss), scenario: report.stress.scenario, pass: report.stress.pass },
    var: {
      ...(historical && { historical: money(historical.value) }),
      ...(parametric && { parametric: money(parametric.value) }),
      pass: report.var.pass,
    },
    pass: report.pass,
  };
}
