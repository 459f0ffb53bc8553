import type { Command } from "commander";
import { commitPosition } from "@zk-solvency/sdk/commitment";
import { formatSalt, randomSalt } from "@zk-solvency/sdk/commitment";
import { checkMarketFits, parseLayout, STANDARD_LAYOUT } from "@zk-solvency/sdk/commitment";
import { InputError } from "@zk-solvency/sdk/core";
import { readJsonFile } from "@zk-solvency/node";
import { writeFileSafely } from "@zk-solvency/node";
import { loadMarketFile, loadPositionFile } from "../load-inputs.ts";
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
      const market = loadMarketFile(flags.market);
      checkMarketFits(market, layout, flags.market);
      const position = loadPositionFile(flags.position, market);
      let salt = position.salt;
      if (salt === undefined) {
        if (!flags.addSalt) {
          throw new InputError(flags.position, "salt", "missing; the commitment needs a secret salt. Rerun with --add-salt to generate one and store it in the file");
        }
        salt = randomSalt();
        const raw = readJsonFile(flags.position) as Record<string, unknown>;
        writeFileSafely(flags.position, `${JSON.stringify({ ...raw, salt: formatSalt(salt) }, null, 2)}\n`);
        process.stderr.write(`zks: added a new salt to ${flags.position}; keep this file private, it opens the commitment\n`);
      }
      const commitment = commitPosition(position, salt, layout);
      const result = {
        commitment: `0x${commitment.toString(16).padStart(64, "0")}`,
        account: position.account,
        nonce: position.nonce.toString(),
        slots: `${layout.nAssets}x${layout.nInstruments}`,
      };
      if (flags.json) printJson(result);
      else process.stdout.write(`commitment ${result.commitment}\n  account ${result.account}, nonce ${result.nonce}, slots ${result.slots}\n`);
    });
}
