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
  type AuditInstances,
  type AuditLeaf,
  type AuditReport,
  type AuditShape,
  type MerkleSumTree,
  type ProvenSubtree,
} from "@zk-solvency/sdk/audit";
import { ProverPool } from "../prover-pool/prover-pool.ts";
import { auditKeyRecords, auditLayout } from "./audit-keys.ts";
import type { BookEntry } from "./read-book.ts";

export const AUDIT_INSTANCES: Record<"test" | "standard", AuditInstances> = {
  test: { batch: "audit-batch-3x3x16x2", merge: "audit-merge-3x3x16x2", top: "audit-top-3x3x16x2" },
  standard: { batch: "audit-batch-3x3x16x4", merge: "audit-merge-3x3x16x8", top: "audit-top-3x3x16x8" },
};

export type AuditProgress =
  { stage: "figures"; done: number; total: number } | { stage: "tree"; depth: number; leaves: number } | { stage: "proofs"; done: number; total: number; level: number };

export interface RunAuditOptions {
  instances?: AuditInstances;
  /** The gate state the book was checked against (checkBookAgainstGate), recorded in audit.json. */
  chain?: AuditChain;
  workers?: number;
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

export async function runAudit(book: readonly BookEntry[], market: Market, policy: Policy, options: RunAuditOptions = {}): Promise<AuditRun> {
  const started = performance.now();
  const instances = options.instances ?? AUDIT_INSTANCES.standard;
  const { layout, batchSize, fanIn } = auditLayout(instances);
  const progress = options.onProgress ?? (() => {});

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
  // The keys the proofs will be made with, recorded so that verifiers check them under no other.
  const keys = auditKeyRecords(instances);

  const expectedMarketRoot = marketRoot(market, layout);
  const expectedPolicyHash = policyHash(policy);
  const totalProofs = shape.proofsPerLevel.reduce((a, b) => a + b, 0);
  let doneProofs = 0;
  const levelsMs: number[] = [];
  const proofs: ZkProof[][] = [];
  const pool = await ProverPool.start([instances.batch, instances.merge, instances.top], options.workers ? { workers: options.workers } : {});
  try {
    let below: ProvenSubtree[] = [];
    for (let level = 0; level < shape.proofsPerLevel.length; level++) {
      const levelStarted = performance.now();
      const count = shape.proofsPerLevel[level]!;
      const instance = level === 0 ? instances.batch : level === shape.proofsPerLevel.length - 1 ? instances.top : instances.merge;
      const nodes = tree.levels[shape.heights[level]!]!;
      const describe = (i: number) =>
        level === 0
          ? `batch ${i} (${accounts
              .slice(i * batchSize, (i + 1) * batchSize)
              .map((a) => a.source)
              .join(", ")})`
          : `merge ${i} of level ${level}`;
      function* inputs(): Generator<CircuitSignals> {
        for (let i = 0; i < count; i++) {
          if (level === 0) {
            const members = accounts.slice(i * batchSize, (i + 1) * batchSize).map((a) => ({ position: a.entry.position, fails: a.leaf.figures.fails, source: a.source }));
            yield auditBatchInput(members, market, policy, layout, batchSize);
          } else {
            const empty: ProvenSubtree = { node: emptySubtree(shape.heights[level - 1]!, layout), firstAccount: 0n, lastAccount: 0n };
            yield auditMergeInput(Array.from({ length: fanIn }, (_, c) => below[i * fanIn + c] ?? empty));
          }
        }
      }
      const levelProofs: ZkProof[] = new Array(count);
      const proven: ProvenSubtree[] = new Array(count);
      for await (const outcome of pool.proveEach(instance, inputs())) {
        if ("error" in outcome) {
          const detail = outcome.error instanceof UnprovableError ? outcome.error.detail : outcome.error.message;
          throw new ZksError(`${describe(outcome.index)} cannot be proven: ${detail}`, outcome.error instanceof UnprovableError ? 1 : 70);
        }
        const { proof, publicSignals } = outcome.proof;
        const signals = level === 0 ? batchSignals(publicSignals) : mergeSignals(publicSignals, fanIn);
        const node = nodes[outcome.index]!;
        // The circuit and the reference model must agree on every subtree; a mismatch is a bug.
        if (signals.hash !== node.hash || signals.digest !== figuresDigest(node.sums)) {
          throw new ZksError(`${describe(outcome.index)}: the proof's subtree differs from the reference model's (a bug; please report it)`, 70);
        }
        if (level === 0) {
          const batch = batchSignals(publicSignals);
          if (batch.marketRoot !== expectedMarketRoot || batch.policyHash !== expectedPolicyHash)
            throw new ZksError(`${describe(outcome.index)}: market or policy differs from the inputs (a bug)`, 70);
          const expectedMembers = accounts.slice(outcome.index * batchSize, (outcome.index + 1) * batchSize).map((a) => ownerHash(a.leaf.commitment, a.leaf.account));
          while (expectedMembers.length < batchSize) expectedMembers.push(ownerHash(0n, 0n));
          if (batch.members.some((m, s) => m !== expectedMembers[s]))
            throw new ZksError(`${describe(outcome.index)}: the proof's members differ from the book's (a bug; please report it)`, 70);
        }
        levelProofs[outcome.index] = { proof, publicSignals };
        proven[outcome.index] = { node, firstAccount: signals.firstAccount, lastAccount: signals.lastAccount };
        progress({ stage: "proofs", done: ++doneProofs, total: totalProofs, level });
      }
      proofs.push(levelProofs);
      below = proven;
      levelsMs.push(performance.now() - levelStarted);
    }
  } finally {
    await pool.close();
  }

  const report: AuditReport = {
    kind: "zks-audit",
    version: AUDIT_VERSION,
    epoch: market.epoch,
    marketRoot: expectedMarketRoot,
    policyHash: expectedPolicyHash,
    instances,
    keys,
    layout,
    batchSize,
    fanIn,
    depth: shape.depth,
    root: tree.root,
    ...(options.chain ? { chain: options.chain } : {}),
    proofs,
    createdAt: new Date().toISOString(),
  };
  return {
    report,
    tree,
    accounts: accounts.map(({ leaf, source, failures }) => ({ leaf, source, failures })),
    shape,
    timings: { figuresMs, treeMs, levelsMs, totalMs: performance.now() - started },
  };
}
