/**
 * The keeper's prover, kept warm for the life of the service (README, "Proving many"): reused,
 * never reimplemented. One prover (`provers: 1`) is a WarmProver, whose multi-threaded curve
 * gives the lowest latency for one proof at a time, and whose witness comes from circom's native
 * generator when `zks setup --native-witness` built one. More (`provers: N`) is a ProverPool of N
 * worker threads, the highest throughput when several positions are liquidatable at once.
 */
import { readFile } from "node:fs/promises";
import type { CircuitSignals } from "snarkjs";
import { SetupError } from "@zk-solvency/sdk/core";
import { loadInstanceArtifacts, type InstanceArtifacts } from "@zk-solvency/node";
import { loadWarmProver, nativeWitnessCalculator, ProverPool } from "@zk-solvency/node";
import { proveFromWitness, releaseProverThreads } from "@zk-solvency/sdk/prover";
import type { WarmProver, TimedProof } from "@zk-solvency/sdk/prover";

export interface KeeperProver {
  readonly instance: string;
  readonly backend: "warm" | "warm-native" | "pool";
  prove(signals: CircuitSignals): Promise<TimedProof>;
  /** Stops the pool's workers or snarkjs' curve threads (curve.terminate()). */
  close(): Promise<void>;
}

export async function startKeeperProver(artifacts: InstanceArtifacts | string, provers: number): Promise<KeeperProver> {
  const built = typeof artifacts === "string" ? loadInstanceArtifacts(artifacts) : artifacts;
  const instance = built.instance;
  if (provers > 1) {
    const pool = await ProverPool.start([built], { workers: provers, maxQueued: provers });
    return { instance, backend: "pool", prove: (signals) => pool.prove(instance, signals), close: () => pool.close() };
  }
  if (built.manifest.nativeWitness) {
    let native;
    try {
      native = nativeWitnessCalculator(instance);
    } catch (error) {
      if (!(error instanceof SetupError)) throw error;
    }
    if (native) {
      const zkey = typeof built.zkey === "string" ? await readFile(built.zkey) : built.zkey;
      const witness = native;
      return { instance, backend: "warm-native", prove: (signals) => proveFromWitness(() => witness(signals), zkey), close: releaseProverThreads };
    }
  }
  const warm: WarmProver = await loadWarmProver(built);
  return { instance, backend: "warm", prove: (signals) => warm.prove(signals), close: releaseProverThreads };
}
