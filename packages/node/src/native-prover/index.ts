/**
 * The native prover backend: rapidsnark found, probed and run, every proof it makes checked
 * against its witness and verified before it is returned (README, "Native prover (rapidsnark)").
 */
export {
  describeProverBackend,
  NO_RAPIDSNARK,
  parseProverChoice,
  PROVER_CHOICES,
  resolveProverBackend,
  type ProverBackend,
  type ProverChoice,
  type ProverKind,
  type ResolveProverOptions,
  type WitnessKind,
} from "./backend.ts";
export { checkRapidsnark, RAPIDSNARK_FIX } from "./probe.ts";
export { rapidsnarkProve, witnessPublicSignals, type RapidsnarkOptions } from "./rapidsnark.ts";
