/**
 * Which modules a child process loads: a module-loader hook (passed with `--import`) appends
 * every URL the process loads to a file. Used to check that a command imports only what it
 * needs (no hardhat, no scripts/, no other command's module).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";

const HOOK = `import { appendFileSync } from "node:fs";
export async function load(url, context, next) {
  appendFileSync(process.env.ZKS_TRACE_FILE, url + "\\n");
  return next(url, context);
}`;

export interface ModuleTrace {
  /** Node options to put before the script: `--import <registering module>`. */
  nodeArgs: string[];
  /** Environment variables the hook reads. */
  env: NodeJS.ProcessEnv;
  /** Every URL loaded so far, in order. */
  loaded(): string[];
  dispose(): void;
}

export function moduleTrace(): ModuleTrace {
  const dir = mkdtempSync(path.join(tmpdir(), "zks-trace-"));
  const register = path.join(dir, "register.mjs");
  const file = path.join(dir, "loaded.txt");
  writeFileSync(register, `import { register } from "node:module";\nregister(${JSON.stringify(`data:text/javascript,${encodeURIComponent(HOOK)}`)});\n`);
  writeFileSync(file, "");
  return {
    nodeArgs: ["--import", pathToFileURL(register).href],
    env: { ZKS_TRACE_FILE: file },
    loaded: () => readFileSync(file, "utf8").split("\n").filter(Boolean),
    dispose: () => rmSync(dir, { recursive: true, force: true }),
  };
}
