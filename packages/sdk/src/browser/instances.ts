/**
 * Choosing a circuit instance in the browser, where there is no build directory to look in:
 * the page is given the manifests of the built instances (e.g. a JSON its server makes from
 * build/circuits/<instance>/manifest.json) and picks the smallest that fits the market, as the
 * CLI does. Browser-safe.
 */
import type { CircuitLayout } from "../commitment/circuit-layout.ts";
import { InputError } from "../core/errors.ts";
import type { Market } from "../inputs/types.ts";

/** What a page needs to know of a built instance (a subset of its manifest.json). */
export interface InstanceInfo {
  instance: string;
  template: string;
  /** Solvency and Rebalance: [assets, instruments, scenarios, ...]. */
  params: number[];
  nConstraints: number;
  publicSignals: string[];
}

/** Slot counts of a Solvency or Rebalance instance (its first three parameters). */
export function instanceLayout(info: InstanceInfo): CircuitLayout {
  const [nAssets, nInstruments, nScenarios] = info.params;
  if (nAssets === undefined || nInstruments === undefined || nScenarios === undefined) {
    throw new InputError(info.instance, "params", `a ${info.template} instance has at least 3 parameters (assets, instruments, scenarios)`);
  }
  return { nAssets, nInstruments, nScenarios };
}

/** Whether the market's assets, instruments and scenarios fit the instance's slots. */
export function instanceFits(info: InstanceInfo, market: Market): boolean {
  const l = instanceLayout(info);
  return l.nAssets >= market.assets.length && l.nInstruments >= market.instruments.length && l.nScenarios >= market.scenarios.length;
}

/** The smallest (fewest constraints) of `instances` of `template` that fits the market; throws when none does. */
export function chooseInstance(instances: readonly InstanceInfo[], template: "Solvency" | "Rebalance", market: Market): InstanceInfo {
  const fitting = instances.filter((i) => i.template === template && instanceFits(i, market)).sort((a, b) => a.nConstraints - b.nConstraints);
  const chosen = fitting[0];
  if (!chosen) {
    throw new InputError(
      "market",
      "",
      `no built ${template} instance fits a market of ${market.assets.length} assets, ${market.instruments.length} instruments and ${market.scenarios.length} scenarios`,
    );
  }
  return chosen;
}
