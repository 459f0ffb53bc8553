/**
 * Runs a protocol-wide audit on one machine (docs/audit.md): figures for every position, the
 * Merkle sum tree, a check of the aggregate statements on the model's totals, then the batch proofs and each level of merge proofs on a ProverPool (worker
 * threads, proofs side by side, inputs produced only as fast as they are proven).
 */
import type { CircuitSignals } from "snarkjs";
import { InputError, ZksError } from "@zk-solvency/sdk/core";
import type { Market, Policy } from "@zk-solvency/sdk/inputs";
import { marketRoot, policyHash } from "@zk-solvency/sdk/commitment";
import { UnprovableError } from "@zk-solvency/sdk/prover";
import type { ZkProof } from "@zk-solvency/sdk/prover";
import {
  accountFigures,
  CrowdingError,
  crowdingStatements,
  AggregateStatementsError,
  aggregateStatements,
  AUDIT_VERSION,
  auditBatchInput,
  auditMergeInput,
  auditShape,
  batchSignals,
  buildSumTree,
  emptySubtree,
  figuresDigest,
  mergeSignals,
  ownerHash,
  type AuditChain,
  type AuditCrowding,
  type AuditInstances,
  type AuditKeyRecords,
  type AuditLayout,
  type AuditLeaf,
  type AuditReport,
  type AuditShape,
  type LiquidityFile,
  type MerkleSumTree,
  type ProvenSubtree,
} from "@zk-solvency/sdk/audit";
import type { ProverBackend, ProverChoice } from "../native-prover/backend.ts";
import { ProverPool } from "../prover-pool/prover-pool.ts";
import { auditKeyRecords, auditLayout } from "./audit-keys.ts";
import type { BookEntry } from "./read-book.ts";

export const AUDIT_INSTANCES: Record<"test" | "standard", AuditInstances> = {
  test: { batch: "audit-batch-3x3x16x2", merge: "audit-merge-3x3x16x2", top: "audit-top-3x3x16x2" },
  standard: { batch: "audit-batch-3x3x16x4", merge: "audit-merge-3x3x16x8", top: "audit-top-3x3x16x8" },
};

/**
 * The crowding audit's instances (docs/audit.md, "Crowding"): batches of 2, the most that fit the
 * 2^16 ptau with the crowding figures (62,511 constraints), in both tiers; the standard tier's
 * merges and root take 8 children, as the plain audit's.
 */
export const CROWDING_AUDIT_INSTANCES: Record<"test" | "standard", AuditInstances> = {
  test: { batch: "audit-batch-3x3x16x2c", merge: "audit-merge-3x3x16x2c", top: "audit-top-3x3x16x2c" },
  standard: { batch: "audit-batch-3x3x16x2c", merge: "audit-merge-3x3x16x8c", top: "audit-top-3x3x16x8c" },
};

export type AuditProgress =
  { stage: "figures"; done: number; total: number } | { stage: "tree"; depth: number; leaves: number } | { stage: "proofs"; done: number; total: number; level: number };

export interface RunAuditOptions {
  instances?: AuditInstances;
  /**
   * A crowding audit's liquidity file (parseLiquidityFile, against the same market): needed when
   * the instances have crowding, refused otherwise.
   */
  liquidity?: LiquidityFile;
  /** The gate state the book was checked against (checkBookAgainstGate), recorded in audit.json. */
  chain?: AuditChain;
  workers?: number;
  /** Who proves (the CLI's --prover): default ZKS_PROVER, else auto (rapidsnark when found). */
  prover?: ProverChoice | ProverBackend;
  onProgress?: (progress: AuditProgress) => void;
}

export interface AuditAccount {
  leaf: AuditLeaf;
  source: string;
  failures: string[];
}

export interface AuditRun {
  report: AuditReport;
  tree: MerkleSumTree;
  /** In tree order (increasing account). */
  accounts: AuditAccount[];
  shape: AuditShape;
  timings: { figuresMs: number; treeMs: number; levelsMs: number[]; totalMs: number };
}

export { auditLayout } from "./audit-keys.ts";

/** Everything an audit computes before its proofs, shared by the local run and the queue's coordinator. */
export interface PreparedAudit {
  instances: AuditInstances;
  layout: AuditLayout;
  batchSize: number;
  fanIn: number;
  market: Market;
  policy: Policy;
  /** In tree order (increasing account), with the book entry each came from. */
  accounts: (AuditAccount & { entry: BookEntry })[];
  shape: AuditShape;
  tree: MerkleSumTree;
  /** The keys the proofs are made with, as audit.json records them. */
  keys: AuditKeyRecords;
  /** A crowding audit: the liquidity file's hash and its bounds per asset slot (quote base units), the root proof's public inputs. */
  crowding?: AuditCrowding;
  marketRoot: bigint;
  policyHash: bigint;
  timings: { figuresMs: number; treeMs: number };
}

/**
 * Figures by the reference model for every position, the Merkle sum tree, the aggregate
 * statements on its totals (AggregateStatementsError when they fail: no root proof exists, so say
 * so before hours of proofs) and the keys' records.
 */
export function prepareAudit(
  book: readonly BookEntry[],
  market: Market,
  policy: Policy,
  options: Pick<RunAuditOptions, "instances" | "onProgress" | "liquidity"> = {},
): PreparedAudit {
  const started = performance.now();
  const instances = options.instances ?? AUDIT_INSTANCES.standard;
  const { layout, batchSize, fanIn } = auditLayout(instances);
  const progress = options.onProgress ?? (() => {});
  // A crowding audit is proven against published liquidity bounds, and only a crowding audit is.
  if (layout.crowding && !options.liquidity)
    throw new InputError("--liquidity", "", `missing: the crowding instances (${instances.top}) prove the crowding within a liquidity file's bounds`);
  if (!layout.crowding && options.liquidity) throw new InputError("--liquidity", "", `needs the crowding instances (--crowding): ${instances.top} proves no crowding`);
  if (options.liquidity && options.liquidity.epoch !== market.epoch)
    throw new InputError("--liquidity", "epoch", `${options.liquidity.epoch}, but the market is epoch ${market.epoch}: a liquidity file is published with its market`);
  const crowding: AuditCrowding | undefined = options.liquidity
    ? { liquidity: { sha256: options.liquidity.sha256, bounds: Array.from({ length: layout.nAssets }, (_, i) => options.liquidity!.bounds[i] ?? 0n) } }
    : undefined;

  // Figures by the reference model; they decide `fails` and let us check every proof's outputs.
  const accounts: (AuditAccount & { entry: BookEntry })[] = [];
  for (const [i, entry] of book.entries()) {
    try {
      const { leaf, report } = accountFigures(entry.position, market, policy, layout, entry.source);
      accounts.push({ leaf, source: entry.source, failures: report.failures, entry });
    } catch (error) {
      if (error instanceof ZksError && !(error instanceof InputError)) throw new InputError(entry.source, "", error.message);
      throw error;
    }
    if ((i + 1) % 100 === 0 || i + 1 === book.length) progress({ stage: "figures", done: i + 1, total: book.length });
  }
  accounts.sort((a, b) => (a.leaf.account < b.leaf.account ? -1 : a.leaf.account > b.leaf.account ? 1 : 0));
  for (let i = 1; i < accounts.length; i++) {
    if (accounts[i]!.leaf.account === accounts[i - 1]!.leaf.account) {
      throw new InputError(
        accounts[i]!.source,
        "account",
        `${accounts[i]!.entry.position.account} also has a position in ${accounts[i - 1]!.source}; an audit counts one position per account`,
      );
    }
  }
  const figuresMs = performance.now() - started;

  const shape = auditShape(accounts.length, batchSize, fanIn);
  const treeStarted = performance.now();
  const tree = buildSumTree(
    accounts.map((a) => a.leaf),
    layout,
    shape.depth,
  );
  const treeMs = performance.now() - treeStarted;
  progress({ stage: "tree", depth: shape.depth, leaves: accounts.length });
  // When the totals fail the root's statements no root proof exists: say so before hours of batch proofs.
  const statements = aggregateStatements(tree.root.sums, market.scenarios.length);
  if (!statements.holds) throw new AggregateStatementsError(statements);
  // Likewise the crowding statement: a pair over its bound has no root proof.
  if (crowding) {
    const crowded = crowdingStatements(tree.root.sums, crowding.liquidity.bounds);
    if (!crowded.holds) throw new CrowdingError(crowded);
  }
  // The keys the proofs will be made with, recorded so that verifiers check them under no other.
  const keys = auditKeyRecords(instances);
  return {
    instances,
    layout,
    batchSize,
    fanIn,
    market,
    policy,
    accounts,
    shape,
    tree,
    keys,
    ...(crowding ? { crowding } : {}),
    marketRoot: marketRoot(market, layout),
    policyHash: policyHash(policy),
    timings: { figuresMs, treeMs },
  };
}

const isRootLevel = (prepared: PreparedAudit, level: number): boolean => level === prepared.shape.proofsPerLevel.length - 1;

/** The root proof's liquidity inputs: nAssets for a crowding audit's root, else none. */
const liquiditySlots = (prepared: PreparedAudit, level: number): number => (isRootLevel(prepared, level) && prepared.crowding ? prepared.layout.nAssets : 0);

/** The instance proving level `level`: batches, merges, and the root proof (top) last. */
export function auditLevelInstance(prepared: PreparedAudit, level: number): string {
  const { instances, shape } = prepared;
  return level === 0 ? instances.batch : level === shape.proofsPerLevel.length - 1 ? instances.top : instances.merge;
}

/** "batch 3 (book.jsonl:7, book.jsonl:8)" or "merge 1 of level 2", for messages. */
export function describeAuditProof(prepared: PreparedAudit, level: number, index: number): string {
  if (level > 0) return `merge ${index} of level ${level}`;
  const { accounts, batchSize } = prepared;
  return `batch ${index} (${accounts
    .slice(index * batchSize, (index + 1) * batchSize)
    .map((a) => a.source)
    .join(", ")})`;
}

/**
 * The subtree proof (level, index) proves, by the reference model: its node and its first and
 * last accounts. Beyond the book's last account, the empty subtree of that height (what a merge's
 * empty child slots carry).
 */
export function modelSubtree(prepared: PreparedAudit, level: number, index: number): ProvenSubtree {
  const { accounts, batchSize, fanIn, shape, tree, layout } = prepared;
  const span = batchSize * fanIn ** level;
  const first = index * span;
  if (first >= accounts.length) return { node: emptySubtree(shape.heights[level]!, layout), firstAccount: 0n, lastAccount: 0n };
  const last = Math.min(first + span, accounts.length) - 1;
  return { node: tree.levels[shape.heights[level]!]![index]!, firstAccount: accounts[first]!.leaf.account, lastAccount: accounts[last]!.leaf.account };
}

/**
 * The circuit input of proof (level, index). A merge's children come from the reference model,
 * not from the proofs below: every proof's outputs are checked to be the model's
 * (auditProofMismatch), so both are the same, and a merge's input needs no proof of its children
 * (the queue's jobs carry their inputs).
 */
export function auditProofInput(prepared: PreparedAudit, level: number, index: number): CircuitSignals {
  const { accounts, batchSize, fanIn, market, policy, layout } = prepared;
  if (level === 0) {
    const members = accounts.slice(index * batchSize, (index + 1) * batchSize).map((a) => ({ position: a.entry.position, fails: a.leaf.figures.fails, source: a.source }));
    return auditBatchInput(members, market, policy, layout, batchSize);
  }
  const children = Array.from({ length: fanIn }, (_, c) => modelSubtree(prepared, level - 1, index * fanIn + c));
  return auditMergeInput(children, isRootLevel(prepared, level) ? (prepared.crowding?.liquidity.bounds ?? []) : []);
}

/**
 * What differs between a proof's public signals and what the reference model says proof
 * (level, index) must publish, or undefined when nothing does: its subtree (hash, sums digest,
 * first and last account, counts); for a batch the market, the policy and the members; for a
 * merge its children, in order. It does not verify the proof (the caller does, when the proof
 * comes from elsewhere).
 */
export function auditProofMismatch(prepared: PreparedAudit, level: number, index: number, publicSignals: readonly string[]): string | undefined {
  const { batchSize, fanIn, accounts } = prepared;
  const expected = modelSubtree(prepared, level, index);
  const signals = level === 0 ? batchSignals(publicSignals) : mergeSignals(publicSignals, fanIn, liquiditySlots(prepared, level));
  if (signals.hash !== expected.node.hash || signals.digest !== figuresDigest(expected.node.sums)) return "the proof's subtree differs from the reference model's";
  if (signals.firstAccount !== expected.firstAccount || signals.lastAccount !== expected.lastAccount) return "the proof's first or last account differs from the book's";
  if (signals.positions !== expected.node.sums.positions || signals.failing !== expected.node.sums.fails)
    return "the proof's counts of positions and failing positions differ from the model's";
  if (level === 0) {
    const batch = batchSignals(publicSignals);
    if (batch.marketRoot !== prepared.marketRoot || batch.policyHash !== prepared.policyHash) return "market or policy differs from the inputs";
    const expectedMembers = accounts.slice(index * batchSize, (index + 1) * batchSize).map((a) => ownerHash(a.leaf.commitment, a.leaf.account));
    while (expectedMembers.length < batchSize) expectedMembers.push(ownerHash(0n, 0n));
    if (batch.members.length !== batchSize || batch.members.some((m, s) => m !== expectedMembers[s])) return "the proof's members differ from the book's";
    return undefined;
  }
  const merge = mergeSignals(publicSignals, fanIn, liquiditySlots(prepared, level));
  const bounds = liquiditySlots(prepared, level) > 0 ? prepared.crowding!.liquidity.bounds : [];
  if (merge.liquidity.length !== bounds.length || merge.liquidity.some((bound, i) => bound !== bounds[i])) return "the proof's liquidity bounds differ from the liquidity file's";
  for (const [c, child] of merge.children.entries()) {
    const below = modelSubtree(prepared, level - 1, index * fanIn + c);
    if (child.hash !== below.node.hash || child.digest !== figuresDigest(below.node.sums) || child.firstAccount !== below.firstAccount || child.lastAccount !== below.lastAccount)
      return `the proof's child ${c} differs from the subtree below it`;
  }
  return undefined;
}

/** audit.json's report from the prepared audit and its proofs (per level, batches first). */
export function auditReportOf(prepared: PreparedAudit, proofs: ZkProof[][], chain?: AuditChain): AuditReport {
  return {
    kind: "zks-audit",
    version: AUDIT_VERSION,
    epoch: prepared.market.epoch,
    marketRoot: prepared.marketRoot,
    policyHash: prepared.policyHash,
    instances: prepared.instances,
    keys: prepared.keys,
    layout: prepared.layout,
    batchSize: prepared.batchSize,
    fanIn: prepared.fanIn,
    depth: prepared.shape.depth,
    root: prepared.tree.root,
    ...(chain ? { chain } : {}),
    ...(prepared.crowding ? { crowding: prepared.crowding } : {}),
    proofs,
    createdAt: new Date().toISOString(),
  };
}

/** An AuditRun from the prepared audit and its proofs: what `zks audit` writes and summarises, whoever proved. */
export function auditRunOf(prepared: PreparedAudit, proofs: ZkProof[][], chain: AuditChain | undefined, timings: { levelsMs: number[]; totalMs: number }): AuditRun {
  return {
    report: auditReportOf(prepared, proofs, chain),
    tree: prepared.tree,
    accounts: prepared.accounts.map(({ leaf, source, failures }) => ({ leaf, source, failures })),
    shape: prepared.shape,
    timings: { ...prepared.timings, ...timings },
  };
}

export async function runAudit(book: readonly BookEntry[], market: Market, policy: Policy, options: RunAuditOptions = {}): Promise<AuditRun> {
  const started = performance.now();
  const prepared = prepareAudit(book, market, policy, options);
  const { instances, shape } = prepared;
  const progress = options.onProgress ?? (() => {});
  const totalProofs = shape.proofsPerLevel.reduce((a, b) => a + b, 0);
  let doneProofs = 0;
  const levelsMs: number[] = [];
  const proofs: ZkProof[][] = [];
  const pool = await ProverPool.start([instances.batch, instances.merge, instances.top], {
    ...(options.workers && { workers: options.workers }),
    ...(options.prover !== undefined && { prover: options.prover }),
  });
  try {
    for (let level = 0; level < shape.proofsPerLevel.length; level++) {
      const levelStarted = performance.now();
      const count = shape.proofsPerLevel[level]!;
      // Inputs are built only as the pool takes them (back-pressure): memory does not grow with the book.
      function* inputs(): Generator<CircuitSignals> {
        for (let i = 0; i < count; i++) yield auditProofInput(prepared, level, i);
      }
      const levelProofs: ZkProof[] = new Array(count);
      for await (const outcome of pool.proveEach(auditLevelInstance(prepared, level), inputs())) {
        if ("error" in outcome) {
          const detail = outcome.error instanceof UnprovableError ? outcome.error.detail : outcome.error.message;
          // Known errors keep their code (an unprovable input 1, a broken native prover 3); anything else is a bug.
          throw new ZksError(`${describeAuditProof(prepared, level, outcome.index)} cannot be proven: ${detail}`, outcome.error instanceof ZksError ? outcome.error.exitCode : 70);
        }
        const { proof, publicSignals } = outcome.proof;
        // The circuit and the reference model must agree on every subtree; a mismatch is a bug.
        const mismatch = auditProofMismatch(prepared, level, outcome.index, publicSignals);
        if (mismatch) throw new ZksError(`${describeAuditProof(prepared, level, outcome.index)}: ${mismatch} (a bug; please report it)`, 70);
        levelProofs[outcome.index] = { proof, publicSignals };
        progress({ stage: "proofs", done: ++doneProofs, total: totalProofs, level });
      }
      proofs.push(levelProofs);
      levelsMs.push(performance.now() - levelStarted);
    }
  } finally {
    await pool.close();
  }
  return auditRunOf(prepared, proofs, options.chain, { levelsMs, totalMs: performance.now() - started });
}
