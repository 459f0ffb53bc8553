/**
 * A real Redis for the queue's tests: Debian's `redis-server`, on 127.0.0.1 only, on a free port,
 * without persistence (`--save "" --appendonly no`), in a temporary directory removed when it
 * stops. Tests skip without redis-server unless ZKS_REQUIRE_REDIS=1 (CI sets it: there, a missing
 * Redis is a failure, not a skip).
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createConnection } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { freePort } from "./local-node.ts";

export interface LocalRedis {
  url: string;
  port: number;
  stop(): Promise<void>;
}

/** The redis-server on PATH (or in /usr/bin, where Debian puts it), if any. */
export function redisServerBinary(): string | undefined {
  for (const candidate of ["redis-server", "/usr/bin/redis-server", "/usr/sbin/redis-server"]) {
    const probe = spawnSync(candidate, ["--version"], { encoding: "utf8" });
    if (probe.status === 0 && /Redis server/.test(probe.stdout)) return candidate;
  }
  return undefined;
}

/** Skips the suite (mocha's `this`) when there is no redis-server, unless ZKS_REQUIRE_REDIS=1. */
export function requireRedisOrSkip(context: Mocha.Context): string | undefined {
  const binary = redisServerBinary();
  if (binary) return binary;
  if (process.env.ZKS_REQUIRE_REDIS === "1") throw new Error("ZKS_REQUIRE_REDIS=1 but no redis-server: apt-get install -y redis-server");
  context.skip();
  return undefined;
}

/** PING over a raw socket: true once the server answers +PONG. */
function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: "127.0.0.1", port });
    let answer = "";
    socket.setTimeout(1_000, () => socket.destroy());
    socket.on("connect", () => socket.write("PING\r\n"));
    socket.on("data", (chunk) => {
      answer += chunk.toString();
      if (answer.includes("\r\n")) socket.end();
    });
    socket.on("close", () => resolve(answer.startsWith("+PONG")));
    socket.on("error", () => resolve(false));
  });
}

/** Starts redis-server on 127.0.0.1 and a free port; `stop()` ends it and removes its directory. */
export async function startRedis(binary = redisServerBinary() ?? "redis-server", timeoutMs = 20_000): Promise<LocalRedis> {
  const port = await freePort();
  const dir = mkdtempSync(path.join(tmpdir(), "zks-redis-"));
  const args = ["--bind", "127.0.0.1", "--port", String(port), "--save", "", "--appendonly", "no", "--dir", dir, "--protected-mode", "yes", "--daemonize", "no"];
  const server: ChildProcess = spawn(binary, args, { stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  const keep = (chunk: Buffer) => (output = (output + chunk.toString()).slice(-8_000));
  server.stdout!.on("data", keep);
  server.stderr!.on("data", keep);
  const stop = async () => {
    if (server.exitCode === null && server.signalCode === null) {
      const exited = new Promise((resolve) => server.once("exit", resolve));
      server.kill("SIGTERM");
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5_000))]);
      if (server.exitCode === null && server.signalCode === null) server.kill("SIGKILL");
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (server.exitCode !== null) {
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`redis-server exited (${server.exitCode}):\n${output}`);
    }
    if (await ping(port)) return { url: `redis://127.0.0.1:${port}`, port, stop };
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  await stop();
  throw new Error(`redis-server did not answer on 127.0.0.1:${port} within ${timeoutMs} ms:\n${output}`);
}
