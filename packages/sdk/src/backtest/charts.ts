/**
 * The backtest's charts, as self-contained SVG (src/plot/svg-chart.ts): the health factor over
 * a representative path with each strategy's rebalances and liquidation, its percentiles over
 * all paths, and cost against risk with one labelled point per strategy.
 */
import { niceTicks } from "../plot/nice-ticks.ts";
import { plotArea, svgChart, type Series, type SeriesMark } from "../plot/svg-chart.ts";
import { healthFactorQuantiles } from "./metrics.ts";
import type { BacktestResult } from "./run-backtest.ts";
import type { BacktestStrategy } from "./strategy-settings.ts";

/** One colour per strategy in every chart (Okabe-Ito, colour-blind safe). */
export const STRATEGY_COLORS: Readonly<Record<BacktestStrategy, string>> = {
  none: "#000000",
  threshold: "#0072B2",
  time: "#D55E00",
  "delta-neutral": "#009E73",
  adaptive: "#CC79A7",
};

/** How each strategy is named in charts and tables. */
export const STRATEGY_LABELS: Readonly<Record<BacktestStrategy, string>> = {
  none: "none (baseline)",
  threshold: "threshold (reactive)",
  time: "time (proactive)",
  "delta-neutral": "delta-neutral",
  adaptive: "adaptive (volatility)",
};

const hf = (value: number) => value.toFixed(2);
const day = (value: number) => `${Number(value.toPrecision(6))}`;

/** Top of the health-factor axis: enough to show the target well, not so much that a repaid position flattens the rest. */
function healthFactorCeiling(result: BacktestResult, observed: number): number {
  const target = Number(result.settings.targetHealthFactor) / 1e4;
  const ceiling = Math.max(3, 2 * target);
  return Math.min(observed, ceiling);
}

/** Health factor over the representative path: one line per strategy, rebalances as triangles, a liquidation as a cross. */
export function healthFactorPathChart(result: BacktestResult): string {
  const p = result.representativePath;
  const path = result.paths[p]!;
  const observed = Math.max(1.2, ...result.runs.flatMap((runs) => [...runs[p]!.healthFactorBefore, ...runs[p]!.healthFactorAfter].filter((x): x is number => x !== null)));
  const top = healthFactorCeiling(result, observed);
  const clip = (y: number) => Math.min(y, top);
  let clipped = false;
  const series: Series[] = result.strategies.map((strategy, s) => {
    const run = result.runs[s]![p]!;
    const points: { x: number; y: number }[] = [];
    const marks: SeriesMark[] = [];
    run.healthFactorBefore.forEach((before, t) => {
      if (before === null) return;
      const x = path.days[t]!;
      points.push({ x, y: clip(before) });
      const after = run.healthFactorAfter[t];
      if (after !== null && after !== undefined && after !== before) points.push({ x, y: clip(after) });
      if (Math.max(before, after ?? 0) > top) clipped = true;
    });
    for (const r of run.rebalances) marks.push({ x: r.day, y: clip(r.after), label: `rebalance on day ${day(r.day)}: ${hf(r.before)} -> ${hf(r.after)}; ${r.actions.join("; ")}` });
    if (run.liquidation) {
      marks.push({
        x: run.liquidation.day,
        y: clip(Math.max(0, run.liquidation.healthFactor)),
        shape: "cross",
        label: `liquidated on day ${day(run.liquidation.day)} (${run.liquidation.cause})`,
      });
    }
    return { name: STRATEGY_LABELS[strategy], points, style: "line" as const, color: STRATEGY_COLORS[strategy], marks };
  });
  // The adaptive strategy's trigger moves: draw it, dashed in its colour, beside the fixed trigger line.
  const adaptive = result.strategies.indexOf("adaptive");
  const trace = adaptive >= 0 ? result.runs[adaptive]![p]!.adaptive : undefined;
  if (trace) {
    const points = trace.trigger.flatMap((y, t) => (y === null ? [] : [{ x: path.days[t]!, y: clip(y) }]));
    series.push({ name: "adaptive trigger", points, style: "line", color: STRATEGY_COLORS.adaptive, dashed: true });
  }
  const trigger = Number(result.settings.triggerHealthFactor) / 1e4;
  const target = Number(result.settings.targetHealthFactor) / 1e4;
  const lastDay = path.days.at(-1)!;
  return svgChart({
    title: `Health factor on ${path.label}`,
    subtitle: `triangles: rebalances; crosses: liquidations${clipped ? `; values above ${hf(top)} drawn at ${hf(top)}` : ""}`,
    xLabel: "day",
    yLabel: "health factor",
    series,
    hLines: healthFactorLines(trigger, target),
    xRange: [0, lastDay],
    yRange: [0, niceTicks(0, top).at(-1)!],
    formatX: day,
    formatY: hf,
    legend: "bottom-right",
  });
}

/** The liquidation line, the trigger and (when it differs) the target, for both health-factor charts. */
function healthFactorLines(trigger: number, target = trigger) {
  return [
    { y: 1, label: "liquidation (1.0)", color: "#CC0000" },
    { y: trigger, label: `trigger ${hf(trigger)}`, color: "#888888" },
    ...(target !== trigger ? [{ y: target, label: `target ${hf(target)}`, color: "#BBBBBB" }] : []),
  ];
}

/** Median (solid) and 5th percentile (dashed) of the health factor over all paths, per strategy. */
export function healthFactorBandChart(result: BacktestResult): string {
  const days = result.paths[0]!.days;
  const quantiles = result.runs.map((runs) => ({ median: healthFactorQuantiles(runs, 0.5), low: healthFactorQuantiles(runs, 0.05) }));
  const observed = Math.max(1.2, ...quantiles.flatMap((q) => [...q.median, ...q.low]));
  const top = healthFactorCeiling(result, observed);
  const series: Series[] = result.strategies.flatMap((strategy, s) => {
    const color = STRATEGY_COLORS[strategy];
    const line = (values: number[]) => values.map((y, t) => ({ x: days[t]!, y: Math.min(y, top) }));
    return [
      { name: STRATEGY_LABELS[strategy], points: line(quantiles[s]!.median), style: "line" as const, color },
      { name: `${STRATEGY_LABELS[strategy]}: 5th percentile`, points: line(quantiles[s]!.low), style: "line" as const, color, dashed: true, hideInLegend: true },
    ];
  });
  const trigger = Number(result.settings.triggerHealthFactor) / 1e4;
  return svgChart({
    title: `Health factor over ${result.paths.length} path${result.paths.length === 1 ? "" : "s"}: median (solid) and 5th percentile (dashed)`,
    subtitle: `end of each day, after any rebalance; a liquidated path counts as 0 from its liquidation on${observed > top ? `; values above ${hf(top)} drawn at ${hf(top)}` : ""}`,
    xLabel: "day",
    yLabel: "health factor",
    series,
    hLines: healthFactorLines(trigger),
    xRange: [0, days.at(-1)!],
    yRange: [0, niceTicks(0, top).at(-1)!],
    formatX: day,
    formatY: hf,
    legend: "bottom-right",
  });
}

/** Mean cost per path (gas + slippage) against a risk measure, one labelled point per strategy. */
export function costRiskChart(result: BacktestResult, quote: string, risk: "liquidations" | "drawdown"): string {
  const points = result.metrics.map((m) => {
    const y = risk === "liquidations" ? m.liquidationRate * 100 : m.meanMaxDrawdown * 100;
    return { m, x: m.meanCost, y, label: `${m.strategy}: ${m.meanCost.toFixed(0)} ${quote}, ${y.toFixed(1)}%` };
  });
  const xTop = niceTicks(0, Math.max(1, ...points.map((p) => p.x)) * 1.3).at(-1)!;
  const yMax = Math.max(risk === "liquidations" ? 10 : 5, ...points.map((p) => p.y));
  const yTop = risk === "liquidations" && yMax > 80 ? 100 : niceTicks(0, yMax * 1.15).at(-1)!;
  const offsets = labelOffsets(points, [0, xTop], [0, yTop]);
  const series: Series[] = points.map((p, i) => ({
    name: STRATEGY_LABELS[p.m.strategy],
    points: [{ x: p.x, y: p.y, label: p.label, labelDx: offsets[i]!.dx, labelDy: offsets[i]!.dy }],
    style: "points" as const,
    color: STRATEGY_COLORS[p.m.strategy],
    // Each point carries its strategy's name; a legend box could hide a point.
    hideInLegend: true,
  }));
  const what = risk === "liquidations" ? "liquidation rate" : "mean worst drawdown of the health factor";
  return svgChart({
    title: `Cost against risk: ${what}`,
    subtitle: `${result.paths.length} path${result.paths.length === 1 ? "" : "s"}; cost = gas (measured gate gas + estimated trade gas) + slippage, mean per path`,
    xLabel: `mean cost per path (${quote})`,
    yLabel: risk === "liquidations" ? "paths liquidated (%)" : "HF fall from its peak (%, mean of path worsts)",
    series,
    xRange: [0, xTop],
    yRange: [0, yTop],
    formatX: (x) => x.toLocaleString("en-US", { maximumFractionDigits: 0 }),
    formatY: (y) => `${Number(y.toPrecision(4))}`,
  });
}

/**
 * Label positions that do not overlap: each label (about 5.5 px per character, 12 px high) goes
 * to the first of a few slots around its point (above, below, further above, further below)
 * that stays inside the plot and clear of the labels and points placed before it.
 */
function labelOffsets(points: readonly { x: number; y: number; label: string }[], xRange: [number, number], yRange: [number, number]): { dx: number; dy: number }[] {
  const plot = plotArea();
  const px = (x: number) => plot.x + ((x - xRange[0]) / (xRange[1] - xRange[0] || 1)) * plot.w;
  const py = (y: number) => plot.y + plot.h - ((y - yRange[0]) / (yRange[1] - yRange[0] || 1)) * plot.h;
  type Box = { x0: number; x1: number; y0: number; y1: number };
  const overlaps = (a: Box, b: Box) => a.x0 < b.x1 && b.x0 < a.x1 && a.y0 < b.y1 && b.y0 < a.y1;
  const taken: Box[] = points.map((p) => ({ x0: px(p.x) - 4, x1: px(p.x) + 4, y0: py(p.y) - 4, y1: py(p.y) + 4 }));
  const slots = [-6, 16, -20, 30, -34, 44, -48];
  return points.map((p) => {
    const width = p.label.length * 5.5;
    const cx = px(p.x);
    const cy = py(p.y);
    // Start left of the point when the label would run past the right edge.
    const dx = cx + 6 + width > plot.x + plot.w ? -6 - width : 6;
    const boxAt = (dy: number): Box => ({ x0: cx + dx, x1: cx + dx + width, y0: cy + dy - 10, y1: cy + dy + 2 });
    const fits = (b: Box) => b.y0 >= plot.y && b.y1 <= plot.y + plot.h && !taken.some((t) => overlaps(t, b));
    const dy = slots.find((d) => fits(boxAt(d))) ?? slots[0]!;
    taken.push(boxAt(dy));
    return { dx, dy };
  });
}
