/**
 * `zks prove` (health | stress | var | audit) as a function: read the files, run the policy's
 * checks, choose the smallest built Solvency instance that proves what the statement names,
 * prove, check the proof, and write DIR/proof.json and DIR/public.json.
 */
import type { Market, Position } from "@zk-solvency/sdk/inputs";
import type { RebalanceLayout } from "@zk-solvency/sdk/prover";
import { proveStatementWorkflow, type InstanceProver, type ProveStatementResult, type SolvencyStatementName } from "@zk-solvency/sdk/workflows";
import type { InstanceArtifacts } from "../artifacts.ts";
import type { ProverBackend, ProverChoice, ProverKind, WitnessKind } from "../native-prover/backend.ts";
import { proveBuiltInstance, type BuiltProof, type ProveBuiltOptions } from "../prove-built.ts";
import { requiredChecks, selectInstance } from "../select-instance.ts";
import type { BuildPaths } from "../setup/paths.ts";
import { writeProofFiles } from "../write-proof.ts";
import { loadInputFiles } from "./load-inputs.ts";

/** An InstanceProver for a built instance: circom's native witness when built, else the wasm; rapidsnark or snarkjs as `options.prover` says. */
export function builtInstanceProver(artifacts: InstanceArtifacts, layout: RebalanceLayout, options: ProveBuiltOptions = {}): InstanceProver {
  return { manifest: artifacts.manifest, verificationKey: artifacts.verificationKey, layout, prove: (signals) => proveBuiltInstance(signals, artifacts, options) };
}

export interface ProveStatementFilesOptions {
  statement: SolvencyStatementName;
  /** position.json (private; needs its salt). */
  position: string;
  market: string;
  policy: string;
  /** Directory for proof.json and public.json (created if missing). */
  out: string;
  /** A Solvency instance; default the smallest built one that fits the market and checks what the statement needs. */
  instance?: string;
  /** The proof's context signal (0: off-chain only). */
  context?: bigint;
  buildPaths?: BuildPaths;
  /** Called once the instance is chosen, before the proof (which takes seconds). */
  onProving?: (instance: string, constraints: number) => void;
  /** Who proves (default: ZKS_PROVER, else auto). */
  prover?: ProverChoice | ProverBackend;
}

export type ProveStatementFilesResult = ProveStatementResult & {
  position: Position;
  market: Market;
  /** The files written, when proved. */
  files?: { proof: string; publicSignals: string };
  /** What made the proof and its witness, when proved. */
  made?: { prover: ProverKind; witness: WitnessKind };
};

/**
 * Proves a statement from files and writes the proof files. A position failing a check is
 * `{ proved: false }` and nothing is written; bad input throws InputError (exit 2), no fitting
 * built instance SetupError (exit 3).
 */
export async function proveStatementFiles(options: ProveStatementFilesOptions): Promise<ProveStatementFilesResult> {
  const { market, policy, position } = loadInputFiles(options);
  let made: BuiltProof | undefined;
  const result = await proveStatementWorkflow({ statement: options.statement, position, market, policy, context: options.context ?? 0n, source: options.position }, () => {
    // Only an instance that proves what the statement names (and the policy's VaR methods): a
    // health-var instance has no stress check, so it never proves `stress` or `audit`.
    const { artifacts, layout } = selectInstance("Solvency", market, options.instance, options.buildPaths, requiredChecks(options.statement, policy.var.method));
    options.onProving?.(artifacts.instance, artifacts.manifest.nConstraints);
    const choice = options.prover === undefined ? {} : { prover: options.prover };
    // builtInstanceProver's, keeping the proof's prover and witness for the result.
    return { ...builtInstanceProver(artifacts, layout), prove: async (signals) => (made = await proveBuiltInstance(signals, artifacts, choice)) };
  });
  if (!result.proved) return { ...result, position, market };
  return { ...result, position, market, files: writeProofFiles(options.out, result.file), ...(made && { made: { prover: made.prover, witness: made.witness } }) };
}
