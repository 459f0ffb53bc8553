/**
 * Is this binary rapidsnark's prover? Run without arguments, rapidsnark prints
 *   Invalid number of parameters
 *   Usage: prover <circuit.zkey> <witness.wtns> <proof.json> <public.json>
 * on stderr and exits 1. A binary that prints something else is not rapidsnark (or a build too
 * old or too new to trust with our files); one that crashes or hangs is broken. Each binary is
 * probed once per process (per thread, in the prover pool): the answer does not change while we run.
 */
import { spawnSync } from "node:child_process";
import { SetupError } from "@zk-solvency/sdk/core";
import { runNative } from "./run-native.ts";

const USAGE = /Usage: \S+ <circuit\.zkey> <witness\.wtns> <proof\.json> <public\.json>/;
const PROBE_TIMEOUT_MS = 10_000;

/** How every error about a rapidsnark binary ends: the two ways out. */
export const RAPIDSNARK_FIX = "use --prover snarkjs or fix ZKS_RAPIDSNARK";

const verdicts = new Map<string, Promise<void>>();
/** How long each binary took to answer the probe: the yardstick of its proof timeout (rapidsnark.ts). */
const probeTimes = new Map<string, number>();

/** The probe's run time of `binary`, once probed. */
export function probeMs(binary: string): number | undefined {
  return probeTimes.get(binary);
}

/** What rapidsnark's environment may hold; nothing else of ours (it may hold secrets: a Redis password, an RPC key) reaches it. */
const PASSED = new Set(["PATH", "HOME", "LANG", "OMP_NUM_THREADS", "LD_LIBRARY_PATH"]);

/**
 * The environment of a rapidsnark child: PATH, HOME, LANG, LC_*, OMP_NUM_THREADS and
 * LD_LIBRARY_PATH of ours, OMP_NUM_THREADS set to `threads` when given.
 */
export function childEnv(threads?: number, env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const passed: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(env)) if (value !== undefined && (PASSED.has(name) || name.startsWith("LC_"))) passed[name] = value;
  if (threads !== undefined) passed.OMP_NUM_THREADS = String(threads);
  return passed;
}

/** Resolves when `binary` answers like rapidsnark; a SetupError (exit 3) naming the binary and the cause otherwise. */
export function checkRapidsnark(binary: string): Promise<void> {
  let verdict = verdicts.get(binary);
  if (!verdict) {
    verdict = probe(binary);
    verdicts.set(binary, verdict);
    // Remembered either way, but an unobserved rejection here must not take the process down.
    verdict.catch(() => {});
  }
  return verdict;
}

/** For resolveProverBackend, which is synchronous: true when `binary` answers like rapidsnark (the answer is cached as checkRapidsnark's). */
export function probeRapidsnarkSync(binary: string): boolean {
  const known = syncVerdicts.get(binary);
  if (known !== undefined) return known;
  const started = performance.now();
  const run = spawnSync(binary, [], { encoding: "utf8", timeout: PROBE_TIMEOUT_MS, killSignal: "SIGKILL", stdio: ["ignore", "pipe", "pipe"], env: childEnv() });
  probeTimes.set(binary, performance.now() - started);
  const problem = run.error
    ? (run.error as NodeJS.ErrnoException).code === "ETIMEDOUT"
      ? timedOut()
      : cannotRun(run.error)
    : judge(run.signal, `${run.stdout ?? ""}\n${run.stderr ?? ""}`);
  syncVerdicts.set(binary, problem === undefined);
  if (!verdicts.has(binary)) {
    const verdict = problem === undefined ? Promise.resolve() : Promise.reject(failure(binary, problem));
    verdict.catch(() => {});
    verdicts.set(binary, verdict);
  }
  return problem === undefined;
}

const syncVerdicts = new Map<string, boolean>();

async function probe(binary: string): Promise<void> {
  const run = await runNative(binary, [], { env: childEnv(), timeoutMs: PROBE_TIMEOUT_MS });
  probeTimes.set(binary, run.ms);
  const problem = run.error !== undefined ? `cannot run it (${run.error})` : run.timedOut ? timedOut() : judge(run.signal, `${run.stdout}\n${run.stderr}`);
  if (problem !== undefined) throw failure(binary, problem);
}

function judge(signal: NodeJS.Signals | null, output: string): string | undefined {
  if (signal) return `it crashed (${signal}) when run without arguments`;
  if (USAGE.test(output)) return undefined;
  const said = firstLine(output);
  return `not rapidsnark's prover (run without arguments it should print "Usage: prover <circuit.zkey> <witness.wtns> <proof.json> <public.json>"; it printed ${said ? JSON.stringify(said) : "nothing"})`;
}

const timedOut = () => `it did not answer within ${PROBE_TIMEOUT_MS / 1000} s when run without arguments (rapidsnark prints its usage and exits)`;
const cannotRun = (error: Error) => `cannot run it (${(error as NodeJS.ErrnoException).code ?? error.message})`;

export function failure(binary: string, problem: string): SetupError {
  return new SetupError(`rapidsnark ${binary}: ${problem}; ${RAPIDSNARK_FIX}`);
}

/** The first non-empty line a binary printed, without control characters, short enough for one error line. */
export function firstLine(output: string): string {
  const line =
    output
      .split(/\r?\n/)
      .map((text) => text.trim())
      .find(Boolean) ?? "";
  // eslint-disable-next-line no-control-regex
  const clean = line.replace(/[\u0000-\u001f\u007f]/g, " ");
  return clean.length > 200 ? `${clean.slice(0, 200)}...` : clean;
}
