/**
 * position.json (formats.md, version 1) -> Position resolved against a market: amounts in
 * base units and laid out in the market's asset / instrument order (the commitment's slots).
 */
import { getAddress } from "ethers";
import { MAX_AMOUNT, QUANTITY_DECIMALS, QUANTITY_OFFSET } from "../core/fixed-point.ts";
import { SNARK_FIELD } from "../core/field.ts";
import { Fields, NON_NEGATIVE, readRaw } from "./fields.ts";
import { positionSchema } from "./schemas.ts";
import type { Market, Position } from "./types.ts";

/** Largest nonce (uint64): far beyond any real rebalance count, and never near the field. */
export const MAX_NONCE = (1n << 64n) - 1n;

export function parsePosition(json: unknown, source: string, market: Market): Position {
  const raw = readRaw(positionSchema, json, source);
  const at = new Fields(source);
  const assets = new Map(market.assets.map((asset, i) => [asset.symbol, i]));
  const instruments = new Map(market.instruments.map((k, i) => [k.id, i]));
  const amount = (field: string, text: string, asset: number): bigint => checkAmount(at, field, text, at.decimal(field, text, market.assets[asset]!.decimals, NON_NEGATIVE));
  return {
    version: 1,
    account: parseAccount(at, raw.account),
    nonce: parseNonce(at, raw.nonce),
    salt: raw.salt === undefined ? undefined : parseSalt(at, raw.salt),
    collateral: at.byName(raw.collateral, "collateral", assets, "asset", amount),
    debt: at.byName(raw.debt, "debt", assets, "asset", amount),
    quantities: at.byName(raw.derivatives, "derivatives", instruments, "instrument", (field, text) => checkQuantity(at, field, text, at.decimal(field, text, QUANTITY_DECIMALS))),
  };
}

/** Base units must fit the circuits' 96-bit amount range (risk-model.md, Arithmetic). */
function checkAmount(at: Fields, field: string, text: string, units: bigint): bigint {
  if (units > MAX_AMOUNT) at.fail(field, `"${text}" is ${units} base units, above the maximum 2^96 - 1 (${MAX_AMOUNT})`);
  return units;
}

/** Quantities are offset-encoded as q + 2^95 in circuits, so must lie in [-2^95, 2^95). */
function checkQuantity(at: Fields, field: string, text: string, units: bigint): bigint {
  if (units < -QUANTITY_OFFSET || units >= QUANTITY_OFFSET) {
    at.fail(field, `"${text}" is ${units} units at ${QUANTITY_DECIMALS} decimals, outside [-2^95, 2^95)`);
  }
  return units;
}

/** The schema has checked the 0x + 40 hex digits syntax; what is left is the checksum. */
function parseAccount(at: Fields, text: string): string {
  try {
    return getAddress(text);
  } catch {
    // The only way a well-formed hex address fails: mixed case whose EIP-55 checksum is wrong.
    return at.fail("account", `"${text}" has an invalid EIP-55 checksum (a typo? write it in lower case to skip the check)`);
  }
}

function parseNonce(at: Fields, value: number | string): bigint {
  const nonce = BigInt(value);
  if (nonce > MAX_NONCE) at.fail("nonce", `${value} is above the maximum 2^64 - 1`);
  return nonce;
}

function parseSalt(at: Fields, text: string): bigint {
  const salt = BigInt(text);
  if (salt >= SNARK_FIELD) at.fail("salt", `${text} is not below the BN254 field prime (the commitment would wrap)`);
  return salt;
}
