/**
 * `zks verify` as a function: a proof file checked under its instance's key, pinned by a source
 * other than the file (this machine's build, a --key-hash, a deployments file, or the deployed
 * verifier's code), then its metadata, and optionally a market, a policy and a deployment,
 * against its public signals. Options are named as the command's flags, and so are the inputs in
 * error messages.
 */
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { getAddress, type Provider } from "ethers";
import type { VerificationKey } from "snarkjs";
import { z } from "zod";
import { InputError, SetupError, ZksError } from "@zk-solvency/sdk/core";
import type { Market, Policy } from "@zk-solvency/sdk/inputs";
import { parseProofFile } from "@zk-solvency/sdk/proof-file";
import {
  canonicalVerificationKey,
  isProofFileTemplate,
  ProofKeyError,
  VerificationKeyShapeError,
  verificationKeyHash,
  type ChainBinding,
  type CompiledRuntime,
  type InstanceDeclaration,
  type VerifiedProofFile,
} from "@zk-solvency/sdk/verifier";
import { verifyProofFileWorkflow } from "@zk-solvency/sdk/workflows";
import { readJsonFile } from "../read-json.ts";
import { loadInstances, type InstanceConfig } from "../setup/instances.ts";
import { keyDeployable, manifestFiles, readManifest, type KeySource } from "../setup/manifest.ts";
import { CHECKOUT_ROOT, defaultBuildPaths, instanceDir, PACKAGE_ROOT, type BuildPaths } from "../setup/paths.ts";
import { loadMarketFile, loadPolicyFile } from "./load-inputs.ts";

/** The instance of packages/circuits/instances.json the file names; the name was checked as [a-z0-9-]+ when the file was parsed. */
function declaredInstance(name: string, source: string): InstanceConfig {
  const declared = loadInstances().find((instance) => instance.name === name);
  if (!declared) throw new InputError(source, "zks.instance", `"${name}" is not an instance of circuits/instances.json`);
  if (!isProofFileTemplate(declared.template))
    throw new InputError(source, "zks.instance", `${name} is an ${declared.template} instance; audit proofs are checked with \`zks audit verify\``);
  return declared;
}

interface BuiltKey {
  dir: string;
  key: VerificationKey;
  /** Computed from verification_key.json itself, not read from the manifest. */
  hash: string;
  keySource: KeySource | { kind: "development" };
}

/**
 * This machine's build of the instance, when there is one: its key, and that key's fingerprint
 * computed from the key file (the manifest's field is only a record of it). The manifest must
 * describe the instance packages/circuits/instances.json declares: template, parameters and signal names
 * come from instances.json while the key comes from the build, so a stale build is a setup error.
 */
function builtKey(declared: InstanceConfig, paths: BuildPaths): BuiltKey | undefined {
  const dir = instanceDir(paths, declared.name);
  const manifest = readManifest(dir);
  if (!manifest?.setupKey) return undefined;
  const rebuild = `run \`zks setup --instance ${declared.name}\``;
  const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
  for (const field of ["template", "params", "publicSignals"] as const) {
    if (!same(manifest[field], declared[field])) {
      throw new SetupError(
        `the build of ${declared.name} (${dir}) is stale: its manifest's ${field} ${JSON.stringify(manifest[field])} is not circuits/instances.json's ${JSON.stringify(declared[field])}; ${rebuild}`,
      );
    }
  }
  if (manifest.verificationKeyHash === undefined) throw new SetupError(`circuit instance "${declared.name}" was built before verification keys were fingerprinted; ${rebuild}`);
  const file = manifestFiles(dir, manifest).vkey;
  let key: VerificationKey;
  try {
    key = canonicalVerificationKey(JSON.parse(readFileSync(file, "utf8")));
  } catch (error) {
    throw new SetupError(`${file}: not a usable verification key (${(error as Error).message}); ${rebuild}`);
  }
  const hash = verificationKeyHash(key);
  if (hash !== manifest.verificationKeyHash) {
    throw new SetupError(`${file}: its hash is ${hash} but the manifest records ${manifest.verificationKeyHash}: an inconsistent build; ${rebuild}`);
  }
  return { dir, key, hash, keySource: manifest.keySource ?? { kind: "development" } };
}

/** The fingerprint of another instance's built key equal to `hash`, if any: a relabelled proof under its own key. */
function builtInstanceWithKey(hash: string, except: string, paths: BuildPaths): { name: string; dir: string } | undefined {
  for (const other of loadInstances()) {
    if (other.name === except) continue;
    const dir = instanceDir(paths, other.name);
    const manifest = readManifest(dir);
    if (!manifest?.setupKey) continue;
    try {
      if (verificationKeyHash(canonicalVerificationKey(JSON.parse(readFileSync(manifestFiles(dir, manifest).vkey, "utf8")))) === hash) return { name: other.name, dir };
    } catch {
      // An unreadable key of another instance pins nothing either way.
    }
  }
  return undefined;
}

/** The parts of a deployments file (`zks deploy`) verify trusts: its addresses and the key of each verifier. */
const deploymentSchema = z.object({
  network: z.string(),
  chainId: z.string().regex(/^\d+$/, "expected a decimal chain id"),
  contracts: z.object({ RebalanceGate: z.string(), AuditRegistry: z.string() }),
  verifierKeys: z
    .array(
      z.object({
        instance: z.string().nullable(),
        kind: z.enum(["development", "ceremony", "unknown"]),
        verificationKeyHash: z
          .string()
          .regex(/^0x[0-9a-f]{64}$/)
          .nullable(),
      }),
    )
    .optional(),
});
type DeploymentPins = z.infer<typeof deploymentSchema> & { gate: string; registry: string };

function readDeploymentFile(file: string): DeploymentPins {
  const parsed = deploymentSchema.safeParse(readJsonFile(file));
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new InputError(file, issue.path.join("."), `${issue.message} (not a deployments file written by \`zks deploy\`?)`);
  }
  if (parsed.data.network === "in-process") throw new InputError(file, "network", "an in-process deployment is a dry run whose chain ended with it");
  const address = (field: "RebalanceGate" | "AuditRegistry") => {
    try {
      return getAddress(parsed.data.contracts[field]);
    } catch {
      throw new InputError(file, `contracts.${field}`, "not an address");
    }
  };
  return { ...parsed.data, gate: address("RebalanceGate"), registry: address("AuditRegistry") };
}

/**
 * The compiled AuditRegistry's runtime code, which a --registry must run: hardhat's artifact in a
 * checkout, else the one @zk-solvency/contracts ships (artifacts/AuditRegistry.json).
 */
function compiledAuditRegistry(): CompiledRuntime {
  const checkout = path.join(PACKAGE_ROOT, "artifacts", "packages", "contracts", "contracts", "AuditRegistry.sol", "AuditRegistry.json");
  let file = checkout;
  if (!CHECKOUT_ROOT || !existsSync(checkout)) {
    try {
      file = createRequire(import.meta.url).resolve("@zk-solvency/contracts/artifacts/AuditRegistry.json");
    } catch {
      throw new SetupError(
        CHECKOUT_ROOT
          ? `${checkout} is missing: run \`npx hardhat compile\` (a --registry is checked against the compiled AuditRegistry)`
          : "@zk-solvency/contracts/artifacts/AuditRegistry.json is missing: reinstall @zk-solvency/contracts (a --registry is checked against the compiled AuditRegistry)",
      );
    }
  }
  const artifact = JSON.parse(readFileSync(file, "utf8")) as CompiledRuntime;
  if (typeof artifact.deployedBytecode !== "string") throw new SetupError(`${file}: no deployedBytecode; run \`npx hardhat compile\``);
  return artifact;
}

function addressOption(flag: string, text: string): string {
  try {
    return getAddress(text);
  } catch {
    throw new InputError(flag, "", `not an address: "${text}"`);
  }
}

/** A JSON-RPC URL, syntactically: http(s) only (a bad one is named before anything is read). */
function rpcUrl(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new InputError("--rpc", "", `not a URL: "${text}"`);
  }
  if (!["http:", "https:"].includes(url.protocol)) throw new InputError("--rpc", "", `expected an http(s):// JSON-RPC URL, got "${text}"`);
  return text;
}

/** How the key was pinned. */
export type KeyPinnedBy = "build" | "key-hash" | "deployment" | "chain";

/** Reaches a JSON-RPC endpoint: its chain id, and a provider for it. */
export type RpcConnector = (url: string) => Promise<{ chainId: bigint; provider: Provider & { destroy(): void } }>;

export interface VerifyProofFilesOptions {
  /** proof.json written by zks. */
  proof: string;
  /** A verification key file; default this machine's built key of the proof's instance. Must be pinned. */
  vkey?: string;
  /** The fingerprint (0x + 64 lowercase or uppercase hex) of the key you trust. */
  keyHash?: string;
  /** A deployments file of `zks deploy`: pins the key, gives the gate and registry. */
  deployment?: string;
  /** market.json the proof claims. */
  market?: string;
  /** policy.json (needs `market`). */
  policy?: string;
  /** The deployment's JSON-RPC endpoint (with `gate` or `deployment`), and how to reach it. */
  rpc?: { url: string; connect: RpcConnector };
  gate?: string;
  registry?: string;
  buildPaths?: BuildPaths;
}

export type VerifyProofFilesResult =
  | {
      valid: true;
      verdict: VerifiedProofFile;
      chain?: ChainBinding;
      pinnedBy: KeyPinnedBy;
      /** This machine's build of the instance, when there is one. */
      builtDir?: string;
      /** A ceremony key on an untrusted phase-1 ptau, labelled as setup, inspect and deploy label it. */
      untrustedCeremony: boolean;
    }
  | { valid: false; stage: "proof" | "metadata" | "chain"; instance: string; field: string | null; problem: string; message: string; verificationKeyHash?: string };

const KEY_HASH = /^0x[0-9a-fA-F]{64}$/;

/**
 * Verifies a proof file. A proof that does not verify, or whose metadata, market, policy or
 * deployment disagrees with its signals, is `{ valid: false }` (exit 1). Bad input (an unpinned
 * or foreign --vkey, bad files) throws InputError (exit 2); a missing, stale or other setup's
 * build, or an unreachable endpoint, SetupError (exit 3).
 */
export async function verifyProofFiles(options: VerifyProofFilesOptions): Promise<VerifyProofFilesResult> {
  if (options.policy !== undefined && options.market === undefined) throw new InputError("--policy", "", "needs --market (the policy's bounds depend on the market)");
  if (options.deployment !== undefined && (options.gate !== undefined || options.registry !== undefined))
    throw new InputError(options.gate !== undefined ? "--gate" : "--registry", "", "--deployment gives the gate and registry; leave this out");
  if (options.rpc === undefined && (options.gate !== undefined || options.registry !== undefined))
    throw new InputError(options.gate !== undefined ? "--gate" : "--registry", "", "needs --rpc URL");
  if (options.rpc !== undefined && options.gate === undefined && options.deployment === undefined)
    throw new InputError("--rpc", "", "needs --gate ADDR (the deployment's RebalanceGate) or --deployment FILE");
  if (options.keyHash !== undefined && !KEY_HASH.test(options.keyHash)) throw new InputError("--key-hash", "", `expected 0x and 64 hex digits, got "${options.keyHash}"`);
  const paths = options.buildPaths ?? defaultBuildPaths();
  const pinnedHash = options.keyHash?.toLowerCase();
  const rpc = options.rpc === undefined ? undefined : { ...options.rpc, url: rpcUrl(options.rpc.url) };
  const deployment = options.deployment === undefined ? undefined : readDeploymentFile(options.deployment);

  const { file } = parseProofFile(readJsonFile(options.proof), options.proof);
  // Validated before any path is built from it: the name selects a build directory.
  const declared = declaredInstance(file.zks.instance, options.proof);
  const name = declared.name;
  const built = builtKey(declared, paths);
  // `zks deploy` records "unknown" when the compiled verifier it deployed did not carry the build's key: that hash pins nothing.
  const deployed = deployment?.verifierKeys?.find((k) => k.instance === name && k.verificationKeyHash !== null && k.kind !== "unknown");

  // The key, and the trusted fingerprint it must have: never the file's own say-so.
  let verificationKey: VerificationKey;
  let trusted: string;
  let pinnedBy: KeyPinnedBy;
  const keyFlag = options.vkey === undefined ? undefined : `--vkey ${options.vkey}`;
  if (options.vkey !== undefined) {
    try {
      verificationKey = canonicalVerificationKey(readJsonFile(options.vkey));
    } catch (error) {
      if (error instanceof VerificationKeyShapeError)
        throw new InputError(options.vkey, error.field, `${error.problem} (not a Groth16 BN254 verification key as its fingerprint covers it)`);
      throw error;
    }
    const hash = verificationKeyHash(verificationKey);
    const other = builtInstanceWithKey(hash, name, paths);
    if (other)
      throw new InputError(
        keyFlag!,
        "",
        `it is the key of instance ${other.name} (${other.dir}), not of ${name}, the proof file's instance (key ${hash}; ${name}'s is ${built?.hash ?? "not built here"})`,
      );
    if (pinnedHash !== undefined && pinnedHash !== hash) throw new InputError(keyFlag!, "", `the key's hash is ${hash}, not the pinned --key-hash ${pinnedHash}`);
    if (deployed && deployed.verificationKeyHash !== hash)
      throw new InputError(keyFlag!, "", `the key's hash is ${hash}, not ${deployed.verificationKeyHash}, the key of ${name} in ${options.deployment}`);
    if (pinnedHash !== undefined) pinnedBy = "key-hash";
    else if (deployed) pinnedBy = "deployment";
    else if (built?.hash === hash) pinnedBy = "build";
    else if (rpc !== undefined)
      pinnedBy = "chain"; // checked below: the deployed verifier's code must hold this key
    else {
      const here = built ? `this machine's built key of ${name} is ${built.hash}` : `${name} is not built here`;
      throw new InputError(
        keyFlag!,
        "",
        `unpinned key: its hash is ${hash} and ${here}; a key says nothing of the circuit it was made for (whoever made it may hold its trapdoor), so pin it with --key-hash HASH from a source you trust, --deployment FILE or --rpc with the deployment`,
      );
    }
    trusted = hash;
  } else {
    if (!built) throw new SetupError(`circuit instance "${name}" is not built in ${paths.buildDir}; run \`zks setup --instance ${name}\` or give the key (--vkey) with a pin`);
    verificationKey = built.key;
    for (const [pin, by] of [
      [pinnedHash, "--key-hash pins"],
      [deployed?.verificationKeyHash, `${options.deployment} records`],
    ] as const) {
      if (pin != null && pin !== built.hash)
        throw new SetupError(`the built key of ${name} (${built.dir}) is ${built.hash}, not ${pin}, the key ${by}; verify with that key (--vkey)`);
    }
    trusted = built.hash;
    pinnedBy = pinnedHash !== undefined ? "key-hash" : deployed ? "deployment" : "build";
  }
  // The key's source is known from this machine's manifest of the very key, or the deployments file that pins it.
  const source = built?.hash === trusted ? built.keySource : deployed && deployed.kind !== "unknown" && pinnedBy === "deployment" ? { kind: deployed.kind } : undefined;
  const declaration: InstanceDeclaration = {
    instance: name,
    template: declared.template,
    params: declared.params,
    publicSignals: declared.publicSignals,
    verificationKeyHash: trusted,
    ...(source && { keySource: source }),
  };

  const market: Market | undefined = options.market === undefined ? undefined : loadMarketFile(options.market);
  const policy: Policy | undefined = options.policy === undefined ? undefined : loadPolicyFile(options.policy, market!);

  // Reached only for a proof that verifies: an invalid proof needs no endpoint.
  const chain =
    rpc === undefined
      ? undefined
      : async () => {
          const { chainId, provider } = await rpc.connect(rpc.url);
          try {
            if (deployment && BigInt(deployment.chainId) !== chainId)
              throw new InputError("--rpc", "", `${rpc.url} is chain ${chainId}, but ${options.deployment} is a deployment on chain ${deployment.chainId}`);
            const gate = deployment ? deployment.gate : addressOption("--gate", options.gate!);
            const registry = deployment
              ? declared.template === "Solvency"
                ? deployment.registry
                : undefined
              : options.registry === undefined
                ? undefined
                : addressOption("--registry", options.registry);
            return { provider, chainId, gate, registry, ...(registry !== undefined && { auditRegistry: compiledAuditRegistry() }), close: () => provider.destroy() };
          } catch (error) {
            provider.destroy();
            throw error;
          }
        };

  let result;
  try {
    result = await verifyProofFileWorkflow({ file, source: options.proof, verificationKey, declaration, market, policy, chain });
  } catch (error) {
    if (error instanceof ProofKeyError) {
      if (keyFlag) throw new ZksError(`${keyFlag}: ${error.message}`, 2);
      throw new SetupError(`the built key of ${name} (${built!.dir}): ${error.message}; verify with that setup's key (--vkey) and a pin`);
    }
    throw error;
  }
  if (!result.valid) return result;
  const untrustedCeremony = built?.hash === trusted && built.keySource.kind === "ceremony" && !keyDeployable(built.keySource);
  return { ...result, pinnedBy, ...(built && { builtDir: built.dir }), untrustedCeremony };
}
