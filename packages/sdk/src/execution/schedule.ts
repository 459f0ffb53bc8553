/**
 * The schedule rule of a time-weighted, randomized execution (docs/execution.md): a plan's swaps
 * are split into `slices` slices over a window; the slices' times (the sorted draws of a secret
 * seed over the whole window) and their shares of every swap are drawn from the seed, and the
 * owner commits to the seed AND the plan before the window opens. The exact mirror of
 * packages/circuits/execution/schedule-slice.circom, integer for integer (test/execution.test.ts
 * compares them on random seeds). Pure code, no Node built-ins.
 */
import { poseidon2, poseidon3 } from "poseidon-lite";
import { InputError, ZksError } from "../core/errors.ts";
import { SNARK_FIELD } from "../core/field.ts";
import { randomSalt } from "../commitment/salt.ts";
import { poseidonChain } from "../commitment/poseidon-chain.ts";

/** The slice instance this toolkit builds and its verifiers accept (packages/circuits/instances.json): up to 16 slices of 2 swap slots. */
export const SCHEDULE_SLICE_INSTANCE = "schedule-slice-16x2";
/** The most slices a schedule may have: the instance's `maxSlices`. */
export const MAX_SLICES = 16;
/** The instance's swap slots: the Rebalance instances' (SWAP_SLOTS). */
export const SCHEDULE_SWAP_SLOTS = 2;
/** Bits of a draw that place it in the window (u = d mod 2^64). */
export const DRAW_TIME_BITS = 64n;
/** Bits of a draw above those that weigh the slice (v = floor(d / 2^64) mod 2^17). */
export const DRAW_WEIGHT_BITS = 17n;
/** A slice weighs 2^16 + v, in [2^16, 3 * 2^16): no slice is more than 3 times another. */
export const WEIGHT_BASE = 1n << 16n;
/** The window's start is below 2^40 unix seconds, its length below 2^32 seconds (the circuit's ranges). */
export const MAX_WINDOW_START = 2 ** 40 - 1;
export const MAX_WINDOW_SECONDS = 2 ** 32 - 1;
/** Every amount is below 2^96 (as in the commitment). */
export const MAX_SCHEDULE_AMOUNT = (1n << 96n) - 1n;
/** Asset indices of a plan pair: the Rebalance instances' assets are far fewer. */
export const MAX_SCHEDULE_ASSET = 2 ** 16 - 1;
/**
 * The salt must be at least 2^64: it is what keeps the published commitment hiding the plan's
 * totals (a few guessable numbers) whatever seed the owner picked, and a salt that small is not
 * the 31 random bytes `randomScheduleSecret` draws (a hand-edited or truncated seed file).
 */
export const MIN_SCHEDULE_SALT = 1n << 64n;
/**
 * The least mean spacing `floor(seconds / slices)` an execution may have: 1,200 s, 100 blocks of
 * 12 s. A slice's time is uniform over the window, so a window of few blocks per slice tells a
 * front-runner nearly when every slice lands (docs/execution.md measures how the adversary's take
 * falls with the blocks per slice). The circuit proves any window; `zks execution schedule`,
 * parseCommitmentFile and verifyScheduleChain refuse a shorter spacing.
 */
export const MIN_SLICE_SPACING_SECONDS = 1200;
/**
 * The latest a slice may land after its drawn time is at most this fraction of the mean spacing
 * (verifyScheduleChain): the executor's latitude to wait for a better price stays small against
 * the randomness of the times. At the least spacing (1,200 s) that is 300 s, 25 blocks.
 */
export const MAX_DELAY_SPACING_FRACTION = 4;

/** A schedule that cannot be made from these inputs: bad window, slices, amounts, pairs or seed. Exit code 2. */
export class ScheduleError extends ZksError {
  constructor(message: string) {
    super(message, 2);
  }
}

/** The owner's secret: the seed the slices are drawn from, and the salt that hides it (and the plan) in the commitment. */
export interface ScheduleSecret {
  seed: bigint;
  salt: bigint;
}

/** The window the slices are spread over: published (with the seed commitment) before it opens. */
export interface ScheduleWindow {
  /** Unix seconds. */
  start: number;
  /** Length, seconds. */
  seconds: number;
  /** Number of slices, 1..MAX_SLICES. */
  slices: number;
}

/** One swap of the plan as the schedule commits to it: the pair and the total amount sold. */
export interface ScheduleSwap {
  sell: number;
  buy: number;
  amountIn: bigint;
}

/** One slice of a schedule. */
export interface ScheduledSlice {
  /** Its rank in time: slice k is the k-th earliest (0-based). */
  index: number;
  /** When the slice is due, unix seconds: window.start + offset. */
  time: number;
  /** Seconds after the window's start: the rank-`index` value of Poseidon(seed, j) mod 2^64 mod window.seconds over the draws j. */
  offset: number;
  /** Which draw j gave the time. */
  draw: number;
  /** Its weight, 2^16 + (floor(Poseidon(seed, index) / 2^64) mod 2^17). */
  weight: bigint;
  /** Its share of each plan swap's amount, base units (floors of cumulative weights: they sum exactly to the plan's). */
  amounts: bigint[];
}

export interface Schedule {
  window: ScheduleWindow;
  /** Poseidon(seed, salt, planHash), the public commitment. */
  seedCommitment: bigint;
  /** Poseidon of the plan's totals and pairs over the instance's slots (planHash). */
  planHash: bigint;
  /** floor(window.seconds / slices): the mean spacing of the slices. */
  spacingSeconds: number;
  /** The plan's swaps the slices split (not padded). */
  swaps: ScheduleSwap[];
  /** Sum of the slices' weights. */
  totalWeight: bigint;
  slices: ScheduledSlice[];
}

const isField = (x: unknown): x is bigint => typeof x === "bigint" && x >= 0n && x < SNARK_FIELD;

/** Refuses a secret the circuit cannot take or that would not hide the commitment (one line, exit 2). */
export function checkSecret(secret: ScheduleSecret): void {
  if (!isField(secret.seed)) throw new ScheduleError("the schedule seed must be a field element in [0, p)");
  if (!isField(secret.salt)) throw new ScheduleError("the schedule salt must be a field element in [0, p)");
  if (secret.salt < MIN_SCHEDULE_SALT) throw new ScheduleError("the schedule salt is below 2^64: not a random 31-byte salt, and the salt is what hides the plan in the commitment");
}

/** Refuses a window the circuit cannot prove (one line, exit 2). The circuit's ranges only: see checkExecutionWindow for what an execution may use. */
export function checkWindow(window: ScheduleWindow): void {
  const { start, seconds, slices } = window;
  if (!Number.isInteger(slices) || slices < 1 || slices > MAX_SLICES) {
    throw new ScheduleError(`slices must be an integer from 1 to ${MAX_SLICES} (the ${SCHEDULE_SLICE_INSTANCE} instance proves at most ${MAX_SLICES}), got ${slices}`);
  }
  if (!Number.isInteger(start) || start < 0 || start > MAX_WINDOW_START) throw new ScheduleError(`the window start must be unix seconds in [0, 2^40), got ${start}`);
  if (!Number.isInteger(seconds) || seconds < slices || seconds > MAX_WINDOW_SECONDS) {
    throw new ScheduleError(`the window must last a whole number of seconds from ${slices} (one per slice) to 2^32 - 1, got ${seconds}`);
  }
}

/** The mean spacing of a window's slices, floor(seconds / slices). */
export const spacingSeconds = (window: ScheduleWindow): number => Math.floor(window.seconds / window.slices);

/**
 * Refuses a window an execution may not use (one line, exit 2): the circuit's ranges, and at
 * least MIN_SLICE_SPACING_SECONDS per slice on average (a shorter one hardly randomizes the times).
 */
export function checkExecutionWindow(window: ScheduleWindow): void {
  checkWindow(window);
  const spacing = spacingSeconds(window);
  if (spacing < MIN_SLICE_SPACING_SECONDS) {
    throw new ScheduleError(
      `the window gives each of its ${window.slices} slices ${spacing} s on average, less than ${MIN_SLICE_SPACING_SECONDS} s (${MIN_SLICE_SPACING_SECONDS / 12} blocks): ` +
        `the times would hardly be random; use a longer window or fewer slices`,
    );
  }
}

/** The most a slice may land after its drawn time in `window`: a quarter of its mean spacing. */
export const maxDelayLimit = (window: ScheduleWindow): number => Math.floor(spacingSeconds(window) / MAX_DELAY_SPACING_FRACTION);

/** A fresh secret: a 31-byte random seed and salt (Web Crypto). */
export function randomScheduleSecret(): ScheduleSecret {
  let salt = randomSalt();
  // 31 random bytes fall below 2^64 with probability 2^-184; drawn again rather than assumed.
  while (salt < MIN_SCHEDULE_SALT) salt = randomSalt();
  return { seed: randomSalt(), salt };
}

/**
 * The plan's swaps over the instance's `slots` swap slots, checked (one line, exit 2): 1 to
 * `slots` swaps, each pair two distinct asset indices in [0, 2^16), no pair twice, every amount
 * in [0, 2^96); the unused slots are (sell 0, buy 0, amount 0), which no real swap is.
 */
export function paddedPlan(swaps: readonly ScheduleSwap[], slots: number = SCHEDULE_SWAP_SLOTS): ScheduleSwap[] {
  if (swaps.length === 0 || swaps.length > slots) throw new ScheduleError(`the plan must have 1 to ${slots} swaps, got ${swaps.length}`);
  const index = (x: unknown): boolean => Number.isInteger(x) && (x as number) >= 0 && (x as number) <= MAX_SCHEDULE_ASSET;
  swaps.forEach((s, i) => {
    if (!index(s.sell) || !index(s.buy)) throw new ScheduleError(`plan swap ${i}: sell and buy must be asset indices in [0, 2^16), got ${String(s.sell)} and ${String(s.buy)}`);
    if (s.sell === s.buy) throw new ScheduleError(`plan swap ${i}: sells and buys the same asset ${s.sell}`);
    if (typeof s.amountIn !== "bigint" || s.amountIn < 0n || s.amountIn > MAX_SCHEDULE_AMOUNT) {
      throw new ScheduleError(`plan swap ${i}: amountIn must be an integer in [0, 2^96), got ${String(s.amountIn)}`);
    }
    if (swaps.findIndex((t) => t.sell === s.sell && t.buy === s.buy) !== i) throw new ScheduleError(`plan swap ${i}: the pair ${s.sell} -> ${s.buy} appears twice`);
  });
  return Array.from({ length: slots }, (_, s) => (swaps[s] ? { sell: swaps[s].sell, buy: swaps[s].buy, amountIn: swaps[s].amountIn } : { sell: 0, buy: 0, amountIn: 0n }));
}

/** planHash = Poseidon(amountIn[0..n), sell[0..n), buy[0..n)) over the padded slots, as the circuit hashes them. */
export function planHash(swaps: readonly ScheduleSwap[], slots: number = SCHEDULE_SWAP_SLOTS): bigint {
  const padded = paddedPlan(swaps, slots);
  return poseidonChain([...padded.map((s) => s.amountIn), ...padded.map((s) => BigInt(s.sell)), ...padded.map((s) => BigInt(s.buy))]);
}

/** Poseidon(seed, salt, planHash): what the owner publishes before the window opens. */
export function scheduleCommitment(secret: ScheduleSecret, swaps: readonly ScheduleSwap[], slots: number = SCHEDULE_SWAP_SLOTS): bigint {
  checkSecret(secret);
  return poseidon3([secret.seed, secret.salt, planHash(swaps, slots)]);
}

/** Draw j, Poseidon(seed, j). */
export function sliceDraw(seed: bigint, index: number): bigint {
  return poseidon2([seed, BigInt(index)]);
}

/** What a draw decides: u (the time draw, 64 bits) and the weight 2^16 + v (v 17 bits). */
export function drawParts(draw: bigint): { timeDraw: bigint; weight: bigint } {
  const timeDraw = draw & ((1n << DRAW_TIME_BITS) - 1n);
  const v = (draw >> DRAW_TIME_BITS) & ((1n << DRAW_WEIGHT_BITS) - 1n);
  return { timeDraw, weight: WEIGHT_BASE + v };
}

/**
 * The cumulative split: slice k of `total` is floor(total * W_{k+1} / W) - floor(total * W_k / W),
 * with W_k the weights of the slices before k. The floors telescope, so the slices sum exactly to
 * `total`; each is within one base unit of its exact share total * w_k / W.
 */
export function splitByWeights(total: bigint, weights: readonly bigint[]): bigint[] {
  const sum = weights.reduce((a, w) => a + w, 0n);
  if (sum <= 0n) throw new ScheduleError("the slices' weights sum to zero");
  let before = 0n;
  return weights.map((w) => {
    const through = before + w;
    const share = (total * through) / sum - (total * before) / sum;
    before = through;
    return share;
  });
}

/**
 * What the seed draws for a window, each Poseidon(seed, j) computed once: every draw's offset in
 * the window (u_j mod seconds), their order (slice k's time is the offset of rank k, ties broken
 * by the draw's index) and the slices' weights (slice k weighs 2^16 + v_k of draw k).
 */
export function scheduleDraws(seed: bigint, window: ScheduleWindow): { offsets: number[]; order: number[]; weights: bigint[] } {
  const parts = Array.from({ length: window.slices }, (_, j) => drawParts(sliceDraw(seed, j)));
  const offsets = parts.map((d) => Number(d.timeDraw % BigInt(window.seconds)));
  const order = offsets.map((_, j) => j).sort((a, b) => offsets[a]! - offsets[b]! || a - b);
  return { offsets, order, weights: parts.map((d) => d.weight) };
}

/**
 * The schedule `secret` draws for `window` over the plan's swaps (1 to SCHEDULE_SWAP_SLOTS, each
 * pair distinct, each amount in [0, 2^96)). The same seed always gives the same times and
 * weights; the salt only hides the seed and the plan.
 */
export function deriveSchedule(secret: ScheduleSecret, window: ScheduleWindow, swaps: readonly ScheduleSwap[]): Schedule {
  checkWindow(window);
  const seedCommitment = scheduleCommitment(secret, swaps);
  const { offsets, order, weights } = scheduleDraws(secret.seed, window);
  const shares = swaps.map((s) => splitByWeights(s.amountIn, weights));
  const slices = weights.map((weight, k): ScheduledSlice => {
    const draw = order[k]!;
    const offset = offsets[draw]!;
    return { index: k, time: window.start + offset, offset, draw, weight, amounts: shares.map((s) => s[k]!) };
  });
  return {
    window: { ...window },
    seedCommitment,
    planHash: planHash(swaps),
    spacingSeconds: spacingSeconds(window),
    swaps: swaps.map((s) => ({ sell: s.sell, buy: s.buy, amountIn: s.amountIn })),
    totalWeight: weights.reduce((a, w) => a + w, 0n),
    slices,
  };
}

/**
 * The public schedule a front-runner must expect without the seed: equal slices evenly spaced,
 * slice k at start + k * spacing (the cumulative split with equal weights). The backtest's
 * deterministic schedule.
 */
export function deterministicSchedule(
  window: ScheduleWindow,
  totals: readonly bigint[],
): { window: ScheduleWindow; spacingSeconds: number; slices: Omit<ScheduledSlice, "draw">[] } {
  checkWindow(window);
  const spacing = spacingSeconds(window);
  const weights = Array.from({ length: window.slices }, () => 1n);
  const shares = totals.map((total) => splitByWeights(total, weights));
  const slices = weights.map((weight, k) => ({ index: k, time: window.start + k * spacing, offset: k * spacing, weight, amounts: shares.map((s) => s[k]!) }));
  return { window: { ...window }, spacingSeconds: spacing, slices };
}

/** A secret read from text fields (seed.json): `0x` hex or decimal field elements. */
export function parseSecretField(source: string, field: string, value: unknown): bigint {
  if (typeof value !== "string" || !/^(0x[0-9a-fA-F]{1,64}|[0-9]{1,78})$/.test(value))
    throw new InputError(source, field, "expected a field element as 0x hex or a decimal string");
  const x = BigInt(value);
  if (x >= SNARK_FIELD) throw new InputError(source, field, "is not below the BN254 field prime");
  return x;
}
