import type { Command } from "commander";
import { riskReportJson } from "@zk-solvency/sdk/model";
import { checkWorkflow } from "@zk-solvency/sdk/workflows";
import { loadMarketFile, loadPolicyFile, loadPositionFile } from "../load-inputs.ts";
import { EXIT, printJson } from "../output.ts";

interface CheckFlags {
  position: string;
  market: string;
  policy: string;
  json?: boolean;
}

export function registerCheck(program: Command): void {
  program
    .command("check")
    .description("run the risk checks (health factor, stress, VaR) on a private position, locally; no proof")
    .requiredOption("--position <file>", "position.json (private)")
    .requiredOption("--market <file>", "market.json: prices, scenarios and covariance of the epoch")
    .requiredOption("--policy <file>", "policy.json: the governance thresholds")
    .option("--json", 'machine-readable output (formats.md, "Output of zks check --json")')
    .action((flags: CheckFlags) => {
      const market = loadMarketFile(flags.market);
      const position = loadPositionFile(flags.position, market);
      const policy = loadPolicyFile(flags.policy, market);
      // Bounds and model errors (ModelBoundsError, ModelError) carry exit code 2 and reach
      // main's reportError, which prints them on one line.
      const { report, checks, failing } = checkWorkflow(position, market, policy);

      if (flags.json) {
        printJson(riskReportJson(report, market));
      } else {
        const verdict = report.pass ? `PASS: all ${checks.length} checks pass` : `FAIL: ${failing.length} of ${checks.length} checks fail`;
        const lines = [`account ${position.account}, epoch ${market.epoch}: ${verdict}`, ...checks.map((c) => `  ${c.pass ? "PASS" : "FAIL"}  ${c.line}`)];
        process.stdout.write(`${lines.join("\n")}\n`);
      }
      if (!report.pass) process.exitCode = EXIT.checkFailed;
    });
}
