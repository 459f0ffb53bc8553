/**
 * Constant-product pools (x * y = k), one per market asset against the simulation's quote asset
 * (a stablecoin of the market, USDC in the examples), in base units as Uniswap v2 keeps them
 * (docs/systemic.md, "The AMM"):
 *
 *     out = floor(in * (F - fee) * R_out / (R_in * F + in * (F - fee)))     F = 10^4, fee in bps
 *
 * With fee 30 this is UniswapV2Library.getAmountOut exactly (997/1000). The fee stays in the
 * pool, so k = R_asset * R_quote never decreases over a swap; the output is rounded down, so a
 * swap never pays out more than the curve allows.
 *
 * Exogenous moves (the shock, a simulated path, arbitrage toward the outside price) reprice a pool
 * along its curve: R_asset' = R_asset / sqrt(r), R_quote' = R_quote * sqrt(r) for a price ratio r,
 * both by integer square roots (k is kept to within rounding). They stand for the outside
 * market's flow, which the simulation does not attribute to vaults.
 */
import type { Asset } from "../inputs/types.ts";
import { isqrtFloor } from "../model/rounding.ts";

/** Fees in basis points: F = 10^4. */
export const FEE_SCALE = 10_000n;
/** Uniswap v2's fee: 0.3%. */
export const DEFAULT_FEE_BPS = 30n;

export interface Pool {
  /** Market index of the pool's asset. */
  asset: number;
  /** Market index of the quote asset it trades against. */
  quote: number;
  /** Base units of the asset and of the quote asset held by the pool; both > 0. */
  reserveAsset: bigint;
  reserveQuote: bigint;
  feeBps: bigint;
}

/** The output of a swap of `amountIn` against reserves (in, out), fee in bps; 0 for an empty input or reserve. */
export function amountOut(amountIn: bigint, reserveIn: bigint, reserveOut: bigint, feeBps: bigint): bigint {
  if (amountIn <= 0n || reserveIn <= 0n || reserveOut <= 0n) return 0n;
  const inWithFee = amountIn * (FEE_SCALE - feeBps);
  return (inWithFee * reserveOut) / (reserveIn * FEE_SCALE + inWithFee);
}

/** A pool holding `depthQuote` base units of the quote asset, at the oracle's prices of the two assets. */
export function poolAt(assetIndex: number, quoteIndex: number, asset: Asset, quote: Asset, depthQuote: bigint, feeBps: bigint = DEFAULT_FEE_BPS): Pool {
  if (depthQuote <= 0n) throw new RangeError(`pool ${asset.symbol}/${quote.symbol}: the depth must be > 0`);
  if (feeBps < 0n || feeBps >= FEE_SCALE) throw new RangeError(`pool ${asset.symbol}/${quote.symbol}: the fee must be in [0, 10000) bps`);
  // reserveAsset * p_asset / 10^dec_asset = reserveQuote * p_quote / 10^dec_quote (equal values), rounded down.
  const reserveAsset = (depthQuote * quote.price * 10n ** BigInt(asset.decimals)) / (asset.price * 10n ** BigInt(quote.decimals));
  if (reserveAsset <= 0n) throw new RangeError(`pool ${asset.symbol}/${quote.symbol}: the depth is too small to hold one base unit of ${asset.symbol}`);
  return { asset: assetIndex, quote: quoteIndex, reserveAsset, reserveQuote: depthQuote, feeBps };
}

/** Sells `amountIn` of the pool's asset for the quote asset; returns what it pays out and updates the reserves. */
export function sellAsset(pool: Pool, amountIn: bigint): bigint {
  const out = amountOut(amountIn, pool.reserveAsset, pool.reserveQuote, pool.feeBps);
  if (out <= 0n) return 0n;
  pool.reserveAsset += amountIn;
  pool.reserveQuote -= out;
  return out;
}

/** Sells `quoteIn` of the quote asset for the pool's asset; returns what it pays out and updates the reserves. */
export function buyAsset(pool: Pool, quoteIn: bigint): bigint {
  const out = amountOut(quoteIn, pool.reserveQuote, pool.reserveAsset, pool.feeBps);
  if (out <= 0n) return 0n;
  pool.reserveQuote += quoteIn;
  pool.reserveAsset -= out;
  return out;
}

/**
 * The pool's marginal price as an oracle would publish it: quote units (at the market's
 * quote.decimals) per whole token of the asset, given the quote asset's own price; rounded down,
 * at least 1.
 */
export function poolPrice(pool: Pool, asset: Asset, quote: Asset, quotePrice: bigint = quote.price): bigint {
  const price = (pool.reserveQuote * quotePrice * 10n ** BigInt(asset.decimals)) / (pool.reserveAsset * 10n ** BigInt(quote.decimals));
  return price > 0n ? price : 1n;
}

/** Fixed-point scale of the ratios given to movePool. */
const RATIO_ONE = 10n ** 18n;

/**
 * Moves the pool along its curve so its price is multiplied by `ratio` (> 0): an outside trader's
 * flow (the exogenous shock, a simulated path, arbitrage). Reserves stay >= 1.
 */
export function movePool(pool: Pool, ratio: number): void {
  if (!(ratio > 0) || !Number.isFinite(ratio)) throw new RangeError(`movePool: the price ratio must be finite and > 0, got ${ratio}`);
  if (ratio === 1) return;
  const r = BigInt(Math.round(ratio * 1e18));
  const reserveAsset = isqrtFloor((pool.reserveAsset * pool.reserveAsset * RATIO_ONE) / (r > 0n ? r : 1n));
  const reserveQuote = isqrtFloor((pool.reserveQuote * pool.reserveQuote * r) / RATIO_ONE);
  pool.reserveAsset = reserveAsset > 0n ? reserveAsset : 1n;
  pool.reserveQuote = reserveQuote > 0n ? reserveQuote : 1n;
}

/**
 * The largest x <= `amountIn` for which `pays(x)` holds, given that it holds at 0 and fails at
 * `amountIn`, and that it is monotone (what a swap pays over what the policy asks only falls as
 * the size grows): a binary search, about log2(amountIn) evaluations.
 */
export function largestPassing(amountIn: bigint, pays: (x: bigint) => boolean): bigint {
  let lo = 0n;
  let hi = amountIn;
  while (hi - lo > 1n) {
    const mid = (lo + hi) / 2n;
    if (pays(mid)) lo = mid;
    else hi = mid;
  }
  return lo;
}
