import type { CircuitSignals, VerificationKey } from "snarkjs";
import type { ProofKeyManifest } from "../proof-file/proof-file.ts";
import type { ProvingArtifacts } from "../prover/artifacts.ts";
import { generateProof, type ProveOptions, type TimedProof } from "../prover/prove.ts";
import type { RebalanceLayout } from "../prover/witness/rebalance.ts";

/**
 * What a workflow proves with: one instance's key and a way to make its proofs. The workflows
 * stay the same whoever makes the proof (the wasm witness here, circom's native witness or a
 * prover pool in Node, a warm prover in the keeper), so they take this rather than artifacts.
 */
export interface InstanceProver {
  /** The manifest fields a proof file records: name, template, params, signal names, key hash and source. */
  manifest: ProofKeyManifest;
  /** The key the workflow checks its own proof under before anyone else sees it. */
  verificationKey: VerificationKey;
  /** The instance's slot counts (its first parameters; nSwaps for a Rebalance instance). */
  layout: RebalanceLayout;
  prove(signals: CircuitSignals): Promise<TimedProof>;
}

/** An InstanceProver from an instance's wasm and zkey (paths, URLs or bytes): works in the browser. */
export function wasmInstanceProver(
  artifacts: ProvingArtifacts & { manifest: ProofKeyManifest; verificationKey: VerificationKey },
  layout: RebalanceLayout,
  options: ProveOptions = {},
): InstanceProver {
  return {
    manifest: artifacts.manifest,
    verificationKey: artifacts.verificationKey,
    layout,
    prove: (signals) => generateProof(signals, artifacts, options),
  };
}

/** A prover, or a function choosing one: called only once the workflow knows it will prove. */
export type ProverChoice = InstanceProver | (() => InstanceProver | Promise<InstanceProver>);

export async function chooseProver(choice: ProverChoice): Promise<InstanceProver> {
  return typeof choice === "function" ? choice() : choice;
}

/** Seconds the witness and the proof took, as the CLI reports them (two decimals). */
export const proofSeconds = (proof: TimedProof): number => Number(((proof.timings.witnessMs + proof.timings.proofMs) / 1000).toFixed(2));
