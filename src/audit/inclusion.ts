/**
 * Per-account inclusion (docs/audit.md): the operator cuts one account's path out of the tree;
 * the account's owner checks it against the published root with nothing but their own position,
 * the epoch's market and the policy. Browser-safe: the vault page runs the same check.
 */
import { marketRoot as marketRootOf } from "../commitment/market-root.ts";
import { policyHash as policyHashOf } from "../commitment/policy-hash.ts";
import type { Market, Policy, Position } from "../inputs/types.ts";
import { accountFigures } from "./figures.ts";
import type { AuditLayout, AuditReport, InclusionFile } from "./audit-files.ts";
import { INCLUSION_KIND } from "./audit-files.ts";
import { AuditTreeError, inclusionProof, verifyInclusion, type AuditFigures, type MerkleSumTree } from "./merkle-sum-tree.ts";

export function inclusionFile(tree: MerkleSumTree, index: number, audit: Pick<AuditReport, "epoch" | "marketRoot" | "policyHash" | "layout">): InclusionFile {
  return {
    kind: INCLUSION_KIND,
    version: 1,
    epoch: audit.epoch,
    marketRoot: audit.marketRoot,
    policyHash: audit.policyHash,
    layout: audit.layout,
    root: tree.root,
    proof: inclusionProof(tree, index),
  };
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
 * Checks that `position` (the owner's own file, with its salt) is counted in the audit whose root
 * `file` carries, under `market` and `policy`. When `published` is given (audit.json, or a root
 * read elsewhere), the file's root must be that one. Throws an AuditTreeError saying what does not
 * match.
 */
export function checkInclusion(file: InclusionFile, position: Position, market: Market, policy: Policy, published?: { hash: bigint }): InclusionResult {
  const layout: AuditLayout = file.layout;
  if (marketRootOf(market, layout) !== file.marketRoot) throw new AuditTreeError(`the audit is for another market than the one given (epoch ${file.epoch}'s marketRoot differs)`);
  if (policyHashOf(policy) !== file.policyHash) throw new AuditTreeError("the audit is for another policy than the one given (policyHash differs)");
  if (published && published.hash !== file.root.hash) throw new AuditTreeError("the inclusion proof's root is not the published audit root");
  const { leaf } = accountFigures(position, market, policy, layout);
  try {
    verifyInclusion(file.root, leaf, file.proof, layout.nScenarios);
    return { figures: leaf.figures, countedAsFailingWhilePassing: false, root: file.root };
  } catch (error) {
    // A prover may count a passing position as failing (the circuit allows overstating failures,
    // never understating them): say so rather than "not included".
    if (leaf.figures.fails === 0n) {
      const asFailing = { ...leaf, figures: { ...leaf.figures, fails: 1n } };
      try {
        verifyInclusion(file.root, asFailing, file.proof, layout.nScenarios);
        return { figures: asFailing.figures, countedAsFailingWhilePassing: true, root: file.root };
      } catch {
        // Not that either: report the original mismatch.
      }
    }
    throw error;
  }
}
