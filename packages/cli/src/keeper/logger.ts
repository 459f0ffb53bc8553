/**
 * Structured logs: pino, JSON lines on stdout, written synchronously so the last line before a
 * crash (or a SIGKILL) is on disk or in the pipe, never in a buffer that dies with the process.
 * Secrets never reach a log: key files, the signer's key and decrypted balances are not logged
 * (accounts, commitments and health factors are).
 */
import { pino, type Logger } from "pino";

export type { Logger };

export function keeperLogger(level = process.env.ZKS_LOG_LEVEL ?? "info"): Logger {
  return pino(
    {
      name: "zks-keeper",
      level,
      base: { pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      // bigints (block numbers, epochs, commitments) as decimal strings instead of a throw
      formatters: { log: (object) => JSON.parse(JSON.stringify(object, (_k, v) => (typeof v === "bigint" ? v.toString() : v))) as Record<string, unknown> },
    },
    pino.destination({ dest: 1, sync: true }),
  );
}
