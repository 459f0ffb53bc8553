import assert from "node:assert/strict";
import { abs } from "../packages/sdk/src/model/rounding.ts";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { ZksError } from "../packages/sdk/src/core/errors.ts";
import type { Market, Policy } from "../packages/sdk/src/inputs/types.ts";
import {
  allowedExceptions,
  ceilDiv,
  checkPosition,
  explainReport,
  floorDiv,
  historicalVar,
  inverseNormal,
  isqrtCeil,
  isqrtFloor,
  ModelBoundsError,
  ModelError,
  parametricVarValue,
  riskReportJson,
  roundHalfAway,
  scaledQuantile,
} from "../packages/sdk/src/model/index.ts";
import { PACKAGE_ROOT } from "../packages/node/src/setup/paths.ts";
import { loadMarket, loadPolicy, loadPosition } from "./helpers/examples.ts";
import { positionOf, Random, withMarket, withPolicy } from "./helpers/model-fixtures.ts";

const E8 = 10n ** 8n;
const E12 = 10n ** 12n;
const E18 = 10n ** 18n;
/** Whole tokens -> base units. */
const units = (whole: bigint, decimals: number): bigint => whole * 10n ** BigInt(decimals);

const grid = (): Market => loadMarket("market-grid.json");
const historical = (): Market => loadMarket("market-historical.json");

function throwsBounds(run: () => unknown, fragment: string): void {
  assert.throws(run, (error: unknown) => {
    assert.ok(error instanceof ModelBoundsError, `expected ModelBoundsError, got ${String(error)}`);
    assert.ok(error instanceof ZksError);
    assert.equal(error.exitCode, 2);
    assert.ok(error.message.includes(fragment), `message ${JSON.stringify(error.message)} lacks ${JSON.stringify(fragment)}`);
    return true;
  });
}

describe("model: rounding helpers", () => {
  it("floorDiv, ceilDiv and roundHalfAway round as named for every sign", () => {
    assert.deepEqual([floorDiv(7n, 2n), floorDiv(-7n, 2n), floorDiv(7n, -2n), floorDiv(-7n, -2n), floorDiv(-6n, 2n)], [3n, -4n, -4n, 3n, -3n]);
    assert.deepEqual([ceilDiv(7n, 2n), ceilDiv(-7n, 2n), ceilDiv(7n, -2n), ceilDiv(-7n, -2n), ceilDiv(6n, 2n)], [4n, -3n, -3n, 4n, 3n]);
    assert.deepEqual(
      [roundHalfAway(5n, 2n), roundHalfAway(-5n, 2n), roundHalfAway(7n, 3n), roundHalfAway(-8n, 3n), roundHalfAway(5n, -2n), roundHalfAway(0n, 3n)],
      [3n, -3n, 2n, -3n, -3n, 0n],
    );
    assert.throws(() => floorDiv(1n, 0n), RangeError);
  });

  it("agree with a float reference on random operands", () => {
    const rng = new Random(1);
    for (let i = 0; i < 2000; i++) {
      const a = rng.signed(1e6);
      const b = rng.signed(1e3) || 1n;
      const exact = Number(a) / Number(b);
      assert.equal(floorDiv(a, b), BigInt(Math.floor(exact)));
      assert.equal(ceilDiv(a, b), BigInt(Math.ceil(exact)));
      const away = Math.sign(exact) * Math.floor(Math.abs(exact) + 0.5);
      assert.equal(roundHalfAway(a, b), BigInt(away));
    }
  });

  it("isqrtFloor / isqrtCeil are the exact integer square roots", () => {
    assert.deepEqual([0n, 1n, 2n, 3n, 4n, 15n, 16n, 17n].map(isqrtCeil), [0n, 1n, 2n, 2n, 2n, 4n, 4n, 5n]);
    const rng = new Random(2);
    for (let i = 0; i < 500; i++) {
      const n = rng.digits(rng.int(1, 60));
      const f = isqrtFloor(n);
      assert.ok(f * f <= n && (f + 1n) * (f + 1n) > n);
      const c = isqrtCeil(n);
      assert.ok(c * c >= n && (c === 0n || (c - 1n) * (c - 1n) < n));
    }
    assert.throws(() => isqrtFloor(-1n), RangeError);
  });
});

describe("model: example files", () => {
  it("position-healthy passes every check under market-grid.json and policy.json", () => {
    const market = grid();
    const report = checkPosition(loadPosition("position-healthy.json", market), market, loadPolicy(market));
    assert.deepEqual(report.failures, []);
    assert.equal(report.pass, true);
    assert.deepEqual(riskReportJson(report, market), {
      healthFactor: "3.808129678103618209",
      healthFactorExact: { numerator: "17062127", denominator: "4480448" },
      equity: "48276.275",
      stress: { worstLoss: "4749.19125", scenario: "price -3/3 range, vol up", pass: true },
      var: { historical: "9513.1025", parametric: "2495.44958058", pass: true },
      pass: true,
    });
  });

  it("position-at-risk fails the stress check under market-grid.json, with hand-computed figures", () => {
    const market = grid();
    const position = loadPosition("position-at-risk.json", market);
    const report = checkPosition(position, market, loadPolicy(market));
    // By hand (quote: USD at 8 decimals, q.u. = 1e-8 USD):
    //   vc_WETH = floor(6e18 * 3012.55e8 / 1e18)        = 1,807,530,000,000  (18,075.30 USD)
    //   vc_WBTC = floor(0.1e8 * 91230.10e8 / 1e8)       =   912,301,000,000  ( 9,123.01 USD)
    //   vd_USDC = ceil(18500e6 * 1.0001e8 / 1e6)        = 1,850,185,000,000  (18,501.85 USD)
    assert.deepEqual(report.values, { collateral: [1_807_530_000_000n, 912_301_000_000n, 0n], debt: [0n, 0n, 1_850_185_000_000n] });
    //   HFnum = 1,807,530,000,000 * 8250 + 912,301,000,000 * 7800 = 22,028,070,300,000,000 (q.u. * BPS)
    //   HFden = 1,850,185,000,000;  HF = floor(HFnum / HFden) = 11905 -> 1.1905 >= 1.10
    //   (11905 * HFden = 22,026,452,425,000,000 <= HFnum < 11906 * HFden)
    assert.equal(report.healthFactor.numerator, 22_028_070_300_000_000n);
    assert.equal(report.healthFactor.denominator, 1_850_185_000_000n);
    assert.equal(report.healthFactor.value, 11_905n);
    assert.equal(report.healthFactor.pass, true);
    //   E* = (1,807,530,000,000 + 912,301,000,000 - 1,850,185,000,000) * 1e8 + (-30e8) * 166.36e8
    //      = 869,646,000,000e8 - 499,080,000,000e8 = 370,566,000,000e8;  E = 3,705.66 USD
    assert.equal(report.equity.scaled, 370_566_000_000n * E8);
    assert.equal(report.equity.value, 370_566_000_000n);
    //   worst scenario 'price +3/3 range, vol up' (r_WETH 0.15, r_WBTC 0.12, short 30 calls gain -311.28 each):
    //   L* = -(1,807,530,000,000 * 0.15e8 + 912,301,000,000 * 0.12e8 + (-30e8) * 311.28e8)
    //      = -(271,129,500,000e8 + 109,476,120,000e8 - 933,840,000,000e8) = 553,234,380,000e8 -> 5,532.3438 USD
    //   weight 1: W* = 1e4 * L*;  E* * 1e4 < W*, so the stress check fails by 1,826.6838 USD.
    assert.equal(report.stress.scenario, "price +3/3 range, vol up");
    assert.equal(report.stress.worst, 553_234_380_000n * E12);
    assert.equal(report.stress.worstLoss, 553_234_380_000n);
    assert.equal(report.stress.pass, false);
    assert.equal(report.stress.margin, -182_668_380_000n * E12);
    // Historical VaR over the 16 grid scenarios, unweighted: e = 0, so VaR is the largest loss,
    // 'extreme up' (weight 0.35 in the stress test, full weight here):
    //   -(18,075.30 * 0.3 + 9,123.01 * 0.24 - 30 * 606.29) = 10,576.5876 USD; 1.5x exceeds E.
    assert.equal(report.var.historical!.exceptions, 0);
    assert.equal(report.var.historical!.value, 1_057_658_760_000n);
    assert.equal(market.scenarios[report.var.historical!.scenarioIndex]!.name, "extreme up");
    assert.deepEqual(report.failures, ["stress", "historicalVar"]);
    assert.equal(report.pass, false);
    assert.deepEqual(riskReportJson(report, market), {
      healthFactor: "1.190587443958306872",
      healthFactorExact: { numerator: "220280703", denominator: "185018500" },
      equity: "3705.66",
      stress: { worstLoss: "5532.3438", scenario: "price +3/3 range, vol up", pass: false },
      var: { historical: "10576.5876", parametric: "1205.01910916", pass: false },
      pass: false,
    });
    assert.equal(explainReport(report)[1], "stress: worst loss 5,532.34 USD in scenario 'price +3/3 range, vol up' exceeds equity 3,705.66 USD by 1,826.68 USD");
  });

  it("parametric VaR of position-at-risk follows the rules step by step", () => {
    const market = grid();
    const report = checkPosition(loadPosition("position-at-risk.json", market), market, loadPolicy(market));
    const p = report.var.parametric!;
    // x_WETH = 1,807,530,000,000 + round(-30e8 * 0.4210e8 * 3012.55e8 / 1e16) = 1,807,530,000,000 - 3,804,850,650,000
    assert.deepEqual(p.exposures, [-1_997_320_650_000n, 912_301_000_000n, -1_850_185_000_000n]);
    // Z = ceil(2.326347874388 * 1e8) + 1
    assert.equal(p.scaledZ, 232_634_789n);
    assert.equal(p.quadraticForm, ceilDiv(p.quadraticFormScaled, E12));
    const n = p.scaledZ * p.scaledZ * BigInt(p.horizonDays) * p.quadraticForm;
    assert.ok((p.value * E8) ** 2n >= n && ((p.value - 1n) * E8) ** 2n < n);
    assert.equal(p.value, 120_501_910_916n);
    assert.equal(p.pass, true);
  });

  it("under market-historical.json: healthy passes; at-risk fails only the stress check", () => {
    const market = historical();
    const policy = loadPolicy(market);
    const healthy = checkPosition(loadPosition("position-healthy.json", market), market, policy);
    assert.deepEqual(riskReportJson(healthy, market), {
      healthFactor: "3.808129678103618209",
      healthFactorExact: { numerator: "17062127", denominator: "4480448" },
      equity: "48276.275",
      stress: { worstLoss: "3299.00139375", scenario: "day 104", pass: true },
      var: { historical: "2566.537875", parametric: "2495.44958058", pass: true },
      pass: true,
    });
    const atRisk = checkPosition(loadPosition("position-at-risk.json", market), market, policy);
    assert.deepEqual(riskReportJson(atRisk, market), {
      healthFactor: "1.190587443958306872",
      healthFactorExact: { numerator: "220280703", denominator: "185018500" },
      equity: "3705.66",
      stress: { worstLoss: "8239.3928651", scenario: "day 173", pass: false },
      var: { historical: "2219.4797107", parametric: "1205.01910916", pass: true },
      pass: false,
    });
    assert.equal(atRisk.var.historical!.exceptions, 2);
    assert.equal(atRisk.var.historical!.exceedances, 1);
    assert.deepEqual(atRisk.failures, ["stress"]);
  });

  it("explains every check in a line", () => {
    const market = grid();
    const policy = loadPolicy(market);
    assert.deepEqual(explainReport(checkPosition(loadPosition("position-healthy.json", market), market, policy)), [
      "health factor 3.8081 >= 1.10",
      "stress: equity 48,276.28 USD covers the worst loss 4,749.19 USD in scenario 'price -3/3 range, vol up'",
      "historical VaR (99%, 16 scenarios, 0 exceptions allowed) 9,513.10 USD x 1.5 = 14,269.65 USD <= equity 48,276.28 USD",
      "parametric VaR (99%, 1 day, z 2.3263) 2,495.45 USD x 1.5 = 3,743.17 USD <= equity 48,276.28 USD",
    ]);
    assert.equal(
      explainReport(checkPosition(loadPosition("position-at-risk.json", market), market, policy))[2],
      "historical VaR (99%, 16 scenarios, 0 exceptions allowed) 10,576.59 USD x 1.5 = 15,864.88 USD exceeds equity 3,705.66 USD by 12,159.22 USD (5 scenarios lose more than 2,470.44 USD; 0 allowed)",
    );
  });

  it("reports only the VaR methods the policy asks for", () => {
    const market = grid();
    const position = loadPosition("position-at-risk.json", market);
    const only = (method: Policy["var"]["method"]) =>
      riskReportJson(
        checkPosition(
          position,
          market,
          withPolicy(loadPolicy(market), (p) => (p.var.method = method)),
        ),
        market,
      ).var;
    assert.deepEqual(only("historical"), { historical: "10576.5876", pass: false });
    assert.deepEqual(only("parametric"), { parametric: "1205.01910916", pass: true });
  });
});

describe("model: boundaries", () => {
  const market = grid();
  const policy = loadPolicy(market);

  it("zero debt: HF is null and passes", () => {
    const report = checkPosition(positionOf(market, { collateral: { WETH: units(1n, 18) } }), market, policy);
    assert.equal(report.healthFactor.value, null);
    assert.equal(report.healthFactor.pass, true);
    assert.equal(riskReportJson(report, market).healthFactor, null);
    assert.equal(explainReport(report)[0], "health factor: no debt, so unbounded (minimum 1.10)");
  });

  it("all-zero position: everything is 0 and passes; a positive minimum equity fails it", () => {
    const empty = positionOf(market, {});
    const report = checkPosition(empty, market, policy);
    assert.equal(report.equity.scaled, 0n);
    assert.ok(report.losses.scaled.every((l) => l === 0n));
    assert.equal(report.stress.worst, 0n);
    assert.equal(report.stress.scenario, market.scenarios[0]!.name);
    assert.equal(report.var.historical!.value, 0n);
    assert.equal(report.var.parametric!.value, 0n);
    assert.equal(report.pass, true);
    const strict = checkPosition(
      empty,
      market,
      withPolicy(policy, (p) => (p.stress.minEquity = 1n)),
    );
    assert.deepEqual(strict.failures, ["stress"]);
    assert.match(explainReport(strict)[1]!, /^stress: equity 0\.00 USD is below the required minimum 0\.00000001 USD by 0\.00000001 USD/);
  });

  it("HF exactly at the minimum passes; one base unit less collateral fails", () => {
    // Debt 300 USDC: vd = 300e6 * 1.0001e8 / 1e6 = 30,003,000,000 exactly. HFnum = minHF * HFden
    // needs vc_WETH * 8250 = 11000 * 30,003,000,000, i.e. vc_WETH = 40,004,000,000 (400.04 USD).
    const debt = { USDC: units(300n, 6) };
    const vc = 40_004_000_000n;
    const wei = ceilDiv(vc * E18, market.assets[0]!.price); // the least wei worth vc
    const at = checkPosition(positionOf(market, { collateral: { WETH: wei }, debt }), market, policy);
    assert.equal(at.values.collateral[0], vc);
    assert.equal(at.healthFactor.numerator, 11_000n * at.healthFactor.denominator);
    assert.equal(at.healthFactor.value, 11_000n);
    assert.equal(at.healthFactor.pass, true);
    assert.equal(explainReport(at)[0], "health factor 1.10 >= 1.10");
    const below = checkPosition(positionOf(market, { collateral: { WETH: wei - 1n }, debt }), market, policy);
    assert.equal(below.values.collateral[0], vc - 1n);
    assert.equal(below.healthFactor.pass, false);
    assert.equal(below.healthFactor.value, 10_999n);
    assert.ok(below.failures.includes("healthFactor"));
    assert.equal(explainReport(below)[0], "health factor 1.0999 < 1.10: risk-adjusted collateral falls short by 0.00000001 USD (or repay 0.00000001 USD of debt)");
  });

  it("negative quantities: equity rounds down, losses up, exposures to the nearest unit with halves up", () => {
    // Short 1e-8 of a call marked 166.36 USD: E* = -1 * 166.36e8 -> E = floor(-166.36) = -167 q.u.
    const short = positionOf(market, { derivatives: { "ETH-26DEC26-3200-C": -1n } });
    const report = checkPosition(short, market, policy);
    assert.equal(report.equity.scaled, -16_636_000_000n);
    assert.equal(report.equity.value, -167n);
    // 'price +3/3 range, vol up': PnL 311.28 per contract -> L* = 311.28e8 -> L = 312 q.u.;
    // 'price -3/3 range, vol up': PnL -95.25 -> L* = -95.25e8 -> L = ceil(-95.25) = -95 q.u.
    const up = market.scenarios.findIndex((s) => s.name === "price +3/3 range, vol up");
    assert.equal(report.losses.scaled[up], 31_128_000_000n);
    assert.equal(report.losses.value[up], 312n);
    assert.equal(report.losses.value[0], -95n);
    // Negative equity fails both VaR checks whatever the VaR.
    assert.equal(report.var.historical!.pass, false);
    assert.equal(report.var.parametric!.pass, false);
    // x_WETH = floor(q * 1268.28355 + 0.5) (q * 0.4210e8 * 3012.55e8 / 1e16, halves up, as the circuit
    // rounds): q = +-10000 gives +-12,682,835.5 -> 12,682,836 and -12,682,835.
    const x = (q: bigint) => checkPosition(positionOf(market, { derivatives: { "ETH-26DEC26-3200-C": q } }), market, policy).var.parametric!.exposures[0];
    assert.equal(x(10_000n), 12_682_836n);
    assert.equal(x(-10_000n), -12_682_835n);
    assert.equal(x(-1n), -1_268n);
  });

  it("stress exactly at the threshold passes; one quote unit more minimum equity fails", () => {
    const position = loadPosition("position-healthy.json", market);
    const report = checkPosition(position, market, policy);
    // E* and the worst weighted loss are whole quote units here, so the threshold is exact.
    assert.equal(report.equity.scaled % E8, 0n);
    assert.equal(report.stress.worst % E12, 0n);
    const minEquity = report.equity.value - report.stress.worstLoss; // 43,527.08375 USD
    assert.equal(minEquity, 4_352_708_375_000n);
    const at = checkPosition(
      position,
      market,
      withPolicy(policy, (p) => (p.stress.minEquity = minEquity)),
    );
    assert.equal(at.stress.margin, 0n);
    assert.equal(at.stress.pass, true);
    const above = checkPosition(
      position,
      market,
      withPolicy(policy, (p) => (p.stress.minEquity = minEquity + 1n)),
    );
    assert.equal(above.stress.pass, false);
    assert.equal(
      explainReport(above)[1],
      "stress: worst loss 4,749.19 USD in scenario 'price -3/3 range, vol up' exceeds equity 48,276.28 USD less the required minimum 43,527.08 USD by 0.00000001 USD",
    );
  });

  it("a weighted extreme scenario counts at its weight", () => {
    // Long WETH only: 'extreme down' loses 30%, weighted 0.35 -> 10.5%, below the 15% of 'price -3/3'.
    const report = checkPosition(positionOf(market, { collateral: { WETH: units(10n, 18) } }), market, policy);
    assert.equal(report.stress.scenario.startsWith("price -3/3 range"), true);
    const extreme = market.scenarios.findIndex((s) => s.name === "extreme down");
    assert.equal(report.stress.weightedLosses[extreme], 3_500n * report.losses.scaled[extreme]!);
    assert.equal(report.losses.value[extreme], 903_765_000_000n);
  });
});

describe("model: historical VaR", () => {
  const RATIO = 1_000_000n;

  it("allowed exceptions e = floor((1 - alpha) * S), exactly", () => {
    assert.equal(allowedExceptions(990_000n, 250), 2);
    assert.equal(allowedExceptions(990_000n, 16), 0);
    assert.equal(allowedExceptions(990_000n, 100), 1);
    assert.equal(allowedExceptions(950_000n, 250), 12);
    // (1 - 0.9) * 10 is 0.9999999999999998 in float64; the integer rule gives 1.
    assert.equal(allowedExceptions(900_000n, 10), 1);
    assert.throws(() => allowedExceptions(RATIO, 10), ModelError);
  });

  it("S = 250, alpha = 0.99: VaR is the third largest loss, ties included", () => {
    const losses = Array.from({ length: 250 }, (_, j) => BigInt(-j));
    losses[17] = 100n;
    losses[3] = 90n;
    losses[200] = 90n;
    losses[90] = 90n;
    const at = historicalVar(losses, 135n, 990_000n, 1_500_000n);
    assert.equal(at.exceptions, 2);
    assert.equal(at.scaled, 90n);
    assert.equal(at.scenarioIndex, 90); // first of the tied losses in market order after the largest
    assert.equal(at.pass, true); // 1.5 * 90 = 135 <= 135
    assert.equal(at.threshold, 90n);
    assert.equal(at.exceedances, 1);
    const below = historicalVar(losses, 134n, 990_000n, 1_500_000n);
    assert.equal(below.pass, false);
    assert.equal(below.exceedances, 4); // T* = floor(134 / 1.5) = 89: 100, 90, 90, 90 exceed it
    // All tied: the third largest is the tie.
    assert.equal(historicalVar(Array(250).fill(7n), 100n, 990_000n, RATIO).scaled, 7n);
  });

  it("S = 16, alpha = 0.99: e = 0, VaR is the largest loss", () => {
    const losses = Array.from({ length: 16 }, (_, j) => BigInt(j * 10 - 50));
    const result = historicalVar(losses, 10n ** 9n, 990_000n, RATIO);
    assert.equal(result.exceptions, 0);
    assert.equal(result.scaled, 100n);
  });

  it("E* < 0 fails even with no loss; E* = 0 passes with VaR 0", () => {
    const gains = Array.from({ length: 16 }, () => -5n);
    assert.equal(historicalVar(gains, 0n, 990_000n, RATIO).pass, true);
    const negative = historicalVar(gains, -1n, 990_000n, RATIO);
    assert.equal(negative.scaled, 0n);
    assert.equal(negative.pass, false);
  });

  it("the circuit's count form (at most e losses above T*) decides exactly as the sorted form", () => {
    const rng = new Random(3);
    for (let i = 0; i < 3000; i++) {
      const losses = Array.from({ length: rng.int(1, 40) }, () => rng.signed(1000));
      const confidence = BigInt(rng.int(1, 999_999));
      const multiplier = BigInt(rng.int(1, 4_000_000));
      const equity = rng.signed(1500);
      const r = historicalVar(losses, equity, confidence, multiplier);
      assert.equal(r.pass, equity >= 0n && r.exceedances <= r.exceptions, `case ${i}`);
      assert.ok(r.scaled >= 0n);
    }
  });
});

describe("model: parametric VaR", () => {
  it("z from Acklam's approximation is within 1.2e-9 of the true quantiles, and Z covers it", () => {
    const known: [bigint, number][] = [
      [990_000n, 2.3263478740408408],
      [950_000n, 1.6448536269514722],
      [975_000n, 1.959963984540054],
      [999_000n, 3.090232306167813],
      [999_900n, 3.719016485455709],
      [500_000n, 0],
    ];
    for (const [confidence, z] of known) {
      const approx = inverseNormal(Number(confidence) / 1e6);
      assert.ok(Math.abs(approx - z) <= 1.2e-9 * Math.abs(z) + 1e-15, `z(${confidence}) = ${approx}, want ${z}`);
      assert.ok(Number(scaledQuantile(confidence)) >= z * 1e8, `Z(${confidence}) >= z * 1e8`);
    }
    assert.ok(Math.abs(inverseNormal(0.99) - 2.326347874) < 1e-9);
    assert.equal(scaledQuantile(990_000n), 232_634_789n);
    assert.ok(Math.abs(inverseNormal(0.01) + inverseNormal(0.99)) < 1e-15);
  });

  it("V is the smallest integer with (V * 1e8)^2 >= Z^2 * h * Qf", () => {
    const rng = new Random(4);
    assert.equal(parametricVarValue(232_634_789n, 1, 0n), 0n);
    assert.equal(parametricVarValue(232_634_789n, 1, 1n), 3n); // 2.33 q.u. rounds up
    for (let i = 0; i < 1000; i++) {
      const z = BigInt(rng.int(1, 5e8));
      const h = rng.int(1, 30);
      const qf = rng.digits(rng.int(0, 40));
      const v = parametricVarValue(z, h, qf);
      const n = z * z * BigInt(h) * qf;
      assert.ok((v * E8) ** 2n >= n, `case ${i}`);
      assert.ok(v === 0n || ((v - 1n) * E8) ** 2n < n, `case ${i} minimal`);
    }
  });

  it("negative equity fails; a negative quadratic form (covariance not PSD) is refused", () => {
    const market = grid();
    const policy = loadPolicy(market);
    const underwater = positionOf(market, { collateral: { WETH: units(1n, 18) }, debt: { USDC: units(4000n, 6) } });
    const report = checkPosition(underwater, market, policy);
    assert.ok(report.equity.value < 0n);
    assert.equal(report.var.parametric!.pass, false);
    assert.match(explainReport(report)[3]!, /^parametric VaR .*: equity -98[0-9.,]+ USD is negative$/);

    const notPsd = withMarket(market, (m) => {
      m.covariance.matrix[0]![1] = 3_000_000_000n;
      m.covariance.matrix[1]![0] = 3_000_000_000n;
    });
    const hedged = positionOf(notPsd, { collateral: { WETH: units(30n, 18) }, debt: { WBTC: units(1n, 8) } });
    assert.throws(
      () => checkPosition(hedged, notPsd, policy),
      (error: unknown) => error instanceof ModelError && error.exitCode === 2 && /not positive semidefinite/.test(error.message),
    );
    // A policy without parametric VaR does not evaluate the quadratic form.
    assert.doesNotThrow(() =>
      checkPosition(
        hedged,
        notPsd,
        withPolicy(policy, (p) => (p.var.method = "historical")),
      ),
    );
  });
});

describe("model: bounds", () => {
  const market = grid();
  const policy = loadPolicy(market);
  const wbtcPrice = market.assets[1]!.price;
  const LIMIT = 1n << 80n;
  // The least satoshis worth 2^80 q.u. (vc rounds down, so this reaches the bound exactly).
  const satoshis = ceilDiv(LIMIT * E8, wbtcPrice);

  it("refuses a collateral or debt value of 2^80 quote units, accepts one unit less", () => {
    throwsBounds(() => checkPosition(positionOf(market, { collateral: { WBTC: satoshis } }), market, policy), "value of WBTC collateral exceeds 2^80 quote units");
    const under = checkPosition(positionOf(market, { collateral: { WBTC: satoshis - 1n } }), market, policy);
    assert.ok(under.values.collateral[1]! < LIMIT);
    // vd rounds up: the least satoshis whose debt value reaches 2^80.
    const debtUnits = floorDiv(LIMIT * E8, wbtcPrice);
    throwsBounds(() => checkPosition(positionOf(market, { debt: { WBTC: debtUnits + 1n } }), market, policy), "value of WBTC debt exceeds 2^80 quote units");
  });

  it("refuses a quantity of 2^80 units in the risk checks", () => {
    const position = positionOf(market, { derivatives: { "BTC-26DEC26-95000-C": -(1n << 80n) } });
    throwsBounds(() => checkPosition(position, market, policy), "quantity of instrument BTC-26DEC26-95000-C exceeds 2^80");
    const ok = positionOf(market, { derivatives: { "BTC-26DEC26-95000-C": -(1n << 60n) } });
    assert.doesNotThrow(() => checkPosition(ok, market, policy));
  });

  it("refuses an instrument notional or scenario PnL of 2^107 (2^80 quote units), the circuits' comparison width", () => {
    const k = market.instruments.findIndex((i) => i.id === "BTC-26DEC26-95000-C");
    const largest = [market.instruments[k]!.mark, ...market.scenarios.map((s) => s.instrumentPnl[k]!)].reduce((a, b) => (abs(b) > abs(a) ? b : a));
    const limit = ((1n << 107n) - 1n) / abs(largest);
    const over = positionOf(market, { derivatives: { "BTC-26DEC26-95000-C": limit + 1n } });
    throwsBounds(() => checkPosition(over, market, policy), "of instrument BTC-26DEC26-95000-C");
    const at = positionOf(market, { derivatives: { "BTC-26DEC26-95000-C": limit } });
    assert.doesNotThrow(() => checkPosition(at, market, policy));
  });

  it("refuses market figures outside the table", () => {
    const position = loadPosition("position-healthy.json", market);
    const cases: [(m: Market) => void, string][] = [
      [(m) => (m.scenarios[2]!.assetReturns[0] = -(1n << 31n)), "return of WETH in scenario 'price -2/3 range, vol up' exceeds 2^31"],
      [(m) => (m.instruments[1]!.mark = 1n << 64n), "mark of instrument ETH-26DEC26-2800-P exceeds 2^64 quote units"],
      [(m) => (m.scenarios[0]!.instrumentPnl[2] = -(1n << 64n)), "PnL of instrument BTC-26DEC26-95000-C in scenario 'price -3/3 range, vol up'"],
      [(m) => (m.instruments[0]!.delta = 1n << 40n), "delta of instrument ETH-26DEC26-3200-C exceeds 2^40"],
      [(m) => (m.covariance.matrix[2]![2] = 1n << 40n), "covariance entry [USDC][USDC] exceeds 2^40"],
      [(m) => (m.assets[1]!.liquidationThreshold = 10_001n), "liquidation threshold of WBTC is 1.0001; only 0 to 1 can be proven"],
      [(m) => (m.scenarios[3]!.weight = 10_001n), "weight of scenario '"],
      [(m) => (m.instruments[2]!.underlying = 3), "underlying of instrument BTC-26DEC26-95000-C is slot 3, not one of the market's 3 assets"],
      [(m) => (m.scenarios = []), "a market with no scenario cannot be proven"],
      [(m) => (m.quote.decimals = 9), "quote.decimals is 9; at most 8 can be proven: publish the market at 8 quote decimals or fewer"],
    ];
    for (const [edit, fragment] of cases) throwsBounds(() => checkPosition(position, withMarket(market, edit), policy), fragment);
    // One unit inside each bound is accepted.
    const inside = withMarket(market, (m) => {
      m.scenarios[2]!.assetReturns[0] = -(1n << 31n) + 1n;
      m.instruments[1]!.mark = (1n << 64n) - 1n;
      m.instruments[0]!.delta = (1n << 40n) - 1n;
      m.assets[1]!.liquidationThreshold = 10_000n;
      m.scenarios[3]!.weight = 10_000n;
      m.covariance.matrix[2]![2] = (1n << 40n) - 1n;
    });
    assert.doesNotThrow(() => checkPosition(position, inside, policy));
  });

  it("refuses a position resolved against another market", () => {
    const position = loadPosition("position-healthy.json", market);
    const smaller = withMarket(market, (m) => m.instruments.pop());
    assert.throws(() => checkPosition(position, smaller, policy), /position has 3 derivative slots but the market has 2 instruments/);
  });
});

describe("model: browser safety", () => {
  it("src/model imports no Node built-ins and nothing outside src/core and src/inputs types", () => {
    const dir = path.join(PACKAGE_ROOT, "packages", "sdk", "src", "model");
    for (const file of readdirSync(dir)) {
      const text = readFileSync(path.join(dir, file), "utf8");
      for (const [, from] of text.matchAll(/from "([^"]+)"/g)) {
        assert.ok(from!.startsWith("./") || from!.startsWith("../core/") || from === "../inputs/types.ts", `${file} imports ${from}`);
      }
    }
  });
});
