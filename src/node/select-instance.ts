import { SetupError } from "../core/errors.ts";
import type { RebalanceLayout } from "../prover/witness/rebalance.ts";
import type { Market } from "../inputs/types.ts";
import { loadInstances, type InstanceConfig } from "../setup/instances.ts";
import { readManifest } from "../setup/manifest.ts";
import { defaultBuildPaths, instanceDir, type BuildPaths } from "../setup/paths.ts";
import { loadInstanceArtifacts, type InstanceArtifacts } from "./artifacts.ts";

/**
 * Slot counts of a Solvency or Rebalance instance: their first three parameters, and a Rebalance
 * instance's swap slots (its fifth).
 */
export function layoutOf(instance: InstanceConfig): RebalanceLayout {
  const [nAssets, nInstruments, nScenarios] = instance.params as [number, number, number];
  return instance.template === "Rebalance" ? { nAssets, nInstruments, nScenarios, nSwaps: instance.params[4]! } : { nAssets, nInstruments, nScenarios };
}

/**
 * The smallest built instance of `template` whose slots fit the market (or the one named), so a
 * user never has to know instance names unless they want to.
 */
export function selectInstance(
  template: "Solvency" | "Rebalance",
  market: Market,
  named?: string,
  paths: BuildPaths = defaultBuildPaths(),
): { artifacts: InstanceArtifacts; layout: RebalanceLayout } {
  const fits = (i: InstanceConfig) => {
    const l = layoutOf(i);
    return l.nAssets >= market.assets.length && l.nInstruments >= market.instruments.length && l.nScenarios >= market.scenarios.length;
  };
  const candidates = loadInstances().filter((i) => i.template === template && (named === undefined || i.name === named));
  if (named !== undefined && candidates.length === 0) throw new SetupError(`no ${template} instance named "${named}" in circuits/instances.json`);
  const fitting = candidates.filter(fits);
  if (fitting.length === 0) {
    throw new SetupError(
      `no ${template} instance fits a market of ${market.assets.length} assets, ${market.instruments.length} instruments and ${market.scenarios.length} scenarios; declare a larger one in circuits/instances.json`,
    );
  }
  const built = fitting.filter((i) => readManifest(instanceDir(paths, i.name))?.setupKey);
  if (built.length === 0) {
    throw new SetupError(`no ${template} instance that fits this market is built; run \`zks setup --instance ${fitting[0]!.name}\``);
  }
  const size = (i: InstanceConfig) => readManifest(instanceDir(paths, i.name))!.nConstraints;
  const chosen = built.sort((a, b) => size(a) - size(b))[0]!;
  return { artifacts: loadInstanceArtifacts(chosen.name, paths), layout: layoutOf(chosen) };
}
