import { lstatSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import path from "node:path";
import { Worker } from "node:worker_threads";
import type { CircuitSignals } from "snarkjs";
import { SetupError, ZksError } from "@zk-solvency/sdk/core";
import type { ProvingArtifacts, TimedProof } from "@zk-solvency/sdk/prover";
import { UnprovableError } from "@zk-solvency/sdk/prover";
import { loadInstanceArtifacts, type InstanceArtifacts } from "../artifacts.ts";
import { resolveProverBackend, type ProverBackend, type ProverChoice, type ProverKind, type WitnessKind } from "../native-prover/backend.ts";
import { onAbnormalExit } from "../native-prover/children.ts";
import { checkRapidsnark } from "../native-prover/probe.ts";
import { nativeGenerator } from "../prove-built.ts";
import type { PoolRequest, ProveRequest, WorkerReply, WorkerSetup } from "./messages.ts";

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
  private closed: Promise<void> | undefined;
  private completedCount = 0;
  /** Every thread not yet exited, loading or serving, with the pids of the native children it runs. */
  private readonly threads = new Map<Worker, Set<number>>();
  private readonly forgetCleanup: () => void;

  private constructor(
    private readonly setup: WorkerSetup,
    private readonly maxQueued: number,
  ) {
    // A signal or exit with the pool open: its threads die with the process, their children would not.
    this.forgetCleanup = onAbnormalExit(() => {
      for (const pids of this.threads.values()) for (const pid of pids) killQuietly(pid);
      rmSync(setup.tempDir, { recursive: true, force: true });
    });
  }

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
    sweepStaleRoots();
    // One private root per pool (mkdtemp makes it 0700; the pid lets a later pool remove it if this
    // process dies without closing): the witnesses, the native generator's input (positions in
    // plain text), rapidsnark's outputs and keys given as bytes all go under it, and close() removes it.
    const tempDir = mkdtempSync(path.join(tmpdir(), `zks-pool-${process.pid}-`));
    let setup: WorkerSetup;
    try {
      setup = {
        backend,
        threads: Math.max(1, Math.floor(availableParallelism() / workers)),
        tempDir,
        instances: loaded.map((artifacts, i) => {
          const { instance, wasm } = artifacts;
          if (backend.kind === "snarkjs") return { instance, wasm, zkey: artifacts.zkey };
          let zkey = artifacts.zkey;
          if (typeof zkey !== "string") {
            mkdirSync(path.join(tempDir, "keys"), { recursive: true });
            writeFileSync((zkey = path.join(tempDir, "keys", `${i}.zkey`)), artifacts.zkey);
          }
          const built = "manifest" in artifacts && "verificationKey" in artifacts ? (artifacts as InstanceArtifacts) : undefined;
          const native = built && nativeGenerator(built);
          return { instance, wasm, zkey, ...(built && { verificationKey: built.verificationKey }), ...(native && { nativeWitness: native }) };
        }),
      };
    } catch (error) {
      rmSync(tempDir, { recursive: true, force: true });
      throw error;
    }
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
      this.queue.push({ request: { kind: "prove", id: this.nextId++, instance, signals }, enqueued: performance.now(), resolve, reject });
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

  /**
   * Stops the workers and their native children, and removes the pool's temporary files; proofs
   * not yet finished are rejected (ZksError, exit 70). Calling it again waits for the first call.
   */
  close(): Promise<void> {
    this.closed ??= this.shutdown();
    return this.closed;
  }

  private async shutdown(): Promise<void> {
    this.closing = true;
    for (const job of this.queue.splice(0)) job.reject(new ZksError("ProverPool: closed before this proof started", 70));
    for (const wake of this.spaceWaiters.splice(0)) wake();
    for (const slot of this.slots.splice(0)) {
      slot.job?.reject(new ZksError("ProverPool: closed before this proof finished", 70));
      slot.job = undefined;
    }
    // Each thread kills its children first: terminate() alone skips every `finally`, and a
    // rapidsnark child would go on, writing a proof into a directory nobody removes.
    // snarkjs threads run no children, and a busy one would only answer after its proof.
    const native = this.setup.backend.kind === "rapidsnark";
    await Promise.all([...this.threads.keys()].map((worker) => (native ? stopThread(worker) : worker.terminate())));
    // Children of a thread that did not answer in time.
    for (const pids of this.threads.values()) for (const pid of pids) killQuietly(pid);
    this.threads.clear();
    rmSync(this.setup.tempDir, { recursive: true, force: true });
    this.forgetCleanup();
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
      // `zksPool`: the thread reports its native children's pids (native-prover/children.ts).
      workerData: { setup: this.setup, mod: "data:text/javascript,", type: "classic", zksPool: true },
    });
    const slot: Slot = { worker };
    const children = new Set<number>();
    this.threads.set(worker, children);
    return new Promise<void>((resolve, reject) => {
      let started = false;
      worker.on("message", (reply: WorkerReply) => {
        if (reply.kind === "child") {
          if (reply.running) children.add(reply.pid);
          else children.delete(reply.pid);
        } else if (reply.kind === "stopped") {
          // close(): stopThread listens for it
        } else if (reply.kind === "ready") {
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
        // Its children outlive it: a thread that died on its own leaves them to us.
        if (!this.closing) for (const pid of children) killQuietly(pid);
        if (!this.closing) this.threads.delete(worker);
        if (!started) reject(new ZksError(`ProverPool: a worker exited while loading (code ${code})`, 70));
        else if (!this.closing) this.fail(slot, new Error(`prover worker exited (code ${code})`));
      });
    });
  }

  private finish(slot: Slot, reply: Exclude<WorkerReply, { kind: "ready" | "startup-failed" | "stopped" | "child" }>): void {
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

/** Asks a thread to kill its native children, then terminates it; one that does not answer within 3 s is terminated all the same. */
function stopThread(worker: Worker): Promise<void> {
  return new Promise<void>((resolve) => {
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      worker.off("message", onMessage);
      worker.off("exit", finish);
      void worker.terminate().then(() => resolve());
    };
    const onMessage = (reply: WorkerReply) => reply.kind === "stopped" && finish();
    const timer = setTimeout(finish, 3000);
    worker.on("message", onMessage);
    worker.once("exit", finish);
    worker.postMessage({ kind: "stop" } satisfies PoolRequest);
  });
}

function killQuietly(pid: number): void {
  try {
    process.kill(pid, "SIGKILL");
  } catch {
    // already gone
  }
}

/**
 * Removes the temporary roots of pools whose process died without closing them (killed, or
 * crashed): `zks-pool-<pid>-*` of ours whose pid no longer runs. They hold private witnesses.
 */
export function sweepStaleRoots(dir: string = tmpdir()): void {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  const uid = process.getuid?.();
  for (const name of names) {
    const match = /^zks-pool-(\d+)-[A-Za-z0-9]{6}$/.exec(name);
    if (!match || Number(match[1]) === process.pid) continue;
    const root = path.join(dir, name);
    try {
      const stat = lstatSync(root);
      if (!stat.isDirectory() || (uid !== undefined && stat.uid !== uid)) continue;
      process.kill(Number(match[1]), 0);
      // its process runs (or is another user's): not ours to remove
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ESRCH") rmSync(root, { recursive: true, force: true });
    }
  }
}

/** An error from a worker thread as the caller would have got it in this thread: a SetupError stays one (exit 3). */
function errorOf(message: string, exitCode: number | undefined): Error {
  if (exitCode === undefined) return new Error(message);
  return exitCode === 3 ? new SetupError(message) : new ZksError(message, exitCode);
}
