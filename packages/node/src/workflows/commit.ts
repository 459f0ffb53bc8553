/** `zks commit` as a function: the commitment of a position file, adding a salt to the file when asked. */
import { checkMarketFits, formatSalt, randomSalt, STANDARD_LAYOUT } from "@zk-solvency/sdk/commitment";
import { InputError } from "@zk-solvency/sdk/core";
import { commitWorkflow, type CommitmentSummary } from "@zk-solvency/sdk/workflows";
import { readJsonFile } from "../read-json.ts";
import { writeFileSafely } from "../write-file-safely.ts";
import { loadMarketFile, loadPositionFile } from "./load-inputs.ts";

/** Asset x instrument slots (the SDK's SlotLayout). */
type SlotLayout = typeof STANDARD_LAYOUT;

export interface CommitPositionFileOptions {
  position: string;
  market: string;
  /** Slots of the circuit instances the position is proven with (default STANDARD_LAYOUT). */
  layout?: SlotLayout;
  /**
   * Without a salt in the file: generate one and write it into the file (safely: the new file is
   * complete before it replaces the old). Otherwise a missing salt is bad input.
   */
  addSalt?: boolean;
}

export function commitPositionFile(options: CommitPositionFileOptions): CommitmentSummary & { saltAdded: boolean } {
  const layout = options.layout ?? STANDARD_LAYOUT;
  const market = loadMarketFile(options.market);
  checkMarketFits(market, layout, options.market);
  const position = loadPositionFile(options.position, market);
  let salt = position.salt;
  if (salt !== undefined) return { ...commitWorkflow(position, salt, layout), saltAdded: false };
  if (!options.addSalt) {
    throw new InputError(options.position, "salt", "missing; the commitment needs a secret salt. Rerun with --add-salt to generate one and store it in the file");
  }
  salt = randomSalt();
  // The file as it was, plus the salt: fields this toolkit does not know are kept.
  const raw = readJsonFile(options.position) as Record<string, unknown>;
  writeFileSafely(options.position, `${JSON.stringify({ ...raw, salt: formatSalt(salt) }, null, 2)}\n`);
  return { ...commitWorkflow(position, salt, layout), saltAdded: true };
}
