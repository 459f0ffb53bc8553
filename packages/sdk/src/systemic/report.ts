/**
 * What a cascade simulation writes besides its charts: the Markdown report (report.md), the
 * machine-readable result (result.json) and the summary the CLI prints. The definitions are
 * docs/systemic.md's, repeated in one line each so the report stands alone.
 */
import { formatDecimal, formatHuman } from "../core/decimal.ts";
import { BPS_DECIMALS } from "../core/fixed-point.ts";
import type { Market } from "../inputs/types.ts";
import { VAULT_STRATEGIES } from "./book.ts";
import { SYSTEMIC_PNG_OF } from "./charts.ts";
import type { RunSummary } from "./metrics.ts";
import { mixLabel } from "./options.ts";
import type { RunMode } from "./simulate.ts";
import type { SystemicRun } from "./workflow.ts";

export interface SystemicFile {
  name: string;
  content: string | Uint8Array;
}

export interface SystemicReportMeta {
  /** The command (or call) that produced the run. */
  command: string;
  /** The input files' names as the report shows them. */
  inputs: { market: string; policy: string; book: string };
  runtimeMs: number;
  /** PNG copies of charts, rendered by the caller (Node: @resvg/resvg-js). */
  pngs?: readonly SystemicFile[];
  pngNote?: string;
}

/** The files a run always writes (the sweep's two charts only with a sweep). */
export const SYSTEMIC_OUTPUT_FILES = [
  "report.md",
  "result.json",
  "price.svg",
  "volume.svg",
  "liquidations.svg",
  "liquidity.svg",
  "amplification.svg",
  "sweep-liquidations.svg",
] as const;
export { SYSTEMIC_PNG_OF };

const MODE_LABELS: Readonly<Record<RunMode, string>> = {
  feedback: "feedback: vaults and liquidators sell into the pools",
  "no-impact": "no price impact: vaults trade at the exogenous price",
  passive: "no vault acts, no price impact",
};

const pct = (x: number) => `${x >= 0 ? "+" : ""}${(x * 100).toFixed(2)}%`;
const num = (x: number) => x.toLocaleString("en-US");
const money = (market: Market, v: bigint) => `${formatHuman(v, market.quote.decimals, 0)} ${market.quote.symbol}`;
const hf = (v: bigint) => formatDecimal(v, BPS_DECIMALS);
const factorText = (x: number | null) => (x === null ? "n/a" : `x${x.toFixed(2)}`);
const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

function drainedText(run: SystemicRun, s: RunSummary): string {
  if (s.drained.length === 0) return "no pool";
  return s.drained.map((d) => `${run.market.assets[d.asset]!.symbol} ${pct(d.quoteChange)} (sales ${pct(-d.bySales)})`).join(", ");
}

/** The main table: one row per mode. */
export function runRows(run: SystemicRun): string[][] {
  const a = run.amplification.asset;
  return (["feedback", "no-impact", "passive"] as const).map((mode) => {
    const s = run.summaries[mode];
    return [
      MODE_LABELS[mode],
      `${num(s.liquidations)} (${num(s.liquidatedByHealthFactor)} HF, ${num(s.liquidatedByEquity)} equity)`,
      num(s.rebalances),
      mode === "feedback" ? `${num(s.cut)} / ${num(s.blocked)}` : "-",
      money(run.market, s.valueByRebalance),
      money(run.market, s.valueByLiquidation),
      `${pct(s.priceChange[a]!)} (lowest ${pct(s.lowestChange[a]!)})`,
      mode === "feedback" ? drainedText(run, s) : "-",
      money(run.market, s.badDebt),
      seconds(s.runtimeMs),
    ];
  });
}

export const RUN_HEADER = [
  "run",
  "liquidated",
  "rebalances",
  "guard: cut / blocked",
  "sold by rebalances",
  "sold by liquidators",
  "shocked asset",
  "pool quote side",
  "bad debt",
  "run time",
] as const;

export const SWEEP_HEADER = [
  "vaults",
  "mix",
  "shocked asset: feedback / exogenous",
  "amplification (end / trough)",
  "liquidated: feedback / no impact",
  "sold (feedback)",
  "pool quote side",
  "run time",
] as const;

export function sweepRows(run: SystemicRun): string[][] {
  return run.sweep.map((p) => [
    num(p.vaults),
    p.mixLabel,
    `${pct(p.amplification.feedbackChange)} / ${pct(p.amplification.exogenousChange)}`,
    `${factorText(p.amplification.factor)} / ${factorText(p.amplification.troughFactor)}`,
    `${num(p.feedback.liquidations)} / ${num(p.noImpact.liquidations)} (${((p.feedback.liquidations / p.vaults) * 100).toFixed(1)}% / ${((p.noImpact.liquidations / p.vaults) * 100).toFixed(1)}%)`,
    money(run.market, p.feedback.valueByRebalance + p.feedback.valueByLiquidation),
    drainedText(run, p.feedback),
    seconds(p.feedback.runtimeMs + p.noImpact.runtimeMs),
  ]);
}

export function markdownTable(header: readonly string[], rows: readonly string[][]): string {
  const escape = (cell: string) => cell.replace(/\|/g, "\\|");
  return [`| ${header.join(" | ")} |`, `| ${header.map(() => "---").join(" | ")} |`, ...rows.map((r) => `| ${r.map(escape).join(" | ")} |`)].join("\n");
}

/** A plain-text table for the terminal. */
export function textTable(header: readonly string[], rows: readonly string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join("  ")
      .trimEnd();
  return [line(header), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n");
}

function settingsLines(run: SystemicRun, meta: SystemicReportMeta): string[] {
  const { market, settings: s } = run;
  const quote = market.assets[s.quote]!;
  const composition = VAULT_STRATEGIES.filter((k) => run.composition[k] > 0)
    .map((k) => `${num(run.composition[k])} ${k}`)
    .join(", ");
  const shock = s.shock.map((x) => `${market.assets[x.asset]!.symbol} ${pct(x.change)} from step ${s.shockStep}`).join(", ");
  const pools = market.assets
    .map((a, i) => ({ a, i }))
    .filter(({ i }) => i !== s.quote)
    .map(({ a, i }) =>
      s.depth[i]! > 0n
        ? `${a.symbol}/${quote.symbol} ${formatHuman(s.depth[i]!, quote.decimals, 0)} ${quote.symbol} a side (${s.depthSource[i]})`
        : `${a.symbol}: no pool (exogenous price)`,
    )
    .join("; ");
  return [
    `- Command: \`${meta.command}\``,
    `- Inputs: market \`${meta.inputs.market}\`, policy \`${meta.inputs.policy}\`, book \`${meta.inputs.book}\` (${s.templates} position${s.templates === 1 ? "" : "s"}${s.asIs ? ", taken as they are" : ", the templates the vaults are varied from"})`,
    `- Vaults: ${num(s.vaults)} (${composition}); mix ${mixLabel(s.mix)}; seed ${s.seed}`,
    s.asIs
      ? "- Book: the positions as given"
      : `- Book variation: scale ${s.variation.scale.join(" to ")}x (log-uniform), collateral weights +-${s.variation.mixJitter * 100}%, ${s.variation.addAssetShare * 100}% of vaults with one more asset, initial health factor ${s.variation.healthFactor.join(" to ")}, options x${s.variation.options.join(" to ")}`,
    `- Strategies: trigger ${hf(s.strategy.trigger)}, target ${hf(s.strategy.target)}; time every ${s.strategy.intervalSteps} steps at a random phase; randomized: trigger +-${s.strategy.triggerJitter}, a delay of 0 to ${s.strategy.maxDelaySteps} steps`,
    `- Steps: ${s.steps} of ${s.stepHours} h; exogenous path: ${shock || "none"}${s.simulate ? `${shock ? " and " : ""}a simulated path (the backtest's price model, seed ${s.seed})` : ""}`,
    `- Pools (x*y=k against ${quote.symbol}, fee ${Number(s.feeBps) / 100}%): ${pools}; liquidity level ${s.liquidity}x the collateral value a ${s.asIs ? "book" : "1,000-vault book"} holds`,
    `- Slippage guard: ${
      s.guard
        ? `on (the gate's bound: a sale the pools pay less than the policy's floor for, ${formatDecimal(s.maxSlippage * 100n, 6)}% under the oracle's price, is cut to the largest that passes, or blocked)`
        : "off (vaults take what the pools pay)"
    }; arbitrage recovery ${s.recovery * 100}% of the gap per step; liquidation bonus ${Number(s.bonusBps) / 100}%`,
  ];
}

/** The Markdown report. */
export function systemicMarkdown(run: SystemicRun, meta: SystemicReportMeta, chartNames: readonly string[]): string {
  const { market, amplification: amp } = run;
  const symbol = market.assets[amp.asset]!.symbol;
  const lines = [
    "# Cascade simulation",
    "",
    ...settingsLines(run, meta),
    `- Run time: ${seconds(meta.runtimeMs)} (the three runs of the book ${seconds(run.summaries.feedback.runtimeMs + run.summaries["no-impact"].runtimeMs + run.summaries.passive.runtimeMs)})`,
    "",
    "## Result",
    "",
    markdownTable(RUN_HEADER, runRows(run)),
    "",
    `**Amplification.** ${symbol} ended ${pct(amp.feedbackChange)} through the pools against ${pct(amp.exogenousChange)} exogenous: ${
      amp.factor === null ? "the exogenous path does not fall, so no factor is defined" : `x${amp.factor.toFixed(2)} the shock`
    }; at its lowest ${pct(amp.feedbackLowest)} against ${pct(amp.exogenousLowest)}${amp.troughFactor !== null ? ` (x${amp.troughFactor.toFixed(2)})` : ""}. ${num(amp.liquidations.feedback)} vaults were liquidated with the feedback, ${num(amp.liquidations.noImpact)} when the vaults trade at the exogenous price${
      amp.liquidations.passive !== undefined ? ` and ${num(amp.liquidations.passive)} when no vault acts` : ""
    }${amp.liquidationFactor !== null ? ` (x${amp.liquidationFactor.toFixed(2)})` : ""}.`,
    "",
  ];
  if (run.sweep.length > 0) {
    lines.push("## Against the number of vaults and the strategy mix", "", markdownTable(SWEEP_HEADER, sweepRows(run)), "");
  }
  lines.push(
    "## Definitions",
    "",
    "- **liquidated**: vaults with a health factor below 1 or negative equity at a step's oracle prices; the liquidator repays the debt, seizes collateral worth the debt plus the bonus and sells it into the pools.",
    '- **rebalances**: vault-steps where a strategy applied the restore rule (docs/systemic.md, "The rule"); **cut / blocked**: sales the slippage guard reduced, and sales it refused.',
    "- **sold**: value sold at each step's oracle prices. **shocked asset**: its price at the end over the market file's (lowest: the lowest end of step).",
    "- **pool quote side**: each pool's quote-asset reserve at the end over its start (the outside shock moves it along the curve too); in brackets the part the sales drained: quote paid out to vaults and liquidators, over the start.",
    "- **amplification**: the shocked asset's fall with the feedback over its exogenous fall (the no-impact run's prices are the exogenous path), at the end and at the trough (the lowest end of step).",
    "- **bad debt**: debt value the collateral did not cover at liquidation, at oracle prices.",
    "",
    "## Charts",
    "",
    ...chartNames.filter((c) => c.endsWith(".svg")).map((c) => `![${c}](${c})`),
    "",
  );
  if (meta.pngNote) lines.push(meta.pngNote, "");
  return `${lines.join("\n")}`;
}

const dec = (market: Market, v: bigint) => formatDecimal(v, market.quote.decimals);

function summaryJson(run: SystemicRun, s: RunSummary) {
  const { market } = run;
  const amounts = (xs: bigint[]) => Object.fromEntries(xs.map((x, i) => [market.assets[i]!.symbol, formatDecimal(x, market.assets[i]!.decimals)]));
  return {
    mode: s.mode,
    vaults: s.vaults,
    liquidations: s.liquidations,
    liquidatedByHealthFactor: s.liquidatedByHealthFactor,
    liquidatedByEquity: s.liquidatedByEquity,
    rebalances: s.rebalances,
    cut: s.cut,
    blocked: s.blocked,
    valueByRebalance: dec(market, s.valueByRebalance),
    valueByLiquidation: dec(market, s.valueByLiquidation),
    soldByRebalance: amounts(s.soldByRebalance),
    soldByLiquidation: amounts(s.soldByLiquidation),
    priceChange: Object.fromEntries(s.priceChange.map((x, i) => [market.assets[i]!.symbol, x])),
    lowestChange: Object.fromEntries(s.lowestChange.map((x, i) => [market.assets[i]!.symbol, x])),
    drained: s.drained.map((d) => ({ pool: market.assets[d.asset]!.symbol, quoteChange: d.quoteChange, assetChange: d.assetChange })),
    badDebt: dec(market, s.badDebt),
    runtimeMs: Math.round(s.runtimeMs),
  };
}

/** The summaries of the three runs, the amplification and the sweep, as JSON values (amounts as decimal strings). */
export function systemicSummaryJson(run: SystemicRun) {
  const { market } = run;
  return {
    summaries: Object.fromEntries((["feedback", "no-impact", "passive"] as const).map((m) => [m, summaryJson(run, run.summaries[m])])),
    amplification: { ...run.amplification, asset: market.assets[run.amplification.asset]!.symbol },
    sweep: run.sweep.map((p) => ({
      vaults: p.vaults,
      mix: p.mix,
      mixLabel: p.mixLabel,
      amplification: { ...p.amplification, asset: market.assets[p.amplification.asset]!.symbol },
      feedback: summaryJson(run, p.feedback),
      noImpact: summaryJson(run, p.noImpact),
    })),
  };
}

/** result.json: the settings, the three runs step by step, the amplification and the sweep. */
export function systemicResultJson(run: SystemicRun, meta: SystemicReportMeta): string {
  const { market, settings: s } = run;
  const q = market.assets[s.quote]!;
  const steps = (mode: RunMode) =>
    run.runs[mode].steps.map((r) => ({
      step: r.step,
      hours: r.hours,
      prices: r.prices.map((p) => dec(market, p)),
      closePrices: r.closePrices.map((p) => dec(market, p)),
      liquidations: r.liquidations,
      rebalances: r.rebalances,
      cut: r.cut,
      blocked: r.blocked,
      valueByRebalance: dec(market, r.valueByRebalance),
      valueByLiquidation: dec(market, r.valueByLiquidation),
      reserves: r.reserves.map((x, k) => {
        const a = market.assets[run.runs[mode].pools[k]!]!;
        return { pool: a.symbol, asset: formatDecimal(x.asset, a.decimals), quote: formatDecimal(x.quote, q.decimals) };
      }),
    }));
  const json = {
    version: 1,
    kind: "zks-systemic",
    command: meta.command,
    inputs: meta.inputs,
    runtimeMs: Math.round(meta.runtimeMs),
    assets: market.assets.map((a) => a.symbol),
    settings: {
      vaults: s.vaults,
      asIs: s.asIs,
      templates: s.templates,
      steps: s.steps,
      stepHours: s.stepHours,
      seed: s.seed,
      mix: s.mix,
      composition: run.composition,
      shock: s.shock.map((x) => ({ asset: market.assets[x.asset]!.symbol, change: x.change })),
      shockStep: s.shockStep,
      simulate: s.simulate ?? null,
      quoteAsset: q.symbol,
      pools: market.assets.flatMap((a, i) => (s.depth[i]! > 0n ? [{ asset: a.symbol, depth: formatDecimal(s.depth[i]!, q.decimals), source: s.depthSource[i] }] : [])),
      liquidity: s.liquidity,
      fee: Number(s.feeBps) / 1e4,
      guard: s.guard,
      recovery: s.recovery,
      bonus: Number(s.bonusBps) / 1e4,
      trigger: hf(s.strategy.trigger),
      target: hf(s.strategy.target),
      intervalSteps: s.strategy.intervalSteps,
      jitter: s.strategy.triggerJitter,
      maxDelaySteps: s.strategy.maxDelaySteps,
      variation: s.variation,
    },
    exogenous: run.exogenous,
    ...systemicSummaryJson(run),
    steps: Object.fromEntries((["feedback", "no-impact", "passive"] as const).map((m) => [m, steps(m)])),
    vaults: run.vaults.map((v, k) => ({
      id: v.id,
      template: v.template,
      strategy: v.strategy,
      trigger: hf(v.trigger),
      target: hf(v.target),
      liquidatedAt: run.runs.feedback.vaults[k]!.liquidatedAt,
      ...(run.runs.feedback.vaults[k]!.cause !== undefined && { cause: run.runs.feedback.vaults[k]!.cause }),
      rebalances: run.runs.feedback.vaults[k]!.rebalances,
    })),
  };
  return `${JSON.stringify(json, null, 2)}\n`;
}

/** Every output file: report.md, result.json, the SVG charts and any PNG copies. */
export function systemicReportFiles(run: SystemicRun, meta: SystemicReportMeta): SystemicFile[] {
  const { charts } = run;
  const names = [...Object.keys(charts), ...(meta.pngs ?? []).map((p) => p.name)];
  return [
    { name: "report.md", content: systemicMarkdown(run, meta, names) },
    { name: "result.json", content: systemicResultJson(run, meta) },
    ...Object.entries(charts).map(([name, content]) => ({ name, content })),
    ...(meta.pngs ?? []),
  ];
}
