/**
 * The audit's crowding figures (docs/audit.md, "Crowding"): per grid scenario and asset, the
 * collateral value a position would sell, net of the debt it would repay in that asset, were the
 * scenario to happen and the position deleverage back to the policy's trigger health factor.
 * Computed exactly as packages/circuits/audit/crowding.circom computes them in-circuit, so the
 * model's figures are the proof's to the last unit. Browser-safe.
 *
 * The rule (a threshold-triggered vault's deleverage, pro rata so that a circuit can compute it):
 * with the values moved by the scenario's price factor g = max(0, 1 + r) (padding scenarios: 0),
 *
 *     VC_i = vc_i * g_i, VD_i = vd_i * g_i   (q.u. * 1e8);  A = sum LT_i VC_i, C = sum VC_i, D = sum VD_i
 *     nothing when A >= h D; else sell x pro rata to collateral value and repay x pro rata to debt value,
 *     the least x with A (1 - x / C) >= h (D - x):  rho = x / C = (h D - A) / (h C - A), capped at 1
 *     beta = x / D, capped at 1 (the debt)
 *     crowding_i = ceil(max(0, VC_i * rho - VD_i * beta))   (q.u. * 1e8)
 *
 * rho and beta are fixed point at 2^20, rho rounded up and beta down, so the figure is never
 * understated. A position buying an asset to repay its debt in it counts 0 for that asset: it
 * does not offset another position's sale (conservative, like the losses).
 */
import { ZksError } from "../core/errors.ts";
import { RATE_SCALE } from "../core/fixed-point.ts";
import { padSlots } from "../commitment/slot-layout.ts";
import type { Market, Policy } from "../inputs/types.ts";
import type { AuditFigures, FigureLayout } from "./merkle-sum-tree.ts";

/** rho and beta are fixed point at 2^CROWD_RATIO_BITS (crowding.circom's CROWD_RATIO_BITS). */
export const CROWD_RATIO_BITS = 20n;
export const CROWD_ONE = 1n << CROWD_RATIO_BITS;

/** One position's deleverage under one scenario. */
export interface RestoreShares {
  /** h D - A (q.u. * 1e8 * BPS): > 0 when the scenario takes the position below the trigger. */
  shortfall: bigint;
  /** h C - A: what selling everything would gain. */
  room: bigint;
  /** x / C at 2^20, rounded up, in [0, 2^20]: 0 when nothing is sold, 2^20 when everything is. */
  rho: bigint;
  /** x / D at 2^20, rounded down, in [0, 2^20]. */
  beta: bigint;
  /** Per asset slot: VC_i, VD_i (q.u. * 1e8). */
  collateral: bigint[];
  debt: bigint[];
  /** Per asset slot: ceil(max(0, VC_i * rho - VD_i * beta) / 2^20), q.u. * 1e8. */
  crowding: bigint[];
}

export interface RestoreInput {
  /** Per asset slot, vc_i and vd_i (q.u., as the model values them). */
  collateralValue: readonly bigint[];
  debtValue: readonly bigint[];
  /** Per asset slot, LT_i at BPS. */
  threshold: readonly bigint[];
  /** The policy's trigger health factor h at BPS. */
  trigger: bigint;
  /** Per asset slot, the scenario's price factor g_i = max(0, 1e8 + r_i) (0 in a padding scenario). */
  factor: readonly bigint[];
}

const sum = (values: readonly bigint[]): bigint => values.reduce((a, b) => a + b, 0n);

/** The rule for one position and one scenario (crowding.circom's CrowdingLeaf, one j). */
export function restoreShares(input: RestoreInput): RestoreShares {
  const { collateralValue, debtValue, threshold, trigger, factor } = input;
  const collateral = collateralValue.map((v, i) => v * factor[i]!);
  const debt = debtValue.map((v, i) => v * factor[i]!);
  const weighted = sum(collateralValue.map((v, i) => threshold[i]! * v * factor[i]!));
  const C = sum(collateral);
  const D = sum(debt);
  const shortfall = trigger * D - weighted;
  const room = trigger * C - weighted;
  // Not below the trigger: nothing. Selling everything does not restore h (shortfall >= room,
  // always so when room <= 0): everything. Else the least fixed-point rho that restores it.
  const rho = shortfall <= 0n ? 0n : shortfall >= room ? CROWD_ONE : (shortfall * CROWD_ONE + room - 1n) / room;
  const repay = D === 0n ? 0n : (rho * C) / D;
  const beta = repay > CROWD_ONE ? CROWD_ONE : repay;
  const crowding = collateral.map((vc, i) => {
    const net = vc * rho - debt[i]! * beta;
    return net <= 0n ? 0n : (net - 1n) / CROWD_ONE + 1n;
  });
  return { shortfall, room, rho, beta, collateral, debt, crowding };
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
  return priceFactors(market, layout).map((factor) => restoreShares({ collateralValue, debtValue, threshold, trigger: policy.trigger.healthFactor, factor }).crowding);
}

/** A crowded pair: what the positions would sell of an asset in a scenario, above its bound. */
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
