import { Command, CommanderError } from "commander";
import { releaseProverThreads } from "@zk-solvency/sdk/prover";
import { registerSetup } from "./commands/setup.ts";
import { registerCeremony } from "./commands/ceremony.ts";
import { registerCommit } from "./commands/commit.ts";
import { registerVerify } from "./commands/verify.ts";
import { registerRebalance } from "./commands/rebalance.ts";
import { registerRegister } from "./commands/register.ts";
import { registerCheck } from "./commands/check.ts";
import { registerPlan } from "./commands/plan.ts";
import { registerDemo } from "./commands/demo.ts";
import { registerProve } from "./commands/prove.ts";
import { registerCalldata } from "./commands/calldata.ts";
import { registerInspect } from "./commands/inspect.ts";
import { registerDeploy } from "./commands/deploy.ts";
import { registerSubmit } from "./commands/submit.ts";
import { registerAudit } from "./commands/audit.ts";
import { registerBacktest } from "./commands/backtest.ts";
import { registerKeeper } from "./commands/keeper.ts";
import { EXIT, reportError } from "./output.ts";

const program = new Command()
  .name("zks")
  .description("zk-solvency: prove in zero knowledge that a private DeFi position stays solvent")
  .exitOverride()
  .showHelpAfterError("(run zks --help for usage)");

registerSetup(program);
registerCeremony(program);
registerCommit(program);
registerVerify(program);
registerRegister(program);
registerRebalance(program);
registerCheck(program);
registerPlan(program);
registerDemo(program);
registerProve(program);
registerCalldata(program);
registerInspect(program);
registerDeploy(program);
registerSubmit(program);
registerAudit(program);
registerBacktest(program);
registerKeeper(program);

let code: number = EXIT.ok;
try {
  await program.parseAsync(process.argv);
  code = process.exitCode === undefined ? EXIT.ok : Number(process.exitCode);
} catch (error) {
  if (error instanceof CommanderError) {
    // Commander has already printed its message (or the help text).
    code = error.exitCode === 0 ? EXIT.ok : EXIT.badInput;
  } else {
    code = reportError(error);
  }
} finally {
  await releaseProverThreads();
}
process.exit(code);
