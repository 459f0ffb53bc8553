/**
 * Rebalancing (docs/rebalance.md): actions and their effect, conservation and the transition
 * check the rebalance circuit proves, the owner's allowance, the cost model, the planner and
 * its plan file. Browser-safe: no Node built-ins.
 */
export * from "./actions.ts";
export * from "./conservation.ts";
export * from "./allowance.ts";
export * from "./costs.ts";
export * from "./goal.ts";
export * from "./trades.ts";
export { portfolioDelta, underlyings, hedgeInstrument, deltaHedges, type HedgePlan } from "./delta.ts";
export { actionText, amountText, moneyText, effectText } from "./explain.ts";
export * from "./planner.ts";
export * from "./plan-file.ts";
