/**
 * The audit's crowding figures (docs/audit.md, "Crowding"): per grid scenario and asset, an upper
 * bound on the value of the asset a position's threshold repair would sell, were the scenario to
 * happen. Computed exactly as packages/circuits/audit/crowding.circom computes them in-circuit, so
 * the model's figures are the proof's to the last unit. Browser-safe.
 *
 * The rule, with the values moved by the scenario's price factor g = max(0, 1 + r) (padding
 * scenarios: 0), h = max(trigger, minHealthFactor) (the planner's restore target: rebalance/goal.ts)
 * and s the policy's maxSlippage:
 *
 *     VC_i = vc_i * g_i, VD_i = vd_i * g_i   (q.u. * 1e8);  A = sum LT_i VC_i, D = sum VD_i
 *     M = sum_b h (2 (v_b + 1e8) K_b + 7e8) + 3 BPS 1e8   the rounding allowance, v_b = ceil(p_b / 10^decimals_b) g_b,
 *                                            K_b = ceil(debtIndex_b / 1e18): the planner's rounding (docs/audit.md)
 *     G = max(0, h D - A + M)                the gap (0: well above h, nothing to sell)
 *     e_i = min { k (1 - s) - LT_i > 0 : k = h (a repayment) or k = LT_t, t != i (a swap into t) }
 *     u_i = ceil(p_i / 10^decimals_i) * g_i   at least one base unit of i's value at the scenario's prices
 *     crowding_i = min(VC_i + g_i, ceil(G * 65/64 / e_i) + u_i) when G > 0, else 0; 0 when no e_i exists
 *                  (selling i never helps). G at BPS, e_i at BPS * RATIO: ceil(65 RATIO G / (64 e_i)).
 *
 * Why it bounds the planner: every unit of value of asset i a repair sells closes at least e_i of
 * the gap (the proceeds repay debt, or buy other collateral; each other step that helps closes
 * some more), and a repair that stops at h closes no more than G, so it sells at most G / e_i of
 * i, whatever it sells first, and never more than the holding. The planner's search stops up to
 * 1% + 2^-14 above the least amount (search.ts, minimize): the 65/64 covers it; and it sells whole
 * base units (the least whole number that restores h, up to one more than the exact need): u_i.
 * M covers the planner's own rounding (its values at the scenario's prices round after repricing,
 * its repayments and slippage floors round per step), and VC_i + g_i the whole holding's exact value.
 */
import { ZksError } from "../core/errors.ts";
import { BPS_SCALE, DEBT_INDEX_SCALE, RATE_SCALE, RATIO_SCALE } from "../core/fixed-point.ts";
import { padSlots } from "../commitment/slot-layout.ts";
import type { Market, Policy } from "../inputs/types.ts";
import type { AuditFigures, FigureLayout } from "./merkle-sum-tree.ts";

/** The margin over the least sale, crowding.circom's CROWD_MARGIN_NUM / CROWD_MARGIN_DEN. */
export const CROWD_MARGIN_NUM = 65n;
export const CROWD_MARGIN_DEN = 64n;

/** The restore target h = max(trigger, minHealthFactor), BPS: what the planner's threshold repair restores. */
export const restoreTarget = (policy: Pick<Policy, "minHealthFactor" | "trigger">): bigint =>
  policy.trigger.healthFactor > policy.minHealthFactor ? policy.trigger.healthFactor : policy.minHealthFactor;

/**
 * Per asset slot, the least positive gain e_i (BPS * RATIO) of selling one unit of value of it, 0
 * when none is positive (crowding.circom's CrowdingTerms). Sinks: h (a repayment) and the other
 * slots' thresholds (a padding slot's is 0: never a gain).
 */
export function saleGains(threshold: readonly bigint[], target: bigint, maxSlippage: bigint): bigint[] {
  const kept = RATIO_SCALE - maxSlippage;
  return threshold.map((lt, i) => {
    const sinks = [target, ...threshold.filter((_, t) => t !== i)];
    let least = 0n;
    for (const k of sinks) {
      const gain = k * kept - lt * RATIO_SCALE;
      if (gain > 0n && (least === 0n || gain < least)) least = gain;
    }
    return least;
  });
}

/** One position's repair bound under one scenario. */
export interface RestoreBound {
  /** G = max(0, h D - A + M) (q.u. * 1e8 * BPS). */
  gap: bigint;
  /** Per asset slot: VC_i, VD_i (q.u. * 1e8). */
  collateral: bigint[];
  debt: bigint[];
  /** Per asset slot: min(VC_i + g_i, ceil(65 RATIO G / (64 e_i)) + u_i) when G > 0, 0 when G = 0 or e_i = 0 (q.u. * 1e8). */
  crowding: bigint[];
}

export interface RestoreInput {
  /** Per asset slot, vc_i and vd_i (q.u., as the model values them). */
  collateralValue: readonly bigint[];
  debtValue: readonly bigint[];
  /** Per asset slot, LT_i at BPS. */
  threshold: readonly bigint[];
  /** h = max(trigger, minHealthFactor), BPS. */
  target: bigint;
  /** saleGains(threshold, target, maxSlippage). */
  gains: readonly bigint[];
  /** Per asset slot, the scenario's price factor g_i = max(0, 1e8 + r_i) (0 in a padding scenario). */
  factor: readonly bigint[];
  /** Per asset slot, ceil(price / 10^decimals) (q.u. per base unit, rounded up; 0 for a padding slot). */
  unit: readonly bigint[];
  /** Per asset slot, ceil(debtIndex / 1e18) (1 for a padding slot: its index is 1e18). */
  indexUnits: readonly bigint[];
}

/**
 * The rounding allowance M = sum_b h (2 (v_b + 1e8) K_b + 7e8) + 3 BPS 1e8 (q.u. * 1e8 * BPS), v_b = unit_b * g_b:
 * crowding.circom's CrowdingUnits margin. Why it covers the planner's rounding: docs/audit.md, "Why it bounds the planner".
 */
export function roundingAllowance(target: bigint, unit: readonly bigint[], factor: readonly bigint[], indexUnits: readonly bigint[]): bigint {
  return sum(unit.map((u, b) => target * (2n * (u * factor[b]! + RATE_SCALE) * indexUnits[b]! + 7n * RATE_SCALE) + 3n * BPS_SCALE * RATE_SCALE));
}

const sum = (values: readonly bigint[]): bigint => values.reduce((a, b) => a + b, 0n);

/** The rule for one position and one scenario (crowding.circom's CrowdingLeaf, one j). */
export function restoreBound(input: RestoreInput): RestoreBound {
  const { collateralValue, debtValue, threshold, target, gains, factor, unit, indexUnits } = input;
  const collateral = collateralValue.map((v, i) => v * factor[i]!);
  const debt = debtValue.map((v, i) => v * factor[i]!);
  const weighted = sum(collateralValue.map((v, i) => threshold[i]! * v * factor[i]!));
  const raw = target * sum(debt) - weighted + roundingAllowance(target, unit, factor, indexUnits);
  const gap = raw > 0n ? raw : 0n;
  const crowding = collateral.map((vc, i) => {
    const e = gains[i]!;
    if (e === 0n || gap === 0n) return 0n;
    const want = (gap * CROWD_MARGIN_NUM * RATIO_SCALE + CROWD_MARGIN_DEN * e - 1n) / (CROWD_MARGIN_DEN * e) + unit[i]! * factor[i]!;
    // The whole holding's value, rounded up: (floor(c p / S) + 1) g >= c p g / S.
    const cap = vc + factor[i]!;
    return want >= cap ? cap : want;
  });
  return { gap, collateral, debt, crowding };
}

/**
 * Per scenario slot (the layout's) and asset slot: g = max(0, 1e8 + r) for the market's
 * scenarios, 0 for padding slots (crowding.circom's CrowdingPrices).
 */
export function priceFactors(market: Market, layout: FigureLayout): bigint[][] {
  return Array.from({ length: layout.nScenarios }, (_, j) => {
    const scenario = market.scenarios[j];
    return Array.from({ length: layout.nAssets }, (_, i) => {
      if (!scenario) return 0n;
      const factor = RATE_SCALE + (scenario.assetReturns[i] ?? 0n);
      return factor > 0n ? factor : 0n;
    });
  });
}

/** A position's crowding figures, [scenario slot][asset slot], from its values (q.u., per market asset). */
export function crowdingFigures(values: { collateral: readonly bigint[]; debt: readonly bigint[] }, market: Market, policy: Policy, layout: FigureLayout): bigint[][] {
  const collateralValue = padSlots(values.collateral, layout.nAssets);
  const debtValue = padSlots(values.debt, layout.nAssets);
  const threshold = padSlots(
    market.assets.map((a) => a.liquidationThreshold),
    layout.nAssets,
  );
  const unit = padSlots(
    market.assets.map((a) => {
      const scale = 10n ** BigInt(a.decimals);
      return (a.price + scale - 1n) / scale;
    }),
    layout.nAssets,
  );
  // A padding slot's index is 1e18 (market-root.ts): K = 1.
  const indexUnits = Array.from({ length: layout.nAssets }, (_, b) => {
    const index = market.assets[b]?.debtIndex ?? DEBT_INDEX_SCALE;
    return (index + DEBT_INDEX_SCALE - 1n) / DEBT_INDEX_SCALE;
  });
  const target = restoreTarget(policy);
  const gains = saleGains(threshold, target, policy.maxSlippage);
  return priceFactors(market, layout).map((factor) => restoreBound({ collateralValue, debtValue, threshold, target, gains, factor, unit, indexUnits }).crowding);
}

/** A crowded pair: the bound on what the positions would sell of an asset in a scenario, above its liquidity bound. */
export interface CrowdedPair {
  scenario: number;
  asset: number;
  /** The positions' total crowding figure, q.u. * 1e8. */
  amount: bigint;
  /** The liquidity bound, q.u. */
  bound: bigint;
}

export interface CrowdingStatements {
  /** Every scenario slot and asset slot: the total and whether it is within the bound. */
  pairs: (CrowdedPair & { within: boolean })[];
  /** The pairs over their bound (scenario order, then asset order). */
  crowded: CrowdedPair[];
  /** The pair using the largest share of its bound (with a bound of 0: any amount is infinite). */
  tightest: CrowdedPair | undefined;
  holds: boolean;
}

/**
 * The root proof's crowding statement on the total sums (audit-merge.circom, top and crowding):
 * for every scenario j and asset i, sum crowding[j][i] <= liquidity[i] * 1e8.
 */
export function crowdingStatements(totals: AuditFigures, liquidity: readonly bigint[]): CrowdingStatements {
  const rows = totals.crowding;
  if (!rows) throw new ZksError("crowdingStatements: the totals carry no crowding figures (not a crowding audit)", 2);
  const pairs = rows.flatMap((row, scenario) =>
    row.map((amount, asset) => {
      const bound = liquidity[asset] ?? 0n;
      return { scenario, asset, amount, bound, within: amount <= bound * RATE_SCALE };
    }),
  );
  const crowded = pairs.filter((p) => !p.within).map(({ within: _, ...pair }) => pair);
  // Tightest: the largest amount / bound, compared crosswise (a zero bound with a positive amount is the tightest).
  let tightest: CrowdedPair | undefined;
  for (const { within: _, ...p } of pairs) {
    if (p.amount === 0n) continue;
    if (!tightest || p.amount * tightest.bound > tightest.amount * p.bound) tightest = p;
  }
  return { pairs, crowded, tightest, holds: crowded.length === 0 };
}

/** The book's crowding exceeds a liquidity bound: no root proof exists. Exit code 1, as a failed statement. */
export class CrowdingError extends ZksError {
  constructor(readonly statements: CrowdingStatements) {
    super(`the crowding statement does not hold (${statements.crowded.length} scenario and asset pair(s) above their liquidity bound), so no audit proof exists`, 1);
    this.name = "CrowdingError";
  }
}
