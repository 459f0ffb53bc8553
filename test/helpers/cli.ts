import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import path from "node:path";
import { PACKAGE_ROOT } from "../../src/setup/paths.ts";

export const ZKS = path.join(PACKAGE_ROOT, "bin", "zks.js");

/** Runs the zks CLI as a user would (a child process, no debug stacks). */
export function zks(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [ZKS, ...args], { encoding: "utf8", env: { ...process.env, ZKS_DEBUG: "" } });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** One clear line on stderr, no stack trace, nothing on stdout. */
export function assertOneLineError(result: { stdout: string; stderr: string }, fragment: RegExp): void {
  const lines = result.stderr.trim().split("\n");
  assert.equal(lines.length, 1, `expected one line, got:\n${result.stderr}`);
  assert.match(lines[0]!, fragment);
  assert.doesNotMatch(result.stderr, /\bat .+:\d+:\d+/);
  assert.equal(result.stdout, "");
}
