/**
 * The rapidsnark binary the tests prove with: ZKS_RAPIDSNARK, else the one built for this machine
 * beside the checkout (../shared/tools/rapidsnark/bin/prover, as CI has it). Tests that need it
 * skip without it, unless ZKS_REQUIRE_RAPIDSNARK=1 (CI), where its absence fails them.
 */
import { accessSync, constants, statSync } from "node:fs";
import path from "node:path";
import { PACKAGE_ROOT } from "../../packages/node/src/setup/paths.ts";

export const RAPIDSNARK = path.resolve(process.env.ZKS_RAPIDSNARK || path.join(PACKAGE_ROOT, "..", "shared", "tools", "rapidsnark", "bin", "prover"));

export function rapidsnarkAvailable(): boolean {
  try {
    accessSync(RAPIDSNARK, constants.X_OK);
    return statSync(RAPIDSNARK).isFile();
  } catch {
    return false;
  }
}

/** In a mocha `before`: skips the suite without rapidsnark, or fails it under ZKS_REQUIRE_RAPIDSNARK=1. */
export function needRapidsnark(context: Mocha.Context): void {
  if (rapidsnarkAvailable()) return;
  if (process.env.ZKS_REQUIRE_RAPIDSNARK === "1") throw new Error(`ZKS_REQUIRE_RAPIDSNARK=1 but ${RAPIDSNARK} is not an executable file`);
  console.log(`      skipped: no rapidsnark at ${RAPIDSNARK} (set ZKS_RAPIDSNARK)`);
  context.skip();
}
