import type { CircuitSignals, VerificationKey } from "snarkjs";
import type { TimedProof } from "@zk-solvency/sdk/prover";
import type { ProverBackend, ProverKind, WitnessKind } from "../native-prover/backend.ts";
import type { NativeWitnessBinary } from "../native-witness.ts";

/** What a pool worker loads at start: each instance's artifacts as file paths or bytes, and who proves. */
export interface WorkerSetup {
  backend: ProverBackend;
  /** rapidsnark: OMP_NUM_THREADS of each proof (the worker's share of the cores). */
  threads: number;
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
  id: number;
  instance: string;
  signals: CircuitSignals;
}

export type WorkerReply =
  | { kind: "ready" }
  | { kind: "startup-failed"; message: string; exitCode?: number }
  | { kind: "proof"; id: number; result: TimedProof & { prover: ProverKind; witness: WitnessKind } }
  | { kind: "unprovable"; id: number; instance: string; detail: string }
  /** `exitCode` when the error was a ZksError (a broken rapidsnark is a SetupError, exit 3). */
  | { kind: "failed"; id: number; message: string; exitCode?: number };
