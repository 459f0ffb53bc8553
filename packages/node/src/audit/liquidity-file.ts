/**
 * Reads a crowding audit's liquidity file (docs/audit.md, "Crowding") from disk: its bytes are
 * both parsed and hashed, so the SHA-256 audit.json records is of exactly what was read.
 */
import { readFileSync } from "node:fs";
import { InputError } from "@zk-solvency/sdk/core";
import type { Market } from "@zk-solvency/sdk/inputs";
import { parseLiquidityFile, type LiquidityFile } from "@zk-solvency/sdk/audit";

export function readLiquidityFile(file: string, market: Market): LiquidityFile {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new InputError(file, "", code === "ENOENT" ? "not found" : `cannot read it (${code ?? (error as Error).message})`);
  }
  return parseLiquidityFile(bytes, file, market);
}
