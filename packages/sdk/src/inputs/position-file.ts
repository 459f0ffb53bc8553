import { formatDecimal } from "../core/decimal.ts";
import { QUANTITY_DECIMALS } from "../core/fixed-point.ts";
import type { Market, Position } from "./types.ts";

/**
 * A position back in the file format of formats.md (decimal strings in whole token units, zero
 * entries left out), e.g. the new position a rebalance writes.
 */
export function positionToJson(position: Position, market: Market, salt: bigint | undefined = position.salt): Record<string, unknown> {
  const byAsset = (amounts: bigint[]) =>
    Object.fromEntries(amounts.flatMap((amount, i) => (amount === 0n ? [] : [[market.assets[i]!.symbol, formatDecimal(amount, market.assets[i]!.decimals)]])));
  return {
    version: 1,
    account: position.account,
    nonce: Number(position.nonce),
    ...(salt === undefined ? {} : { salt: `0x${salt.toString(16).padStart(62, "0")}` }),
    collateral: byAsset(position.collateral),
    debt: byAsset(position.debt),
    derivatives: Object.fromEntries(position.quantities.flatMap((q, k) => (q === 0n ? [] : [[market.instruments[k]!.id, formatDecimal(q, QUANTITY_DECIMALS)]]))),
  };
}
