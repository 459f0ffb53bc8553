/**
 * Runs one native child (rapidsnark's prover, circom's witness generator, the probe) the one way
 * all of them need: no stdin, a minimal environment chosen by the caller, tracked so that a signal
 * or a pool's close() kills it (children.ts), SIGKILLed after `timeoutMs`, and its output kept to
 * the first 16 KiB of each stream (a failing generator prints a trace per failed component; the
 * start names the cause).
 */
import { spawn } from "node:child_process";
import { trackChild } from "./children.ts";

/** How a native child ended. Exactly one of `error` (it never started), `timedOut`, or code/signal says why. */
export interface NativeRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** The spawn error's code (ENOENT, EACCES, ...) or message: the binary never ran. */
  error?: string;
  /** Killed because it ran past `timeoutMs`. */
  timedOut: boolean;
  stdout: string;
  stderr: string;
  /** Wall time from spawn to exit, in milliseconds. */
  ms: number;
}

const KEEP = 16_384;

export function runNative(binary: string, args: readonly string[], options: { env: NodeJS.ProcessEnv; timeoutMs: number }): Promise<NativeRun> {
  return new Promise((resolve) => {
    const started = performance.now();
    const child = spawn(binary, args, { stdio: ["ignore", "pipe", "pipe"], env: options.env });
    trackChild(child);
    let timedOut = false;
    let settled = false;
    let stdout = "";
    let stderr = "";
    const done = (run: Omit<NativeRun, "stdout" | "stderr" | "ms">) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({ ...run, stdout, stderr, ms: performance.now() - started });
    };
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, options.timeoutMs);
    child.stdout.on("data", (chunk: Buffer) => (stdout = stdout.length < KEEP ? stdout + chunk.toString() : stdout));
    child.stderr.on("data", (chunk: Buffer) => (stderr = stderr.length < KEEP ? stderr + chunk.toString() : stderr));
    child.on("error", (error: NodeJS.ErrnoException) => done({ code: null, signal: null, error: error.code ?? error.message, timedOut: false }));
    child.on("close", (code, signal) => done({ code, signal, timedOut }));
    // Killed for its time: done now, without waiting for its pipes ("close"), which anything it started may hold open.
    child.on("exit", (code, signal) => {
      if (timedOut) done({ code, signal, timedOut });
    });
  });
}
