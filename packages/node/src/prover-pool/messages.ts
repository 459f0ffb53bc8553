import type { CircuitSignals } from "snarkjs";
import type { TimedProof } from "@zk-solvency/sdk/prover";

/** What a pool worker loads at start: each instance's artifacts as file paths or bytes. */
export interface WorkerSetup {
  instances: { instance: string; wasm: string | Uint8Array; zkey: string | Uint8Array }[];
}

export interface ProveRequest {
  id: number;
  instance: string;
  signals: CircuitSignals;
}

export type WorkerReply =
  | { kind: "ready" }
  | { kind: "startup-failed"; message: string }
  | { kind: "proof"; id: number; result: TimedProof }
  | { kind: "unprovable"; id: number; instance: string; detail: string }
  | { kind: "failed"; id: number; message: string };
