import { readFileSync } from "node:fs";
import path from "node:path";
import type { VerificationKey } from "snarkjs";
import { InputError, SetupError } from "@zk-solvency/sdk/core";
import type { CircuitArtifacts } from "@zk-solvency/sdk";
import type { ProvingArtifacts } from "@zk-solvency/sdk/prover";
import { manifestFiles, readManifest, type InstanceManifest } from "./setup/manifest.ts";
import { defaultBuildPaths, instanceDir, type BuildPaths } from "./setup/paths.ts";

/** A built instance's proving artifacts (paths), its verification key and its build manifest. */
export interface InstanceArtifacts extends ProvingArtifacts {
  manifest: InstanceManifest;
  verificationKey: VerificationKey;
}

/** Instance names are build directory names: nothing that could climb out of `<buildDir>/circuits/`. */
const INSTANCE_NAME = /^[a-z0-9-]+$/;

/** The built artifacts of an instance, from `zks setup`'s build directory (Node only). */
export function loadInstanceArtifacts(instance: string, paths: BuildPaths = defaultBuildPaths()): InstanceArtifacts {
  if (!INSTANCE_NAME.test(instance))
    throw new InputError("instance", "", `${JSON.stringify(instance)} is not an instance name (lowercase letters, digits and dashes, as in circuits/instances.json)`);
  const dir = instanceDir(paths, instance);
  const manifest = readManifest(dir);
  if (!manifest?.setupKey) {
    throw new SetupError(`circuit instance "${instance}" is not built in ${paths.buildDir}; run \`zks setup --instance ${instance}\``);
  }
  const files = manifestFiles(dir, manifest);
  return {
    instance,
    manifest,
    wasm: files.wasm,
    zkey: files.zkey,
    verificationKey: readVerificationKey(files.vkey, instance),
  };
}

/** A torn or hand-edited verification_key.json is a setup problem naming the file, not a stack trace. */
function readVerificationKey(file: string, instance: string): VerificationKey {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch {
    throw new SetupError(`${file}: cannot be read; run \`zks setup --instance ${instance}\``);
  }
  try {
    return JSON.parse(text) as VerificationKey;
  } catch {
    throw new SetupError(`${file}: not valid JSON; run \`zks setup --force --instance ${instance}\``);
  }
}

/** Where loadCircuitArtifacts looks. */
export interface LoadArtifactsOptions {
  /** The build directory (`<buildDir>/circuits/<instance>/`); default: ZKS_BUILD_DIR, else the checkout's build/, else ~/.cache/zk-solvency/build. */
  buildDir?: string;
}

/**
 * A built (or fetched, `zks keys fetch`) instance's artifacts for the high-level API
 * (`proveSolvency`, `verifyRebalance`, ...): file paths of its witness generator and proving key,
 * its verification key, and from its manifest its template, parameters and key source. Throws
 * SetupError (exit 3) naming the command to run when the instance is not built there, InputError
 * (exit 2) for a name that is not an instance name.
 */
export function loadCircuitArtifacts(instance: string, options: LoadArtifactsOptions = {}): CircuitArtifacts & { manifest: InstanceManifest } {
  const defaults = defaultBuildPaths();
  const paths = options.buildDir === undefined ? defaults : { ...defaults, buildDir: path.resolve(options.buildDir) };
  const built = loadInstanceArtifacts(instance, paths);
  return {
    instance,
    wasm: built.wasm,
    zkey: built.zkey,
    verificationKey: built.verificationKey,
    template: built.manifest.template,
    params: built.manifest.params,
    keySource: built.manifest.keySource?.kind ?? "development",
    manifest: built.manifest,
  };
}
