/**
 * The audit proofs' public signals by name. Their positions are generated from
 * packages/circuits/instances.json (`templates.AuditBatch`, `templates.AuditMerge`).
 */
import { auditBatchSignalLayout, auditBatchSignalNames, auditMergeCrowdingSignalLayout, auditMergeCrowdingSignalNames, auditMergeSignalNames } from "../core/signals.generated.ts";

export interface SubtreeSignals {
  hash: bigint;
  digest: bigint;
  firstAccount: bigint;
  lastAccount: bigint;
  positions: bigint;
  failing: bigint;
}

export interface BatchSignals extends SubtreeSignals {
  marketRoot: bigint;
  policyHash: bigint;
  /** Per slot, Poseidon(commitment, account) (Poseidon(0, 0) for padding): compared with the gate's state. */
  members: bigint[];
}

export interface MergeSignals extends SubtreeSignals {
  children: { hash: bigint; digest: bigint; firstAccount: bigint; lastAccount: bigint }[];
  /** The root of a crowding audit: each asset slot's liquidity bound (quote base units); else empty. */
  liquidity: bigint[];
}

/** The public signal names of an AuditBatch instance of `batchSize` slots. */
export const batchSignalNames = (batchSize: number): string[] => auditBatchSignalNames(batchSize);

/**
 * The public signal names of an AuditMerge instance of `fanIn` children; `liquiditySlots` is
 * nAssets for the root of a crowding audit, else 0.
 */
export const mergeSignalNames = (fanIn: number, liquiditySlots = 0): string[] =>
  // AuditMergeCrowding's signals are AuditMerge's with the root's liquidity inputs last (none below the root).
  liquiditySlots > 0 ? auditMergeCrowdingSignalNames(fanIn, liquiditySlots, 1) : auditMergeSignalNames(fanIn);

/** An AuditBatch proof's public signals; its slots are the members after the fixed signals. */
export function batchSignals(publicSignals: readonly string[]): BatchSignals {
  const s = publicSignals.map(BigInt);
  const l = auditBatchSignalLayout(Math.max(0, s.length - auditBatchSignalLayout(0).count));
  return {
    hash: s[l.hash]!,
    digest: s[l.digest]!,
    firstAccount: s[l.firstAccount]!,
    lastAccount: s[l.lastAccount]!,
    marketRoot: s[l.marketRoot]!,
    policyHash: s[l.policyHash]!,
    positions: s[l.positions]!,
    failing: s[l.failing]!,
    members: s.slice(l.members, l.count),
  };
}

/**
 * An AuditMerge proof's public signals, for an instance of `fanIn` children; `liquiditySlots` is
 * nAssets for the root of a crowding audit (its liquidity inputs come last), else 0.
 */
export function mergeSignals(publicSignals: readonly string[], fanIn: number, liquiditySlots = 0): MergeSignals {
  const s = publicSignals.map(BigInt);
  // AuditMerge's layout is AuditMergeCrowding's with no liquidity inputs (top 0).
  const l = auditMergeCrowdingSignalLayout(fanIn, liquiditySlots, liquiditySlots > 0 ? 1 : 0);
  return {
    hash: s[l.hash]!,
    digest: s[l.digest]!,
    firstAccount: s[l.firstAccount]!,
    lastAccount: s[l.lastAccount]!,
    positions: s[l.positions]!,
    failing: s[l.failing]!,
    children: Array.from({ length: fanIn }, (_, c) => ({
      hash: s[l.childHash + c]!,
      digest: s[l.childDigest + c]!,
      firstAccount: s[l.childFirst + c]!,
      lastAccount: s[l.childLast + c]!,
    })),
    liquidity: s.slice(l.liquidity, l.liquidity + l.liquiditySlots),
  };
}
