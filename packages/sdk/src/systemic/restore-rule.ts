/**
 * The restore rule: in closed form, what a vault sells and repays to bring its health factor back
 * to a target (docs/systemic.md, "The rule"). It is the planner's threshold repair
 * (packages/sdk/src/rebalance/search.ts) reduced to the health factor, written as integer
 * arithmetic with stated rounding so that a circuit can compute it (a crowding proof sums it over
 * a book) and a simulation of thousands of vaults can run it every step without the planner's
 * search.
 *
 * With H the target (BPS, at least the policy's minimum), LT_i the liquidation thresholds (BPS),
 * s the policy's maxSlippage (RATIO), u_i = p_i * 10^(18 - dec_i) the value of one base unit
 * (q.u. * 10^18), and the model's N = sum vc_i LT_i (q.u. * BPS), D = sum vd_i (q.u.):
 *
 *     gap G = H * D - N   (q.u. * BPS); nothing to do when G <= 0 or D = 0
 *
 * and two kinds of step, each closing as much of the gap as it can:
 *
 * - own repayment of asset b (collateral and debt in b, no trade, no slippage):
 *       a_b = min(c_b, owed_b, ceil((G + m_b) * 10^18 / (u_b * (H - LT_b))))
 * - sale of s repaying b: x_s = min(c_s, cap_sb, ceil((G + m_b) * 10^18 * R / (u_s * (H * (R - s) - LT_s * R))))
 *   at minOut = slippageFloor(s, x_s, b) (the policy's floor, rounded up: what the planner
 *   credits a swap without a quote), repaying min(minOut, owed_b); cap_sb = maxSellFor(s, b,
 *   owed_b), so the proceeds never exceed the debt. An asset with H * (R - s) <= LT_s * R cannot
 *   raise the health factor by being sold and is never sold.
 *
 * Which steps, as the planner's search (single remedies first, the cheapest one; then
 * combinations):
 *
 * 1. one own repayment that closes the gap alone, lowest LT_b first (the cheapest remedy: one
 *    action, nothing sold);
 * 2. else one sale that closes the gap alone, repaying the largest debt (by value; ties: market
 *    order), of the sellable asset with the lowest LT_s among those that can (ties: market order);
 * 3. else every own repayment in full, then sales in order of LT_s, lowest first, each repaying
 *    the debts largest first, until the gap closes or nothing is left to sell (`reachable` false).
 *
 * Why lowest LT first: every sale costs the same slippage share s of its value (and the same gas),
 * and a unit of value sold lowers N by LT_s while repaying (1 - s) of debt, so value for value the
 * asset with the lowest threshold closes most of the gap; the planner's cost ranking (slippage +
 * gas) picks the same single remedy, and in a combination the same order.
 *
 * Each step's margin m (q.u. * BPS) covers the model's rounding of the new position (collateral
 * values round down, debt values up, a repayment retires floor(a * 10^18 / I) units):
 * m = H * (v_b * ceil(I_b / 10^18) + 3) + BPS, with v_b = ceil(u_b / 10^18) q.u. per base unit of
 * the repaid asset. Every division rounds the sale up (ceil) and the gap's reduction down, so the
 * rule never stops short of the target under checkPosition's exact arithmetic.
 *
 * What the rule leaves out (the planner's goal also asks every policy check to pass): the stress
 * and VaR checks (no closed form: they depend on the scenarios and the covariance), deposits and
 * repayments from a wallet (a keeper's forced repair has none), the swap into the safest asset
 * without a repayment (the planner picks it for small gaps, when one action less of gas outweighs
 * selling several times more), the planner's search grid in combinations (it may sell more than
 * the least) and its rounding of amounts to fewer significant digits (up to 1% more). The rule's
 * sale is the least that restores the health factor; docs/systemic.md gives the measured gap to
 * the planner.
 */
import { BPS_SCALE, DEBT_INDEX_SCALE, RATIO_SCALE } from "../core/fixed-point.ts";
import type { Market, Policy, Position } from "../inputs/types.ts";
import { ceilDiv, floorDiv } from "../model/rounding.ts";
import { collateralValue, debtValue } from "../model/values.ts";
import { repayCharge, repayUnits, type Action } from "../rebalance/actions.ts";
import { maxSellFor, unitValue } from "../rebalance/trades.ts";
import { slippageFloor } from "../rebalance/transition.ts";

/** q.u. * 10^18 per q.u.: the scale of unitValue. */
const W = 10n ** 18n;
const R = RATIO_SCALE;

export type RestoreStep =
  | {
      kind: "repayWithCollateral";
      asset: number;
      /** Base units of the asset's collateral charged (repayCharge of the units retired). */
      charged: bigint;
      /** Index-scaled debt units retired. */
      units: bigint;
    }
  | {
      kind: "swapRepay";
      sell: number;
      amountIn: bigint;
      buy: number;
      /** The policy's floor: what the position is credited with. */
      minOut: bigint;
      /** Base units of `buy` charged by the repayment (<= minOut; the rest stays as collateral). */
      charged: bigint;
      units: bigint;
    };

export interface RestorePlan {
  /** The health factor was below the target. */
  needed: boolean;
  /** After the steps the model's health factor is at or above the target (true when not needed). */
  reachable: boolean;
  /** H, BPS: max(target, policy.minHealthFactor). */
  target: bigint;
  /** The model's N (q.u. * BPS) and D (q.u.) before. */
  numerator: bigint;
  denominator: bigint;
  /** G = H * D - N before (q.u. * BPS); <= 0 when not needed. */
  gap: bigint;
  steps: RestoreStep[];
  /** Per market asset: base units sold on the AMM (swaps' amountIn). */
  sold: bigint[];
  /** Per market asset: base units the swaps buy at least (minOut). */
  bought: bigint[];
  /** Per market asset: base units of debt repaid (charged), from collateral or swap proceeds. */
  repaid: bigint[];
  /** The position after the steps, crediting each swap with its minOut (nonce + 1 when needed). */
  position: Position;
  /** The same steps as the planner's actions (swap, repayWithCollateral), for applyActions. */
  actions: Action[];
}

export interface RestoreOptions {
  /** Target health factor, BPS (the policy's minimum is the floor). */
  target: bigint;
  /** Per market asset: may its collateral be sold (default: every asset). */
  sellable?: readonly boolean[];
}

const minOf = (a: bigint, b: bigint): bigint => (a < b ? a : b);

/** N = sum vc_i * LT_i (q.u. * BPS) and D = sum vd_i (q.u.): the model's health-factor terms. */
export function healthTerms(collateral: readonly bigint[], debt: readonly bigint[], market: Market): { numerator: bigint; denominator: bigint } {
  let numerator = 0n;
  let denominator = 0n;
  for (let i = 0; i < market.assets.length; i++) {
    const asset = market.assets[i]!;
    if (collateral[i]! > 0n) numerator += collateralValue(collateral[i]!, asset) * asset.liquidationThreshold;
    if (debt[i]! > 0n) denominator += debtValue(debt[i]!, asset);
  }
  return { numerator, denominator };
}

/** The rounding margin of a step that repays asset b (q.u. * BPS): see the module comment. */
function stepMargin(market: Market, b: number, target: bigint): bigint {
  const asset = market.assets[b]!;
  const perUnit = ceilDiv(unitValue(asset), W);
  return target * (perUnit * ceilDiv(asset.debtIndex, DEBT_INDEX_SCALE) + 3n) + BPS_SCALE;
}

/** Market asset indices by liquidation threshold, lowest first; ties in market order. */
export function byLiquidationThreshold(market: Market): number[] {
  return market.assets
    .map((_, i) => i)
    .sort((a, b) => {
      const la = market.assets[a]!.liquidationThreshold;
      const lb = market.assets[b]!.liquidationThreshold;
      return la === lb ? a - b : la < lb ? -1 : 1;
    });
}

/**
 * The rule's plan for `position` under `market` and `policy`. Pure integer arithmetic; the
 * caller decides when it applies (the threshold strategy: below its trigger).
 */
export function restoreRule(position: Position, market: Market, policy: Policy, options: RestoreOptions): RestorePlan {
  const n = market.assets.length;
  const target = options.target > policy.minHealthFactor ? options.target : policy.minHealthFactor;
  if (target <= 0n) throw new RangeError("restoreRule: the target health factor must be > 0");
  const collateral = [...position.collateral];
  const debt = [...position.debt];
  const { numerator, denominator } = healthTerms(collateral, debt, market);
  const gap0 = target * denominator - numerator;
  const sold = Array.from({ length: n }, () => 0n);
  const bought = Array.from({ length: n }, () => 0n);
  const repaid = Array.from({ length: n }, () => 0n);
  const steps: RestoreStep[] = [];
  const actions: Action[] = [];
  if (denominator === 0n || gap0 <= 0n) {
    return { needed: false, reachable: true, target, numerator, denominator, gap: gap0, steps, sold, bought, repaid, position, actions };
  }
  const owed = (b: number): bigint => repayCharge(debt[b]!, market.assets[b]!.debtIndex);
  const order = byLiquidationThreshold(market);
  const sellable = (s: number): boolean => collateral[s]! > 0n && (options.sellable === undefined || options.sellable[s] === true);
  // Debt assets, largest debt value first (ties: market order).
  const debtOrder = (): number[] =>
    market.assets
      .map((asset, i) => ({ i, value: debt[i]! > 0n ? debtValue(debt[i]!, asset) : 0n }))
      .filter((d) => d.value > 0n)
      .sort((a, b) => (a.value === b.value ? a.i - b.i : a.value > b.value ? -1 : 1))
      .map((d) => d.i);
  let gap = gap0;

  /** Repays up to `limit` of b's debt from b's own collateral, at most what closes the gap. */
  const repayOwn = (b: number, limit: bigint): void => {
    const asset = market.assets[b]!;
    const perUnit = unitValue(asset) * (target - asset.liquidationThreshold); // q.u. * 10^18 * BPS per base unit
    const margin = stepMargin(market, b, target);
    const want = ceilDiv((gap + margin) * W, perUnit);
    const amount = minOf(want, limit);
    const units = repayUnits(amount, asset.debtIndex);
    if (units === 0n) return;
    const charged = repayCharge(units, asset.debtIndex);
    collateral[b] = collateral[b]! - charged;
    debt[b] = debt[b]! - units;
    repaid[b] = repaid[b]! + charged;
    steps.push({ kind: "repayWithCollateral", asset: b, charged, units });
    actions.push({ kind: "repayWithCollateral", asset: b, amount });
    gap = amount === want ? 0n : gap - floorDiv(charged * perUnit, W) + margin;
  };
  /** The sale of s that closes the gap repaying b (before any cap), and the caps. */
  const saleOf = (s: number, b: number): { perUnit: bigint; margin: bigint; want: bigint; cap: bigint; owedB: bigint } => {
    const sellAsset = market.assets[s]!;
    const perUnit = unitValue(sellAsset) * (target * (R - policy.maxSlippage) - sellAsset.liquidationThreshold * R); // q.u. * 10^18 * BPS * RATIO
    const margin = stepMargin(market, b, target);
    const owedB = owed(b);
    const want = perUnit > 0n ? ceilDiv((gap + margin) * W * R, perUnit) : 0n;
    return { perUnit, margin, want, cap: minOf(collateral[s]!, maxSellFor(market, policy, s, b, owedB)), owedB };
  };
  /** Sells up to the cap of s for b and repays; updates the gap. */
  const sellFor = (s: number, b: number): void => {
    const { perUnit, margin, want, cap, owedB } = saleOf(s, b);
    const amountIn = minOf(want, cap);
    if (perUnit <= 0n || amountIn <= 0n) return;
    const minOut = slippageFloor(s, amountIn, b, market, policy);
    if (minOut <= 0n) return;
    const repay = minOf(minOut, owedB);
    const buyAsset = market.assets[b]!;
    const units = repayUnits(repay, buyAsset.debtIndex);
    const charged = repayCharge(units, buyAsset.debtIndex);
    collateral[s] = collateral[s]! - amountIn;
    collateral[b] = collateral[b]! + minOut - charged;
    debt[b] = debt[b]! - units;
    sold[s] = sold[s]! + amountIn;
    bought[b] = bought[b]! + minOut;
    repaid[b] = repaid[b]! + charged;
    steps.push({ kind: "swapRepay", sell: s, amountIn, buy: b, minOut, charged, units });
    actions.push({ kind: "swap", sell: s, amountIn, buy: b, minOut }, { kind: "repayWithCollateral", asset: b, amount: repay });
    gap = amountIn === want ? 0n : gap - floorDiv(amountIn * perUnit, W * R) + margin;
  };
  const ownRepayable = order.filter((b) => collateral[b]! > 0n && debt[b]! > 0n && market.assets[b]!.liquidationThreshold < target);

  // 1. One remedy alone, as the planner tries single remedies first: a repayment from the
  //    asset's own collateral (no trade), else the sale of the lowest-threshold asset that
  //    suffices, repaying the largest debt.
  const ownAlone = ownRepayable.find((b) => {
    const asset = market.assets[b]!;
    const want = ceilDiv((gap + stepMargin(market, b, target)) * W, unitValue(asset) * (target - asset.liquidationThreshold));
    return want <= minOf(collateral[b]!, owed(b));
  });
  const largestDebt = debtOrder()[0]!;
  const saleAlone =
    ownAlone === undefined
      ? order.find((s) => {
          if (s === largestDebt || !sellable(s)) return false;
          const sale = saleOf(s, largestDebt);
          return sale.perUnit > 0n && sale.want <= sale.cap;
        })
      : undefined;
  if (ownAlone !== undefined) repayOwn(ownAlone, minOf(collateral[ownAlone]!, owed(ownAlone)));
  else if (saleAlone !== undefined) sellFor(saleAlone, largestDebt);
  else {
    // 2. No remedy suffices alone: every own-collateral repayment (free), then sales, lowest
    //    liquidation threshold first, each repaying the largest debt first.
    for (const b of ownRepayable) if (gap > 0n && collateral[b]! > 0n && debt[b]! > 0n) repayOwn(b, minOf(collateral[b]!, owed(b)));
    for (const s of order) {
      if (gap <= 0n) break;
      if (!sellable(s)) continue;
      for (const b of debtOrder()) {
        if (gap <= 0n || collateral[s]! === 0n) break;
        if (b !== s) sellFor(s, b);
      }
    }
  }
  const after = healthTerms(collateral, debt, market);
  const reachable = after.denominator === 0n || after.numerator >= target * after.denominator;
  return {
    needed: true,
    reachable,
    target,
    numerator,
    denominator,
    gap: gap0,
    steps,
    sold,
    bought,
    repaid,
    position: { ...position, nonce: position.nonce + 1n, collateral, debt },
    actions,
  };
}
