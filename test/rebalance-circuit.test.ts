/**
 * circuits/rebalance.circom under the custody model (docs/custody.md): passing, boundary,
 * failing and forged-witness cases, and a differential test against the TypeScript mirror
 * (src/rebalance/transition.ts) on random transitions.
 */
import assert from "node:assert/strict";
import { network } from "hardhat";
import { commitPosition } from "../src/commitment/position-commitment.ts";
import { SNARK_FIELD, toField } from "../src/core/field.ts";
import { mulberry32 } from "../src/core/seeded-random.ts";
import type { Market, Policy, Position } from "../src/inputs/types.ts";
import { checkPosition } from "../src/model/check.ts";
import { applyMovements, checkTransition, emptyPosition, noMovements, slippageFloor, type SwapLeg, type Transition } from "../src/rebalance/transition.ts";
import { loadInstanceArtifacts, type InstanceArtifacts } from "../src/node/artifacts.ts";
import { UnprovableError } from "../src/prover/errors.ts";
import { generateProof } from "../src/prover/prove.ts";
import { releaseProverThreads } from "../src/prover/release.ts";
import { rebalanceInput } from "../src/prover/witness/rebalance.ts";
import { toSolidityProof } from "../src/verifier/calldata.ts";
import { verifyProof } from "../src/verifier/verify.ts";
import { CircuitUnderTest } from "./helpers/circuit.ts";
import { LenientWitness } from "./helpers/lenient-witness.ts";
import { loadMarket, loadPolicy, loadPosition } from "./helpers/examples.ts";

const INSTANCE = "rebalance-3x3x16";
const LAYOUT = { nAssets: 3, nInstruments: 3, nScenarios: 16, nSwaps: 2 };
const [WETH, WBTC, USDC] = [0, 1, 2];
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

  const witness = (t: Transition, m = market) => circuit.witness(rebalanceInput(t, m, policy, LAYOUT));
  const rejects = (t: Transition, m = market) => assert.rejects(witness(t, m), UnprovableError);
  const signal = (w: bigint[], name: string) => w[circuit.index(`main.${name}`)]!;

  describe("registration from nothing", function () {
    const alice = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";

    it("proves a registration whose first commitment holds exactly its deposits and its borrow", async function () {
      const t = registration(alice, market, [[WETH, 10n * E18], [USDC, 5_000n * USD]], [USDC, 8_000n * USD]);
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
      assert.deepEqual(checkTransition(t, market, policy).violations.map((v) => v.rule), ["balance"]);
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
      assert.deepEqual(checkTransition(below, market, policy).violations.map((v) => v.rule), ["slippage"]);
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
      const inputOf = (trigger: bigint) => rebalanceInput(tidy, market, withTrigger(trigger), LAYOUT);
      await circuit.witness(inputOf(1_000_000n));
      await circuit.witness(inputOf(1n));
      const lenient = await LenientWitness.load(artifacts, inputOf(12_500n), (i) => circuit.witness(i));
      for (const [trigger, side] of [[1_000_001n, "below"], [0n, "above"]] as const) {
        await assert.rejects(circuit.witness(inputOf(trigger)), UnprovableError, `trigger ${trigger}`);
        // The circuit's own witness for it (policyHash over the value) violates only that bound's bits.
        const forged = await lenient.calculate(inputOf(trigger));
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
        assert.ok(violated.length > 0 && violated.every((c) => circuit.r1cs.constraints[c]!.some((lc) => Object.keys(lc).some((i) => mine.has(Number(i))))), `trigger ${trigger}: only triggerRange.${side}`);
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
    assert.ok(violated.some((c) => circuit.r1cs.constraints[c]!.some((lc) => Object.keys(lc).some((i) => selector.has(Number(i))))), "the power-of-ten selector is violated");
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
    const zkProof = await generateProof(rebalanceInput(t, market, policy, LAYOUT), artifacts);
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
