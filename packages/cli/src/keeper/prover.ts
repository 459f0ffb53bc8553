/**
 * The keeper's prover, kept warm for the life of the service (README, "Proving many"): reused,
 * never reimplemented. With snarkjs, one prover (`provers: 1`) is a WarmProver, whose
 * multi-threaded curve gives the lowest latency for one proof at a time, and whose witness comes
 * from circom's native generator when `zks setup --native-witness` built one; more (`provers: N`)
 * is a ProverPool of N worker threads, the highest throughput when several positions are
 * liquidatable at once. With rapidsnark (README, "Native prover (rapidsnark)") it is always a
 * ProverPool: its worker keeps the witness calculator warm, runs rapidsnark on its share of the
 * cores (all of them for one prover) and verifies every proof before the keeper submits it.
 */
import { readFile } from "node:fs/promises";
import type { CircuitSignals } from "snarkjs";
import { SetupError } from "@zk-solvency/sdk/core";
import { loadInstanceArtifacts, resolveProverBackend, type InstanceArtifacts, type ProverBackend, type ProverChoice } from "@zk-solvency/node";
import { loadWarmProver, nativeWitnessCalculator, ProverPool } from "@zk-solvency/node";
import { proveFromWitness, releaseProverThreads } from "@zk-solvency/sdk/prover";
import type { WarmProver, TimedProof } from "@zk-solvency/sdk/prover";

/** The keeper's prover as its "keeper started" log names it. */
export type KeeperProverBackend = "warm" | "warm-native" | "pool" | "rapidsnark" | "rapidsnark-native" | "pool-rapidsnark" | "pool-rapidsnark-native";

export interface KeeperProver {
  readonly instance: string;
  readonly backend: KeeperProverBackend;
  prove(signals: CircuitSignals): Promise<TimedProof>;
  /** Stops the pool's workers or snarkjs' curve threads (curve.terminate()). */
  close(): Promise<void>;
}

/** `prover`: the CLI's --prover (a resolved backend), else ZKS_PROVER, else auto. */
export async function startKeeperProver(artifacts: InstanceArtifacts | string, provers: number, prover?: ProverChoice | ProverBackend): Promise<KeeperProver> {
  const built = typeof artifacts === "string" ? loadInstanceArtifacts(artifacts) : artifacts;
  const instance = built.instance;
  const backend = typeof prover === "object" ? prover : resolveProverBackend(prover);
  if (provers > 1 || backend.kind === "rapidsnark") {
    const pool = await ProverPool.start([built], { workers: provers, maxQueued: provers, prover: backend });
    const native = pool.witnessFor(instance) === "native" ? "-native" : "";
    const name: KeeperProverBackend = backend.kind === "snarkjs" ? "pool" : provers > 1 ? `pool-rapidsnark${native}` : `rapidsnark${native}`;
    return { instance, backend: name, prove: (signals) => pool.prove(instance, signals), close: () => pool.close() };
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
