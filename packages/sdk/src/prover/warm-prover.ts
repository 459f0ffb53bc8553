import { buildBn128 } from "ffjavascript";
import type { CircuitSignals } from "snarkjs";
import { artifactBytes } from "./artifact-bytes.ts";
import type { ProvingArtifacts } from "./artifacts.ts";
import { proveFromWitness, type ProveOptions, type TimedProof } from "./prove.ts";
import { WarmWitnessCalculator } from "./warm-witness.ts";

/**
 * A prover that keeps everything a proof needs in memory between proofs: the proving key's
 * bytes, the compiled witness calculator and snarkjs' curve (with its worker threads). For
 * keepers and pages that prove more than once; `generateProof` reloads all three per call.
 * Works in Node and in the browser; call `releaseProverThreads()` when done proving.
 */
export class WarmProver {
  private constructor(
    readonly instance: string,
    private readonly zkey: Uint8Array,
    private readonly witness: WarmWitnessCalculator,
  ) {}

  /** Artifacts as bytes or URLs (in Node, `loadWarmProver` from `@zk-solvency/node` takes the built instance). */
  static async load(artifacts: ProvingArtifacts): Promise<WarmProver> {
    const [wasm, zkey] = await Promise.all([
      artifactBytes(artifacts.wasm, `${artifacts.instance} witness wasm`),
      artifactBytes(artifacts.zkey, `${artifacts.instance} proving key`),
    ]);
    const witness = await WarmWitnessCalculator.compile(wasm, artifacts.instance);
    // Built now and cached by snarkjs (globalThis.curve_bn128), so the first proof is warm too.
    await buildBn128();
    return new WarmProver(artifacts.instance, zkey, witness);
  }

  /** Concurrent calls are fine: witnesses are computed one at a time (the calculator has one memory). */
  async prove(signals: CircuitSignals, options: ProveOptions = {}): Promise<TimedProof> {
    return proveFromWitness(() => this.oneAtATime(() => this.witness.calculate(signals)), this.zkey, options);
  }

  private witnessQueue: Promise<unknown> = Promise.resolve();
  private oneAtATime<T>(work: () => Promise<T>): Promise<T> {
    const run = this.witnessQueue.then(work, work);
    this.witnessQueue = run.catch(() => {});
    return run;
  }
}
