/**
 * The planner's search evaluates thousands of candidate positions under one market: it uses
 * the model's check without the market- and policy-wide bounds, which plan() has already run
 * once through checkPosition on the starting position. The plan's final reports come from
 * checkPosition itself.
 */
export { checkPositionUnderCheckedMarket as quickCheck } from "../model/check.ts";
