import { emptyLeaf, leafHash, nodeHash, zeroFigures, figuresDigest, type FigureLayout, type SumNode } from "./merkle-sum-tree.ts";

/**
 * The node of an empty subtree of height h (padding leaves all the way down): the hash a merge
 * proof's empty child slots must carry, which the verifier checks (the circuit cannot, since it
 * does not know its children's height).
 */
export function emptySubtree(height: number, layout: FigureLayout): SumNode {
  let node: SumNode = { hash: leafHash(emptyLeaf(layout)), sums: zeroFigures(layout) };
  for (let h = 0; h < height; h++) node = { hash: nodeHash(node, node), sums: node.sums };
  return node;
}

export const emptyDigest = (layout: FigureLayout): bigint => figuresDigest(zeroFigures(layout));
