import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { availableParallelism, cpus, totalmem, type as osType, release } from "node:os";
import path from "node:path";
import { PACKAGE_ROOT } from "../../packages/node/src/setup/paths.ts";

export interface Machine {
  cpu: string;
  cores: number;
  memoryGiB: number;
  os: string;
  node: string;
  snarkjs: string;
  circom2: string;
  commit: string;
  date: string;
}

const versionOf = (pkg: string): string => (JSON.parse(readFileSync(path.join(PACKAGE_ROOT, "node_modules", pkg, "package.json"), "utf8")) as { version: string }).version;

function commit(): string {
  try {
    const hash = execFileSync("git", ["rev-parse", "--short", "HEAD"], { cwd: PACKAGE_ROOT, encoding: "utf8" }).trim();
    // The bench's own outputs (rewritten during the run) do not make the measured code dirty.
    const dirty = execFileSync("git", ["status", "--porcelain", "--untracked-files=no", "--", ".", ":!BENCHMARKS.md", ":!benchmarks"], {
      cwd: PACKAGE_ROOT,
      encoding: "utf8",
    }).trim();
    return dirty ? `${hash} (with uncommitted changes)` : hash;
  } catch {
    return "unknown (not a git checkout)";
  }
}

export function describeMachine(): Machine {
  return {
    cpu: cpus()[0]?.model.trim() ?? "unknown",
    cores: availableParallelism(),
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    os: `${osType()} ${release()}`,
    node: process.version,
    snarkjs: versionOf("snarkjs"),
    circom2: versionOf("circom2"),
    commit: commit(),
    date: new Date().toISOString().slice(0, 10),
  };
}
