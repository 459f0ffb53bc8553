import * as snarkjs from "snarkjs";
import type { CircuitSignals, Groth16Proof, NumericString, ZKArtifact } from "snarkjs";
import type { ProvingArtifacts } from "./artifacts.ts";
import { calculateWitness } from "./witness.ts";

export interface ZkProof {
  proof: Groth16Proof;
  /** In the order of the instance's `publicSignals` (packages/circuits/instances.json). */
  publicSignals: NumericString[];
}

export type ProveStage = "witness" | "proof" | "done";

export interface ProveOptions {
  onProgress?: (stage: ProveStage, elapsedMs: number) => void;
}

export interface ProveTimings {
  witnessMs: number;
  proofMs: number;
}

export type TimedProof = ZkProof & { timings: ProveTimings };

/**
 * A Groth16 proof for one instance: the witness first (so a rejected input is reported as
 * such, not as a prover crash), then the proof. Works in Node and in the browser. Loads the
 * artifacts for this call; for many proofs use a WarmProver (or the Node prover pool).
 */
export async function generateProof(signals: CircuitSignals, artifacts: ProvingArtifacts, options: ProveOptions = {}): Promise<TimedProof> {
  return proveFromWitness(() => calculateWitness(signals, artifacts.wasm, artifacts.instance), artifacts.zkey, options);
}

/** The proof step shared by every prover: time and report the witness step, then prove. */
export async function proveFromWitness(witnessStep: () => Promise<ZKArtifact>, zkey: ZKArtifact, options: ProveOptions = {}): Promise<TimedProof> {
  const started = performance.now();
  options.onProgress?.("witness", 0);
  const witness = await witnessStep();
  const witnessDone = performance.now();
  options.onProgress?.("proof", witnessDone - started);
  const { proof, publicSignals } = await snarkjs.groth16.prove(zkey, witness);
  const done = performance.now();
  options.onProgress?.("done", done - started);
  return { proof, publicSignals, timings: { witnessMs: witnessDone - started, proofMs: done - witnessDone } };
}
