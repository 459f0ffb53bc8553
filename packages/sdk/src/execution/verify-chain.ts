/**
 * verifyScheduleChain: that a randomized execution followed its committed schedule
 * (docs/execution.md, "What the verifier checks"). Each step is a Rebalance proof (the slice's
 * transition, which proves P_{i+1} passes the policy) and a ScheduleSlice proof (its time and
 * amounts are the ones the committed seed draws from the committed plan), with the time of the
 * block that included the Rebalance. The verifier takes what the owner published before the
 * window (commitment.json: seed commitment, account, nonce, window) and the context of the gate it
 * watches; nothing about the plan comes from the caller: its pairs are the slice proofs' public
 * signals, its totals are bound by the commitment. Browser-safe.
 */
import { checkRebalanceProof, type RebalanceProof } from "../api/rebalance.ts";
import type { CircuitKey } from "../api/artifacts.ts";
import { ZksError } from "../core/errors.ts";
import { SNARK_FIELD } from "../core/field.ts";
import type { PublishedCommitment } from "./schedule-files.ts";
import { checkScheduleSliceProof, sliceShape, type ScheduleSliceProof } from "./slice-proof.ts";
import { checkExecutionWindow, maxDelayLimit, SCHEDULE_SLICE_INSTANCE, ScheduleError } from "./schedule.ts";

/** How late a slice may land after its due time by default: 25 blocks of 12 s (within the limit of every window an execution may use). */
export const DEFAULT_MAX_DELAY_SECONDS = 300;

/** Why a chain is refused: one name per attack (docs/execution.md lists them). */
export type ScheduleChainFailure =
  /** A Rebalance or slice proof does not verify under its key. */
  | "invalidProof"
  /** A Rebalance proof made for another gate (its context is not the gate's). */
  | "wrongGate"
  /** The first transition is not of the published account, or does not start at the published nonce. */
  | "wrongStart"
  /** A slice proof was made with another seed, salt or plan than the published commitment's. */
  | "seedMismatch"
  /** A slice proof was made for another window or slice count. */
  | "windowMismatch"
  /** A slice proof used twice, or one bound to another transition's commitments. */
  | "replayedSlice"
  /** Slices not in their schedule order. */
  | "outOfOrder"
  /** A slice left out (or the chain stops before its last slice). */
  | "missingSlice"
  /** A transition that does not start where the previous one ended (or from the given start commitment). */
  | "brokenLink"
  /** A Rebalance sells another amount of a plan pair than its slice proof's (a size not from the seed). */
  | "sizeMismatch"
  /** A Rebalance swaps a pair the committed plan does not. */
  | "unplannedSwap"
  /** A slice included before its drawn time. */
  | "tooEarly"
  /** A slice included more than maxDelaySeconds after its drawn time. */
  | "tooLate";

/** A chain that does not follow its schedule: exit code 1 (a check failed), one line naming the step and why. */
export class ScheduleChainError extends ZksError {
  constructor(
    readonly failure: ScheduleChainFailure,
    readonly step: number | undefined,
    detail: string,
  ) {
    super(`schedule chain refused (${failure})${step === undefined ? "" : ` at step ${step}`}: ${detail}`, 1);
  }
}

export interface ScheduleChainStep {
  /** The slice's Rebalance proof (proveRebalance). */
  rebalance: RebalanceProof;
  /** Its slice proof (proveScheduleSlice), bound to the Rebalance proof's commitments. */
  slice: ScheduleSliceProof;
  /** Unix time of the block that included the Rebalance (the gate's event). */
  blockTime: number;
}

export interface ScheduleChainInput {
  /** What the owner published before the window opened (parseCommitmentFile of commitment.json): seed commitment, account, nonce, window. */
  commitment: PublishedCommitment;
  /** gateContext(chainId, gate) of the gate the verifier watches: every Rebalance proof must be bound to it. Nonzero. */
  context: bigint;
  /** The executed slices, in order. */
  steps: readonly ScheduleChainStep[];
  /** The verifier's own keys: the Rebalance instance's, and SCHEDULE_SLICE_INSTANCE's (loaded by that name, never by one a file supplies). */
  keys: { rebalance: CircuitKey; slice: CircuitKey };
  /** The commitment the gate held for the account when the window opened, when the verifier has it: the first transition must start from it. */
  startCommitment?: bigint;
  /** Latest inclusion after a slice's drawn time (default DEFAULT_MAX_DELAY_SECONDS); at most a quarter of the window's mean spacing. */
  maxDelaySeconds?: number;
  /** Accept a chain still in progress (its first steps); default false: every slice must be there. */
  partial?: boolean;
}

/** Amounts sold of one pair of the committed plan. */
export interface SoldPair {
  sell: number;
  buy: number;
  amountIn: bigint;
}

export interface ScheduleChainReport {
  valid: true;
  /** Per step: its slice, drawn time, inclusion time and delay, amounts sold per plan pair (the order of `sold`). */
  steps: { slice: number; sliceTime: number; blockTime: number; delaySeconds: number; amounts: bigint[] }[];
  /**
   * Amounts sold per pair of the committed plan (its non-empty slots) over the steps. For a
   * complete chain these are the committed plan's totals: the slices' shares telescope to them.
   */
  sold: SoldPair[];
  complete: boolean;
}

const sameProof = (a: ScheduleSliceProof, b: ScheduleSliceProof): boolean => JSON.stringify(a.proof) === JSON.stringify(b.proof);
const pairKey = (sell: bigint | number, buy: bigint | number): string => `${String(sell)}>${String(buy)}`;

/**
 * Checks a schedule chain; returns its report or throws ScheduleChainError (exit 1) naming the
 * first step and rule that fails, ScheduleError (exit 2) for inputs that are not a chain to check
 * (a window an execution may not use, a zero context, another slice key, a delay beyond the
 * window's limit). The checks, in order: every proof verifies; every Rebalance is bound to the
 * gate's context; the first transition is of the published account at the published nonce; the
 * slice proofs are made with the published commitment (seed and plan) and window; no slice proof
 * appears twice; slice k is step k; each slice proof is bound to its Rebalance proof's
 * commitments; the transitions chain (each starts where the previous ended, same account,
 * nonce + 1); every Rebalance sells exactly its slice's amounts of the committed pairs and
 * nothing else; every slice is included at or after its drawn time and at most maxDelaySeconds
 * later; and, unless partial, every slice is there.
 */
export async function verifyScheduleChain(input: ScheduleChainInput): Promise<ScheduleChainReport> {
  const { commitment, steps, keys, context } = input;
  const window = commitment.window;
  checkExecutionWindow(window);
  if (commitment.instance !== SCHEDULE_SLICE_INSTANCE) throw new ScheduleError(`the commitment names the slice instance "${commitment.instance}", not ${SCHEDULE_SLICE_INSTANCE}`);
  const shape = sliceShape(keys.slice);
  if (typeof context !== "bigint" || context <= 0n || context >= SNARK_FIELD) {
    throw new ScheduleError("the gate context must be gateContext(chainId, gate) of the gate the Rebalance proofs land on: a nonzero field element");
  }
  const maxDelay = input.maxDelaySeconds ?? DEFAULT_MAX_DELAY_SECONDS;
  const limit = maxDelayLimit(window);
  if (!Number.isInteger(maxDelay) || maxDelay < 0 || maxDelay > limit) {
    throw new ScheduleError(
      `maxDelaySeconds must be an integer from 0 to ${limit} (a quarter of the window's mean spacing of ${Math.floor(window.seconds / window.slices)} s), got ${maxDelay}`,
    );
  }
  const fail = (failure: ScheduleChainFailure, step: number | undefined, detail: string): never => {
    throw new ScheduleChainError(failure, step, detail);
  };
  if (steps.length === 0) fail("missingSlice", undefined, "the chain has no step");
  if (steps.length > window.slices) fail("replayedSlice", undefined, `${steps.length} steps for a schedule of ${window.slices} slices`);

  // 1. Every proof verifies under the verifier's keys (a forged signal is refused here).
  for (const [i, step] of steps.entries()) {
    const slice = await checkScheduleSliceProof(step.slice, keys.slice);
    if (!slice.valid) fail("invalidProof", i, `the slice proof: ${slice.problem}`);
    const rebalance = await checkRebalanceProof(step.rebalance, keys.rebalance);
    if (!rebalance.valid) fail("invalidProof", i, `the Rebalance proof: ${rebalance.problem}`);
  }
  // 2. The gate, and the published start: a chain of another gate (or of none: context 0), of
  // another account, or one that begins after an unscheduled transition is not this execution.
  for (const [i, { rebalance }] of steps.entries()) {
    if (rebalance.context !== context) {
      fail(
        "wrongGate",
        i,
        rebalance.context === 0n
          ? "the Rebalance proof is bound to no gate (context 0: off-chain only)"
          : `the Rebalance proof is bound to another gate (context ${rebalance.context})`,
      );
    }
  }
  const first = steps[0]!.rebalance;
  if (first.account !== commitment.account.toLowerCase()) fail("wrongStart", 0, `the first transition is of account ${first.account}, not the published ${commitment.account}`);
  if (first.nonce !== commitment.nonce) {
    fail("wrongStart", 0, `the first transition starts at nonce ${first.nonce}, not the published ${commitment.nonce} (a transition the schedule does not cover came first)`);
  }
  if (input.startCommitment !== undefined && first.oldCommitment !== input.startCommitment) {
    fail("brokenLink", 0, "the first transition does not start from the commitment the gate held when the window opened");
  }
  // 3. The published commitment (seed, salt and plan) and window.
  for (const [i, { slice }] of steps.entries()) {
    if (slice.seedCommitment !== commitment.seedCommitment) {
      fail("seedMismatch", i, "the slice proof was made with another seed or plan than the ones committed to before the window (its seed commitment differs)");
    }
    if (slice.slices !== window.slices || slice.windowStart !== window.start || slice.windowSeconds !== window.seconds) {
      fail(
        "windowMismatch",
        i,
        `the slice proof is for ${slice.slices} slices over [${slice.windowStart}, +${slice.windowSeconds} s), not the published ${window.slices} over [${window.start}, +${window.seconds} s)`,
      );
    }
  }
  // 4. No slice twice, then slice k at step k (slice k is the k-th in time).
  for (const [i, { slice }] of steps.entries()) {
    const firstUse = steps.findIndex((s) => s.slice.slice === slice.slice || sameProof(s.slice, slice));
    if (firstUse !== i) fail("replayedSlice", i, `slice ${slice.slice}'s proof was already used at step ${firstUse}`);
  }
  for (const [i, { slice }] of steps.entries()) {
    if (slice.slice === i) continue;
    if (slice.slice > i && steps.slice(i).every((s, k) => k === 0 || s.slice.slice > steps[i + k - 1]!.slice.slice)) {
      fail("missingSlice", i, `slice ${i} was skipped: step ${i} is slice ${slice.slice}`);
    }
    fail("outOfOrder", i, `step ${i} is slice ${slice.slice}; slices run in their schedule order`);
  }
  // 5. Each slice proof belongs to its own transition, and the transitions chain.
  for (const [i, { slice, rebalance }] of steps.entries()) {
    if (slice.oldCommitment !== rebalance.oldCommitment || slice.newCommitment !== rebalance.newCommitment) {
      fail("replayedSlice", i, "the slice proof is bound to another transition (its commitments are not this Rebalance proof's)");
    }
  }
  for (let i = 1; i < steps.length; i++) {
    const [before, after] = [steps[i - 1]!.rebalance, steps[i]!.rebalance];
    if (after.oldCommitment !== before.newCommitment) fail("brokenLink", i, `the transition does not start from step ${i - 1}'s new commitment`);
    if (after.account !== before.account) fail("brokenLink", i, `the transition is of account ${after.account}, not ${before.account}`);
    if (after.nonce !== before.nonce + 1n) fail("brokenLink", i, `the transition starts at nonce ${after.nonce}, not ${before.nonce + 1n}`);
  }
  // 6. Each Rebalance sells exactly its slice's amounts of the committed pairs (the slice proofs'
  // public planSell / planBuy, bound by the commitment: all steps carry the same ones), nothing else.
  const plan = steps[0]!.slice;
  const pairs: SoldPair[] = [];
  for (let s = 0; s < shape.nSwaps; s++) {
    if (plan.planSell[s] === plan.planBuy[s]) continue;
    if (!pairs.some((p) => pairKey(p.sell, p.buy) === pairKey(plan.planSell[s]!, plan.planBuy[s]!))) {
      pairs.push({ sell: Number(plan.planSell[s]), buy: Number(plan.planBuy[s]), amountIn: 0n });
    }
  }
  const report: ScheduleChainReport["steps"] = [];
  for (const [i, { slice, rebalance, blockTime }] of steps.entries()) {
    const drawn = new Map<string, bigint>();
    for (let s = 0; s < shape.nSwaps; s++) {
      const key = pairKey(slice.planSell[s]!, slice.planBuy[s]!);
      drawn.set(key, (drawn.get(key) ?? 0n) + slice.swapIn[s]!);
    }
    const sold = new Map<string, bigint>();
    for (const swap of rebalance.swaps) {
      const key = pairKey(swap.sell, swap.buy);
      if (!drawn.has(key)) fail("unplannedSwap", i, `the Rebalance swaps asset ${swap.sell} for asset ${swap.buy}, a pair the committed plan does not trade`);
      sold.set(key, (sold.get(key) ?? 0n) + swap.amountIn);
    }
    for (const [key, amount] of drawn) {
      const got = sold.get(key) ?? 0n;
      if (got !== amount) {
        const [sell, buy] = key.split(">");
        fail("sizeMismatch", i, `the Rebalance sells ${got} of asset ${sell} for asset ${buy}, but the seed draws ${amount} for slice ${slice.slice}`);
      }
    }
    const amounts = pairs.map((p) => sold.get(pairKey(p.sell, p.buy)) ?? 0n);
    amounts.forEach((a, k) => (pairs[k]!.amountIn += a));
    // 7. On time: not before its drawn time, at most maxDelay after.
    if (!Number.isInteger(blockTime)) throw new ScheduleError(`step ${i}: blockTime must be unix seconds, got ${blockTime}`);
    if (blockTime < slice.sliceTime) fail("tooEarly", i, `included at ${blockTime}, ${slice.sliceTime - blockTime} s before slice ${slice.slice}'s drawn time ${slice.sliceTime}`);
    if (blockTime > slice.sliceTime + maxDelay) {
      fail("tooLate", i, `included at ${blockTime}, ${blockTime - slice.sliceTime} s after slice ${slice.slice}'s drawn time ${slice.sliceTime} (at most ${maxDelay} s)`);
    }
    report.push({ slice: slice.slice, sliceTime: slice.sliceTime, blockTime, delaySeconds: blockTime - slice.sliceTime, amounts });
  }
  const complete = steps.length === window.slices;
  if (!input.partial && !complete) fail("missingSlice", steps.length, `the chain stops after ${steps.length} of ${window.slices} slices`);
  return { valid: true, steps: report, sold: pairs, complete };
}
