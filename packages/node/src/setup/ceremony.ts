/**
 * Phase 2 of the Groth16 setup as a multi-party ceremony (README, "Running a phase-2 ceremony
 * for a deployment"). A development key (`zks setup`) has one contribution made by the machine
 * that built it: whoever ran it could keep the toxic waste and forge proofs. Here each party
 * adds a contribution on their own machine, anyone can check the chain of contributions against
 * the circuit and the ptau (`snarkjs zkey verify`), and a public random beacon closes it. The key
 * is sound when at least one party destroyed its randomness AND phase 1 (the ptau) is a public
 * ceremony: whoever made a ptau knows tau and can forge whatever phase 2 does.
 *
 * Every cryptographic step is snarkjs' own (zKey.newZKey, contribute, beacon, verifyFromR1cs).
 * What a key says about its contributions (names, beacon, hashes) is read from the key itself
 * (its MPC section), never from snarkjs' log lines, which a crafted contribution name can forge.
 *
 * The transcript (transcript.json, published with the final key) records the circuit (compileKey,
 * r1cs sha256, snarkjs' circuit hash), the ptau (blake2b) and per step: who, the contribution hash
 * snarkjs printed to that party, and the sha256 of the key it produced.
 */
import { createHash, randomBytes } from "node:crypto";
import {
  closeSync,
  constants,
  copyFileSync,
  existsSync,
  fstatSync,
  linkSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  realpathSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import path from "node:path";
import * as snarkjs from "snarkjs";
import type { Logger } from "snarkjs";
import { z } from "zod";
import { InputError, ZksError } from "@zk-solvency/sdk/core";
import { readRaw } from "@zk-solvency/sdk/inputs";
import type { KeySource } from "./manifest.ts";
import { isPublicCeremonyPtau, publicCeremonyPower, resolvePtau, type PtauChoice } from "./ptau.ts";

export const TRANSCRIPT_KIND = "zks-ceremony-transcript";
export const TRANSCRIPT_FILE = "transcript.json";

/**
 * The rule `zks setup --zkey` applies: at least two contributions by parties of distinct names,
 * then the beacon last, on a public phase-1 ptau. One contribution would make that party's
 * honesty the whole security, which is what a development key already is; the beacon, public and
 * announced in advance, keeps the last contributor from choosing the final key. Distinct names
 * are only a floor (one party can use two): the deployer matches each contribution hash to its
 * contributor's own published statement (README).
 */
export const MIN_CONTRIBUTIONS = 2;

/** snarkjs stores at most 64 characters of a contribution's name. */
const NAME_LENGTH = 64;

/**
 * A ptau larger than the circuit needs is fine, but `ceremony verify` and `setup --zkey` fetch the
 * public file the transcript names: a hostile transcript must not pick a multi-gigabyte download.
 * Beyond this margin the user passes the file with --ptau.
 */
export const PTAU_POWER_MARGIN = 2;

/** A ceremony artifact that fails a check (a key that does not verify, a transcript that disagrees with it). Exit code 1. */
export class CeremonyError extends ZksError {
  constructor(message: string) {
    super(message, 1);
  }
}

/**
 * Text printed in every verification (names, the beacon's announcement, statements): one line,
 * so a crafted value cannot pose as another line of the report. Control and format characters
 * (newlines, bidi overrides), line separators and U+FFFD (invalid UTF-8 in a key) are refused.
 */
const PRINTABLE = /^[^\p{Cc}\p{Cf}\p{Zl}\p{Zp}\uFFFD]*$/u;
const printable = (max: number) =>
  z
    .string()
    .min(1)
    .max(max)
    .regex(PRINTABLE, "no control or format characters")
    .refine((text) => text.trim() === text, "no leading or trailing spaces");

const hexOf = (digits: number) => z.string().regex(new RegExp(`^[0-9a-f]{${digits}}$`));
const count = z.number().int().min(0);
const beaconSchema = z.strictObject({
  hash: z.string().regex(/^([0-9a-f]{2}){1,255}$/),
  iterationsExp: z.number().int().min(10).max(63),
  /** Where the value comes from, as announced before it was known (e.g. "Ethereum block 21000000's hash"). */
  source: printable(200),
});
const entrySchema = z.strictObject({
  index: z.number().int().min(1),
  kind: z.enum(["contribution", "beacon"]),
  name: printable(NAME_LENGTH),
  /** blake2b-512 of the contribution's public key: what snarkjs prints to the contributor and `zkey verify` prints for everyone. */
  contributionHash: hexOf(128),
  /** sha256 of the key this step produced, so the published files can be matched to it. */
  zkeySha256: hexOf(64),
  file: z.string(),
  /** Where the contributor publishes their hash (a signed message, a URL): what the deployer matches it against. */
  statement: printable(200).optional(),
  beacon: beaconSchema.optional(),
});
const transcriptSchema = z.strictObject({
  kind: z.literal(TRANSCRIPT_KIND),
  version: z.literal(1),
  instance: z.string().regex(/^[a-z0-9-]+$/),
  circuit: z.strictObject({ compileKey: hexOf(64), r1csSha256: hexOf(64), circuitHash: hexOf(128), nConstraints: count, nPublic: count }),
  ptau: z.strictObject({ power: count, blake2b: hexOf(128) }),
  initial: z.strictObject({ file: z.string(), zkeySha256: hexOf(64) }),
  entries: z.array(entrySchema),
});

export type CeremonyTranscript = z.infer<typeof transcriptSchema>;
export type TranscriptEntry = CeremonyTranscript["entries"][number];

/** A transcript as read once: its bytes hashed and parsed from the same buffer. */
export interface LoadedTranscript {
  file: string;
  sha256: string;
  content: CeremonyTranscript;
}

/** What the ceremony needs of a compiled instance (the CLI compiles it and resolves the ptau). */
export interface CeremonyCircuit {
  instance: string;
  compileKey: string;
  r1cs: string;
  nConstraints: number;
  nPublic: number;
  ptau: PtauChoice;
}

/** One contribution as the key itself records it (its MPC section). */
export interface ZkeyContribution {
  index: number;
  name: string;
  contributionHash: string;
  beacon?: { hash: string; iterationsExp: number };
}

export interface CeremonyVerification {
  zkey: string;
  zkeySha256: string;
  circuitHash: string;
  contributions: ZkeyContribution[];
  /** The ptau the key was checked against, and whether it is a public ceremony file. */
  ptau: { path: string; power: number; blake2b: string; publicCeremony: boolean };
  /** The transcript the contributions were matched against, when one was given. */
  transcript?: LoadedTranscript;
}

export function sha256File(file: string): string {
  return createHash("sha256").update(readFileSync(file)).digest("hex");
}

/** The first 16 hex digits, enough to tell hashes apart in a message. */
const short = (hash: string): string => `${hash.slice(0, 16)}…`;

/** An existing regular file, or one line naming the flag (a directory would otherwise surface as EISDIR deep in snarkjs). */
function readableFile(file: string, flag: string): void {
  let stat;
  try {
    stat = statSync(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new InputError(file, "", code === "ENOENT" ? `file not found (${flag})` : `cannot be read (${flag}: ${code})`);
  }
  if (!stat.isFile()) throw new InputError(file, "", `not a file (${flag})`);
}

/** Reads and checks a transcript: its schema, then that its entries form one chain ending at most once in a beacon, with distinct names. */
export function loadTranscript(file: string): LoadedTranscript {
  readableFile(file, "--transcript");
  const bytes = readFileSync(file);
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString("utf8"));
  } catch (error) {
    throw new InputError(file, "", `malformed JSON (${(error as Error).message})`);
  }
  const content = readRaw(transcriptSchema, json, file);
  const names = new Map<string, number>();
  content.entries.forEach((entry, i) => {
    if (entry.index !== i + 1) throw new InputError(file, `entries[${i}].index`, `expected ${i + 1}, got ${entry.index}`);
    if ((entry.kind === "beacon") !== (entry.beacon !== undefined))
      throw new InputError(
        file,
        `entries[${i}].beacon`,
        entry.kind === "beacon" ? "a beacon entry needs its beacon hash, iterations and source" : "only a beacon entry has a beacon",
      );
    if (entry.kind === "beacon" && i !== content.entries.length - 1) throw new InputError(file, `entries[${i + 1}]`, "nothing follows the beacon: it finalizes the ceremony");
    const seen = names.get(nameKey(entry.name));
    if (seen !== undefined) throw new InputError(file, `entries[${i}].name`, `"${entry.name}" is entries[${seen}]'s name too: each party contributes once, under its own name`);
    names.set(nameKey(entry.name), i);
  });
  return { file, sha256: createHash("sha256").update(bytes).digest("hex"), content };
}

/** Names compare without case or Unicode-form differences: "Alice" and "alice" are one party. */
const nameKey = (name: string): string => name.normalize("NFKC").toLowerCase();

function writeTranscript(file: string, transcript: CeremonyTranscript): void {
  const temp = `${file}.${randomBytes(4).toString("hex")}.tmp`;
  writeFileSync(temp, `${JSON.stringify(transcript, null, 2)}\n`, { flag: "wx" });
  renameSync(temp, file);
}

/**
 * Moves a finished temporary file to `target` only if nothing is there: link(2) fails with EEXIST
 * atomically, where a check-then-rename would overwrite a file created in between.
 */
function publishExclusive(temp: string, target: string, flag: string): void {
  try {
    linkSync(temp, target);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "EEXIST") throw new InputError(flag, "", `${target} exists: every step writes a new file`);
    throw new InputError(flag, "", `cannot write ${target} (${code})`);
  }
  rmSync(temp, { force: true });
}

/** A temporary file beside `target`, created now so a directory that cannot be written fails before any work, naming the flag. */
function reserveTemp(target: string, flag: string): string {
  const temp = `${target}.${randomBytes(4).toString("hex")}.tmp`;
  try {
    mkdirSync(path.dirname(target), { recursive: true });
    writeFileSync(temp, "", { flag: "wx" });
  } catch (error) {
    throw new InputError(flag, "", `cannot write beside ${target} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  return temp;
}

/** snarkjs' `zkey verify` reports some failures with console.log and others through the logger: both go to `errors`, so machine output stays the only thing on stdout. */
function snarkjsLog(): { logger: Logger; errors: string[]; quiet<T>(body: () => Promise<T>): Promise<T> } {
  const errors: string[] = [];
  const logger: Logger = {
    debug: () => {},
    info: () => {},
    warn: (message) => void errors.push(String(message)),
    error: (message) => void errors.push(String(message)),
  };
  const quiet = async <T>(body: () => Promise<T>): Promise<T> => {
    const consoleLog = console.log;
    console.log = (...items: unknown[]) => void errors.push(items.map(String).join(" ").trim());
    try {
      return await body();
    } finally {
      console.log = consoleLog;
    }
  };
  return { logger, errors, quiet };
}

/** The key file is not a well-formed BN254 Groth16 zkey; callers say whether that is bad input or a failed check. */
class MalformedZkey extends Error {}

/** BN254's base field: what a zkey's Groth16 header records as q. */
const BN254_Q = 21888242871839275222246405745257275088696311157297823662689037894645226208583n;

/**
 * The circuit hash and contributions a zkey records, read from its own sections the way snarkjs
 * reads them (zkey_utils.js readHeader / readMPCParams / readContribution: binfile sections, the
 * Groth16 header, then section 10), with the same strictness: a unique section 10 consumed
 * exactly, parameters in increasing type order. Each contribution's hash is blake2b-512 of its
 * public key (hashPubKey: deltaAfter, g1_s, g1_sx, g2_spx uncompressed, then its transcript),
 * the value snarkjs returns to the contributor and prints in `zkey verify`.
 */
export async function readZkeyContributions(file: string): Promise<{ circuitHash: string; contributions: ZkeyContribution[] }> {
  const fd = openSync(file, "r");
  let body: Buffer;
  try {
    const size = fstatSync(fd).size;
    const read = (position: number, length: number): Buffer => {
      if (position + length > size) throw new MalformedZkey("truncated");
      const buffer = Buffer.alloc(length);
      readSync(fd, buffer, 0, length, position);
      return buffer;
    };
    const head = read(0, 12);
    if (head.toString("latin1", 0, 4) !== "zkey") throw new MalformedZkey("not a zkey file");
    if (head.readUInt32LE(4) > 2) throw new MalformedZkey(`zkey version ${head.readUInt32LE(4)} is not supported`);
    const sections = new Map<number, { position: number; size: number }[]>();
    let position = 12;
    for (let i = 0; i < head.readUInt32LE(8); i++) {
      const sectionHead = read(position, 12);
      const type = sectionHead.readUInt32LE(0);
      const length = Number(sectionHead.readBigUInt64LE(4));
      sections.set(type, [...(sections.get(type) ?? []), { position: position + 12, size: length }]);
      position += 12 + length;
    }
    const unique = (type: number) => {
      const found = sections.get(type) ?? [];
      if (found.length !== 1) throw new MalformedZkey(found.length === 0 ? `section ${type} missing` : `section ${type} duplicated`);
      return found[0]!;
    };
    if (read(unique(1).position, 4).readUInt32LE(0) !== 1) throw new MalformedZkey("not a Groth16 key");
    const header = unique(2);
    const n8q = read(header.position, 4).readUInt32LE(0);
    if (n8q !== 32) throw new MalformedZkey("not a BN254 key");
    const q = BigInt(
      `0x${Buffer.from(read(header.position + 4, n8q))
        .reverse()
        .toString("hex")}`,
    );
    if (q !== BN254_Q) throw new MalformedZkey("not a BN254 key");
    const mpc = unique(10);
    body = read(mpc.position, mpc.size);
  } finally {
    closeSync(fd);
  }

  const curve = (await snarkjs.curves.getCurveFromName("bn128")) as unknown as Bn128;
  let at = 0;
  const take = (length: number): Buffer => {
    if (at + length > body.length) throw new MalformedZkey("section 10 truncated");
    const bytes = body.subarray(at, at + length);
    at += length;
    return bytes;
  };
  const uncompressed = (group: Bn128["G1"], lem: Buffer): Uint8Array => {
    const out = new Uint8Array(lem.length);
    group.toRprUncompressed(out, 0, new Uint8Array(lem));
    return out;
  };
  const circuitHash = take(64).toString("hex");
  const n = take(4).readUInt32LE(0);
  const contributions: ZkeyContribution[] = [];
  for (let i = 0; i < n; i++) {
    const deltaAfter = take(64);
    const g1S = take(64);
    const g1Sx = take(64);
    const g2Spx = take(128);
    const transcript = take(64);
    const type = take(4).readUInt32LE(0);
    const params = take(take(4).readUInt32LE(0));
    let name: string | undefined;
    let iterationsExp: number | undefined;
    let beaconHash: Buffer | undefined;
    let p = 0;
    let lastType = 0;
    const param = (length: number) => {
      if (p + length > params.length) throw new MalformedZkey(`contribution #${i + 1}: parameters do not match their length`);
      const bytes = params.subarray(p, p + length);
      p += length;
      return bytes;
    };
    while (p < params.length) {
      const paramType = param(1)[0]!;
      if (paramType <= lastType) throw new MalformedZkey(`contribution #${i + 1}: parameters must be sorted`);
      lastType = paramType;
      if (paramType === 1) name = new TextDecoder().decode(param(param(1)[0]!));
      else if (paramType === 2) iterationsExp = param(1)[0]!;
      else if (paramType === 3) beaconHash = Buffer.from(param(param(1)[0]!));
      else throw new MalformedZkey(`contribution #${i + 1}: parameter ${paramType} not recognized`);
    }
    if (type !== 0 && type !== 1) throw new MalformedZkey(`contribution #${i + 1}: type ${type} is neither a contribution nor a beacon`);
    if (type === 1 && (iterationsExp === undefined || beaconHash === undefined)) throw new MalformedZkey(`contribution #${i + 1}: a beacon without its hash or iterations`);
    if (type === 0 && (iterationsExp !== undefined || beaconHash !== undefined)) throw new MalformedZkey(`contribution #${i + 1}: beacon parameters on a contribution`);
    const hasher = createHash("blake2b512");
    hasher
      .update(uncompressed(curve.G1, deltaAfter))
      .update(uncompressed(curve.G1, g1S))
      .update(uncompressed(curve.G1, g1Sx))
      .update(uncompressed(curve.G2, g2Spx))
      .update(transcript);
    contributions.push({
      index: i + 1,
      name: name ?? "",
      contributionHash: hasher.digest("hex"),
      ...(type === 1 ? { beacon: { hash: beaconHash!.toString("hex"), iterationsExp: iterationsExp! } } : {}),
    });
  }
  if (at !== body.length) throw new MalformedZkey("section 10 has bytes after its contributions");
  return { circuitHash, contributions };
}

/** The two ffjavascript calls the reader needs (snarkjs' bn128 curve object). */
interface Bn128 {
  G1: { toRprUncompressed(out: Uint8Array, offset: number, point: Uint8Array): void };
  G2: { toRprUncompressed(out: Uint8Array, offset: number, point: Uint8Array): void };
}

/**
 * What must hold of any key's contributions, before the expensive `zkey verify`: each has a
 * printable name of its own (a name with a newline could pose as more lines of the report), and
 * the beacon, if any, is the only one and the last (a contribution after it would let its maker
 * choose the final key).
 */
function checkContributions(zkey: string, contributions: ZkeyContribution[]): void {
  const names = new Map<string, number>();
  const beacon = contributions.find((b) => b.beacon);
  for (const c of contributions) {
    const at = `${zkey}: contribution #${c.index}`;
    if (c.name.length === 0) throw new CeremonyError(`${at} has no name: every contribution names its party`);
    if (!PRINTABLE.test(c.name) || c.name.trim() !== c.name)
      throw new CeremonyError(
        `${at} is named ${JSON.stringify(c.name)}: control or format characters, or surrounding spaces, are refused (they can pose as other lines of the report)`,
      );
    const seen = names.get(nameKey(c.name));
    if (seen !== undefined) throw new CeremonyError(`${at} is named "${c.name}" like contribution #${seen}: each party contributes once, under its own name`);
    names.set(nameKey(c.name), c.index);
    if (beacon && c.index > beacon.index)
      throw new CeremonyError(`${at} (${c.name}) follows the beacon #${beacon.index} (${beacon.name}): nothing may follow the beacon, or its maker chose the final key`);
  }
}

function checkName(name: string, flag: string): void {
  const parsed = printable(NAME_LENGTH).safeParse(name);
  if (!parsed.success) {
    const length = name.length === 0 || name.length > NAME_LENGTH;
    throw new InputError(
      flag,
      "",
      length
        ? `1 to ${NAME_LENGTH} characters (snarkjs keeps no more in the key), got ${name.length}`
        : "no control or format characters and no leading or trailing spaces: the name is printed in every verification",
    );
  }
}

function checkText(text: string, flag: string, max: number): void {
  if (!printable(max).safeParse(text).success) throw new InputError(flag, "", `1 to ${max} characters on one line, no control or format characters and no surrounding spaces`);
}

export interface InitResult {
  zkey: string;
  transcriptFile: string;
  transcript: CeremonyTranscript;
}

/** Refuses a phase-1 ptau that is not a public ceremony file unless the caller accepts it for a rehearsal. */
function checkPhase1(ptau: PtauChoice, untrustedPtau: boolean): void {
  if (isPublicCeremonyPtau(ptau.power, ptau.blake2b) || untrustedPtau) return;
  throw new InputError(
    "--ptau",
    "",
    `${ptau.path} (power ${ptau.power}, blake2b ${short(ptau.blake2b)}) is not a known public ceremony file: whoever made it knows tau and can forge proofs whatever phase 2 does. Use the public file (omit --ptau and ZKS_PTAU), or pass --untrusted-ptau for a rehearsal whose key is never deployable`,
  );
}

/** `zks ceremony init`: the zero-contribution key from the r1cs and ptau, and a transcript with no entries. */
export async function ceremonyInit(circuit: CeremonyCircuit, outDir: string, options: { untrustedPtau?: boolean } = {}): Promise<InitResult> {
  checkPhase1(circuit.ptau, options.untrustedPtau ?? false);
  try {
    mkdirSync(outDir, { recursive: true });
    if (!statSync(outDir).isDirectory()) throw Object.assign(new Error(), { code: "ENOTDIR" });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new InputError(
      "--out",
      "",
      code === "EEXIST" || code === "ENOTDIR" ? `${outDir} is a file: --out names a directory for the ceremony` : `cannot create ${outDir} (${code})`,
    );
  }
  const transcriptFile = path.join(outDir, TRANSCRIPT_FILE);
  const zkey = path.join(outDir, `${circuit.instance}_0000.zkey`);
  // A second init would orphan every contribution made on the first (checked again, atomically, when the files are written).
  for (const file of [transcriptFile, zkey]) {
    if (existsSync(file)) throw new InputError("--out", "", `${file} exists: start each ceremony in a directory of its own`);
  }
  const temp = reserveTemp(zkey, "--out");
  try {
    const { logger, errors, quiet } = snarkjsLog();
    await quiet(() => snarkjs.zKey.newZKey(circuit.r1cs, circuit.ptau.path, temp, logger));
    if (errors.length > 0) throw new CeremonyError(`zkey new failed for ${circuit.instance}: ${errors[0]}`);
    const { circuitHash } = await readZkeyContributions(temp);
    const transcript: CeremonyTranscript = {
      kind: TRANSCRIPT_KIND,
      version: 1,
      instance: circuit.instance,
      circuit: { compileKey: circuit.compileKey, r1csSha256: sha256File(circuit.r1cs), circuitHash, nConstraints: circuit.nConstraints, nPublic: circuit.nPublic },
      ptau: { power: circuit.ptau.power, blake2b: circuit.ptau.blake2b },
      initial: { file: path.basename(zkey), zkeySha256: sha256File(temp) },
      entries: [],
    };
    publishExclusive(temp, zkey, "--out");
    const transcriptTemp = reserveTemp(transcriptFile, "--out");
    try {
      writeFileSync(transcriptTemp, `${JSON.stringify(transcript, null, 2)}\n`);
      publishExclusive(transcriptTemp, transcriptFile, "--out");
    } catch (error) {
      rmSync(zkey, { force: true }); // created above by this call: no key without its transcript
      throw error;
    } finally {
      rmSync(transcriptTemp, { force: true });
    }
    return { zkey, transcriptFile, transcript };
  } finally {
    rmSync(temp, { force: true });
  }
}

/** The transcript beside a key, where init and every step write it. */
export function transcriptBeside(zkey: string): string {
  return path.join(path.dirname(path.resolve(zkey)), TRANSCRIPT_FILE);
}

interface NextStep {
  transcript: CeremonyTranscript;
  transcriptIn: string;
  transcriptOut: string;
}

/**
 * Before a step: the input must be the transcript's latest key (a party contributing on an
 * older one would drop the contributions since), the ceremony not finalized, and no file
 * overwritten.
 */
function nextStep(input: string, output: string, transcriptFile: string | undefined): NextStep {
  readableFile(input, "--in");
  const transcriptIn = path.resolve(transcriptFile ?? transcriptBeside(input));
  const { content: transcript } = loadTranscript(transcriptIn);
  const last = transcript.entries.at(-1);
  if (last?.kind === "beacon") throw new CeremonyError(`${transcriptIn}: the ceremony is finalized (entries[${last.index - 1}] is the beacon): no step follows it`);
  const latest = last
    ? { hash: last.zkeySha256, what: `entries[${last.index - 1}] (${last.name}, ${last.file})` }
    : { hash: transcript.initial.zkeySha256, what: `initial (${transcript.initial.file})` };
  const digest = sha256File(input);
  if (digest !== latest.hash) {
    throw new CeremonyError(`${input}: not the ceremony's latest key: its sha256 is ${short(digest)}, the transcript's latest, ${latest.what}, is ${short(latest.hash)}`);
  }
  const transcriptOut = transcriptBeside(output);
  let sameTranscript = true;
  try {
    sameTranscript = realpathSync(transcriptOut) === realpathSync(transcriptIn);
  } catch {
    // No transcript beside the output yet: the step writes one.
  }
  if (!sameTranscript) throw new InputError("--out", "", `${transcriptOut} belongs to another ceremony: write the new key beside its transcript or in a new directory`);
  return { transcript, transcriptIn, transcriptOut };
}

export interface StepResult {
  output: string;
  entry: TranscriptEntry;
  transcriptFile: string;
  transcript: CeremonyTranscript;
}

async function runStep(
  input: string,
  output: string,
  transcriptFile: string | undefined,
  entry: Omit<TranscriptEntry, "index" | "contributionHash" | "zkeySha256" | "file">,
  step: (temp: string, logger: Logger) => Promise<Uint8Array | false>,
): Promise<StepResult> {
  const { transcript, transcriptOut } = nextStep(input, output, transcriptFile);
  const taken = transcript.entries.find((e) => nameKey(e.name) === nameKey(entry.name));
  if (taken) throw new InputError("--name", "", `"${entry.name}" already contributed (entries[${taken.index - 1}]): each party contributes once, under its own name`);
  const before = await readZkeyContributions(input).catch((error: unknown) => {
    if (error instanceof MalformedZkey) throw new InputError(input, "", `not a Groth16 zkey (${error.message})`);
    throw error;
  });
  // The circuit hash binds the key to the r1cs: a party handed a key for another circuit than the transcript's learns it here.
  if (before.circuitHash !== transcript.circuit.circuitHash) {
    throw new CeremonyError(`${input}: its circuit hash ${short(before.circuitHash)} is not the transcript's (${short(transcript.circuit.circuitHash)})`);
  }
  const temp = reserveTemp(output, "--out");
  const { logger, errors, quiet } = snarkjsLog();
  try {
    let hash: Uint8Array | false;
    try {
      hash = await quiet(() => step(temp, logger));
    } catch (error) {
      // Writing is the only thing that touches the temporary file; anything else is the input.
      const e = error as NodeJS.ErrnoException;
      if (e.path === temp || String(e.message).includes(temp)) throw new InputError("--out", "", `cannot write ${output} (${e.code ?? e.message.split("\n")[0]})`);
      throw new InputError(input, "", `not a readable Groth16 zkey (${String(e.message).split("\n")[0]})`);
    }
    if (hash === false) throw new InputError(input, "", errors[0] ?? "snarkjs refused the step");
    const contributionHash = Buffer.from(hash).toString("hex");
    // What snarkjs told the party is what the new key records: the transcript never says otherwise.
    const recorded = (await readZkeyContributions(temp)).contributions.at(-1);
    if (recorded?.contributionHash !== contributionHash)
      throw new Error(`snarkjs returned contribution hash ${short(contributionHash)} but the key records ${short(recorded?.contributionHash ?? "none")}`);
    const zkeySha256 = sha256File(temp);
    publishExclusive(temp, output, "--out");
    const done: TranscriptEntry = { index: transcript.entries.length + 1, ...entry, contributionHash, zkeySha256, file: path.basename(output) };
    const next = { ...transcript, entries: [...transcript.entries, done] };
    writeTranscript(transcriptOut, next);
    return { output, entry: done, transcriptFile: transcriptOut, transcript: next };
  } finally {
    rmSync(temp, { force: true });
  }
}

/** `zks ceremony contribute`: one party's contribution; the entropy is mixed by snarkjs with its own randomness. */
export async function ceremonyContribute(options: { input: string; output: string; name: string; entropy?: string; transcript?: string; statement?: string }): Promise<StepResult> {
  checkName(options.name, "--name");
  if (options.statement !== undefined) checkText(options.statement, "--statement", 200);
  const entropy = options.entropy ?? randomBytes(64).toString("hex");
  const entry = { kind: "contribution" as const, name: options.name, ...(options.statement !== undefined ? { statement: options.statement } : {}) };
  return runStep(options.input, options.output, options.transcript, entry, (temp, logger) => snarkjs.zKey.contribute(options.input, temp, options.name, entropy, logger));
}

/** A beacon as snarkjs takes it: hex bytes (1 to 255), with or without 0x. */
export function parseBeacon(text: string, flag = "--beacon"): string {
  const hex = text.trim().replace(/^0x/i, "").toLowerCase();
  if (!/^([0-9a-f]{2}){1,255}$/.test(hex)) throw new InputError(flag, "", `expected 1 to 255 bytes of hex (e.g. a block hash), got "${text}"`);
  return hex;
}

export function parseIterations(text: string): number {
  if (!/^\d+$/.test(text.trim()) || Number(text) < 10 || Number(text) > 63) {
    throw new InputError("--iterations", "", `the beacon's hash iterations as a power of two, an integer from 10 to 63; got "${text}"`);
  }
  return Number(text);
}

/**
 * `zks ceremony finalize`: the beacon's contribution, derived from the public beacon value by
 * 2^iterationsExp SHA-256 rounds, so anyone can recompute it and nobody could choose it. `source`
 * records what was announced before the value was known (e.g. a block number, a drand round).
 */
export async function ceremonyFinalize(options: {
  input: string;
  output: string;
  beacon: string;
  iterationsExp: number;
  source: string;
  name?: string;
  transcript?: string;
}): Promise<StepResult> {
  const name = options.name ?? "final beacon";
  checkName(name, "--name");
  checkText(options.source, "--beacon-source", 200);
  const { transcript } = nextStep(options.input, options.output, options.transcript);
  const contributions = transcript.entries.filter((e) => e.kind === "contribution").length;
  // Checked here as well as by `zks setup --zkey`: a beacon ends the ceremony, so finalizing too early wastes it.
  if (contributions < MIN_CONTRIBUTIONS) {
    throw new CeremonyError(`${options.input}: ${contributions} contribution(s) so far; a deployable key needs at least ${MIN_CONTRIBUTIONS} before the beacon`);
  }
  const beacon = { hash: options.beacon, iterationsExp: options.iterationsExp, source: options.source };
  return runStep(options.input, options.output, options.transcript, { kind: "beacon", name, beacon }, (temp, logger) =>
    snarkjs.zKey.beacon(options.input, temp, name, options.beacon, options.iterationsExp, logger),
  );
}

/** The transcript's statements about the circuit and ptau, against the ones this machine has: cheap, and clearer than a failed `zkey verify`. */
function checkTranscriptCircuit({ file, content: transcript }: LoadedTranscript, circuit: CeremonyCircuit): void {
  if (transcript.instance !== circuit.instance) throw new CeremonyError(`${file}: instance: the ceremony is for "${transcript.instance}", not "${circuit.instance}"`);
  if (transcript.circuit.compileKey !== circuit.compileKey) {
    throw new CeremonyError(
      `${file}: circuit.compileKey: the ceremony's circuit (${short(transcript.circuit.compileKey)}) is not this checkout's ${circuit.instance} (${short(circuit.compileKey)}): its sources or compiler differ`,
    );
  }
  const r1csSha256 = sha256File(circuit.r1cs);
  if (transcript.circuit.r1csSha256 !== r1csSha256) {
    throw new CeremonyError(`${file}: circuit.r1csSha256: the ceremony's r1cs (${short(transcript.circuit.r1csSha256)}) is not the one compiled here (${short(r1csSha256)})`);
  }
  if (transcript.ptau.blake2b !== circuit.ptau.blake2b || transcript.ptau.power !== circuit.ptau.power) {
    throw new CeremonyError(
      `${file}: ptau: the ceremony used a power-${transcript.ptau.power} ptau with blake2b ${short(transcript.ptau.blake2b)}, not ${circuit.ptau.path} (power ${circuit.ptau.power}, ${short(circuit.ptau.blake2b)})`,
    );
  }
}

/**
 * The ptau a ceremony is checked against. A file the user names (--ptau, ZKS_PTAU) is used as
 * given, and must be the transcript's. Otherwise the public ceremony file whose blake2b the
 * transcript records, of that file's own power (the transcript's `power` is not trusted to pick
 * a download), within {@link PTAU_POWER_MARGIN} of what the circuit needs. Never a locally
 * generated ptau.
 */
export async function resolveCeremonyPtau(options: {
  ptau?: string;
  env?: NodeJS.ProcessEnv;
  requiredPower: number;
  transcript?: LoadedTranscript;
  hashCacheFile: string;
  log: (message: string) => void;
}): Promise<PtauChoice> {
  const env = options.env ?? process.env;
  const explicit = options.ptau ?? env.ZKS_PTAU;
  let power = options.requiredPower;
  if (!explicit && options.transcript) {
    const { file, content } = options.transcript;
    const known = publicCeremonyPower(content.ptau.blake2b);
    if (known === undefined) {
      throw new CeremonyError(
        `${file}: ptau.blake2b: ${short(content.ptau.blake2b)} is not a known public ceremony file; pass the ceremony's ptau with --ptau to check it (its key is a rehearsal's, never deployable)`,
      );
    }
    if (known < options.requiredPower) throw new CeremonyError(`${file}: ptau: the power-${known} public file is too small for this circuit (power ${options.requiredPower})`);
    if (known > options.requiredPower + PTAU_POWER_MARGIN) {
      throw new InputError(
        "--ptau",
        "",
        `the transcript names the power-${known} public ptau, more than ${PTAU_POWER_MARGIN} above what the circuit needs (${options.requiredPower}): download it yourself and pass it with --ptau`,
      );
    }
    power = known;
  }
  return resolvePtau({ ptau: options.ptau, env, requiredPower: power, hashCacheFile: options.hashCacheFile, developmentFallback: false, log: options.log });
}

/**
 * `zks ceremony verify`: the key's own record of its contributions (names, beacon last, hashes)
 * against the transcript, which must record exactly this key (a prefix of its entries: an
 * intermediate key checks against a later transcript); then `snarkjs zkey verify` of the key
 * against this machine's r1cs and the ptau (every contribution chains from the initial key, and
 * the key's points are the result). The cheap checks run first; only the last accepts.
 */
export async function verifyCeremonyZkey(
  circuit: CeremonyCircuit,
  zkey: string,
  transcript?: LoadedTranscript,
  options: { expectBeacon?: string } = {},
): Promise<CeremonyVerification> {
  readableFile(zkey, "--zkey");
  if (transcript) checkTranscriptCircuit(transcript, circuit);
  const zkeySha256 = sha256File(zkey);
  const invalid = (reason: string) => new CeremonyError(`${zkey}: does not verify against the r1cs of ${circuit.instance} and the ptau (${reason.replace(/\s+/g, " ")})`);
  let recorded: Awaited<ReturnType<typeof readZkeyContributions>>;
  try {
    recorded = await readZkeyContributions(zkey);
  } catch (error) {
    if (error instanceof MalformedZkey) throw invalid(`not a well-formed Groth16 zkey: ${error.message}`);
    throw error;
  }
  const { circuitHash, contributions } = recorded;
  checkContributions(zkey, contributions);
  if (transcript) {
    const { file, content } = transcript;
    if (content.circuit.circuitHash !== circuitHash) {
      throw new CeremonyError(`${file}: circuit.circuitHash: ${short(content.circuit.circuitHash)} is not the key's ${short(circuitHash)}`);
    }
    if (contributions.length > content.entries.length) {
      throw new CeremonyError(`${file}: entries: the key has ${contributions.length} contribution(s), the transcript records ${content.entries.length}`);
    }
    contributions.forEach((c, i) => {
      const entry = content.entries[i]!;
      const at = `${file}: entries[${i}]`;
      if (entry.index !== c.index) throw new CeremonyError(`${at}.index: ${entry.index} but the key's contribution at that place is #${c.index}`);
      if (entry.contributionHash !== c.contributionHash) {
        throw new CeremonyError(`${at}.contributionHash: ${short(entry.contributionHash)} but the key's contribution #${c.index} (${c.name}) has ${short(c.contributionHash)}`);
      }
      if (entry.name !== c.name) throw new CeremonyError(`${at}.name: "${entry.name}" but the key's contribution #${c.index} is named "${c.name}"`);
      if ((entry.kind === "beacon") !== (c.beacon !== undefined))
        throw new CeremonyError(`${at}.kind: "${entry.kind}" but the key's contribution #${c.index} is ${c.beacon ? "a beacon" : "not a beacon"}`);
      if (entry.beacon && c.beacon && (entry.beacon.hash !== c.beacon.hash || entry.beacon.iterationsExp !== c.beacon.iterationsExp)) {
        throw new CeremonyError(`${at}.beacon: ${entry.beacon.hash} (2^${entry.beacon.iterationsExp}) but the key's beacon is ${c.beacon.hash} (2^${c.beacon.iterationsExp})`);
      }
    });
    const n = contributions.length;
    const step = n === 0 ? { field: "initial.zkeySha256", hash: content.initial.zkeySha256 } : { field: `entries[${n - 1}].zkeySha256`, hash: content.entries[n - 1]!.zkeySha256 };
    if (step.hash !== zkeySha256) throw new CeremonyError(`${file}: ${step.field}: ${short(step.hash)} but ${zkey} has sha256 ${short(zkeySha256)}`);
  }
  if (options.expectBeacon !== undefined) {
    const beacon = contributions.find((c) => c.beacon)?.beacon;
    if (!beacon) throw new CeremonyError(`${zkey}: --expect-beacon ${options.expectBeacon}: the key has no beacon (not finalized)`);
    if (beacon.hash !== options.expectBeacon) throw new CeremonyError(`${zkey}: --expect-beacon: the key's beacon is ${beacon.hash}, not the announced ${options.expectBeacon}`);
  }

  const { logger, errors, quiet } = snarkjsLog();
  let valid: boolean;
  try {
    valid = await quiet(() => snarkjs.zKey.verifyFromR1cs(circuit.r1cs, circuit.ptau.path, zkey, logger));
  } catch (error) {
    // A corrupted file makes snarkjs throw while reading it: for the user, the key does not verify.
    errors.push((error as Error).message.split("\n")[0]!);
    valid = false;
  }
  if (!valid) throw invalid(`snarkjs zkey verify: ${errors.find((line) => line.length > 0) ?? "no reason given"}`);
  const ptau = {
    path: circuit.ptau.path,
    power: circuit.ptau.power,
    blake2b: circuit.ptau.blake2b,
    publicCeremony: isPublicCeremonyPtau(circuit.ptau.power, circuit.ptau.blake2b),
  };
  return { zkey, zkeySha256, circuitHash, contributions, ptau, transcript };
}

export type CeremonyKeySource = Extract<KeySource, { kind: "ceremony" }>;

function untrustedPhase1(zkey: string, ptau: { path: string; power: number; blake2b: string }): CeremonyError {
  return new CeremonyError(
    `${zkey}: not deployable: phase 1 is not a known public ceremony (ptau ${ptau.path}, power ${ptau.power}, blake2b ${short(ptau.blake2b)}): whoever made that ptau can forge proofs whatever phase 2 did; pass --untrusted-ptau to install it as a rehearsal key, which deploy refuses on a non-local chain`,
  );
}

/**
 * The rule for a deployable key ({@link MIN_CONTRIBUTIONS}), as the manifest records it. A key on
 * a ptau that is not a public ceremony file is refused unless `untrustedPtau` (a rehearsal), and
 * then recorded as such (keySource.ptau.origin "user"): deploy refuses it on a non-local chain.
 */
export function ceremonyKeySource(verification: CeremonyVerification, options: { untrustedPtau?: boolean } = {}): CeremonyKeySource {
  const { zkey, contributions, transcript, ptau } = verification;
  if (!transcript) throw new InputError("--transcript", "", "a ceremony key is installed with its transcript");
  if (contributions.length !== transcript.content.entries.length) {
    throw new CeremonyError(`${zkey}: not the ceremony's final key: it has ${contributions.length} of the transcript's ${transcript.content.entries.length} entries`);
  }
  const last = contributions.at(-1);
  if (!last?.beacon) throw new CeremonyError(`${zkey}: not finalized: the last contribution must be the public beacon (\`zks ceremony finalize\`)`);
  const parties = contributions.filter((c) => !c.beacon).length;
  if (parties < MIN_CONTRIBUTIONS) {
    throw new CeremonyError(`${zkey}: ${parties} contribution(s) before the beacon; a deployable key needs at least ${MIN_CONTRIBUTIONS}`);
  }
  if (!ptau.publicCeremony && !options.untrustedPtau) throw untrustedPhase1(zkey, ptau);
  return {
    kind: "ceremony",
    contributions: parties,
    beacon: last.beacon.hash,
    transcriptSha256: transcript.sha256,
    ptau: { power: ptau.power, blake2b: ptau.blake2b, origin: ptau.publicCeremony ? "ceremony" : "user" },
  };
}

/** Whether `zks setup --zkey` would install the key, and if not why: what `ceremony verify` reports. */
export function deployability(verification: CeremonyVerification): { ok: true; contributions: number } | { ok: false; reason: string } {
  try {
    return { ok: true, contributions: ceremonyKeySource(verification).contributions };
  } catch (error) {
    if (!(error instanceof ZksError)) throw error;
    return { ok: false, reason: error.message };
  }
}

export interface CeremonyInstall {
  keySource: CeremonyKeySource;
  verification: CeremonyVerification;
}

/**
 * `zks setup --zkey`: copies the finalized key beside the instance's build, verifies the copy
 * (not the original, which could change between the check and the copy), applies the rule, and
 * hands the verified copy to `install`, which exports from it and moves it into place; the copy
 * is removed whatever happens.
 */
export async function installCeremonyKey(
  circuit: CeremonyCircuit,
  source: { zkey: string; transcript: LoadedTranscript; expectBeacon: string; untrustedPtau?: boolean },
  target: string,
  install: (verifiedCopy: string, result: CeremonyInstall) => Promise<void>,
): Promise<CeremonyInstall> {
  readableFile(source.zkey, "--zkey");
  // The cheap refusal first: a key on an untrusted ptau is not worth a verification unless asked for.
  if (!isPublicCeremonyPtau(circuit.ptau.power, circuit.ptau.blake2b) && !source.untrustedPtau) throw untrustedPhase1(source.zkey, circuit.ptau);
  const temp = `${target}.${randomBytes(4).toString("hex")}.ceremony`;
  try {
    try {
      const result = await (async () => {
        copyFileSync(source.zkey, temp, constants.COPYFILE_EXCL);
        const verification = { ...(await verifyCeremonyZkey(circuit, temp, source.transcript, { expectBeacon: source.expectBeacon })), zkey: source.zkey };
        return { keySource: ceremonyKeySource(verification, { untrustedPtau: source.untrustedPtau }), verification };
      })();
      await install(temp, result);
      return result;
    } catch (error) {
      // Messages name the user's file, not the temporary copy.
      if (error instanceof CeremonyError) throw new CeremonyError(error.message.split(temp).join(source.zkey));
      throw error;
    }
  } finally {
    rmSync(temp, { force: true });
  }
}
