/**
 * The prover the benchmarks measure with. The same lookup as the CLI (resolveProverBackend:
 * ZKS_PROVER, ZKS_RAPIDSNARK, `zks setup --native-prover`'s build, PATH), and for rapidsnark one
 * more place, the binary built for this machine beside the checkout that the tests and CI use
 * (test/helpers/native-prover.ts), so that `--prover rapidsnark` works on the bench machine
 * without setting anything.
 */
import { realpathSync } from "node:fs";
import { SetupError } from "../../packages/sdk/src/core/errors.ts";
import { parseProverChoice, resolveProverBackend, type ProverBackend, type ProverChoice } from "../../packages/node/src/native-prover/backend.ts";
import { checkRapidsnark } from "../../packages/node/src/native-prover/probe.ts";
import { RAPIDSNARK, rapidsnarkAvailable } from "../../test/helpers/native-prover.ts";

export function parseBenchProver(value: string | undefined, where = "--prover"): ProverChoice | undefined {
  return value === undefined ? undefined : parseProverChoice(value, where);
}

/** The backend for `choice` (default: ZKS_PROVER, else auto), falling back to the checkout's shared rapidsnark. */
export async function benchProverBackend(choice: ProverChoice | undefined): Promise<ProverBackend> {
  let backend: ProverBackend;
  try {
    backend = resolveProverBackend(choice);
  } catch (error) {
    if (!(error instanceof SetupError) || !rapidsnarkAvailable()) throw error;
    backend = { kind: "rapidsnark", binary: RAPIDSNARK, found: "ZKS_RAPIDSNARK" };
  }
  if (backend.kind === "snarkjs" && choice === "auto" && rapidsnarkAvailable()) backend = { kind: "rapidsnark", binary: RAPIDSNARK, found: "ZKS_RAPIDSNARK" };
  if (backend.kind === "rapidsnark") await checkRapidsnark(backend.binary);
  return backend;
}

/** The rapidsnark binary as /proc/<pid>/exe names it (symlinks resolved), to pick its processes out of a tree. */
export function rapidsnarkExe(backend: ProverBackend): string | undefined {
  return backend.kind === "rapidsnark" ? realpathSync(backend.binary) : undefined;
}

/** The environment that makes a child process (a `zks` worker, a measuring script) use `backend`. */
export function proverEnv(backend: ProverBackend): NodeJS.ProcessEnv {
  return backend.kind === "rapidsnark" ? { ZKS_PROVER: "rapidsnark", ZKS_RAPIDSNARK: backend.binary } : { ZKS_PROVER: "snarkjs" };
}
