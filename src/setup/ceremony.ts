/**
 * Phase 2 of the Groth16 setup as a multi-party ceremony (README, "Running a phase-2 ceremony
 * for a deployment"). A development key (`zks setup`) has one contribution made by the machine
 * that built it: whoever ran it could keep the toxic waste and forge proofs. Here each party
 * adds a contribution on their own machine, anyone can check the chain of contributions against
 * the circuit and the ptau (`snarkjs zkey verify`), and a public random beacon closes it. The key
 * is sound when at least one party destroyed its randomness.
 *
 * Every step is snarkjs' own (zKey.newZKey, contribute, beacon, verifyFromR1cs); this module
 * keeps the transcript that says which key came from which step, and checks it.
 *
 * The transcript (transcript.json, published with the final key) records the circuit (compileKey,
 * r1cs sha256, snarkjs' circuit hash), the ptau (blake2b) and per step: who, the contribution hash
 * snarkjs printed to that party, and the sha256 of the key it produced.
 */
import { createHash, randomBytes } from "node:crypto";
import { copyFileSync, existsSync, mkdirSync, readFileSync, realpathSync, renameSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import * as snarkjs from "snarkjs";
import type { Logger } from "snarkjs";
import { z } from "zod";
import { InputError, ZksError } from "../core/errors.ts";
import { readRaw } from "../inputs/fields.ts";
import { readJsonFile } from "../node/read-json.ts";
import type { KeySource } from "./manifest.ts";
import type { PtauChoice } from "./ptau.ts";

export const TRANSCRIPT_KIND = "zks-ceremony-transcript";
export const TRANSCRIPT_FILE = "transcript.json";

/**
 * The rule `zks setup --zkey` applies: at least two contributions by parties other than the
 * beacon, then the beacon last. One contribution would make that party's honesty the whole
 * security, which is what a development key already is; the beacon, public and announced in
 * advance, keeps the last contributor from choosing the final key.
 */
export const MIN_CONTRIBUTIONS = 2;

/** snarkjs stores at most 64 characters of a contribution's name. */
const NAME_LENGTH = 64;

/** A ceremony artifact that fails a check (a key that does not verify, a transcript that disagrees with it). Exit code 1. */
export class CeremonyError extends ZksError {
  constructor(message: string) {
    super(message, 1);
  }
}

const hexOf = (digits: number) => z.string().regex(new RegExp(`^[0-9a-f]{${digits}}$`));
const count = z.number().int().min(0);
const beaconSchema = z.strictObject({ hash: z.string().regex(/^([0-9a-f]{2}){1,255}$/), iterationsExp: z.number().int().min(10).max(63) });
const entrySchema = z.strictObject({
  index: z.number().int().min(1),
  kind: z.enum(["contribution", "beacon"]),
  name: z.string().max(NAME_LENGTH),
  /** blake2b-512 of the contribution's public key: what snarkjs prints to the contributor and `zkey verify` prints for everyone. */
  contributionHash: hexOf(128),
  /** sha256 of the key this step produced, so the published files can be matched to it. */
  zkeySha256: hexOf(64),
  file: z.string(),
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

/** What the ceremony needs of a compiled instance (the CLI compiles it and resolves the ptau). */
export interface CeremonyCircuit {
  instance: string;
  compileKey: string;
  r1cs: string;
  nConstraints: number;
  nPublic: number;
  ptau: PtauChoice;
}

/** One contribution as the key itself records it (read back by `zkey verify`). */
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
  /** The transcript the contributions were matched against, when one was given. */
  transcript?: { file: string; sha256: string; content: CeremonyTranscript };
}

export function sha256File(file: string): string {
  return createHash("sha256").update(readFileSync(file)).digest("hex");
}

/** The first 16 hex digits, enough to tell hashes apart in a message. */
const short = (hash: string): string => `${hash.slice(0, 16)}…`;

function readableFile(file: string, flag: string): void {
  if (!existsSync(file)) throw new InputError(file, "", `file not found (${flag})`);
}

/** Reads and checks a transcript: its schema, then that its entries form one chain ending at most once in a beacon. */
export function readTranscript(file: string): CeremonyTranscript {
  const transcript = readRaw(transcriptSchema, readJsonFile(file), file);
  transcript.entries.forEach((entry, i) => {
    if (entry.index !== i + 1) throw new InputError(file, `entries[${i}].index`, `expected ${i + 1}, got ${entry.index}`);
    if ((entry.kind === "beacon") !== (entry.beacon !== undefined)) throw new InputError(file, `entries[${i}].beacon`, entry.kind === "beacon" ? "a beacon entry needs its beacon hash and iterations" : "only a beacon entry has a beacon");
    if (entry.kind === "beacon" && i !== transcript.entries.length - 1) throw new InputError(file, `entries[${i + 1}]`, "nothing follows the beacon: it finalizes the ceremony");
  });
  return transcript;
}

function writeTranscript(file: string, transcript: CeremonyTranscript): void {
  const temp = `${file}.${randomBytes(4).toString("hex")}.tmp`;
  writeFileSync(temp, `${JSON.stringify(transcript, null, 2)}\n`);
  renameSync(temp, file);
}

/** A logger that keeps snarkjs' lines; `zkey verify` also reports some failures with console.log, which `quiet` diverts into `errors`. */
function snarkjsLog(): { logger: Logger; info: string[]; errors: string[]; quiet<T>(body: () => Promise<T>): Promise<T> } {
  const info: string[] = [];
  const errors: string[] = [];
  const logger: Logger = {
    debug: () => {},
    info: (message) => void info.push(String(message)),
    warn: (message) => void errors.push(String(message)),
    error: (message) => void errors.push(String(message)),
  };
  const quiet = async <T>(body: () => Promise<T>): Promise<T> => {
    const consoleLog = console.log;
    // Machine output (--json) must stay the only thing on stdout.
    console.log = (...items: unknown[]) => void errors.push(items.map(String).join(" ").trim());
    try {
      return await body();
    } finally {
      console.log = consoleLog;
    }
  };
  return { logger, info, errors, quiet };
}

/** snarkjs prints a 64-byte hash as a title line and four lines of four 8-digit words (misc.formatHash). */
function formattedHash(message: string): { title: string; hash: string } | undefined {
  const [title, ...rest] = message.split("\n");
  const hash = rest.join("").replace(/\s+/g, "");
  return rest.length === 4 && /^[0-9a-f]{128}$/.test(hash) ? { title: title!, hash } : undefined;
}

function circuitHashIn(info: string[]): string | undefined {
  for (const message of info) {
    const parsed = formattedHash(message);
    if (parsed && /^circuit hash:\s*$/i.test(parsed.title)) return parsed.hash;
  }
  return undefined;
}

/** The contributions `zkey verify` lists (newest first, each beacon followed by its generator and iterations). */
function contributionsIn(info: string[]): ZkeyContribution[] {
  const found: ZkeyContribution[] = [];
  let last: ZkeyContribution | undefined;
  for (const message of info) {
    const parsed = formattedHash(message);
    const title = parsed && /^contribution #(\d+) (.*):$/s.exec(parsed.title);
    if (parsed && title) {
      last = { index: Number(title[1]), name: title[2]!, contributionHash: parsed.hash };
      found.push(last);
      continue;
    }
    const generator = /^Beacon generator: ([0-9a-f]*)$/.exec(message);
    if (generator && last) last.beacon = { hash: generator[1]!, iterationsExp: Number.NaN };
    const iterations = /^Beacon iterations Exp: (\d+)$/.exec(message);
    if (iterations && last?.beacon) last.beacon.iterationsExp = Number(iterations[1]);
  }
  return found.sort((a, b) => a.index - b.index);
}

function checkName(name: string, flag: string): void {
  if (name.length === 0 || name.length > NAME_LENGTH) throw new InputError(flag, "", `1 to ${NAME_LENGTH} characters (snarkjs keeps no more in the key), got ${name.length}`);
  if (/\p{Cc}/u.test(name) || name.trim() !== name) throw new InputError(flag, "", "no control characters and no leading or trailing spaces: the name is printed in every verification");
}

export interface InitResult {
  zkey: string;
  transcriptFile: string;
  transcript: CeremonyTranscript;
}

/** `zks ceremony init`: the zero-contribution key from the r1cs and ptau, and a transcript with no entries. */
export async function ceremonyInit(circuit: CeremonyCircuit, outDir: string): Promise<InitResult> {
  mkdirSync(outDir, { recursive: true });
  const transcriptFile = path.join(outDir, TRANSCRIPT_FILE);
  const zkey = path.join(outDir, `${circuit.instance}_0000.zkey`);
  // A second init would orphan every contribution made on the first.
  for (const file of [transcriptFile, zkey]) {
    if (existsSync(file)) throw new InputError("--out", "", `${file} exists: start each ceremony in a directory of its own`);
  }
  const { logger, info, errors, quiet } = snarkjsLog();
  const temp = `${zkey}.${randomBytes(4).toString("hex")}.tmp`;
  try {
    await quiet(() => snarkjs.zKey.newZKey(circuit.r1cs, circuit.ptau.path, temp, logger));
    if (errors.length > 0) throw new CeremonyError(`zkey new failed for ${circuit.instance}: ${errors[0]}`);
    const circuitHash = circuitHashIn(info);
    if (!circuitHash) throw new Error("snarkjs zkey new printed no circuit hash");
    renameSync(temp, zkey);
    const transcript: CeremonyTranscript = {
      kind: TRANSCRIPT_KIND,
      version: 1,
      instance: circuit.instance,
      circuit: { compileKey: circuit.compileKey, r1csSha256: sha256File(circuit.r1cs), circuitHash, nConstraints: circuit.nConstraints, nPublic: circuit.nPublic },
      ptau: { power: circuit.ptau.power, blake2b: circuit.ptau.blake2b },
      initial: { file: path.basename(zkey), zkeySha256: sha256File(zkey) },
      entries: [],
    };
    writeTranscript(transcriptFile, transcript);
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
  readableFile(transcriptIn, "--transcript");
  const transcript = readTranscript(transcriptIn);
  const last = transcript.entries.at(-1);
  if (last?.kind === "beacon") throw new CeremonyError(`${transcriptIn}: the ceremony is finalized (entries[${last.index - 1}] is the beacon): no step follows it`);
  const latest = last ? { hash: last.zkeySha256, what: `entries[${last.index - 1}] (${last.name}, ${last.file})` } : { hash: transcript.initial.zkeySha256, what: `initial (${transcript.initial.file})` };
  const digest = sha256File(input);
  if (digest !== latest.hash) {
    throw new CeremonyError(`${input}: not the ceremony's latest key: its sha256 is ${short(digest)}, the transcript's latest, ${latest.what}, is ${short(latest.hash)}`);
  }
  if (existsSync(output)) throw new InputError("--out", "", `${output} exists: every step writes a new key`);
  const transcriptOut = transcriptBeside(output);
  if (existsSync(transcriptOut) && realpathSync(transcriptOut) !== realpathSync(transcriptIn)) {
    throw new InputError("--out", "", `${transcriptOut} belongs to another ceremony: write the new key beside its transcript or in a new directory`);
  }
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
  mkdirSync(path.dirname(path.resolve(output)), { recursive: true });
  const temp = `${output}.${randomBytes(4).toString("hex")}.tmp`;
  const { logger, info, errors, quiet } = snarkjsLog();
  try {
    let hash: Uint8Array | false;
    try {
      hash = await quiet(() => step(temp, logger));
    } catch (error) {
      throw new InputError(input, "", `not a readable Groth16 zkey (${(error as Error).message.split("\n")[0]})`);
    }
    if (hash === false) throw new InputError(input, "", errors[0] ?? "snarkjs refused the step");
    // The circuit hash binds the key to the r1cs: a party handed a key for another circuit learns it here.
    const circuitHash = circuitHashIn(info);
    if (circuitHash !== undefined && circuitHash !== transcript.circuit.circuitHash) {
      throw new CeremonyError(`${input}: its circuit hash ${short(circuitHash)} is not the ceremony's (${short(transcript.circuit.circuitHash)})`);
    }
    renameSync(temp, output);
    const done: TranscriptEntry = {
      index: transcript.entries.length + 1,
      ...entry,
      contributionHash: Buffer.from(hash).toString("hex"),
      zkeySha256: sha256File(output),
      file: path.basename(output),
    };
    const next = { ...transcript, entries: [...transcript.entries, done] };
    writeTranscript(transcriptOut, next);
    return { output, entry: done, transcriptFile: transcriptOut, transcript: next };
  } finally {
    rmSync(temp, { force: true });
  }
}

/** `zks ceremony contribute`: one party's contribution; the entropy is mixed by snarkjs with its own randomness. */
export async function ceremonyContribute(options: { input: string; output: string; name: string; entropy?: string; transcript?: string }): Promise<StepResult> {
  checkName(options.name, "--name");
  const entropy = options.entropy ?? randomBytes(64).toString("hex");
  return runStep(options.input, options.output, options.transcript, { kind: "contribution", name: options.name }, (temp, logger) =>
    snarkjs.zKey.contribute(options.input, temp, options.name, entropy, logger),
  );
}

/** A beacon as snarkjs takes it: hex bytes (1 to 255), with or without 0x. */
export function parseBeacon(text: string): string {
  const hex = text.trim().replace(/^0x/i, "").toLowerCase();
  if (!/^([0-9a-f]{2}){1,255}$/.test(hex)) throw new InputError("--beacon", "", `expected 1 to 255 bytes of hex (e.g. a block hash), got "${text}"`);
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
 * 2^iterationsExp SHA-256 rounds, so anyone can recompute it and nobody could choose it.
 */
export async function ceremonyFinalize(options: { input: string; output: string; beacon: string; iterationsExp: number; name?: string; transcript?: string }): Promise<StepResult> {
  const name = options.name ?? "final beacon";
  checkName(name, "--name");
  const { transcript } = nextStep(options.input, options.output, options.transcript);
  const contributions = transcript.entries.filter((e) => e.kind === "contribution").length;
  // Checked here as well as by `zks setup --zkey`: a beacon ends the ceremony, so finalizing too early wastes it.
  if (contributions < MIN_CONTRIBUTIONS) {
    throw new CeremonyError(`${options.input}: ${contributions} contribution(s) so far; a deployable key needs at least ${MIN_CONTRIBUTIONS} before the beacon`);
  }
  return runStep(options.input, options.output, options.transcript, { kind: "beacon", name, beacon: { hash: options.beacon, iterationsExp: options.iterationsExp } }, (temp, logger) =>
    snarkjs.zKey.beacon(options.input, temp, name, options.beacon, options.iterationsExp, logger),
  );
}

/** The transcript's statements about the circuit and ptau, against the ones this machine has: cheap, and clearer than a failed `zkey verify`. */
function checkTranscriptCircuit(file: string, transcript: CeremonyTranscript, circuit: CeremonyCircuit): void {
  if (transcript.instance !== circuit.instance) throw new CeremonyError(`${file}: instance: the ceremony is for "${transcript.instance}", not "${circuit.instance}"`);
  if (transcript.circuit.compileKey !== circuit.compileKey) {
    throw new CeremonyError(`${file}: circuit.compileKey: the ceremony's circuit (${short(transcript.circuit.compileKey)}) is not this checkout's ${circuit.instance} (${short(circuit.compileKey)}): its sources or compiler differ`);
  }
  const r1csSha256 = sha256File(circuit.r1cs);
  if (transcript.circuit.r1csSha256 !== r1csSha256) {
    throw new CeremonyError(`${file}: circuit.r1csSha256: the ceremony's r1cs (${short(transcript.circuit.r1csSha256)}) is not the one compiled here (${short(r1csSha256)})`);
  }
  if (transcript.ptau.blake2b !== circuit.ptau.blake2b) {
    throw new CeremonyError(`${file}: ptau.blake2b: the ceremony used ptau ${short(transcript.ptau.blake2b)} (power ${transcript.ptau.power}), not ${circuit.ptau.path} (${short(circuit.ptau.blake2b)}); pass the ceremony's with --ptau`);
  }
}

/**
 * `zks ceremony verify`: `snarkjs zkey verify` of the key against this machine's r1cs and the
 * ptau (every contribution chains from the initial key, and the key's points are the result),
 * then each contribution's hash against the transcript, which must record exactly this key
 * (a prefix of its entries: an intermediate key checks against a later transcript).
 */
export async function verifyCeremonyZkey(circuit: CeremonyCircuit, zkey: string, transcriptFile?: string): Promise<CeremonyVerification> {
  readableFile(zkey, "--zkey");
  let transcript: CeremonyVerification["transcript"];
  if (transcriptFile !== undefined) {
    readableFile(transcriptFile, "--transcript");
    const content = readTranscript(transcriptFile);
    checkTranscriptCircuit(transcriptFile, content, circuit);
    transcript = { file: transcriptFile, sha256: sha256File(transcriptFile), content };
  }
  const zkeySha256 = sha256File(zkey);
  const { logger, info, errors, quiet } = snarkjsLog();
  let valid: boolean;
  try {
    valid = await quiet(() => snarkjs.zKey.verifyFromR1cs(circuit.r1cs, circuit.ptau.path, zkey, logger));
  } catch (error) {
    // A corrupted file makes snarkjs throw while reading it: for the user, the key does not verify.
    errors.push((error as Error).message.split("\n")[0]!);
    valid = false;
  }
  if (!valid) {
    const reason = errors.find((line) => line.length > 0) ?? "no reason given";
    throw new CeremonyError(`${zkey}: does not verify against the r1cs of ${circuit.instance} and the ptau (snarkjs zkey verify: ${reason.replace(/\s+/g, " ")})`);
  }
  const contributions = contributionsIn(info);
  const circuitHash = circuitHashIn(info);
  if (!circuitHash) throw new Error("snarkjs zkey verify printed no circuit hash");
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
      if (entry.contributionHash !== c.contributionHash) {
        throw new CeremonyError(`${at}.contributionHash: ${short(entry.contributionHash)} but the key's contribution #${c.index} (${c.name}) has ${short(c.contributionHash)}`);
      }
      if (entry.name !== c.name) throw new CeremonyError(`${at}.name: "${entry.name}" but the key's contribution #${c.index} is named "${c.name}"`);
      if ((entry.kind === "beacon") !== (c.beacon !== undefined)) throw new CeremonyError(`${at}.kind: "${entry.kind}" but the key's contribution #${c.index} is ${c.beacon ? "a beacon" : "not a beacon"}`);
      if (entry.beacon && c.beacon && (entry.beacon.hash !== c.beacon.hash || entry.beacon.iterationsExp !== c.beacon.iterationsExp)) {
        throw new CeremonyError(`${at}.beacon: ${entry.beacon.hash} (2^${entry.beacon.iterationsExp}) but the key's beacon is ${c.beacon.hash} (2^${c.beacon.iterationsExp})`);
      }
    });
    const n = contributions.length;
    const recorded = n === 0 ? { field: "initial.zkeySha256", hash: content.initial.zkeySha256 } : { field: `entries[${n - 1}].zkeySha256`, hash: content.entries[n - 1]!.zkeySha256 };
    if (recorded.hash !== zkeySha256) throw new CeremonyError(`${file}: ${recorded.field}: ${short(recorded.hash)} but ${zkey} has sha256 ${short(zkeySha256)}`);
  }
  return { zkey, zkeySha256, circuitHash, contributions, transcript };
}

/** The rule for a deployable key ({@link MIN_CONTRIBUTIONS}), as the manifest records it. */
export function ceremonyKeySource(verification: CeremonyVerification): Extract<KeySource, { kind: "ceremony" }> {
  const { zkey, contributions, transcript } = verification;
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
  return { kind: "ceremony", contributions: parties, beacon: last.beacon.hash, transcriptSha256: transcript.sha256 };
}

/**
 * `zks setup --zkey`: copies the finalized key beside the instance's build, verifies the copy
 * (not the original, which could change between the check and the copy), applies the rule,
 * and only then moves it over the instance's zkey.
 */
export async function installCeremonyKey(
  circuit: CeremonyCircuit,
  source: { zkey: string; transcript: string },
  target: string,
): Promise<{ keySource: Extract<KeySource, { kind: "ceremony" }>; verification: CeremonyVerification }> {
  readableFile(source.zkey, "--zkey");
  readableFile(source.transcript, "--transcript");
  const temp = `${target}.${randomBytes(4).toString("hex")}.ceremony`;
  try {
    copyFileSync(source.zkey, temp);
    const verification = await verifyCeremonyZkey(circuit, temp, source.transcript);
    const keySource = ceremonyKeySource({ ...verification, zkey: source.zkey });
    renameSync(temp, target);
    return { keySource, verification: { ...verification, zkey: source.zkey } };
  } catch (error) {
    // Messages name the user's file, not the temporary copy.
    if (error instanceof CeremonyError) throw new CeremonyError(error.message.split(temp).join(source.zkey));
    throw error;
  } finally {
    rmSync(temp, { force: true });
  }
}
