/**
 * Protocol-wide audits (docs/audit.md): the Merkle sum tree of many positions, the aggregate
 * proofs' inputs and signals, inclusion proofs, audit reports and their verification, and the
 * completeness check against a gate on chain. Browser-safe.
 *
 * @module
 */
export {
  inclusionFileJson,
  parseInclusionFile,
  auditReportJson,
  figuresJson,
  parseAuditReport,
  AUDIT_VERSION,
  type AuditChain,
  type AuditCrowding,
  type AuditKey,
  type AuditKeyRecords,
  type AuditLayout,
  type AuditReport,
  type AuditInstances,
  type InclusionFile,
} from "./audit-files.ts";
export { auditShape, type AuditShape } from "./audit-shape.ts";
export {
  checkAgainstGate,
  checkBookAgainstGate,
  type BookLeaf,
  type CompletenessVerdict,
  type DeploymentPins,
  type GateAsset,
  type GateCheckOptions,
  type GateInstrument,
  type GateSnapshot,
  type ReserveLine,
} from "./completeness.ts";
export { accountFigures, auditFigures, type AccountFigures } from "./figures.ts";
export {
  CROWD_MARGIN_DEN,
  CROWD_MARGIN_NUM,
  CrowdingError,
  crowdingFigures,
  crowdingStatements,
  priceFactors,
  restoreBound,
  roundingAllowance,
  restoreTarget,
  saleGains,
  type CrowdedPair,
  type CrowdingStatements,
  type RestoreBound,
  type RestoreInput,
} from "./crowding.ts";
export {
  constantProductDepth,
  LIQUIDITY_BITS,
  LIQUIDITY_KIND,
  LIQUIDITY_VERSION,
  liquidityFileHash,
  parseLiquidityFile,
  type LiquidityFile,
  type LiquiditySource,
} from "./liquidity.ts";
export { readGateSnapshot, type SnapshotOptions } from "./gate-snapshot.ts";
export { checkInclusion, inclusionFile, locateLeaf, matchLeaf, type InclusionResult } from "./inclusion.ts";
export {
  addFigures,
  AuditTreeError,
  buildSumTree,
  figureCount,
  figureWords,
  figuresFromWords,
  figuresDigest,
  followInclusion,
  inclusionProof,
  leafDigest,
  ownerHash,
  plainFigureWords,
  type AuditFigures,
  type AuditLeaf,
  type FigureLayout,
  type InclusionProof,
  type InclusionStep,
  type MerkleSumTree,
  type SumNode,
} from "./merkle-sum-tree.ts";
export { AggregateStatementsError, aggregateStatements, toQuoteUnits, type AggregateStatements } from "./statements.ts";
export { syntheticBook, type SyntheticBookOptions } from "./synthetic-book.ts";
export { AuditKeyError, AuditVerificationError, checkAuditKeys, verifyAudit, type AuditKeys, type AuditVerdict, type VerifyAuditOptions } from "./verify-audit.ts";
export { auditGeometry, AuditInstancesError, checkDeclaredGeometry, type AuditGeometry, type AuditInstanceInfo } from "./audit-instances.ts";
export { auditBatchInput, type BatchMember } from "./batch-input.ts";
export { emptySubtree } from "./empty-subtree.ts";
export { auditMergeInput, type ProvenSubtree } from "./merge-input.ts";
export { batchSignals, mergeSignals, type BatchSignals, type MergeSignals, type SubtreeSignals } from "./public-signals.ts";
