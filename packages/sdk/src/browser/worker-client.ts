/**
 * BrowserProver: Groth16 proving in a Web Worker, for pages. The page keeps its thread (and so
 * its UI) while the worker computes the witness and the proof; progress comes back as events.
 *
 *     const prover = BrowserProver.start();
 *     await prover.load({ instance: "rebalance-3x3x16", wasm: "/zks/rebalance-3x3x16/main.wasm", zkey: "/zks/rebalance-3x3x16/circuit.zkey" },
 *                       { onProgress: ({ artifact, loaded, total }) => ... });
 *     const proof = await prover.prove("rebalance-3x3x16", signals, { onProgress: (stage, ms) => ... });
 *     prover.terminate();
 *
 * Artifacts are URLs (resolved against the page, fetched by the worker with download progress)
 * or bytes. By default the worker is dist/browser/prover-worker.js beside the browser bundle;
 * pass `worker` (a Worker, or the URL of that script: the package exports it as
 * `@zk-solvency/sdk/prover-worker`) when a bundler moves it elsewhere.
 * Browser-safe; nothing here runs until `start()`.
 */
import type { CircuitSignals } from "snarkjs";
import type { Artifact, ProvingArtifacts } from "../prover/artifacts.ts";
import { UnprovableError } from "../prover/errors.ts";
import type { ProveOptions, TimedProof } from "../prover/prove.ts";
import type { ArtifactKind, LoadTimings, SerializedError, WorkerRequest, WorkerResponse } from "./protocol.ts";

export type { ArtifactKind, LoadTimings } from "./protocol.ts";

export interface LoadProgress {
  artifact: ArtifactKind;
  /** Bytes received so far. */
  loaded: number;
  /** From Content-Length; null when the server did not say. */
  total: number | null;
}

export interface LoadOptions {
  onProgress?: (progress: LoadProgress) => void;
}

export interface LoadedInstance {
  instance: string;
  bytes: Record<ArtifactKind, number>;
  timings: LoadTimings & {
    /** From the load request to the instance being ready, as the page saw it. */
    totalMs: number;
  };
}

/**
 * What BrowserProver needs of a started Web Worker running prover-worker.js. Typed structurally,
 * not as the DOM's Worker, so the SDK's declarations compile in a Node project's tsconfig (no DOM
 * library): a Node keeper imports the same package root as a page. A DOM Worker satisfies it.
 */
export interface ProverWorker {
  postMessage(message: unknown): void;
  // The DOM's listener takes the event type of each name; `any` lets a DOM Worker fit without
  // naming DOM event types here.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  addEventListener(type: "message" | "error" | "messageerror", listener: (event: any) => void): void;
  terminate(): void;
}

export interface BrowserProverOptions {
  /** A started worker running prover-worker.js, or the URL of that script. Default: the bundle's own. */
  worker?: ProverWorker | URL | string;
}

interface Pending {
  resolve(response: WorkerResponse): void;
  reject(error: Error): void;
  onResponse?(response: WorkerResponse): void;
}

/** The worker script that ships beside the browser bundle (dist/browser/prover-worker.js). */
function defaultWorker(): ProverWorker {
  // The literal `new Worker(new URL(..., import.meta.url), { type: "module" })` is the form
  // bundlers (Vite, webpack 5) recognise and follow: they bundle the worker and rewrite the URL.
  // "./prover-worker.js" is the built file beside this one in dist/browser/; from the sources
  // (the "@zk-solvency/source" condition) Vite resolves it to prover-worker.ts, as it does for
  // a TypeScript file's `.js` imports.
  return new Worker(new URL("./prover-worker.js", import.meta.url), { type: "module" });
}

/** Relative URLs resolve against the page: inside the worker they would resolve against its script. */
function absolute(artifact: Artifact): Artifact {
  if (typeof artifact !== "string") return artifact;
  const base = (globalThis as { location?: { href: string } }).location?.href;
  return base ? new URL(artifact, base).href : artifact;
}

function deserialize(error: SerializedError): Error {
  if (error.name === "UnprovableError" && error.instance !== undefined && error.detail !== undefined) return new UnprovableError(error.instance, error.detail);
  const rebuilt = new Error(error.message);
  rebuilt.name = error.name;
  return rebuilt;
}

export class BrowserProver {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly loads = new Map<string, Promise<LoadedInstance>>();
  private failure: Error | null = null;

  private constructor(private readonly worker: ProverWorker) {
    worker.addEventListener("message", (event: MessageEvent<WorkerResponse>) => this.receive(event.data));
    worker.addEventListener("error", (event: ErrorEvent) => {
      event.preventDefault();
      this.fail(new Error(`the prover worker failed: ${event.message || "it could not start (is prover-worker.js served beside the bundle?)"}`));
    });
    worker.addEventListener("messageerror", () => this.fail(new Error("the prover worker sent a message that could not be read")));
  }

  /** Starts the worker (cheap: artifacts are fetched by `load`). */
  static start(options: BrowserProverOptions = {}): BrowserProver {
    const given = options.worker;
    const worker = given === undefined ? defaultWorker() : typeof given === "string" || given instanceof URL ? new Worker(given, { type: "module" }) : given;
    return new BrowserProver(worker);
  }

  /**
   * Loads an instance into the worker: fetches (or takes) its wasm and proving key, compiles the
   * witness calculator and builds the curve. Loading the same instance again returns the first load.
   */
  load(artifacts: ProvingArtifacts, options: LoadOptions = {}): Promise<LoadedInstance> {
    const known = this.loads.get(artifacts.instance);
    if (known) return known;
    const started = performance.now();
    const loading = this.request({ type: "load", instance: artifacts.instance, wasm: absolute(artifacts.wasm), zkey: absolute(artifacts.zkey) }, (response) => {
      if (response.type === "loading") options.onProgress?.({ artifact: response.artifact, loaded: response.loaded, total: response.total });
    }).then((response) => {
      if (response.type !== "loaded") throw new Error(`the prover worker answered ${response.type} to load`);
      return { instance: response.instance, bytes: response.bytes, timings: { ...response.timings, totalMs: performance.now() - started } };
    });
    this.loads.set(artifacts.instance, loading);
    loading.catch(() => this.loads.delete(artifacts.instance));
    return loading;
  }

  /** Whether `load` was called for the instance (it may still be loading). */
  has(instance: string): boolean {
    return this.loads.has(instance);
  }

  /** A proof with a loaded instance; an input the circuit rejects is an UnprovableError, as with WarmProver. */
  async prove(instance: string, signals: CircuitSignals, options: ProveOptions = {}): Promise<TimedProof> {
    const loading = this.loads.get(instance);
    if (!loading) throw new Error(`${instance}: load it before proving (BrowserProver.load)`);
    await loading;
    const response = await this.request({ type: "prove", instance, signals }, (r) => {
      if (r.type === "progress") options.onProgress?.(r.stage, r.elapsedMs);
    });
    if (response.type !== "proved") throw new Error(`the prover worker answered ${response.type} to prove`);
    return { proof: response.proof, publicSignals: response.publicSignals, timings: response.timings };
  }

  /** Ends the curve's nested worker threads inside the worker; proving again builds them anew. */
  async release(): Promise<void> {
    await this.request({ type: "release" });
  }

  /** Stops the worker and everything in it; pending calls reject. */
  terminate(): void {
    this.worker.terminate();
    this.fail(new Error("the prover worker was terminated"));
  }

  private request(message: DistributiveOmit<WorkerRequest, "id">, onResponse?: (response: WorkerResponse) => void): Promise<WorkerResponse> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    return new Promise<WorkerResponse>((resolve, reject) => {
      this.pending.set(id, { resolve, reject, onResponse });
      this.worker.postMessage({ ...message, id } as WorkerRequest);
    });
  }

  private receive(response: WorkerResponse): void {
    const pending = this.pending.get(response.id);
    if (!pending) return;
    switch (response.type) {
      case "loading":
      case "progress":
        pending.onResponse?.(response);
        return;
      case "failed":
        this.pending.delete(response.id);
        pending.reject(deserialize(response.error));
        return;
      default:
        this.pending.delete(response.id);
        pending.resolve(response);
    }
  }

  private fail(error: Error): void {
    this.failure ??= error;
    for (const pending of this.pending.values()) pending.reject(error);
    this.pending.clear();
  }
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
