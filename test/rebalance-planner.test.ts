/**
 * The planner: the at-risk example gets a plan that passes, every strategy does what it says,
 * and (property) every plan over random at-risk positions and allowances passes the model's
 * checks and the conservation rules, while every no-plan gives a reason.
 */
import assert from "node:assert/strict";
import { ZksError } from "../packages/sdk/src/core/errors.ts";
import type { Market, Policy, Position } from "../packages/sdk/src/inputs/types.ts";
import { checkPosition } from "../packages/sdk/src/model/check.ts";
import {
  applyActions,
  checkTransition,
  emptyAllowance,
  meetsGoal,
  plan,
  PlanOptionsError,
  portfolioDelta,
  type Allowance,
  type NoPlan,
  type Plan,
  type PlanOptions,
  type Strategy,
  slippageFloor,
  withinSlippage,
} from "../packages/sdk/src/rebalance/index.ts";
import { loadMarket, loadPolicy, loadPosition } from "./helpers/examples.ts";
import { allowanceOf, EXAMPLE_ALLOWANCE, randomAtRiskCases } from "./helpers/rebalance-fixtures.ts";

const USDC = 2;
const usdc = (x: bigint): bigint => x * 10n ** 6n;
const abs = (x: bigint): bigint => (x < 0n ? -x : x);

function expectPlan(result: Plan | NoPlan): Plan {
  assert.equal(result.kind, "plan", result.kind === "none" ? result.reason : "");
  return result as Plan;
}

function expectNoPlan(result: Plan | NoPlan): NoPlan {
  assert.equal(result.kind, "none", result.kind === "plan" ? result.explanation.join("\n") : "");
  return result as NoPlan;
}

/**
 * Everything a returned plan must satisfy: the new position passes the model's checks and the
 * plan's goal; the transition passes checkRebalance (conservation, nonce, account); it stays
 * within the allowance (wallet, sellable, tradable, action count); its figures are consistent.
 */
function assertSoundPlan(p: Plan, old: Position, market: Market, policy: Policy, allowance: Allowance, label = ""): void {
  const at = (what: string) => `${label}: ${what}\n${p.explanation.join("\n")}`;
  const report = checkPosition(p.position, market, policy);
  assert.equal(report.pass, true, at("new position fails the model's checks"));
  assert.equal(p.after.pass, true, at("after report"));
  assert.ok(meetsGoal(report, p.goal), at("goal not met"));
  assert.ok(p.explanation.length > 0, at("no explanation"));
  if (!p.needed) {
    assert.deepEqual(p.actions, [], at("not needed but has actions"));
    assert.deepEqual(p.position, old);
    return;
  }
  assert.ok(p.actions.length > 0, at("needed without actions"));
  assert.equal(p.steps.length, p.actions.length);
  const replay = applyActions(old, p.actions, market, { policy });
  assert.deepEqual(replay.position, p.position, at("actions do not reproduce the position"));
  assert.deepEqual(replay.movements, p.movements);
  assert.deepEqual(p.flows, p.movements.flows);
  const check = checkTransition({ old, next: p.position, forced: false, fromEmpty: false, ...p.movements }, market, policy);
  assert.deepEqual(check.violations, [], at("checkTransition"));
  assert.ok(p.movements.swaps.length <= 2, at("more swaps than slots"));
  assert.equal(p.position.nonce, old.nonce + 1n);
  assert.equal(p.position.account, old.account);
  assert.equal(p.position.salt, old.salt);
  // Within the allowance.
  if (allowance.maxActions !== undefined) assert.ok(p.actions.length <= allowance.maxActions, at("too many actions"));
  for (const a of p.actions) {
    assert.ok(a.kind !== "withdraw" && a.kind !== "borrow", at("the planner never withdraws or borrows"));
    assert.ok(a.kind !== "depositInstrument" && a.kind !== "withdrawInstrument", at("the planner never moves option tokens"));
  }
  p.movements.flows.forEach((f, i) => assert.ok(f <= allowance.wallet[i]!, at(`wallet of asset ${i} overdrawn`)));
  for (const s of p.movements.swaps) assert.ok(allowance.sellable[s.sell], at(`asset ${s.sell} sold but not sellable`));
  // Costs: the swaps' loss at the oracle's prices; total = slippage + gas.
  assert.equal(p.cost.lost, p.cost.slippage, at("lost is the slippage"));
  assert.equal(p.cost.total, p.cost.slippage + p.cost.gasCost);
  assert.equal(p.cost.actions.length, p.actions.length);
  if (p.delta) {
    const x = portfolioDelta(p.position, market);
    // Inside the band, unless no hedge could be had and the checks were restored without it (solvency first).
    const unhedged = p.explanation.some((line) => line.endsWith(": the checks are restored without the hedge"));
    if (unhedged)
      assert.equal(
        meetsGoal(checkPosition(old, market, policy), { healthFactor: policy.trigger.healthFactor, varHeadroom: 0n }),
        false,
        at("unhedged repair of a position above its trigger"),
      );
    else for (const i of p.delta.assets) assert.ok(abs(x[i]!) <= p.delta.band, at(`delta of asset ${i} outside the band`));
  }
}

describe("planner", function () {
  let grid: Market;
  let historical: Market;
  let policy: Policy;
  let atRisk: Position;
  let healthy: Position;

  before(() => {
    grid = loadMarket("market-grid.json");
    historical = loadMarket("market-historical.json");
    policy = loadPolicy(grid);
    atRisk = loadPosition("position-at-risk.json", grid);
    healthy = loadPosition("position-healthy.json", grid);
  });

  describe("the at-risk example", function () {
    it("gets a plan that passes every check (market-grid): repay 12,200 USDC from the wallet", function () {
      const allowance = allowanceOf(grid, EXAMPLE_ALLOWANCE);
      const p = expectPlan(plan(atRisk, grid, policy, allowance, { strategy: "threshold" }));
      assertSoundPlan(p, atRisk, grid, policy, allowance, "at-risk");
      assert.equal(p.needed, true);
      assert.deepEqual(p.actions, [{ kind: "repay", asset: USDC, amount: usdc(12_200n) }]);
      assert.equal(p.before.pass, false);
      assert.ok(p.after.healthFactor.value! >= policy.trigger.healthFactor);
      // Gas only: 150k + 300k verification at 20 gwei and 3,012.55 USD per WETH = 27.11295 USD.
      assert.equal(p.cost.slippage, 0n);
      assert.equal(p.cost.totalGas, 450_000n);
      assert.equal(p.cost.total, 2_711_295_000n);
      // It explains which checks failed and by how much, and what the action buys.
      const text = p.explanation.join("\n");
      assert.match(text, /fails: stress: worst loss 5,532\.34 USD in scenario 'price \+3\/3 range, vol up' exceeds equity 3,705\.66 USD by 1,826\.68 USD/);
      assert.match(text, /fails: historical VaR .* by 12,159\.22 USD/);
      assert.match(text, /health factor 1\.1905 is below the trigger 1\.25/);
      assert.match(text, /1\. repay 12,200 USDC of debt from the wallet: health factor 1\.1905 -> 3\.4961, stress margin \+12,201\.22 USD/);
      assert.match(text, /cost: no slippage \(no swaps\) \+ 450,000 gas \(1 action \+ proof verification\) at 20 gwei and WETH 3,012\.55 USD = 27\.11 USD; total 27\.11 USD/);
      assert.match(p.explanation.at(-1)!, /^cost: /);
    });

    it("the amount is (nearly) the least that works: 2% less fails the target", function () {
      const allowance = allowanceOf(grid, EXAMPLE_ALLOWANCE);
      const p = expectPlan(plan(atRisk, grid, policy, allowance, { strategy: "threshold" }));
      const less = applyActions(atRisk, [{ kind: "repay", asset: USDC, amount: (usdc(12_200n) * 98n) / 100n }], grid).position;
      assert.deepEqual(p.movements.flows, [0n, 0n, usdc(12_200n)]);
      assert.deepEqual(p.movements.debtDelta, [0n, 0n, -usdc(12_200n)], "index 1: units = base units");
      assert.deepEqual(p.movements.debtAssets, [0n, 0n, usdc(12_200n)]);
      assert.equal(meetsGoal(checkPosition(less, grid, policy), p.goal), false);
    });

    it("gets a plan that passes under the historical market too", function () {
      const allowance = allowanceOf(historical, EXAMPLE_ALLOWANCE);
      const position = loadPosition("position-at-risk.json", historical);
      const p = expectPlan(plan(position, historical, loadPolicy(historical), allowance, { strategy: "threshold" }));
      assertSoundPlan(p, position, historical, loadPolicy(historical), allowance, "historical");
    });

    it("without the wallet, swaps on the AMM and repays from collateral (minOut at the policy's slippage floor)", function () {
      // The at-risk example cannot be saved without the wallet any more (its short calls can no longer be bought back: no venue).
      const allowance = allowanceOf(grid, { sellable: ["WETH", "WBTC"] });
      const none = expectNoPlan(plan(atRisk, grid, policy, allowance, { strategy: "threshold" }));
      assert.match(none.reason, /the wallet is empty; WETH, WBTC may be sold/);
      const noUsdc = { ...healthy, collateral: healthy.collateral.map((c, i) => (i === USDC ? 0n : c)) };
      const p = expectPlan(plan(noUsdc, grid, policy, allowance, { strategy: "threshold", trigger: { healthFactor: 45_000n } }));
      assertSoundPlan(p, noUsdc, grid, policy, allowance, "no wallet");
      const kinds = p.actions.map((a) => a.kind);
      assert.ok(kinds.includes("swap") && kinds.includes("repayWithCollateral"), kinds.join(","));
      assert.ok(p.cost.slippage > 0n);
      // Each swap credits exactly the policy's floor: one base unit less is refused.
      for (const s of p.movements.swaps) {
        assert.equal(s.minOut, slippageFloor(s.sell, s.amountIn, s.buy, grid, policy));
        assert.equal(withinSlippage({ ...s, minOut: s.minOut - 1n }, grid, policy), false);
      }
      assert.ok(
        p.movements.flows.every((f) => f === 0n),
        "no wallet flow",
      );
      assert.ok(p.steps.every((s) => s.effect.length > 0));
      assert.match(p.explanation.join("\n"), /swap [\d.,]+ (WETH|WBTC) for at least [\d.,]+ USDC/);
    });

    it("says clearly why there is no plan: what is missing and what the allowance has", function () {
      const none = expectNoPlan(plan(atRisk, grid, policy, emptyAllowance(grid), { strategy: "threshold" }));
      assert.match(none.reason, /^no allowed action restores the health factor \(1\.25\), stress and historical VaR checks: /);
      assert.match(none.reason, /stress needs 1,826\.68 USD more equity/);
      assert.match(none.reason, /historical VaR needs 12,159\.22 USD more equity/);
      assert.match(none.reason, /nothing is allowed: the wallet is empty and no asset may be sold/);
      assert.ok(none.explanation.some((l) => l === `no plan: ${none.reason}`));

      const small = expectNoPlan(plan(atRisk, grid, policy, allowanceOf(grid, { wallet: { USDC: "500" } }), { strategy: "threshold" }));
      assert.match(small.reason, /the wallet has 500 USDC \(500\.05 USD\); no asset may be sold/);
      assert.match(small.reason, /the closest combination found \(repay 500 USDC of debt from the wallet\) still leaves .*stress short by 1,326\.63 USD/);
    });

    it("respects maxActions", function () {
      const allowance = allowanceOf(grid, { sellable: ["WETH", "WBTC"] });
      const noUsdc = { ...healthy, collateral: healthy.collateral.map((c, i) => (i === USDC ? 0n : c)) };
      const p = expectPlan(plan(noUsdc, grid, policy, allowance, { strategy: "threshold", trigger: { healthFactor: 45_000n } }));
      assert.ok(p.actions.length >= 2);
      const limited = expectNoPlan(plan(noUsdc, grid, policy, { ...allowance, maxActions: p.actions.length - 1 }, { strategy: "threshold", trigger: { healthFactor: 45_000n } }));
      assert.match(limited.reason, /at most \d+ actions?/);
    });
  });

  describe("threshold strategy", function () {
    it("does nothing when every check passes and the health factor is above the trigger", function () {
      const allowance = allowanceOf(grid, EXAMPLE_ALLOWANCE);
      const p = expectPlan(plan(healthy, grid, policy, allowance, { strategy: "threshold" }));
      assert.equal(p.needed, false);
      assert.deepEqual(p.actions, []);
      assert.equal(p.cost.total, 0n);
      assert.match(p.explanation.join("\n"), /the trigger is not reached, nothing to do/);
      assertSoundPlan(p, healthy, grid, policy, allowance);
    });

    it("acts on a VaR headroom trigger and restores it", function () {
      const allowance = allowanceOf(grid, EXAMPLE_ALLOWANCE);
      // The healthy position's historical VaR capital (14,269.65 USD) leaves 70.44% of its equity free.
      assert.equal(checkPosition(healthy, grid, policy).pass, true);
      assert.equal(expectPlan(plan(healthy, grid, policy, allowance, { strategy: "threshold", trigger: { varHeadroom: 700_000n } })).needed, false);
      const p = expectPlan(plan(healthy, grid, policy, allowance, { strategy: "threshold", trigger: { varHeadroom: 750_000n } }));
      assert.equal(p.needed, true);
      assertSoundPlan(p, healthy, grid, policy, allowance, "headroom");
      assert.match(p.explanation.join("\n"), /historical VaR capital 14,269\.65 USD leaves 70\.44% of equity 48,276\.28 USD free, below the 75% headroom/);
      const h = p.after.var.historical!;
      assert.ok(p.after.var.capitalMultiplier * h.scaled <= p.after.equity.scaled * 250_000n, "capital uses at most 25% of equity");
    });

    it("refuses a target below the trigger and unusable options (exit 2)", function () {
      const allowance = emptyAllowance(grid);
      const refuses = (options: PlanOptions, fragment: RegExp): void =>
        assert.throws(
          () => plan(atRisk, grid, policy, allowance, options),
          (e: unknown) => e instanceof PlanOptionsError && e instanceof ZksError && e.exitCode === 2 && fragment.test(e.message),
        );
      refuses({ strategy: "threshold", target: { healthFactor: 12_000n } }, /below the trigger/);
      refuses({ strategy: "threshold", target: { varHeadroom: 1_000_000n } }, /headroom must be in \[0, 1\)/);
      refuses({ strategy: "nope" as Strategy }, /unknown strategy "nope"/);
      refuses({ strategy: "time", intervalDays: 0 }, /interval must be a positive number of days/);
    });
  });

  describe("time strategy", function () {
    it("restores to the target whenever called below it, and schedules the next rebalance", function () {
      const allowance = allowanceOf(grid, EXAMPLE_ALLOWANCE);
      // The healthy position (HF 3.81) is above the trigger but below a target of 4.5.
      const target = { healthFactor: 45_000n };
      const threshold = expectPlan(plan(healthy, grid, policy, allowance, { strategy: "threshold", trigger: target }));
      assert.equal(threshold.needed, true, "a trigger of 4.5 also acts");
      const idle = expectPlan(plan(healthy, grid, policy, allowance, { strategy: "threshold", target }));
      assert.equal(idle.needed, false, "threshold with the default trigger (1.25) does not act");
      const p = expectPlan(plan(healthy, grid, policy, allowance, { strategy: "time", target, intervalDays: 3, now: 1_764_000_000 }));
      assert.equal(p.needed, true);
      assertSoundPlan(p, healthy, grid, policy, allowance, "time");
      assert.ok(p.after.healthFactor.value! >= 45_000n);
      assert.equal(p.nextRebalanceAt, 1_764_000_000 + 3 * 86_400);
      assert.match(p.explanation.at(-1)!, /^next rebalance due at 2025-11-27T16:00:00Z, unix 1764259200$/);
    });

    it("at the target: nothing to do, next rebalance after the default 7 days from the market time", function () {
      const p = expectPlan(plan(healthy, grid, policy, emptyAllowance(grid), { strategy: "time" }));
      assert.equal(p.needed, false);
      assert.equal(p.nextRebalanceAt, grid.timestamp + 7 * 86_400);
    });

    it("the at-risk example: same plan as threshold, with a schedule", function () {
      const allowance = allowanceOf(grid, EXAMPLE_ALLOWANCE);
      const p = expectPlan(plan(atRisk, grid, policy, allowance, { strategy: "time" }));
      assertSoundPlan(p, atRisk, grid, policy, allowance, "time at-risk");
      assert.equal(p.nextRebalanceAt, grid.timestamp + 7 * 86_400);
    });
  });

  describe("delta-neutral strategy", function () {
    const withUsdc = (p: Position): Position => ({ ...p, collateral: p.collateral.map((c, i) => (i === USDC ? usdc(30_000n) : c)) });
    const SPOT = { wallet: { USDC: "20000" }, sellable: ["WETH", "WBTC", "USDC"] };
    it("brings |delta| of WETH and WBTC inside the band with spot swaps of the underlying, then passes every check", function () {
      const allowance = allowanceOf(grid, SPOT);
      const position = withUsdc(atRisk);
      const band = 500n * 10n ** 8n;
      const before = portfolioDelta(position, grid);
      assert.ok(abs(before[0]!) > band && abs(before[1]!) > band, "both deltas start outside the band");
      const p = expectPlan(plan(position, grid, policy, allowance, { strategy: "delta-neutral", deltaBand: band }));
      assertSoundPlan(p, position, grid, policy, allowance, "delta");
      assert.deepEqual(p.delta?.assets, [0, 1]);
      const after = portfolioDelta(p.position, grid);
      assert.ok(abs(after[0]!) <= band, `WETH delta ${after[0]}`);
      assert.ok(abs(after[1]!) <= band, `WBTC delta ${after[1]}`);
      assert.deepEqual(p.delta?.after, after);
      // WETH is short (buy it), WBTC long (sell it); no instrument moves.
      assert.ok(
        p.movements.swaps.some((s) => s.buy === 0),
        JSON.stringify(p.movements.swaps, (_k, v) => (typeof v === "bigint" ? v.toString() : v)),
      );
      assert.ok(p.movements.swaps.some((s) => s.sell === 1));
      assert.ok(p.movements.instrumentFlows.every((q) => q === 0n));
      assert.match(p.explanation.join("\n"), /WETH delta -19,973\.21 USD is outside the band \+-500\.00 USD/);
      assert.match(p.explanation.join("\n"), /after: WETH delta -?[\d,.]+ USD \(band \+-500\.00 USD\)/);
    });

    it("with only WETH in the hedge set, reports WBTC as not neutralized; with nothing sellable, says no delta can be hedged", function () {
      const allowance = allowanceOf(grid, SPOT);
      const position = withUsdc(atRisk);
      const p = expectPlan(plan(position, grid, policy, allowance, { strategy: "delta-neutral", deltaAssets: [0] }));
      assertSoundPlan(p, position, grid, policy, allowance, "delta eth");
      assert.deepEqual(p.delta?.assets, [0]);
      assert.match(p.explanation.join("\n"), /not neutralized \(no allowed swap\): WBTC delta [\d,.]+ USD/);
      const nothing = expectNoPlan(plan(atRisk, grid, policy, emptyAllowance(grid), { strategy: "delta-neutral" }));
      assert.match(nothing.reason, /no delta can be hedged/);
      // Above its trigger, a position whose hedge cannot be had needs nothing: no plan, and why.
      const wethOnly = allowanceOf(grid, { wallet: { USDC: "20000" }, sellable: ["WETH"] });
      const notSellable = expectNoPlan(plan(position, grid, policy, wethOnly, { strategy: "delta-neutral", deltaAssets: [1] }));
      assert.match(notSellable.reason, /cannot bring the delta inside the band .*WBTC, which the allowance does not list as sellable/);
      // Below it, the same missing hedge still gets the threshold strategy's repairs: solvency first.
      const repaired = expectPlan(plan(atRisk, grid, policy, wethOnly, { strategy: "delta-neutral", deltaAssets: [1] }));
      assertSoundPlan(repaired, atRisk, grid, policy, wethOnly, "delta wbtc not sellable, at risk");
      assert.match(
        repaired.explanation.join("\n"),
        /cannot bring the delta inside the band .*WBTC, which the allowance does not list as sellable.*: the checks are restored without the hedge/,
      );
      assert.ok(repaired.after.pass);
    });

    it("does nothing when every delta is inside the band and the checks pass", function () {
      const allowance = allowanceOf(grid, { sellable: ["WETH", "WBTC"] });
      const p = expectPlan(plan(healthy, grid, policy, allowance, { strategy: "delta-neutral", deltaBand: 10n ** 15n }));
      assert.equal(p.needed, false);
      assert.match(p.explanation.join("\n"), /every delta is inside the band/);
    });
  });

  describe("property: random at-risk positions and allowances", function () {
    const cases = randomAtRiskCases(20_251_121, 120);
    const strategies: Strategy[] = ["threshold", "time", "delta-neutral"];

    it(`generates >= 100 at-risk cases (${cases.length})`, function () {
      assert.ok(cases.length >= 100);
    });

    it("every plan passes the model's checks and conservation; every no-plan gives a reason", function () {
      const counts: Record<string, number> = {};
      for (const c of cases) {
        for (const strategy of strategies) {
          const label = `seed case ${c.seed}, ${strategy}`;
          const result = plan(c.position, c.market, c.policy, c.allowance, { strategy });
          const key = `${strategy}:${result.kind === "plan" ? (result.needed ? "plan" : "idle") : "none"}`;
          counts[key] = (counts[key] ?? 0) + 1;
          if (result.kind === "plan") {
            assertSoundPlan(result, c.position, c.market, c.policy, c.allowance, label);
            // An at-risk position always needs action under threshold and time.
            if (strategy !== "delta-neutral") assert.equal(result.needed, true, label);
          } else {
            assert.ok(result.reason.length > 20, `${label}: empty reason`);
            assert.match(result.reason, /no allowed action restores|cannot bring the delta|no delta can be hedged|restoring the checks|does not fit the allowance/, label);
            assert.ok(result.explanation.includes(`no plan: ${result.reason}`), label);
            assert.equal(result.before.pass && result.kind === "none" && strategy === "threshold" && meetsGoal(result.before, result.goal), false, label);
          }
        }
      }
      // Solvency before neutrality: delta-neutral leaves no at-risk position unrepaired that threshold repairs.
      for (const c of cases) {
        if (plan(c.position, c.market, c.policy, c.allowance, { strategy: "threshold" }).kind !== "plan") continue;
        assert.equal(
          plan(c.position, c.market, c.policy, c.allowance, { strategy: "delta-neutral" }).kind,
          "plan",
          `seed case ${c.seed}: delta-neutral found no plan where threshold did`,
        );
      }
      // The property is only meaningful if plans are found for a fair share of the cases.
      const minimum: Record<Strategy, number> = { threshold: 20, time: 20, "delta-neutral": 4, "grid-hedge": 0 };
      for (const strategy of strategies) assert.ok((counts[`${strategy}:plan`] ?? 0) >= minimum[strategy], `${strategy}: ${JSON.stringify(counts)}`);
    });
  });
});
