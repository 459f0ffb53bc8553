/**
 * The planner's grid hedge (docs/rebalance.md, "Grid hedge"): on the at-risk example under the
 * 27-scenario grid it leaves a lower worst grid loss than the delta-only plan and less vega and
 * gamma; every plan passes the planner's own checks (replay, checkTransition, backedTransition,
 * the plan file) and, under the 16-scenario market, the rebalance circuit itself; option tokens
 * move only as the allowance says; a keeper's hedge moves none; the linear program is checked
 * against known optima and random feasible points; and over random at-risk cases the grid hedge
 * is sound, and never leaves more worst loss than the threshold strategy's plan.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { loadInstanceArtifacts } from "../packages/node/src/artifacts.ts";
import { readJsonFile } from "../packages/node/src/read-json.ts";
import { PACKAGE_ROOT } from "../packages/node/src/setup/paths.ts";
import { InputError } from "../packages/sdk/src/core/errors.ts";
import { parseMarket } from "../packages/sdk/src/inputs/parse-market.ts";
import type { Market, Policy, Position } from "../packages/sdk/src/inputs/types.ts";
import { checkPosition } from "../packages/sdk/src/model/check.ts";
import { rebalanceInput } from "../packages/sdk/src/prover/witness/rebalance.ts";
import {
  applyActions,
  backedTransition,
  checkTransition,
  emptyAllowance,
  gridExposures,
  meetsGoal,
  parseAllowance,
  parsePlanFile,
  plan,
  planToJson,
  simplexMax,
  solveMinimax,
  worstLoss,
  type Allowance,
  type NoPlan,
  type Plan,
  type MinimaxProblem,
} from "../packages/sdk/src/rebalance/index.ts";
import { quickCheck } from "../packages/sdk/src/rebalance/quick-check.ts";
import { assertOneLineError, zks } from "./helpers/cli.ts";
import { example, loadMarket, loadPolicy, loadPosition } from "./helpers/examples.ts";
import { TEST_KEEPER } from "./helpers/keeper-key.ts";
import { Random } from "./helpers/model-fixtures.ts";
import { randomAtRiskCases } from "./helpers/rebalance-fixtures.ts";
import { FastWitness } from "./helpers/solvency-witness.ts";

const GRID_FIXTURE = path.join(PACKAGE_ROOT, "test", "fixtures", "market-grid-27.json");
const WETH = 0;
const USDC = 2;
const CALL = 0;
const PUT = 1;
const usdc = (x: bigint): bigint => x * 10n ** 6n;
const abs = (x: bigint): bigint => (x < 0n ? -x : x);
const contracts = (x: bigint): bigint => x * 10n ** 8n;
const uniform = (rng: Random, lo: number, hi: number): number => lo + rng.next() * (hi - lo);

/** The hedging allowance: 20,000 USDC and 40 ETH puts in the wallet, every asset sellable, the puts tradable. */
const HEDGE_ALLOWANCE = { wallet: { USDC: "20000", "ETH-26DEC26-2800-P": "40" }, sellable: ["WETH", "WBTC", "USDC"], tradable: ["ETH-26DEC26-2800-P"] };

function expectPlan(result: Plan | NoPlan): Plan {
  assert.equal(result.kind, "plan", result.kind === "none" ? result.reason : "");
  return result as Plan;
}

/**
 * What the planner promises of a plan, checked with the planner's own machinery: the actions
 * replay to its position, checkTransition and backedTransition accept it (the circuit's rules),
 * the quick check equals checkPosition, the goal is met, the allowance is kept (wallet assets
 * and option tokens, sellable, tradable, slots), and the plan file round-trips.
 */
function assertSoundHedge(p: Plan, old: Position, market: Market, policy: Policy, allowance: Allowance, forced = false, label = ""): void {
  const at = (what: string) => `${label}: ${what}\n${p.explanation.join("\n")}`;
  assert.equal(p.strategy, "grid-hedge");
  const report = checkPosition(p.position, market, policy);
  assert.equal(report.pass, true, at("fails the model"));
  assert.deepEqual(quickCheck(p.position, market, policy), report, at("quick check differs from checkPosition"));
  assert.ok(meetsGoal(report, p.goal), at("goal"));
  assert.ok(p.grid, at("no grid summary"));
  if (!p.needed) return;
  const replay = applyActions(old, p.actions, market, { policy });
  assert.deepEqual(replay.position, p.position, at("replay"));
  assert.deepEqual(replay.movements, p.movements, at("movements"));
  assert.deepEqual(checkTransition({ old, next: p.position, forced, fromEmpty: false, ...p.movements }, market, policy).violations, [], at("checkTransition"));
  assert.doesNotThrow(() => backedTransition(old, p.position, p.movements, market, policy, forced), at("backedTransition"));
  assert.ok(p.movements.swaps.length <= 2, at("slots"));
  for (const s of p.movements.swaps) assert.ok(allowance.sellable[s.sell], at(`sold ${s.sell}, not sellable`));
  p.movements.flows.forEach((f, i) => assert.ok(f <= allowance.wallet[i]!, at(`wallet ${i} overdrawn`)));
  p.movements.instrumentFlows.forEach((f, k) => {
    if (f === 0n) return;
    assert.ok(allowance.tradable[k], at(`instrument ${k} moved but not tradable`));
    assert.ok(old.quantities[k]! >= 0n, at(`instrument ${k} is written: its tokens cannot move`));
    assert.ok(f <= (allowance.instrumentWallet?.[k] ?? 0n), at(`option tokens of ${k} beyond the wallet`));
  });
  if (allowance.maxActions !== undefined) assert.ok(p.actions.length <= allowance.maxActions, at("too many actions"));
  // The plan file: written, read back against the market and the old position.
  const json = JSON.parse(JSON.stringify(planToJson(p, market)));
  assert.equal(json.strategy, "grid-hedge");
  assert.deepEqual(Object.keys(json.grid), ["band", "before", "after"]);
  const parsed = parsePlanFile(json, "plan.json", market, old);
  assert.deepEqual(parsed.actions, p.actions);
  assert.equal(parsed.strategy, "grid-hedge");
}

describe("grid hedge", function () {
  let grid27: Market;
  let span16: Market;
  let policy: Policy;
  let atRisk: Position;
  let healthy: Position;
  /** The at-risk example with 30,000 USDC of collateral, as the delta-neutral tests use it: the delta hedge then has something to buy WETH with. */
  let atRiskWithUsdc: Position;

  before(function () {
    grid27 = parseMarket(readJsonFile(GRID_FIXTURE), "market-grid-27.json");
    span16 = loadMarket();
    policy = loadPolicy(grid27);
    atRisk = loadPosition("position-at-risk.json", grid27);
    healthy = loadPosition("position-healthy.json", grid27);
    atRiskWithUsdc = { ...atRisk, collateral: atRisk.collateral.map((c, i) => (i === USDC ? usdc(30_000n) : c)) };
  });

  describe("the at-risk example under the 27-scenario grid", function () {
    it("leaves a lower worst grid loss than the delta-only plan, and less vega and gamma (the delta plan's are the position's own)", function () {
      const allowance = parseAllowance(HEDGE_ALLOWANCE, "allow.json", grid27);
      const delta = expectPlan(plan(atRiskWithUsdc, grid27, policy, allowance, { strategy: "delta-neutral" }));
      const hedge = expectPlan(plan(atRiskWithUsdc, grid27, policy, allowance, { strategy: "grid-hedge" }));
      assertSoundHedge(hedge, atRiskWithUsdc, grid27, policy, allowance, false, "hedge");
      const before = gridExposures(atRiskWithUsdc, grid27);
      const deltaAfter = gridExposures(delta.position, grid27);
      const hedgeAfter = gridExposures(hedge.position, grid27);
      assert.deepEqual(hedge.grid!.before, before);
      assert.deepEqual(hedge.grid!.after, hedgeAfter);
      // Worst grid loss: 6,023 USD before, 4,145 after the delta hedge, under 1,000 after the grid hedge.
      assert.ok(hedgeAfter.worstLoss < deltaAfter.worstLoss, `grid hedge ${hedgeAfter.worstLoss} vs delta ${deltaAfter.worstLoss}`);
      assert.ok(deltaAfter.worstLoss < before.worstLoss);
      assert.ok(hedgeAfter.worstLoss * 4n < deltaAfter.worstLoss, `a large cut: ${hedgeAfter.worstLoss} vs ${deltaAfter.worstLoss}`);
      // Spot swaps leave vega and gamma where they were; the grid hedge's puts take most of them away.
      assert.equal(deltaAfter.vega, before.vega);
      assert.equal(deltaAfter.gamma, before.gamma);
      assert.ok(before.vega! > 0n && abs(hedgeAfter.vega!) * 5n < before.vega!, `vega ${before.vega} -> ${hedgeAfter.vega}`);
      assert.ok(before.gamma! < 0n && abs(hedgeAfter.gamma!) * 5n < abs(before.gamma!), `gamma ${before.gamma} -> ${hedgeAfter.gamma}`);
      // It deposits puts from the wallet and buys WETH; the written calls do not move.
      assert.ok(hedge.movements.instrumentFlows[PUT]! > 0n);
      assert.equal(hedge.movements.instrumentFlows[CALL], 0n);
      assert.ok(hedge.movements.swaps.some((s) => s.buy === WETH));
      const text = hedge.explanation.join("\n");
      assert.match(text, /^strategy grid-hedge: minimise the worst loss over the market's 27 scenarios/m);
      assert.match(
        text,
        /^before: worst scenario loss 6,02\d\.\d\d USD \('price \+4\/4 range, vol \+30%'\), vega 4,249\.68 USD \(PnL range across the volatility moves at unchanged prices\), gamma -258\.11 USD/m,
      );
      assert.match(text, /deposit [\d.]+ contracts of ETH-26DEC26-2800-P \(option tokens\) from the wallet/);
      assert.match(text, /^after: worst scenario loss [\d,.]+ USD/m);
    });

    it("without USDC collateral the delta hedge cannot buy WETH (delta-neutral falls back to the repairs); the grid hedge still plans (wallet USDC swapped, puts deposited) and beats the threshold plan's worst loss", function () {
      const allowance = parseAllowance(HEDGE_ALLOWANCE, "allow.json", grid27);
      // The delta hedge cannot be had; below its trigger the position gets the threshold's repairs instead (solvency first).
      const unhedged = expectPlan(plan(atRisk, grid27, policy, allowance, { strategy: "delta-neutral" }));
      assert.match(unhedged.explanation.join("\n"), /cannot bring the delta inside the band .*: the checks are restored without the hedge/);
      const threshold = expectPlan(plan(atRisk, grid27, policy, allowance, { strategy: "threshold" }));
      const hedge = expectPlan(plan(atRisk, grid27, policy, allowance, { strategy: "grid-hedge" }));
      assertSoundHedge(hedge, atRisk, grid27, policy, allowance, false, "no usdc");
      assert.ok(gridExposures(hedge.position, grid27).worstLoss < gridExposures(threshold.position, grid27).worstLoss);
      assert.ok(gridExposures(hedge.position, grid27).worstLoss < gridExposures(unhedged.position, grid27).worstLoss);
      assert.ok(hedge.actions.some((a) => a.kind === "deposit" && a.asset === USDC));
    });

    it("with spot only (no option tokens allowed), it hedges the spot and leaves vega alone; a written holding listed tradable never moves", function () {
      const spotOnly = parseAllowance({ wallet: { USDC: "20000" }, sellable: ["WETH", "WBTC", "USDC"] }, "allow.json", grid27);
      const p = expectPlan(plan(atRiskWithUsdc, grid27, policy, spotOnly, { strategy: "grid-hedge" }));
      assertSoundHedge(p, atRiskWithUsdc, grid27, policy, spotOnly, false, "spot only");
      assert.ok(p.movements.instrumentFlows.every((f) => f === 0n));
      assert.equal(p.grid!.after.vega, p.grid!.before.vega);
      assert.ok(p.grid!.after.worstLoss < p.grid!.before.worstLoss);
      // The written calls listed tradable, with calls in the wallet: still no call moves (option tokens back longs only).
      const calls = parseAllowance(
        { wallet: { USDC: "20000", "ETH-26DEC26-3200-C": "30" }, sellable: ["WETH", "WBTC", "USDC"], tradable: ["ETH-26DEC26-3200-C"] },
        "allow.json",
        grid27,
      );
      const q = expectPlan(plan(atRiskWithUsdc, grid27, policy, calls, { strategy: "grid-hedge" }));
      assertSoundHedge(q, atRiskWithUsdc, grid27, policy, calls, false, "written calls");
      assert.equal(q.movements.instrumentFlows[CALL], 0n);
    });

    it("a keeper's grid hedge (forced) only swaps and repays from collateral, no wallet and no option tokens, and restores a position the keeper's threshold plan cannot", function () {
      const allowance = parseAllowance(HEDGE_ALLOWANCE, "allow.json", grid27);
      // 30,000 USDC of collateral against 44,500 USDC of debt: health factor 1.0949, historical VaR short by 1,412.18 USD.
      const levered = {
        ...atRisk,
        collateral: atRisk.collateral.map((c, i) => (i === USDC ? usdc(30_000n) : c)),
        debt: atRisk.debt.map((d, i) => (i === USDC ? usdc(44_500n) : d)),
      };
      const threshold = plan(levered, grid27, policy, allowance, { strategy: "threshold", forced: true });
      assert.equal(threshold.kind, "none", "repaying from collateral alone cannot cover the grid's VaR");
      const p = expectPlan(plan(levered, grid27, policy, allowance, { strategy: "grid-hedge", forced: true }));
      assertSoundHedge(p, levered, grid27, policy, allowance, true, "forced");
      assert.ok(p.grid!.after.worstLoss < p.grid!.before.worstLoss);
      assert.ok(p.movements.flows.every((f) => f === 0n));
      assert.ok(p.movements.instrumentFlows.every((f) => f === 0n));
      assert.ok(p.actions.every((a) => a.kind === "swap" || a.kind === "repayWithCollateral"));
    });

    it("does nothing when the checks pass and no hedge gains more than the band; hedges the healthy example with a zero band", function () {
      const allowance = parseAllowance(HEDGE_ALLOWANCE, "allow.json", grid27);
      const idle = expectPlan(plan(healthy, grid27, policy, allowance, { strategy: "grid-hedge", gridBand: 10n ** 15n }));
      assert.equal(idle.needed, false);
      assert.match(
        idle.explanation.join("\n"),
        /the best hedge lowers the worst loss by [\d,.]+ USD, not more than the band 10,000,000\.00 USD, and every check passes: nothing to do/,
      );
      assert.deepEqual(idle.grid!.after, idle.grid!.before);
      const nothing = expectPlan(plan(healthy, grid27, policy, emptyAllowance(grid27), { strategy: "grid-hedge" }));
      assert.equal(nothing.needed, false);
      assert.match(nothing.explanation.join("\n"), /no allowed trade changes the scenario losses/);
      const hedged = expectPlan(plan(healthy, grid27, policy, allowance, { strategy: "grid-hedge", gridBand: 0n }));
      assertSoundHedge(hedged, healthy, grid27, policy, allowance, false, "healthy");
      assert.equal(hedged.needed, true);
      assert.ok(hedged.grid!.after.worstLoss < hedged.grid!.before.worstLoss);
      assert.throws(() => plan(healthy, grid27, policy, allowance, { strategy: "grid-hedge", gridBand: -1n }), /the grid band must be >= 0/);
    });

    it("zks plan --strategy grid-hedge reads option tokens from allow.json's wallet and writes the plan", function () {
      const dir = mkdtempSync(path.join(tmpdir(), "zks-grid-plan-"));
      try {
        const allow = path.join(dir, "allow.json");
        writeFileSync(allow, JSON.stringify(HEDGE_ALLOWANCE));
        const out = path.join(dir, "plan.json");
        const planArgs = [
          "plan",
          "--position",
          example("position-at-risk.json"),
          "--market",
          GRID_FIXTURE,
          "--policy",
          example("policy.json"),
          "--allow",
          allow,
          "--strategy",
          "grid-hedge",
        ];
        const run = zks(...planArgs, "--out", out);
        assert.equal(run.code, 0, run.stderr + run.stdout);
        assert.match(run.stdout, /strategy grid-hedge: PLAN: \d actions/);
        assert.match(run.stdout, /deposit [\d.]+ contracts of ETH-26DEC26-2800-P \(option tokens\) from the wallet/);
        const file = readJsonFile(out) as { strategy: string; grid: { before: { worstLoss: string }; after: { worstLoss: string } } };
        assert.equal(file.strategy, "grid-hedge");
        assert.ok(Number(file.grid.after.worstLoss) < Number(file.grid.before.worstLoss));
        writeFileSync(allow, JSON.stringify({ wallet: { "ETH-26DEC26-2800-P": "-1" } }));
        const bad = zks(...planArgs);
        assert.equal(bad.code, 2);
        assertOneLineError(bad, /allow\.json: wallet\.ETH-26DEC26-2800-P: /);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });

  it("under the 16-scenario market, the rebalance circuit (rebalance-3x3x16) accepts the grid hedge's transition, option-token deposit included", async function () {
    const allowance = parseAllowance(HEDGE_ALLOWANCE, "allow.json", span16);
    const old = loadPosition("position-at-risk.json", span16);
    const start = { ...old, collateral: old.collateral.map((c, i) => (i === USDC ? usdc(30_000n) : c)) };
    const p = expectPlan(plan(start, span16, loadPolicy(span16), allowance, { strategy: "grid-hedge" }));
    assertSoundHedge(p, start, span16, loadPolicy(span16), allowance, false, "span16");
    assert.ok(p.movements.instrumentFlows[PUT]! > 0n, "the hedge deposits puts");
    const t = backedTransition(start, { ...p.position, salt: 777n }, p.movements, span16, loadPolicy(span16), false);
    const fast = await FastWitness.load(loadInstanceArtifacts("rebalance-3x3x16"));
    const input = rebalanceInput(t, span16, loadPolicy(span16), { nAssets: 3, nInstruments: 3, nScenarios: 16, nSwaps: 2 }, "position", 0n, { keeperKey: TEST_KEEPER.publicKey });
    const result = await fast.calculate(input);
    assert.ok(result.accepted, result.accepted ? "" : result.error);
  });

  describe("allow.json: option tokens in the wallet", function () {
    it("an instrument id in wallet is its option tokens (contracts); bad amounts name the field", function () {
      const a = parseAllowance({ wallet: { USDC: "1", "ETH-26DEC26-2800-P": "40.5" } }, "allow.json", grid27);
      assert.deepEqual(a.instrumentWallet, [0n, contracts(40n) + contracts(1n) / 2n, 0n]);
      assert.equal(a.wallet[USDC], usdc(1n));
      assert.equal(parseAllowance({ wallet: { USDC: "1" } }, "allow.json", grid27).instrumentWallet, undefined);
      const refused = (json: unknown, fragment: RegExp) =>
        assert.throws(
          () => parseAllowance(json, "allow.json", grid27),
          (e: unknown) => e instanceof InputError && fragment.test(e.message),
        );
      refused({ wallet: { "ETH-26DEC26-2800-P": "-1" } }, /^allow\.json: wallet\.ETH-26DEC26-2800-P: /);
      refused({ wallet: { "ETH-26DEC26-2800-P": 40 } }, /^allow\.json: wallet\.ETH-26DEC26-2800-P: expected a decimal string of contracts like "40", got number 40$/);
      refused({ wallet: { "ETH-26DEC26-2800-P": "0.000000001" } }, /^allow\.json: wallet\.ETH-26DEC26-2800-P: /);
      refused({ wallet: { "ETH-26DEC26-2800-P": "1".padEnd(40, "0") } }, /above the commitment's range/);
      refused({ wallet: { DOGE: "1" } }, /^allow\.json: wallet\.DOGE: /);
      // A market whose instrument is named like an asset: the wallet entry cannot say which.
      const raw = readJsonFile(GRID_FIXTURE) as { instruments: { id: string }[]; scenarios: { items: { instrumentPnl: Record<string, string> }[] } };
      raw.instruments[1]!.id = "USDC";
      for (const item of raw.scenarios.items) delete item.instrumentPnl["ETH-26DEC26-2800-P"];
      const clash = parseMarket(raw, "clash.json");
      assert.throws(
        () => parseAllowance({ wallet: { USDC: "1" } }, "allow.json", clash),
        /^InputError: allow\.json: wallet\.USDC: "USDC" is both an asset and an instrument of the market; the wallet entry is ambiguous$/,
      );
    });
  });

  describe("the linear program", function () {
    const problem = (p: Partial<MinimaxProblem> & Pick<MinimaxProblem, "losses" | "slopes">): MinimaxProblem => ({
      weights: p.losses.map(() => 1),
      lower: p.slopes[0]!.map(() => 0),
      upper: p.slopes[0]!.map(() => 100),
      cost: p.slopes[0]!.map(() => 0),
      ...p,
    });

    it("finds known optima: a balance point, a bound, a shared budget, weights, and no trade when trading costs more than it saves", function () {
      // L = [10 - x, -5 + x]: balanced at x = 7.5, worst 2.5.
      const balance = solveMinimax(problem({ losses: [10, -5], slopes: [[-1], [1]] }));
      assert.ok(Math.abs(balance.x[0]! - 7.5) < 1e-9 && Math.abs(balance.worst - 2.5) < 1e-9, JSON.stringify(balance));
      assert.equal(balance.start, 10);
      // Bounded at 4: worst 6.
      const bounded = solveMinimax(problem({ losses: [10, -5], slopes: [[-1], [1]], upper: [4] }));
      assert.ok(Math.abs(bounded.x[0]! - 4) < 1e-9 && Math.abs(bounded.worst - 6) < 1e-9);
      // Two trades sharing a budget of 3: x0 + x1 <= 3, each cutting the single loss.
      const budget = solveMinimax(problem({ losses: [10], slopes: [[-1, -2]], budgets: [{ coefficients: [1, 1], limit: 3 }] }));
      assert.ok(Math.abs(budget.worst - 4) < 1e-9 && Math.abs(budget.x[1]! - 3) < 1e-9, JSON.stringify(budget));
      // A weight: 0.5 * (20 - x) vs 1 * (-5 + x): balanced at x = 10, worst 5.
      const weighted = solveMinimax(problem({ losses: [20, -5], slopes: [[-1], [1]], weights: [0.5, 1] }));
      assert.ok(Math.abs(weighted.worst - 5) < 1e-9, JSON.stringify(weighted));
      // Negative side: x in [-10, 0] helps.
      const negative = solveMinimax(problem({ losses: [10, -5], slopes: [[1], [-1]], lower: [-100], upper: [0] }));
      assert.ok(Math.abs(negative.x[0]! + 7.5) < 1e-9);
      // A unit costing 2 that saves 1: no trade.
      const costly = solveMinimax(problem({ losses: [10, -5], slopes: [[-1], [1]], cost: [2] }));
      assert.deepEqual(costly.x, [0]);
      // Nothing to lose: no trade.
      assert.deepEqual(solveMinimax(problem({ losses: [-1, -2], slopes: [[1], [1]] })).x, [0]);
      assert.throws(() => solveMinimax(problem({ losses: [1], slopes: [[1]], lower: [1] })), /bounds must contain 0/);
      assert.throws(() => simplexMax([1], [[1]], [-1]), /origin must be feasible/);
    });

    it("property: on random problems no feasible point (of 400 sampled) has a lower worst loss than the program's solution, and the solution is feasible", function () {
      const rng = new Random(2_700);
      for (let n = 0; n < 60; n++) {
        const vars = rng.int(1, 4);
        const scenarios = rng.int(2, 27);
        const p: MinimaxProblem = {
          weights: Array.from({ length: scenarios }, () => (rng.chance(0.2) ? 0.35 : 1)),
          losses: Array.from({ length: scenarios }, () => uniform(rng, -100, 100)),
          slopes: Array.from({ length: scenarios }, () => Array.from({ length: vars }, () => uniform(rng, -3, 3))),
          lower: Array.from({ length: vars }, () => (rng.chance(0.5) ? 0 : -uniform(rng, 0, 50))),
          upper: Array.from({ length: vars }, () => uniform(rng, 0, 50)),
          cost: Array.from({ length: vars }, () => 0),
          budgets: vars > 1 && rng.chance(0.5) ? [{ coefficients: Array.from({ length: vars }, () => 1), limit: uniform(rng, 0, 40) }] : [],
        };
        const s = solveMinimax(p);
        s.x.forEach((x, v) => assert.ok(x >= p.lower[v]! - 1e-7 && x <= p.upper[v]! + 1e-7, `case ${n}: x${v} = ${x} outside its bounds`));
        for (const b of p.budgets ?? []) assert.ok(b.coefficients.reduce((sum, c, v) => sum + c * s.x[v]!, 0) <= b.limit + 1e-7, `case ${n}: budget`);
        assert.ok(Math.abs(worstLoss(p, s.x) - s.worst) < 1e-9);
        for (let k = 0; k < 400; k++) {
          const x = p.lower.map((lo, v) => lo + uniform(rng, 0, 1) * (p.upper[v]! - lo));
          if ((p.budgets ?? []).some((b) => b.coefficients.reduce((sum, c, v) => sum + c * x[v]!, 0) > b.limit)) continue;
          assert.ok(worstLoss(p, x) >= s.worst - 1e-6, `case ${n}: a sampled point ${JSON.stringify(x)} beats the solution (${worstLoss(p, x)} < ${s.worst})`);
        }
      }
    });
  });

  describe("property: random at-risk positions and allowances", function () {
    it("every grid-hedge plan is sound, and leaves at most the threshold plan's worst loss; it finds a plan whenever threshold does", function () {
      const cases = randomAtRiskCases(20_251_205, 60);
      let plans = 0;
      let withOptionTokens = 0;
      for (const c of cases) {
        const label = `seed case ${c.seed}`;
        // Some of the option tokens they may trade, in the wallet.
        const allowance: Allowance = { ...c.allowance, instrumentWallet: c.market.instruments.map((_, k) => (k % 2 === 0 ? contracts(5n) : 0n)) };
        const threshold = plan(c.position, c.market, c.policy, allowance, { strategy: "threshold" });
        const hedge = plan(c.position, c.market, c.policy, allowance, { strategy: "grid-hedge" });
        if (hedge.kind === "plan") {
          plans++;
          if (hedge.movements.instrumentFlows.some((f) => f !== 0n)) withOptionTokens++;
          assertSoundHedge(hedge, c.position, c.market, c.policy, allowance, false, label);
          if (threshold.kind === "plan" && hedge.needed) {
            assert.ok(gridExposures(hedge.position, c.market).worstLoss <= gridExposures(threshold.position, c.market).worstLoss, label);
          }
        } else {
          assert.equal(threshold.kind, "none", `${label}: threshold planned but the grid hedge did not: ${hedge.reason}`);
          assert.ok(hedge.reason.length > 20, label);
        }
      }
      assert.ok(plans >= 15 && withOptionTokens >= 3, `only ${plans} plans, ${withOptionTokens} moving option tokens`);
    });
  });
});
