/**
 * Proofs of schedule slices (packages/circuits/execution/schedule-slice.circom): that slice i's
 * time and amounts are the ones the committed seed draws from the committed plan, bound to the
 * commitments of the Rebalance proof that executes it. Browser-safe.
 */
import type { CircuitSignals, Groth16Proof, NumericString, VerificationKey } from "snarkjs";
import type { CircuitArtifacts, CircuitKey } from "../api/artifacts.ts";
import { proveWith, type ApiProveOptions } from "../api/prove-with.ts";
import { fieldMismatch, signalValues, type ProofVerdict } from "../api/verdict.ts";
import { InputError } from "../core/errors.ts";
import { SNARK_FIELD } from "../core/field.ts";
import { scheduleSliceSignalLayout } from "../core/signals.generated.ts";
import { groth16ProofSchema } from "../proof-file/proof-file.ts";
import { canonicalVerificationKey } from "../verifier/key-check.ts";
import { verifyProof } from "../verifier/verify.ts";
import {
  deriveSchedule,
  MAX_SLICES,
  paddedPlan,
  SCHEDULE_SLICE_INSTANCE,
  SCHEDULE_SWAP_SLOTS,
  ScheduleError,
  type ScheduleSecret,
  type ScheduleSwap,
  type ScheduleWindow,
} from "./schedule.ts";

/** A ScheduleSlice instance's parameters. */
export interface SliceShape {
  instance: string;
  maxSlices: number;
  nSwaps: number;
  nPublic: number;
}

/**
 * The shape of a ScheduleSlice key. Only the instance this toolkit builds is accepted
 * (SCHEDULE_SLICE_INSTANCE: its name, template, parameters and public signal count): a verifier
 * loads its own key by that name, never by a name an owner's file supplies. InputError (exit 2)
 * naming the instance otherwise.
 */
export function sliceShape(key: CircuitKey): SliceShape {
  const source = `circuit instance "${key.instance}"`;
  if (key.instance !== SCHEDULE_SLICE_INSTANCE)
    throw new InputError(source, "instance", `is not ${SCHEDULE_SLICE_INSTANCE}, the only slice instance this toolkit proves and verifies`);
  if (key.template !== undefined && key.template !== "ScheduleSlice") throw new InputError(source, "template", `is a ${key.template} instance, not a ScheduleSlice one`);
  const [maxSlices, nSwaps] = [MAX_SLICES, SCHEDULE_SWAP_SLOTS];
  if (key.params !== undefined && (key.params.length !== 2 || key.params[0] !== maxSlices || key.params[1] !== nSwaps)) {
    throw new InputError(source, "params", `expected [${maxSlices}, ${nSwaps}] (circuits/instances.json), got ${JSON.stringify(key.params)}`);
  }
  const nPublic = scheduleSliceSignalLayout(nSwaps).count;
  if (key.verificationKey?.nPublic !== nPublic) {
    throw new InputError(
      source,
      "verificationKey.nPublic",
      `${String(key.verificationKey?.nPublic)} public signals, but ScheduleSlice(${maxSlices}, ${nSwaps}) has ${nPublic}: the key is another instance's`,
    );
  }
  return { instance: key.instance, maxSlices, nSwaps, nPublic };
}

/** What a slice proof is made of. */
export interface ScheduleSliceProofInput {
  /** The owner's seed and salt (seed.json): Poseidon(seed, salt) is the published commitment. */
  secret: ScheduleSecret;
  window: ScheduleWindow;
  /** The slice's index (its rank in time), 0..window.slices - 1. */
  index: number;
  /** The plan's swaps, in slot order (the commitment binds them; fewer than the instance's slots are padded with empty ones). */
  plan: readonly ScheduleSwap[];
  /** The commitments of the slice's Rebalance proof (P_i and P_{i+1}). */
  oldCommitment: bigint;
  newCommitment: bigint;
}

/** A slice proof with its public signals decoded by name. */
export interface ScheduleSliceProof {
  template: "ScheduleSlice";
  instance: string;
  proof: Groth16Proof;
  publicSignals: NumericString[];
  seedCommitment: bigint;
  /** When the slice is due, unix seconds. */
  sliceTime: number;
  slices: number;
  slice: number;
  windowStart: number;
  windowSeconds: number;
  /** The plan's asset sold per swap slot (0 with planBuy 0: an empty slot). Its totals are private: the commitment binds them. */
  planSell: bigint[];
  /** The plan's asset bought per swap slot. */
  planBuy: bigint[];
  /** This slice's amount sold per swap slot. */
  swapIn: bigint[];
  oldCommitment: bigint;
  newCommitment: bigint;
}

/** A slice proof's public signals by name. */
export type DecodedSliceSignals = Omit<ScheduleSliceProof, "template" | "instance" | "proof" | "publicSignals">;

/** Decodes a slice proof's public signals (`nSwaps` slots). */
export function decodeSliceSignals(values: readonly bigint[], nSwaps: number): DecodedSliceSignals {
  const l = scheduleSliceSignalLayout(nSwaps);
  const small = (x: bigint): number => (x <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(x) : Number.NaN);
  return {
    seedCommitment: values[l.seedCommitment]!,
    sliceTime: small(values[l.sliceTime]!),
    slices: small(values[l.slices]!),
    slice: small(values[l.slice]!),
    windowStart: small(values[l.windowStart]!),
    windowSeconds: small(values[l.windowSeconds]!),
    planSell: values.slice(l.planSell, l.planSell + nSwaps),
    planBuy: values.slice(l.planBuy, l.planBuy + nSwaps),
    swapIn: values.slice(l.swapIn, l.swapIn + nSwaps),
    oldCommitment: values[l.oldCommitment]!,
    newCommitment: values[l.newCommitment]!,
  };
}

const isCommitment = (x: unknown): x is bigint => typeof x === "bigint" && x >= 0n && x < SNARK_FIELD;

/**
 * The circuit's inputs for one slice (the amounts it sells computed by the schedule rule). A
 * ScheduleError (exit 2) for a window, index, secret or amounts the instance cannot take.
 */
export function scheduleSliceInput(input: ScheduleSliceProofInput): CircuitSignals {
  if (!Number.isInteger(input.index) || input.index < 0 || input.index >= input.window.slices) {
    throw new ScheduleError(`slice index ${input.index} is not in [0, ${input.window.slices})`);
  }
  if (!isCommitment(input.oldCommitment) || !isCommitment(input.newCommitment)) throw new ScheduleError("the Rebalance proof's commitments must be field elements");
  const schedule = deriveSchedule(input.secret, input.window, input.plan);
  const padded = paddedPlan(input.plan);
  const slice = schedule.slices[input.index]!;
  return {
    slices: BigInt(input.window.slices),
    slice: BigInt(input.index),
    windowStart: BigInt(input.window.start),
    windowSeconds: BigInt(input.window.seconds),
    planSell: padded.map((s) => BigInt(s.sell)),
    planBuy: padded.map((s) => BigInt(s.buy)),
    swapIn: padded.map((_, s) => slice.amounts[s] ?? 0n),
    oldCommitment: input.oldCommitment,
    newCommitment: input.newCommitment,
    seed: input.secret.seed,
    salt: input.secret.salt,
    planIn: padded.map((s) => s.amountIn),
  };
}

/** The typed proof object of a Groth16 proof and its public signals made with `key`'s ScheduleSlice instance. */
export function sliceProofOf(zkProof: { proof: Groth16Proof; publicSignals: NumericString[] }, key: CircuitKey): ScheduleSliceProof {
  const shape = sliceShape(key);
  const values = signalValues(zkProof.publicSignals, shape.nPublic);
  if (typeof values === "string") throw new InputError(`proof of ${key.instance}`, "publicSignals", values);
  return { template: "ScheduleSlice", instance: key.instance, ...decodeSliceSignals(values, shape.nSwaps), proof: zkProof.proof, publicSignals: [...zkProof.publicSignals] };
}

/** Proves one slice with `artifacts`' ScheduleSlice instance. */
export async function proveScheduleSlice(input: ScheduleSliceProofInput, artifacts: CircuitArtifacts, options: ApiProveOptions = {}): Promise<ScheduleSliceProof> {
  sliceShape(artifacts);
  const signals = scheduleSliceInput(input);
  const { proof, publicSignals } = await proveWith(signals, artifacts, options);
  return sliceProofOf({ proof, publicSignals }, artifacts);
}

/**
 * Whether `proof` is a valid slice proof under `key` (its instance's CircuitKey), and if not why:
 * the instance it claims, the Groth16 proof's shape, canonical signals, every named field equal to
 * what the signals encode, then the pairing check.
 */
export async function checkScheduleSliceProof(proof: ScheduleSliceProof, key: CircuitKey): Promise<ProofVerdict> {
  const invalid = (problem: string): ProofVerdict => ({ valid: false, problem });
  if (typeof proof !== "object" || proof === null) return invalid("not a proof object");
  if (proof.template !== "ScheduleSlice") return invalid(`template is ${JSON.stringify(proof.template)}, not "ScheduleSlice"`);
  if (proof.instance !== key.instance) return invalid(`the proof claims instance "${String(proof.instance)}", but the key is ${key.instance}'s`);
  let vkey: VerificationKey;
  let shape: SliceShape;
  try {
    vkey = canonicalVerificationKey(key.verificationKey);
    shape = sliceShape({ ...key, verificationKey: vkey });
  } catch (error) {
    if (error instanceof InputError) return invalid(error.message);
    throw error;
  }
  const groth16 = groth16ProofSchema.safeParse(proof.proof);
  if (!groth16.success) return invalid(`proof is not an affine Groth16 BN254 proof (${groth16.error.issues[0]?.message ?? "malformed"})`);
  const values = signalValues(proof.publicSignals, shape.nPublic);
  if (typeof values === "string") return invalid(values);
  const mismatch = fieldMismatch(proof, decodeSliceSignals(values, shape.nSwaps));
  if (mismatch) return invalid(mismatch);
  const ok = await verifyProof(vkey, { proof: proof.proof, publicSignals: proof.publicSignals });
  return ok ? { valid: true } : invalid(`the Groth16 proof does not verify under ${key.instance}'s key`);
}
