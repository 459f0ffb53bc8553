export { formatHuman, DecimalError, formatDecimal, parseDecimal } from "./decimal.ts";
export { InputError, SetupError, ZksError } from "./errors.ts";
export { QUANTITY_DECIMALS, BPS_DECIMALS, RATIO_DECIMALS, DEBT_INDEX_DECIMALS, DEBT_INDEX_SCALE } from "./fixed-point.ts";
export { SNARK_FIELD } from "./field.ts";
