/**
 * What the keeper tests share: key and configuration files in a scratch directory, the keeper
 * as a child process whose JSON log lines the test can wait on, and a JSON-RPC forwarder in front
 * of a hardhat node that the test stops and restarts (an outage the keeper must ride out).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { writeFileSync } from "node:fs";
import { createServer, request as httpRequest, type Server } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import path from "node:path";
import { generateKeeperKey, keeperKeyFileJson, keeperPublicKeyFileJson, type KeeperKeyPair } from "../../packages/sdk/src/encryption/keeper-key.ts";
import { ZKS } from "./cli.ts";

/** A keeper key pair written as a key file and its public half. */
export function writeKeeperKey(dir: string, name: string): { file: string; pubFile: string; key: KeeperKeyPair } {
  const key = generateKeeperKey();
  const file = path.join(dir, `${name}.json`);
  const pubFile = path.join(dir, `${name}.pub.json`);
  writeFileSync(file, keeperKeyFileJson(key), { mode: 0o600 });
  writeFileSync(pubFile, keeperPublicKeyFileJson(key.publicKey));
  return { file, pubFile, key };
}

/** Writes a keeper configuration file (JSON) and returns its path. */
export function writeKeeperConfig(dir: string, fields: Record<string, unknown>, name = "keeper.config.json"): string {
  const file = path.join(dir, name);
  writeFileSync(file, `${JSON.stringify(fields, null, 2)}\n`);
  return file;
}

export interface KeeperLog {
  level: number;
  msg: string;
  event?: string;
  [key: string]: unknown;
}

/** `zks keeper run` as a child process; its stdout parsed as JSON log lines. */
export class KeeperProcess {
  readonly logs: KeeperLog[] = [];
  stderr = "";
  private readonly waiters: { test: (log: KeeperLog) => boolean; resolve: (log: KeeperLog) => void }[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private readonly child: ChildProcess;

  constructor(args: string[], env: NodeJS.ProcessEnv) {
    this.child = spawn(process.execPath, [ZKS, "keeper", "run", ...args], { env: { ...process.env, ZKS_DEBUG: "", ...env }, stdio: ["ignore", "pipe", "pipe"] });
    let partial = "";
    this.child.stdout!.on("data", (chunk: Buffer) => {
      partial += chunk.toString();
      const lines = partial.split("\n");
      partial = lines.pop()!;
      for (const line of lines) {
        if (!line.trim()) continue;
        let log: KeeperLog;
        try {
          log = JSON.parse(line) as KeeperLog;
        } catch {
          log = { level: 60, msg: `not JSON: ${line}` };
        }
        this.logs.push(log);
        for (const waiter of [...this.waiters]) {
          if (waiter.test(log)) {
            this.waiters.splice(this.waiters.indexOf(waiter), 1);
            waiter.resolve(log);
          }
        }
      }
    });
    this.child.stderr!.on("data", (chunk: Buffer) => (this.stderr += chunk.toString()));
    this.exited = new Promise((resolve) => this.child.on("exit", (code, signal) => resolve({ code, signal })));
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** The first log line (already seen or to come) for which `test` holds. */
  waitFor(test: (log: KeeperLog) => boolean, what: string, timeoutMs = 120_000): Promise<KeeperLog> {
    const seen = this.logs.find(test);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(
            new Error(
              `keeper: no log line "${what}" within ${timeoutMs} ms; last lines:\n${this.logs
                .slice(-15)
                .map((l) => JSON.stringify(l))
                .join("\n")}\nstderr: ${this.stderr}`,
            ),
          ),
        timeoutMs,
      );
      const exit = this.exited.then(({ code, signal }) =>
        reject(
          new Error(
            `keeper exited (${code ?? signal}) before "${what}"; last lines:\n${this.logs
              .slice(-15)
              .map((l) => JSON.stringify(l))
              .join("\n")}\nstderr: ${this.stderr}`,
          ),
        ),
      );
      void exit;
      this.waiters.push({
        test,
        resolve: (log) => {
          clearTimeout(timer);
          resolve(log);
        },
      });
    });
  }

  event(name: string, extra: (log: KeeperLog) => boolean = () => true, timeoutMs?: number): Promise<KeeperLog> {
    return this.waitFor((log) => log.event === name && extra(log), `event ${name}`, timeoutMs);
  }

  kill(signal: NodeJS.Signals): void {
    this.child.kill(signal);
  }

  /** Ends the child if a failed test left it running. */
  async cleanup(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      this.child.kill("SIGKILL");
      await this.exited;
    }
  }
}

/**
 * A JSON-RPC forwarder on 127.0.0.1 in front of `target`: `stop()` closes it and every open
 * connection (the keeper sees connection refused), `start()` listens again on the same port.
 */
export class RpcProxy {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  port = 0;
  /** The JSON-RPC methods it forwarded, in order. */
  readonly methods: string[] = [];

  constructor(private readonly target: string) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    const target = new URL(this.target);
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (chunk: Buffer) => chunks.push(chunk));
      req.on("end", () => {
        const body = Buffer.concat(chunks);
        try {
          const parsed = JSON.parse(body.toString()) as { method?: string } | { method?: string }[];
          for (const call of Array.isArray(parsed) ? parsed : [parsed]) if (call.method) this.methods.push(call.method);
        } catch {
          // not JSON: forwarded as it is
        }
        const forward = httpRequest(
          {
            hostname: target.hostname,
            port: target.port,
            path: target.pathname,
            method: req.method,
            headers: { ...req.headers, host: target.host, "content-length": body.length },
          },
          (upstream) => {
            res.writeHead(upstream.statusCode ?? 502, upstream.headers);
            upstream.pipe(res);
          },
        );
        forward.on("error", () => res.writeHead(502).end());
        forward.end(body);
      });
    });
    server.on("connection", (socket) => {
      this.sockets.add(socket);
      socket.on("close", () => this.sockets.delete(socket));
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(this.port, "127.0.0.1", () => resolve());
    });
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
