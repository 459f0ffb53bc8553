import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import path from "node:path";
import { PACKAGE_ROOT } from "../../packages/node/src/setup/paths.ts";

export const ZKS = path.join(PACKAGE_ROOT, "packages", "cli", "bin", "zks.js");

/** Runs the zks CLI as a user would (a child process, no debug stacks). */
export function zks(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [ZKS, ...args], { encoding: "utf8", env: { ...process.env, ZKS_DEBUG: "" } });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/**
 * The CLI as a child process without blocking this process's event loop: needed while a hardhat
 * node (or a fake endpoint) is served by this process. `env` is added to this process's.
 */
export function zksAsync(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [ZKS, ...args], { env: { ...process.env, ZKS_DEBUG: "", ...env }, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

/** One clear line on stderr, no stack trace, nothing on stdout. */
export function assertOneLineError(result: { stdout: string; stderr: string }, fragment: RegExp): void {
  const lines = result.stderr.trim().split("\n");
  assert.equal(lines.length, 1, `expected one line, got:\n${result.stderr}`);
  assert.match(lines[0]!, fragment);
  assert.doesNotMatch(result.stderr, /\bat .+:\d+:\d+/);
  assert.equal(result.stdout, "");
}
