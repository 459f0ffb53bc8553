import { mkdirSync } from "node:fs";
import path from "node:path";
import type { ProofFile } from "@zk-solvency/sdk/proof-file";
import { writeFileSafely } from "./write-file-safely.ts";

/**
 * Writes DIR/proof.json (snarkjs' proof plus zks metadata) and DIR/public.json (snarkjs'
 * public signals), so both `zks verify --proof DIR/proof.json` and
 * `snarkjs groth16 verify verification_key.json DIR/public.json DIR/proof.json` accept them.
 */
export function writeProofFiles(dir: string, file: ProofFile): { proof: string; publicSignals: string } {
  mkdirSync(dir, { recursive: true });
  const proof = path.join(dir, "proof.json");
  const publicSignals = path.join(dir, "public.json");
  writeFileSafely(publicSignals, `${JSON.stringify(file.zks.publicSignals, null, 2)}\n`);
  writeFileSafely(proof, `${JSON.stringify(file, null, 2)}\n`);
  return { proof, publicSignals };
}
