/**
 * The audit's output directory:
 * - audit.json   public: root, totals, every proof (what the operator publishes);
 * - leaves.jsonl PRIVATE: one line per account in tree order (commitment, account, figures),
 *   which the operator keeps to cut inclusion proofs; it reveals every account's figures.
 */
import { mkdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { InputError } from "@zk-solvency/sdk/core";
import { auditReportJson, figuresJson, parseAuditReport, type AuditLayout, type AuditReport, figureWords, figuresFromWords, type AuditLeaf } from "@zk-solvency/sdk/audit";
import { readJsonFile } from "../read-json.ts";
import { writeFileSafely } from "../write-file-safely.ts";

export const AUDIT_FILE = "audit.json";
export const LEAVES_FILE = "leaves.jsonl";

const stringify = (value: unknown) => JSON.stringify(value, (_key, v) => (typeof v === "bigint" ? v.toString() : v), 2);

export function writeAuditDir(dir: string, report: AuditReport, leaves: readonly AuditLeaf[]): { audit: string; leaves: string } {
  mkdirSync(dir, { recursive: true });
  const audit = path.join(dir, AUDIT_FILE);
  const leavesFile = path.join(dir, LEAVES_FILE);
  const lines = leaves.map((leaf) =>
    JSON.stringify({ account: `0x${leaf.account.toString(16).padStart(40, "0")}`, commitment: leaf.commitment.toString(), figures: figuresJson(leaf.figures) }),
  );
  writeFileSafely(leavesFile, `${lines.join("\n")}\n`);
  writeFileSafely(audit, `${stringify(auditReportJson(report))}\n`);
  return { audit, leaves: leavesFile };
}

/** audit.json from a directory or the file itself. */
export function readAuditReport(location: string): { report: AuditReport; file: string } {
  const file = location.endsWith(".json") ? location : path.join(location, AUDIT_FILE);
  return { report: parseAuditReport(readJsonFile(file), file), file };
}

export function readLeaves(dir: string, layout: AuditLayout): AuditLeaf[] {
  const file = path.join(dir, LEAVES_FILE);
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch {
    throw new InputError(file, "", "not found: inclusion proofs are cut from the operator's private leaves file, written by `zks audit` beside audit.json");
  }
  return text
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line, i) => {
      const source = `${file}:${i + 1}`;
      try {
        const json = JSON.parse(line) as { account: string; commitment: string; figures: ReturnType<typeof figuresJson> };
        const f = json.figures;
        const big = (values: readonly string[]) => values.map((v) => BigInt(v));
        // Through the words and back: figuresFromWords checks the layout's lengths.
        const figures = figuresFromWords(
          figureWords({
            positions: BigInt(f.positions),
            fails: BigInt(f.fails),
            collateral: BigInt(f.collateral),
            debt: BigInt(f.debt),
            losses: big(f.losses),
            amounts: big(f.amounts),
            debtUnits: big(f.debtUnits),
            long: big(f.long),
            written: big(f.written),
            ...(f.crowding ? { crowding: f.crowding.map(big) } : {}),
          }),
          layout,
        );
        return { account: BigInt(json.account), commitment: BigInt(json.commitment), figures };
      } catch (error) {
        throw new InputError(source, "", `not a leaf line of this audit (${(error as Error).message})`);
      }
    });
}
