/**
 * A randomized execution end to end with real proofs (docs/execution.md): a plan selling WETH for
 * USDC split into 2 seeded slices, each a real Rebalance proof on rebalance-3x3x16 bound to one
 * gate (P_0 -> P_1 -> P_2, each passing the policy) with its ScheduleSlice proof, verified by
 * verifyScheduleChain against what the owner published (commitment.json: seed commitment,
 * account, nonce, window), the gate's context and the block times; then every attack the
 * verifier names, each refused with its own error: a Rebalance for no gate or another one, a
 * chain of another account or one that starts after an unscheduled transition, a slice of
 * another size or at another time, a reordered, skipped or replayed slice, a slice proof from
 * another seed or another plan (the review's "published 3 WETH, executed 1.5"), a broken link, a
 * swap the plan does not make, an edited proof, another slice key; and the inputs a verifier must
 * not take (no gate, a delay beyond the window's limit, a window too short). The longer chain (3
 * slices) and the CLI run in test/execution.e2e.test.ts.
 */
import assert from "node:assert/strict";
import { loadCircuitArtifacts } from "../packages/node/src/artifacts.ts";
import type { CircuitArtifacts } from "../packages/sdk/src/api/artifacts.ts";
import { proveRebalance, type RebalanceProof } from "../packages/sdk/src/api/rebalance.ts";
import { gateContext } from "../packages/sdk/src/chain/context.ts";
import { commitPosition } from "../packages/sdk/src/commitment/position-commitment.ts";
import { InputError, ZksError } from "../packages/sdk/src/core/errors.ts";
import {
  parseCommitmentFile,
  proveScheduleSlice,
  ScheduleChainError,
  ScheduleError,
  scheduleFiles,
  scheduleTransitions,
  slicePlan,
  verifyScheduleChain,
  type PublishedCommitment,
  type ScheduleChainFailure,
  type ScheduleChainInput,
  type ScheduleChainStep,
  type ScheduleSecret,
  type ScheduleSliceProof,
  type ScheduleSwap,
  type ScheduleWindow,
  type SlicedPlan,
} from "../packages/sdk/src/execution/index.ts";
import type { Market, Policy, Position } from "../packages/sdk/src/inputs/types.ts";
import { releaseProverThreads } from "../packages/sdk/src/prover/release.ts";
import { applyActions, type Action } from "../packages/sdk/src/rebalance/actions.ts";
import { backedTransition } from "../packages/sdk/src/rebalance/conservation.ts";
import { worstSwap } from "../packages/sdk/src/rebalance/trades.ts";
import type { Transition } from "../packages/sdk/src/rebalance/transition.ts";
import { loadMarket, loadPolicy, loadPosition } from "./helpers/examples.ts";
import { seededEphemeral, TEST_KEEPER } from "./helpers/keeper-key.ts";

const WETH = 0;
const WBTC = 1;
const USDC = 2;
const E18 = 10n ** 18n;
const SECRET: ScheduleSecret = { seed: 0x5eed_0000_aaaa_bbbb_cccc_dddd_eeee_ffffn, salt: (1n << 240n) + 21n };
const OTHER_SEED: ScheduleSecret = { seed: SECRET.seed + 1n, salt: SECRET.salt };
const WINDOW: ScheduleWindow = { start: 1_767_225_600, seconds: 2 * 1800, slices: 2 };
/** The gate the verifier watches, and another. */
const GATE = gateContext(31337n, "0x5FbDB2315678afecb367f032d93F642f64180aa3");
const OTHER_GATE = gateContext(31337n, "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512");

describe("a randomized execution chain with real proofs (rebalance-3x3x16 + schedule-slice-16x2)", function () {
  let market: Market;
  let policy: Policy;
  let start: Position;
  let rebalanceArtifacts: CircuitArtifacts;
  let sliceArtifacts: CircuitArtifacts;
  let sliced: SlicedPlan;
  let published: PublishedCommitment;
  let transitions: Transition[];
  let rebalances: RebalanceProof[];
  let slices: ScheduleSliceProof[];
  const ephemeral = seededEphemeral(21);

  const prove = (t: Transition, context = GATE) =>
    proveRebalance({ transition: t, market, policy, keeperKey: TEST_KEEPER.publicKey, ephemeralSecret: ephemeral(), context }, rebalanceArtifacts);
  const proveSlice = (index: number, r: RebalanceProof, secret = SECRET, plan: ScheduleSwap[] = sliced.planSwaps) =>
    proveScheduleSlice({ secret, window: WINDOW, index, plan, oldCommitment: r.oldCommitment, newCommitment: r.newCommitment }, sliceArtifacts);
  /** The honest steps, each included one block after its drawn time. */
  const honestSteps = (): ScheduleChainStep[] => rebalances.map((rebalance, i) => ({ rebalance, slice: slices[i]!, blockTime: slices[i]!.sliceTime + 12 }));
  const chain = (steps: ScheduleChainStep[], more: Partial<ScheduleChainInput> = {}): ScheduleChainInput => ({
    commitment: published,
    context: GATE,
    steps,
    keys: { rebalance: rebalanceArtifacts, slice: sliceArtifacts },
    ...more,
  });
  /** Refused with exactly this failure, at this step, in one line (exit 1). */
  const refused = (input: ScheduleChainInput, failure: ScheduleChainFailure, step: number | undefined, fragment: RegExp) =>
    assert.rejects(verifyScheduleChain(input), (e: unknown) => {
      assert.ok(e instanceof ScheduleChainError, `expected ScheduleChainError, got ${String(e)}`);
      assert.equal(e.failure, failure, e.message);
      assert.equal(e.step, step, e.message);
      assert.equal(e.exitCode, 1);
      assert.match(e.message, fragment);
      assert.equal(e.message.split("\n").length, 1);
      return true;
    });
  /** Not a chain to check: one line, exit 2. */
  const badInput = (input: ScheduleChainInput, fragment: RegExp) =>
    assert.rejects(verifyScheduleChain(input), (e: unknown) => {
      assert.ok(e instanceof ScheduleError || e instanceof InputError, `expected exit-2 error, got ${String(e)}`);
      assert.equal((e as ZksError).exitCode, 2);
      assert.match((e as Error).message, fragment);
      return true;
    });

  before(async function () {
    market = loadMarket();
    policy = loadPolicy(market);
    start = loadPosition("position-healthy.json", market);
    rebalanceArtifacts = loadCircuitArtifacts("rebalance-3x3x16");
    sliceArtifacts = loadCircuitArtifacts("schedule-slice-16x2");
    const actions: Action[] = [worstSwap(market, policy, WETH, 3n * E18 + 12_345n, USDC)!];
    const plan = { actions, movements: applyActions(start, actions, market, { policy }).movements };
    sliced = slicePlan(plan, SECRET, WINDOW, market, policy);
    // What the owner publishes before the window, read back as a verifier reads it.
    published = parseCommitmentFile(
      JSON.parse(JSON.stringify(scheduleFiles(sliced, SECRET, { account: start.account, nonce: start.nonce, market }).commitment)),
      "commitment.json",
    );
    transitions = scheduleTransitions(sliced, start, market, policy, {}, { salt: (i) => 0xabc0n + BigInt(i) });
    rebalances = [];
    for (const t of transitions) rebalances.push(await prove(t));
    slices = [];
    for (const [i, r] of rebalances.entries()) slices.push(await proveSlice(i, r));
  });
  after(releaseProverThreads);

  it("the honest chain verifies against the published commitment and the gate: each slice sold its drawn amount at (or just after) its drawn time", async function () {
    // The gate's record of the account when the window opened: P_0's commitment, computed from the position, not from the chain.
    const held = commitPosition(start, start.salt!, { nAssets: 3, nInstruments: 3 });
    const report = await verifyScheduleChain(chain(honestSteps(), { startCommitment: held }));
    assert.equal(report.complete, true);
    assert.deepEqual(report.sold, [{ sell: WETH, buy: USDC, amountIn: sliced.planSwaps[0]!.amountIn }]);
    assert.deepEqual(
      report.steps.map((s) => [s.slice, s.sliceTime, s.delaySeconds, s.amounts]),
      sliced.steps.map((s) => [s.index, s.time, 12, s.amounts]),
    );
    // The chain links P_0 -> P_1 -> P_2 and P_2 holds 3 WETH less.
    assert.equal(rebalances[1]!.oldCommitment, rebalances[0]!.newCommitment);
    assert.equal(transitions[1]!.next.collateral[WETH], start.collateral[WETH]! - sliced.planSwaps[0]!.amountIn);
    // A chain in progress verifies as partial.
    assert.equal((await verifyScheduleChain(chain(honestSteps().slice(0, 1), { partial: true }))).complete, false);
  });

  it("a Rebalance for no gate (context 0) or for another gate is refused (wrongGate); the verifier must name its gate", async function () {
    const offChain = await prove(transitions[0]!, 0n);
    await refused(chain([{ ...honestSteps()[0]!, rebalance: offChain }, honestSteps()[1]!]), "wrongGate", 0, /bound to no gate \(context 0: off-chain only\)/);
    await refused(chain(honestSteps(), { context: OTHER_GATE }), "wrongGate", 0, /bound to another gate \(context \d+\)/);
    await badInput(chain(honestSteps(), { context: 0n }), /^the gate context must be gateContext\(chainId, gate\)/);
  });

  it("a chain of another account, or one that starts after a transition the schedule does not cover (wrongStart); a start the gate did not hold (brokenLink)", async function () {
    await refused(
      chain(honestSteps(), { commitment: { ...published, account: "0x000000000000000000000000000000000000dEaD" } }),
      "wrongStart",
      0,
      /the first transition is of account 0x[0-9a-f]{40}, not the published 0x000000000000000000000000000000000000dEaD/,
    );
    // Published at nonce n - 1: an unscheduled transition (a dump at once) took nonce n - 1 -> n before the slices.
    await refused(
      chain(honestSteps(), { commitment: { ...published, nonce: published.nonce + 7n } }),
      "wrongStart",
      0,
      new RegExp(`starts at nonce ${published.nonce}, not the published ${published.nonce + 7n} \\(a transition the schedule does not cover came first\\)`),
    );
    await refused(chain(honestSteps(), { startCommitment: rebalances[1]!.newCommitment }), "brokenLink", 0, /does not start from the commitment the gate held/);
  });

  it("a slice of another size (not the seed's), and with it a broken link", async function () {
    // The executor sells one base unit more in slice 0: a real Rebalance proof, and a slice proof bound to it.
    const bigger = sliced.steps[0]!.swaps.map((s) => ({ ...s, amountIn: s.amountIn + 1n }));
    const applied = applyActions(
      start,
      bigger.map((s): Action => ({ kind: "swap", ...s })),
      market,
      { policy },
    );
    const off = await prove(backedTransition(start, { ...applied.position, salt: 0xdeadn }, applied.movements, market, policy, false));
    const offSlice = await proveSlice(0, off);
    const offStep: ScheduleChainStep = { rebalance: off, slice: offSlice, blockTime: offSlice.sliceTime };
    await refused(chain([offStep], { partial: true }), "sizeMismatch", 0, /the Rebalance sells \d+ of asset 0 for asset 2, but the seed draws \d+ for slice 0/);
    // The honest slice 1 does not start where the bigger slice 0 ended.
    await refused(chain([offStep, honestSteps()[1]!]), "brokenLink", 1, /does not start from step 0's new commitment/);
  });

  it("a swap the committed plan does not make: slice 0's amount sold for WBTC instead of USDC (unplannedSwap)", async function () {
    const swap = worstSwap(market, policy, WETH, sliced.steps[0]!.amounts[0]!, WBTC)!;
    const applied = applyActions(start, [swap], market, { policy });
    const wrong = await prove(backedTransition(start, { ...applied.position, salt: 0xbeefn }, applied.movements, market, policy, false));
    const wrongSlice = await proveSlice(0, wrong);
    await refused(
      chain([{ rebalance: wrong, slice: wrongSlice, blockTime: wrongSlice.sliceTime }], { partial: true }),
      "unplannedSwap",
      0,
      /swaps asset 0 for asset 1, a pair the committed plan does not trade/,
    );
  });

  it("reordered, skipped and replayed slices", async function () {
    const [a, b] = honestSteps() as [ScheduleChainStep, ScheduleChainStep];
    await refused(chain([b, a]), "wrongStart", 0, /starts at nonce/);
    await refused(chain([b, a], { commitment: { ...published, nonce: published.nonce + 1n } }), "outOfOrder", 0, /step 0 is slice 1/);
    await refused(chain([b], { partial: true, commitment: { ...published, nonce: published.nonce + 1n } }), "missingSlice", 0, /slice 0 was skipped/);
    await refused(chain([a]), "missingSlice", 1, /stops after 1 of 2 slices/);
    await refused(chain([a, { ...b, slice: a.slice }]), "replayedSlice", 1, /slice 0's proof was already used at step 0/);
    // Slice 1's proof beside slice 0's Rebalance (in slice 1's place): bound to another transition.
    await refused(chain([a, { ...b, rebalance: a.rebalance }]), "replayedSlice", 1, /bound to another transition/);
  });

  it("a slice proof made with another seed, or for another plan than the committed one (half the total, chosen after the window opened)", async function () {
    const other = await proveSlice(0, rebalances[0]!, OTHER_SEED);
    await refused(chain([{ ...honestSteps()[0]!, slice: other }, honestSteps()[1]!]), "seedMismatch", 0, /another seed or plan than the ones committed to/);
    // Published 3 WETH; the owner proves slices of a 1.5 WETH plan with the committed seed: another commitment.
    const half = await proveSlice(0, rebalances[0]!, SECRET, [{ ...sliced.planSwaps[0]!, amountIn: sliced.planSwaps[0]!.amountIn / 2n }]);
    assert.notEqual(half.seedCommitment, published.seedCommitment);
    await refused(chain([{ ...honestSteps()[0]!, slice: half }], { partial: true }), "seedMismatch", 0, /another seed or plan/);
    await refused(chain(honestSteps(), { commitment: { ...published, seedCommitment: other.seedCommitment } }), "seedMismatch", 0, /another seed/);
  });

  it("a slice at another time: before its drawn time (tooEarly), or later than maxDelaySeconds (tooLate); a delay beyond a quarter of the spacing is refused", async function () {
    const steps = honestSteps();
    await refused(chain([{ ...steps[0]!, blockTime: steps[0]!.slice.sliceTime - 1 }, steps[1]!]), "tooEarly", 0, /1 s before slice 0's drawn time/);
    await refused(chain([steps[0]!, { ...steps[1]!, blockTime: steps[1]!.slice.sliceTime + 301 }]), "tooLate", 1, /301 s after slice 1's drawn time .* \(at most 300 s\)/);
    await verifyScheduleChain(chain([steps[0]!, { ...steps[1]!, blockTime: steps[1]!.slice.sliceTime + 450 }], { maxDelaySeconds: 450 }));
    // 1,800 s per slice: at most 450 s late; a later bound would let the executor wait for its price.
    await badInput(chain(steps, { maxDelaySeconds: 451 }), /^maxDelaySeconds must be an integer from 0 to 450 \(a quarter of the window's mean spacing of 1800 s\), got 451$/);
  });

  it("another window, a window too short to randomize, another slice key or instance, and edited proofs", async function () {
    await refused(chain(honestSteps(), { commitment: { ...published, window: { ...WINDOW, start: WINDOW.start + 60 } } }), "windowMismatch", 0, /not the published/);
    await badInput(
      chain(honestSteps(), { commitment: { ...published, window: { ...WINDOW, seconds: 32 } } }),
      /^the window gives each of its 2 slices 16 s on average, less than 1200 s/,
    );
    await badInput(chain(honestSteps(), { keys: { rebalance: rebalanceArtifacts, slice: { ...sliceArtifacts, instance: "schedule-slice-4x2" } } }), /is not schedule-slice-16x2/);
    await badInput(
      chain(honestSteps(), { commitment: { ...published, instance: "schedule-slice-4x2" as PublishedCommitment["instance"] } }),
      /names the slice instance "schedule-slice-4x2"/,
    );
    const [a, b] = honestSteps() as [ScheduleChainStep, ScheduleChainStep];
    const signals = [...a.slice.publicSignals];
    signals[1] = String(BigInt(signals[1]!) - 600n) as (typeof signals)[number];
    await refused(
      chain([{ ...a, slice: { ...a.slice, publicSignals: signals, sliceTime: a.slice.sliceTime - 600 } }, b]),
      "invalidProof",
      0,
      /the slice proof: the Groth16 proof does not verify/,
    );
    await refused(
      chain([a, { ...b, rebalance: { ...b.rebalance, nonce: b.rebalance.nonce + 1n } }]),
      "invalidProof",
      1,
      /the Rebalance proof: nonce is not what the public signals encode/,
    );
  });
});
