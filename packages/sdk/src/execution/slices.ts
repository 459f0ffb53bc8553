/**
 * A rebalance plan split into the slices of a schedule (docs/execution.md): each slice is a real
 * Rebalance transition P_i -> P_{i+1}, proven with the rebalance circuit, so every slice stays
 * within the policy on its own. Browser-safe, no Node built-ins.
 *
 * The split rule: slice k (the k-th in time) is the plan scaled by the schedule's weight w_k / W,
 * in the plan's order; the slices run in time order, so the prefixes below are what has run.
 *   - every amount of every action (a swap's amountIn, a deposit, a repayment, ...) is split by
 *     cumulative floors, floor(a * W_{k+1} / W) - floor(a * W_k / W) (schedule.ts), so the slices'
 *     amounts of each action sum exactly to the plan's; the swaps of one pair are one plan swap
 *     (the plan's merged swap slot, `movements.swaps`), split as one and placed where the plan
 *     first trades the pair: the slice proof binds exactly these amounts;
 *   - a swap's minOut is split by cumulative ceilings, ceil(M * W_{k+1} / W) - ceil(M * W_k / W),
 *     which also sum exactly to M, then raised to the policy's slippage floor for the slice's
 *     amount where the rounding left it below (the sum may then exceed M by a base unit or two per
 *     raised slice). Up to slice k the swaps have bought at least what the plan's repayments from that
 *     collateral take (ceilings against floors), so a plan that repays from what it buys splits.
 *     The owner may raise a slice's minOut to a pool quote when it is due: the slice proof binds
 *     the amounts sold, not minOut;
 *   - an action whose slice is 0 is left out (a slice may then have no swap, or none at all).
 * The policy's checks define a convex set of positions (each is linear in the balances, or the
 * maximum of linear functions, or a norm), so when P_0 and the plan's P' both pass, every P_k
 * between them passes too, up to rounding. A position that fails the policy cannot be restored
 * a slice at a time (a Rebalance proof's new position must pass): that plan is a ScheduleError.
 * Every slice is checked as the circuit will check it (backedTransition: ranges, conservation,
 * slippage, P_{i+1} passing the policy); a slice it would refuse is a ScheduleError naming it.
 */
import { randomSalt } from "../commitment/salt.ts";
import type { Market, Policy, Position } from "../inputs/types.ts";
import { checkPosition } from "../model/check.ts";
import { applyActions, RebalanceError, type Action, type SwapAction } from "../rebalance/actions.ts";
import { backedTransition } from "../rebalance/conservation.ts";
import { slippageFloor, type Movements, type SwapLeg, type Transition } from "../rebalance/transition.ts";
import { deriveSchedule, SCHEDULE_SWAP_SLOTS, ScheduleError, splitByWeights, type Schedule, type ScheduleSecret, type ScheduleWindow, type ScheduledSlice } from "./schedule.ts";

/** One swap of the plan: the pair and the plan's total amount sold and least amount bought. */
export type PlanSwap = SwapLeg;

/** What a schedule splits: a plan's actions and their movements (a parsed plan file, or the planner's Plan). */
export interface SchedulablePlan {
  actions: readonly Action[];
  movements: Movements;
  /** The lender indices the plan's borrows counted on (per asset; undefined = 10^18). */
  lenderIndex?: readonly (bigint | undefined)[];
}

/** One slice of a plan: when it is due and what it does. */
export interface SliceStep extends ScheduledSlice {
  /** The slice's actions, in the plan's order. */
  actions: Action[];
  /** Its swaps (non-empty ones), each plan swap's slice with its minOut. */
  swaps: SwapLeg[];
}

export interface SlicedPlan {
  schedule: Schedule;
  /** The plan's swaps, in slot order: what the commitment binds (the slice proofs' private planIn, public planSell and planBuy). */
  planSwaps: PlanSwap[];
  steps: SliceStep[];
}

/** The plan's swaps: its merged swap slots, at most SCHEDULE_SWAP_SLOTS, at least one. */
export function planSwapsOf(plan: SchedulablePlan): PlanSwap[] {
  const swaps = plan.movements.swaps.map((s) => ({ ...s }));
  if (swaps.length === 0) throw new ScheduleError("the plan has no swap: there is nothing to split over a window (only AMM trades can be front-run)");
  if (swaps.length > SCHEDULE_SWAP_SLOTS) throw new ScheduleError(`the plan has ${swaps.length} swaps, but a schedule slice binds ${SCHEDULE_SWAP_SLOTS}`);
  const pairs = new Set(swaps.map((s) => `${s.sell}>${s.buy}`));
  if (pairs.size !== swaps.length) throw new ScheduleError("the plan has two swaps of the same pair; merge them (the planner does)");
  return swaps;
}

const ceilDiv = (a: bigint, b: bigint): bigint => (a + b - 1n) / b;

/** Cumulative ceilings: slice k of `total` is ceil(total * W_{k+1} / W) - ceil(total * W_k / W); they sum exactly to `total`. */
export function ceilSplit(total: bigint, weights: readonly bigint[]): bigint[] {
  const sum = weights.reduce((a, w) => a + w, 0n);
  let before = 0n;
  return weights.map((w) => {
    const through = before + w;
    const share = ceilDiv(total * through, sum) - ceilDiv(total * before, sum);
    before = through;
    return share;
  });
}

/** The least amount bought by a slice of a plan swap: its ceiling share of the plan's minOut, at least the policy's slippage floor for `amount`. */
export function sliceMinOut(swap: PlanSwap, share: bigint, amount: bigint, market: Market, policy: Policy): bigint {
  if (amount === 0n) return 0n;
  const floor = slippageFloor(swap.sell, amount, swap.buy, market, policy);
  return share < floor ? floor : share;
}

/** An action with its amount replaced (the same kind, asset or instrument). */
function withAmount(action: Exclude<Action, SwapAction>, amount: bigint): Action {
  return "quantity" in action ? { ...action, quantity: amount } : { ...action, amount };
}

/**
 * The plan split into the slices `secret` draws over `window`: each slice's time, amounts,
 * swaps and actions. Pure: no position is needed (see scheduleTransitions for the proofs' inputs).
 */
export function slicePlan(plan: SchedulablePlan, secret: ScheduleSecret, window: ScheduleWindow, market: Market, policy: Policy): SlicedPlan {
  const planSwaps = planSwapsOf(plan);
  const schedule = deriveSchedule(secret, window, planSwaps);
  const weights = schedule.slices.map((s) => s.weight);
  const minOuts = planSwaps.map((s) => ceilSplit(s.minOut, weights));
  const slotOf = (a: SwapAction): number => planSwaps.findIndex((s) => s.sell === a.sell && s.buy === a.buy);
  // Each non-swap action's amounts, split once.
  const splits = plan.actions.map((a) => (a.kind === "swap" ? undefined : splitByWeights("quantity" in a ? a.quantity : a.amount, weights)));
  const steps = schedule.slices.map((slice, k): SliceStep => {
    const swaps: (SwapLeg | undefined)[] = planSwaps.map((swap, s) => {
      const amount = slice.amounts[s]!;
      return amount === 0n ? undefined : { sell: swap.sell, buy: swap.buy, amountIn: amount, minOut: sliceMinOut(swap, minOuts[s]![k]!, amount, market, policy) };
    });
    const placed = new Set<number>();
    const actions: Action[] = [];
    plan.actions.forEach((action, n) => {
      if (action.kind === "swap") {
        // A pair's swaps are one plan swap: all of its slice goes where the plan first trades the pair.
        const s = slotOf(action);
        if (s < 0) throw new ScheduleError(`the plan's action ${n} swaps a pair its movements do not (a plan file edited by hand?)`);
        if (placed.has(s)) return;
        placed.add(s);
        const leg = swaps[s];
        if (leg) actions.push({ kind: "swap", sell: leg.sell, amountIn: leg.amountIn, buy: leg.buy, minOut: leg.minOut });
        return;
      }
      const amount = splits[n]![k]!;
      if (amount > 0n) actions.push(withAmount(action, amount));
    });
    return { ...slice, actions, swaps: swaps.filter((s): s is SwapLeg => s !== undefined) };
  });
  return { schedule, planSwaps, steps };
}

export interface ScheduleTransitionOptions {
  /** The new salt of each P_{i+1}; fresh random salts by default. */
  salt?: (index: number) => bigint;
}

/**
 * The Rebalance transitions of every slice from `from` (the position the plan starts from, with
 * its salt): P_0 = from, P_{i+1} = P_i after slice i's actions with a fresh salt, each checked as
 * the circuit checks it. A slice the circuit would refuse (a balance out of range, a slice's
 * swap below the slippage floor, P_{i+1} failing the policy) is a ScheduleError naming the slice.
 */
export function scheduleTransitions(
  sliced: SlicedPlan,
  from: Position,
  market: Market,
  policy: Policy,
  plan: Pick<SchedulablePlan, "lenderIndex"> = {},
  options: ScheduleTransitionOptions = {},
): Transition[] {
  const failing = checkPosition(from, market, policy).failures;
  if (failing.length > 0) {
    throw new ScheduleError(
      `the position fails the policy now (${failing.join(", ")}): each slice's new position must pass it, so a remedy cannot be spread over a window; execute the plan as one rebalance`,
    );
  }
  const transitions: Transition[] = [];
  let current = from;
  for (const step of sliced.steps) {
    const when = `slice ${step.index} (due at ${step.time})`;
    try {
      const applied = applyActions(current, step.actions, market, { policy, ...(plan.lenderIndex && { lenderIndex: plan.lenderIndex }) });
      const next: Position = { ...applied.position, salt: options.salt ? options.salt(step.index) : randomSalt() };
      const t = backedTransition(current, next, applied.movements, market, policy, false);
      transitions.push(t);
      current = next;
    } catch (error) {
      if (error instanceof RebalanceError) throw new ScheduleError(`${when} cannot be proven: ${error.message}`);
      throw error;
    }
  }
  return transitions;
}
