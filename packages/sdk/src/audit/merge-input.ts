import type { CircuitSignals } from "snarkjs";
import { figureWords, figuresDigest, type SumNode } from "./merkle-sum-tree.ts";

/** A proven subtree as its parent sees it: its node and its first and last accounts (0 when empty). */
export interface ProvenSubtree {
  node: SumNode;
  firstAccount: bigint;
  lastAccount: bigint;
}

/** Inputs of packages/circuits/audit/audit-merge.circom: the children in order, empty ones last. */
export function auditMergeInput(children: readonly ProvenSubtree[]): CircuitSignals {
  return {
    childHash: children.map((c) => c.node.hash),
    childDigest: children.map((c) => figuresDigest(c.node.sums)),
    childFirst: children.map((c) => c.firstAccount),
    childLast: children.map((c) => c.lastAccount),
    childSums: children.map((c) => figureWords(c.node.sums)),
  } as unknown as CircuitSignals;
}
