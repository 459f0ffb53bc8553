/**
 * `--prover auto|snarkjs|rapidsnark`, the same on every command that proves (prove, rebalance,
 * register, keeper run, audit prove, audit worker; the demo takes ZKS_PROVER). The backend is resolved and a rapidsnark binary probed
 * before the command prints or proves anything, so a missing or broken one is one line (exit 3),
 * not a failure after minutes of work.
 */
import type { Command } from "commander";
import { checkRapidsnark, parseProverChoice, resolveProverBackend, type ProverBackend, type ProverKind, type WitnessKind } from "@zk-solvency/node";

export const PROVER_FLAG_HELP =
  "who makes the proofs: auto | snarkjs | rapidsnark (default: ZKS_PROVER, else auto: rapidsnark when found through ZKS_RAPIDSNARK, `zks setup --native-prover` or PATH, else snarkjs)";

/** Adds `--prover <name>` (read back as `flags.prover`). */
export function addProverFlag(command: Command): Command {
  return command.option("--prover <name>", PROVER_FLAG_HELP);
}

/**
 * The backend of `--prover` (undefined: ZKS_PROVER, else auto). A bad name is exit 2 naming the
 * flag (or ZKS_PROVER); rapidsnark asked for and not found, or found and not answering like
 * rapidsnark, exit 3.
 */
export async function proverFromFlag(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): Promise<ProverBackend> {
  const backend = resolveProverBackend(flag === undefined ? undefined : parseProverChoice(flag, "--prover"), { env });
  if (backend.kind === "rapidsnark") await checkRapidsnark(backend.binary);
  return backend;
}

/**
 * The line the CLI prints on stderr after a proof: "proved with rapidsnark (native witness) in
 * 0.46 s by /usr/local/bin/rapidsnark (from PATH)". The binary is named: under `auto` it is
 * whatever was found (PATH included), and it was handed the private witness.
 */
export function provedWithLine(made: { prover: ProverKind; witness: WitnessKind }, seconds: number, backend?: ProverBackend): string {
  const by = made.prover === "rapidsnark" && backend?.kind === "rapidsnark" ? ` by ${backend.binary} (from ${backend.found})` : "";
  return `proved with ${made.prover} (${made.witness} witness) in ${seconds.toFixed(2)} s${by}`;
}

/** The fields --json output carries about who made the proof, with the rapidsnark binary's path when it made it. */
export function proverJson(
  made: { prover: ProverKind; witness: WitnessKind },
  backend?: ProverBackend,
): { prover: ProverKind; witness: WitnessKind; proverBinary?: string; proverFound?: string } {
  const binary = made.prover === "rapidsnark" && backend?.kind === "rapidsnark" ? { proverBinary: backend.binary, proverFound: backend.found } : {};
  return { prover: made.prover, witness: made.witness, ...binary };
}
