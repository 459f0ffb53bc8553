import { fileURLToPath } from "node:url";
import path from "node:path";

/** The package root: circuits/, contracts/ and node_modules/ are found from here. */
export const PACKAGE_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

export interface BuildPaths {
  /** Where circuit builds live: `<buildDir>/circuits/<instance>/`. */
  buildDir: string;
  /** Where generated Solidity verifiers are written (compiled by hardhat with the rest). */
  generatedContractsDir: string;
}

/**
 * Default locations, overridable with ZKS_BUILD_DIR for users who keep artifacts elsewhere and
 * ZKS_GENERATED_CONTRACTS_DIR for the verifiers (hardhat compiles only contracts/generated, so
 * the override is for a build that must leave the checkout's verifiers alone, e.g. a test
 * installing a ceremony key).
 */
export function defaultBuildPaths(env: NodeJS.ProcessEnv = process.env): BuildPaths {
  return {
    buildDir: path.resolve(env.ZKS_BUILD_DIR ?? path.join(PACKAGE_ROOT, "build")),
    generatedContractsDir: path.resolve(env.ZKS_GENERATED_CONTRACTS_DIR ?? path.join(PACKAGE_ROOT, "contracts", "generated")),
  };
}

export function instanceDir(paths: BuildPaths, instance: string): string {
  return path.join(paths.buildDir, "circuits", instance);
}
