/**
 * The raw JSON of the three input files, format version 1 (formats.md), as zod schemas.
 *
 * These check shape only: types, decimal-string syntax, enums and integer ranges. Everything
 * that needs a scale or the market (decimal places, value ranges, known symbols) is checked
 * by the parse-*.ts files, which turn the raw objects into the fixed-point types. The same
 * schemas generate the published JSON Schemas (json-schema.ts), so they carry descriptions.
 *
 * Objects are loose: formats.md lets a file carry more fields than listed, never fewer.
 */
import { z } from "zod";
import { MAX_ASSET_DECIMALS, MAX_HORIZON_DAYS, MAX_QUOTE_DECIMALS } from "../model/bounds.ts";

/** Same syntax parseDecimal accepts; repeated here so the JSON Schema carries it as a pattern. */
const DECIMAL_PATTERN = /^-?\d+(\.\d+)?$/;
const HEX_PATTERN = /^0x[0-9a-fA-F]{1,64}$/;
const UNSIGNED_INTEGER_PATTERN = /^\d+$/;
const ADDRESS_PATTERN = /^0x[0-9a-fA-F]{40}$/;

/** How a JSON value is named in messages: `number 3012.55`, `string "abc"`, `an array`. */
export function describeValue(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  switch (typeof value) {
    case "string":
      return `string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}...` : value)}`;
    case "number":
    case "boolean":
    case "bigint":
      return `${typeof value} ${String(value)}`;
    case "object":
      return "an object";
    default:
      return typeof value;
  }
}

const MISSING = "required field is missing";

/**
 * A schema-level message for a wrong type or syntax: "missing" when absent, else
 * `expected <what>, got <value>`. Range checks fall through (undefined) to the parse-level
 * messages in fields.ts, which state the bound.
 */
function expected(what: string) {
  return (issue: { code?: string; input?: unknown }) => {
    if (issue.code === "too_small" || issue.code === "too_big") return undefined;
    return issue.input === undefined ? MISSING : `expected ${what}, got ${describeValue(issue.input)}`;
  };
}

const addressError = expected('an EVM address like "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"');
const nonceError = expected('an integer >= 0 (a JSON number or a string like "7")');

/** A value-carrying number: always a decimal string, so no precision is lost to floats. */
function decimal(example: string, description: string) {
  const error = expected(`a decimal string like "${example}"`);
  return z.string({ error }).regex(DECIMAL_PATTERN, { error }).describe(description);
}

function integer(min: number, description: string, max = Number.MAX_SAFE_INTEGER) {
  return z
    .number({ error: expected("an integer") })
    .int()
    .min(min)
    .max(max)
    .describe(description);
}

function name(description: string) {
  return z
    .string({ error: expected("a string") })
    .min(1)
    .describe(description);
}

/** Decimal-string amounts keyed by asset symbol or instrument id. */
function amounts(example: string, description: string, valueDescription: string) {
  return z.record(z.string(), decimal(example, valueDescription)).describe(description);
}

const version = z
  .literal(1, {
    error: (issue) =>
      issue.input === undefined
        ? MISSING
        : typeof issue.input === "number"
          ? `unsupported format version ${issue.input} (this toolkit reads version 1)`
          : `expected the number 1, got ${describeValue(issue.input)}`,
  })
  .describe("Format version; this toolkit reads version 1.");

// position.json --------------------------------------------------------------------------

export const positionSchema = z
  .looseObject({
    version,
    account: z
      .string({ error: addressError })
      .regex(ADDRESS_PATTERN, { error: addressError })
      .describe("Owner of the position (EVM address, EIP-55 checksum checked when mixed case); proofs are bound to it."),
    nonce: z
      .union([z.number({ error: nonceError }).int().min(0), z.string({ error: nonceError }).regex(UNSIGNED_INTEGER_PATTERN, { error: nonceError })], { error: nonceError })
      .describe("Version of the position; a rebalance increments it."),
    salt: z
      .string({ error: expected('a hex string like "0x1b7e..."') })
      .regex(HEX_PATTERN, { error: expected('a hex string like "0x1b7e..." (at most 64 hex digits)') })
      .optional()
      .describe("Blinding of the commitment, below the BN254 field prime; generated when absent."),
    collateral: amounts("12.5", "Collateral by asset symbol, in whole tokens.", "Amount >= 0 in whole tokens."),
    debt: amounts("14000", "Debt by asset symbol, in whole tokens.", "Amount >= 0 in whole tokens."),
    derivatives: amounts("-30", "Signed quantity (contracts) by instrument id; negative = short.", "Signed quantity in contracts."),
  })
  .meta({
    title: "position.json (zk-solvency, version 1)",
    description: "A private position: never leaves the user's machine.",
  });

// market.json ----------------------------------------------------------------------------

const quoteSchema = z
  .looseObject({
    symbol: name("Quote currency symbol, e.g. USD."),
    decimals: z
      .number({ error: expected("an integer") })
      .int()
      .min(0)
      .max(MAX_QUOTE_DECIMALS, {
        // The circuits' bounds are in quote units (prices and marks below 2^64, PnL below 2^49),
        // sized for 8 decimals: at 18 a price could not reach 18.45.
        error: (issue) =>
          `must be <= ${MAX_QUOTE_DECIMALS}, got ${describeValue(issue.input)}: publish the market at ${MAX_QUOTE_DECIMALS} quote decimals or fewer (6 for a USDC-style quote is fine); prices, marks and PnL are bounded in quote units (docs/risk-arithmetic.md, Bounds)`,
      })
      .describe(
        `Decimals of every quote-currency figure, at most ${MAX_QUOTE_DECIMALS} (8 is the norm, 6 for a USDC-style quote): the circuits bound prices, marks and PnL in quote units.`,
      ),
  })
  .describe("Unit of all values.");

const assetSchema = z.looseObject({
  symbol: name("Asset symbol, unique in the market."),
  decimals: integer(0, "Base-unit decimals of the token (18 for WETH, 6 for USDC); at most 18, which the circuits prove (scale = 10^decimals).", MAX_ASSET_DECIMALS),
  price: decimal("3012.55", "Quote units per whole token, > 0."),
  liquidationThreshold: decimal("0.825", "Fraction in [0, 1], at most 4 decimals."),
  debtIndex: decimal(
    "1.0371",
    'Debt index (borrow index) of the asset\'s lender, at most 18 decimals, >= 1 and below 2^64 / 10^18 (18.446744073709551616): a debt of d units is worth ceil(d * debtIndex) base units. "1" when absent.',
  ).optional(),
});

const instrumentSchema = z.looseObject({
  id: name("Instrument id, unique in the market."),
  underlying: name("Symbol of the underlying asset."),
  kind: z.enum(["call", "put", "future", "perp"], {
    error: expected('one of "call", "put", "future", "perp"'),
  }),
  strike: decimal("3200", "Strike in quote units; required for calls and puts, 0 when absent.").optional(),
  expiry: integer(0, "Expiry in unix seconds; required for calls and puts, 0 when absent.").optional(),
  mark: decimal("166.36", "Quote units per contract (signed)."),
  delta: decimal("0.4210", "Signed delta, at most 8 decimals."),
});

const scenarioSchema = z.looseObject({
  name: name("Scenario name, reported as the worst scenario."),
  weight: decimal("0.35", 'Weight in (0, 1], at most 4 decimals; "1" when absent.').optional(),
  assetReturns: amounts("-0.15", "Return by asset symbol; a missing asset is 0.", "Signed return, at most 8 decimals."),
  instrumentPnl: amounts("-95.25", "Profit and loss per contract by instrument id; a missing instrument is 0.", "Signed quote units per contract."),
});

const covarianceSchema = z
  .looseObject({
    assets: z.array(name("Market asset symbol.")).describe("Order of the matrix rows; every market asset once."),
    matrix: z.array(z.array(decimal("0.001225", "Covariance, at most 12 decimals."))).describe("Symmetric daily return covariance, square, in the order of `assets`."),
    horizonDays: integer(1, `VaR horizon in days, 1 to ${MAX_HORIZON_DAYS} (range-checked in-circuit).`, MAX_HORIZON_DAYS),
  })
  .describe("Daily return covariance, for parametric VaR.");

export const marketSchema = z
  .looseObject({
    version,
    epoch: integer(0, "Oracle epoch; proofs are bound to it."),
    timestamp: integer(0, "Publication time, unix seconds."),
    quote: quoteSchema,
    assets: z.array(assetSchema).min(1).describe("Assets in commitment-slot order."),
    instruments: z.array(instrumentSchema).describe("Derivative instruments in commitment-slot order."),
    scenarios: z.looseObject({
      kind: z.enum(["grid", "historical"], { error: expected('"grid" or "historical"') }),
      items: z.array(scenarioSchema).min(1).describe("At least one scenario."),
    }),
    covariance: covarianceSchema,
  })
  .meta({
    title: "market.json (zk-solvency, version 1)",
    description: "What the risk oracle publishes for an epoch.",
  });

// policy.json ----------------------------------------------------------------------------

export const policySchema = z
  .looseObject({
    version,
    minHealthFactor: decimal("1.10", "Minimum health factor, > 0, at most 4 decimals."),
    trigger: z.looseObject({
      healthFactor: decimal("1.25", "Below this health factor a keeper may force a rebalance; > 0."),
    }),
    stress: z.looseObject({
      minEquity: decimal("0", "Equity (quote units, >= 0) that must remain in the worst weighted scenario."),
    }),
    var: z.looseObject({
      method: z.enum(["historical", "parametric", "both"], {
        error: expected('one of "historical", "parametric", "both"'),
      }),
      confidence: decimal("0.99", "Confidence in (0, 1), at most 6 decimals."),
      capitalMultiplier: decimal("1.5", "Multiplier of VaR, > 0, at most 6 decimals."),
    }),
    maxSlippage: decimal("0.005", "Bound on value lost in a rebalance's trades, in [0, 1)."),
  })
  .meta({ title: "policy.json (zk-solvency, version 1)", description: "Governance parameters." });

export type RawPosition = z.output<typeof positionSchema>;
export type RawMarket = z.output<typeof marketSchema>;
export type RawPolicy = z.output<typeof policySchema>;
export type RawInstrument = z.output<typeof instrumentSchema>;
export type RawScenario = z.output<typeof scenarioSchema>;
export type RawCovariance = z.output<typeof covarianceSchema>;
