/**
 * Kept for callers of the old script: the deploy is `zks deploy` (packages/cli), whose logic is
 * `deployStack` in @zk-solvency/node/deploy (ethers' ContractFactory with compiled artifacts, no
 * hardhat). This runs `zks deploy` with the same arguments; `--private-key KEY` is passed on as
 * ZKS_PRIVATE_KEY (prefer setting that yourself: flags are visible to other users).
 *
 *   npx tsx scripts/deploy.ts [zks deploy's flags]     (npx zks deploy --help lists them)
 */
import { spawnSync } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";

export type { Deployment } from "../packages/node/src/deploy/index.ts";

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const env = { ...process.env };
  const at = args.indexOf("--private-key");
  if (at >= 0) {
    env.ZKS_PRIVATE_KEY = args[at + 1] ?? "";
    args.splice(at, 2);
  }
  const zks = fileURLToPath(new URL("../packages/cli/bin/zks.js", import.meta.url));
  const run = spawnSync(process.execPath, [zks, "deploy", ...args], { stdio: "inherit", env });
  process.exit(run.status ?? 1);
}
