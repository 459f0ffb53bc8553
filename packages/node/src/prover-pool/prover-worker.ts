/**
 * One thread of the prover pool: loads every instance once, then proves what it is sent.
 * Each worker uses a single-threaded curve: on 2 cores, two proofs side by side keep both busy
 * through the prover's single-threaded phases (QAP evaluation, FFT joins), which one proof
 * spread over two threads does not.
 */
import { readFile } from "node:fs/promises";
import { parentPort, workerData } from "node:worker_threads";
import { buildBn128 } from "ffjavascript";
import { UnprovableError, WarmProver } from "@zk-solvency/sdk/prover";
import type { ProveRequest, WorkerReply, WorkerSetup } from "./messages.ts";

const port = parentPort!;
const reply = (message: WorkerReply): void => port.postMessage(message);

async function start(setup: WorkerSetup): Promise<Map<string, WarmProver>> {
  // snarkjs takes the curve it finds cached here; a multi-threaded one cannot start its own
  // web workers from inside a worker thread.
  (globalThis as { curve_bn128?: unknown }).curve_bn128 = await buildBn128(true);
  const provers = new Map<string, WarmProver>();
  for (const { instance, wasm, zkey } of setup.instances) {
    const [wasmBytes, zkeyBytes] = await Promise.all([bytesOf(wasm), bytesOf(zkey)]);
    provers.set(instance, await WarmProver.load({ instance, wasm: wasmBytes, zkey: zkeyBytes }));
  }
  return provers;
}

const bytesOf = async (artifact: string | Uint8Array): Promise<Uint8Array> => (typeof artifact === "string" ? readFile(artifact) : artifact);

async function serve(provers: Map<string, WarmProver>, request: ProveRequest): Promise<void> {
  const prover = provers.get(request.instance);
  if (!prover) return reply({ kind: "failed", id: request.id, message: `the pool has no instance "${request.instance}" (it has ${[...provers.keys()].join(", ")})` });
  try {
    reply({ kind: "proof", id: request.id, result: await prover.prove(request.signals) });
  } catch (error) {
    if (error instanceof UnprovableError) reply({ kind: "unprovable", id: request.id, instance: error.instance, detail: error.detail });
    else reply({ kind: "failed", id: request.id, message: error instanceof Error ? error.message : String(error) });
  }
}

try {
  const provers = await start(workerData.setup as WorkerSetup);
  // One request at a time: the pool only sends a worker its next request after the reply.
  port.on("message", (request: ProveRequest) => void serve(provers, request));
  reply({ kind: "ready" });
} catch (error) {
  reply({ kind: "startup-failed", message: error instanceof Error ? error.message : String(error) });
}
