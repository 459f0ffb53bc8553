import { readFile } from "node:fs/promises";
import type { Artifact, ProvingArtifacts } from "@zk-solvency/sdk/prover";
import { WarmProver } from "@zk-solvency/sdk/prover";
import { loadInstanceArtifacts } from "./artifacts.ts";

/** A WarmProver for a built instance (by name) or for artifacts given as file paths or bytes. */
export async function loadWarmProver(instance: string | ProvingArtifacts): Promise<WarmProver> {
  const artifacts = typeof instance === "string" ? loadInstanceArtifacts(instance) : instance;
  const [wasm, zkey] = await Promise.all([fileBytes(artifacts.wasm), fileBytes(artifacts.zkey)]);
  return WarmProver.load({ instance: artifacts.instance, wasm, zkey });
}

/** File paths become bytes; URLs and bytes go through as they are. */
async function fileBytes(artifact: Artifact): Promise<Artifact> {
  return typeof artifact === "string" && !/^(https?|data|blob):/.test(artifact) ? readFile(artifact) : artifact;
}
