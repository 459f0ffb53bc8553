/**
 * `zks keys publish`: a key release from the build directory. The release is a folder,
 * `<out>/<version>/`, holding index.json (kind, version, and per instance its template,
 * parameters, public signals, key hash, key source and every file's path, sha256 and size) and
 * `<instance>/{main.wasm, circuit.zkey, verification_key.json, verifier.json}`. Serve it from
 * any static host; `fetchCircuitArtifacts` and `zks keys fetch` read it back and check it.
 *
 * A release never changes once written (a consumer may have pinned its index's sha256), so an
 * existing version is refused; it is assembled in a temporary folder beside it, read back and
 * checked as a consumer would, and only then renamed into place.
 */
import { createRequire } from "node:module";
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { randomBytes } from "node:crypto";
import path from "node:path";
import { InputError, SetupError } from "@zk-solvency/sdk/core";
import { canonicalVerificationKey, verificationKeyHash } from "@zk-solvency/sdk/verifier";
import {
  KEY_FILE_NAMES,
  KEY_INDEX_FILE,
  KEY_INDEX_KIND,
  keyIndexJson,
  readInstanceRelease,
  readKeyIndex,
  sha256Hex,
  checkReleaseRequest,
  type KeyFileEntry,
  type KeyIndex,
  type KeyIndexInstance,
} from "@zk-solvency/sdk/artifacts";
import type { KeySource } from "@zk-solvency/sdk/proof-file";
import { loadInstances, type InstanceConfig } from "../setup/instances.ts";
import { keyDeployable, keySourceLabel, manifestFiles, readManifest } from "../setup/manifest.ts";
import { defaultBuildPaths, instanceDir, type BuildPaths } from "../setup/paths.ts";
import { verifierContractName } from "../setup/groth16-setup.ts";
import { directoryReleaseSource } from "./sources.ts";

const require = createRequire(import.meta.url);

/** The default release version: the SDK's, whose circuits and key format these keys go with. */
export function sdkVersion(): string {
  return (require("@zk-solvency/sdk/package.json") as { version: string }).version;
}

export type Tier = InstanceConfig["tier"];

export interface PublishKeysOptions {
  /** The folder releases go to; this release becomes `<outDir>/<version>/`. */
  outDir: string;
  /** Default: the @zk-solvency/sdk version. */
  version?: string;
  /** Instances to publish (each must be built); default: every built instance of `tiers`. */
  instances?: string[];
  /** Default: test and standard. */
  tiers?: Tier[];
  /**
   * Publish development keys (and ceremony keys on an untrusted ptau): whoever made them can forge
   * proofs, so a release of them is for tests and local chains. Their keySource says so in the index.
   */
  allowDevelopmentKey?: boolean;
  paths?: BuildPaths;
}

export interface PublishedInstance {
  instance: string;
  verificationKeyHash: string;
  keySource: KeySource;
  /** "ceremony key", "DEVELOPMENT key", ... */
  keyLabel: string;
  deployable: boolean;
  files: KeyIndexInstance["files"];
}

export interface PublishResult {
  version: string;
  /** `<outDir>/<version>`. */
  dir: string;
  indexFile: string;
  /** What consumers pin (`zks keys fetch --expect-index-sha256`). */
  indexSha256: string;
  bytes: number;
  instances: PublishedInstance[];
  /** Instances of the selected tiers that are not built (not named, so left out rather than refused). */
  skipped: string[];
}

function selectForPublish(options: PublishKeysOptions, paths: BuildPaths): { chosen: InstanceConfig[]; skipped: string[] } {
  const declared = loadInstances();
  if (options.instances && options.instances.length > 0) {
    const chosen = options.instances.map((name) => {
      const found = declared.find((instance) => instance.name === name);
      if (!found) throw new InputError("--instance", name, `not declared in circuits/instances.json (declared: ${declared.map((i) => i.name).join(", ")})`);
      return found;
    });
    for (const instance of chosen) {
      if (!readManifest(instanceDir(paths, instance.name))?.setupKey)
        throw new SetupError(`${instance.name} has no keys in ${paths.buildDir}: run \`zks setup --instance ${instance.name}\` (or fetch them) first`);
    }
    return { chosen, skipped: [] };
  }
  const tiers = options.tiers && options.tiers.length > 0 ? options.tiers : (["test", "standard"] as Tier[]);
  const ofTiers = declared.filter((instance) => tiers.includes(instance.tier));
  const built = (instance: InstanceConfig) => Boolean(readManifest(instanceDir(paths, instance.name))?.setupKey);
  const chosen = ofTiers.filter(built);
  if (chosen.length === 0) throw new SetupError(`no instance of tier ${tiers.join(" or ")} has keys in ${paths.buildDir}: run \`zks setup\` first`);
  return { chosen, skipped: ofTiers.filter((instance) => !built(instance)).map((instance) => instance.name) };
}

export async function publishKeys(options: PublishKeysOptions): Promise<PublishResult> {
  const paths = options.paths ?? defaultBuildPaths();
  const version = options.version ?? sdkVersion();
  checkReleaseRequest({ version, instances: options.instances }, { version: "--version", instance: "--instance", indexSha256: "", verificationKeyHash: "" });
  const outDir = path.resolve(options.outDir);
  const dir = path.join(outDir, version);
  if (existsSync(dir))
    throw new InputError("--version", version, `${dir} already exists: a published release never changes (consumers pin its index); publish under another --version`);
  const { chosen, skipped } = selectForPublish(options, paths);

  // Refuse before copying megabytes: every chosen key must be publishable.
  const refused = chosen.filter((instance) => !keyDeployable(readManifest(instanceDir(paths, instance.name))!.keySource));
  if (refused.length > 0 && !options.allowDevelopmentKey) {
    const what = refused.map((instance) => `${instance.name} (${keySourceLabel(readManifest(instanceDir(paths, instance.name))!.keySource)})`).join(", ");
    throw new InputError(
      "--allow-development-key",
      "",
      `not given, and these keys are not deployable: ${what}. Whoever made a development key, or the ptau under a ceremony key on an untrusted ptau, can forge proofs with it: publish them only for tests, with --allow-development-key (the index records each key's source)`,
    );
  }

  mkdirSync(outDir, { recursive: true });
  const staging = path.join(outDir, `.${version}.publishing-${process.pid}-${randomBytes(4).toString("hex")}`);
  try {
    const index: KeyIndex = { kind: KEY_INDEX_KIND, version, instances: {} };
    let bytes = 0;
    for (const instance of chosen) {
      const entry = await stageInstance(instance, paths, staging);
      index.instances[instance.name] = entry;
      bytes += Object.values(entry.files).reduce((sum, file) => sum + (file?.bytes ?? 0), 0);
    }
    const indexText = keyIndexJson(index);
    writeFileSync(path.join(staging, KEY_INDEX_FILE), indexText);
    // Read back through the consumer's own checks: sizes, sha256s, key hashes, zkey against vkey, verifier against key.
    const stagedVersion = path.basename(staging);
    const source = directoryReleaseSource(outDir, stagedVersion);
    const read = await readKeyIndex(source, version);
    for (const instance of chosen) await readInstanceRelease(source, read, instance.name, { verifier: true });
    renameSync(staging, dir);
    const instances = chosen.map((instance): PublishedInstance => {
      const entry = index.instances[instance.name]!;
      return {
        instance: instance.name,
        verificationKeyHash: entry.verificationKeyHash,
        keySource: entry.keySource,
        keyLabel: keySourceLabel(entry.keySource),
        deployable: keyDeployable(entry.keySource),
        files: entry.files,
      };
    });
    return { version, dir, indexFile: path.join(dir, KEY_INDEX_FILE), indexSha256: read.sha256, bytes: bytes + Buffer.byteLength(indexText), instances, skipped };
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

/** Copies one built instance into the staging release and returns its index entry; refuses an inconsistent build. */
async function stageInstance(instance: InstanceConfig, paths: BuildPaths, staging: string): Promise<KeyIndexInstance> {
  const dir = instanceDir(paths, instance.name);
  const manifest = readManifest(dir)!;
  const rebuild = `run \`zks setup --instance ${instance.name}\``;
  const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
  for (const field of ["template", "params", "publicSignals"] as const) {
    if (!same(manifest[field], instance[field])) throw new SetupError(`the build of ${instance.name} (${dir}) is stale: its ${field} is not circuits/instances.json's; ${rebuild}`);
  }
  const files = manifestFiles(dir, manifest);
  const verifierFile = path.join(dir, KEY_FILE_NAMES.verifier);
  const read = (file: string) => {
    try {
      return new Uint8Array(readFileSync(file));
    } catch (error) {
      throw new SetupError(`${file}: cannot read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}); ${rebuild}`);
    }
  };
  // Each file is read once: what is hashed is what is written.
  const contents = { wasm: read(files.wasm), zkey: read(files.zkey), vkey: read(files.vkey), ...(existsSync(verifierFile) ? { verifier: read(verifierFile) } : {}) };
  const zkeySha256 = await sha256Hex(contents.zkey);
  if (manifest.zkeySha256 !== undefined && zkeySha256 !== manifest.zkeySha256) {
    throw new SetupError(`${files.zkey}: sha256 ${zkeySha256} is not the key its manifest records (${manifest.zkeySha256}); ${rebuild}`);
  }
  let keyHash: string;
  try {
    keyHash = verificationKeyHash(canonicalVerificationKey(JSON.parse(Buffer.from(contents.vkey).toString("utf8"))));
  } catch (error) {
    throw new SetupError(`${files.vkey}: not a usable verification key (${(error as Error).message}); ${rebuild}`);
  }
  if (manifest.verificationKeyHash !== undefined && keyHash !== manifest.verificationKeyHash) {
    throw new SetupError(`${files.vkey}: key hash ${keyHash} is not the one its manifest records (${manifest.verificationKeyHash}); ${rebuild}`);
  }
  const folder = path.join(staging, instance.name);
  mkdirSync(folder, { recursive: true });
  const entries: Partial<Record<keyof typeof contents, KeyFileEntry>> = {};
  for (const [kind, data] of Object.entries(contents) as [keyof typeof contents, Uint8Array][]) {
    const name = KEY_FILE_NAMES[kind];
    writeFileSync(path.join(folder, name), data);
    entries[kind] = { path: `${instance.name}/${name}`, sha256: kind === "zkey" ? zkeySha256 : await sha256Hex(data), bytes: data.byteLength };
  }
  return {
    template: instance.template,
    params: instance.params,
    publicSignals: instance.publicSignals,
    nConstraints: manifest.nConstraints,
    nPublic: manifest.nPublic,
    compileKey: manifest.compileKey,
    ...(manifest.setupKey ? { setupKey: manifest.setupKey } : {}),
    ...(manifest.ptau ? { ptau: manifest.ptau } : {}),
    verificationKeyHash: keyHash,
    keySource: manifest.keySource ?? { kind: "development", contributions: 1 },
    verifierContract: manifest.verifierContract ?? verifierContractName(instance.name),
    files: { wasm: entries.wasm!, zkey: entries.zkey!, vkey: entries.vkey!, ...(entries.verifier ? { verifier: entries.verifier } : {}) },
  };
}
