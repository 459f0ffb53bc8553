import { Command, CommanderError } from "commander";
import { EXIT, reportError } from "./output.ts";
import { commandFor, COMMANDS } from "./support/command-table.ts";

const program = new Command()
  .name("zks")
  .description("zk-solvency: prove in zero knowledge that a private DeFi position stays solvent")
  .exitOverride()
  .showHelpAfterError("(run zks --help for usage)");

let code: number;
try {
  // Only the command being run is loaded (support/command-table.ts); the top-level help and an
  // unknown name get each command as its table row, with no module loaded.
  const command = commandFor(process.argv.slice(2));
  if (command) (await command.load())(program);
  else for (const row of COMMANDS) program.command(row.name).description(row.summary);
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
  // snarkjs' worker threads keep Node alive; they exist only if a command proved or set up
  // (the curve it caches on globalThis), so the prover module is loaded only then.
  if ((globalThis as { curve_bn128?: unknown }).curve_bn128) await (await import("@zk-solvency/sdk/prover")).releaseProverThreads();
}
process.exit(code);
