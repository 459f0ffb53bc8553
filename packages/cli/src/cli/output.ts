import { ZksError } from "@zk-solvency/sdk/core";

/** Exit codes (formats.md): 0 pass, 1 a check failed, 2 bad input; 3 setup/environment; 70 a bug. */
export const EXIT = { ok: 0, checkFailed: 1, badInput: 2, setup: 3, internal: 70 } as const;

/** Machine output: one JSON object on stdout, bigints as decimal strings. */
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, (_key, v) => (typeof v === "bigint" ? v.toString() : v), 2)}\n`);
}

/**
 * Turns any failure into one line on stderr and an exit code. Known errors carry their own
 * code; anything else is a bug, reported as such (the stack only with ZKS_DEBUG=1).
 */
export function reportError(error: unknown): number {
  if (error instanceof ZksError) {
    process.stderr.write(`zks: ${error.message}\n`);
    return error.exitCode;
  }
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`zks: internal error: ${message}\n`);
  if (process.env.ZKS_DEBUG === "1" && error instanceof Error) process.stderr.write(`${error.stack}\n`);
  else process.stderr.write("zks: this is a bug; rerun with ZKS_DEBUG=1 for details and report it\n");
  return EXIT.internal;
}
