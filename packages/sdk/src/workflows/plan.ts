import type { Market, Policy, Position } from "../inputs/types.ts";
import { riskReportJson, type RiskReportJson } from "../model/check.ts";
import { emptyAllowance, type Allowance } from "../rebalance/allowance.ts";
import { backedTransition } from "../rebalance/conservation.ts";
import { planToJson } from "../rebalance/plan-file.ts";
import { plan, type NoPlan, type Plan, type PlanOptions } from "../rebalance/planner.ts";

export interface PlanWorkflowInput {
  position: Position;
  market: Market;
  policy: Policy;
  /** What the owner allows (wallet, sellable assets, tradable instruments); default nothing. */
  allowance?: Allowance;
  options: PlanOptions;
}

/** Why there is no plan, as `zks plan --json` prints it. */
export interface NoPlanJson {
  version: 1;
  kind: "zks-rebalance-no-plan";
  strategy: string;
  epoch: number;
  account: string;
  nonce: string;
  reason: string;
  before: RiskReportJson;
  explanation: string[];
  nextRebalanceAt?: number;
}

export type PlanWorkflowResult =
  | { kind: "none"; plan: NoPlan; json: NoPlanJson }
  /** `json` is the plan file object (private: it holds the new position and its salt). */
  | { kind: "plan"; plan: Plan; json: ReturnType<typeof planToJson> };

/**
 * Plans the cheapest rebalance that restores the policy's target within the allowance, or says
 * why none exists. A plan that needs a rebalance is checked to be a transition the gate can back
 * with token movements (docs/custody.md): one that is not throws (exit 2) before anything
 * writes or proves it.
 */
export function planWorkflow(input: PlanWorkflowInput): PlanWorkflowResult {
  const { position, market, policy, options } = input;
  const result = plan(position, market, policy, input.allowance ?? emptyAllowance(market), options);
  if (result.kind === "none") {
    return {
      kind: "none",
      plan: result,
      json: {
        version: 1,
        kind: "zks-rebalance-no-plan",
        strategy: result.strategy,
        epoch: market.epoch,
        account: position.account,
        nonce: position.nonce.toString(),
        reason: result.reason,
        before: riskReportJson(result.before, market),
        explanation: result.explanation,
        ...(result.nextRebalanceAt !== undefined && { nextRebalanceAt: result.nextRebalanceAt }),
      },
    };
  }
  if (result.needed) backedTransition(position, result.position, result.movements, market, policy, Boolean(options.forced));
  return { kind: "plan", plan: result, json: planToJson(result, market) };
}
