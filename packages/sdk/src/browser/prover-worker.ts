/**
 * The prover's Web Worker: keeps one WarmProver per circuit instance (witness calculator,
 * proving key and snarkjs' curve stay in the worker's memory) and proves on request, posting
 * progress ("witness", "proof", "done") so the page can show it while its own thread stays free.
 * snarkjs' curve starts its own nested workers (navigator.hardwareConcurrency of them).
 *
 * Started by BrowserProver (worker-client.ts) as a module worker; the browser bundle ships it
 * as dist/browser/prover-worker.js. Browser-only: no Node built-ins.
 */
import { artifactBytes } from "../prover/artifact-bytes.ts";
import type { Artifact } from "../prover/artifacts.ts";
import { UnprovableError } from "../prover/errors.ts";
import { releaseProverThreads } from "../prover/release.ts";
import { WarmProver } from "../prover/warm-prover.ts";
import type { ArtifactKind, SerializedError, WorkerRequest, WorkerResponse } from "./protocol.ts";

/** The part of DedicatedWorkerGlobalScope used here (the project's lib is DOM, not WebWorker). */
interface WorkerScope {
  postMessage(message: WorkerResponse): void;
  addEventListener(type: "message", listener: (event: MessageEvent<WorkerRequest>) => void): void;
}
const scope = globalThis as unknown as WorkerScope;

const provers = new Map<string, Promise<WarmProver>>();

/** The artifact's bytes, reporting download progress for URLs to the page. */
function bytesOf(id: number, kind: ArtifactKind, artifact: Artifact, instance: string): Promise<Uint8Array> {
  const what = `${instance} ${kind === "wasm" ? "witness wasm" : "proving key"}`;
  return artifactBytes(artifact, what, (loaded, total) => scope.postMessage({ type: "loading", id, artifact: kind, loaded, total }));
}

async function load(request: Extract<WorkerRequest, { type: "load" }>): Promise<WorkerResponse> {
  const started = performance.now();
  const [wasm, zkey] = await Promise.all([bytesOf(request.id, "wasm", request.wasm, request.instance), bytesOf(request.id, "zkey", request.zkey, request.instance)]);
  const fetched = performance.now();
  const prover = WarmProver.load({ instance: request.instance, wasm, zkey });
  provers.set(request.instance, prover);
  try {
    await prover;
  } catch (error) {
    provers.delete(request.instance);
    throw error;
  }
  return {
    type: "loaded",
    id: request.id,
    instance: request.instance,
    bytes: { wasm: wasm.byteLength, zkey: zkey.byteLength },
    timings: { fetchMs: fetched - started, compileMs: performance.now() - fetched },
  };
}

async function prove(request: Extract<WorkerRequest, { type: "prove" }>): Promise<WorkerResponse> {
  const prover = provers.get(request.instance);
  if (!prover) throw new Error(`${request.instance}: not loaded in the prover worker (load it first)`);
  const { proof, publicSignals, timings } = await (
    await prover
  ).prove(request.signals, {
    onProgress: (stage, elapsedMs) => scope.postMessage({ type: "progress", id: request.id, stage, elapsedMs }),
  });
  return { type: "proved", id: request.id, proof, publicSignals, timings };
}

function serialize(error: unknown): SerializedError {
  if (error instanceof UnprovableError) return { name: error.name, message: error.message, instance: error.instance, detail: error.detail };
  if (error instanceof Error) return { name: error.name, message: error.message };
  return { name: "Error", message: String(error) };
}

async function handle(request: WorkerRequest): Promise<WorkerResponse> {
  switch (request.type) {
    case "load":
      return load(request);
    case "prove":
      return prove(request);
    case "release":
      await releaseProverThreads();
      return { type: "released", id: request.id };
  }
}

scope.addEventListener("message", (event) => {
  const request = event.data;
  handle(request).then(
    (response) => scope.postMessage(response),
    (error: unknown) => scope.postMessage({ type: "failed", id: request.id, error: serialize(error) }),
  );
});
