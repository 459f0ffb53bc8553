/**
 * Floating-point cross-check of the integer risk model (docs/risk-arithmetic.md) against the
 * spec's formulas evaluated in float64 (shared/spec/risk-model.md sections 1-3).
 *
 * Tolerances (test/helpers/model-float.ts), with n_i = number of nonzero amounts among c_i, d_i:
 * - each value rounds by less than 1 q.u. (vc down, vd up), so vc_i - vd_i lies within n_i q.u.
 *   below value(c_i - d_i): up to 2 q.u. for an asset held both as collateral and as debt;
 * - equity: 0 <= E(float) - E <= sum_i n_i + 1 (the +1 is E's floor);
 * - losses: |L_j - L_j(float)| <= sum_i n_i |r_ji| + 1 (returns may exceed 100% in magnitude);
 *   the worst weighted loss within max_j w_j sum_i n_i |r_ji| + 1, historical VaR within
 *   max_j sum_i n_i |r_ji| + 1 (an order statistic moves no more than the losses do);
 * - HF (BPS units): 0 <= HF(float) * 10^4 - HF <= 1 + (sum of LT_i over nonzero c_i
 *   + HF(float) * 10^4 * #nonzero d_i) / sum_i vd_i;
 * - parametric VaR: |V - VaR(float)| <= 1 + (|z| + 2e-8) sqrt(h) (sum_i (n_i + 1/2) sigma_i
 *   + min(1, 1/(2 sqrt Qf))) + VaR * (2e-8 / |z| + 1.2e-9): exposures move by < n_i + 1/2 and
 *   ||dx||_Sigma <= sum |dx_i| sigma_i for a PSD Sigma; Qf's ceiling; Z / 10^8 - z in (1e-8, 2e-8]
 *   plus Acklam's relative error; V's ceilings.
 * Each bound also allows for the float evaluation's own rounding (2^-46 of the sum of |terms|).
 */
import assert from "node:assert/strict";
import type { Market, Policy, Position } from "../packages/sdk/src/inputs/types.ts";
import { checkPosition, type RiskReport } from "../packages/sdk/src/model/index.ts";
import { loadMarket, loadPolicy, loadPosition } from "./helpers/examples.ts";
import { Random, randomMarket, randomPolicy, randomPosition } from "./helpers/model-fixtures.ts";
import { floatFigures, floatSlack, tolerances, type FloatFigures, type Tolerances } from "./helpers/model-float.ts";

const q = (x: bigint): number => Number(x);

interface Comparison {
  report: RiskReport;
  figures: FloatFigures;
  tolerance: Tolerances;
}

function within(actual: number, expected: number, tolerance: number, what: string): void {
  assert.ok(Math.abs(actual - expected) <= tolerance, `${what}: fixed ${actual} vs float ${expected}, off by ${Math.abs(actual - expected)} > tolerance ${tolerance}`);
}

/** Asserts every figure within tolerance and every verdict equal unless the float margin is within tolerance. */
function compare(position: Position, market: Market, policy: Policy, label: string): Comparison {
  const report = checkPosition(position, market, policy);
  const figures = floatFigures(position, market, policy);
  const tolerance = tolerances(position, market, figures, report.healthFactor.denominator);
  const at = (what: string) => `${label}: ${what}`;

  // Health factor: one-sided (the fixed HF never exceeds the exact one).
  if (figures.healthFactor === null) assert.equal(report.healthFactor.value, null, at("HF null"));
  else {
    const exact = figures.healthFactor * 1e4;
    const fixed = q(report.healthFactor.value!);
    assert.ok(fixed <= exact + floatSlack(exact) * 8, at(`HF ${fixed} above exact ${exact}`));
    within(fixed, exact, tolerance.healthFactor, at("HF"));
  }
  const equity = q(report.equity.value);
  assert.ok(equity <= figures.equity + floatSlack(figures.magnitude.equity), at(`equity ${equity} above exact ${figures.equity}`));
  within(equity, figures.equity, tolerance.equity, at("equity"));
  report.losses.value.forEach((loss, j) => within(q(loss), figures.losses[j]!, tolerance.losses[j]!, at(`loss ${j}`)));
  within(q(report.stress.worstLoss), figures.worst, tolerance.worst, at("worst loss"));

  const { historical, parametric } = report.var;
  if (historical) {
    assert.equal(historical.exceptions, figures.exceptions, at("e"));
    within(q(historical.value), figures.historicalVar, tolerance.historicalVar, at("historical VaR"));
  }
  if (parametric) within(q(parametric.value), figures.parametricVar, tolerance.parametricVar, at("parametric VaR"));

  // Verdicts agree except when the float figure sits within tolerance of its threshold.
  const minHF = q(policy.minHealthFactor);
  const cm = q(policy.var.capitalMultiplier) / 1e6;
  const agree = (fixed: boolean, float: boolean, margin: number, slack: number, what: string) => {
    if (fixed !== float) {
      assert.ok(Math.abs(margin) <= slack, at(`${what}: fixed ${fixed}, float ${float}, margin ${margin} beyond tolerance ${slack}`));
    }
  };
  if (figures.healthFactor !== null) {
    agree(report.healthFactor.pass, figures.pass.healthFactor, figures.healthFactor * 1e4 - minHF, tolerance.healthFactor, "HF verdict");
  }
  const minEquity = q(policy.stress.minEquity);
  agree(report.stress.pass, figures.pass.stress, figures.equity - figures.worst - minEquity, tolerance.equity + tolerance.worst, "stress verdict");
  if (historical) {
    agree(historical.pass, figures.pass.historical, figures.equity - cm * figures.historicalVar, tolerance.equity + cm * tolerance.historicalVar, "historical verdict");
  }
  if (parametric) {
    agree(parametric.pass, figures.pass.parametric, figures.equity - cm * figures.parametricVar, tolerance.equity + cm * tolerance.parametricVar, "parametric verdict");
  }
  return { report, figures, tolerance };
}

const EXAMPLES = [
  ["market-grid.json", "position-healthy.json"],
  ["market-grid.json", "position-at-risk.json"],
  ["market-historical.json", "position-healthy.json"],
  ["market-historical.json", "position-at-risk.json"],
] as const;

describe("model: floating-point cross-check", () => {
  for (const [marketName, positionName] of EXAMPLES) {
    it(`${positionName} under ${marketName} agrees with the float formulas`, () => {
      const market = loadMarket(marketName);
      const policy = loadPolicy(market);
      const { report, figures } = compare(loadPosition(positionName, market), market, policy, positionName);
      // Sanity: the float and fixed verdicts are the same on the examples (none is near a threshold).
      assert.equal(report.pass, figures.pass.healthFactor && figures.pass.stress && figures.pass.historical && figures.pass.parametric);
    });
  }

  it("400 random markets, positions and policies agree within the tolerance", () => {
    const rng = new Random(0x5eed_2026);
    const counts = { cases: 0, fail: 0, near: 0, both: 0 };
    for (let i = 0; i < 400; i++) {
      const market = randomMarket(rng);
      const position = randomPosition(rng, market);
      const policy = randomPolicy(rng, market);
      const { report } = compare(position, market, policy, `case ${i}`);
      counts.cases++;
      if (!report.pass) counts.fail++;
      if (position.collateral.some((c, k) => c !== 0n && position.debt[k]! !== 0n)) counts.both++;
    }
    // The generator exercises both verdicts and assets held on both sides.
    assert.ok(counts.fail > 40 && counts.fail < 360, `failing cases: ${counts.fail}`);
    assert.ok(counts.both > 40, `assets on both sides: ${counts.both}`);
  });

  it("near-threshold positions: verdicts agree wherever the float margin exceeds the tolerance", () => {
    // Scale collateral so that the float HF lands within a few BPS of the minimum.
    const rng = new Random(77);
    let checked = 0;
    for (let i = 0; i < 200; i++) {
      const market = randomMarket(rng);
      const position = randomPosition(rng, market);
      const policy = randomPolicy(rng, market);
      const figures = floatFigures(position, market, policy);
      if (figures.healthFactor === null || figures.healthFactor === 0) continue;
      const target = (Number(policy.minHealthFactor) + rng.int(-3, 3)) / 1e4;
      const factor = target / figures.healthFactor;
      const scaled = { ...position, collateral: position.collateral.map((c) => (c * BigInt(Math.round(factor * 1e9))) / 1_000_000_000n) };
      compare(scaled, market, policy, `near case ${i}`);
      checked++;
    }
    assert.ok(checked > 50, `checked ${checked}`);
  });
});
