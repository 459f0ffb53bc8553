import { z } from "zod";
import type { Groth16Proof } from "snarkjs";
import { InputError, SetupError, ZksError } from "../core/errors.ts";
import { BN254_BASE_FIELD } from "../verifier/key-check.ts";
import { statementProblem } from "../verifier/statements.ts";
import type { ZkProof } from "../prover/prove.ts";

/**
 * A proof file: snarkjs' proof.json as it is (so `snarkjs groth16 verify vkey public.json
 * proof.json` accepts it, with public.json written beside it) plus a `zks` field with what a
 * verifier needs to interpret it: the instance, the public signals by name, the epoch, and the
 * fingerprint of the key it was made with.
 *
 * Everything in `zks` but `publicSignals` is metadata the prover wrote and anyone can edit: the
 * proof says nothing about it. `verifyProofFile` (src/verifier/proof-file-verdict.ts) reports only
 * what the signals say and rejects metadata that disagrees with them.
 */
export interface ProofMetadata {
  /** 2: with the key's fingerprint and source. Version 1 files (no fingerprint) are refused. */
  version: 2;
  /** An instance of packages/circuits/instances.json (lowercase letters, digits and dashes only: it names a build directory). */
  instance: string;
  /** What the proof is for: Solvency "health" | "stress" | "var" | "audit", Rebalance "rebalance" | "register", PositionCommitment "commitment". */
  statement: string;
  /** The market epoch the prover says it used; not a public signal (the market root commits to it). */
  epoch: number;
  /** The instance's public signals, in order, as decimal strings (as public.json). */
  publicSignals: string[];
  /** The same, by name (hex for hashes and commitments), for people. */
  named: Record<string, string>;
  /** keccak256 of the verification key's points (src/verifier/key-hash.ts): the only key this proof may be checked under. */
  verificationKeyHash: string;
  /** "development": one local phase-2 contribution (whoever ran the setup can forge proofs); "ceremony": a multi-party phase 2's finalized key. */
  keySource: KeySourceKind;
  createdAt: string;
}

export type KeySourceKind = "development" | "ceremony";

export type ProofFile = Groth16Proof & { zks: ProofMetadata };

/** The manifest fields a proof file records (an InstanceManifest, packages/node/src/setup/manifest.ts, or the browser's copy of one). */
export interface ProofKeyManifest {
  instance: string;
  template: string;
  params: number[];
  publicSignals: string[];
  verificationKeyHash?: string;
  keySource?: { kind: KeySourceKind };
}

/** Instance names are build directory names: nothing that could climb out of build/circuits/. */
export const INSTANCE_NAME = /^[a-z0-9-]+$/;
const KEY_HASH = /^0x[0-9a-f]{64}$/;

const decimal = z.string().regex(/^\d+$/, "expected a decimal integer string");
/** A point coordinate: below BN254's base field, which the pairing precompile requires and snarkjs would silently reduce. */
const coordinate = decimal.refine((text) => BigInt(text) < BN254_BASE_FIELD, "expected a coordinate below the BN254 base field");
const one = z.literal("1", { error: 'expected the affine z coordinate "1"' });
const zero = z.literal("0", { error: 'expected the affine z coordinate ["1", "0"]' });
/**
 * snarkjs' proof.json (Groth16 on BN254), as every proof the toolkit writes carries it: affine
 * points, z = 1 (["1", "0"] in G2). snarkjs reads z and the calldata the contracts check drops it,
 * so any other z would make the off-chain and on-chain verdicts differ.
 */
export const groth16ProofSchema = z.object({
  pi_a: z.tuple([coordinate, coordinate, one]),
  pi_b: z.tuple([z.tuple([coordinate, coordinate]), z.tuple([coordinate, coordinate]), z.tuple([one, zero])]),
  pi_c: z.tuple([coordinate, coordinate, one]),
  protocol: z.literal("groth16"),
  curve: z.literal("bn128"),
});
const proofFileSchema = groth16ProofSchema.extend({
  zks: z.object({
    version: z.literal(2),
    instance: z.string().regex(INSTANCE_NAME, "expected an instance name of circuits/instances.json (a-z, 0-9 and -)"),
    statement: z.string().min(1),
    // An epoch is a uint64 on chain; JSON numbers are exact only up to 2^53 - 1, the smaller bound
    // (zod's int() enforces it: larger numbers made ethers throw in the oracle lookup).
    epoch: z.number().int("expected a whole number of at most 2^53 - 1 (a uint64 that JSON holds exactly)").nonnegative(),
    publicSignals: z.array(decimal).min(1),
    named: z.record(z.string(), z.string()),
    verificationKeyHash: z.string().regex(KEY_HASH, "expected 0x and 64 lowercase hex digits (keccak256 of the verification key)"),
    keySource: z.enum(["development", "ceremony"]),
    createdAt: z.string(),
  }),
});

/** A public signal as `zks.named` shows it: 0x and 64 hex digits. */
export const signalHex = (value: string | bigint) => `0x${BigInt(value).toString(16).padStart(64, "0")}`;

/**
 * The proof file of a proof made with `manifest`'s instance. The key's fingerprint and source come
 * from the manifest `zks setup` wrote; an instance built before keys were fingerprinted has none,
 * and its proofs could not be pinned to a key, so it must be set up again.
 */
export function toProofFile(zkProof: ZkProof, meta: { statement: string; epoch: number; manifest: ProofKeyManifest }, now = new Date()): ProofFile {
  const { manifest } = meta;
  if (manifest.verificationKeyHash === undefined || !KEY_HASH.test(manifest.verificationKeyHash)) {
    throw new SetupError(`circuit instance "${manifest.instance}" was built before verification keys were fingerprinted; run \`zks setup --instance ${manifest.instance}\``);
  }
  // A label the circuit does not back (e.g. "stress" from an instance that skips stress) is never written.
  const problem = statementProblem(meta.statement, manifest);
  if (problem) throw new ZksError(`statement: ${problem}`, 2);
  const named = Object.fromEntries(manifest.publicSignals.map((name, i) => [name, signalHex(zkProof.publicSignals[i]!)]));
  return {
    ...zkProof.proof,
    zks: {
      version: 2,
      instance: manifest.instance,
      statement: meta.statement,
      epoch: meta.epoch,
      publicSignals: zkProof.publicSignals,
      named,
      verificationKeyHash: manifest.verificationKeyHash,
      // A manifest without a key source predates ceremonies: its key is a local one.
      keySource: manifest.keySource?.kind ?? "development",
      createdAt: now.toISOString(),
    },
  };
}

/** How CLI output labels a key that one machine's `zks setup` made alone. */
export const DEVELOPMENT_KEY_LABEL = "development key: made by one machine's setup, not for production";

/** "key 0x...: development key: ..." or "key 0x...: ceremony key", for CLI output. */
export function keyLine(meta: Pick<ProofMetadata, "verificationKeyHash" | "keySource">): string {
  return `key ${meta.verificationKeyHash}: ${meta.keySource === "development" ? DEVELOPMENT_KEY_LABEL : "ceremony key"}`;
}

/** Validates a parsed proof file; errors name the file and field (exit 2). */
export function parseProofFile(json: unknown, source: string): { file: ProofFile; zkProof: ZkProof } {
  // Version 1 files carry no key fingerprint: nothing says which key they may be checked under.
  const version = (json as { zks?: { version?: unknown } } | null)?.zks?.version;
  if (version === 1) throw new InputError(source, "zks.version", "version 1 proof file, made by an older zks without the key's fingerprint; prove again");
  const parsed = proofFileSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const field = issue.path
      .map((p) => (typeof p === "number" ? `[${p}]` : `.${String(p)}`))
      .join("")
      .replace(/^\./, "");
    throw new InputError(source, field, issue.path[0] === "zks" || field === "" ? issue.message : `${issue.message} (not a zks proof file?)`);
  }
  const file = parsed.data as ProofFile;
  const { zks, ...proof } = file;
  return { file, zkProof: { proof: proof as Groth16Proof, publicSignals: zks.publicSignals } };
}
