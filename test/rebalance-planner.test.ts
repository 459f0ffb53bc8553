/**
 * The planner: the at-risk example gets a plan that passes, every strategy does what it says,
 * and (property) every plan over random at-risk positions and allowances passes the model's
 * checks and the conservation rules, while every no-plan gives a reason.
 */
import assert from "node:assert/strict";
import { ZksError } from "../src/core/errors.ts";
import type { Instrument, Market, Policy, Position } from "../src/inputs/types.ts";
import { checkPosition } from "../src/model/check.ts";
import {
  applyActions,
  checkRebalance,
  conservation,
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
} from "../src/rebalance/index.ts";
import { loadMarket, loadPolicy, loadPosition } from "./helpers/examples.ts";
import { withMarket } from "./helpers/model-fixtures.ts";
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
  assert.equal(p.conservation.valid, true, at("conservation"));
  assert.ok(p.explanation.length > 0, at("no explanation"));
  if (!p.needed) {
    assert.deepEqual(p.actions, [], at("not needed but has actions"));
    assert.deepEqual(p.position, old);
    return;
  }
  assert.ok(p.actions.length > 0, at("needed without actions"));
  assert.equal(p.steps.length, p.actions.length);
  const replay = applyActions(old, p.actions, market);
  assert.deepEqual(replay.position, p.position, at("actions do not reproduce the position"));
  assert.deepEqual(replay.flows, p.flows);
  assert.deepEqual(conservation(old, replay, market, policy).valid, true);
  const check = checkRebalance(old, p.position, p.flows, p.legs, market, policy);
  assert.deepEqual(check.violations, [], at("checkRebalance"));
  assert.equal(p.position.nonce, old.nonce + 1n);
  assert.equal(p.position.account, old.account);
  assert.equal(p.position.salt, old.salt);
  // Within the allowance.
  if (allowance.maxActions !== undefined) assert.ok(p.actions.length <= allowance.maxActions, at("too many actions"));
  const fromWallet = market.assets.map(() => 0n);
  for (const a of p.actions) {
    assert.ok(a.kind !== "withdraw" && a.kind !== "borrow", at("the planner never withdraws or borrows"));
    if (a.kind === "deposit" || a.kind === "repay") fromWallet[a.asset]! += a.amount;
  }
  fromWallet.forEach((used, i) => assert.ok(used <= allowance.wallet[i]!, at(`wallet of asset ${i} overdrawn`)));
  p.legs.assetSold.forEach((sold, i) => assert.ok(sold === 0n || allowance.sellable[i], at(`asset ${i} sold but not sellable`)));
  p.legs.instrumentBought.forEach((n, k) => assert.ok(n + p.legs.instrumentSold[k]! === 0n || allowance.tradable[k], at(`instrument ${k} traded`)));
  // Costs: the slippage bound covers the planned loss; total = slippage + gas.
  assert.ok(p.cost.lost <= p.cost.slippage, at("lost above the slippage bound"));
  assert.equal(p.cost.total, p.cost.slippage + p.cost.gasCost);
  assert.equal(p.cost.actions.length, p.actions.length);
  if (p.delta) {
    const x = portfolioDelta(p.position, market);
    for (const i of p.delta.assets) assert.ok(abs(x[i]!) <= p.delta.band, at(`delta of asset ${i} outside the band`));
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
      assert.match(text, /cost: no slippage \(no trades\) \+ 450,000 gas \(1 action \+ proof verification\) at 20 gwei and WETH 3,012\.55 USD = 27\.11 USD; total 27\.11 USD/);
      assert.match(p.explanation.at(-1)!, /^cost: /);
    });

    it("the amount is (nearly) the least that works: 2% less fails the target", function () {
      const allowance = allowanceOf(grid, EXAMPLE_ALLOWANCE);
      const p = expectPlan(plan(atRisk, grid, policy, allowance, { strategy: "threshold" }));
      const less = applyActions(atRisk, [{ kind: "repay", asset: USDC, amount: (usdc(12_200n) * 98n) / 100n }], grid).position;
      assert.equal(meetsGoal(checkPosition(less, grid, policy), p.goal), false);
    });

    it("gets a plan that passes under the historical market too", function () {
      const allowance = allowanceOf(historical, EXAMPLE_ALLOWANCE);
      const position = loadPosition("position-at-risk.json", historical);
      const p = expectPlan(plan(position, historical, loadPolicy(historical), allowance, { strategy: "threshold" }));
      assertSoundPlan(p, position, historical, loadPolicy(historical), allowance, "historical");
    });

    it("without the wallet, buys back short calls and sells WETH to repay (trades at the worst allowed price)", function () {
      const allowance = allowanceOf(grid, { sellable: ["WETH", "WBTC"], tradable: ["ETH-26DEC26-3200-C"] });
      const p = expectPlan(plan(atRisk, grid, policy, allowance, { strategy: "threshold" }));
      assertSoundPlan(p, atRisk, grid, policy, allowance, "no wallet");
      const kinds = p.actions.map((a) => a.kind);
      assert.ok(kinds.includes("hedge") && kinds.includes("swap"), kinds.join(","));
      assert.ok(p.cost.slippage > 0n);
      // Every trade sits at the policy's bound, so the planned loss is the bound to within a base unit per trade (< 1 USD).
      assert.ok(p.cost.slippage - p.cost.lost < 10n ** 8n, `${p.cost.slippage} vs ${p.cost.lost}`);
      // Dearer than repaying from the wallet.
      const withWallet = expectPlan(plan(atRisk, grid, policy, allowanceOf(grid, EXAMPLE_ALLOWANCE), { strategy: "threshold" }));
      assert.ok(withWallet.cost.total < p.cost.total);
      assert.ok(p.steps.every((s) => s.effect.length > 0));
      assert.match(p.explanation.join("\n"), /buy [\d.]+ contracts of ETH-26DEC26-3200-C paying at most [\d.,]+ (WETH|WBTC)/);
    });

    it("says clearly why there is no plan: what is missing and what the allowance has", function () {
      const none = expectNoPlan(plan(atRisk, grid, policy, emptyAllowance(grid), { strategy: "threshold" }));
      assert.match(none.reason, /^no allowed action restores the health factor \(1\.25\), stress and historical VaR checks: /);
      assert.match(none.reason, /stress needs 1,826\.68 USD more equity/);
      assert.match(none.reason, /historical VaR needs 12,159\.22 USD more equity/);
      assert.match(none.reason, /nothing is allowed: the wallet is empty, no asset may be sold and no instrument traded/);
      assert.ok(none.explanation.some((l) => l === `no plan: ${none.reason}`));

      const small = expectNoPlan(plan(atRisk, grid, policy, allowanceOf(grid, { wallet: { USDC: "500" } }), { strategy: "threshold" }));
      assert.match(small.reason, /the wallet has 500 USDC \(500\.05 USD\); no asset may be sold; no instrument may be traded/);
      assert.match(small.reason, /the closest combination found \(repay 500 USDC of debt from the wallet\) still leaves .*stress short by 1,326\.63 USD/);
    });

    it("respects maxActions", function () {
      const allowance = allowanceOf(grid, { wallet: { USDC: "2000" }, sellable: ["WETH"], tradable: ["ETH-26DEC26-3200-C"] });
      const p = expectPlan(plan(atRisk, grid, policy, allowance, { strategy: "threshold" }));
      assert.ok(p.actions.length >= 2);
      const limited = expectNoPlan(plan(atRisk, grid, policy, { ...allowance, maxActions: 1 }, { strategy: "threshold" }));
      assert.match(limited.reason, /at most 1 action/);
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
    it("brings |delta| of WETH and WBTC inside the band with the calls, then passes every check", function () {
      const allowance = allowanceOf(grid, { ...EXAMPLE_ALLOWANCE, tradable: ["ETH-26DEC26-3200-C", "BTC-26DEC26-95000-C"] });
      const band = 500n * 10n ** 8n;
      const before = portfolioDelta(atRisk, grid);
      assert.ok(abs(before[0]!) > band && abs(before[1]!) > band, "both deltas start outside the band");
      const p = expectPlan(plan(atRisk, grid, policy, allowance, { strategy: "delta-neutral", deltaBand: band }));
      assertSoundPlan(p, atRisk, grid, policy, allowance, "delta");
      assert.deepEqual(p.delta?.assets, [0, 1]);
      const after = portfolioDelta(p.position, grid);
      assert.ok(abs(after[0]!) <= band, `WETH delta ${after[0]}`);
      assert.ok(abs(after[1]!) <= band, `WBTC delta ${after[1]}`);
      assert.deepEqual(p.delta?.after, after);
      assert.ok(p.actions.some((a) => a.kind === "hedge" && a.instrument === 0 && a.side === "buy"));
      assert.ok(p.actions.some((a) => a.kind === "hedge" && a.instrument === 2 && a.side === "sell"));
      assert.match(p.explanation.join("\n"), /WETH delta -19,973\.21 USD is outside the band \+-500\.00 USD/);
      assert.match(p.explanation.join("\n"), /after: WETH delta -?[\d,.]+ USD \(band \+-500\.00 USD\)/);
    });

    it("with only the ETH call allowed, neutralizes WETH and reports WBTC as not hedged; asked for WBTC, says why not", function () {
      const allowance = allowanceOf(grid, EXAMPLE_ALLOWANCE);
      const p = expectPlan(plan(atRisk, grid, policy, allowance, { strategy: "delta-neutral" }));
      assertSoundPlan(p, atRisk, grid, policy, allowance, "delta eth");
      assert.deepEqual(p.delta?.assets, [0]);
      assert.match(p.explanation.join("\n"), /not neutralized \(no allowed instrument\): WBTC delta 9,123\.01 USD/);
      const none = expectNoPlan(plan(atRisk, grid, policy, allowance, { strategy: "delta-neutral", deltaAssets: [0, 1] }));
      assert.match(none.reason, /cannot bring the delta inside the band .*WBTC has no tradable instrument/);
      const nothing = expectNoPlan(plan(atRisk, grid, policy, emptyAllowance(grid), { strategy: "delta-neutral" }));
      assert.match(nothing.reason, /no delta can be hedged/);
    });

    it("prefers a perpetual (mark 0: no cash, no slippage) to options", function () {
      const perp: Instrument = { id: "ETH-PERP", underlying: 0, kind: "perp", strike: 0n, expiry: 0, mark: 0n, delta: 100_000_000n };
      const market = withMarket(grid, (m) => {
        m.instruments.push(perp);
        for (const s of m.scenarios) s.instrumentPnl.push((s.assetReturns[0]! * m.assets[0]!.price) / 100_000_000n);
      });
      const position = { ...atRisk, quantities: [...atRisk.quantities, 0n] };
      const allowance = allowanceOf(market, { wallet: { USDC: "20000" }, sellable: ["WETH"], tradable: ["ETH-26DEC26-3200-C", "ETH-PERP"] });
      const p = expectPlan(plan(position, market, policy, allowance, { strategy: "delta-neutral", deltaBand: 100n * 10n ** 8n }));
      assertSoundPlan(p, position, market, policy, allowance, "perp");
      const hedge = p.actions.find((a) => a.kind === "hedge");
      assert.ok(hedge && hedge.kind === "hedge" && hedge.instrument === 3 && hedge.side === "buy" && hedge.cash === 0n, JSON.stringify(hedge, (_k, v) => (typeof v === "bigint" ? v.toString() : v)));
      assert.ok(abs(portfolioDelta(p.position, market)[0]!) <= 100n * 10n ** 8n);
    });

    it("does nothing when every delta is inside the band and the checks pass", function () {
      const allowance = allowanceOf(grid, { tradable: ["ETH-26DEC26-3200-C", "BTC-26DEC26-95000-C"] });
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
      // The property is only meaningful if plans are found for a fair share of the cases.
      const minimum: Record<Strategy, number> = { threshold: 20, time: 20, "delta-neutral": 4 };
      for (const strategy of strategies) assert.ok((counts[`${strategy}:plan`] ?? 0) >= minimum[strategy], `${strategy}: ${JSON.stringify(counts)}`);
    });
  });
});
