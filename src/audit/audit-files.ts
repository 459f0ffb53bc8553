/**
 * The audit's two published files (docs/audit.md), both JSON and browser-safe to read:
 * - audit.json: the root, the public totals and every proof of the batched tree;
 * - an inclusion proof: one account's path into its batch (hashes and sums digests only) and the
 *   Groth16 proofs from that batch up to the root, which the account's owner checks.
 * Numbers are decimal strings (figures exceed 2^53), hashes 0x-hex.
 */
import { z } from "zod";
import type { Groth16Proof } from "snarkjs";
import { InputError } from "../core/errors.ts";
import { groth16ProofSchema } from "../proof-file/proof-file.ts";
import type { ZkProof } from "../prover/prove.ts";
import { figureWords, figuresFromWords, type AuditFigures, type InclusionProof, type SumNode } from "./merkle-sum-tree.ts";

export const AUDIT_KIND = "zks-audit";
export const INCLUSION_KIND = "zks-audit-inclusion";

export interface AuditInstances {
  batch: string;
  merge: string;
  top: string;
}

export interface AuditLayout {
  nAssets: number;
  nInstruments: number;
  nScenarios: number;
}

export interface AuditReport {
  kind: typeof AUDIT_KIND;
  version: 1;
  epoch: number;
  marketRoot: bigint;
  policyHash: bigint;
  instances: AuditInstances;
  layout: AuditLayout;
  batchSize: number;
  fanIn: number;
  depth: number;
  root: SumNode;
  /** Per level: batch proofs first, then each merge level; the last level is the root proof. */
  proofs: ZkProof[][];
  createdAt: string;
}

export interface InclusionFile {
  kind: typeof INCLUSION_KIND;
  version: 2;
  epoch: number;
  marketRoot: bigint;
  policyHash: bigint;
  instances: AuditInstances;
  layout: AuditLayout;
  batchSize: number;
  fanIn: number;
  /** The published root and totals. */
  root: SumNode;
  /** The leaf's path up to its batch's root (log2(batchSize) steps): no sums, only digests. */
  merklePath: InclusionProof;
  /** The proofs on the way up: the leaf's batch proof, then one merge proof per level, the last being the root proof. */
  zkProofs: ZkProof[];
}

const hex = (value: bigint): string => `0x${value.toString(16).padStart(64, "0")}`;
const figuresJson = (f: AuditFigures) => figureWords(f).map(String);
const nodeJson = (node: SumNode) => ({ hash: hex(node.hash), sums: figuresJson(node.sums) });

export function auditReportJson(report: AuditReport): unknown {
  return {
    ...report,
    marketRoot: hex(report.marketRoot),
    policyHash: hex(report.policyHash),
    root: nodeJson(report.root),
  };
}

export function inclusionFileJson(file: InclusionFile): unknown {
  return {
    ...file,
    marketRoot: hex(file.marketRoot),
    policyHash: hex(file.policyHash),
    root: nodeJson(file.root),
    merklePath: {
      index: file.merklePath.index,
      path: file.merklePath.path.map((step) => ({ siblingIsLeft: step.siblingIsLeft, hash: hex(step.sibling.hash), digest: hex(step.sibling.digest), parentDigest: hex(step.parentDigest) })),
    },
  };
}

const decimal = z.string().regex(/^\d{1,80}$/, "expected a non-negative decimal integer string");
const fieldHex = z.string().regex(/^0x[0-9a-fA-F]{1,64}$/, "expected a 0x-hex field element");
const layoutSchema = z.object({ nAssets: z.number().int().min(1).max(64), nInstruments: z.number().int().min(0).max(64), nScenarios: z.number().int().min(1).max(1024) });
const nodeSchema = z.object({ hash: fieldHex, sums: z.array(decimal).min(5) });
const zkProofSchema = z.object({ proof: groth16ProofSchema, publicSignals: z.array(decimal).min(1) });

const instancesSchema = z.object({ batch: z.string().min(1), merge: z.string().min(1), top: z.string().min(1) });

const auditSchema = z.object({
  kind: z.literal(AUDIT_KIND),
  version: z.literal(1),
  epoch: z.number().int().nonnegative(),
  marketRoot: fieldHex,
  policyHash: fieldHex,
  instances: instancesSchema,
  layout: layoutSchema,
  batchSize: z.number().int().min(2),
  fanIn: z.number().int().min(2),
  depth: z.number().int().min(1).max(32),
  root: nodeSchema,
  proofs: z.array(z.array(zkProofSchema).min(1)).min(2),
  createdAt: z.string(),
});

const inclusionSchema = z.object({
  kind: z.literal(INCLUSION_KIND),
  version: z.literal(2, { message: "expected version 2 (inclusion proofs of version 1 carried sibling sums and are no longer read)" }),
  epoch: z.number().int().nonnegative(),
  marketRoot: fieldHex,
  policyHash: fieldHex,
  instances: instancesSchema,
  layout: layoutSchema,
  batchSize: z.number().int().min(2),
  fanIn: z.number().int().min(2),
  root: nodeSchema,
  merklePath: z.object({
    index: z.number().int().nonnegative(),
    path: z.array(z.object({ siblingIsLeft: z.boolean(), hash: fieldHex, digest: fieldHex, parentDigest: fieldHex })).min(1).max(32),
  }),
  zkProofs: z.array(zkProofSchema).min(2).max(32),
});

function parseWith<T extends z.ZodTypeAny>(schema: T, json: unknown, source: string): z.infer<T> {
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new InputError(source, issue.path.join("."), issue.message);
  }
  return parsed.data;
}

function parseNode(node: { hash: string; sums: string[] }, nScenarios: number, source: string, field: string): SumNode {
  if (node.sums.length !== 4 + nScenarios) throw new InputError(source, `${field}.sums`, `expected ${4 + nScenarios} figures (positions, collateral, debt, fails and ${nScenarios} scenario losses), got ${node.sums.length}`);
  return { hash: BigInt(node.hash), sums: figuresFromWords(node.sums.map(BigInt)) };
}

const parseZkProof = (p: { proof: unknown; publicSignals: string[] }): ZkProof => ({ proof: p.proof as Groth16Proof, publicSignals: p.publicSignals });

export function parseAuditReport(json: unknown, source: string): AuditReport {
  const data = parseWith(auditSchema, json, source);
  return {
    ...data,
    kind: AUDIT_KIND,
    version: 1,
    marketRoot: BigInt(data.marketRoot),
    policyHash: BigInt(data.policyHash),
    root: parseNode(data.root, data.layout.nScenarios, source, "root"),
    proofs: data.proofs.map((level) => level.map(parseZkProof)),
  };
}

export function parseInclusionFile(json: unknown, source: string): InclusionFile {
  const data = parseWith(inclusionSchema, json, source);
  return {
    ...data,
    kind: INCLUSION_KIND,
    version: 2,
    marketRoot: BigInt(data.marketRoot),
    policyHash: BigInt(data.policyHash),
    root: parseNode(data.root, data.layout.nScenarios, source, "root"),
    merklePath: {
      index: data.merklePath.index,
      path: data.merklePath.path.map((step) => ({ siblingIsLeft: step.siblingIsLeft, sibling: { hash: BigInt(step.hash), digest: BigInt(step.digest) }, parentDigest: BigInt(step.parentDigest) })),
    },
    zkProofs: data.zkProofs.map(parseZkProof),
  };
}
