/**
 * The grid hedge (docs/rebalance.md, "Grid hedge"): hedge the position against the market's
 * scenarios, the spot x volatility grid of a portfolio-margin market (docs/portfolio-margin-grid.md),
 * not only against its delta. The trades that minimise the stress check's worst weighted loss
 * max(0, max_j w_j L_j) are found by a linear program (minimax.ts) over
 *
 * - spot swaps on the AMM: sell up to the collateral (and, outside a keeper's rebalance, the
 *   wallet) of a sellable asset s for another asset b; each q.u. sold adds
 *   r_js - (1 - maxSlippage) r_jb to scenario j's loss per unit of value (credited at the
 *   policy's floor, as the planner always is);
 * - option-token flows of the instruments the allowance lists as `tradable`: deposit up to what
 *   the wallet holds of a long instrument, or withdraw up to what the position holds; each
 *   contract adds -g_jk (its PnL in scenario j) to the loss. Written (short) holdings cannot move
 *   (option tokens back long holdings only, docs/custody.md).
 *
 * Each trade is charged the policy's slippage rate on its value (what a swap may lose, and
 * roughly the spread of an option bought elsewhere), so the program trades only where a unit
 * traded lowers the worst loss by more than it costs. At most SWAP_SLOTS distinct swap pairs fit
 * one rebalance: every set of at most that many pairs gets its own program. The solutions, best
 * first, are built as integer actions and checked by the exact model; the planner keeps the one
 * that, after the remedies the target still needs, leaves the least worst loss.
 *
 * Exposures for the explanation come from the scenario PnL by finite differences: vega as the
 * portfolio's PnL range across the volatility moves at unchanged prices, gamma as its convexity
 * over one spot step (docs/rebalance.md).
 */
import { QUANTITY_SCALE, RATE_SCALE } from "../core/fixed-point.ts";
import type { Market, Position } from "../inputs/types.ts";
import { scenarioLosses } from "../model/scenario-loss.ts";
import { stressTest } from "../model/stress.ts";
import { EQUITY_SCALE } from "../model/equity.ts";
import { assetValues } from "../model/values.ts";
import type { Action } from "./actions.ts";
import { VALUE_SCALE } from "./conservation.ts";
import { solveMinimax, type MinimaxProblem } from "./minimax.ts";
import { stateOf, type PlannerContext } from "./search.ts";
import { amountForValue, unitValue, worstSwap } from "./trades.ts";
import { SWAP_SLOTS } from "./transition.ts";

export interface GridExposures {
  /** The stress check's worst weighted loss max(0, max_j w_j L_j), q.u., rounded up. */
  worstLoss: bigint;
  /** The scenario it is in. */
  scenario: string;
  /**
   * Vega: the portfolio's PnL range (largest - smallest) across the scenarios that leave every
   * price unchanged, i.e. across the volatility moves, q.u.; undefined without two such scenarios.
   */
  vega?: bigint;
  /**
   * Gamma: the convexity of the portfolio's PnL over one spot step,
   * P(+h) + P(-h) - 2 P(0), each the mean over the volatility moves of the spot node, q.u.;
   * undefined without an unchanged node and two nodes at opposite moves.
   */
  gamma?: bigint;
}

const key = (returns: readonly bigint[]): string => returns.join(",");
const mean = (xs: readonly bigint[]): bigint => xs.reduce((s, x) => s + x, 0n) / BigInt(xs.length);

/** Worst loss, vega and gamma of `position` under `market`'s scenarios (finite differences of the scenario PnL). */
export function gridExposures(position: Position, market: Market): GridExposures {
  const losses = scenarioLosses(assetValues(position, market), position, market);
  const stress = stressTest(0n, losses, market.scenarios, 0n);
  // PnL per scenario, q.u. * 10^8 (exact).
  const pnl = losses.map((l) => -l);
  const nodes = new Map<string, { level: bigint; pnl: bigint[] }>();
  market.scenarios.forEach((s, j) => {
    const k = key(s.assetReturns);
    const node = nodes.get(k) ?? { level: s.assetReturns.reduce((a, r) => a + r, 0n), pnl: [] };
    node.pnl.push(pnl[j]!);
    nodes.set(k, node);
  });
  const centre = nodes.get(key(market.assets.map(() => 0n)));
  const out: GridExposures = { worstLoss: stress.worstLoss, scenario: stress.scenario };
  if (!centre) return out;
  const toQuote = (x: bigint): bigint => (x >= 0n ? (x + EQUITY_SCALE / 2n) / EQUITY_SCALE : -((-x + EQUITY_SCALE / 2n) / EQUITY_SCALE));
  if (centre.pnl.length >= 2) {
    const max = centre.pnl.reduce((a, b) => (b > a ? b : a));
    const min = centre.pnl.reduce((a, b) => (b < a ? b : a));
    out.vega = toQuote(max - min);
  }
  const others = [...nodes.values()].filter((n) => n !== centre);
  const up = others.filter((n) => n.level > 0n).sort((a, b) => (a.level < b.level ? -1 : 1))[0];
  const down = others.filter((n) => n.level < 0n).sort((a, b) => (a.level > b.level ? -1 : 1))[0];
  if (up && down && up.level === -down.level) out.gamma = toQuote(mean(up.pnl) + mean(down.pnl) - 2n * mean(centre.pnl));
  return out;
}

/** One variable of the program: a swap pair, or an instrument's option-token flow. */
export type HedgeVariable = { kind: "swap"; sell: number; buy: number } | { kind: "instrument"; instrument: number };

export interface HedgeCandidate {
  /** The actions, in execution order (wallet deposits funding a swap, swaps, option-token flows). */
  actions: Action[];
  /** The program's worst weighted loss at its solution (q.u., float): the candidates' order. */
  planned: number;
  /** The program's objective: planned + the trades' cost. */
  objective: number;
}

/** Candidates the planner checks exactly, at most. */
export const HEDGE_CANDIDATES = 6;

/** x > 0 rounded down to `digits` significant decimal digits. */
function roundDownSignificant(x: bigint, digits: number): bigint {
  const length = x.toString().length;
  if (x <= 0n || length <= digits) return x;
  const unit = 10n ** BigInt(length - digits);
  return (x / unit) * unit;
}

const quoteFloat = (x: bigint, decimals: number): number => Number(x) / 10 ** decimals;

/**
 * The grid hedge's candidate trades after `base` (usually none), best first: one linear program
 * per set of at most SWAP_SLOTS swap pairs, each solution built as actions. Trades the program
 * sizes below `minTrade` q.u. are dropped.
 */
export function gridHedgeCandidates(ctx: PlannerContext, base: readonly Action[], minTrade: bigint): HedgeCandidate[] {
  const { market, policy, allowance } = ctx;
  const state = stateOf(ctx, base);
  if (!state) return [];
  const { position } = state;
  const qd = market.quote.decimals;
  const losses = scenarioLosses(assetValues(position, market), position, market).map((l) => Number(l) / Number(EQUITY_SCALE) / 10 ** qd);
  const weights = market.scenarios.map((s) => Number(s.weight) / 1e4);
  const rate = (r: bigint): number => Number(r) / Number(RATE_SCALE);
  const slippage = Number(policy.maxSlippage) / 1e6;
  // Each trade costs the policy's slippage rate on its value; a floor keeps a zero-slippage policy from trading for nothing.
  const costRate = Math.max(slippage, 1e-6);

  // Swap pairs: a sellable asset with something to sell (collateral, or the wallet outside a keeper's rebalance), into any other asset.
  const available = (s: number): bigint => position.collateral[s]! + (ctx.forced ? 0n : state.walletLeft[s]!);
  const pairs: { sell: number; buy: number; upper: number }[] = [];
  market.assets.forEach((_, s) => {
    if (!allowance.sellable[s] || available(s) === 0n) return;
    const upper = quoteFloat((available(s) * unitValue(market.assets[s]!)) / VALUE_SCALE, qd);
    market.assets.forEach((__, b) => {
      if (b !== s) pairs.push({ sell: s, buy: b, upper });
    });
  });
  // Option tokens: tradable long (or empty) holdings, from the wallet in or to the wallet out; none in a keeper's rebalance.
  const instruments: { k: number; lower: number; upper: number }[] = [];
  if (!ctx.forced) {
    market.instruments.forEach((_, k) => {
      const q = position.quantities[k]!;
      if (!allowance.tradable[k] || q < 0n) return;
      const wallet = allowance.instrumentWallet?.[k] ?? 0n;
      if (q === 0n && wallet === 0n) return;
      instruments.push({ k, lower: -Number(q) / Number(QUANTITY_SCALE), upper: Number(wallet) / Number(QUANTITY_SCALE) });
    });
  }

  const solve = (chosen: readonly { sell: number; buy: number; upper: number }[]): HedgeCandidate | undefined => {
    const variables: HedgeVariable[] = [
      ...chosen.map((p) => ({ kind: "swap" as const, sell: p.sell, buy: p.buy })),
      ...instruments.map((i) => ({ kind: "instrument" as const, instrument: i.k })),
    ];
    if (variables.length === 0) return undefined;
    const problem: MinimaxProblem = {
      weights,
      losses,
      slopes: market.scenarios.map((s) =>
        variables.map((v) => (v.kind === "swap" ? rate(s.assetReturns[v.sell]!) - (1 - slippage) * rate(s.assetReturns[v.buy]!) : -quoteFloat(s.instrumentPnl[v.instrument]!, qd))),
      ),
      lower: [...chosen.map(() => 0), ...instruments.map((i) => i.lower)],
      upper: [...chosen.map((p) => p.upper), ...instruments.map((i) => i.upper)],
      cost: variables.map((v) => (v.kind === "swap" ? costRate : costRate * Math.abs(quoteFloat(market.instruments[v.instrument]!.mark, qd)))),
      // Two pairs selling one asset share what there is of it.
      budgets: [...new Set(chosen.map((p) => p.sell))].map((sell) => ({
        coefficients: variables.map((v) => (v.kind === "swap" && v.sell === sell ? 1 : 0)),
        limit: chosen.find((p) => p.sell === sell)!.upper,
      })),
    };
    const solution = solveMinimax(problem);
    const actions = buildActions(ctx, base, variables, solution.x, minTrade);
    if (!actions || actions.length === 0) return undefined;
    const tradeCost = solution.x.reduce((sum, x, v) => sum + problem.cost[v]! * Math.abs(x), 0);
    return { actions, planned: solution.worst, objective: solution.worst + tradeCost };
  };

  const candidates: HedgeCandidate[] = [];
  const seen = new Set<string>();
  const consider = (c: HedgeCandidate | undefined): void => {
    if (!c) return;
    const id = JSON.stringify(c.actions, (_k, v) => (typeof v === "bigint" ? v.toString() : v));
    if (seen.has(id)) return;
    seen.add(id);
    candidates.push(c);
  };
  // Sets of at most SWAP_SLOTS pairs (never both directions of one pair), including none.
  consider(solve([]));
  const sets = (from: number, size: number, taken: typeof pairs): void => {
    if (taken.length > 0) consider(solve(taken));
    if (taken.length === size) return;
    for (let n = from; n < pairs.length; n++) {
      const p = pairs[n]!;
      if (taken.some((t) => (t.sell === p.sell && t.buy === p.buy) || (t.sell === p.buy && t.buy === p.sell))) continue;
      sets(n + 1, size, [...taken, p]);
    }
  };
  sets(0, SWAP_SLOTS, []);
  return candidates.sort((a, b) => a.objective - b.objective);
}

/**
 * The actions for the program's solution x after `base`: per swap pair a wallet deposit of what
 * the collateral lacks, then the swap at the planner's minOut; per instrument a deposit or a
 * withdrawal of option tokens, in hundredths of a contract toward zero (within its bounds).
 * Undefined when an amount cannot be built (the pool below the floor, say).
 */
function buildActions(ctx: PlannerContext, base: readonly Action[], variables: readonly HedgeVariable[], x: readonly number[], minTrade: bigint): Action[] | undefined {
  const { market, policy } = ctx;
  const state = stateOf(ctx, base);
  if (!state) return undefined;
  const qd = market.quote.decimals;
  const deposits: Action[] = [];
  const swaps: Action[] = [];
  const flows: Action[] = [];
  const depositedFor = new Map<number, bigint>();
  for (let v = 0; v < variables.length; v++) {
    const variable = variables[v]!;
    const size = x[v]!;
    if (variable.kind === "swap") {
      // Whole quote base units of value, toward zero; the amount sold to 4 significant digits (the program's sizes are approximate anyway).
      const value = BigInt(Math.floor(size * 10 ** qd));
      if (value <= minTrade || value <= 0n) continue;
      const amountIn = roundDownSignificant(amountForValue(market, variable.sell, value * VALUE_SCALE), 4);
      if (amountIn <= 0n) continue;
      const held = state.position.collateral[variable.sell]! - (depositedFor.get(variable.sell) ?? 0n);
      const fromWallet = amountIn > held ? amountIn - (held > 0n ? held : 0n) : 0n;
      if (fromWallet > 0n) {
        depositedFor.set(variable.sell, (depositedFor.get(variable.sell) ?? 0n) + fromWallet);
        deposits.push({ kind: "deposit", asset: variable.sell, amount: fromWallet });
      }
      const swap = worstSwap(market, policy, variable.sell, amountIn, variable.buy, ctx.pricing);
      if (!swap) return undefined;
      swaps.push(swap);
    } else {
      const hundredths = BigInt(Math.trunc(size * 100));
      const quantity = (hundredths < 0n ? -hundredths : hundredths) * (QUANTITY_SCALE / 100n);
      const mark = market.instruments[variable.instrument]!.mark;
      const worth = (quantity * (mark < 0n ? -mark : mark)) / QUANTITY_SCALE;
      if (quantity === 0n || worth <= minTrade) continue;
      flows.push({ kind: hundredths > 0n ? "depositInstrument" : "withdrawInstrument", instrument: variable.instrument, quantity });
    }
  }
  return [...deposits, ...swaps, ...flows];
}
