export { keySourceLabel, manifestFiles, DEVELOPMENT_KEY_NOTE, keyDeployable, readManifest, UNTRUSTED_PTAU_NOTE, type KeySource, type InstanceManifest } from "./manifest.ts";
export { buildCircuits, BUILD_STEP_LABEL, type BuildProgress } from "./build.ts";
export {
  ceremonyContribute,
  ceremonyFinalize,
  ceremonyInit,
  deployability,
  loadTranscript,
  MIN_CONTRIBUTIONS,
  parseBeacon,
  parseIterations,
  resolveCeremonyPtau,
  transcriptBeside,
  verifyCeremonyZkey,
  type CeremonyCircuit,
  type LoadedTranscript,
  type StepResult,
} from "./ceremony.ts";
export { loadInstances, type InstanceConfig } from "./instances.ts";
export {
  buildNativeProver,
  checkRapidsnarkSource,
  NATIVE_PROVER_APT,
  nativeProverInstallPath,
  readNativeProverRecord,
  type NativeProverBuildOptions,
  type NativeProverBuildResult,
  type NativeProverRecord,
} from "./native-prover-build.ts";
export { CHECKOUT_ROOT, defaultBuildPaths, PACKAGE_ROOT, instanceDir, type BuildPaths } from "./paths.ts";
export { isPublicCeremonyPtau, requiredPower } from "./ptau.ts";
export { ensureVerifierArtifact, readVerifierArtifact, SOLC_SETTINGS, SOLC_VERSION, VERIFIER_ARTIFACT_FILE, type VerifierArtifact } from "./verifier-artifact.ts";
