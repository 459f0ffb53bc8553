import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { availableParallelism, cpus, loadavg, totalmem, type as osType, release } from "node:os";
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
  /** The 1-minute load average sampled every 10 s during the run: above `cores`, other work shared the cores and times are inflated. */
  load?: { mean: number; max: number; samples: number };
}

/**
 * Samples the 1-minute load average every 10 s from now until the returned function is called,
 * which gives the mean and the maximum: a benchmark run on a shared machine says so.
 */
export function sampleLoad(): () => Machine["load"] {
  const samples = [loadavg()[0]!];
  const timer = setInterval(() => samples.push(loadavg()[0]!), 10_000);
  timer.unref();
  return () => {
    clearInterval(timer);
    samples.push(loadavg()[0]!);
    const round = (x: number) => Math.round(x * 100) / 100;
    return { mean: round(samples.reduce((a, b) => a + b, 0) / samples.length), max: round(Math.max(...samples)), samples: samples.length };
  };
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
