/**
 * The execution backtest (`zks execution backtest`, docs/execution.md): one sale of the pool's
 * base asset, executed four ways over the same simulated price paths, each sale against a
 * constant-product pool arbitraged to the market price before it lands:
 *   - single: the whole amount at the window's start;
 *   - deterministic: equal slices evenly spaced (public: anyone can compute it);
 *   - sub-window: seeded sizes, each slice at a uniform time inside its own public sub-window
 *     (the rule this toolkit first used; modelled here for comparison, not proven);
 *   - randomized: the proven rule (schedule.ts): seeded sizes, the times the sorted draws over the
 *     whole window; a fresh secret seed per path.
 * Each sale sets minOut = its quote at the pool's state * (1 - tolerance), as the planner does.
 * The adversary knows the single and deterministic schedules, so it sandwiches every slice with
 * its best front-run (front-running.ts, knownSandwich). Against a seeded schedule it knows the
 * rule, the window and everything that has landed, not the seed: it watches the gate and, block
 * by block, bets a front-run when the odds that a slice lands in that block make it pay in
 * expectation (adaptiveFrontRun). Reported per schedule, in basis points of the sale's value at
 * the window's start: slippage (fee and price impact against the market price when each sale
 * lands), the front-running loss (what the sandwiches took from the seller), their total, the
 * adversary's profit (its missed bets included) and the timing risk (the spread of the average
 * sale price against the start price, which splitting over a window adds). Deterministic for a
 * given seed; floating point.
 */
import { mulberry32 } from "../core/seeded-random.ts";
import { adaptiveFrontRun, knownSandwich, poolAt, roundTripCost, sandwich, sellBase, type LandingOutcome, type Pool } from "./front-running.ts";
import { deterministicSchedule, MAX_SLICES, scheduleDraws, ScheduleError, splitByWeights, type ScheduleWindow } from "./schedule.ts";

export const EXECUTION_SCHEDULES = ["single", "deterministic", "sub-window", "randomized"] as const;
export type ExecutionSchedule = (typeof EXECUTION_SCHEDULES)[number];

export interface ExecutionBacktestOptions {
  /** Price paths (default 1000). */
  paths: number;
  /** Seed of the paths and of the seeded schedules' secrets, an integer in [0, 2^32) (default 1). */
  seed: number;
  /** The execution window, hours (default 6). */
  windowHours: number;
  /** Slices of the split schedules (default 8). */
  slices: number;
  /** Seconds per block (default 12). */
  blockSeconds: number;
  /** Sale sizes as fractions of the pool's base reserve at the start (default 0.005, 0.02, 0.05). */
  tradeFractions: number[];
  /** The pool's fee on inputs (default 0.003, Uniswap v2). */
  fee: number;
  /** Each sale's minOut is its quote times 1 - tolerance (default 0.005, the planner's). */
  tolerance: number;
  /** Annualized volatility of the market price (default 0.8). */
  volatility: number;
  /** Samples of a slice's size the adversary averages over (default 200). */
  sizeSamples: number;
}

export const DEFAULT_EXECUTION_BACKTEST: ExecutionBacktestOptions = {
  paths: 1000,
  seed: 1,
  windowHours: 6,
  slices: 8,
  blockSeconds: 12,
  tradeFractions: [0.005, 0.02, 0.05],
  fee: 0.003,
  tolerance: 0.005,
  volatility: 0.8,
  sizeSamples: 200,
};

/** The starting pool: 1,000 units of the base asset at price 3,000 (the figures are relative, in bps). */
const START_PRICE = 3000;
const START_BASE_RESERVE = 1000;
const SECONDS_PER_YEAR = 365 * 24 * 3600;
/** Landing outcomes of probability below this (relative to one slice landing) are left out of the adversary's odds. */
const NEGLIGIBLE = 1e-7;

export interface Distribution {
  mean: number;
  p95: number;
}

export interface ExecutionBacktestRow {
  schedule: ExecutionSchedule;
  tradeFraction: number;
  slices: number;
  /** Fee and price impact against the market price at each sale, bps of the sale's start value. */
  slippageBps: Distribution;
  /** What the sandwiches took from the seller, bps. */
  frontRunBps: Distribution;
  /** Slippage plus front-running, bps. */
  totalBps: Distribution;
  /** The adversary's realized profit (its missed bets included), bps. */
  adversaryBps: number;
  /** Share of slices that landed in a block the adversary attacked. */
  attackedShare: number;
  /** Standard deviation over paths of the average sale price against the start price, bps. */
  timingRiskBps: number;
}

export interface ExecutionBacktestResult {
  options: ExecutionBacktestOptions;
  /** Blocks per slice: floor(window / slices / blockSeconds) (a sub-window's blocks; the randomized rule's mean spacing). */
  blocksPerSlice: number;
  rows: ExecutionBacktestRow[];
}

/** Refuses options the model cannot run (one line, exit 2). */
export function checkExecutionBacktestOptions(o: ExecutionBacktestOptions): void {
  const need = (ok: boolean, what: string): void => {
    if (!ok) throw new ScheduleError(what);
  };
  need(Number.isInteger(o.paths) && o.paths >= 1 && o.paths <= 100_000, `paths must be an integer from 1 to 100000, got ${o.paths}`);
  need(Number.isInteger(o.seed) && o.seed >= 0 && o.seed < 2 ** 32, `seed must be an integer in [0, 2^32), got ${o.seed}`);
  need(Number.isInteger(o.slices) && o.slices >= 1 && o.slices <= MAX_SLICES, `slices must be an integer from 1 to ${MAX_SLICES}, got ${o.slices}`);
  need(Number.isFinite(o.blockSeconds) && Number.isInteger(o.blockSeconds) && o.blockSeconds >= 1, `block seconds must be an integer >= 1, got ${o.blockSeconds}`);
  const seconds = o.windowHours * 3600;
  need(Number.isFinite(seconds) && Number.isInteger(seconds) && seconds > 0, `the window must be a whole number of seconds, got ${o.windowHours} hours`);
  need(seconds / o.slices >= o.blockSeconds, `the window (${seconds} s) gives each of ${o.slices} slices less than one ${o.blockSeconds}-second block`);
  need(seconds <= 30 * 24 * 3600, `the window must be at most 30 days, got ${o.windowHours} hours`);
  need(o.tradeFractions.length >= 1 && o.tradeFractions.every((f) => Number.isFinite(f) && f > 0 && f <= 0.5), "trade fractions must be in (0, 0.5] of the pool's reserve");
  need(Number.isFinite(o.fee) && o.fee >= 0 && o.fee < 0.1, `fee must be in [0, 0.1), got ${o.fee}`);
  need(Number.isFinite(o.tolerance) && o.tolerance >= 0 && o.tolerance < 0.5, `tolerance must be in [0, 0.5), got ${o.tolerance}`);
  need(Number.isFinite(o.volatility) && o.volatility >= 0 && o.volatility <= 10, `volatility must be in [0, 10], got ${o.volatility}`);
  need(Number.isInteger(o.sizeSamples) && o.sizeSamples >= 1 && o.sizeSamples <= 10_000, `size samples must be an integer from 1 to 10000, got ${o.sizeSamples}`);
}

/** Standard normal draws from a uniform generator (Box-Muller). */
function normals(uniform: () => number): () => number {
  let spare: number | undefined;
  return () => {
    if (spare !== undefined) {
      const s = spare;
      spare = undefined;
      return s;
    }
    const u = Math.max(uniform(), Number.MIN_VALUE);
    const r = Math.sqrt(-2 * Math.log(u));
    const theta = 2 * Math.PI * uniform();
    spare = r * Math.sin(theta);
    return r * Math.cos(theta);
  };
}

/** A 31-byte secret from the uniform generator: the backtest's stand-in for Web Crypto, so a run is reproducible. */
function seededSecret(uniform: () => number): { seed: bigint; salt: bigint } {
  const bytes = (): bigint => {
    let v = 0n;
    for (let k = 0; k < 31; k++) v = (v << 8n) | BigInt(Math.floor(uniform() * 256));
    return v;
  };
  return { seed: bytes(), salt: bytes() | (1n << 240n) };
}

/** Each slice's share of the sale under a schedule: from the cumulative split of a 10^18 total. */
const UNIT = 10n ** 18n;
const shareOf = (amount: bigint): number => Number(amount) / Number(UNIT);

/**
 * The proven rule's slices for a fresh secret (schedule.ts's scheduleDraws and splitByWeights,
 * as deriveSchedule computes them, without the commitment the backtest has no use for): each
 * slice's share and time, in time order.
 */
function seededSlices(uniform: () => number, window: ScheduleWindow): { share: number; time: number }[] {
  const { offsets, order, weights } = scheduleDraws(seededSecret(uniform).seed, window);
  const shares = splitByWeights(UNIT, weights);
  return shares.map((s, k) => ({ share: shareOf(s), time: window.start + offsets[order[k]!]! }));
}

const distribution = (values: number[]): Distribution => {
  const sorted = [...values].sort((a, b) => a - b);
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  return { mean, p95: sorted[Math.min(sorted.length - 1, Math.ceil(0.95 * sorted.length) - 1)]! };
};
const std = (values: number[]): number => {
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  return Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / values.length);
};

/** P(c of m independent slices land in a block each lands in with probability q), c = 0..m. */
function binomial(m: number, q: number): number[] {
  const pmf: number[] = [];
  let coefficient = 1;
  for (let c = 0; c <= m; c++) {
    pmf.push(coefficient * q ** c * (1 - q) ** (m - c));
    coefficient = (coefficient * (m - c)) / (c + 1);
  }
  return pmf;
}

/** One slice of a schedule on a path: its share of the sale and its block. */
interface Placed {
  share: number;
  block: number;
}

/** The adversary's bet at one block: its front-run, 0 for none. */
type Bet = number;

/**
 * The adaptive adversary against the randomized rule. With m slices left and R blocks left
 * (this one included), the slices still to land are the m latest draws: given what has landed,
 * each is uniform over the R blocks left, independently, so c of them land in this block with
 * probability Binomial(m, 1/R) (c slices in one block are sandwiched as one sale of their sum,
 * ranks N - m .. N - m + c - 1). Its bet for (m, R), and the largest R it bets at for each m (its
 * expected gain falls as R grows: the odds of a landing fall).
 */
function wholeWindowAdversary(pool: Pool, rankSizes: number[][], blocks: number, minOutOf: (x: number) => number) {
  const n = rankSizes.length;
  const cache = new Map<number, Bet>();
  const bet = (m: number, r: number): Bet => {
    const key = m * (blocks + 1) + r;
    let a = cache.get(key);
    if (a === undefined) {
      const pmf = binomial(m, 1 / r);
      const landings: LandingOutcome[] = [];
      const first = n - m;
      // The sum of the next c ranks' sizes, per sample.
      const sums = rankSizes[first]!.map(() => 0);
      for (let c = 1; c <= m; c++) {
        rankSizes[first + c - 1]!.forEach((x, s) => (sums[s]! += x));
        if (pmf[c]! < NEGLIGIBLE * Math.max(pmf[1]!, NEGLIGIBLE)) continue;
        landings.push({ probability: pmf[c]!, sizes: [...sums] });
      }
      a = adaptiveFrontRun(pool, landings, pmf[0]!, minOutOf).frontRun;
      cache.set(key, a);
    }
    return a;
  };
  // reach[m]: the largest R with a bet (0: none), by bisection on the monotone odds.
  const reach = [0];
  for (let m = 1; m <= n; m++) {
    if (bet(m, 1) <= 0) {
      reach.push(0);
      continue;
    }
    let [low, high] = [1, blocks];
    if (bet(m, high) > 0) low = high;
    while (high - low > 1) {
      const mid = Math.floor((low + high) / 2);
      if (bet(m, mid) > 0) low = mid;
      else high = mid;
    }
    reach.push(low);
  }
  return { bet, reach };
}

/**
 * The adaptive adversary against the sub-window rule: slice j lands uniformly in its sub-window's
 * blocks; with r of them left and the slice not yet landed, it lands in this one with probability
 * 1 / r. Its bet per r, up to the largest r it bets at (betsByLeft[r - 1]).
 */
function subWindowAdversary(pool: Pool, sizes: number[], blocks: number, minOutOf: (x: number) => number): Bet[] {
  const bets: Bet[] = [];
  for (let r = 1; r <= blocks; r++) {
    const a = adaptiveFrontRun(pool, [{ probability: 1 / r, sizes }], 1 - 1 / r, minOutOf).frontRun;
    if (a <= 0) break;
    bets.push(a);
  }
  return bets;
}

interface Outcome {
  slippage: number;
  frontRun: number;
  adversary: number;
  attacked: number;
  slices: number;
}

/** Runs the backtest (see the module comment). */
export function runExecutionBacktest(options: Partial<ExecutionBacktestOptions> = {}): ExecutionBacktestResult {
  const o: ExecutionBacktestOptions = { ...DEFAULT_EXECUTION_BACKTEST, ...options };
  checkExecutionBacktestOptions(o);
  const window: ScheduleWindow = { start: 0, seconds: o.windowHours * 3600, slices: o.slices };
  const n = o.slices;
  const blocks = Math.floor(window.seconds / o.blockSeconds);
  const spacing = Math.floor(window.seconds / n);
  const blocksPerSlice = Math.max(1, Math.floor(spacing / o.blockSeconds));
  const liquidity = START_BASE_RESERVE * Math.sqrt(START_PRICE);
  const startPool = poolAt(liquidity, START_PRICE, o.fee);
  const minOutOf = (pool: Pool) => (x: number) => sellBase(pool, x).out * (1 - o.tolerance);
  // A sale lands in the block whose interval holds its time (the window's spare seconds fold into the last block).
  const blockOf = (time: number): number => Math.min(blocks - 1, Math.floor(time / o.blockSeconds));
  // Sub-window j's blocks: [subFrom[j], subTo[j]) (a block a sub-window boundary cuts counts in both).
  const subFrom = Array.from({ length: n }, (_, j) => blockOf(j * spacing));
  const subTo = Array.from({ length: n }, (_, j) => blockOf((j + 1) * spacing - 1) + 1);

  const fixed = deterministicSchedule(window, [UNIT]).slices.map((s): Placed => ({ share: shareOf(s.amounts[0]!), block: blockOf(s.time) }));

  // The adversary's knowledge of the sizes: samples of each rank's share under the rule (secrets it does not know).
  const sampler = mulberry32((o.seed ^ 0x5eed) >>> 0);
  const rankShares: number[][] = Array.from({ length: n }, () => []);
  for (let k = 0; k < o.sizeSamples; k++) {
    seededSlices(sampler, window).forEach((s, j) => rankShares[j]!.push(s.share));
  }

  // Each path's seeded schedules (the same for every sale size): the proven rule from a fresh
  // secret, and the sub-window rule with the same sizes, slice j at a uniform second of sub-window j.
  const secretRng = mulberry32((o.seed * 2654435761) >>> 0);
  const subRng = mulberry32((o.seed * 40503 + 17) >>> 0);
  const seeded = Array.from({ length: o.paths }, () => {
    const slices = seededSlices(secretRng, window);
    return {
      randomized: slices.map((s): Placed => ({ share: s.share, block: blockOf(s.time) })),
      subWindow: slices.map((s, j): Placed => ({ share: s.share, block: blockOf(j * spacing + Math.floor(subRng() * spacing)) })),
    };
  });

  const rows: ExecutionBacktestRow[] = [];
  for (const fraction of o.tradeFractions) {
    const sale = fraction * START_BASE_RESERVE;
    const startValue = sale * START_PRICE;
    const rankSizes = rankShares.map((shares) => shares.map((s) => s * sale));
    const startMinOut = minOutOf(startPool);
    const subBets = rankSizes.map((sizes, j) => subWindowAdversary(startPool, sizes, subTo[j]! - subFrom[j]!, startMinOut));
    const whole = wholeWindowAdversary(startPool, rankSizes, blocks, startMinOut);
    const furthest = Math.max(...whole.reach);

    const rng = mulberry32(o.seed);
    const gauss = normals(rng);
    const perSchedule = new Map<
      ExecutionSchedule,
      { slippage: number[]; frontRun: number[]; total: number[]; adversary: number[]; attacked: number; slices: number; price: number[] }
    >(EXECUTION_SCHEDULES.map((s) => [s, { slippage: [], frontRun: [], total: [], adversary: [], attacked: 0, slices: 0, price: [] }]));
    const sigma = o.volatility * Math.sqrt(o.blockSeconds / SECONDS_PER_YEAR);
    const prices = new Array<number>(blocks);
    for (let p = 0; p < o.paths; p++) {
      // The market price at every block of the window (geometric Brownian motion, no drift).
      let log = Math.log(START_PRICE);
      for (let b = 0; b < blocks; b++) {
        prices[b] = Math.exp(log);
        log += -0.5 * sigma * sigma + sigma * gauss();
      }
      const poolOf = (b: number): Pool => poolAt(liquidity, prices[b]!, o.fee);
      // The bets are computed on the starting pool; in base units a sandwich's outcome scales with
      // the pool's base reserve (the quote reserve cancels out of a round trip), so the adversary,
      // which sees the pool, bets the same share of the reserve it finds: a * x_b / x_start.
      const scaled = (a: number, pool: Pool): number => (a * pool.x) / startPool.x;
      /** One sale of `x` in block b, sandwiched with front-run `a` (0: not attacked). A reverted sale is resubmitted unharmed (see the docs). */
      const sell = (x: number, b: number, a: number): { slippage: number; frontRun: number; adversary: number } => {
        const pool = poolOf(b);
        const clean = sellBase(pool, x).out;
        const slippage = x * prices[b]! - clean;
        if (a <= 0) return { slippage, frontRun: 0, adversary: 0 };
        const hit = sandwich(pool, x, clean * (1 - o.tolerance), scaled(a, pool));
        return { slippage, frontRun: hit.reverted ? 0 : clean - hit.victimOut, adversary: hit.profit * prices[b]! };
      };
      const miss = (b: number, a: number): number => {
        const pool = poolOf(b);
        return -roundTripCost(pool, scaled(a, pool)) * prices[b]!;
      };

      const { randomized, subWindow } = seeded[p]!;
      const placed: Record<ExecutionSchedule, Placed[]> = { single: [{ share: 1, block: 0 }], deterministic: fixed, "sub-window": subWindow, randomized };

      const outcomes: Record<ExecutionSchedule, Outcome> = {} as Record<ExecutionSchedule, Outcome>;
      for (const schedule of ["single", "deterministic"] as const) {
        const out: Outcome = { slippage: 0, frontRun: 0, adversary: 0, attacked: 0, slices: 0 };
        for (const s of placed[schedule]) {
          const x = s.share * sale;
          out.slices += 1;
          if (x <= 0) continue;
          const pool = poolOf(s.block);
          const clean = sellBase(pool, x).out;
          const { frontRun, outcome } = knownSandwich(pool, x, clean * (1 - o.tolerance));
          out.slippage += x * prices[s.block]! - clean;
          if (frontRun > 0) {
            out.attacked += 1;
            out.frontRun += clean - outcome.victimOut;
            out.adversary += outcome.profit * prices[s.block]!;
          }
        }
        outcomes[schedule] = out;
      }
      {
        // Sub-window: in sub-window j the adversary bets in its last subBets[j].length blocks until the slice lands.
        const out: Outcome = { slippage: 0, frontRun: 0, adversary: 0, attacked: 0, slices: 0 };
        subWindow.forEach((s, j) => {
          const end = subTo[j]!;
          const bets = subBets[j]!;
          for (let b = Math.max(subFrom[j]!, end - bets.length); b < s.block; b++) out.adversary += miss(b, bets[end - b - 1]!);
          const a = end - s.block <= bets.length ? bets[end - s.block - 1]! : 0;
          const sold = sell(s.share * sale, s.block, a);
          out.slippage += sold.slippage;
          out.frontRun += sold.frontRun;
          out.adversary += sold.adversary;
          out.slices += 1;
          if (a > 0) out.attacked += 1;
        });
        outcomes["sub-window"] = out;
      }
      {
        // Randomized: slices landing in one block are one sale; the adversary bets where (slices left, blocks left) pays.
        const out: Outcome = { slippage: 0, frontRun: 0, adversary: 0, attacked: 0, slices: n };
        const byBlock = new Map<number, number[]>();
        randomized.forEach((s, k) => byBlock.set(s.block, [...(byBlock.get(s.block) ?? []), k]));
        let landed = randomized.filter((s) => s.block < blocks - furthest).length;
        for (const [b, ranks] of [...byBlock.entries()].sort((x, y) => x[0] - y[0])) {
          if (b >= blocks - furthest) break;
          const sold = sell(ranks.reduce((a, k) => a + randomized[k]!.share, 0) * sale, b, 0);
          out.slippage += sold.slippage;
        }
        for (let b = Math.max(0, blocks - furthest); b < blocks; b++) {
          const left = n - landed;
          const r = blocks - b;
          const a = left > 0 && r <= whole.reach[left]! ? whole.bet(left, r) : 0;
          const ranks = byBlock.get(b);
          if (ranks) {
            const sold = sell(ranks.reduce((acc, k) => acc + randomized[k]!.share, 0) * sale, b, a);
            out.slippage += sold.slippage;
            out.frontRun += sold.frontRun;
            out.adversary += sold.adversary;
            if (a > 0) out.attacked += ranks.length;
            landed += ranks.length;
          } else if (a > 0) out.adversary += miss(b, a);
        }
        outcomes.randomized = out;
      }
      const bps = (v: number) => (v / startValue) * 10_000;
      for (const schedule of EXECUTION_SCHEDULES) {
        const out = outcomes[schedule];
        const acc = perSchedule.get(schedule)!;
        acc.slippage.push(bps(out.slippage));
        acc.frontRun.push(bps(out.frontRun));
        acc.total.push(bps(out.slippage + out.frontRun));
        acc.adversary.push(bps(out.adversary));
        acc.attacked += out.attacked;
        acc.slices += out.slices;
        // The average price the sale got before costs: the market prices at its slices, weighted by size.
        acc.price.push(bps(placed[schedule].reduce((a, s) => a + s.share * sale * prices[s.block]!, 0) - startValue));
      }
    }
    for (const schedule of EXECUTION_SCHEDULES) {
      const acc = perSchedule.get(schedule)!;
      rows.push({
        schedule,
        tradeFraction: fraction,
        slices: schedule === "single" ? 1 : n,
        slippageBps: distribution(acc.slippage),
        frontRunBps: distribution(acc.frontRun),
        totalBps: distribution(acc.total),
        adversaryBps: acc.adversary.reduce((a, b) => a + b, 0) / acc.adversary.length,
        attackedShare: acc.attacked / acc.slices,
        timingRiskBps: std(acc.price),
      });
    }
  }
  return { options: o, blocksPerSlice, rows };
}

const fixedDigits = (x: number, digits = 1): string => (Math.abs(x) < 0.05 && digits === 1 ? "0.0" : x.toFixed(digits));
/** Small figures keep two decimals (the adaptive adversary's take is often a fraction of a basis point). */
const figure = (x: number): string => (Math.abs(x) < 0.005 ? "0.00" : Math.abs(x) < 1 ? x.toFixed(2) : x.toFixed(1));
const share = (x: number): string => (x === 0 ? "0%" : x < 0.01 ? `${(x * 100).toFixed(2)}%` : `${(x * 100).toFixed(0)}%`);

/** The results as a Markdown table (docs/execution.md). */
export function executionBacktestTable(result: ExecutionBacktestResult): string {
  const head = [
    "| sale (of the pool) | schedule | slices | slippage, mean (p95) | front-running, mean (p95) | total, mean (p95) | adversary's profit | slices attacked | timing risk (std) |",
    "| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
  ];
  const lines = result.rows.map(
    (r) =>
      `| ${(r.tradeFraction * 100).toFixed(1)}% | ${r.schedule} | ${r.slices} | ${fixedDigits(r.slippageBps.mean)} (${fixedDigits(r.slippageBps.p95)}) | ${figure(r.frontRunBps.mean)} (${figure(r.frontRunBps.p95)}) | ${fixedDigits(r.totalBps.mean)} (${fixedDigits(r.totalBps.p95)}) | ${figure(r.adversaryBps)} | ${share(r.attackedShare)} | ${fixedDigits(r.timingRiskBps)} |`,
  );
  return [...head, ...lines].join("\n");
}

/** The report file: what was run, the table, how to read it. */
export function executionBacktestMarkdown(result: ExecutionBacktestResult, command?: string): string {
  const o = result.options;
  return [
    "# Execution backtest: deterministic and randomized schedules under front-running",
    "",
    ...(command ? [`\`${command}\``, ""] : []),
    `${o.paths} price paths (seed ${o.seed}, volatility ${o.volatility} a year), a ${o.windowHours}-hour window of ${o.blockSeconds}-second blocks, ${o.slices} slices ` +
      `(${result.blocksPerSlice} blocks per slice), a constant-product pool with a ${o.fee * 100}% fee arbitraged to the market price before each sale, ` +
      `each sale's minOut its quote less ${o.tolerance * 100}%. Figures in basis points of the sale's value at the window's start.`,
    "",
    executionBacktestTable(result),
    "",
    "- schedules: single (all at the start), deterministic (equal slices evenly spaced, public), sub-window (seeded sizes, one uniform time in each public sub-window), randomized (the proven rule: seeded sizes, the times the sorted seeded draws over the whole window);",
    "- slippage: the pool's fee and price impact against the market price when each sale lands;",
    "- front-running: what the adversary's sandwiches took from the seller (known schedules: its best sandwich of every slice; seeded ones: the adaptive adversary, which watches the gate and bets block by block when the odds that a slice lands pay);",
    "- adversary's profit: what it made, its missed bets' round trips included;",
    "- timing risk: the spread over paths of the sale's average market price against the start price, which a window adds.",
    "",
  ].join("\n");
}
