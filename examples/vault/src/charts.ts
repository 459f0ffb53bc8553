/**
 * The vault page's pictures, as SVG markup: a health-factor gauge, the scenario losses against
 * equity and the VaR bars, each showing the position now and, when a rebalance is planned, after
 * it. No chart library: three small pictures with fixed geometry do not need one, and hand-written
 * SVG keeps the bundle small and every number in the markup where a screen reader (and a test)
 * can read it.
 *
 * Every figure comes from the SDK's risk model (the RiskReport of checkPosition, and the planner's
 * `after` report), formatted by the rules of `zks check` (explainChecks): money at the quote's two
 * places with separators, a health factor at 4 places (2 when exact). The accessible name of each
 * picture says its numbers in words; each bar's tooltip (<title>) is the CLI's own line for that
 * check, so what the picture says and what `zks check` prints cannot drift apart.
 *
 * Pure functions of their inputs (no DOM): the page sets the markup, the tests read it.
 */
import { BPS_DECIMALS, formatHuman, RATIO_DECIMALS } from "@zk-solvency/sdk/core";
import type { Policy, Quote } from "@zk-solvency/sdk/inputs";
import { ceilDiv, EQUITY_SCALE, explainChecks, type CheckName, type RiskReport } from "@zk-solvency/sdk/model";

/** The position now, and after the planned rebalance when there is one. */
export interface RiskPictureInput {
  quote: Quote;
  /** Scenario names, in market order. */
  scenarios: readonly string[];
  policy: Policy;
  before: RiskReport;
  after?: RiskReport;
}

export interface Picture {
  /** The SVG element's markup. */
  svg: string;
  /** Its accessible name: the picture's numbers in one sentence. */
  label: string;
}

const RATIO_SCALE = 10n ** BigInt(RATIO_DECIMALS);
const BPS = 10n ** BigInt(BPS_DECIMALS);
/** stress.weightedLosses are q.u. * 10^12 (BPS weight times L* at 10^8). */
const WEIGHTED_SCALE = BPS * EQUITY_SCALE;

const COLOR = {
  pass: "#3b5bdb",
  passLight: "#a9b8f0",
  fail: "#c4320a",
  failLight: "#f4b7a5",
  equity: "#1d2330",
  equityBefore: "#7a8296",
  grid: "#e6e9ef",
  text: "#1d2330",
  muted: "#5d6577",
  zone: { liquidation: "#7a1a12", belowMinimum: "#d9412b", belowTrigger: "#f0a030", healthy: "#3a9a5b" },
} as const;

const FONT = `font-family="system-ui, sans-serif"`;

const escapeXml = (text: string): string => text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

/** Quote-currency amount as `zks check` prints it: 2 places with separators, more for a nonzero amount that would show 0.00. */
export function moneyText(quote: Quote, value: bigint): string {
  let shown = formatHuman(value, quote.decimals);
  if (value !== 0n && /^-?0\.0*$/.test(shown)) shown = formatHuman(value, quote.decimals, quote.decimals);
  return `${shown} ${quote.symbol}`;
}

/** A health factor (BPS) as `zks check` prints it: 2 places when exact, else 4. */
export function ratioText(value: bigint): string {
  return formatHuman(value, BPS_DECIMALS, value % 100n === 0n ? 2 : BPS_DECIMALS);
}

const healthFactorText = (report: RiskReport): string => (report.healthFactor.value === null ? "unbounded (no debt)" : ratioText(report.healthFactor.value));

/** The `zks check` line of one check for a report. */
function cliLine(report: RiskReport, check: CheckName): string {
  return explainChecks(report).find((e) => e.check === check)?.line ?? "";
}

/** The reports to draw, labelled: "now" alone, or "before" and "after" the planned rebalance. */
function states(input: RiskPictureInput): { name: "now" | "before" | "after"; report: RiskReport }[] {
  return input.after
    ? [
        { name: "before", report: input.before },
        { name: "after", report: input.after },
      ]
    : [{ name: "now", report: input.before }];
}

/** Bar fill: red when the check fails, blue when it passes; lighter for the state before a planned rebalance. */
const fill = (pass: boolean, state: "now" | "before" | "after"): string => (state === "before" ? (pass ? COLOR.passLight : COLOR.failLight) : pass ? COLOR.pass : COLOR.fail);

const wording = (state: "now" | "before" | "after"): string => (state === "now" ? "now" : state === "before" ? "before the rebalance" : "after the rebalance");

/** Round tick positions from at or below `lo` to at or above `hi`: steps of 1, 2, 2.5 or 5 times a power of ten. */
export function ticks(lo: number, hi: number, count = 6): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / count;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * power).find((s) => s >= raw)!;
  const out: number[] = [];
  for (let i = Math.floor(lo / step); i <= Math.ceil(hi / step); i++) out.push(Number((i * step).toPrecision(12)));
  return out;
}

/** Axis labels in whole quote units, in one unit along an axis: 5,000 / 10,000, or 5k / 10k / 15k, or 0.5M / 1M. */
function axisLabels(grid: readonly number[]): (value: number) => string {
  const top = Math.max(...grid.map(Math.abs));
  if (top >= 1e6) return (v) => (v === 0 ? "0" : `${Number((v / 1e6).toPrecision(3))}M`);
  if (top >= 1e4) return (v) => (v === 0 ? "0" : `${Number((v / 1e3).toPrecision(3))}k`);
  return (v) => v.toLocaleString("en-US", { maximumFractionDigits: 2 });
}

const toNumber = (value: bigint, decimals: number): number => Number(value) / 10 ** decimals;

function svgOpen(id: string, width: number, height: number, label: string, description: string): string {
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" id="${id}" role="img" aria-label="${escapeXml(label)}" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" ${FONT} font-size="12" fill="${COLOR.text}">` +
    `<title>${escapeXml(label)}</title><desc>${escapeXml(description)}</desc>`
  );
}

// ---- health factor gauge ----------------------------------------------------------------------

/**
 * A half-dial from the lowest health factor worth showing to 2.00 (or more when the trigger is
 * high), with the zones of the policy: below 1.00 the position is liquidatable, below the minimum
 * it fails the check, below the trigger a rebalance is due. One needle per state.
 */
export function healthFactorGauge(input: RiskPictureInput): Picture {
  const width = 420;
  const height = 270;
  const cx = width / 2;
  const cy = 180;
  const r = 150;
  const one = BPS;
  const { minHealthFactor: minimum } = input.policy;
  const trigger = input.policy.trigger.healthFactor;
  const drawn = states(input);
  const values = drawn.map((s) => s.report.healthFactor.value).filter((v): v is bigint => v !== null);
  const lowest = values.reduce((a, b) => (b < a ? b : a), one);
  // From 1.00, or from a tenth below the lowest value shown; to 2.00, or half a point above the trigger.
  const lo = lowest < one ? ((lowest - 500n) / 1000n) * 1000n : one;
  const loClamped = lo < 0n ? 0n : lo;
  const hiCandidate = trigger + 5000n;
  const hi = hiCandidate > 2n * one ? ((hiCandidate + 999n) / 1000n) * 1000n : 2n * one;
  const t = (v: bigint) => {
    const x = v < loClamped ? loClamped : v > hi ? hi : v;
    return Number(x - loClamped) / Number(hi - loClamped);
  };
  const point = (v: bigint, radius: number) => {
    const angle = Math.PI * (1 - t(v));
    return [cx + radius * Math.cos(angle), cy - radius * Math.sin(angle)] as const;
  };
  const f = (n: number) => n.toFixed(1);
  const arc = (from: bigint, to: bigint, color: string, name: string) => {
    if (to <= from || to <= loClamped || from >= hi) return "";
    const [x1, y1] = point(from, r);
    const [x2, y2] = point(to, r);
    return `<path d="M ${f(x1)} ${f(y1)} A ${r} ${r} 0 0 1 ${f(x2)} ${f(y2)}" stroke="${color}" stroke-width="24" fill="none"><title>${escapeXml(name)}</title></path>`;
  };
  const zones = [
    arc(loClamped, one, COLOR.zone.liquidation, `below 1.00: liquidatable`),
    arc(one > loClamped ? one : loClamped, minimum, COLOR.zone.belowMinimum, `below the policy minimum ${ratioText(minimum)}: the health factor check fails`),
    arc(minimum, trigger, COLOR.zone.belowTrigger, `below the trigger ${ratioText(trigger)}: a rebalance is due`),
    arc(trigger > minimum ? trigger : minimum, hi, COLOR.zone.healthy, `at or above the trigger ${ratioText(trigger)}`),
  ].join("");
  const tickValues = [...new Set([loClamped, one, minimum, trigger, hi].filter((v) => v >= loClamped && v <= hi))];
  const tickMarks = tickValues
    .map((v) => {
      const [x1, y1] = point(v, r + 13);
      const [x2, y2] = point(v, r + 17);
      const [lx, ly] = point(v, r + 28);
      const anchor = Math.abs(lx - cx) < 8 ? "middle" : lx < cx ? "end" : "start";
      return `<line x1="${f(x1)}" y1="${f(y1)}" x2="${f(x2)}" y2="${f(y2)}" stroke="${COLOR.muted}"/><text x="${f(lx)}" y="${f(ly + 4)}" text-anchor="${anchor}" fill="${COLOR.muted}" font-size="11">${ratioText(v)}${v === hi ? "+" : ""}</text>`;
    })
    .join("");
  const needles = drawn
    .map((s) => {
      const v = s.report.healthFactor.value ?? hi;
      const [x, y] = point(v, r - 20);
      const before = s.name === "before";
      const color = before ? COLOR.equityBefore : COLOR.equity;
      return `<line class="needle" data-state="${s.name}" x1="${cx}" y1="${cy}" x2="${f(x)}" y2="${f(y)}" stroke="${color}" stroke-width="${before ? 3 : 5}" stroke-linecap="round"${before ? ` stroke-dasharray="6 5"` : ""}><title>${escapeXml(`health factor ${healthFactorText(s.report)} ${wording(s.name)}`)}</title></line>`;
    })
    .join("");
  const hub = `<circle cx="${cx}" cy="${cy}" r="8" fill="${COLOR.equity}"/>`;
  const headline = drawn.map((s) => healthFactorText(s.report)).join(" → ");
  const last = drawn.at(-1)!.report;
  const headlineColor = last.healthFactor.pass ? COLOR.text : COLOR.fail;
  // Under the hub, where no needle reaches.
  const center = `<text x="${cx}" y="${cy + 40}" text-anchor="middle" font-size="24" font-weight="600" fill="${headlineColor}" data-value="${escapeXml(headline)}">${escapeXml(headline)}</text>`;
  const sub = `<text x="${cx}" y="${cy + 60}" text-anchor="middle" font-size="12" fill="${COLOR.muted}">${escapeXml(
    input.after ? "health factor now → after the planned rebalance" : "health factor",
  )}</text>`;
  const key = `<text x="${cx}" y="${cy + 78}" text-anchor="middle" font-size="11" fill="${COLOR.muted}">minimum ${ratioText(minimum)} · rebalance trigger ${ratioText(trigger)} · below 1.00 liquidatable</text>`;

  const label = `Health factor: ${drawn.map((s) => `${healthFactorText(s.report)} ${wording(s.name)}`).join(", ")}; policy minimum ${ratioText(minimum)}, rebalance trigger ${ratioText(trigger)}.`;
  const description = drawn.map((s) => `${wording(s.name)}: ${cliLine(s.report, "healthFactor")}`).join(". ");
  return { svg: `${svgOpen("hf-gauge-svg", width, height, label, description)}${zones}${tickMarks}${needles}${hub}${center}${sub}${key}</svg>`, label };
}

// ---- scenario losses against equity -----------------------------------------------------------

/**
 * One row per scenario: its (weighted) loss, a bar per state, against vertical lines at equity
 * less the policy's minimum equity, which is what the stress check compares every weighted loss
 * with. A bar past its state's line is a scenario the position does not survive; gains go left.
 */
export function scenarioLossBars(input: RiskPictureInput): Picture {
  const { quote } = input;
  const drawn = states(input);
  const decimals = quote.decimals;
  const weighted = (report: RiskReport, j: number) => ceilDiv(report.stress.weightedLosses[j]!, WEIGHTED_SCALE);
  const limit = (report: RiskReport) => report.equity.value - report.stress.minEquity;
  const n = input.scenarios.length;
  const rowH = drawn.length === 2 ? 22 : 16;
  const barH = drawn.length === 2 ? 8 : 10;
  const margin = { top: 54, right: 28, bottom: 34, left: 200 };
  const width = 840;
  const height = margin.top + n * rowH + margin.bottom;
  const plotW = width - margin.left - margin.right;

  const all: number[] = [0];
  for (const s of drawn) {
    for (let j = 0; j < n; j++) all.push(toNumber(weighted(s.report, j), decimals));
    all.push(toNumber(limit(s.report), decimals));
  }
  const grid = ticks(Math.min(...all), Math.max(...all));
  const lo = grid[0]!;
  const hi = grid.at(-1)!;
  const x = (v: number) => margin.left + ((v - lo) / (hi - lo || 1)) * plotW;
  const f = (n: number) => n.toFixed(1);

  const axisMoney = axisLabels(grid);
  const gridLines = grid
    .map(
      (g) =>
        `<line x1="${f(x(g))}" y1="${margin.top - 4}" x2="${f(x(g))}" y2="${height - margin.bottom}" stroke="${COLOR.grid}"/><text x="${f(x(g))}" y="${height - margin.bottom + 16}" text-anchor="middle" font-size="11" fill="${COLOR.muted}">${axisMoney(g)}</text>`,
    )
    .join("");
  const anyWeight = drawn.some((s) => s.report.losses.value.some((l, j) => weighted(s.report, j) !== l));
  const axisName = `<text x="${margin.left + plotW / 2}" y="${height - 4}" text-anchor="middle" font-size="11" fill="${COLOR.muted}">loss in the scenario (${escapeXml(quote.symbol)}${anyWeight ? ", weighted" : ""}); gains to the left of 0</text>`;

  const rows: string[] = [];
  for (let j = 0; j < n; j++) {
    const y0 = margin.top + j * rowH;
    const name = input.scenarios[j]!;
    const shown = name.length > 30 ? `${name.slice(0, 29)}…` : name;
    rows.push(`<text x="${margin.left - 8}" y="${f(y0 + rowH / 2 + 4)}" text-anchor="end" font-size="11">${escapeXml(shown)}</text>`);
    drawn.forEach((s, k) => {
      const loss = weighted(s.report, j);
      const pass = loss <= limit(s.report);
      const v = toNumber(loss, decimals);
      const [a, b] = [x(Math.min(0, v)), x(Math.max(0, v))];
      const y = y0 + (rowH - drawn.length * barH) / 2 + k * barH;
      const reported = s.report.losses.value[j]!;
      const words = `${name} ${wording(s.name)}: ${reported < 0n ? `gain ${moneyText(quote, -reported)}` : `loss ${moneyText(quote, reported)}`}${
        loss !== reported ? ` (weighted ${moneyText(quote, loss)})` : ""
      }; ${pass ? "covered by" : "exceeds"} equity${s.report.stress.minEquity > 0n ? " less the required minimum" : ""} ${moneyText(quote, limit(s.report))}`;
      rows.push(
        `<rect class="loss" data-scenario="${j}" data-state="${s.name}" data-pass="${pass}" data-loss="${escapeXml(formatHuman(loss, decimals))}" x="${f(a)}" y="${f(y)}" width="${f(Math.max(b - a, 1))}" height="${barH - 1}" fill="${fill(pass, s.name)}"><title>${escapeXml(words)}</title></rect>`,
      );
    });
  }
  const zero = `<line x1="${f(x(0))}" y1="${margin.top - 4}" x2="${f(x(0))}" y2="${height - margin.bottom}" stroke="${COLOR.muted}"/>`;
  const equityLines = drawn
    .map((s, k) => {
      const before = s.name === "before";
      const xv = f(x(toNumber(limit(s.report), decimals)));
      const text = `equity ${moneyText(quote, s.report.equity.value)}${s.report.stress.minEquity > 0n ? ` less minimum ${moneyText(quote, s.report.stress.minEquity)}` : ""} (${s.name})`;
      const anchor = Number(xv) > margin.left + plotW * 0.6 ? "end" : "start";
      const dx = anchor === "end" ? -4 : 4;
      return (
        `<line class="equity" data-state="${s.name}" x1="${xv}" y1="${margin.top - 8 - k * 14}" x2="${xv}" y2="${height - margin.bottom}" stroke="${before ? COLOR.equityBefore : COLOR.equity}" stroke-width="2"${before ? ` stroke-dasharray="5 4"` : ""}><title>${escapeXml(cliLine(s.report, "stress"))}</title></line>` +
        `<text x="${f(Number(xv) + dx)}" y="${margin.top - 10 - k * 14}" text-anchor="${anchor}" font-size="11" fill="${before ? COLOR.equityBefore : COLOR.equity}">${escapeXml(text)}</text>`
      );
    })
    .join("");

  const summary = drawn
    .map((s) => {
      const failing = input.scenarios.filter((_, j) => weighted(s.report, j) > limit(s.report)).length;
      return `${wording(s.name)}: worst loss ${moneyText(quote, s.report.stress.worstLoss)} in '${s.report.stress.scenario}' against equity ${moneyText(quote, s.report.equity.value)}, ${failing === 0 ? "every scenario covered" : `${failing} of ${n} scenarios not covered`}`;
    })
    .join("; ");
  const label = `Scenario losses against equity, ${n} scenarios. ${summary}.`;
  const description = drawn.map((s) => `${wording(s.name)}: ${cliLine(s.report, "stress")}`).join(". ");
  return { svg: `${svgOpen("loss-bars-svg", width, height, label, description)}${gridLines}${zero}${rows.join("")}${equityLines}${axisName}</svg>`, label };
}

// ---- VaR ----------------------------------------------------------------------------------------

interface VarRow {
  method: "historical" | "parametric";
  state: "now" | "before" | "after";
  report: RiskReport;
  /** VaR, q.u. */
  value: bigint;
  /** VaR times the capital multiplier, as the check requires of equity (rounded up, as explainChecks does). */
  required: bigint;
  pass: boolean;
}

function varRows(input: RiskPictureInput): VarRow[] {
  const rows: VarRow[] = [];
  for (const method of ["historical", "parametric"] as const) {
    for (const s of states(input)) {
      const k = s.report.var.capitalMultiplier;
      if (method === "historical" && s.report.var.historical) {
        const h = s.report.var.historical;
        rows.push({ method, state: s.name, report: s.report, value: h.value, required: ceilDiv(k * h.scaled, RATIO_SCALE * EQUITY_SCALE), pass: h.pass });
      }
      if (method === "parametric" && s.report.var.parametric) {
        const p = s.report.var.parametric;
        rows.push({ method, state: s.name, report: s.report, value: p.value, required: ceilDiv(k * p.value, RATIO_SCALE), pass: p.pass });
      }
    }
  }
  return rows;
}

/**
 * One bar per VaR method the policy asks for and state: the VaR itself, then the capital the
 * policy requires on top of it (VaR times the capital multiplier), with the state's equity marked
 * on the same row. The check passes when equity reaches the end of the bar.
 */
export function varBars(input: RiskPictureInput): Picture {
  const { quote } = input;
  const decimals = quote.decimals;
  const rows = varRows(input);
  const multiplier = formatHuman(input.policy.var.capitalMultiplier, RATIO_DECIMALS, 2);
  const confidence = `${formatHuman(input.policy.var.confidence * 100n, RATIO_DECIMALS, 0)}%`;
  const rowH = 30;
  // The figures go in a column of their own on the right, clear of every bar.
  const margin = { top: 34, right: 250, bottom: 34, left: 200 };
  const width = 840;
  const height = margin.top + rows.length * rowH + margin.bottom;
  const plotW = width - margin.left - margin.right;
  const all = [0, ...rows.flatMap((r) => [toNumber(r.required, decimals), toNumber(r.report.equity.value, decimals)])];
  const grid = ticks(Math.min(...all), Math.max(...all));
  const lo = grid[0]!;
  const hi = grid.at(-1)!;
  const x = (v: number) => margin.left + ((v - lo) / (hi - lo || 1)) * plotW;
  const f = (n: number) => n.toFixed(1);

  const axisMoney = axisLabels(grid);
  const gridLines = grid
    .map(
      (g) =>
        `<line x1="${f(x(g))}" y1="${margin.top - 4}" x2="${f(x(g))}" y2="${height - margin.bottom}" stroke="${COLOR.grid}"/><text x="${f(x(g))}" y="${height - margin.bottom + 16}" text-anchor="middle" font-size="11" fill="${COLOR.muted}">${axisMoney(g)}</text>`,
    )
    .join("");
  const legend =
    `<rect x="${margin.left}" y="8" width="14" height="10" fill="${COLOR.pass}"/><text x="${margin.left + 18}" y="17" font-size="11">VaR (${confidence})</text>` +
    `<rect x="${margin.left + 110}" y="8" width="14" height="10" fill="${COLOR.pass}" fill-opacity="0.45"/><text x="${margin.left + 128}" y="17" font-size="11">capital required: VaR × ${multiplier}</text>` +
    `<line x1="${margin.left + 330}" y1="6" x2="${margin.left + 330}" y2="20" stroke="${COLOR.equity}" stroke-width="3"/><text x="${margin.left + 336}" y="17" font-size="11">equity (passes when the bar ends at or before it)</text>`;
  const body = rows
    .map((row, i) => {
      const y0 = margin.top + i * rowH;
      const y = y0 + 6;
      const h = rowH - 12;
      const color = fill(row.pass, row.state);
      const [v, req, eq] = [toNumber(row.value, decimals), toNumber(row.required, decimals), toNumber(row.report.equity.value, decimals)];
      const name = `${row.method} VaR${row.state === "now" ? "" : `, ${row.state}`}`;
      const words = `${row.method} VaR ${wording(row.state)}: ${moneyText(quote, row.value)} × ${multiplier} = ${moneyText(quote, row.required)} ${row.pass ? "≤" : ">"} equity ${moneyText(quote, row.report.equity.value)}`;
      const line = cliLine(row.report, row.method === "historical" ? "historicalVar" : "parametricVar");
      const equityMark = `<line x1="${f(x(eq))}" y1="${y - 4}" x2="${f(x(eq))}" y2="${y + h + 4}" stroke="${row.state === "before" ? COLOR.equityBefore : COLOR.equity}" stroke-width="3"><title>${escapeXml(`equity ${moneyText(quote, row.report.equity.value)} ${wording(row.state)}`)}</title></line>`;
      const valueText = `${moneyText(quote, row.required)} ${row.pass ? "≤" : ">"} ${moneyText(quote, row.report.equity.value)}`;
      return (
        `<text x="${margin.left - 8}" y="${f(y0 + rowH / 2 + 4)}" text-anchor="end" font-size="11">${escapeXml(name)}</text>` +
        `<g class="var" data-method="${row.method}" data-state="${row.state}" data-pass="${row.pass}" data-value="${escapeXml(formatHuman(row.value, decimals))}" data-required="${escapeXml(formatHuman(row.required, decimals))}"><title>${escapeXml(`${words}. ${line}`)}</title>` +
        `<rect x="${f(x(0))}" y="${y}" width="${f(Math.max(x(v) - x(0), 1))}" height="${h}" fill="${color}"/>` +
        `<rect x="${f(x(v))}" y="${y}" width="${f(Math.max(x(req) - x(v), 0))}" height="${h}" fill="${color}" fill-opacity="0.45"/></g>` +
        equityMark +
        `<text x="${width - margin.right + 14}" y="${f(y + h - 3)}" font-size="11" fill="${row.pass ? COLOR.text : COLOR.fail}">${escapeXml(`${valueText} ${row.pass ? "pass" : "FAIL"}`)}</text>`
      );
    })
    .join("");
  const axisName = `<text x="${margin.left + plotW / 2}" y="${height - 4}" text-anchor="middle" font-size="11" fill="${COLOR.muted}">${escapeXml(quote.symbol)}</text>`;
  const label = `Value at Risk against equity: ${rows
    .map(
      (r) =>
        `${r.method} VaR ${wording(r.state)} ${moneyText(quote, r.value)}, capital required ${moneyText(quote, r.required)} (× ${multiplier}), equity ${moneyText(quote, r.report.equity.value)}, ${r.pass ? "passes" : "fails"}`,
    )
    .join("; ")}.`;
  const description = rows.map((r) => `${wording(r.state)}: ${cliLine(r.report, r.method === "historical" ? "historicalVar" : "parametricVar")}`).join(". ");
  return { svg: `${svgOpen("var-bars-svg", width, height, label, description)}${legend}${gridLines}${body}${axisName}</svg>`, label };
}

/** All three pictures. */
export function riskPictures(input: RiskPictureInput): { gauge: Picture; losses: Picture; var: Picture } {
  return { gauge: healthFactorGauge(input), losses: scenarioLossBars(input), var: varBars(input) };
}
