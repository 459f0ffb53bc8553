/**
 * Black-Scholes prices and deltas of European options (zero rates, no dividends), and the
 * volatility that reproduces a given price: what the backtest uses to move option marks and
 * deltas consistently with the simulated underlying.
 */

/** Standard normal CDF (Abramowitz and Stegun 7.1.26 on erf; absolute error below 1.5e-7). */
export function normalCdf(x: number): number {
  const z = Math.abs(x) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * z);
  const poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  const erf = 1 - poly * Math.exp(-z * z);
  return x >= 0 ? (1 + erf) / 2 : (1 - erf) / 2;
}

export type OptionKind = "call" | "put";

export interface OptionQuote {
  price: number;
  delta: number;
}

/**
 * Price and delta of an option on spot `spot` with `strike`, `years` to expiry and volatility
 * `vol` (annual). At or after expiry, or with no volatility, the intrinsic value and its delta.
 */
export function blackScholes(kind: OptionKind, spot: number, strike: number, years: number, vol: number): OptionQuote {
  const intrinsic = kind === "call" ? Math.max(0, spot - strike) : Math.max(0, strike - spot);
  if (years <= 0 || vol <= 0 || strike <= 0) {
    const itm = kind === "call" ? spot > strike : spot < strike;
    return { price: intrinsic, delta: itm ? (kind === "call" ? 1 : -1) : 0 };
  }
  const root = vol * Math.sqrt(years);
  const d1 = (Math.log(spot / strike) + (root * root) / 2) / root;
  const d2 = d1 - root;
  if (kind === "call") return { price: spot * normalCdf(d1) - strike * normalCdf(d2), delta: normalCdf(d1) };
  return { price: strike * normalCdf(-d2) - spot * normalCdf(-d1), delta: normalCdf(d1) - 1 };
}

/**
 * The volatility in [1e-4, 10] at which the option is worth `price`, by bisection (the price
 * increases with volatility); undefined when no volatility in that range gives it (a price below
 * the intrinsic value or above the no-arbitrage bound).
 */
export function impliedVol(kind: OptionKind, price: number, spot: number, strike: number, years: number): number | undefined {
  if (!(years > 0) || !(strike > 0) || !(spot > 0) || !Number.isFinite(price)) return undefined;
  let low = 1e-4;
  let high = 10;
  const at = (vol: number) => blackScholes(kind, spot, strike, years, vol).price;
  if (price < at(low) - 1e-9 * spot || price > at(high) + 1e-9 * spot) return undefined;
  for (let i = 0; i < 100 && high - low > 1e-10; i++) {
    const mid = (low + high) / 2;
    if (at(mid) < price) low = mid;
    else high = mid;
  }
  return (low + high) / 2;
}
