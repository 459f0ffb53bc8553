/**
 * zk-solvency's SDK: prove in zero knowledge that a private DeFi position stays solvent, and
 * verify such proofs. Browser-safe: no Node built-ins (file paths, the build directory and key
 * publishing are `@zk-solvency/node`'s).
 *
 * The package root holds what a vault front-end or a keeper needs: the high-level API
 * (proveSolvency, verifySolvency, proveRebalance, verifyRebalance), the parsers of the input
 * files and their types, the reference model's report, planning and backing a rebalance, the
 * gate's calldata, the errors and the browser prover. Everything else is in the domain
 * subpaths (`@zk-solvency/sdk/model`, `/rebalance`, `/chain`, `/prover`, ...), each an explicit
 * list, so a bundler keeps only what a page uses. docs/sdk.md is the guide.
 *
 * @packageDocumentation
 */

// The high-level API (docs/sdk.md).
export {
  checkRebalanceProof,
  checkSolvencyProof,
  instanceShape,
  proofFileOf,
  proofFromFile,
  proveRebalance,
  proveSolvency,
  rebalanceProofOf,
  signalNames,
  solvencyProofOf,
  verifyRebalance,
  verifySolvency,
  type ApiProveOptions,
  type CircuitArtifacts,
  type CircuitKey,
  type InstanceShape,
  type ProofEnvelope,
  type ProofFileMeta,
  type ProofTemplate,
  type ProofVerdict,
  type RebalanceProof,
  type RebalanceProofInput,
  type SolvencyProof,
  type SolvencyProofInput,
} from "./api/index.ts";

// The input files (formats.md): parsed and resolved against the market.
export { parseMarket, parsePolicy, parsePosition, positionToJson } from "./inputs/index.ts";
export type { Asset, Covariance, Instrument, InstrumentKind, Market, Policy, Position, Quote, Scenario, VarMethod } from "./inputs/index.ts";

// The reference model's verdict on a position (what `zks check` reports).
export { checkPosition, explainChecks, explainReport, riskReportJson, type CheckExplanation, type CheckName, type RiskReport, type RiskReportJson } from "./model/index.ts";

// Commitments: the salt a position is blinded with, and the values its proofs make public.
export { commitPosition, marketRoot, policyHash, randomSalt } from "./commitment/index.ts";

// Rebalances: plan one, and build the transition the gate can back.
export {
  applyMovements,
  backedTransition,
  emptyAllowance,
  emptyPosition,
  noMovements,
  parseAllowance,
  plan,
  registrationTransition,
  type Allowance,
  type Movements,
  type NoPlan,
  type Plan,
  type PlanOptions,
  type Strategy,
  type SwapLeg,
  type Transition,
} from "./rebalance/index.ts";

// The chain: bind a proof to a gate, and the gate's calldata.
export { encodeRebalance, encodeRecordClaim, encodeRegister, gateArguments, gateContext, type GateArguments, type GateProof } from "./chain/index.ts";
export { parseKeeperPublicKeyFile, validateKeeperPublicKey, type Point } from "./encryption/index.ts";

// Proof files (what `zks prove` writes and `zks verify` reads).
export { parseProofFile, toProofFile, type ProofFile, type ProofMetadata } from "./proof-file/index.ts";

// Errors a caller can act on: each carries the CLI's exit code.
export { InputError, SetupError, ZksError } from "./core/index.ts";
export { ModelBoundsError, ModelError } from "./model/index.ts";
export { RebalanceError } from "./rebalance/index.ts";
export { UnprovableError } from "./prover/index.ts";
export { ProofKeyError, VerificationKeyShapeError } from "./verifier/index.ts";

// Proving in a page: a Web Worker prover, and the lower-level witness inputs it takes.
export {
  BrowserProver,
  chooseInstance,
  instanceLayout,
  type BrowserProverOptions,
  type ProverWorker,
  type InstanceInfo,
  type LoadedInstance,
  type LoadOptions,
  type LoadProgress,
} from "./browser/index.ts";
export { rebalanceInput, releaseProverThreads, solvencyInput, WarmProver, type Artifact, type ProveOptions, type ProveStage, type ZkProof } from "./prover/index.ts";
export { verifyProof } from "./verifier/index.ts";

// Other areas' entry points (keys by URL, workflows).
export {
  fetchCircuitArtifacts,
  fetchKeyIndex,
  ArtifactFetchError,
  ArtifactIntegrityError,
  type FetchCircuitArtifactsOptions,
  type FetchKeyIndexOptions,
  type FetchedCircuitArtifacts,
  type KeyIndex,
} from "./artifacts/index.ts";
export {
  checkWorkflow,
  commitWorkflow,
  planWorkflow,
  proveStatementWorkflow,
  proveTransition,
  rebalanceWorkflow,
  verifyProofFileWorkflow,
  wasmInstanceProver,
  SOLVENCY_STATEMENTS,
  type CheckWorkflowResult,
  type CommitmentSummary,
  type InstanceProver,
  type PlanWorkflowInput,
  type PlanWorkflowResult,
  type ProveStatementInput,
  type ProveStatementResult,
  type RebalanceBinding,
  type RebalanceWorkflowInput,
  type RebalanceWorkflowResult,
  type SolvencyStatementName,
  type VerifyProofFileWorkflowInput,
  type VerifyProofFileWorkflowResult,
} from "./workflows/index.ts";
export { runBacktestWorkflow, backtestPricePaths, backtestReportFiles, type BacktestPathSpec, type BacktestRun, type BacktestWorkflowInput } from "./backtest/workflow.ts";
