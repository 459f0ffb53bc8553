/**
 * Workflows: what the CLI's commands do, as functions any app reuses (the keeper, a vault page,
 * a script): check, plan, prove a statement, prove a rebalance, verify a proof file, commit.
 * Browser-safe: they take parsed inputs and an InstanceProver and return typed results; reading
 * and writing files is @zk-solvency/node's (its workflows call these). The backtest's workflow
 * is in @zk-solvency/sdk/backtest.
 */
export { checkWorkflow, type CheckWorkflowResult } from "./check.ts";
export { commitWorkflow, type CommitmentSummary } from "./commit.ts";
export { chooseProver, proofSeconds, wasmInstanceProver, type InstanceProver, type ProverChoice } from "./instance-prover.ts";
export { planWorkflow, type NoPlanJson, type PlanWorkflowInput, type PlanWorkflowResult } from "./plan.ts";
export { proveStatementWorkflow, SOLVENCY_STATEMENTS, type ProveStatementInput, type ProveStatementResult, type SolvencyStatementName } from "./prove-statement.ts";
export { proveTransition, rebalanceWorkflow, type RebalanceBinding, type RebalanceWorkflowInput, type RebalanceWorkflowResult } from "./rebalance.ts";
export { verifyProofFileWorkflow, type VerifyProofFileWorkflowInput, type VerifyProofFileWorkflowResult } from "./verify.ts";
