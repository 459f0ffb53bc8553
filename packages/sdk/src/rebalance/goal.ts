/**
 * What a plan restores, and when a strategy acts: every check of the policy passes, the health
 * factor reaches a level (the policy's trigger by default) and, optionally, the VaR capital
 * leaves a headroom of the equity free. Shortfalls say by how much a report misses a goal, in
 * quote units of equity (or risk-adjusted collateral for the health factor), for ranking the
 * planner's candidates and for the no-plan reason.
 */
import { BPS_SCALE, RATIO_SCALE } from "../core/fixed-point.ts";
import type { CheckName, RiskReport } from "../model/check.ts";
import { EQUITY_SCALE } from "../model/equity.ts";
import { ceilDiv, floorDiv } from "../model/rounding.ts";
import { STRESS_SCALE } from "../model/stress.ts";

export interface Goal {
  /** At BPS: HFnum >= healthFactor * HFden (no debt always meets it). */
  healthFactor: bigint;
  /**
   * At RATIO, in [0, 1): the VaR capital may use at most (1 - varHeadroom) of the equity:
   * capitalMultiplier * VaR <= E * (RATIO - varHeadroom), for every VaR method of the policy.
   * 0 is the policy's own VaR check.
   */
  varHeadroom: bigint;
}

export interface Shortfall {
  check: CheckName;
  /** q.u.: risk-adjusted collateral missing (health factor) or equity missing (the others), rounded up. */
  amount: bigint;
  /** For the health factor: the debt to repay instead, q.u. */
  repay?: bigint;
}

/** Each way `report` misses `goal`; empty exactly when the report meets it. */
export function shortfalls(report: RiskReport, goal: Goal): Shortfall[] {
  const out: Shortfall[] = [];
  const hf = report.healthFactor;
  const hfGoal = goal.healthFactor > hf.minimum ? goal.healthFactor : hf.minimum;
  if (hf.denominator > 0n && hf.numerator < hfGoal * hf.denominator) {
    out.push({
      check: "healthFactor",
      amount: ceilDiv(hfGoal * hf.denominator - hf.numerator, BPS_SCALE),
      repay: hf.denominator - floorDiv(hf.numerator, hfGoal),
    });
  }
  if (!report.stress.pass) out.push({ check: "stress", amount: ceilDiv(-report.stress.margin, STRESS_SCALE) });
  const free = RATIO_SCALE - goal.varHeadroom;
  const { capitalMultiplier } = report.var;
  const h = report.var.historical;
  if (h) {
    // capitalMultiplier * VaR* <= E* * free, E* >= 0 (q.u. * 10^8 * RATIO).
    const missing = capitalMultiplier * h.scaled - report.equity.scaled * free;
    if (missing > 0n || report.equity.scaled < 0n || !h.pass) {
      out.push({ check: "historicalVar", amount: ceilDiv(missing > 0n ? missing : 1n, free * EQUITY_SCALE) });
    }
  }
  const p = report.var.parametric;
  if (p) {
    const missing = capitalMultiplier * p.value - report.equity.value * free;
    if (missing > 0n || report.equity.value < 0n || !p.pass) {
      out.push({ check: "parametricVar", amount: ceilDiv(missing > 0n ? missing : 1n, free) });
    }
  }
  return out;
}

export function meetsGoal(report: RiskReport, goal: Goal): boolean {
  return report.pass && shortfalls(report, goal).length === 0;
}

/** Sum of the shortfalls (q.u.): 0 exactly when the goal is met and the checks pass. */
export function totalShortfall(report: RiskReport, goal: Goal): bigint {
  const sum = shortfalls(report, goal).reduce((s, x) => s + x.amount, 0n);
  return sum === 0n && !report.pass ? 1n : sum;
}

/** Margins in q.u. of equity over each requirement (positive = room), for explanations. */
export interface Margins {
  /** HF at BPS, null with no debt. */
  healthFactor: bigint | null;
  stress: bigint;
  historicalVar?: bigint;
  parametricVar?: bigint;
}

export function margins(report: RiskReport): Margins {
  const h = report.var.historical;
  const p = report.var.parametric;
  return {
    healthFactor: report.healthFactor.value,
    stress: floorDiv(report.stress.margin, STRESS_SCALE),
    ...(h && { historicalVar: floorDiv(h.margin, RATIO_SCALE * EQUITY_SCALE) }),
    ...(p && { parametricVar: floorDiv(p.margin, RATIO_SCALE) }),
  };
}
