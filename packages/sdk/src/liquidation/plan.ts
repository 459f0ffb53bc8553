/**
 * The keeper's liquidation planner (docs/enforcement.md, "The planner's rule"): given a decrypted
 * position below the trigger, the epoch's market, the policy and the Uniswap v2 reserves the
 * caller read, build the liquidation transition packages/circuits/rebalance.circom proves with
 * `liquidation = 1`:
 *
 * - urgent when the model puts the health factor strictly below 1.0 (HFnum < 10^4 * HFden), so the
 *   gate lets it skip the grace window;
 * - each debt asset is repaid from the position's own collateral in that asset first (no trade),
 *   then from swaps of what is left of the other assets after their own repayments (the most
 *   valuable first; never an asset whose own debt is still unpaid, and never the asset bought), at
 *   most the instance's swap slots: a dust borrow in a collateral asset does not hide it. A swap
 *   sells the least the pair takes to pay what is left to repay (getAmountIn from the reserves)
 *   and its minOut is what the pair pays, capped at what the repayment takes (the circuit's
 *   buyCap: the pair's excess goes to the owner's wallet), never below the policy's slippage floor
 *   at oracle prices;
 * - the share of every debt repaid is the least (binary search on a 2^32 grid) after which P'
 *   passes every policy check with a health factor at or above the target (the trigger by
 *   default, the circuit's rule for a P' that keeps debt), or all of it (P' closed) when no share
 *   does;
 * - a position whose debts need more swaps than the instance has slots gets `cannotRepay`: a
 *   liquidation is one transaction, and liquidator-funded repayment (which needs no swap) is not
 *   supported yet;
 * - the bonus is floor(bonusBps * repaid value / 10^4) at oracle prices, taken in the sold
 *   collateral (then the repaid assets' own collateral), never above what each holds;
 * - the result passes checkTransition (the circuit's mirror) before it is returned.
 *
 * Pure integer code, no Node built-ins.
 */
import { getAddress } from "ethers";
import { formatDecimal } from "../core/decimal.ts";
import { InputError, ZksError } from "../core/errors.ts";
import { BPS_SCALE } from "../core/fixed-point.ts";
import type { Market, Policy, Position } from "../inputs/types.ts";
import { checkPosition, type RiskReport } from "../model/check.ts";
import { ModelError } from "../model/errors.ts";
import type { HealthFactorResult } from "../model/health-factor.ts";
import { applyActions, assetSymbol, debtIndexOf, RebalanceError, repayCharge, type Action, type SwapAction } from "../rebalance/actions.ts";
import { amountText, moneyText, ratioText } from "../rebalance/explain.ts";
import { meetsGoal } from "../rebalance/goal.ts";
import { quickCheck } from "../rebalance/quick-check.ts";
import { unitValue } from "../rebalance/trades.ts";
import {
  bonusValue,
  checkTransition,
  repaidValue,
  slippageFloor,
  SWAP_SLOTS,
  URGENT_HEALTH_FACTOR,
  type LiquidationTerms,
  type Movements,
  type Transition,
} from "../rebalance/transition.ts";
import { getAmountOut, V2_FEE_DENOMINATOR, V2_FEE_NUMERATOR } from "../chain/uniswap-v2.ts";

/** The reserves of one Uniswap v2 pair between two market assets, as read from `getReserves`. */
export interface PoolReserves {
  /** Market asset indices of the pair's two tokens. */
  assets: readonly [number, number];
  /** The pair's reserve of each, in the same order, base units. */
  reserves: readonly [bigint, bigint];
}

export interface LiquidationPlanTerms {
  /** The keeper's address: the proof binds it and the gate pays it the bonus. */
  liquidator: string;
  /** The gate's `liquidationBonus()`, basis points of the repaid value. */
  bonusBps: bigint;
  /**
   * The health factor (BPS) a partial liquidation must restore; default the policy's trigger. At
   * least the trigger: a liquidation that leaves P' below it would leave the position flaggable
   * again, one bonus at a time.
   */
  trigger?: bigint;
  /** The rebalance instance's swap slots (default SWAP_SLOTS). */
  swapSlots?: number;
}

export type NoLiquidationReason = "notBelowTrigger" | "noPool" | "insufficientLiquidity" | "cannotRepay";

export interface NoLiquidation {
  kind: "none";
  reason: NoLiquidationReason;
  /** One line: what is missing. */
  message: string;
  urgent: boolean;
  before: RiskReport;
}

export interface LiquidationPlan {
  kind: "liquidation";
  /** Ready for rebalanceInput: forced false, liquidation terms set, P' with nonce + 1 and the owner's salt. */
  transition: Transition;
  /** The swaps and repayments, before the bonus is taken. */
  actions: Action[];
  urgent: boolean;
  /** Every debt repaid: P' is closed and the circuit skips its policy checks. */
  closed: boolean;
  /** The share of each debt repaid: units_i = ceil(debt_i * share / SHARE_SCALE). */
  share: bigint;
  before: RiskReport;
  /** The model's report of P' (undefined only when a closed P' lies outside the model's bounds). */
  after: RiskReport | undefined;
  healthFactorBefore: HealthFactorResult;
  healthFactorAfter: HealthFactorResult | undefined;
  /** sum_i repaid_i * u_i: the debt repaid at oracle unit values, quote units * 10^18. */
  repaidValue: bigint;
  /** floor(bonusBps * repaidValue / 10^4), quote units * 10^18: what the bonus may be worth. */
  bonusAllowance: bigint;
  /** sum_i bonus_i * u_i, quote units * 10^18: what it is worth (<= bonusAllowance). */
  bonusValue: bigint;
  explanation: string[];
}

/**
 * A planned liquidation that checkTransition (the circuit's mirror) refuses: a bug in the planner,
 * reported before anything is proven or sent, never a proof that would fail. Exit code 1.
 */
export class LiquidationPlanError extends ZksError {
  constructor(message: string) {
    super(message, 1);
  }
}

/** The share grid: the search finds the least share to 1 / 2^32 of every debt. */
export const SHARE_SCALE = 1n << 32n;

/** HF strictly below 1.0, the rule of the circuit's `urgent`: HFnum < 10^4 * HFden. */
export function isUrgent(hf: HealthFactorResult): boolean {
  return hf.denominator > 0n && hf.numerator < URGENT_HEALTH_FACTOR * hf.denominator;
}

/** Strictly below the trigger, as the circuit's `belowTrigger`: HFnum < trigger * HFden (no debt never is). */
export function belowTrigger(hf: HealthFactorResult, policy: Policy): boolean {
  return hf.denominator > 0n && hf.numerator < policy.trigger.healthFactor * hf.denominator;
}

/** UniswapV2Library.getAmountIn: the least input that pays `amountOut` (undefined when the pool cannot). */
export function getAmountIn(amountOut: bigint, reserveIn: bigint, reserveOut: bigint): bigint | undefined {
  if (amountOut <= 0n) return 0n;
  if (reserveIn <= 0n || amountOut >= reserveOut) return undefined;
  let amountIn = (reserveIn * amountOut * V2_FEE_DENOMINATOR) / ((reserveOut - amountOut) * V2_FEE_NUMERATOR) + 1n;
  // The library's +1 can overshoot by one base unit; the least input is what the planner sells.
  while (amountIn > 1n && getAmountOut(amountIn - 1n, reserveIn, reserveOut) >= amountOut) amountIn -= 1n;
  return amountIn;
}

interface Context {
  old: Position;
  market: Market;
  policy: Policy;
  pools: readonly PoolReserves[];
  bonusBps: bigint;
  target: bigint;
  slots: number;
}

type Execution =
  | {
      ok: true;
      actions: Action[];
      next: Position;
      movements: Movements;
      bonus: bigint[];
      repaidValue: bigint;
      bonusAllowance: bigint;
      bonusValue: bigint;
    }
  | { ok: false; reason: NoLiquidationReason; message: string };

/** The pair of assets a and b, oriented as (reserve of a, reserve of b). */
function poolOf(ctx: Context, a: number, b: number): { reserveIn: bigint; reserveOut: bigint } | undefined {
  for (const p of ctx.pools) {
    if (p.assets[0] === a && p.assets[1] === b) return { reserveIn: p.reserves[0], reserveOut: p.reserves[1] };
    if (p.assets[0] === b && p.assets[1] === a) return { reserveIn: p.reserves[1], reserveOut: p.reserves[0] };
  }
  return undefined;
}

/** The pool pays at least the policy's slippage floor for a sale of `amountIn` (and something at all). */
function paysFloor(ctx: Context, s: number, d: number, pool: { reserveIn: bigint; reserveOut: bigint }, amountIn: bigint): boolean {
  const out = getAmountOut(amountIn, pool.reserveIn, pool.reserveOut);
  return out > 0n && out >= slippageFloor(s, amountIn, d, ctx.market, ctx.policy);
}

/**
 * The largest sale <= `wanted` the pool pays within the floor (0 when none): price impact grows
 * with the size, so the sales that pass are an interval from below (up to rounding at dust sizes).
 */
function withinFloor(ctx: Context, s: number, d: number, pool: { reserveIn: bigint; reserveOut: bigint }, wanted: bigint): bigint {
  if (paysFloor(ctx, s, d, pool, wanted)) return wanted;
  let lo = 0n;
  let hi = wanted;
  while (hi - lo > 1n) {
    const mid = (lo + hi) / 2n;
    if (paysFloor(ctx, s, d, pool, mid)) lo = mid;
    else hi = mid;
  }
  return lo;
}

/** Debt units repaid at a share: ceil(debt * share / SHARE_SCALE), all of it at SHARE_SCALE. */
const unitsAt = (debt: bigint, share: bigint): bigint => (debt * share + SHARE_SCALE - 1n) / SHARE_SCALE;

/** Builds the liquidation that repays `share` of every debt, or says why the pools and the position cannot. */
function execute(ctx: Context, share: bigint): Execution {
  const { old, market } = ctx;
  const symbol = (i: number): string => assetSymbol(market, i);
  const tokens = (i: number, x: bigint): string => `${amountText(x, market.assets[i]!.decimals)} ${symbol(i)}`;
  const need = old.debt.map((d, i) => (d === 0n ? 0n : repayCharge(unitsAt(d, share), debtIndexOf(market.assets[i]!))));
  const available = [...old.collateral];
  const swaps: SwapAction[] = [];
  const debtOrder = need
    .map((n, i) => ({ i, value: n * unitValue(market.assets[i]!) }))
    .filter((x) => need[x.i]! > 0n)
    .sort((a, b) => (a.value === b.value ? a.i - b.i : a.value > b.value ? -1 : 1))
    .map((x) => x.i);

  // Each debt is repaid from the position's own collateral in its asset first (no trade).
  const rest = need.map((n, d) => {
    const own = available[d]! < n ? available[d]! : n;
    available[d] = available[d]! - own;
    return n - own;
  });
  // Then what is left of any asset after its own repayment may be sold, the most valuable first. An
  // asset whose own debt is still unpaid is never sold (it needs every unit it holds); it is also
  // the only kind of asset bought, so no asset is sold into itself. Excluding every asset that
  // merely carries debt would let one dust borrow per collateral asset hide a position.
  const value = (i: number): bigint => available[i]! * unitValue(market.assets[i]!);
  const sellOrder = market.assets
    .map((_, i) => i)
    .filter((i) => rest[i] === 0n && available[i]! > 0n)
    .sort((a, b) => (value(a) === value(b) ? a - b : value(a) > value(b) ? -1 : 1));

  for (const d of debtOrder) {
    let left = rest[d]!;
    // What the swaps may credit to d: the circuit's buyCap, bought_d <= repaid_d = need_d.
    let creditable = need[d]!;
    let missingPool = false;
    let limited: string | undefined;
    for (const s of sellOrder) {
      if (left === 0n) break;
      if (available[s] === 0n) continue;
      const pool = poolOf(ctx, s, d);
      if (!pool) {
        missingPool = true;
        continue;
      }
      if (swaps.length >= ctx.slots) {
        return {
          ok: false,
          reason: "cannotRepay",
          message: `repaying ${tokens(d, need[d]!)} needs more than the instance's ${ctx.slots} swap slots (a liquidation is one transaction; liquidator-funded repayment, which needs no swap, is not supported yet)`,
        };
      }
      // The least sale that pays what is left, or everything this asset holds when that is not
      // enough; in either case no more than the pool takes within the policy's slippage floor.
      const exact = getAmountIn(left, pool.reserveIn, pool.reserveOut);
      const wanted = exact !== undefined && exact <= available[s]! ? exact : available[s]!;
      const amountIn = withinFloor(ctx, s, d, pool, wanted);
      if (amountIn < wanted) {
        const out = getAmountOut(wanted, pool.reserveIn, pool.reserveOut);
        const floor = slippageFloor(s, wanted, d, market, ctx.policy);
        limited = `the ${symbol(s)}/${symbol(d)} pool pays ${tokens(d, out)} for ${tokens(s, wanted)}, below the policy's slippage floor of ${amountText(floor, market.assets[d]!.decimals)} at the oracle's prices`;
        if (amountIn === 0n) continue;
      }
      const out = getAmountOut(amountIn, pool.reserveIn, pool.reserveOut);
      const floor = slippageFloor(s, amountIn, d, market, ctx.policy);
      // The position is credited what the repayment takes, the pair's excess going to the owner's
      // wallet (the gate forwards amountOut - minOut); the least sale can overshoot `left` by up to
      // one input unit's worth, which at dust sizes may exceed the slippage margin: then minOut is
      // raised to the floor when the repayment still takes it (less of d's own collateral is used).
      let minOut = out < left ? out : left;
      if (minOut < floor) {
        if (floor > creditable) {
          return {
            ok: false,
            reason: "insufficientLiquidity",
            message: `the least sale of ${tokens(s, amountIn)} that raises ${tokens(d, left)} must be credited at least ${tokens(d, floor)} (the policy's slippage floor at the oracle's prices), more than the repayment of ${tokens(d, need[d]!)} takes`,
          };
        }
        minOut = floor;
      }
      swaps.push({ kind: "swap", sell: s, amountIn, buy: d, minOut });
      available[s] = available[s]! - amountIn;
      creditable -= minOut;
      const used = minOut < left ? minOut : left;
      // Proceeds beyond what is left to raise replace d's own collateral in the repayment.
      available[d] = available[d]! + minOut - used;
      left -= used;
    }
    if (left > 0n) {
      const short = `${tokens(d, left)} of the ${tokens(d, need[d]!)} to repay`;
      if (limited) return { ok: false, reason: "insufficientLiquidity", message: `${limited}; ${short} cannot be raised` };
      if (missingPool) return { ok: false, reason: "noPool", message: `no ${symbol(d)} pool for the collateral left; ${short} cannot be raised` };
      return { ok: false, reason: "cannotRepay", message: `the position's collateral cannot raise ${short}` };
    }
  }

  const actions: Action[] = [...swaps, ...debtOrder.map((d): Action => ({ kind: "repayWithCollateral", asset: d, amount: need[d]! }))];
  let result;
  try {
    result = applyActions(old, actions, market, { policy: ctx.policy, swapSlots: ctx.slots });
  } catch (error) {
    if (error instanceof RebalanceError) return { ok: false, reason: "cannotRepay", message: error.message };
    throw error;
  }
  const repaid = repaidValue(result.movements, market);
  const bonusAllowance = (ctx.bonusBps * repaid) / BPS_SCALE;
  // Sold collateral first, in sale order, then what the repaid assets still hold.
  const bonusOrder = [...new Set([...swaps.map((s) => s.sell), ...debtOrder])];
  const bonus = market.assets.map(() => 0n);
  let left = bonusAllowance;
  const collateral = [...result.position.collateral];
  for (const i of bonusOrder) {
    const u = unitValue(market.assets[i]!);
    const want = left / u;
    const take = want < collateral[i]! ? want : collateral[i]!;
    bonus[i] = take;
    collateral[i] = collateral[i]! - take;
    left -= take * u;
  }
  return {
    ok: true,
    actions,
    next: { ...result.position, collateral },
    movements: result.movements,
    bonus,
    repaidValue: repaid,
    bonusAllowance,
    bonusValue: bonusValue(bonus, market),
  };
}

const isClosed = (p: Position): boolean => p.debt.every((d) => d === 0n);

/** P' is acceptable: closed, or every check passes with the health factor at or above the target. */
function passes(ctx: Context, e: Execution): boolean {
  if (!e.ok) return false;
  if (isClosed(e.next)) return true;
  try {
    return meetsGoal(quickCheck(e.next, ctx.market, ctx.policy), { healthFactor: ctx.target, varHeadroom: 0n });
  } catch (error) {
    if (error instanceof ModelError) return false;
    throw error;
  }
}

function none(reason: NoLiquidationReason, message: string, urgent: boolean, before: RiskReport): NoLiquidation {
  return { kind: "none", reason, message, urgent, before };
}

/** Checks the terms and pools and orders the assets to sell; InputError for unusable terms. */
function contextOf(position: Position, market: Market, policy: Policy, pools: readonly PoolReserves[], terms: LiquidationPlanTerms): Context & { liquidator: string } {
  const source = "liquidation terms";
  if (position.collateral.length !== market.assets.length || position.debt.length !== market.assets.length || position.quantities.length !== market.instruments.length) {
    throw new InputError(`position of ${position.account}`, "", "is not resolved against this market (one slot per market asset and instrument)");
  }
  let liquidator: string;
  try {
    liquidator = getAddress(terms.liquidator);
  } catch {
    throw new InputError(source, "liquidator", `"${terms.liquidator}" is not an address`);
  }
  if (BigInt(liquidator) === 0n) throw new InputError(source, "liquidator", "the zero address cannot receive a bonus");
  if (terms.bonusBps < 0n || terms.bonusBps > BPS_SCALE) throw new InputError(source, "bonusBps", `must be in [0, 10000] basis points (got ${terms.bonusBps})`);
  const target = terms.trigger ?? policy.trigger.healthFactor;
  if (target < policy.trigger.healthFactor) {
    throw new InputError(
      source,
      "trigger",
      `the target health factor ${ratioText(target)} is below the policy's trigger ${ratioText(policy.trigger.healthFactor)}: the position would stay liquidatable`,
    );
  }
  const slots = terms.swapSlots ?? SWAP_SLOTS;
  pools.forEach((p, n) => {
    for (const a of p.assets)
      if (!Number.isInteger(a) || a < 0 || a >= market.assets.length) throw new InputError("pools", `[${n}].assets`, `asset index ${a} is not in the market`);
    if (p.assets[0] === p.assets[1]) throw new InputError("pools", `[${n}].assets`, "a pair joins two different assets");
    if (p.reserves.some((r) => r < 0n)) throw new InputError("pools", `[${n}].reserves`, "reserves are >= 0");
  });
  return { old: position, market, policy, pools, bonusBps: terms.bonusBps, target, slots, liquidator };
}

/** The liquidation transition that repays `share` (of SHARE_SCALE) of every debt, whether or not it restores the position; undefined when it cannot be executed. For tests and for keepers that size a liquidation themselves. */
export function liquidationAtShare(
  position: Position,
  market: Market,
  policy: Policy,
  pools: readonly PoolReserves[],
  terms: LiquidationPlanTerms,
  share: bigint,
): Transition | undefined {
  const ctx = contextOf(position, market, policy, pools, terms);
  const e = execute(ctx, share);
  if (!e.ok) return undefined;
  const urgent = isUrgent(checkPosition(position, market, policy).healthFactor);
  return {
    old: position,
    next: e.next,
    forced: false,
    fromEmpty: false,
    ...e.movements,
    liquidation: { liquidator: ctx.liquidator, bonusBps: terms.bonusBps, bonus: e.bonus, urgent },
  };
}

/**
 * Plans the liquidation of `position` (decrypted, resolved against `market`) under `policy`,
 * against the pools' current reserves. Returns NoLiquidation with a named reason when the
 * position is not below the trigger or the pools and the position cannot repay enough; throws
 * InputError for unusable terms and the model's errors when the position cannot be evaluated.
 */
export function planLiquidation(position: Position, market: Market, policy: Policy, pools: readonly PoolReserves[], terms: LiquidationPlanTerms): LiquidationPlan | NoLiquidation {
  const ctx = contextOf(position, market, policy, pools, terms);
  const { liquidator, slots } = ctx;
  const before = checkPosition(position, market, policy);
  const hf = before.healthFactor;
  const urgent = isUrgent(hf);
  if (!belowTrigger(hf, policy)) {
    const shown = hf.value === null ? "no debt" : `health factor ${ratioText(hf.value)}`;
    return none("notBelowTrigger", `${position.account}: ${shown}, not below the trigger ${ratioText(policy.trigger.healthFactor)}: nothing to liquidate`, urgent, before);
  }

  // The largest share the pools and the position can execute (monotone: a larger share sells more).
  const full = execute(ctx, SHARE_SCALE);
  let executable = SHARE_SCALE;
  if (!full.ok) {
    let lo = 0n;
    let hi = SHARE_SCALE;
    while (hi - lo > 1n) {
      const mid = (lo + hi) / 2n;
      if (execute(ctx, mid).ok) lo = mid;
      else hi = mid;
    }
    executable = lo;
    if (executable === 0n || !passes(ctx, execute(ctx, executable))) {
      const most = executable === 0n ? "none of it" : `at most ${percentOf(executable)} of it`;
      return none(full.reason, `${full.message}; the pools and the position can repay ${most}, which does not restore the position`, urgent, before);
    }
  }
  // The least share that restores the position (or closes it); passes(executable) holds.
  let lo = 0n;
  let hi = executable;
  while (hi - lo > 1n) {
    const mid = (lo + hi) / 2n;
    if (passes(ctx, execute(ctx, mid))) hi = mid;
    else lo = mid;
  }
  const chosen = execute(ctx, hi);
  if (!chosen.ok) throw new LiquidationPlanError(`internal: the chosen share cannot be executed: ${chosen.message}`);

  const liquidation: LiquidationTerms = { liquidator, bonusBps: terms.bonusBps, bonus: chosen.bonus, urgent };
  const transition: Transition = { old: position, next: chosen.next, forced: false, fromEmpty: false, ...chosen.movements, liquidation };
  const check = checkTransition(transition, market, policy, { swapSlots: slots });
  if (!check.valid) throw new LiquidationPlanError(`internal: the planned liquidation fails the circuit's rules: ${check.violations.map((v) => v.message).join("; ")}`);

  const closed = isClosed(chosen.next);
  let after: RiskReport | undefined;
  try {
    after = check.after ?? checkPosition(chosen.next, market, policy);
  } catch (error) {
    if (!(error instanceof ModelError) || !closed) throw error;
  }
  return {
    kind: "liquidation",
    transition,
    actions: chosen.actions,
    urgent,
    closed,
    share: hi,
    before,
    after,
    healthFactorBefore: hf,
    healthFactorAfter: after?.healthFactor,
    repaidValue: chosen.repaidValue,
    bonusAllowance: chosen.bonusAllowance,
    bonusValue: chosen.bonusValue,
    explanation: explain(ctx, chosen, hi, urgent, before, after, closed),
  };
}

const percentOf = (share: bigint): string => `${((Number(share) / Number(SHARE_SCALE)) * 100).toFixed(2)}%`;

/** quote units * 10^18 (unitValue: price in quote units times 10^18 / 10^decimals) to quote units, rounded down. */
const quoteUnits = (scaled: bigint): bigint => scaled / 10n ** 18n;

function explain(ctx: Context, e: Extract<Execution, { ok: true }>, share: bigint, urgent: boolean, before: RiskReport, after: RiskReport | undefined, closed: boolean): string[] {
  const { market } = ctx;
  const tokens = (i: number, x: bigint): string => `${amountText(x, market.assets[i]!.decimals)} ${assetSymbol(market, i)}`;
  const hf = (r: RiskReport | undefined): string => (r?.healthFactor.value == null ? "no debt" : ratioText(r.healthFactor.value));
  const lines = [
    `${urgent ? "urgent: health factor below 1.0" : "below the trigger"} (${hf(before)} < ${ratioText(ctx.policy.trigger.healthFactor)}); repay ${closed ? "all of the debt" : `${percentOf(share)} of each debt`}`,
  ];
  for (const a of e.actions) {
    if (a.kind === "swap") lines.push(`sell ${tokens(a.sell, a.amountIn)} for ${tokens(a.buy, a.minOut)} on the pool`);
    else if (a.kind === "repayWithCollateral") lines.push(`repay ${tokens(a.asset, a.amount)} of debt from collateral`);
  }
  const paid = e.bonus.map((b, i) => (b > 0n ? tokens(i, b) : "")).filter(Boolean);
  lines.push(
    `bonus ${paid.length > 0 ? paid.join(" + ") : "none"} (${moneyText(market.quote, quoteUnits(e.bonusValue))}, at most ${formatDecimal(ctx.bonusBps, 2)}% of ${moneyText(market.quote, quoteUnits(e.repaidValue))} repaid)`,
  );
  lines.push(closed ? "the position is closed: no debt left" : `health factor ${hf(before)} -> ${hf(after)}, every check passes`);
  return lines;
}
