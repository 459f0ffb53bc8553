/**
 * The cascade simulation's charts, as self-contained SVG (src/plot/svg-chart.ts): the shocked
 * asset's price with and without the feedback, the volume sold per step, the liquidations, the
 * pools' reserves, and the sweep's amplification and liquidations against N per strategy mix.
 */
import { niceTicks } from "../plot/nice-ticks.ts";
import { svgChart, type Series } from "../plot/svg-chart.ts";
import type { SystemicRun } from "./workflow.ts";

/** Okabe-Ito, colour-blind safe: one colour per run mode and per mix. */
const COLORS = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000"];
const MODE_COLORS = { feedback: "#D55E00", "no-impact": "#0072B2", passive: "#000000" } as const;

const pct = (x: number) => `${Number(x.toPrecision(4))}%`;
const hours = (x: number) => `${Number(x.toPrecision(6))}`;

function timeAxis(run: SystemicRun): { xLabel: string; xRange: [number, number] } {
  const last = run.runs.feedback.steps.at(-1)!.hours;
  return { xLabel: `hours (one step = ${run.settings.stepHours} h)`, xRange: [0, last > 0 ? last : 1] };
}

/** Prices over the steps, as % of the market file's: the shocked asset with the feedback and its exogenous path, the other pooled assets dashed. */
export function priceChart(run: SystemicRun): string {
  const { market, settings } = run;
  const shocked = run.amplification.asset;
  const base = (i: number) => Number(market.assets[i]!.price);
  const line = (mode: "feedback" | "no-impact", i: number) => run.runs[mode].steps.map((s) => ({ x: s.hours, y: (Number(s.closePrices[i]!) / base(i)) * 100 }));
  const symbol = market.assets[shocked]!.symbol;
  const series: Series[] = [
    { name: `${symbol} through the pools (feedback)`, points: line("feedback", shocked), style: "line", color: MODE_COLORS.feedback },
    { name: `${symbol} exogenous (no price impact)`, points: line("no-impact", shocked), style: "line", color: MODE_COLORS["no-impact"], dashed: true },
  ];
  run.runs.feedback.pools
    .filter((i) => i !== shocked)
    .forEach((i, k) =>
      series.push({ name: `${market.assets[i]!.symbol} through the pools`, points: line("feedback", i), style: "line", color: COLORS[(k + 2) % COLORS.length]!, dashed: true }),
    );
  const ys = series.flatMap((s) => s.points.map((p) => p.y));
  const factor = run.amplification.factor;
  return svgChart({
    title: `Prices: ${settings.vaults} vaults selling into x*y=k pools`,
    subtitle: `end of each step, % of the market file's price; ${symbol} fell ${pct(-run.amplification.feedbackChange * 100)} against ${pct(-run.amplification.exogenousChange * 100)} exogenous${factor !== null ? ` (x${factor.toFixed(2)})` : ""}`,
    ...timeAxis(run),
    yLabel: "price (% of the start)",
    series,
    yRange: [niceTicks(Math.min(...ys) * 0.98, 100)[0]!, niceTicks(Math.min(...ys), Math.max(100, ...ys)).at(-1)!],
    formatX: hours,
    formatY: pct,
    legend: "top-right",
  });
}

/** Value sold per step at the oracle's prices: rebalances and liquidations, with the feedback and without. */
export function volumeChart(run: SystemicRun): string {
  const quote = run.market.quote;
  const money = (v: bigint) => Number(v) / 10 ** quote.decimals;
  const series: Series[] = [
    {
      name: "rebalances (feedback)",
      points: run.runs.feedback.steps.map((s) => ({ x: s.hours, y: money(s.valueByRebalance) })),
      style: "line+points",
      color: MODE_COLORS.feedback,
    },
    { name: "liquidations (feedback)", points: run.runs.feedback.steps.map((s) => ({ x: s.hours, y: money(s.valueByLiquidation) })), style: "line+points", color: "#CC79A7" },
    {
      name: "rebalances (no price impact)",
      points: run.runs["no-impact"].steps.map((s) => ({ x: s.hours, y: money(s.valueByRebalance) })),
      style: "line",
      color: MODE_COLORS["no-impact"],
      dashed: true,
    },
  ];
  const top = Math.max(1, ...series.flatMap((s) => s.points.map((p) => p.y)));
  return svgChart({
    title: "Volume sold per step",
    subtitle: `at each step's oracle prices, ${quote.symbol}`,
    ...timeAxis(run),
    yLabel: `sold (${quote.symbol})`,
    series,
    yRange: [0, niceTicks(0, top).at(-1)!],
    formatX: hours,
    formatY: (y) => y.toLocaleString("en-US", { maximumFractionDigits: 0 }),
    legend: "top-right",
  });
}

/** Cumulative liquidations: with the feedback, without price impact, and with no vault acting. */
export function liquidationChart(run: SystemicRun): string {
  const labels = { feedback: "feedback (through the pools)", "no-impact": "vaults act, no price impact", passive: "no vault acts, no price impact" } as const;
  const series: Series[] = (["feedback", "no-impact", "passive"] as const).map((mode) => {
    let total = 0;
    return {
      name: labels[mode],
      points: run.runs[mode].steps.map((s) => ({ x: s.hours, y: (total += s.liquidations) })),
      style: "line" as const,
      color: MODE_COLORS[mode],
      dashed: mode !== "feedback",
    };
  });
  const top = Math.max(1, ...series.flatMap((s) => s.points.map((p) => p.y)));
  return svgChart({
    title: `Liquidations of ${run.settings.vaults} vaults`,
    subtitle: "cumulative, per step",
    ...timeAxis(run),
    yLabel: "vaults liquidated",
    series,
    yRange: [0, niceTicks(0, top).at(-1)!],
    formatX: hours,
    formatY: (y) => `${Number(y.toPrecision(6))}`,
    legend: "top-left",
  });
}

/** Each pool's quote-side reserve, % of its start: the liquidity the sales drained. */
export function liquidityChart(run: SystemicRun): string {
  const { market } = run;
  const feedback = run.runs.feedback;
  const quoteSymbol = market.assets[run.settings.quote]!.symbol;
  const series: Series[] = feedback.pools.map((asset, k) => ({
    name: `${market.assets[asset]!.symbol}/${quoteSymbol} pool`,
    points: feedback.steps.map((s) => ({ x: s.hours, y: (Number(s.reserves[k]!.quote) / Number(feedback.initialReserves[k]!.quote)) * 100 })),
    style: "line" as const,
    color: COLORS[k % COLORS.length]!,
  }));
  if (series.length === 0) series.push({ name: "no pool", points: [{ x: 0, y: 100 }], style: "points" });
  const ys = series.flatMap((s) => s.points.map((p) => p.y));
  return svgChart({
    title: `Pool liquidity: the ${quoteSymbol} side of each pool`,
    subtitle: "end of each step, % of the start (the outside shock moves it too)",
    ...timeAxis(run),
    yLabel: `${quoteSymbol} reserve (% of the start)`,
    series,
    yRange: [niceTicks(Math.min(...ys) * 0.98, 100)[0]!, niceTicks(Math.min(...ys), Math.max(100, ...ys)).at(-1)!],
    formatX: hours,
    formatY: pct,
    legend: "top-right",
  });
}

/**
 * The sweep's x axis: the vault counts evenly spaced (100, 300, 1,000, 3,000 on a linear axis
 * would crowd the small counts), each labelled with its count.
 */
function countAxis(run: SystemicRun): { at: (n: number) => number; format: (x: number) => string; range: [number, number] } {
  const counts = [...new Set(run.sweep.map((p) => p.vaults))].sort((a, b) => a - b);
  const range: [number, number] = counts.length > 1 ? [0, counts.length - 1] : [-1, 1];
  return {
    at: (n) => counts.indexOf(n),
    format: (x) => (Number.isInteger(x) && counts[x] !== undefined ? counts[x]!.toLocaleString("en-US") : ""),
    range,
  };
}

function sweepSeries(run: SystemicRun, value: (p: SystemicRun["sweep"][number]) => number | null, dashedValue?: (p: SystemicRun["sweep"][number]) => number | null): Series[] {
  const labels = [...new Set(run.sweep.map((p) => p.mixLabel))];
  const at = countAxis(run).at;
  return labels.flatMap((label, k) => {
    const points = run.sweep.filter((p) => p.mixLabel === label);
    const solid: Series = {
      name: label,
      points: points.flatMap((p) => {
        const y = value(p);
        return y === null ? [] : [{ x: at(p.vaults), y }];
      }),
      style: "line+points",
      color: COLORS[k % COLORS.length]!,
    };
    if (!dashedValue) return [solid];
    const dashed: Series = {
      name: `${label}: no price impact`,
      points: points.flatMap((p) => {
        const y = dashedValue(p);
        return y === null ? [] : [{ x: at(p.vaults), y }];
      }),
      style: "line",
      color: COLORS[k % COLORS.length]!,
      dashed: true,
      hideInLegend: true,
    };
    return [solid, dashed];
  });
}

/** The shocked asset's fall with the feedback over its exogenous fall, against N, one line per mix. */
export function amplificationChart(run: SystemicRun): string | undefined {
  if (run.sweep.length === 0) return undefined;
  const series = sweepSeries(run, (p) => p.amplification.factor).filter((s) => s.points.length > 0);
  if (series.length === 0) return undefined;
  const ys = series.flatMap((s) => s.points.map((p) => p.y));
  const symbol = run.market.assets[run.amplification.asset]!.symbol;
  return svgChart({
    title: `Amplification of the shock against the number of vaults`,
    subtitle: `${symbol}'s fall through the pools over its exogenous fall, at the end of the run (1 = no amplification)`,
    xLabel: "vaults",
    yLabel: "amplification (x)",
    series,
    hLines: [{ y: 1, label: "no amplification", color: "#888888" }],
    xRange: countAxis(run).range,
    yRange: [Math.min(1, niceTicks(Math.min(...ys), Math.max(...ys))[0]!), niceTicks(1, Math.max(1.1, ...ys)).at(-1)!],
    formatX: countAxis(run).format,
    formatY: (y) => `x${Number(y.toPrecision(4))}`,
    legend: "top-left",
  });
}

/** Liquidated share of the vaults against N, per mix: through the pools (solid) and without price impact (dashed). */
export function sweepLiquidationChart(run: SystemicRun): string | undefined {
  if (run.sweep.length === 0) return undefined;
  const series = sweepSeries(
    run,
    (p) => (p.feedback.liquidations / p.vaults) * 100,
    (p) => (p.noImpact.liquidations / p.vaults) * 100,
  );
  const top = Math.max(1, ...series.flatMap((s) => s.points.map((p) => p.y)));
  return svgChart({
    title: "Liquidations against the number of vaults",
    subtitle: "share of the vaults liquidated: through the pools (solid), no price impact (dashed)",
    xLabel: "vaults",
    yLabel: "vaults liquidated (%)",
    series,
    xRange: countAxis(run).range,
    yRange: [0, niceTicks(0, top).at(-1)!],
    formatX: countAxis(run).format,
    formatY: pct,
    legend: "top-left",
  });
}

/** Every chart of a run, by file name (the sweep's only when there is a sweep). */
export function systemicCharts(run: SystemicRun): Record<string, string> {
  const charts: Record<string, string> = {
    "price.svg": priceChart(run),
    "volume.svg": volumeChart(run),
    "liquidations.svg": liquidationChart(run),
    "liquidity.svg": liquidityChart(run),
  };
  const amp = amplificationChart(run);
  if (amp) charts["amplification.svg"] = amp;
  const liq = sweepLiquidationChart(run);
  if (liq) charts["sweep-liquidations.svg"] = liq;
  return charts;
}

/** The charts worth a PNG copy, by SVG name. */
export const SYSTEMIC_PNG_OF: Readonly<Record<string, string>> = { "price.svg": "price.png", "amplification.svg": "amplification.png" };
