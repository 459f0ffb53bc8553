/**
 * What a backtest writes besides its charts: the Markdown report (report.md), the
 * machine-readable results (results.json) and the summary table the CLI prints. The metrics'
 * definitions are docs/backtest.md's; the report repeats them in one line each so it stands
 * alone.
 */
import { formatDecimal } from "../core/decimal.ts";
import { BPS_DECIMALS } from "../core/fixed-point.ts";
import { GATE_GAS_OWNER_REBALANCE_WITH_FLOWS, GATE_GAS_REBALANCE_NO_FLOW, GATE_GAS_SOURCE, GATE_GAS_SWAP_LEG } from "./gate-gas.ts";
import { STRATEGY_LABELS } from "./charts.ts";
import type { StrategyMetrics } from "./metrics.ts";
import type { BacktestResult } from "./run-backtest.ts";
import { HEALTH_FACTOR_CAP, MAX_RETRY_DAYS } from "./run-strategy.ts";
import type { PriceModel } from "./simulate-paths.ts";
import { DEFAULT_GARCH_MIN_RETURNS } from "./volatility-forecast.ts";

export type PathSource = { kind: "simulated"; model: PriceModel; seed: number } | { kind: "replay"; file: string; rows: number; first: string; last: string; assetsHeld: string[] };

export interface BacktestDescription {
  /** The command line that produced the run, for reproducing it. */
  command: string;
  inputs: { position: string; market: string; policy: string; allow: string; returns?: string };
  /** The allowance in words. */
  allowance: string;
  source: PathSource;
  horizonDays: number;
  stepDays: number;
  quote: string;
  quoteDecimals: number;
  /** How gas is priced, in words (gas price, native token price). */
  gasPricing: string;
  runtimeMs: number;
  /** Charts written (file names), PNGs included. */
  charts: string[];
  /** A notice about PNGs (written, or why not). */
  pngNote?: string;
}

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
const num = (x: number, digits = 0) => x.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
const hfText = (x: number) => (x >= HEALTH_FACTOR_CAP ? `>= ${HEALTH_FACTOR_CAP}` : x.toFixed(2));

export const TABLE_HEADER = [
  "strategy",
  "liquidated",
  "HF drawdown: mean / worst",
  "lowest HF (p5 / median)",
  "rebalances per path",
  "gas per path",
  "gas cost",
  "slippage",
  "total cost",
  "collateral per debt",
  "time failing a check",
] as const;

/** One row of the comparison table per strategy (cells as text; money in `quote`, per path). */
export function tableRows(metrics: readonly StrategyMetrics[], quote: string): string[][] {
  return metrics.map((m) => [
    STRATEGY_LABELS[m.strategy],
    `${m.liquidations}/${m.paths} (${pct(m.liquidationRate)})`,
    `${pct(m.meanMaxDrawdown)} / ${pct(m.worstMaxDrawdown)}`,
    `${hfText(m.minHealthFactorP5)} / ${hfText(m.minHealthFactorMedian)}`,
    `${num(m.meanRebalances, 1)}${m.failedAttempts > 0 ? ` (+${m.failedAttempts} no plan)` : ""}`,
    num(m.meanGas),
    `${num(m.meanGasCost, 2)} ${quote}`,
    `${num(m.meanSlippage, 2)} ${quote}`,
    `${num(m.meanCost, 2)} ${quote}`,
    m.collateralPerDebt === null ? "no debt" : num(m.collateralPerDebt, 2),
    pct(m.shareFailingPolicy),
  ]);
}

export function markdownTable(metrics: readonly StrategyMetrics[], quote: string): string {
  const rows = tableRows(metrics, quote);
  const line = (cells: readonly string[]) => `| ${cells.join(" | ")} |`;
  return [line(TABLE_HEADER), line(TABLE_HEADER.map((_, i) => (i === 0 ? "---" : "---:"))), ...rows.map(line)].join("\n");
}

/** The table as aligned plain text, for the terminal. */
export function textTable(metrics: readonly StrategyMetrics[], quote: string): string {
  const rows = [TABLE_HEADER as readonly string[], ...tableRows(metrics, quote)];
  const widths = TABLE_HEADER.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  return rows.map((r) => r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join("  ")).join("\n");
}

function sourceText(d: BacktestDescription): string[] {
  const s = d.source;
  if (s.kind === "replay") {
    return [
      `Paths: historical replay of \`${s.file}\` (${s.rows} daily rows, ${s.first} to ${s.last}), as rolling windows of ${d.horizonDays} days in steps of ${d.stepDays} day${d.stepDays === 1 ? "" : "s"}.`,
      ...(s.assetsHeld.length > 0 ? [`Assets without a column keep their price: ${s.assetsHeld.join(", ")}.`] : []),
    ];
  }
  const m = s.model;
  return [
    `Paths: simulated, seed ${s.seed}: geometric Brownian motion on the market's covariance${m.volScale !== 1 ? ` scaled by ${m.volScale}` : ""}, annual drift ${m.drift}, two volatility regimes (calm x${m.regimeVol[0]}, stressed x${m.regimeVol[1]}; daily switching ${m.regimeSwitch[0]} calm to stressed, ${m.regimeSwitch[1]} back), jumps ${m.jumpsPerYear} a year of log-size N(${m.jumpMean}, ${m.jumpStd}^2); ${d.horizonDays} days in steps of ${d.stepDays} day${d.stepDays === 1 ? "" : "s"}.`,
  ];
}

/** The adaptive strategy's rule in one sentence, for the report. */
function adaptiveText(s: BacktestResult["settings"]): string {
  const a = s.adaptive;
  const model =
    a.volModel === "ewma"
      ? `EWMA (lambda ${a.ewmaLambda})`
      : `GARCH(1,1) fitted each day by maximum likelihood (EWMA with lambda ${a.ewmaLambda} until ${DEFAULT_GARCH_MIN_RETURNS} returns are known)`;
  const days = (n: number) => `${n} day${n === 1 ? "" : "s"}`;
  return `adaptive acts as threshold with a trigger and a target set each day by a forecast of the health factor's volatility sigma(h) from the returns known that day, by ${model}: trigger = min HF x exp(${a.k} sigma(${days(a.reactionDays)})), target = trigger x exp(${a.k} sigma(${days(a.targetDays)})), at most ${formatDecimal(a.maxTrigger, BPS_DECIMALS)} and ${formatDecimal(a.maxTarget, BPS_DECIMALS)}`;
}

function adaptiveSummary(m: StrategyMetrics): string | undefined {
  const a = m.adaptive;
  if (!a) return undefined;
  const range = (x: { mean: number; p5: number; p95: number }) => `${x.mean.toFixed(2)} on average (5th-95th percentile ${x.p5.toFixed(2)}-${x.p95.toFixed(2)})`;
  return `- **adaptive levels**: trigger ${range(a.trigger)}, target ${range(a.target)}${a.fallbackShare > 0 ? `; GARCH fell back to EWMA on ${pct(a.fallbackShare)} of the days (too short a history)` : ""}.`;
}

export function markdownReport(result: BacktestResult, d: BacktestDescription): string {
  const s = result.settings;
  const bps = (x: bigint) => formatDecimal(x, BPS_DECIMALS);
  const rep = result.paths[result.representativePath]!;
  const lines: string[] = [
    "# Rebalancing backtest",
    "",
    `\`${d.command}\``,
    "",
    `Position \`${d.inputs.position}\`, market \`${d.inputs.market}\`, policy \`${d.inputs.policy}\`; health factor at the start ${hfText(result.startHealthFactor)}. ${result.paths.length} path${result.paths.length === 1 ? "" : "s"}, ${result.strategies.length} strateg${result.strategies.length === 1 ? "y" : "ies"}, run in ${(d.runtimeMs / 1000).toFixed(1)} s.`,
    "",
    ...sourceText(d),
    "",
    `Allowance (\`${d.inputs.allow}\`): ${d.allowance}.`,
    "",
    `Strategies: threshold acts when a check fails or the health factor is below ${bps(s.triggerHealthFactor)}; time every ${s.intervalDays} day${s.intervalDays === 1 ? "" : "s"} from day 0; delta-neutral when an asset's delta leaves a band of ${pct(s.deltaBandFraction)} of the collateral value, or as threshold; ${result.strategies.includes("adaptive") ? `${adaptiveText(s)}; ` : ""}every plan restores the checks and a health factor of ${bps(s.targetHealthFactor)}${result.strategies.includes("adaptive") ? " (adaptive: its own target)" : ""}. After a search that finds no plan, a strategy asks again after 1, 2, 4, then every ${MAX_RETRY_DAYS} days.`,
    "",
    "## Results",
    "",
    `Means per path; money in ${d.quote}.`,
    "",
    markdownTable(result.metrics, d.quote),
    "",
    ...result.metrics.flatMap((m) => adaptiveSummary(m) ?? []),
    `- **liquidated**: paths where the health factor fell below 1 or the equity below 0 at some step (before the strategy could act that step); the run of that path stops there.`,
    `- **HF drawdown**: per path, the largest fall of the health factor below its running peak, relative to the peak (health factors above ${HEALTH_FACTOR_CAP}, or no debt, count as ${HEALTH_FACTOR_CAP}); mean over paths / worst path.`,
    "- **lowest HF**: per path, the lowest health factor from day 1 on (at the liquidation for a liquidated path); 5th percentile / median over paths.",
    "- **rebalances per path**: plans applied; in brackets, asks that found no plan within the allowance (all paths).",
    `- **gas per path**: the gate's measured \`rebalance\` gas per rebalance (${num(Number(GATE_GAS_OWNER_REBALANCE_WITH_FLOWS))} when it moves wallet tokens or the lender, ${num(Number(GATE_GAS_REBALANCE_NO_FLOW))} otherwise) plus ${num(Number(GATE_GAS_SWAP_LEG))} for each swap the gate executes on the Uniswap v2 pair (${GATE_GAS_SOURCE}). ${d.gasPricing}`,
    "- **slippage**: what the plans' trades lose at the worst price the policy's maxSlippage allows (the planner's assumption).",
    "- **collateral per debt**: per path, the collateral value averaged over its days over the debt value averaged over the same days (end of day, until a liquidation); mean over paths. Lower is more capital-efficient: less collateral tied up per unit borrowed.",
    "- **time failing a check**: per path, the share of days some check of the policy (health factor, stress, VaR) failed after the market moved; mean over paths.",
    "",
    "## Charts",
    "",
    `![health factor on a representative path](hf-paths.svg)`,
    "",
    `\`hf-paths.svg\`: ${rep.label}, the lower decile of the ${result.strategies.includes("none") ? "baseline's" : "first strategy's"} lowest health factor: a bad path, not the worst.`,
    "",
    "![health factor percentiles](hf-percentiles.svg)",
    "",
    "![cost against liquidations](cost-vs-risk.svg)",
    "",
    "![cost against drawdown](cost-vs-drawdown.svg)",
    "",
    ...(d.pngNote ? [d.pngNote, ""] : []),
    "## Instruments",
    "",
    ...result.repricing.map((r) => `- \`${r.id}\`: ${r.method}.`),
    "",
    'Scenario PnL move with the instruments\' pricing; scenario returns, weights and the covariance stay as published (docs/backtest.md, "Repricing").',
    "",
  ];
  const failures = result.runs.flatMap((runs, s) => {
    const first = runs.find((r) => r.firstFailure);
    return first ? [`- ${STRATEGY_LABELS[result.strategies[s]!]}: ${first.firstFailure}`] : [];
  });
  if (failures.length > 0) lines.push("## Where the planner found no plan (first occurrence per strategy)", "", ...failures, "");
  return `${lines.join("\n")}`;
}

const bigintsAsStrings = (_key: string, value: unknown) => (typeof value === "bigint" ? value.toString() : value);

/** results.json: the description, the settings, the metrics and one summary per strategy and path. */
export function resultsJson(result: BacktestResult, d: BacktestDescription): string {
  const money = (x: bigint) => formatDecimal(x, d.quoteDecimals);
  const json = {
    version: 1,
    kind: "zks-backtest",
    command: d.command,
    inputs: d.inputs,
    allowance: d.allowance,
    source: d.source,
    horizonDays: d.horizonDays,
    stepDays: d.stepDays,
    quote: d.quote,
    runtimeMs: Math.round(d.runtimeMs),
    settings: {
      triggerHealthFactor: formatDecimal(result.settings.triggerHealthFactor, BPS_DECIMALS),
      targetHealthFactor: formatDecimal(result.settings.targetHealthFactor, BPS_DECIMALS),
      intervalDays: result.settings.intervalDays,
      deltaBandFraction: result.settings.deltaBandFraction,
      gasPriceWei: result.settings.gasPriceWei,
      nativePrice: result.settings.nativePrice === undefined ? "the market's WETH/ETH price at each rebalance" : money(result.settings.nativePrice),
      maxRetryDays: MAX_RETRY_DAYS,
      healthFactorCap: HEALTH_FACTOR_CAP,
      ...(result.strategies.includes("adaptive") && {
        adaptive: {
          ...result.settings.adaptive,
          maxTrigger: formatDecimal(result.settings.adaptive.maxTrigger, BPS_DECIMALS),
          maxTarget: formatDecimal(result.settings.adaptive.maxTarget, BPS_DECIMALS),
          garchMinReturns: DEFAULT_GARCH_MIN_RETURNS,
        },
      }),
    },
    gas: { source: GATE_GAS_SOURCE, gateWithFlows: GATE_GAS_OWNER_REBALANCE_WITH_FLOWS, gateWithoutFlows: GATE_GAS_REBALANCE_NO_FLOW, perSwap: GATE_GAS_SWAP_LEG },
    startHealthFactor: Number.isFinite(result.startHealthFactor) ? result.startHealthFactor : null,
    representativePath: { index: result.representativePath, label: result.paths[result.representativePath]!.label },
    instruments: result.repricing,
    metrics: result.metrics,
    paths: result.paths.map((path, p) => ({
      label: path.label,
      finalFactors: path.factors.at(-1),
      ...(path.jumps && { jumps: path.jumps.reduce((a, b) => a + b, 0) }),
      ...(path.regimes && { stressedDays: path.regimes.filter((r) => r === 1).length }),
      strategies: Object.fromEntries(
        result.strategies.map((strategy, s) => {
          const run = result.runs[s]![p]!;
          return [
            strategy,
            {
              liquidation: run.liquidation ?? null,
              rebalances: run.rebalances.map((r) => ({
                day: r.day,
                before: r.before,
                after: r.after,
                actions: r.actions,
                gas: r.gateGas + r.tradeGas,
                gasCost: money(r.gasCost),
                slippage: money(r.slippage),
              })),
              failedAttempts: run.failedAttempts,
              minHealthFactor: run.minHealthFactor,
              maxDrawdown: run.maxDrawdown,
              collateralPerDebt: run.collateralPerDebt,
              gas: run.gateGas + run.tradeGas,
              gasCost: money(run.gasCost),
              slippage: money(run.slippage),
              ...(run.adaptive && { adaptive: { trigger: run.adaptive.trigger, target: run.adaptive.target, garchFallbackSteps: run.adaptive.fallbackSteps } }),
            },
          ];
        }),
      ),
    })),
  };
  return `${JSON.stringify(json, bigintsAsStrings, 2)}\n`;
}
