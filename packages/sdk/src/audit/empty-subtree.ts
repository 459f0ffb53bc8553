import { emptyLeaf, leafDigest, leafHash, nodeHash, zeroFigures, figuresDigest, type FigureLayout, type SumNode } from "./merkle-sum-tree.ts";

/**
 * The node of an empty subtree of height h (padding leaves all the way down): the hash a merge
 * proof's empty child slots must carry, which the verifier checks (the circuit cannot, since it
 * does not know its children's height).
 */
export function emptySubtree(height: number, layout: FigureLayout): SumNode {
  let node: SumNode = { hash: leafHash(emptyLeaf(layout)), sums: zeroFigures(layout) };
  for (let h = 0; h < height; h++) node = { hash: nodeHash(node, node, h === 0 ? leafDigest : figuresDigest), sums: node.sums };
  return node;
}

/** The sums digest of an empty subtree of height >= 1 (a leaf's digest covers only its plain figures: leafDigest). */
export const emptyDigest = (layout: FigureLayout): bigint => figuresDigest(zeroFigures(layout));
