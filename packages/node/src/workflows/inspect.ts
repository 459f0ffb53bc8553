/** `zks inspect` as functions: the declared circuit instances and what this machine has built of them. */
import { existsSync } from "node:fs";
import path from "node:path";
import { SetupError } from "@zk-solvency/sdk/core";
import { loadInstances, type InstanceConfig } from "../setup/instances.ts";
import { keyDeployable, manifestFiles, readManifest, type InstanceManifest } from "../setup/manifest.ts";
import { defaultBuildPaths, instanceDir, type BuildPaths } from "../setup/paths.ts";

export interface InstanceSummary {
  instance: string;
  template: string;
  params: number[];
  tier: string;
  constraints: number | null;
  publicSignals: number;
  built: boolean;
  /** "development" (one local contribution) or "ceremony"; null without keys. */
  keySource: "development" | "ceremony" | null;
  /** A ceremony key on a public phase-1 ptau: the only kind `zks deploy` sends to a non-local chain unasked. */
  deployable: boolean;
}

/** Manifests from before key sources were recorded hold development keys: only `zks setup --zkey` makes another kind. */
const keyKind = (manifest: InstanceManifest | undefined): InstanceSummary["keySource"] => (manifest?.setupKey ? (manifest.keySource?.kind ?? "development") : null);

function summary(config: InstanceConfig, manifest: InstanceManifest | undefined): InstanceSummary {
  return {
    instance: config.name,
    template: config.template,
    params: config.params,
    tier: config.tier,
    constraints: manifest?.nConstraints ?? null,
    publicSignals: config.publicSignals.length,
    built: Boolean(manifest?.setupKey),
    keySource: keyKind(manifest),
    deployable: Boolean(manifest?.setupKey) && keyDeployable(manifest?.keySource),
  };
}

/** Every instance of packages/circuits/instances.json, with its build state in the build directory. */
export function inspectInstances(paths: BuildPaths = defaultBuildPaths()): { buildDir: string; instances: InstanceSummary[] } {
  return { buildDir: paths.buildDir, instances: loadInstances().map((config) => summary(config, readManifest(instanceDir(paths, config.name)))) };
}

/** One instance in detail: its declaration, files, key source and native witness. An unknown name is a SetupError (exit 3). */
export function inspectInstance(name: string, paths: BuildPaths = defaultBuildPaths()) {
  const all = loadInstances();
  const config = all.find((i) => i.name === name);
  if (!config) throw new SetupError(`unknown circuit instance "${name}" (declared: ${all.map((i) => i.name).join(", ")})`);
  const dir = instanceDir(paths, name);
  const manifest = readManifest(dir);
  const files = manifest ? Object.fromEntries(Object.entries(manifestFiles(dir, manifest)).map(([kind, file]) => [kind, { path: file, exists: existsSync(file) }])) : null;
  return {
    details: {
      instance: name,
      template: config.template,
      file: `circuits/${config.file}`,
      params: config.params,
      tier: config.tier,
      description: config.description,
      publicInputs: config.publicInputs,
      publicSignals: config.publicSignals,
      directory: dir,
      compiled: manifest !== undefined,
      built: Boolean(manifest?.setupKey),
      constraints: manifest?.nConstraints ?? null,
      nPublic: manifest?.nPublic ?? null,
      files,
      ptau: manifest?.ptau ?? null,
      zkeySha256: manifest?.zkeySha256 ?? null,
      verificationKeyHash: manifest?.verificationKeyHash ?? null,
      keySource: manifest?.setupKey ? (manifest.keySource ?? { kind: "development" as const, contributions: 1 }) : null,
      deployable: Boolean(manifest?.setupKey) && keyDeployable(manifest?.keySource),
      verifierContract: manifest?.verifierContract ?? null,
      nativeWitness: manifest?.nativeWitness
        ? { ...manifest.nativeWitness, path: path.join(dir, manifest.nativeWitness.binary), exists: existsSync(path.join(dir, manifest.nativeWitness.binary)) }
        : null,
    },
    config,
    manifest,
  };
}

export type InstanceDetails = ReturnType<typeof inspectInstance>["details"];
