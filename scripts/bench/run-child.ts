import { spawn } from "node:child_process";
import path from "node:path";
import { PACKAGE_ROOT } from "../../packages/node/src/setup/paths.ts";

const TSX_CLI = path.join(PACKAGE_ROOT, "node_modules", "tsx", "dist", "cli.mjs");

/** Runs a bench script in a fresh Node process and returns the JSON it reports. */
export function runChild<T>(script: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<T> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [TSX_CLI, path.join(PACKAGE_ROOT, script), ...args], {
      cwd: PACKAGE_ROOT,
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => (stdout += chunk));
    child.stderr.on("data", (chunk) => (stderr += chunk));
    child.on("close", (code) => {
      const line = stdout.split("\n").find((l) => l.startsWith("BENCH_RESULT "));
      if (code === 0 && line) resolve(JSON.parse(line.slice("BENCH_RESULT ".length)) as T);
      else reject(new Error(`${script} ${args.join(" ")} exited with ${code}:\n${stderr.trim().split("\n").slice(-8).join("\n")}`));
    });
  });
}
