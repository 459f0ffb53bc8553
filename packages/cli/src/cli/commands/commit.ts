import type { Command } from "commander";
import { parseLayout, STANDARD_LAYOUT } from "@zk-solvency/sdk/commitment";
import { commitPositionFile } from "@zk-solvency/node";
import { printJson } from "../output.ts";

interface CommitFlags {
  position: string;
  market: string;
  slots?: string;
  addSalt?: boolean;
  json?: boolean;
}

export function registerCommit(program: Command): void {
  program
    .command("commit")
    .description("compute the Poseidon commitment of a private position (what the chain stores for the account)")
    .requiredOption("--position <file>", "position.json (private)")
    .requiredOption("--market <file>", "market.json: gives asset decimals and the slot order")
    .option("--slots <AxI>", `asset x instrument slots of the circuit instances you prove with (default ${STANDARD_LAYOUT.nAssets}x${STANDARD_LAYOUT.nInstruments})`)
    .option("--add-salt", "if the position has no salt, generate one and write it into the position file (safely: the new file is complete before it replaces the old)")
    .option("--json", "machine-readable output")
    .action((flags: CommitFlags) => {
      const layout = flags.slots ? parseLayout(flags.slots) : STANDARD_LAYOUT;
      const { saltAdded, ...result } = commitPositionFile({ position: flags.position, market: flags.market, layout, addSalt: Boolean(flags.addSalt) });
      if (saltAdded) process.stderr.write(`zks: added a new salt to ${flags.position}; keep this file private, it opens the commitment\n`);
      if (flags.json) printJson(result);
      else process.stdout.write(`commitment ${result.commitment}\n  account ${result.account}, nonce ${result.nonce}, slots ${result.slots}\n`);
    });
}
