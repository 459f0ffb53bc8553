/**
 * The workspace packages as a user gets them: `npm pack` of each (its prepack script builds
 * dist/), installed into fresh projects outside the repository. For test/packages.e2e.test.ts.
 */
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { PACKAGE_ROOT } from "../../packages/node/src/setup/paths.ts";

/** Every workspace package, dependencies first (the order their builds need). */
export const WORKSPACE_PACKAGES = ["sdk", "contracts", "circuits", "node", "cli"] as const;
export type WorkspacePackage = (typeof WORKSPACE_PACKAGES)[number];

export interface PackedPackage {
  name: string;
  tarball: string;
  /** The tarball's size, and the files' total once unpacked. */
  bytes: number;
  unpackedBytes: number;
  /** Paths inside the package, as `npm pack --json` lists them. */
  files: string[];
  /** How long its pack (its prepack build included) took. */
  seconds: number;
}

/**
 * The environment for the npm commands: this process's, less what `npm run` exports about the
 * repository's own package and config (npm_package_*, npm_lifecycle_*, npm_config_* other than
 * where the registry and cache are), which would otherwise leak into the consumer projects.
 */
export function npmEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const keep = new Set([
    "npm_config_registry",
    "npm_config_cache",
    "npm_config_cafile",
    "npm_config_userconfig",
    "npm_config_globalconfig",
    "npm_config_strict_ssl",
    "npm_config_proxy",
    "npm_config_https_proxy",
    "npm_config_noproxy",
  ]);
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (/^npm_(package|lifecycle|config)_/.test(key) && !keep.has(key)) continue;
    if (key === "INIT_CWD" || key === "npm_command" || key === "npm_execpath" || key === "npm_node_execpath") continue;
    // Vite's build() sets NODE_ENV=production in this process (test/vault-page.e2e.test.ts runs it
    // earlier in the same mocha run), and npm install then omits a consumer's devDependencies.
    if (key === "NODE_ENV") continue;
    env[key] = value;
  }
  return { ...env, npm_config_update_notifier: "false", npm_config_fund: "false", npm_config_audit: "false", ...extra };
}

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
  seconds: number;
}

/** Runs `command args` in `cwd` to completion (never through a shell), collecting its output. */
export function run(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = npmEnv(), timeoutMs = 600_000): Promise<RunResult> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.once("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, seconds: (Date.now() - started) / 1000 });
    });
  });
}

/** A temporary directory outside the repository (under the OS's temp dir). */
export function tempDir(prefix: string): string {
  return mkdtempSync(path.join(os.tmpdir(), `zks-${prefix}-`));
}

let packing: Promise<Record<WorkspacePackage, PackedPackage>> | undefined;
let packDir: string | undefined;

/**
 * `npm pack` of every workspace package into one temporary directory, once per test run (every
 * caller shares the same tarballs). Packs one at a time, dependencies first: each prepack builds
 * its package's dist/ against the dist/ of those before it.
 */
export function packWorkspace(): Promise<Record<WorkspacePackage, PackedPackage>> {
  packing ??= (async () => {
    packDir = tempDir("packs");
    const packed = {} as Record<WorkspacePackage, PackedPackage>;
    for (const name of WORKSPACE_PACKAGES) {
      const dir = path.join(PACKAGE_ROOT, "packages", name);
      const result = await run("npm", ["pack", "--pack-destination", packDir, "--json"], dir);
      if (result.code !== 0) throw new Error(`npm pack in packages/${name} failed (exit ${result.code}):\n${result.stdout.slice(-4000)}\n${result.stderr.slice(-4000)}`);
      const [report] = JSON.parse(result.stdout) as { name: string; filename: string; size: number; unpackedSize: number; files: { path: string }[] }[];
      const tarball = path.join(packDir, report!.filename);
      packed[name] = {
        name: report!.name,
        tarball,
        bytes: statSync(tarball).size,
        unpackedBytes: report!.unpackedSize,
        files: report!.files.map((f) => f.path),
        seconds: result.seconds,
      };
    }
    return packed;
  })();
  return packing;
}

/** Removes the packed tarballs (at the end of the run). */
export function removePacks(): void {
  if (packDir) rmSync(packDir, { recursive: true, force: true });
}

export interface ConsumerProject {
  dir: string;
  /** The install's own report (npm's last lines) and how long it took. */
  installSeconds: number;
  /** Whether node_modules holds a package of that name (at any depth). */
  has(name: string): boolean;
  /** node_modules' size on disk, in bytes. */
  nodeModulesBytes(): number;
  remove(): void;
}

/**
 * A fresh project in a temporary directory (`type: module`) whose dependencies are `install`
 * (workspace packages, from their tarballs) and `registry` (name -> version, from the npm
 * registry), installed with `npm install`. The other workspace packages are not on the registry:
 * `overrides` points every @zk-solvency/* name at its tarball, so a package's own dependency on
 * its siblings installs them from the tarballs too, and only those it declares.
 */
export async function consumerProject(
  label: string,
  packed: Record<WorkspacePackage, PackedPackage>,
  install: WorkspacePackage[],
  registry: Record<string, string> = {},
): Promise<ConsumerProject> {
  const dir = tempDir(label);
  const spec = (name: WorkspacePackage) => `file:${packed[name].tarball}`;
  const manifest = {
    name: `zks-consumer-${label}`,
    private: true,
    type: "module",
    dependencies: Object.fromEntries(install.map((name) => [packed[name].name, spec(name)])),
    devDependencies: registry,
    overrides: Object.fromEntries(WORKSPACE_PACKAGES.map((name) => [packed[name].name, spec(name)])),
  };
  writeFileSync(path.join(dir, "package.json"), `${JSON.stringify(manifest, null, 2)}\n`);
  const result = await run("npm", ["install", "--no-audit", "--no-fund", "--prefer-offline"], dir);
  if (result.code !== 0) throw new Error(`npm install in ${dir} failed (exit ${result.code}):\n${result.stdout.slice(-4000)}\n${result.stderr.slice(-4000)}`);
  const modules = path.join(dir, "node_modules");
  const installed = new Set<string>();
  const collect = (base: string) => {
    for (const entry of readdirSync(base, { withFileTypes: true })) {
      if (!entry.isDirectory() || entry.name.startsWith(".")) continue;
      if (entry.name.startsWith("@")) {
        for (const scoped of readdirSync(path.join(base, entry.name), { withFileTypes: true })) {
          if (!scoped.isDirectory()) continue;
          installed.add(`${entry.name}/${scoped.name}`);
          const nested = path.join(base, entry.name, scoped.name, "node_modules");
          if (statSafe(nested)) collect(nested);
        }
      } else {
        installed.add(entry.name);
        const nested = path.join(base, entry.name, "node_modules");
        if (statSafe(nested)) collect(nested);
      }
    }
  };
  collect(modules);
  return {
    dir,
    installSeconds: result.seconds,
    has: (name) => installed.has(name),
    nodeModulesBytes: () => diskUsage(modules),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

function statSafe(file: string): boolean {
  try {
    return statSync(file).isDirectory();
  } catch {
    return false;
  }
}

function diskUsage(dir: string): number {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) total += diskUsage(full);
    else if (entry.isFile()) total += statSync(full).size;
  }
  return total;
}

/** Writes `files` (relative path -> text) into `dir`. */
export function writeFiles(dir: string, files: Record<string, string>): void {
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    writeFileSync(path.join(dir, name), text);
  }
}

/** `bytes` as KiB or MiB, for the report lines. */
export const size = (bytes: number): string => (bytes >= 1024 * 1024 ? `${(bytes / 1024 / 1024).toFixed(1)} MiB` : `${(bytes / 1024).toFixed(0)} KiB`);
