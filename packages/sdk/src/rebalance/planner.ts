/**
 * The rebalance planner: given a position, the epoch's market, the policy and what the owner
 * allows, find the cheapest rebalance (docs/rebalance.md) that restores the strategy's target,
 * or say clearly that none exists within the allowance.
 *
 * Strategies:
 * - "threshold": act only when a check fails, the health factor is below the trigger (the
 *   policy's by default) or the VaR headroom is below the trigger's; restore to the target
 *   (every check passes, health factor >= the policy's trigger by default).
 * - "time": called on a schedule; restore to the target whenever the position is not at it,
 *   and say when the next rebalance is due (now + interval).
 * - "delta-neutral": bring the portfolio delta of each hedged asset inside a band with spot
 *   swaps of the underlying on the AMM (instruments have no venue: docs/custody.md), then make
 *   sure the target is met.
 * - "grid-hedge": minimise the worst loss over the market's scenarios (the spot x volatility
 *   grid of a portfolio-margin market), so gamma and vega are hedged with delta: spot swaps and
 *   option-token flows of the tradable instruments chosen by a linear program (grid-hedge.ts),
 *   then make sure the target is met.
 *
 * Every plan's new position passes checkPosition and its movements pass checkTransition
 * (docs/custody.md): each balance change is a token movement the gate performs. A swap credits
 * its minOut (an AMM quote minus a tolerance when given, else the policy's slippage floor).
 */
import { ZksError } from "../core/errors.ts";
import { BPS_SCALE, RATIO_SCALE } from "../core/fixed-point.ts";
import type { Market, Policy, Position } from "../inputs/types.ts";
import { checkPosition, type RiskReport } from "../model/check.ts";
import { EQUITY_SCALE } from "../model/equity.ts";
import { ceilDiv } from "../model/rounding.ts";
import { explainChecks } from "../model/explain.ts";
import type { Action } from "./actions.ts";
import type { Allowance } from "./allowance.ts";
import { movementValues, type MovementValues } from "./conservation.ts";
import { costModel, planCost, type CostOptions, type PlanCost } from "./costs.ts";
import { deltaHedges, hedgeableAssets, portfolioDelta, underlyings } from "./delta.ts";
import { gridExposures, gridHedgeCandidates, HEDGE_CANDIDATES, type GridExposures } from "./grid-hedge.ts";
import type { SwapQuote } from "./trades.ts";
import { noMovements, type Movements } from "./transition.ts";
import { actionText, amountText, checkName, costText, effectText, moneyText, percentText, ratioText, shortfallText } from "./explain.ts";
import { meetsGoal, shortfalls, type Goal } from "./goal.ts";
import { applyIn, evaluate, remedyFamilies, searchRemedies, stateOf, type Evaluation, type PlannerContext } from "./search.ts";

export type Strategy = "threshold" | "time" | "delta-neutral" | "grid-hedge";
export const STRATEGIES: readonly Strategy[] = ["threshold", "time", "delta-neutral", "grid-hedge"];

export interface GoalOptions {
  /** At BPS. */
  healthFactor?: bigint;
  /** At RATIO, in [0, 1): the share of equity the VaR capital must leave free. */
  varHeadroom?: bigint;
}

export interface PlanOptions extends CostOptions {
  strategy: Strategy;
  /** When the threshold strategy acts. Default: the policy's trigger health factor, no VaR headroom. */
  trigger?: GoalOptions;
  /** What a plan restores. Default: the trigger (health factor = the policy's trigger). */
  target?: GoalOptions;
  /** Delta-neutral: the band |x_i| <= deltaBand, q.u. Default 1% of the collateral value (at least 1 whole quote unit). */
  deltaBand?: bigint;
  /** Delta-neutral: the assets to neutralize (market indices). Default: every instrument underlying a swap can hedge (hedgeableAssets). */
  deltaAssets?: number[];
  /**
   * Grid hedge: act (and trade) only when hedging lowers the worst scenario loss by more than this,
   * q.u.; default 1% of the collateral value (at least 1 whole quote unit), as the delta band.
   */
  gridBand?: bigint;
  /** Time: days between scheduled rebalances (default 7). */
  intervalDays?: number;
  /** Unix seconds the plan is made at (default market.timestamp). */
  now?: number;
  /** AMM quotes: a swap's minOut is the quote minus quoteTolerance (default: the policy's slippage floor). */
  quote?: SwapQuote;
  /** At RATIO, default 0.5%. */
  quoteTolerance?: bigint;
  /** Per asset, the lender's current debt index (10^18 scale) when known; default 10^18, the least a lender delivers. */
  lenderIndex?: readonly (bigint | undefined)[];
  /** A keeper's rebalance: only swaps and repayments from collateral. */
  forced?: boolean;
}

export interface PlanStep {
  action: Action;
  /** Actions text, e.g. "deposit 2,000 USDC from the wallet". */
  text: string;
  /** What it buys, e.g. "health factor 1.1905 -> 1.3, stress margin +2,000.00 USD". */
  effect: string;
}

export interface DeltaSummary {
  /** q.u. */
  band: bigint;
  /** The neutralized assets (market indices). */
  assets: number[];
  /** x_i before and after, q.u., one per market asset. */
  before: bigint[];
  after: bigint[];
}

export interface Plan {
  kind: "plan";
  strategy: Strategy;
  /** False when the position already meets the strategy's target: no actions, nothing to execute. */
  needed: boolean;
  actions: Action[];
  steps: PlanStep[];
  /** P' (nonce + 1, same account and salt); the old position itself when not needed. */
  position: Position;
  /** The token movements that back P' (docs/custody.md); none when not needed. */
  movements: Movements;
  /** movements.flows: signed wallet flow per asset, base units. */
  flows: bigint[];
  /** What the swaps sell, the least they buy and the difference at the oracle's prices (q.u. * 10^18). */
  values: MovementValues;
  cost: PlanCost;
  goal: Goal;
  before: RiskReport;
  after: RiskReport;
  explanation: string[];
  /** Time strategy: when the next scheduled rebalance is due (unix seconds). */
  nextRebalanceAt?: number;
  delta?: DeltaSummary;
  grid?: GridSummary;
}

export interface GridSummary {
  /** q.u.: the least improvement of the worst loss the hedge acts for. */
  band: bigint;
  /** Worst loss, vega and gamma from the scenario PnL (gridExposures), before and after. */
  before: GridExposures;
  after: GridExposures;
}

export interface NoPlan {
  kind: "none";
  strategy: Strategy;
  /** What is missing, e.g. "no allowed action restores the stress check: needs 1,830 USD more equity; the wallet has 500 USDC". */
  reason: string;
  goal: Goal;
  before: RiskReport;
  explanation: string[];
  nextRebalanceAt?: number;
}

/** Options the planner cannot work with. Exit code 2. */
export class PlanOptionsError extends ZksError {
  constructor(message: string) {
    super(message, 2);
  }
}

const DAY = 86_400;
export const DEFAULT_INTERVAL_DAYS = 7;

function resolveGoal(options: GoalOptions | undefined, fallback: Goal, what: string): Goal {
  const healthFactor = options?.healthFactor ?? fallback.healthFactor;
  const varHeadroom = options?.varHeadroom ?? fallback.varHeadroom;
  if (healthFactor <= 0n || healthFactor > 100n * BPS_SCALE) throw new PlanOptionsError(`${what} health factor must be in (0, 100]`);
  if (varHeadroom < 0n || varHeadroom >= RATIO_SCALE) throw new PlanOptionsError(`${what} VaR headroom must be in [0, 1)`);
  return { healthFactor, varHeadroom };
}

/** Default delta band: 1% of the collateral value, at least one whole quote unit. */
export function defaultDeltaBand(report: RiskReport, market: Market): bigint {
  const collateral = report.values.collateral.reduce((s, v) => s + v, 0n);
  const one = 10n ** BigInt(market.quote.decimals);
  return collateral / 100n > one ? collateral / 100n : one;
}

/**
 * Plans a rebalance of `position` under `market` and `policy` within `allowance`. Returns a
 * Plan (possibly `needed: false`) or a NoPlan with the reason. Throws PlanOptionsError for
 * unusable options and the model's errors when the position itself cannot be evaluated.
 */
export function plan(position: Position, market: Market, policy: Policy, allowance: Allowance, options: PlanOptions): Plan | NoPlan {
  if (!STRATEGIES.includes(options.strategy)) {
    throw new PlanOptionsError(`unknown strategy "${String(options.strategy)}" (${STRATEGIES.join(", ")})`);
  }
  if (allowance.wallet.length !== market.assets.length || allowance.sellable.length !== market.assets.length || allowance.tradable.length !== market.instruments.length) {
    throw new PlanOptionsError("the allowance is not resolved against this market");
  }
  const before = checkPosition(position, market, policy);
  const trigger = resolveGoal(options.trigger, { healthFactor: policy.trigger.healthFactor, varHeadroom: 0n }, "trigger");
  const goal = resolveGoal(options.target, trigger, "target");
  if (options.strategy === "threshold" && (goal.healthFactor < trigger.healthFactor || goal.varHeadroom < trigger.varHeadroom)) {
    throw new PlanOptionsError(
      `the target (health factor ${ratioText(goal.healthFactor)}) is below the trigger (${ratioText(trigger.healthFactor)}): a plan would leave the position triggerable`,
    );
  }
  const ctx: PlannerContext = {
    old: position,
    market,
    policy,
    allowance,
    model: costModel(market, policy, options),
    goal,
    pricing: { ...(options.quote && { quote: options.quote }), ...(options.quoteTolerance !== undefined && { quoteTolerance: options.quoteTolerance }) },
    ...(options.lenderIndex && { lenderIndex: options.lenderIndex }),
    forced: options.forced ?? false,
  };
  if (options.quoteTolerance !== undefined && (options.quoteTolerance < 0n || options.quoteTolerance >= RATIO_SCALE)) {
    throw new PlanOptionsError("the quote tolerance must be in [0, 1)");
  }
  const now = options.now ?? market.timestamp;
  const interval = options.intervalDays ?? DEFAULT_INTERVAL_DAYS;
  if (!(interval > 0) || !Number.isFinite(interval)) throw new PlanOptionsError(`interval must be a positive number of days (got ${interval})`);
  const nextRebalanceAt = options.strategy === "time" ? now + Math.round(interval * DAY) : undefined;
  const header = headerLines(ctx, options.strategy, before, trigger, interval);

  if (options.strategy === "delta-neutral") return planDeltaNeutral(ctx, before, trigger, options, header);
  if (options.strategy === "grid-hedge") return planGridHedge(ctx, before, trigger, options, header);

  // Threshold acts below the trigger; time acts whenever the target is not met.
  const actWhen = options.strategy === "threshold" ? trigger : goal;
  if (meetsGoal(before, actWhen)) {
    return notNeeded(ctx, options.strategy, before, [...header, reasonNotNeeded(options.strategy, before, actWhen)], nextRebalanceAt);
  }
  const outcome = searchRemedies(ctx, [], remedyFamilies(ctx));
  if (!outcome.best) {
    return noPlan(ctx, options.strategy, before, header, noPlanReason(ctx, before, outcome.closest), nextRebalanceAt);
  }
  return makePlan(ctx, options.strategy, before, outcome.best.evaluation, header, nextRebalanceAt);
}

// Strategies -----------------------------------------------------------------------------

function planDeltaNeutral(ctx: PlannerContext, before: RiskReport, trigger: Goal, options: PlanOptions, header: string[]): Plan | NoPlan {
  const { market } = ctx;
  const band = options.deltaBand ?? defaultDeltaBand(before, market);
  if (band < 0n) throw new PlanOptionsError("the delta band must be >= 0");
  // By default, the underlyings a spot swap can hedge; the other underlyings are reported.
  const hedgeable = hedgeableAssets(market, ctx.allowance.sellable);
  const assets = options.deltaAssets ?? hedgeable;
  for (const i of assets) if (!Number.isInteger(i) || i < 0 || i >= market.assets.length) throw new PlanOptionsError(`delta asset index ${i} is not in the market`);
  const deltaBefore = portfolioDelta(ctx.old, market);
  const outside = assets.filter((i) => abs(deltaBefore[i]!) > band);
  const bandText = `+-${moneyText(market.quote, band)}`;
  const deltaLines = assets.map(
    (i) => `${market.assets[i]!.symbol} delta ${moneyText(market.quote, deltaBefore[i]!)} is ${abs(deltaBefore[i]!) > band ? "outside" : "inside"} the band ${bandText}`,
  );
  const unhedged = underlyings(market).filter((i) => !assets.includes(i));
  if (unhedged.length > 0) {
    deltaLines.push(`not neutralized (no allowed swap): ${unhedged.map((i) => `${market.assets[i]!.symbol} delta ${moneyText(market.quote, deltaBefore[i]!)}`).join(", ")}`);
  }
  const lines = [...header, ...deltaLines];
  const summary = (after: bigint[]): DeltaSummary => ({ band, assets: [...assets], before: deltaBefore, after });
  // Solvency before neutrality: when no hedge can be had, a position below its trigger still gets
  // the threshold strategy's repairs (its delta reported as left outside the band), never nothing.
  const unhedgedRepair = (why: string): Plan | NoPlan => {
    if (meetsGoal(before, trigger)) return noPlan(ctx, "delta-neutral", before, lines, why);
    const outcome = searchRemedies(ctx, [], remedyFamilies(ctx));
    if (!outcome.best) return noPlan(ctx, "delta-neutral", before, lines, `${why}; without the hedge, ${noPlanReason(ctx, before, outcome.closest)}`);
    return withDelta(makePlan(ctx, "delta-neutral", before, outcome.best.evaluation, [...lines, `${why}: the checks are restored without the hedge`]), market, summary);
  };
  if (assets.length === 0) return unhedgedRepair("no delta can be hedged: no instrument underlying may be swapped (list it, or an asset to pay with, in sellable)");

  if (outside.length === 0 && meetsGoal(before, trigger)) {
    const plan = notNeeded(ctx, "delta-neutral", before, [...lines, "every delta is inside the band and every check passes: nothing to do"]);
    return { ...plan, delta: summary(deltaBefore) };
  }
  const inBand = (e: Evaluation): boolean => {
    const x = portfolioDelta(e.result.position, market);
    return assets.every((i) => abs(x[i]!) <= band);
  };
  // Hedge; if the target is then missed, restore it; if that moves a delta out again, hedge again.
  let actions: Action[] = [];
  let lastProblem = "";
  for (let round = 0; round < 4; round++) {
    const hedge = deltaHedges(ctx, actions, assets, band);
    if (hedge.problems.length > 0) {
      lastProblem = `${round > 0 ? "after restoring the checks, " : ""}cannot bring the delta inside the band ${bandText}: ${hedge.problems.join("; ")}`;
      break;
    }
    actions = [...actions, ...hedge.actions];
    const e = evaluate(ctx, actions);
    if (!e) {
      lastProblem = `the hedge (${hedge.actions.map((a) => actionText(a, market)).join(", ")}) does not fit the allowance${ctx.allowance.maxActions !== undefined ? ` of at most ${ctx.allowance.maxActions} actions` : ""} or the rebalance's swap slots`;
      break;
    }
    if (e.meets && inBand(e)) return withDelta(makePlan(ctx, "delta-neutral", before, e, lines), market, summary);
    if (!e.meets) {
      const outcome = searchRemedies(ctx, actions, remedyFamilies(ctx));
      if (!outcome.best) {
        lastProblem = noPlanReason(ctx, e.report, outcome.closest, "after the delta hedge, ");
        break;
      }
      if (inBand(outcome.best.evaluation)) return withDelta(makePlan(ctx, "delta-neutral", before, outcome.best.evaluation, lines), market, summary);
      actions = outcome.best.evaluation.actions;
    }
    lastProblem = `restoring the checks keeps moving the delta outside the band ${bandText}`;
  }
  return unhedgedRepair(lastProblem);
}

function planGridHedge(ctx: PlannerContext, before: RiskReport, trigger: Goal, options: PlanOptions, header: string[]): Plan | NoPlan {
  const { market } = ctx;
  const band = options.gridBand ?? defaultDeltaBand(before, market);
  if (band < 0n) throw new PlanOptionsError("the grid band must be >= 0");
  const start = gridExposures(ctx.old, market);
  const lines = [...header, `before: ${exposureText(start, market)}`];
  const summary = (after: GridExposures): GridSummary => ({ band, before: start, after });
  const atGoal = meetsGoal(before, trigger);

  // Candidates: the program's hedges that the allowance and the slots admit, by the exact worst loss they leave.
  // Trades worth less than one whole quote unit are dust from the program's floating point.
  const hedges = gridHedgeCandidates(ctx, [], 10n ** BigInt(market.quote.decimals))
    .slice(0, HEDGE_CANDIDATES)
    .flatMap((c) => {
      const state = stateOf(ctx, c.actions);
      return state ? [{ actions: c.actions, worst: gridExposures(state.position, market).worstLoss }] : [];
    })
    .sort((a, b) => (a.worst < b.worst ? -1 : a.worst > b.worst ? 1 : 0));
  const gain = hedges.length > 0 ? start.worstLoss - hedges[0]!.worst : 0n;
  if (atGoal && gain <= band) {
    const reason =
      hedges.length === 0
        ? "no allowed trade changes the scenario losses (sellable collateral, tradable option tokens)"
        : `the best hedge lowers the worst loss by ${moneyText(market.quote, gain > 0n ? gain : 0n)}, not more than the band ${moneyText(market.quote, band)}`;
    const plan = notNeeded(ctx, "grid-hedge", before, [...lines, `${reason}, and every check passes: nothing to do`]);
    return { ...plan, grid: summary(start) };
  }

  // Each candidate, completed by the remedies the target still needs; keep the least worst loss, then the cheapest.
  let chosen: { e: Evaluation; worst: bigint; cost: bigint } | undefined;
  let lastProblem = "";
  // Each hedge, then no hedge at all (the remedies alone): the plan is never worse than not hedging.
  for (const candidate of [...hedges, { actions: [] as Action[] }]) {
    let e = evaluate(ctx, candidate.actions);
    if (!e) continue;
    if (!e.meets) {
      const outcome = searchRemedies(ctx, candidate.actions, remedyFamilies(ctx));
      if (!outcome.best) {
        lastProblem = noPlanReason(ctx, e.report, outcome.closest, candidate.actions.length > 0 ? "after the grid hedge, " : "");
        continue;
      }
      e = outcome.best.evaluation;
    }
    if (e.actions.length === 0) continue;
    const worst = gridExposures(e.result.position, market).worstLoss;
    const cost = planCost(e.actions, market, ctx.model).total;
    if (!chosen || worst < chosen.worst || (worst === chosen.worst && cost < chosen.cost)) chosen = { e, worst, cost };
  }
  if (!chosen && atGoal) {
    // The position needs nothing; only the hedge cannot be had within the target.
    const plan = notNeeded(ctx, "grid-hedge", before, [
      ...lines,
      `no hedge keeps the target (${lastProblem || "none fits the allowance and the swap slots"}), and every check passes: nothing to do`,
    ]);
    return { ...plan, grid: summary(start) };
  }
  if (!chosen)
    return noPlan(ctx, "grid-hedge", before, lines, lastProblem || "no allowed trade lowers the worst scenario loss within the allowance and the rebalance's swap slots");
  const plan = makePlan(ctx, "grid-hedge", before, chosen.e, lines);
  const after = gridExposures(plan.position, market);
  const explanation = [...plan.explanation];
  const costLine = explanation.findIndex((line) => line.startsWith("cost: "));
  explanation.splice(costLine < 0 ? explanation.length : costLine, 0, `after: ${exposureText(after, market)}`);
  return { ...plan, grid: summary(after), explanation };
}

/** "worst scenario loss 6,087.40 USD ('price +4/4 range, vol +30%'), vega 2,118.22 USD, gamma -85.10 USD" */
function exposureText(x: GridExposures, market: Market): string {
  return [
    `worst scenario loss ${moneyText(market.quote, x.worstLoss)} ('${x.scenario}')`,
    ...(x.vega !== undefined ? [`vega ${moneyText(market.quote, x.vega)} (PnL range across the volatility moves at unchanged prices)`] : []),
    ...(x.gamma !== undefined ? [`gamma ${moneyText(market.quote, x.gamma)} (PnL convexity over one spot step)`] : []),
  ].join(", ");
}

function withDelta(plan: Plan, market: Market, summary: (after: bigint[]) => DeltaSummary): Plan {
  const delta = summary(portfolioDelta(plan.position, market));
  const lines = delta.assets.map((i) => `after: ${market.assets[i]!.symbol} delta ${moneyText(market.quote, delta.after[i]!)} (band +-${moneyText(market.quote, delta.band)})`);
  // The delta lines go before the cost line.
  const explanation = [...plan.explanation];
  const costLine = explanation.findIndex((line) => line.startsWith("cost: "));
  explanation.splice(costLine < 0 ? explanation.length : costLine, 0, ...lines);
  return { ...plan, delta, explanation };
}

// Plans ----------------------------------------------------------------------------------

function headerLines(ctx: PlannerContext, strategy: Strategy, before: RiskReport, trigger: Goal, interval: number): string[] {
  const { goal } = ctx;
  const lines: string[] = [];
  const target = `target: every check passes and the health factor >= ${ratioText(goal.healthFactor)}${
    goal.varHeadroom > 0n ? `, VaR capital leaving ${percentText(goal.varHeadroom)} of equity free` : ""
  }`;
  if (strategy === "threshold") {
    lines.push(
      `strategy threshold: act when a check fails or the health factor is below ${ratioText(trigger.healthFactor)}${trigger.varHeadroom > 0n ? ` or VaR headroom below ${percentText(trigger.varHeadroom)}` : ""}; ${target}`,
    );
  } else if (strategy === "time") {
    lines.push(`strategy time: rebalance every ${interval} day${interval === 1 ? "" : "s"} back to the target; ${target}`);
  } else if (strategy === "delta-neutral") {
    lines.push(`strategy delta-neutral: bring each asset's delta inside the band, then meet the target; ${target}`);
  } else {
    lines.push(
      `strategy grid-hedge: minimise the worst loss over the market's ${ctx.market.scenarios.length} scenarios with spot swaps and option-token flows, then meet the target; ${target}`,
    );
  }
  for (const c of explainChecks(before)) if (!c.pass) lines.push(`fails: ${c.line}`);
  // VaR headroom: the share of equity the VaR capital leaves free, when a headroom is asked for.
  const headroom = goal.varHeadroom > trigger.varHeadroom ? goal.varHeadroom : trigger.varHeadroom;
  if (headroom > 0n && before.equity.scaled > 0n) {
    const { capitalMultiplier } = before.var;
    const methods: [string, bigint | undefined, boolean][] = [
      ["historical", before.var.historical && capitalMultiplier * before.var.historical.scaled, before.var.historical?.pass ?? false],
      ["parametric", before.var.parametric && capitalMultiplier * before.var.parametric.value * EQUITY_SCALE, before.var.parametric?.pass ?? false],
    ];
    for (const [name, capital, pass] of methods) {
      if (capital === undefined || !pass) continue;
      // free = 1 - capital / E*, at RATIO (capital at q.u. * 10^8 * RATIO).
      const exact = RATIO_SCALE - ceilDiv(capital, before.equity.scaled);
      const free = exact - (((exact % 100n) + 100n) % 100n); // shown to 0.01%, rounded down
      if (exact < headroom) {
        lines.push(
          `${name} VaR capital ${moneyText(before.quote, ceilDiv(capital, RATIO_SCALE * EQUITY_SCALE))} leaves ${percentText(free < 0n ? 0n : free)} of equity ${moneyText(before.quote, before.equity.value)} free, below the ${percentText(headroom)} headroom`,
        );
      }
    }
  }
  const hf = before.healthFactor;
  if (hf.pass && hf.value !== null && hf.numerator < goal.healthFactor * hf.denominator) {
    lines.push(
      `health factor ${ratioText(hf.value)} is below the ${strategy === "threshold" && goal.healthFactor === trigger.healthFactor ? "trigger" : "target"} ${ratioText(goal.healthFactor)}`,
    );
  }
  return lines;
}

function nextText(at: number): string {
  const date = new Date(at * 1000);
  const iso = Number.isNaN(date.getTime()) ? "" : `${date.toISOString().replace(/\.000Z$/, "Z")}, `;
  return `next rebalance due at ${iso}unix ${at}`;
}

function reasonNotNeeded(strategy: Strategy, before: RiskReport, goal: Goal): string {
  const hf =
    (before.healthFactor.value === null ? "no debt" : `health factor ${ratioText(before.healthFactor.value)} >= ${ratioText(goal.healthFactor)}`) +
    (goal.varHeadroom > 0n ? `, VaR capital leaves at least ${percentText(goal.varHeadroom)} of equity free` : "");
  return strategy === "threshold"
    ? `every check passes and ${hf}: the trigger is not reached, nothing to do`
    : `the position is at the target (every check passes, ${hf}): nothing to do`;
}

const abs = (x: bigint): bigint => (x < 0n ? -x : x);

function notNeeded(ctx: PlannerContext, strategy: Strategy, before: RiskReport, explanation: string[], nextRebalanceAt?: number): Plan {
  const { market, old } = ctx;
  const movements = noMovements(market);
  const plan: Plan = {
    kind: "plan",
    strategy,
    needed: false,
    actions: [],
    steps: [],
    position: old,
    movements,
    flows: movements.flows,
    values: movementValues(movements, market),
    cost: planCost([], market, ctx.model),
    goal: ctx.goal,
    before,
    after: before,
    explanation: nextRebalanceAt === undefined ? explanation : [...explanation, nextText(nextRebalanceAt)],
    ...(nextRebalanceAt !== undefined && { nextRebalanceAt }),
  };
  return plan;
}

function makePlan(ctx: PlannerContext, strategy: Strategy, before: RiskReport, e: Evaluation, header: string[], nextRebalanceAt?: number): Plan {
  const { market } = ctx;
  const cost = planCost(e.actions, market, ctx.model);
  // What each action buys: the change from the position before it to the position after it.
  const steps: PlanStep[] = [];
  let previous = before;
  e.actions.forEach((action, n) => {
    const next = checkPosition(applyIn(ctx, e.actions.slice(0, n + 1)).position, market, ctx.policy);
    const c = cost.actions[n]!;
    const price = c.slippage > 0n ? `; gives up at most ${moneyText(market.quote, c.slippage)} at the oracle's prices` : "";
    steps.push({ action, text: actionText(action, market), effect: `${effectText(previous, next)}${price}` });
    previous = next;
  });
  // The final word is checkPosition's, not the search's quick check.
  const after = checkPosition(e.result.position, market, ctx.policy);
  if (!meetsGoal(after, ctx.goal)) throw new Error("planner bug: the chosen plan does not meet its goal under checkPosition");
  const explanation = [
    ...header,
    ...steps.map((s, n) => `${n + 1}. ${s.text}: ${s.effect}`),
    ...explainChecks(after).map((c) => `after: ${c.pass ? "PASS" : "FAIL"} ${c.line}`),
    costText(cost, market, ctx.model.nativeSource),
    ...(nextRebalanceAt !== undefined ? [nextText(nextRebalanceAt)] : []),
  ];
  const { position, movements } = e.result;
  const plan: Plan = {
    kind: "plan",
    strategy,
    needed: true,
    actions: e.actions,
    steps,
    position,
    movements,
    flows: movements.flows,
    values: e.values,
    cost,
    goal: ctx.goal,
    before,
    after,
    explanation,
    ...(nextRebalanceAt !== undefined && { nextRebalanceAt }),
  };
  return plan;
}

function noPlan(ctx: PlannerContext, strategy: Strategy, before: RiskReport, header: string[], reason: string, nextRebalanceAt?: number): NoPlan {
  return {
    kind: "none",
    strategy,
    reason,
    goal: ctx.goal,
    before,
    explanation: [...header, `no plan: ${reason}`],
    ...(nextRebalanceAt !== undefined && { nextRebalanceAt }),
  };
}

/** What the allowance offers, in words. */
function allowanceText(ctx: PlannerContext): string {
  const { market, allowance, old } = ctx;
  const quote = market.quote;
  const wallet = allowance.wallet
    .map((units, i) => ({ units, i }))
    .filter(({ units }) => units > 0n)
    .map(({ units, i }) => {
      const a = market.assets[i]!;
      return `${amountText(units, a.decimals)} ${a.symbol} (${moneyText(quote, (units * a.price) / 10n ** BigInt(a.decimals))})`;
    });
  const sellable = market.assets.filter((_, i) => allowance.sellable[i]);
  const sellableWithCollateral = sellable.filter((a) => old.collateral[market.assets.indexOf(a)]! > 0n);
  if (wallet.length === 0 && sellable.length === 0) {
    return "nothing is allowed: the wallet is empty and no asset may be sold (see the allowance: wallet, sellable)";
  }
  const parts = [
    wallet.length > 0 ? `the wallet has ${wallet.join(", ")}` : "the wallet is empty",
    sellable.length === 0
      ? "no asset may be sold"
      : `${sellable.map((a) => a.symbol).join(", ")} may be sold${sellableWithCollateral.length < sellable.length ? ` (collateral held: ${sellableWithCollateral.map((a) => a.symbol).join(", ") || "none"})` : ""}`,
  ];
  if (allowance.maxActions !== undefined) parts.push(`at most ${allowance.maxActions} action${allowance.maxActions === 1 ? "" : "s"}`);
  return parts.join("; ");
}

function noPlanReason(ctx: PlannerContext, from: RiskReport, closest: Evaluation | undefined, prefix = ""): string {
  const { goal, market } = ctx;
  const missing = shortfalls(from, goal);
  const names = missing.map((s) => (s.check === "healthFactor" ? `health factor (${ratioText(goal.healthFactor)})` : checkName(s.check)));
  const what = names.length === 1 ? `the ${names[0]} check` : `the ${names.slice(0, -1).join(", ")} and ${names.at(-1)} checks`;
  const needs = missing.map((s) => shortfallText(s, goal, market.quote)).join("; ");
  let best = "";
  if (closest && closest.actions.length > 0) {
    const still = shortfalls(closest.report, goal);
    if (still.length > 0) {
      best = `; the closest combination found (${closest.actions.map((a) => actionText(a, market)).join(", ")}) still leaves ${still.map((s) => `${checkName(s.check)} short by ${moneyText(market.quote, s.amount)}`).join(", ")}`;
    }
  }
  return `${prefix}no allowed action restores ${what}: ${needs}; ${allowanceText(ctx)}${best}`;
}

export function isPlan(result: Plan | NoPlan): result is Plan {
  return result.kind === "plan";
}
