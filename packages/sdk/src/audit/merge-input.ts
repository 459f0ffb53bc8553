import type { CircuitSignals } from "snarkjs";
import { figureWords, figuresDigest, type SumNode } from "./merkle-sum-tree.ts";

/** A proven subtree as its parent sees it: its node and its first and last accounts (0 when empty). */
export interface ProvenSubtree {
  node: SumNode;
  firstAccount: bigint;
  lastAccount: bigint;
}

/**
 * Inputs of packages/circuits/audit/audit-merge.circom: the children in order, empty ones last;
 * for the root of a crowding audit, the liquidity bounds per asset slot (quote base units).
 */
export function auditMergeInput(children: readonly ProvenSubtree[], liquidity: readonly bigint[] = []): CircuitSignals {
  return {
    childHash: children.map((c) => c.node.hash),
    childDigest: children.map((c) => figuresDigest(c.node.sums)),
    childFirst: children.map((c) => c.firstAccount),
    childLast: children.map((c) => c.lastAccount),
    childSums: children.map((c) => figureWords(c.node.sums)),
    // Only the crowding root has the input (a zero-length signal is no input of the circuit).
    ...(liquidity.length > 0 ? { liquidity: [...liquidity] } : {}),
  } as unknown as CircuitSignals;
}
