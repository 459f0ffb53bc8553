import { niceTicks } from "./nice-ticks.ts";

export interface Series {
  name: string;
  /** `labelDx`, `labelDy`: where a point's label starts, in pixels from the point (default 6, -6: above right). */
  points: readonly { x: number; y: number; label?: string; labelDx?: number; labelDy?: number }[];
  /** "line" joins the points in order; "points" marks each one; default both. */
  style?: "line" | "points" | "line+points";
  color?: string;
  dashed?: boolean;
  /** Events on the series (e.g. rebalances, a liquidation), drawn in its colour; not in the legend. */
  marks?: readonly SeriesMark[];
  /** Leave the series out of the legend (e.g. a second line of a strategy already listed). */
  hideInLegend?: boolean;
}

export interface SeriesMark {
  x: number;
  y: number;
  /** "triangle" (default) or "cross". */
  shape?: "triangle" | "cross";
  /** Tooltip text. */
  label?: string;
}

export interface ChartOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  series: readonly Series[];
  /** Horizontal reference lines, e.g. a threshold. */
  hLines?: readonly { y: number; label: string; color?: string }[];
  /** Vertical marks, e.g. events along a time axis. */
  vMarks?: readonly { x: number; label?: string; color?: string }[];
  width?: number;
  height?: number;
  /** Axis ranges; taken from the data (and reference lines) when absent. */
  xRange?: [number, number];
  yRange?: [number, number];
  formatX?: (value: number) => string;
  formatY?: (value: number) => string;
  /** A boxed legend in this corner of the plot, drawn over the data; without it, the legend is a plain list at the top left. */
  legend?: "top-left" | "top-right" | "bottom-left" | "bottom-right";
  /** A note under the title, e.g. what was clipped. */
  subtitle?: string;
}

/** Colours distinguishable in colour-blind palettes (Okabe-Ito). */
const PALETTE = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442"];

const escapeXml = (text: string): string => text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

const defaultFormat = (value: number): string => (Math.abs(value) >= 1000 ? value.toLocaleString("en-US") : String(Number(value.toPrecision(6))));

/** The plot's rectangle inside a chart of `width` x `height` pixels (for callers that place labels). */
export function plotArea(width = 720, height = 420): { x: number; y: number; w: number; h: number } {
  const margin = { top: 48, right: 24, bottom: 56, left: 76 };
  return { x: margin.left, y: margin.top, w: width - margin.left - margin.right, h: height - margin.top - margin.bottom };
}

/**
 * A self-contained SVG line/scatter chart (no scripts, no external fonts), for benchmark and
 * backtest reports that should render on GitHub and in any browser.
 */
export function svgChart(options: ChartOptions): string {
  const width = options.width ?? 720;
  const height = options.height ?? 420;
  const plot = plotArea(width, height);
  const all = options.series.flatMap((s) => s.points);
  if (all.length === 0) throw new RangeError(`svgChart "${options.title}": no data points`);
  for (const p of all) if (!Number.isFinite(p.x) || !Number.isFinite(p.y)) throw new RangeError(`svgChart "${options.title}": non-finite point (${p.x}, ${p.y})`);
  for (const m of options.series.flatMap((s) => s.marks ?? [])) {
    if (!Number.isFinite(m.x) || !Number.isFinite(m.y)) throw new RangeError(`svgChart "${options.title}": non-finite mark (${m.x}, ${m.y})`);
  }
  const xs = all.map((p) => p.x).concat((options.vMarks ?? []).map((m) => m.x));
  const ys = all.map((p) => p.y).concat((options.hLines ?? []).map((l) => l.y));
  const xTicks = niceTicks(...(options.xRange ?? [Math.min(...xs), Math.max(...xs)]));
  const yTicks = niceTicks(...(options.yRange ?? [Math.min(...ys), Math.max(...ys)]));
  const [x0, x1] = options.xRange ?? [xTicks[0]!, xTicks.at(-1)!];
  const [y0, y1] = options.yRange ?? [yTicks[0]!, yTicks.at(-1)!];
  const sx = (x: number) => plot.x + ((x - x0) / (x1 - x0 || 1)) * plot.w;
  const sy = (y: number) => plot.y + plot.h - ((y - y0) / (y1 - y0 || 1)) * plot.h;
  const fx = options.formatX ?? defaultFormat;
  const fy = options.formatY ?? defaultFormat;
  const r = (n: number) => n.toFixed(1);

  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif" font-size="12">`,
    `<title>${escapeXml(options.title)}</title>`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="${width / 2}" y="24" text-anchor="middle" font-size="15" font-weight="bold">${escapeXml(options.title)}</text>`,
  ];
  if (options.subtitle) out.push(`<text x="${width / 2}" y="40" text-anchor="middle" font-size="11" fill="#555555">${escapeXml(options.subtitle)}</text>`);
  for (const t of xTicks.filter((t) => t >= x0 && t <= x1)) {
    out.push(`<line x1="${r(sx(t))}" y1="${plot.y}" x2="${r(sx(t))}" y2="${plot.y + plot.h}" stroke="#e5e5e5"/>`);
    out.push(`<text x="${r(sx(t))}" y="${plot.y + plot.h + 16}" text-anchor="middle">${escapeXml(fx(t))}</text>`);
  }
  for (const t of yTicks.filter((t) => t >= y0 && t <= y1)) {
    out.push(`<line x1="${plot.x}" y1="${r(sy(t))}" x2="${plot.x + plot.w}" y2="${r(sy(t))}" stroke="#e5e5e5"/>`);
    out.push(`<text x="${plot.x - 6}" y="${r(sy(t) + 4)}" text-anchor="end">${escapeXml(fy(t))}</text>`);
  }
  out.push(`<rect x="${plot.x}" y="${plot.y}" width="${plot.w}" height="${plot.h}" fill="none" stroke="#333333"/>`);
  out.push(`<text x="${plot.x + plot.w / 2}" y="${height - 14}" text-anchor="middle">${escapeXml(options.xLabel)}</text>`);
  out.push(`<text transform="translate(16 ${plot.y + plot.h / 2}) rotate(-90)" text-anchor="middle">${escapeXml(options.yLabel)}</text>`);
  for (const line of options.hLines ?? []) {
    const color = line.color ?? "#999999";
    out.push(`<line x1="${plot.x}" y1="${r(sy(line.y))}" x2="${plot.x + plot.w}" y2="${r(sy(line.y))}" stroke="${color}" stroke-dasharray="6 4"/>`);
    out.push(`<text x="${plot.x + plot.w - 4}" y="${r(sy(line.y) - 4)}" text-anchor="end" fill="${color}">${escapeXml(line.label)}</text>`);
  }
  for (const mark of options.vMarks ?? []) {
    const color = mark.color ?? "#999999";
    out.push(`<line x1="${r(sx(mark.x))}" y1="${plot.y}" x2="${r(sx(mark.x))}" y2="${plot.y + plot.h}" stroke="${color}" stroke-opacity="0.6"/>`);
    if (mark.label) out.push(`<text x="${r(sx(mark.x) + 3)}" y="${plot.y + 12}" fill="${color}" font-size="10">${escapeXml(mark.label)}</text>`);
  }
  let legendRow = 0;
  options.series.forEach((series, index) => {
    const color = series.color ?? PALETTE[index % PALETTE.length]!;
    const style = series.style ?? "line+points";
    const dash = series.dashed ? ` stroke-dasharray="5 3"` : "";
    if (style !== "points" && series.points.length > 1) {
      const d = series.points.map((p, i) => `${i === 0 ? "M" : "L"}${r(sx(p.x))} ${r(sy(p.y))}`).join(" ");
      out.push(`<path d="${d}" fill="none" stroke="${color}" stroke-width="2"${dash}/>`);
    }
    if (style !== "line") {
      for (const p of series.points) {
        out.push(
          `<circle cx="${r(sx(p.x))}" cy="${r(sy(p.y))}" r="3.5" fill="${color}"><title>${escapeXml(`${series.name}: ${p.label ? `${p.label}, ` : ""}${fx(p.x)}, ${fy(p.y)}`)}</title></circle>`,
        );
        if (p.label) out.push(`<text x="${r(sx(p.x) + (p.labelDx ?? 6))}" y="${r(sy(p.y) + (p.labelDy ?? -6))}" font-size="10" fill="#333333">${escapeXml(p.label)}</text>`);
      }
    }
    if (options.legend === undefined && !series.hideInLegend) {
      const ly = plot.y + 8 + legendRow++ * 16;
      out.push(`<rect x="${plot.x + 10}" y="${ly}" width="12" height="3" fill="${color}"/>`);
      out.push(`<text x="${plot.x + 28}" y="${ly + 5}">${escapeXml(series.name)}</text>`);
    }
    for (const mark of series.marks ?? []) {
      const [cx, cy] = [sx(mark.x), sy(mark.y)];
      const tip = mark.label ? `<title>${escapeXml(`${series.name}: ${mark.label}`)}</title>` : "";
      if (mark.shape === "cross") {
        out.push(
          `<path d="M${r(cx - 5)} ${r(cy - 5)} L${r(cx + 5)} ${r(cy + 5)} M${r(cx - 5)} ${r(cy + 5)} L${r(cx + 5)} ${r(cy - 5)}" stroke="${color}" stroke-width="2.5" fill="none">${tip}</path>`,
        );
      } else {
        out.push(`<path d="M${r(cx)} ${r(cy - 6)} L${r(cx + 5)} ${r(cy + 3)} L${r(cx - 5)} ${r(cy + 3)} Z" fill="${color}" stroke="#ffffff" stroke-width="0.8">${tip}</path>`);
      }
    }
  });
  // A placed legend goes last, on a white ground, so lines never run through it.
  const listed = options.series.map((series, index) => ({ series, color: series.color ?? PALETTE[index % PALETTE.length]! })).filter(({ series }) => !series.hideInLegend);
  if (options.legend !== undefined && listed.length > 0) {
    const corner = options.legend;
    const boxWidth = 34 + Math.max(...listed.map(({ series }) => series.name.length)) * 6.6;
    const boxHeight = 8 + listed.length * 16;
    const bx = corner.endsWith("right") ? plot.x + plot.w - boxWidth - 6 : plot.x + 6;
    const by = corner.startsWith("bottom") ? plot.y + plot.h - boxHeight - 6 : plot.y + 6;
    out.push(`<rect x="${r(bx)}" y="${r(by)}" width="${r(boxWidth)}" height="${boxHeight}" fill="#ffffff" fill-opacity="0.85" stroke="#cccccc"/>`);
    listed.forEach(({ series, color }, row) => {
      const ly = by + 8 + row * 16;
      const dash = series.dashed ? ` stroke-dasharray="5 3"` : "";
      out.push(`<line x1="${r(bx + 6)}" y1="${r(ly + 2)}" x2="${r(bx + 24)}" y2="${r(ly + 2)}" stroke="${color}" stroke-width="3"${dash}/>`);
      out.push(`<text x="${r(bx + 30)}" y="${r(ly + 6)}">${escapeXml(series.name)}</text>`);
    });
  }
  out.push("</svg>");
  return `${out.join("\n")}\n`;
}
