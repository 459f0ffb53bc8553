import { spawn, type ChildProcess } from "node:child_process";
import { createRequire } from "node:module";
import { createServer } from "node:net";
import path from "node:path";
import { PACKAGE_ROOT } from "../../packages/node/src/setup/paths.ts";

const require = createRequire(import.meta.url);
const HARDHAT_CLI = path.join(path.dirname(require.resolve("hardhat/package.json")), "dist", "src", "cli.js");

/** Hardhat's public development mnemonic: its node funds these accounts. Never a real key. */
export const HARDHAT_MNEMONIC = "test test test test test test test test test test test junk";

/** A port free on the loopback interface right now. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export interface LocalNode {
  url: string;
  stop(): Promise<void>;
}

/**
 * A `hardhat node` on 127.0.0.1 (loopback only: hardhat binds 0.0.0.0 inside containers
 * otherwise), ready once it answers eth_chainId; `stop()` ends it. `chainId` makes it pose as
 * another chain (e.g. a testnet's id), for checks that treat local chains differently.
 */
export async function startLocalNode(timeoutMs = 120_000, chainId?: number): Promise<LocalNode> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const args = [HARDHAT_CLI, "node", "--hostname", "127.0.0.1", "--port", String(port), ...(chainId === undefined ? [] : ["--chain-id", String(chainId)])];
  const node: ChildProcess = spawn(process.execPath, args, { cwd: PACKAGE_ROOT, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  const keep = (chunk: Buffer) => (output = (output + chunk.toString()).slice(-20_000));
  node.stdout!.on("data", keep);
  node.stderr!.on("data", keep);
  const stop = async () => {
    if (node.exitCode !== null) return;
    const exited = new Promise((resolve) => node.once("exit", resolve));
    node.kill("SIGTERM");
    await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5_000))]);
    if (node.exitCode === null && node.signalCode === null) node.kill("SIGKILL");
  };
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (node.exitCode !== null) throw new Error(`hardhat node exited (${node.exitCode}):\n${output}`);
    try {
      const response = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_chainId", params: [] }),
      });
      if (response.ok) return { url, stop };
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  await stop();
  throw new Error(`hardhat node did not answer on ${url} within ${timeoutMs} ms:\n${output}`);
}
