/**
 * Time-weighted, randomized execution (docs/execution.md), everything short of a proof: the
 * schedule rule (property tests: the commitment binds the seed and the plan, the slices' amounts
 * sum exactly to the plan's, the times are the sorted draws over the whole window, the same seed
 * gives the same schedule), its TypeScript model against the schedule-slice circuit's witness
 * (the same commitment, times and amounts, integer for integer), a plan split into slices that
 * the rebalance circuit's mirror accepts, the schedule files and `zks execution schedule`'s
 * refusals (existing outputs, a seed left readable, a failed write, a short window, a start in
 * the past, an unknown instance), the constant-product front-running model with the adaptive
 * adversary, and the backtest.
 */
import assert from "node:assert/strict";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import fc from "fast-check";
import { poseidon2, poseidon3, poseidon6 } from "poseidon-lite";
import { scheduleExecutionFiles } from "../packages/node/src/workflows/execution.ts";
import { SNARK_FIELD } from "../packages/sdk/src/core/field.ts";
import { ZksError, InputError } from "../packages/sdk/src/core/errors.ts";
import {
  adaptiveFrontRun,
  blindFrontRun,
  checkExecutionWindow,
  checkWindow,
  deriveSchedule,
  deterministicSchedule,
  knownSandwich,
  largestFrontRun,
  maxDelayLimit,
  MAX_SLICES,
  MIN_SCHEDULE_SALT,
  MIN_SLICE_SPACING_SECONDS,
  paddedPlan,
  parseCommitmentFile,
  parseSeedFile,
  planHash,
  poolAt,
  roundTripCost,
  runExecutionBacktest,
  sandwich,
  scheduleCommitment,
  ScheduleError,
  scheduleFiles,
  scheduleSliceInput,
  scheduleTransitions,
  sellBase,
  slicePlan,
  splitByWeights,
  WEIGHT_BASE,
  type ScheduleSecret,
  type ScheduleSwap,
  type ScheduleWindow,
} from "../packages/sdk/src/execution/index.ts";
import type { Market, Policy, Position } from "../packages/sdk/src/inputs/types.ts";
import { applyActions, type Action } from "../packages/sdk/src/rebalance/actions.ts";
import { checkTransition, slippageFloor, withinSlippage } from "../packages/sdk/src/rebalance/transition.ts";
import { worstSwap } from "../packages/sdk/src/rebalance/trades.ts";
import { CircuitUnderTest } from "./helpers/circuit.ts";
import { assertOneLineError, zks } from "./helpers/cli.ts";
import { example, loadMarket, loadPolicy, loadPosition } from "./helpers/examples.ts";

const INSTANCE = "schedule-slice-16x2";
const WETH = 0;
const WBTC = 1;
const USDC = 2;
const E18 = 10n ** 18n;
const MAX_AMOUNT = (1n << 96n) - 1n;

const SECRET: ScheduleSecret = { seed: 0x1234_5678_9abc_def0_1234_5678_9abc_def0n, salt: (1n << 200n) + 77n };
const WINDOW: ScheduleWindow = { start: 1_767_225_600, seconds: 6 * 3600, slices: 8 };
const PLAN: ScheduleSwap[] = [{ sell: WETH, buy: USDC, amountIn: 2n * E18 }];

/** One line, exit 2, ScheduleError, matching `fragment`. */
function throwsSchedule(run: () => unknown, fragment: RegExp): void {
  assert.throws(run, (error: unknown) => {
    assert.ok(error instanceof ScheduleError, `expected ScheduleError, got ${String(error)}`);
    assert.ok(error instanceof ZksError);
    assert.equal(error.exitCode, 2);
    assert.match(error.message, fragment);
    assert.equal(error.message.split("\n").length, 1);
    return true;
  });
}

const secretArb = fc.record({ seed: fc.bigInt(0n, SNARK_FIELD - 1n), salt: fc.bigInt(MIN_SCHEDULE_SALT, SNARK_FIELD - 1n) });
const windowArb = fc
  .record({ start: fc.integer({ min: 0, max: 2 ** 40 - 1 }), slices: fc.integer({ min: 1, max: MAX_SLICES }), extra: fc.integer({ min: 0, max: 2 ** 32 - 1 - MAX_SLICES }) })
  .map(({ start, slices, extra }): ScheduleWindow => ({ start, slices, seconds: slices + extra }));
const amountArb = fc.oneof(fc.bigInt(0n, 1000n), fc.bigInt(0n, MAX_AMOUNT), fc.constant(MAX_AMOUNT));
/** 1 or 2 swaps of distinct pairs. */
const planArb = fc.oneof(
  fc.tuple(amountArb).map(([a]): ScheduleSwap[] => [{ sell: WETH, buy: USDC, amountIn: a }]),
  fc.tuple(amountArb, amountArb).map(([a, b]): ScheduleSwap[] => [
    { sell: WETH, buy: USDC, amountIn: a },
    { sell: WBTC, buy: USDC, amountIn: b },
  ]),
);

describe("the schedule rule", function () {
  it("seedCommitment = Poseidon(seed, salt, planHash) over the plan's totals and pairs; slice k's time is the k-th earliest draw, its weight draw k's", function () {
    const s = deriveSchedule(SECRET, WINDOW, PLAN);
    const hash = poseidon6([2n * E18, 0n, BigInt(WETH), 0n, BigInt(USDC), 0n]);
    assert.equal(s.planHash, hash);
    assert.equal(planHash(PLAN), hash);
    assert.equal(s.seedCommitment, poseidon3([SECRET.seed, SECRET.salt, hash]));
    assert.equal(s.spacingSeconds, 2700);
    const offsets = Array.from({ length: 8 }, (_, j) => Number((poseidon2([SECRET.seed, BigInt(j)]) % 2n ** 64n) % BigInt(WINDOW.seconds)));
    const sorted = [...offsets].sort((a, b) => a - b);
    s.slices.forEach((slice, k) => {
      assert.equal(slice.offset, sorted[k]);
      assert.equal(slice.time, WINDOW.start + sorted[k]!);
      assert.equal(offsets[slice.draw], slice.offset);
      assert.equal(slice.weight, WEIGHT_BASE + ((poseidon2([SECRET.seed, BigInt(k)]) >> 64n) % 2n ** 17n));
    });
    // The weights differ from slice to slice: a front-runner cannot assume equal sizes.
    assert.ok(new Set(s.slices.map((x) => x.weight)).size > 1);
  });

  it("property: the slices sum exactly to each plan amount, each within one base unit of its share; the times are the sorted draws over the whole window", function () {
    fc.assert(
      fc.property(secretArb, windowArb, planArb, (secret, window, plan) => {
        const s = deriveSchedule(secret, window, plan);
        assert.equal(s.slices.length, window.slices);
        plan.forEach(({ amountIn: total }, k) => {
          assert.equal(
            s.slices.reduce((sum, x) => sum + x.amounts[k]!, 0n),
            total,
          );
          for (const x of s.slices) {
            // |amount * W - total * w| < W: within one base unit of the exact share.
            const gap = x.amounts[k]! * s.totalWeight - total * x.weight;
            assert.ok(gap < s.totalWeight && -gap < s.totalWeight);
            assert.ok(x.amounts[k]! >= 0n);
          }
        });
        // Every draw is used once; times never go back; each lies in the window.
        assert.deepEqual(
          s.slices.map((x) => x.draw).sort((a, b) => a - b),
          s.slices.map((_, j) => j),
        );
        s.slices.forEach((x, k) => {
          assert.ok(x.time >= window.start && x.time < window.start + window.seconds, `slice ${k} at ${x.time} outside the window`);
          if (k > 0) assert.ok(x.time > s.slices[k - 1]!.time || (x.time === s.slices[k - 1]!.time && x.draw > s.slices[k - 1]!.draw), "time order, ties by draw");
          assert.ok(x.weight >= WEIGHT_BASE && x.weight < 3n * WEIGHT_BASE);
        });
      }),
      { numRuns: 300 },
    );
  });

  it("property: the same seed gives the same schedule (the salt only hides it); another plan, even one base unit or one pair away, another commitment", function () {
    fc.assert(
      fc.property(secretArb, fc.bigInt(MIN_SCHEDULE_SALT, SNARK_FIELD - 1n), windowArb, planArb, (secret, otherSalt, window, plan) => {
        const a = deriveSchedule(secret, window, plan);
        const b = deriveSchedule({ ...secret, salt: otherSalt }, window, plan);
        assert.deepEqual(a.slices, b.slices);
        assert.deepEqual(deriveSchedule(secret, window, plan), a);
        if (otherSalt !== secret.salt) assert.notEqual(a.seedCommitment, b.seedCommitment);
        // The plan is committed: the owner cannot pick another total or pair once the window opens.
        const more = plan.map((s, k) => (k === 0 ? { ...s, amountIn: s.amountIn === MAX_AMOUNT ? s.amountIn - 1n : s.amountIn + 1n } : s));
        assert.notEqual(scheduleCommitment(secret, more), a.seedCommitment);
        assert.notEqual(
          scheduleCommitment(
            secret,
            plan.map((s, k) => (k === 0 ? { ...s, buy: 3 } : s)),
          ),
          a.seedCommitment,
        );
        const c = deriveSchedule({ ...secret, seed: (secret.seed + 1n) % SNARK_FIELD }, window, plan);
        if (window.slices > 1 || window.seconds > 1) assert.notDeepEqual(c.slices, a.slices);
      }),
      { numRuns: 100 },
    );
  });

  it("splitByWeights: cumulative floors (equal weights give the public deterministic schedule)", function () {
    assert.deepEqual(splitByWeights(10n, [1n, 1n, 1n]), [3n, 3n, 4n]);
    assert.deepEqual(splitByWeights(2n, [1n, 1n, 1n]), [0n, 1n, 1n]);
    const fixed = deterministicSchedule(WINDOW, [8n * E18 + 5n]);
    assert.deepEqual(
      fixed.slices.map((s) => s.time),
      Array.from({ length: 8 }, (_, j) => WINDOW.start + j * 2700),
    );
    assert.equal(
      fixed.slices.reduce((a, s) => a + s.amounts[0]!, 0n),
      8n * E18 + 5n,
    );
  });

  it("refuses what the circuit cannot prove, and a plan that is not one, in one line (exit 2)", function () {
    throwsSchedule(() => checkWindow({ ...WINDOW, slices: 0 }), /^slices must be an integer from 1 to 16/);
    throwsSchedule(() => checkWindow({ ...WINDOW, slices: 17 }), /proves at most 16/);
    throwsSchedule(() => checkWindow({ ...WINDOW, seconds: 7 }), /^the window must last a whole number of seconds from 8/);
    throwsSchedule(() => checkWindow({ ...WINDOW, seconds: 2 ** 32 }), /to 2\^32 - 1, got/);
    throwsSchedule(() => checkWindow({ ...WINDOW, start: 2 ** 40 }), /^the window start must be unix seconds in \[0, 2\^40\)/);
    throwsSchedule(() => checkWindow({ ...WINDOW, seconds: 100.5 }), /whole number of seconds/);
    throwsSchedule(() => scheduleCommitment({ seed: 1n, salt: 3n }, PLAN), /salt is below 2\^64: not a random 31-byte salt/);
    throwsSchedule(() => scheduleCommitment({ seed: SNARK_FIELD, salt: SECRET.salt }, PLAN), /seed must be a field element/);
    throwsSchedule(() => deriveSchedule(SECRET, WINDOW, [{ ...PLAN[0]!, amountIn: MAX_AMOUNT + 1n }]), /^plan swap 0: amountIn must be an integer in \[0, 2\^96\)/);
    throwsSchedule(() => deriveSchedule(SECRET, WINDOW, [{ ...PLAN[0]!, amountIn: -1n }]), /^plan swap 0: amountIn/);
    throwsSchedule(() => paddedPlan([]), /^the plan must have 1 to 2 swaps, got 0/);
    throwsSchedule(() => paddedPlan([...PLAN, ...PLAN]), /^plan swap 1: the pair 0 -> 2 appears twice/);
    throwsSchedule(() => paddedPlan([{ sell: 2, buy: 2, amountIn: 1n }]), /^plan swap 0: sells and buys the same asset 2/);
    throwsSchedule(() => paddedPlan([...PLAN, PLAN[0]!, PLAN[0]!]), /^the plan must have 1 to 2 swaps, got 3/);
    assert.deepEqual(paddedPlan(PLAN), [PLAN[0], { sell: 0, buy: 0, amountIn: 0n }]);
  });

  it("an execution's window gives each slice at least 1,200 s on average (16 slices over 16 s are refused); the latest delay is a quarter of that", function () {
    checkExecutionWindow({ ...WINDOW, seconds: 8 * MIN_SLICE_SPACING_SECONDS });
    throwsSchedule(
      () => checkExecutionWindow({ start: 0, seconds: 16, slices: 16 }),
      /^the window gives each of its 16 slices 1 s on average, less than 1200 s \(100 blocks\): the times would hardly be random/,
    );
    throwsSchedule(() => checkExecutionWindow({ ...WINDOW, seconds: 8 * MIN_SLICE_SPACING_SECONDS - 1 }), /1199 s on average/);
    assert.equal(maxDelayLimit({ ...WINDOW, seconds: 8 * MIN_SLICE_SPACING_SECONDS }), 300);
    assert.equal(maxDelayLimit(WINDOW), 675);
  });
});

describe(`the TypeScript model against the ${INSTANCE} circuit`, function () {
  let circuit: CircuitUnderTest;
  before(async function () {
    circuit = await CircuitUnderTest.load(INSTANCE);
  });

  /** The circuit's outputs and public amounts for this slice, and that its witness satisfies every constraint. */
  async function circuitSlice(secret: ScheduleSecret, window: ScheduleWindow, plan: ScheduleSwap[], index: number) {
    const input = scheduleSliceInput({ secret, window, index, plan, oldCommitment: 1n, newCommitment: 2n });
    const w = await circuit.witness(input);
    assert.deepEqual(circuit.violated(w), []);
    return {
      time: Number(w[circuit.index("main.sliceTime")]),
      amounts: [w[circuit.index("main.swapIn[0]")], w[circuit.index("main.swapIn[1]")]],
      commitment: w[circuit.index("main.seedCommitment")],
    };
  }
  const padded = (amounts: bigint[], plan: ScheduleSwap[]) => [amounts[0] ?? 0n, plan.length > 1 ? amounts[1]! : 0n];

  it("differential: random seeds, windows and plans give the model's commitment, time and amounts, slice for slice", async function () {
    this.timeout(120_000);
    await fc.assert(
      fc.asyncProperty(secretArb, windowArb, planArb, fc.nat(), async (secret, window, plan, pick) => {
        const index = pick % window.slices;
        const model = deriveSchedule(secret, window, plan);
        const got = await circuitSlice(secret, window, plan, index);
        assert.equal(got.commitment, model.seedCommitment);
        assert.equal(got.time, model.slices[index]!.time);
        assert.deepEqual(got.amounts, padded(model.slices[index]!.amounts, plan));
      }),
      { numRuns: 12 },
    );
  });

  it("differential at the edges: one slice, one second per slice (every draw tied), 16 slices, the largest window, start and amounts", async function () {
    this.timeout(120_000);
    const two: ScheduleSwap[] = [
      { sell: WETH, buy: USDC, amountIn: MAX_AMOUNT },
      { sell: WBTC, buy: USDC, amountIn: 1n },
    ];
    const cases: [ScheduleWindow, ScheduleSwap[], number][] = [
      [{ start: 0, seconds: 1, slices: 1 }, [{ ...PLAN[0]!, amountIn: 5n }], 0],
      // One second for 16 slices: every offset is 0, the ranks are the draw indices.
      [{ start: 1000, seconds: 16, slices: 16 }, two, 15],
      [{ start: 1000, seconds: 16, slices: 16 }, two, 0],
      [{ start: 2 ** 40 - 1, seconds: 2 ** 32 - 1, slices: 16 }, two.map((s) => ({ ...s, amountIn: MAX_AMOUNT })), 15],
      [{ start: 2 ** 40 - 1, seconds: 2 ** 32 - 1, slices: 7 }, [{ ...PLAN[0]!, amountIn: 0n }], 0],
      [{ start: 12, seconds: 100, slices: 3 }, [{ ...PLAN[0]!, amountIn: 2n }], 1],
    ];
    for (const [window, plan, index] of cases) {
      const model = deriveSchedule(SECRET, window, plan);
      const got = await circuitSlice(SECRET, window, plan, index);
      assert.equal(got.time, model.slices[index]!.time, JSON.stringify(window));
      assert.deepEqual(got.amounts, padded(model.slices[index]!.amounts, plan));
      assert.equal(got.commitment, model.seedCommitment);
    }
  });
});

describe("a plan split into slices", function () {
  let market: Market;
  let policy: Policy;
  let healthy: Position;
  let atRisk: Position;
  before(function () {
    market = loadMarket();
    policy = loadPolicy(market);
    healthy = loadPosition("position-healthy.json", market);
    atRisk = loadPosition("position-at-risk.json", market);
  });

  /** A plan selling `weth` WETH for USDC at the policy's floor, after `before` (e.g. a deposit). */
  const planOf = (from: Position, weth: bigint, before: Action[] = []) => {
    const actions: Action[] = [...before, worstSwap(market, policy, WETH, weth, USDC)!];
    return { actions, movements: applyActions(from, actions, market, { policy }).movements };
  };

  it("each slice sells its drawn share, at a minOut within the slippage bound; the amounts sum to the plan's and minOut to at least its", function () {
    const plan = planOf(healthy, 3n * E18 + 1n);
    const sliced = slicePlan(plan, SECRET, WINDOW, market, policy);
    const planSwap = plan.movements.swaps[0]!;
    assert.deepEqual(sliced.planSwaps, [planSwap]);
    assert.equal(sliced.schedule.seedCommitment, scheduleCommitment(SECRET, [planSwap]));
    const sold = sliced.steps.reduce((a, s) => a + (s.swaps[0]?.amountIn ?? 0n), 0n);
    const bought = sliced.steps.reduce((a, s) => a + (s.swaps[0]?.minOut ?? 0n), 0n);
    assert.equal(sold, planSwap.amountIn);
    assert.ok(bought >= planSwap.minOut && bought < planSwap.minOut + BigInt(WINDOW.slices), `${bought} vs ${planSwap.minOut}`);
    for (const step of sliced.steps) {
      const swap = step.swaps[0]!;
      assert.equal(swap.amountIn, step.amounts[0]);
      assert.ok(withinSlippage(swap, market, policy));
      assert.ok(swap.minOut >= slippageFloor(WETH, swap.amountIn, USDC, market, policy));
    }
  });

  it("the transitions chain P_0 -> ... -> P_N in time order, each one the rebalance circuit's mirror accepts; every action is split by the same weights", function () {
    const deposit: Action = { kind: "deposit", asset: USDC, amount: 1_000n * 10n ** 6n + 1n };
    const plan = planOf(healthy, 2n * E18, [deposit]);
    const sliced = slicePlan(plan, SECRET, { ...WINDOW, slices: 3 }, market, policy);
    const weights = sliced.schedule.slices.map((s) => s.weight);
    const deposits = splitByWeights(deposit.amount, weights);
    sliced.steps.forEach((step, k) => {
      assert.deepEqual(step.actions[0], { ...deposit, amount: deposits[k] });
      assert.equal(step.actions[1]!.kind, "swap");
      if (k > 0) assert.ok(step.time >= sliced.steps[k - 1]!.time);
    });
    const ts = scheduleTransitions(sliced, healthy, market, policy, {}, { salt: (i) => 1000n + BigInt(i) });
    assert.equal(ts.length, 3);
    ts.forEach((t, i) => {
      assert.deepEqual(checkTransition(t, market, policy).violations, []);
      assert.equal(t.old.nonce, healthy.nonce + BigInt(i));
      assert.equal(t.next.salt, 1000n + BigInt(i));
      if (i > 0) assert.equal(t.old, ts[i - 1]!.next);
    });
    const last = ts.at(-1)!.next;
    assert.equal(last.collateral[WETH], healthy.collateral[WETH]! - 2n * E18);
    assert.equal(
      last.collateral[USDC]! - healthy.collateral[USDC]! - deposit.amount,
      sliced.steps.reduce((a, s) => a + s.swaps[0]!.minOut, 0n),
    );
  });

  it("a plan that repays debt from what its swaps buy splits: up to each slice the swaps have bought at least what the repayments take", function () {
    // No USDC collateral: every repayment comes from the swaps' proceeds (ceilings against floors).
    const from: Position = { ...healthy, collateral: [healthy.collateral[0]!, 0n, 0n], debt: [0n, 0n, 3_000n * 10n ** 6n] };
    const swap = worstSwap(market, policy, WETH, E18 / 2n + 3n, USDC)!;
    const actions: Action[] = [swap, { kind: "repayWithCollateral", asset: USDC, amount: swap.minOut }];
    const plan = { actions, movements: applyActions(from, actions, market, { policy }).movements };
    for (const slices of [2, 7, 16]) {
      const sliced = slicePlan(plan, SECRET, { ...WINDOW, slices }, market, policy);
      const ts = scheduleTransitions(sliced, from, market, policy);
      const last = ts.at(-1)!.next;
      assert.ok(last.collateral[USDC]! >= 0n && last.collateral[USDC]! < BigInt(slices), `${slices} slices leave ${last.collateral[USDC]} base units`);
      assert.ok(last.debt[USDC]! <= from.debt[USDC]! - swap.minOut + BigInt(slices));
    }
  });

  it("refuses a plan with nothing to split, or a remedy of a position that fails the policy now (exit 2)", function () {
    throwsSchedule(
      () =>
        slicePlan(
          { actions: [{ kind: "deposit", asset: USDC, amount: 1n }], movements: applyActions(healthy, [{ kind: "deposit", asset: USDC, amount: 1n }], market).movements },
          SECRET,
          WINDOW,
          market,
          policy,
        ),
      /^the plan has no swap/,
    );
    const swap = worstSwap(market, policy, WETH, 4n * E18, USDC)!;
    const actions: Action[] = [swap, { kind: "repayWithCollateral", asset: USDC, amount: swap.minOut }];
    const plan = { actions, movements: applyActions(atRisk, actions, market, { policy }).movements };
    const sliced = slicePlan(plan, SECRET, WINDOW, market, policy);
    throwsSchedule(
      () => scheduleTransitions(sliced, atRisk, market, policy),
      /^the position fails the policy now \(stress, historicalVar\): each slice's new position must pass it/,
    );
    // A slice the circuit would refuse is named: selling more than the position holds.
    const tooMuch = {
      actions: [worstSwap(market, policy, WETH, 20n * E18, USDC)!],
      movements: applyActions({ ...healthy, collateral: [20n * E18, 0n, 0n] }, [worstSwap(market, policy, WETH, 20n * E18, USDC)!], market).movements,
    };
    throwsSchedule(
      () => scheduleTransitions(slicePlan(tooMuch, SECRET, WINDOW, market, policy), healthy, market, policy),
      /^slice \d+ \(due at \d+\) cannot be proven: .*exceeds what this position holds/,
    );
  });

  it("the files: commitment.json publishes no amount, pair or time; seed.json holds the committed plan and refuses one the commitment does not bind", function () {
    const plan = planOf(healthy, 2n * E18);
    const sliced = slicePlan(plan, SECRET, WINDOW, market, policy);
    const files = scheduleFiles(sliced, SECRET, { account: healthy.account, nonce: healthy.nonce, market });
    const published = JSON.parse(JSON.stringify(files.commitment));
    assert.deepEqual(Object.keys(published).sort(), ["account", "instance", "kind", "nonce", "seedCommitment", "version", "window"]);
    assert.deepEqual(parseCommitmentFile(published, "commitment.json"), {
      seedCommitment: sliced.schedule.seedCommitment,
      account: healthy.account,
      nonce: healthy.nonce,
      window: WINDOW,
      instance: INSTANCE,
    });
    const seed = JSON.parse(JSON.stringify(files.seed));
    const parsed = parseSeedFile(seed, "seed.json");
    assert.deepEqual(parsed.secret, SECRET);
    assert.deepEqual(parsed.plan, [{ sell: WETH, buy: USDC, amountIn: sliced.planSwaps[0]!.amountIn }]);
    // Another total (one base unit) than the commitment binds: refused.
    const edited = { ...seed, plan: { swaps: [{ ...seed.plan.swaps[0], amountIn: (sliced.planSwaps[0]!.amountIn + 1n).toString() }] } };
    assert.throws(
      () => parseSeedFile(edited, "seed.json"),
      (e: unknown) => e instanceof InputError && e.message === "seed.json: seedCommitment: is not Poseidon(seed, salt, planHash) of this file's seed, salt and plan",
    );
    assert.throws(() => parseSeedFile({ ...seed, salt: "0x05" }, "seed.json"), /seed\.json: salt: the schedule salt is below 2\^64/);
    assert.throws(() => parseSeedFile({ ...seed, plan: { swaps: [] } }, "seed.json"), /seed\.json: plan\.swaps: the plan must have 1 to 2 swaps, got 0/);
    assert.throws(() => parseCommitmentFile({ ...published, window: { ...published.window, slices: 40 } }, "c.json"), /c\.json: window: slices must be an integer from 1 to 16/);
    const schedule = JSON.parse(JSON.stringify(files.schedule));
    assert.equal(schedule.slices.length, 8);
    assert.equal(schedule.slices[3].time, sliced.steps[3]!.time);
    assert.equal(schedule.slices[3].swaps[0].sell, "WETH");
  });

  it("commitment.json: an instance other than the known one, and a window too short to randomize, are refused (exit 2)", function () {
    const sliced = slicePlan(planOf(healthy, 2n * E18), SECRET, WINDOW, market, policy);
    const published = JSON.parse(JSON.stringify(scheduleFiles(sliced, SECRET, { account: healthy.account, nonce: healthy.nonce, market }).commitment));
    for (const instance of ["schedule-slice-1x2", "rebalance-3x3x16", "../../tmp/evil", 7]) {
      assert.throws(
        () => parseCommitmentFile({ ...published, instance }, "commitment.json"),
        (e: unknown) => e instanceof InputError && e.exitCode === 2 && e.message === `commitment.json: instance: expected "${INSTANCE}", got ${JSON.stringify(instance)}`,
      );
    }
    assert.throws(
      () => parseCommitmentFile({ ...published, window: { start: WINDOW.start, seconds: 16, slices: 16 } }, "commitment.json"),
      (e: unknown) => e instanceof InputError && /^commitment\.json: window: the window gives each of its 16 slices 1 s on average, less than 1200 s/.test(e.message),
    );
  });
});

describe("zks execution schedule: the files on disk", function () {
  let dir: string;
  let planFile: string;
  const future = Math.ceil(Date.now() / 1000 / 3600) * 3600 + 86_400;
  const inputs = () => ({ plan: planFile, position: example("position-healthy.json"), market: example("market-grid.json"), policy: example("policy.json") });
  const flags = () => ["--plan", planFile, "--position", example("position-healthy.json"), "--market", example("market-grid.json"), "--policy", example("policy.json")];
  const window: ScheduleWindow = { start: future, seconds: 3 * 1800, slices: 3 };
  const run = (out: string, more: { force?: boolean; reproduce?: string; window?: ScheduleWindow } = {}) => scheduleExecutionFiles({ ...inputs(), out, window, ...more });
  /** InputError / ScheduleError, exit 2, one line matching `fragment`. */
  const refuses = (f: () => unknown, fragment: RegExp) =>
    assert.throws(f, (e: unknown) => {
      assert.ok(e instanceof ZksError, String(e));
      assert.equal(e.exitCode, 2);
      assert.equal(e.message.split("\n").length, 1);
      assert.match(e.message, fragment);
      return true;
    });

  before(function () {
    this.timeout(60_000);
    dir = mkdtempSync(path.join(os.tmpdir(), "zks-execution-files-"));
    writeFileSync(path.join(dir, "allow.json"), JSON.stringify({ wallet: {}, sellable: ["WETH", "WBTC"] }));
    planFile = path.join(dir, "plan.json");
    const plan = zks("plan", ...flags().slice(2), "--allow", path.join(dir, "allow.json"), "--strategy", "delta-neutral", "--out", planFile);
    assert.equal(plan.code, 0, plan.stderr);
  });
  after(function () {
    rmSync(dir, { recursive: true, force: true });
  });

  it("writes seed.json and schedule.json before commitment.json, all owner-only; the seed reproduces the schedule", function () {
    const out = path.join(dir, "first");
    const result = run(out);
    assert.deepEqual(result.written, ["seed.json", "schedule.json", "commitment.json"]);
    for (const name of result.written) assert.equal(statSync(path.join(out, name)).mode & 0o777, 0o600, `${name} is private to its owner`);
    const seed = parseSeedFile(JSON.parse(readFileSync(path.join(out, "seed.json"), "utf8")), "seed.json");
    const commitment = parseCommitmentFile(JSON.parse(readFileSync(path.join(out, "commitment.json"), "utf8")), "commitment.json");
    assert.equal(seed.seedCommitment, commitment.seedCommitment);
    assert.deepEqual(
      JSON.parse(readFileSync(path.join(out, "schedule.json"), "utf8")).slices.map((s: { time: number }) => s.time),
      deriveSchedule(seed.secret, commitment.window, seed.plan).slices.map((s) => s.time),
    );
    assert.doesNotMatch(readFileSync(path.join(out, "commitment.json"), "utf8"), /amount|time"|WETH|swaps/);
    // Reproduced from seed.json: the same files, byte for byte.
    const again = path.join(dir, "again");
    run(again, { reproduce: path.join(out, "seed.json") });
    for (const name of result.written) assert.equal(readFileSync(path.join(again, name), "utf8"), readFileSync(path.join(out, name), "utf8"), name);
  });

  it("refuses to replace existing outputs without --force; with --force the new seed is 0600 even over a world-readable one", function () {
    const out = path.join(dir, "rerun");
    run(out);
    const before = readFileSync(path.join(out, "seed.json"), "utf8");
    refuses(
      () => run(out),
      /^--out: .*rerun\/seed\.json exists: a new schedule would replace it \(and seed\.json may be the secret behind a commitment already published\); .*--force$/,
    );
    assert.equal(readFileSync(path.join(out, "seed.json"), "utf8"), before, "the secret behind the commitment is untouched");
    chmodSync(path.join(out, "seed.json"), 0o644);
    run(out, { force: true });
    assert.notEqual(readFileSync(path.join(out, "seed.json"), "utf8"), before);
    assert.equal(statSync(path.join(out, "seed.json")).mode & 0o777, 0o600, "a rerun must not leave the new seed world-readable");
    // commitment.json alone is enough to refuse.
    const lone = path.join(dir, "lone");
    mkdirSync(lone);
    writeFileSync(path.join(lone, "commitment.json"), "{}");
    refuses(() => run(lone), /lone\/commitment\.json exists/);
    assert.deepEqual(readdirSync(lone), ["commitment.json"]);
  });

  it("an output that cannot be written (seed.json is a directory) is one line, exit 2, and leaves no commitment without its seed", function () {
    const out = path.join(dir, "blocked");
    mkdirSync(path.join(out, "seed.json"), { recursive: true });
    refuses(() => run(out), /^--out: .*blocked\/seed\.json exists and is not a regular file; nothing was written$/);
    refuses(() => run(out, { force: true }), /is not a regular file/);
    assert.deepEqual(readdirSync(out), ["seed.json"]);
    assert.equal(existsSync(path.join(out, "commitment.json")), false);
  });

  it("reproducing refuses a seed committed with another plan", function () {
    const out = path.join(dir, "first");
    const seed = JSON.parse(readFileSync(path.join(out, "seed.json"), "utf8"));
    const other = path.join(dir, "other-seed.json");
    const swaps = [{ ...seed.plan.swaps[0], amountIn: "1" }];
    const secret = parseSeedFile(seed, "seed.json").secret;
    const commitment = scheduleCommitment(
      secret,
      swaps.map((s: { sell: number; buy: number }) => ({ sell: s.sell, buy: s.buy, amountIn: 1n })),
    );
    writeFileSync(other, JSON.stringify({ ...seed, plan: { swaps }, seedCommitment: `0x${commitment.toString(16)}` }));
    refuses(
      () => run(path.join(dir, "other"), { reproduce: other }),
      /other-seed\.json: plan\.swaps: are not the swaps of .*plan\.json: the seed was committed with another plan$/,
    );
  });

  it("the CLI: a start at or before now, and a window under 1,200 s per slice, exit 2 in one line; --reproduce allows a past start", function () {
    this.timeout(60_000);
    const out = path.join(dir, "cli");
    const past = zks("execution", "schedule", ...flags(), "--start", "0", "--out", out);
    assert.equal(past.code, 2);
    assertOneLineError(past, /^zks: --start: 0 \(1970-01-01T00:00:00\.000Z\) is not after now: a window must open after its commitment is published/);
    const short = zks("execution", "schedule", ...flags(), "--window-hours", String(16 / 3600), "--slices", "16", "--out", out);
    assert.equal(short.code, 2);
    assertOneLineError(short, /^zks: --window-hours: the window gives each of its 16 slices 1 s on average, less than 1200 s \(100 blocks\)/);
    assert.equal(existsSync(out), false, "nothing written");
    const replay = zks(
      "execution",
      "schedule",
      ...flags(),
      "--start",
      "1767225600",
      "--window-hours",
      "1.5",
      "--slices",
      "3",
      "--reproduce",
      path.join(dir, "first", "seed.json"),
      "--out",
      out,
    );
    assert.equal(replay.code, 0, replay.stderr);
    assert.match(replay.stdout, /^schedule: 3 slices of WETH -> USDC over 5400 s from 2026-01-01T00:00:00\.000Z \(1800 s apart on average\)\nseed commitment 0x[0-9a-f]{64}\n$/);
    const rerun = zks("execution", "schedule", ...flags(), "--out", out);
    assert.equal(rerun.code, 2);
    assertOneLineError(rerun, /^zks: --out: .*seed\.json exists: .*pass --force$/);
  });
});

describe("the front-running model (constant-product AMM, fee on the input)", function () {
  const pool = poolAt(1000 * Math.sqrt(3000), 3000, 0.003);

  it("the pool sits at the price; a round trip without a victim costs the adversary", function () {
    assert.ok(Math.abs(pool.y / pool.x - 3000) < 1e-9);
    assert.ok(roundTripCost(pool, 5) > 0.029 && roundTripCost(pool, 5) < 0.031, String(roundTripCost(pool, 5)));
  });

  it("the largest front-run leaves the victim exactly its minOut; a larger one makes it revert", function () {
    const x = 10;
    const minOut = sellBase(pool, x).out * 0.995;
    const a = largestFrontRun(pool, x, minOut);
    const hit = sandwich(pool, x, minOut, a);
    assert.equal(hit.reverted, false);
    assert.ok(Math.abs(hit.victimOut - minOut) / minOut < 1e-9);
    assert.equal(sandwich(pool, x, minOut, a * 1.01).reverted, true);
  });

  it("knowing the slice, the adversary takes up to the victim's tolerance when the slice is large enough to pay the fees, nothing when not", function () {
    const big = 50;
    const clean = sellBase(pool, big).out;
    const { frontRun, outcome } = knownSandwich(pool, big, clean * 0.995);
    assert.ok(frontRun > 0 && outcome.profit > 0);
    assert.ok(clean - outcome.victimOut <= clean * 0.005 + 1e-6);
    assert.equal(knownSandwich(pool, 0.5, sellBase(pool, 0.5).out * 0.995).frontRun, 0);
  });

  it("adaptive: an adversary that watches the gate bets in the last blocks of a public sub-window, where the blind bet over all of them does not pay", function () {
    const cheap = poolAt(1000 * Math.sqrt(3000), 3000, 0.0005);
    const minOutOf = (v: number) => sellBase(cheap, v).out * 0.995;
    const sizes = [2, 2.5, 3];
    const known = knownSandwich(cheap, 2.5, minOutOf(2.5));
    // Certain landing (the last block left): the known sandwich's profit.
    const certain = adaptiveFrontRun(cheap, [{ probability: 1, sizes: [2.5] }], 0, minOutOf);
    assert.ok(Math.abs(certain.expectedProfit - known.outcome.profit) < 1e-6 * Math.max(1, known.outcome.profit));
    // Over 225 blocks the blind bet loses; the adaptive adversary's (1/K) sum_r of the per-r gains is positive.
    assert.deepEqual(blindFrontRun(cheap, sizes, minOutOf, 225), { frontRun: 0, expectedProfit: 0 });
    let adaptive = 0;
    for (let r = 1; r <= 225; r++) adaptive += adaptiveFrontRun(cheap, [{ probability: 1 / r, sizes }], 1 - 1 / r, minOutOf).expectedProfit / 225;
    assert.ok(adaptive > 0, `adaptive ${adaptive}`);
    // blindFrontRun is the adaptive bet at odds 1 / blocks, summed over the blocks.
    const four = blindFrontRun(cheap, sizes, minOutOf, 4);
    const perBlock = adaptiveFrontRun(cheap, [{ probability: 1 / 4, sizes }], 3 / 4, minOutOf);
    assert.ok(Math.abs(four.expectedProfit - 4 * perBlock.expectedProfit) < 1e-9 * Math.max(1, four.expectedProfit));
  });
});

describe("the execution backtest", function () {
  it("is reproducible; a known schedule is sandwiched, splitting cuts slippage; the adaptive adversary takes from the sub-window rule and far less from the whole-window one", function () {
    this.timeout(60_000);
    // 25 blocks per slice, a 5 bp pool, 2% of it: where the adaptive adversary profits from public sub-windows.
    const options = { paths: 150, tradeFractions: [0.02], sizeSamples: 40, fee: 0.0005, windowHours: (8 * 25 * 12) / 3600 };
    const a = runExecutionBacktest(options);
    assert.deepEqual(runExecutionBacktest(options), a);
    assert.equal(a.blocksPerSlice, 25);
    const row = (schedule: string) => a.rows.find((r) => r.schedule === schedule)!;
    assert.deepEqual(
      a.rows.map((r) => r.schedule),
      ["single", "deterministic", "sub-window", "randomized"],
    );
    assert.ok(row("deterministic").frontRunBps.mean > 40, "2% in 8 known slices is sandwiched to the tolerance");
    assert.ok(row("deterministic").slippageBps.mean < row("single").slippageBps.mean / 2);
    const sub = row("sub-window");
    const whole = row("randomized");
    assert.ok(sub.attackedShare > 0 && sub.frontRunBps.mean > 0, `the sub-window rule is attacked near each sub-window's end: ${JSON.stringify(sub)}`);
    assert.ok(whole.frontRunBps.mean < sub.frontRunBps.mean / 2, `whole window ${whole.frontRunBps.mean} vs sub-window ${sub.frontRunBps.mean}`);
    assert.ok(whole.attackedShare < sub.attackedShare / 2);
    // With one block per slice a seeded time no longer hides the block.
    const tight = runExecutionBacktest({ ...options, paths: 40, windowHours: (8 * 12) / 3600 });
    assert.equal(tight.blocksPerSlice, 1);
    assert.ok(tight.rows.find((r) => r.schedule === "sub-window")!.frontRunBps.mean > 20);
  });

  it("refuses options it cannot run, in one line (exit 2)", function () {
    throwsSchedule(() => runExecutionBacktest({ paths: 0 }), /^paths must be an integer from 1 to 100000, got 0$/);
    throwsSchedule(() => runExecutionBacktest({ slices: 17 }), /^slices must be an integer from 1 to 16/);
    throwsSchedule(() => runExecutionBacktest({ windowHours: 0.001 }), /whole number of seconds/);
    throwsSchedule(() => runExecutionBacktest({ windowHours: 0.01 }), /less than one 12-second block/);
    throwsSchedule(() => runExecutionBacktest({ tradeFractions: [0.7] }), /trade fractions must be in \(0, 0\.5\]/);
  });
});
