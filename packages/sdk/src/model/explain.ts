/**
 * Human explanations of a RiskReport: one line per check, saying for a failing check by how
 * much it fails (for people; the exact figures are in the report and in riskReportJson).
 */
import { formatDecimal, formatHuman } from "../core/decimal.ts";
import { BPS_DECIMALS, RATIO_DECIMALS, RATIO_SCALE } from "../core/fixed-point.ts";
import type { Quote } from "../inputs/types.ts";
import type { CheckName, RiskReport } from "./check.ts";
import { EQUITY_SCALE } from "./equity.ts";
import { ceilDiv, floorDiv } from "./rounding.ts";
import { STRESS_SCALE } from "./stress.ts";

export interface CheckExplanation {
  check: CheckName;
  pass: boolean;
  line: string;
}

/** Quote-currency amount at 2 places with separators; a nonzero amount that would show as 0.00 in full. */
function money(quote: Quote, value: bigint): string {
  let shown = formatHuman(value, quote.decimals);
  if (value !== 0n && /^-?0\.0*$/.test(shown)) shown = formatHuman(value, quote.decimals, quote.decimals);
  return `${shown} ${quote.symbol}`;
}

/** A BPS ratio (health factor) at 2 places when exact, else at 4. */
const ratio = (value: bigint): string => formatHuman(value, BPS_DECIMALS, value % 100n === 0n ? 2 : BPS_DECIMALS);

/** A RATIO fraction as a percentage: 990000 -> "99%". */
const percent = (value: bigint): string => `${formatDecimal(value, RATIO_DECIMALS - 2)}%`;

const multiplier = (value: bigint): string => formatDecimal(value, RATIO_DECIMALS);

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? "" : "s"}`;

function explainHealthFactor(report: RiskReport): CheckExplanation {
  const hf = report.healthFactor;
  const minimum = ratio(hf.minimum);
  const base = { check: "healthFactor" as const, pass: hf.pass };
  if (hf.value === null) return { ...base, line: `health factor: no debt, so unbounded (minimum ${minimum})` };
  if (hf.pass) return { ...base, line: `health factor ${ratio(hf.value)} >= ${minimum}` };
  // Risk-adjusted collateral missing: minimum * HFden - HFnum (q.u. * BPS); or debt to repay:
  // the smallest R with HFnum >= minimum * (HFden - R).
  const collateral = ceilDiv(-hf.margin, 10n ** BigInt(BPS_DECIMALS));
  const repay = hf.denominator - floorDiv(hf.numerator, hf.minimum);
  return {
    ...base,
    line:
      `health factor ${ratio(hf.value)} < ${minimum}: risk-adjusted collateral falls short by ` +
      `${money(report.quote, collateral)} (or repay ${money(report.quote, repay)} of debt)`,
  };
}

function explainStress(report: RiskReport): CheckExplanation {
  const { quote } = report;
  const s = report.stress;
  const base = { check: "stress" as const, pass: s.pass };
  const equity = money(quote, report.equity.value);
  const required = money(quote, s.minEquity);
  const shortfall = money(quote, ceilDiv(-s.margin, STRESS_SCALE));
  if (s.worst === 0n) {
    const none = `no scenario loses (worst scenario '${s.scenario}')`;
    return s.pass
      ? { ...base, line: `stress: equity ${equity} >= the required minimum ${required}; ${none}` }
      : { ...base, line: `stress: equity ${equity} is below the required minimum ${required} by ${shortfall}; ${none}` };
  }
  const weighted = s.weight < 10n ** BigInt(BPS_DECIMALS) ? ` (weight ${formatDecimal(s.weight, BPS_DECIMALS)})` : "";
  const loss = `worst loss ${money(quote, s.worstLoss)}${weighted} in scenario '${s.scenario}'`;
  if (s.pass) {
    const plus = s.minEquity > 0n ? ` plus the required minimum ${required}` : "";
    return { ...base, line: `stress: equity ${equity} covers the ${loss}${plus}` };
  }
  const less = s.minEquity > 0n ? ` less the required minimum ${required}` : "";
  return { ...base, line: `stress: ${loss} exceeds equity ${equity}${less} by ${shortfall}` };
}

function explainHistorical(report: RiskReport): CheckExplanation | undefined {
  const h = report.var.historical;
  if (!h) return undefined;
  const { quote } = report;
  const { confidence, capitalMultiplier } = report.var;
  const what = `historical VaR (${percent(confidence)}, ${plural(h.scenarios, "scenario")}, ` + `${plural(h.exceptions, "exception")} allowed) ${money(quote, h.value)}`;
  const required = money(quote, ceilDiv(capitalMultiplier * h.scaled, RATIO_SCALE * EQUITY_SCALE));
  const capital = `x ${multiplier(capitalMultiplier)} = ${required}`;
  const equity = money(quote, report.equity.value);
  const base = { check: "historicalVar" as const, pass: h.pass };
  if (h.pass) return { ...base, line: `${what} ${capital} <= equity ${equity}` };
  if (report.equity.scaled < 0n) return { ...base, line: `${what}: equity ${equity} is negative` };
  const shortfall = money(quote, ceilDiv(-h.margin, RATIO_SCALE * EQUITY_SCALE));
  return {
    ...base,
    line:
      `${what} ${capital} exceeds equity ${equity} by ${shortfall} ` +
      `(${plural(h.exceedances, "scenario")} lose more than ${money(quote, floorDiv(h.threshold, EQUITY_SCALE))}; ${h.exceptions} allowed)`,
  };
}

function explainParametric(report: RiskReport): CheckExplanation | undefined {
  const p = report.var.parametric;
  if (!p) return undefined;
  const { quote } = report;
  const { confidence, capitalMultiplier } = report.var;
  const what = `parametric VaR (${percent(confidence)}, ${plural(p.horizonDays, "day")}, z ${p.z.toFixed(4)}) ${money(quote, p.value)}`;
  const capital = `x ${multiplier(capitalMultiplier)} = ${money(quote, ceilDiv(capitalMultiplier * p.value, RATIO_SCALE))}`;
  const equity = money(quote, report.equity.value);
  const base = { check: "parametricVar" as const, pass: p.pass };
  if (p.pass) return { ...base, line: `${what} ${capital} <= equity ${equity}` };
  if (report.equity.value < 0n) return { ...base, line: `${what}: equity ${equity} is negative` };
  return { ...base, line: `${what} ${capital} exceeds equity ${equity} by ${money(quote, ceilDiv(-p.margin, RATIO_SCALE))}` };
}

/** One explanation per check the policy asks for, in report order. */
export function explainChecks(report: RiskReport): CheckExplanation[] {
  return [explainHealthFactor(report), explainStress(report), explainHistorical(report), explainParametric(report)].filter((e): e is CheckExplanation => e !== undefined);
}

/** The explanation lines alone. */
export function explainReport(report: RiskReport): string[] {
  return explainChecks(report).map((e) => e.line);
}
