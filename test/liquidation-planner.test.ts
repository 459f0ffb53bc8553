/**
 * The keeper's liquidation planner (packages/sdk/src/liquidation/plan.ts, docs/enforcement.md): urgent and
 * non-urgent liquidations of the spec's example market, the bonus exactly bonusBps of the repaid
 * value (floor) and never more than the collateral holds, a partial repayment when one restores
 * the policy, a full close when none does, each named no-liquidation reason, and (property)
 * random positions against the model and checkTransition, the circuit's mirror.
 *
 *   npx mocha --no-config -n import=tsx test/liquidation-planner.test.ts
 *   ZKS_PROPERTY_RUNS=500 npx mocha --no-config -n import=tsx test/liquidation-planner.test.ts --grep @property
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { BPS_SCALE } from "../packages/sdk/src/core/fixed-point.ts";
import { InputError } from "../packages/sdk/src/core/errors.ts";
import type { Market, Policy, Position } from "../packages/sdk/src/inputs/types.ts";
import { checkPosition } from "../packages/sdk/src/model/check.ts";
import { getAmountOut } from "../packages/sdk/src/chain/uniswap-v2.ts";
import { unitValue } from "../packages/sdk/src/rebalance/trades.ts";
import { checkTransition, slippageFloor } from "../packages/sdk/src/rebalance/transition.ts";
import {
  getAmountIn,
  liquidationAtShare,
  planLiquidation,
  SHARE_SCALE,
  type LiquidationPlan,
  type LiquidationPlanTerms,
  type NoLiquidation,
  type PoolReserves,
} from "../packages/sdk/src/liquidation/index.ts";
import { decryptOpening } from "../packages/sdk/src/encryption/index.ts";
import { UnprovableError } from "../packages/sdk/src/prover/errors.ts";
import { releaseProverThreads } from "../packages/sdk/src/prover/release.ts";
import { rebalanceInput } from "../packages/sdk/src/prover/witness/rebalance.ts";
import { CircuitUnderTest } from "./helpers/circuit.ts";
import { loadMarket, loadPolicy } from "./helpers/examples.ts";
import { TEST_KEEPER } from "./helpers/keeper-key.ts";
import { positionOf, withMarket } from "./helpers/model-fixtures.ts";

const WETH = 0;
const WBTC = 1;
const USDC = 2;
const weth = (x: number): bigint => BigInt(Math.round(x * 1e6)) * 10n ** 12n;
const wbtc = (x: number): bigint => BigInt(Math.round(x * 1e8));
const usdc = (x: number): bigint => BigInt(Math.round(x * 1e6));
const KEEPER = "0x90F79bf6EB2c4f870365E785982E1f101E93b906";
const TERMS: LiquidationPlanTerms = { liquidator: KEEPER, bonusBps: 500n };

/** Pools at the oracle's prices, `depth` quote units deep on each side (and a WETH/WBTC pair when asked). */
function poolsAt(market: Market, depth: number, wethWbtc = false): PoolReserves[] {
  const reserve = (i: number): bigint => (BigInt(depth) * 10n ** BigInt(market.quote.decimals + market.assets[i]!.decimals)) / market.assets[i]!.price;
  return [
    { assets: [WETH, USDC], reserves: [reserve(WETH), reserve(USDC)] },
    { assets: [USDC, WBTC], reserves: [reserve(USDC), reserve(WBTC)] },
    ...(wethWbtc ? [{ assets: [WETH, WBTC], reserves: [reserve(WETH), reserve(WBTC)] } as PoolReserves] : []),
  ];
}

function expectPlan(result: LiquidationPlan | NoLiquidation): LiquidationPlan {
  assert.equal(result.kind, "liquidation", result.kind === "none" ? `${result.reason}: ${result.message}` : "");
  return result as LiquidationPlan;
}

function expectNone(result: LiquidationPlan | NoLiquidation, reason: NoLiquidation["reason"]): NoLiquidation {
  assert.equal(result.kind, "none", result.kind === "liquidation" ? result.explanation.join("\n") : "");
  const none = result as NoLiquidation;
  assert.equal(none.reason, reason, none.message);
  assert.ok(!none.message.includes("\n"));
  return none;
}

const hfOf = (p: Position, market: Market, policy: Policy) => checkPosition(p, market, policy).healthFactor;
const closed = (p: Position): boolean => p.debt.every((d) => d === 0n);

/**
 * Everything a liquidation must satisfy, recomputed here from the definitions (the circuit's
 * rules of design section 1), not from the planner's own figures.
 */
function assertSoundLiquidation(
  plan: LiquidationPlan,
  old: Position,
  market: Market,
  policy: Policy,
  pools: readonly PoolReserves[],
  terms: LiquidationPlanTerms,
  label = "",
): void {
  const at = (what: string): string => `${label}: ${what}\n${plan.explanation.join("\n")}`;
  const t = plan.transition;
  const liq = t.liquidation!;
  // The circuit's mirror accepts it, with the liquidation rules.
  const check = checkTransition(t, market, policy);
  assert.equal(check.valid, true, at(check.violations.map((v) => `${v.rule}: ${v.message}`).join("; ")));
  assert.equal(t.forced, false);
  assert.equal(t.fromEmpty, false);
  assert.equal(liq.liquidator, terms.liquidator);
  assert.equal(liq.bonusBps, terms.bonusBps);
  // Old position below the trigger; urgent exactly when HF < 1.0.
  const before = hfOf(old, market, policy);
  assert.ok(before.numerator < policy.trigger.healthFactor * before.denominator, at("old not below the trigger"));
  assert.equal(liq.urgent, before.numerator < BPS_SCALE * before.denominator, at("urgent"));
  assert.equal(plan.urgent, liq.urgent);
  // No value to or from the owner's wallet, no borrow, no option-token flow; salt kept.
  assert.ok(
    t.flows.every((f) => f === 0n),
    at("wallet flow"),
  );
  assert.ok(
    t.instrumentFlows.every((f) => f === 0n),
    at("instrument flow"),
  );
  assert.ok(
    t.debtDelta.every((d) => d <= 0n),
    at("borrow"),
  );
  assert.equal(t.next.salt, old.salt);
  assert.equal(t.next.nonce, old.nonce + 1n);
  // Conservation with the bonus, term by term.
  market.assets.forEach((_, i) => {
    const swapped = t.swaps.reduce((s, w) => s + (w.buy === i ? w.minOut : 0n) - (w.sell === i ? w.amountIn : 0n), 0n);
    const repaid = t.debtDelta[i]! < 0n ? t.debtAssets[i]! : 0n;
    assert.equal(t.next.collateral[i], old.collateral[i]! + swapped - repaid - liq.bonus[i]!, at(`conservation of asset ${i}`));
    assert.ok(liq.bonus[i]! >= 0n && t.next.collateral[i]! >= 0n, at("bonus beyond the collateral"));
  });
  // The bonus cap, and the bonus exactly floor(bonusBps * repaid / 10^4) unless the collateral ran out.
  const repaidValue = market.assets.reduce((s, a, i) => s + (t.debtDelta[i]! < 0n ? t.debtAssets[i]! * unitValue(a) : 0n), 0n);
  const bonusValue = market.assets.reduce((s, a, i) => s + liq.bonus[i]! * unitValue(a), 0n);
  assert.equal(plan.repaidValue, repaidValue);
  assert.equal(plan.bonusValue, bonusValue);
  assert.equal(plan.bonusAllowance, (terms.bonusBps * repaidValue) / BPS_SCALE);
  assert.ok(BPS_SCALE * bonusValue <= terms.bonusBps * repaidValue, at("bonus above the cap"));
  const bonusAssets = market.assets.map((_, i) => i).filter((i) => liq.bonus[i]! > 0n || t.swaps.some((s) => s.sell === i) || t.debtDelta[i]! < 0n);
  const exhausted = bonusAssets.every((i) => t.next.collateral[i] === 0n);
  if (!exhausted) {
    // Short of the allowance by less than one base unit of the asset it was last taken in.
    const units = bonusAssets.map((i) => unitValue(market.assets[i]!));
    assert.ok(plan.bonusAllowance - bonusValue < units.reduce((a, b) => (a > b ? a : b), 0n), at("bonus below floor(bonusBps * repaid)"));
  }
  // Swaps: distinct pairs, minOut at most what the pair pays on the reserves (the excess goes to the
  // owner's wallet) and never below the slippage floor; an asset is sold only when its own debt is
  // repaid in full from its own collateral (it may carry debt), and never bought in the same plan.
  const pairs = new Set(t.swaps.map((s) => [s.sell, s.buy].sort().join("/")));
  assert.equal(pairs.size, t.swaps.length, at("two swaps on one pair"));
  const repaidOf = (i: number): bigint => (t.debtDelta[i]! < 0n ? t.debtAssets[i]! : 0n);
  for (const s of t.swaps) {
    const pool = pools.find((p) => p.assets.includes(s.sell) && p.assets.includes(s.buy))!;
    const [rIn, rOut] = pool.assets[0] === s.sell ? pool.reserves : [pool.reserves[1], pool.reserves[0]];
    assert.ok(s.minOut <= getAmountOut(s.amountIn, rIn, rOut), at("minOut above the pair's quote: the swap would revert"));
    assert.ok(s.minOut >= slippageFloor(s.sell, s.amountIn, s.buy, market, policy), at("below the slippage floor"));
    assert.ok(!t.swaps.some((o) => o.buy === s.sell), at("an asset both bought and sold"));
    assert.ok(old.collateral[s.sell]! >= repaidOf(s.sell), at("sells an asset whose own repayment its collateral does not cover"));
  }
  // The swaps serve the repayment (the circuit's nothingRepaid, buyCap and churn).
  assert.ok(
    market.assets.some((_, i) => repaidOf(i) > 0n),
    at("nothing repaid"),
  );
  market.assets.forEach((_, i) => {
    const net = t.swaps.reduce((sum, w) => sum + (w.buy === i ? w.minOut : 0n) - (w.sell === i ? w.amountIn : 0n), 0n);
    assert.ok(net <= repaidOf(i), at(`asset ${i}: the swaps bring in more than the repayment takes`));
  });
  const sold = t.swaps.reduce((sum, w) => sum + w.amountIn * unitValue(market.assets[w.sell]!), 0n);
  assert.ok((10n ** 6n - policy.maxSlippage) * sold <= 10n ** 6n * repaidValue, at("sells more than the repayment needs"));
  // P' passes every check at or above the trigger, or is closed.
  assert.equal(plan.closed, closed(t.next));
  if (!plan.closed) {
    const after = checkPosition(t.next, market, policy);
    assert.equal(after.pass, true, at(`P' fails ${after.failures.join(", ")}`));
    assert.ok(after.healthFactor.numerator >= (terms.trigger ?? policy.trigger.healthFactor) * after.healthFactor.denominator, at("P' below the target"));
    assert.deepEqual(plan.healthFactorAfter, after.healthFactor);
  }
}

/** The share is the least that works: one grid step less does not restore the position. */
function assertMinimal(plan: LiquidationPlan, old: Position, market: Market, policy: Policy, pools: readonly PoolReserves[], terms: LiquidationPlanTerms): void {
  const less = liquidationAtShare(old, market, policy, pools, terms, plan.share - 1n);
  if (!less) return; // not executable: then it cannot be a cheaper liquidation either
  const next = less.next;
  if (closed(next)) assert.fail("a smaller share closes the position");
  const report = checkPosition(next, market, policy);
  const target = terms.trigger ?? policy.trigger.healthFactor;
  assert.ok(!report.pass || report.healthFactor.numerator < target * report.healthFactor.denominator, `share ${plan.share - 1n} already restores the position`);
}

describe("liquidation planner", () => {
  let market: Market;
  let policy: Policy;
  let pools: PoolReserves[];
  const base = (): Position => ({ ...positionOf(market, { collateral: { WETH: weth(6), WBTC: wbtc(0.1) }, debt: { USDC: usdc(18_500) } }), nonce: 3n, salt: 0x1234n });

  before(() => {
    market = loadMarket();
    policy = loadPolicy(market);
    pools = poolsAt(market, 50_000_000);
  });

  it("non-urgent (1.0 <= HF < trigger): repays the least share that restores the trigger, sells the most valuable collateral", () => {
    const old = base();
    const hf = hfOf(old, market, policy);
    assert.ok(hf.value! >= 10_000n && hf.value! < policy.trigger.healthFactor, `example HF ${hf.value}`);
    const plan = expectPlan(planLiquidation(old, market, policy, pools, TERMS));
    assert.equal(plan.urgent, false);
    assert.equal(plan.closed, false, "a partial repayment restores it");
    assert.ok(plan.share > 0n && plan.share < SHARE_SCALE);
    assert.equal(plan.transition.swaps.length, 1);
    assert.equal(plan.transition.swaps[0]!.sell, WETH, "WETH (18k USD) is worth more than WBTC (9k USD)");
    assert.ok(plan.transition.liquidation!.bonus[WETH]! > 0n, "the bonus is taken in the sold collateral");
    assertSoundLiquidation(plan, old, market, policy, pools, TERMS, "non-urgent");
    assertMinimal(plan, old, market, policy, pools, TERMS);
    assert.match(plan.explanation[0]!, /below the trigger/);
  });

  it("urgent (HF < 1.0 after a price shock): urgent = 1, the bonus is 5% of the repaid value (floor)", () => {
    const shocked = withMarket(market, (m) => void (m.assets[WETH]!.price = (m.assets[WETH]!.price * 75n) / 100n));
    const old = base();
    assert.ok(hfOf(old, shocked, policy).value! < 10_000n);
    const shockedPools = poolsAt(shocked, 50_000_000);
    const plan = expectPlan(planLiquidation(old, shocked, policy, shockedPools, TERMS));
    assert.equal(plan.urgent, true);
    assert.equal(plan.transition.liquidation!.urgent, true);
    assert.match(plan.explanation[0]!, /urgent/);
    assertSoundLiquidation(plan, old, shocked, policy, shockedPools, TERMS, "urgent");
    assertMinimal(plan, old, shocked, policy, shockedPools, TERMS);
    // floor(500 * repaid / 10^4) in WETH base units, to within one base unit of WETH.
    const allowance = (500n * plan.repaidValue) / BPS_SCALE;
    assert.equal(plan.bonusAllowance, allowance);
    const u = unitValue(shocked.assets[WETH]!);
    assert.equal(plan.transition.liquidation!.bonus[WETH], allowance / u);
  });

  it("full close when no partial repayment passes: written calls fail the stress check at any debt level", () => {
    const old: Position = { ...base(), quantities: [-30n * 10n ** 8n, 0n, 0n] };
    const report = checkPosition(old, market, policy);
    assert.ok(report.failures.includes("stress"));
    const plan = expectPlan(planLiquidation(old, market, policy, pools, TERMS));
    assert.equal(plan.closed, true);
    assert.equal(plan.share, SHARE_SCALE);
    assert.deepEqual(plan.transition.next.debt, [0n, 0n, 0n]);
    assert.deepEqual(plan.transition.next.quantities, old.quantities, "the keeper cannot touch the option position");
    assertSoundLiquidation(plan, old, market, policy, pools, TERMS, "close");
    assert.match(plan.explanation.at(-1)!, /closed/);
  });

  it("repays from the position's own collateral in the debt asset first, without a swap", () => {
    const old: Position = { ...base(), collateral: [weth(6), wbtc(0.1), usdc(20_000)], debt: [0n, 0n, usdc(33_000)] };
    const plan = expectPlan(planLiquidation(old, market, policy, pools, TERMS));
    assertSoundLiquidation(plan, old, market, policy, pools, TERMS, "own collateral");
    const repaid = plan.transition.debtAssets[USDC]!;
    assert.ok(repaid > 0n && repaid <= usdc(20_000), `repaid ${repaid}`);
    assert.equal(plan.transition.swaps.length, 0, "no trade while the USDC collateral covers it");
    assert.ok(plan.transition.liquidation!.bonus[USDC]! > 0n, "the bonus in the repaid asset when nothing is sold");
  });

  it("uses the second swap slot when the most valuable collateral is not enough", () => {
    // WETH worth ~9k, WBTC ~9.1k, and debt of ~16k: closing needs both.
    const old: Position = { ...base(), quantities: [-30n * 10n ** 8n, 0n, 0n], collateral: [weth(3), wbtc(0.1), 0n], debt: [0n, 0n, usdc(15_000)] };
    const plan = expectPlan(planLiquidation(old, market, policy, pools, TERMS));
    assert.equal(plan.closed, true);
    assert.deepEqual(
      plan.transition.swaps.map((s) => s.sell),
      [WBTC, WETH],
    );
    assertSoundLiquidation(plan, old, market, policy, pools, TERMS, "two swaps");
  });

  it("dust debt in every collateral asset does not hide the position from the planner (1 wei of WETH, 1 satoshi of WBTC)", () => {
    const old: Position = { ...base(), debt: [1n, 1n, usdc(18_500)] };
    assert.ok(hfOf(old, market, policy).value! < policy.trigger.healthFactor);
    const plan = expectPlan(planLiquidation(old, market, policy, pools, TERMS));
    assertSoundLiquidation(plan, old, market, policy, pools, TERMS, "dust debts");
    assert.equal(plan.transition.swaps[0]!.sell, WETH, "WETH is sold although it carries debt");
    // Each dust debt is repaid from its own asset's collateral first (the least share repays a whole unit).
    assert.deepEqual(plan.transition.next.debt.slice(0, 2), [0n, 0n]);
    assertMinimal(plan, old, market, policy, pools, TERMS);
  });

  it("never sells an asset whose own debt its collateral cannot repay", () => {
    // WBTC debt worth more than its WBTC collateral: WBTC is bought (for its own repayment), never sold.
    const old: Position = { ...base(), collateral: [weth(14), wbtc(0.01), 0n], debt: [0n, wbtc(0.15), usdc(18_000)] };
    const withWbtc = poolsAt(market, 50_000_000, true);
    const result = planLiquidation(old, market, policy, withWbtc, TERMS);
    const plan = expectPlan(result);
    assertSoundLiquidation(plan, old, market, policy, withWbtc, TERMS, "unpaid WBTC");
    assert.ok(
      plan.transition.swaps.every((s) => s.sell === WETH),
      plan.explanation.join("; "),
    );
    assert.ok(
      plan.transition.swaps.some((s) => s.buy === WBTC),
      plan.explanation.join("; "),
    );
    // The explanation shows the values in quote units (quote units * 10^18 / 10^18).
    assert.match(
      plan.explanation.find((l) => l.startsWith("bonus"))!,
      /\(576\.67 USD, at most 5% of 11,533\.46 USD repaid\)$/,
    );
  });

  it("cannotRepay when the debts need more swaps than the instance has slots (one transaction; liquidator-funded repayment is not supported yet)", () => {
    // WETH collateral only, debt in WBTC and USDC: two swaps. One slot cannot do it; two can.
    const old: Position = { ...base(), collateral: [weth(10), 0n, 0n], debt: [0n, wbtc(0.1), usdc(12_000)] };
    const withWbtc = poolsAt(market, 50_000_000, true);
    const oneSlot = { ...TERMS, swapSlots: 1 };
    const none = expectNone(planLiquidation(old, market, policy, withWbtc, oneSlot), "cannotRepay");
    assert.match(
      none.message,
      /needs more than the instance's 1 swap slots \(a liquidation is one transaction; liquidator-funded repayment, which needs no swap, is not supported yet\)/,
    );
    const plan = expectPlan(planLiquidation(old, market, policy, withWbtc, TERMS));
    assert.equal(plan.transition.swaps.length, 2);
    assertSoundLiquidation(plan, old, market, policy, withWbtc, TERMS, "two debts");
  });

  it("the bonus is never more than the collateral holds: a 100% bonus on a thin position takes what is left", () => {
    const old: Position = { ...base(), collateral: [weth(6.3), 0n, 0n], debt: [0n, 0n, usdc(18_000)] };
    const terms = { ...TERMS, bonusBps: 10_000n };
    const plan = expectPlan(planLiquidation(old, market, policy, pools, terms));
    assertSoundLiquidation(plan, old, market, policy, pools, terms, "thin");
    assert.ok(plan.bonusValue < plan.bonusAllowance, "capped by the collateral");
    assert.equal(plan.transition.next.collateral[WETH], 0n, "every WETH left went to the bonus");
  });

  it("a higher target health factor repays more; a target below the trigger is refused", () => {
    const old = base();
    const atTrigger = expectPlan(planLiquidation(old, market, policy, pools, TERMS));
    const higher = { ...TERMS, trigger: 15_000n };
    const more = expectPlan(planLiquidation(old, market, policy, pools, higher));
    assertSoundLiquidation(more, old, market, policy, pools, higher, "target 1.5");
    assert.ok(more.repaidValue > atTrigger.repaidValue);
    assert.throws(
      () => planLiquidation(old, market, policy, pools, { ...TERMS, trigger: 11_000n }),
      (e: unknown) => e instanceof InputError && e.field === "trigger" && /below the policy's trigger/.test(e.problem),
    );
  });

  describe("no liquidation, with a named reason", () => {
    it("notBelowTrigger: a healthy position", () => {
      const old: Position = { ...base(), debt: [0n, 0n, usdc(5_000)] };
      const none = expectNone(planLiquidation(old, market, policy, pools, TERMS), "notBelowTrigger");
      assert.match(none.message, /not below the trigger 1\.25: nothing to liquidate/);
      expectNone(planLiquidation({ ...old, debt: [0n, 0n, 0n] }, market, policy, pools, TERMS), "notBelowTrigger");
    });

    it("noPool: no pair between the collateral and the debt asset", () => {
      const none = expectNone(planLiquidation(base(), market, policy, [], TERMS), "noPool");
      assert.match(none.message, /no USDC pool/);
    });

    it("insufficientLiquidity: pairs too shallow to sell within the slippage floor", () => {
      const none = expectNone(planLiquidation(base(), market, policy, poolsAt(market, 200_000), TERMS), "insufficientLiquidity");
      assert.match(none.message, /below the policy's slippage floor/);
      // A pair whose price is 2% off the oracle cannot sell anything within a 0.5% floor.
      const off = poolsAt(market, 50_000_000).map((p) => ({ ...p, reserves: p.reserves.map((r, j) => (p.assets[j] === USDC ? (r * 98n) / 100n : r)) as [bigint, bigint] }));
      expectNone(planLiquidation(base(), market, policy, off, TERMS), "insufficientLiquidity");
    });

    it("a partial liquidation when the pools cannot fund a close but can fund a restoring share", () => {
      const old = base();
      const shallow = poolsAt(market, 5_000_000);
      const plan = expectPlan(planLiquidation(old, market, policy, shallow, TERMS));
      assert.equal(plan.closed, false);
      assertSoundLiquidation(plan, old, market, policy, shallow, TERMS, "shallow");
    });

    it("cannotRepay: bad debt (the collateral is worth less than the debt)", () => {
      const old: Position = { ...base(), collateral: [weth(3), 0n, 0n], debt: [0n, 0n, usdc(18_500)] };
      const none = expectNone(planLiquidation(old, market, policy, pools, TERMS), "cannotRepay");
      assert.match(none.message, /cannot raise/);
      assert.equal(none.urgent, true);
    });
  });

  it("refuses unusable terms with one line naming the field", () => {
    const bad = (terms: Partial<LiquidationPlanTerms>, field: string, pattern: RegExp): void =>
      assert.throws(
        () => planLiquidation(base(), market, policy, pools, { ...TERMS, ...terms }),
        (e: unknown) => e instanceof InputError && e.field === field && pattern.test(e.problem) && e.exitCode === 2,
      );
    bad({ liquidator: "0x1234" }, "liquidator", /not an address/);
    bad({ liquidator: "0x0000000000000000000000000000000000000000" }, "liquidator", /zero address/);
    bad({ bonusBps: 10_001n }, "bonusBps", /\[0, 10000\]/);
    bad({ bonusBps: -1n }, "bonusBps", /\[0, 10000\]/);
    assert.throws(
      () => planLiquidation(base(), market, policy, [{ assets: [0, 0], reserves: [1n, 1n] }], TERMS),
      (e: unknown) => e instanceof InputError && /two different assets/.test(e.problem),
    );
    assert.throws(
      () => planLiquidation(base(), market, policy, [{ assets: [0, 7], reserves: [1n, 1n] }], TERMS),
      (e: unknown) => e instanceof InputError && /not in the market/.test(e.problem),
    );
  });

  it("getAmountIn is the least input the v2 formula pays", () => {
    fc.assert(
      fc.property(fc.bigInt(1n, 10n ** 30n), fc.bigInt(2n, 10n ** 30n), fc.bigInt(1n, 10n ** 30n), (rIn, rOut, outRaw) => {
        const out = (outRaw % (rOut - 1n)) + 1n;
        const x = getAmountIn(out, rIn, rOut)!;
        assert.ok(getAmountOut(x, rIn, rOut) >= out);
        assert.ok(x === 1n || getAmountOut(x - 1n, rIn, rOut) < out);
      }),
      { numRuns: 300 },
    );
    assert.equal(getAmountIn(10n, 100n, 10n), undefined, "a pool cannot pay its whole reserve");
  });

  it("@property random positions: every plan passes the circuit's mirror and the model; every none is justified", function () {
    this.timeout(600_000);
    const runs = Number(process.env.ZKS_PROPERTY_RUNS ?? 60);
    const arb = fc.record({
      weth: fc.integer({ min: 0, max: 2_000 }),
      wbtc: fc.integer({ min: 0, max: 100 }),
      usdcCollateral: fc.integer({ min: 0, max: 2_000_000 }),
      // Health factor 0.80 .. 1.27: bad debt (about 0.85 and below), urgent, below the trigger, above it.
      hfPercent: fc.integer({ min: 80, max: 127 }),
      calls: fc.boolean(),
      // Dust (or small) debts in the collateral assets must not hide a position (base units / units).
      dust: fc.constantFrom([0n, 0n], [0n, 0n], [1n, 0n], [0n, 1n], [1n, 1n], [10n ** 15n, 1_000n]),
      depth: fc.constantFrom(2_000_000, 50_000_000, 500_000_000),
      bonusBps: fc.constantFrom(0n, 250n, 500n, 2_000n),
    });
    let plans = 0;
    fc.assert(
      fc.property(arb, (c) => {
        const collateral = [weth(c.weth / 10), wbtc(c.wbtc / 100), usdc(c.usdcCollateral / 10)];
        const adjusted = collateral.reduce((s, x, i) => s + (x * unitValue(market.assets[i]!) * market.assets[i]!.liquidationThreshold) / BPS_SCALE, 0n);
        const debtValue = (adjusted * 100n) / BigInt(c.hfPercent);
        const debt = debtValue / unitValue(market.assets[USDC]!);
        const old: Position = { ...base(), collateral, debt: [c.dust[0]!, c.dust[1]!, debt], quantities: c.calls ? [-(10n ** 8n), 0n, 0n] : [0n, 0n, 0n] };
        const terms = { ...TERMS, bonusBps: c.bonusBps };
        const p = poolsAt(market, c.depth);
        const result = planLiquidation(old, market, policy, p, terms);
        const hf = hfOf(old, market, policy);
        if (result.kind === "none") {
          if (result.reason === "notBelowTrigger") assert.ok(hf.denominator === 0n || hf.numerator >= policy.trigger.healthFactor * hf.denominator);
          else {
            // Nothing the pools can fund restores or closes it: the full close is not executable.
            const full = liquidationAtShare(old, market, policy, p, terms, SHARE_SCALE);
            assert.equal(full, undefined, `${result.reason}: ${result.message}, but a close is executable`);
          }
          return;
        }
        plans++;
        assertSoundLiquidation(
          result,
          old,
          market,
          policy,
          p,
          terms,
          JSON.stringify(c, (_, v: unknown) => (typeof v === "bigint" ? `${v}n` : v)),
        );
        assertMinimal(result, old, market, policy, p, terms);
      }),
      { numRuns: runs, seed: 18 },
    );
    assert.ok(plans > runs / 4, `only ${plans} of ${runs} random cases produced a plan`);
  });

  describe("the rebalance circuit proves what the planner plans (rebalance-3x3x16)", function () {
    const LAYOUT = { nAssets: 3, nInstruments: 3, nScenarios: 16 };
    let circuit: CircuitUnderTest;
    before(async function () {
      circuit = await CircuitUnderTest.load("rebalance-3x3x16");
    });
    after(releaseProverThreads);

    const shocked = (): Market => withMarket(market, (m) => void (m.assets[WETH]!.price = (m.assets[WETH]!.price * 75n) / 100n));
    const input = (plan: LiquidationPlan, m: Market) => rebalanceInput(plan.transition, m, policy, LAYOUT, "position", 0n, { keeperKey: TEST_KEEPER.publicKey });

    it("accepts the witness of a partial, an urgent and a closing liquidation; the keeper decrypts the circuit's ciphertext to P'", async function () {
      const cases: [string, Position, Market][] = [
        ["partial", base(), market],
        ["urgent", base(), shocked()],
        ["close", { ...base(), quantities: [-30n * 10n ** 8n, 0n, 0n] }, market],
        // Sells WETH, which carries (dust) debt, and buys WBTC for its own repayment.
        ["dust debts", { ...base(), debt: [1n, 1n, usdc(18_500)] }, market],
        ["two debts", { ...base(), collateral: [weth(14), wbtc(0.01), 0n], debt: [0n, wbtc(0.15), usdc(18_000)] }, market],
      ];
      for (const [label, old, m] of cases) {
        const plan = expectPlan(planLiquidation(old, m, policy, poolsAt(m, 50_000_000, true), TERMS));
        const w = await circuit.witness(input(plan, m));
        assert.deepEqual(circuit.violated(w), [], label);
        const signal = (name: string): bigint => w[circuit.index(`main.${name}`)]!;
        assert.equal(signal("liquidation"), 1n);
        assert.equal(signal("urgent"), plan.urgent ? 1n : 0n, label);
        assert.equal(signal("liquidator"), BigInt(KEEPER));
        const opened = decryptOpening(
          {
            account: old.account,
            nonce: old.nonce + 1n,
            commitment: signal("newCommitment"),
            ephemeralKey: [signal("ephemeralKey[0]"), signal("ephemeralKey[1]")],
            ciphertext: Array.from({ length: 7 }, (_, j) => signal(`ciphertext[${j}]`)),
          },
          TEST_KEEPER.secret,
          m,
          LAYOUT,
        );
        assert.deepEqual(opened, plan.transition.next, label);
      }
    });

    it("one base unit of bonus above floor(bonusBps * repaid / 10^4) is refused by the circuit", async function () {
      const plan = expectPlan(planLiquidation(base(), market, policy, pools, TERMS));
      const t = structuredClone(plan.transition);
      t.liquidation!.bonus[WETH] = t.liquidation!.bonus[WETH]! + 1n;
      t.next.collateral[WETH] = t.next.collateral[WETH]! - 1n;
      assert.deepEqual(
        checkTransition(t, market, policy).violations.map((v) => v.rule),
        ["bonus"],
      );
      await assert.rejects(circuit.witness(rebalanceInput(t, market, policy, LAYOUT, "position", 0n, { keeperKey: TEST_KEEPER.publicKey })), UnprovableError);
    });
  });
});
