/**
 * Rebalancing (docs/rebalance.md, docs/custody.md): actions and the token movements they map
 * to, the transition check the rebalance circuit proves, the owner's allowance, the cost model, the planner and
 * its plan file. Browser-safe: no Node built-ins.
 */
export * from "./actions.ts";
export * from "./conservation.ts";
export * from "./allowance.ts";
export * from "./costs.ts";
export * from "./goal.ts";
export * from "./trades.ts";
export { portfolioDelta, underlyings, hedgeableAssets, deltaHedges, type HedgePlan } from "./delta.ts";
export {
  SWAP_SLOTS,
  SWAP_VALUE_DECIMALS,
  noMovements,
  emptyPosition,
  swapValue,
  withinSlippage,
  slippageFloor,
  swapNet,
  applyMovements,
  checkTransition,
  type SwapLeg,
  type Movements,
  type Transition,
  type TransitionRule,
  type TransitionViolation,
  type TransitionCheck,
  type CheckTransitionOptions,
} from "./transition.ts";
export { actionText, amountText, moneyText, effectText } from "./explain.ts";
export * from "./planner.ts";
export * from "./plan-file.ts";
export { describeMovements, registrationMovements, registrationTransition, type RegistrationOptions } from "./registration.ts";
export { parseAllowance, emptyAllowance, type Allowance } from "./allowance.ts";
export { checkName } from "./explain.ts";
export { backedTransition } from "./conservation.ts";
export { planToJson, parsePlanFile } from "./plan-file.ts";
export { STRATEGIES, type PlanOptions, type Strategy } from "./planner.ts";
