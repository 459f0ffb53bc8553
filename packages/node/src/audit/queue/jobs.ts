/**
 * The audit as BullMQ jobs (docs/audit.md, "Distributed proving"): one job per proof, in one flow
 * that mirrors the tree (the root proof is the flow's root job, its children the merges below, the
 * batches its leaves), so that a merge runs only once its children have completed.
 *
 * Each job carries its whole circuit input, so a worker needs no book, market or policy: only
 * the keys. A merge's input comes from the reference model (auditProofInput), not from its
 * children's results; the flow only orders the work.
 */
import { createHash } from "node:crypto";
import type { FlowJob } from "bullmq";
import type { CircuitSignals } from "snarkjs";
import { z } from "zod";
import { SNARK_FIELD } from "@zk-solvency/sdk/core";
import type { ZkProof } from "@zk-solvency/sdk/prover";
import { auditLevelInstance, auditProofInput, type PreparedAudit } from "../run-audit.ts";

export const JOB_KIND = "zks-audit-proof";
export const JOB_VERSION = 1;

/** Failed attempts before a job fails for good (a crash, a lost connection; not an unprovable input, which fails at once). */
export const JOB_ATTEMPTS = 3;

/** How a worker's failure reason starts when the circuit rejects the job's input (an UnrecoverableError: not retried). */
export const UNPROVABLE = "unprovable: ";
export const unprovableReason = (detail: string): string => `${UNPROVABLE}${detail}`;

/** A circuit input as JSON: every number a decimal string, arrays nested as in the circuit. */
export type EncodedSignal = string | EncodedSignal[];

export interface AuditJobData {
  kind: typeof JOB_KIND;
  version: typeof JOB_VERSION;
  auditId: string;
  level: number;
  index: number;
  instance: string;
  /** The fingerprint of the key the coordinator verifies with: a worker with another key refuses the job. */
  verificationKeyHash: string;
  input: Record<string, EncodedSignal>;
}

/** What a worker returns for a job. Only `proof` and `publicSignals` are used, after the coordinator verifies them. */
export interface AuditJobResult extends ZkProof {
  prover: string;
  witness: string;
  ms: number;
  /** hostname/pid of the worker process. */
  worker: string;
}

export interface AuditJobRef {
  id: string;
  level: number;
  index: number;
}

/**
 * An audit's id: the first 16 hex digits of sha256 over what fixes every proof (the instances,
 * their keys, the market root, the policy hash and the tree's root, which commits to every leaf).
 * The same book, market, policy and keys give the same id, hence the same job ids: a re-run finds
 * its jobs and resumes.
 */
export function auditId(prepared: PreparedAudit): string {
  const hex = (value: bigint) => `0x${value.toString(16)}`;
  const fixed = {
    instances: prepared.instances,
    keys: { batch: prepared.keys.batch.verificationKeyHash, merge: prepared.keys.merge.verificationKeyHash, top: prepared.keys.top.verificationKeyHash },
    marketRoot: hex(prepared.marketRoot),
    policyHash: hex(prepared.policyHash),
    root: hex(prepared.tree.root.hash),
  };
  return createHash("sha256").update(JSON.stringify(fixed)).digest("hex").slice(0, 16);
}

/** `<auditId>.<level>.<index>`: BullMQ refuses ':' in custom ids (its key separator) and integer-like ones. */
export const auditJobId = (id: string, level: number, index: number): string => `${id}.${level}.${index}`;

/** Every job of the audit, batches first, the root proof last. */
export function auditJobs(prepared: PreparedAudit, id: string): AuditJobRef[] {
  return prepared.shape.proofsPerLevel.flatMap((count, level) => Array.from({ length: count }, (_, index) => ({ id: auditJobId(id, level, index), level, index })));
}

const roleOf = (prepared: PreparedAudit, level: number): "batch" | "merge" | "top" =>
  level === 0 ? "batch" : level === prepared.shape.proofsPerLevel.length - 1 ? "top" : "merge";

/** The data of job (level, index). */
export function auditJobData(prepared: PreparedAudit, id: string, level: number, index: number): AuditJobData {
  return {
    kind: JOB_KIND,
    version: JOB_VERSION,
    auditId: id,
    level,
    index,
    instance: auditLevelInstance(prepared, level),
    verificationKeyHash: prepared.keys[roleOf(prepared, level)].verificationKeyHash,
    input: encodeSignals(auditProofInput(prepared, level, index)),
  };
}

/**
 * The flow: the root proof's job, whose children are the jobs of the merges below it, down to
 * the batches. Attempts and backoff are for failures (a worker's crash, a lost connection); a
 * worker that dies holding a job does not fail it: its lock expires and another worker takes it.
 */
export function auditFlow(prepared: PreparedAudit, id: string, queueName: string): FlowJob {
  const { shape, fanIn } = prepared;
  const node = (level: number, index: number): FlowJob => {
    const below = level === 0 ? [] : Array.from({ length: fanIn }, (_, c) => index * fanIn + c).filter((child) => child < shape.proofsPerLevel[level - 1]!);
    return {
      name: roleOf(prepared, level),
      queueName,
      data: auditJobData(prepared, id, level, index),
      opts: { jobId: auditJobId(id, level, index), attempts: JOB_ATTEMPTS, backoff: { type: "exponential", delay: 2_000 } },
      ...(below.length > 0 ? { children: below.map((child) => node(level - 1, child)) } : {}),
    };
  };
  return node(shape.proofsPerLevel.length - 1, 0);
}

/** bigint (and number) leaves as decimal strings: JSON has no bigints. */
export function encodeSignals(signals: CircuitSignals): Record<string, EncodedSignal> {
  const encode = (value: unknown, path: string): EncodedSignal => {
    if (typeof value === "bigint" || typeof value === "number") return value.toString();
    if (typeof value === "string" && /^\d+$/.test(value)) return value;
    if (Array.isArray(value)) return value.map((v, i) => encode(v, `${path}[${i}]`));
    throw new Error(`circuit input ${path}: not a number (${typeof value})`);
  };
  return Object.fromEntries(Object.entries(signals).map(([name, value]) => [name, encode(value, name)]));
}

/** The inverse of encodeSignals; throws naming the signal when a value is not a field element. */
export function decodeSignals(input: unknown): CircuitSignals {
  if (typeof input !== "object" || input === null || Array.isArray(input)) throw new Error("input: expected an object of signals");
  const decode = (value: unknown, path: string): unknown => {
    if (typeof value === "string" && /^\d{1,78}$/.test(value) && BigInt(value) < SNARK_FIELD) return BigInt(value);
    if (Array.isArray(value)) return value.map((v, i) => decode(v, `${path}[${i}]`));
    throw new Error(`input.${path}: expected a field element as a decimal string, or an array of them`);
  };
  return Object.fromEntries(Object.entries(input).map(([name, value]) => [name, decode(value, name)])) as CircuitSignals;
}

const jobDataSchema = z.object({
  kind: z.literal(JOB_KIND),
  version: z.literal(JOB_VERSION),
  auditId: z.string().regex(/^[0-9a-f]{16}$/),
  level: z.number().int().min(0).max(32),
  index: z.number().int().min(0),
  instance: z.string().regex(/^[a-z0-9-]{1,100}$/),
  verificationKeyHash: z.string().regex(/^0x[0-9a-f]{64}$/),
  input: z.record(z.string(), z.unknown()),
});

/** A job's data as a worker reads it: checked, with its input decoded. Throws naming the problem. */
export function parseJobData(data: unknown, jobId: string | undefined): Omit<AuditJobData, "input"> & { input: CircuitSignals } {
  const parsed = jobDataSchema.safeParse(data);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new Error(`not an audit proof job (${issue.path.join(".") || "data"}: ${issue.message})`);
  }
  const d = parsed.data;
  if (jobId !== auditJobId(d.auditId, d.level, d.index)) throw new Error(`its data is for job ${auditJobId(d.auditId, d.level, d.index)}`);
  return { ...d, kind: JOB_KIND, version: JOB_VERSION, input: decodeSignals(d.input) };
}

// BN254's base field: a proof's coordinates must be below it (snarkjs would silently reduce
// larger ones, and the contracts' pairing precompile refuses them), as proof files require.
const BN254_BASE_FIELD = 21888242871839275222246405745257275088696311157297823662689037894645226208583n;
const coordinate = z
  .string()
  .regex(/^\d{1,78}$/)
  .refine((text) => BigInt(text) < BN254_BASE_FIELD, "a coordinate at or above the BN254 base field");
const fieldElement = z
  .string()
  .regex(/^\d{1,78}$/)
  .refine((text) => BigInt(text) < SNARK_FIELD, "a public signal at or above the scalar field");
const resultSchema = z.object({
  proof: z.object({
    pi_a: z.tuple([coordinate, coordinate, z.literal("1")]),
    pi_b: z.tuple([z.tuple([coordinate, coordinate]), z.tuple([coordinate, coordinate]), z.tuple([z.literal("1"), z.literal("0")])]),
    pi_c: z.tuple([coordinate, coordinate, z.literal("1")]),
    protocol: z.literal("groth16"),
    curve: z.literal("bn128"),
  }),
  publicSignals: z.array(fieldElement).min(1).max(4096),
  prover: z.string().optional(),
  witness: z.string().optional(),
  ms: z.number().optional(),
  worker: z.string().optional(),
});

/**
 * A name a worker reports about itself (hostname/pid, its prover), which reaches the terminal and
 * --json: only letters, digits and `_.-/:@` kept, at most `max` characters, so that no escape
 * sequence or line break from Redis reaches either. Undefined when nothing is left.
 */
export function safeName(text: string | undefined, max = 100): string | undefined {
  if (text === undefined) return undefined;
  const kept = text.replace(/[^\w.\-/:@]/g, "").slice(0, max);
  return kept === "" ? undefined : kept;
}

/**
 * A job's return value as the coordinator reads it from Redis, which it does not trust: the
 * proof rebuilt field by field (nothing else reaches audit.json), or the problem as a string.
 */
export function parseJobResult(value: unknown): (ZkProof & { worker?: string; prover?: string; witness?: string }) | string {
  const parsed = resultSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    return `its result is not a proof (${issue.path.join(".") || "result"}: ${issue.message})`;
  }
  const worker = safeName(parsed.data.worker);
  const prover = safeName(parsed.data.prover, 40);
  const witness = safeName(parsed.data.witness, 40);
  const { proof, publicSignals } = parsed.data;
  return {
    proof: { pi_a: [...proof.pi_a], pi_b: proof.pi_b.map((pair) => [...pair]), pi_c: [...proof.pi_c], protocol: proof.protocol, curve: proof.curve } as ZkProof["proof"],
    publicSignals: [...publicSignals],
    ...(worker !== undefined ? { worker } : {}),
    ...(prover !== undefined ? { prover } : {}),
    ...(witness !== undefined ? { witness } : {}),
  };
}
