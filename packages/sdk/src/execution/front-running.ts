/**
 * The front-running cost model of the execution backtest (docs/execution.md): a constant-product
 * AMM with Uniswap v2's fee on the input, a victim selling `x` of the pool's base asset with a
 * `minOut`, and an adversary that sandwiches it: sells `a` ahead of it (the victim gets a worse
 * price, no worse than minOut or its transaction reverts) and buys back right after. Floating
 * point: a model, not an amount anyone is paid.
 */

/** A constant-product pool of the base asset (x, the one sold) and the quote asset (y). */
export interface Pool {
  x: number;
  y: number;
  /** The fee on every input, e.g. 0.003. */
  fee: number;
}

/** Uniswap v2's output for `amountIn` against reserves (rIn, rOut), fee on the input. */
export function amountOut(amountIn: number, rIn: number, rOut: number, fee: number): number {
  if (amountIn <= 0) return 0;
  const net = amountIn * (1 - fee);
  return (net * rOut) / (rIn + net);
}

/** Sells `dx` of the base asset: the quote received and the pool after. */
export function sellBase(pool: Pool, dx: number): { out: number; pool: Pool } {
  const out = amountOut(dx, pool.x, pool.y, pool.fee);
  return { out, pool: { ...pool, x: pool.x + dx, y: pool.y - out } };
}

/** Sells `dy` of the quote asset: the base received and the pool after. */
export function sellQuote(pool: Pool, dy: number): { out: number; pool: Pool } {
  const out = amountOut(dy, pool.y, pool.x, pool.fee);
  return { out, pool: { ...pool, x: pool.x - out, y: pool.y + dy } };
}

/** The pool of constant liquidity L = sqrt(x * y) when arbitrage has moved it to `price` (quote per base). */
export function poolAt(liquidity: number, price: number, fee: number): Pool {
  const root = Math.sqrt(price);
  return { x: liquidity / root, y: liquidity * root, fee };
}

export interface SandwichOutcome {
  /** The victim's output with the front-run (0 when it reverted: below its minOut). */
  victimOut: number;
  /** The victim's transaction reverted: the front-run pushed its output below minOut. */
  reverted: boolean;
  /** What the adversary ends with minus what it started with, in base units (negative: a loss). */
  profit: number;
}

/**
 * The adversary sells `a` of the base asset, the victim sells `x` with `minOut` (reverting below
 * it), the adversary sells back all the quote it received. Without a victim in between (a missed
 * guess, or a reverted victim) the round trip just pays the fee twice and the price impact.
 */
export function sandwich(pool: Pool, x: number, minOut: number, a: number): SandwichOutcome {
  // sellBase and sellQuote, inlined: the backtest calls this millions of times and the pool objects they make cost more than the arithmetic.
  const { x: rx, y: ry, fee } = pool;
  const front = amountOut(a, rx, ry, fee);
  const victimOut = amountOut(x, rx + a, ry - front, fee);
  if (victimOut < minOut) return { victimOut: 0, reverted: true, profit: amountOut(front, ry - front, rx + a, fee) - a };
  return { victimOut, reverted: false, profit: amountOut(front, ry - front - victimOut, rx + a + x, fee) - a };
}

/** What a front-run of `a` with no victim behind it costs the adversary, base units (> 0). */
export function roundTripCost(pool: Pool, a: number): number {
  const front = amountOut(a, pool.x, pool.y, pool.fee);
  return a - amountOut(front, pool.y - front, pool.x + a, pool.fee);
}

/** The largest front-run the victim's minOut tolerates (its output stays >= minOut), by bisection. */
export function largestFrontRun(pool: Pool, x: number, minOut: number): number {
  if (sellBase(pool, x).out < minOut) return 0;
  let low = 0;
  let high = pool.x;
  for (let k = 0; k < 80; k++) {
    const mid = (low + high) / 2;
    const front = amountOut(mid, pool.x, pool.y, pool.fee);
    if (amountOut(x, pool.x + mid, pool.y - front, pool.fee) >= minOut) low = mid;
    else high = mid;
  }
  return low;
}

/** The maximum of `f` over [0, high]: a grid, then golden-section search around the best point. */
function maximize(f: (a: number) => number, high: number, grid = 48): { at: number; value: number } {
  if (!(high > 0)) return { at: 0, value: f(0) };
  let best = { at: 0, value: f(0) };
  const step = high / grid;
  for (let k = 1; k <= grid; k++) {
    const at = k * step;
    const value = f(at);
    if (value > best.value) best = { at, value };
  }
  let lo = Math.max(0, best.at - step);
  let hi = Math.min(high, best.at + step);
  const phi = (Math.sqrt(5) - 1) / 2;
  for (let k = 0; k < 40; k++) {
    const m1 = hi - phi * (hi - lo);
    const m2 = lo + phi * (hi - lo);
    if (f(m1) >= f(m2)) hi = m2;
    else lo = m1;
  }
  const at = (lo + hi) / 2;
  const value = f(at);
  return value > best.value ? { at, value } : best;
}

/**
 * The adversary who knows the slice's block and size (a public, deterministic schedule): the
 * front-run that maximizes its profit among those the victim's minOut tolerates. No attack (a = 0)
 * when none profits.
 */
export function knownSandwich(pool: Pool, x: number, minOut: number): { frontRun: number; outcome: SandwichOutcome } {
  const high = largestFrontRun(pool, x, minOut);
  const best = maximize((a) => sandwich(pool, x, minOut, a).profit, high);
  const frontRun = best.value > 0 ? best.at : 0;
  return { frontRun, outcome: sandwich(pool, x, minOut, frontRun) };
}

/** What may land in a block the adversary bets on: with this probability, a sale whose size is one of `sizes` (equally likely samples). */
export interface LandingOutcome {
  probability: number;
  sizes: readonly number[];
}

/**
 * The adversary who does not know when the victim's sale lands but knows the odds for the next
 * block (from the schedule's rule and what it has seen land so far): a bundle in this block with
 * front-run `a`. With probability `o.probability` a sale of a size drawn from `o.sizes` lands
 * behind it (it earns the sandwich's profit, or loses the round trip when `a` makes the victim
 * revert); with `missProbability` nothing lands and it loses the round trip:
 *     E(a) = sum_o o.probability * mean over o.sizes of profit(a, x) - missProbability * roundTripCost(a)
 * It bets the a that maximizes E, and only when that maximum is positive. `minOutOf(x)` is the
 * victim's minOut for a sale of x.
 */
export function adaptiveFrontRun(
  pool: Pool,
  landings: readonly LandingOutcome[],
  missProbability: number,
  minOutOf: (x: number) => number,
): { frontRun: number; expectedProfit: number } {
  const outcomes = landings.filter((o) => o.probability > 0 && o.sizes.length > 0).map((o) => ({ p: o.probability, sizes: o.sizes, minOuts: o.sizes.map(minOutOf) }));
  if (outcomes.length === 0) return { frontRun: 0, expectedProfit: 0 };
  let high = 0;
  for (const o of outcomes) high = Math.max(high, largestFrontRun(pool, Math.max(...o.sizes), minOutOf(Math.max(...o.sizes))));
  const expected = (a: number): number => {
    let value = -missProbability * roundTripCost(pool, a);
    for (const o of outcomes) {
      let hit = 0;
      for (let k = 0; k < o.sizes.length; k++) hit += sandwich(pool, o.sizes[k]!, o.minOuts[k]!, a).profit;
      value += (o.p * hit) / o.sizes.length;
    }
    return value;
  };
  const best = maximize(expected, high, 32);
  return best.value > 0 ? { frontRun: best.at, expectedProfit: best.value } : { frontRun: 0, expectedProfit: 0 };
}

/**
 * The blind adversary, which bets on every one of `blocks` equally likely blocks without watching
 * the chain (the non-adaptive model): in the one block the slice lands in it earns the sandwich,
 * in each of the other `blocks - 1` it loses the round trip, so over the sub-window
 *     E(a) = mean over sizes of profit(a, size) - (blocks - 1) * roundTripCost(a)
 * An adversary that watches the gate does better (adaptiveFrontRun, per block): it stops once the
 * slice has landed and bets harder as the blocks left run out.
 */
export function blindFrontRun(pool: Pool, sizes: readonly number[], minOutOf: (x: number) => number, blocks: number): { frontRun: number; expectedProfit: number } {
  if (sizes.length === 0 || blocks < 1) return { frontRun: 0, expectedProfit: 0 };
  return adaptiveFrontRun(pool, [{ probability: 1, sizes }], blocks - 1, minOutOf);
}
