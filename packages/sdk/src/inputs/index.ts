/**
 * Reading and validating the three input files (formats.md, version 1).
 *
 * @module
 */
export type { Asset, Covariance, Instrument, InstrumentKind, Market, Policy, Position, Quote, Scenario, VarMethod } from "./types.ts";
export { parseMarket } from "./parse-market.ts";
export { parsePolicy } from "./parse-policy.ts";
export { MAX_NONCE, parsePosition } from "./parse-position.ts";
export { marketSchema, policySchema, positionSchema } from "./schemas.ts";
export type { RawMarket, RawPolicy, RawPosition } from "./schemas.ts";
export { jsonSchemas } from "./json-schema.ts";
export type { JsonSchemas } from "./json-schema.ts";
export { positionToJson } from "./position-file.ts";
export {
  DEFAULT_SPOT_POINTS,
  DEFAULT_SPOT_RANGE,
  DEFAULT_VOL_MOVES,
  MAX_GRID_SCENARIOS,
  portfolioMarginGrid,
  type GridAssetRange,
  type GridInstrumentPricing,
  type GridOptions,
  type MarketGrid,
} from "./market-grid.ts";
export { fieldPath, readRaw } from "./fields.ts";
export { describeValue } from "./schemas.ts";
