import * as snarkjs from "snarkjs";
import type { CircuitSignals, Groth16Proof, NumericString } from "snarkjs";
import type { ProvingArtifacts } from "./artifacts.ts";
import { calculateWitness } from "./witness.ts";

export interface ZkProof {
  proof: Groth16Proof;
  /** In the order of the instance's `publicSignals` (circuits/instances.json). */
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

/**
 * A Groth16 proof for one instance: the witness first (so a rejected input is reported as
 * such, not as a prover crash), then the proof. Works in Node and in the browser.
 */
export async function generateProof(
  signals: CircuitSignals,
  artifacts: ProvingArtifacts,
  options: ProveOptions = {},
): Promise<ZkProof & { timings: ProveTimings }> {
  const started = performance.now();
  options.onProgress?.("witness", 0);
  const witness = await calculateWitness(signals, artifacts.wasm, artifacts.instance);
  const witnessDone = performance.now();
  options.onProgress?.("proof", witnessDone - started);
  const { proof, publicSignals } = await snarkjs.groth16.prove(artifacts.zkey, witness);
  const done = performance.now();
  options.onProgress?.("done", done - started);
  return { proof, publicSignals, timings: { witnessMs: witnessDone - started, proofMs: done - witnessDone } };
}
