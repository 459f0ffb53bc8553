import { z } from "zod";
import type { Groth16Proof } from "snarkjs";
import { InputError } from "../core/errors.ts";
import type { ZkProof } from "../prover/prove.ts";

/**
 * A proof file: snarkjs' proof.json as it is (so `snarkjs groth16 verify vkey public.json
 * proof.json` accepts it, with public.json written beside it) plus a `zks` field with what a
 * verifier needs to interpret it: the instance, the public signals by name, the epoch.
 */
export interface ProofMetadata {
  version: 1;
  instance: string;
  /** What the proof states: "solvency" (audit claim), "rebalance", "commitment". */
  statement: string;
  epoch: number;
  /** The instance's public signals, in order, as decimal strings (as public.json). */
  publicSignals: string[];
  /** The same, by name (hex for hashes and commitments), for people. */
  named: Record<string, string>;
  createdAt: string;
}

export type ProofFile = Groth16Proof & { zks: ProofMetadata };

const decimal = z.string().regex(/^\d+$/, "expected a decimal integer string");
/** snarkjs' proof.json (Groth16 on BN254), as every proof the toolkit writes carries it. */
export const groth16ProofSchema = z.object({
  pi_a: z.array(decimal).length(3),
  pi_b: z.array(z.array(decimal).length(2)).length(3),
  pi_c: z.array(decimal).length(3),
  protocol: z.literal("groth16"),
  curve: z.literal("bn128"),
});
const proofFileSchema = groth16ProofSchema.extend({
  zks: z.object({
    version: z.literal(1),
    instance: z.string().min(1),
    statement: z.string().min(1),
    epoch: z.number().int().nonnegative(),
    publicSignals: z.array(decimal).min(1),
    named: z.record(z.string(), z.string()),
    createdAt: z.string(),
  }),
});

const hex = (value: string) => `0x${BigInt(value).toString(16).padStart(64, "0")}`;

export function toProofFile(zkProof: ZkProof, meta: { instance: string; statement: string; epoch: number; signalNames: string[] }, now = new Date()): ProofFile {
  const named = Object.fromEntries(meta.signalNames.map((name, i) => [name, hex(zkProof.publicSignals[i]!)]));
  return {
    ...zkProof.proof,
    zks: {
      version: 1,
      instance: meta.instance,
      statement: meta.statement,
      epoch: meta.epoch,
      publicSignals: zkProof.publicSignals,
      named,
      createdAt: now.toISOString(),
    },
  };
}

/** Validates a parsed proof file; errors name the file and field (exit 2). */
export function parseProofFile(json: unknown, source: string): { file: ProofFile; zkProof: ZkProof } {
  const parsed = proofFileSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const field = issue.path.map((p) => (typeof p === "number" ? `[${p}]` : `.${String(p)}`)).join("").replace(/^\./, "");
    throw new InputError(source, field, issue.path[0] === "zks" || field === "" ? issue.message : `${issue.message} (not a zks proof file?)`);
  }
  const file = parsed.data as ProofFile;
  const { zks, ...proof } = file;
  return { file, zkProof: { proof: proof as Groth16Proof, publicSignals: zks.publicSignals } };
}
