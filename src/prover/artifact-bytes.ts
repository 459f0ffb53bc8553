import type { Artifact } from "./artifacts.ts";

/**
 * The bytes of an artifact given as bytes or a URL (browser-safe: no file system). Node callers
 * holding file paths read them with `zk-solvency/node` instead.
 */
export async function artifactBytes(artifact: Artifact, what: string): Promise<Uint8Array> {
  if (artifact instanceof Uint8Array) return artifact;
  let response: Response;
  try {
    response = await fetch(artifact);
  } catch (error) {
    throw new Error(`${what}: cannot fetch ${artifact} (${error instanceof Error ? error.message : String(error)})`);
  }
  if (!response.ok) throw new Error(`${what}: fetching ${artifact} answered HTTP ${response.status}`);
  return new Uint8Array(await response.arrayBuffer());
}
