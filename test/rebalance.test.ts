/**
 * Rebalance building blocks (docs/rebalance.md, docs/custody.md): actions and the movements they
 * map to (flows, debt units and debt assets with index rounding, swap slots, option-token
 * flows), checkTransition rejecting forged transitions, the allowance file, the cost model and
 * the plan file (version 2).
 */
import assert from "node:assert/strict";
import { ZksError, InputError } from "../packages/sdk/src/core/errors.ts";
import { MAX_AMOUNT } from "../packages/sdk/src/core/fixed-point.ts";
import type { Market, Policy, Position } from "../packages/sdk/src/inputs/types.ts";
import { checkPosition } from "../packages/sdk/src/model/check.ts";
import {
  applyActions,
  backedTransition,
  checkTransition,
  costModel,
  GAS_PER_ACTION,
  parseAllowance,
  parsePlanFile,
  plan,
  planCost,
  planToJson,
  PROOF_VERIFICATION_GAS,
  RebalanceError,
  slippageFloor,
  swapCost,
  withinSlippage,
  worstSwap,
  type Action,
  type Plan,
} from "../packages/sdk/src/rebalance/index.ts";
import { loadMarket, loadPolicy, loadPosition } from "./helpers/examples.ts";
import { ModelError } from "../packages/sdk/src/model/errors.ts";
import { quickCheck } from "../packages/sdk/src/rebalance/quick-check.ts";
import { Random, randomMarket, randomPolicy, randomPosition } from "./helpers/model-fixtures.ts";
import { allowanceOf, EXAMPLE_ALLOWANCE } from "./helpers/rebalance-fixtures.ts";

const E18 = 10n ** 18n;
const WETH = 0;
const WBTC = 1;
const USDC = 2;
const CALL = 0;
const weth = (x: bigint): bigint => x * E18;
const usdc = (x: bigint): bigint => x * 10n ** 6n;

let market: Market;
let policy: Policy;
let atRisk: Position;
let healthy: Position;

before(() => {
  market = loadMarket("market-grid.json");
  policy = loadPolicy(market);
  atRisk = loadPosition("position-at-risk.json", market);
  healthy = loadPosition("position-healthy.json", market);
});

function throwsRebalance(run: () => unknown, fragment: RegExp): void {
  assert.throws(run, (error: unknown) => {
    assert.ok(error instanceof RebalanceError, `expected RebalanceError, got ${String(error)}`);
    assert.ok(error instanceof ZksError);
    assert.equal(error.exitCode, 2);
    assert.match(error.message, fragment);
    assert.equal(error.message.split("\n").length, 1, "one line");
    return true;
  });
}

/** The market with USDC's debt index at 1.05. */
const at105 = (m: Market): Market => ({ ...m, assets: m.assets.map((a, i) => (i === USDC ? { ...a, debtIndex: 105n * 10n ** 16n } : a)) });

describe("rebalance actions map to movements", function () {
  it("deposit and withdraw: c +- a, flow +- a", function () {
    const r = applyActions(
      healthy,
      [
        { kind: "deposit", asset: USDC, amount: usdc(2_000n) },
        { kind: "withdraw", asset: WETH, amount: weth(1n) },
      ],
      market,
    );
    assert.equal(r.position.collateral[USDC], healthy.collateral[USDC]! + usdc(2_000n));
    assert.equal(r.position.collateral[WETH], healthy.collateral[WETH]! - weth(1n));
    assert.deepEqual(r.movements.flows, [-weth(1n), 0n, usdc(2_000n)]);
    assert.deepEqual(r.movements.debtDelta, [0n, 0n, 0n]);
    assert.deepEqual(r.movements.swaps, []);
    assert.equal(r.position.nonce, healthy.nonce + 1n);
  });

  it("borrow at index 1: units = amount, the least delivery credited and withdrawn to the wallet", function () {
    const r = applyActions(healthy, [{ kind: "borrow", asset: USDC, amount: usdc(100n) }], market);
    assert.equal(r.position.debt[USDC], healthy.debt[USDC]! + usdc(100n));
    assert.equal(r.position.collateral[USDC], healthy.collateral[USDC]);
    assert.equal(r.movements.debtDelta[USDC], usdc(100n));
    assert.equal(r.movements.debtAssets[USDC], usdc(100n));
    assert.equal(r.movements.flows[USDC], -usdc(100n));
  });

  it("index 1.05: borrow units round up, the delivery counted rounds down (lender index 1 by default, or the given one)", function () {
    const m = at105(market);
    const r = applyActions(healthy, [{ kind: "borrow", asset: USDC, amount: usdc(100n) }], m);
    // ceil(100e6 / 1.05) = 95,238,096 units; the least a lender (index >= 1) delivers: 95,238,096.
    assert.equal(r.movements.debtDelta[USDC], 95_238_096n);
    assert.equal(r.movements.debtAssets[USDC], 95_238_096n);
    assert.equal(r.movements.flows[USDC], -95_238_096n);
    // The units are worth at least what was asked for: ceil(95,238,096 * 1.05) = 100,000,001 >= 100e6.
    assert.ok((95_238_096n * 105n + 99n) / 100n >= usdc(100n));
    const withLender = applyActions(healthy, [{ kind: "borrow", asset: USDC, amount: usdc(100n) }], m, { lenderIndex: [undefined, undefined, 104n * 10n ** 16n] });
    assert.equal(withLender.movements.debtAssets[USDC], (95_238_096n * 104n) / 100n);
    assert.equal(checkTransition({ old: healthy, next: r.position, forced: false, fromEmpty: false, ...r.movements }, m, policy, { checks: false }).valid, true);
  });

  it("index 1.05: repay units round down, the charge rounds up and stays <= the amount (wallet and collateral)", function () {
    const m = at105(market);
    const r = applyActions(atRisk, [{ kind: "repay", asset: USDC, amount: usdc(100n) }], m);
    // floor(100e6 / 1.05) = 95,238,095 units, charged ceil(95,238,095 * 1.05) = 100,000,000.
    assert.equal(r.movements.debtDelta[USDC], -95_238_095n);
    assert.equal(r.movements.debtAssets[USDC], usdc(100n));
    assert.equal(r.movements.flows[USDC], usdc(100n));
    assert.equal(r.position.collateral[USDC], atRisk.collateral[USDC]);
    assert.equal(r.position.debt[USDC], atRisk.debt[USDC]! - 95_238_095n);
    const odd = applyActions(atRisk, [{ kind: "repay", asset: USDC, amount: 10n }], m);
    assert.equal(odd.movements.debtDelta[USDC], -9n); // floor(10 / 1.05)
    assert.equal(odd.movements.debtAssets[USDC], 10n); // ceil(9 * 1.05) = ceil(9.45)
    const withUsdc = { ...atRisk, collateral: atRisk.collateral.map((c, i) => (i === USDC ? usdc(1_000n) : c)) };
    const fromCollateral = applyActions(withUsdc, [{ kind: "repayWithCollateral", asset: USDC, amount: 10n }], m);
    assert.deepEqual(fromCollateral.movements.flows, [0n, 0n, 0n]);
    assert.equal(fromCollateral.movements.debtAssets[USDC], 10n);
    assert.equal(fromCollateral.position.collateral[USDC], usdc(1_000n) - 10n);
    for (const [old, x] of [
      [atRisk, r],
      [atRisk, odd],
      [withUsdc, fromCollateral],
    ] as const) {
      assert.deepEqual(checkTransition({ old, next: x.position, forced: false, fromEmpty: false, ...x.movements }, m, policy, { checks: false }).violations, []);
    }
  });

  it("swap: one slot, c_sell -= amountIn, c_buy += minOut; the same pair merges", function () {
    const s = worstSwap(market, policy, WETH, weth(1n), USDC)!;
    assert.equal(s.minOut, slippageFloor(WETH, weth(1n), USDC, market, policy));
    const r = applyActions(healthy, [s, s], market, { policy });
    assert.deepEqual(r.movements.swaps, [{ sell: WETH, buy: USDC, amountIn: weth(2n), minOut: 2n * s.minOut }]);
    assert.equal(r.position.collateral[WETH], healthy.collateral[WETH]! - weth(2n));
    assert.equal(r.position.collateral[USDC], healthy.collateral[USDC]! + 2n * s.minOut);
    assert.deepEqual(r.movements.flows, [0n, 0n, 0n]);
  });

  it("the slippage floor: minOut one base unit below it is refused (with the policy), at it accepted", function () {
    const floor = slippageFloor(WETH, weth(1n), USDC, market, policy);
    // 3,012.55 USD * (1 - 0.5%) = 2,997.48725 USD of USDC at 1.0001 USD = 2,997.187531... -> 2,997.187532 USDC.
    assert.equal(withinSlippage({ sell: WETH, buy: USDC, amountIn: weth(1n), minOut: floor }, market, policy), true);
    assert.equal(withinSlippage({ sell: WETH, buy: USDC, amountIn: weth(1n), minOut: floor - 1n }, market, policy), false);
    throwsRebalance(
      () => applyActions(healthy, [{ kind: "swap", sell: WETH, amountIn: weth(1n), buy: USDC, minOut: floor - 1n }], market, { policy }),
      /^swap of 1 WETH for at least [\d.]+ USDC is below the policy's slippage floor \([\d.]+ USDC at the oracle's prices\)$/,
    );
    // A quote above the floor sets minOut; a quote below it means no swap.
    assert.equal(worstSwap(market, policy, WETH, weth(1n), USDC, { quote: () => floor * 2n, quoteTolerance: 0n })!.minOut, floor * 2n);
    assert.equal(worstSwap(market, policy, WETH, weth(1n), USDC, { quote: () => floor }), undefined, "0.5% under a quote at the floor is below it");
  });

  it("the swap-slot limit: a third distinct pair is refused", function () {
    const a = worstSwap(market, policy, WETH, weth(1n), USDC)!;
    const b = worstSwap(market, policy, WBTC, 1_000n, USDC)!;
    const c = worstSwap(market, policy, WETH, weth(1n), WBTC)!;
    const rich = { ...healthy, collateral: [weth(10n), 10n ** 8n, usdc(1_000n)] };
    assert.equal(applyActions(rich, [a, b, a], market).movements.swaps.length, 2);
    throwsRebalance(() => applyActions(rich, [a, b, c], market), /^3 distinct swaps \(WETH -> USDC, WBTC -> USDC, WETH -> WBTC\) but a rebalance has 2 swap slots$/);
  });

  it("option tokens: long holdings only", function () {
    const long = { ...healthy, quantities: healthy.quantities.map((q) => (q < 0n ? 0n : q)) };
    const k = long.quantities.findIndex((q) => q > 0n);
    const r = applyActions(
      long,
      [
        { kind: "withdrawInstrument", instrument: k, quantity: 1n },
        { kind: "depositInstrument", instrument: CALL, quantity: 3n },
      ],
      market,
    );
    assert.equal(r.movements.instrumentFlows[k], k === CALL ? 2n : -1n);
    throwsRebalance(
      () => applyActions(long, [{ kind: "withdrawInstrument", instrument: k, quantity: long.quantities[k]! + 1n }], market),
      /^withdrawal of [\d.]+ contracts of .+ exceeds what this position holds \([\d.]+ contracts\)$/,
    );
    const short = { ...healthy, quantities: healthy.quantities.map((q, i) => (i === CALL ? -100n : q)) };
    throwsRebalance(
      () => applyActions(short, [{ kind: "depositInstrument", instrument: CALL, quantity: 1n }], market),
      /written \(short\) position; option tokens back long holdings only/,
    );
  });

  it("refuse balances beyond what the position holds, borrow and repay of one asset, bad indices and ranges (one line, exit 2)", function () {
    const small = { ...healthy, collateral: [32n * 10n ** 17n, ...healthy.collateral.slice(1)] };
    throwsRebalance(
      () => applyActions(small, [{ kind: "withdraw", asset: WETH, amount: weth(5n) }], market),
      /^withdrawal of 5 WETH exceeds what this position holds \(3\.2 WETH\)$/,
    );
    throwsRebalance(
      () => applyActions(healthy, [{ kind: "repay", asset: WETH, amount: 1n }], market),
      /^repayment of 0\.000000000000000001 WETH exceeds the debt of this position \(0 WETH\)$/,
    );
    throwsRebalance(
      () =>
        applyActions(
          atRisk,
          [
            { kind: "borrow", asset: USDC, amount: 5n },
            { kind: "repay", asset: USDC, amount: 5n },
          ],
          market,
        ),
      /cannot both borrow and repay USDC/,
    );
    throwsRebalance(() => applyActions(healthy, [{ kind: "deposit", asset: 7, amount: 1n }], market), /asset index 7 is not in the market/);
    throwsRebalance(() => applyActions(healthy, [{ kind: "deposit", asset: USDC, amount: -1n }], market), /must be >= 0/);
    throwsRebalance(() => applyActions(healthy, [{ kind: "deposit", asset: USDC, amount: MAX_AMOUNT + 1n }], market), /above the maximum 2\^96 - 1/);
    throwsRebalance(() => applyActions(healthy, [{ kind: "swap", sell: USDC, amountIn: 1n, buy: USDC, minOut: 1n }], market), /sell and buy different assets/);
  });
});

describe("checkTransition rejects forged transitions, backedTransition says why in one line", function () {
  it("an honest transition passes; value from nowhere, a vanished debt, a bad swap are refused", function () {
    const r = applyActions(atRisk, [{ kind: "repay", asset: USDC, amount: usdc(12_200n) }], market);
    const t = { old: atRisk, next: r.position, forced: false, fromEmpty: false, ...r.movements };
    assert.deepEqual(checkTransition(t, market, policy).violations, []);
    assert.doesNotThrow(() => backedTransition(atRisk, r.position, r.movements, market, policy, false));
    const rich = { ...r.position, collateral: r.position.collateral.map((c, i) => (i === WETH ? c + 1n : c)) };
    assert.deepEqual(
      checkTransition({ ...t, next: rich }, market, policy).violations.map((v) => v.rule),
      ["balance"],
    );
    throwsRebalance(() => backedTransition(atRisk, rich, r.movements, market, policy, false), /^the transition cannot be backed: WETH: new collateral .* \(value from nowhere\)$/);
    const noRepay = { ...r.movements, flows: [0n, 0n, 0n] };
    throwsRebalance(() => backedTransition(atRisk, r.position, noRepay, market, policy, false), /^the transition cannot be backed: USDC: new collateral/);
  });

  it("a keeper's transition may only swap and repay from collateral, and the old position must be below the trigger", function () {
    const r = applyActions(atRisk, [{ kind: "repay", asset: USDC, amount: usdc(12_200n) }], market);
    throwsRebalance(
      () => backedTransition(atRisk, r.position, r.movements, market, policy, true),
      /^the transition cannot be backed: a keeper's transition may only swap and repay from collateral, but it moves USDC to or from the wallet$/,
    );
    const c = applyActions(healthy, [{ kind: "repayWithCollateral", asset: USDC, amount: usdc(1n) }], market);
    throwsRebalance(() => backedTransition(healthy, c.position, c.movements, market, policy, true), /^the transition cannot be backed: the old position is not below the trigger/);
  });
});

describe("the search's quick check", function () {
  it("gives exactly checkPosition's report (300 random positions and the examples)", function () {
    const rng = new Random(4242);
    let compared = 0;
    for (let n = 0; n < 300; n++) {
      const m = randomMarket(rng);
      const p = randomPolicy(rng, m);
      const position = randomPosition(rng, m);
      let expected;
      try {
        expected = checkPosition(position, m, p);
      } catch (error) {
        if (!(error instanceof ModelError)) throw error;
        continue;
      }
      assert.deepEqual(quickCheck(position, m, p), expected, `case ${n}`);
      compared++;
    }
    assert.ok(compared >= 200, `${compared}`);
    assert.deepEqual(quickCheck(atRisk, market, policy), checkPosition(atRisk, market, policy));
  });
});

describe("allowance file", function () {
  it("parses wallet amounts to base units, sellable and tradable by name", function () {
    const a = parseAllowance({ version: 1, ...EXAMPLE_ALLOWANCE, maxActions: 3, comment: "extra fields are ignored" }, "allow.json", market);
    assert.deepEqual(a.wallet, [0n, 0n, usdc(20_000n)]);
    assert.deepEqual(a.sellable, [true, true, false]);
    assert.deepEqual(a.tradable, [true, false, false]);
    assert.equal(a.maxActions, 3);
    assert.deepEqual(parseAllowance({}, "allow.json", market).wallet, [0n, 0n, 0n]);
  });

  it("names the file and field of every problem (InputError, exit 2)", function () {
    const cases: [unknown, RegExp][] = [
      [[], /^allow\.json: expected a JSON object, got an array$/],
      [{ version: 2 }, /^allow\.json: version: unsupported format version 2/],
      [{ wallet: { DAI: "1" } }, /^allow\.json: wallet\.DAI: unknown asset \(market has WETH, WBTC, USDC\)$/],
      [{ wallet: { USDC: 5 } }, /^allow\.json: wallet\.USDC: expected a decimal string/],
      [{ wallet: { USDC: "1.0000001" } }, /^allow\.json: wallet\.USDC: .*7 decimal places; at most 6/],
      [{ wallet: { USDC: "-1" } }, /^allow\.json: wallet\.USDC: must be >= 0/],
      [{ wallet: [] }, /^allow\.json: wallet: expected an object/],
      [{ sellable: "WETH" }, /^allow\.json: sellable: expected an array/],
      [{ sellable: ["WETH", 3] }, /^allow\.json: sellable\[1\]: expected a string/],
      [{ tradable: ["ETH-PERP"] }, /^allow\.json: tradable\[0\]: unknown instrument/],
      [{ maxActions: 0 }, /^allow\.json: maxActions: expected an integer >= 1/],
    ];
    for (const [json, message] of cases) {
      assert.throws(
        () => parseAllowance(json, "allow.json", market),
        (error: unknown) => error instanceof InputError && error.exitCode === 2 && message.test(error.message),
        `${JSON.stringify(json)} -> ${message}`,
      );
    }
  });
});

describe("cost model", function () {
  it("gas per action plus one proof verification, priced at 20 gwei and the market's WETH price; a swap costs V(in) - V(minOut)", function () {
    const model = costModel(market, policy);
    assert.equal(model.nativePrice, market.assets[WETH]!.price);
    const swap = worstSwap(market, policy, WETH, weth(1n), USDC)!;
    const cost = planCost([{ kind: "deposit", asset: USDC, amount: usdc(1n) }, swap], market, model);
    assert.equal(cost.totalGas, GAS_PER_ACTION.deposit + GAS_PER_ACTION.swap + PROOF_VERIFICATION_GAS);
    assert.equal(cost.totalGas, 630_000n);
    // 630,000 gas * 20 gwei = 0.0126 ETH at 3,012.55 USD = 37.95813 USD.
    assert.equal(cost.gasCost, 3_795_813_000n);
    // The swap gives up V(1 WETH) - V(minOut) at the oracle's prices, at most 0.5% of 3,012.55 USD.
    const lost = swapCost({ sell: WETH, buy: USDC, amountIn: swap.amountIn, minOut: swap.minOut }, market);
    assert.equal(cost.actions[0]!.slippage, 0n);
    assert.equal(cost.actions[1]!.slippage, (lost + E18 - 1n) / E18);
    assert.ok(cost.actions[1]!.slippage <= 1_506_275_000n);
    assert.equal(cost.slippage, cost.actions[1]!.slippage);
    assert.equal(cost.total, cost.slippage + cost.gasCost);
    const custom = planCost([swap], market, costModel(market, policy, { gasPriceWei: 1n * 10n ** 9n, nativePrice: 2_000n * 10n ** 8n }));
    assert.equal(custom.gasCost, (480_000n * 10n ** 9n * 2_000n * 10n ** 8n) / E18);
    assert.equal(planCost([], market, costModel(market, policy)).total, 0n);
  });

  it("without WETH or ETH in the market, gas is counted but not priced", function () {
    const renamed = { ...market, assets: market.assets.map((a) => (a.symbol === "WETH" ? { ...a, symbol: "STETH" } : a)) };
    const cost = planCost([{ kind: "deposit", asset: USDC, amount: 1n }], renamed, costModel(renamed, policy));
    assert.equal(cost.priced, false);
    assert.equal(cost.totalGas, 450_000n);
    assert.equal(cost.gasCost, 0n);
  });
});

describe("plan file (version 2)", function () {
  let found: Plan;
  before(() => {
    const result = plan(atRisk, market, policy, allowanceOf(market, EXAMPLE_ALLOWANCE), { strategy: "threshold" });
    assert.equal(result.kind, "plan");
    found = result as Plan;
  });

  const roundTrip = (value: unknown): unknown => JSON.parse(JSON.stringify(value));

  it("round-trips: decimal strings, names, the movements and the new position", function () {
    const json = roundTrip(planToJson(found, market)) as Record<string, any>;
    assert.equal(json.version, 2);
    assert.equal(json.kind, "zks-rebalance-plan");
    assert.equal(json.epoch, 42);
    assert.equal(json.nonce, "0");
    assert.equal(json.position.nonce, 1);
    assert.deepEqual(json.movements, { flows: { USDC: "12200" }, debtDelta: { USDC: "-12200" }, debtAssets: { USDC: "12200" }, swaps: [], instrumentFlows: {} });
    for (const action of json.actions) for (const value of Object.values(action)) assert.equal(typeof value, "string");
    assert.equal(json.after.pass, true);
    const parsed = parsePlanFile(json, "plan.json", market, atRisk);
    assert.deepEqual(parsed.actions, found.actions);
    assert.deepEqual(parsed.position, found.position);
    assert.deepEqual(parsed.movements, found.movements);
    assert.equal(parsed.nonce, 0n);
  });

  it("round-trips every action kind", function () {
    const long = { ...atRisk, quantities: atRisk.quantities.map((q) => (q < 0n ? 0n : q + 10n ** 8n)) };
    const actions: Action[] = [
      { kind: "deposit", asset: USDC, amount: usdc(1000n) },
      { kind: "withdraw", asset: WETH, amount: weth(1n) / 3n },
      { kind: "borrow", asset: WBTC, amount: 1n },
      { kind: "repay", asset: USDC, amount: 1n },
      { kind: "repayWithCollateral", asset: USDC, amount: 7n },
      worstSwap(market, policy, WBTC, 123_456n, USDC)!,
      { kind: "depositInstrument", instrument: CALL, quantity: 5n * 10n ** 8n },
      { kind: "withdrawInstrument", instrument: 1, quantity: 1n },
    ];
    const r = applyActions(long, actions, market);
    const synthetic: Plan = { ...found, actions, position: r.position, movements: r.movements, flows: r.movements.flows };
    const parsed = parsePlanFile(roundTrip(planToJson(synthetic, market)), "plan.json", market, long);
    assert.deepEqual(parsed.actions, actions);
    assert.deepEqual(parsed.position, r.position);
    assert.deepEqual(parsed.movements, r.movements);
  });

  it("refuses version 1, another epoch, tampered movements or position, a stale nonce, a hedge", function () {
    const good = roundTrip(planToJson(found, market)) as Record<string, any>;
    const fails = (edit: (j: Record<string, any>) => void, message: RegExp, from: Position | undefined = atRisk): void => {
      const j = structuredClone(good);
      edit(j);
      assert.throws(
        () => parsePlanFile(j, "plan.json", market, from),
        (error: unknown) => error instanceof InputError && error.exitCode === 2 && message.test(error.message),
        String(message),
      );
    };
    fails((j) => (j.version = 1), /^plan\.json: version: plan version 1 was made for the old rebalance model .*plan again with `zks plan`/);
    fails((j) => (j.epoch = 41), /^plan\.json: epoch: the plan was made for market epoch 41 but the market is epoch 42/);
    fails((j) => (j.position.collateral.WETH = "7"), /^plan\.json: position: does not follow from applying the plan's actions/);
    fails((j) => (j.movements.flows.USDC = "1"), /^plan\.json: movements\.flows\.USDC: 1 does not match the actions/);
    fails((j) => (j.movements.debtDelta.USDC = "-1"), /^plan\.json: movements\.debtDelta\.USDC: -1 does not match the actions/);
    fails((j) => delete j.movements, /^plan\.json: movements: required field is missing/);
    fails((j) => (j.actions[0] = { kind: "hedge" }), /^plan\.json: actions\[0\]\.kind: hedge actions are gone/);
    fails((j) => (j.actions[0].amount = "-5"), /^plan\.json: actions\[0\]\.amount: must be >= 0/);
    fails(() => undefined, /^plan\.json: nonce: the plan starts from nonce 0 but the position is at nonce 3 \(stale plan\?\)/, { ...atRisk, nonce: 3n });
    assert.doesNotThrow(() => parsePlanFile(structuredClone(good), "plan.json", market));
  });

  it("the parsed plan passes checkTransition against the position it starts from", function () {
    const parsed = parsePlanFile(roundTrip(planToJson(found, market)), "plan.json", market, atRisk);
    const c = checkTransition({ old: atRisk, next: parsed.position, forced: false, fromEmpty: false, ...parsed.movements }, market, policy);
    assert.equal(c.valid, true, JSON.stringify(c.violations));
    assert.equal(checkPosition(parsed.position, market, policy).pass, true);
  });
});
