/**
 * Witness backends of one instance in a process of its own (run by scripts/bench.ts):
 *   tsx scripts/bench/measure-witness.ts <instance> <runs>
 * Prints one line `BENCH_RESULT <json>`.
 */
import { loadInstances } from "../../packages/node/src/setup/instances.ts";
import { benchInput } from "./inputs.ts";
import { measureWitnessBackends } from "./witness.ts";

const [instanceName, runsArg] = process.argv.slice(2);
const config = loadInstances().find((i) => i.name === instanceName);
if (!config) throw new Error(`bench: unknown instance ${instanceName}`);
const result = await measureWitnessBackends(config.name, benchInput(config), Number(runsArg ?? 5));
process.stdout.write(`BENCH_RESULT ${JSON.stringify(result)}\n`);
