/**
 * packages/circuits/rebalance.circom under the custody model (docs/custody.md): passing, boundary,
 * failing and forged-witness cases, and a differential test against the TypeScript mirror
 * (packages/sdk/src/rebalance/transition.ts) on random transitions; then a keeper's liquidation
 * (docs/enforcement.md): urgent and not, the bonus cap and the repayment cap at their boundaries,
 * HF exactly 1.0 and exactly at the trigger, every forbidden movement, closed positions, forged
 * witnesses where a range check is the only defence, and a fast-check differential. The opening's
 * encryption: test/opening-encryption-circuit.test.ts.
 */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import fc from "fast-check";
import type { CircuitSignals } from "snarkjs";
import { network } from "hardhat";
import { commitPosition } from "../packages/sdk/src/commitment/position-commitment.ts";
import { SNARK_FIELD, toField } from "../packages/sdk/src/core/field.ts";
import { BPS_SCALE } from "../packages/sdk/src/core/fixed-point.ts";
import { SetupError } from "../packages/sdk/src/core/errors.ts";
import { INSTANCES_FILE, loadInstances, SOLVENCY_CHECKS_GATED } from "../packages/node/src/setup/instances.ts";
import { mulberry32 } from "../packages/sdk/src/core/seeded-random.ts";
import type { Market, Policy, Position } from "../packages/sdk/src/inputs/types.ts";
import { checkPosition } from "../packages/sdk/src/model/check.ts";
import {
  applyMovements,
  checkTransition,
  emptyPosition,
  noMovements,
  repaidValue,
  slippageFloor,
  swapValue,
  type SwapLeg,
  type Transition,
} from "../packages/sdk/src/rebalance/transition.ts";
import { loadInstanceArtifacts, type InstanceArtifacts } from "../packages/node/src/artifacts.ts";
import { UnprovableError } from "../packages/sdk/src/prover/errors.ts";
import { generateProof } from "../packages/sdk/src/prover/prove.ts";
import { releaseProverThreads } from "../packages/sdk/src/prover/release.ts";
import { rebalanceInput } from "../packages/sdk/src/prover/witness/rebalance.ts";
import { toSolidityProof } from "../packages/sdk/src/verifier/calldata.ts";
import { verifyProof } from "../packages/sdk/src/verifier/verify.ts";
import { CircuitUnderTest } from "./helpers/circuit.ts";
import { LenientWitness } from "./helpers/lenient-witness.ts";
import { TEST_KEEPER } from "./helpers/keeper-key.ts";
import { loadMarket, loadPolicy, loadPosition } from "./helpers/examples.ts";
import { positionOf, withMarket } from "./helpers/model-fixtures.ts";

const INSTANCE = "rebalance-3x3x16";
const LAYOUT = { nAssets: 3, nInstruments: 3, nScenarios: 16, nSwaps: 2 };
const [WETH, WBTC, USDC] = [0, 1, 2];
const log2ceil = (n: number): number => Math.ceil(Math.log2(n));
const E18 = 10n ** 18n;
const USD = 10n ** 6n;
const QTY = 10n ** 8n;

/** A transition with no movement (the new position at nonce + 1 with another salt), to edit. */
function still(old: Position, market: Market): Transition {
  return { old, next: { ...applyMovements(old, noMovements(market)), salt: (old.salt ?? 0n) + 7n }, ...noMovements(market), forced: false, fromEmpty: false };
}

/** Rebuilds `next` from the movements (the honest P'), keeping its salt. */
function settle(t: Transition): Transition {
  return { ...t, next: { ...applyMovements(t.old, t), salt: t.next.salt } };
}

function deposit(t: Transition, asset: number, amount: bigint): Transition {
  t.flows[asset]! += amount;
  return settle(t);
}

function swap(t: Transition, leg: SwapLeg): Transition {
  t.swaps.push(leg);
  return settle(t);
}

/** A registration: deposits (and optionally a borrow) into the empty position. */
function registration(account: string, market: Market, deposits: [number, bigint][], borrow?: [number, bigint]): Transition {
  const t = still(emptyPosition(account, market), market);
  t.fromEmpty = true;
  t.next.salt = 0x1234n;
  for (const [asset, amount] of deposits) t.flows[asset]! += amount;
  if (borrow) {
    t.debtDelta[borrow[0]] = borrow[1];
    t.debtAssets[borrow[0]] = borrow[1];
  }
  return settle(t);
}

describe(`rebalance circuit (${INSTANCE})`, function () {
  let artifacts: InstanceArtifacts;
  let circuit: CircuitUnderTest;
  let market: Market;
  let policy: Policy;
  let healthy: Position;
  let atRisk: Position;

  before(async function () {
    artifacts = loadInstanceArtifacts(INSTANCE);
    circuit = await CircuitUnderTest.load(artifacts);
    market = loadMarket();
    policy = loadPolicy(market);
    healthy = loadPosition("position-healthy.json", market);
    atRisk = loadPosition("position-at-risk.json", market);
  });
  after(releaseProverThreads);

  const inputOf = (t: Transition, m = market, p = policy) => rebalanceInput(t, m, p, LAYOUT, "position", 0n, { keeperKey: TEST_KEEPER.publicKey });
  const witness = (t: Transition, m = market) => circuit.witness(inputOf(t, m));
  const rejects = (t: Transition, m = market) => assert.rejects(witness(t, m), UnprovableError);
  const signal = (w: bigint[], name: string) => w[circuit.index(`main.${name}`)]!;

  describe("registration from nothing", function () {
    const alice = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";

    it("proves a registration whose first commitment holds exactly its deposits and its borrow", async function () {
      const t = registration(
        alice,
        market,
        [
          [WETH, 10n * E18],
          [USDC, 5_000n * USD],
        ],
        [USDC, 8_000n * USD],
      );
      assert.equal(checkTransition(t, market, policy).valid, true);
      const w = await witness(t);
      assert.deepEqual(circuit.violated(w), []);
      assert.equal(signal(w, "fromEmpty"), 1n);
      assert.equal(signal(w, "nonce"), 0n);
      assert.equal(signal(w, "oldCommitment"), commitPosition(emptyPosition(alice, market), 0n, LAYOUT));
      assert.equal(signal(w, "newCommitment"), commitPosition(t.next, t.next.salt!, LAYOUT));
      assert.equal(t.next.collateral[USDC], 13_000n * USD);
      assert.equal(t.next.debt[USDC], 8_000n * USD);
    });

    it("rejects a phantom registration: balances that no deposit brought", async function () {
      const t = registration(alice, market, [[USDC, 1_000n * USD]]);
      t.next.collateral[WETH] = 10_000n * E18;
      assert.deepEqual(
        checkTransition(t, market, policy).violations.map((v) => v.rule),
        ["balance"],
      );
      await rejects(t);
    });

    it("rejects a registration from a non-empty old position, or at another nonce or salt", async function () {
      const rich = registration(alice, market, [[USDC, 1_000n * USD]]);
      const withBalance = { ...rich, old: { ...rich.old, collateral: [10_000n * E18, 0n, 0n] } };
      assert.ok(checkTransition(settle(withBalance), market, policy).violations.some((v) => v.rule === "empty"));
      await rejects(settle(withBalance));
      await rejects(settle({ ...rich, old: { ...rich.old, nonce: 3n } }));
      await rejects({ ...rich, forced: true });
      // The witness builder opens a registration's old position with salt 0; a forged salt breaks the R1CS.
      const forged = [...(await witness(rich))];
      forged[circuit.index("main.oldSalt")] = 5n;
      assert.ok(circuit.violated(forged).length > 0);
    });

    it("forged witness: fromEmpty set on a rebalance of a real position violates the R1CS", async function () {
      const w = await witness(deposit(still(healthy, market), USDC, 1n));
      const forged = [...w];
      forged[circuit.index("main.fromEmpty")] = 1n;
      assert.ok(circuit.violated(forged).length > 0);
    });
  });

  describe("wallet flows", function () {
    it("proves a deposit that restores the at-risk position, binding old and new commitments, account and nonce + 1", async function () {
      const t = deposit(still(atRisk, market), USDC, 20_000n * USD);
      assert.equal(checkPosition(atRisk, market, policy).pass, false);
      assert.equal(checkPosition(t.next, market, policy).pass, true);
      const w = await witness(t);
      assert.deepEqual(circuit.violated(w), []);
      assert.equal(signal(w, "oldCommitment"), commitPosition(atRisk, atRisk.salt!, LAYOUT));
      assert.equal(signal(w, "newCommitment"), commitPosition(t.next, t.next.salt!, LAYOUT));
      assert.equal(signal(w, "flow[2]"), 20_000n * USD);
    });

    it("cannot conjure value: a balance change without a matching movement is unprovable", async function () {
      const t = deposit(still(atRisk, market), USDC, 20_000n * USD);
      t.flows[USDC] = 0n;
      await rejects(t);
    });

    it("a withdrawal is bounded by the position's own balance (boundary: all of it passes, one more fails)", async function () {
      const all = still(healthy, market);
      all.flows[WBTC] = -healthy.collateral[WBTC]!; // the healthy example holds no WBTC: 0
      await witness(settle(all));
      const more = still(healthy, market);
      more.flows[WBTC] = -1n;
      assert.ok(checkTransition(settle(more), market, policy).violations.some((v) => v.rule === "range"));
      await rejects(settle(more));
    });
  });

  describe("AMM swaps", function () {
    it("accepts minOut at the policy's slippage floor and rejects one base unit less", async function () {
      assert.equal(policy.maxSlippage, 5_000n);
      const floor = slippageFloor(WETH, 2n * E18, USDC, market, policy);
      await witness(swap(still(healthy, market), { sell: WETH, buy: USDC, amountIn: 2n * E18, minOut: floor }));
      const below = swap(still(healthy, market), { sell: WETH, buy: USDC, amountIn: 2n * E18, minOut: floor - 1n });
      assert.deepEqual(
        checkTransition(below, market, policy).violations.map((v) => v.rule),
        ["slippage"],
      );
      await rejects(below);
    });

    it("credits the position with minOut only: claiming more than minOut in the balance is unprovable", async function () {
      const floor = slippageFloor(WETH, 2n * E18, USDC, market, policy);
      const t = swap(still(healthy, market), { sell: WETH, buy: USDC, amountIn: 2n * E18, minOut: floor });
      t.next.collateral[USDC]! += 1n;
      await rejects(t);
    });

    it("two swap slots; a swap into itself, and a phantom minOut in an empty slot, are unprovable", async function () {
      const two = swap(swap(still(healthy, market), { sell: WETH, buy: USDC, amountIn: E18, minOut: slippageFloor(WETH, E18, USDC, market, policy) }), {
        sell: USDC,
        buy: WBTC,
        amountIn: 1_000n * USD,
        minOut: slippageFloor(USDC, 1_000n * USD, WBTC, market, policy),
      });
      await witness(two);
      await rejects(swap(still(healthy, market), { sell: WETH, buy: WETH, amountIn: E18, minOut: E18 }));
      // An empty slot that "buys" 1,000 USDC for nothing.
      const w = await witness(still(healthy, market));
      const forged = [...w];
      forged[circuit.index("main.swapMinOut[0]")] = 1_000n * USD;
      forged[circuit.index("main.newCommitment")] = 0n;
      assert.ok(circuit.violated(forged).length > 0);
    });
  });

  describe("lender movements (index-scaled debt)", function () {
    it("a borrow credits at most what the lender delivers; a repayment debits collateral", async function () {
      const borrow = still(healthy, market);
      borrow.debtDelta[USDC] = 1_000n * USD;
      borrow.debtAssets[USDC] = 1_000n * USD;
      await witness(settle(borrow));
      const repay = still(healthy, market);
      repay.debtDelta[USDC] = -1_000n * USD;
      repay.debtAssets[USDC] = 1_001n * USD; // the most the lender may take; the gate forwards the rest
      const settled = settle(repay);
      assert.equal(settled.next.collateral[USDC], healthy.collateral[USDC]! - 1_001n * USD);
      await witness(settled);
    });

    it("rejects lender assets without a debt change, and a borrow whose credit exceeds its debtAssets", async function () {
      const phantom = still(healthy, market);
      phantom.debtAssets[USDC] = 1_000n * USD;
      assert.ok(checkTransition(settle(phantom), market, policy).violations.some((v) => v.rule === "debt"));
      await rejects(settle(phantom));
      const over = still(healthy, market);
      over.debtDelta[USDC] = 1_000n * USD;
      over.debtAssets[USDC] = 1_000n * USD;
      const t = settle(over);
      t.next.collateral[USDC]! += 1n;
      await rejects(t);
    });
  });

  describe("option tokens (long holdings only)", function () {
    it("deposits and withdraws long option tokens; a flow cannot create or touch a short", async function () {
      const long = still(healthy, market);
      long.instrumentFlows[1] = -1n * QTY; // the healthy example holds +2 puts
      await witness(settle(long));
      const tooMuch = still(healthy, market);
      tooMuch.instrumentFlows[1] = -3n * QTY; // +2 - 3 = -1: a short out of nothing
      assert.ok(checkTransition(settle(tooMuch), market, policy).violations.some((v) => v.rule === "instrument"));
      await rejects(settle(tooMuch));
      const short = still(healthy, market);
      short.instrumentFlows[0] = 1n * QTY; // -4 calls: a written position, not token-backed
      await rejects(settle(short));
    });
  });

  describe("keepers", function () {
    it("forced (keeper) transitions only of positions below the trigger", async function () {
      const floor = slippageFloor(WETH, E18, USDC, market, policy);
      const rescue = still(atRisk, market);
      rescue.swaps.push({ sell: WETH, buy: USDC, amountIn: 2n * E18, minOut: 2n * floor });
      rescue.debtDelta[USDC] = -5_000n * USD;
      rescue.debtAssets[USDC] = 5_000n * USD;
      const settled = { ...settle(rescue), forced: true };
      // Whatever the policy says of the rescued position, the circuit agrees with the model.
      if (checkTransition(settled, market, policy).valid) await witness(settled);
      else await rejects(settled);
      const tidy = deposit(still(healthy, market), USDC, 1_000n * USD);
      await witness(tidy);
      await rejects({ ...tidy, forced: true }); // HF 3.8 >= 1.25: no keeper may force it
    });

    it("the trigger health factor is in (0, 100] in-circuit, the parser's bound: 100 passes; 100.0001 and 0 break only its range check", async function () {
      const tidy = deposit(still(healthy, market), USDC, 1_000n * USD);
      const withTrigger = (trigger: bigint): Policy => ({ ...policy, trigger: { healthFactor: trigger } });
      const withTriggerInput = (trigger: bigint) => inputOf(tidy, market, withTrigger(trigger));
      await circuit.witness(withTriggerInput(1_000_000n));
      await circuit.witness(withTriggerInput(1n));
      const lenient = await LenientWitness.load(artifacts, withTriggerInput(12_500n), (i) => circuit.witness(i));
      for (const [trigger, side] of [
        [1_000_001n, "below"],
        [0n, "above"],
      ] as const) {
        await assert.rejects(circuit.witness(withTriggerInput(trigger)), UnprovableError, `trigger ${trigger}`);
        // The circuit's own witness for it (policyHash over the value) violates only that bound's bits.
        const forged = await lenient.calculate(withTriggerInput(trigger));
        const mine = new Set(
          Array.from({ length: 20 }, (_, k) => `main.triggerRange.${side}.bits.out[${k}]`).flatMap((name) => {
            try {
              return [circuit.index(name)];
            } catch {
              return []; // optimised away
            }
          }),
        );
        const violated = circuit.violated(forged);
        assert.ok(
          violated.length > 0 && violated.every((c) => circuit.r1cs.constraints[c]!.some((lc) => Object.keys(lc).some((i) => mine.has(Number(i))))),
          `trigger ${trigger}: only triggerRange.${side}`,
        );
      }
    });

    it("a keeper restores the position to at least the trigger, keeps the owner's salt, and nothing else passes", async function () {
      // at-risk: HF 1.1905 < trigger 1.25. Repaying 6,000 USDC of its 18,500 from collateral
      // bought with 3 WETH restores it; 1,000 does not.
      const repayWith = (usdc: bigint): Transition => {
        const t = still(atRisk, market);
        t.next.salt = atRisk.salt;
        t.forced = true;
        t.swaps.push({ sell: WETH, buy: USDC, amountIn: 3n * E18, minOut: slippageFloor(WETH, 3n * E18, USDC, market, policy) });
        t.debtDelta[USDC] = -usdc * USD;
        t.debtAssets[USDC] = usdc * USD;
        return settle(t);
      };
      const restored = repayWith(6_000n);
      const model = checkTransition(restored, market, policy);
      const hfAfter = checkPosition(restored.next, market, policy).healthFactor;
      assert.ok(hfAfter.numerator >= policy.trigger.healthFactor * hfAfter.denominator, "the repayment restores the trigger");
      if (model.valid) await witness(restored);
      else await rejects(restored); // the policy's other checks may still fail; the circuit agrees with the model
      const short = repayWith(1_000n);
      assert.ok(checkTransition(short, market, policy).violations.some((v) => /at or above the trigger/.test(v.message)));
      await rejects(short);
      // A new salt would lock the owner out of the new commitment.
      const resalted = { ...restored, next: { ...restored.next, salt: atRisk.salt! + 1n } };
      assert.ok(checkTransition(resalted, market, policy).violations.some((v) => /keeps the position's salt/.test(v.message)));
      await rejects(resalted);
    });
  });

  describe("liquidation (a keeper's, docs/enforcement.md)", function () {
    const LIQUIDATOR = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC";
    const BPS = 500n; // 5 %
    /** An owner's position (nonce 3, its own salt) built from whole-token holdings. */
    const holding = (collateral: Record<string, bigint>, debt: Record<string, bigint>): Position => ({ ...positionOf(market, { collateral, debt }), nonce: 3n, salt: 0x5a17n });

    interface Plan {
      sell?: SwapLeg[];
      /** Debt units repaid per asset (index 1: debtAssets = units, as the lender's ceil). */
      repay: [number, bigint][];
      /** Base units of the bonus per asset, or where to take the whole allowance (at the cap). */
      bonus: bigint[] | { capIn: number; extra?: bigint };
      urgent?: boolean;
      bps?: bigint;
    }

    /** The liquidation of `old` by `plan`, P' settled from the movements and the bonus (salt kept). */
    function liquidate(old: Position, plan: Plan): Transition {
      const t: Transition = { ...still(old, market), next: { ...old } };
      t.swaps.push(...(plan.sell ?? []));
      for (const [i, units] of plan.repay) {
        t.debtDelta[i] = -units;
        t.debtAssets[i] = units;
      }
      const bps = plan.bps ?? BPS;
      let bonus: bigint[];
      if (Array.isArray(plan.bonus)) bonus = plan.bonus;
      else {
        const at = plan.bonus.capIn;
        bonus = [0n, 0n, 0n];
        bonus[at] = (bps * repaidValue(t, market)) / (BPS_SCALE * swapValue(1n, market.assets[at]!)) + (plan.bonus.extra ?? 0n);
      }
      t.liquidation = { liquidator: LIQUIDATOR, bonusBps: bps, bonus, urgent: plan.urgent ?? false };
      return { ...t, next: { ...applyMovements(old, t), salt: old.salt } };
    }
    const rules = (t: Transition, p = policy) => checkTransition(t, market, p).violations.map((v) => v.rule);
    const sellWeth = (weth: bigint): SwapLeg => ({ sell: WETH, buy: USDC, amountIn: weth * E18, minOut: slippageFloor(WETH, weth * E18, USDC, market, policy) });
    const hf = (p: Position) => checkPosition(p, market, policy).healthFactor;

    // Forged witnesses: the circuit's own witness for an input it refuses (assertions off, loaded
    // once), and which constraints it breaks, so a test shows the constraint it is named after is
    // the only defence (removing it would turn the test red).
    let lenient: LenientWitness | undefined;
    const lenientWitness = async (input: CircuitSignals): Promise<bigint[]> => {
      lenient ??= await LenientWitness.load(artifacts, inputOf(liquidate(slow, slowPlan())), (i) => circuit.witness(i));
      return lenient.calculate(input);
    };
    const indices = (names: string[]): Set<number> =>
      new Set(
        names.flatMap((name) => {
          try {
            return [circuit.index(name)];
          } catch {
            return []; // optimised away
          }
        }),
      );
    const involves = (c: number, mine: Set<number>): boolean => circuit.r1cs.constraints[c]!.some((lc) => Object.keys(lc).some((i) => mine.has(Number(i))));
    /** Every violated constraint involves one of `names` (a check's bits), and some is violated. */
    const onlyBits = (forged: bigint[], names: string[], what: string) => {
      const mine = indices(names);
      const violated = circuit.violated(forged);
      assert.ok(mine.size > 0 && violated.length > 0, `${what}: violated`);
      assert.ok(
        violated.every((c) => involves(c, mine)),
        `${what}: only its range check`,
      );
    };
    /** Exactly one constraint is violated, and it involves every one of `names`. */
    const exactlyOne = (forged: bigint[], names: string[], what: string) => {
      const violated = circuit.violated(forged);
      assert.equal(violated.length, 1, `${what}: ${violated.length} constraints violated`);
      for (const name of names) assert.ok(involves(violated[0]!, indices([name])), `${what}: the violated constraint involves ${name}`);
    };
    const bits = (prefix: string, n: number) => Array.from({ length: n }, (_, k) => `main.${prefix}.bits.out[${k}]`);

    // HF 1.0662: below the trigger (1.25), not below 1.0. Selling 4 WETH and repaying 24,000 USDC
    // leaves it passing every check at HF 1.3144, at or above the trigger as a liquidation that
    // leaves debt must (20,000 would leave it at 1.2377).
    let slow: Position;
    // HF 0.9659: urgent. Repaying 38,000 USDC from its own USDC leaves it passing at HF 1.2956.
    let underwater: Position;
    before(function () {
      slow = holding({ WETH: 10n * E18, USDC: 20_000n * USD }, { USDC: 40_000n * USD });
      underwater = holding({ WETH: 2n * E18, USDC: 40_000n * USD }, { USDC: 42_000n * USD });
    });
    const slowPlan = (): Plan => ({ sell: [sellWeth(4n)], repay: [[USDC, 24_000n * USD]], bonus: { capIn: WETH } });

    it("proves a liquidation below the trigger: swaps, repayments, the bonus to the liquidator, P' passing with the owner's salt", async function () {
      assert.ok(hf(slow).value! >= BPS_SCALE && hf(slow).value! < policy.trigger.healthFactor);
      const t = liquidate(slow, slowPlan());
      assert.deepEqual(rules(t), []);
      assert.ok(t.liquidation!.bonus[WETH]! > 0n);
      assert.equal(t.next.collateral[WETH], slow.collateral[WETH]! - 4n * E18 - t.liquidation!.bonus[WETH]!);
      assert.ok(hf(t.next).value! >= policy.trigger.healthFactor, "P' at or above the trigger");
      const w = await witness(t);
      assert.deepEqual(circuit.violated(w), []);
      assert.equal(signal(w, "liquidation"), 1n);
      assert.equal(signal(w, "urgent"), 0n);
      assert.equal(signal(w, "liquidator"), BigInt(LIQUIDATOR));
      assert.equal(signal(w, "liquidationBonus"), BPS);
      assert.equal(signal(w, "bonus[0]"), t.liquidation!.bonus[WETH]);
      assert.equal(signal(w, "newCommitment"), commitPosition(t.next, slow.salt!, LAYOUT));
    });

    it("proves an urgent liquidation (HF below 1.0) repaid from the position's own collateral", async function () {
      assert.ok(hf(underwater).value! < BPS_SCALE);
      const t = liquidate(underwater, { repay: [[USDC, 38_000n * USD]], bonus: { capIn: WETH }, urgent: true });
      assert.deepEqual(rules(t), []);
      const w = await witness(t);
      assert.equal(signal(w, "urgent"), 1n);
      // 5 % of 38,000 USDC, in WETH at the oracle's price (rounded down).
      assert.equal(signal(w, "bonus[0]"), (1_900n * USD * swapValue(1n, market.assets[USDC]!)) / swapValue(1n, market.assets[WETH]!));
    });

    it("the bonus cap: exactly liquidationBonus of the repaid value passes, one base unit more is refused by the mirror and the circuit", async function () {
      const plan = { ...slowPlan(), bonus: { capIn: USDC } };
      const atCap = liquidate(slow, plan);
      // 5 % of 24,000 USDC at the same unit value: exactly 1,200 USDC, no rounding.
      assert.equal(atCap.liquidation!.bonus[USDC], 1_200n * USD);
      await witness(atCap);
      const over = liquidate(slow, { ...plan, bonus: { capIn: USDC, extra: 1n } });
      assert.deepEqual(rules(over), ["bonus"]);
      await rejects(over);
      // Without a repayment there is nothing to take a bonus on.
      const none = liquidate(slow, { sell: [sellWeth(1n)], repay: [], bonus: [0n, 0n, 1n] });
      assert.ok(rules(none).includes("bonus"));
      await rejects(none);
    });

    it("the repayment may charge at most one base unit more than the debt it removes (an inflated charge would inflate the bonus)", async function () {
      const inflate = (extra: bigint): Transition => {
        const t = liquidate(slow, slowPlan());
        const inflated = { ...t, debtAssets: t.debtAssets.map((a, i) => (i === USDC ? a + extra : a)) };
        const bonus = [0n, 0n, (BPS * repaidValue(inflated, market)) / (BPS_SCALE * swapValue(1n, market.assets[USDC]!))];
        return settle({ ...inflated, liquidation: { ...t.liquidation!, bonus } });
      };
      await witness(inflate(1n));
      const over = inflate(2n);
      assert.deepEqual(rules(over), ["bonus"]);
      await rejects(over);
      const large = inflate(5_000n * USD); // 5,000 USDC to the owner's wallet and 250 USDC more bonus
      assert.ok(rules(large).includes("bonus"));
      await rejects(large);
    });

    it("urgency is strict: HF exactly 1.0 is not urgent (refused), one base unit more debt is", async function () {
      // 100 USDC against 89 USDC of debt: 100 * 0.89 = 89, HF exactly 1.0000.
      const atOne = holding({ USDC: 100n * USD }, { USDC: 89n * USD });
      assert.equal(hf(atOne).numerator, BPS_SCALE * hf(atOne).denominator);
      const closeOut = (old: Position, urgent: boolean) => liquidate(old, { repay: [[USDC, old.debt[USDC]!]], bonus: { capIn: USDC }, urgent });
      await witness(closeOut(atOne, false)); // below the trigger: a (non-urgent) liquidation
      assert.deepEqual(rules(closeOut(atOne, true)), ["liquidation"]);
      await rejects(closeOut(atOne, true));
      const belowOne = holding({ USDC: 100n * USD }, { USDC: 89n * USD + 1n });
      assert.ok(hf(belowOne).numerator < BPS_SCALE * hf(belowOne).denominator);
      await witness(closeOut(belowOne, true));
    });

    it("only below the trigger: a position exactly at it, and the healthy example, cannot be liquidated", async function () {
      // 125 USDC against 89: HF exactly 1.25, the trigger; one base unit more debt is below it.
      const atTrigger = holding({ USDC: 125n * USD }, { USDC: 89n * USD });
      assert.equal(hf(atTrigger).numerator, policy.trigger.healthFactor * hf(atTrigger).denominator);
      const closeOut = (old: Position) => liquidate(old, { repay: [[USDC, old.debt[USDC]!]], bonus: { capIn: USDC } });
      assert.deepEqual(rules(closeOut(atTrigger)), ["liquidation"]);
      await rejects(closeOut(atTrigger));
      await witness(closeOut(holding({ USDC: 125n * USD }, { USDC: 89n * USD + 1n })));
      const tidy = liquidate(healthy, { repay: [[USDC, 1_000n * USD]], bonus: { capIn: USDC } });
      assert.ok(rules(tidy).includes("liquidation"));
      await rejects(tidy);
    });

    it("urgent is refused on a position at HF >= 1.0", async function () {
      const t = liquidate(slow, { ...slowPlan(), urgent: true });
      assert.deepEqual(rules(t), ["liquidation"]);
      await rejects(t);
    });

    it("no wallet flow, no option-token flow, no borrow, and the owner's salt is kept", async function () {
      const withFlow = settle({ ...liquidate(slow, slowPlan()), flows: [0n, 0n, -100n * USD] }); // 100 USDC to the wallet
      assert.ok(rules(withFlow).includes("liquidation"));
      await rejects(withFlow);
      const deposit = settle({ ...liquidate(slow, slowPlan()), flows: [0n, 0n, 100n * USD] });
      assert.ok(rules(deposit).includes("liquidation"));
      await rejects(deposit);
      // A borrow of one unit with debtAssets 0: nothing but the no-borrow rule refuses it (a borrow
      // with debtAssets would also break the repayment cap).
      const borrow = liquidate(slow, slowPlan());
      borrow.debtDelta[WBTC] = 1n;
      const borrowed = settle(borrow);
      assert.deepEqual(rules(borrowed), ["liquidation"]);
      await rejects(borrowed);
      exactlyOne(await lenientWitness(inputOf(borrowed)), ["main.liquidationBorrow[1]"], "a borrow of one unit");
      const long = holding({ WETH: 10n * E18, USDC: 20_000n * USD }, { USDC: 40_000n * USD });
      long.quantities[1] = 2n * QTY;
      const optionOut = settle({ ...liquidate(long, slowPlan()), instrumentFlows: [0n, -QTY, 0n] });
      assert.ok(rules(optionOut).includes("liquidation"));
      await rejects(optionOut);
      const t = liquidate(slow, slowPlan());
      const resalted = { ...t, next: { ...t.next, salt: slow.salt! + 1n } };
      assert.deepEqual(rules(resalted), ["liquidation"]);
      await rejects(resalted);
    });

    it("P' must pass while debt remains; a liquidation that repays all of it closes the position and needs no check (a minimum equity it misses)", async function () {
      const strict = { ...policy, stress: { minEquity: 1_000n * 10n ** 8n } }; // 1,000 USD
      const old = holding({ USDC: 100n * USD }, { USDC: 89n * USD + 1n });
      const inputFor = (t: Transition) => inputOf(t, market, strict);
      const closed = liquidate(old, { repay: [[USDC, old.debt[USDC]!]], bonus: { capIn: USDC } });
      assert.ok(!checkPosition(closed.next, market, strict).pass, "P' misses the minimum equity");
      assert.deepEqual(checkTransition(closed, market, strict).violations, []);
      const w = await circuit.witness(inputFor(closed));
      assert.deepEqual(circuit.violated(w), []);
      const partial = liquidate(old, { repay: [[USDC, 80n * USD]], bonus: { capIn: USDC } });
      assert.deepEqual(
        checkTransition(partial, market, strict).violations.map((v) => v.rule),
        ["checks"],
      );
      await assert.rejects(circuit.witness(inputFor(partial)), UnprovableError);
      // Under the example policy too: repaying 2,000 USDC leaves slow below the minimum health factor.
      const short = liquidate(slow, { repay: [[USDC, 2_000n * USD]], bonus: { capIn: USDC } });
      assert.deepEqual(rules(short), ["checks", "trigger"]);
      await rejects(short);
    });

    it("the terms are zero outside a liquidation: a bonus, a liquidator, a rate or urgent without liquidation = 1 each breaks exactly its own constraint", async function () {
      const t = liquidate(slow, slowPlan());
      const input = inputOf(t) as Record<string, unknown>;
      const plain = { ...input, liquidation: 0n, urgent: 0n };
      await assert.rejects(circuit.witness(plain as CircuitSignals), UnprovableError, "bonus, liquidator and rate without liquidation");
      const tidy = inputOf(deposit(still(healthy, market), USDC, 1_000n * USD)) as Record<string, unknown>;
      await circuit.witness(tidy as CircuitSignals);
      const alone = async (what: string, forged: Record<string, unknown>, names: string[]) => {
        await assert.rejects(circuit.witness(forged as CircuitSignals), UnprovableError, what);
        exactlyOne(await lenientWitness(forged as CircuitSignals), names, what);
      };
      await alone("a liquidator alone", { ...tidy, liquidator: BigInt(LIQUIDATOR) }, ["main.liquidator", "main.liquidation"]);
      // A rate without a bonus: the bonus bound holds (0 <= rate * 0), only the rate's term breaks.
      await alone("a rate alone", { ...tidy, liquidationBonus: BPS }, ["main.liquidationBonus", "main.liquidation"]);
      // urgent on an owner's rebalance of a position below 1.0 (20,000 USDC deposited restore it):
      // the urgency margin holds, only urgent * (1 - liquidation) breaks.
      assert.ok(hf(underwater).value! < BPS_SCALE);
      const rescue = inputOf(deposit(still(underwater, market), USDC, 20_000n * USD)) as Record<string, unknown>;
      await circuit.witness(rescue as CircuitSignals);
      await alone("urgent alone", { ...rescue, urgent: 1n }, ["main.urgent", "main.liquidation"]);
      // A bonus alone must not break the bonus bound too (rate 0 allows nothing), so it is paid in an
      // asset worth 0 at the oracle: WBTC at price 0 (the parser refuses it; a test device only).
      // The owner deposits 1,000 satoshi that the "bonus" takes straight out again: conservation holds,
      // the bound holds (0 <= 0), and only bonus[1] * (1 - liquidation) breaks.
      const freeWbtc = withMarket(market, (m) => (m.assets[WBTC]!.price = 0n));
      const paid = deposit(still(healthy, freeWbtc), WBTC, 1_000n);
      const drained = { ...paid, next: { ...paid.next, collateral: paid.next.collateral.map((c, i) => (i === WBTC ? c - 1_000n : c)) } };
      const bonusAlone = { ...(inputOf(drained, freeWbtc) as Record<string, unknown>), bonus: [0n, 1_000n, 0n] };
      await alone("a bonus alone", bonusAlone, ["main.bonus[1]", "main.liquidation"]);
      // ... and a liquidation is neither a forced rebalance nor a registration.
      assert.ok(rules({ ...t, forced: true }).includes("liquidation"));
      await rejects({ ...t, forced: true });
    });

    it("the Solvency bit that lets a closing liquidation skip the checks of P' cannot be an instance's (its prover could skip them)", function () {
      const config = JSON.parse(readFileSync(INSTANCES_FILE, "utf8")) as { instances: Record<string, { params: number[] }> };
      config.instances["solvency-3x3x16"]!.params[3] = 15 | SOLVENCY_CHECKS_GATED;
      const dir = mkdtempSync(path.join(tmpdir(), "zks-instances-"));
      try {
        const file = path.join(dir, "instances.json");
        writeFileSync(file, JSON.stringify(config));
        assert.throws(
          () => loadInstances(file),
          (e: unknown) => e instanceof SetupError && /instances\.solvency-3x3x16\.params\[3\]: bit 4/.test(e.message),
        );
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
      assert.ok(
        loadInstances().some((i) => i.template === "Solvency"),
        "the shipped config loads",
      );
    });

    it("forged witnesses where a range check is the only defence: a negative bonus, a rate above 100 %", async function () {
      // A "bonus" of -1,000 USDC (p - 10^9) credits the position: conservation and the cap (a
      // negative bonus value) both hold over the field; only its 96-bit range stands in the way.
      const negative = liquidate(slow, { ...slowPlan(), bonus: [0n, 0n, -1_000n * USD] });
      assert.equal(negative.next.collateral[USDC], slow.collateral[USDC]! + 1_000n * USD + slowPlan().sell![0]!.minOut - 24_000n * USD);
      assert.ok(rules(negative).includes("range"));
      await rejects(negative);
      onlyBits(await lenientWitness(inputOf(negative)), bits("bonusRanges[2]", 96), "bonus -1,000 USDC");
      // A rate of 100.01 %: a bonus worth more than was repaid, within that rate's cap. (Closing a
      // position whose WETH barely counts, so P' needs no check and nothing else fails.)
      const lowWeth = withMarket(market, (m) => (m.assets[WETH]!.liquidationThreshold = 1n));
      const dusty = holding({ USDC: 100n * USD, WETH: 5n * 10n ** 16n }, { USDC: 89n * USD + 1n });
      const greedy = liquidate(dusty, { repay: [[USDC, dusty.debt[USDC]!]], bonus: { capIn: WETH }, bps: 10_001n });
      assert.ok(swapValue(greedy.liquidation!.bonus[WETH]!, market.assets[WETH]!) > repaidValue(greedy, market), "more than was repaid");
      assert.deepEqual(
        checkTransition(greedy, lowWeth, policy).violations.map((v) => v.rule),
        ["bonus"],
      );
      await assert.rejects(circuit.witness(inputOf(greedy, lowWeth)), UnprovableError);
      onlyBits(await lenientWitness(inputOf(greedy, lowWeth)), bits("bonusRateRange.below", 14), "liquidationBonus 10001");
    });

    describe("the swaps serve the repayment (no churn at the slippage floor)", function () {
      // 10 WETH + 20,000 USDC against 35,000 USDC: HF 1.2186, below the trigger, passing every check.
      let churnable: Position;
      before(function () {
        churnable = holding({ WETH: 10n * E18, USDC: 20_000n * USD }, { USDC: 35_000n * USD });
      });
      /** Sells `weth` for USDC at the floor, then (round trip) all of that USDC back for WETH at the floor. */
      const roundTrip = (weth: bigint): SwapLeg[] => {
        const out = slippageFloor(WETH, weth, USDC, market, policy);
        return [
          { sell: WETH, buy: USDC, amountIn: weth, minOut: out },
          { sell: USDC, buy: WETH, amountIn: out, minOut: slippageFloor(USDC, out, WETH, market, policy) },
        ];
      };
      const churnRule = (t: Transition) =>
        checkTransition(t, market, policy)
          .violations.filter((v) => v.rule === "liquidation")
          .map((v) => v.message);

      it("a liquidation that repays nothing (8 WETH sold at the floor, no repayment, no bonus) is refused", async function () {
        const t = liquidate(churnable, { sell: [sellWeth(8n)], repay: [], bonus: [0n, 0n, 0n] });
        assert.ok(hf(t.next).value! >= policy.trigger.healthFactor, "it even restores the trigger");
        const messages = churnRule(t);
        assert.ok(
          messages.some((m) => /repays nothing/.test(m)) && messages.some((m) => /USDC: the swaps bring in/.test(m)) && messages.some((m) => /sell more than 2 times/.test(m)),
          messages.join("; "),
        );
        await rejects(t);
      });

      it("a WETH -> USDC -> WETH round trip at the floor, repaying nothing, is refused", async function () {
        const t = liquidate(churnable, { sell: roundTrip(8n * E18), repay: [], bonus: [0n, 0n, 0n] });
        assert.ok(t.next.collateral[WETH]! < churnable.collateral[WETH]!, "the owner loses the slippage");
        assert.ok(churnRule(t).length > 0);
        await rejects(t);
      });

      it("forged witness: a falling debt charged 0 (nothing repaid) breaks only nothingRepaid", async function () {
        // The gate's lender would revert a repayment charged 0; in the circuit only (i) stands.
        const t = liquidate(slow, { repay: [], bonus: [0n, 0n, 0n] });
        const free = settle({ ...t, debtDelta: [0n, 0n, -24_000n * USD] });
        assert.ok(hf(free.next).value! >= policy.trigger.healthFactor);
        assert.deepEqual(rules(free), ["liquidation"]);
        assert.match(churnRule(free)[0]!, /repays nothing/);
        await rejects(free);
        onlyBits(await lenientWitness(inputOf(free)), ["main.nothingRepaid.out", "main.nothingRepaid.inv"], "nothing repaid");
      });

      it("forged witness: swaps that bring in more USDC than the repayment takes break only buyCap", async function () {
        // 9 WETH sold for 26,974 USDC at the floor, 26,000 repaid: P' restored, churn within bounds.
        const t = liquidate(slow, { sell: [sellWeth(9n)], repay: [[USDC, 26_000n * USD]], bonus: { capIn: WETH } });
        assert.ok(hf(t.next).value! >= policy.trigger.healthFactor);
        assert.deepEqual(rules(t), ["liquidation"]);
        assert.match(churnRule(t)[0]!, /USDC: the swaps bring in 26974687782 base units net but the repayment takes 26000000000/);
        await rejects(t);
        onlyBits(await lenientWitness(inputOf(t)), bits("buyCap[2]", 98), "buyCap USDC");
        // The same sale with the surplus forwarded to the owner (minOut = what is repaid) passes.
        const capped = liquidate(slow, { sell: [{ ...sellWeth(9n), minOut: 26_000n * USD }], repay: [[USDC, 26_000n * USD]], bonus: { capIn: WETH } });
        assert.ok(rules(capped).includes("slippage"), "minOut below the floor is no way around it");
      });

      it("forged witness: a round trip bigger than twice the repayment breaks only the churn bound", async function () {
        // 10 WETH + 30,000 USDC against 45,000 (HF 1.1455); 25,000 repaid from its own USDC restores
        // it, and a 9 WETH round trip beside it nets nothing per asset: only (iii) refuses it.
        const old = holding({ WETH: 10n * E18, USDC: 30_000n * USD }, { USDC: 45_000n * USD });
        const t = liquidate(old, { sell: roundTrip(9n * E18), repay: [[USDC, 25_000n * USD]], bonus: { capIn: WETH } });
        assert.deepEqual(rules(t), ["liquidation"]);
        assert.match(churnRule(t)[0]!, /sell more than 2 times the repaid value/);
        await rejects(t);
        onlyBits(await lenientWitness(inputOf(t)), bits("churn", 243), "churn");
        // A 3 WETH round trip (about 2 * 9,000 USD sold against 25,000 repaid) is within the bound.
        const small = liquidate(old, { sell: roundTrip(3n * E18), repay: [[USDC, 25_000n * USD]], bonus: { capIn: WETH } });
        assert.deepEqual(rules(small), []);
        await witness(small);
      });
    });

    it("a liquidation that leaves P' with debt below the trigger is refused (it could be flagged again at once)", async function () {
      // Selling 4 WETH and repaying 20,000 USDC leaves slow passing every check at HF 1.2377 < 1.25.
      const t = liquidate(slow, { sell: [sellWeth(4n)], repay: [[USDC, 20_000n * USD]], bonus: { capIn: WETH } });
      assert.ok(checkPosition(t.next, market, policy).pass && hf(t.next).value! < policy.trigger.healthFactor);
      assert.deepEqual(rules(t), ["trigger"]);
      await rejects(t);
      onlyBits(await lenientWitness(inputOf(t)), bits("restored.holds", log2ceil(3 * 2 ** 80 * 10_000)), "restored");
    });

    it("a closed liquidation under a covariance that is not PSD for P' (the model throws) is accepted by the mirror and the circuit: checks off", async function () {
      // 0.001 WETH + 100 USDC against 89.000001 USDC (HF 1.03): the close repays it all from USDC
      // and pays the WETH as the bonus, leaving only USDC, whose variance is made negative here.
      const old = holding({ WETH: 10n ** 15n, USDC: 100n * USD }, { USDC: 89n * USD + 1n });
      const bent = withMarket(market, (m) => (m.covariance.matrix[USDC]![USDC] = -m.covariance.matrix[USDC]![USDC]!));
      const t = liquidate(old, { repay: [[USDC, old.debt[USDC]!]], bonus: [10n ** 15n, 0n, 0n] });
      checkPosition(old, bent, policy); // P's own form is positive
      assert.throws(() => checkPosition(t.next, bent, policy), /not positive semidefinite/);
      assert.deepEqual(checkTransition(t, bent, policy).violations, []);
      const w = await circuit.witness(inputOf(t, bent));
      assert.deepEqual(circuit.violated(w), []);
      // A P whose own form is negative too (only USDC exposure): its belowTrigger needs only values,
      // so the mirror does not refuse it for a model error the circuit never meets.
      const onlyUsdc = holding({ USDC: 100n * USD }, { USDC: 89n * USD + 1n });
      assert.throws(() => checkPosition(onlyUsdc, bent, policy), /not positive semidefinite/);
      const close = liquidate(onlyUsdc, { repay: [[USDC, onlyUsdc.debt[USDC]!]], bonus: { capIn: USDC } });
      assert.deepEqual(checkTransition(close, bent, policy).violations, []);
      assert.deepEqual(circuit.violated(await circuit.witness(inputOf(close, bent))), []);
      // With one unit of debt left the checks are on, and the mirror reports what the model cannot do.
      const open = liquidate(old, { repay: [[USDC, old.debt[USDC]! - 1n]], bonus: [10n ** 15n, 0n, 0n] });
      assert.ok(checkTransition(open, bent, policy).violations.some((v) => v.rule === "checks" && /cannot be evaluated/.test(v.message)));
    });

    it("differential (fast-check): the circuit accepts a random liquidation exactly when checkTransition does", async function () {
      this.timeout(300_000);
      let accepted = 0;
      let runs = 0;
      // Each base has a liquidation the model accepts; the property perturbs it (amounts, bonus
      // around its cap, rate, urgency, a forbidden movement, the salt).
      const bases: [Position, Plan][] = [
        [slow, slowPlan()],
        [underwater, { repay: [[USDC, 38_000n * USD]], bonus: { capIn: WETH } }],
        [holding({ USDC: 100n * USD }, { USDC: 89n * USD + 1n }), { repay: [[USDC, 89n * USD + 1n]], bonus: { capIn: USDC } }],
        [healthy, { repay: [[USDC, 1_000n * USD]], bonus: { capIn: USDC } }],
      ];
      await fc.assert(
        fc.asyncProperty(
          fc.record({
            which: fc.integer({ min: 0, max: bases.length - 1 }),
            repayQuarters: fc.constantFrom(2n, 4n, 4n, 4n, 5n),
            bonusAsset: fc.constantFrom(WETH, USDC, undefined),
            bonusDelta: fc.constantFrom(-1n, 0n, 0n, 1n),
            bps: fc.constantFrom(0n, 500n, 500n, 500n, 2_000n),
            urgent: fc.constantFrom(false, false, false, true),
            tweak: fc.constantFrom("none", "none", "none", "none", "none", "none", "flow", "borrow", "overcharge", "salt"),
          }),
          async (c) => {
            const [old, plan] = bases[c.which]!;
            const repay = plan.repay.map(([i, units]): [number, bigint] => [i, (units * c.repayQuarters) / 4n]);
            const capIn = c.bonusAsset ?? (plan.bonus as { capIn: number }).capIn;
            let t = liquidate(old, { ...plan, repay, bonus: { capIn, extra: c.bonusDelta }, bps: c.bps, urgent: c.urgent });
            if (t.liquidation!.bonus[capIn]! < 0n) t = liquidate(old, { ...plan, repay, bonus: [0n, 0n, 0n], bps: c.bps, urgent: c.urgent });
            if (c.tweak === "flow") t = settle({ ...t, flows: [0n, 0n, 1n] });
            if (c.tweak === "borrow") t = settle({ ...t, debtDelta: [1n, 0n, t.debtDelta[USDC]!], debtAssets: [1n, 0n, t.debtAssets[USDC]!] });
            if (c.tweak === "overcharge") t = settle({ ...t, debtAssets: t.debtAssets.map((a, i) => (i === USDC ? a + 2n : a)) });
            if (c.tweak === "salt") t = { ...t, next: { ...t.next, salt: t.next.salt! + 1n } };
            const model = checkTransition(t, market, policy);
            const proven = await witness(t).then(
              () => true,
              (error: unknown) => {
                if (error instanceof UnprovableError) return false;
                throw error;
              },
            );
            runs++;
            if (proven) accepted++;
            assert.equal(proven, model.valid, `model: ${JSON.stringify(model.violations)}`);
          },
        ),
        { numRuns: 20, seed: 18 },
      );
      assert.ok(accepted > 0 && accepted < runs, `both outcomes occur (${accepted}/${runs} accepted)`);
    });
  });

  it("forged witnesses (a flow's sign flipped, a keeper flag on a healthy position, another nonce) violate the constraints", async function () {
    const honest = await witness(deposit(still(atRisk, market), USDC, 20_000n * USD));
    const forged = [...honest];
    const flow = circuit.index("main.flow[2]");
    forged[flow] = toField(-forged[flow]!);
    assert.ok(circuit.violated(forged).length > 0);
    const tidy = await witness(deposit(still(healthy, market), USDC, 1_000n * USD));
    const forced = [...tidy];
    forced[circuit.index("main.forced")] = 1n;
    assert.ok(circuit.violated(forced).length > 0);
    const nonce = [...honest];
    nonce[circuit.index("main.nonce")] = (nonce[circuit.index("main.nonce")]! + 1n) % SNARK_FIELD;
    assert.ok(circuit.violated(nonce).length > 0);
  });

  it("10^18 / scale needs no range check of its own: AssetsDigest proves each scale a power of ten, so the product pins the factor", async function () {
    const honest = await witness(deposit(still(healthy, market), USDC, 1_000n * USD));
    const [scale, factor] = [circuit.index("main.scale[1]"), circuit.index("main.scaleFactor[1]")];
    assert.equal(honest[factor], 10n ** 10n); // WBTC: 8 decimals
    // Any other factor breaks scaleFactor * scale = 10^18 (scale is nonzero: the field solution is unique).
    for (const forgedFactor of [honest[factor]! + 1n, SNARK_FIELD - 1n]) {
      const forged = [...honest];
      forged[factor] = forgedFactor;
      assert.ok(circuit.violated(forged).length > 0, `factor ${forgedFactor}`);
    }
    // A scale of 2 divides 10^18 (factor 5e17 satisfies the product), but it is no power of ten:
    // AssetsDigest's selector (scale = sum_d power[d] * 10^d, one power set) is among the violated constraints.
    const forged = [...honest];
    forged[scale] = 2n;
    forged[factor] = 5n * 10n ** 17n;
    const selector = new Set<number>();
    for (let d = 0; d <= 18; d++) {
      try {
        selector.add(circuit.index(`main.next.assets.power[1][${d}]`));
      } catch {
        // optimised away
      }
    }
    assert.ok(selector.size > 0);
    const violated = circuit.violated(forged);
    assert.ok(
      violated.some((c) => circuit.r1cs.constraints[c]!.some((lc) => Object.keys(lc).some((i) => selector.has(Number(i))))),
      "the power-of-ten selector is violated",
    );
  });

  it("differential: the circuit accepts a random transition exactly when the TypeScript model does", async function () {
    this.timeout(300_000);
    const random = mulberry32(16);
    const pick = (n: number) => Math.floor(random() * n);
    const amount = (scale: bigint) => (BigInt(Math.floor(random() * 1_000_000)) * scale) / 100_000n;
    const scales = [E18, 10n ** 8n, USD];
    let accepted = 0;
    for (let n = 0; n < 24; n++) {
      const t = still(random() < 0.5 ? healthy : atRisk, market);
      const a = pick(3);
      switch (pick(5)) {
        case 0:
          t.flows[a] = amount(scales[a]!);
          break;
        case 1:
          t.flows[a] = -amount(scales[a]!);
          break;
        case 2: {
          const b = (a + 1 + pick(2)) % 3;
          const amountIn = amount(scales[a]!) + 1n;
          const floor = slippageFloor(a, amountIn, b, market, policy);
          t.swaps.push({ sell: a, buy: b, amountIn, minOut: floor + BigInt(pick(3)) - 1n });
          break;
        }
        case 3:
          t.debtDelta[a] = amount(scales[a]!) + 1n;
          t.debtAssets[a] = t.debtDelta[a]! - BigInt(pick(2));
          break;
        default:
          t.debtDelta[a] = -(amount(scales[a]!) + 1n);
          t.debtAssets[a] = -t.debtDelta[a]! + BigInt(pick(2));
      }
      const settled = settle(t);
      const model = checkTransition(settled, market, policy);
      const proven = await witness(settled).then(
        () => true,
        (error: unknown) => {
          if (error instanceof UnprovableError) return false;
          throw error;
        },
      );
      assert.equal(proven, model.valid, `case ${n}: model ${JSON.stringify(model.violations)}`);
      if (proven) accepted++;
    }
    assert.ok(accepted > 3 && accepted < 24, `both outcomes occur (${accepted}/24 accepted)`);
  });

  it("end to end: a real proof verifies with snarkjs and on-chain; a tampered swap minOut is rejected by both", async function () {
    const floor = slippageFloor(WETH, 2n * E18, USDC, market, policy);
    const t = swap(deposit(still(atRisk, market), USDC, 20_000n * USD), { sell: WETH, buy: USDC, amountIn: 2n * E18, minOut: floor });
    const zkProof = await generateProof(inputOf(t), artifacts);
    assert.equal(await verifyProof(artifacts.verificationKey, zkProof), true);
    const index = artifacts.manifest.publicSignals.indexOf("swapMinOut[0]");
    const signals = [...zkProof.publicSignals];
    signals[index] = (BigInt(signals[index]!) + 1n).toString();
    const tampered = { ...zkProof, publicSignals: signals };
    assert.equal(await verifyProof(artifacts.verificationKey, tampered), false);

    const { ethers } = await network.connect();
    const verifier = (await ethers.deployContract(artifacts.manifest.verifierContract!)).getFunction("verifyProof");
    const good = toSolidityProof(zkProof);
    assert.equal(await verifier(good.a, good.b, good.c, good.input), true);
    const bad = toSolidityProof(tampered);
    assert.equal(await verifier(bad.a, bad.b, bad.c, bad.input), false);
  });
});
