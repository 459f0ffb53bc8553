import type { Market, Policy, Position } from "../inputs/types.ts";
import { checkPosition, type RiskReport } from "../model/check.ts";
import { explainChecks, type CheckExplanation } from "../model/explain.ts";

export interface CheckWorkflowResult {
  /** Every check of the policy passes. */
  pass: boolean;
  report: RiskReport;
  /** One line per check, saying by how much a failing one fails. */
  checks: CheckExplanation[];
  failing: CheckExplanation[];
}

/**
 * The policy's checks (health factor, stress, VaR) on a position, with their explanations: what
 * `zks check` prints, and what proving workflows run first so a failing position gets an
 * explanation rather than a witness error. Bounds and model errors throw (exit 2).
 */
export function checkWorkflow(position: Position, market: Market, policy: Policy): CheckWorkflowResult {
  const report = checkPosition(position, market, policy);
  const checks = explainChecks(report);
  return { pass: report.pass, report, checks, failing: checks.filter((c) => !c.pass) };
}
