/**
 * Strategy backtests (packages/sdk/src/backtest, `zks backtest`): reproducible paths, a known path where the
 * threshold strategy must rebalance and the time strategy is liquidated, repricing, the
 * historical replay and its errors, valid SVG charts, and the CLI end to end.
 */
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { assertOneLineError, zks } from "./helpers/cli.ts";
import { blackScholes, impliedVol } from "../packages/sdk/src/backtest/black-scholes.ts";
import { costRiskChart, healthFactorBandChart, healthFactorPathChart } from "../packages/sdk/src/backtest/charts.ts";
import { cholesky, NotPositiveSemiDefiniteError } from "../packages/sdk/src/backtest/cholesky.ts";
import { defaultBacktestAllowance } from "../packages/sdk/src/backtest/default-allowance.ts";
import {
  GATE_GAS_OWNER_REBALANCE_WITH_FLOWS,
  GATE_GAS_REBALANCE_NO_FLOW,
  GATE_GAS_REBALANCE_SWAP,
  GATE_GAS_SWAP_LEG,
  rebalanceGas,
} from "../packages/sdk/src/backtest/gate-gas.ts";
import type { PricePath } from "../packages/sdk/src/backtest/price-path.ts";
import { SeededRandom } from "../packages/sdk/src/backtest/random.ts";
import { replayPaths } from "../packages/sdk/src/backtest/replay-paths.ts";
import { markdownReport, resultsJson, type BacktestDescription } from "../packages/sdk/src/backtest/report.ts";
import { repriceMarket, repricingModel } from "../packages/sdk/src/backtest/reprice-market.ts";
import { parseReturnSeries } from "../packages/sdk/src/backtest/returns-file.ts";
import { covarianceMatrix, runBacktest, type BacktestResult } from "../packages/sdk/src/backtest/run-backtest.ts";
import { DEFAULT_PRICE_MODEL, simulatePaths } from "../packages/sdk/src/backtest/simulate-paths.ts";
import { BacktestOptionsError, strategySettings, type BacktestStrategy } from "../packages/sdk/src/backtest/strategy-settings.ts";
import { InputError } from "../packages/sdk/src/core/errors.ts";
import type { Market, Policy, Position } from "../packages/sdk/src/inputs/types.ts";
import { checkPosition } from "../packages/sdk/src/model/check.ts";
import { loadPngRenderer, prepareOutputDir, writeOutputs } from "../packages/node/src/backtest-files.ts";
import { readJsonFile } from "../packages/node/src/read-json.ts";
import { parsePosition } from "../packages/sdk/src/inputs/parse-position.ts";
import { PACKAGE_ROOT } from "../packages/node/src/setup/paths.ts";
import { example, loadMarket, loadPolicy, loadPosition } from "./helpers/examples.ts";

const FIXTURES = path.join(PACKAGE_ROOT, "test", "fixtures", "backtest");
const RETURNS_EXAMPLE = path.join(PACKAGE_ROOT, "examples", "backtest", "returns-250d.csv");

const abs = (x: bigint): bigint => (x < 0n ? -x : x);

/**
 * An XML well-formedness check strict enough for what viewers need: one root <svg> in the SVG
 * namespace, every element closed in order, every attribute quoted and unique per element, only
 * the XML entities, no stray markup characters in text, and no non-finite number.
 */
function assertValidSvg(svg: string): void {
  const body = svg.replace(/^<\?xml[^>]*\?>\s*/, "").trim();
  assert.match(body, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"[\s>]/, "the root is <svg> in the SVG namespace");
  const stack: string[] = [];
  let roots = 0;
  let last = 0;
  const tag = /<(\/?)([A-Za-z][\w:-]*)((?:\s+[A-Za-z_:][\w:.-]*="[^"<]*")*)\s*(\/?)>/g;
  for (const match of body.matchAll(tag)) {
    const text = body.slice(last, match.index);
    assert.ok(!/[<>]/.test(text), `stray markup before ${match[0].slice(0, 40)}`);
    for (const entity of text.matchAll(/&([^;\s]*);?/g)) assert.match(entity[0], /^&(amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);$/, `bad entity ${entity[0]}`);
    last = match.index + match[0].length;
    const [, closing, name, attributes, selfClosing] = match;
    const names = [...attributes!.matchAll(/([A-Za-z_:][\w:.-]*)="/g)].map((m) => m[1]);
    assert.equal(new Set(names).size, names.length, `duplicate attribute in <${name}>`);
    if (stack.length === 0 && !closing) roots++;
    if (selfClosing) continue;
    if (closing) assert.equal(stack.pop(), name, `</${name}> closes the wrong element`);
    else stack.push(name!);
  }
  assert.equal(body.slice(last).trim(), "", "nothing after the root");
  assert.deepEqual(stack, [], "unclosed elements");
  assert.equal(roots, 1, "exactly one root element");
  assert.ok(!/NaN|Infinity|undefined/.test(svg), "a non-finite number reached the output");
}

describe("backtest", function () {
  this.timeout(60_000);
  let market: Market;
  let policy: Policy;
  let atRisk: Position;
  before(function () {
    market = loadMarket("market-grid.json");
    policy = loadPolicy(market);
    atRisk = loadPosition("position-at-risk.json", market);
  });

  describe("seeded paths", function () {
    it("the generator repeats for a seed and differs between seeds; normals and Poisson counts have their moments", function () {
      const draw = (seed: number) => {
        const rng = new SeededRandom(seed);
        return Array.from({ length: 8 }, () => rng.nextUint32());
      };
      assert.deepEqual(draw(7), draw(7));
      assert.notDeepEqual(draw(7), draw(8));
      const rng = new SeededRandom(42);
      const z = Array.from({ length: 20_000 }, () => rng.normal());
      const mean = z.reduce((s, x) => s + x, 0) / z.length;
      const variance = z.reduce((s, x) => s + (x - mean) ** 2, 0) / z.length;
      assert.ok(Math.abs(mean) < 0.03 && Math.abs(variance - 1) < 0.05, `normal mean ${mean}, variance ${variance}`);
      const counts = Array.from({ length: 20_000 }, () => rng.poisson(0.3));
      assert.ok(Math.abs(counts.reduce((s, x) => s + x, 0) / counts.length - 0.3) < 0.02);
      assert.throws(() => new SeededRandom(-1), /seed must be an integer/);
    });

    it("simulated paths: same seed same paths, another seed other paths, and a path does not depend on how many are drawn", function () {
      const covariance = covarianceMatrix(market);
      const grid = { steps: 30, stepDays: 1 };
      const a = simulatePaths(covariance, DEFAULT_PRICE_MODEL, grid, 4, 11);
      assert.deepEqual(simulatePaths(covariance, DEFAULT_PRICE_MODEL, grid, 4, 11), a);
      assert.notDeepEqual(simulatePaths(covariance, DEFAULT_PRICE_MODEL, grid, 4, 12), a);
      assert.deepEqual(simulatePaths(covariance, DEFAULT_PRICE_MODEL, grid, 2, 11), a.slice(0, 2));
      for (const p of a) {
        assert.equal(p.days.length, 31);
        assert.deepEqual(p.factors[0], [1, 1, 1]);
      }
    });

    it("without jumps or regimes the daily log returns have the market's variances and correlation", function () {
      const model = { ...DEFAULT_PRICE_MODEL, regimeVol: [1, 1] as [number, number], jumpsPerYear: 0 };
      const paths = simulatePaths(covarianceMatrix(market), model, { steps: 100, stepDays: 1 }, 100, 3);
      const returns = paths.flatMap((p) => p.factors.slice(1).map((f, t) => f.map((x, i) => Math.log(x / p.factors[t]![i]!))));
      const column = (i: number) => returns.map((r) => r[i]!);
      const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
      const cov = (i: number, j: number) => {
        const [xi, xj] = [column(i), column(j)];
        const [mi, mj] = [mean(xi), mean(xj)];
        return mean(xi.map((x, k) => (x - mi) * (xj[k]! - mj)));
      };
      assert.ok(Math.abs(cov(0, 0) / 0.001225 - 1) < 0.06, `WETH variance ${cov(0, 0)}`);
      assert.ok(Math.abs(cov(1, 1) / 0.000784 - 1) < 0.06, `WBTC variance ${cov(1, 1)}`);
      const correlation = cov(0, 1) / Math.sqrt(cov(0, 0) * cov(1, 1));
      assert.ok(Math.abs(correlation - 0.8) < 0.03, `correlation ${correlation}`);
    });

    it("Cholesky: L L^T is the matrix, a zero-variance asset is fine, a non-covariance is refused", function () {
      const sigma = [
        [4, 2, 0],
        [2, 3, 0],
        [0, 0, 0],
      ];
      const lower = cholesky(sigma);
      for (let i = 0; i < 3; i++)
        for (let j = 0; j < 3; j++) {
          const product = lower[i]!.reduce((s, l, k) => s + l * lower[j]![k]!, 0);
          assert.ok(Math.abs(product - sigma[i]![j]!) < 1e-12);
        }
      assert.throws(
        () =>
          cholesky([
            [1, 2],
            [2, 1],
          ]),
        NotPositiveSemiDefiniteError,
      );
    });
  });

  describe("repricing", function () {
    it("step 0 is the market file; options follow Black-Scholes from their implied volatility; scenario PnL move with them", function () {
      const model = repricingModel(market);
      assert.equal(repriceMarket(model, [1, 1, 1], 0, 0), market);
      const up = repriceMarket(model, [1.1, 1, 1], 1, 1);
      const down = repriceMarket(model, [0.9, 1, 1], 1, 1);
      assert.equal(up.epoch, market.epoch + 1);
      assert.equal(up.timestamp, market.timestamp + 86_400);
      assert.equal(up.assets[0]!.price, (market.assets[0]!.price * 11n) / 10n);
      const [call, put] = [0, 1];
      assert.ok(up.instruments[call]!.mark > market.instruments[call]!.mark && down.instruments[call]!.mark < market.instruments[call]!.mark);
      assert.ok(up.instruments[put]!.mark < market.instruments[put]!.mark && down.instruments[put]!.mark > market.instruments[put]!.mark);
      assert.ok(up.instruments[call]!.delta > market.instruments[call]!.delta, "a call's delta rises with the spot (gamma)");
      for (const m of [up, down]) for (const k of m.instruments) assert.ok(k.mark >= 0n && k.delta >= -100_000_000n && k.delta <= 100_000_000n);
      // Nearer the money, a call gains more in a price-up scenario than the oracle's figure at the old spot.
      const priceUp = market.scenarios.findIndex((s) => s.assetReturns[0]! > 0n);
      assert.ok(up.scenarios[priceUp]!.instrumentPnl[call]! > market.scenarios[priceUp]!.instrumentPnl[call]!);
      const sameDay = repriceMarket(model, [1.1, 1, 1], 0, 1);
      assert.ok(abs(sameDay.instruments[2]!.mark - market.instruments[2]!.mark) <= 1n, "the BTC call does not move with WETH");
      const monthLater = repriceMarket(model, [1, 1, 1], 30, 30);
      assert.ok(monthLater.instruments[2]!.mark < market.instruments[2]!.mark, "an option loses time value as its expiry nears");
    });

    it("Black-Scholes: the implied volatility reproduces the price; put-call parity at zero rates", function () {
      const call = blackScholes("call", 3000, 3200, 1, 0.6);
      const put = blackScholes("put", 3000, 3200, 1, 0.6);
      assert.ok(Math.abs(call.price - put.price - (3000 - 3200)) < 1e-6);
      assert.ok(Math.abs(impliedVol("call", call.price, 3000, 3200, 1)! - 0.6) < 1e-6);
      assert.equal(impliedVol("call", 0.5, 3000, 100, 1), undefined, "below the intrinsic value no volatility fits");
    });
  });

  describe("strategies over paths", function () {
    const fast: BacktestStrategy[] = ["none", "threshold", "time"];
    let result: BacktestResult;
    const run = (seed: number) => {
      const paths = simulatePaths(covarianceMatrix(market), DEFAULT_PRICE_MODEL, { steps: 30, stepDays: 1 }, 3, seed);
      // A wallet of 20,000 USDC: without it the example's short calls cannot be bought back (no venue for instruments, docs/custody.md).
      const allowance = { ...defaultBacktestAllowance(atRisk, market), wallet: market.assets.map((a) => (a.symbol === "USDC" ? 20_000n * 10n ** 6n : 0n)) };
      return runBacktest({ position: atRisk, market, policy, allowance }, fast, strategySettings({}, policy), paths);
    };
    before(function () {
      result = run(5);
    });

    it("the same seed gives the same results; another seed other results", function () {
      assert.deepEqual(run(5).metrics, result.metrics);
      assert.deepEqual(run(5).runs, result.runs);
      assert.notDeepEqual(run(6).metrics, result.metrics);
    });

    it("the at-risk example: the baseline never rebalances; the planner's strategies act on day 0 (checks fail) and pay for it", function () {
      const [none, threshold, time] = result.metrics;
      assert.equal(none!.rebalances, 0);
      assert.equal(none!.meanCost, 0);
      assert.equal(none!.shareFailingPolicy, 1, "the example fails its stress check from the start");
      for (const [s, m] of [threshold!, time!].entries()) {
        assert.ok(m.rebalances >= 3, `${m.strategy}: ${m.rebalances}`);
        assert.ok(m.meanGas > 0 && m.meanGasCost > 0 && m.meanCost >= m.meanGasCost, JSON.stringify(m));
        for (const r of result.runs[s + 1]!) {
          assert.equal(r.rebalances[0]!.day, 0);
          for (const rb of r.rebalances) assert.ok(rb.gateGas === GATE_GAS_OWNER_REBALANCE_WITH_FLOWS || rb.gateGas === GATE_GAS_REBALANCE_NO_FLOW);
        }
      }
      assert.ok(threshold!.liquidations <= none!.liquidations);
    });

    it("a steady fall of WETH: threshold rebalances and survives; time every 60 days is liquidated like the baseline", function () {
      const position = parsePosition(readJsonFile(path.join(FIXTURES, "position-long-weth.json")), "position-long-weth.json", market);
      const start = checkPosition(position, market, policy);
      assert.ok(start.pass && start.healthFactor.value! > 15_000n, "starts above the target: nothing to do on day 0");
      const days = Array.from({ length: 61 }, (_, t) => t);
      const decline: PricePath = { days, factors: days.map((t) => [0.99 ** t, 1, 1]), label: "WETH -1% a day" };
      const r = runBacktest({ position, market, policy, allowance: defaultBacktestAllowance(position, market) }, fast, strategySettings({ intervalDays: 60 }, policy), [decline]);
      const [none, threshold, time] = r.runs.map((runs) => runs[0]!);
      assert.equal(threshold!.liquidation, undefined, "threshold survives");
      assert.ok(threshold!.rebalances.length >= 5, `threshold rebalanced ${threshold!.rebalances.length} times`);
      assert.ok(threshold!.rebalances.every((rb) => rb.actions.some((a) => a.startsWith("swap ")) && rb.after >= 1.5));
      assert.ok(threshold!.minHealthFactor > 1.25 * 0.99 ** 3, "it never falls far below the trigger");
      assert.equal(time!.rebalances.length, 0, "on day 0 the position is at its target; the next scheduled day is 60");
      assert.deepEqual(time!.liquidation, none!.liquidation);
      assert.equal(time!.liquidation?.cause, "health factor below 1");
      assert.equal(time!.liquidation?.day, 51);
      assert.equal(time!.healthFactorAfter[51], null);
    });

    it("the charts are valid SVG with the expected elements", function () {
      const paths = healthFactorPathChart(result);
      assertValidSvg(paths);
      const shown = result.representativePath;
      const rebalances = result.runs.reduce((n, runs) => n + runs[shown]!.rebalances.length, 0);
      const liquidations = result.runs.filter((runs) => runs[shown]!.liquidation).length;
      assert.equal((paths.match(/ Z" fill=/g) ?? []).length, rebalances, "one triangle per rebalance on the shown path");
      assert.equal((paths.match(/stroke-width="2.5"/g) ?? []).length, liquidations, "one cross per liquidation");
      assert.match(paths, /liquidation \(1\.0\)/);
      assert.match(paths, /trigger 1\.25/);
      assert.match(paths, /target 1\.50/);
      for (const label of ["none (baseline)", "threshold (reactive)", "time (proactive)"]) assert.ok(paths.includes(`>${label}</text>`), label);
      const band = healthFactorBandChart(result);
      assertValidSvg(band);
      assert.equal(
        (band.match(/<path d="M[^"]*" fill="none" stroke="[^"]*" stroke-width="2" stroke-dasharray="5 3"\/>/g) ?? []).length,
        3,
        "one dashed 5th percentile per strategy",
      );
      for (const risk of ["liquidations", "drawdown"] as const) {
        const chart = costRiskChart(result, "USD", risk);
        assertValidSvg(chart);
        assert.equal((chart.match(/<circle /g) ?? []).length, 3, "one point per strategy");
        for (const s of fast) assert.match(chart, new RegExp(`>${s}: \\d+ USD, [\\d.]+%</text>`));
      }
    });

    it("the report and results.json describe the run", function () {
      const description: BacktestDescription = {
        command: "zks backtest (test)",
        inputs: { position: "position-at-risk.json", market: "market-grid.json", policy: "policy.json", allow: "default" },
        allowance: "empty wallet",
        source: { kind: "simulated", model: DEFAULT_PRICE_MODEL, seed: 5 },
        horizonDays: 30,
        stepDays: 1,
        quote: "USD",
        quoteDecimals: 8,
        gasPricing: "Priced at 20 gwei.",
        runtimeMs: 1234,
        charts: [],
      };
      const report = markdownReport(result, description);
      assert.match(report, /^# Rebalancing backtest/);
      assert.match(report, /\| strategy \| liquidated \| HF drawdown: mean \/ worst \|/);
      assert.equal((report.match(/^\| (none|threshold|time) /gm) ?? []).length, 3);
      assert.match(report, /!\[health factor on a representative path\]\(hf-paths\.svg\)/);
      const json = JSON.parse(resultsJson(result, description));
      assert.equal(json.kind, "zks-backtest");
      assert.equal(json.paths.length, 3);
      assert.deepEqual(Object.keys(json.paths[0].strategies), fast);
      assert.equal(json.metrics[1].strategy, "threshold");
    });

    it("options are checked, naming the flag", function () {
      assert.throws(
        () => strategySettings({ target: 12_000n }, policy),
        (e: unknown) => e instanceof BacktestOptionsError && /--target-hf: 1\.2 is below the trigger 1\.25/.test(e.message),
      );
      assert.throws(() => strategySettings({ intervalDays: 0 }, policy), /--interval-days: must be a positive number/);
      assert.throws(() => strategySettings({ deltaBandFraction: 2 }, policy), /--delta-band/);
    });
  });

  describe("historical replay", function () {
    const symbols = ["WETH", "WBTC", "USDC"];

    it("reads the example returns file and replays it as rolling windows; a missing column keeps its price", function () {
      const series = parseReturnSeries(readFileSync(RETURNS_EXAMPLE, "utf8"), "returns-250d.csv", symbols);
      assert.deepEqual(series.symbols, ["WETH", "WBTC"]);
      assert.equal(series.returns.length, 250);
      assert.deepEqual(series.returns[0], [-0.00896, 0.00286]);
      const whole = replayPaths(series, symbols, { stepRows: 1, maxPaths: 10 });
      assert.equal(whole.length, 1, "no horizon: the whole series, once");
      assert.equal(whole[0]!.days.length, 251);
      const windows = replayPaths(series, symbols, { stepRows: 1, steps: 90, maxPaths: 5 }, "returns-250d.csv");
      assert.equal(windows.length, 5);
      assert.match(windows[0]!.label, /^returns-250d\.csv lines 5-94 \(1 to 90\)$/);
      assert.match(windows[4]!.label, /\(161 to 250\)$/);
      const w = windows[0]!;
      assert.ok(Math.abs(w.factors[2]![0]! - (1 - 0.00896) * (1 + 0.03895)) < 1e-12);
      assert.ok(
        w.factors.every((f) => f[2] === 1),
        "USDC has no column",
      );
      const weekly = replayPaths(series, symbols, { stepRows: 7, maxPaths: 1 });
      assert.equal(weekly[0]!.days.length, 36);
      assert.equal(weekly[0]!.days[1], 7);
    });

    it("rejects a malformed file with the file, line, column and problem", function () {
      const bad = (text: string, pattern: RegExp) =>
        assert.throws(
          () => parseReturnSeries(text, "r.csv", symbols),
          (e: unknown) => e instanceof InputError && e.exitCode === 2 && pattern.test(e.message),
        );
      bad(readFileSync(path.join(FIXTURES, "returns-bad-value.csv"), "utf8"), /^r\.csv: line 4, column WETH: expected a decimal return such as "-0\.0312", got "abc"$/);
      bad("date,WETH,SOL\n1,0.1,0.2\n", /^r\.csv: line 1, column 3: unknown asset "SOL" \(the market has WETH, WBTC, USDC\)$/);
      bad("date,WETH,WETH\n1,0.1,0.2\n", /duplicate asset "WETH" \(also column 2\)/);
      bad("date,WETH\n1,0.1\n2\n", /^r\.csv: line 3: expected 2 fields \(date,WETH\), got 1$/);
      bad("date,WETH\n1,-1\n", /line 2, column WETH: return -1 must be > -1/);
      bad("date,WETH\n1,\n", /line 2, column WETH: empty return/);
      bad("date,WETH\n", /no rows of returns/);
      bad("# only a comment\n", /no header line/);
    });
  });

  it("gas: the constants are BENCHMARKS.md's measured gate calls (with a token flow, no movement, a swap on the v2 pair)", function () {
    const table = readFileSync(path.join(PACKAGE_ROOT, "BENCHMARKS.md"), "utf8");
    const gasOf = (call: RegExp) => {
      const row = table.split("\n").find((line) => call.test(line));
      assert.ok(row, `BENCHMARKS.md has no row ${call}`);
      return BigInt(row!.split("|")[3]!.trim().replace(/,/g, ""));
    };
    assert.equal(gasOf(/`RebalanceGate\.rebalance`: a withdrawal/), GATE_GAS_OWNER_REBALANCE_WITH_FLOWS);
    assert.equal(gasOf(/`RebalanceGate\.rebalance`: no movement/), GATE_GAS_REBALANCE_NO_FLOW);
    assert.equal(gasOf(/`RebalanceGate\.rebalance`: a swap on the v2 pair/), GATE_GAS_REBALANCE_SWAP);
    assert.equal(GATE_GAS_SWAP_LEG, GATE_GAS_REBALANCE_SWAP - GATE_GAS_REBALANCE_NO_FLOW);
    assert.ok(GATE_GAS_SWAP_LEG > 0n);
    const swap = { kind: "swap", sell: 0, amountIn: 1n, buy: 2, minOut: 1n } as const;
    assert.deepEqual(rebalanceGas([{ kind: "deposit", asset: 2, amount: 1n }], [0n, 0n, 1n]), { gate: GATE_GAS_OWNER_REBALANCE_WITH_FLOWS, trades: 0n });
    assert.deepEqual(rebalanceGas([{ kind: "repayWithCollateral", asset: 2, amount: 1n }], [0n, 0n, 0n]), { gate: GATE_GAS_OWNER_REBALANCE_WITH_FLOWS, trades: 0n });
    assert.deepEqual(rebalanceGas([swap], [0n, 0n, 0n]), { gate: GATE_GAS_REBALANCE_NO_FLOW, trades: GATE_GAS_SWAP_LEG });
    const { gate, trades } = rebalanceGas([swap], [0n, 0n, 0n]);
    assert.equal(gate + trades, GATE_GAS_REBALANCE_SWAP, "a swap-only plan costs exactly the measured swap call");
    assert.deepEqual(rebalanceGas([swap, swap], [0n, 0n, 0n]).trades, 2n * GATE_GAS_SWAP_LEG);
  });

  it("output files: text and bytes written atomically and privately; no PNG renderer is not an error", async function () {
    const dir = mkdtempSync(path.join(tmpdir(), "zks-backtest-files-"));
    try {
      const out = prepareOutputDir(path.join(dir, "out"), ["a.svg", "b.png"], [{ flag: "--position", file: path.join(dir, "position.json") }]);
      writeOutputs(out, [
        { name: "a.svg", content: "<svg/>" },
        { name: "b.png", content: new Uint8Array([0x89, 0x50, 0x4e, 0x47]) },
      ]);
      writeOutputs(out, [{ name: "b.png", content: new Uint8Array([1, 2]) }]);
      assert.deepEqual([...readFileSync(path.join(out, "b.png"))], [1, 2]);
      assert.equal(statSync(path.join(out, "a.svg")).mode & 0o777, 0o600);
      assert.throws(() => prepareOutputDir(out, ["a.svg"], [{ flag: "--market", file: path.join(out, "a.svg") }]), /a\.svg would replace the --market file/);
      assert.equal(await loadPngRenderer("zks-no-such-renderer"), undefined);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  describe("zks backtest", function () {
    let dir: string;
    before(() => {
      dir = mkdtempSync(path.join(tmpdir(), "zks-backtest-"));
    });
    after(() => rmSync(dir, { recursive: true, force: true }));

    const inputs = (position = example("position-at-risk.json")) => ["--position", position, "--market", example("market-grid.json"), "--policy", example("policy.json")];
    const quick = ["--paths", "2", "--horizon-days", "20", "--strategies", "none,threshold,time"];

    it("writes the report, results and charts into a new directory (exit 0); a second run replaces them whole", function () {
      const out = path.join(dir, "run", "nested");
      const r = zks("backtest", ...inputs(), "--out", out, ...quick, "--seed", "3", "--no-png");
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^backtest: 2 simulated paths \(seed 3\) x 20 days, 3 strategies, in [\d.]+ s/);
      assert.match(r.stdout, /threshold \(reactive\)/);
      for (const name of ["report.md", "results.json", "hf-paths.svg", "hf-percentiles.svg", "cost-vs-risk.svg", "cost-vs-drawdown.svg"]) {
        assert.ok(existsSync(path.join(out, name)), name);
        assert.equal(statSync(path.join(out, name)).mode & 0o777, 0o600, `${name} is private: it reveals the position`);
      }
      for (const name of ["hf-paths.svg", "hf-percentiles.svg", "cost-vs-risk.svg", "cost-vs-drawdown.svg"]) assertValidSvg(readFileSync(path.join(out, name), "utf8"));
      const json = JSON.parse(readFileSync(path.join(out, "results.json"), "utf8"));
      assert.equal(json.kind, "zks-backtest");
      assert.equal(json.source.seed, 3);
      assert.deepEqual(
        json.metrics.map((m: { strategy: string }) => m.strategy),
        ["none", "threshold", "time"],
      );
      assert.match(readFileSync(path.join(out, "report.md"), "utf8"), /--seed 3/);

      const again = zks("backtest", ...inputs(), "--out", out, ...quick, "--seed", "3", "--no-png", "--json");
      assert.equal(again.code, 0, again.stderr);
      const summary = JSON.parse(again.stdout);
      assert.equal(summary.kind, "zks-backtest-summary");
      assert.deepEqual(summary.metrics, json.metrics, "same seed, same figures");
    });

    it("replays a returns file", function () {
      const out = path.join(dir, "replay");
      const r = zks("backtest", ...inputs(), "--out", out, "--returns", RETURNS_EXAMPLE, "--horizon-days", "10", "--paths", "2", "--strategies", "none,time", "--no-png");
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^backtest: 2 windows of .*returns-250d\.csv x 10 days/);
      const json = JSON.parse(readFileSync(path.join(out, "results.json"), "utf8"));
      assert.equal(json.source.kind, "replay");
      assert.deepEqual(json.source.assetsHeld, ["USDC"]);
    });

    it("bad input: one line naming the file, field or flag, exit 2, nothing written", function () {
      const badPosition = path.join(dir, "position-bad.json");
      writeFileSync(badPosition, JSON.stringify({ ...JSON.parse(readFileSync(example("position-at-risk.json"), "utf8")), collateral: { WETH: "six" } }));
      const out = path.join(dir, "never");
      const position = zks("backtest", ...inputs(badPosition), "--out", out);
      assert.equal(position.code, 2);
      assertOneLineError(position, /position-bad\.json: collateral\.WETH: /);
      const returns = zks("backtest", ...inputs(), "--out", out, "--returns", path.join(FIXTURES, "returns-bad-value.csv"));
      assert.equal(returns.code, 2);
      assertOneLineError(returns, /returns-bad-value\.csv: line 4, column WETH: expected a decimal return/);
      const paths = zks("backtest", ...inputs(), "--out", out, "--paths", "0");
      assert.equal(paths.code, 2);
      assertOneLineError(paths, /^zks: --paths: expected an integer >= 1 and <= 100000, got 0$/);
      const regimes = zks("backtest", ...inputs(), "--out", out, "--vol-regimes", "1");
      assert.equal(regimes.code, 2);
      assertOneLineError(regimes, /--vol-regimes: expected two numbers/);
      const seedWithReplay = zks("backtest", ...inputs(), "--out", out, "--returns", RETURNS_EXAMPLE, "--seed", "2");
      assert.equal(seedWithReplay.code, 2);
      assertOneLineError(seedWithReplay, /--seed: applies to simulated paths/);
      assert.ok(!existsSync(out), "nothing was written");
      const file = path.join(dir, "a-file");
      writeFileSync(file, "x");
      const notDir = zks("backtest", ...inputs(), "--out", file, ...quick);
      assert.equal(notDir.code, 2);
      assertOneLineError(notDir, /--out: .*a-file is a file; --out takes a directory/);
      // An input file where an output would go is never replaced.
      const shared = path.join(dir, "shared");
      zks("backtest", ...inputs(), "--out", shared, ...quick, "--no-png");
      const clash = zks("backtest", ...inputs(), "--out", shared, ...quick, "--allow", path.join(shared, "results.json"), "--no-png");
      assert.equal(clash.code, 2);
      assertOneLineError(clash, /results\.json would replace the --allow file; choose another directory/);
    });
  });
});
