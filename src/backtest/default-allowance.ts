/**
 * The allowance a backtest uses without --allow: the position rebalances with what it holds.
 * Every asset it holds as collateral may be sold (swapped into a debt asset and repaid, or
 * spent on a hedge) and every instrument it holds may be traded; the wallet is empty, so no
 * outside money props a strategy up. `zks plan` allows nothing by default because it acts on a
 * real position; a backtest with nothing allowed would only measure the baseline four times.
 */
import type { Market, Position } from "../inputs/types.ts";
import type { Allowance } from "../rebalance/allowance.ts";

export function defaultBacktestAllowance(position: Position, market: Market): Allowance {
  return {
    wallet: market.assets.map(() => 0n),
    sellable: market.assets.map((_, i) => position.collateral[i]! > 0n),
    tradable: market.instruments.map((_, k) => position.quantities[k]! !== 0n),
  };
}

/** The allowance in words, for the report. */
export function allowanceText(allowance: Allowance, market: Market, formatAmount: (units: bigint, decimals: number) => string): string {
  const wallet = allowance.wallet.flatMap((units, i) => (units > 0n ? [`${formatAmount(units, market.assets[i]!.decimals)} ${market.assets[i]!.symbol}`] : []));
  const sellable = market.assets.filter((_, i) => allowance.sellable[i]).map((a) => a.symbol);
  const tradable = market.instruments.filter((_, k) => allowance.tradable[k]).map((k) => k.id);
  return [
    wallet.length > 0 ? `wallet ${wallet.join(", ")}` : "empty wallet",
    sellable.length > 0 ? `${sellable.join(", ")} may be sold` : "nothing may be sold",
    tradable.length > 0 ? `${tradable.join(", ")} may be traded` : "no instrument may be traded",
    ...(allowance.maxActions !== undefined ? [`at most ${allowance.maxActions} actions per plan`] : []),
  ].join("; ");
}
