import type { CircuitSignals } from "snarkjs";
import { SetupError } from "@zk-solvency/sdk/core";
import { generateProof, proveFromWitness, type ProveOptions, type TimedProof } from "@zk-solvency/sdk/prover";
import type { InstanceArtifacts } from "./artifacts.ts";
import { nativeWitnessCalculator } from "./native-witness.ts";

/**
 * A one-off proof for a built instance, as the CLI makes them. The witness comes from circom's
 * C++ generator when `zks setup --native-witness` built one: for a cold call it beats the wasm
 * on every instance (BENCHMARKS.md, "Witness generation"). Otherwise, or if the generator's
 * files have gone, from the wasm, the portable default.
 */
export async function proveBuiltInstance(
  signals: CircuitSignals,
  artifacts: InstanceArtifacts,
  options: ProveOptions = {},
): Promise<TimedProof & { witnessBackend: "native" | "wasm" }> {
  if (artifacts.manifest.nativeWitness) {
    let native;
    try {
      native = nativeWitnessCalculator(artifacts.instance);
    } catch (error) {
      if (!(error instanceof SetupError)) throw error;
    }
    if (native) return { ...(await proveFromWitness(() => native(signals), artifacts.zkey, options)), witnessBackend: "native" };
  }
  return { ...(await generateProof(signals, artifacts, options)), witnessBackend: "wasm" };
}
