/**
 * Between the typed proofs of the high-level API and proof files (the `zks prove` / `zks
 * rebalance` format that `zks verify` and snarkjs read): an app writes what the CLI checks, and
 * reads what the CLI wrote. Browser-safe (the caller reads and writes the JSON).
 */
import { custodyLayout } from "../chain/custody.ts";
import { SOLVENCY_SIGNAL } from "../chain/calldata.ts";
import { InputError } from "../core/errors.ts";
import { parseProofFile, toProofFile, type ProofFile } from "../proof-file/proof-file.ts";
import { canonicalVerificationKey } from "../verifier/key-check.ts";
import { verificationKeyHash } from "../verifier/key-hash.ts";
import { ProofKeyError } from "../verifier/proof-file-verdict.ts";
import { CHECK_BITS } from "../verifier/statements.ts";
import { instanceShape, type CircuitKey, type InstanceShape, type ProofTemplate } from "./artifacts.ts";
import { rebalanceProofOf, type RebalanceProof } from "./rebalance.ts";
import { signalValues } from "./verdict.ts";
import { solvencyProofOf, type SolvencyProof } from "./solvency.ts";

/** The instance's public signal names, in order, as its manifest lists them. */
export function signalNames(shape: InstanceShape): string[] {
  if (shape.template === "Solvency") {
    return Object.entries(SOLVENCY_SIGNAL)
      .sort(([, a], [, b]) => a - b)
      .map(([name]) => name);
  }
  const { nAssets, nInstruments, nSwaps } = shape.layout;
  const l = custodyLayout(nAssets, nInstruments, nSwaps!);
  const names: string[] = new Array<string>(l.count);
  const place = (name: string, at: number, n?: number) => {
    if (n === undefined) names[at] = name;
    else for (let i = 0; i < n; i++) names[at + i] = `${name}[${i}]`;
  };
  place("oldCommitment", l.oldCommitment);
  place("newCommitment", l.newCommitment);
  place("marketRoot", l.marketRoot);
  place("policyHash", l.policyHash);
  place("debtIndex", l.debtIndex, nAssets);
  for (const name of ["account", "nonce", "context", "forced", "fromEmpty", "liquidation", "urgent", "liquidator", "liquidationBonus"] as const) place(name, l[name]);
  for (const name of ["flow", "debtDelta", "debtAssets", "bonus"] as const) place(name, l[name], nAssets);
  for (const name of ["swapSell", "swapBuy", "swapIn", "swapMinOut"] as const) place(name, l[name], nSwaps);
  place("instrumentFlow", l.instrumentFlow, nInstruments);
  place("keeperKey", l.keeperKey, 2);
  place("ephemeralKey", l.ephemeralKey, 2);
  place("ciphertext", l.ciphertext, l.ciphertextLength);
  return names;
}

/** The instance's parameters: the key's own, else rebuilt from its shape. */
function paramsOf(key: CircuitKey, shape: InstanceShape): number[] {
  if (key.params) return [...key.params];
  const { nAssets, nInstruments, nScenarios, nSwaps } = shape.layout;
  const checks = shape.checks.reduce((mask, c) => mask | CHECK_BITS[c], 0);
  return shape.template === "Rebalance" ? [nAssets, nInstruments, nScenarios, checks, nSwaps!] : [nAssets, nInstruments, nScenarios, checks];
}

/** What a proof file records besides the proof. */
export interface ProofFileMeta {
  /** The market epoch the proof was made under (not a public signal: the market root commits to it). */
  epoch: number;
  /**
   * Solvency: "health", "stress", "var" or "audit" (one the instance's checks back; required).
   * Rebalance: "register" or "rebalance" (default: from the proof's fromEmpty).
   */
  statement?: string;
}

/**
 * The proof file of a typed proof made with `key`'s instance: what `zks verify` checks and
 * snarkjs reads. The file records the key's fingerprint (verificationKeyHash) and source.
 * Throws InputError when the proof is not of the key's instance or a Solvency statement is
 * missing, ZksError (exit 2) for a statement the instance does not back.
 */
export function proofFileOf(proof: SolvencyProof | RebalanceProof, key: CircuitKey, meta: ProofFileMeta, now = new Date()): ProofFile {
  if (proof.instance !== key.instance) throw new InputError(`proof of ${proof.instance}`, "instance", `the key given is ${key.instance}'s`);
  const shape = instanceShape(key, proof.template);
  const values = signalValues(proof.publicSignals, shape.nPublic);
  if (typeof values === "string") throw new InputError(`proof of ${proof.instance}`, "publicSignals", values);
  const statement = meta.statement ?? (proof.template === "Rebalance" ? (proof.fromEmpty ? "register" : "rebalance") : undefined);
  if (statement === undefined) throw new InputError(`proof of ${proof.instance}`, "statement", 'a Solvency proof file states "health", "stress", "var" or "audit": pass one');
  return toProofFile(
    proof,
    {
      statement,
      epoch: meta.epoch,
      manifest: {
        instance: key.instance,
        template: shape.template,
        params: paramsOf(key, shape),
        publicSignals: signalNames(shape),
        verificationKeyHash: verificationKeyHash(canonicalVerificationKey(key.verificationKey)),
        keySource: { kind: key.keySource ?? "development" },
      },
    },
    now,
  );
}

/**
 * The typed proof in a proof file (parsed JSON), made with `key`'s instance and key. Only the
 * proof and its public signals are read: the file's other metadata is the prover's text. Throws
 * InputError (exit 2) for a malformed file or a file of another instance, ProofKeyError (exit 3)
 * when the file was made under another key than `key`'s (checking it under this one would say
 * nothing). The proof itself is checked by verifySolvency / verifyRebalance.
 */
export function proofFromFile(json: unknown, source: string, key: CircuitKey): SolvencyProof | RebalanceProof {
  const { file, zkProof } = parseProofFile(json, source);
  if (file.zks.instance !== key.instance) throw new InputError(source, "zks.instance", `"${file.zks.instance}", but the key given is ${key.instance}'s`);
  const keyHash = verificationKeyHash(canonicalVerificationKey(key.verificationKey));
  if (file.zks.verificationKeyHash !== keyHash) {
    throw new ProofKeyError(`${source}: made under key ${file.zks.verificationKeyHash}, not ${key.instance}'s key ${keyHash}`, keyHash);
  }
  const template = templateOf(key, source);
  return template === "Solvency" ? solvencyProofOf(zkProof, key) : rebalanceProofOf(zkProof, key);
}

function templateOf(key: CircuitKey, source: string): ProofTemplate {
  const template = key.template ?? (/^solvency-/.test(key.instance) ? "Solvency" : /^rebalance-/.test(key.instance) ? "Rebalance" : undefined);
  if (template !== "Solvency" && template !== "Rebalance") {
    throw new InputError(source, "zks.instance", `${key.instance} is not a Solvency or Rebalance instance${key.template ? ` (a ${key.template})` : ": pass the key's template"}`);
  }
  return template;
}
