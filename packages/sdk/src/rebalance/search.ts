/**
 * The planner's search: candidate action families, each with one amount to choose; binary
 * search on the amount with checkPosition for the least amount that meets the goal; pairs of
 * families when one alone cannot; every helpful family together as a last resort. Candidates
 * are compared by cost (slippage bound + gas), then gas, then the value they move.
 */
import type { Market, Policy, Position } from "../inputs/types.ts";
import type { RiskReport } from "../model/check.ts";
import { ModelError } from "../model/errors.ts";
import { applyActions, debtIndexOf, RebalanceError, repayCharge, type Action, type RebalanceResult } from "./actions.ts";
import type { Allowance } from "./allowance.ts";
import { checkMovements, forcedViolation, movementValues, type MovementValues } from "./conservation.ts";
import { planCost, type CostModel, type PlanCost } from "./costs.ts";
import { meetsGoal, totalShortfall, type Goal } from "./goal.ts";
import { quickCheck } from "./quick-check.ts";
import { maxSellFor, unitValue, worstSwap, type SwapPricing } from "./trades.ts";

export interface PlannerContext {
  old: Position;
  market: Market;
  policy: Policy;
  allowance: Allowance;
  model: CostModel;
  goal: Goal;
  /** AMM quotes for swaps (default: the policy's slippage floor). */
  pricing: SwapPricing;
  /** Per asset, the lender's current index when known (default 10^18). */
  lenderIndex?: readonly (bigint | undefined)[];
  /** A keeper's rebalance: only swaps and repayments from collateral (docs/custody.md, "Keepers"). */
  forced: boolean;
}

/** The position after some actions, and what is left in the wallet. */
export interface FamilyState {
  position: Position;
  walletLeft: bigint[];
}

/** A kind of remedy with one amount to choose (base units of its asset). */
export interface Family {
  id: string;
  /** The largest amount possible in `state`. */
  max(state: FamilyState): bigint;
  /** The actions for amount x (0 < x <= max), or undefined when they cannot be built. */
  build(x: bigint, state: FamilyState): Action[] | undefined;
}

export interface Evaluation {
  actions: Action[];
  /** P' and the movements that back it. */
  result: RebalanceResult;
  /** What the swaps sell, buy at least, and give up at the oracle's prices. */
  values: MovementValues;
  report: RiskReport;
  meets: boolean;
  shortfall: bigint;
}

/** applyActions with the context's lender indices and the policy's slippage bound. */
export function applyIn(ctx: PlannerContext, actions: readonly Action[]): RebalanceResult {
  return applyActions(ctx.old, actions, ctx.market, { policy: ctx.policy, ...(ctx.lenderIndex && { lenderIndex: ctx.lenderIndex }) });
}

/** Applies the actions from the old position; undefined when they cannot be applied or the wallet cannot pay. */
export function stateOf(ctx: PlannerContext, actions: readonly Action[]): FamilyState | undefined {
  let position = ctx.old;
  const walletLeft = [...ctx.allowance.wallet];
  if (actions.length > 0) {
    try {
      const result = applyIn(ctx, actions);
      position = result.position;
      // Deposits and repayments draw on the wallet; what a borrow or withdrawal pays out is not counted on.
      result.movements.flows.forEach((f, i) => {
        if (f > 0n) walletLeft[i] = walletLeft[i]! - f;
      });
    } catch (error) {
      if (error instanceof RebalanceError) return undefined;
      throw error;
    }
  }
  if (walletLeft.some((w) => w < 0n)) return undefined;
  return { position, walletLeft };
}

/** Applies and checks `actions` (checkTransition's rules); undefined when they cannot be applied or backed, or break the action limit. */
export function evaluate(ctx: PlannerContext, actions: readonly Action[]): Evaluation | undefined {
  const max = ctx.allowance.maxActions;
  if (max !== undefined && actions.length > max) return undefined;
  if (!stateOf(ctx, actions)) return undefined;
  try {
    const result = applyIn(ctx, actions);
    if (ctx.forced && forcedViolation(result.movements, ctx.market) !== undefined) return undefined;
    // The policy's checks of P' are the quick check's below; the trigger is checked once by the caller.
    if (!checkMovements(ctx.old, result.position, result.movements, ctx.market, ctx.policy, { checks: false }).valid) return undefined;
    const report = quickCheck(result.position, ctx.market, ctx.policy);
    return {
      actions: [...actions],
      result,
      values: movementValues(result.movements, ctx.market),
      report,
      meets: meetsGoal(report, ctx.goal),
      shortfall: totalShortfall(report, ctx.goal),
    };
  } catch (error) {
    if (error instanceof RebalanceError || error instanceof ModelError) return undefined;
    throw error;
  }
}

// Families -------------------------------------------------------------------------------

const min = (a: bigint, b: bigint): bigint => (a < b ? a : b);

/** Assets by market variance (the covariance diagonal), safest first; ties by higher liquidation threshold. */
export function safestAssets(market: Market): number[] {
  return market.assets
    .map((_, i) => i)
    .sort((a, b) => {
      const va = market.covariance.matrix[a]?.[a] ?? 0n;
      const vb = market.covariance.matrix[b]?.[b] ?? 0n;
      if (va !== vb) return va < vb ? -1 : 1;
      const la = market.assets[a]!.liquidationThreshold;
      const lb = market.assets[b]!.liquidationThreshold;
      return la === lb ? a - b : la > lb ? -1 : 1;
    });
}

/** Base units that repay the whole debt of asset i in `position`: ceil(d_i * index / 10^18). */
export function debtOwed(market: Market, position: Position, i: number): bigint {
  return repayCharge(position.debt[i]!, debtIndexOf(market.assets[i]!));
}

/**
 * The threshold strategy's remedies, in order of preference when costs tie: repay and deposit
 * from the wallet (no slippage), repay with collateral, swap sellable collateral into a debt
 * asset on the AMM and repay, swap sellable collateral into the safest asset. Instruments are
 * not traded (they have no venue: docs/custody.md). A keeper's rebalance uses no wallet.
 */
export function remedyFamilies(ctx: PlannerContext): Family[] {
  const { market, policy, allowance } = ctx;
  const families: Family[] = [];
  const assets = market.assets.map((_, i) => i);
  const safest = safestAssets(market);
  const variance = (i: number): bigint => market.covariance.matrix[i]?.[i] ?? 0n;
  const owed = (st: FamilyState, i: number): bigint => debtOwed(market, st.position, i);

  if (!ctx.forced) {
    for (const i of assets) {
      if (allowance.wallet[i]! > 0n) {
        families.push({
          id: `repay:${i}`,
          max: (s) => min(s.walletLeft[i]!, owed(s, i)),
          build: (x) => [{ kind: "repay", asset: i, amount: x }],
        });
      }
    }
    for (const i of assets) {
      if (allowance.wallet[i]! > 0n) {
        families.push({
          id: `deposit:${i}`,
          max: (s) => s.walletLeft[i]!,
          build: (x) => [{ kind: "deposit", asset: i, amount: x }],
        });
      }
    }
  }
  for (const i of assets) {
    families.push({
      id: `repayWithCollateral:${i}`,
      max: (s) => min(s.position.collateral[i]!, owed(s, i)),
      build: (x) => [{ kind: "repayWithCollateral", asset: i, amount: x }],
    });
  }
  for (const s of assets) {
    if (!allowance.sellable[s]) continue;
    for (const b of assets) {
      if (b === s) continue;
      families.push({
        id: `swapRepay:${s}:${b}`,
        max: (st) => (st.position.debt[b]! > 0n ? min(st.position.collateral[s]!, maxSellFor(market, policy, s, b, owed(st, b))) : 0n),
        build: (x, st) => {
          const swap = worstSwap(market, policy, s, x, b, ctx.pricing);
          return swap && [swap, { kind: "repayWithCollateral", asset: b, amount: min(swap.minOut, owed(st, b)) }];
        },
      });
    }
    const target = safest.find((t) => t !== s);
    if (target !== undefined && variance(target) < variance(s)) {
      families.push({
        id: `swap:${s}:${target}`,
        max: (st) => st.position.collateral[s]!,
        build: (x) => {
          const swap = worstSwap(market, policy, s, x, target, ctx.pricing);
          return swap && [swap];
        },
      });
    }
  }
  return families;
}

// Search ---------------------------------------------------------------------------------

export interface Step {
  family: Family;
  x: bigint;
}

/** The actions of `steps` applied after `prefix`, each built in the state its predecessors leave. */
export function buildSteps(ctx: PlannerContext, prefix: readonly Action[], steps: readonly Step[]): Action[] | undefined {
  const actions = [...prefix];
  for (const { family, x } of steps) {
    if (x === 0n) continue;
    const state = stateOf(ctx, actions);
    if (!state || x < 0n || x > family.max(state)) return undefined;
    const built = family.build(x, state);
    if (!built) return undefined;
    actions.push(...built);
  }
  return actions;
}

/** Value moved by a plan (q.u. * 10^18): value sold on the AMM plus the value of the wallet flows; the last tie-break. */
function moved(ctx: PlannerContext, e: Evaluation): bigint {
  const flows = e.result.movements.flows.reduce((sum, f, i) => sum + (f < 0n ? -f : f) * unitValue(ctx.market.assets[i]!), 0n);
  return e.values.sold + flows;
}

export interface Candidate {
  evaluation: Evaluation;
  cost: PlanCost;
  moved: bigint;
}

export function candidate(ctx: PlannerContext, e: Evaluation): Candidate {
  return { evaluation: e, cost: planCost(e.actions, ctx.market, ctx.model), moved: moved(ctx, e) };
}

/** Cheaper first: total cost, then gas, then fewer actions, then less value moved. */
export function cheaper(a: Candidate, b: Candidate): boolean {
  if (a.cost.total !== b.cost.total) return a.cost.total < b.cost.total;
  if (a.cost.totalGas !== b.cost.totalGas) return a.cost.totalGas < b.cost.totalGas;
  if (a.evaluation.actions.length !== b.evaluation.actions.length) return a.evaluation.actions.length < b.evaluation.actions.length;
  return a.moved < b.moved;
}

/** x rounded up to `digits` significant decimal digits. */
export function roundUpSignificant(x: bigint, digits: number): bigint {
  const length = x.toString().length;
  if (length <= digits) return x;
  const unit = 10n ** BigInt(length - digits);
  return ((x + unit - 1n) / unit) * unit;
}

/** Relative precision of the binary search: stop when hi - lo <= hi / 2^14. */
const PRECISION_SHIFT = 14n;
/** A rounder amount is taken when it costs at most 1% more of the amount. */
const ROUNDING_ALLOWANCE = 100n;

/**
 * The least x in [0, hi] (hi passing) that passes, to within hi / 2^14, then rounded up to
 * fewer significant digits when that stays within 1% and <= limit and passes. With
 * allowZero, 0 is tried first.
 */
export function minimize(pass: (x: bigint) => boolean, hi: bigint, limit: bigint, allowZero: boolean): bigint {
  if (allowZero && pass(0n)) return 0n;
  let lo = 0n;
  while (hi - lo > 1n && hi - lo > hi >> PRECISION_SHIFT) {
    const mid = (lo + hi) / 2n;
    if (pass(mid)) hi = mid;
    else lo = mid;
  }
  for (let digits = 1; digits <= 6; digits++) {
    const round = roundUpSignificant(hi, digits);
    if (round === hi) break;
    if (round <= limit && round - hi <= hi / ROUNDING_ALLOWANCE && pass(round)) return round;
  }
  return hi;
}

/** Reduces each step's amount in `order` to the least that still meets the goal. */
function reduce(ctx: PlannerContext, prefix: readonly Action[], steps: Step[], order: number[]): Step[] | undefined {
  const current = steps.map((s) => ({ ...s }));
  const meets = (candidateSteps: Step[]): boolean => {
    const actions = buildSteps(ctx, prefix, candidateSteps);
    return actions !== undefined && (evaluate(ctx, actions)?.meets ?? false);
  };
  if (!meets(current)) return undefined;
  for (const index of order) {
    const hi = current[index]!.x;
    if (hi === 0n) continue;
    const pass = (x: bigint): boolean => meets(current.map((s, j) => (j === index ? { ...s, x } : s)));
    current[index]!.x = minimize(pass, hi, hi + hi / ROUNDING_ALLOWANCE, current.length > 1);
  }
  return current.filter((s) => s.x > 0n);
}

export interface SearchOutcome {
  best?: Candidate;
  /** The best combination the greedy search reached when nothing met the goal (for the no-plan reason). */
  closest?: Evaluation;
  /** The evaluation of the prefix alone. */
  start?: Evaluation;
}

/**
 * Fractions of a family's largest amount probed before a binary search, smallest first:
 * 2^-12 .. 2^-5 geometrically, then sixteenths (a remedy can overshoot, so the amounts that
 * meet the goal may form a window rather than everything above a threshold).
 */
const GRID: readonly [bigint, bigint][] = [
  ...[12n, 11n, 10n, 9n, 8n, 7n, 6n, 5n].map((j): [bigint, bigint] => [1n, 1n << j]),
  ...Array.from({ length: 16 }, (_, j): [bigint, bigint] => [BigInt(j + 1), 16n]),
];
/** The coarser grid for the second family of a pair and the greedy rounds. */
const COARSE_GRID: readonly [bigint, bigint][] = [
  [1n, 1n << 10n],
  [1n, 1n << 8n],
  [1n, 1n << 6n],
  [1n, 16n],
  [1n, 8n],
  [1n, 4n],
  [1n, 2n],
  [3n, 4n],
  [1n, 1n],
];
/** Families tried as the first of a pair: the most helpful ones. */
const PAIR_POOL = 4;
/** Most families the greedy search combines. */
const GREEDY_ROUNDS = 6;

interface Probe {
  family: Family;
  max: bigint;
  /** The grid amount with the least shortfall, and its evaluation. */
  x: bigint;
  e: Evaluation;
  /** The least grid amount that meets the goal, if any. */
  meets?: bigint;
}

const byShortfall = (a: Probe, b: Probe): number => (a.e.shortfall < b.e.shortfall ? -1 : a.e.shortfall > b.e.shortfall ? 1 : 0);

/** A family at fractions of its largest amount, after `steps`. */
function probe(ctx: PlannerContext, prefix: readonly Action[], steps: readonly Step[], family: Family, grid = GRID): Probe | undefined {
  const before = buildSteps(ctx, prefix, steps);
  const state = before && stateOf(ctx, before);
  if (!state) return undefined;
  const max = family.max(state);
  if (max <= 0n) return undefined;
  let best: Probe | undefined;
  let previous = 0n;
  for (const [num, den] of grid) {
    const x = (max * num) / den;
    if (x <= previous) continue;
    previous = x;
    const actions = buildSteps(ctx, prefix, [...steps, { family, x }]);
    const e = actions && evaluate(ctx, actions);
    if (!e) continue;
    if (!best || e.shortfall < best.e.shortfall) best = { family, max, x, e, ...(best?.meets !== undefined && { meets: best.meets }) };
    if (e.meets && best.meets === undefined) best.meets = x;
  }
  return best;
}

/**
 * The cheapest set of remedies (after `prefix`) that meets ctx.goal: single families first,
 * then pairs, then a greedy combination of up to six, each reduced to its least amounts.
 */
export function searchRemedies(ctx: PlannerContext, prefix: readonly Action[], families: readonly Family[]): SearchOutcome {
  const start = evaluate(ctx, prefix);
  if (!start) return {};
  if (start.meets) return { start, best: candidate(ctx, start) };
  const consider = (steps: Step[] | undefined, found: Candidate[]): void => {
    if (!steps) return;
    const actions = buildSteps(ctx, prefix, steps);
    const e = actions && evaluate(ctx, actions);
    if (e?.meets) found.push(candidate(ctx, e));
  };
  const pickBest = (found: Candidate[]): Candidate | undefined => found.reduce<Candidate | undefined>((best, c) => (!best || cheaper(c, best) ? c : best), undefined);

  // Singles: the least amount of one family.
  const probes = families
    .map((f) => probe(ctx, prefix, [], f))
    .filter((p): p is Probe => p !== undefined)
    .sort(byShortfall);
  const singles: Candidate[] = [];
  for (const p of probes) {
    if (p.meets !== undefined) consider(reduce(ctx, prefix, [{ family: p.family, x: p.meets }], [0]), singles);
  }
  const single = pickBest(singles);
  if (single) return { start, best: single };

  // Pairs: a helpful A (at its best probed amount and at its largest), then the least B, then the least A.
  const pairs: Candidate[] = [];
  for (const a of probes.filter((p) => p.e.shortfall < start.shortfall).slice(0, PAIR_POOL)) {
    for (const xa of a.x === a.max ? [a.max] : [a.x, a.max]) {
      const first: Step = { family: a.family, x: xa };
      for (const b of families) {
        if (b === a.family) continue;
        const pb = probe(ctx, prefix, [first], b);
        if (pb?.meets !== undefined) consider(reduce(ctx, prefix, [first, { family: b, x: pb.meets }], [1, 0]), pairs);
      }
    }
  }
  const pair = pickBest(pairs);
  if (pair) return { start, best: pair };

  // Greedy: add the family (at its best probed amount) that leaves the least shortfall, until the goal is met.
  const steps: Step[] = [];
  let closest = start;
  for (let round = 0; round < GREEDY_ROUNDS; round++) {
    const used = new Set(steps.map((s) => s.family));
    const next = families
      .filter((f) => !used.has(f))
      .map((f) => probe(ctx, prefix, steps, f, COARSE_GRID))
      .filter((p): p is Probe => p !== undefined)
      .sort(byShortfall)[0];
    if (!next || next.e.shortfall >= closest.shortfall) break;
    steps.push({ family: next.family, x: next.meets ?? next.x });
    closest = next.e;
    if (next.meets !== undefined) {
      const found: Candidate[] = [];
      consider(
        reduce(
          ctx,
          prefix,
          steps,
          steps.map((_, i) => steps.length - 1 - i),
        ),
        found,
      );
      const best = pickBest(found);
      if (best) return { start, best };
      break;
    }
  }
  return { start, closest };
}
