/**
 * The marginal constraint cost of one scenario, asset and instrument in the Solvency template,
 * measured by compiling neighbouring sizes (compile only, no setup), so users can size
 * instances for their ptau.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { compileInstance } from "../../packages/node/src/setup/compile.ts";
import { loadTemplateLayouts, type InstanceConfig } from "../../packages/node/src/setup/instances.ts";
import { expandSignalNames, publicInputNames } from "../../packages/node/src/setup/signal-layout.ts";

export const COST_BASE = { nAssets: 8, nInstruments: 8, nScenarios: 16 } as const;
export const COST_CHECKS: Record<string, number> = { "all checks": 15, "HF + historical + parametric VaR": 13, "HF + stress": 3 };

export interface MarginalCostRow {
  checks: string;
  constraints: number;
  perScenario: number;
  perAsset: number;
  perInstrument: number;
}

async function constraints(dir: string, params: number[]): Promise<number> {
  // The signals as packages/circuits/instances.json declares Solvency's, which compileInstance checks.
  const solvency = loadTemplateLayouts().find((layout) => layout.template === "Solvency")!;
  const instance: InstanceConfig = {
    name: `cost-${params.join("x")}`,
    file: "solvency.circom",
    template: "Solvency",
    params,
    publicInputs: publicInputNames(solvency),
    publicSignals: expandSignalNames(solvency, params),
    tier: "test",
    description: "constraint cost probe",
  };
  return (await compileInstance(instance, path.join(dir, instance.name))).nConstraints;
}

/** Each row takes four compiles of ~30k-constraint circuits; `onRow` reports them as they come. */
export async function marginalCosts(onRow?: (row: MarginalCostRow) => void): Promise<MarginalCostRow[]> {
  const dir = mkdtempSync(path.join(tmpdir(), "zks-costs-"));
  const rows: MarginalCostRow[] = [];
  try {
    for (const [label, checks] of Object.entries(COST_CHECKS)) {
      const at = (a: number, i: number, s: number) => constraints(dir, [a, i, s, checks]);
      const { nAssets, nInstruments, nScenarios } = COST_BASE;
      const total = await at(nAssets, nInstruments, nScenarios);
      const row: MarginalCostRow = {
        checks: label,
        constraints: total,
        perScenario: Math.round(((await at(nAssets, nInstruments, nScenarios + 8)) - total) / 8),
        perAsset: (await at(nAssets + 1, nInstruments, nScenarios)) - total,
        perInstrument: (await at(nAssets, nInstruments + 1, nScenarios)) - total,
      };
      rows.push(row);
      onRow?.(row);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return rows;
}

export function marginalCostTable(rows: readonly MarginalCostRow[]): string[] {
  return [
    "| checks | constraints | + per scenario | + per asset | + per instrument |",
    "| --- | ---: | ---: | ---: | ---: |",
    ...rows.map((r) => `| ${r.checks} | ${r.constraints.toLocaleString("en-US")} | ${r.perScenario} | ${r.perAsset} | ${r.perInstrument} |`),
  ];
}
