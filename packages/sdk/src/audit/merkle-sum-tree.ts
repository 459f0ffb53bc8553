/**
 * The Merkle sum tree of a protocol-wide audit (docs/audit.md). Each leaf binds one account's
 * position commitment to the figures the aggregate statements add up; each node binds both
 * children's hashes and both children's sums, and carries their total. Every figure is a
 * non-negative integer below 2^FIGURE_BITS, checked on the way in, so no sum is negative and
 * none can wrap the field (a tree of depth d sums to less than 2^(FIGURE_BITS + d)).
 *
 * Inclusion paths carry sums digests, never sums: the circuits prove the sums, so a path need not
 * reveal them. Browser-safe: a user checks their inclusion in the page or the CLI with this module.
 */
import { poseidon2, poseidon4 } from "poseidon-lite";
import { poseidonChain } from "../commitment/poseidon-chain.ts";
import { ZksError } from "../core/errors.ts";
import { SNARK_FIELD } from "../core/field.ts";

/**
 * Figures are quote units * 10^8 (values), token base units (amounts) or counts: the circuit's
 * bounds keep every figure below 2^116 (packages/circuits/audit/audit-leaf.circom), and 2^120 leaves room.
 */
export const FIGURE_BITS = 120;
/** A committed amount, debt in units or |quantity| is below 2^96 (PositionCommitment's range checks). */
export const AMOUNT_BITS = 96;
/** Depth at most 32: 4 billion accounts, and sums below 2^152, far below the field's 2^253. */
export const MAX_DEPTH = 32;
/**
 * positions and fails share one word, positions + fails * 2^COUNT_SHIFT: both sum to at most
 * 2^MAX_DEPTH < 2^40, so neither carries into the other (AuditMerge splits the word with two
 * 40-bit range checks). One word fewer keeps a 3x3x16 leaf at 31 words, two Poseidon permutations.
 */
export const COUNT_SHIFT = 40n;

/** The slots a tree's figures have: asset and instrument slots (per-token figures) and scenarios (losses). */
export interface FigureLayout {
  nAssets: number;
  nInstruments: number;
  nScenarios: number;
  /**
   * A crowding audit (docs/audit.md, "Crowding"): the figures go on with nScenarios * nAssets
   * crowding words. Absent means false, so layouts written before crowding read as they were.
   */
  crowding?: boolean;
}

/** Words of the plain figures: counts, collateral, debt, losses, amounts, debt units, long, written. */
export const plainFigureCount = (layout: FigureLayout): number => 3 + layout.nScenarios + 2 * layout.nAssets + 2 * layout.nInstruments;

/** Words in a leaf's or node's figures: the plain ones, then the crowding words of a crowding layout. */
export const figureCount = (layout: FigureLayout): number => plainFigureCount(layout) + (layout.crowding ? layout.nScenarios * layout.nAssets : 0);

/** What one account adds to the aggregate statements, all non-negative. */
export interface AuditFigures {
  /** 1 per account (0 for padding): the sums count the positions. */
  positions: bigint;
  /** Collateral value at the epoch's prices plus the derivatives' marked value when positive, quote units * 10^8. */
  collateral: bigint;
  /** Debt value plus the derivatives' marked value when negative, quote units * 10^8 (collateral - debt = equity). */
  debt: bigint;
  /** 1 when the position fails the policy on its own, else 0. */
  fails: bigint;
  /** Per grid scenario, the position's loss (gains count as 0: the aggregate can only be overstated). */
  losses: readonly bigint[];
  /** Per asset slot: the committed collateral c_i, token base units (what the gate holds for it). */
  amounts: readonly bigint[];
  /** Per asset slot: the committed debt d_i in index-scaled units (what LenderVault.debtUnitsOf(gate) counts). */
  debtUnits: readonly bigint[];
  /** Per instrument slot: max(0, q_k), the quantity held long (option tokens in custody), 10^8 units. */
  long: readonly bigint[];
  /** Per instrument slot: max(0, -q_k), the quantity written (short), 10^8 units. */
  written: readonly bigint[];
  /**
   * Crowding layouts only: [scenario slot][asset slot], an upper bound on the value of the asset the
   * threshold repair of the position's health factor would sell, to max(trigger, minHealthFactor),
   * were the scenario to happen (src/audit/crowding.ts),
   * quote units * 10^8.
   */
  crowding?: readonly (readonly bigint[])[];
}

export interface AuditLeaf {
  /** The account's position commitment (as registered with the gate). */
  commitment: bigint;
  /** The account, as a field element (its address). */
  account: bigint;
  figures: AuditFigures;
}

export interface SumNode {
  hash: bigint;
  sums: AuditFigures;
}

export interface MerkleSumTree {
  depth: number;
  layout: FigureLayout;
  /** levels[0] are the leaves (padded to 2^depth with empty leaves), levels[depth] = [root]. */
  levels: SumNode[][];
  root: SumNode;
}

/**
 * One step of an inclusion path: the sibling's hash and sums digest, which side it is on, and the
 * digest of the parent's sums. No sums: a path reveals no other account's figures. That the
 * digests are digests of non-negative sums that add up is what the audit's proofs prove (the
 * batch circuit above the leaves, merges above it); the path only places a leaf under a node.
 */
export interface InclusionStep {
  sibling: { hash: bigint; digest: bigint };
  siblingIsLeft: boolean;
  parentDigest: bigint;
}

export interface InclusionProof {
  index: number;
  path: InclusionStep[];
}

/** A tree, path or shape that does not hold together. Exit code 2 (bad input); `zks audit check` reports it as "not included" (1). */
export class AuditTreeError extends ZksError {
  constructor(message: string) {
    super(message, 2);
    this.name = "AuditTreeError";
  }
}

/** A leaf's figures: the layout's lengths, non-negative, below their bounds, one position at most. */
function checkFigures(figures: AuditFigures, layout: FigureLayout, where: string): void {
  const lengths: [string, readonly bigint[], number, string][] = [
    ["losses", figures.losses, layout.nScenarios, "scenarios"],
    ["amounts", figures.amounts, layout.nAssets, "asset slots"],
    ["debtUnits", figures.debtUnits, layout.nAssets, "asset slots"],
    ["long", figures.long, layout.nInstruments, "instrument slots"],
    ["written", figures.written, layout.nInstruments, "instrument slots"],
  ];
  for (const [name, values, expected, what] of lengths) {
    if (values.length !== expected) throw new AuditTreeError(`${where}: ${name} has ${values.length} entries; the tree has ${expected} ${what}`);
  }
  const crowding = figures.crowding;
  if ((crowding !== undefined) !== (layout.crowding === true))
    throw new AuditTreeError(`${where}: ${layout.crowding ? "no crowding figures; a crowding audit's leaves carry them" : "crowding figures in an audit without crowding"}`);
  if (crowding) {
    if (crowding.length !== layout.nScenarios) throw new AuditTreeError(`${where}: crowding has ${crowding.length} scenario rows; the tree has ${layout.nScenarios} scenarios`);
    crowding.forEach((row, j) => {
      if (row.length !== layout.nAssets) throw new AuditTreeError(`${where}: crowding[${j}] has ${row.length} entries; the tree has ${layout.nAssets} asset slots`);
    });
  }
  const limit = 1n << BigInt(FIGURE_BITS);
  const amountLimit = 1n << BigInt(AMOUNT_BITS);
  const named: [string, bigint, bigint, number][] = [
    ["positions", figures.positions, limit, FIGURE_BITS],
    ["collateral", figures.collateral, limit, FIGURE_BITS],
    ["debt", figures.debt, limit, FIGURE_BITS],
    ["fails", figures.fails, limit, FIGURE_BITS],
    ...figures.losses.map((v, j): [string, bigint, bigint, number] => [`losses[${j}]`, v, limit, FIGURE_BITS]),
    ...(["amounts", "debtUnits", "long", "written"] as const).flatMap((name) =>
      figures[name].map((v, i): [string, bigint, bigint, number] => [`${name}[${i}]`, v, amountLimit, AMOUNT_BITS]),
    ),
    ...(crowding ?? []).flatMap((row, j) => row.map((v, i): [string, bigint, bigint, number] => [`crowding[${j}][${i}]`, v, limit, FIGURE_BITS])),
  ];
  for (const [name, value, bound, bits] of named) {
    if (value < 0n) throw new AuditTreeError(`${where}: ${name} is negative (${value}); figures must be non-negative`);
    if (value >= bound) throw new AuditTreeError(`${where}: ${name} is ${value}, not below 2^${bits}`);
  }
  if (figures.positions > 1n) throw new AuditTreeError(`${where}: positions must be 0 or 1 (got ${figures.positions})`);
  if (figures.fails > figures.positions) throw new AuditTreeError(`${where}: fails must be 0, or 1 for a position (got ${figures.fails})`);
  figures.long.forEach((long, k) => {
    if (long > 0n && figures.written[k]! > 0n) throw new AuditTreeError(`${where}: instrument slot ${k} is both long and written; a quantity has one sign`);
  });
}

const COUNT_MASK = (1n << COUNT_SHIFT) - 1n;

/**
 * The plain figures as field elements in the circuit's order: counts (positions + fails * 2^40),
 * collateral, debt, losses, amounts, debt units, long, written. A leaf's hash binds these.
 */
export const plainFigureWords = (f: AuditFigures): bigint[] => [
  f.positions + (f.fails << COUNT_SHIFT),
  f.collateral,
  f.debt,
  ...f.losses,
  ...f.amounts,
  ...f.debtUnits,
  ...f.long,
  ...f.written,
];

/** All the figures as field elements in the circuit's order: the plain ones, then the crowding words scenario by scenario. */
export const figureWords = (f: AuditFigures): bigint[] => [...plainFigureWords(f), ...(f.crowding ?? []).flat()];

/** The inverse of figureWords for `layout`. */
export function figuresFromWords(words: readonly bigint[], layout: FigureLayout): AuditFigures {
  const expected = figureCount(layout);
  if (words.length !== expected) throw new AuditTreeError(`figures of ${JSON.stringify(layout)} are ${expected} words, got ${words.length}`);
  const counts = words[0]!;
  if (counts < 0n || counts >> COUNT_SHIFT > COUNT_MASK)
    throw new AuditTreeError(`the counts word ${counts} is not positions + fails * 2^${COUNT_SHIFT} with both below 2^${COUNT_SHIFT}`);
  let at = 3 + layout.nScenarios;
  const take = (n: number) => words.slice(at, (at += n));
  const losses = words.slice(3, at);
  const figures: AuditFigures = {
    positions: counts & COUNT_MASK,
    collateral: words[1]!,
    debt: words[2]!,
    fails: counts >> COUNT_SHIFT,
    losses,
    amounts: take(layout.nAssets),
    debtUnits: take(layout.nAssets),
    long: take(layout.nInstruments),
    written: take(layout.nInstruments),
  };
  return layout.crowding ? { ...figures, crowding: Array.from({ length: layout.nScenarios }, () => take(layout.nAssets)) } : figures;
}

/** Digest of a node's figures, all of them (a Poseidon chain, as packages/circuits/lib/poseidon-chain.circom). */
export const figuresDigest = (figures: AuditFigures): bigint => poseidonChain(figureWords(figures));

/**
 * Digest of a leaf's figures: the plain ones only. A leaf's crowding words are computed in the
 * batch circuit from the opened position, which binds them; the nodes above hash them with their
 * sums. (Without crowding both digests are the same.)
 */
export const leafDigest = (figures: AuditFigures): bigint => poseidonChain(plainFigureWords(figures));

/**
 * A leaf's owner hash, Poseidon(commitment, account): what an audit batch publishes per slot as
 * `members[s]` (Poseidon(0, 0) for padding), and what the verifier recomputes from the gate.
 */
export function ownerHash(commitment: bigint, account: bigint): bigint {
  for (const [name, value] of [
    ["commitment", commitment],
    ["account", account],
  ] as const) {
    if (value < 0n || value >= SNARK_FIELD) throw new AuditTreeError(`leaf: ${name} is not a field element`);
  }
  return poseidon2([commitment, account]);
}

/** leaf = Poseidon(commitment, account, digest(figures)) via Poseidon2(ownerHash(commitment, account), leafDigest(figures)). */
export function leafHash(leaf: AuditLeaf): bigint {
  return poseidon2([ownerHash(leaf.commitment, leaf.account), leafDigest(leaf.figures)]);
}

/**
 * node = Poseidon(left.hash, digest(left.sums), right.hash, digest(right.sums)): both children's
 * sums, not only their total. `digest` is figuresDigest for nodes, leafDigest when the children
 * are leaves (the same unless the layout has crowding).
 */
export function nodeHash(left: SumNode, right: SumNode, digest: (figures: AuditFigures) => bigint = figuresDigest): bigint {
  return poseidon4([left.hash, digest(left.sums), right.hash, digest(right.sums)]);
}

const addEach = (a: readonly bigint[], b: readonly bigint[]): bigint[] => a.map((x, i) => x + b[i]!);

export const addFigures = (a: AuditFigures, b: AuditFigures): AuditFigures => ({
  positions: a.positions + b.positions,
  collateral: a.collateral + b.collateral,
  debt: a.debt + b.debt,
  fails: a.fails + b.fails,
  losses: addEach(a.losses, b.losses),
  amounts: addEach(a.amounts, b.amounts),
  debtUnits: addEach(a.debtUnits, b.debtUnits),
  long: addEach(a.long, b.long),
  written: addEach(a.written, b.written),
  ...(a.crowding && b.crowding ? { crowding: a.crowding.map((row, j) => addEach(row, b.crowding![j]!)) } : {}),
});

const zeros = (n: number): bigint[] => Array.from({ length: n }, () => 0n);

export const zeroFigures = (layout: FigureLayout): AuditFigures => ({
  positions: 0n,
  collateral: 0n,
  debt: 0n,
  fails: 0n,
  losses: zeros(layout.nScenarios),
  amounts: zeros(layout.nAssets),
  debtUnits: zeros(layout.nAssets),
  long: zeros(layout.nInstruments),
  written: zeros(layout.nInstruments),
  ...(layout.crowding ? { crowding: Array.from({ length: layout.nScenarios }, () => zeros(layout.nAssets)) } : {}),
});

/** The padding leaf: no account, no figures (commitment 0 opens no position). */
export const emptyLeaf = (layout: FigureLayout): AuditLeaf => ({ commitment: 0n, account: 0n, figures: zeroFigures(layout) });

/**
 * The tree over `leaves`, in order, padded with empty leaves to 2^depth. `depth` defaults to the
 * smallest that holds them; the audit's batched trees fix it by their batch and merge sizes.
 */
export function buildSumTree(leaves: readonly AuditLeaf[], layout: FigureLayout, depth = Math.max(1, Math.ceil(Math.log2(leaves.length)))): MerkleSumTree {
  if (leaves.length === 0) throw new AuditTreeError("buildSumTree: no leaves");
  if (depth > MAX_DEPTH) throw new AuditTreeError(`buildSumTree: depth ${depth} is above ${MAX_DEPTH}`);
  if (2 ** depth < leaves.length) throw new AuditTreeError(`buildSumTree: ${leaves.length} leaves do not fit depth ${depth}`);
  const accounts = new Set<bigint>();
  // Each node's sums digest is computed once and kept beside it (nodeHash would hash each child's
  // sums again, and a node is a child once): the digests are most of the tree's cost, 2 Poseidon
  // permutations of width 17 each for a 3x3x16 layout.
  let level: SumNode[] = [];
  let digests: bigint[] = [];
  for (const [i, leaf] of leaves.entries()) {
    checkFigures(leaf.figures, layout, `leaf ${i}`);
    if (accounts.has(leaf.account)) throw new AuditTreeError(`leaf ${i}: account ${leaf.account} appears twice; one leaf per account`);
    accounts.add(leaf.account);
    const digest = leafDigest(leaf.figures);
    level.push({ hash: poseidon2([ownerHash(leaf.commitment, leaf.account), digest]), sums: leaf.figures });
    digests.push(digest);
  }
  // Padding: every empty subtree of one height is the same node, hashed once per level rather
  // than once per slot (a 10,000-account audit pads to 16,384 leaves).
  const padding = emptyLeaf(layout);
  let empty: SumNode = { hash: leafHash(padding), sums: padding.figures };
  // The empty leaf's digest covers its plain figures; every empty node's, all of them.
  let emptyDigest = leafDigest(padding.figures);
  const emptyNodeDigest = figuresDigest(padding.figures);
  const levels: SumNode[][] = [];
  for (let d = 0; ; d++) {
    const width = 2 ** (depth - d);
    const used = level.length;
    for (let i = used; i < width; i++) {
      level.push(empty);
      digests.push(emptyDigest);
    }
    levels.push(level);
    if (d === depth) break;
    const next: SumNode[] = [];
    const nextDigests: bigint[] = [];
    // Pairs with at least one used child; the rest of the next level is the empty subtree.
    for (let i = 0; i < used; i += 2) {
      const sums = addFigures(level[i]!.sums, level[i + 1]!.sums);
      next.push({ hash: poseidon4([level[i]!.hash, digests[i]!, level[i + 1]!.hash, digests[i + 1]!]), sums });
      nextDigests.push(figuresDigest(sums));
    }
    empty = { hash: poseidon4([empty.hash, emptyDigest, empty.hash, emptyDigest]), sums: empty.sums };
    emptyDigest = emptyNodeDigest;
    level = next;
    digests = nextDigests;
  }
  return { depth, layout, levels, root: level[0]! };
}

/** The path from leaf `index` up `height` levels (the whole tree by default), sibling sums left out. */
export function inclusionProof(tree: MerkleSumTree, index: number, height = tree.depth): InclusionProof {
  const leaves = tree.levels[0]!.length;
  if (!Number.isInteger(index) || index < 0 || index >= leaves) throw new AuditTreeError(`inclusionProof: index ${index} is outside the tree's ${leaves} leaves`);
  if (!Number.isInteger(height) || height < 1 || height > tree.depth) throw new AuditTreeError(`inclusionProof: height ${height} is not 1 to the tree's depth ${tree.depth}`);
  const path: InclusionStep[] = [];
  let at = index;
  for (let d = 0; d < height; d++) {
    const siblingIsLeft = at % 2 === 1;
    const sibling = tree.levels[d]![siblingIsLeft ? at - 1 : at + 1]!;
    at >>= 1;
    const digest = d === 0 ? leafDigest : figuresDigest;
    path.push({ sibling: { hash: sibling.hash, digest: digest(sibling.sums) }, siblingIsLeft, parentDigest: figuresDigest(tree.levels[d + 1]![at]!.sums) });
  }
  return { index, path };
}

/**
 * Follows `proof` from the user's own leaf (whose figures they computed themselves) and returns the
 * node it reaches: its hash and sums digest, to compare with a proof's public outputs or a root.
 * Throws an AuditTreeError when the path is malformed.
 */
export function followInclusion(leaf: AuditLeaf, proof: InclusionProof, layout: FigureLayout): { hash: bigint; digest: bigint } {
  checkFigures(leaf.figures, layout, "your leaf");
  if (proof.path.length === 0 || proof.path.length > MAX_DEPTH) throw new AuditTreeError(`the inclusion path has ${proof.path.length} steps (1 to ${MAX_DEPTH})`);
  let node = { hash: leafHash(leaf), digest: leafDigest(leaf.figures) };
  proof.path.forEach((step, d) => {
    if (step.siblingIsLeft !== (Math.floor(proof.index / 2 ** d) % 2 === 1)) throw new AuditTreeError(`step ${d}: the sibling's side does not match index ${proof.index}`);
    const [left, right] = step.siblingIsLeft ? [step.sibling, node] : [node, step.sibling];
    node = { hash: poseidon4([left.hash, left.digest, right.hash, right.digest]), digest: step.parentDigest };
  });
  return node;
}
