import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { VerificationKey } from "snarkjs";
import { InputError, SetupError } from "@zk-solvency/sdk/core";
import { verificationKeyHash } from "@zk-solvency/sdk/verifier";
import { installCeremonyKey, loadTranscript, resolveCeremonyPtau, type LoadedTranscript, type ZkeyContribution } from "./ceremony.ts";
import { includeGraph, hashParts, fileParts } from "./content-hash.ts";
import { compileInstance, CIRCOM_PACKAGE_VERSION, CIRCUIT_LIBRARY_DIR, CIRCUITS_DIR } from "./compile.ts";
import { exportVerificationKey, groth16Setup, solidityVerifierSource, verifierContractName } from "./groth16-setup.ts";
import { loadInstances, mainComponentSource, selectInstances, type InstanceConfig } from "./instances.ts";
import { readManifest, writeManifest, manifestFiles, type InstanceManifest } from "./manifest.ts";
import { checkNativeToolchain, nativeToolchainChoice } from "./native-toolchain.ts";
import { buildNativeWitness, nativeWitnessCurrent, nativeWitnessKey } from "./native-witness.ts";
import { defaultBuildPaths, instanceDir, type BuildPaths } from "./paths.ts";
import { requiredPower, resolvePtau, type PtauChoice } from "./ptau.ts";
import { ensureVerifierArtifact, SOLC_HINT, VERIFIER_ARTIFACT_FILE } from "./verifier-artifact.ts";

const SNARKJS_VERSION: string = JSON.parse(readFileSync(path.join(path.dirname(fileURLToPath(import.meta.resolve("snarkjs"))), "package.json"), "utf8")).version;

export const DEFAULT_TIERS: InstanceConfig["tier"][] = ["test", "standard"];

export type BuildStep = "compile" | "native" | "ptau" | "setup" | "verifier" | "bytecode";

/** How the CLI names each build step in progress lines. */
export const BUILD_STEP_LABEL: Record<BuildStep, string> = {
  compile: "compiling",
  native: "native witness (C++)",
  ptau: "choosing ptau",
  setup: "Groth16 setup",
  verifier: "Solidity verifier",
  bytecode: "verifier bytecode (solc)",
};

export interface BuildProgress {
  instance?: string;
  step: BuildStep;
  state: "start" | "done" | "cached";
  /** Index of this instance among those being built, for progress bars. */
  index: number;
  total: number;
}

export interface BuildOptions {
  /** Instance names; all declared instances when empty. */
  instances?: string[];
  /** Include only instances of these tiers (default: test and standard). */
  tiers?: InstanceConfig["tier"][];
  ptau?: string;
  /** Rebuild even when content hashes match. */
  force?: boolean;
  /** Compile only: no ptau, no Groth16 setup (enough for witness and constraint tests). */
  compileOnly?: boolean;
  /** Also build circom's C++ witness generator (needs g++, make, GMP, nlohmann/json; see native-toolchain.ts). */
  nativeWitness?: boolean;
  /**
   * Install this finalized ceremony key (`zks setup --zkey`) instead of making a development
   * key: verified against the r1cs, the ptau, its transcript and the announced beacon first.
   * Exactly one instance. `untrustedPtau` accepts a phase 1 that is not a public ceremony file
   * (a rehearsal: the key is labelled so and deploy refuses it on a non-local chain).
   */
  ceremony?: { zkey: string; transcript: string; expectBeacon: string; untrustedPtau?: boolean };
  paths?: BuildPaths;
  env?: NodeJS.ProcessEnv;
  log?: (message: string) => void;
  onProgress?: (event: BuildProgress) => void;
}

export interface InstanceBuildResult {
  manifest: InstanceManifest;
  dir: string;
  compiled: boolean;
  /** The native witness generator was (re)built in this run. */
  nativeBuilt: boolean;
  setUp: boolean;
  seconds: number;
}

export interface BuildResult {
  instances: InstanceBuildResult[];
  ptau?: PtauChoice;
  /** The ceremony key installed by this run (`ceremony` option): its contributions, for the deployer to match against each contributor's statement. */
  ceremony?: { instance: string; transcriptSha256: string; contributions: (ZkeyContribution & { statement?: string })[] };
  seconds: number;
}

export function compileKeyOf(instance: InstanceConfig): string {
  const sources = includeGraph(path.join(CIRCUITS_DIR, instance.file), [CIRCUIT_LIBRARY_DIR]);
  const { name: _name, description: _description, tier: _tier, ...semantic } = instance;
  return hashParts({
    config: JSON.stringify(semantic),
    main: mainComponentSource(instance, instance.file),
    compiler: `circom2@${CIRCOM_PACKAGE_VERSION} --O2`,
    // Named relative to the circuits package and to the library directory (circomlib/...), so a
    // checkout and an install of the same version hash alike.
    ...fileParts(
      sources.filter((file) => !path.relative(CIRCUITS_DIR, file).startsWith("..")),
      CIRCUITS_DIR,
    ),
    ...fileParts(
      sources.filter((file) => path.relative(CIRCUITS_DIR, file).startsWith("..")),
      CIRCUIT_LIBRARY_DIR,
    ),
  });
}

function keyHashOf(vkeyFile: string): string {
  return verificationKeyHash(JSON.parse(readFileSync(vkeyFile, "utf8")) as VerificationKey);
}

function sha256File(file: string): string {
  return createHash("sha256").update(readFileSync(file)).digest("hex");
}

function filesExist(dir: string, manifest: InstanceManifest, keys: (keyof InstanceManifest["files"])[]): boolean {
  const files = manifestFiles(dir, manifest);
  return keys.every((key) => existsSync(files[key]) && statSync(files[key]).size > 0);
}

/**
 * Compiles every selected instance and runs its Groth16 setup, skipping whatever the content
 * hashes show is already built. The ptau is resolved once, for the largest instance.
 */
export async function buildCircuits(options: BuildOptions = {}): Promise<BuildResult> {
  const started = performance.now();
  const paths = options.paths ?? defaultBuildPaths(options.env);
  const log = options.log ?? (() => {});
  const progress = options.onProgress ?? (() => {});
  let selected = selectInstances(loadInstances(), options.instances ?? []);
  // Named instances are built whatever their tier; otherwise the default tiers, which exclude
  // `large` (those need a ptau above the 2^16 most machines have).
  const tiers = options.tiers && options.tiers.length > 0 ? options.tiers : options.instances?.length ? undefined : DEFAULT_TIERS;
  if (tiers) selected = selected.filter((instance) => tiers.includes(instance.tier));
  if (options.ceremony && (selected.length !== 1 || options.instances?.length !== 1)) {
    throw new InputError("--zkey", "", "a ceremony key belongs to one circuit: name exactly one --instance");
  }
  if (options.ceremony && options.compileOnly) throw new InputError("--zkey", "", "installs a key: it cannot be combined with --compile-only");
  // Read once: the sha256 the manifest records is of the bytes that were parsed and checked.
  const transcript: LoadedTranscript | undefined = options.ceremony ? loadTranscript(options.ceremony.transcript) : undefined;
  const total = selected.length;
  const env = options.env ?? process.env;
  const compileKeys = new Map(selected.map((instance) => [instance.name, compileKeyOf(instance)]));

  // A missing C++ toolchain fails before minutes of compiling, but a cached generator never
  // probes it: an unchanged rebuild stays instant.
  const toolchain = options.nativeWitness ? nativeToolchainChoice(env) : undefined;
  if (toolchain) {
    const stale = selected.some((instance) => {
      const dir = instanceDir(paths, instance.name);
      return options.force || !nativeWitnessCurrent(dir, readManifest(dir), nativeWitnessKey(compileKeys.get(instance.name)!, toolchain));
    });
    if (stale) checkNativeToolchain(toolchain, env);
  }

  // Phase 1: compile (cheap, and it tells us how large a ptau we need).
  const compiled: { instance: InstanceConfig; dir: string; manifest: InstanceManifest; compiled: boolean; nativeBuilt: boolean; started: number }[] = [];
  for (const [index, instance] of selected.entries()) {
    const t0 = performance.now();
    const dir = instanceDir(paths, instance.name);
    const compileKey = compileKeys.get(instance.name)!;
    const previous = readManifest(dir);
    // A ceremony key cannot be remade on one machine: a changed circuit needs a new ceremony,
    // and only --force (or installing the new ceremony's key) replaces it with a development key.
    const ceremonyKey = previous?.keySource?.kind === "ceremony" && !options.force && !options.ceremony;
    if (ceremonyKey && previous.compileKey !== compileKey) {
      throw new SetupError(
        `${instance.name} has a ceremony key for another version of its circuit (compileKey ${previous.compileKey.slice(0, 12)}…, now ${compileKey.slice(0, 12)}…): run a new ceremony and \`zks setup --zkey\`, or pass --force to replace it with a development key`,
      );
    }
    if (!options.force && previous?.compileKey === compileKey && filesExist(dir, previous, ["r1cs", "wasm", "sym"])) {
      progress({ instance: instance.name, step: "compile", state: "cached", index, total });
      compiled.push({ instance, dir, manifest: previous, compiled: false, nativeBuilt: false, started: t0 });
      continue;
    }
    progress({ instance: instance.name, step: "compile", state: "start", index, total });
    const circuit = await compileInstance(instance, dir);
    const manifest: InstanceManifest = {
      instance: instance.name,
      template: instance.template,
      params: instance.params,
      publicSignals: instance.publicSignals,
      nConstraints: circuit.nConstraints,
      nPublic: circuit.nPublic,
      compileKey,
      files: { r1cs: "main.r1cs", wasm: "main_js/main.wasm", sym: "main.sym", zkey: "circuit.zkey", vkey: "verification_key.json" },
      // A forced recompile of unchanged sources leaves the native generator valid.
      ...(previous?.compileKey === compileKey && previous.nativeWitness ? { nativeWitness: previous.nativeWitness } : {}),
      // The same sources compile to the same r1cs, so a ceremony key stays this circuit's key.
      ...(ceremonyKey
        ? {
            setupKey: previous.setupKey,
            ptau: previous.ptau,
            zkeySha256: previous.zkeySha256,
            verificationKeyHash: previous.verificationKeyHash,
            keySource: previous.keySource,
            verifierContract: previous.verifierContract,
          }
        : {}),
    };
    writeManifest(dir, manifest);
    progress({ instance: instance.name, step: "compile", state: "done", index, total });
    log(`compiled ${instance.name}: ${circuit.nConstraints} constraints, ${circuit.nPublic} public signals`);
    compiled.push({ instance, dir, manifest, compiled: true, nativeBuilt: false, started: t0 });
  }
  if (compiled.length === 0) return { instances: [], seconds: (performance.now() - started) / 1000 };

  // Phase 1b: the optional C++ witness generator, from the main.circom phase 1 wrote.
  if (toolchain) {
    for (const [index, entry] of compiled.entries()) {
      const { instance, dir } = entry;
      const key = nativeWitnessKey(entry.manifest.compileKey, toolchain);
      if (!options.force && nativeWitnessCurrent(dir, entry.manifest, key)) {
        progress({ instance: instance.name, step: "native", state: "cached", index, total });
        continue;
      }
      progress({ instance: instance.name, step: "native", state: "start", index, total });
      // circom reads the sources again: an edit since phase 1 would pair this generator with the
      // wasm, r1cs and zkey of another circuit, and its witnesses would not prove.
      const sourcesUnchanged = () => {
        if (compileKeyOf(instance) !== entry.manifest.compileKey) {
          throw new SetupError(`the sources of ${instance.name} changed while it was being built; run \`zks setup\` again`);
        }
      };
      const nativeWitness = await buildNativeWitness(dir, key, toolchain, { env, sourcesUnchanged });
      entry.manifest = { ...entry.manifest, nativeWitness };
      entry.nativeBuilt = true;
      writeManifest(dir, entry.manifest);
      progress({ instance: instance.name, step: "native", state: "done", index, total });
      log(
        `built the native witness generator of ${instance.name} in ${nativeWitness.buildSeconds} s (${toolchain.asm ? "nasm field arithmetic" : "portable C++ field arithmetic: install nasm for faster witnesses"})`,
      );
    }
  }

  if (options.compileOnly) {
    return {
      instances: compiled.map(({ manifest, dir, compiled: rebuilt, nativeBuilt, started: t0 }) => ({
        manifest,
        dir,
        compiled: rebuilt,
        nativeBuilt,
        setUp: false,
        seconds: (performance.now() - t0) / 1000,
      })),
      seconds: (performance.now() - started) / 1000,
    };
  }

  // Phase 2: one ptau for all, then the per-instance Groth16 setup. When every key is built
  // and the user names no ptau, the recorded one stands: a cached build never downloads.
  const explicitPtau = options.ptau ?? env.ZKS_PTAU;
  const allSetUp = compiled.every(({ dir, manifest }) => manifest.setupKey && manifest.ptau && filesExist(dir, manifest, ["zkey", "vkey"]));
  let ptau: PtauChoice | undefined;
  if (options.force || explicitPtau || !allSetUp || options.ceremony) {
    progress({ step: "ptau", state: "start", index: 0, total });
    const power = Math.max(...compiled.map(({ manifest }) => requiredPower(manifest.nConstraints, manifest.nPublic)));
    const hashCacheFile = path.join(paths.buildDir, "ptau-hashes.json");
    // A ceremony key is checked against the ceremony's own ptau (the public file its transcript names), never a generated one.
    ptau = transcript
      ? await resolveCeremonyPtau({ ptau: options.ptau, env: options.env, requiredPower: power, transcript, hashCacheFile, log })
      : await resolvePtau({ ptau: options.ptau, requiredPower: power, env: options.env, hashCacheFile, log });
    progress({ step: "ptau", state: "done", index: 0, total });
  }

  const results: InstanceBuildResult[] = [];
  let ceremony: BuildResult["ceremony"];
  let solcMissingSaid = false;
  for (const [index, entry] of compiled.entries()) {
    const { instance, dir } = entry;
    let manifest = entry.manifest;
    const setupKey = ptau ? hashParts({ compileKey: manifest.compileKey, ptau: ptau.blake2b, snarkjs: SNARKJS_VERSION }) : manifest.setupKey!;
    const files = manifestFiles(dir, manifest);
    const contract = path.join(paths.generatedContractsDir, `${verifierContractName(instance.name)}.sol`);
    let setUp = false;
    const keepCeremonyKey = manifest.keySource?.kind === "ceremony" && !options.force && !options.ceremony;
    if (keepCeremonyKey) {
      const restore = `install it again with \`zks setup --instance ${instance.name} --zkey FINAL.zkey --transcript FILE --expect-beacon HEX\`, or pass --force for a development key`;
      if (!filesExist(dir, manifest, ["zkey", "vkey"])) throw new SetupError(`the ceremony key of ${instance.name} is missing from ${dir}: ${restore}`);
      // The cached path trusts the manifest only for the key it describes: a zkey swapped on disk is not the ceremony's.
      const onDisk = sha256File(files.zkey);
      if (onDisk !== manifest.zkeySha256) {
        throw new SetupError(
          `${files.zkey}: sha256 ${onDisk.slice(0, 16)}… is not the ceremony key its manifest records (${String(manifest.zkeySha256).slice(0, 16)}…): ${restore}`,
        );
      }
    }
    if (options.ceremony && transcript) {
      if (!ptau) throw new Error("unreachable: a ceremony install without a resolved ptau");
      progress({ instance: instance.name, step: "setup", state: "start", index, total });
      const circuit = { instance: instance.name, compileKey: manifest.compileKey, r1cs: files.r1cs, nConstraints: manifest.nConstraints, nPublic: manifest.nPublic, ptau };
      const source = { zkey: options.ceremony.zkey, transcript, expectBeacon: options.ceremony.expectBeacon, untrustedPtau: options.ceremony.untrustedPtau };
      const previous = manifest;
      const { keySource, verification } = await installCeremonyKey(circuit, source, files.zkey, async (verified) => {
        // Everything that can fail is made from the verified copy first; then the manifest stops
        // claiming any key while the two files move, so an interruption leaves "no keys" (a plain
        // setup rebuilds), never a manifest describing another zkey than the one on disk.
        const vkeyTemp = `${files.vkey}.${path.basename(verified)}.tmp`;
        try {
          await exportVerificationKey(verified, vkeyTemp);
          const { setupKey: _s, ptau: _p, zkeySha256: _z, verificationKeyHash: _v, keySource: _k, ...keyless } = previous;
          writeManifest(dir, keyless);
          renameSync(verified, files.zkey);
          renameSync(vkeyTemp, files.vkey);
        } finally {
          rmSync(vkeyTemp, { force: true });
        }
      });
      manifest = {
        ...manifest,
        // The key, not the ptau alone, decides: a plain setup never matches it and keeps it (keepCeremonyKey).
        setupKey: hashParts({ compileKey: manifest.compileKey, ptau: ptau.blake2b, snarkjs: SNARKJS_VERSION, ceremonyZkey: verification.zkeySha256 }),
        ptau: { power: ptau.power, blake2b: ptau.blake2b, origin: ptau.origin },
        zkeySha256: verification.zkeySha256,
        keySource,
      };
      ceremony = {
        instance: instance.name,
        transcriptSha256: transcript.sha256,
        contributions: verification.contributions.map((c, i) => ({
          ...c,
          ...(transcript.content.entries[i]?.statement ? { statement: transcript.content.entries[i]!.statement } : {}),
        })),
      };
      setUp = true;
      progress({ instance: instance.name, step: "setup", state: "done", index, total });
      log(`installed the ceremony key of ${instance.name}: ${keySource.contributions} contributions and the beacon ${keySource.beacon}`);
    } else if (!keepCeremonyKey && (options.force || manifest.setupKey !== setupKey || !filesExist(dir, manifest, ["zkey", "vkey"]))) {
      if (!ptau) throw new Error("unreachable: a setup without a resolved ptau");
      progress({ instance: instance.name, step: "setup", state: "start", index, total });
      await groth16Setup(files.r1cs, ptau.path, files.zkey);
      await exportVerificationKey(files.zkey, files.vkey);
      manifest = {
        ...manifest,
        setupKey,
        ptau: { power: ptau.power, blake2b: ptau.blake2b, origin: ptau.origin },
        zkeySha256: sha256File(files.zkey),
        keySource: { kind: "development", contributions: 1 },
      };
      setUp = true;
      progress({ instance: instance.name, step: "setup", state: "done", index, total });
      log(`set up ${instance.name} (ptau power ${ptau.power}, ${ptau.origin})`);
    } else {
      progress({ instance: instance.name, step: "setup", state: "cached", index, total });
    }
    // packages/contracts/contracts/generated is shared by every build directory, and hardhat compiles whatever it
    // holds: a verifier whose text is not exactly the one this key makes (another build's, a hand
    // edit that kept the key hash and zkey sha256 lines) is rewritten.
    const zkeySha256 = manifest.zkeySha256 ?? sha256File(files.zkey);
    const verifierText = await solidityVerifierSource(files.zkey, instance.name, zkeySha256, manifest.keySource ?? { kind: "development", contributions: 1 });
    if (!existsSync(contract) || readFileSync(contract, "utf8") !== verifierText) {
      progress({ instance: instance.name, step: "verifier", state: "start", index, total });
      mkdirSync(paths.generatedContractsDir, { recursive: true });
      writeFileSync(contract, verifierText);
      progress({ instance: instance.name, step: "verifier", state: "done", index, total });
    }
    // Builds from before key hashes were recorded get theirs from the key on disk.
    const verificationKeyHash = keyHashOf(files.vkey);
    // The verifier's bytecode, so `zks deploy` and a key release need no compiler: recompiled
    // whenever the verifier's text changes (a new key), skipped with a note without solc.
    const bytecode = await ensureVerifierArtifact(
      dir,
      { instance: instance.name, contractName: verifierContractName(instance.name), source: verifierText, verificationKeyHash },
      () => progress({ instance: instance.name, step: "bytecode", state: "start", index, total }),
    );
    // Like the verifier step, silent when nothing changed.
    if (bytecode === "compiled") progress({ instance: instance.name, step: "bytecode", state: "done", index, total });
    else if (bytecode === "no-solc" && !solcMissingSaid) {
      solcMissingSaid = true;
      log(`solc is not installed: skipped compiling the verifiers to ${VERIFIER_ARTIFACT_FILE} (what \`zks deploy\` deploys); ${SOLC_HINT}`);
    }
    manifest = {
      ...manifest,
      verificationKeyHash,
      keySource: manifest.keySource ?? { kind: "development", contributions: 1 },
      verifierContract: verifierContractName(instance.name),
    };
    writeManifest(dir, manifest);
    results.push({ manifest, dir, compiled: entry.compiled, nativeBuilt: entry.nativeBuilt, setUp, seconds: (performance.now() - entry.started) / 1000 });
  }
  return { instances: results, ptau, ...(ceremony ? { ceremony } : {}), seconds: (performance.now() - started) / 1000 };
}
