/**
 * Which keys the verifiers `zks deploy` would put on chain, and whether it may: a development key
 * (one contribution by the machine that ran `zks setup`) lets whoever ran it forge proofs, so it
 * goes only to a local chain unless the deployer says otherwise.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { verifierContractName } from "./groth16-setup.ts";
import { loadInstances } from "./instances.ts";
import { readManifest } from "./manifest.ts";
import { defaultBuildPaths, instanceDir, PACKAGE_ROOT, type BuildPaths } from "./paths.ts";

/** Chain ids of local development chains (hardhat's; ganache's and geth --dev's 1337): the only ones a development key goes to unasked. */
export const LOCAL_CHAIN_IDS: readonly bigint[] = [31337n, 1337n];

/** The key a verifier contract would be deployed with, as far as this build can tell. */
export interface VerifierKey {
  contract: string;
  instance: string | null;
  /** "unknown": the compiled contract carries no key built in this build directory (stale artifacts, another build). */
  kind: "development" | "ceremony" | "unknown";
  verificationKeyHash: string | null;
}

/**
 * The hardhat artifact is what gets deployed, so the manifest's key counts only when the
 * artifact's bytecode carries its VERIFICATION_KEY_HASH: a ceremony key installed after the last
 * `npx hardhat compile` does not make the compiled development verifier deployable.
 */
export function verifierKeys(contracts: string[], paths: BuildPaths = defaultBuildPaths()): VerifierKey[] {
  const instances = loadInstances();
  return contracts.map((contract) => {
    const instance = instances.find((i) => verifierContractName(i.name) === contract)?.name ?? null;
    const manifest = instance ? readManifest(instanceDir(paths, instance)) : undefined;
    const hash = manifest?.setupKey ? (manifest.verificationKeyHash ?? null) : null;
    let bytecode = "";
    try {
      const artifact = path.join(PACKAGE_ROOT, "artifacts", "contracts", "generated", `${contract}.sol`, `${contract}.json`);
      bytecode = String((JSON.parse(readFileSync(artifact, "utf8")) as { bytecode?: unknown }).bytecode ?? "").toLowerCase();
    } catch {
      // Not compiled: the deploy reports that itself; for the key check it is unknown.
    }
    if (!manifest || !hash || !bytecode.includes(hash.slice(2).toLowerCase())) return { contract, instance, kind: "unknown", verificationKeyHash: hash };
    return { contract, instance, kind: manifest.keySource?.kind ?? "development", verificationKeyHash: hash };
  });
}

/**
 * Whether the deploy refuses: a verifier whose key is not a ceremony's, on a chain that is not
 * local, unless the deployer passed --allow-development-keys. The message is the one line printed.
 */
export function developmentKeyRefusal(chainId: bigint, keys: VerifierKey[], allowDevelopmentKeys: boolean): string | undefined {
  if (allowDevelopmentKeys || LOCAL_CHAIN_IDS.includes(chainId)) return undefined;
  const refused = keys.filter((key) => key.kind !== "ceremony");
  if (refused.length === 0) return undefined;
  const what = refused.map((key) => `${key.contract} (${key.kind === "unknown" ? "its compiled key matches no key in the build; run `zks setup` and `npx hardhat compile`" : "development key"})`).join(", ");
  return `chain ${chainId} is not a local chain (${LOCAL_CHAIN_IDS.join(", ")}) and these verifiers have no ceremony key: ${what}; whoever made a development key can forge proofs. Install ceremony keys (\`zks ceremony\`, then \`zks setup --zkey\`, then \`npx hardhat compile\`) or pass --allow-development-keys`;
}
