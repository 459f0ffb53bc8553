/**
 * The allowance a backtest uses without --allow: the position rebalances with what it holds.
 * Every asset it holds as collateral may be sold on the AMM (swapped into a debt asset and
 * repaid, or swapped to hedge a delta); instruments are not traded (they have no venue in the
 * custody model, docs/custody.md); the wallet is empty, so no
 * outside money props a strategy up. `zks plan` allows nothing by default because it acts on a
 * real position; a backtest with nothing allowed would only measure the baseline four times.
 */
import type { Market, Position } from "../inputs/types.ts";
import type { Allowance } from "../rebalance/allowance.ts";

export function defaultBacktestAllowance(position: Position, market: Market): Allowance {
  return {
    wallet: market.assets.map(() => 0n),
    sellable: market.assets.map((_, i) => position.collateral[i]! > 0n),
    tradable: market.instruments.map(() => false),
  };
}

/** The allowance in words, for the report. */
export function allowanceText(allowance: Allowance, market: Market, formatAmount: (units: bigint, decimals: number) => string): string {
  const wallet = allowance.wallet.flatMap((units, i) => (units > 0n ? [`${formatAmount(units, market.assets[i]!.decimals)} ${market.assets[i]!.symbol}`] : []));
  const sellable = market.assets.filter((_, i) => allowance.sellable[i]).map((a) => a.symbol);
  return [
    wallet.length > 0 ? `wallet ${wallet.join(", ")}` : "empty wallet",
    sellable.length > 0 ? `${sellable.join(", ")} may be sold` : "nothing may be sold",
    ...(allowance.maxActions !== undefined ? [`at most ${allowance.maxActions} actions per plan`] : []),
  ].join("; ");
}
