/**
 * Rebalancing (docs/rebalance.md, docs/custody.md): actions and the token movements they map
 * to, the transition check the rebalance circuit proves, the owner's allowance, the cost model,
 * the planner and its plan file. Browser-safe: no Node built-ins.
 *
 * @module
 */
export {
  ACTION_KINDS,
  applyActions,
  borrowDelivery,
  borrowUnits,
  debtIndexOf,
  movementsOf,
  RebalanceError,
  repayCharge,
  repayUnits,
  type Action,
  type ActionKind,
  type ApplyOptions,
  type BorrowAction,
  type DepositAction,
  type DepositInstrumentAction,
  type RebalanceResult,
  type RepayAction,
  type RepayWithCollateralAction,
  type SwapAction,
  type WithdrawAction,
  type WithdrawInstrumentAction,
} from "./actions.ts";
export { backedTransition, swapCost, type MovementValues } from "./conservation.ts";
export { emptyAllowance, parseAllowance, type Allowance } from "./allowance.ts";
export {
  costModel,
  DEFAULT_GAS_PRICE_WEI,
  GAS_PER_ACTION,
  gasCost,
  planCost,
  PROOF_VERIFICATION_GAS,
  type ActionCost,
  type CostModel,
  type CostOptions,
  type PlanCost,
} from "./costs.ts";
export { meetsGoal, type Goal, type Margins, type Shortfall } from "./goal.ts";
export { swapMinOut, worstSwap, type SwapPricing, type SwapQuote } from "./trades.ts";
export { portfolioDelta } from "./delta.ts";
export { gridExposures, gridHedgeCandidates, HEDGE_CANDIDATES, type GridExposures, type HedgeCandidate, type HedgeVariable } from "./grid-hedge.ts";
export type { PlannerContext } from "./search.ts";
export { simplexMax, solveMinimax, worstLoss, type MinimaxProblem, type MinimaxSolution } from "./minimax.ts";
export {
  SWAP_SLOTS,
  noMovements,
  emptyPosition,
  swapValue,
  withinSlippage,
  slippageFloor,
  applyMovements,
  checkTransition,
  type LiquidationTerms,
  type SwapLeg,
  type Movements,
  type Transition,
  type TransitionRule,
  type TransitionViolation,
  type TransitionCheck,
  type CheckTransitionOptions,
} from "./transition.ts";
export { actionText, checkName, moneyText } from "./explain.ts";
export {
  DEFAULT_INTERVAL_DAYS,
  plan,
  PlanOptionsError,
  STRATEGIES,
  type DeltaSummary,
  type GoalOptions,
  type GridSummary,
  type NoPlan,
  type Plan,
  type PlanOptions,
  type PlanStep,
  type Strategy,
} from "./planner.ts";
export { parsePlanFile, planToJson, type ParsedPlan } from "./plan-file.ts";
export { describeMovements, registrationTransition, type RegistrationOptions } from "./registration.ts";
