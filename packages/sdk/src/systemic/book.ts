/**
 * The vaults of a cascade simulation: N positions varied from a few templates (the spec's example
 * positions, or a book's), each with its strategy (docs/systemic.md, "The book"). Vault v draws
 * everything from its own generator, seeded from (seed, v), so the first 100 vaults of a
 * 1,000-vault book are the 100 vaults of a 100-vault book: runs over N compare nested books.
 *
 * Per vault, in this order of draws:
 * - a template, uniformly;
 * - a scale, log-uniform in `scale` (default 0.1x to 10x): books hold small and large vaults;
 * - the asset mix: each collateral amount times a weight uniform in [1 - mixJitter, 1 + mixJitter]
 *   (default 0.5), and with probability `addAssetShare` (default 0.25) collateral in one more
 *   risky asset the template lacks, worth 10% to 50% of the rest;
 * - the debt: the template's debt assets in its proportions (the AMM's quote asset without any),
 *   scaled so that the health factor at the market's prices is uniform in `healthFactor`
 *   (default 1.3 to 3.0): every vault starts above a 1.25 trigger;
 * - the options: each instrument quantity times the scale times a factor uniform in `options`
 *   (default 0 to 1.5), scaled down when written options would take more than half of the net
 *   asset value (a vault must not open with negative equity);
 * - the strategy by the mix's fractions, and its parameters: a time vault's phase in its
 *   interval, a randomized vault's trigger (the trigger plus a uniform jitter) and target (the
 *   same distance above).
 *
 * Floats are used to draw (this is a simulation's input, not a proof's); every amount is then an
 * integer of base units, and the health factor is the model's.
 */
import { BPS_SCALE, QUANTITY_SCALE } from "../core/fixed-point.ts";
import type { Market, Position } from "../inputs/types.ts";
import { SeededRandom } from "../backtest/random.ts";
import { pathSeed } from "../backtest/simulate-paths.ts";
import { collateralValue, debtValue } from "../model/values.ts";

export type VaultStrategy = "threshold" | "time" | "randomized" | "none";
export const VAULT_STRATEGIES: readonly VaultStrategy[] = ["threshold", "time", "randomized", "none"];

/** Fractions of the vaults following each strategy; they sum to 1. */
export type StrategyMix = Readonly<Record<VaultStrategy, number>>;

export interface BookVariation {
  /** Log-uniform scale range. */
  scale: readonly [number, number];
  /** Collateral weights uniform in [1 - mixJitter, 1 + mixJitter]. */
  mixJitter: number;
  /** Probability of collateral in one more risky asset. */
  addAssetShare: number;
  /** Initial health factor, uniform in this range. */
  healthFactor: readonly [number, number];
  /** Option quantities times the scale times a factor uniform in this range. */
  options: readonly [number, number];
}

export const DEFAULT_BOOK_VARIATION: BookVariation = {
  scale: [0.1, 10],
  mixJitter: 0.5,
  addAssetShare: 0.25,
  healthFactor: [1.3, 3],
  options: [0, 1.5],
};

export interface StrategyParameters {
  /** BPS: the threshold and time strategies' trigger and target (the target >= the trigger). */
  trigger: bigint;
  target: bigint;
  /** Time vaults act every this many steps, at a phase drawn per vault. */
  intervalSteps: number;
  /** Randomized vaults: trigger = trigger + U(-jitter, +jitter) (health-factor units). */
  triggerJitter: number;
  /** Randomized vaults: once triggered, act after U{0..maxDelaySteps} steps. */
  maxDelaySteps: number;
}

export interface Vault {
  id: number;
  /** Index of the template it was varied from (-1 for a book taken as it is). */
  template: number;
  position: Position;
  strategy: VaultStrategy;
  /** BPS; per vault for the randomized strategy. */
  trigger: bigint;
  target: bigint;
  /** Time strategy: acts at steps t with t % interval == phase. */
  phase: number;
}

const uniform = (rng: SeededRandom, [lo, hi]: readonly [number, number]): number => lo + (hi - lo) * rng.uniform();
const toUnits = (x: number): bigint => (Number.isFinite(x) && x > 0 ? BigInt(Math.floor(x)) : 0n);

/** The strategy of a uniform draw u under the mix (cumulative, in VAULT_STRATEGIES order). */
export function strategyOf(u: number, mix: StrategyMix): VaultStrategy {
  let cumulative = 0;
  for (const s of VAULT_STRATEGIES) {
    cumulative += mix[s];
    if (u < cumulative) return s;
  }
  // Rounding of the fractions: the last strategy with a share.
  return [...VAULT_STRATEGIES].reverse().find((s) => mix[s] > 0) ?? "none";
}

/** Per-vault strategy parameters from the vault's generator. */
function strategyFields(rng: SeededRandom, mix: StrategyMix, params: StrategyParameters): Pick<Vault, "strategy" | "trigger" | "target" | "phase"> {
  const strategy = strategyOf(rng.uniform(), mix);
  const phase = Math.floor(rng.uniform() * params.intervalSteps);
  const jitter = Math.round((rng.uniform() * 2 - 1) * params.triggerJitter * Number(BPS_SCALE));
  if (strategy !== "randomized") return { strategy, trigger: params.trigger, target: params.target, phase };
  const floor = BPS_SCALE + 1n; // a trigger at or below 1.0 would wait for the liquidation
  const trigger = params.trigger + BigInt(jitter) > floor ? params.trigger + BigInt(jitter) : floor;
  return { strategy, trigger, target: trigger + (params.target - params.trigger), phase };
}

/** The model's N (q.u. * BPS) of a collateral vector. */
function riskAdjusted(collateral: readonly bigint[], market: Market): bigint {
  return collateral.reduce((sum, c, i) => sum + collateralValue(c, market.assets[i]!) * market.assets[i]!.liquidationThreshold, 0n);
}

/**
 * `count` vaults varied from `templates` (positions resolved against `market`); `quote` is the
 * AMM's quote asset (the debt asset of a template without debt).
 */
export function generateBook(
  templates: readonly Position[],
  market: Market,
  count: number,
  seed: number,
  mix: StrategyMix,
  params: StrategyParameters,
  quote: number,
  variation: BookVariation = DEFAULT_BOOK_VARIATION,
): Vault[] {
  if (templates.length === 0) throw new RangeError("generateBook: at least one template position");
  return Array.from({ length: count }, (_, id) => {
    const rng = new SeededRandom(pathSeed(seed, id));
    const template = Math.min(templates.length - 1, Math.floor(rng.uniform() * templates.length));
    const base = templates[template]!;
    const scale = Math.exp(uniform(rng, [Math.log(variation.scale[0]), Math.log(variation.scale[1])]));
    const weights = market.assets.map(() => uniform(rng, [1 - variation.mixJitter, 1 + variation.mixJitter]));
    const collateral = base.collateral.map((c, i) => toUnits(Number(c) * scale * weights[i]!));
    // One more risky asset (not the quote asset, not a debt asset), worth 10-50% of the rest.
    const adds = rng.uniform() < variation.addAssetShare;
    const pick = rng.uniform();
    const share = uniform(rng, [0.1, 0.5]);
    const candidates = market.assets.map((_, i) => i).filter((i) => i !== quote && base.collateral[i] === 0n && base.debt[i] === 0n);
    if (adds && candidates.length > 0) {
      const i = candidates[Math.min(candidates.length - 1, Math.floor(pick * candidates.length))]!;
      const value = collateral.reduce((sum, c, j) => sum + Number(collateralValue(c, market.assets[j]!)), 0) * share;
      const asset = market.assets[i]!;
      collateral[i] = toUnits((value / Number(asset.price)) * 10 ** asset.decimals);
    }
    // Debt: the template's proportions (or the quote asset), at a drawn health factor.
    const healthFactor = uniform(rng, variation.healthFactor);
    const debtShape = base.debt.some((d) => d > 0n) ? base.debt : base.debt.map((_, i) => (i === quote ? 10n ** BigInt(market.assets[quote]!.decimals) : 0n));
    const shapeValue = debtShape.reduce((sum, d, i) => sum + Number(debtValue(d, market.assets[i]!)), 0);
    const wanted = Number(riskAdjusted(collateral, market)) / Number(BPS_SCALE) / healthFactor;
    const debt = debtShape.map((d) => (shapeValue > 0 ? toUnits((Number(d) * wanted) / shapeValue) : 0n));
    const optionFactor = uniform(rng, variation.options);
    let quantities = base.quantities.map((q) => Number(q) * scale * optionFactor);
    // Written options may take at most half of the net asset value at the start: a vault that
    // opens with negative equity would be liquidated before any shock.
    const net =
      collateral.reduce((sum, c, i) => sum + Number(collateralValue(c, market.assets[i]!)), 0) - debt.reduce((sum, d, i) => sum + Number(debtValue(d, market.assets[i]!)), 0);
    const marks = quantities.reduce((sum, q, k) => sum + (q * Number(market.instruments[k]!.mark)) / Number(QUANTITY_SCALE), 0);
    if (marks < -net / 2) quantities = quantities.map((q) => (q * (net / 2)) / -marks);
    const contracts = quantities.map((q) => BigInt(Math.trunc(q)));
    const position: Position = { ...base, nonce: 0n, collateral, debt, quantities: contracts };
    return { id, template, position, ...strategyFields(rng, mix, params) };
  });
}

/** A book taken as it is: each position one vault, strategies drawn as generateBook draws them. */
export function bookAsIs(positions: readonly Position[], seed: number, mix: StrategyMix, params: StrategyParameters): Vault[] {
  return positions.map((position, id) => {
    const rng = new SeededRandom(pathSeed(seed, id));
    return { id, template: -1, position, ...strategyFields(rng, mix, params) };
  });
}
