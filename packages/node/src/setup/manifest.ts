import { existsSync, readFileSync, writeFileSync, renameSync } from "node:fs";
import path from "node:path";
import { isPublicCeremonyPtau, type PtauOrigin } from "./ptau.ts";

/** What `zks setup` built for one instance; read by the SDK's Node artifact locator and `zks inspect`. */
export interface InstanceManifest {
  instance: string;
  template: string;
  params: number[];
  publicSignals: string[];
  nConstraints: number;
  nPublic: number;
  /** sha256 of sources, parameters and compiler: decides whether to recompile. */
  compileKey: string;
  /** compileKey plus the ptau's hash: decides whether to redo the Groth16 setup. */
  setupKey?: string;
  ptau?: { power: number; blake2b: string; origin: PtauOrigin };
  zkeySha256?: string;
  /** keccak256 of the verification key's points (packages/sdk/src/verifier/key-hash.ts); the generated verifier returns it as VERIFICATION_KEY_HASH(). */
  verificationKeyHash?: string;
  /** Where the proving key came from: a development key (one local contribution) or a ceremony's finalized key. */
  keySource?: KeySource;
  verifierContract?: string;
  files: { r1cs: string; wasm: string; sym: string; zkey: string; vkey: string };
  /** circom's C++ witness generator, built only by `zks setup --native-witness` (Node only; the wasm stays the default). */
  nativeWitness?: NativeWitnessManifest;
}

export type { KeySource } from "@zk-solvency/sdk/proof-file";
import type { KeySource } from "@zk-solvency/sdk/proof-file";

/** A key whoever holds no secret of its setup cannot forge with: a ceremony's, on a public phase 1. */
export function keyDeployable(source: KeySource | undefined): boolean {
  return source?.kind === "ceremony" && source.ptau !== undefined && source.ptau.origin === "ceremony" && isPublicCeremonyPtau(source.ptau.power, source.ptau.blake2b);
}

/** How setup, inspect, deploy and the verifier's header name a key. */
export function keySourceLabel(source: KeySource | undefined): string {
  if (source?.kind !== "ceremony") return "DEVELOPMENT key";
  return keyDeployable(source) ? "ceremony key" : "ceremony key on an UNTRUSTED ptau";
}

/** Why a ceremony key on an untrusted ptau is not deployable (setup, inspect, deploy say it alike). */
export const UNTRUSTED_PTAU_NOTE =
  "its phase 1 is not a known public ceremony file, and whoever made that ptau can forge proofs whatever phase 2 did: for rehearsals and local chains only";

/** What every listing of a development key says about it (zks setup, inspect, deploy). */
export const DEVELOPMENT_KEY_NOTE =
  "one contribution by the machine that ran `zks setup`, which could forge proofs: for tests and local chains only; a deployment runs `zks ceremony` and installs its key with `zks setup --zkey`";

export interface NativeWitnessManifest {
  /** The executable, relative to the instance directory; it reads `<binary>.dat` beside itself. */
  binary: string;
  dat: string;
  /** sha256 of the circuit's compileKey, the circom flags and the C++ toolchain: decides whether to rebuild. */
  compileKey: string;
  /** Field arithmetic in circom's x86-64 assembly (nasm) rather than its portable C++ (`--no_asm`). */
  asm: boolean;
  /** What the build cost (circom --c plus make), for benchmarks. */
  buildSeconds: number;
  binaryBytes: number;
}

export function manifestPath(dir: string): string {
  return path.join(dir, "manifest.json");
}

export function readManifest(dir: string): InstanceManifest | undefined {
  const file = manifestPath(dir);
  if (!existsSync(file)) return undefined;
  try {
    return JSON.parse(readFileSync(file, "utf8")) as InstanceManifest;
  } catch {
    return undefined; // A torn manifest only costs a rebuild.
  }
}

/** Written last and atomically, so a manifest never describes files that are not complete. */
export function writeManifest(dir: string, manifest: InstanceManifest): void {
  const file = manifestPath(dir);
  writeFileSync(`${file}.tmp`, `${JSON.stringify(manifest, null, 2)}\n`);
  renameSync(`${file}.tmp`, file);
}

/** Absolute paths of a manifest's files (they are stored relative to the instance directory). */
export function manifestFiles(dir: string, manifest: InstanceManifest): InstanceManifest["files"] {
  const files = manifest.files;
  return {
    r1cs: path.join(dir, files.r1cs),
    wasm: path.join(dir, files.wasm),
    sym: path.join(dir, files.sym),
    zkey: path.join(dir, files.zkey),
    vkey: path.join(dir, files.vkey),
  };
}
