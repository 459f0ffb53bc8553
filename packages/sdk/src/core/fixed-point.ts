/**
 * Fixed-point scales shared by the input parser, the reference model and the circuits.
 *
 * Every decimal string in a market or policy file is parsed to an integer at one of these
 * scales; a value with more fractional digits than its scale allows is rejected, never
 * rounded. Asset amounts use each asset's own `decimals`, and prices/marks/PnL use the
 * market's `quote.decimals` (8 is the norm).
 */
import { AMOUNT_BITS, DEBT_INDEX_BITS, DEBT_INDEX_SCALE as CIRCUIT_DEBT_INDEX_SCALE, QUANTITY_OFFSET } from "./constants.generated.ts";

/** Liquidation thresholds, health factors and scenario weights: 4 decimals (Aave's bps). */
export const BPS_DECIMALS = 4;
export const BPS_SCALE = 10n ** BigInt(BPS_DECIMALS);

/** Asset returns and option deltas: 8 decimals. */
export const RATE_DECIMALS = 8;
export const RATE_SCALE = 10n ** BigInt(RATE_DECIMALS);

/** Daily return covariances: 12 decimals (a 1% daily vol squared is 1e-4 = 1e8 units). */
export const COVARIANCE_DECIMALS = 12;
export const COVARIANCE_SCALE = 10n ** BigInt(COVARIANCE_DECIMALS);

/** Instrument quantities (contracts): 8 decimals, so 0.5 contracts is 50_000_000. */
export const QUANTITY_DECIMALS = 8;
export const QUANTITY_SCALE = 10n ** BigInt(QUANTITY_DECIMALS);

/** Policy ratios (slippage, capital multiplier, confidence): 6 decimals. */
export const RATIO_DECIMALS = 6;
export const RATIO_SCALE = 10n ** BigInt(RATIO_DECIMALS);

/**
 * Debt indices (Aave's borrow index, docs/custody.md): 18 decimals, index 1 is 10^18. The circuits
 * bound an index to [10^18, 2^64) (an index below 1 would understate debt).
 */
export const DEBT_INDEX_DECIMALS = 18;
/** 10^DEBT_INDEX_DECIMALS: the circuits' DEBT_INDEX_SCALE (packages/circuits/constants.json; a test checks the two agree). */
export const DEBT_INDEX_SCALE = CIRCUIT_DEBT_INDEX_SCALE;
export { DEBT_INDEX_BITS };
export const DEBT_INDEX_LIMIT = 1n << BigInt(DEBT_INDEX_BITS);

/** Largest asset amount and quantity magnitude, in base units (risk-model.md, Arithmetic). */
export { AMOUNT_BITS };
export const MAX_AMOUNT = (1n << BigInt(AMOUNT_BITS)) - 1n;
/** Signed quantities q satisfy -2^95 <= q < 2^95 (offset-encoded as q + 2^95 in circuits). */
export { QUANTITY_OFFSET };
