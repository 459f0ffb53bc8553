/**
 * Messages between a page (src/browser/worker-client.ts) and the prover worker
 * (src/browser/prover-worker.ts). Everything crosses by structured clone: bigint signals,
 * Uint8Array artifacts and snarkjs' proof objects survive it as they are.
 */
import type { CircuitSignals, Groth16Proof, NumericString } from "snarkjs";
import type { Artifact } from "../prover/artifacts.ts";
import type { ProveStage, ProveTimings } from "../prover/prove.ts";

export type ArtifactKind = "wasm" | "zkey";

export type WorkerRequest =
  /** Fetch (URLs are absolute by now) or take the bytes, compile the witness calculator, build the curve. */
  | { type: "load"; id: number; instance: string; wasm: Artifact; zkey: Artifact }
  | { type: "prove"; id: number; instance: string; signals: CircuitSignals }
  /** End the curve's own worker threads (the next proof builds them again). */
  | { type: "release"; id: number };

export interface LoadTimings {
  /** Fetching both artifacts (0 when they were given as bytes). */
  fetchMs: number;
  /** Compiling the witness calculator and building the curve (with its worker threads). */
  compileMs: number;
}

export interface SerializedError {
  name: string;
  message: string;
  /** UnprovableError: the instance and the circuit's own reason. */
  instance?: string;
  detail?: string;
}

export type WorkerResponse =
  | { type: "loading"; id: number; artifact: ArtifactKind; loaded: number; total: number | null }
  | { type: "loaded"; id: number; instance: string; bytes: Record<ArtifactKind, number>; timings: LoadTimings }
  | { type: "progress"; id: number; stage: ProveStage; elapsedMs: number }
  | { type: "proved"; id: number; proof: Groth16Proof; publicSignals: NumericString[]; timings: ProveTimings }
  | { type: "released"; id: number }
  | { type: "failed"; id: number; error: SerializedError };
