/**
 * The 27-scenario portfolio-margin grid (docs/portfolio-margin-grid.md): the generator
 * (`portfolioMarginGrid`, `zks market grid`) against Black-Scholes properties and its own bad
 * input, and the grid market proven end to end on solvency-3x3x27: a real proof made and verified
 * with the SDK, the circuit's verdict equal to the TypeScript model's on every position tried, and
 * a tampered scenario either changing the market root (a proof for another market) or, kept
 * under the published root, violating the constraints.
 */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { loadCircuitArtifacts, loadInstanceArtifacts } from "../packages/node/src/artifacts.ts";
import { readJsonFile } from "../packages/node/src/read-json.ts";
import { PACKAGE_ROOT } from "../packages/node/src/setup/paths.ts";
import { proveSolvency, verifySolvency } from "../packages/sdk/src/api/solvency.ts";
import { blackScholes } from "../packages/sdk/src/backtest/black-scholes.ts";
import { marketRoot } from "../packages/sdk/src/commitment/market-root.ts";
import { InputError } from "../packages/sdk/src/core/errors.ts";
import { toField } from "../packages/sdk/src/core/field.ts";
import { DEFAULT_VOL_MOVES, MAX_GRID_SCENARIOS, portfolioMarginGrid } from "../packages/sdk/src/inputs/market-grid.ts";
import { parseMarket } from "../packages/sdk/src/inputs/parse-market.ts";
import type { Market, Policy, Position } from "../packages/sdk/src/inputs/types.ts";
import { checkPosition } from "../packages/sdk/src/model/check.ts";
import { UnprovableError } from "../packages/sdk/src/prover/errors.ts";
import { releaseProverThreads } from "../packages/sdk/src/prover/release.ts";
import { solvencyInput } from "../packages/sdk/src/prover/witness/solvency.ts";
import { parseAllowance, plan, type Plan } from "../packages/sdk/src/rebalance/index.ts";
import { spotRanges } from "../packages/cli/src/cli/commands/market-grid.ts";
import { CircuitUnderTest } from "./helpers/circuit.ts";
import { assertOneLineError, zks } from "./helpers/cli.ts";
import { example, loadPolicy, loadPosition } from "./helpers/examples.ts";
import { Random, randomPosition } from "./helpers/model-fixtures.ts";
import { salted } from "./helpers/solvency-cases.ts";
import { FastWitness } from "./helpers/solvency-witness.ts";

const INSTANCE = "solvency-3x3x27";
const LAYOUT = { nAssets: 3, nInstruments: 3, nScenarios: 27 };
/** The spec's example market with the default grid: `zks market grid --market ../shared/spec/examples/market-grid.json --out test/fixtures/market-grid-27.json`. */
const GRID_FIXTURE = path.join(PACKAGE_ROOT, "test", "fixtures", "market-grid-27.json");
const spec = (): Record<string, unknown> => readJsonFile(example("market-grid.json")) as Record<string, unknown>;
const clone = <T>(x: T): T => JSON.parse(JSON.stringify(x)) as T;

interface RawScenario {
  name: string;
  assetReturns: Record<string, string>;
  instrumentPnl: Record<string, string>;
}
const items = (json: Record<string, unknown>): RawScenario[] => (json.scenarios as { items: RawScenario[] }).items;

describe("the portfolio-margin grid generator", function () {
  it("the spec's example market gives 27 scenarios: 9 spot moves over +-range x volatility -30%, unchanged, +30%, each asset's range scaled by its volatility (WETH 15%, WBTC 12%)", function () {
    const grid = portfolioMarginGrid(spec(), "market-grid.json");
    const scenarios = items(grid.json);
    assert.equal(scenarios.length, 27);
    assert.equal(grid.market.scenarios.length, 27);
    assert.equal(grid.market.scenarioKind, "grid");
    assert.deepEqual(grid.volMoves, [...DEFAULT_VOL_MOVES]);
    assert.deepEqual(
      grid.ranges.map((r) => [r.symbol, Number(r.range.toFixed(6)), r.source]),
      [
        ["WETH", 0.15, "scaled"],
        ["WBTC", 0.12, "scaled"],
        ["USDC", 0.002143, "scaled"],
      ],
    );
    assert.equal(scenarios[0]!.name, "price -4/4 range, vol -30%");
    assert.equal(scenarios[13]!.name, "price +0/4 range, vol unchanged");
    assert.equal(scenarios[26]!.name, "price +4/4 range, vol +30%");
    assert.deepEqual(scenarios[0]!.assetReturns, { WETH: "-0.15", WBTC: "-0.12", USDC: "-0.00214286" });
    assert.deepEqual(scenarios[5]!.assetReturns, { WETH: "-0.1125", WBTC: "-0.09", USDC: "-0.00160714" });
    // The centre of the grid moves nothing.
    assert.deepEqual(scenarios[13]!.assetReturns, {});
    assert.deepEqual(scenarios[13]!.instrumentPnl, {});
    // Every option's volatility is implied by its mark (the file gives none), and said so.
    assert.deepEqual(
      grid.instruments.map((k) => [k.id, k.method, k.volSource]),
      [
        ["ETH-26DEC26-3200-C", "black-scholes", "implied by the mark"],
        ["ETH-26DEC26-2800-P", "black-scholes", "implied by the mark"],
        ["BTC-26DEC26-95000-C", "black-scholes", "implied by the mark"],
      ],
    );
    // Everything but the scenarios is the input file's.
    const input = spec();
    for (const field of ["version", "epoch", "timestamp", "quote", "assets", "instruments", "covariance"]) assert.deepEqual(grid.json[field], input[field], field);
  });

  it("the committed 27-grid fixture (test/fixtures/market-grid-27.json) is exactly what the generator makes of the spec's example", function () {
    assert.deepEqual(readJsonFile(GRID_FIXTURE), portfolioMarginGrid(spec(), "market-grid.json").json);
  });

  it("each option's PnL is its Black-Scholes revaluation at the moved spot and volatility: rising with volatility, calls with spot, puts against it", function () {
    const grid = portfolioMarginGrid(spec(), "market-grid.json");
    const market = grid.market;
    const years = (market.instruments[0]!.expiry - market.timestamp) / (365 * 86_400);
    market.instruments.forEach((instrument, k) => {
      const vol = grid.instruments[k]!.vol!;
      const spot = Number(market.assets[instrument.underlying]!.price) / 1e8;
      const strike = Number(instrument.strike) / 1e8;
      const centre = blackScholes(instrument.kind as "call" | "put", spot, strike, years, vol).price;
      // The volatility implied by the mark reprices the mark.
      assert.ok(Math.abs(centre - Number(instrument.mark) / 1e8) < 1e-6, `${instrument.id}: ${centre}`);
      market.scenarios.forEach((s, j) => {
        const r = Number(s.assetReturns[instrument.underlying]!) / 1e8;
        const v = DEFAULT_VOL_MOVES[j % 3]!;
        const expected = blackScholes(instrument.kind as "call" | "put", spot * (1 + r), strike, years, vol * (1 + v)).price - centre;
        assert.ok(Math.abs(Number(s.instrumentPnl[k]!) / 1e8 - expected) <= 0.5e-8 + 1e-9 * spot, `${instrument.id} in ${s.name}`);
      });
      for (let node = 0; node < 9; node++) {
        const pnl = [0, 1, 2].map((v) => market.scenarios[3 * node + v]!.instrumentPnl[k]!);
        assert.ok(pnl[0]! < pnl[1]! && pnl[1]! < pnl[2]!, `${instrument.id}: vega > 0 at node ${node}`);
      }
      for (let node = 1; node < 9; node++) {
        const [before, after] = [market.scenarios[3 * node - 2]!.instrumentPnl[k]!, market.scenarios[3 * node + 1]!.instrumentPnl[k]!];
        assert.ok(instrument.kind === "call" ? after > before : after < before, `${instrument.id}: delta sign at node ${node}`);
      }
    });
  });

  it("put-call parity holds in every scenario (same strike and volatility: call PnL - put PnL = S * r); futures move linearly and not with volatility; an expired option by its intrinsic value", function () {
    const json = spec();
    const instruments = [
      { id: "C", underlying: "WETH", kind: "call", strike: "3000", expiry: 1798243200, mark: "1", delta: "0.5", impliedVol: "0.6" },
      { id: "P", underlying: "WETH", kind: "put", strike: "3000", expiry: 1798243200, mark: "1", delta: "-0.5", impliedVol: "0.6" },
      { id: "PERP", underlying: "WBTC", kind: "perp", mark: "91230.10", delta: "1" },
      { id: "OLD", underlying: "WETH", kind: "call", strike: "2900", expiry: 1763000000, mark: "112.55", delta: "1" },
    ];
    const grid = portfolioMarginGrid({ ...json, instruments, scenarios: { kind: "grid", items: [{ name: "flat", assetReturns: {}, instrumentPnl: {} }] } }, "custom.json");
    assert.deepEqual(
      grid.instruments.map((k) => [k.id, k.method, k.vol, k.volSource]),
      [
        ["C", "black-scholes", 0.6, "impliedVol field"],
        ["P", "black-scholes", 0.6, "impliedVol field"],
        ["PERP", "linear", undefined, undefined],
        ["OLD", "intrinsic", undefined, undefined],
      ],
    );
    const spot = 3012.55;
    grid.market.scenarios.forEach((s, j) => {
      const r = Number(s.assetReturns[0]!) / 1e8;
      const [call, put, perp, old] = s.instrumentPnl.map((g) => Number(g) / 1e8) as [number, number, number, number];
      assert.ok(Math.abs(call - put - spot * r) < 2e-8 + 1e-9, `parity in ${s.name}: ${call} - ${put} vs ${spot * r}`);
      assert.ok(Math.abs(perp - 91230.1 * (Number(s.assetReturns[1]!) / 1e8)) < 1e-8, `perp in ${s.name}`);
      if (j % 3 !== 1) assert.equal(s.instrumentPnl[2], grid.market.scenarios[j - (j % 3) + 1]!.instrumentPnl[2], "the perp ignores volatility");
      assert.ok(Math.abs(old - (Math.max(0, spot * (1 + r) - 2900) - (spot - 2900))) < 1e-8, `intrinsic in ${s.name}`);
    });
  });

  it("options: per-asset ranges (0 keeps an asset still), any number of spot points and volatility moves", function () {
    const grid = portfolioMarginGrid(spec(), "market-grid.json", { spotRange: 0.2, assetRanges: { USDC: 0, WBTC: 0.1 }, spotPoints: 5, volMoves: [-0.5, 0.5] });
    assert.equal(grid.market.scenarios.length, 10);
    assert.deepEqual(
      grid.ranges.map((r) => [r.symbol, r.range, r.source]),
      [
        ["WETH", 0.2, "scaled"],
        ["WBTC", 0.1, "given"],
        ["USDC", 0, "given"],
      ],
    );
    assert.deepEqual(items(grid.json)[0], { ...items(grid.json)[0]!, name: "price -2/2 range, vol -50%", assetReturns: { WETH: "-0.2", WBTC: "-0.1" } });
    assert.equal(items(grid.json)[3]!.name, "price -1/2 range, vol +50%");
    const even = portfolioMarginGrid(spec(), "market-grid.json", { spotPoints: 4, volMoves: [0] });
    assert.deepEqual(
      items(even.json).map((s) => s.name),
      ["price -3/3 range, vol unchanged", "price -1/3 range, vol unchanged", "price +1/3 range, vol unchanged", "price +3/3 range, vol unchanged"],
    );
  });

  it("bad options are InputErrors naming the option; a bad market names the file and field", function () {
    const refused = (run: () => unknown, fragment: RegExp) =>
      assert.throws(run, (e: unknown) => {
        assert.ok(e instanceof InputError && e.exitCode === 2, String(e));
        assert.match(e.message, fragment);
        return true;
      });
    const bad = (options: Parameters<typeof portfolioMarginGrid>[2], fragment: RegExp) => refused(() => portfolioMarginGrid(spec(), "market-grid.json", options), fragment);
    bad({ spotRange: 1 }, /^--spot-range: the range must be a fraction in \(0, 1\), got 1$/);
    bad({ spotRange: Number.NaN }, /^--spot-range: the range must be a fraction/);
    bad({ assetRanges: { DOGE: 0.1 } }, /^--spot-range: unknown asset "DOGE" \(the market has WETH, WBTC, USDC\)$/);
    bad({ assetRanges: { WETH: -0.1 } }, /^--spot-range: WETH's range must be a fraction in \[0, 1\), got -0.1$/);
    bad({ spotPoints: 1 }, /^--spot-points: expected an integer >= 2, got 1$/);
    bad({ spotPoints: 2.5 }, /^--spot-points: expected an integer >= 2/);
    bad({ volMoves: [] }, /^--vol-moves: expected at least one volatility move$/);
    bad({ volMoves: [-1, 0] }, /^--vol-moves: each move must be in \(-1, 10\]/);
    bad({ volMoves: [0.3, 0.3] }, /^--vol-moves: a move is listed twice/);
    bad({ spotPoints: 100, volMoves: [-0.3, 0, 0.3] }, new RegExp(`^--spot-points: 100 spot x 3 volatility moves are 300 scenarios, above the ${MAX_GRID_SCENARIOS}`));

    const json = spec();
    const instruments = clone(json.instruments) as Record<string, unknown>[];
    // A call marked below its intrinsic value: no volatility gives it.
    instruments[0] = { ...instruments[0], strike: "2000", mark: "5" };
    refused(
      () => portfolioMarginGrid({ ...json, instruments }, "m.json"),
      /^m\.json: instruments\[0\]\.mark: 5 is a price no volatility in \[0\.0001, 10\] gives this call \(intrinsic value 1012\.55\): give its volatility as instruments\[0\]\.impliedVol$/,
    );
    instruments[0] = { ...instruments[0], impliedVol: 0.5 };
    refused(
      () => portfolioMarginGrid({ ...json, instruments }, "m.json"),
      /^m\.json: instruments\[0\]\.impliedVol: expected an annual volatility as a decimal string like "0\.62", got 0\.5$/,
    );
    instruments[0] = { ...instruments[0], impliedVol: "0" };
    refused(() => portfolioMarginGrid({ ...json, instruments }, "m.json"), /^m\.json: instruments\[0\]\.impliedVol: must be in \(0, 10\], got "0"$/);
    refused(() => portfolioMarginGrid({ ...json, epoch: "x" }, "m.json"), /^m\.json: epoch: /);
    // A PnL the circuits cannot hold is refused by the parser, naming the generated field.
    const huge = clone(json);
    (huge.assets as Record<string, unknown>[])[1]!.price = "100000000";
    (huge.instruments as Record<string, unknown>[])[2]!.strike = "100000000";
    (huge.instruments as Record<string, unknown>[])[2]!.mark = "1";
    (huge.instruments as Record<string, unknown>[])[2]!.impliedVol = "2";
    refused(() => portfolioMarginGrid(huge, "m.json"), /^m\.json \(with the grid\): scenarios\.items\[\d+\]\.instrumentPnl\.BTC-26DEC26-95000-C: /);
  });
});

describe("zks market grid", function () {
  let dir: string;
  before(() => (dir = mkdtempSync(path.join(tmpdir(), "zks-grid-"))));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("writes the grid market (the fixture, with the defaults); zks check reads it: the healthy example passes, the at-risk one fails the grid's stress", function () {
    const out = path.join(dir, "market-27.json");
    const run = zks("market", "grid", "--market", example("market-grid.json"), "--out", out);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /wrote .*market-27\.json: 27 grid scenarios \(9 spot moves x 3 volatility moves -30%, 0%, \+30%\), epoch 42/);
    assert.match(run.stdout, /spot ranges: WETH \+-15\.00%, WBTC \+-12\.00%, USDC \+-0\.21%/);
    assert.match(run.stdout, /ETH-26DEC26-3200-C: Black-Scholes at volatility 19\.23% \(implied by the mark\)/);
    assert.deepEqual(JSON.parse(readFileSync(out, "utf8")), readJsonFile(GRID_FIXTURE));
    const healthy = zks("check", "--position", example("position-healthy.json"), "--market", out, "--policy", example("policy.json"));
    assert.equal(healthy.code, 0, healthy.stdout + healthy.stderr);
    assert.match(healthy.stdout, /historical VaR \(99%, 27 scenarios/);
    const atRisk = zks("check", "--position", example("position-at-risk.json"), "--market", out, "--policy", example("policy.json"));
    assert.equal(atRisk.code, 1);
    assert.match(atRisk.stdout, /FAIL {2}stress: worst loss 6,087\.40 USD in scenario 'price \+4\/4 range, vol \+30%'/);
  });

  it("--spot-range reads a range, SYMBOL=range pairs or both; two bare ranges or an asset twice is an error naming the flag", function () {
    assert.deepEqual(spotRanges("0.15"), { spotRange: 0.15, assetRanges: {} });
    assert.deepEqual(spotRanges("0.2, USDC=0,WBTC=0.1"), { spotRange: 0.2, assetRanges: { USDC: 0, WBTC: 0.1 } });
    assert.deepEqual(spotRanges("WETH=0.3"), { assetRanges: { WETH: 0.3 } });
    assert.throws(() => spotRanges("WETH=0.1,WETH=0.2"), /^InputError: --spot-range: WETH is listed twice$/);
    assert.throws(() => spotRanges("0.1,0.2"), /^InputError: --spot-range: two ranges without an asset in "0.1,0.2"$/);
    assert.throws(() => spotRanges("WETH=ten"), /^InputError: --spot-range: expected a decimal number, got "ten"$/);
    // A name that is also an Object property is a name: unknown to the market, not a prototype.
    assert.throws(() => portfolioMarginGrid(spec(), "market-grid.json", spotRanges("__proto__=0.1")), /^InputError: --spot-range: unknown asset "__proto__"/);
    const json = spec();
    const assets = clone(json.assets) as Record<string, unknown>[];
    assets[2] = { ...assets[2], symbol: "constructor" };
    const covariance = { ...(json.covariance as Record<string, unknown>), assets: ["WETH", "WBTC", "constructor"] };
    const odd = portfolioMarginGrid({ ...json, assets, covariance }, "m.json", spotRanges("0.15"));
    assert.deepEqual(odd.ranges[2]!.source, "scaled");
  });

  it("--spot-range with per-asset pairs, --spot-points, --vol-moves and --json", function () {
    const out = path.join(dir, "m.json");
    const run = zks(
      "market",
      "grid",
      "--market",
      example("market-grid.json"),
      "--out",
      out,
      "--spot-range",
      "0.2,USDC=0",
      "--spot-points",
      "5",
      "--vol-moves=-0.5,0,0.5",
      "--json",
    );
    assert.equal(run.code, 0, run.stderr);
    const summary = JSON.parse(run.stdout);
    assert.equal(summary.scenarios, 15);
    assert.deepEqual(summary.volMoves, [-0.5, 0, 0.5]);
    assert.deepEqual(summary.ranges[2], { symbol: "USDC", range: 0, source: "given" });
    assert.equal(parseMarket(readJsonFile(out), out).scenarios.length, 15);
  });

  it("bad input is one line with exit 2: the input as output, bad flags, a bad market, a missing file; nothing is written", function () {
    const out = path.join(dir, "never.json");
    const cases: [string[], RegExp][] = [
      [
        ["--market", example("market-grid.json"), "--out", example("market-grid.json")],
        /^zks: --out: .*market-grid\.json is the input market: write the grid market to another file$/,
      ],
      [["--market", example("market-grid.json"), "--out", out, "--spot-range", "15%"], /^zks: --spot-range: expected a decimal number, got "15%"$/],
      [["--market", example("market-grid.json"), "--out", out, "--spot-range", "0.1,0.2"], /^zks: --spot-range: two ranges without an asset in "0.1,0.2"$/],
      [["--market", example("market-grid.json"), "--out", out, "--vol-moves=-1,0"], /^zks: --vol-moves: each move must be in \(-1, 10\]/],
      [["--market", path.join(dir, "nope.json"), "--out", out], /^zks: .*nope\.json: file not found/],
      [["--market", example("policy.json"), "--out", out], /^zks: .*policy\.json: /],
    ];
    for (const [args, fragment] of cases) {
      const run = zks("market", "grid", ...args);
      assert.equal(run.code, 2, `${args.join(" ")}: ${run.stderr}`);
      assertOneLineError(run, fragment);
    }
    assert.throws(() => readFileSync(out), /ENOENT/);
  });
});

describe(`the 27-grid market proven on ${INSTANCE}`, function () {
  let market: Market;
  let policy: Policy;
  let healthy: Position;
  let atRisk: Position;
  let fast: FastWitness;

  before(async function () {
    market = parseMarket(readJsonFile(GRID_FIXTURE), "market-grid-27.json");
    policy = loadPolicy(market);
    healthy = loadPosition("position-healthy.json", market);
    atRisk = loadPosition("position-at-risk.json", market);
    fast = await FastWitness.load(loadInstanceArtifacts(INSTANCE));
  });

  after(releaseProverThreads);

  /** The grid hedge's plan for the at-risk example (docs/rebalance.md, "Grid hedge"). */
  const hedged = (): Plan => {
    const allowance = parseAllowance(
      { wallet: { USDC: "20000", "ETH-26DEC26-2800-P": "40" }, sellable: ["WETH", "WBTC", "USDC"], tradable: ["ETH-26DEC26-2800-P"] },
      "allow.json",
      market,
    );
    const result = plan(atRisk, market, policy, allowance, { strategy: "grid-hedge" });
    assert.equal(result.kind, "plan", result.kind === "none" ? result.reason : "");
    return result as Plan;
  };

  it("a real proof of the healthy example under the grid, made and verified with the SDK; its market root is the grid market's", async function () {
    const artifacts = loadCircuitArtifacts(INSTANCE);
    const proof = await proveSolvency({ position: healthy, market, policy }, artifacts);
    assert.equal(await verifySolvency(proof, artifacts), true);
    assert.equal(proof.marketRoot, marketRoot(market, LAYOUT));
    // The 16-scenario example market has another root: the proof is for the grid.
    const spanMarket = parseMarket(spec(), "market-grid.json");
    assert.notEqual(proof.marketRoot, marketRoot(spanMarket, LAYOUT));
    // The at-risk example fails the grid's stress: no proof, the reason named (exit 1).
    await assert.rejects(
      proveSolvency({ position: atRisk, market, policy }, artifacts),
      (e: unknown) => e instanceof UnprovableError && e.exitCode === 1 && /stress: worst loss 6,087\.40 USD/.test(e.message),
    );
    // The grid hedge's new position proves.
    const after = hedged().position;
    const hedgedProof = await proveSolvency({ position: after, market, policy }, artifacts);
    assert.equal(await verifySolvency(hedgedProof, artifacts), true);
  });

  it("differential: the circuit accepts exactly the positions the model passes (the examples, the hedge's result, 40 random positions)", async function () {
    const rng = new Random(27_027);
    const cases: [string, Position][] = [
      ["healthy", healthy],
      ["at-risk", atRisk],
      ["hedged", hedged().position],
      ...Array.from({ length: 40 }, (_, n): [string, Position] => [`random ${n}`, salted(randomPosition(rng, market), BigInt(n + 1))]),
    ];
    let passing = 0;
    let failingStress = 0;
    for (const [label, position] of cases) {
      let report;
      try {
        report = checkPosition(position, market, policy);
      } catch {
        continue; // outside the model's bounds: the circuit's range checks are tested elsewhere
      }
      const result = await fast.calculate(solvencyInput(position, market, policy, LAYOUT));
      assert.equal(
        result.accepted,
        report.pass,
        `${label}: model ${report.pass ? "passes" : `fails ${report.failures.join(", ")}`}, circuit ${result.accepted ? "accepts" : `rejects (${result.error})`}`,
      );
      if (report.pass) passing++;
      if (report.failures.includes("stress")) failingStress++;
    }
    assert.ok(passing >= 3 && failingStress >= 3, `a fair mix: ${passing} passing, ${failingStress} failing stress`);
  });

  it("a tampered scenario: proven honestly it is another market root; kept under the published root, the witness violates the constraints", async function () {
    const published = marketRoot(market, LAYOUT);
    const tampered: Market = clone2(market);
    // The oracle's worst scenario for the at-risk position, made milder for the written call.
    tampered.scenarios[26]!.instrumentPnl[0] = tampered.scenarios[26]!.instrumentPnl[0]! - 100n * 10n ** 8n;
    const honest = await fast.calculate(solvencyInput(healthy, tampered, policy, LAYOUT));
    assert.ok(honest.accepted);
    const circuit = await CircuitUnderTest.load(INSTANCE);
    assert.notEqual(honest.witness[circuit.index("main.marketRoot")], published, "a tampered scenario is another market");
    assert.equal(honest.witness[circuit.index("main.marketRoot")], marketRoot(tampered, LAYOUT));

    // The honest witness under the published market, with one scenario value changed and the root kept.
    const real = await fast.calculate(solvencyInput(healthy, market, policy, LAYOUT));
    assert.ok(real.accepted);
    assert.equal(real.witness[circuit.index("main.marketRoot")], published);
    assert.deepEqual(circuit.violated(real.witness), []);
    const forged = [...real.witness];
    const pnl = circuit.index("main.instrumentPnl[26][0]");
    forged[pnl] = toField(forged[pnl]! - 100n * 10n ** 8n);
    assert.ok(circuit.violated(forged).length > 0, "a scenario value changed under the published root violates the constraints");
    const ret = circuit.index("main.assetReturn[0][0]");
    const forgedReturn = [...real.witness];
    forgedReturn[ret] = toField(forgedReturn[ret]! + 1n);
    assert.ok(circuit.violated(forgedReturn).length > 0, "so does a scenario return");
  });
});

/** A deep copy of a parsed market (bigints kept). */
function clone2(market: Market): Market {
  return {
    ...market,
    quote: { ...market.quote },
    assets: market.assets.map((a) => ({ ...a })),
    instruments: market.instruments.map((k) => ({ ...k })),
    scenarios: market.scenarios.map((s) => ({ ...s, assetReturns: [...s.assetReturns], instrumentPnl: [...s.instrumentPnl] })),
    covariance: { ...market.covariance, matrix: market.covariance.matrix.map((row) => [...row]) },
  };
}
