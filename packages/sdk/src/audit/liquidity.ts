/**
 * The liquidity file a crowding audit is proven against (docs/audit.md, "Crowding"): per asset of
 * the market, the bound on what the audited positions may have to sell of it in any grid
 * scenario, in the quote currency, with where the bound comes from. Published with the market
 * (one per epoch); the audit records its SHA-256 and its bounds, the root proof takes the bounds
 * as public inputs, and `zks audit verify --liquidity FILE` checks the file is the one proven
 * against. Browser-safe.
 *
 *     { "kind": "zks-liquidity", "version": 1, "epoch": 42,
 *       "assets": { "WETH": { "bound": "1250000",
 *                             "source": { "kind": "constant-product", "venue": "WETH/USDC pool",
 *                                         "quoteReserve": "40000000", "priceImpact": "0.05" } },
 *                   "USDC": { "bound": "0", "source": { "kind": "stated", "note": "..." } } } }
 *
 * A constant-product source's bound is checked: it may be at most the pool's depth to its price
 * impact at the worst price the market's scenarios give the asset (constantProductDepth). A
 * "stated" bound (an order book's depth, a venue's own figure) is the publisher's word and is
 * not checked; the file says so.
 */
import { sha256 } from "ethers";
import { z } from "zod";
import { DecimalError, formatHuman, parseDecimal } from "../core/decimal.ts";
import { InputError } from "../core/errors.ts";
import { RATE_SCALE, RATIO_DECIMALS, RATIO_SCALE } from "../core/fixed-point.ts";
import type { Market } from "../inputs/types.ts";
import { isqrtCeil, isqrtFloor } from "../model/rounding.ts";

export const LIQUIDITY_KIND = "zks-liquidity";
export const LIQUIDITY_VERSION = 1;
/** A bound is below 2^96 quote base units (audit-merge.circom range-checks it). */
export const LIQUIDITY_BITS = 96;

export type LiquiditySource = { kind: "constant-product"; venue?: string; quoteReserve: bigint; priceImpact: bigint } | { kind: "stated"; note: string };

export interface LiquidityFile {
  epoch: number;
  /** Per market asset (market order): the bound in quote base units, and its source. */
  bounds: bigint[];
  sources: LiquiditySource[];
  /** 0x-hex SHA-256 of the file's bytes, as audit.json records it. */
  sha256: string;
}

const text = z.string().max(200);
/**
 * Every number of the file is a decimal string of at most 48 characters (2^96 base units has 29
 * digits; with a point and 18 decimals, 48), refused before any arithmetic: a megabyte-long
 * number took seconds in the square roots. Each value is then range-checked below.
 */
const MAX_DECIMAL_CHARS = 48;
const decimalText = z
  .string()
  .max(MAX_DECIMAL_CHARS, `at most ${MAX_DECIMAL_CHARS} characters`)
  .regex(/^\d+(\.\d+)?$/, "expected a non-negative decimal string");
const sourceSchema = z.discriminatedUnion("kind", [
  z.strictObject({ kind: z.literal("constant-product"), venue: text.optional(), quoteReserve: decimalText, priceImpact: decimalText }),
  z.strictObject({ kind: z.literal("stated"), note: text.min(1, "say where the figure comes from") }),
]);
/** The fields allowed where an unknown one was found, for its error line. */
const fieldList = (at: readonly PropertyKey[]): string =>
  at.length === 0 ? "kind, version, epoch, assets" : at.length === 2 ? "bound, source" : "kind and venue, quoteReserve, priceImpact (constant-product) or note (stated)";
// Strict objects: an unknown field (a typo such as "venu", an extra field) is refused by name, not
// dropped, so what the file says is what the audit reads.
const fileSchema = z.strictObject({
  kind: z.literal(LIQUIDITY_KIND),
  version: z.literal(LIQUIDITY_VERSION),
  epoch: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
  assets: z.record(z.string(), z.strictObject({ bound: decimalText, source: sourceSchema })),
});

/** The lowest price factor 1 + r (at 1e8, floored at 0) the market's scenarios give asset i, with the 1 of no move. */
function worstFactor(market: Market, asset: number): { factor: bigint; scenario?: string } {
  let worst: { factor: bigint; scenario?: string } = { factor: RATE_SCALE };
  for (const s of market.scenarios) {
    const factor = RATE_SCALE + (s.assetReturns[asset] ?? 0n);
    if (factor < worst.factor) worst = { factor: factor > 0n ? factor : 0n, scenario: s.name };
  }
  return worst;
}

/**
 * A constant-product pool's depth in the quote currency: the quote value, at the pool's price, of
 * what must be sold into it to move its price down by `priceImpact`, with its price first moved by
 * the factor g (the scenario's 1 + r). With quote reserve Y and asset reserve X at price P = Y / X:
 * selling dX gives X' = X + dX and a price Y' / X' = k / X'^2 = P (X / X')^2, which is (1 - p) P
 * when X' = X / sqrt(1 - p); the sale's value dX * P = Y (1 / sqrt(1 - p) - 1). At the moved price
 * g P the pool holds Y sqrt(g) of quote (Y = sqrt(k P)), so
 *     depth = Y sqrt(g) (1 / sqrt(1 - p) - 1) = sqrt(Y^2 g / (1 - p)) - sqrt(Y^2 g)
 * rounded down (the first root down, the second up). Y in quote base units, p at 1e6, g at 1e8.
 */
export function constantProductDepth(quoteReserve: bigint, priceImpact: bigint, factor: bigint): bigint {
  if (priceImpact <= 0n || priceImpact >= RATIO_SCALE) throw new RangeError(`constantProductDepth: price impact must be in (0, 1) at 1e6 (got ${priceImpact})`);
  if (quoteReserve <= 0n || factor <= 0n) return 0n;
  const square = quoteReserve * quoteReserve * factor;
  const after = isqrtFloor((square * RATIO_SCALE) / (RATE_SCALE * (RATIO_SCALE - priceImpact)));
  const before = isqrtCeil((square + RATE_SCALE - 1n) / RATE_SCALE);
  return after > before ? after - before : 0n;
}

/** SHA-256 of a liquidity file's bytes, 0x-hex: what audit.json records and `zks audit verify --liquidity` compares. */
export const liquidityFileHash = (bytes: Uint8Array): string => sha256(bytes);

/**
 * Parses a liquidity file (its bytes, so that its hash is of exactly what was read) against the
 * market it is published with: the same epoch, one entry per market asset and no other, bounds
 * in quote units at the quote's decimals below 2^96 base units, constant-product bounds within
 * the pool's depth. Errors name the file and the field (exit 2).
 */
export function parseLiquidityFile(bytes: Uint8Array, source: string, market: Market): LiquidityFile {
  let json: unknown;
  let content: string;
  try {
    content = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
    json = JSON.parse(content);
  } catch (error) {
    throw new InputError(source, "", `not a JSON file (${(error as Error).message})`);
  }
  // JSON.parse keeps the last of two equal keys: a file whose readers could disagree is refused.
  const duplicate = duplicateKey(content);
  if (duplicate) throw new InputError(source, duplicate.path, `duplicate key "${duplicate.key}"`);
  const parsed = fileSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    if (issue.code === "unrecognized_keys") {
      throw new InputError(source, [...issue.path, issue.keys[0]!].join("."), `unknown field (the fields are ${fieldList(issue.path)})`);
    }
    throw new InputError(source, issue.path.join("."), issue.message);
  }
  const data = parsed.data;
  if (data.epoch !== market.epoch) throw new InputError(source, "epoch", `${data.epoch}, but the market is epoch ${market.epoch}: a liquidity file is published with its market`);
  const symbols = market.assets.map((a) => a.symbol);
  // A Map of the file's own entries: a key such as "__proto__" or "toString" is a name like any
  // other. The keys are the parsed JSON's own (zod's record drops "__proto__", so it would pass unread).
  const entries = new Map(Object.entries(data.assets));
  for (const symbol of Object.keys((json as { assets: object }).assets)) {
    if (!symbols.includes(symbol)) throw new InputError(source, `assets.${symbol}`, `not an asset of the market (${symbols.join(", ")})`);
  }
  const decimal = (field: string, value: string, decimals: number): bigint => {
    try {
      return parseDecimal(value, decimals);
    } catch (error) {
      if (error instanceof DecimalError) throw new InputError(source, field, error.message);
      throw error;
    }
  };
  const quote = market.quote;
  const limit = 1n << BigInt(LIQUIDITY_BITS);
  const bounds: bigint[] = [];
  const sources: LiquiditySource[] = [];
  market.assets.forEach((asset, i) => {
    const entry = entries.get(asset.symbol);
    if (!entry) throw new InputError(source, `assets.${asset.symbol}`, `missing: every asset of the market needs a bound (0 says none of it may be sold)`);
    const field = `assets.${asset.symbol}`;
    const bound = decimal(`${field}.bound`, entry.bound, quote.decimals);
    if (bound >= limit) throw new InputError(source, `${field}.bound`, `${entry.bound} ${quote.symbol} is not below 2^${LIQUIDITY_BITS} quote base units`);
    if (entry.source.kind === "stated") {
      sources.push({ kind: "stated", note: entry.source.note });
    } else {
      const quoteReserve = decimal(`${field}.source.quoteReserve`, entry.source.quoteReserve, quote.decimals);
      if (quoteReserve >= limit)
        throw new InputError(source, `${field}.source.quoteReserve`, `${entry.source.quoteReserve} ${quote.symbol} is not below 2^${LIQUIDITY_BITS} quote base units`);
      const priceImpact = decimal(`${field}.source.priceImpact`, entry.source.priceImpact, RATIO_DECIMALS);
      if (priceImpact <= 0n || priceImpact >= RATIO_SCALE) throw new InputError(source, `${field}.source.priceImpact`, `${entry.source.priceImpact} is not a fraction in (0, 1)`);
      const worst = worstFactor(market, i);
      const depth = constantProductDepth(quoteReserve, priceImpact, worst.factor);
      if (bound > depth) {
        const where = worst.scenario ? `at the worst scenario price (${formatHuman(worst.factor - RATE_SCALE, 6, 2)}% in "${worst.scenario}")` : "at the market's price";
        throw new InputError(
          source,
          `${field}.bound`,
          `${formatHuman(bound, quote.decimals)} ${quote.symbol} is above the pool's depth to a ${formatHuman(priceImpact, 4, 2)}% price impact ${where}: ${formatHuman(depth, quote.decimals)} ${quote.symbol}; publish at most that`,
        );
      }
      sources.push({ kind: "constant-product", ...(entry.source.venue !== undefined ? { venue: entry.source.venue } : {}), quoteReserve, priceImpact });
    }
    bounds.push(bound);
  });
  return { epoch: data.epoch, bounds, sources, sha256: liquidityFileHash(bytes) };
}

/**
 * The first key that appears twice in one object of a JSON text (already parsed, so well formed),
 * with the path of that object; undefined when none does.
 */
export function duplicateKey(json: string): { path: string; key: string } | undefined {
  // One frame per open object (its keys and its path) or array (undefined keys).
  const stack: { keys?: Set<string>; path: string; index: number }[] = [];
  let pendingKey: string | undefined;
  const childPath = (): string => {
    const top = stack.at(-1);
    if (!top) return "";
    const name = top.keys ? (pendingKey ?? "") : String(top.index);
    return top.path ? `${top.path}.${name}` : name;
  };
  for (let i = 0; i < json.length; i++) {
    const ch = json[i]!;
    if (ch === '"') {
      let end = i + 1;
      while (json[end] !== '"') end += json[end] === "\\" ? 2 : 1;
      const value = JSON.parse(json.slice(i, end + 1)) as string;
      let next = end + 1;
      while (/\s/.test(json[next] ?? "")) next++;
      const top = stack.at(-1);
      if (json[next] === ":" && top?.keys) {
        if (top.keys.has(value)) return { path: top.path ? `${top.path}.${value}` : value, key: value };
        top.keys.add(value);
        pendingKey = value;
      }
      i = end;
    } else if (ch === "{" || ch === "[") {
      const path = childPath();
      stack.push(ch === "{" ? { keys: new Set(), path, index: 0 } : { path, index: 0 });
    } else if (ch === "}" || ch === "]") {
      stack.pop();
    } else if (ch === ",") {
      const top = stack.at(-1);
      if (top && !top.keys) top.index++;
    }
  }
  return undefined;
}
