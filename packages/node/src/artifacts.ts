import { readFileSync } from "node:fs";
import type { VerificationKey } from "snarkjs";
import { SetupError } from "@zk-solvency/sdk/core";
import type { ProvingArtifacts } from "@zk-solvency/sdk/prover";
import { manifestFiles, readManifest, type InstanceManifest } from "./setup/manifest.ts";
import { defaultBuildPaths, instanceDir, type BuildPaths } from "./setup/paths.ts";

export interface InstanceArtifacts extends ProvingArtifacts {
  manifest: InstanceManifest;
  verificationKey: VerificationKey;
}

/** The built artifacts of an instance, from `zks setup`'s build directory (Node only). */
export function loadInstanceArtifacts(instance: string, paths: BuildPaths = defaultBuildPaths()): InstanceArtifacts {
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
    verificationKey: JSON.parse(readFileSync(files.vkey, "utf8")) as VerificationKey,
  };
}
