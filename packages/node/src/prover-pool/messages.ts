import type { CircuitSignals, VerificationKey } from "snarkjs";
import type { TimedProof } from "@zk-solvency/sdk/prover";
import type { ProverBackend, ProverKind, WitnessKind } from "../native-prover/backend.ts";
import type { NativeWitnessBinary } from "../native-witness.ts";

/** What a pool worker loads at start: each instance's artifacts as file paths or bytes, and who proves. */
export interface WorkerSetup {
  backend: ProverBackend;
  /** rapidsnark: OMP_NUM_THREADS of each proof (the worker's share of the cores). */
  threads: number;
  /** The pool's private temporary root (0700, removed by close()): each proof's witness and rapidsnark files go in a directory under it. */
  tempDir: string;
  instances: {
    instance: string;
    wasm: string | Uint8Array;
    /** A file path whenever the backend is rapidsnark (it reads the key itself). */
    zkey: string | Uint8Array;
    /** rapidsnark: the key its proofs are verified under (default: exported from the zkey). */
    verificationKey?: VerificationKey;
    /** rapidsnark: circom's C++ witness generator, when built. */
    nativeWitness?: NativeWitnessBinary;
  }[];
}

export interface ProveRequest {
  kind: "prove";
  id: number;
  instance: string;
  signals: CircuitSignals;
}

/** close(): kill your native children, then say "stopped" (the pool terminates the thread after). */
export type PoolRequest = ProveRequest | { kind: "stop" };

export type WorkerReply =
  | { kind: "ready" }
  | { kind: "stopped" }
  /** A native child started or ended: the main thread kills the running ones on SIGINT / SIGTERM (threads get no signals). */
  | { kind: "child"; pid: number; running: boolean }
  | { kind: "startup-failed"; message: string; exitCode?: number }
  | { kind: "proof"; id: number; result: TimedProof & { prover: ProverKind; witness: WitnessKind } }
  | { kind: "unprovable"; id: number; instance: string; detail: string }
  /** `exitCode` when the error was a ZksError (a broken rapidsnark is a SetupError, exit 3). */
  | { kind: "failed"; id: number; message: string; exitCode?: number };
