import { createRequire } from "node:module";
import { homedir } from "node:os";
import { fileURLToPath } from "node:url";
import path from "node:path";

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);

/**
 * The repository root when this package runs from a source checkout (this module is then
 * packages/node/src/setup/paths.ts), undefined when it runs installed from its dist/.
 */
export const CHECKOUT_ROOT: string | undefined = import.meta.url.endsWith(".ts") ? path.resolve(here, "../../../..") : undefined;

/**
 * Where the checkout's tools look for hardhat's config, artifacts/, deployments/ and
 * benchmarks/: the repository root in a checkout, the working directory in an install.
 */
export const PACKAGE_ROOT: string = CHECKOUT_ROOT ?? process.cwd();

/** The circuit sources and packages/circuits/instances.json: the @zk-solvency/circuits package. */
export const CIRCUITS_DIR: string = path.dirname(require.resolve("@zk-solvency/circuits/package.json"));

/** The Solidity sources: the @zk-solvency/contracts package. */
export const CONTRACTS_PACKAGE_DIR: string = path.dirname(require.resolve("@zk-solvency/contracts/package.json"));

export interface BuildPaths {
  /** Where circuit builds live: `<buildDir>/circuits/<instance>/`. */
  buildDir: string;
  /** Where generated Solidity verifiers are written. */
  generatedContractsDir: string;
}

/** The per-user cache an installed toolkit builds in: $XDG_CACHE_HOME/zk-solvency, else ~/.cache/zk-solvency. */
export function userCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(env.XDG_CACHE_HOME || path.join(homedir(), ".cache"), "zk-solvency");
}

/**
 * Default locations. Never inside node_modules: an install's builds would vanish with the next
 * `npm install`, and a build there is shared by every project using that copy.
 *   - ZKS_BUILD_DIR if set; else the checkout's build/ in a source checkout; else the user cache.
 *   - Verifiers: ZKS_GENERATED_CONTRACTS_DIR if set; else `<buildDir>/contracts`, except in a
 *     checkout with no ZKS_BUILD_DIR, where they go to packages/contracts/contracts/generated so
 *     hardhat compiles them with the rest.
 */
export function defaultBuildPaths(env: NodeJS.ProcessEnv = process.env): BuildPaths {
  const buildDir = path.resolve(env.ZKS_BUILD_DIR ?? (CHECKOUT_ROOT ? path.join(CHECKOUT_ROOT, "build") : path.join(userCacheDir(env), "build")));
  const checkoutVerifiers = CHECKOUT_ROOT && env.ZKS_BUILD_DIR === undefined ? path.join(CONTRACTS_PACKAGE_DIR, "contracts", "generated") : undefined;
  return {
    buildDir,
    generatedContractsDir: path.resolve(env.ZKS_GENERATED_CONTRACTS_DIR ?? checkoutVerifiers ?? path.join(buildDir, "contracts")),
  };
}

export function instanceDir(paths: BuildPaths, instance: string): string {
  return path.join(paths.buildDir, "circuits", instance);
}
