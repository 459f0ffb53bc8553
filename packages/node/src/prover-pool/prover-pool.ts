import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import path from "node:path";
import { Worker } from "node:worker_threads";
import type { CircuitSignals } from "snarkjs";
import { SetupError, ZksError } from "@zk-solvency/sdk/core";
import type { ProvingArtifacts, TimedProof } from "@zk-solvency/sdk/prover";
import { UnprovableError } from "@zk-solvency/sdk/prover";
import { loadInstanceArtifacts, type InstanceArtifacts } from "../artifacts.ts";
import { resolveProverBackend, type ProverBackend, type ProverChoice, type ProverKind, type WitnessKind } from "../native-prover/backend.ts";
import { checkRapidsnark } from "../native-prover/probe.ts";
import { nativeGenerator } from "../prove-built.ts";
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
  /**
   * Who proves: a choice (resolved with resolveProverBackend) or a resolved backend. Default:
   * ZKS_PROVER, else auto (rapidsnark when found). With rapidsnark each worker runs one
   * rapidsnark at a time on max(1, floor(cores / workers)) threads (OMP_NUM_THREADS), and
   * verifies every proof before it replies.
   */
  prover?: ProverChoice | ProverBackend;
}

export interface PooledProof extends TimedProof {
  instance: string;
  /** What made the proof. */
  prover: ProverKind;
  /** What computed its witness: the wasm, or circom's C++ generator (rapidsnark only). */
  witness: WitnessKind;
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
 * artifacts once and keeps its curve, and proofs run side by side, one per worker. With the
 * rapidsnark backend each worker runs the native prover on its share of the cores and verifies
 * what it returns.
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
    /** A directory of proving keys written out for rapidsnark (given as bytes), removed on close. */
    private readonly keyDir: string | undefined,
  ) {}

  /** Instances by name (built with `zks setup`) or as artifacts (file paths or bytes). */
  static async start(instances: (string | ProvingArtifacts)[], options: ProverPoolOptions = {}): Promise<ProverPool> {
    const workers = options.workers ?? availableParallelism();
    if (!Number.isInteger(workers) || workers < 1) throw new ZksError(`ProverPool: workers must be a positive integer (got ${workers})`, 2);
    const maxQueued = options.maxQueued ?? 2 * workers;
    if (!Number.isInteger(maxQueued) || maxQueued < 0) throw new ZksError(`ProverPool: maxQueued must be a non-negative integer (got ${maxQueued})`, 2);
    if (instances.length === 0) throw new ZksError("ProverPool: no instances given", 2);
    const backend = typeof options.prover === "object" ? options.prover : resolveProverBackend(options.prover);
    // A broken binary is reported now, once, rather than by every proof.
    if (backend.kind === "rapidsnark") await checkRapidsnark(backend.binary);
    const loaded = instances.map((entry) => (typeof entry === "string" ? loadInstanceArtifacts(entry) : entry));
    const keyDir = backend.kind === "rapidsnark" && loaded.some((artifacts) => typeof artifacts.zkey !== "string") ? mkdtempSync(path.join(tmpdir(), "zks-pool-")) : undefined;
    const setup: WorkerSetup = {
      backend,
      threads: Math.max(1, Math.floor(availableParallelism() / workers)),
      instances: loaded.map((artifacts, i) => {
        const { instance, wasm } = artifacts;
        if (backend.kind === "snarkjs") return { instance, wasm, zkey: artifacts.zkey };
        let zkey = artifacts.zkey;
        if (typeof zkey !== "string") writeFileSync((zkey = path.join(keyDir!, `${i}.zkey`)), artifacts.zkey);
        const built = "manifest" in artifacts && "verificationKey" in artifacts ? (artifacts as InstanceArtifacts) : undefined;
        const native = built && nativeGenerator(built);
        return { instance, wasm, zkey, ...(built && { verificationKey: built.verificationKey }), ...(native && { nativeWitness: native }) };
      }),
    };
    const pool = new ProverPool(setup, maxQueued, keyDir);
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

  /** Who proves: snarkjs in the worker threads, or the rapidsnark binary they run. */
  get backend(): ProverBackend {
    return this.setup.backend;
  }

  /** What computes the witnesses of an instance's proofs: circom's C++ generator (with rapidsnark, when built) or the wasm. */
  witnessFor(instance: string): WitnessKind {
    return this.setup.instances.some((entry) => entry.instance === instance && entry.nativeWitness) ? "native" : "wasm";
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
    if (this.keyDir) rmSync(this.keyDir, { recursive: true, force: true });
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
          // A broken rapidsnark says so itself (SetupError); anything else is an artifact that would not load.
          reject(reply.exitCode === 3 ? errorOf(reply.message, 3) : new ZksError(`ProverPool: a worker could not load the artifacts: ${reply.message}`, 3));
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
    else job.reject(errorOf(reply.message, reply.exitCode));
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

/** An error from a worker thread as the caller would have got it in this thread: a SetupError stays one (exit 3). */
function errorOf(message: string, exitCode: number | undefined): Error {
  if (exitCode === undefined) return new Error(message);
  return exitCode === 3 ? new SetupError(message) : new ZksError(message, exitCode);
}
