import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import type { CircuitSignals } from "snarkjs";
import { SetupError } from "@zk-solvency/sdk/core";
import { generateProof, proveFromWitness, type ProveOptions, type TimedProof } from "@zk-solvency/sdk/prover";
import type { InstanceArtifacts } from "./artifacts.ts";
import { resolveProverBackend, type ProverBackend, type ProverChoice, type ProverKind, type WitnessKind } from "./native-prover/backend.ts";
import { RapidsnarkInstanceProver } from "./native-prover/instance-prover.ts";
import { nativeWitnessCalculator, nativeWitnessIn, type NativeWitnessBinary } from "./native-witness.ts";

export interface ProveBuiltOptions extends ProveOptions {
  /** Who makes the proof: a choice (resolved with resolveProverBackend) or a resolved backend. Default: ZKS_PROVER, else auto. */
  prover?: ProverChoice | ProverBackend;
}

export type BuiltProof = TimedProof & {
  /** What made the proof. */
  prover: ProverKind;
  /** What computed the witness. */
  witness: WitnessKind;
  /** @deprecated The same as `witness`. */
  witnessBackend: WitnessKind;
};

/**
 * A one-off proof for a built instance, as the CLI makes them, by rapidsnark when the backend
 * says so (every such proof verified before it is returned), else by snarkjs. The witness comes
 * from circom's C++ generator when `zks setup --native-witness` built one: for a cold call it
 * beats the wasm on every instance (BENCHMARKS.md, "Witness generation"). Otherwise, or if the
 * generator's files have gone, from the wasm, the portable default.
 */
export async function proveBuiltInstance(signals: CircuitSignals, artifacts: InstanceArtifacts, options: ProveBuiltOptions = {}): Promise<BuiltProof> {
  const backend = typeof options.prover === "object" ? options.prover : resolveProverBackend(options.prover);
  const native = nativeGenerator(artifacts);
  if (backend.kind === "rapidsnark") {
    const work = typeof artifacts.zkey === "string" ? undefined : await mkdtemp(path.join(tmpdir(), "zks-zkey-"));
    try {
      let zkeyFile = artifacts.zkey as string;
      if (work) await writeFile((zkeyFile = path.join(work, "circuit.zkey")), artifacts.zkey as Uint8Array);
      const prover = await RapidsnarkInstanceProver.load(backend.binary, {
        instance: artifacts.instance,
        zkeyFile,
        verificationKey: artifacts.verificationKey,
        ...(native ? { nativeWitness: native } : { wasm: typeof artifacts.wasm === "string" ? await readFile(artifacts.wasm) : artifacts.wasm }),
      });
      const proof = await prover.prove(signals, options);
      return { ...proof, witnessBackend: proof.witness };
    } finally {
      if (work) await rm(work, { recursive: true, force: true });
    }
  }
  if (native) {
    const witness = nativeWitnessCalculator(native);
    return { ...(await proveFromWitness(() => witness(signals), artifacts.zkey, options)), prover: "snarkjs", witness: "native", witnessBackend: "native" };
  }
  return { ...(await generateProof(signals, artifacts, options)), prover: "snarkjs", witness: "wasm", witnessBackend: "wasm" };
}

/**
 * The instance's C++ witness generator when its manifest lists one and its files are there: the
 * one in the directory the artifacts were loaded from (beside their proving key), never another
 * build directory's generator for an instance of the same name, whose witnesses would not fit this key.
 */
export function nativeGenerator(artifacts: InstanceArtifacts): NativeWitnessBinary | undefined {
  const { manifest, zkey } = artifacts;
  if (!manifest.nativeWitness) return undefined;
  // The artifacts' own directory, known from the key's path (loadInstanceArtifacts: <dir>/<files.zkey>); key bytes name none.
  if (typeof zkey !== "string" || !zkey.endsWith(manifest.files.zkey)) return undefined;
  const dir = zkey.slice(0, zkey.length - manifest.files.zkey.length) || ".";
  if (!dir.endsWith(path.sep) && dir !== ".") return undefined;
  try {
    return nativeWitnessIn(dir, artifacts.instance, manifest);
  } catch (error) {
    if (!(error instanceof SetupError)) throw error;
    return undefined;
  }
}
