/**
 * Which keys the verifiers `zks deploy` would put on chain, and whether it may: a development key
 * (one contribution by the machine that ran `zks setup`) lets whoever ran it forge proofs, and so
 * does a ceremony key on a ptau that is not a public ceremony file (its maker knows tau). Those go
 * only to a local chain unless the deployer says otherwise.
 *
 * The key a compiled verifier carries is read from what was compiled, never from what the
 * contract says about itself: its VERIFICATION_KEY_HASH is a constant anyone editing the source
 * can keep while swapping the key's points.
 */
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import * as snarkjs from "snarkjs";
import { verificationKeyHash } from "@zk-solvency/sdk/verifier";
import { solidityVerifierSource, verifierContractName } from "./groth16-setup.ts";
import { loadInstances } from "./instances.ts";
import { keyDeployable, keySourceLabel, manifestFiles, readManifest, type KeySource } from "./manifest.ts";
import { defaultBuildPaths, instanceDir, PACKAGE_ROOT, type BuildPaths } from "./paths.ts";

/** Chain ids of local development chains (hardhat's; ganache's and geth --dev's 1337): the only ones a development key goes to unasked. */
export const LOCAL_CHAIN_IDS: readonly bigint[] = [31337n, 1337n];

/** The key a verifier contract would be deployed with, as far as this build can tell. */
export interface VerifierKey {
  contract: string;
  instance: string | null;
  /** "unknown": the compiled contract is not exactly the verifier the installed key makes (see `problem`). */
  kind: "development" | "ceremony" | "unknown";
  /** A ceremony key on a public phase-1 ptau, compiled exactly as generated: deployable anywhere. */
  deployable: boolean;
  /** How deploy prints it: "ceremony key", "ceremony key on an UNTRUSTED ptau", "DEVELOPMENT key" or "UNKNOWN key (why)". */
  label: string;
  verificationKeyHash: string | null;
  /** Why the kind is unknown. */
  problem?: string;
}

/** What hardhat compiled for one contract: the runtime bytecode and the exact source text it came from. */
export interface CompiledVerifier {
  deployedBytecode: string;
  /** From the artifact's build-info (the solc input); null when it cannot be found. */
  source: string | null;
}

/** Reads a hardhat 3 artifact and, through its buildInfoId, the source text solc was given; undefined when not compiled. */
export function compiledVerifier(contract: string, artifactsDir: string = path.join(PACKAGE_ROOT, "artifacts")): CompiledVerifier | undefined {
  const file = path.join(artifactsDir, "packages", "contracts", "contracts", "generated", `${contract}.sol`, `${contract}.json`);
  if (!existsSync(file)) return undefined;
  const artifact = JSON.parse(readFileSync(file, "utf8")) as { deployedBytecode?: unknown; inputSourceName?: unknown; buildInfoId?: unknown };
  let source: string | null = null;
  try {
    const buildInfo = JSON.parse(readFileSync(path.join(artifactsDir, "build-info", `${String(artifact.buildInfoId)}.json`), "utf8")) as {
      input?: { sources?: Record<string, { content?: unknown }> };
    };
    const content = buildInfo.input?.sources?.[String(artifact.inputSourceName)]?.content;
    if (typeof content === "string") source = content;
  } catch {
    // No build-info: the source cannot be compared, so the key is unknown (verifierKey).
  }
  return { deployedBytecode: String(artifact.deployedBytecode ?? ""), source };
}

/**
 * The verification key's points as the verifier's uint256 constants (alpha, beta, gamma, delta,
 * IC), each as the PUSH instruction solc emits for it: PUSHn followed by its n big-endian bytes.
 */
function keyConstants(vkey: Record<string, unknown>): { name: string; push: string }[] {
  const g2 = (point: unknown) => {
    const [x, y] = point as [[string, string], [string, string]];
    return [x[1], x[0], y[1], y[0]];
  };
  const named: [string, string][] = [
    ["alphax", (vkey.vk_alpha_1 as string[])[0]!],
    ["alphay", (vkey.vk_alpha_1 as string[])[1]!],
    ...g2(vkey.vk_beta_2).map((v, i): [string, string] => [`beta[${i}]`, v]),
    ...g2(vkey.vk_gamma_2).map((v, i): [string, string] => [`gamma[${i}]`, v]),
    ...g2(vkey.vk_delta_2).map((v, i): [string, string] => [`delta[${i}]`, v]),
    ...(vkey.IC as string[][]).flatMap((p, i): [string, string][] => [
      [`IC${i}x`, p[0]!],
      [`IC${i}y`, p[1]!],
    ]),
  ];
  return named.map(([name, value]) => {
    let hex = BigInt(value).toString(16);
    if (hex.length % 2) hex = `0${hex}`;
    return { name, push: `${(0x5f + hex.length / 2).toString(16)}${hex}` };
  });
}

const sha256 = (file: string) => createHash("sha256").update(readFileSync(file)).digest("hex");

/**
 * Classifies one compiled verifier: its key counts only when the installed zkey is the one the
 * manifest records, the compiled source is exactly the text `zks setup` generates from that
 * zkey, and the runtime bytecode carries every one of the key's points. Anything else (a stale
 * compile, a hand-edited verifier that kept the VERIFICATION_KEY_HASH line, a swapped zkey) is
 * "unknown", which deploy treats like a development key.
 */
export async function verifierKey(contract: string, compiled: CompiledVerifier | undefined, paths: BuildPaths = defaultBuildPaths()): Promise<VerifierKey> {
  const instance = loadInstances().find((i) => verifierContractName(i.name) === contract)?.name ?? null;
  const unknown = (problem: string, hash: string | null = null): VerifierKey => ({
    contract,
    instance,
    kind: "unknown",
    deployable: false,
    label: `UNKNOWN key (${problem})`,
    verificationKeyHash: hash,
    problem,
  });
  if (!instance) return unknown("no circuit instance has this verifier");
  const dir = instanceDir(paths, instance);
  const manifest = readManifest(dir);
  const files = manifest && manifestFiles(dir, manifest);
  if (!manifest?.setupKey || !files || !existsSync(files.zkey)) return unknown(`no key built for ${instance}: run \`zks setup\``);
  const zkeySha256 = sha256(files.zkey);
  if (zkeySha256 !== manifest.zkeySha256) return unknown(`the zkey of ${instance} on disk is not the one its manifest records: run \`zks setup\``);
  const vkey = await snarkjs.zKey.exportVerificationKey(files.zkey);
  const hash = verificationKeyHash(vkey);
  if (!compiled) return unknown("not compiled: run `npx hardhat compile`", hash);
  const keySource: KeySource = manifest.keySource ?? { kind: "development", contributions: 1 };
  const expected = await solidityVerifierSource(files.zkey, instance, zkeySha256, keySource);
  if (compiled.source === null) return unknown("the source it was compiled from is not in the build-info: run `npx hardhat compile`", hash);
  if (compiled.source !== expected) {
    return unknown(
      `compiled from a source other than the verifier the installed key of ${instance} makes (a stale compile or an edited file): run \`zks setup\` and \`npx hardhat compile\``,
      hash,
    );
  }
  const code = compiled.deployedBytecode.toLowerCase().replace(/^0x/, "");
  const missing = keyConstants(vkey).find((constant) => !code.includes(constant.push));
  if (missing) return unknown(`its bytecode lacks the key's ${missing.name}: run \`npx hardhat compile\``, hash);
  return { contract, instance, kind: keySource.kind, deployable: keyDeployable(keySource), label: keySourceLabel(keySource), verificationKeyHash: hash };
}

/** {@link verifierKey} of each contract as hardhat compiled it. */
export async function verifierKeys(contracts: string[], paths: BuildPaths = defaultBuildPaths(), artifactsDir?: string): Promise<VerifierKey[]> {
  const keys: VerifierKey[] = [];
  for (const contract of contracts) keys.push(await verifierKey(contract, compiledVerifier(contract, artifactsDir), paths));
  return keys;
}

/**
 * Whether the deploy refuses: a verifier whose key is not deployable (development, a ceremony on
 * an untrusted ptau, or unknown), on a chain that is not local, unless the deployer passed
 * --allow-development-keys. The message is the one line printed.
 */
export function developmentKeyRefusal(chainId: bigint, keys: VerifierKey[], allowDevelopmentKeys: boolean): string | undefined {
  if (allowDevelopmentKeys || LOCAL_CHAIN_IDS.includes(chainId)) return undefined;
  const refused = keys.filter((key) => !key.deployable);
  if (refused.length === 0) return undefined;
  const what = refused.map((key) => `${key.contract} (${key.label})`).join(", ");
  return `chain ${chainId} is not a local chain (${LOCAL_CHAIN_IDS.join(", ")}) and these verifiers have no deployable key: ${what}; whoever made a development key, or an untrusted ptau, can forge proofs. Install ceremony keys on the public ptau (\`zks ceremony\`, then \`zks setup --zkey\`, then \`npx hardhat compile\`) or pass --allow-development-keys`;
}
