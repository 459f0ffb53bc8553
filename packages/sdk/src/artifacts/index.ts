/** Published key releases: fetched by URL and checked against their index and the caller's pins. Browser-safe. */
export { fetchCircuitArtifacts, fetchKeyIndex, type FetchCircuitArtifactsOptions, type FetchKeyIndexOptions, type FetchedCircuitArtifacts } from "./fetch-artifacts.ts";
export { ArtifactFetchError, ArtifactIntegrityError } from "./errors.ts";
export { httpReleaseSource, releaseUrl, type FetchFunction } from "./http-source.ts";
export {
  checkProvingKey,
  checkReleaseRequest,
  indexEntry,
  readInstanceRelease,
  readKeyIndex,
  type ArtifactProgress,
  type InstanceRelease,
  type ReadIndexResult,
  type ReadInstanceOptions,
  type ReleasePins,
  type ReleaseSource,
  type VerifierArtifact,
} from "./release.ts";
export { KEY_FILE_NAMES, KEY_INDEX_FILE, KEY_INDEX_KIND, keyFilePathProblem, keyIndexJson, parseKeyIndex, RELEASE_VERSION, type KeyFileEntry, type KeyFileKind, type KeyIndex, type KeyIndexInstance } from "./key-index.ts";
export { sha256Hex } from "./digest.ts";
