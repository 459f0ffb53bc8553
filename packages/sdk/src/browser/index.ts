/**
 * The browser side of the SDK: proving in a Web Worker and choosing an instance from manifests.
 *
 * @module
 */
export {
  BrowserProver,
  type BrowserProverOptions,
  type ProverWorker,
  type LoadOptions,
  type LoadProgress,
  type LoadedInstance,
  type ArtifactKind,
  type LoadTimings,
} from "./worker-client.ts";
export { chooseInstance, instanceFits, instanceLayout, type InstanceInfo } from "./instances.ts";
