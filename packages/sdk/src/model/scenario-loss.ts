/**
 * Section 3 of docs/risk-arithmetic.md, scenario losses:
 *   L*_j = -( sum_i (vc_i - vd_i) * r_ji + sum_k q_k * g_jk )   (q.u. * 10^8, nothing divided)
 *   reported L_j = ceil(L*_j / 10^8)
 */
import type { Market, Position, Scenario } from "../inputs/types.ts";
import { EQUITY_SCALE } from "./equity.ts";
import { ceilDiv } from "./rounding.ts";
import { netValues, type AssetValues } from "./values.ts";

/** L*_j of one scenario, given the net values vc_i - vd_i and the quantities q_k. */
export function scenarioLoss(net: readonly bigint[], quantities: readonly bigint[], scenario: Scenario): bigint {
  const assets = scenario.assetReturns.reduce((sum, r, i) => sum + net[i]! * r, 0n);
  const derivatives = scenario.instrumentPnl.reduce((sum, g, k) => sum + quantities[k]! * g, 0n);
  return -(assets + derivatives);
}

/** L*_j of every scenario of the market, in the market's order. */
export function scenarioLosses(values: AssetValues, position: Position, market: Market): bigint[] {
  const net = netValues(values);
  return market.scenarios.map((scenario) => scenarioLoss(net, position.quantities, scenario));
}

/** L_j = ceil(L*_j / 10^8), q.u. (losses round against the position). */
export function reportedLoss(scaled: bigint): bigint {
  return ceilDiv(scaled, EQUITY_SCALE);
}
