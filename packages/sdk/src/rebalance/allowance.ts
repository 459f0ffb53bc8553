/**
 * What the owner allows a rebalance to use: wallet balances available for a top-up (deposit or
 * repay) and assets whose collateral may be sold on the AMM (swaps, including the delta-neutral
 * strategy's spot hedges). Read from `allow.json`:
 *
 *     {
 *       "version": 1,                          optional; 1 is the only version
 *       "wallet": { "USDC": "20000",           optional; symbol -> whole tokens >= 0 (decimal string)
 *                                              available in the owner's wallet for deposit / repay;
 *                   "ETH-26DEC26-2800-P": "40" }   an instrument id -> option tokens (contracts) in
 *                                              the wallet, which the grid hedge may deposit
 *       "sellable": ["WETH", "WBTC"],          optional; asset symbols whose collateral may be sold
 *                                              (swapped on the AMM)
 *       "tradable": ["ETH-26DEC26-2800-P"],    optional; instruments whose option tokens the grid
 *                                              hedge may deposit (from the wallet) or withdraw
 *                                              (long holdings only: docs/custody.md); the other
 *                                              strategies never move option tokens
 *       "maxActions": 4                        optional; integer >= 1, the most actions a plan may have
 *     }
 *
 * A field left out allows nothing of its kind (an empty file allows only repayWithCollateral,
 * which moves no wallet tokens and sells nothing). Symbols and ids must exist in the market;
 * unknown fields are ignored (formats.md: a file may carry more fields, never fewer).
 * Browser-safe: the caller reads the file.
 */
import { InputError } from "../core/errors.ts";
import { MAX_AMOUNT, QUANTITY_DECIMALS, QUANTITY_OFFSET } from "../core/fixed-point.ts";
import { Fields, NON_NEGATIVE } from "../inputs/fields.ts";
import { describeValue } from "../inputs/schemas.ts";
import type { Market } from "../inputs/types.ts";

export interface Allowance {
  /** Base units available in the wallet, one per market asset. */
  wallet: bigint[];
  /** Per market asset: its collateral may be sold. */
  sellable: boolean[];
  /** Per market instrument: listed in `tradable`: the grid hedge may move its option tokens. */
  tradable: boolean[];
  /** Per market instrument, option tokens in the wallet (contracts at QUANTITY_DECIMALS); absent = none. */
  instrumentWallet?: bigint[];
  /** The most actions a plan may have; undefined = no limit. */
  maxActions?: number;
}

/** The raw form, keyed by symbol / id (what allow.json holds, before resolving against a market). */
export interface AllowanceSpec {
  wallet?: Record<string, string>;
  sellable?: string[];
  tradable?: string[];
  maxActions?: number;
}

/** Nothing allowed: an empty wallet, nothing sellable, nothing tradable. */
export function emptyAllowance(market: Market): Allowance {
  return {
    wallet: market.assets.map(() => 0n),
    sellable: market.assets.map(() => false),
    tradable: market.instruments.map(() => false),
  };
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** Parses allow.json (already JSON-decoded) against `market`; errors name `source` and the field. */
export function parseAllowance(json: unknown, source: string, market: Market): Allowance {
  const at: Fields = new Fields(source);
  if (!isObject(json)) throw new InputError(source, "", `expected a JSON object, got ${describeValue(json)}`);
  if (json.version !== undefined && json.version !== 1) {
    at.fail(
      "version",
      typeof json.version === "number" ? `unsupported format version ${json.version} (this toolkit reads version 1)` : `expected the number 1, got ${describeValue(json.version)}`,
    );
  }
  // The market parser has rejected duplicate symbols and ids.
  const assets = new Map(market.assets.map((a, i) => [a.symbol, i]));
  const instruments = new Map(market.instruments.map((k, i) => [k.id, i]));
  const allowance = emptyAllowance(market);

  if (json.wallet !== undefined) {
    if (!isObject(json.wallet)) at.fail("wallet", `expected an object of symbol -> amount, got ${describeValue(json.wallet)}`);
    for (const [symbol, text] of Object.entries(json.wallet)) {
      const field = `wallet.${symbol}`;
      const k = instruments.get(symbol);
      if (k !== undefined) {
        // Option tokens: contracts at QUANTITY_DECIMALS, a long holding's range.
        if (assets.has(symbol)) at.fail(field, `"${symbol}" is both an asset and an instrument of the market; the wallet entry is ambiguous`);
        if (typeof text !== "string") at.fail(field, `expected a decimal string of contracts like "40", got ${describeValue(text)}`);
        const contracts = at.decimal(field, text, QUANTITY_DECIMALS, NON_NEGATIVE);
        if (contracts >= QUANTITY_OFFSET) at.fail(field, `"${text}" contracts is above the commitment's range 2^95 / 10^${QUANTITY_DECIMALS}`);
        allowance.instrumentWallet ??= market.instruments.map(() => 0n);
        allowance.instrumentWallet[k] = contracts;
        continue;
      }
      const i = at.lookup(field, symbol, assets, "asset");
      if (typeof text !== "string") at.fail(field, `expected a decimal string like "20000", got ${describeValue(text)}`);
      const units = at.decimal(field, text, market.assets[i]!.decimals, NON_NEGATIVE);
      if (units > MAX_AMOUNT) at.fail(field, `"${text}" is ${units} base units, above the maximum 2^96 - 1`);
      allowance.wallet[i] = units;
    }
  }

  const names = (key: "sellable" | "tradable", index: ReadonlyMap<string, number>, kind: string, into: boolean[]): void => {
    const list = json[key];
    if (list === undefined) return;
    if (!Array.isArray(list)) at.fail(key, `expected an array of ${kind} names, got ${describeValue(list)}`);
    list.forEach((name: unknown, n) => {
      const field = `${key}[${n}]`;
      if (typeof name !== "string") at.fail(field, `expected a string, got ${describeValue(name)}`);
      into[at.lookup(field, name, index, kind)] = true;
    });
  };
  names("sellable", assets, "asset", allowance.sellable);
  names("tradable", instruments, "instrument", allowance.tradable);

  if (json.maxActions !== undefined) {
    const m = json.maxActions;
    if (typeof m !== "number" || !Number.isInteger(m) || m < 1) at.fail("maxActions", `expected an integer >= 1, got ${describeValue(m)}`);
    allowance.maxActions = m;
  }
  return allowance;
}

/** The JSON form of an allowance (symbols and whole-token decimal strings), e.g. for a plan file. */
export function allowanceSpec(allowance: Allowance, market: Market, format: (units: bigint, decimals: number) => string): AllowanceSpec {
  const wallet: Record<string, string> = {};
  allowance.wallet.forEach((units, i) => {
    if (units > 0n) wallet[market.assets[i]!.symbol] = format(units, market.assets[i]!.decimals);
  });
  allowance.instrumentWallet?.forEach((contracts, k) => {
    if (contracts > 0n) wallet[market.instruments[k]!.id] = format(contracts, QUANTITY_DECIMALS);
  });
  return {
    wallet,
    sellable: market.assets.filter((_, i) => allowance.sellable[i]).map((a) => a.symbol),
    tradable: market.instruments.filter((_, k) => allowance.tradable[k]).map((k) => k.id),
    ...(allowance.maxActions !== undefined && { maxActions: allowance.maxActions }),
  };
}
