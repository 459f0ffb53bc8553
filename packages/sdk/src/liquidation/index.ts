/**
 * The keeper's liquidation planner (docs/enforcement.md). Browser-safe: no Node built-ins.
 *
 * @module
 */
export {
  planLiquidation,
  liquidationAtShare,
  getAmountIn,
  isUrgent,
  belowTrigger,
  LiquidationPlanError,
  SHARE_SCALE,
  type PoolReserves,
  type LiquidationPlanTerms,
  type LiquidationPlan,
  type NoLiquidation,
  type NoLiquidationReason,
} from "./plan.ts";
