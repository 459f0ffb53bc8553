/**
 * `zks keys fetch`: a published key release (keys/publish.ts) downloaded, checked and installed
 * into the build directory, as `zks setup` would have left it (`<buildDir>/circuits/<instance>/`
 * with its manifest, and the generated Solidity verifier), so every command and
 * loadCircuitArtifacts work after it without compiling anything.
 *
 * Nothing is installed unless everything checked: every instance is downloaded and checked
 * (the SDK's readInstanceRelease: sizes, sha256s, key hashes and pins, the zkey against the vkey,
 * verifier.json against the key, and here the instance against this install's instances.json, from @zk-solvency/circuits)
 * into a temporary folder beside the build's; only then is each folder renamed into place. A
 * crash leaves, for each instance, its old folder or its new one, never a mixture.
 */
import { createHash, randomBytes } from "node:crypto";
import { cpSync, existsSync, linkSync, copyFileSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { InputError } from "@zk-solvency/sdk/core";
import {
  ArtifactIntegrityError,
  checkReleaseRequest,
  indexEntry,
  KEY_FILE_NAMES,
  readInstanceRelease,
  readKeyIndex,
  type ArtifactProgress,
  type FetchFunction,
  type InstanceRelease,
  type KeyIndexInstance,
  type ReadIndexResult,
} from "@zk-solvency/sdk/artifacts";
import type { KeySource } from "@zk-solvency/sdk/proof-file";
import { compileKeyOf } from "../setup/build.ts";
import { CIRCOM_PACKAGE_VERSION } from "../setup/compile.ts";
import { loadInstances, type InstanceConfig } from "../setup/instances.ts";
import { keyDeployable, keySourceLabel, manifestFiles, readManifest, writeManifest, type InstanceManifest } from "../setup/manifest.ts";
import { defaultBuildPaths, instanceDir, type BuildPaths } from "../setup/paths.ts";
import { solidityVerifierSource, verifierContractName } from "../setup/groth16-setup.ts";
import { sdkVersion } from "./publish.ts";
import { releaseSource } from "./sources.ts";

export interface FetchKeysOptions {
  /** An http(s) URL or a local folder holding `<version>/index.json`. */
  baseUrl: string;
  /** Default: the @zk-solvency/sdk version. */
  version?: string;
  /** Default: every instance of the release that this install declares. */
  instances?: string[];
  /** Pins, from a source trusted more than the server: the index's sha256; per instance, its key hash. */
  expected?: { indexSha256?: string; verificationKeyHashes?: Record<string, string> };
  /** Replace an installed key that differs from the release's. */
  force?: boolean;
  /** Default: the build directory of defaultBuildPaths() (ZKS_BUILD_DIR, the checkout's build/, or the user cache). */
  buildDir?: string;
  paths?: BuildPaths;
  fetch?: FetchFunction;
  signal?: AbortSignal;
  onProgress?: (progress: ArtifactProgress) => void;
}

export interface FetchedInstance {
  instance: string;
  dir: string;
  /** "unchanged": this very key and these files were installed already. */
  state: "installed" | "replaced" | "unchanged";
  verificationKeyHash: string;
  keySource: KeySource;
  keyLabel: string;
  deployable: boolean;
  /** Compiled from the same circuit sources as this install would compile (its compileKey matches); null without circom2 here to compare with. */
  sameCircuitSources: boolean | null;
  /** The release had a compiled verifier (verifier.json), now installed beside the key. */
  verifier: boolean;
  /** The generated Solidity verifier written for the key. */
  solidityVerifier: string;
  timings: InstanceRelease["timings"];
}

export interface FetchKeysResult {
  /** The release directory read (URL or folder). */
  release: string;
  version: string;
  indexSha256: string;
  /** What pinned the release: "index sha256", "key hash" (some instances), or nothing. */
  pinnedBy: ("index sha256" | "key hash")[];
  buildDir: string;
  instances: FetchedInstance[];
  /** Release instances this install does not declare (left out when no --instance names them). */
  skipped: string[];
}

/** Managed files `zks setup` compiles from the circuit; kept when the release was compiled from the same sources. */
const COMPILED_FILES = ["main.r1cs", "main.sym", "main.circom", "main_js/witness_calculator.js", "main_js/generate_witness.js"];

const sha256File = (file: string) => createHash("sha256").update(readFileSync(file)).digest("hex");
const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

function buildPathsOf(options: FetchKeysOptions): BuildPaths {
  if (options.paths) return options.paths;
  return options.buildDir !== undefined ? defaultBuildPaths({ ...process.env, ZKS_BUILD_DIR: options.buildDir }) : defaultBuildPaths();
}

export async function fetchKeys(options: FetchKeysOptions): Promise<FetchKeysResult> {
  const paths = buildPathsOf(options);
  const version = options.version ?? sdkVersion();
  const flags = { version: "--version", instance: "--instance", indexSha256: "--expect-index-sha256", verificationKeyHash: "--expect-key-hash" };
  const keyPins = options.expected?.verificationKeyHashes ?? {};
  checkReleaseRequest({ version, instances: options.instances, pins: { indexSha256: options.expected?.indexSha256 } }, flags);
  for (const [name, hash] of Object.entries(keyPins))
    checkReleaseRequest({ version, instances: [name], pins: { verificationKeyHash: hash } }, { ...flags, instance: "--expect-key-hash" });

  const source = releaseSource(options.baseUrl, version, { fetch: options.fetch, signal: options.signal });
  const read = await readKeyIndex(source, version, options.expected?.indexSha256);
  const declared = loadInstances();
  const declaredOf = (name: string) => declared.find((instance) => instance.name === name);

  let names: string[];
  let skipped: string[] = [];
  if (options.instances && options.instances.length > 0) {
    names = [...new Set(options.instances)];
    for (const name of names) {
      indexEntry(read, name);
      if (!declaredOf(name)) throw new InputError("--instance", name, "not declared in this install's circuits/instances.json: its keys would serve no command");
    }
  } else {
    const published = Object.keys(read.index.instances);
    names = published.filter((name) => declaredOf(name));
    skipped = published.filter((name) => !declaredOf(name));
    if (names.length === 0)
      throw new InputError("--from", options.baseUrl, `release ${version} publishes none of the instances this install declares (it has ${published.join(", ") || "none"})`);
  }
  for (const name of Object.keys(keyPins)) {
    if (!names.includes(name)) throw new InputError("--expect-key-hash", name, `not among the instances fetched (${names.join(", ")})`);
  }

  // Everything that can be refused from the index alone is refused before any download.
  const plans = names.map((name) =>
    planInstance(name, declaredOf(name)!, indexEntry(read, name), read, paths, {
      indexPinned: options.expected?.indexSha256 !== undefined,
      keyPinned: keyPins[name] !== undefined,
      force: options.force ?? false,
    }),
  );

  const staged: { plan: InstancePlan; staging?: string; release: InstanceRelease }[] = [];
  try {
    for (const plan of plans) {
      const release = await readInstanceRelease(source, read, plan.name, { verificationKeyHash: keyPins[plan.name], verifier: true, onProgress: options.onProgress });
      const unchanged = plan.sameKey && installedFilesMatch(plan.dir, release);
      staged.push({ plan, release: dropBytes(release), ...(unchanged ? {} : { staging: stage(plan, release, read, source.location) }) });
    }
    // Every instance checked and staged: now the renames, back to back; then what derives from them.
    const states = staged.map(({ plan, staging }) => (staging ? swapIn(staging, plan.dir) : ("unchanged" as const)));
    const results: FetchedInstance[] = [];
    for (const [i, { plan, release }] of staged.entries()) {
      const state = states[i]!;
      const solidityVerifier = await writeSolidityVerifier(plan, paths);
      results.push({
        instance: plan.name,
        dir: plan.dir,
        state,
        verificationKeyHash: plan.entry.verificationKeyHash,
        keySource: plan.entry.keySource,
        keyLabel: keySourceLabel(plan.entry.keySource),
        deployable: keyDeployable(plan.entry.keySource),
        sameCircuitSources: plan.sameSources,
        verifier: plan.entry.files.verifier !== undefined,
        solidityVerifier,
        timings: release.timings,
      });
    }
    const pinnedBy: FetchKeysResult["pinnedBy"] = [];
    if (options.expected?.indexSha256 !== undefined) pinnedBy.push("index sha256");
    if (Object.keys(keyPins).length > 0) pinnedBy.push("key hash");
    return { release: source.location, version, indexSha256: read.sha256, pinnedBy, buildDir: paths.buildDir, instances: results, skipped };
  } finally {
    for (const { staging } of staged) if (staging) rmSync(staging, { recursive: true, force: true });
  }
}

interface InstancePlan {
  name: string;
  entry: KeyIndexInstance;
  dir: string;
  previous: InstanceManifest | undefined;
  /** The installed key is the release's (same key hash and zkey). */
  sameKey: boolean;
  /** This install compiles the instance from the same sources as the release was built from (null: no compiler installed, so no compileKey to compare). */
  sameSources: boolean | null;
  pinned: ("index sha256" | "key hash")[];
}

function planInstance(
  name: string,
  declared: InstanceConfig,
  entry: KeyIndexInstance,
  read: ReadIndexResult,
  paths: BuildPaths,
  how: { indexPinned: boolean; keyPinned: boolean; force: boolean },
): InstancePlan {
  // The instance must be the one this install declares under that name: a release of another
  // circuit version, or another instance's entry copied under this name, would install a key the
  // commands read with the wrong public-signal layout.
  for (const field of ["template", "params", "publicSignals"] as const) {
    if (!same(entry[field], declared[field])) {
      throw new ArtifactIntegrityError(
        read.location,
        `instances.${name}.${field} is ${JSON.stringify(entry[field])}, but this install declares ${JSON.stringify(declared[field])} for ${name} (another circuit version, or another instance's entry)`,
        JSON.stringify(declared[field]),
        JSON.stringify(entry[field]),
      );
    }
  }
  const pinned: InstancePlan["pinned"] = [...(how.indexPinned ? (["index sha256"] as const) : []), ...(how.keyPinned ? (["key hash"] as const) : [])];
  // A ceremony label is the publisher's word: unpinned, whoever serves the index could put it on
  // a key they made, and deploy treats ceremony keys as deployable.
  if (entry.keySource.kind === "ceremony" && pinned.length === 0) {
    throw new InputError(
      "--expect-key-hash",
      "",
      `${name} is published as a ceremony key, which is installed only when pinned: pass --expect-key-hash ${name}=<the hash the ceremony announced, or the deployed verifier's VERIFICATION_KEY_HASH()> or --expect-index-sha256 <the release's announced index hash>`,
    );
  }
  const dir = instanceDir(paths, name);
  const previous = readManifest(dir);
  const sameKey = Boolean(previous?.setupKey) && previous!.verificationKeyHash === entry.verificationKeyHash && previous!.zkeySha256 === entry.files.zkey.sha256;
  if (previous?.setupKey && !sameKey && !how.force) {
    throw new InputError(
      "--force",
      "",
      `${dir} already holds another key for ${name} (${keySourceLabel(previous.keySource)}, hash ${previous.verificationKeyHash ?? "unknown"}) than release ${read.index.version}'s (${keySourceLabel(entry.keySource)}, hash ${entry.verificationKeyHash}): pass --force to replace it`,
    );
  }
  // The compileKey covers the compiler's version: without circom2 (an install that only proves) there is none to compare.
  const sameSources = CIRCOM_PACKAGE_VERSION === "(not installed)" ? null : compileKeyOf(declared) === entry.compileKey;
  return { name, entry, dir, previous, sameKey, sameSources, pinned };
}

function installedFilesMatch(dir: string, release: InstanceRelease): boolean {
  const expected: [string, KeyIndexInstance["files"][keyof KeyIndexInstance["files"]]][] = [
    [path.join(dir, "main_js", "main.wasm"), release.entry.files.wasm],
    [path.join(dir, "circuit.zkey"), release.entry.files.zkey],
    [path.join(dir, "verification_key.json"), release.entry.files.vkey],
    [path.join(dir, KEY_FILE_NAMES.verifier), release.entry.files.verifier],
  ];
  return expected.every(([file, listed]) => (listed ? existsSync(file) && sha256File(file) === listed.sha256 : true));
}

/** Keeps what the install needs after staging (the entry, key, timings), not megabytes of key. */
function dropBytes(release: InstanceRelease): InstanceRelease {
  return { ...release, files: { wasm: new Uint8Array(), zkey: new Uint8Array(), vkey: new Uint8Array() } };
}

/** Writes the instance's new folder beside the build's: the checked bytes, compiled files worth keeping, and the manifest last. */
function stage(plan: InstancePlan, release: InstanceRelease, read: ReadIndexResult, from: string): string {
  const parent = path.dirname(plan.dir);
  mkdirSync(parent, { recursive: true });
  const staging = path.join(parent, `.${plan.name}.fetching-${process.pid}-${randomBytes(4).toString("hex")}`);
  mkdirSync(path.join(staging, "main_js"), { recursive: true });
  writeFileSync(path.join(staging, "main_js", "main.wasm"), release.files.wasm);
  writeFileSync(path.join(staging, "circuit.zkey"), release.files.zkey);
  writeFileSync(path.join(staging, "verification_key.json"), release.files.vkey);
  if (release.files.verifier) writeFileSync(path.join(staging, KEY_FILE_NAMES.verifier), release.files.verifier);

  // The same sources compile to the same r1cs: keep the local compile's files (the ceremony tools
  // read the r1cs) and its native witness generator, which works with any key of the circuit.
  const previous = plan.previous;
  const keepCompiled = previous !== undefined && plan.sameSources !== false && previous.compileKey === plan.entry.compileKey;
  if (keepCompiled) {
    for (const file of COMPILED_FILES) {
      const from = path.join(plan.dir, file);
      if (!existsSync(from)) continue;
      const to = path.join(staging, file);
      try {
        linkSync(from, to);
      } catch {
        copyFileSync(from, to);
      }
    }
    if (previous.nativeWitness && existsSync(path.join(plan.dir, "main_cpp"))) cpSync(path.join(plan.dir, "main_cpp"), path.join(staging, "main_cpp"), { recursive: true });
  }
  const { entry } = plan;
  const ptau = entry.ptau ?? (entry.keySource.kind === "ceremony" ? entry.keySource.ptau : undefined);
  const manifest: InstanceManifest & { fetched: { from: string; version: string; indexSha256: string; pinnedBy: InstancePlan["pinned"] } } = {
    instance: plan.name,
    template: entry.template,
    params: entry.params,
    publicSignals: entry.publicSignals,
    nConstraints: entry.nConstraints,
    nPublic: entry.nPublic,
    compileKey: entry.compileKey,
    files: { r1cs: "main.r1cs", wasm: "main_js/main.wasm", sym: "main.sym", zkey: "circuit.zkey", vkey: "verification_key.json" },
    // The publisher's: a later `zks setup` on the same ptau and snarkjs finds the key set up and keeps it.
    setupKey: entry.setupKey ?? read.sha256,
    ...(ptau ? { ptau } : {}),
    zkeySha256: entry.files.zkey.sha256,
    verificationKeyHash: entry.verificationKeyHash,
    keySource: entry.keySource,
    verifierContract: entry.verifierContract ?? verifierContractName(plan.name),
    ...(keepCompiled && previous.nativeWitness && existsSync(path.join(staging, "main_cpp")) ? { nativeWitness: previous.nativeWitness } : {}),
    fetched: { from, version: read.index.version, indexSha256: read.sha256, pinnedBy: plan.pinned },
  };
  writeManifest(staging, manifest);
  return staging;
}

/**
 * Renames the staged folder into place. An existing folder is moved aside first and removed
 * after; between the two renames the instance has no folder (no keys), never a mixed one.
 */
function swapIn(staging: string, target: string): "installed" | "replaced" {
  if (!existsSync(target)) {
    renameSync(staging, target);
    return "installed";
  }
  const aside = path.join(path.dirname(target), `.${path.basename(target)}.replaced-${process.pid}-${randomBytes(4).toString("hex")}`);
  renameSync(target, aside);
  try {
    renameSync(staging, target);
  } catch (error) {
    renameSync(aside, target);
    throw error;
  }
  rmSync(aside, { recursive: true, force: true });
  return "replaced";
}

/** The generated Solidity verifier of the installed key, as `zks setup` writes it (hardhat compiles it in a checkout). */
async function writeSolidityVerifier(plan: InstancePlan, paths: BuildPaths): Promise<string> {
  const manifest = readManifest(plan.dir)!;
  const file = path.join(paths.generatedContractsDir, `${verifierContractName(plan.name)}.sol`);
  const text = await solidityVerifierSource(manifestFiles(plan.dir, manifest).zkey, plan.name, manifest.zkeySha256!, manifest.keySource);
  if (!existsSync(file) || readFileSync(file, "utf8") !== text) {
    mkdirSync(paths.generatedContractsDir, { recursive: true });
    writeFileSync(file, text);
  }
  return file;
}
