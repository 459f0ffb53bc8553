/**
 * Verifies a published audit (audit.json) end to end, off-chain: every Groth16 proof, and the
 * chaining by root that makes them one statement (docs/audit.md). Browser-safe. Completeness
 * against the gate is src/audit/completeness.ts, run on the proofs verified here.
 */
import type { VerificationKey } from "snarkjs";
import { ZksError } from "../core/errors.ts";
import { verificationKeyHash } from "../verifier/key-hash.ts";
import { verifyProof } from "../verifier/verify.ts";
import { auditShape } from "./audit-shape.ts";
import type { AuditInstances, AuditKeyRecords, AuditReport } from "./audit-files.ts";
import { emptyDigest, emptySubtree } from "./empty-subtree.ts";
import { crowdingStatements, type CrowdingStatements } from "./crowding.ts";
import { figuresDigest, type AuditFigures } from "./merkle-sum-tree.ts";
import { batchSignals, mergeSignals, type SubtreeSignals } from "./public-signals.ts";

/** An audit that does not verify: names the proof and what is wrong. Exit code 1 (a failed verification). */
export class AuditVerificationError extends ZksError {
  constructor(message: string) {
    super(message, 1);
    this.name = "AuditVerificationError";
  }
}

export interface AuditKeys {
  batch: VerificationKey;
  merge: VerificationKey;
  top: VerificationKey;
}

/**
 * The keys at hand are not the ones a file's proofs were made with. Exit code 3 (setup): under
 * another key a proof means nothing, so this is never reported as "invalid"; the verifier needs
 * the audit's keys (a ceremony's finalized zkey, `zks setup --zkey`).
 */
export class AuditKeyError extends ZksError {
  constructor(message: string) {
    super(message, 3);
    this.name = "AuditKeyError";
  }
}

/** Checks that `keys` are the keys `recorded` names (by fingerprint, src/verifier/key-hash.ts), naming the first that is not. */
export function checkAuditKeys(recorded: AuditKeyRecords, keys: AuditKeys, instances: AuditInstances, source: string): void {
  for (const role of ["batch", "merge", "top"] as const) {
    const have = verificationKeyHash(keys[role]);
    const want = recorded[role].verificationKeyHash;
    if (have !== want) {
      throw new AuditKeyError(
        `${source}: keys.${role}.verificationKeyHash: the ${role} proofs were made with key ${want}, but the key of ${instances[role]} here is ${have}: verify with the audit's own keys (its ${recorded[role].keySource.kind} setup), not another setup's`,
      );
    }
  }
}

export interface AuditVerdict {
  positions: bigint;
  failing: bigint;
  proofs: number;
  /** The root's sums: what the root proof's statements are about. */
  totals: AuditFigures;
  /** A crowding audit: the bounds the root proof proved the crowding within (its public inputs), and the statements on the totals. */
  crowding?: { liquidity: bigint[]; sha256: string; statements: CrowdingStatements; fileChecked: boolean };
}

export interface VerifyAuditOptions {
  /** For messages about the keys: the file the report came from. */
  source?: string;
  /** Checked against the batches' marketRoot / policyHash when given (e.g. from the chain). */
  marketRoot?: bigint;
  policyHash?: bigint;
  /**
   * A crowding audit's liquidity file, as the verifier has it (`zks audit verify --liquidity`):
   * its SHA-256 and bounds per asset slot must be the ones audit.json records, which the root
   * proof's public inputs must be in any case.
   */
  liquidity?: { sha256: string; bounds: readonly bigint[]; source: string };
  /** Asset names for messages (the market's symbols), when known. */
  assetNames?: readonly string[];
  onProgress?: (verified: number, total: number) => void;
}

const where = (level: number, index: number, levels: number): string =>
  level === 0 ? `batch proof ${index}` : level === levels - 1 ? "the root proof" : `merge proof ${index} of level ${level}`;

export async function verifyAudit(report: AuditReport, keys: AuditKeys, options: VerifyAuditOptions = {}): Promise<AuditVerdict> {
  checkAuditKeys(report.keys, keys, report.instances, options.source ?? "audit.json");
  const layout = report.layout;
  const positions = report.root.sums.positions;
  if (positions < 1n || positions > 2n ** 32n) throw new AuditVerificationError(`the root counts ${positions} positions`);
  let shape;
  try {
    shape = auditShape(Number(positions), report.batchSize, report.fanIn);
  } catch (error) {
    throw new AuditVerificationError(`the audit's shape is impossible: ${(error as Error).message}`);
  }
  if (shape.depth !== report.depth)
    throw new AuditVerificationError(
      `depth ${report.depth} does not match ${positions} positions in batches of ${report.batchSize} merged ${report.fanIn} at a time (depth ${shape.depth})`,
    );
  if (report.proofs.length !== shape.proofsPerLevel.length)
    throw new AuditVerificationError(`expected ${shape.proofsPerLevel.length} levels of proofs, found ${report.proofs.length}`);
  report.proofs.forEach((level, l) => {
    if (level.length !== shape.proofsPerLevel[l]) throw new AuditVerificationError(`level ${l} holds ${level.length} proofs; ${shape.proofsPerLevel[l]} expected`);
  });

  const total = shape.proofsPerLevel.reduce((a, b) => a + b, 0);
  let verified = 0;
  const levels = report.proofs.length;
  let below: SubtreeSignals[] = [];
  let rootLiquidity: bigint[] = [];
  for (const [l, level] of report.proofs.entries()) {
    const key = l === 0 ? keys.batch : l === levels - 1 ? keys.top : keys.merge;
    const current: SubtreeSignals[] = [];
    for (const [i, zkProof] of level.entries()) {
      if (zkProof.publicSignals.length !== key.nPublic)
        throw new AuditVerificationError(`${where(l, i, levels)} has ${zkProof.publicSignals.length} public signals; its instance has ${key.nPublic}`);
      if (!(await verifyProof(key, zkProof))) throw new AuditVerificationError(`${where(l, i, levels)} does not verify`);
      options.onProgress?.(++verified, total);
      if (l === 0) {
        const batch = batchSignals(zkProof.publicSignals);
        if (batch.marketRoot !== report.marketRoot) throw new AuditVerificationError(`${where(l, i, levels)} is for another market (marketRoot differs from the audit's)`);
        if (batch.policyHash !== report.policyHash) throw new AuditVerificationError(`${where(l, i, levels)} is for another policy (policyHash differs from the audit's)`);
        current.push(batch);
        continue;
      }
      const merge = mergeSignals(zkProof.publicSignals, report.fanIn, l === levels - 1 && layout.crowding ? layout.nAssets : 0);
      if (l === levels - 1) rootLiquidity = merge.liquidity;
      const empty = emptySubtree(shape.heights[l - 1]!, layout);
      merge.children.forEach((child, c) => {
        const proven = below[i * report.fanIn + c];
        const expected = proven ?? { hash: empty.hash, digest: emptyDigest(layout), firstAccount: 0n, lastAccount: 0n };
        for (const name of ["hash", "digest", "firstAccount", "lastAccount"] as const) {
          if (child[name] !== expected[name]) {
            throw new AuditVerificationError(
              `${where(l, i, levels)}: child ${c}'s ${name} is not ${proven ? `the output of ${where(l - 1, i * report.fanIn + c, levels)}` : "that of an empty subtree"}; the proofs are not chained`,
            );
          }
        }
      });
      current.push(merge);
    }
    below = current;
  }

  const top = below[0]!;
  if (top.hash !== report.root.hash) throw new AuditVerificationError("the root proof's hash differs from the published root");
  if (top.digest !== figuresDigest(report.root.sums)) throw new AuditVerificationError("the published root sums are not the ones the root proof committed to");
  if (options.marketRoot !== undefined && options.marketRoot !== report.marketRoot)
    throw new AuditVerificationError("the audit is for another market than the one given (marketRoot)");
  if (options.policyHash !== undefined && options.policyHash !== report.policyHash)
    throw new AuditVerificationError("the audit is for another policy than the one given (policyHash)");
  const crowding = layout.crowding ? checkCrowding(report, rootLiquidity, options) : undefined;
  return { positions: top.positions, failing: top.failing, proofs: total, totals: report.root.sums, ...(crowding ? { crowding } : {}) };
}

/**
 * A crowding audit's bounds: the root proof proved the crowding sums within its public
 * `liquidity` inputs, so those must be the bounds audit.json records (an operator proving against
 * higher bounds than they publish proves less than they claim), and, given the liquidity file,
 * the file must be the one recorded (its SHA-256) with the same bounds.
 */
function checkCrowding(report: AuditReport, proven: readonly bigint[], options: VerifyAuditOptions): NonNullable<AuditVerdict["crowding"]> {
  const recorded = report.crowding;
  if (!recorded) throw new AuditVerificationError("a crowding audit without its liquidity bounds (audit.json's crowding)");
  const name = (i: number) => options.assetNames?.[i] ?? `asset slot ${i}`;
  recorded.liquidity.bounds.forEach((bound, i) => {
    if (proven[i] !== bound)
      throw new AuditVerificationError(
        `the root proof's liquidity bound for ${name(i)} is ${proven[i]}, not the ${bound} audit.json records: the crowding was proven against other bounds`,
      );
  });
  const file = options.liquidity;
  if (file) {
    if (file.sha256 !== recorded.liquidity.sha256)
      throw new AuditVerificationError(
        `${file.source} is not the liquidity file the audit was proven against (its SHA-256 is ${file.sha256}; audit.json records ${recorded.liquidity.sha256})`,
      );
    file.bounds.forEach((bound, i) => {
      if ((recorded.liquidity.bounds[i] ?? 0n) !== bound)
        throw new AuditVerificationError(`${file.source}: the bound for ${name(i)} is ${bound}, but audit.json records ${recorded.liquidity.bounds[i]}`);
    });
  }
  const statements = crowdingStatements(report.root.sums, recorded.liquidity.bounds);
  // The root proof proved these; totals over a bound here would mean the published sums are not the proven ones (checked above).
  if (!statements.holds) throw new AuditVerificationError("the published crowding totals exceed the bounds the root proof proved them within");
  return { liquidity: [...recorded.liquidity.bounds], sha256: recorded.liquidity.sha256, statements, fileChecked: file !== undefined };
}
