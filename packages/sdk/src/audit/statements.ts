import { ZksError } from "../core/errors.ts";
import { QUANTITY_SCALE } from "../core/fixed-point.ts";
import type { AuditFigures } from "./merkle-sum-tree.ts";

export interface AggregateStatements {
  /** Total collateral - total debt, quote units * 10^8 (the sum of the positions' equities). */
  equity: bigint;
  /** Total collateral value >= total debt. */
  solvent: boolean;
  /** Per scenario: the aggregate loss (gains counted as 0) and whether the equity covers it. */
  scenarios: { index: number; loss: bigint; covered: boolean }[];
  /** The scenario with the largest aggregate loss. */
  worst: { index: number; loss: bigint };
  /** Every statement the root proof proves holds. */
  holds: boolean;
}

/** The root proof's statements (packages/circuits/audit/audit-merge.circom, top = 1) on the total sums. */
export function aggregateStatements(totals: AuditFigures, scenarioCount = totals.losses.length): AggregateStatements {
  const equity = totals.collateral - totals.debt;
  const scenarios = totals.losses.slice(0, scenarioCount).map((loss, index) => ({ index, loss, covered: loss <= equity }));
  const worst = scenarios.reduce((w, s) => (s.loss > w.loss ? s : w), { index: 0, loss: -1n });
  const solvent = equity >= 0n;
  return { equity, solvent, scenarios, worst: { index: worst.index, loss: worst.loss < 0n ? 0n : worst.loss }, holds: solvent && scenarios.every((s) => s.covered) };
}

/** Figures are quote units * 10^8; reports show quote units. Rounds down (floor). */
export const toQuoteUnits = (figure: bigint): bigint => figure / QUANTITY_SCALE;

/** The book's totals do not satisfy the root proof's statements: no audit proof exists. Exit code 1. */
export class AggregateStatementsError extends ZksError {
  constructor(readonly statements: AggregateStatements) {
    super(
      `the aggregate statements do not hold (${statements.solvent ? "" : "total debt exceeds total collateral; "}${statements.scenarios.filter((s) => !s.covered).length} scenario(s) not covered), so no audit proof exists`,
      1,
    );
    this.name = "AggregateStatementsError";
  }
}
