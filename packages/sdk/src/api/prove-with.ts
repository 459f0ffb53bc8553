/**
 * Which prover makes a high-level API proof: a fresh one that loads the artifacts for this call
 * (generateProof), or one the caller keeps warm across proofs. Browser-safe; the prover classes
 * are imported as types only, so a page that never passes one does not bundle them.
 */
import type { CircuitSignals, Groth16Proof, NumericString } from "snarkjs";
import type { BrowserProver } from "../browser/worker-client.ts";
import { InputError } from "../core/errors.ts";
import { generateProof, type ProveOptions } from "../prover/prove.ts";
import type { WarmProver } from "../prover/warm-prover.ts";
import type { CircuitArtifacts } from "./artifacts.ts";

/** ProveOptions of the high-level API. */
export interface ApiProveOptions extends ProveOptions {
  /**
   * Prove with a prover kept across proofs instead of loading the artifacts for this call: a
   * WarmProver loaded with this instance (Node or a page's main thread), or a BrowserProver (a Web
   * Worker; the instance is loaded into it on first use, from the artifacts given).
   */
  prover?: WarmProver | BrowserProver;
}

const isBrowserProver = (prover: WarmProver | BrowserProver): prover is BrowserProver => typeof (prover as BrowserProver).has === "function";

/** The proof of `signals` with `artifacts`' instance, by the prover `options` chooses. */
export async function proveWith(signals: CircuitSignals, artifacts: CircuitArtifacts, options: ApiProveOptions): Promise<{ proof: Groth16Proof; publicSignals: NumericString[] }> {
  const { prover, ...proveOptions } = options;
  if (prover === undefined) return generateProof(signals, artifacts, proveOptions);
  if (isBrowserProver(prover)) {
    await prover.load(artifacts);
    return prover.prove(artifacts.instance, signals, proveOptions);
  }
  // A warm prover of another instance would prove another circuit: its signals would not decode.
  if (prover.instance !== artifacts.instance) throw new InputError("prover", "instance", `the WarmProver is loaded with ${prover.instance}, not ${artifacts.instance}`);
  return prover.prove(signals, proveOptions);
}
