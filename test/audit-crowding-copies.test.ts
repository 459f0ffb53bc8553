/**
 * The crowding templates are copies of the plain audit templates (so the plain instances' sources,
 * compile keys and published keys stay as they are: docs/audit.md, "Crowding"). A copy drifts
 * when a fix lands in one file only: every statement of each plain template must appear, in order,
 * in its crowding copy, except the few lines the crowding copy replaces (listed here, each with why).
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";

const AUDIT = path.resolve(import.meta.dirname, "..", "packages", "circuits", "audit");

/** Code lines: comments and blank lines dropped, whitespace collapsed. */
function statements(file: string): string[] {
  return readFileSync(path.join(AUDIT, file), "utf8")
    .split("\n")
    .map((line) =>
      line
        .replace(/\/\/.*$/, "")
        .replace(/\s+/g, " ")
        .trim(),
    )
    .filter((line) => line !== "");
}

/** The plain statements missing from the copy, in order (a subsequence match). */
function missing(plain: string[], copy: string[], replaced: RegExp[]): string[] {
  const out: string[] = [];
  let at = 0;
  for (const line of plain) {
    if (replaced.some((r) => r.test(line))) continue;
    const found = copy.indexOf(line, at);
    if (found < 0) out.push(line);
    else at = found + 1;
  }
  return out;
}

describe("the crowding audit templates follow the plain ones (copies kept in step)", function () {
  // The names, the figure count (nScenarios * nAssets crowding words more) and the leaf digest
  // (the plain figures only) are what a crowding copy changes; nothing else of the plain template.
  const renamed = (template: string) => new RegExp(`^template ${template}\\(`);
  const figureCount = /^var nFigures = 3 \+ nScenarios \+ 2 \* nAssets \+ 2 \* nInstruments;$/;
  const pairs: [string, string, RegExp[]][] = [
    [
      "audit-leaf.circom",
      "audit-leaf-crowding.circom",
      [renamed("AuditLeaf"), figureCount, /^component figuresDigest = PoseidonChain\(nFigures\);$/, /^figuresDigest\.in <== figures;$/],
    ],
    ["audit-batch.circom", "audit-batch-crowding.circom", [/^include "\.\/audit-leaf\.circom";$/, renamed("AuditBatch"), figureCount, /^leaves\[s\] = AuditLeaf\(/]],
    ["audit-merge.circom", "audit-merge-crowding.circom", [renamed("AuditMerge"), figureCount]],
  ];
  it("notices a statement added to a plain template only, and one reordered", function () {
    const [plain, copy, replaced] = pairs[0]!;
    const fixed = [...statements(plain)];
    fixed.splice(fixed.length - 1, 0, "active * (1 - active) === 0;");
    assert.deepEqual(missing(fixed, statements(copy), replaced), ["active * (1 - active) === 0;"]);
    const code = statements(copy);
    assert.ok(missing(statements(plain), [...code.slice(40), ...code.slice(0, 40)], replaced).length > 0);
  });
  for (const [plain, copy, replaced] of pairs) {
    it(`${copy} holds every statement of ${plain}, in order`, function () {
      assert.deepEqual(missing(statements(plain), statements(copy), replaced), []);
    });
  }
});
