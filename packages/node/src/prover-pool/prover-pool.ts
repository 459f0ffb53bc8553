import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import type { CircuitSignals } from "snarkjs";
import { ZksError } from "@zk-solvency/sdk/core";
import type { ProvingArtifacts, TimedProof } from "@zk-solvency/sdk/prover";
import { UnprovableError } from "@zk-solvency/sdk/prover";
import { loadInstanceArtifacts } from "../artifacts.ts";
import type { ProveRequest, WorkerReply, WorkerSetup } from "./messages.ts";

export interface ProverPoolOptions {
  /** Worker threads, each proving one proof at a time. Default: the machine's available parallelism. */
  workers?: number;
  /**
   * Proofs that may wait for a free worker. When this many wait, `prove` itself waits before
   * queueing (back-pressure), so a producer cannot pile up inputs faster than they are proven.
   * Default: 2 per worker.
   */
  maxQueued?: number;
}

export interface PooledProof extends TimedProof {
  instance: string;
  /** From the call to the worker picking the proof up. */
  queuedMs: number;
}

export type PoolOutcome = { index: number; proof: PooledProof } | { index: number; error: Error };

interface Job {
  request: ProveRequest;
  enqueued: number;
  resolve: (proof: PooledProof) => void;
  reject: (error: Error) => void;
}

interface Slot {
  worker: Worker;
  job?: Job & { started: number };
}

/**
 * A persistent Groth16 prover for many proofs (keepers, audits): each worker thread loads the
 * artifacts once and keeps its curve, and proofs run side by side, one per worker.
 *
 *   const pool = await ProverPool.start(["rebalance-8x8x16"]);
 *   for await (const outcome of pool.proveEach("rebalance-8x8x16", inputs)) ...
 *   await pool.close();
 */
export class ProverPool {
  private readonly slots: Slot[] = [];
  private readonly queue: Job[] = [];
  private readonly spaceWaiters: (() => void)[] = [];
  private nextId = 0;
  private closing = false;
  private completedCount = 0;

  private constructor(
    private readonly setup: WorkerSetup,
    private readonly maxQueued: number,
  ) {}

  /** Instances by name (built with `zks setup`) or as artifacts (file paths or bytes). */
  static async start(instances: (string | ProvingArtifacts)[], options: ProverPoolOptions = {}): Promise<ProverPool> {
    const workers = options.workers ?? availableParallelism();
    if (!Number.isInteger(workers) || workers < 1) throw new ZksError(`ProverPool: workers must be a positive integer (got ${workers})`, 2);
    const maxQueued = options.maxQueued ?? 2 * workers;
    if (!Number.isInteger(maxQueued) || maxQueued < 0) throw new ZksError(`ProverPool: maxQueued must be a non-negative integer (got ${maxQueued})`, 2);
    if (instances.length === 0) throw new ZksError("ProverPool: no instances given", 2);
    const setup: WorkerSetup = {
      instances: instances.map((entry) => {
        const artifacts = typeof entry === "string" ? loadInstanceArtifacts(entry) : entry;
        return { instance: artifacts.instance, wasm: artifacts.wasm, zkey: artifacts.zkey };
      }),
    };
    const pool = new ProverPool(setup, maxQueued);
    try {
      await Promise.all(Array.from({ length: workers }, () => pool.addWorker()));
    } catch (error) {
      await pool.close();
      throw error;
    }
    return pool;
  }

  get workers(): number {
    return this.slots.length;
  }

  /** Proofs waiting for a worker, proofs being proven, proofs finished since start. */
  get stats(): { queued: number; proving: number; completed: number } {
    return { queued: this.queue.length, proving: this.slots.filter((slot) => slot.job).length, completed: this.completedCount };
  }

  /**
   * One proof. Waits for room in the queue first when `maxQueued` proofs are already waiting.
   * A rejected input is an UnprovableError, as with `generateProof`.
   */
  async prove(instance: string, signals: CircuitSignals): Promise<PooledProof> {
    while (this.queue.length >= this.maxQueued && !this.idleSlot()) await new Promise<void>((resolve) => this.spaceWaiters.push(resolve));
    if (this.closing) throw new ZksError("ProverPool: the pool is closed", 70);
    return new Promise<PooledProof>((resolve, reject) => {
      this.queue.push({ request: { id: this.nextId++, instance, signals }, enqueued: performance.now(), resolve, reject });
      this.dispatch();
    });
  }

  /**
   * Proves a stream of inputs with at most workers + maxQueued in flight, yielding each outcome
   * (in completion order, with the input's index) as soon as it is ready. A rejected input is
   * yielded as an error and the stream goes on.
   */
  async *proveEach(instance: string, inputs: Iterable<CircuitSignals> | AsyncIterable<CircuitSignals>): AsyncGenerator<PoolOutcome> {
    const limit = this.slots.length + this.maxQueued;
    const inFlight = new Map<number, Promise<PoolOutcome & { key: number }>>();
    let index = 0;
    for await (const signals of inputs) {
      const key = index++;
      inFlight.set(
        key,
        this.prove(instance, signals).then(
          (proof) => ({ key, index: key, proof }),
          (error: Error) => ({ key, index: key, error }),
        ),
      );
      if (inFlight.size >= limit) yield this.settleOne(inFlight);
    }
    while (inFlight.size > 0) yield this.settleOne(inFlight);
  }

  private async settleOne(inFlight: Map<number, Promise<PoolOutcome & { key: number }>>): Promise<PoolOutcome> {
    const { key, ...outcome } = await Promise.race(inFlight.values());
    inFlight.delete(key);
    return outcome;
  }

  /** Stops the workers; proofs not yet finished are rejected. */
  async close(): Promise<void> {
    this.closing = true;
    for (const job of this.queue.splice(0)) job.reject(new ZksError("ProverPool: closed before this proof started", 70));
    for (const wake of this.spaceWaiters.splice(0)) wake();
    await Promise.all(this.slots.splice(0).map((slot) => slot.worker.terminate()));
  }

  private idleSlot(): Slot | undefined {
    return this.slots.find((slot) => !slot.job);
  }

  private dispatch(): void {
    for (let slot = this.idleSlot(); slot && this.queue.length > 0; slot = this.idleSlot()) {
      const job = this.queue.shift()!;
      slot.job = { ...job, started: performance.now() };
      slot.worker.postMessage(job.request);
      this.spaceWaiters.shift()?.();
    }
  }

  private addWorker(): Promise<void> {
    // From sources (a checkout) this module is prover-pool.ts and its worker needs the loader
    // hooks again (prover-worker.mjs); built, the compiled worker sits beside it.
    const entry = import.meta.url.endsWith(".ts") ? "./prover-worker.mjs" : "./prover-worker.js";
    const worker = new Worker(new URL(entry, import.meta.url), {
      // `mod`: ffjavascript's web-worker shim runs in every worker thread and loads this as
      // its worker script; an empty module keeps it from failing on our thread.
      workerData: { setup: this.setup, mod: "data:text/javascript,", type: "classic" },
    });
    const slot: Slot = { worker };
    return new Promise<void>((resolve, reject) => {
      let started = false;
      worker.on("message", (reply: WorkerReply) => {
        if (reply.kind === "ready") {
          started = true;
          this.slots.push(slot);
          resolve();
          this.dispatch();
        } else if (reply.kind === "startup-failed") {
          reject(new ZksError(`ProverPool: a worker could not load the artifacts: ${reply.message}`, 3));
        } else {
          this.finish(slot, reply);
        }
      });
      worker.on("error", (error) => {
        if (!started) reject(error);
        else this.fail(slot, error);
      });
      worker.on("exit", (code) => {
        if (!started) reject(new ZksError(`ProverPool: a worker exited while loading (code ${code})`, 70));
        else if (!this.closing) this.fail(slot, new Error(`prover worker exited (code ${code})`));
      });
    });
  }

  private finish(slot: Slot, reply: Exclude<WorkerReply, { kind: "ready" | "startup-failed" }>): void {
    const job = slot.job;
    slot.job = undefined;
    if (!job || job.request.id !== reply.id) return;
    this.completedCount++;
    if (reply.kind === "proof") job.resolve({ ...reply.result, instance: job.request.instance, queuedMs: job.started - job.enqueued });
    else if (reply.kind === "unprovable") job.reject(new UnprovableError(reply.instance, reply.detail));
    else job.reject(new Error(reply.message));
    this.dispatch();
  }

  /** A worker died: its proof fails, and a fresh worker takes its place. */
  private fail(slot: Slot, error: Error): void {
    slot.job?.reject(error);
    slot.job = undefined;
    const at = this.slots.indexOf(slot);
    if (at >= 0) this.slots.splice(at, 1);
    void slot.worker.terminate();
    if (this.closing) return;
    this.addWorker().catch((startError: Error) => {
      // With no worker left, nothing would ever take the queued proofs.
      if (this.slots.length === 0) for (const job of this.queue.splice(0)) job.reject(startError);
    });
  }
}
