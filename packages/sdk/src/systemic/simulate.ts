/**
 * One run of the cascade simulation (docs/systemic.md): N vaults, each following its strategy
 * with the closed-form restore rule, selling into constant-product pools whose prices are the
 * next step's oracle prices. Each step, in the order things happen on chain:
 *
 * 1. the outside market moves: the exogenous path's step (the shock, a simulated path) moves
 *    every pool along its curve (feedback mode) or sets the prices (the AMM-free modes);
 * 2. the oracle publishes the step's market: each pool's price (the quote asset and assets
 *    without a pool at the exogenous price), the instruments repriced with their underlyings
 *    (packages/sdk/src/backtest/reprice-market.ts);
 * 3. every vault is evaluated with the model's exact health factor and equity at that market;
 *    below a health factor of 1, or with negative equity, it is liquidated first (liquidators
 *    act on the new prices before any keeper): the liquidator repays its debt, seizes collateral
 *    worth the debt plus the bonus (all of it when that is more) and sells what it seized into
 *    the pools; the rest goes back to the owner and the vault never trades again;
 * 4. the vaults whose strategy acts, in a seeded random order, apply the restore rule at the
 *    step's market: each sale goes through the pools (asset -> quote -> asset). With the gate's
 *    slippage guard, a sale whose pool output falls below the policy's floor at the oracle's
 *    prices is cut to the largest that passes (a blocked sale when none does), and the vault is
 *    credited with the floor (the excess goes to the owner's wallet), as the gate executes it;
 *    without the guard the vault takes whatever the pool pays;
 * 5. arbitrage closes `recovery` of the (log) gap between each pool and the outside price.
 *
 * Modes: "feedback" (the above); "no-impact" (the same vaults and strategies, trading at the
 * exogenous price minus the pool fee: nothing moves the price); "passive" (no vault acts, prices
 * exogenous: only liquidations). The last two are the AMM-free shock the feedback is compared
 * with.
 *
 * Every token movement is booked twice in a ledger of accounts (vaults, pools, lender, owners,
 * liquidators, outside), so a run can be checked for conservation against its state. Pure and
 * browser-safe; bigint amounts; floats only for the exogenous path and the repricing of options.
 */
import { BPS_SCALE, DEBT_INDEX_SCALE, QUANTITY_SCALE, RATIO_SCALE } from "../core/fixed-point.ts";
import type { Market, Policy, Position } from "../inputs/types.ts";
import { SeededRandom } from "../backtest/random.ts";
import { repriceMarket, type RepricingModel } from "../backtest/reprice-market.ts";
import { pathSeed } from "../backtest/simulate-paths.ts";
import { collateralValue, debtAssets, debtValue } from "../model/values.ts";
import { repayCharge, repayUnits } from "../rebalance/actions.ts";
import { slippageFloor } from "../rebalance/transition.ts";
import { unitValue } from "../rebalance/trades.ts";
import { amountOut, buyAsset, FEE_SCALE, largestPassing, movePool, poolAt, poolPrice, sellAsset, type Pool } from "./amm.ts";
import type { Vault } from "./book.ts";
import { restoreRule } from "./restore-rule.ts";

export type RunMode = "feedback" | "no-impact" | "passive";
export const RUN_MODES: readonly RunMode[] = ["feedback", "no-impact", "passive"];

export interface SimulationConfig {
  market: Market;
  /** The repricing model of `market` (repricingModel(market)), shared by runs. */
  repricing: RepricingModel;
  policy: Policy;
  vaults: readonly Vault[];
  /** Exogenous price factors, one row per step t = 0..steps (row 0 all 1), one per market asset. */
  exogenous: readonly (readonly number[])[];
  /** Hours per step (the oracle's epoch). */
  stepHours: number;
  /** Market index of the pools' quote asset. */
  quote: number;
  /** Per market asset: the pool's quote-side reserve in base units of the quote asset; 0 = no pool. */
  depth: readonly bigint[];
  feeBps: bigint;
  /** The gate's slippage bound on every vault sale (liquidations are not bound by it). */
  guard: boolean;
  /** Share of the log gap to the outside price that arbitrage closes each step, in [0, 1]. */
  recovery: number;
  liquidationBonusBps: bigint;
  intervalSteps: number;
  maxDelaySteps: number;
  seed: number;
  /** Keep every trade (for tests and the result file); default false. */
  recordTrades?: boolean;
}

export type Account = "vaults" | "pools" | "lender" | "owners" | "liquidators" | "outside";
export const ACCOUNTS: readonly Account[] = ["vaults", "pools", "lender", "owners", "liquidators", "outside"];

/** Per account, per market asset: net base units received (negative: sent). Every transfer sums to zero. */
export type Ledger = Record<Account, bigint[]>;

export interface Trade {
  step: number;
  vault: number;
  kind: "rebalance" | "liquidation";
  sell: number;
  amountIn: bigint;
  buy: number;
  /** What the pool (or the outside, AMM-free) paid. */
  amountOut: bigint;
}

export interface StepRecord {
  step: number;
  hours: number;
  /** Oracle prices of the step (q.u. per whole token), after the outside move, before any trade. */
  prices: bigint[];
  /** Prices at the end of the step, after the trades and the arbitrage: what the next step starts from. */
  closePrices: bigint[];
  liquidations: number;
  /** Vaults whose strategy acted (applied the rule with something to do). */
  rebalances: number;
  /** Sales cut by the slippage guard, and sales it blocked entirely. */
  cut: number;
  blocked: number;
  /** Per market asset, base units sold into the pools (or the outside) by rebalances and by liquidators. */
  soldByRebalance: bigint[];
  soldByLiquidation: bigint[];
  /** The same at the step's oracle prices, q.u. */
  valueByRebalance: bigint;
  valueByLiquidation: bigint;
  /** Per pool (in `pools` order): reserves at the end of the step. */
  reserves: { asset: bigint; quote: bigint }[];
}

export interface VaultOutcome {
  id: number;
  liquidatedAt: number | null;
  cause?: "health factor below 1" | "negative equity";
  rebalances: number;
}

export interface SimulationRun {
  mode: RunMode;
  steps: StepRecord[];
  /** Market indices of the pools' assets, in the order of StepRecord.reserves. */
  pools: number[];
  initialReserves: { asset: bigint; quote: bigint }[];
  vaults: VaultOutcome[];
  ledger: Ledger;
  /** Per pool (in `pools` order): quote paid out to the vaults' and the liquidators' sales, net of purchases (quote-asset base units). */
  drained: { byRebalance: bigint; byLiquidation: bigint }[];
  /** Per pool: what the outside's moves (the exogenous path, arbitrage) added to its reserves, net (negative: took out). */
  outsideFlow: { asset: bigint; quote: bigint }[];
  /** Per market asset: collateral the live vaults hold at the end, base units. */
  finalCollateral: bigint[];
  /** Debt value the seized collateral did not cover at the oracle's prices, q.u. */
  badDebt: bigint;
  trades: Trade[];
  runtimeMs: number;
}

const zeros = (n: number): bigint[] => Array.from({ length: n }, () => 0n);
const minOf = (a: bigint, b: bigint): bigint => (a < b ? a : b);

interface VaultState {
  vault: Vault;
  collateral: bigint[];
  debt: bigint[];
  liquidatedAt: number | null;
  cause?: VaultOutcome["cause"];
  pendingAt: number | null;
  rebalances: number;
  delays: SeededRandom | undefined;
}

/**
 * A vault's health-factor terms and equity at a market, exactly as the reference model computes
 * them (src/model/values.ts, health-factor.ts, equity.ts): vc = floor(c p / 10^dec),
 * vd = ceil(ceil(d I / 10^18) p / 10^dec), N = sum vc LT (q.u. * BPS), D = sum vd (q.u.),
 * E* = (sum vc - sum vd) * 10^8 + sum q m (q.u. * 10^8). `units` are 10^dec per asset, hoisted
 * out of the loop over thousands of vaults.
 */
export function standing(
  collateral: readonly bigint[],
  debt: readonly bigint[],
  quantities: readonly bigint[],
  market: Market,
  units: readonly bigint[] = market.assets.map((a) => 10n ** BigInt(a.decimals)),
): { numerator: bigint; denominator: bigint; equity: bigint } {
  let numerator = 0n;
  let denominator = 0n;
  let net = 0n;
  for (let i = 0; i < market.assets.length; i++) {
    const asset = market.assets[i]!;
    const c = collateral[i]!;
    if (c > 0n) {
      const vc = (c * asset.price) / units[i]!;
      numerator += vc * asset.liquidationThreshold;
      net += vc;
    }
    const d = debt[i]!;
    if (d > 0n) {
      const owed = (d * asset.debtIndex + DEBT_INDEX_SCALE - 1n) / DEBT_INDEX_SCALE;
      const vd = (owed * asset.price + units[i]! - 1n) / units[i]!;
      denominator += vd;
      net -= vd;
    }
  }
  let options = 0n;
  for (let k = 0; k < quantities.length; k++) if (quantities[k] !== 0n) options += quantities[k]! * market.instruments[k]!.mark;
  return { numerator, denominator, equity: net * QUANTITY_SCALE + options };
}

/** Fisher-Yates with the run's generator: the order vaults reach the pools within a step. */
function shuffle<T>(items: T[], rng: SeededRandom): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = rng.nextUint32() % (i + 1);
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}

/** Checks a configuration's shape; RangeError naming what is wrong. */
function checkConfig(config: SimulationConfig): void {
  const n = config.market.assets.length;
  if (config.exogenous.length < 2) throw new RangeError("simulation: the exogenous path needs at least 2 rows (steps 0 and 1)");
  config.exogenous.forEach((row, t) => {
    if (row.length !== n) throw new RangeError(`simulation: exogenous row ${t} has ${row.length} factors for ${n} assets`);
    for (const f of row) if (!(f > 0) || !Number.isFinite(f)) throw new RangeError(`simulation: exogenous factor at step ${t} must be finite and > 0, got ${f}`);
  });
  if (config.depth.length !== n) throw new RangeError(`simulation: ${config.depth.length} depths for ${n} assets`);
  if (!(config.recovery >= 0 && config.recovery <= 1)) throw new RangeError(`simulation: recovery must be in [0, 1], got ${config.recovery}`);
  if (!Number.isInteger(config.quote) || config.quote < 0 || config.quote >= n) throw new RangeError(`simulation: quote asset index ${config.quote} is not in the market`);
  for (const v of config.vaults) {
    if (v.position.collateral.length !== n || v.position.debt.length !== n || v.position.quantities.length !== config.market.instruments.length) {
      throw new RangeError(`simulation: vault ${v.id} is not resolved against the market`);
    }
  }
}

export function simulate(config: SimulationConfig, mode: RunMode): SimulationRun {
  const started = performance.now();
  checkConfig(config);
  const { market: base, policy, quote: Q } = config;
  const n = base.assets.length;
  const quoteAsset = base.assets[Q]!;
  const steps = config.exogenous.length - 1;
  const withPools = mode === "feedback";
  const acting = mode !== "passive";

  const ledger: Ledger = { vaults: zeros(n), pools: zeros(n), lender: zeros(n), owners: zeros(n), liquidators: zeros(n), outside: zeros(n) };
  const transfer = (from: Account, to: Account, asset: number, amount: bigint): void => {
    if (amount === 0n) return;
    ledger[from][asset] = ledger[from][asset]! - amount;
    ledger[to][asset] = ledger[to][asset]! + amount;
  };

  // Pools, funded from the outside at the market's prices.
  const poolOf: (Pool | undefined)[] = Array.from({ length: n }, () => undefined);
  const pools: Pool[] = [];
  if (withPools) {
    for (let i = 0; i < n; i++) {
      if (i === Q || config.depth[i]! <= 0n) continue;
      const pool = poolAt(i, Q, base.assets[i]!, quoteAsset, config.depth[i]!, config.feeBps);
      poolOf[i] = pool;
      pools.push(pool);
      transfer("outside", "pools", i, pool.reserveAsset);
      transfer("outside", "pools", Q, pool.reserveQuote);
    }
  }
  const initialReserves = pools.map((p) => ({ asset: p.reserveAsset, quote: p.reserveQuote }));
  // Per market asset (its pool): quote the pool paid out to sellers, net of what buyers paid in.
  const drainedByRebalance = zeros(n);
  const drainedByLiquidation = zeros(n);
  // Per pool: what the outside's moves (the path, arbitrage) put into its reserves, net.
  const outsideFlow = pools.map(() => ({ asset: 0n, quote: 0n }));
  const outsideMove = (pool: Pool, ratio: number): void => {
    const before = { asset: pool.reserveAsset, quote: pool.reserveQuote };
    movePool(pool, ratio);
    const flow = outsideFlow[pools.indexOf(pool)]!;
    flow.asset += pool.reserveAsset - before.asset;
    flow.quote += pool.reserveQuote - before.quote;
    transfer("outside", "pools", pool.asset, pool.reserveAsset - before.asset);
    transfer("outside", "pools", Q, pool.reserveQuote - before.quote);
  };

  const states: VaultState[] = config.vaults.map((vault) => {
    const collateral = [...vault.position.collateral];
    collateral.forEach((c, i) => transfer("outside", "vaults", i, c));
    return {
      vault,
      collateral,
      debt: [...vault.position.debt],
      liquidatedAt: null,
      pendingAt: null,
      rebalances: 0,
      delays: vault.strategy === "randomized" ? new SeededRandom(pathSeed((config.seed ^ 0x5eed) >>> 0, vault.id)) : undefined,
    };
  });

  const exoPrice = (t: number, i: number): bigint => {
    const p = BigInt(Math.round(Number(base.assets[i]!.price) * config.exogenous[t]![i]!));
    return p > 0n ? p : 1n;
  };
  const quotePriceAt = (t: number): bigint => exoPrice(t, Q);
  const pricesAt = (t: number): bigint[] =>
    base.assets.map((asset, i) => {
      const pool = poolOf[i];
      return pool ? poolPrice(pool, asset, quoteAsset, quotePriceAt(t)) : exoPrice(t, i);
    });

  /** The route's output for selling x of s for b: through the pools, or at the oracle's prices minus the fee (AMM-free). */
  const routeQuote = (market: Market, s: number, b: number, x: bigint): bigint => {
    if (!withPools) {
      const value = (x * unitValue(market.assets[s]!) * (FEE_SCALE - config.feeBps)) / FEE_SCALE;
      return value / unitValue(market.assets[b]!);
    }
    let q = x;
    if (s !== Q) {
      const pool = poolOf[s];
      if (!pool) return 0n;
      q = amountOut(x, pool.reserveAsset, pool.reserveQuote, pool.feeBps);
    }
    if (b === Q) return q;
    const pool = poolOf[b];
    return pool ? amountOut(q, pool.reserveQuote, pool.reserveAsset, pool.feeBps) : 0n;
  };
  /**
   * Executes the route: the seller's account sends x of s and receives the output in b. A route
   * that would pay nothing is not executed (a Uniswap v2 pair reverts on a zero output): the
   * seller keeps its tokens and 0 is returned.
   */
  const routeExecute = (market: Market, who: Account, s: number, b: number, x: bigint): bigint => {
    if (routeQuote(market, s, b, x) <= 0n) return 0n;
    if (!withPools) {
      const out = routeQuote(market, s, b, x);
      transfer(who, "outside", s, x);
      transfer("outside", who, b, out);
      return out;
    }
    const drained = who === "liquidators" ? drainedByLiquidation : drainedByRebalance;
    let q = x;
    if (s !== Q) {
      q = sellAsset(poolOf[s]!, x);
      drained[s] = drained[s]! + q;
    }
    if (b !== Q) drained[b] = drained[b]! - q;
    const out = b === Q ? q : buyAsset(poolOf[b]!, q);
    transfer(who, "pools", s, x);
    transfer("pools", who, b, out);
    return out;
  };

  /**
   * The largest sale <= x whose route pays at least the policy's floor. For a sale into the quote
   * asset the pool's curve gives it in closed form (out(x) / x falls with x:
   * f R_q / (R_a F + x f) >= (R - s) u_s / (R u_q)); a sale no size of which passes is found
   * without a search. Two-hop routes search.
   */
  const guardedSale = (market: Market, s: number, b: number, x: bigint, floor: (y: bigint) => bigint): bigint => {
    const pays = (y: bigint): boolean => routeQuote(market, s, b, y) >= floor(y);
    let hi = x;
    const pool = poolOf[s];
    if (withPools && b === Q && pool) {
      const f = FEE_SCALE - pool.feeBps;
      const keep = RATIO_SCALE - policy.maxSlippage;
      const us = unitValue(market.assets[s]!);
      const numerator = f * pool.reserveQuote * RATIO_SCALE * unitValue(market.assets[Q]!) - pool.reserveAsset * FEE_SCALE * keep * us;
      if (numerator <= 0n) return 0n;
      const estimate = numerator / (f * keep * us) + 1n;
      if (estimate < hi) hi = estimate;
      if (pays(hi)) return hi;
    }
    return largestPassing(hi, pays);
  };

  const records: StepRecord[] = [];
  const trades: Trade[] = [];
  let badDebt = 0n;

  for (let t = 0; t <= steps; t++) {
    // 1. The outside market moves the pools along their curves.
    if (t > 0 && withPools) {
      const quoteMove = config.exogenous[t]![Q]! / config.exogenous[t - 1]![Q]!;
      for (const pool of pools) {
        outsideMove(pool, config.exogenous[t]![pool.asset]! / config.exogenous[t - 1]![pool.asset]! / quoteMove);
      }
    }
    // 2. The oracle's market for the step.
    const prices = withPools ? pricesAt(t) : base.assets.map((_, i) => exoPrice(t, i));
    const factors = prices.map((p, i) => Number(p) / Number(base.assets[i]!.price));
    const hours = t * config.stepHours;
    const repriced = t === 0 && prices.every((p, i) => p === base.assets[i]!.price) ? base : repriceMarket(config.repricing, factors, hours / 24, t);
    const market: Market = { ...repriced, assets: repriced.assets.map((a, i) => ({ ...a, price: prices[i]! })) };

    const record: StepRecord = {
      step: t,
      hours,
      prices,
      closePrices: prices,
      liquidations: 0,
      rebalances: 0,
      cut: 0,
      blocked: 0,
      soldByRebalance: zeros(n),
      soldByLiquidation: zeros(n),
      valueByRebalance: 0n,
      valueByLiquidation: 0n,
      reserves: [],
    };
    const stepRng = new SeededRandom(pathSeed((config.seed ^ 0x0c0ffee) >>> 0, t));

    // 3. Evaluate every live vault at the step's market.
    const doomed: VaultState[] = [];
    const actors: VaultState[] = [];
    const units = market.assets.map((a) => 10n ** BigInt(a.decimals));
    for (const st of states) {
      if (st.liquidatedAt !== null) continue;
      const { numerator, denominator, equity } = standing(st.collateral, st.debt, st.vault.position.quantities, market, units);
      const belowOne = denominator > 0n && numerator < BPS_SCALE * denominator;
      if (belowOne || equity < 0n) {
        st.cause = belowOne ? "health factor below 1" : "negative equity";
        doomed.push(st);
        continue;
      }
      if (!acting) continue;
      const below = (level: bigint): boolean => denominator > 0n && numerator < level * denominator;
      const v = st.vault;
      if (v.strategy === "threshold") {
        if (below(v.trigger)) actors.push(st);
      } else if (v.strategy === "time") {
        if (t % config.intervalSteps === v.phase && below(v.target)) actors.push(st);
      } else if (v.strategy === "randomized") {
        if (st.pendingAt === null && below(v.trigger)) st.pendingAt = t + (st.delays!.nextUint32() % (config.maxDelaySteps + 1));
        if (st.pendingAt !== null && t >= st.pendingAt) {
          st.pendingAt = null;
          if (below(v.trigger)) actors.push(st);
        }
      }
    }

    // Liquidations first.
    for (const st of shuffle(doomed, stepRng)) {
      st.liquidatedAt = t;
      record.liquidations++;
      let collateralTotal = 0n;
      for (let i = 0; i < n; i++) if (st.collateral[i]! > 0n) collateralTotal += collateralValue(st.collateral[i]!, market.assets[i]!);
      let debtTotal = 0n;
      for (let i = 0; i < n; i++) {
        if (st.debt[i]! === 0n) continue;
        debtTotal += debtValue(st.debt[i]!, market.assets[i]!);
        // The liquidator brings the debt asset and repays all of it.
        transfer("outside", "lender", i, debtAssets(st.debt[i]!, market.assets[i]!));
        st.debt[i] = 0n;
      }
      const seizeValue = (debtTotal * (BPS_SCALE + config.liquidationBonusBps)) / BPS_SCALE;
      if (debtTotal > collateralTotal) badDebt += debtTotal - collateralTotal;
      for (let i = 0; i < n; i++) {
        const c = st.collateral[i]!;
        if (c === 0n) continue;
        const seized = collateralTotal === 0n || seizeValue >= collateralTotal ? c : (c * seizeValue) / collateralTotal;
        transfer("vaults", "liquidators", i, seized);
        transfer("vaults", "owners", i, c - seized);
        st.collateral[i] = 0n;
        if (seized > 0n && i !== Q && (!withPools || poolOf[i])) {
          const out = routeExecute(market, "liquidators", i, Q, seized);
          if (out === 0n) continue; // the pool pays nothing for it: the liquidator keeps it
          record.soldByLiquidation[i] = record.soldByLiquidation[i]! + seized;
          record.valueByLiquidation += collateralValue(seized, market.assets[i]!);
          if (config.recordTrades) trades.push({ step: t, vault: st.vault.id, kind: "liquidation", sell: i, amountIn: seized, buy: Q, amountOut: out });
        }
      }
    }

    // 4. The acting vaults, in a random order.
    for (const st of shuffle(actors, stepRng)) {
      const position: Position = { ...st.vault.position, collateral: st.collateral, debt: st.debt };
      const plan = restoreRule(position, market, policy, { target: st.vault.target });
      if (!plan.needed || plan.steps.length === 0) continue;
      let acted = false;
      for (const leg of plan.steps) {
        if (leg.kind === "repayWithCollateral") {
          const b = leg.asset;
          const units = minOf(leg.units, st.debt[b]!);
          const charged = repayCharge(units, market.assets[b]!.debtIndex);
          if (units === 0n || charged > st.collateral[b]!) continue;
          st.collateral[b] = st.collateral[b]! - charged;
          st.debt[b] = st.debt[b]! - units;
          transfer("vaults", "lender", b, charged);
          acted = true;
          continue;
        }
        const { sell: s, buy: b } = leg;
        if (withPools && ((s !== Q && !poolOf[s]) || (b !== Q && !poolOf[b]))) {
          record.blocked++;
          continue;
        }
        let x = minOf(leg.amountIn, st.collateral[s]!);
        if (x <= 0n) continue;
        const floor = (y: bigint): bigint => slippageFloor(s, y, b, market, policy);
        if (config.guard && routeQuote(market, s, b, x) < floor(x)) {
          x = guardedSale(market, s, b, x, floor);
          if (x <= 0n) {
            record.blocked++;
            continue;
          }
          record.cut++;
        }
        const out = routeExecute(market, "vaults", s, b, x);
        if (out === 0n) {
          record.blocked++;
          continue;
        }
        const credited = config.guard ? floor(x) : out;
        // The gate credits the floor and forwards the pool's excess to the owner's wallet.
        transfer("vaults", "owners", b, out - credited);
        st.collateral[s] = st.collateral[s]! - x;
        st.collateral[b] = st.collateral[b]! + credited;
        const owed = repayCharge(st.debt[b]!, market.assets[b]!.debtIndex);
        const units = repayUnits(minOf(credited, owed), market.assets[b]!.debtIndex);
        const charged = repayCharge(units, market.assets[b]!.debtIndex);
        st.collateral[b] = st.collateral[b]! - charged;
        st.debt[b] = st.debt[b]! - units;
        transfer("vaults", "lender", b, charged);
        record.soldByRebalance[s] = record.soldByRebalance[s]! + x;
        record.valueByRebalance += collateralValue(x, market.assets[s]!);
        if (config.recordTrades) trades.push({ step: t, vault: st.vault.id, kind: "rebalance", sell: s, amountIn: x, buy: b, amountOut: out });
        acted = true;
      }
      if (acted) {
        st.rebalances++;
        record.rebalances++;
      }
    }

    // 5. Arbitrage toward the outside price.
    if (withPools && config.recovery > 0) {
      for (const pool of pools) {
        const outside = exoPrice(t, pool.asset);
        const current = poolPrice(pool, base.assets[pool.asset]!, quoteAsset, quotePriceAt(t));
        const ratio = (Number(outside) / Number(current)) ** config.recovery;
        outsideMove(pool, ratio);
      }
    }
    record.closePrices = withPools ? pricesAt(t) : prices;
    record.reserves = pools.map((p) => ({ asset: p.reserveAsset, quote: p.reserveQuote }));
    records.push(record);
  }
  return {
    mode,
    steps: records,
    pools: pools.map((p) => p.asset),
    initialReserves,
    vaults: states.map((st) => ({
      id: st.vault.id,
      liquidatedAt: st.liquidatedAt,
      ...(st.cause !== undefined && st.liquidatedAt !== null && { cause: st.cause }),
      rebalances: st.rebalances,
    })),
    ledger,
    drained: pools.map((p) => ({ byRebalance: drainedByRebalance[p.asset]!, byLiquidation: drainedByLiquidation[p.asset]! })),
    outsideFlow,
    finalCollateral: states.reduce((sum, st) => sum.map((c, i) => c + st.collateral[i]!), zeros(n)),
    badDebt,
    trades,
    runtimeMs: performance.now() - started,
  };
}

/**
 * What the run's state holds at the end, for the two accounts that have state: the vaults' live
 * collateral and the pools' reserves (the asset and quote sides), per market asset. A run
 * conserves tokens exactly when these equal its ledger's "vaults" and "pools" balances.
 */
export function stateHoldings(run: SimulationRun, quote: number): { vaults: bigint[]; pools: bigint[] } {
  const pools = zeros(run.finalCollateral.length);
  const last = run.steps.at(-1);
  run.pools.forEach((asset, k) => {
    const r = last?.reserves[k] ?? run.initialReserves[k]!;
    pools[asset] = pools[asset]! + r.asset;
    pools[quote] = pools[quote]! + r.quote;
  });
  return { vaults: [...run.finalCollateral], pools };
}
