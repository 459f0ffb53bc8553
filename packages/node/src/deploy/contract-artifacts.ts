/**
 * The compiled contracts `deployStack` deploys, as `{ abi, bytecode }`: no hardhat at run time.
 *
 * - The gate, oracle, registry, lender and test token come from @zk-solvency/contracts'
 *   `artifacts/<Name>.json` (exported from hardhat's build when that package is packed). In a
 *   source checkout hardhat's own artifacts (`npm run compile:contracts`) come first: they are
 *   what the checkout's sources compile to now, while the package's copy is refreshed only when
 *   it is built.
 * - The verifiers come from each instance's `verifier.json`, compiled by `zks setup`
 *   (setup/verifier-artifact.ts), in whatever build directory is in use.
 */
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { SetupError } from "@zk-solvency/sdk/core";
import { CHECKOUT_ROOT, instanceDir, type BuildPaths } from "../setup/paths.ts";
import { readVerifierArtifact, SOLC_HINT, VERIFIER_ARTIFACT_FILE, type VerifierArtifact } from "../setup/verifier-artifact.ts";

const require = createRequire(import.meta.url);

/** The contracts deployStack uses besides the verifiers (TestToken only for test tokens). */
export type StackContract = "MarketOracle" | "RebalanceGate" | "AuditRegistry" | "LenderVault" | "TestToken";

export interface ContractArtifact {
  contractName: string;
  abi: unknown[];
  bytecode: string;
  /** Where it was read from, for messages. */
  file: string;
}

/** Hardhat's artifact of `name` in a checkout (its source may sit in packages/contracts/contracts/ or packages/contracts/contracts/test/). */
function hardhatArtifactFile(name: string): string | undefined {
  if (!CHECKOUT_ROOT) return undefined;
  const base = path.join(CHECKOUT_ROOT, "artifacts", "packages", "contracts", "contracts");
  return [path.join(base, `${name}.sol`, `${name}.json`), path.join(base, "test", `${name}.sol`, `${name}.json`)].find((file) => existsSync(file));
}

/** @zk-solvency/contracts' exported artifact of `name`, when the package has one. */
function packageArtifactFile(name: string): string | undefined {
  try {
    return require.resolve(`@zk-solvency/contracts/artifacts/${name}.json`);
  } catch {
    return undefined;
  }
}

/**
 * Reads `{ abi, bytecode }` of a stack contract; a missing or malformed artifact is a setup
 * problem (exit 3) saying where it was looked for.
 */
export function readContractArtifact(name: StackContract): ContractArtifact {
  const file = hardhatArtifactFile(name) ?? packageArtifactFile(name);
  if (!file) {
    throw new SetupError(
      CHECKOUT_ROOT
        ? `no compiled contract ${name}: run \`npm run compile:contracts\``
        : `no compiled contract ${name}: @zk-solvency/contracts ships artifacts/${name}.json; reinstall it (npm install @zk-solvency/contracts)`,
    );
  }
  let json: { contractName?: unknown; abi?: unknown; bytecode?: unknown };
  try {
    json = JSON.parse(readFileSync(file, "utf8")) as typeof json;
  } catch {
    throw new SetupError(`${file}: malformed JSON`);
  }
  if (!Array.isArray(json.abi)) throw new SetupError(`${file}: abi: not an array`);
  if (typeof json.bytecode !== "string" || !/^0x([0-9a-fA-F]{2})+$/.test(json.bytecode)) {
    // Unlinked library placeholders (__$…$__) would land here too: no stack contract links one.
    throw new SetupError(`${file}: bytecode: not deployable 0x-hex code`);
  }
  return { contractName: typeof json.contractName === "string" ? json.contractName : name, abi: json.abi, bytecode: json.bytecode, file };
}

/**
 * The verifier of `instance` as `zks setup` compiled it (`<instanceDir>/verifier.json`); a setup
 * problem (exit 3) when it is missing, saying how to make it.
 */
export function readVerifierContract(instance: string, paths: BuildPaths): VerifierArtifact & { file: string } {
  const dir = instanceDir(paths, instance);
  const file = path.join(dir, VERIFIER_ARTIFACT_FILE);
  const artifact = readVerifierArtifact(dir);
  if (!artifact) {
    const built = existsSync(path.join(dir, "manifest.json"));
    throw new SetupError(
      built
        ? `${file} is missing: \`zks setup --instance ${instance}\` compiles the verifier when solc is installed; ${SOLC_HINT}`
        : `no build of ${instance} in ${paths.buildDir}: run \`zks setup --instance ${instance}\` (or \`zks keys fetch\`)`,
    );
  }
  if (artifact.instance !== instance) throw new SetupError(`${file}: instance: "${artifact.instance}", not ${instance}; run \`zks setup --instance ${instance}\``);
  return { ...artifact, file };
}
