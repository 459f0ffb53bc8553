/**
 * policy.json (formats.md, version 1) -> Policy in fixed point. Resolved against a market
 * because minEquity is a quote-currency figure at the market's quote.decimals.
 */
import { MAX_CAPITAL_MULTIPLIER, MAX_HEALTH_FACTOR } from "../core/constants.generated.ts";
import { BPS_DECIMALS, RATIO_DECIMALS, RATIO_SCALE } from "../core/fixed-point.ts";
import { Fields, NON_NEGATIVE, readRaw, type Bounds } from "./fields.ts";
import { policySchema } from "./schemas.ts";
import type { Market, Policy } from "./types.ts";

/**
 * Health factors above 100 and multipliers below 1 are refused: the circuits size their
 * comparisons for these ranges (docs/risk-arithmetic.md, Bounds) and a VaR multiplier below 1
 * would shrink the capital requirement below the VaR itself.
 */
const HEALTH_FACTOR: Bounds = { min: 0n, minOpen: true, max: BigInt(MAX_HEALTH_FACTOR) };
const CAPITAL_MULTIPLIER: Bounds = { min: RATIO_SCALE, max: BigInt(MAX_CAPITAL_MULTIPLIER) };

export function parsePolicy(json: unknown, source: string, market: Market): Policy {
  const raw = readRaw(policySchema, json, source);
  const at = new Fields(source);
  return {
    version: 1,
    minHealthFactor: at.decimal("minHealthFactor", raw.minHealthFactor, BPS_DECIMALS, HEALTH_FACTOR),
    trigger: { healthFactor: at.decimal("trigger.healthFactor", raw.trigger.healthFactor, BPS_DECIMALS, HEALTH_FACTOR) },
    stress: { minEquity: at.decimal("stress.minEquity", raw.stress.minEquity, market.quote.decimals, NON_NEGATIVE) },
    var: {
      method: raw.var.method,
      confidence: at.decimal("var.confidence", raw.var.confidence, RATIO_DECIMALS, {
        min: 0n,
        minOpen: true,
        max: RATIO_SCALE,
        maxOpen: true,
      }),
      capitalMultiplier: at.decimal("var.capitalMultiplier", raw.var.capitalMultiplier, RATIO_DECIMALS, CAPITAL_MULTIPLIER),
    },
    maxSlippage: at.decimal("maxSlippage", raw.maxSlippage, RATIO_DECIMALS, { min: 0n, max: RATIO_SCALE, maxOpen: true }),
  };
}
