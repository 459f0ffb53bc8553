/**
 * The index of a key release: `<base>/<version>/index.json`, written by `zks keys publish` and
 * read by `fetchCircuitArtifacts` and `zks keys fetch`. It lists, per circuit instance, every
 * file's path (relative to the release directory), sha256 and size, and the verification key's
 * hash (the VERIFICATION_KEY_HASH its Solidity verifier returns), so one hash pins a whole release
 * (the index's sha256) or what an instance's proofs mean (its key hash). Browser-safe.
 */
import type { KeySource } from "../proof-file/key-source.ts";
import { ArtifactIntegrityError } from "./errors.ts";

export const KEY_INDEX_KIND = "zk-solvency-keys";
export const KEY_INDEX_FILE = "index.json";

/** An index is a few hundred bytes per instance; anything near this is not one (and is not read into memory whole). */
export const MAX_INDEX_BYTES = 1 << 20;
/**
 * The largest file an index may list. Downloads are cut off past the size listed, so this bounds
 * what an unpinned index can make a reader hold in memory; the largest instance's zkey is well
 * under a tenth of it.
 */
export const MAX_FILE_BYTES = 2 ** 31;

/** The files of one instance, as `zks keys publish` names them inside `<instance>/`. */
export const KEY_FILE_NAMES = { wasm: "main.wasm", zkey: "circuit.zkey", vkey: "verification_key.json", verifier: "verifier.json" } as const;
export type KeyFileKind = keyof typeof KEY_FILE_NAMES;

/** Instance names of packages/circuits/instances.json. */
export const INSTANCE_NAME = /^[a-z0-9-]+$/;
/**
 * A release version: one path segment of letters, digits and `. _ + -` (semver fits), never `.`
 * or `..`, so it cannot name a directory outside the base it is joined to.
 */
export const RELEASE_VERSION = /^[0-9A-Za-z][0-9A-Za-z._+-]{0,63}$/;
/** A file inside its instance's directory: one segment, no `..`, no separators, no URL syntax. */
const FILE_SEGMENT = /^[0-9A-Za-z_][0-9A-Za-z._-]{0,127}$/;
const SHA256 = /^[0-9a-f]{64}$/;
const KEY_HASH = /^0x[0-9a-f]{64}$/;

export interface KeyFileEntry {
  /** `<instance>/<file>`, relative to the release directory. */
  path: string;
  /** Lowercase hex sha256 of the file's bytes. */
  sha256: string;
  bytes: number;
}

export interface KeyIndexInstance {
  template: string;
  params: number[];
  publicSignals: string[];
  nConstraints: number;
  nPublic: number;
  /** The build's compileKey (sources, parameters, compiler): equal to a local build's when both compiled the same circuit. */
  compileKey: string;
  /** The build's setupKey (compileKey, ptau, snarkjs): installed with the key so a later `zks setup` with the same ptau keeps it. */
  setupKey?: string;
  ptau?: { power: number; blake2b: string; origin: "user" | "ceremony" | "development" };
  /** keccak256 of the key's points (verifier/key-hash.ts): what the instance's Solidity verifier returns as VERIFICATION_KEY_HASH. */
  verificationKeyHash: string;
  /** What the publisher says the proving key is; a development key lets whoever made it forge proofs. */
  keySource: KeySource;
  verifierContract?: string;
  files: { wasm: KeyFileEntry; zkey: KeyFileEntry; vkey: KeyFileEntry; verifier?: KeyFileEntry };
}

export interface KeyIndex {
  kind: typeof KEY_INDEX_KIND;
  version: string;
  instances: Record<string, KeyIndexInstance>;
}

/**
 * The index's shape, checked by hand rather than with zod: a front-end that only fetches keys
 * would otherwise bundle zod's 460 KiB for these few fields. Each check names the JSON path.
 */
class Shape {
  constructor(private readonly source: string) {}
  fail(at: string, problem: string): never {
    throw new ArtifactIntegrityError(this.source, `not a key release index: ${at || "(top level)"}: ${problem}`);
  }
  object(value: unknown, at: string): Record<string, unknown> {
    if (typeof value !== "object" || value === null || Array.isArray(value)) this.fail(at, "expected an object");
    return value as Record<string, unknown>;
  }
  string(value: unknown, at: string, pattern?: RegExp, what = `matching ${pattern}`): string {
    if (typeof value !== "string") this.fail(at, "expected a string");
    if (pattern && !pattern.test(value)) this.fail(at, `expected ${what}, got ${JSON.stringify(value.slice(0, 80))}`);
    return value;
  }
  integer(value: unknown, at: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
    if (typeof value !== "number" || !Number.isSafeInteger(value) || value < min || value > max) this.fail(at, `expected an integer from ${min} to ${max}`);
    return value;
  }
  array<T>(value: unknown, at: string, item: (value: unknown, at: string) => T, minLength = 0): T[] {
    if (!Array.isArray(value)) this.fail(at, "expected an array");
    if (value.length < minLength) this.fail(at, `expected at least ${minLength} item(s)`);
    return value.map((v, i) => item(v, `${at}.${i}`));
  }
  optional<T>(value: unknown, at: string, read: (value: unknown, at: string) => T): T | undefined {
    return value === undefined ? undefined : read(value, at);
  }
}

const IDENTIFIER = /^[A-Za-z_]\w*$/;
const BLAKE2B = /^[0-9a-f]{128}$/;

function readFileEntry(shape: Shape, value: unknown, at: string): KeyFileEntry {
  const o = shape.object(value, at);
  return {
    path: shape.string(o.path, `${at}.path`),
    sha256: shape.string(o.sha256, `${at}.sha256`, SHA256, "64 lowercase hex digits"),
    bytes: shape.integer(o.bytes, `${at}.bytes`, 1, MAX_FILE_BYTES),
  };
}

function readPtau(shape: Shape, value: unknown, at: string): NonNullable<KeyIndexInstance["ptau"]> {
  const o = shape.object(value, at);
  const origin = shape.string(o.origin, `${at}.origin`, /^(user|ceremony|development)$/, '"user", "ceremony" or "development"') as NonNullable<KeyIndexInstance["ptau"]>["origin"];
  return { power: shape.integer(o.power, `${at}.power`, 1, 28), blake2b: shape.string(o.blake2b, `${at}.blake2b`, BLAKE2B, "128 lowercase hex digits"), origin };
}

function readKeySource(shape: Shape, value: unknown, at: string): KeySource {
  const o = shape.object(value, at);
  if (o.kind === "development") {
    if (o.contributions !== 1) shape.fail(`${at}.contributions`, "a development key has exactly 1 contribution");
    return { kind: "development", contributions: 1 };
  }
  if (o.kind !== "ceremony") shape.fail(`${at}.kind`, 'expected "development" or "ceremony"');
  const ptau = shape.optional(o.ptau, `${at}.ptau`, (v, a) => readPtau(shape, v, a));
  return {
    kind: "ceremony",
    contributions: shape.integer(o.contributions, `${at}.contributions`, 1),
    beacon: shape.string(o.beacon, `${at}.beacon`),
    transcriptSha256: shape.string(o.transcriptSha256, `${at}.transcriptSha256`, SHA256, "64 lowercase hex digits"),
    ...(ptau ? { ptau } : {}),
  };
}

function readInstance(shape: Shape, value: unknown, at: string): KeyIndexInstance {
  const o = shape.object(value, at);
  const files = shape.object(o.files, `${at}.files`);
  const setupKey = shape.optional(o.setupKey, `${at}.setupKey`, (v, a) => shape.string(v, a, SHA256, "64 lowercase hex digits"));
  const ptau = shape.optional(o.ptau, `${at}.ptau`, (v, a) => readPtau(shape, v, a));
  const verifierContract = shape.optional(o.verifierContract, `${at}.verifierContract`, (v, a) => shape.string(v, a, IDENTIFIER, "a contract name"));
  const verifier = shape.optional(files.verifier, `${at}.files.verifier`, (v, a) => readFileEntry(shape, v, a));
  return {
    template: shape.string(o.template, `${at}.template`, IDENTIFIER, "a template name"),
    params: shape.array(o.params, `${at}.params`, (v, a) => shape.integer(v, a, 0)),
    publicSignals: shape.array(o.publicSignals, `${at}.publicSignals`, (v, a) => shape.string(v, a, /^\S+$/, "a signal name"), 1),
    nConstraints: shape.integer(o.nConstraints, `${at}.nConstraints`, 1),
    nPublic: shape.integer(o.nPublic, `${at}.nPublic`, 0),
    compileKey: shape.string(o.compileKey, `${at}.compileKey`, SHA256, "64 lowercase hex digits"),
    ...(setupKey ? { setupKey } : {}),
    ...(ptau ? { ptau } : {}),
    verificationKeyHash: shape.string(o.verificationKeyHash, `${at}.verificationKeyHash`, KEY_HASH, "0x and 64 lowercase hex digits"),
    keySource: readKeySource(shape, o.keySource, `${at}.keySource`),
    ...(verifierContract ? { verifierContract } : {}),
    files: {
      wasm: readFileEntry(shape, files.wasm, `${at}.files.wasm`),
      zkey: readFileEntry(shape, files.zkey, `${at}.files.zkey`),
      vkey: readFileEntry(shape, files.vkey, `${at}.files.vkey`),
      ...(verifier ? { verifier } : {}),
    },
  };
}

/**
 * Why a file path of the index may not be used, or undefined. A path is resolved against the
 * release directory (a URL or a folder), so `../`, an absolute path, a backslash or a URL would
 * read a file the index's hashes were never meant to cover from somewhere else; and each instance
 * keeps to its own folder, so an entry copied from another instance still names that instance's
 * files and is refused.
 */
export function keyFilePathProblem(instance: string, file: string): string | undefined {
  const segments = file.split("/");
  if (segments.length !== 2 || segments[0] !== instance || !FILE_SEGMENT.test(segments[1]!)) {
    return `${JSON.stringify(file)} is not a file of ${instance}'s own folder ("${instance}/<name>"): it would read outside the files this release publishes for ${instance}`;
  }
  return undefined;
}

/**
 * Parses an index read from `source`, naming the first problem. Checks the shape, that it is the
 * release `version` the caller asked for (an older release's index served under a newer version
 * would otherwise pass every file check), every file path, and that each instance declares as
 * many public signals as its key has (nPublic).
 */
export function parseKeyIndex(json: unknown, source: string, version: string): KeyIndex {
  const shape = new Shape(source);
  const top = shape.object(json, "");
  if (top.kind !== KEY_INDEX_KIND) shape.fail("kind", `expected "${KEY_INDEX_KIND}"`);
  const instances: Record<string, KeyIndexInstance> = {};
  for (const [name, entry] of Object.entries(shape.object(top.instances, "instances"))) {
    if (!INSTANCE_NAME.test(name)) shape.fail(`instances.${name.slice(0, 80)}`, "expected an instance name (a-z, 0-9 and -)");
    instances[name] = readInstance(shape, entry, `instances.${name}`);
  }
  const index: KeyIndex = { kind: KEY_INDEX_KIND, version: shape.string(top.version, "version", RELEASE_VERSION, "a release version"), instances };
  if (index.version !== version) {
    throw new ArtifactIntegrityError(source, `is the index of release ${JSON.stringify(index.version)}, not of the requested ${JSON.stringify(version)}`, version, index.version);
  }
  for (const [instance, entry] of Object.entries(index.instances)) {
    for (const [kind, file] of Object.entries(entry.files) as [KeyFileKind, KeyFileEntry | undefined][]) {
      if (!file) continue;
      const problem = keyFilePathProblem(instance, file.path);
      if (problem) throw new ArtifactIntegrityError(source, `instances.${instance}.files.${kind}.path: ${problem}`);
    }
    if (entry.nPublic !== entry.publicSignals.length) {
      throw new ArtifactIntegrityError(source, `instances.${instance}: nPublic ${entry.nPublic} but ${entry.publicSignals.length} public signals are listed`);
    }
  }
  return index;
}

/** The index as `zks keys publish` writes it: stable key order (as built), two-space indent, final newline. */
export function keyIndexJson(index: KeyIndex): string {
  return `${JSON.stringify(index, null, 2)}\n`;
}
