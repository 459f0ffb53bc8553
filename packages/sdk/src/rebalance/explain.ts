/**
 * Human text for plans: amounts in whole tokens, money in the quote currency, one line per
 * action saying what it buys (the change of the health factor and of each check's margin).
 */
import { formatDecimal, formatHuman } from "../core/decimal.ts";
import { BPS_DECIMALS, QUANTITY_DECIMALS, RATIO_DECIMALS } from "../core/fixed-point.ts";
import type { Market, Quote } from "../inputs/types.ts";
import type { CheckName, RiskReport } from "../model/check.ts";
import { assetSymbol, instrumentId, type Action } from "./actions.ts";
import type { PlanCost } from "./costs.ts";
import { margins, type Goal, type Shortfall } from "./goal.ts";

/** Thousands separators on the whole part of an exact decimal string. */
function separate(text: string): string {
  const [whole, fraction] = text.split(".");
  const sign = whole!.startsWith("-") ? "-" : "";
  const digits = whole!.replace("-", "").replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  return `${sign}${digits}${fraction ? `.${fraction}` : ""}`;
}

/** Base units as whole tokens, exact, with separators: 12200000000 at 6 -> "12,200". */
export function amountText(units: bigint, decimals: number): string {
  return separate(formatDecimal(units, decimals));
}

/** Quote units as money at 2 places (more when it would show as 0.00): "1,826.68 USD". */
export function moneyText(quote: Quote, value: bigint): string {
  let shown = formatHuman(value, quote.decimals);
  if (value !== 0n && /^-?0\.0*$/.test(shown)) shown = formatHuman(value, quote.decimals, quote.decimals);
  return `${shown} ${quote.symbol}`;
}

const signedMoney = (quote: Quote, value: bigint): string => `${value >= 0n ? "+" : ""}${moneyText(quote, value)}`;

/** A BPS health factor: "1.1905". */
export const ratioText = (value: bigint): string => formatHuman(value, BPS_DECIMALS, value % 100n === 0n ? 2 : BPS_DECIMALS);

export const percentText = (value: bigint): string => `${formatDecimal(value, RATIO_DECIMALS - 2)}%`;

const tokens = (market: Market, asset: number, units: bigint): string => `${amountText(units, market.assets[asset]!.decimals)} ${assetSymbol(market, asset)}`;

const contracts = (n: bigint): string => `${amountText(n, QUANTITY_DECIMALS)} ${n === 10n ** BigInt(QUANTITY_DECIMALS) ? "contract" : "contracts"}`;

/** One action in words, e.g. "swap 1.5 WETH for at least 4,497.2 USDC" (on the AMM). */
export function actionText(action: Action, market: Market): string {
  switch (action.kind) {
    case "deposit":
      return `deposit ${tokens(market, action.asset, action.amount)} from the wallet`;
    case "withdraw":
      return `withdraw ${tokens(market, action.asset, action.amount)} to the wallet`;
    case "borrow":
      return `borrow ${tokens(market, action.asset, action.amount)} to the wallet`;
    case "repay":
      return `repay ${tokens(market, action.asset, action.amount)} of debt from the wallet`;
    case "repayWithCollateral":
      return `repay ${tokens(market, action.asset, action.amount)} of debt with ${assetSymbol(market, action.asset)} collateral`;
    case "swap":
      return `swap ${tokens(market, action.sell, action.amountIn)} for at least ${tokens(market, action.buy, action.minOut)}`;
    case "depositInstrument":
      return `deposit ${contracts(action.quantity)} of ${instrumentId(market, action.instrument)} (option tokens) from the wallet`;
    case "withdrawInstrument":
      return `withdraw ${contracts(action.quantity)} of ${instrumentId(market, action.instrument)} (option tokens) to the wallet`;
  }
}

/** What moving from `before` to `after` buys: health factor and each check's margin (equity over its requirement). */
export function effectText(before: RiskReport, after: RiskReport): string {
  const quote = after.quote;
  const a = margins(before);
  const b = margins(after);
  const parts: string[] = [];
  if (a.healthFactor !== b.healthFactor) {
    const show = (v: bigint | null): string => (v === null ? "no debt" : ratioText(v));
    parts.push(`health factor ${show(a.healthFactor)} -> ${show(b.healthFactor)}`);
  }
  const delta = (name: string, x: bigint | undefined, y: bigint | undefined): void => {
    if (x === undefined || y === undefined || x === y) return;
    parts.push(`${name} margin ${signedMoney(quote, y - x)}`);
  };
  delta("stress", a.stress, b.stress);
  delta("historical VaR", a.historicalVar, b.historicalVar);
  delta("parametric VaR", a.parametricVar, b.parametricVar);
  return parts.length > 0 ? parts.join(", ") : "no change to the checks";
}

const CHECK_NAMES: Record<CheckName, string> = {
  healthFactor: "health factor",
  stress: "stress",
  historicalVar: "historical VaR",
  parametricVar: "parametric VaR",
};

export const checkName = (check: CheckName): string => CHECK_NAMES[check];

/** "needs 1,826.68 USD more equity" per shortfall. */
export function shortfallText(s: Shortfall, goal: Goal, quote: Quote): string {
  if (s.check === "healthFactor") {
    return `the health factor needs ${moneyText(quote, s.amount)} more risk-adjusted collateral to reach ${ratioText(goal.healthFactor)} (or ${moneyText(quote, s.repay ?? 0n)} less debt)`;
  }
  const headroom = goal.varHeadroom > 0n && s.check !== "stress" ? ` (with ${percentText(goal.varHeadroom)} headroom)` : "";
  return `${checkName(s.check)} needs ${moneyText(quote, s.amount)} more equity${headroom}`;
}

/** "cost: at most 50.16 USD slippage + 700,000 gas ... = 42.18 USD; total 92.34 USD". */
export function costText(cost: PlanCost, market: Market, nativeSource: string | undefined): string {
  const quote = market.quote;
  const n = cost.actions.length;
  const gas = `${formatHuman(cost.totalGas, 0, 0)} gas (${n} action${n === 1 ? "" : "s"} + proof verification)`;
  const gwei = formatDecimal(cost.gasPriceWei, 9);
  const priced = cost.priced
    ? ` at ${gwei} gwei and ${nativeSource && nativeSource !== "option" ? nativeSource : "native token"} ${moneyText(quote, cost.nativePrice!)} = ${moneyText(quote, cost.gasCost)}`
    : " (not priced: no WETH or ETH price in the market; give a native token price)";
  const slippage = cost.slippage > 0n ? `at most ${moneyText(quote, cost.slippage)} given up in swaps at the oracle's prices` : "no slippage (no swaps)";
  return `cost: ${slippage} + ${gas}${priced}; total ${moneyText(quote, cost.total)}`;
}
