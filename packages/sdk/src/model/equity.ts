/**
 * Section 3 of docs/risk-arithmetic.md, equity at marks:
 *   E* = (sum_i vc_i - sum_i vd_i) * QTY + sum_k q_k * m_k     (q.u. * 10^8)
 *   reported E = floor(E* / 10^8)
 */
import { QUANTITY_SCALE } from "../core/fixed-point.ts";
import type { Market, Position } from "../inputs/types.ts";
import { floorDiv } from "./rounding.ts";
import { netValues, type AssetValues } from "./values.ts";

/** Scale of E* and L*_j: q.u. * 10^8 (QTY = RATE = 10^8). */
export const EQUITY_SCALE = QUANTITY_SCALE;

/** E*, q.u. * 10^8. */
export function equityScaled(values: AssetValues, position: Position, market: Market): bigint {
  const assets = netValues(values).reduce((sum, v) => sum + v, 0n);
  const derivatives = market.instruments.reduce((sum, k, index) => sum + position.quantities[index]! * k.mark, 0n);
  return assets * QUANTITY_SCALE + derivatives;
}

/** E = floor(E* / 10^8), q.u. (equity rounds against the position). */
export function reportedEquity(scaled: bigint): bigint {
  return floorDiv(scaled, EQUITY_SCALE);
}
