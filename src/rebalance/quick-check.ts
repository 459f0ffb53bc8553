/**
 * checkPosition (src/model/check.ts) for the planner's search, which evaluates thousands of
 * candidate positions under one market: the same steps and the same report, less the checks
 * that depend on the market and policy alone (checkMarketBounds, checkPolicyBounds), which
 * plan() has already run once through checkPosition on the starting position. The plan's final
 * reports come from checkPosition itself.
 */
import type { Market, Policy, Position } from "../inputs/types.ts";
import { checkDeltaExposureBounds, checkNotionalBounds, checkQuantityBounds, checkValueBounds } from "../model/bounds.ts";
import type { CheckName, RiskReport } from "../model/check.ts";
import { equityScaled, reportedEquity } from "../model/equity.ts";
import { healthFactor } from "../model/health-factor.ts";
import { historicalVar } from "../model/historical-var.ts";
import { parametricVar } from "../model/parametric-var.ts";
import { reportedLoss, scenarioLosses } from "../model/scenario-loss.ts";
import { stressTest } from "../model/stress.ts";
import { assetValues, assertResolved } from "../model/values.ts";

export function quickCheck(position: Position, market: Market, policy: Policy): RiskReport {
  assertResolved(position, market);
  checkQuantityBounds(position, market);
  checkNotionalBounds(position, market);
  checkDeltaExposureBounds(position, market);
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
