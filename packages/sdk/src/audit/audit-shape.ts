/**
 * How an audit of n positions splits into proofs (docs/audit.md): batches of `batchSize` leaves
 * (AuditBatch), then levels of merges of `fanIn` children (AuditMerge), the last level being a
 * single root proof (AuditMerge with top = 1). The tree is the complete binary tree of depth
 * log2(batchSize) + levels * log2(fanIn), padded with empty leaves; each proof is one of its
 * subtrees, so the batched tree is exactly buildSumTree over the padded leaves.
 */
import { AuditTreeError, MAX_DEPTH } from "./merkle-sum-tree.ts";

export interface AuditShape {
  positions: number;
  batchSize: number;
  fanIn: number;
  /** Proofs per level: batches first, then each merge level; the last level has one proof (the root). */
  proofsPerLevel: number[];
  /** Height in the tree of the subtrees each level proves (batches: log2(batchSize)). */
  heights: number[];
  depth: number;
}

const isPowerOfTwo = (n: number): boolean => Number.isInteger(n) && n >= 2 && (n & (n - 1)) === 0;

export function auditShape(positions: number, batchSize: number, fanIn: number): AuditShape {
  if (!Number.isInteger(positions) || positions < 1) throw new AuditTreeError(`an audit needs at least one position (got ${positions})`);
  if (!isPowerOfTwo(batchSize)) throw new AuditTreeError(`batch size must be a power of two >= 2 (got ${batchSize})`);
  if (!isPowerOfTwo(fanIn)) throw new AuditTreeError(`merge fan-in must be a power of two >= 2 (got ${fanIn})`);
  const proofsPerLevel = [Math.ceil(positions / batchSize)];
  const heights = [Math.log2(batchSize)];
  // Merge until one proof remains; there is always at least one merge, the root proof, which
  // proves the aggregate statements.
  do {
    proofsPerLevel.push(Math.ceil(proofsPerLevel.at(-1)! / fanIn));
    heights.push(heights.at(-1)! + Math.log2(fanIn));
  } while (proofsPerLevel.at(-1)! > 1);
  const depth = heights.at(-1)!;
  if (depth > MAX_DEPTH) throw new AuditTreeError(`${positions} positions need a tree of depth ${depth}, above ${MAX_DEPTH}; use larger batches or fan-in`);
  return { positions, batchSize, fanIn, proofsPerLevel, heights, depth };
}
