import type { Artifact } from "./artifacts.ts";

/** Bytes received so far, and the size the server announced (null when it did not). */
export type DownloadProgress = (loaded: number, total: number | null) => void;

/**
 * The bytes of an artifact given as bytes or a URL (browser-safe: no file system). Node callers
 * holding file paths read them with `@zk-solvency/node` instead. `onProgress` hears about every
 * 512 KiB of a download: enough for a smooth bar, few enough calls to post across a worker.
 */
export async function artifactBytes(artifact: Artifact, what: string, onProgress?: DownloadProgress): Promise<Uint8Array> {
  if (artifact instanceof Uint8Array) return artifact;
  let response: Response;
  try {
    response = await fetch(artifact);
  } catch (error) {
    throw new Error(`${what}: cannot fetch ${artifact} (${error instanceof Error ? error.message : String(error)})`, { cause: error });
  }
  if (!response.ok) throw new Error(`${what}: fetching ${artifact} answered HTTP ${response.status}`);
  if (!onProgress || !response.body) return new Uint8Array(await response.arrayBuffer());
  const header = Number(response.headers.get("content-length"));
  const total = Number.isFinite(header) && header > 0 ? header : null;
  const chunks: Uint8Array[] = [];
  let loaded = 0;
  let reported = 0;
  const reader = response.body.getReader();
  onProgress(0, total);
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    loaded += value.byteLength;
    if (loaded - reported >= 1 << 19) {
      reported = loaded;
      onProgress(loaded, total);
    }
  }
  onProgress(loaded, total ?? loaded);
  const bytes = new Uint8Array(loaded);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return bytes;
}
