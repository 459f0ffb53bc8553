/**
 * Section 4 of docs/risk-arithmetic.md (risk-model.md section 2, SPAN view):
 *   W*_j  = w_j * L*_j                         (q.u. * 10^12)
 *   worst = max(0, max_j W*_j)
 *   pass <=> E* * BPS >= worst + minEquity * 10^12
 *   reported worstLoss = ceil(worst / 10^12), scenario = first j attaining max_j W*_j
 */
import { BPS_SCALE, RATE_SCALE } from "../core/fixed-point.ts";
import type { Scenario } from "../inputs/types.ts";
import { ModelError } from "./errors.ts";
import { ceilDiv } from "./rounding.ts";

/** Scale of weighted losses W*_j: q.u. * BPS * RATE = q.u. * 10^12. */
export const STRESS_SCALE = BPS_SCALE * RATE_SCALE;

export interface StressResult {
  /** W*_j = w_j * L*_j, q.u. * 10^12, one per scenario. */
  weightedLosses: bigint[];
  /** max(0, max_j W*_j), q.u. * 10^12. */
  worst: bigint;
  /** ceil(worst / 10^12), q.u. */
  worstLoss: bigint;
  /** The first scenario attaining max_j W*_j (the worst one even when every scenario gains). */
  scenarioIndex: number;
  scenario: string;
  /** Its weight at BPS. */
  weight: bigint;
  /** policy.stress.minEquity, q.u. */
  minEquity: bigint;
  /** E* * BPS - worst - minEquity * 10^12 (q.u. * 10^12): >= 0 exactly when the check passes. */
  margin: bigint;
  pass: boolean;
}

export function stressTest(equityScaled: bigint, losses: readonly bigint[], scenarios: readonly Scenario[], minEquity: bigint): StressResult {
  if (scenarios.length === 0 || losses.length !== scenarios.length) {
    throw new ModelError(`stress test needs one loss per scenario (got ${losses.length} losses, ${scenarios.length} scenarios)`);
  }
  const weightedLosses = scenarios.map((s, j) => s.weight * losses[j]!);
  let scenarioIndex = 0;
  weightedLosses.forEach((w, j) => {
    if (w > weightedLosses[scenarioIndex]!) scenarioIndex = j;
  });
  const max = weightedLosses[scenarioIndex]!;
  const worst = max > 0n ? max : 0n;
  const margin = equityScaled * BPS_SCALE - worst - minEquity * STRESS_SCALE;
  return {
    weightedLosses,
    worst,
    worstLoss: ceilDiv(worst, STRESS_SCALE),
    scenarioIndex,
    scenario: scenarios[scenarioIndex]!.name,
    weight: scenarios[scenarioIndex]!.weight,
    minEquity,
    margin,
    pass: margin >= 0n,
  };
}
