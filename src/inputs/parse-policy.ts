/**
 * policy.json (formats.md, version 1) -> Policy in fixed point. Resolved against a market
 * because minEquity is a quote-currency figure at the market's quote.decimals.
 */
import { BPS_DECIMALS, RATIO_DECIMALS, RATIO_SCALE } from "../core/fixed-point.ts";
import { Fields, NON_NEGATIVE, POSITIVE, readRaw } from "./fields.ts";
import { policySchema } from "./schemas.ts";
import type { Market, Policy } from "./types.ts";

export function parsePolicy(json: unknown, source: string, market: Market): Policy {
  const raw = readRaw(policySchema, json, source);
  const at = new Fields(source);
  return {
    version: 1,
    minHealthFactor: at.decimal("minHealthFactor", raw.minHealthFactor, BPS_DECIMALS, POSITIVE),
    trigger: { healthFactor: at.decimal("trigger.healthFactor", raw.trigger.healthFactor, BPS_DECIMALS, POSITIVE) },
    stress: { minEquity: at.decimal("stress.minEquity", raw.stress.minEquity, market.quote.decimals, NON_NEGATIVE) },
    var: {
      method: raw.var.method,
      confidence: at.decimal("var.confidence", raw.var.confidence, RATIO_DECIMALS, {
        min: 0n,
        minOpen: true,
        max: RATIO_SCALE,
        maxOpen: true,
      }),
      capitalMultiplier: at.decimal("var.capitalMultiplier", raw.var.capitalMultiplier, RATIO_DECIMALS, POSITIVE),
    },
    maxSlippage: at.decimal("maxSlippage", raw.maxSlippage, RATIO_DECIMALS, { min: 0n, max: RATIO_SCALE, maxOpen: true }),
  };
}
