/**
 * One thread of the prover pool: loads every instance once, then proves what it is sent.
 * Each worker uses a single-threaded curve: on 2 cores, two proofs side by side keep both busy
 * through the prover's single-threaded phases (QAP evaluation, FFT joins), which one proof
 * spread over two threads does not. With rapidsnark the thread computes the witness (the wasm,
 * kept compiled, or circom's C++ generator), runs rapidsnark as a child with its share of the
 * cores, and verifies the proof with that same curve before replying.
 */
import { readFile } from "node:fs/promises";
import { parentPort, workerData } from "node:worker_threads";
import { buildBn128 } from "ffjavascript";
import * as snarkjs from "snarkjs";
import type { CircuitSignals, VerificationKey } from "snarkjs";
import { ZksError } from "@zk-solvency/sdk/core";
import { UnprovableError, WarmProver, type TimedProof } from "@zk-solvency/sdk/prover";
import type { ProverKind, WitnessKind } from "../native-prover/backend.ts";
import { RapidsnarkInstanceProver } from "../native-prover/instance-prover.ts";
import { killChildren } from "../native-prover/children.ts";
import type { PoolRequest, ProveRequest, WorkerReply, WorkerSetup } from "./messages.ts";

type Prover = { prove(signals: CircuitSignals): Promise<TimedProof & { prover: ProverKind; witness: WitnessKind }> };

const port = parentPort!;
const reply = (message: WorkerReply): void => port.postMessage(message);

async function start(setup: WorkerSetup): Promise<Map<string, Prover>> {
  // snarkjs takes the curve it finds cached here; a multi-threaded one cannot start its own
  // web workers from inside a worker thread.
  (globalThis as { curve_bn128?: unknown }).curve_bn128 = await buildBn128(true);
  const provers = new Map<string, Prover>();
  const { backend } = setup;
  for (const { instance, wasm, zkey, verificationKey, nativeWitness } of setup.instances) {
    if (backend.kind === "rapidsnark") {
      const zkeyFile = zkey as string; // the pool passes rapidsnark's keys as files
      const vkey = verificationKey ?? ((await snarkjs.zKey.exportVerificationKey(zkeyFile)) as VerificationKey);
      const prover = await RapidsnarkInstanceProver.load(
        backend.binary,
        { instance, zkeyFile, verificationKey: vkey, ...(nativeWitness ? { nativeWitness } : { wasm: await bytesOf(wasm) }) },
        { threads: setup.threads, tempDir: setup.tempDir },
      );
      provers.set(instance, prover);
    } else {
      const [wasmBytes, zkeyBytes] = await Promise.all([bytesOf(wasm), bytesOf(zkey)]);
      const warm = await WarmProver.load({ instance, wasm: wasmBytes, zkey: zkeyBytes });
      provers.set(instance, { prove: async (signals) => ({ ...(await warm.prove(signals)), prover: "snarkjs", witness: "wasm" }) });
    }
  }
  return provers;
}

const bytesOf = async (artifact: string | Uint8Array): Promise<Uint8Array> => (typeof artifact === "string" ? readFile(artifact) : artifact);
const exitCodeOf = (error: unknown) => (error instanceof ZksError ? { exitCode: error.exitCode } : {});

async function serve(provers: Map<string, Prover>, request: ProveRequest): Promise<void> {
  const prover = provers.get(request.instance);
  if (!prover) return reply({ kind: "failed", id: request.id, message: `the pool has no instance "${request.instance}" (it has ${[...provers.keys()].join(", ")})` });
  try {
    reply({ kind: "proof", id: request.id, result: await prover.prove(request.signals) });
  } catch (error) {
    if (error instanceof UnprovableError) reply({ kind: "unprovable", id: request.id, instance: error.instance, detail: error.detail });
    else reply({ kind: "failed", id: request.id, message: error instanceof Error ? error.message : String(error), ...exitCodeOf(error) });
  }
}

try {
  const provers = await start(workerData.setup as WorkerSetup);
  // One request at a time: the pool only sends a worker its next request after the reply.
  port.on("message", (request: PoolRequest) => {
    if (request.kind === "stop") void killChildren().then(() => reply({ kind: "stopped" }));
    else void serve(provers, request);
  });
  reply({ kind: "ready" });
} catch (error) {
  // Answer a close() that comes now all the same (nothing of ours runs).
  port.on("message", (request: PoolRequest) => request.kind === "stop" && reply({ kind: "stopped" }));
  reply({ kind: "startup-failed", message: error instanceof Error ? error.message : String(error), ...exitCodeOf(error) });
}
