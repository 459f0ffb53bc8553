/**
 * The cascade simulation's options, checked and named by their `zks systemic` flag
 * (SystemicOptionsError, exit 2), so a CLI, a web form and a script report them alike. Text
 * forms ("threshold=0.5,time=0.5", "WETH=-0.2", "WETH=50000000") are parsed here too.
 */
import { ZksError } from "../core/errors.ts";
import { BPS_SCALE } from "../core/fixed-point.ts";
import { DecimalError, parseDecimal } from "../core/decimal.ts";
import type { Market } from "../inputs/types.ts";
import { VAULT_STRATEGIES, type StrategyMix, type VaultStrategy } from "./book.ts";

/** A simulation option that cannot be used, named by its flag. Exit code 2. */
export class SystemicOptionsError extends ZksError {
  constructor(
    readonly parameter: string,
    readonly problem: string,
  ) {
    super(`${parameter}: ${problem}`, 2);
  }
}

/** The range a number option must be in; `minOpen` excludes the minimum. */
export interface SystemicNumberRule {
  integer?: boolean;
  min?: number;
  max?: number;
  minOpen?: boolean;
}

export const SYSTEMIC_NUMBER_RULES = {
  "--vaults": { integer: true, min: 1, max: 100_000 },
  "--steps": { integer: true, min: 1, max: 10_000 },
  "--step-hours": { min: 0, minOpen: true, max: 8760 },
  "--seed": { integer: true, min: 0, max: 0xffffffff },
  "--shock-step": { integer: true, min: 1, max: 10_000 },
  "--fee": { min: 0, max: 0.1 },
  "--recovery": { min: 0, max: 1 },
  "--bonus": { min: 0, max: 0.5 },
  "--interval-steps": { integer: true, min: 1, max: 10_000 },
  "--jitter": { min: 0, max: 1 },
  "--max-delay": { integer: true, min: 0, max: 10_000 },
  "--hf-range": { min: 1, max: 100 },
  "--liquidity": { min: 0, minOpen: true, max: 1000 },
} as const satisfies Record<string, SystemicNumberRule>;

function ruleText(rule: SystemicNumberRule): string {
  const lower = rule.min !== undefined ? `${rule.minOpen ? ">" : ">="} ${rule.min}` : "";
  const upper = rule.max !== undefined ? `<= ${rule.max}` : "";
  return `${rule.integer ? "an integer" : "a number"}${lower || upper ? ` ${[lower, upper].filter(Boolean).join(" and ")}` : ""}`;
}

/** Checks a number against its rule; `shown` is the value as typed. */
export function checkSystemicNumber(parameter: string, value: number, rule: SystemicNumberRule, shown: string = String(value)): number {
  const what = ruleText(rule);
  if (!Number.isFinite(value) || (rule.integer && !Number.isInteger(value))) throw new SystemicOptionsError(parameter, `expected ${what}, got "${shown}"`);
  if (rule.min !== undefined && (rule.minOpen ? value <= rule.min : value < rule.min)) throw new SystemicOptionsError(parameter, `expected ${what}, got ${shown}`);
  if (rule.max !== undefined && value > rule.max) throw new SystemicOptionsError(parameter, `expected ${what}, got ${shown}`);
  return value;
}

const NUMBER = /^[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?$/;

/** A number typed as text: a plain decimal or exponent notation, in range. */
export function parseSystemicNumber(parameter: string, text: string, rule: SystemicNumberRule): number {
  if (!NUMBER.test(text.trim())) throw new SystemicOptionsError(parameter, `expected ${ruleText(rule)}, got "${text}"`);
  return checkSystemicNumber(parameter, Number(text), rule, text);
}

/** A health factor typed as text ("1.25"), at BPS, > 1 and <= 100. */
export function parseHealthFactor(parameter: string, text: string): bigint {
  let value: bigint;
  try {
    value = parseDecimal(text, 4);
  } catch (error) {
    if (error instanceof DecimalError) throw new SystemicOptionsError(parameter, error.message);
    throw error;
  }
  if (value <= BPS_SCALE || value > 100n * BPS_SCALE) throw new SystemicOptionsError(parameter, `expected a health factor > 1 and <= 100, got ${text}`);
  return value;
}

/** "key=value,key=value" pairs, each key once. */
function pairs(parameter: string, text: string, example: string): [string, string][] {
  const items = text
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
  if (items.length === 0) throw new SystemicOptionsError(parameter, `expected name=value pairs separated by commas, e.g. "${example}", got "${text}"`);
  const seen = new Set<string>();
  return items.map((item) => {
    const eq = item.indexOf("=");
    if (eq <= 0 || eq === item.length - 1) throw new SystemicOptionsError(parameter, `expected name=value, e.g. "${example}", got "${item}"`);
    const key = item.slice(0, eq).trim();
    if (seen.has(key)) throw new SystemicOptionsError(parameter, `${key} is given twice`);
    seen.add(key);
    return [key, item.slice(eq + 1).trim()];
  });
}

/** A strategy mix: "threshold=0.5,time=0.3,randomized=0.2" (fractions summing to 1; strategies left out get 0). */
export function parseMix(text: string, parameter = "--mix"): StrategyMix {
  const mix: Record<VaultStrategy, number> = { threshold: 0, time: 0, randomized: 0, none: 0 };
  for (const [key, value] of pairs(parameter, text, "threshold=0.5,time=0.3,randomized=0.2")) {
    if (!VAULT_STRATEGIES.includes(key as VaultStrategy)) throw new SystemicOptionsError(parameter, `unknown strategy "${key}" (${VAULT_STRATEGIES.join(", ")})`);
    mix[key as VaultStrategy] = parseSystemicNumber(parameter, value, { min: 0, max: 1 });
  }
  const sum = VAULT_STRATEGIES.reduce((s, k) => s + mix[k], 0);
  if (Math.abs(sum - 1) > 1e-9) throw new SystemicOptionsError(parameter, `the fractions must sum to 1, got ${Number(sum.toPrecision(12))} in "${text}"`);
  return mix;
}

/** Several mixes separated by ";" (the sweep's). */
export function parseMixes(text: string, parameter = "--sweep-mixes"): StrategyMix[] {
  const parts = text
    .split(";")
    .map((s) => s.trim())
    .filter((s) => s !== "");
  if (parts.length === 0) throw new SystemicOptionsError(parameter, `expected mixes separated by ";", got "${text}"`);
  return parts.map((p) => parseMix(p, parameter));
}

/** How a mix is named in tables: "threshold" for a pure one, else "threshold 50%, time 30%, ...". */
export function mixLabel(mix: StrategyMix): string {
  const parts = VAULT_STRATEGIES.filter((s) => mix[s] > 0);
  if (parts.length === 1) return `all ${parts[0]}`;
  return parts.map((s) => `${s} ${Number((mix[s] * 100).toPrecision(4))}%`).join(", ");
}

/** "a market asset symbol" -> its index, or an error naming the flag. */
function assetIndex(parameter: string, market: Market, symbol: string): number {
  const i = market.assets.findIndex((a) => a.symbol === symbol);
  if (i < 0) throw new SystemicOptionsError(parameter, `"${symbol}" is not an asset of the market (${market.assets.map((a) => a.symbol).join(", ")})`);
  return i;
}

/** The AMM's quote asset by symbol. */
export function parseQuoteAsset(text: string, market: Market): number {
  return assetIndex("--quote-asset", market, text.trim());
}

/** An exogenous shock: "WETH=-0.2,WBTC=-0.15", returns > -1 (and <= 10), never the quote asset. */
export function parseShock(text: string, market: Market, quote: number): { asset: number; change: number }[] {
  return pairs("--shock", text, "WETH=-0.2").map(([symbol, value]) => {
    const asset = assetIndex("--shock", market, symbol);
    if (asset === quote) throw new SystemicOptionsError("--shock", `${symbol} is the pools' quote asset (the numeraire); shock the other assets`);
    const change = parseSystemicNumber("--shock", value, { min: -1, minOpen: true, max: 10 });
    return { asset, change };
  });
}

/** Pool depths: "WETH=50000000,WBTC=20000000", in whole tokens of the quote asset, > 0. */
export function parseDepth(text: string, market: Market, quote: number): (bigint | undefined)[] {
  const depth: (bigint | undefined)[] = market.assets.map(() => undefined);
  const q = market.assets[quote]!;
  for (const [symbol, value] of pairs("--amm-depth", text, `WETH=50000000 (${q.symbol} on the pool's quote side)`)) {
    const asset = assetIndex("--amm-depth", market, symbol);
    if (asset === quote) throw new SystemicOptionsError("--amm-depth", `${symbol} is the pools' quote asset; give the depth of the pools of the other assets`);
    let units: bigint;
    try {
      units = parseDecimal(value, q.decimals);
    } catch (error) {
      if (error instanceof DecimalError) throw new SystemicOptionsError("--amm-depth", `${symbol}: ${error.message}`);
      throw error;
    }
    if (units <= 0n || units >= 1n << 120n) throw new SystemicOptionsError("--amm-depth", `${symbol}: expected a depth > 0 in ${q.symbol}, got ${value}`);
    depth[asset] = units;
  }
  return depth;
}

/** Named liquidity levels: multiples of the collateral value a 1,000-vault book holds in each asset. */
export const LIQUIDITY_LEVELS: Readonly<Record<string, number>> = { thin: 0.25, medium: 1, deep: 4 };

/** "thin" | "medium" | "deep" | a multiple > 0. */
export function parseLiquidity(text: string): number {
  const level = LIQUIDITY_LEVELS[text.trim()];
  if (level !== undefined) return level;
  if (!NUMBER.test(text.trim())) throw new SystemicOptionsError("--liquidity", `expected thin, medium, deep or a multiple > 0, got "${text}"`);
  return parseSystemicNumber("--liquidity", text, SYSTEMIC_NUMBER_RULES["--liquidity"]);
}

/** Vault counts of the sweep: "100,300,1000,3000", integers in [1, 100000], increasing. */
export function parseVaultCounts(text: string): number[] {
  const counts = text.split(",").map((s) => parseSystemicNumber("--sweep", s.trim(), SYSTEMIC_NUMBER_RULES["--vaults"]));
  for (let i = 1; i < counts.length; i++) if (counts[i]! <= counts[i - 1]!) throw new SystemicOptionsError("--sweep", `vault counts must increase, got "${text}"`);
  return counts;
}

/** Two numbers "lo,hi" with lo <= hi, each in range. */
export function parseRange(parameter: string, text: string, rule: SystemicNumberRule): [number, number] {
  const parts = text.split(",");
  if (parts.length !== 2) throw new SystemicOptionsError(parameter, `expected two numbers separated by a comma, e.g. "1.3,3", got "${text}"`);
  const lo = parseSystemicNumber(parameter, parts[0]!.trim(), rule);
  const hi = parseSystemicNumber(parameter, parts[1]!.trim(), rule);
  if (lo > hi) throw new SystemicOptionsError(parameter, `the first number must not exceed the second, got "${text}"`);
  return [lo, hi];
}
