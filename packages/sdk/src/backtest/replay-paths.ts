/**
 * Historical replay: price paths that follow a return series day by day. With a horizon
 * shorter than the series, the paths are rolling windows (one starting at each of up to
 * `maxPaths` evenly spaced days), so one year of history gives many overlapping 90-day tests
 * instead of one. Assets without a column keep their price. Each window carries the file's steps
 * before it as its market history (PricePath.history), for the adaptive strategy's forecaster.
 */
import type { PricePath } from "./price-path.ts";
import type { ReturnSeries } from "./returns-file.ts";

export interface ReplayGrid {
  /** Rows per step: returns of consecutive rows compound into one step (an integer >= 1). */
  stepRows: number;
  /** Steps per path; undefined = the whole series (one path). */
  steps?: number;
  /** The most windows to take. */
  maxPaths: number;
}

/** Steps the series has at `stepRows` rows per step (whole steps only). */
export const replaySteps = (series: ReturnSeries, stepRows: number): number => Math.floor(series.returns.length / stepRows);

export function replayPaths(series: ReturnSeries, marketSymbols: readonly string[], grid: ReplayGrid, source = "returns"): PricePath[] {
  const { stepRows, maxPaths } = grid;
  if (!Number.isInteger(stepRows) || stepRows < 1) throw new RangeError(`replay: rows per step must be an integer >= 1, got ${stepRows}`);
  if (!Number.isInteger(maxPaths) || maxPaths < 1) throw new RangeError(`replay: maxPaths must be an integer >= 1, got ${maxPaths}`);
  const available = replaySteps(series, stepRows);
  const steps = grid.steps ?? available;
  if (!Number.isInteger(steps) || steps < 1 || steps > available) {
    throw new RangeError(`replay: ${steps} steps of ${stepRows} row(s) need ${steps * stepRows} rows; the series has ${series.returns.length}`);
  }
  const column = marketSymbols.map((symbol) => series.symbols.indexOf(symbol));
  // Step s compounds rows [s * stepRows, (s + 1) * stepRows).
  const stepFactors: number[][] = [];
  for (let s = 0; s < available; s++) {
    stepFactors.push(
      column.map((c) => {
        if (c < 0) return 1;
        let f = 1;
        for (let r = s * stepRows; r < (s + 1) * stepRows; r++) f *= 1 + series.returns[r]![c]!;
        return f;
      }),
    );
  }
  const windows = available - steps + 1;
  const count = Math.min(maxPaths, windows);
  const starts = Array.from({ length: count }, (_, k) => (count === 1 ? 0 : Math.round((k * (windows - 1)) / (count - 1))));
  return starts.map((start) => {
    const factors = [marketSymbols.map(() => 1)];
    for (let s = start; s < start + steps; s++) factors.push(factors.at(-1)!.map((f, i) => f * stepFactors[s]![i]!));
    const first = start * stepRows;
    const last = (start + steps) * stepRows - 1;
    return {
      days: Array.from({ length: steps + 1 }, (_, t) => t * stepRows),
      factors,
      // The file's steps before the window: the market history a forecaster may use on day 0.
      history: stepFactors.slice(0, start),
      label: `${source} lines ${series.lines[first]}-${series.lines[last]} (${series.labels[first]} to ${series.labels[last]})`,
    };
  });
}
