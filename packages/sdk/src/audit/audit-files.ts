/**
 * The audit's two published files (docs/audit.md), both JSON and browser-safe to read:
 * - audit.json: the root, the public totals, the keys the proofs were made with, the chain state
 *   the operator audited (when given) and every proof of the batched tree;
 * - an inclusion proof: one account's path into its batch (hashes and sums digests only) and the
 *   Groth16 proofs from that batch up to the root, which the account's owner checks.
 * Numbers are decimal strings (figures exceed 2^53), hashes 0x-hex.
 *
 * Everything here but the proofs' public signals is what the operator wrote: the verifiers compare
 * it with the signals (the root, marketRoot, policyHash), with this machine's keys (`keys`) and
 * with the chain (`chain`), never take it on trust.
 */
import { z } from "zod";
import type { Groth16Proof } from "snarkjs";
import { InputError } from "../core/errors.ts";
import { groth16ProofSchema, INSTANCE_NAME } from "../proof-file/proof-file.ts";
import type { ZkProof } from "../prover/prove.ts";
import type { KeySource } from "../proof-file/key-source.ts";
import { AMOUNT_BITS, FIGURE_BITS, MAX_DEPTH, type AuditFigures, type FigureLayout, type InclusionProof, type SumNode } from "./merkle-sum-tree.ts";

export const AUDIT_KIND = "zks-audit";
export const INCLUSION_KIND = "zks-audit-inclusion";
/** audit.json 2: per-token figures, batch members, keys and the audited chain state. Version 1 audits are refused. */
export const AUDIT_VERSION = 2;
/** Inclusion proofs 3: the figures of audit.json 2, and the keys. */
export const INCLUSION_VERSION = 3;

export interface AuditInstances {
  batch: string;
  merge: string;
  top: string;
}

export type AuditLayout = FigureLayout;

/** The key an audit's proofs of one instance were made with: its fingerprint (src/verifier/key-hash.ts) and where it came from. */
export interface AuditKey {
  verificationKeyHash: string;
  keySource: KeySource;
}

export type AuditKeyRecords = Record<keyof AuditInstances, AuditKey>;

/**
 * A crowding audit's liquidity bounds (docs/audit.md, "Crowding"): the liquidity file's SHA-256
 * and its bounds per asset slot in quote base units, which the root proof takes as its public
 * `liquidity` inputs (`zks audit verify` checks they are these, and with --liquidity that the
 * file is this one).
 */
export interface AuditCrowding {
  liquidity: { sha256: string; bounds: bigint[] };
}

/** The chain state the operator audited: the gate's registered positions at `block`. */
export interface AuditChain {
  chainId: bigint;
  gate: string;
  block: number;
  /** The block's hash, so a verifier notices a reorganisation below it. */
  blockHash: string;
}

export interface AuditReport {
  kind: typeof AUDIT_KIND;
  version: typeof AUDIT_VERSION;
  epoch: number;
  marketRoot: bigint;
  policyHash: bigint;
  instances: AuditInstances;
  /** The keys the operator proved with, per instance; a verifier's own keys must be these. */
  keys: AuditKeyRecords;
  layout: AuditLayout;
  batchSize: number;
  fanIn: number;
  depth: number;
  root: SumNode;
  /** When the operator audited against a gate (`zks audit --rpc --gate --block`). */
  chain?: AuditChain;
  /** A crowding audit's liquidity bounds (its layout has crowding). */
  crowding?: AuditCrowding;
  /** Per level: batch proofs first, then each merge level; the last level is the root proof. */
  proofs: ZkProof[][];
  createdAt: string;
}

export interface InclusionFile {
  kind: typeof INCLUSION_KIND;
  version: typeof INCLUSION_VERSION;
  epoch: number;
  marketRoot: bigint;
  policyHash: bigint;
  instances: AuditInstances;
  keys: AuditKeyRecords;
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
const strings = (values: readonly bigint[]) => values.map(String);

/** The figures by name, as JSON (decimal strings). */
export const figuresJson = (f: AuditFigures) => ({
  positions: String(f.positions),
  fails: String(f.fails),
  collateral: String(f.collateral),
  debt: String(f.debt),
  losses: strings(f.losses),
  amounts: strings(f.amounts),
  debtUnits: strings(f.debtUnits),
  long: strings(f.long),
  written: strings(f.written),
  ...(f.crowding ? { crowding: f.crowding.map(strings) } : {}),
});
const nodeJson = (node: SumNode) => ({ hash: hex(node.hash), sums: figuresJson(node.sums) });
const chainJson = (chain: AuditChain) => ({ ...chain, chainId: String(chain.chainId) });
const crowdingJson = (crowding: AuditCrowding) => ({ liquidity: { sha256: crowding.liquidity.sha256, bounds: strings(crowding.liquidity.bounds) } });

export function auditReportJson(report: AuditReport): unknown {
  const { chain, crowding, ...rest } = report;
  return {
    ...rest,
    marketRoot: hex(report.marketRoot),
    policyHash: hex(report.policyHash),
    root: nodeJson(report.root),
    ...(chain ? { chain: chainJson(chain) } : {}),
    ...(crowding ? { crowding: crowdingJson(crowding) } : {}),
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
      path: file.merklePath.path.map((step) => ({
        siblingIsLeft: step.siblingIsLeft,
        hash: hex(step.sibling.hash),
        digest: hex(step.sibling.digest),
        parentDigest: hex(step.parentDigest),
      })),
    },
  };
}

const decimal = z.string().regex(/^\d{1,80}$/, "expected a non-negative decimal integer string");
const fieldHex = z.string().regex(/^0x[0-9a-fA-F]{1,64}$/, "expected a 0x-hex field element");
const layoutSchema = z.object({
  nAssets: z.number().int().min(1).max(64),
  nInstruments: z.number().int().min(0).max(64),
  nScenarios: z.number().int().min(1).max(1024),
  crowding: z.boolean().optional(),
});
const figuresSchema = z.object({
  positions: decimal,
  fails: decimal,
  collateral: decimal,
  debt: decimal,
  losses: z.array(decimal),
  amounts: z.array(decimal),
  debtUnits: z.array(decimal),
  long: z.array(decimal),
  written: z.array(decimal),
  crowding: z.array(z.array(decimal)).optional(),
});
const nodeSchema = z.object({ hash: fieldHex, sums: figuresSchema });
const zkProofSchema = z.object({ proof: groth16ProofSchema, publicSignals: z.array(decimal).min(1) });

const instanceName = z.string().regex(INSTANCE_NAME, "expected an instance name of circuits/instances.json (lowercase letters, digits and dashes)");
const instancesSchema = z.object({ batch: instanceName, merge: instanceName, top: instanceName });
const keySourceSchema = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("development"), contributions: z.literal(1) }),
  z.object({
    kind: z.literal("ceremony"),
    contributions: z.number().int().min(1),
    beacon: z.string(),
    transcriptSha256: z.string(),
    // The phase-1 file the ceremony built on: only a public ceremony ptau makes the key deployable.
    ptau: z.object({ power: z.number().int(), blake2b: z.string(), origin: z.enum(["user", "ceremony", "development"]) }).optional(),
  }),
]);
const keySchema = z.object({
  verificationKeyHash: z.string().regex(/^0x[0-9a-f]{64}$/, "expected 0x and 64 lowercase hex digits (keccak256 of the verification key)"),
  keySource: keySourceSchema,
});
const keysSchema = z.object({ batch: keySchema, merge: keySchema, top: keySchema });
const chainSchema = z.object({
  chainId: z.string().regex(/^\d{1,20}$/, "expected the chain id as a decimal string"),
  gate: z.string().regex(/^0x[0-9a-fA-F]{40}$/, "expected the gate's 0x-prefixed 20-byte address"),
  block: z.number().int().nonnegative(),
  blockHash: z.string().regex(/^0x[0-9a-f]{64}$/, "expected the block's 0x-prefixed 32-byte hash"),
});
const crowdingSchema = z.object({
  liquidity: z.object({
    sha256: z.string().regex(/^0x[0-9a-f]{64}$/, "expected 0x and 64 lowercase hex digits (SHA-256 of the liquidity file)"),
    bounds: z.array(decimal),
  }),
});
const olderVersion = (what: string, version: number, why: string) => ({ message: `expected version ${version} (${what} of earlier versions ${why} and are no longer read)` });

const auditSchema = z.object({
  kind: z.literal(AUDIT_KIND),
  version: z.literal(AUDIT_VERSION, olderVersion("audits", AUDIT_VERSION, "carry no per-token totals, batch members or keys")),
  epoch: z.number().int().nonnegative(),
  marketRoot: fieldHex,
  policyHash: fieldHex,
  instances: instancesSchema,
  keys: keysSchema,
  layout: layoutSchema,
  batchSize: z.number().int().min(2),
  fanIn: z.number().int().min(2),
  depth: z.number().int().min(1).max(32),
  root: nodeSchema,
  chain: chainSchema.optional(),
  crowding: crowdingSchema.optional(),
  proofs: z.array(z.array(zkProofSchema).min(1)).min(2),
  createdAt: z.string(),
});

const inclusionSchema = z.object({
  kind: z.literal(INCLUSION_KIND),
  version: z.literal(INCLUSION_VERSION, olderVersion("inclusion proofs", INCLUSION_VERSION, "belong to audits without per-token totals or keys")),
  epoch: z.number().int().nonnegative(),
  marketRoot: fieldHex,
  policyHash: fieldHex,
  instances: instancesSchema,
  keys: keysSchema,
  layout: layoutSchema,
  batchSize: z.number().int().min(2),
  fanIn: z.number().int().min(2),
  root: nodeSchema,
  merklePath: z.object({
    index: z.number().int().nonnegative(),
    path: z
      .array(z.object({ siblingIsLeft: z.boolean(), hash: fieldHex, digest: fieldHex, parentDigest: fieldHex }))
      .min(1)
      .max(32),
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

function parseNode(node: z.infer<typeof nodeSchema>, layout: AuditLayout, source: string, field: string): SumNode {
  const lengths: [keyof typeof node.sums & ("losses" | "amounts" | "debtUnits" | "long" | "written"), number, string][] = [
    ["losses", layout.nScenarios, "scenario"],
    ["amounts", layout.nAssets, "asset slot"],
    ["debtUnits", layout.nAssets, "asset slot"],
    ["long", layout.nInstruments, "instrument slot"],
    ["written", layout.nInstruments, "instrument slot"],
  ];
  for (const [name, expected, what] of lengths) {
    const got = node.sums[name].length;
    if (got !== expected) throw new InputError(source, `${field}.sums.${name}`, `expected ${expected} entries (one per ${what} of layout ${JSON.stringify(layout)}), got ${got}`);
  }
  const rows = node.sums.crowding;
  if ((rows !== undefined) !== (layout.crowding === true))
    throw new InputError(
      source,
      `${field}.sums.crowding`,
      layout.crowding ? "missing: a crowding audit's sums carry the crowding figures" : "present, but the layout has no crowding",
    );
  rows?.forEach((row, j) => {
    if (row.length !== layout.nAssets) throw new InputError(source, `${field}.sums.crowding.${j}`, `expected ${layout.nAssets} entries (one per asset slot), got ${row.length}`);
  });
  if (rows && rows.length !== layout.nScenarios)
    throw new InputError(source, `${field}.sums.crowding`, `expected ${layout.nScenarios} rows (one per scenario slot), got ${rows.length}`);
  const s = node.sums;
  const big = (values: readonly string[]) => values.map(BigInt);
  const sums: AuditFigures = {
    positions: BigInt(s.positions),
    fails: BigInt(s.fails),
    collateral: BigInt(s.collateral),
    debt: BigInt(s.debt),
    losses: big(s.losses),
    amounts: big(s.amounts),
    debtUnits: big(s.debtUnits),
    long: big(s.long),
    written: big(s.written),
    ...(rows ? { crowding: rows.map(big) } : {}),
  };
  // Positions fit the depth-32 tree, and failing ones are among them: the counts word they share
  // (figureWords) is then what the circuits hash.
  // Canonical sums: the circuits hash each sum as a field element, so x and x + k*p hash alike; a
  // sum of at most 2^MAX_DEPTH leaves stays below these bounds (each figure < 2^FIGURE_BITS, each
  // per-token amount < 2^AMOUNT_BITS), so anything at or above them is a non-canonical spelling.
  const figureBound = 1n << BigInt(FIGURE_BITS + MAX_DEPTH);
  const amountBound = 1n << BigInt(AMOUNT_BITS + MAX_DEPTH);
  const scalars = [
    ["positions", sums.positions],
    ["fails", sums.fails],
    ["collateral", sums.collateral],
    ["debt", sums.debt],
    ...sums.losses.map((v, j) => [`losses.${j}`, v] as const),
    ...(sums.crowding ?? []).flatMap((row, j) => row.map((v, i) => [`crowding.${j}.${i}`, v] as const)),
  ] as const;
  for (const [name, value] of scalars) {
    if (value >= figureBound)
      throw new InputError(
        source,
        `${field}.sums.${name}`,
        `${value} is not below 2^${FIGURE_BITS + MAX_DEPTH}, the most ${MAX_DEPTH} levels of figures sum to (a non-canonical field element?)`,
      );
  }
  for (const name of ["amounts", "debtUnits", "long", "written"] as const) {
    sums[name].forEach((value, i) => {
      if (value >= amountBound)
        throw new InputError(
          source,
          `${field}.sums.${name}.${i}`,
          `${value} is not below 2^${AMOUNT_BITS + MAX_DEPTH}, the most ${MAX_DEPTH} levels of per-token amounts sum to (a non-canonical field element?)`,
        );
    });
  }
  if (sums.positions > 1n << BigInt(MAX_DEPTH)) throw new InputError(source, `${field}.sums.positions`, `${sums.positions} positions exceed a tree of depth ${MAX_DEPTH}`);
  if (sums.fails > sums.positions) throw new InputError(source, `${field}.sums.fails`, `${sums.fails} failing positions out of ${sums.positions}`);
  return { hash: BigInt(node.hash), sums };
}

const parseZkProof = (p: { proof: unknown; publicSignals: string[] }): ZkProof => ({ proof: p.proof as Groth16Proof, publicSignals: p.publicSignals });

export function parseAuditReport(json: unknown, source: string): AuditReport {
  const data = parseWith(auditSchema, json, source);
  const { chain, crowding, ...rest } = data;
  if ((crowding !== undefined) !== (data.layout.crowding === true))
    throw new InputError(source, "crowding", data.layout.crowding ? "missing: a crowding audit records its liquidity bounds" : "present, but the layout has no crowding");
  if (crowding && crowding.liquidity.bounds.length !== data.layout.nAssets)
    throw new InputError(source, "crowding.liquidity.bounds", `expected ${data.layout.nAssets} bounds (one per asset slot), got ${crowding.liquidity.bounds.length}`);
  return {
    ...rest,
    kind: AUDIT_KIND,
    version: AUDIT_VERSION,
    marketRoot: BigInt(data.marketRoot),
    policyHash: BigInt(data.policyHash),
    root: parseNode(data.root, data.layout, source, "root"),
    ...(chain ? { chain: { ...chain, chainId: BigInt(chain.chainId) } } : {}),
    ...(crowding ? { crowding: { liquidity: { sha256: crowding.liquidity.sha256, bounds: crowding.liquidity.bounds.map(BigInt) } } } : {}),
    proofs: data.proofs.map((level) => level.map(parseZkProof)),
  };
}

export function parseInclusionFile(json: unknown, source: string): InclusionFile {
  const data = parseWith(inclusionSchema, json, source);
  return {
    ...data,
    kind: INCLUSION_KIND,
    version: INCLUSION_VERSION,
    marketRoot: BigInt(data.marketRoot),
    policyHash: BigInt(data.policyHash),
    root: parseNode(data.root, data.layout, source, "root"),
    merklePath: {
      index: data.merklePath.index,
      path: data.merklePath.path.map((step) => ({
        siblingIsLeft: step.siblingIsLeft,
        sibling: { hash: BigInt(step.hash), digest: BigInt(step.digest) },
        parentDigest: BigInt(step.parentDigest),
      })),
    },
    zkProofs: data.zkProofs.map(parseZkProof),
  };
}
