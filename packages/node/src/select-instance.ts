import { InputError, SetupError } from "@zk-solvency/sdk/core";
import type { RebalanceLayout } from "@zk-solvency/sdk/prover";
import type { Market, VarMethod } from "@zk-solvency/sdk/inputs";
import { loadInstances, type InstanceConfig } from "./setup/instances.ts";
import { readManifest } from "./setup/manifest.ts";
import { defaultBuildPaths, instanceDir, type BuildPaths } from "./setup/paths.ts";
import { ALL_CHECKS, CHECK_BITS } from "@zk-solvency/sdk/verifier";
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
 * What a Solvency or Rebalance instance proves: its `checks` parameter (the fourth), bit 0 health
 * factor, 1 stress, 2 historical VaR, 3 parametric VaR (packages/circuits/solvency.circom; the bits are
 * CHECK_BITS of packages/sdk/src/verifier/statements.ts, defined once there).
 */
const CHECK = CHECK_BITS;
const CHECK_NAMES: [number, string][] = [
  [CHECK.healthFactor, "health factor"],
  [CHECK.stress, "stress"],
  [CHECK.historicalVar, "historical VaR"],
  [CHECK.parametricVar, "parametric VaR"],
];

export const checksOf = (instance: InstanceConfig): number => instance.params[3] ?? 0;

/** "stress and parametric VaR": the checks among `mask`, by name. */
export function checkNames(mask: number): string {
  const names = CHECK_NAMES.filter(([bit]) => (mask & bit) !== 0).map(([, name]) => name);
  return names.length <= 1 ? (names[0] ?? "none") : `${names.slice(0, -1).join(", ")} and ${names.at(-1)}`;
}

/**
 * The checks an instance needs to prove a statement under a policy: the statement's own (health:
 * the health factor; stress: stress; audit: all four, as an audit claim is a full Solvency proof;
 * var: none of its own) and the VaR methods the policy selects, which every Solvency circuit
 * constrains (a policy asking for a method the instance lacks has no witness).
 */
export function requiredChecks(statement: "health" | "stress" | "var" | "audit", varMethod: VarMethod): number {
  const own = { health: CHECK.healthFactor, stress: CHECK.stress, var: 0, audit: ALL_CHECKS }[statement];
  const methods = (varMethod === "parametric" ? 0 : CHECK.historicalVar) | (varMethod === "historical" ? 0 : CHECK.parametricVar);
  return own | methods;
}

/**
 * The instances of `template` that may prove a statement needing the checks in `requires` for
 * this market (or the one named), in packages/circuits/instances.json order: their slots fit the market
 * and they prove every required check. A Rebalance proof shows the new position passes the whole
 * policy, so every Rebalance instance must check all four whatever is asked. Naming an instance
 * that lacks a check is bad input (exit 2); no instance fitting is a setup problem (exit 3).
 * Pure over `instances`, so the choice is testable without keys.
 */
export function eligibleInstances(
  template: "Solvency" | "Rebalance",
  market: Market,
  named: string | undefined,
  requires: number,
  instances: readonly InstanceConfig[] = loadInstances(),
): InstanceConfig[] {
  const needed = template === "Rebalance" ? requires | ALL_CHECKS : requires;
  const fits = (i: InstanceConfig) => {
    const l = layoutOf(i);
    return l.nAssets >= market.assets.length && l.nInstruments >= market.instruments.length && l.nScenarios >= market.scenarios.length;
  };
  const missing = (i: InstanceConfig) => needed & ~checksOf(i);
  const candidates = instances.filter((i) => i.template === template && (named === undefined || i.name === named));
  if (named !== undefined && candidates.length === 0) throw new SetupError(`no ${template} instance named "${named}" in circuits/instances.json`);
  if (named !== undefined && missing(candidates[0]!) !== 0) {
    throw new InputError(
      "--instance",
      named,
      `does not check ${checkNames(missing(candidates[0]!))}, which this statement needs under this policy (it proves ${checkNames(checksOf(candidates[0]!))})`,
    );
  }
  const fitting = candidates.filter((i) => missing(i) === 0).filter(fits);
  if (fitting.length === 0) {
    const what = needed === 0 ? `${template} instance` : `${template} instance that checks ${checkNames(needed)}`;
    throw new SetupError(
      `no ${what} fits a market of ${market.assets.length} assets, ${market.instruments.length} instruments and ${market.scenarios.length} scenarios; declare a larger one in circuits/instances.json`,
    );
  }
  return fitting;
}

/**
 * The smallest built instance among eligibleInstances (or the one named), so a user never has to
 * know instance names unless they want to. An instance lacking a required check is never chosen.
 */
export function selectInstance(
  template: "Solvency" | "Rebalance",
  market: Market,
  named?: string,
  paths: BuildPaths = defaultBuildPaths(),
  requires = 0,
): { artifacts: InstanceArtifacts; layout: RebalanceLayout } {
  const fitting = eligibleInstances(template, market, named, requires);
  const built = fitting.filter((i) => readManifest(instanceDir(paths, i.name))?.setupKey);
  if (built.length === 0) {
    throw new SetupError(`no ${template} instance that fits this market is built; run \`zks setup --instance ${fitting[0]!.name}\``);
  }
  const size = (i: InstanceConfig) => readManifest(instanceDir(paths, i.name))!.nConstraints;
  const chosen = built.sort((a, b) => size(a) - size(b))[0]!;
  return { artifacts: loadInstanceArtifacts(chosen.name, paths), layout: layoutOf(chosen) };
}
