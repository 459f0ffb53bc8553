import assert from "node:assert/strict";
import {
  AuditTreeError,
  buildSumTree,
  figuresDigest,
  figuresFromWords,
  figureWords,
  followInclusion,
  emptyLeaf,
  inclusionProof,
  leafHash,
  nodeHash,
  addFigures,
  type AuditLeaf,
  type InclusionProof,
  type SumNode,
} from "../packages/sdk/src/audit/merkle-sum-tree.ts";
import { Random } from "./helpers/model-fixtures.ts";

const S = 4;
const LAYOUT = { nAssets: 2, nInstruments: 3, nScenarios: S };

function randomLeaf(rng: Random, i: number): AuditLeaf {
  const value = () => BigInt(rng.int(0, 1_000_000)) * 10n ** 8n;
  const quantity = () => BigInt(rng.int(-1_000, 1_000)) * 10n ** 8n;
  const quantities = Array.from({ length: LAYOUT.nInstruments }, quantity);
  return {
    commitment: BigInt(1_000 + i) * 7919n,
    account: BigInt(0x1000 + i),
    figures: {
      positions: 1n,
      collateral: value(),
      debt: value(),
      fails: BigInt(rng.int(0, 1)),
      losses: Array.from({ length: S }, value),
      amounts: Array.from({ length: LAYOUT.nAssets }, value),
      debtUnits: Array.from({ length: LAYOUT.nAssets }, value),
      long: quantities.map((q) => (q > 0n ? q : 0n)),
      written: quantities.map((q) => (q < 0n ? -q : 0n)),
    },
  };
}

const rejects = (work: () => unknown, pattern: RegExp) => assert.throws(work, (e: unknown) => e instanceof AuditTreeError && pattern.test(e.message));
const clone = <T>(value: T): T => structuredClone(value);

describe("audit Merkle sum tree", function () {
  const rng = new Random(2026);
  const leaves = Array.from({ length: 11 }, (_, i) => randomLeaf(rng, i));
  const tree = buildSumTree(leaves, LAYOUT);
  const node = (n: SumNode) => ({ hash: n.hash, digest: figuresDigest(n.sums) });
  const reach = (leaf: AuditLeaf, proof: InclusionProof) => followInclusion(leaf, proof, LAYOUT);
  const notRoot = (leaf: AuditLeaf, proof: InclusionProof) => assert.notDeepEqual(reach(leaf, proof), node(tree.root));

  it("sums every figure at the root, and each account's path leads to it (or to the node of any height)", function () {
    const total = (pick: (l: AuditLeaf) => bigint) => leaves.reduce((sum, l) => sum + pick(l), 0n);
    assert.equal(tree.depth, 4, "11 leaves pad to 16");
    assert.equal(
      tree.root.sums.collateral,
      total((l) => l.figures.collateral),
    );
    assert.equal(
      tree.root.sums.debt,
      total((l) => l.figures.debt),
    );
    assert.equal(
      tree.root.sums.fails,
      total((l) => l.figures.fails),
    );
    for (let j = 0; j < S; j++)
      assert.equal(
        tree.root.sums.losses[j],
        total((l) => l.figures.losses[j]!),
      );
    // The per-token figures sum like the others: the root says what all positions hold and owe per token.
    for (const name of ["amounts", "debtUnits", "long", "written"] as const) {
      tree.root.sums[name].forEach((sum, i) =>
        assert.equal(
          sum,
          total((l) => l.figures[name][i]!),
          `${name}[${i}]`,
        ),
      );
    }
    leaves.forEach((leaf, i) => assert.deepEqual(reach(leaf, inclusionProof(tree, i)), node(tree.root)));
    leaves.forEach((leaf, i) => assert.deepEqual(reach(leaf, inclusionProof(tree, i, 2)), node(tree.levels[2]![i >> 2]!)));
    assert.equal(buildSumTree(leaves, LAYOUT).root.hash, tree.root.hash, "deterministic");
  });

  it("equals the tree by definition (leafHash, nodeHash, every padding slot hashed) for every leaf count and depth", function () {
    // buildSumTree hashes each digest once and each empty subtree once per level; this is the
    // definition it must agree with, node for node.
    const naive = (from: readonly AuditLeaf[], depth: number): SumNode[][] => {
      const padded = [...from, ...Array.from({ length: 2 ** depth - from.length }, () => emptyLeaf(LAYOUT))];
      const levels: SumNode[][] = [padded.map((leaf) => ({ hash: leafHash(leaf), sums: leaf.figures }))];
      for (let d = 0; d < depth; d++) {
        const below = levels[d]!;
        levels.push(
          Array.from({ length: below.length / 2 }, (_, i) => ({ hash: nodeHash(below[2 * i]!, below[2 * i + 1]!), sums: addFigures(below[2 * i]!.sums, below[2 * i + 1]!.sums) })),
        );
      }
      return levels;
    };
    for (const count of [1, 2, 3, 4, 5, 7, 8, 11]) {
      for (const extraDepth of [0, 1, 2]) {
        const depth = Math.max(1, Math.ceil(Math.log2(count))) + extraDepth;
        const built = buildSumTree(leaves.slice(0, count), LAYOUT, depth);
        const expected = naive(leaves.slice(0, count), depth);
        assert.equal(built.levels.length, expected.length);
        built.levels.forEach((level, d) => {
          assert.equal(level.length, expected[d]!.length, `${count} leaves, depth ${depth}: level ${d}'s width`);
          level.forEach((n, i) => assert.deepEqual(n, expected[d]![i], `${count} leaves, depth ${depth}: node ${i} of level ${d}`));
        });
        assert.deepEqual(built.root, expected[depth]![0]);
      }
    }
  });

  it("a path carries hashes and digests, never another account's figures", function () {
    const proof = inclusionProof(tree, 6);
    for (const step of proof.path) {
      assert.deepEqual(Object.keys(step).sort(), ["parentDigest", "sibling", "siblingIsLeft"]);
      assert.deepEqual(Object.keys(step.sibling).sort(), ["digest", "hash"]);
    }
  });

  it("catches a forged leaf: other figures than the ones committed", function () {
    const forged = clone(leaves[3]!);
    forged.figures.debt -= 1n;
    notRoot(forged, inclusionProof(tree, 3));
  });

  it("refuses a negative balance: in a leaf when building, in the owner's own leaf when following a path", function () {
    const negative = clone(leaves);
    negative[5]!.figures.collateral = -1n;
    rejects(() => buildSumTree(negative, LAYOUT), /leaf 5: collateral is negative/);
    rejects(() => reach(negative[5]!, inclusionProof(tree, 5)), /your leaf: collateral is negative/);
    // Siblings' sums are not in the path: that they are non-negative and add up is what the
    // batch and merge circuits prove (test/audit-circuits.test.ts forges them).
  });

  it("catches a tampered sum: a sibling's digest or hash changed, or a parent's digest", function () {
    for (const tamper of [
      (p: InclusionProof) => (p.path[1]!.sibling.digest += 1n),
      (p: InclusionProof) => (p.path[2]!.sibling.hash += 1n),
      (p: InclusionProof) => (p.path[0]!.parentDigest += 1n),
      (p: InclusionProof) => (p.path[3]!.parentDigest += 1n),
    ]) {
      const proof = clone(inclusionProof(tree, 6));
      tamper(proof);
      notRoot(leaves[6]!, proof);
    }
  });

  it("catches an excluded account: a leaf the audit left out has no path to the root", function () {
    const outsider = randomLeaf(rng, 99);
    for (const index of [0, 10, 15]) notRoot(outsider, inclusionProof(tree, index));
    // A tree built without account 4 does not prove it.
    const without = buildSumTree(
      leaves.filter((_, i) => i !== 4),
      LAYOUT,
    );
    assert.notDeepEqual(reach(leaves[4]!, inclusionProof(tree, 4)), node(without.root));
  });

  it("refuses duplicate accounts, a fails flag other than 0/1, a wrong scenario count, a bad index or height, a moved side", function () {
    rejects(() => buildSumTree([leaves[0]!, { ...leaves[1]!, account: leaves[0]!.account }], LAYOUT), /appears twice/);
    rejects(() => buildSumTree([{ ...leaves[0]!, figures: { ...leaves[0]!.figures, fails: 2n } }], LAYOUT), /fails must be 0, or 1 for a position/);
    rejects(() => buildSumTree([leaves[0]!], { ...LAYOUT, nScenarios: S + 1 }), /losses has 4 entries; the tree has 5 scenarios/);
    rejects(() => buildSumTree([leaves[0]!], { ...LAYOUT, nAssets: 3 }), /amounts has 2 entries; the tree has 3 asset slots/);
    rejects(
      () => buildSumTree([{ ...leaves[0]!, figures: { ...leaves[0]!.figures, amounts: [1n << 96n, 0n] } }], LAYOUT),
      /amounts\[0\] is 79228162514264337593543950336, not below 2\^96/,
    );
    rejects(() => buildSumTree([{ ...leaves[0]!, figures: { ...leaves[0]!.figures, written: [-1n, 0n, 0n] } }], LAYOUT), /written\[0\] is negative/);
    rejects(
      () => buildSumTree([{ ...leaves[0]!, figures: { ...leaves[0]!.figures, long: [5n, 0n, 0n], written: [5n, 0n, 0n] } }], LAYOUT),
      /instrument slot 0 is both long and written/,
    );
    rejects(() => inclusionProof(tree, 16), /outside the tree's 16 leaves/);
    rejects(() => inclusionProof(tree, 0, 5), /height 5 is not 1 to the tree's depth 4/);
    const moved = clone(inclusionProof(tree, 2));
    moved.index = 3;
    rejects(() => reach(leaves[2]!, moved), /side does not match index 3/);
  });

  it("packs positions and fails into one word (both below 2^40) and unpacks every figure by the layout", function () {
    const sums = tree.root.sums;
    const words = figureWords(sums);
    assert.equal(words.length, 3 + S + 2 * LAYOUT.nAssets + 2 * LAYOUT.nInstruments);
    assert.equal(words[0], sums.positions + (sums.fails << 40n));
    assert.deepEqual(figuresFromWords(words, LAYOUT), {
      ...sums,
      losses: [...sums.losses],
      amounts: [...sums.amounts],
      debtUnits: [...sums.debtUnits],
      long: [...sums.long],
      written: [...sums.written],
    });
    rejects(() => figuresFromWords(words.slice(1), LAYOUT), /are 17 words, got 16/);
    rejects(() => figuresFromWords([1n << 80n, ...words.slice(1)], LAYOUT), /not positions \+ fails \* 2\^40/);
  });
});
