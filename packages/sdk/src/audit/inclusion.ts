/**
 * Per-account inclusion (docs/audit.md): the operator cuts one account's path out of the tree and
 * adds the proofs on its way up; the account's owner checks it against the published root with
 * nothing but their own position, the epoch's market, the policy and the audit circuits' keys.
 *
 * What the owner sees of others: hashes and sums digests of the subtrees beside their path, the
 * public inputs of the proofs on it (also in audit.json), never another account's figures. The
 * sums are what the proofs prove: the batch proof that its subtree's digest is that of the range-
 * checked figures of the positions it opened, each merge that its digest is that of its children's
 * sums. A merge relies on its children's proofs for their sums' ranges, so that the totals are
 * honest also needs the proofs beside the path: verifyAudit over audit.json, which anyone runs.
 * Browser-safe: the vault page runs the same check.
 */
import { marketRoot as marketRootOf } from "../commitment/market-root.ts";
import { policyHash as policyHashOf } from "../commitment/policy-hash.ts";
import type { Market, Policy, Position } from "../inputs/types.ts";
import { verifyProof } from "../verifier/verify.ts";
import { auditShape } from "./audit-shape.ts";
import type { AuditLayout, AuditReport, InclusionFile } from "./audit-files.ts";
import { INCLUSION_KIND, INCLUSION_VERSION } from "./audit-files.ts";
import { accountFigures } from "./figures.ts";
import { AuditTreeError, figuresDigest, followInclusion, inclusionProof, type AuditFigures, type AuditLeaf, type MerkleSumTree } from "./merkle-sum-tree.ts";
import { batchSignals, mergeSignals, type SubtreeSignals } from "./public-signals.ts";
import { checkAuditKeys, type AuditKeys } from "./verify-audit.ts";

type AuditOfTree = Pick<AuditReport, "epoch" | "marketRoot" | "policyHash" | "instances" | "keys" | "layout" | "batchSize" | "fanIn" | "proofs">;

/** The inclusion file of leaf `index` of `tree`, the tree `audit` proved. */
export function inclusionFile(tree: MerkleSumTree, index: number, audit: AuditOfTree): InclusionFile {
  const { epoch, marketRoot, policyHash, instances, keys, layout, batchSize, fanIn } = audit;
  const zkProofs = audit.proofs.map((level, l) => {
    const proof = level[Math.floor(index / (batchSize * fanIn ** l))];
    if (!proof) throw new AuditTreeError(`inclusionFile: leaf ${index} has no proof at level ${l}; is this the tree the audit proved?`);
    return proof;
  });
  return {
    kind: INCLUSION_KIND,
    version: INCLUSION_VERSION,
    epoch,
    marketRoot,
    policyHash,
    instances,
    keys,
    layout,
    batchSize,
    fanIn,
    root: tree.root,
    merklePath: inclusionProof(tree, index, Math.log2(batchSize)),
    zkProofs,
  };
}

/**
 * Places `leaf` under the file's root without verifying any proof: its path must lead to its
 * batch proof's outputs, each proof's outputs must be the input of the next one in the leaf's
 * slot, and the root proof's outputs must be the published root and totals. Throws an
 * AuditTreeError naming the first link that does not hold.
 */
export function locateLeaf(file: InclusionFile, leaf: AuditLeaf): void {
  const { batchSize, fanIn, zkProofs, root } = file;
  const positions = root.sums.positions;
  if (positions < 1n || positions > 2n ** 32n) throw new AuditTreeError(`the root counts ${positions} positions`);
  const shape = auditShape(Number(positions), batchSize, fanIn);
  if (zkProofs.length !== shape.proofsPerLevel.length)
    throw new AuditTreeError(`an audit of ${positions} positions has ${shape.proofsPerLevel.length} proofs from a batch to the root; the file carries ${zkProofs.length}`);
  const { index } = file.merklePath;
  if (index >= Number(positions)) throw new AuditTreeError(`leaf ${index} is beyond the audit's ${positions} positions`);
  if (file.merklePath.path.length !== Math.log2(batchSize))
    throw new AuditTreeError(`the path into a batch of ${batchSize} has ${Math.log2(batchSize)} steps; the file's has ${file.merklePath.path.length}`);

  const reached = followInclusion(leaf, file.merklePath, file.layout);
  const batch = batchSignals(zkProofs[0]!.publicSignals);
  if (reached.hash !== batch.hash || reached.digest !== batch.digest)
    throw new AuditTreeError("the path does not lead to the batch proof's subtree: this leaf (or a sibling) is not the one the audit committed to");
  if (batch.marketRoot !== file.marketRoot) throw new AuditTreeError("the batch proof is for another market than the audit's (marketRoot differs)");
  if (batch.policyHash !== file.policyHash) throw new AuditTreeError("the batch proof is for another policy than the audit's (policyHash differs)");

  let below: SubtreeSignals = batch;
  for (let l = 1; l < zkProofs.length; l++) {
    const merge = mergeSignals(zkProofs[l]!.publicSignals, fanIn);
    const slot = Math.floor(index / (batchSize * fanIn ** (l - 1))) % fanIn;
    const child = merge.children[slot]!;
    for (const name of ["hash", "digest", "firstAccount", "lastAccount"] as const) {
      if (child[name] !== below[name])
        throw new AuditTreeError(`the proof at level ${l} does not take the one below it as child ${slot} (${name} differs): the proofs are not chained`);
    }
    below = merge;
  }
  if (below.hash !== root.hash) throw new AuditTreeError("the root proof's hash is not the published root");
  if (below.digest !== figuresDigest(root.sums)) throw new AuditTreeError("the published totals are not the ones the root proof committed to");
  if (below.positions !== root.sums.positions || below.failing !== root.sums.fails)
    throw new AuditTreeError("the root proof's positions or failing count differ from the published totals");
}

export interface InclusionResult {
  /** The figures the audit counted for this account (as the owner's own position gives them). */
  figures: AuditFigures;
  /** The audit counts the position as failing the policy although the model finds it passing. */
  countedAsFailingWhilePassing: boolean;
  /** The published totals. */
  root: InclusionFile["root"];
}

/**
 * Finds the owner's leaf under the file's root: as the model computes it, or, since a prover may
 * count a passing position as failing (the circuit allows overstating failures, never
 * understating them), with fails = 1. Throws the first AuditTreeError when neither is there.
 */
export function matchLeaf(file: InclusionFile, position: Position, market: Market, policy: Policy): Omit<InclusionResult, "root"> {
  const layout: AuditLayout = file.layout;
  if (marketRootOf(market, layout) !== file.marketRoot) throw new AuditTreeError(`the audit is for another market than the one given (epoch ${file.epoch}'s marketRoot differs)`);
  if (policyHashOf(policy) !== file.policyHash) throw new AuditTreeError("the audit is for another policy than the one given (policyHash differs)");
  const { leaf } = accountFigures(position, market, policy, layout);
  try {
    locateLeaf(file, leaf);
    return { figures: leaf.figures, countedAsFailingWhilePassing: false };
  } catch (error) {
    if (leaf.figures.fails === 0n) {
      const asFailing = { ...leaf, figures: { ...leaf.figures, fails: 1n } };
      try {
        locateLeaf(file, asFailing);
        return { figures: asFailing.figures, countedAsFailingWhilePassing: true };
      } catch {
        // Not that either: report the original mismatch.
      }
    }
    throw error;
  }
}

/**
 * Checks that `position` (the owner's own file, with its salt) is counted in the audit whose root
 * `file` carries, under `market` and `policy`: its leaf is under the root (matchLeaf) and every
 * proof on the way verifies with `keys`. When `published` is given (audit.json, or a root read
 * elsewhere), the file's root must be that one. Throws an AuditTreeError saying what does not hold.
 */
export async function checkInclusion(
  file: InclusionFile,
  position: Position,
  market: Market,
  policy: Policy,
  keys: AuditKeys,
  published?: { hash: bigint },
  source = "the inclusion proof",
): Promise<InclusionResult> {
  // Another setup's keys say nothing about these proofs: an error (AuditKeyError), not "not included".
  checkAuditKeys(file.keys, keys, file.instances, source);
  if (published && published.hash !== file.root.hash) throw new AuditTreeError("the inclusion proof's root is not the published audit root");
  const found = matchLeaf(file, position, market, policy);
  const last = file.zkProofs.length - 1;
  for (const [l, zkProof] of file.zkProofs.entries()) {
    const key = l === 0 ? keys.batch : l === last ? keys.top : keys.merge;
    if (!(await verifyProof(key, zkProof)))
      throw new AuditTreeError(`${l === 0 ? "your batch's proof" : l === last ? "the root proof" : `the merge proof at level ${l}`} does not verify`);
  }
  return { ...found, root: file.root };
}
