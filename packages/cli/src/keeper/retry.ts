/**
 * RPC calls under an outage: each is retried with capped exponential back-off, and a call that
 * still fails is an RpcUnavailableError the service loop catches (it logs, waits and polls again:
 * the keeper keeps running). Only transport failures are retried; a revert or a malformed answer
 * is the caller's to handle, since repeating it cannot change it.
 */
import { ZksError } from "@zk-solvency/sdk/core";

export class RpcUnavailableError extends ZksError {
  constructor(
    readonly what: string,
    readonly failure: unknown,
  ) {
    super(`the JSON-RPC endpoint failed on ${what}: ${describeError(failure)}`, 3);
  }
}

export interface BackoffOptions {
  /** Retries after the first attempt. */
  retries: number;
  /** First delay, doubled each retry up to capMs. */
  baseMs: number;
  capMs: number;
  /** Told of every failed attempt (for the rpc_errors_total counter and the log). */
  onError?: (error: unknown, attempt: number, delayMs: number | null) => void;
  /** Ends the waiting early (shutdown). */
  signal?: AbortSignal;
}

const TRANSPORT_CODES = new Set([
  "NETWORK_ERROR",
  "TIMEOUT",
  "SERVER_ERROR",
  "UNKNOWN_ERROR",
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EPIPE",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "UND_ERR_SOCKET",
  "UND_ERR_CONNECT_TIMEOUT",
]);

/** A failure of the connection or the node itself, not an answer about the chain. */
export function isTransportError(error: unknown): boolean {
  const seen = new Set<unknown>();
  const walk = (value: unknown): boolean => {
    if (value === null || typeof value !== "object" || seen.has(value)) return false;
    seen.add(value);
    const e = value as { code?: unknown; cause?: unknown; error?: unknown; message?: unknown };
    if (typeof e.code === "string" && TRANSPORT_CODES.has(e.code)) return true;
    if (typeof e.message === "string" && /ECONNREFUSED|ECONNRESET|socket hang up|fetch failed|request timeout|other side closed/i.test(e.message)) return true;
    return walk(e.cause) || walk(e.error);
  };
  return walk(error);
}

/** One line, whatever ethers or node:http threw. */
export function describeError(error: unknown): string {
  const e = error as { shortMessage?: string; message?: string; code?: string };
  const text = e?.shortMessage ?? e?.message ?? String(error);
  return text.split("\n")[0]!.slice(0, 300);
}

export const sleep = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    if (signal?.aborted || ms <= 0) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done, { once: true });
  });

/** The delay before retry `attempt` (1-based): base * 2^(attempt-1), at most cap. */
export const backoffDelay = (attempt: number, baseMs: number, capMs: number): number => Math.min(capMs, baseMs * 2 ** Math.min(attempt - 1, 30));

/** Runs `call`, retrying transport failures with capped exponential back-off; then RpcUnavailableError. */
export async function withRetry<T>(what: string, call: () => Promise<T>, options: BackoffOptions): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await call();
    } catch (error) {
      if (!isTransportError(error)) throw error;
      const last = attempt >= options.retries || options.signal?.aborted === true;
      const delay = last ? null : backoffDelay(attempt + 1, options.baseMs, options.capMs);
      options.onError?.(error, attempt + 1, delay);
      if (delay === null) throw new RpcUnavailableError(what, error);
      await sleep(delay, options.signal);
    }
  }
}
