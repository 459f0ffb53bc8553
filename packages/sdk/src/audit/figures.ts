/**
 * One account's audit figures (docs/audit.md), computed by the reference model exactly as
 * packages/circuits/audit/audit-leaf.circom computes them in-circuit: the leaf a user rebuilds from their
 * own position to check their inclusion proof, and the witness the batch prover starts from.
 */
import { commitPosition } from "../commitment/position-commitment.ts";
import type { CircuitLayout } from "../commitment/circuit-layout.ts";
import { checkMarketFitsCircuit } from "../commitment/circuit-layout.ts";
import { InputError } from "../core/errors.ts";
import { QUANTITY_SCALE } from "../core/fixed-point.ts";
import type { Market, Policy, Position } from "../inputs/types.ts";
import { checkPosition, type RiskReport } from "../model/check.ts";
import { padSlots } from "../commitment/slot-layout.ts";
import { crowdingFigures } from "./crowding.ts";
import type { AuditFigures, AuditLeaf, FigureLayout } from "./merkle-sum-tree.ts";

export interface AccountFigures {
  leaf: AuditLeaf;
  /** The model's verdict, for the summary: which checks fail. */
  report: RiskReport;
}

/**
 * collateral = sum vc_i * 1e8 + max(0, M), debt = sum vd_i * 1e8 + max(0, -M) (vd_i: the debt units
 * valued through the market's debt index, as every check values them) with M the
 * derivatives' marked value, so collateral - debt = E*; losses are max(0, L*_j), padded with 0 to
 * the instance's scenario slots; fails = 1 when any check of the policy fails. The per-token
 * figures are the committed amounts themselves, padded with 0 to the layout's slots: collateral c_i
 * and debt units d_i per asset slot, each instrument's quantity split by sign into long and written.
 * A crowding layout adds the crowding figures (src/audit/crowding.ts), which need the market and
 * the policy the report was made under.
 */
export function auditFigures(position: Position, report: RiskReport, layout: FigureLayout, context?: { market: Market; policy: Policy }): AuditFigures {
  const sum = (values: readonly bigint[]) => values.reduce((total, v) => total + v, 0n);
  const assetsNet = (sum(report.values.collateral) - sum(report.values.debt)) * QUANTITY_SCALE;
  const marks = report.equity.scaled - assetsNet;
  const losses = report.losses.scaled.map((loss) => (loss > 0n ? loss : 0n));
  const quantities = padSlots(position.quantities, layout.nInstruments);
  if (layout.crowding && !context) throw new InputError("audit", "layout.crowding", "a crowding audit's figures need the market and the policy");
  const figures: AuditFigures = {
    positions: 1n,
    collateral: sum(report.values.collateral) * QUANTITY_SCALE + (marks > 0n ? marks : 0n),
    debt: sum(report.values.debt) * QUANTITY_SCALE + (marks < 0n ? -marks : 0n),
    fails: report.pass ? 0n : 1n,
    losses: padSlots(losses, layout.nScenarios),
    amounts: padSlots(position.collateral, layout.nAssets),
    debtUnits: padSlots(position.debt, layout.nAssets),
    long: quantities.map((q) => (q > 0n ? q : 0n)),
    written: quantities.map((q) => (q < 0n ? -q : 0n)),
  };
  return layout.crowding && context ? { ...figures, crowding: crowdingFigures(report.values, context.market, context.policy, layout) } : figures;
}

/** The account's leaf: its commitment (with its salt), its account and its figures. */
export function accountFigures(position: Position, market: Market, policy: Policy, layout: CircuitLayout & Pick<FigureLayout, "crowding">, source = "position"): AccountFigures {
  checkMarketFitsCircuit(market, layout, source);
  if (position.salt === undefined) throw new InputError(source, "salt", "missing; the audit opens each position's commitment, which needs its salt");
  const report = checkPosition(position, market, policy);
  return {
    leaf: {
      commitment: commitPosition(position, position.salt, layout),
      account: BigInt(position.account),
      figures: auditFigures(position, report, { ...layout, crowding: layout.crowding === true }, { market, policy }),
    },
    report,
  };
}
