/**
 * The SDK's foundations: errors (each with its CLI exit code), exact decimals, the fixed-point
 * scales of formats.md and the BN254 scalar field. Browser-safe.
 *
 * @module
 */
export { formatHuman, DecimalError, formatDecimal, parseDecimal } from "./decimal.ts";
export { InputError, SetupError, ZksError } from "./errors.ts";
export {
  AMOUNT_BITS,
  BPS_DECIMALS,
  BPS_SCALE,
  COVARIANCE_DECIMALS,
  COVARIANCE_SCALE,
  DEBT_INDEX_BITS,
  DEBT_INDEX_DECIMALS,
  DEBT_INDEX_LIMIT,
  DEBT_INDEX_SCALE,
  MAX_AMOUNT,
  QUANTITY_DECIMALS,
  QUANTITY_OFFSET,
  QUANTITY_SCALE,
  RATE_DECIMALS,
  RATE_SCALE,
  RATIO_DECIMALS,
  RATIO_SCALE,
} from "./fixed-point.ts";
export { fromField, SNARK_FIELD, toField } from "./field.ts";
