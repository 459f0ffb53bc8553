/**
 * Reading a key release and checking everything in it before anything is used: the index against
 * the caller's pin, each file's size and sha256 against the index, the verification key's hash
 * against the index and the caller's pin, the proving key against the verification key, and the
 * compiled verifier against the key. Where the bytes come from is a ReleaseSource: HTTP(S) with
 * fetch here (browser-safe), a local folder in @zk-solvency/node.
 */
import type { VerificationKey } from "snarkjs";
import { InputError } from "../core/errors.ts";
import { canonicalVerificationKey, verificationKeyWords, VerificationKeyShapeError } from "../verifier/key-check.ts";
import { verificationKeyHash } from "../verifier/key-hash.ts";
import { sha256Hex } from "./digest.ts";
import { ArtifactFetchError, ArtifactIntegrityError } from "./errors.ts";
import { INSTANCE_NAME, KEY_INDEX_FILE, MAX_INDEX_BYTES, parseKeyIndex, RELEASE_VERSION, type KeyFileKind, type KeyIndex, type KeyIndexInstance } from "./key-index.ts";

/** Where a release's files are read from. */
export interface ReleaseSource {
  /** The release directory (`<base>/<version>/`), for messages. */
  readonly location: string;
  /** Where `relativePath` is read from, for messages. */
  where(relativePath: string): string;
  /**
   * The bytes at `relativePath` (relative to the release directory). Refuses to read more than
   * `maxBytes` (ArtifactIntegrityError): an index says how large each file is, and a server
   * sending more is not sending that file (nor filling this process's memory).
   */
  read(relativePath: string, maxBytes: number, onProgress?: (loaded: number, total: number | null) => void): Promise<Uint8Array>;
}

/** What a caller pins, from a source it trusts more than the server (a release announcement, a deployed verifier's VERIFICATION_KEY_HASH). */
export interface ReleasePins {
  /** sha256 of index.json as published (`zks keys publish` prints it): pins every file of the release. */
  indexSha256?: string;
  /** The instance's verification key hash (0x + 64 hex): pins what its proofs mean, whatever else the index says. */
  verificationKeyHash?: string;
}

export interface ReadIndexResult {
  index: KeyIndex;
  /** sha256 of the index's bytes: what `expected.indexSha256` pins. */
  sha256: string;
  /** Where the index was read from. */
  location: string;
}

/** Download progress of one file of one instance. */
export interface ArtifactProgress {
  instance: string;
  file: KeyFileKind;
  loaded: number;
  /** From the index: the size the file must have. */
  total: number;
}

export interface ReadInstanceOptions {
  /** Pins the instance's verification key hash. */
  verificationKeyHash?: string;
  /**
   * Check that the proving key's own verification key (snarkjs zKey.exportVerificationKey on its
   * bytes) is the published verification key; default true. A zkey that does not match makes
   * proofs the verifier (on chain too) rejects. Costs about 0.2 s for the 14 MB test-tier zkey, plus
   * building snarkjs' curve on the first call (about 1.3 s in Node; see docs/keys.md for a browser).
   */
  checkProvingKey?: boolean;
  /** Also read and check the compiled Solidity verifier (verifier.json), when the release has one. */
  verifier?: boolean;
  onProgress?: (progress: ArtifactProgress) => void;
}

/** verifier.json: the instance's verifier contract compiled by `zks setup` (solc-js, the hardhat config's settings). */
export interface VerifierArtifact {
  contractName: string;
  abi: unknown[];
  bytecode: string;
  deployedBytecode: string;
  solcVersion?: string;
}

export interface InstanceRelease {
  instance: string;
  entry: KeyIndexInstance;
  /** The files' bytes exactly as checked. */
  files: { wasm: Uint8Array; zkey: Uint8Array; vkey: Uint8Array; verifier?: Uint8Array };
  /** The verification key rebuilt from exactly the points its hash covers (verifier/key-check.ts). */
  verificationKey: VerificationKey;
  verifier?: VerifierArtifact;
  /** Milliseconds spent: downloading (reading), hashing, and matching the proving key to the verification key. */
  timings: { readMs: number; hashMs: number; provingKeyCheckMs: number | null };
}

const SHA256 = /^[0-9a-f]{64}$/;
const KEY_HASH = /^0x[0-9a-f]{64}$/;

/** Validates what a caller passes in: InputError (exit 2) naming the flag or option (`flags`) of a malformed value. */
export function checkReleaseRequest(request: { version: string; instances?: readonly string[]; pins?: ReleasePins }, flags: { version: string; instance: string; indexSha256: string; verificationKeyHash: string }): void {
  if (!RELEASE_VERSION.test(request.version)) throw new InputError(flags.version, request.version, "expected a release version: letters, digits and . _ + - (e.g. 0.1.0), at most 64 characters");
  for (const instance of request.instances ?? []) {
    if (!INSTANCE_NAME.test(instance)) throw new InputError(flags.instance, instance, "expected an instance name (a-z, 0-9 and -)");
  }
  const { indexSha256, verificationKeyHash: keyHash } = request.pins ?? {};
  if (indexSha256 !== undefined && !SHA256.test(indexSha256.toLowerCase())) throw new InputError(flags.indexSha256, indexSha256, "expected the index's sha256: 64 hex digits");
  if (keyHash !== undefined && !KEY_HASH.test(keyHash.toLowerCase())) throw new InputError(flags.verificationKeyHash, keyHash, "expected a verification key hash: 0x and 64 hex digits");
}

/** Reads index.json, checks it against the pinned sha256, parses and checks it (key-index.ts). */
export async function readKeyIndex(source: ReleaseSource, version: string, pinnedSha256?: string): Promise<ReadIndexResult> {
  const location = source.where(KEY_INDEX_FILE);
  const bytes = await source.read(KEY_INDEX_FILE, MAX_INDEX_BYTES);
  const sha256 = await sha256Hex(bytes);
  const pinned = pinnedSha256?.toLowerCase();
  if (pinned !== undefined && sha256 !== pinned) {
    throw new ArtifactIntegrityError(location, `sha256 ${sha256} is not the pinned ${pinned}: this is not the release index you were given`, pinned, sha256);
  }
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch (error) {
    throw new ArtifactIntegrityError(location, `not JSON (${error instanceof Error ? error.message : String(error)})`);
  }
  return { index: parseKeyIndex(json, location, version), sha256, location };
}

/** The index entry of `instance`, or ArtifactFetchError listing what the release has. */
export function indexEntry(read: ReadIndexResult, instance: string): KeyIndexInstance {
  const entry = Object.hasOwn(read.index.instances, instance) ? read.index.instances[instance] : undefined;
  if (!entry) {
    const published = Object.keys(read.index.instances);
    throw new ArtifactFetchError(read.location, `release ${read.index.version} has no keys for ${instance} (it publishes ${published.length > 0 ? published.join(", ") : "none"})`);
  }
  return entry;
}

/**
 * Reads and checks one instance's files. Order matters for a caller on a slow link: the small
 * verification key first, so a wrong key (or pin) fails before megabytes of proving key arrive.
 */
export async function readInstanceRelease(source: ReleaseSource, read: ReadIndexResult, instance: string, options: ReadInstanceOptions = {}): Promise<InstanceRelease> {
  const entry = indexEntry(read, instance);
  const timings: InstanceRelease["timings"] = { readMs: 0, hashMs: 0, provingKeyCheckMs: null };

  const file = async (kind: KeyFileKind): Promise<Uint8Array> => {
    const listed = entry.files[kind]!;
    const where = source.where(listed.path);
    const started = performance.now();
    const bytes = await source.read(listed.path, listed.bytes, (loaded) => options.onProgress?.({ instance, file: kind, loaded, total: listed.bytes }));
    const hashing = performance.now();
    timings.readMs += hashing - started;
    if (bytes.byteLength !== listed.bytes) {
      throw new ArtifactIntegrityError(where, `${bytes.byteLength} bytes, but ${read.location} lists ${listed.bytes} (a truncated or different file)`, String(listed.bytes), String(bytes.byteLength));
    }
    const sha256 = await sha256Hex(bytes);
    timings.hashMs += performance.now() - hashing;
    if (sha256 !== listed.sha256) {
      throw new ArtifactIntegrityError(where, `sha256 ${sha256}, but ${read.location} lists ${listed.sha256} (an altered or different file)`, listed.sha256, sha256);
    }
    return bytes;
  };

  const vkeyBytes = await file("vkey");
  const vkeyWhere = source.where(entry.files.vkey.path);
  const verificationKey = parseVerificationKey(vkeyBytes, vkeyWhere);
  const keyHash = verificationKeyHash(verificationKey);
  if (keyHash !== entry.verificationKeyHash) {
    throw new ArtifactIntegrityError(vkeyWhere, `its key hash is ${keyHash}, but ${read.location} lists ${entry.verificationKeyHash} for ${instance}`, entry.verificationKeyHash, keyHash);
  }
  const pinned = options.verificationKeyHash?.toLowerCase();
  if (pinned !== undefined && keyHash !== pinned) {
    throw new ArtifactIntegrityError(vkeyWhere, `its key hash is ${keyHash}, not the pinned ${pinned}: proofs under it would not be the ones you expect for ${instance}`, pinned, keyHash);
  }
  if (verificationKey.nPublic !== entry.nPublic) {
    throw new ArtifactIntegrityError(vkeyWhere, `a key for ${verificationKey.nPublic} public signals, but ${instance} has ${entry.nPublic} (${entry.publicSignals.join(", ")})`, String(entry.nPublic), String(verificationKey.nPublic));
  }

  let verifierBytes: Uint8Array | undefined;
  let verifier: VerifierArtifact | undefined;
  if (options.verifier && entry.files.verifier) {
    verifierBytes = await file("verifier");
    verifier = parseVerifierArtifact(verifierBytes, source.where(entry.files.verifier.path), verificationKey, entry.verifierContract);
  }

  const wasm = await file("wasm");
  const zkey = await file("zkey");
  if (options.checkProvingKey ?? true) {
    const started = performance.now();
    await checkProvingKey(zkey, verificationKey, source.where(entry.files.zkey.path), vkeyWhere);
    timings.provingKeyCheckMs = performance.now() - started;
  }
  return { instance, entry, files: { wasm, zkey, vkey: vkeyBytes, ...(verifierBytes ? { verifier: verifierBytes } : {}) }, verificationKey, ...(verifier ? { verifier } : {}), timings };
}

function parseVerificationKey(bytes: Uint8Array, where: string): VerificationKey {
  try {
    return canonicalVerificationKey(JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes)));
  } catch (error) {
    const problem = error instanceof VerificationKeyShapeError ? error.message : `not JSON (${error instanceof Error ? error.message : String(error)})`;
    throw new ArtifactIntegrityError(where, `not a Groth16 BN254 verification key: ${problem}`);
  }
}

/**
 * The proving key's verification key must be the published one, compared point by point in
 * canonical form: the sha256s only show the files are the ones the index lists, and an index can
 * pair one key's verification key (the hash a verifier is pinned to) with another key's zkey.
 */
export async function checkProvingKey(zkey: Uint8Array, verificationKey: VerificationKey, zkeyWhere: string, vkeyWhere: string): Promise<void> {
  // Loaded on first use: a page that never checks a proving key does not bundle snarkjs for it.
  const snarkjs = await import("snarkjs");
  let own: VerificationKey;
  try {
    own = canonicalVerificationKey(await snarkjs.zKey.exportVerificationKey(zkey));
  } catch (error) {
    throw new ArtifactIntegrityError(zkeyWhere, `not a Groth16 BN254 proving key (${error instanceof Error ? error.message : String(error)})`);
  }
  if (JSON.stringify(own) !== JSON.stringify(verificationKey)) {
    const ownHash = verificationKeyHash(own);
    throw new ArtifactIntegrityError(
      zkeyWhere,
      `this proving key's verification key (hash ${ownHash}) is not ${vkeyWhere} (hash ${verificationKeyHash(verificationKey)}): its proofs would be rejected by that key and its verifier`,
      verificationKeyHash(verificationKey),
      ownHash,
    );
  }
}

/**
 * Each of the key's 32-byte words as the PUSH instruction solc emits for a constant: PUSHn and
 * its n big-endian bytes (the generated verifier holds the key as uint256 constants).
 */
function keyPushes(key: VerificationKey): string[] {
  return verificationKeyWords(key).map((word) => {
    let hex = word.toString(16);
    if (hex.length % 2) hex = `0${hex}`;
    return `${(0x5f + hex.length / 2).toString(16)}${hex}`;
  });
}

/** verifier.json, checked to carry every point of the published key in both its creation and runtime code. */
function parseVerifierArtifact(bytes: Uint8Array, where: string, key: VerificationKey, contractName: string | undefined): VerifierArtifact {
  let json: Partial<VerifierArtifact>;
  try {
    json = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes)) as Partial<VerifierArtifact>;
  } catch (error) {
    throw new ArtifactIntegrityError(where, `not JSON (${error instanceof Error ? error.message : String(error)})`);
  }
  const hexCode = /^0x(?:[0-9a-fA-F]{2})+$/;
  if (typeof json !== "object" || json === null || typeof json.contractName !== "string" || !Array.isArray(json.abi) || typeof json.bytecode !== "string" || !hexCode.test(json.bytecode) || typeof json.deployedBytecode !== "string" || !hexCode.test(json.deployedBytecode)) {
    throw new ArtifactIntegrityError(where, "not a compiled verifier: expected { contractName, abi, bytecode, deployedBytecode } with 0x-hex code");
  }
  if (contractName !== undefined && json.contractName !== contractName) {
    throw new ArtifactIntegrityError(where, `is the contract ${json.contractName}, but the index names ${contractName}`, contractName, json.contractName);
  }
  const pushes = keyPushes(key);
  for (const [what, code] of [
    ["deployedBytecode", json.deployedBytecode.toLowerCase()],
    ["bytecode", json.bytecode.toLowerCase()],
  ] as const) {
    const missing = pushes.findIndex((push) => !code.includes(push));
    if (missing >= 0) {
      throw new ArtifactIntegrityError(where, `its ${what} lacks word ${missing} of the published verification key (hash ${verificationKeyHash(key)}): a verifier of another key`);
    }
  }
  return json as VerifierArtifact;
}
