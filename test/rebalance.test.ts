/**
 * Rebalance building blocks (docs/rebalance.md): actions and their flows and legs, the exact
 * conservation figures, checkRebalance rejecting forged transitions, the allowance file, the
 * cost model and the plan file.
 */
import assert from "node:assert/strict";
import { ZksError, InputError } from "../src/core/errors.ts";
import { MAX_AMOUNT, QUANTITY_OFFSET } from "../src/core/fixed-point.ts";
import type { Market, Policy, Position } from "../src/inputs/types.ts";
import { checkPosition } from "../src/model/check.ts";
import {
  applyActions,
  assetValueExact,
  checkRebalance,
  conservation,
  costModel,
  GAS_PER_ACTION,
  instrumentValueExact,
  legsOf,
  parseAllowance,
  parsePlanFile,
  plan,
  planCost,
  planToJson,
  PROOF_VERIFICATION_GAS,
  RebalanceError,
  worstHedgeBuy,
  worstHedgeSell,
  worstSwap,
  type Action,
  type Plan,
  type RebalanceResult,
} from "../src/rebalance/index.ts";
import { loadMarket, loadPolicy, loadPosition } from "./helpers/examples.ts";
import { ModelError } from "../src/model/errors.ts";
import { quickCheck } from "../src/rebalance/quick-check.ts";
import { Random, randomMarket, randomPolicy, randomPosition, withPolicy } from "./helpers/model-fixtures.ts";
import { allowanceOf, EXAMPLE_ALLOWANCE } from "./helpers/rebalance-fixtures.ts";

const E18 = 10n ** 18n;
const WETH = 0;
const WBTC = 1;
const USDC = 2;
const CALL = 0;
const PUT = 1;
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
    return true;
  });
}

/** A transition forged from `result` with some fields replaced. */
function forged(result: RebalanceResult, edit: Partial<Omit<RebalanceResult, "position">> & { position?: Partial<Position> }) {
  return {
    position: { ...result.position, ...edit.position },
    flows: edit.flows ?? result.flows,
    legs: {
      assetBought: edit.assetBought ?? result.assetBought,
      assetSold: edit.assetSold ?? result.assetSold,
      instrumentBought: edit.instrumentBought ?? result.instrumentBought,
      instrumentSold: edit.instrumentSold ?? result.instrumentSold,
    },
  };
}

const rules = (check: ReturnType<typeof checkRebalance>): string[] => check.violations.map((v) => v.rule);

describe("rebalance actions", function () {
  it("apply the table of docs/rebalance.md: balances, signed flows and trade legs", function () {
    const actions: Action[] = [
      { kind: "deposit", asset: USDC, amount: usdc(1000n) },
      { kind: "withdraw", asset: WETH, amount: weth(1n) },
      { kind: "borrow", asset: USDC, amount: usdc(300n) },
      { kind: "repay", asset: USDC, amount: usdc(500n) },
      { kind: "repayWithCollateral", asset: USDC, amount: usdc(200n) },
      { kind: "swap", sell: WBTC, sellAmount: 1_000_000n, buy: USDC, buyAmount: usdc(900n) },
      { kind: "hedge", instrument: CALL, side: "buy", quantity: 10n * 10n ** 8n, asset: WETH, cash: weth(1n) / 2n },
      { kind: "hedge", instrument: PUT, side: "sell", quantity: 2n * 10n ** 8n, asset: USDC, cash: usdc(280n) },
    ];
    const r = applyActions(atRisk, actions, market);
    assert.equal(r.position.nonce, atRisk.nonce + 1n);
    assert.equal(r.position.account, atRisk.account);
    assert.equal(r.position.salt, atRisk.salt);
    assert.deepEqual(r.position.collateral, [
      atRisk.collateral[WETH]! - weth(1n) - weth(1n) / 2n,
      atRisk.collateral[WBTC]! - 1_000_000n,
      usdc(1000n) - usdc(200n) + usdc(900n) + usdc(280n),
    ]);
    assert.deepEqual(r.position.debt, [0n, 0n, atRisk.debt[USDC]! + usdc(300n) - usdc(500n) - usdc(200n)]);
    assert.deepEqual(r.position.quantities, [atRisk.quantities[CALL]! + 10n * 10n ** 8n, -2n * 10n ** 8n, 0n]);
    assert.deepEqual(r.flows, [-weth(1n), 0n, usdc(1000n) - usdc(300n) + usdc(500n)]);
    assert.deepEqual(r.assetBought, [0n, 0n, usdc(900n) + usdc(280n)]);
    assert.deepEqual(r.assetSold, [weth(1n) / 2n, 1_000_000n, 0n]);
    assert.deepEqual(r.instrumentBought, [10n * 10n ** 8n, 0n, 0n]);
    assert.deepEqual(r.instrumentSold, [0n, 2n * 10n ** 8n, 0n]);
    // The input is not mutated, and the balance equations hold.
    assert.equal(atRisk.collateral[USDC], 0n);
    assert.equal(conservation(atRisk, r, market, policy).balanced, true);
    // legsOf depends on the actions only.
    const { position: _p, ...rest } = r;
    assert.deepEqual(legsOf(actions, market), rest);
  });

  it("net what several actions buy and sell of one slot into one-sided legs (the circuit refuses wash legs)", function () {
    // WBTC -> USDC, then USDC -> WETH: USDC is bought 900 and sold 600, a net buy of 300.
    const r = applyActions(
      atRisk,
      [
        { kind: "swap", sell: WBTC, sellAmount: 1_000_000n, buy: USDC, buyAmount: usdc(900n) },
        { kind: "swap", sell: USDC, sellAmount: usdc(600n), buy: WETH, buyAmount: weth(1n) / 5n },
      ],
      market,
    );
    assert.equal(r.assetBought[USDC], usdc(300n));
    assert.equal(r.assetSold[USDC], 0n);
    assert.equal(r.position.collateral[USDC], atRisk.collateral[USDC]! + usdc(300n));
    for (let i = 0; i < market.assets.length; i++) assert.ok(r.assetBought[i]! === 0n || r.assetSold[i]! === 0n);
  });

  it("refuse negative balances, out-of-range amounts and quantities, and bad indices (exit 2)", function () {
    throwsRebalance(() => applyActions(atRisk, [{ kind: "withdraw", asset: WETH, amount: weth(7n) }], market), /collateral of WETH would become negative/);
    throwsRebalance(() => applyActions(atRisk, [{ kind: "repay", asset: USDC, amount: usdc(18_501n) }], market), /debt of USDC would become negative/);
    throwsRebalance(() => applyActions(atRisk, [{ kind: "repayWithCollateral", asset: USDC, amount: 1n }], market), /collateral of USDC/);
    throwsRebalance(() => applyActions(atRisk, [{ kind: "swap", sell: WBTC, sellAmount: 10_000_001n, buy: USDC, buyAmount: 1n }], market), /WBTC would become negative/);
    throwsRebalance(() => applyActions(atRisk, [{ kind: "hedge", instrument: CALL, side: "buy", quantity: 1n, asset: USDC, cash: 1n }], market), /USDC would become negative/);
    throwsRebalance(() => applyActions(atRisk, [{ kind: "deposit", asset: WETH, amount: MAX_AMOUNT }], market), /exceed the commitment's range/);
    throwsRebalance(() => applyActions(atRisk, [{ kind: "deposit", asset: WETH, amount: MAX_AMOUNT + 1n }], market), /above the maximum 2\^96 - 1/);
    throwsRebalance(() => applyActions(atRisk, [{ kind: "hedge", instrument: PUT, side: "sell", quantity: QUANTITY_OFFSET, asset: USDC, cash: 0n }], market), /\|q\| < 2\^95/);
    throwsRebalance(() => applyActions(atRisk, [{ kind: "deposit", asset: 3, amount: 1n }], market), /asset index 3 is not in the market/);
    throwsRebalance(() => applyActions(atRisk, [{ kind: "deposit", asset: USDC, amount: -1n }], market), /must be >= 0/);
    throwsRebalance(() => applyActions(atRisk, [{ kind: "swap", sell: WETH, sellAmount: 1n, buy: WETH, buyAmount: 1n }], market), /different assets/);
    // Order matters: an intermediate negative balance is an error even if a later action would cover it.
    throwsRebalance(
      () => applyActions(atRisk, [{ kind: "repayWithCollateral", asset: USDC, amount: 5n }, { kind: "deposit", asset: USDC, amount: 5n }], market),
      /negative/,
    );
    assert.doesNotThrow(() => applyActions(atRisk, [{ kind: "deposit", asset: USDC, amount: 5n }, { kind: "repayWithCollateral", asset: USDC, amount: 5n }], market));
  });
});

describe("conservation", function () {
  it("values legs exactly at q.u. * 10^18: given, gained, lost, traded", function () {
    const swap = { kind: "swap" as const, sell: WETH, sellAmount: weth(1n), buy: USDC, buyAmount: usdc(3000n) };
    const buy = { kind: "hedge" as const, instrument: CALL, side: "buy" as const, quantity: 2n * 10n ** 8n, asset: USDC, cash: usdc(333n) };
    const start = { ...atRisk, collateral: [weth(6n), 10_000_000n, usdc(1000n)] };
    const r = applyActions(start, [swap, buy], market);
    const c = conservation(start, r, market, policy);
    const V = (amount: bigint, i: number) => assetValueExact(amount, market.assets[i]!);
    // 1 WETH at 3012.55 USD = 301255000000 q.u. -> * 10^18.
    assert.equal(V(weth(1n), WETH), 301_255_000_000n * E18);
    assert.equal(instrumentValueExact(2n * 10n ** 8n, market.instruments[CALL]!), 2n * 16_636_000_000n * E18);
    // USDC is bought (3,000) and sold (333): the legs are netted to one buy of 2,667.
    assert.equal(r.assetBought[USDC], usdc(2667n));
    assert.equal(r.assetSold[USDC], 0n);
    const given = V(weth(1n), WETH);
    const gained = V(usdc(2667n), USDC) + 2n * 16_636_000_000n * E18;
    assert.equal(c.given, given);
    assert.equal(c.gained, gained);
    assert.equal(c.lost, given - gained);
    assert.equal(c.traded, given + 2n * 16_636_000_000n * E18);
    assert.equal(c.noValueFromNowhere, true);
    // 12.25 + 0.3133 USD lost of 3,012.55 + 332.72 traded: 0.38% < 0.5%.
    assert.equal(c.withinSlippage, true);
    assert.equal(c.balanced, true);
    assert.equal(c.valid, true);
    // Measured from another starting position, the balance equations fail.
    assert.equal(conservation(atRisk, r, market, policy).balanced, false);
  });

  it("worst-case trades sit exactly on the slippage bound: one unit worse is rejected", function () {
    const check = (actions: Action[]) => {
      const r = applyActions(atRisk, actions, market);
      return checkRebalance(atRisk, r.position, r.flows, r, market, policy, { checks: false });
    };
    const swap = worstSwap(market, policy, WETH, weth(1n), USDC)!;
    assert.equal(check([swap]).valid, true);
    const worse = check([{ ...swap, buyAmount: swap.buyAmount - 1n }]);
    assert.deepEqual(rules(worse), ["slippage"]);

    const buy = worstHedgeBuy(market, policy, CALL, 30n * 10n ** 8n, WETH)!;
    assert.equal(check([buy]).valid, true);
    assert.deepEqual(rules(check([{ ...buy, cash: buy.cash + 1n }])), ["slippage"]);

    const sell = worstHedgeSell(market, policy, PUT, 3n * 10n ** 8n, WETH)!;
    assert.equal(check([sell]).valid, true);
    assert.deepEqual(rules(check([{ ...sell, cash: sell.cash - 1n }])), ["slippage"]);
  });

  describe("checkRebalance rejects forged transitions", function () {
    let honest: RebalanceResult;
    before(() => {
      // Buy back the short calls at the worst price allowed, then repay from the wallet: passes every check.
      honest = applyActions(
        atRisk,
        [worstHedgeBuy(market, policy, CALL, 30n * 10n ** 8n, WBTC)!, { kind: "repay", asset: USDC, amount: usdc(10_000n) }],
        market,
      );
    });

    it("an honest transition passes, with the new position passing the checks", function () {
      const c = checkRebalance(atRisk, honest.position, honest.flows, honest, market, policy);
      assert.deepEqual(c.violations, []);
      assert.equal(c.valid, true);
      assert.equal(c.after?.pass, true);
      assert.equal(c.conservation?.valid, true);
    });

    it("value from nowhere: collateral without a flow or trade leg", function () {
      const f = forged(honest, { position: { collateral: honest.position.collateral.map((c, i) => (i === WETH ? c + weth(1n) : c)) } });
      const c = checkRebalance(atRisk, f.position, f.flows, f.legs, market, policy);
      assert.equal(c.valid, false);
      assert.deepEqual(rules(c), ["balance"]);
      assert.match(c.violations[0]!.message, /WETH: .*value from nowhere/);
    });

    it("value from nowhere: a trade leg that buys without giving (lost < 0)", function () {
      const bought = honest.assetBought.map((b, i) => (i === WETH ? b + weth(1n) : b));
      const f = forged(honest, { assetBought: bought, position: { collateral: honest.position.collateral.map((c, i) => (i === WETH ? c + weth(1n) : c)) } });
      const c = checkRebalance(atRisk, f.position, f.flows, f.legs, market, policy);
      assert.deepEqual(rules(c), ["value"]);
      assert.ok(c.conservation!.lost < 0n);
    });

    it("a debt that disappears without a repay flow", function () {
      const f = forged(honest, { position: { debt: honest.position.debt.map((d, i) => (i === USDC ? d - usdc(1n) : d)) } });
      assert.deepEqual(rules(checkRebalance(atRisk, f.position, f.flows, f.legs, market, policy)), ["balance"]);
    });

    it("an instrument quantity that changes without a leg", function () {
      const f = forged(honest, { position: { quantities: honest.position.quantities.map((q, k) => (k === PUT ? q + 10n ** 8n : q)) } });
      const c = checkRebalance(atRisk, f.position, f.flows, f.legs, market, policy);
      assert.ok(rules(c).includes("balance"));
      assert.match(c.violations.find((v) => v.rule === "balance")!.message, /ETH-26DEC26-2800-P/);
    });

    it("a swap beyond the policy's slippage (4% lost, 0.5% allowed)", function () {
      // Sell 1 WETH (3,012.55 USD) for 2,892 USDC: consistent balances, but too much value lost.
      const r = applyActions(atRisk, [{ kind: "swap", sell: WETH, sellAmount: weth(1n), buy: USDC, buyAmount: usdc(2892n) }, { kind: "repay", asset: USDC, amount: usdc(15_000n) }], market);
      const c = checkRebalance(atRisk, r.position, r.flows, r, market, policy);
      assert.deepEqual(rules(c), ["slippage"]);
      assert.equal(c.after?.pass, true);
      // The same trade is fine under a policy allowing 5%.
      const loose = withPolicy(policy, (p) => (p.maxSlippage = 50_000n));
      assert.equal(checkRebalance(atRisk, r.position, r.flows, r, market, loose).valid, true);
    });

    it("nonce reuse (nonce' = nonce) and a skipped nonce", function () {
      const reuse = forged(honest, { position: { nonce: atRisk.nonce } });
      const c = checkRebalance(atRisk, reuse.position, reuse.flows, reuse.legs, market, policy);
      assert.deepEqual(rules(c), ["nonce"]);
      assert.match(c.violations[0]!.message, /nonce \+ 1 = 1/);
      const skip = forged(honest, { position: { nonce: atRisk.nonce + 2n } });
      assert.deepEqual(rules(checkRebalance(atRisk, skip.position, skip.flows, skip.legs, market, policy)), ["nonce"]);
    });

    it("another account", function () {
      const other = forged(honest, { position: { account: "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC" } });
      const c = checkRebalance(atRisk, other.position, other.flows, other.legs, market, policy);
      assert.deepEqual(rules(c), ["account"]);
    });

    it("a new position that fails the checks, out-of-range amounts, mismatched shapes", function () {
      const weak = applyActions(atRisk, [{ kind: "repay", asset: USDC, amount: usdc(100n) }], market);
      assert.deepEqual(rules(checkRebalance(atRisk, weak.position, weak.flows, weak, market, policy)), ["checks"]);
      assert.equal(checkRebalance(atRisk, weak.position, weak.flows, weak, market, policy, { checks: false }).valid, true);
      const negative = forged(honest, { assetSold: honest.assetSold.map((s, i) => (i === WETH ? -1n : s)) });
      assert.ok(rules(checkRebalance(atRisk, negative.position, negative.flows, negative.legs, market, policy)).includes("range"));
      assert.deepEqual(rules(checkRebalance(atRisk, honest.position, honest.flows.slice(1), honest, market, policy)), ["shape"]);
    });

    it("keeper-triggered: only a position below the trigger may be forced", function () {
      assert.equal(checkRebalance(atRisk, honest.position, honest.flows, honest, market, policy, { keeper: true }).valid, true);
      const r = applyActions(healthy, [{ kind: "deposit", asset: USDC, amount: usdc(1n) }], market);
      const c = checkRebalance(healthy, r.position, r.flows, r, market, policy, { keeper: true });
      assert.deepEqual(rules(c), ["trigger"]);
    });
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
  it("gas per action plus one proof verification, priced at 20 gwei and the market's WETH price", function () {
    const model = costModel(market, policy);
    assert.equal(model.nativePrice, market.assets[WETH]!.price);
    const swap = worstSwap(market, policy, WETH, weth(1n), USDC)!;
    const cost = planCost([{ kind: "deposit", asset: USDC, amount: usdc(1n) }, swap], market, model);
    assert.equal(cost.totalGas, GAS_PER_ACTION.deposit + GAS_PER_ACTION.swap + PROOF_VERIFICATION_GAS);
    assert.equal(cost.totalGas, 630_000n);
    // 630,000 gas * 20 gwei = 0.0126 ETH at 3,012.55 USD = 37.95813 USD.
    assert.equal(cost.gasCost, 3_795_813_000n);
    // The swap may lose at most 0.5% of 3,012.55 USD = 15.06275 USD; the deposit nothing.
    assert.equal(cost.actions[0]!.slippage, 0n);
    assert.equal(cost.actions[1]!.slippage, 1_506_275_000n);
    assert.equal(cost.slippage, 1_506_275_000n);
    assert.ok(cost.lost <= cost.slippage);
    assert.equal(cost.total, cost.slippage + cost.gasCost);
    // Options override; an empty plan costs nothing.
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

describe("plan file", function () {
  let found: Plan;
  before(() => {
    const result = plan(atRisk, market, policy, allowanceOf(market, EXAMPLE_ALLOWANCE), { strategy: "threshold" });
    assert.equal(result.kind, "plan");
    found = result as Plan;
  });

  const roundTrip = (value: unknown): unknown => JSON.parse(JSON.stringify(value));

  it("round-trips: decimal strings, names, and the same actions and new position", function () {
    const json = roundTrip(planToJson(found, market)) as Record<string, any>;
    assert.equal(json.kind, "zks-rebalance-plan");
    assert.equal(json.epoch, 42);
    assert.equal(json.nonce, "0");
    assert.equal(json.position.nonce, 1);
    assert.equal(json.position.salt, "0x1b7e4d0c5a9f3e2d8c6b4a29180f7e6d5c4b3a2918f7e6d5c4b3a2918f7e6d");
    for (const action of json.actions) for (const value of Object.values(action)) assert.equal(typeof value, "string");
    assert.match(json.cost.total, /^\d+(\.\d+)?$/);
    assert.equal(json.after.pass, true);
    const parsed = parsePlanFile(json, "plan.json", market, atRisk);
    assert.deepEqual(parsed.actions, found.actions);
    assert.deepEqual(parsed.position, found.position);
    assert.deepEqual(parsed.flows, found.flows);
    assert.deepEqual(parsed.legs, found.legs);
    assert.equal(parsed.nonce, 0n);
    assert.equal(parsed.strategy, "threshold");
  });

  it("round-trips every action kind", function () {
    const actions: Action[] = [
      { kind: "deposit", asset: USDC, amount: usdc(1000n) },
      { kind: "withdraw", asset: WETH, amount: weth(1n) / 3n },
      { kind: "borrow", asset: USDC, amount: 1n },
      { kind: "repay", asset: USDC, amount: 1n },
      { kind: "repayWithCollateral", asset: USDC, amount: 7n },
      worstSwap(market, policy, WBTC, 123_456n, USDC)!,
      worstHedgeBuy(market, policy, CALL, 1_234_567_890n, WETH)!,
      worstHedgeSell(market, policy, PUT, 5n * 10n ** 8n, USDC)!,
    ];
    const r = applyActions(atRisk, actions, market);
    const synthetic: Plan = { ...found, actions, position: r.position, flows: r.flows, legs: r };
    const parsed = parsePlanFile(roundTrip(planToJson(synthetic, market)), "plan.json", market, atRisk);
    assert.deepEqual(parsed.actions, actions);
    assert.deepEqual(parsed.position, r.position);
  });

  it("refuses another epoch, a tampered position or flow, a stale nonce, a malformed action", function () {
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
    fails((j) => (j.epoch = 41), /^plan\.json: epoch: the plan was made for market epoch 41 but the market is epoch 42/);
    fails((j) => (j.kind = "position"), /^plan\.json: kind: expected "zks-rebalance-plan"/);
    fails((j) => (j.position.collateral.WETH = "7"), /^plan\.json: position: does not follow from applying the plan's actions/);
    fails((j) => (j.position.collateral.WETH = "abc"), /^plan\.json: position\.collateral\.WETH: expected a decimal string/);
    fails((j) => (j.position.nonce = 0), /^plan\.json: position\.nonce: 0; the plan starts from nonce 0, so the new position must have nonce 1/);
    fails((j) => (j.flows.USDC = "1"), /^plan\.json: flows\.USDC: 1 does not match the actions/);
    fails((j) => (j.actions[0].kind = "steal"), /^plan\.json: actions\[0\]\.kind: unknown action string "steal"/);
    fails((j) => (j.actions[0].asset = "DAI"), /^plan\.json: actions\[0\]\.asset: unknown asset/);
    fails((j) => (j.actions[0].amount = "-5"), /^plan\.json: actions\[0\]\.amount: must be >= 0/);
    fails(() => undefined, /^plan\.json: nonce: the plan starts from nonce 0 but the position is at nonce 3 \(stale plan\?\)/, { ...atRisk, nonce: 3n });
    fails(() => undefined, /^plan\.json: account: the plan is for/, { ...atRisk, account: "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC" });
    // Without the current position, the file alone still parses.
    assert.doesNotThrow(() => parsePlanFile(structuredClone(good), "plan.json", market));
  });

  it("the parsed plan passes checkRebalance against the position it starts from", function () {
    const parsed = parsePlanFile(roundTrip(planToJson(found, market)), "plan.json", market, atRisk);
    const c = checkRebalance(atRisk, parsed.position, parsed.flows, parsed.legs, market, policy);
    assert.equal(c.valid, true, JSON.stringify(c.violations));
    assert.equal(checkPosition(parsed.position, market, policy).pass, true);
  });
});
