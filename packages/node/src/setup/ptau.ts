import { createHash, randomBytes } from "node:crypto";
import { createReadStream, existsSync, mkdirSync, openSync, readSync, closeSync, readFileSync, writeFileSync, statSync, renameSync, rmSync, createWriteStream } from "node:fs";
import { homedir } from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import * as snarkjs from "snarkjs";
import { SetupError } from "@zk-solvency/sdk/core";

/**
 * Choosing the powers-of-tau file (phase 1 of the Groth16 setup), in this order:
 *   1. a file the user names (`--ptau FILE` or ZKS_PTAU): used as given, after checking that
 *      it is a prepared BN254 ptau large enough for the circuits;
 *   2. the public Hermez/Polygon ceremony file of the needed power, from the local cache or
 *      downloaded and checked against the blake2b-512 hash published in snarkjs' README;
 *   3. offline, a development ptau generated here, with a warning that it is not a trusted setup.
 */

import type { PtauOrigin } from "@zk-solvency/sdk/proof-file";
export type { PtauOrigin };

export interface PtauChoice {
  path: string;
  power: number;
  blake2b: string;
  origin: PtauOrigin;
}

export const CEREMONY_URL = (power: number): string => `https://storage.googleapis.com/zkevm/ptau/powersOfTau28_hez_final_${String(power).padStart(2, "0")}.ptau`;

/** blake2b-512 of the public ceremony files (snarkjs README, "Powers of Tau" table). */
export const CEREMONY_BLAKE2B: Readonly<Record<number, string>> = {
  8: "d6a8fb3a04feb600096c3b791f936a578c4e664d262e4aa24beed1b7a9a96aa5eb72864d628db247e9293384b74b36ffb52ca8d148d6e1b8b51e279fdf57b583",
  9: "94f108a80e81b5d932d8e8c9e8fd7f46cf32457e31462deeeef37af1b71c2c1b3c71fb0d9b59c654ec266b042735f50311f9fd1d4cadce47ab234ad163157cb5",
  10: "6cfeb8cda92453099d20120bdd0e8a5c4e7706c2da9a8f09ccc157ed2464d921fd0437fb70db42104769efd7d6f3c1f964bcf448c455eab6f6c7d863e88a5849",
  11: "47c282116b892e5ac92ca238578006e31a47e7c7e70f0baa8b687f0a5203e28ea07bbbec765a98dcd654bad618475d4661bfaec3bd9ad2ed12e7abc251d94d33",
  12: "ded2694169b7b08e898f736d5de95af87c3f1a64594013351b1a796dbee393bd825f88f9468c84505ddd11eb0b1465ac9b43b9064aa8ec97f2b73e04758b8a4a",
  13: "58efc8bf2834d04768a3d7ffcd8e1e23d461561729beaac4e3e7a47829a1c9066d5320241e124a1a8e8aa6c75be0ba66f65bc8239a0542ed38e11276f6fdb4d9",
  14: "eeefbcf7c3803b523c94112023c7ff89558f9b8e0cf5d6cdcba3ade60f168af4a181c9c21774b94fbae6c90411995f7d854d02ebd93fb66043dbb06f17a831c1",
  15: "982372c867d229c236091f767e703253249a9b432c1710b4f326306bfa2428a17b06240359606cfe4d580b10a5a1f63fbed499527069c18ae17060472969ae6e",
  16: "6a6277a2f74e1073601b4f9fed6e1e55226917efb0f0db8a07d98ab01df1ccf43eb0e8c3159432acd4960e2f29fe84a4198501fa54c8dad9e43297453efec125",
  17: "6247a3433948b35fbfae414fa5a9355bfb45f56efa7ab4929e669264a0258976741dfbe3288bfb49828e5df02c2e633df38d2245e30162ae7e3bcca5b8b49345",
  18: "7e6a9c2e5f05179ddfc923f38f917c9e6831d16922a902b0b4758b8e79c2ab8a81bb5f29952e16ee6c5067ed044d7857b5de120a90704c1d3b637fd94b95b13e",
  19: "bca9d8b04242f175189872c42ceaa21e2951e0f0f272a0cc54fc37193ff6648600eaf1c555c70cdedfaf9fb74927de7aa1d33dc1e2a7f1a50619484989da0887",
};

/** Whether a ptau is one of the public ceremony files above: only those make a deployable key (the maker of any other knows tau, or may). */
export function isPublicCeremonyPtau(power: number, blake2b: string): boolean {
  return CEREMONY_BLAKE2B[power] !== undefined && CEREMONY_BLAKE2B[power] === blake2b;
}

/** The power of the public ceremony file with this blake2b, if it is one. */
export function publicCeremonyPower(blake2b: string): number | undefined {
  const found = Object.entries(CEREMONY_BLAKE2B).find(([, digest]) => digest === blake2b);
  return found ? Number(found[0]) : undefined;
}

export const DEVELOPMENT_WARNING = [
  "!".repeat(78),
  "!! DEVELOPMENT PTAU: generated on this machine by one party. It is NOT a trusted setup:",
  "!! whoever kept its randomness can forge proofs. Never deploy keys built from it.",
  "!! For production pass --ptau (or ZKS_PTAU) with a public ceremony file.",
  "!".repeat(78),
].join("\n");

export interface PtauHeader {
  power: number;
  /** Whether `snarkjs powersoftau prepare phase2` has been run (Groth16 setup needs it). */
  preparedForPhase2: boolean;
}

/** BN254's base field: what a ptau header records as its curve's prime. */
const BN254_BASE_FIELD = 21888242871839275222246405745257275088696311157297823662689037894645226208583n;

/** Reads the header of a .ptau file without loading it (they run to gigabytes). */
export function readPtauHeader(file: string): PtauHeader {
  if (!existsSync(file)) throw new SetupError(`ptau ${file}: file not found`);
  const fd = openSync(file, "r");
  try {
    const read = (position: number, length: number): Buffer => {
      const buffer = Buffer.alloc(length);
      if (readSync(fd, buffer, 0, length, position) !== length) throw new SetupError(`ptau ${file}: truncated file`);
      return buffer;
    };
    const magic = Buffer.alloc(4);
    readSync(fd, magic, 0, 4, 0);
    if (magic.toString("latin1") !== "ptau") throw new SetupError(`ptau ${file}: not a powers-of-tau file`);
    const head = read(0, 12);
    const sections = head.readUInt32LE(8);
    let position = 12;
    let power = -1;
    let preparedForPhase2 = false;
    for (let i = 0; i < sections; i++) {
      const sectionHead = read(position, 12);
      const type = sectionHead.readUInt32LE(0);
      const size = Number(sectionHead.readBigUInt64LE(4));
      if (type === 1) {
        const n8 = read(position + 12, 4).readUInt32LE(0);
        const prime = read(position + 16, n8);
        let q = 0n;
        for (let b = n8 - 1; b >= 0; b--) q = (q << 8n) | BigInt(prime[b]!);
        if (q !== BN254_BASE_FIELD) throw new SetupError(`ptau ${file}: not a BN254 ceremony`);
        power = read(position + 16 + n8, 4).readUInt32LE(0);
      }
      if (type === 12 && size > 0) preparedForPhase2 = true;
      position += 12 + size;
    }
    if (power < 0) throw new SetupError(`ptau ${file}: header section missing`);
    return { power, preparedForPhase2 };
  } finally {
    closeSync(fd);
  }
}

/** blake2b-512 of a file, as printed by `b2sum`. */
export async function blake2b(file: string): Promise<string> {
  const hash = createHash("blake2b512");
  await pipeline(createReadStream(file), hash);
  return hash.digest("hex");
}

/** Hashing a 2^16 ptau costs ~0.3 s; remember it per (path, size, mtime) so rebuilds stay instant. */
async function cachedBlake2b(file: string, cacheFile: string): Promise<string> {
  const stat = statSync(file);
  const key = `${path.resolve(file)}|${stat.size}|${stat.mtimeMs}`;
  let cache: Record<string, string> = {};
  try {
    cache = JSON.parse(readFileSync(cacheFile, "utf8"));
  } catch {
    // No cache yet: hash and create it.
  }
  if (cache[key]) return cache[key];
  const digest = await blake2b(file);
  cache[key] = digest;
  mkdirSync(path.dirname(cacheFile), { recursive: true });
  writeFileSync(cacheFile, JSON.stringify(cache, null, 2));
  return digest;
}

/** Smallest power p with 2^p >= constraints + public signals + 1, as snarkjs' `zkey new` requires. */
export function requiredPower(nConstraints: number, nPublic: number): number {
  return Math.max((nConstraints + nPublic).toString(2).length, 8);
}

export interface ResolvePtauOptions {
  /** An explicit file (`--ptau`); falls back to ZKS_PTAU. */
  ptau?: string;
  requiredPower: number;
  env?: NodeJS.ProcessEnv;
  /** Where downloaded and generated ptau files are kept (ZKS_PTAU_DIR, else ~/.cache/zk-solvency/ptau). */
  cacheDir?: string;
  /** Where file hashes are remembered. */
  hashCacheFile: string;
  /** Injectable for tests; defaults to the global fetch. */
  fetchImpl?: typeof fetch;
  /**
   * Generate a development ptau when no ceremony file can be had (default true). A phase-2
   * ceremony passes false: keys on a one-party phase 1 are no better than development keys,
   * and generating one takes half an hour.
   */
  developmentFallback?: boolean;
  log: (message: string) => void;
}

export async function resolvePtau(options: ResolvePtauOptions): Promise<PtauChoice> {
  const env = options.env ?? process.env;
  const explicit = options.ptau ?? env.ZKS_PTAU;
  if (explicit) return checkUserPtau(path.resolve(explicit), options);

  const cacheDir = options.cacheDir ?? env.ZKS_PTAU_DIR ?? path.join(homedir(), ".cache", "zk-solvency", "ptau");
  const power = options.requiredPower;
  const ceremonyFile = path.join(cacheDir, path.basename(new URL(CEREMONY_URL(power)).pathname));
  if (existsSync(ceremonyFile)) {
    const digest = await cachedBlake2b(ceremonyFile, options.hashCacheFile);
    if (digest !== CEREMONY_BLAKE2B[power]) {
      throw new SetupError(`ptau ${ceremonyFile}: hash mismatch with the published ceremony file; delete it to download it again`);
    }
    return { path: ceremonyFile, power, blake2b: digest, origin: "ceremony" };
  }
  try {
    await downloadCeremonyPtau(power, ceremonyFile, options.fetchImpl ?? fetch, options.log);
    return { path: ceremonyFile, power, blake2b: CEREMONY_BLAKE2B[power]!, origin: "ceremony" };
  } catch (error) {
    if (error instanceof SetupError && error.message.includes("hash mismatch")) throw error;
    if (options.developmentFallback === false) {
      throw new SetupError(
        `no ptau: pass --ptau (or ZKS_PTAU) with a public ceremony file of power >= ${power}; the download of ${CEREMONY_URL(power)} failed (${(error as Error).message})`,
      );
    }
    options.log(`could not download the ceremony ptau (${(error as Error).message}); falling back to a development ptau`);
  }
  const devFile = path.join(cacheDir, `development_${String(power).padStart(2, "0")}.ptau`);
  if (!existsSync(devFile)) await generateDevelopmentPtau(power, devFile, options.log);
  options.log(DEVELOPMENT_WARNING);
  return { path: devFile, power, blake2b: await cachedBlake2b(devFile, options.hashCacheFile), origin: "development" };
}

async function checkUserPtau(file: string, options: ResolvePtauOptions): Promise<PtauChoice> {
  const header = readPtauHeader(file);
  if (header.power < options.requiredPower) {
    throw new SetupError(`ptau ${file}: power ${header.power} is too small; the circuits need power ${options.requiredPower} (2^${options.requiredPower} constraints)`);
  }
  if (!header.preparedForPhase2) {
    throw new SetupError(`ptau ${file}: not prepared for phase 2 (run \`snarkjs powersoftau prepare phase2\` on it)`);
  }
  const digest = await cachedBlake2b(file, options.hashCacheFile);
  const ceremony = CEREMONY_BLAKE2B[header.power] === digest;
  if (!ceremony) {
    options.log(`ptau ${file} (power ${header.power}) is not a known public ceremony file: keys built from it are only as trustworthy as its origin`);
  }
  return { path: file, power: header.power, blake2b: digest, origin: ceremony ? "ceremony" : "user" };
}

/** Downloads to a temporary file, checks the published hash, and only then moves it into place. */
export async function downloadCeremonyPtau(
  power: number,
  target: string,
  fetchImpl: typeof fetch,
  log: (message: string) => void,
  expected: string | undefined = CEREMONY_BLAKE2B[power],
): Promise<void> {
  if (!expected) throw new SetupError(`no published hash for a power-${power} ceremony file; pass --ptau`);
  const url = CEREMONY_URL(power);
  log(`downloading ${url}`);
  const response = await fetchImpl(url);
  if (!response.ok || !response.body) throw new Error(`HTTP ${response.status} from ${url}`);
  mkdirSync(path.dirname(target), { recursive: true });
  const partial = `${target}.${randomBytes(4).toString("hex")}.partial`;
  try {
    await pipeline(Readable.fromWeb(response.body as import("node:stream/web").ReadableStream), createWriteStream(partial));
    const digest = await blake2b(partial);
    if (digest !== expected) {
      throw new SetupError(`ptau from ${url}: hash mismatch (got blake2b ${digest.slice(0, 16)}…, published ${expected.slice(0, 16)}…); file discarded`);
    }
    renameSync(partial, target);
  } finally {
    rmSync(partial, { force: true });
  }
}

/** A single-contributor ptau, for offline development only (2^16 takes ~30 min on 2 cores). */
export async function generateDevelopmentPtau(power: number, target: string, log: (message: string) => void): Promise<void> {
  log(DEVELOPMENT_WARNING);
  log(`generating a development ptau of power ${power} at ${target}; this takes minutes`);
  mkdirSync(path.dirname(target), { recursive: true });
  const stem = `${target}.${randomBytes(4).toString("hex")}`;
  const curve = await snarkjs.curves.getCurveFromName("bn128");
  try {
    await snarkjs.powersOfTau.newAccumulator(curve, power, `${stem}.0`);
    await snarkjs.powersOfTau.contribute(`${stem}.0`, `${stem}.1`, "zk-solvency development", randomBytes(32).toString("hex"));
    await snarkjs.powersOfTau.preparePhase2(`${stem}.1`, `${stem}.2`);
    renameSync(`${stem}.2`, target);
  } finally {
    for (const suffix of [".0", ".1", ".2"]) rmSync(`${stem}${suffix}`, { force: true });
  }
}
