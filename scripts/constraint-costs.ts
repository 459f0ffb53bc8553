/**
 * Prints the marginal constraint costs of the Solvency template as a Markdown table
 * (`npm run costs`); `npm run bench` puts the same table in BENCHMARKS.md.
 */
import { COST_BASE, marginalCosts, marginalCostTable } from "./bench/marginal-costs.ts";

const { nAssets, nInstruments, nScenarios } = COST_BASE;
process.stdout.write(`Marginal constraint costs of Solvency around ${nAssets} assets, ${nInstruments} instruments, ${nScenarios} scenarios (circom2 --O2):\n\n`);
const [header, rule] = marginalCostTable([]);
process.stdout.write(`${header}\n${rule}\n`);
await marginalCosts((row) => process.stdout.write(`${marginalCostTable([row])[2]}\n`));
