/**
 * Measures the marginal constraint cost of one scenario, asset and instrument in the Solvency
 * template by compiling neighbouring sizes (compile only, no setup), so users can size
 * instances for larger ptau files. Prints a Markdown table; `npm run costs`.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { compileInstance } from "../src/setup/compile.ts";
import type { InstanceConfig } from "../src/setup/instances.ts";

const CHECKS: Record<string, number> = { "all checks": 15, "HF + historical + parametric VaR": 13, "HF + stress": 3 };

async function constraints(dir: string, params: number[]): Promise<number> {
  const instance: InstanceConfig = {
    name: `cost-${params.join("x")}`,
    file: "solvency.circom",
    template: "Solvency",
    params,
    publicInputs: ["account", "nonce"],
    publicSignals: ["commitment", "marketRoot", "policyHash", "account", "nonce"],
    tier: "test",
    description: "constraint cost probe",
  };
  const compiled = await compileInstance(instance, path.join(dir, instance.name));
  return compiled.nConstraints;
}

const base = { nAssets: 8, nInstruments: 8, nScenarios: 16 };
const dir = mkdtempSync(path.join(tmpdir(), "zks-costs-"));
try {
  process.stdout.write(
    [
      `Marginal constraint costs of Solvency around ${base.nAssets} assets, ${base.nInstruments} instruments, ${base.nScenarios} scenarios (circom2 --O2):`,
      "",
      "| checks | constraints | + per scenario | + per asset | + per instrument |",
      "| --- | ---: | ---: | ---: | ---: |",
      "",
    ].join("\n"),
  );
  for (const [label, checks] of Object.entries(CHECKS)) {
    const at = (a: number, i: number, s: number) => constraints(dir, [a, i, s, checks]);
    const total = await at(base.nAssets, base.nInstruments, base.nScenarios);
    const perScenario = ((await at(base.nAssets, base.nInstruments, base.nScenarios + 8)) - total) / 8;
    const perAsset = (await at(base.nAssets + 1, base.nInstruments, base.nScenarios)) - total;
    const perInstrument = (await at(base.nAssets, base.nInstruments + 1, base.nScenarios)) - total;
    // One row at a time: each takes four compiles of ~30k-constraint circuits.
    process.stdout.write(`| ${label} | ${total.toLocaleString("en-US")} | ${perScenario.toFixed(0)} | ${perAsset} | ${perInstrument} |\n`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
