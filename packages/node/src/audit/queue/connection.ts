/**
 * The Redis behind the audit's queue: its URL as the CLI takes it (`--queue redis://...`), and a
 * first connection that fails fast and plainly. BullMQ itself retries a lost connection for ever,
 * which is right once a run has started but would leave a mistyped URL hanging without a word.
 */
import { isIP } from "node:net";
import { InputError, SetupError } from "@zk-solvency/sdk/core";

/** The queue's default name (`--queue-name`). */
export const DEFAULT_QUEUE_NAME = "zks-audit";

/** ioredis connection options, as BullMQ takes them. They may hold a password: never print them. */
export interface RedisConnectionOptions {
  host: string;
  port: number;
  username?: string;
  password?: string;
  db?: number;
  tls?: { servername?: string };
}

export interface QueueConnection {
  options: RedisConnectionOptions;
  /** The URL without its credentials, for messages and logs. */
  display: string;
}

const URL_FORM = "redis://[user:password@]host[:port][/db], or rediss://... for TLS";

/**
 * `redis://` or `rediss://` (TLS) with the credentials in the URL, as Redis documents them. Errors
 * are exit 2 and never repeat the URL: it may hold a password.
 */
export function parseQueueUrl(text: string, flag = "--queue"): QueueConnection {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new InputError(flag, "", `not a URL: expected ${URL_FORM}`);
  }
  if (url.protocol !== "redis:" && url.protocol !== "rediss:") throw new InputError(flag, "", `expected ${URL_FORM}, got a ${url.protocol} URL`);
  const host = url.hostname.replace(/^\[(.*)\]$/, "$1");
  if (host === "") throw new InputError(flag, "", `no host: expected ${URL_FORM}`);
  const port = url.port === "" ? 6379 : Number(url.port);
  if (url.search !== "" || url.hash !== "") throw new InputError(flag, "", `query parameters and fragments are not taken: expected ${URL_FORM}`);
  const dbText = url.pathname.replace(/^\//, "");
  if (!/^\d{0,2}$/.test(dbText)) throw new InputError(flag, "", `the path must be a database number (0 to 99), got "/${dbText}"`);
  const db = dbText === "" ? 0 : Number(dbText);
  const options: RedisConnectionOptions = { host, port };
  // A malformed %-escape is a URIError; its message never repeats the text (it may be the password).
  const decoded = (part: string): string => {
    try {
      return decodeURIComponent(part);
    } catch {
      throw new InputError(flag, "", "the user or password has an invalid %-escape");
    }
  };
  if (url.username !== "") options.username = decoded(url.username);
  if (url.password !== "") options.password = decoded(url.password);
  if (db !== 0) options.db = db;
  // SNI names a host, never an address (RFC 6066; Node warns and will ignore it).
  if (url.protocol === "rediss:") options.tls = isIP(host) === 0 ? { servername: host } : {};
  const shownHost = host.includes(":") ? `[${host}]` : host;
  return { options, display: `${url.protocol}//${shownHost}:${port}${db !== 0 ? `/${db}` : ""}` };
}

/** The environment variable holding the queue's URL, so that its password is not on a command line (ps, /proc/<pid>/cmdline, shell history). */
export const QUEUE_ENV = "ZKS_QUEUE";

/**
 * The queue URL a command was given: `--queue env` (the literal word), or no --queue where the
 * command allows it (`zks audit worker`), reads it from ZKS_QUEUE. Undefined when neither says
 * where the queue is.
 */
export function resolveQueueUrl(flagValue: string | undefined, env: NodeJS.ProcessEnv = process.env, flag = "--queue"): string | undefined {
  if (flagValue !== undefined && flagValue !== "env") return flagValue;
  const fromEnv = env[QUEUE_ENV];
  if (fromEnv === undefined || fromEnv === "") {
    if (flagValue === "env") throw new InputError(flag, "", `"env" takes the URL from ${QUEUE_ENV}, which is not set`);
    return undefined;
  }
  // Checked here so that an error names where the URL came from.
  parseQueueUrl(fromEnv, QUEUE_ENV);
  return fromEnv;
}

/** BullMQ keys are `bull:<name>:...`; a name is a plain word so that it cannot reach into other keys. */
export function checkQueueName(name: string, flag = "--queue-name"): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/.test(name)) throw new InputError(flag, "", `expected letters, digits, ".", "_" or "-" (at most 100), got "${name}"`);
  return name;
}

export type BullMQ = typeof import("bullmq");

/** BullMQ, loaded only by the queue's paths (the local audit and every other command never load it). */
export async function loadBullMQ(): Promise<BullMQ> {
  try {
    return await import("bullmq");
  } catch (error) {
    throw new SetupError(`the queue needs the bullmq package, which could not be loaded (${(error as Error).message}): reinstall @zk-solvency/node`);
  }
}

/**
 * Connects once without retrying, so that an unreachable Redis, a refused password or a TLS
 * failure is one line (exit 3) before anything is enqueued or any artifact is loaded.
 */
export async function checkRedisReachable(bullmq: BullMQ, connection: QueueConnection, queueName: string): Promise<void> {
  const probe = new bullmq.Queue(queueName, {
    connection: { ...connection.options, retryStrategy: () => null, connectTimeout: 5_000, maxRetriesPerRequest: 0, enableOfflineQueue: false },
  });
  let firstError: Error | undefined;
  probe.on("error", (error: Error) => (firstError ??= error));
  try {
    await probe.waitUntilReady();
    // A command, so that a refused password or ACL shows here too.
    await probe.count();
  } catch (error) {
    throw new SetupError(`cannot reach Redis at ${connection.display} (${errorText(firstError ?? error)}): start it, or fix --queue (credentials go in the URL)`);
  } finally {
    await probe.close().catch(() => {});
  }
}

/** The URL and queue name checked (exit 2) and Redis reached (exit 3), before a command prints or loads anything. */
export async function checkQueueReachable(queue: string, queueName = DEFAULT_QUEUE_NAME): Promise<void> {
  const connection = parseQueueUrl(queue);
  checkQueueName(queueName);
  await checkRedisReachable(await loadBullMQ(), connection, queueName);
}

/** Redis and ioredis messages can span lines; a CLI error must not. */
export const oneLine = (text: string): string => text.replace(/\s+/g, " ").trim();

/**
 * A string read from Redis (a job's failedReason), which anyone who can write there controls,
 * made safe for a terminal line: control characters (escape sequences, carriage returns,
 * bidirectional overrides) dropped, whitespace folded, at most `max` characters.
 */
export function untrustedLine(text: unknown, max = 300): string {
  const clean = oneLine(String(text).replace(/[\p{Cc}\p{Cf}\u2028\u2029]/gu, (c) => (/\s/.test(c) ? " " : "")));
  return clean.length > max ? `${clean.slice(0, max)}... (${clean.length - max} more characters)` : clean;
}

/** An error as one line: Node's connection errors to a name with several addresses are AggregateErrors with an empty message. */
export function errorText(error: unknown): string {
  const e = error as { message?: string; code?: string; errors?: unknown[] };
  if (e?.message) return oneLine(e.message);
  if (Array.isArray(e?.errors) && e.errors.length > 0) return errorText(e.errors[0]);
  return e?.code ?? String(error);
}
