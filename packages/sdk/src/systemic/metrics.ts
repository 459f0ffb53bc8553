/**
 * What a cascade run measured (docs/systemic.md, "Measures"): liquidations, the volume sold, the
 * price path, the liquidity drained from the pools, and how much the feedback through the pools
 * amplified the exogenous shock.
 */
import type { Market } from "../inputs/types.ts";
import type { RunMode, SimulationRun } from "./simulate.ts";

export interface PoolDrain {
  asset: number;
  /** Quote-side reserve at the end over at the start, minus 1 (negative: drained). */
  quoteChange: number;
  /** Asset-side reserve, the same. */
  assetChange: number;
  /** Quote paid out to the vaults' and the liquidators' sales (net of purchases), over the quote-side reserve at the start: the part of the drain the sales caused. */
  bySales: number;
  byRebalance: number;
  byLiquidation: number;
}

export interface RunSummary {
  mode: RunMode;
  vaults: number;
  liquidations: number;
  liquidatedByHealthFactor: number;
  liquidatedByEquity: number;
  /** Vault-steps where a strategy acted with something to do. */
  rebalances: number;
  /** Sales the slippage guard cut, and sales it blocked. */
  cut: number;
  blocked: number;
  /** Value sold at each step's oracle prices, q.u., by rebalances and by liquidators. */
  valueByRebalance: bigint;
  valueByLiquidation: bigint;
  /** Per market asset, base units sold by rebalances and by liquidators. */
  soldByRebalance: bigint[];
  soldByLiquidation: bigint[];
  /** Per market asset: the price at the end over the price at step 0, minus 1. */
  priceChange: number[];
  /** Per market asset: the lowest end-of-step price over the price at step 0, minus 1. */
  lowestChange: number[];
  /** Pools (feedback mode only). */
  drained: PoolDrain[];
  badDebt: bigint;
  runtimeMs: number;
}

export interface Amplification {
  /** The asset whose exogenous fall is the largest (the shocked one). */
  asset: number;
  /** Its exogenous change at the last step, relative to the quote asset. */
  exogenousChange: number;
  /** Its change with the feedback. */
  feedbackChange: number;
  /** feedback fall / exogenous fall; null when the exogenous path does not fall. */
  factor: number | null;
  /** The same for the lowest end-of-step prices (with arbitrage recovery the trough is where liquidations happen). */
  exogenousLowest: number;
  feedbackLowest: number;
  troughFactor: number | null;
  liquidations: { feedback: number; noImpact: number; passive?: number };
  /** feedback liquidations / no-impact liquidations; null when the latter is 0. */
  liquidationFactor: number | null;
}

const ratio = (a: bigint, b: bigint): number => (b === 0n ? 0 : Number(a) / Number(b) - 1);
const share = (a: bigint, b: bigint): number => (b === 0n ? 0 : Number(a) / Number(b));

export function summarize(run: SimulationRun, market: Market): RunSummary {
  const n = market.assets.length;
  const last = run.steps.at(-1)!;
  const sum = (pick: (s: SimulationRun["steps"][number]) => bigint[]): bigint[] =>
    run.steps.reduce<bigint[]>(
      (acc, s) => acc.map((x, i) => x + pick(s)[i]!),
      Array.from({ length: n }, () => 0n),
    );
  // Changes are against the market file's prices (the pools open at them, to within rounding).
  const base = market.assets.map((a) => a.price);
  return {
    mode: run.mode,
    vaults: run.vaults.length,
    liquidations: run.vaults.filter((v) => v.liquidatedAt !== null).length,
    liquidatedByHealthFactor: run.vaults.filter((v) => v.cause === "health factor below 1").length,
    liquidatedByEquity: run.vaults.filter((v) => v.cause === "negative equity").length,
    rebalances: run.steps.reduce((s, r) => s + r.rebalances, 0),
    cut: run.steps.reduce((s, r) => s + r.cut, 0),
    blocked: run.steps.reduce((s, r) => s + r.blocked, 0),
    valueByRebalance: run.steps.reduce((s, r) => s + r.valueByRebalance, 0n),
    valueByLiquidation: run.steps.reduce((s, r) => s + r.valueByLiquidation, 0n),
    soldByRebalance: sum((s) => s.soldByRebalance),
    soldByLiquidation: sum((s) => s.soldByLiquidation),
    priceChange: base.map((p, i) => ratio(last.closePrices[i]!, p)),
    lowestChange: base.map((p, i) => Math.min(...run.steps.map((s) => ratio(s.closePrices[i]!, p)))),
    drained: run.pools.map((asset, k) => ({
      asset,
      quoteChange: ratio(last.reserves[k]!.quote, run.initialReserves[k]!.quote),
      assetChange: ratio(last.reserves[k]!.asset, run.initialReserves[k]!.asset),
      bySales: share(run.drained[k]!.byRebalance + run.drained[k]!.byLiquidation, run.initialReserves[k]!.quote),
      byRebalance: share(run.drained[k]!.byRebalance, run.initialReserves[k]!.quote),
      byLiquidation: share(run.drained[k]!.byLiquidation, run.initialReserves[k]!.quote),
    })),
    badDebt: run.badDebt,
    runtimeMs: run.runtimeMs,
  };
}

/**
 * How much the pools amplified the shock: the shocked asset's fall with the feedback over its
 * exogenous fall (the no-impact run's prices are the exogenous path), and the liquidations with
 * the feedback over those without it.
 */
export function amplification(
  summaries: { feedback: RunSummary; "no-impact": RunSummary; passive?: RunSummary },
  exogenous: readonly (readonly number[])[],
  quote: number,
): Amplification {
  const last = exogenous.at(-1)!;
  const relative = last.map((f) => f / last[quote]! - 1);
  let asset = relative.findIndex((_, i) => i !== quote);
  relative.forEach((r, i) => {
    if (i !== quote && r < relative[asset]!) asset = i;
  });
  const exogenousChange = relative[asset]!;
  const feedbackChange = summaries.feedback.priceChange[asset]!;
  const { feedback, "no-impact": noImpact, passive } = summaries;
  const exogenousLowest = Math.min(...exogenous.map((row) => row[asset]! / row[quote]! - 1));
  const feedbackLowest = feedback.lowestChange[asset]!;
  return {
    asset,
    exogenousChange,
    feedbackChange,
    factor: exogenousChange < 0 ? feedbackChange / exogenousChange : null,
    exogenousLowest,
    feedbackLowest,
    troughFactor: exogenousLowest < 0 ? feedbackLowest / exogenousLowest : null,
    liquidations: { feedback: feedback.liquidations, noImpact: noImpact.liquidations, ...(passive && { passive: passive.liquidations }) },
    liquidationFactor: noImpact.liquidations > 0 ? feedback.liquidations / noImpact.liquidations : null,
  };
}
