/**
 * One Groth16 proof by rapidsnark's standalone prover, run as a child process:
 *   prover circuit.zkey witness.wtns proof.json public.json
 * Nothing it writes is trusted: its public signals must be the witness's own, and its proof must
 * verify (snarkjs) under the instance's verification key, before the proof is returned, so before
 * anyone writes it. A binary that fails any of this is a SetupError (exit 3) naming it and the
 * cause: the witness step has already judged the input, so it is never an UnprovableError.
 */
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Groth16Proof, NumericString, VerificationKey } from "snarkjs";
import { InputError, SNARK_FIELD } from "@zk-solvency/sdk/core";
import type { ZkProof } from "@zk-solvency/sdk/prover";
import { verifyProof } from "@zk-solvency/sdk/verifier";
import { trackDir } from "./children.ts";
import { runNative } from "./run-native.ts";
import { checkRapidsnark, childEnv, failure, firstLine, probeMs } from "./probe.ts";

export interface RapidsnarkOptions {
  /**
   * OMP_NUM_THREADS for the child: rapidsnark uses OpenMP, every core by default. The prover pool
   * gives each of its workers its share of the cores; a one-off proof leaves it unset.
   */
  threads?: number;
  /** Where its temporary directory goes (default the system's): the prover pool gives its own private root. */
  tempDir?: string;
  /**
   * How long the child may run before it is killed (SIGKILL) and the proof fails (exit 3).
   * Default: ZKS_RAPIDSNARK_TIMEOUT_MS, else max(120 s, 30 times the probe's run time).
   */
  timeoutMs?: number;
}

/**
 * Proves one witness (.wtns bytes, or a .wtns file rapidsnark reads in place) with `binary` and
 * the proving key `zkeyFile`. `ms` is the whole call: the child, reading and verifying its proof.
 */
export async function rapidsnarkProve(
  binary: string,
  zkeyFile: string,
  witness: Uint8Array | { file: string },
  vkey: VerificationKey,
  options: RapidsnarkOptions = {},
): Promise<ZkProof & { ms: number }> {
  const started = performance.now();
  await checkRapidsnark(binary);
  const timeoutMs = options.timeoutMs ?? rapidsnarkTimeoutMs(binary);
  const work = await mkdtemp(path.join(options.tempDir ?? tmpdir(), "zks-rapidsnark-"));
  const release = trackDir(work);
  try {
    let witnessFile: string;
    let witnessBytes: Uint8Array;
    if (witness instanceof Uint8Array) {
      witnessFile = path.join(work, "witness.wtns");
      witnessBytes = witness;
      await writeFile(witnessFile, witness);
    } else {
      witnessFile = witness.file;
      witnessBytes = await readFile(witness.file);
    }
    // What the proof must say, read before the child runs: it could rewrite the witness file.
    const expected = witnessPublicSignals(witnessBytes, vkey.nPublic, witnessFile);

    const proofFile = path.join(work, "proof.json");
    const publicFile = path.join(work, "public.json");
    // Only what it needs to run: the witness is private, and the binary may be whatever PATH had
    // (`auto`); our environment may hold secrets (a Redis password, an RPC key).
    const env = childEnv(options.threads);
    const run = await runNative(binary, [zkeyFile, witnessFile, proofFile, publicFile], { env, timeoutMs });
    const output = `${run.stdout}${run.stderr}`;
    if (run.timedOut)
      throw failure(binary, `it did not finish in ${Number((timeoutMs / 1000).toFixed(1))} s and was killed (ZKS_RAPIDSNARK_TIMEOUT_MS sets the limit, in milliseconds)`);
    if (run.error) throw failure(binary, `cannot run it (${run.error})`);
    if (run.signal) throw failure(binary, `it crashed (${run.signal}) while proving${said(output)}`);
    if (run.code !== 0) throw failure(binary, `it failed (exit ${run.code})${said(output)}`);

    const proof = readProof(await readOutput(binary, proofFile), binary);
    const publicSignals = readPublicSignals(await readOutput(binary, publicFile), binary);
    // A valid proof of another statement would verify against its own public.json: the witness decides what this one must say.
    if (publicSignals.length !== expected.length) throw failure(binary, `it wrote ${publicSignals.length} public signals, but the instance's key has ${expected.length}`);
    const mismatch = publicSignals.findIndex((value, i) => value !== expected[i]);
    if (mismatch >= 0)
      throw failure(
        binary,
        `its public signal ${mismatch} is ${short(publicSignals[mismatch]!)}, but the witness it was given has ${short(expected[mismatch]!)}: not a proof of this input`,
      );
    if (!(await verifyProof(vkey, { proof, publicSignals }))) throw failure(binary, "it wrote a proof that does not verify under the instance's verification key (snarkjs)");
    return { proof, publicSignals, ms: performance.now() - started };
  } finally {
    await rm(work, { recursive: true, force: true });
    release();
  }
}

/**
 * How long a proof may take: ZKS_RAPIDSNARK_TIMEOUT_MS, else max(120 s, 30 times the probe): a
 * slow machine probes slowly too, and the largest instances prove in seconds on 2 cores.
 */
export function rapidsnarkTimeoutMs(binary: string, env: NodeJS.ProcessEnv = process.env): number {
  const set = env.ZKS_RAPIDSNARK_TIMEOUT_MS;
  if (set !== undefined && set !== "") {
    if (!/^[1-9][0-9]{0,9}$/.test(set)) throw new InputError("ZKS_RAPIDSNARK_TIMEOUT_MS", "", `expected a positive whole number of milliseconds, got ${JSON.stringify(set)}`);
    return Number(set);
  }
  return Math.max(120_000, 30 * (probeMs(binary) ?? 0));
}

/** rapidsnark reports failures as "Error: <message>" on stderr: that line, else the first one. */
function said(output: string): string {
  const lines = output.split(/\r?\n/);
  const error = lines.find((line) => line.startsWith("Error:"));
  const line = firstLine(error ?? output);
  return line ? `: ${JSON.stringify(line)}` : "";
}

async function readOutput(binary: string, file: string): Promise<string> {
  try {
    return await readFile(file, "utf8");
  } catch {
    throw failure(binary, `it exited 0 but wrote no ${path.basename(file)}`);
  }
}

const DECIMAL = /^(0|[1-9][0-9]{0,77})$/;
const isField = (value: unknown): value is NumericString => typeof value === "string" && DECIMAL.test(value) && BigInt(value) < SNARK_FIELD;
const isPoint = (value: unknown, length: number, item: (v: unknown) => boolean) => Array.isArray(value) && value.length === length && value.every(item);

/** snarkjs' proof.json shape, field elements as canonical decimals; only the fields a verifier reads are kept. */
function readProof(text: string, binary: string): Groth16Proof {
  let parsed: Record<string, unknown>;
  try {
    parsed = JSON.parse(text) as Record<string, unknown>;
  } catch {
    throw failure(binary, "it wrote a proof.json that is not JSON");
  }
  const pair = (v: unknown) => isPoint(v, 2, isField);
  if (
    typeof parsed !== "object" ||
    parsed === null ||
    !isPoint(parsed.pi_a, 3, isField) ||
    !isPoint(parsed.pi_b, 3, pair) ||
    !isPoint(parsed.pi_c, 3, isField) ||
    (parsed.protocol !== undefined && parsed.protocol !== "groth16") ||
    (parsed.curve !== undefined && parsed.curve !== "bn128")
  )
    throw failure(binary, "it wrote a proof.json that is not a Groth16 proof on bn128 (pi_a, pi_b, pi_c of decimal field elements)");
  return { pi_a: parsed.pi_a, pi_b: parsed.pi_b, pi_c: parsed.pi_c, protocol: "groth16", curve: "bn128" } as Groth16Proof;
}

function readPublicSignals(text: string, binary: string): NumericString[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw failure(binary, "it wrote a public.json that is not JSON");
  }
  if (!Array.isArray(parsed) || !parsed.every(isField)) throw failure(binary, "it wrote a public.json that is not an array of decimal field elements");
  return parsed;
}

const short = (value: string) => (value.length > 20 ? `${value.slice(0, 8)}...${value.slice(-8)}` : value);

/**
 * The public signals a proof of this witness has: witness elements 1..nPublic (element 0 is the
 * constant 1), as snarkjs and rapidsnark take them. The .wtns format (iden3 binfile): "wtns",
 * version, section count, then sections of (type u32, size u64): type 1 holds the element size
 * n8, the prime and the element count, type 2 the elements, little-endian.
 */
export function witnessPublicSignals(bytes: Uint8Array, nPublic: number, source: string): NumericString[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const bad = (problem: string) => new Error(`${source}: not a witness for this key (${problem})`);
  if (bytes.byteLength < 12 || String.fromCharCode(...bytes.subarray(0, 4)) !== "wtns") throw bad('no "wtns" header');
  const sections = new Map<number, { start: number; size: number }>();
  let at = 12;
  for (let i = 0; i < view.getUint32(8, true); i++) {
    if (at + 12 > bytes.byteLength) throw bad("truncated section table");
    const type = view.getUint32(at, true);
    const size = Number(view.getBigUint64(at + 4, true));
    if (at + 12 + size > bytes.byteLength) throw bad(`section ${type} runs past the end`);
    sections.set(type, { start: at + 12, size });
    at += 12 + size;
  }
  const header = sections.get(1);
  const values = sections.get(2);
  if (!header || !values) throw bad("no header or no values section");
  const n8 = view.getUint32(header.start, true);
  if (n8 !== 32 || header.size < 4 + n8 + 4) throw bad(`elements of ${n8} bytes, not 32`);
  if (littleEndian(bytes, header.start + 4, n8) !== SNARK_FIELD) throw bad("not bn128's scalar field");
  const count = view.getUint32(header.start + 4 + n8, true);
  if (count < nPublic + 1 || values.size < count * n8) throw bad(`${count} elements, fewer than the key's ${nPublic} public signals`);
  return Array.from({ length: nPublic }, (_, i) => littleEndian(bytes, values.start + (i + 1) * n8, n8).toString());
}

function littleEndian(bytes: Uint8Array, start: number, length: number): bigint {
  let value = 0n;
  for (let i = length - 1; i >= 0; i--) value = (value << 8n) | BigInt(bytes[start + i]!);
  return value;
}
