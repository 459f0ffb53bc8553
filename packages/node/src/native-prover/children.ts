/**
 * The native children (rapidsnark, circom's witness generator) and temporary directories (a
 * witness, the circuit input with the position in plain text) alive in this thread, so that
 * nothing outlives the proof that needed it:
 *  - the prover pool's close() asks each worker thread to kill its children (killChildren) before
 *    it terminates the thread, which would otherwise skip every `finally` and leave rapidsnark
 *    running, writing into a directory nobody removes;
 *  - a process that gets SIGINT or SIGTERM, or exits, while a one-off proof runs kills the child
 *    and removes the directory itself, when nothing else in the process handles that signal
 *    (a command with its own handler, like `zks keeper run`, shuts down its own way).
 * In a pool thread each child's pid is also reported to the pool (a "child" message), so that
 * the main thread can kill it on a signal: worker threads get no signals of their own.
 */
import type { ChildProcess } from "node:child_process";
import { rmSync } from "node:fs";
import { isMainThread, parentPort, workerData } from "node:worker_threads";

const children = new Set<ChildProcess>();
const dirs = new Set<string>();

/** Set by the pool's worker threads (workerData.zksPool): report child pids to the pool. */
const reportToPool = !isMainThread && (workerData as { zksPool?: boolean } | null)?.zksPool === true;

/** Registers a spawned child until it exits. */
export function trackChild(child: ChildProcess): void {
  if (child.pid === undefined) return; // it did not start: its "error" event says so
  const pid = child.pid;
  children.add(child);
  if (reportToPool) parentPort?.postMessage({ kind: "child", pid, running: true });
  else armSignals();
  child.once("exit", () => {
    children.delete(child);
    if (reportToPool) parentPort?.postMessage({ kind: "child", pid, running: false });
    else disarmIfIdle();
  });
}

/** Registers a temporary directory until `release` is called (after it has been removed). */
export function trackDir(dir: string): () => void {
  dirs.add(dir);
  if (!reportToPool) armSignals();
  return () => {
    dirs.delete(dir);
    disarmIfIdle();
  };
}

/** SIGKILLs every child of this thread and resolves when they have exited (at most `waitMs` later). */
export async function killChildren(waitMs = 2000): Promise<void> {
  const running = [...children].filter((child) => child.exitCode === null && child.signalCode === null);
  const exited = running.map((child) => new Promise<void>((resolve) => child.once("exit", () => resolve())));
  for (const child of running) child.kill("SIGKILL");
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([Promise.all(exited), new Promise<void>((resolve) => (timer = setTimeout(resolve, waitMs)))]);
  clearTimeout(timer);
}

/** Synchronous clean-ups the main thread runs on SIGINT / SIGTERM / exit (the pool registers one for its threads' children). */
const cleanups = new Set<() => void>();

/** Registers `cleanup` (synchronous) for a signal or exit; returns its removal. */
export function onAbnormalExit(cleanup: () => void): () => void {
  cleanups.add(cleanup);
  armSignals();
  return () => {
    cleanups.delete(cleanup);
    disarmIfIdle();
  };
}

function cleanUpNow(): void {
  for (const child of children) child.kill("SIGKILL");
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  for (const cleanup of cleanups) {
    try {
      cleanup();
    } catch {
      // best effort: the process is going away
    }
  }
}

const SIGNALS = ["SIGINT", "SIGTERM"] as const;
let armed = false;

function onSignal(signal: NodeJS.Signals): void {
  // Another handler means the program shuts down its own way (closing its pool): leave it be.
  if (process.listenerCount(signal) > 1) return;
  cleanUpNow();
  disarm();
  // What Node would have done without a handler: die of the signal.
  process.kill(process.pid, signal);
}

function armSignals(): void {
  if (armed || !isMainThread) return;
  armed = true;
  for (const signal of SIGNALS) process.on(signal, onSignal);
  process.on("exit", cleanUpNow);
}

function disarm(): void {
  armed = false;
  for (const signal of SIGNALS) process.off(signal, onSignal);
  process.off("exit", cleanUpNow);
}

function disarmIfIdle(): void {
  if (armed && children.size === 0 && dirs.size === 0 && cleanups.size === 0) disarm();
}
