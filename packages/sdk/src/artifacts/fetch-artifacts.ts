/**
 * Keys for a front-end, by URL, checked: `fetchCircuitArtifacts` reads a release that
 * `zks keys publish` wrote (served from any static host), checks every byte against its index
 * and the caller's pins, and returns bytes ready for proveSolvency / proveRebalance or
 * BrowserProver.load. Browser-safe: fetch and WebCrypto (fetch is injectable).
 *
 *     const artifacts = await fetchCircuitArtifacts({
 *       baseUrl: "https://keys.example.org/zk-solvency/", version: "0.1.0", instance: "solvency-3x3x16",
 *       expected: { verificationKeyHash: await verifier.VERIFICATION_KEY_HASH() },
 *     });
 */
import type { KeySource } from "../proof-file/key-source.ts";
import type { CircuitArtifacts } from "../api/artifacts.ts";
import type { InstanceInfo } from "../browser/instances.ts";
import { httpReleaseSource, type FetchFunction } from "./http-source.ts";
import { checkReleaseRequest, readInstanceRelease, readKeyIndex, type ArtifactProgress, type ReadIndexResult, type ReleasePins } from "./release.ts";
import type { KeyIndex } from "./key-index.ts";

export interface FetchKeyIndexOptions {
  /** Where releases are published: the folder holding `<version>/index.json` (relative URLs resolve against the page). */
  baseUrl: string | URL;
  version: string;
  /** sha256 of index.json, from a source trusted more than the server. */
  expected?: { indexSha256?: string };
  /** Defaults to the global fetch; e.g. one that adds an authorization header. */
  fetch?: FetchFunction;
  signal?: AbortSignal;
}

export interface FetchCircuitArtifactsOptions extends FetchKeyIndexOptions {
  instance: string;
  /**
   * Pins. Without any, the release is trusted as the server sends it (the checks still catch a
   * file altered or cut short on its way, or not matching the rest of the release). Pin the
   * verification key hash the deployed verifier returns (VERIFICATION_KEY_HASH()) so proofs are
   * made for it, or the index's sha256 to pin every file.
   */
  expected?: ReleasePins;
  /**
   * Check the proving key against the verification key (default true): about 0.2 s for the test
   * tier's 14 MB zkey once snarkjs' curve is built (which proving builds anyway); docs/keys.md has
   * the figures. It loads snarkjs with a dynamic import (a separate chunk for bundlers).
   */
  checkProvingKey?: boolean;
  onProgress?: (progress: ArtifactProgress) => void;
}

/** Circuit artifacts as bytes, checked, with what the release says about them. */
export interface FetchedCircuitArtifacts extends CircuitArtifacts {
  wasm: Uint8Array;
  zkey: Uint8Array;
  template: string;
  params: number[];
  release: {
    /** The release directory the files came from. */
    url: string;
    version: string;
    /** sha256 of the index as read: pin it to get exactly these files next time. */
    indexSha256: string;
    verificationKeyHash: string;
    /** What the publisher says the key is (development keys are forgeable by whoever made them). */
    keySource: KeySource;
    /** For chooseInstance and the like. */
    info: InstanceInfo;
  };
  timings: { readMs: number; hashMs: number; provingKeyCheckMs: number | null; totalMs: number };
}

/** A release's index, read and checked (e.g. to list or choose among its instances). */
export async function fetchKeyIndex(options: FetchKeyIndexOptions): Promise<{ index: KeyIndex; sha256: string; url: string }> {
  checkReleaseRequest({ version: options.version, pins: options.expected }, NAMES);
  const source = httpReleaseSource(options.baseUrl, options.version, { fetch: options.fetch, signal: options.signal });
  const read = await readKeyIndex(source, options.version, options.expected?.indexSha256);
  return { index: read.index, sha256: read.sha256, url: read.location };
}

const NAMES = { version: "version", instance: "instance", indexSha256: "expected.indexSha256", verificationKeyHash: "expected.verificationKeyHash" };

/**
 * Fetches and checks one instance's wasm, zkey and verification key. Throws ArtifactIntegrityError
 * (a check failed: names the file and both values), ArtifactFetchError (unreachable, an HTTP
 * error, a redirect to another origin, or an instance the release lacks), or InputError (a
 * malformed option).
 */
export async function fetchCircuitArtifacts(options: FetchCircuitArtifactsOptions): Promise<FetchedCircuitArtifacts> {
  const started = performance.now();
  checkReleaseRequest({ version: options.version, instances: [options.instance], pins: options.expected }, NAMES);
  const source = httpReleaseSource(options.baseUrl, options.version, { fetch: options.fetch, signal: options.signal });
  const read: ReadIndexResult = await readKeyIndex(source, options.version, options.expected?.indexSha256);
  const release = await readInstanceRelease(source, read, options.instance, {
    verificationKeyHash: options.expected?.verificationKeyHash,
    checkProvingKey: options.checkProvingKey,
    onProgress: options.onProgress,
  });
  const { entry } = release;
  return {
    instance: options.instance,
    wasm: release.files.wasm,
    zkey: release.files.zkey,
    verificationKey: release.verificationKey,
    template: entry.template,
    params: [...entry.params],
    keySource: entry.keySource.kind,
    release: {
      url: source.location,
      version: read.index.version,
      indexSha256: read.sha256,
      verificationKeyHash: entry.verificationKeyHash,
      keySource: entry.keySource,
      info: { instance: options.instance, template: entry.template, params: [...entry.params], nConstraints: entry.nConstraints, publicSignals: [...entry.publicSignals] },
    },
    timings: { ...release.timings, totalMs: performance.now() - started },
  };
}
