/**
 * A price path: what every strategy of a backtest is run over. Prices are relative to the
 * market file's (factor 1 at step 0), so one path reprices any market with the same assets.
 */
export interface PricePath {
  /** Days since the start, one per step; days[0] = 0. */
  days: number[];
  /** factors[t][i]: price of market asset i at step t over its price in the market file. */
  factors: number[][];
  /** Simulated paths: the volatility regime of each step (0 calm, 1 stressed). */
  regimes?: number[];
  /** Jumps that hit the path at each step (simulated paths). */
  jumps?: number[];
  /** What the path is, e.g. "simulated path 17" or "returns.csv rows 1-91 (2025-01-01 to 2025-03-31)". */
  label: string;
  /**
   * The market history before day 0 (a replay's rows before its window), per step and market
   * asset the price relative S(t) / S(t - 1), oldest first: what a volatility forecaster may learn
   * from besides the path's own past (adaptive-trigger.ts). Never traded on.
   */
  history?: number[][];
}

/** Checks a hand-made or generated path before a backtest trusts it. */
export function assertPricePath(path: PricePath, assets: number): void {
  const steps = path.days.length;
  if (steps < 2) throw new RangeError(`price path "${path.label}": needs at least 2 steps, got ${steps}`);
  if (path.factors.length !== steps) throw new RangeError(`price path "${path.label}": ${path.factors.length} factor rows for ${steps} days`);
  if (path.days[0] !== 0) throw new RangeError(`price path "${path.label}": days[0] must be 0`);
  path.days.forEach((day, t) => {
    if (t > 0 && !(day > path.days[t - 1]!)) throw new RangeError(`price path "${path.label}": days must increase (step ${t})`);
  });
  path.history?.forEach((row, t) => {
    if (row.length !== assets) throw new RangeError(`price path "${path.label}": history row ${t} has ${row.length} relatives for ${assets} assets`);
    row.forEach((f, i) => {
      if (!(f > 0) || !Number.isFinite(f)) throw new RangeError(`price path "${path.label}": history relative of asset ${i} at row ${t} must be finite and > 0, got ${f}`);
    });
  });
  path.factors.forEach((row, t) => {
    if (row.length !== assets) throw new RangeError(`price path "${path.label}": step ${t} has ${row.length} factors for ${assets} assets`);
    row.forEach((f, i) => {
      if (!(f > 0) || !Number.isFinite(f)) throw new RangeError(`price path "${path.label}": factor of asset ${i} at step ${t} must be finite and > 0, got ${f}`);
    });
  });
}
