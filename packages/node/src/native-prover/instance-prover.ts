/**
 * One instance proved by rapidsnark, as the CLI, the prover pool and the keeper use it: the witness
 * from circom's C++ generator when `zks setup --native-witness` built it (written straight to the
 * file rapidsnark reads), else from the instance's wasm compiled once and kept; then rapidsnark,
 * whose proof is checked and verified before it is returned (rapidsnark.ts).
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import type { CircuitSignals, VerificationKey } from "snarkjs";
import { WarmWitnessCalculator, type ProveOptions, type TimedProof } from "@zk-solvency/sdk/prover";
import { nativeWitnessWriter, type NativeWitnessBinary } from "../native-witness.ts";
import type { WitnessKind } from "./backend.ts";
import { trackDir } from "./children.ts";
import { rapidsnarkProve } from "./rapidsnark.ts";

export interface RapidsnarkInstance {
  instance: string;
  /** The proving key as a file: rapidsnark reads it itself. */
  zkeyFile: string;
  verificationKey: VerificationKey;
  /** The instance's witness wasm, used when there is no native generator. */
  wasm?: Uint8Array;
  /** circom's C++ witness generator of the instance, when built. */
  nativeWitness?: NativeWitnessBinary;
}

export interface RapidsnarkInstanceOptions {
  /** OMP_NUM_THREADS of each proof (default unset: every core). */
  threads?: number;
  /** Where each proof's temporary directory goes (default the system's): the prover pool's private root. */
  tempDir?: string;
  /** The kill timeout of each rapidsnark run (rapidsnarkProve's default otherwise). */
  timeoutMs?: number;
}

export type RapidsnarkProof = TimedProof & { prover: "rapidsnark"; witness: WitnessKind };

export class RapidsnarkInstanceProver {
  private constructor(
    private readonly binary: string,
    private readonly source: RapidsnarkInstance,
    private readonly witnessOf: ((signals: CircuitSignals, file: string) => Promise<void>) | WarmWitnessCalculator,
    private readonly options: RapidsnarkInstanceOptions,
  ) {}

  get witness(): WitnessKind {
    return this.witnessOf instanceof WarmWitnessCalculator ? "wasm" : "native";
  }

  static async load(binary: string, source: RapidsnarkInstance, options: RapidsnarkInstanceOptions = {}): Promise<RapidsnarkInstanceProver> {
    let witnessOf: RapidsnarkInstanceProver["witnessOf"];
    if (source.nativeWitness) witnessOf = nativeWitnessWriter(source.nativeWitness);
    else if (source.wasm) witnessOf = await WarmWitnessCalculator.compile(source.wasm, source.instance);
    else throw new Error(`${source.instance}: neither a native witness generator nor a witness wasm to prove with`);
    return new RapidsnarkInstanceProver(binary, source, witnessOf, options);
  }

  /** Concurrent calls are fine; wasm witnesses are computed one at a time (the calculator has one memory). */
  async prove(signals: CircuitSignals, options: ProveOptions = {}): Promise<RapidsnarkProof> {
    const started = performance.now();
    options.onProgress?.("witness", 0);
    // The witness and the native generator's input.json (the position in plain text) live here.
    const work = await mkdtemp(path.join(this.options.tempDir ?? tmpdir(), "zks-witness-"));
    const release = trackDir(work);
    try {
      let witness: Uint8Array | { file: string };
      if (this.witnessOf instanceof WarmWitnessCalculator) {
        const calculator = this.witnessOf;
        witness = await this.oneAtATime(() => calculator.calculate(signals));
      } else {
        const file = path.join(work, "witness.wtns");
        await this.witnessOf(signals, file);
        witness = { file };
      }
      const witnessDone = performance.now();
      options.onProgress?.("proof", witnessDone - started);
      const { proof, publicSignals } = await rapidsnarkProve(this.binary, this.source.zkeyFile, witness, this.source.verificationKey, { ...this.options, tempDir: work });
      const done = performance.now();
      options.onProgress?.("done", done - started);
      return { proof, publicSignals, timings: { witnessMs: witnessDone - started, proofMs: done - witnessDone }, prover: "rapidsnark", witness: this.witness };
    } finally {
      await rm(work, { recursive: true, force: true });
      release();
    }
  }

  private witnessQueue: Promise<unknown> = Promise.resolve();
  private oneAtATime<T>(work: () => Promise<T>): Promise<T> {
    const run = this.witnessQueue.then(work, work);
    this.witnessQueue = run.catch(() => {});
    return run;
  }
}
