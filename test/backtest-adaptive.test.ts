/**
 * The adaptive trigger strategy (docs/backtest.md, "Adaptive triggers"): the EWMA and GARCH(1,1)
 * forecasts against hand-computed values and simulated series with known parameters, their
 * constraints and degenerate inputs, the trigger rule, no look-ahead, the strategy over paths, and
 * the command's flags.
 */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { assertOneLineError, zks } from "./helpers/cli.ts";
import { adaptiveLevels, DEFAULT_ADAPTIVE_SETTINGS, healthFactorExposure, knownReturns, marketHistory } from "../packages/sdk/src/backtest/adaptive-trigger.ts";
import { healthFactorPathChart } from "../packages/sdk/src/backtest/charts.ts";
import { defaultBacktestAllowance } from "../packages/sdk/src/backtest/default-allowance.ts";
import type { PricePath } from "../packages/sdk/src/backtest/price-path.ts";
import { SeededRandom } from "../packages/sdk/src/backtest/random.ts";
import { replayPaths } from "../packages/sdk/src/backtest/replay-paths.ts";
import { markdownReport } from "../packages/sdk/src/backtest/report.ts";
import { parseReturnSeries } from "../packages/sdk/src/backtest/returns-file.ts";
import { covarianceMatrix, runBacktest } from "../packages/sdk/src/backtest/run-backtest.ts";
import { runStrategy } from "../packages/sdk/src/backtest/run-strategy.ts";
import { DEFAULT_PRICE_MODEL, simulatePaths } from "../packages/sdk/src/backtest/simulate-paths.ts";
import { BacktestOptionsError, strategySettings } from "../packages/sdk/src/backtest/strategy-settings.ts";
import {
  ewmaVariance,
  fitGarch,
  forecastVolatility,
  garchLogLikelihood,
  horizonVariance,
  MAX_PERSISTENCE,
  nelderMead,
  type GarchParams,
} from "../packages/sdk/src/backtest/volatility-forecast.ts";
import { BPS_SCALE } from "../packages/sdk/src/core/fixed-point.ts";
import type { Market, Policy, Position } from "../packages/sdk/src/inputs/types.ts";
import { parsePosition } from "../packages/sdk/src/inputs/parse-position.ts";
import { checkPosition } from "../packages/sdk/src/model/check.ts";
import { readJsonFile } from "../packages/node/src/read-json.ts";
import { PACKAGE_ROOT } from "../packages/node/src/setup/paths.ts";
import { example, loadMarket, loadPolicy } from "./helpers/examples.ts";

const FIXTURES = path.join(PACKAGE_ROOT, "test", "fixtures", "backtest");
const RETURNS_EXAMPLE = path.join(PACKAGE_ROOT, "examples", "backtest", "returns-250d.csv");

/** A GARCH(1,1) series with known parameters, after a burn-in of 500 steps from the long-run variance. */
function simulateGarch(n: number, p: GarchParams, seed: number): number[] {
  const rng = new SeededRandom(seed);
  let h = p.omega / (1 - p.alpha - p.beta);
  const out: number[] = [];
  for (let t = 0; t < n + 500; t++) {
    const r = Math.sqrt(h) * rng.normal();
    if (t >= 500) out.push(r);
    h = p.omega + p.alpha * r * r + p.beta * h;
  }
  return out;
}

describe("backtest: adaptive triggers", function () {
  this.timeout(60_000);

  describe("EWMA", function () {
    it("matches a hand-computed RiskMetrics recursion", function () {
      // s2 = 0.0004; then 0.94 s2 + 0.06 r^2 for r = 0.01, -0.02, 0.03:
      // 0.000382, 0.00038308, 0.0004140952.
      assert.ok(Math.abs(ewmaVariance([0.01, -0.02, 0.03], 0.94, 0.0004) - 0.0004140952) < 1e-15);
      assert.ok(Math.abs(ewmaVariance([0.01], 0.94, 0.0004) - 0.000382) < 1e-15);
      assert.equal(ewmaVariance([], 0.94, 0.0004), 0.0004, "no return: the prior");
      // Without a prior the recursion starts at the history's mean square: (1e-4 + 9e-4) / 2 = 5e-4.
      assert.ok(Math.abs(ewmaVariance([0.01, 0.03], 0.5) - (0.5 * (0.5 * 5e-4 + 0.5 * 1e-4) + 0.5 * 9e-4)) < 1e-15);
      assert.throws(() => ewmaVariance([0.01], 1), /lambda must be in \(0, 1\)/);
      assert.throws(() => ewmaVariance([0.01], 0), /lambda must be in \(0, 1\)/);
      assert.throws(() => ewmaVariance([0.01, Number.NaN]), /return 1 is not finite/);
    });

    it("has no mean reversion: n steps are n times one", function () {
      const f = forecastVolatility([0.02, -0.01, 0.04], { model: "ewma", priorVariance: 0.0004 });
      assert.equal(f.model, "ewma");
      assert.equal(f.persistence, 1);
      assert.ok(Math.abs(horizonVariance(f, 7) - 7 * f.nextVariance) < 1e-18);
    });
  });

  describe("GARCH(1,1)", function () {
    it("Nelder-Mead finds the minimum of the Rosenbrock function", function () {
      const rosenbrock = ([x, y]: readonly number[]) => (1 - x!) ** 2 + 100 * (y! - x! * x!) ** 2;
      const { x, fx } = nelderMead(rosenbrock, [-1.2, 1], { maxEvaluations: 5000 });
      assert.ok(Math.abs(x[0]! - 1) < 1e-3 && Math.abs(x[1]! - 1) < 1e-3 && fx < 1e-6, `${x} ${fx}`);
    });

    it("recovers known parameters from long simulated series", function () {
      // A low persistence is estimated less precisely (its likelihood is flatter): a wider tolerance.
      const cases: [GarchParams, number, number][] = [
        [{ omega: 1e-5, alpha: 0.08, beta: 0.9 }, 1, 0.02],
        [{ omega: 2e-4, alpha: 0.15, beta: 0.6 }, 3, 0.04],
        [{ omega: 4e-5, alpha: 0.1, beta: 0.85 }, 4, 0.02],
      ];
      for (const [truth, seed, persistenceTolerance] of cases) {
        const returns = simulateGarch(5000, truth, seed);
        const fit = fitGarch(returns)!;
        const { omega, alpha, beta } = fit.params;
        const what = `${JSON.stringify(truth)} -> ${JSON.stringify(fit.params)}`;
        assert.ok(Math.abs(alpha - truth.alpha) < 0.03, `alpha: ${what}`);
        assert.ok(Math.abs(beta - truth.beta) < 0.05, `beta: ${what}`);
        assert.ok(Math.abs(alpha + beta - (truth.alpha + truth.beta)) < persistenceTolerance, `persistence: ${what}`);
        assert.ok(Math.abs(omega / truth.omega - 1) < 0.4, `omega: ${what}`);
        const longRun = truth.omega / (1 - truth.alpha - truth.beta);
        assert.ok(Math.abs(fit.longRunVariance / longRun - 1) < 0.15, `long-run variance: ${what}`);
        // The maximum: at least the likelihood of the true (alpha, beta) under the same variance target.
        const targeted = { omega: fit.longRunVariance * (1 - truth.alpha - truth.beta), alpha: truth.alpha, beta: truth.beta };
        assert.ok(fit.logLikelihood >= garchLogLikelihood(returns, targeted, fit.longRunVariance) - 1e-9, what);
      }
    });

    it("the optimum beats every point of an independent grid search (no local optimum)", function () {
      const returns = simulateGarch(800, { omega: 3e-5, alpha: 0.12, beta: 0.8 }, 9);
      const fit = fitGarch(returns)!;
      let gridBest = Number.NEGATIVE_INFINITY;
      for (let a = 0; a <= 0.5; a += 0.01)
        for (let b = 0; a + b < MAX_PERSISTENCE; b += 0.01) {
          gridBest = Math.max(gridBest, garchLogLikelihood(returns, { omega: fit.longRunVariance * (1 - a - b), alpha: a, beta: b }, fit.longRunVariance));
        }
      assert.ok(fit.logLikelihood >= gridBest - 1e-9, `fit ${fit.logLikelihood} < grid ${gridBest}`);
      // A warm start from a nearby estimate lands on the same optimum.
      const warm = fitGarch(returns, { omega: 0, alpha: 0.2, beta: 0.7 })!;
      assert.ok(Math.abs(warm.logLikelihood - fit.logLikelihood) < 1e-6);
    });

    it("stays stationary: omega > 0, alpha, beta >= 0, alpha + beta < 1, even on an integrated series", function () {
      // IGARCH: alpha + beta = 1 exactly; the variance has no long-run level.
      const rng = new SeededRandom(5);
      let h = 1e-4;
      const integrated: number[] = [];
      for (let t = 0; t < 2000; t++) {
        const r = Math.sqrt(h) * rng.normal();
        integrated.push(r);
        h = 1e-7 + 0.1 * r * r + 0.9 * h;
      }
      const series = [integrated, simulateGarch(300, { omega: 1e-5, alpha: 0.3, beta: 0.69 }, 6), simulateGarch(100, { omega: 5e-4, alpha: 0, beta: 0 }, 7)];
      for (const returns of series) {
        const { omega, alpha, beta } = fitGarch(returns)!.params;
        assert.ok(omega > 0 && alpha >= 0 && beta >= 0 && alpha + beta < 1 && alpha + beta <= MAX_PERSISTENCE, JSON.stringify({ omega, alpha, beta }));
      }
    });

    it("mean-reverts: the horizon variance is the sum of the expected one-step variances", function () {
      const f = forecastVolatility(simulateGarch(400, { omega: 2e-5, alpha: 0.1, beta: 0.85 }, 8), { model: "garch" });
      assert.equal(f.model, "garch");
      const { omega, alpha, beta } = f.params!;
      let expected = f.nextVariance;
      let sum = 0;
      for (let j = 0; j < 10; j++) {
        sum += expected;
        expected = omega + (alpha + beta) * expected;
      }
      assert.ok(Math.abs(horizonVariance(f, 10) / sum - 1) < 1e-9);
    });

    it("degenerate inputs: a short history or one without variation falls back to EWMA with the reason; never NaN", function () {
      const prior = 0.0004;
      const short = forecastVolatility(simulateGarch(49, { omega: 1e-5, alpha: 0.1, beta: 0.85 }, 1), { model: "garch", priorVariance: prior });
      assert.equal(short.model, "ewma");
      assert.equal(short.fallback, "49 returns, fewer than the 50 a GARCH fit needs");
      assert.equal(forecastVolatility(simulateGarch(50, { omega: 1e-5, alpha: 0.1, beta: 0.85 }, 1), { model: "garch" }).model, "garch");
      const empty = forecastVolatility([], { model: "garch", priorVariance: prior });
      assert.equal(empty.nextVariance, prior, "no history: the prior");
      const flat = forecastVolatility(new Array(120).fill(0), { model: "garch", priorVariance: prior });
      assert.equal(flat.fallback, "no variation in the history");
      assert.ok(flat.nextVariance >= 0 && flat.nextVariance < prior * 1e-3, "EWMA decays towards zero on a still history");
      const constant = forecastVolatility(new Array(120).fill(0.01), { model: "garch" });
      assert.ok(Math.abs(constant.nextVariance - 1e-4) < 1e-12, "a constant move: its square");
      assert.equal(fitGarch([0.01, 0.02]), undefined, "too short to fit at all");
      assert.throws(() => forecastVolatility([0.01, Number.POSITIVE_INFINITY], { model: "garch" }), /return 1 is not finite/);
      // Short, zero-heavy, outlier-laden and tiny series: every number is finite and >= 0.
      const rng = new SeededRandom(11);
      for (let trial = 0; trial < 60; trial++) {
        const n = trial % 70;
        const returns = Array.from({ length: n }, (_, i) => (i % 7 === 0 ? 0 : trial % 5 === 0 ? 1e-9 * rng.normal() : trial % 3 === 0 && i === 3 ? 0.9 : 0.03 * rng.normal()));
        for (const model of ["ewma", "garch"] as const) {
          const f = forecastVolatility(returns, { model, priorVariance: trial % 2 === 0 ? prior : 0 });
          for (const x of [f.nextVariance, f.longRunVariance, f.persistence, horizonVariance(f, 0.5), horizonVariance(f, 7)])
            assert.ok(Number.isFinite(x) && x >= 0, `${model}, ${n} returns: ${x}`);
        }
      }
    });
  });

  describe("the trigger rule", function () {
    let market: Market;
    let policy: Policy;
    let longWeth: Position;
    before(function () {
      market = loadMarket("market-grid.json");
      policy = loadPolicy(market);
      longWeth = parsePosition(readJsonFile(path.join(FIXTURES, "position-long-weth.json")), "position-long-weth.json", market);
    });

    it("exposure: WETH collateral against USDC debt moves the health factor one for one with WETH, against USDC", function () {
      const e = healthFactorExposure(checkPosition(longWeth, market, policy), market)!;
      assert.deepEqual(
        e.map((x) => Math.round(x * 1e12) / 1e12),
        [1, 0, -1],
      );
      const noDebt = { ...longWeth, debt: longWeth.debt.map(() => 0n) };
      assert.equal(healthFactorExposure(checkPosition(noDebt, market, policy), market), undefined);
    });

    it("trigger = min HF x exp(k sigma(reaction)), target = trigger x exp(k sigma(target)), rounded up to the BPS grid and capped", function () {
      const report = checkPosition(longWeth, market, policy);
      const days = [0, 1, 2, 3];
      const factors = [
        [1, 1, 1],
        [1.02, 1, 1],
        [0.99, 1, 1],
        [1.02, 1, 1],
      ];
      const history = marketHistory({ days, factors, label: "hand" }, covarianceMatrix(market));
      const levels = adaptiveLevels(report, market, policy, DEFAULT_ADAPTIVE_SETTINGS, history, 3);
      // The health factor's log returns: WETH's minus USDC's (which does not move here).
      const x = [Math.log(1.02), Math.log(0.99 / 1.02), Math.log(1.02 / 0.99)];
      const c = covarianceMatrix(market);
      const prior = c[0]![0]! - 2 * c[0]![2]! + c[2]![2]!;
      const s2 = ewmaVariance(x, 0.94, prior);
      const trigger = Math.ceil(1.1 * Math.exp(2.33 * Math.sqrt(s2)) * 1e4 - 1e-9);
      assert.equal(levels.trigger, BigInt(trigger));
      assert.equal(levels.target, BigInt(Math.ceil((trigger / 1e4) * Math.exp(2.33 * Math.sqrt(7 * s2)) * 1e4 - 1e-9)));
      assert.ok(Math.abs(levels.dailyVolatility / Math.sqrt(s2) - 1) < 1e-12);
      // A crash-sized forecast hits the caps, never an unreachable health factor.
      const wild = marketHistory(
        {
          days,
          factors: [
            [1, 1, 1],
            [3, 1, 1],
            [0.5, 1, 1],
            [2, 1, 1],
          ],
          label: "wild",
        },
        covarianceMatrix(market),
      );
      const capped = adaptiveLevels(report, market, policy, { ...DEFAULT_ADAPTIVE_SETTINGS, k: 10, ewmaLambda: 0.01 }, wild, 3);
      assert.equal(capped.trigger, 3n * BPS_SCALE);
      assert.equal(capped.target, 5n * BPS_SCALE);
      // No debt: nothing to protect, the policy's minimum.
      const noDebt = checkPosition({ ...longWeth, debt: longWeth.debt.map(() => 0n) }, market, policy);
      assert.deepEqual(adaptiveLevels(noDebt, market, policy, DEFAULT_ADAPTIVE_SETTINGS, history, 3), { trigger: 11_000n, target: 11_000n, dailyVolatility: 0 });
    });

    it("triggers tighten when volatility rises, for both models", function () {
      // 80 calm days (WETH +-0.5%), then 20 wild ones (+-6%), no trend.
      const days = Array.from({ length: 101 }, (_, t) => t);
      let f = 1;
      const factors = days.map((t) => {
        if (t > 0) f *= t % 2 === 0 ? (t <= 80 ? 1.005 : 1.06) : t <= 80 ? 1 / 1.005 : 1 / 1.06;
        return [f, 1, 1];
      });
      const history = marketHistory({ days, factors, label: "calm then wild" }, covarianceMatrix(market));
      const report = checkPosition(longWeth, market, policy);
      for (const volModel of ["ewma", "garch"] as const) {
        const at = (step: number) => adaptiveLevels(report, market, policy, { ...DEFAULT_ADAPTIVE_SETTINGS, volModel }, history, step);
        const calm = at(80);
        const wild = at(100);
        assert.ok(wild.trigger > calm.trigger + 500n, `${volModel}: trigger ${calm.trigger} -> ${wild.trigger}`);
        assert.ok(wild.target > calm.target, `${volModel}: target ${calm.target} -> ${wild.target}`);
        assert.ok(calm.trigger >= policy.minHealthFactor);
        assert.equal(calm.forecast!.model, volModel, "80 returns: GARCH is fitted");
      }
    });

    it("no look-ahead: what happens after a day never changes that day's levels or decisions", function () {
      const settings = strategySettings({ volModel: "garch" }, policy);
      const [path] = simulatePaths(covarianceMatrix(market), DEFAULT_PRICE_MODEL, { steps: 70, stepDays: 1 }, 1, 21);
      const cut = 60;
      // The same path up to day 60, then a crash.
      const altered: PricePath = { ...path!, factors: path!.factors.map((row, t) => (t <= cut ? row : row.map((x, i) => (i === 0 ? x * 0.5 ** (t - cut) : x)))) };
      const history = marketHistory(path!, covarianceMatrix(market));
      assert.equal(knownReturns(history, 0).length, 0, "a simulated path has no history before day 0");
      assert.equal(knownReturns(history, cut).length, cut, "on day 60: the 60 moves up to it, none after");
      const run = (p: PricePath) => {
        const r = runBacktest({ position: longWeth, market, policy, allowance: defaultBacktestAllowance(longWeth, market) }, ["adaptive"], settings, [p]);
        return r.runs[0]![0]!;
      };
      const [a, b] = [run(path!), run(altered)];
      assert.deepEqual(a.adaptive!.trigger.slice(0, cut + 1), b.adaptive!.trigger.slice(0, cut + 1));
      assert.deepEqual(a.adaptive!.target.slice(0, cut + 1), b.adaptive!.target.slice(0, cut + 1));
      assert.deepEqual(
        a.rebalances.filter((r) => r.step <= cut),
        b.rebalances.filter((r) => r.step <= cut),
      );
      assert.notDeepEqual(a.adaptive!.trigger, b.adaptive!.trigger, "the crash does change the later days");
      assert.equal(a.adaptive!.fallbackSteps, 50, "GARCH is fitted from day 50 (50 returns) on");
    });

    it("a replay's windows carry the file's earlier rows as history", function () {
      const series = parseReturnSeries(readFileSync(RETURNS_EXAMPLE, "utf8"), "returns-250d.csv", ["WETH", "WBTC", "USDC"]);
      const windows = replayPaths(series, ["WETH", "WBTC", "USDC"], { stepRows: 1, steps: 90, maxPaths: 3 });
      assert.deepEqual(
        windows.map((w) => w.history!.length),
        [0, 80, 160],
      );
      const h = marketHistory(windows[2]!, covarianceMatrix(market));
      assert.ok(Math.abs(h.logReturns[0]![0]! - Math.log(1 - 0.00896)) < 1e-15, "row 1 of the file");
      assert.equal(knownReturns(h, 5).length, 165);
      // Day 5 of the last window sees the file's rows 1-165: the history, then the window's first five.
      assert.ok(Math.abs(knownReturns(h, 5)[164]![0]! - Math.log(windows[2]!.factors[5]![0]! / windows[2]!.factors[4]![0]!)) < 1e-15);
    });
  });

  describe("the strategy over paths", function () {
    let market: Market;
    let policy: Policy;
    let longWeth: Position;
    before(function () {
      market = loadMarket("market-grid.json");
      policy = loadPolicy(market);
      longWeth = parsePosition(readJsonFile(path.join(FIXTURES, "position-long-weth.json")), "position-long-weth.json", market);
    });

    it("is deterministic by seed, acts as threshold with its own levels, and sets higher triggers in the stressed regime", function () {
      const model = { ...DEFAULT_PRICE_MODEL, regimeVol: [0.5, 3] as [number, number], regimeSwitch: [0.05, 0.1] as [number, number] };
      const paths = simulatePaths(covarianceMatrix(market), model, { steps: 40, stepDays: 1 }, 6, 4);
      const input = { position: longWeth, market, policy, allowance: defaultBacktestAllowance(longWeth, market) };
      const settings = strategySettings({}, policy);
      const result = runBacktest(input, ["threshold", "adaptive"], settings, paths);
      assert.deepEqual(runBacktest(input, ["threshold", "adaptive"], settings, paths).runs, result.runs, "same paths, same runs");
      const runs = result.runs[1]!;
      const byRegime: [number[], number[]] = [[], []];
      runs.forEach((r, p) =>
        r.adaptive!.trigger.forEach((trigger, t) => {
          // The regime of the moves the forecaster has seen the most of lately: the last three days'.
          const regimes = paths[p]!.regimes!.slice(Math.max(1, t - 2), t + 1);
          if (trigger !== null && t >= 3 && regimes.every((x) => x === regimes[0])) byRegime[regimes[0]!]!.push(trigger);
        }),
      );
      const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
      assert.ok(byRegime[1].length > 10 && byRegime[0].length > 10, `${byRegime[0].length} calm and ${byRegime[1].length} stressed days`);
      assert.ok(mean(byRegime[1]) > mean(byRegime[0]) + 0.05, `calm ${mean(byRegime[0])}, stressed ${mean(byRegime[1])}`);
      // Every plan restores the day's own target (not the fixed 1.5); a health factor under the day's trigger is acted on.
      assert.ok(runs.some((r) => r.rebalances.length > 0));
      for (const r of runs) {
        for (const rb of r.rebalances) assert.ok(rb.after >= r.adaptive!.target[rb.step]! - 1e-4, `day ${rb.day}: restored ${rb.after}, target ${r.adaptive!.target[rb.step]}`);
        r.healthFactorBefore.forEach((hf, t) => {
          if (hf !== null && r.healthFactorAfter[t] !== null && hf < r.adaptive!.trigger[t]!)
            assert.ok(r.rebalances.some((rb) => rb.step === t) || r.failedAttempts > 0, `day ${t}`);
        });
      }
      const m = result.metrics[1]!;
      assert.ok(m.adaptive && m.adaptive.trigger.p95 > m.adaptive.trigger.p5 && m.adaptive.fallbackShare === 0);
      assert.equal(result.metrics[0]!.adaptive, undefined);
      // The report states the rule; the chart draws the day's trigger.
      const chart = healthFactorPathChart(result);
      assert.match(chart, />adaptive trigger</);
      const report = markdownReport(result, {
        command: "test",
        inputs: { position: "p", market: "m", policy: "r", allow: "default" },
        allowance: "",
        source: { kind: "simulated", model, seed: 4 },
        horizonDays: 40,
        stepDays: 1,
        quote: "USD",
        quoteDecimals: 8,
        gasPricing: "",
        runtimeMs: 1,
        charts: [],
      });
      assert.match(report, /trigger = min HF x exp\(2\.33 sigma\(1 day\)\), target = trigger x exp\(2\.33 sigma\(7 days\)\)/);
      assert.match(report, /- \*\*adaptive levels\*\*: trigger \d\.\d\d on average/);
    });

    it("refuses to run without the market history rather than forecast from nothing", function () {
      const markets = [market, market];
      assert.throws(
        () =>
          runStrategy("adaptive", {
            position: longWeth,
            policy,
            allowance: defaultBacktestAllowance(longWeth, market),
            settings: strategySettings({}, policy),
            markets,
            days: [0, 1],
          }),
        /adaptive strategy needs the market history/,
      );
    });

    it("options are checked, naming the flag", function () {
      const bad = (input: Parameters<typeof strategySettings>[0], pattern: RegExp) =>
        assert.throws(
          () => strategySettings(input, policy),
          (e: unknown) => e instanceof BacktestOptionsError && e.exitCode === 2 && pattern.test(e.message),
        );
      bad({ volModel: "arima" }, /^--vol-model: expected one of ewma, garch, got "arima"$/);
      bad({ ewmaLambda: 1 }, /^--ewma-lambda: must be a decay in \(0, 1\)/);
      bad({ ewmaLambda: Number.NaN }, /^--ewma-lambda: /);
      bad({ adaptiveK: 0 }, /^--adaptive-k: must be a number of standard deviations in \(0, 10\]/);
      bad({ adaptiveReactionDays: -1 }, /^--adaptive-reaction-days: /);
      bad({ adaptiveTargetDays: 400 }, /^--adaptive-target-days: /);
      assert.deepEqual(strategySettings({ volModel: "garch", adaptiveK: 3 }, policy).adaptive, { ...DEFAULT_ADAPTIVE_SETTINGS, volModel: "garch", k: 3 });
    });
  });

  describe("zks backtest --strategies ...,adaptive", function () {
    let dir: string;
    before(() => {
      dir = mkdtempSync(path.join(tmpdir(), "zks-backtest-adaptive-"));
    });
    after(() => rmSync(dir, { recursive: true, force: true }));
    const inputs = ["--position", path.join(FIXTURES, "position-long-weth.json"), "--market", example("market-grid.json"), "--policy", example("policy.json")];

    it("runs with --vol-model garch and its parameters and records them", function () {
      const out = path.join(dir, "garch");
      const r = zks(
        "backtest",
        ...inputs,
        "--out",
        out,
        "--strategies",
        "threshold,adaptive",
        "--paths",
        "2",
        "--horizon-days",
        "60",
        "--vol-model",
        "garch",
        "--ewma-lambda",
        "0.97",
        "--adaptive-k",
        "2",
        "--no-png",
      );
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /adaptive \(volatility\)/);
      const json = JSON.parse(readFileSync(path.join(out, "results.json"), "utf8"));
      assert.deepEqual(
        { volModel: json.settings.adaptive.volModel, lambda: json.settings.adaptive.ewmaLambda, k: json.settings.adaptive.k },
        { volModel: "garch", lambda: 0.97, k: 2 },
      );
      const trace = json.paths[0].strategies.adaptive.adaptive;
      assert.equal(trace.trigger.length, 61);
      assert.equal(trace.garchFallbackSteps, 50, "the path's own past: 50 days before GARCH is fitted");
      assert.match(readFileSync(path.join(out, "report.md"), "utf8"), /GARCH\(1,1\) fitted each day by maximum likelihood/);
    });

    it("bad values exit 2 with one line naming the flag", function () {
      const out = path.join(dir, "never");
      const model = zks("backtest", ...inputs, "--out", out, "--strategies", "adaptive", "--vol-model", "arch");
      assert.equal(model.code, 2);
      assertOneLineError(model, /^zks: --vol-model: expected one of ewma, garch, got "arch"$/);
      const lambda = zks("backtest", ...inputs, "--out", out, "--strategies", "adaptive", "--ewma-lambda", "x");
      assert.equal(lambda.code, 2);
      assertOneLineError(lambda, /^zks: --ewma-lambda: expected a number > 0 and <= 1, got "x"$/);
      const unused = zks("backtest", ...inputs, "--out", out, "--strategies", "threshold", "--adaptive-k", "2");
      assert.equal(unused.code, 2);
      assertOneLineError(unused, /^zks: --adaptive-k: applies to the adaptive strategy, which --strategies does not include$/);
    });
  });
});
