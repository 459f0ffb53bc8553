import assert from "node:assert/strict";
import {
  AuditTreeError,
  buildSumTree,
  FIGURE_BITS,
  inclusionProof,
  verifyInclusion,
  type AuditLeaf,
  type InclusionProof,
  type SumNode,
} from "../src/audit/merkle-sum-tree.ts";
import { Random } from "./helpers/model-fixtures.ts";

const S = 4;

function randomLeaf(rng: Random, i: number): AuditLeaf {
  const value = () => BigInt(rng.int(0, 1_000_000)) * 10n ** 8n;
  return {
    commitment: BigInt(1_000 + i) * 7919n,
    account: BigInt(0x1000 + i),
    figures: { positions: 1n, collateral: value(), debt: value(), fails: BigInt(rng.int(0, 1)), losses: Array.from({ length: S }, value) },
  };
}

const rejects = (work: () => unknown, pattern: RegExp) => assert.throws(work, (e: unknown) => e instanceof AuditTreeError && pattern.test(e.message));
const clone = <T>(value: T): T => structuredClone(value);

describe("audit Merkle sum tree", function () {
  const rng = new Random(2026);
  const leaves = Array.from({ length: 11 }, (_, i) => randomLeaf(rng, i));
  const tree = buildSumTree(leaves, S);

  it("sums every figure at the root and proves each account's inclusion", function () {
    const total = (pick: (l: AuditLeaf) => bigint) => leaves.reduce((sum, l) => sum + pick(l), 0n);
    assert.equal(tree.depth, 4, "11 leaves pad to 16");
    assert.equal(tree.root.sums.collateral, total((l) => l.figures.collateral));
    assert.equal(tree.root.sums.debt, total((l) => l.figures.debt));
    assert.equal(tree.root.sums.fails, total((l) => l.figures.fails));
    for (let j = 0; j < S; j++) assert.equal(tree.root.sums.losses[j], total((l) => l.figures.losses[j]!));
    leaves.forEach((leaf, i) => assert.equal(verifyInclusion(tree.root, leaf, inclusionProof(tree, i), S).hash, tree.root.hash));
    assert.equal(buildSumTree(leaves, S).root.hash, tree.root.hash, "deterministic");
  });

  it("catches a forged leaf: other figures than the ones committed", function () {
    const forged = clone(leaves[3]!);
    forged.figures.debt -= 1n;
    rejects(() => verifyInclusion(tree.root, forged, inclusionProof(tree, 3), S), /does not lead to the published root/);
  });

  it("refuses a negative balance anywhere: in a leaf when building, in a sibling when verifying", function () {
    const negative = clone(leaves);
    negative[5]!.figures.collateral = -1n;
    rejects(() => buildSumTree(negative, S), /leaf 5: collateral is negative/);
    // A sibling whose sums hide a negative (Maxwell-style: it would lower the total debt).
    const proof: InclusionProof = clone(inclusionProof(tree, 0));
    proof.path[0]!.sibling.sums.debt = -5n;
    rejects(() => verifyInclusion(tree.root, leaves[0]!, proof, S), /sibling at height 0: debt is negative/);
  });

  it("catches a tampered sum: a sibling's sums changed, or a total beyond what its height allows", function () {
    const proof = clone(inclusionProof(tree, 6));
    proof.path[1]!.sibling.sums.collateral += 1n;
    rejects(() => verifyInclusion(tree.root, leaves[6]!, proof, S), /does not lead to the published root/);
    const wrapping = clone(inclusionProof(tree, 6));
    wrapping.path[2]!.sibling.sums.losses = wrapping.path[2]!.sibling.sums.losses.map(() => 1n << BigInt(FIGURE_BITS + 2));
    rejects(() => verifyInclusion(tree.root, leaves[6]!, wrapping, S), /sibling at height 2: losses\[0\] is .*not below 2\^122/);
    // And a published root whose totals differ from what its hash commits to.
    const claimed: SumNode = clone(tree.root);
    claimed.sums.debt -= 1n;
    rejects(() => verifyInclusion(claimed, leaves[6]!, inclusionProof(tree, 6), S), /total debt .* differs from the published/);
  });

  it("catches an excluded account: a leaf the audit left out has no path to the root", function () {
    const outsider = randomLeaf(rng, 99);
    for (const index of [0, 10, 15]) rejects(() => verifyInclusion(tree.root, outsider, inclusionProof(tree, index), S), /does not lead to the published root/);
    // A tree built without account 4 does not prove it.
    const without = buildSumTree(leaves.filter((_, i) => i !== 4), S);
    rejects(() => verifyInclusion(without.root, leaves[4]!, inclusionProof(tree, 4), S), /does not lead to the published root/);
  });

  it("refuses duplicate accounts, a fails flag other than 0/1, a wrong scenario count and a bad index", function () {
    rejects(() => buildSumTree([leaves[0]!, { ...leaves[1]!, account: leaves[0]!.account }], S), /appears twice/);
    rejects(() => buildSumTree([{ ...leaves[0]!, figures: { ...leaves[0]!.figures, fails: 2n } }], S), /fails must be 0, or 1 for a position/);
    rejects(() => buildSumTree([leaves[0]!], S + 1), /losses has 4 entries; the tree has 5 scenarios/);
    rejects(() => inclusionProof(tree, 16), /outside the tree's 16 leaves/);
    const moved = clone(inclusionProof(tree, 2));
    moved.index = 3;
    rejects(() => verifyInclusion(tree.root, leaves[2]!, moved, S), /side does not match index 3/);
  });
});
