import path from "node:path";
import type { Command } from "commander";
import { InputError } from "@zk-solvency/sdk/core";
import { DEFAULT_SPOT_POINTS, DEFAULT_SPOT_RANGE, DEFAULT_VOL_MOVES, portfolioMarginGrid, type GridOptions } from "@zk-solvency/sdk/inputs";
import { readJsonFile, writeFileSafely } from "@zk-solvency/node";
import { printJson } from "../output.ts";

interface GridFlags {
  market: string;
  out: string;
  spotRange?: string;
  spotPoints?: string;
  volMoves?: string;
  json?: boolean;
}

const NUMBER = /^-?\d+(\.\d+)?$/;

function numberOf(flag: string, text: string): number {
  if (!NUMBER.test(text.trim())) throw new InputError(flag, "", `expected a decimal number, got "${text}"`);
  return Number(text.trim());
}

/** `0.15`, `WETH=0.15,WBTC=0.12` or both (`0.15,USDC=0`): the scaled range and per-asset ranges. */
export function spotRanges(text: string): Pick<GridOptions, "spotRange" | "assetRanges"> {
  let spotRange: number | undefined;
  // A Map, so that a name like __proto__ is a name (and refused as an unknown asset), not a prototype.
  const ranges = new Map<string, number>();
  for (const part of text.split(",")) {
    const match = /^([^=]+)=(.*)$/.exec(part.trim());
    if (!match) {
      if (spotRange !== undefined) throw new InputError("--spot-range", "", `two ranges without an asset in "${text}"`);
      spotRange = numberOf("--spot-range", part);
      continue;
    }
    const symbol = match[1]!.trim();
    if (ranges.has(symbol)) throw new InputError("--spot-range", "", `${symbol} is listed twice`);
    ranges.set(symbol, numberOf("--spot-range", match[2]!));
  }
  return { ...(spotRange !== undefined && { spotRange }), assetRanges: Object.fromEntries(ranges) };
}

export function registerMarket(program: Command): void {
  const market = program.command("market").description("derive market files an oracle publishes");

  market
    .command("grid")
    .description(
      "replace a market's scenarios by the portfolio-margin grid: spot moves x volatility moves (9 x 3 = 27 by default, Derive's PMRM and Deribit's grid), options revalued by Black-Scholes (docs/portfolio-margin-grid.md)",
    )
    .requiredOption("--market <file>", "market.json: prices, instruments, covariance (its scenarios are replaced)")
    .requiredOption("--out <file>", "where to write the market with the grid (replaced atomically; not the input)")
    .option(
      "--spot-range <range>",
      `the most volatile asset's range as a fraction (the others scale by their volatility), and/or SYMBOL=fraction pairs, e.g. 0.15,USDC=0 (default ${DEFAULT_SPOT_RANGE})`,
    )
    .option("--spot-points <n>", `spot moves per asset, evenly over -range..+range (default ${DEFAULT_SPOT_POINTS})`)
    .option("--vol-moves <list>", `relative volatility moves, comma-separated (default ${DEFAULT_VOL_MOVES.join(",")}); write --vol-moves=-0.3,0,0.3`)
    .option("--json", "print what was written as JSON")
    .action((flags: GridFlags) => {
      if (path.resolve(flags.out) === path.resolve(flags.market)) {
        throw new InputError("--out", "", `${flags.out} is the input market: write the grid market to another file`);
      }
      const options: GridOptions = {
        ...(flags.spotRange !== undefined && spotRanges(flags.spotRange)),
        ...(flags.spotPoints !== undefined && { spotPoints: numberOf("--spot-points", flags.spotPoints) }),
        ...(flags.volMoves !== undefined && { volMoves: flags.volMoves.split(",").map((v) => numberOf("--vol-moves", v)) }),
      };
      const grid = portfolioMarginGrid(readJsonFile(flags.market), flags.market, options);
      writeFileSafely(flags.out, `${JSON.stringify(grid.json, null, 2)}\n`);
      const n = grid.market.scenarios.length;
      if (flags.json) {
        printJson({ out: flags.out, scenarios: n, spotPoints: grid.spotPoints, volMoves: grid.volMoves, ranges: grid.ranges, instruments: grid.instruments });
        return;
      }
      const lines = [
        `wrote ${flags.out}: ${n} grid scenarios (${grid.spotPoints} spot moves x ${grid.volMoves.length} volatility moves ${grid.volMoves.map((v) => `${v > 0 ? "+" : ""}${v * 100}%`).join(", ")}), epoch ${grid.market.epoch}`,
        `  spot ranges: ${grid.ranges.map((r) => `${r.symbol} +-${(r.range * 100).toFixed(2)}%${r.source === "given" ? " (given)" : ""}`).join(", ")}`,
        ...grid.instruments.map(
          (k) =>
            `  ${k.id}: ${
              k.method === "black-scholes"
                ? `Black-Scholes at volatility ${((k.vol ?? 0) * 100).toFixed(2)}% (${k.volSource})`
                : k.method === "intrinsic"
                  ? "expired: intrinsic value"
                  : "linear in the underlying (delta held)"
            }`,
        ),
      ];
      process.stdout.write(`${lines.join("\n")}\n`);
    });
}
