import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { formatDecimal } from "../packages/sdk/src/core/decimal.ts";
import { InputError } from "../packages/sdk/src/core/errors.ts";
import { SNARK_FIELD } from "../packages/sdk/src/core/field.ts";
import { MAX_AMOUNT } from "../packages/sdk/src/core/fixed-point.ts";
import { jsonSchemas, parseMarket, parsePolicy, parsePosition } from "../packages/sdk/src/inputs/index.ts";
import type { Market } from "../packages/sdk/src/inputs/index.ts";

/** Raw JSON that tests mutate freely, including into shapes the types would forbid. */
type Json = any;

const EXAMPLES = "/work/shared/spec/examples";
const files = new Map<string, string>();

/** A fresh copy of an example file, so each test may mutate it. */
function example(name: string): Json {
  if (!files.has(name)) files.set(name, readFileSync(`${EXAMPLES}/${name}`, "utf8"));
  return JSON.parse(files.get(name)!);
}

const grid = (): Market => parseMarket(example("market-grid.json"), "market-grid.json");

function marketWith(edit: (json: Json) => void): Market {
  const json = example("market-grid.json");
  edit(json);
  return parseMarket(json, "market.json");
}

function positionWith(edit: (json: Json) => void) {
  const json = example("position-at-risk.json");
  edit(json);
  return parsePosition(json, "position.json", grid());
}

function policyWith(edit: (json: Json) => void) {
  const json = example("policy.json");
  edit(json);
  return parsePolicy(json, "policy.json", grid());
}

/** Asserts an InputError (exit code 2) whose full message is, or contains, `expected`. */
function rejects(run: () => unknown, expected: string, exact = false): void {
  assert.throws(run, (error: unknown) => {
    assert.ok(error instanceof InputError, `expected InputError, got ${String(error)}`);
    assert.equal(error.exitCode, 2);
    if (exact) assert.equal(error.message, expected);
    else assert.ok(error.message.includes(expected), `message ${JSON.stringify(error.message)} lacks ${JSON.stringify(expected)}`);
    return true;
  });
}

describe("inputs: example files", () => {
  it("parses the grid market with exact fixed-point values", () => {
    const market = grid();
    assert.equal(market.epoch, 42);
    assert.equal(market.scenarioKind, "grid");
    assert.deepEqual(market.quote, { symbol: "USD", decimals: 8 });
    assert.deepEqual(market.assets[0], {
      symbol: "WETH",
      decimals: 18,
      price: 301255000000n,
      liquidationThreshold: 8250n,
      debtIndex: 10n ** 18n, // absent from the file: index 1
    });
    assert.equal(market.assets[2]!.price, 100010000n);
    assert.deepEqual(market.instruments[1], {
      id: "ETH-26DEC26-2800-P",
      underlying: 0,
      kind: "put",
      strike: 280000000000n,
      expiry: 1798243200,
      mark: 14187000000n,
      delta: -32130000n,
    });
    assert.equal(market.instruments[2]!.underlying, 1);
    assert.equal(market.scenarios.length, 16);
    assert.equal(market.covariance.horizonDays, 1);
    assert.deepEqual(market.covariance.matrix[0], [1225000000n, 784000000n, 0n]);
    assert.equal(market.covariance.matrix[2]![2], 250000n);
  });

  it("defaults scenario weights to 1 and missing entries to 0", () => {
    const market = grid();
    const flat = market.scenarios[6]!;
    assert.equal(flat.name, "price +0/3 range, vol up");
    assert.equal(flat.weight, 10000n);
    assert.deepEqual(flat.assetReturns, [0n, 0n, 0n]);
    assert.deepEqual(flat.instrumentPnl, [5542000000n, 5096000000n, 129280000000n]);
    const extreme = market.scenarios[14]!;
    assert.equal(extreme.weight, 3500n);
    assert.deepEqual(extreme.assetReturns, [-30000000n, -24000000n, 0n]);
  });

  it("parses the historical market", () => {
    const market = parseMarket(example("market-historical.json"), "market-historical.json");
    assert.equal(market.scenarioKind, "historical");
    assert.equal(market.scenarios.length, 250);
    assert.deepEqual(market.scenarios[0]!.assetReturns, [-896000n, 286000n, 0n]);
  });

  it("parses the policy against the market's quote decimals", () => {
    assert.deepEqual(parsePolicy(example("policy.json"), "policy.json", grid()), {
      version: 1,
      minHealthFactor: 11000n,
      trigger: { healthFactor: 12500n },
      stress: { minEquity: 0n },
      var: { method: "both", confidence: 990000n, capitalMultiplier: 1500000n },
      maxSlippage: 5000n,
    });
    assert.equal(policyWith((p) => (p.stress.minEquity = "250.5")).stress.minEquity, 25050000000n);
  });

  it("parses the at-risk position into base units in market order", () => {
    const position = parsePosition(example("position-at-risk.json"), "position-at-risk.json", grid());
    assert.equal(position.account, "0x70997970C51812dc3A010C7d01b50e0d17dc79C8");
    assert.equal(position.nonce, 0n);
    assert.equal(position.salt, 0x1b7e4d0c5a9f3e2d8c6b4a29180f7e6d5c4b3a2918f7e6d5c4b3a2918f7e6dn);
    assert.deepEqual(position.collateral, [6n * 10n ** 18n, 10000000n, 0n]);
    assert.deepEqual(position.debt, [0n, 0n, 18500n * 10n ** 6n]);
    assert.deepEqual(position.quantities, [-3000000000n, 0n, 0n]);
  });

  it("parses the healthy position", () => {
    const position = parsePosition(example("position-healthy.json"), "position-healthy.json", grid());
    assert.deepEqual(position.collateral, [125n * 10n ** 17n, 0n, 25000n * 10n ** 6n]);
    assert.deepEqual(position.debt, [0n, 0n, 14000n * 10n ** 6n]);
    assert.deepEqual(position.quantities, [-400000000n, 200000000n, 0n]);
  });
});

describe("inputs: accepted variations", () => {
  it("accepts fields beyond those listed", () => {
    const market = marketWith((m) => {
      m.publisher = "oracle";
      m.assets[0].coingeckoId = "weth";
    });
    assert.equal(market.assets.length, 3);
    assert.equal(positionWith((p) => (p.comment = "mine")).nonce, 0n);
  });

  it("maps the covariance file order onto the market order", () => {
    const reordered = marketWith((m) => {
      m.covariance.assets = ["USDC", "WETH", "WBTC"];
      m.covariance.matrix = [
        ["0.00000025", "0", "0"],
        ["0", "0.001225", "0.000784"],
        ["0", "0.000784", "0.000784"],
      ];
    });
    assert.deepEqual(reordered.covariance.matrix, grid().covariance.matrix);
  });

  it("defaults strike and expiry of a perp to 0 and allows a negative mark", () => {
    const market = marketWith((m) => {
      m.instruments.push({ id: "ETH-PERP", underlying: "WETH", kind: "perp", mark: "-1.5", delta: "1" });
    });
    assert.deepEqual(market.instruments[3], {
      id: "ETH-PERP",
      underlying: 0,
      kind: "perp",
      strike: 0n,
      expiry: 0,
      mark: -150000000n,
      delta: 100000000n,
    });
    assert.equal(market.scenarios[0]!.instrumentPnl[3], 0n);
  });

  it("checksums a lower-case account, reads a string nonce, and leaves a missing salt undefined", () => {
    const position = positionWith((p) => {
      p.account = p.account.toLowerCase();
      p.nonce = "18446744073709551615";
      delete p.salt;
    });
    assert.equal(position.account, "0x70997970C51812dc3A010C7d01b50e0d17dc79C8");
    assert.equal(position.nonce, 2n ** 64n - 1n);
    assert.equal(position.salt, undefined);
  });

  it("accepts trailing zeros beyond an asset's decimals, the largest amount and the quantity range ends", () => {
    const position = positionWith((p) => {
      p.collateral.USDC = "1.50000000000";
      p.collateral.WBTC = formatDecimal(MAX_AMOUNT, 8);
      p.derivatives["ETH-26DEC26-3200-C"] = formatDecimal(-(2n ** 95n), 8);
      p.derivatives["ETH-26DEC26-2800-P"] = formatDecimal(2n ** 95n - 1n, 8);
    });
    assert.equal(position.collateral[2], 1500000n);
    assert.equal(position.collateral[1], MAX_AMOUNT);
    assert.deepEqual(position.quantities.slice(0, 2), [-(2n ** 95n), 2n ** 95n - 1n]);
  });

  it("accepts a salt just below the field prime", () => {
    const salt = `0x${(SNARK_FIELD - 1n).toString(16)}`;
    assert.equal(positionWith((p) => (p.salt = salt)).salt, SNARK_FIELD - 1n);
  });
});

describe("inputs: rejected position files", () => {
  it("names a malformed field type", () => {
    rejects(() => positionWith((p) => (p.collateral.WETH = 6)), 'position.json: collateral.WETH: expected a decimal string like "12.5", got number 6', true);
  });

  it("rejects negative collateral and debt", () => {
    rejects(() => positionWith((p) => (p.collateral.WETH = "-1")), 'position.json: collateral.WETH: must be >= 0, got "-1"', true);
    rejects(() => positionWith((p) => (p.debt.USDC = "-0.5")), "debt.USDC: must be >= 0");
  });

  it("rejects more decimals than the asset has instead of rounding", () => {
    rejects(
      () => positionWith((p) => (p.collateral.WETH = "6.1234567890123456789")),
      'position.json: collateral.WETH: "6.1234567890123456789" has 19 decimal places; at most 18 are allowed',
      true,
    );
    rejects(() => positionWith((p) => (p.debt.USDC = "0.0000001")), 'debt.USDC: "0.0000001" has 7 decimal places; at most 6');
  });

  it("rejects an unknown asset", () => {
    rejects(() => positionWith((p) => (p.collateral.DOGE = "1")), "position.json: collateral.DOGE: unknown asset (market has WETH, WBTC, USDC)", true);
    rejects(() => positionWith((p) => (p.debt.DAI = "1")), "debt.DAI: unknown asset");
  });

  it("rejects an unknown instrument", () => {
    rejects(
      () => positionWith((p) => (p.derivatives["ETH-PERP"] = "1")),
      "position.json: derivatives.ETH-PERP: unknown instrument (market has ETH-26DEC26-3200-C, ETH-26DEC26-2800-P, BTC-26DEC26-95000-C)",
      true,
    );
  });

  it("rejects a bad address and a bad checksum", () => {
    rejects(
      () => positionWith((p) => (p.account = "0x1234")),
      'position.json: account: expected an EVM address like "0x70997970C51812dc3A010C7d01b50e0d17dc79C8", got string "0x1234"',
      true,
    );
    rejects(() => positionWith((p) => (p.account = 42)), "account: expected an EVM address");
    rejects(
      () => positionWith((p) => (p.account = "0x70997970C51812dc3A010C7d01b50e0d17dc79c8")),
      'account: "0x70997970C51812dc3A010C7d01b50e0d17dc79c8" has an invalid EIP-55 checksum',
    );
  });

  it("rejects a salt at or above the field prime, and a non-hex salt", () => {
    rejects(
      () => positionWith((p) => (p.salt = `0x${SNARK_FIELD.toString(16)}`)),
      "position.json: salt: 0x30644e72e131a029b85045b68181585d2833e84879b9709143e1f593f0000001 is not below the BN254 field prime",
    );
    rejects(() => positionWith((p) => (p.salt = "1234")), 'salt: expected a hex string like "0x1b7e..."');
  });

  it("rejects a bad nonce", () => {
    rejects(() => positionWith((p) => (p.nonce = -1)), "nonce: must be >= 0, got number -1");
    rejects(() => positionWith((p) => (p.nonce = 1.5)), "nonce: expected an integer >= 0");
    rejects(() => positionWith((p) => (p.nonce = "-1")), "nonce: expected an integer >= 0");
    rejects(() => positionWith((p) => (p.nonce = "18446744073709551616")), "nonce: 18446744073709551616 is above the maximum 2^64 - 1");
  });

  it("rejects an amount above 2^96 - 1 base units", () => {
    rejects(
      () => positionWith((p) => (p.collateral.WBTC = formatDecimal(MAX_AMOUNT + 1n, 8))),
      'collateral.WBTC: "792281625142643375935.43950336" is 79228162514264337593543950336 base units, above the maximum 2^96 - 1',
    );
  });

  it("rejects a quantity outside [-2^95, 2^95)", () => {
    rejects(
      () => positionWith((p) => (p.derivatives["ETH-26DEC26-3200-C"] = formatDecimal(2n ** 95n, 8))),
      `derivatives.ETH-26DEC26-3200-C: "${formatDecimal(2n ** 95n, 8)}" is ${2n ** 95n} units at 8 decimals, outside [-2^95, 2^95)`,
    );
  });

  it("rejects a missing required field and a file that is not an object", () => {
    rejects(() => positionWith((p) => delete p.derivatives), "position.json: derivatives: required field is missing", true);
    rejects(() => parsePosition([], "position.json", grid()), "position.json: expected a JSON object, got an array", true);
    rejects(() => positionWith((p) => (p.collateral = ["6"])), "collateral: expected an object, got an array");
  });

  it("rejects another format version before anything else", () => {
    rejects(
      () =>
        positionWith((p) => {
          p.version = 2;
          delete p.collateral;
        }),
      "position.json: version: unsupported format version 2 (this toolkit reads version 1)",
      true,
    );
    rejects(() => positionWith((p) => (p.version = "1")), 'version: expected the number 1, got string "1"');
  });
});

describe("inputs: rejected market files", () => {
  it("names a malformed field type with its array index", () => {
    rejects(() => marketWith((m) => (m.assets[1].price = 91230.1)), 'market.json: assets[1].price: expected a decimal string like "3012.55", got number 91230.1', true);
    rejects(() => marketWith((m) => (m.epoch = "42")), 'epoch: expected an integer, got string "42"');
    rejects(() => marketWith((m) => (m.instruments[0].kind = "swap")), 'instruments[0].kind: expected one of "call", "put", "future", "perp", got string "swap"');
  });

  it("rejects version 2", () => {
    rejects(() => marketWith((m) => (m.version = 2)), "market.json: version: unsupported format version 2 (this toolkit reads version 1)", true);
  });

  it("rejects a missing required field", () => {
    rejects(() => marketWith((m) => delete m.assets[0].price), "market.json: assets[0].price: required field is missing", true);
    rejects(() => marketWith((m) => delete m.covariance), "covariance: required field is missing");
  });

  it("checks asset values", () => {
    rejects(() => marketWith((m) => (m.assets[0].price = "0")), 'assets[0].price: must be > 0, got "0"');
    rejects(() => marketWith((m) => (m.assets[0].liquidationThreshold = "1.01")), 'assets[0].liquidationThreshold: must be in [0, 1], got "1.01"');
    rejects(() => marketWith((m) => (m.assets[0].liquidationThreshold = "0.82505")), 'assets[0].liquidationThreshold: "0.82505" has 5 decimal places; at most 4');
    rejects(() => marketWith((m) => (m.assets[0].price = "3012.555555555")), 'assets[0].price: "3012.555555555" has 9 decimal places; at most 8');
    rejects(() => marketWith((m) => (m.quote.decimals = 18)), "quote.decimals: must be <= 8, got number 18: publish the market at 8 quote decimals or fewer");
    rejects(() => marketWith((m) => (m.assets = [])), "assets: expected at least 1 item(s)");
  });

  it("checks debt indices: 18 decimals, >= 1, below 2^64 / 10^18", () => {
    assert.equal(marketWith((m) => (m.assets[2].debtIndex = "1.037123456789012345")).assets[2]!.debtIndex, 1_037_123_456_789_012_345n);
    assert.equal(marketWith((m) => (m.assets[2].debtIndex = "18.446744073709551615")).assets[2]!.debtIndex, (1n << 64n) - 1n);
    rejects(
      () => marketWith((m) => (m.assets[2].debtIndex = "0.999999999999999999")),
      'market.json: assets[2].debtIndex: must be in [1, 18.446744073709551616), got "0.999999999999999999"',
      true,
    );
    rejects(() => marketWith((m) => (m.assets[0].debtIndex = "18.446744073709551616")), 'assets[0].debtIndex: must be in [1, 18.446744073709551616), got "18.446744073709551616"');
    rejects(() => marketWith((m) => (m.assets[0].debtIndex = "1.0000000000000000001")), 'assets[0].debtIndex: "1.0000000000000000001" has 19 decimal places; at most 18');
    rejects(() => marketWith((m) => (m.assets[1].debtIndex = 1.05)), 'assets[1].debtIndex: expected a decimal string like "1.0371", got number 1.05');
  });

  it("rejects duplicate symbols and ids", () => {
    rejects(() => marketWith((m) => (m.assets[2].symbol = "WETH")), 'market.json: assets[2].symbol: duplicate symbol "WETH" (also assets[0])', true);
    rejects(() => marketWith((m) => (m.instruments[1].id = m.instruments[0].id)), 'instruments[1].id: duplicate id "ETH-26DEC26-3200-C" (also instruments[0])');
  });

  it("checks instruments", () => {
    rejects(() => marketWith((m) => (m.instruments[2].underlying = "BTC")), 'instruments[2].underlying: unknown asset "BTC" (market has WETH, WBTC, USDC)');
    rejects(() => marketWith((m) => delete m.instruments[0].strike), "instruments[0].strike: required for a call");
    rejects(() => marketWith((m) => delete m.instruments[1].expiry), "instruments[1].expiry: required for a put");
    rejects(() => marketWith((m) => (m.instruments[0].strike = "-1")), 'instruments[0].strike: must be >= 0, got "-1"');
    rejects(() => marketWith((m) => (m.instruments[0].delta = "0.123456789")), 'instruments[0].delta: "0.123456789" has 9 decimal places; at most 8');
  });

  it("checks scenarios", () => {
    rejects(() => marketWith((m) => (m.scenarios.items[3].weight = "0")), 'market.json: scenarios.items[3].weight: must be in (0, 1], got "0"', true);
    rejects(() => marketWith((m) => (m.scenarios.items[3].weight = "1.5")), 'scenarios.items[3].weight: must be in (0, 1], got "1.5"');
    rejects(
      () => marketWith((m) => (m.scenarios.items[3].assetReturns.DOGE = "0.1")),
      "market.json: scenarios.items[3].assetReturns.DOGE: unknown asset (market has WETH, WBTC, USDC)",
      true,
    );
    rejects(() => marketWith((m) => (m.scenarios.items[0].instrumentPnl["ETH-PERP"] = "1")), "scenarios.items[0].instrumentPnl.ETH-PERP: unknown instrument");
    rejects(
      () => marketWith((m) => (m.scenarios.items[3].assetReturns.WETH = -0.1)),
      'scenarios.items[3].assetReturns.WETH: expected a decimal string like "-0.15", got number -0.1',
    );
    rejects(() => marketWith((m) => (m.scenarios.items = [])), "scenarios.items: expected at least 1 item(s)");
    rejects(() => marketWith((m) => (m.scenarios.kind = "monte-carlo")), 'scenarios.kind: expected "grid" or "historical", got string "monte-carlo"');
  });

  it("rejects an asymmetric covariance", () => {
    rejects(
      () => marketWith((m) => (m.covariance.matrix[1][0] = "0.000785")),
      'market.json: covariance.matrix[0][1]: matrix is not symmetric: "0.00078400" differs from covariance.matrix[1][0] "0.000785"',
      true,
    );
  });

  it("rejects unknown, duplicate and missing covariance assets", () => {
    rejects(() => marketWith((m) => (m.covariance.assets[2] = "DOGE")), 'market.json: covariance.assets[2]: unknown asset "DOGE" (market has WETH, WBTC, USDC)', true);
    rejects(() => marketWith((m) => (m.covariance.assets[2] = "WETH")), 'covariance.assets[2]: duplicate asset "WETH" (also covariance.assets[0])');
    rejects(
      () =>
        marketWith((m) => {
          m.covariance.assets.pop();
          m.covariance.matrix = [
            ["0.001225", "0.000784"],
            ["0.000784", "0.000784"],
          ];
        }),
      "covariance.assets: missing USDC (every market asset needs a row)",
    );
  });

  it("checks the covariance matrix shape, diagonal and horizon", () => {
    rejects(() => marketWith((m) => m.covariance.matrix.pop()), "covariance.matrix: expected 3 rows (one per covariance.assets entry), got 2");
    rejects(() => marketWith((m) => m.covariance.matrix[1].pop()), "covariance.matrix[1]: expected 3 entries, got 2");
    rejects(() => marketWith((m) => (m.covariance.matrix[2][2] = "-0.00000025")), 'covariance.matrix[2][2]: a variance must be >= 0, got "-0.00000025"');
    rejects(() => marketWith((m) => (m.covariance.matrix[0][0] = "0.0000000000001")), 'covariance.matrix[0][0]: "0.0000000000001" has 13 decimal places; at most 12');
    rejects(() => marketWith((m) => (m.covariance.horizonDays = 0)), "covariance.horizonDays: must be >= 1, got number 0");
    rejects(() => marketWith((m) => (m.covariance.horizonDays = 2.5)), "covariance.horizonDays: expected an integer, got number 2.5");
  });
});

describe("inputs: rejected policy files", () => {
  it("checks each parameter's range", () => {
    rejects(() => policyWith((p) => (p.minHealthFactor = "0")), 'policy.json: minHealthFactor: must be in (0, 100], got "0"', true);
    rejects(() => policyWith((p) => (p.trigger.healthFactor = "-1")), 'trigger.healthFactor: must be in (0, 100], got "-1"');
    rejects(() => policyWith((p) => (p.var.confidence = "1")), 'var.confidence: must be in (0, 1), got "1"');
    rejects(() => policyWith((p) => (p.var.confidence = "0")), 'var.confidence: must be in (0, 1), got "0"');
    rejects(() => policyWith((p) => (p.var.capitalMultiplier = "0.99")), 'var.capitalMultiplier: must be in [1, 1000], got "0.99"');
    rejects(() => policyWith((p) => (p.minHealthFactor = "100.01")), 'minHealthFactor: must be in (0, 100], got "100.01"');
    rejects(() => policyWith((p) => (p.maxSlippage = "1")), 'maxSlippage: must be in [0, 1), got "1"');
    rejects(() => policyWith((p) => (p.stress.minEquity = "-1")), 'stress.minEquity: must be >= 0, got "-1"');
    rejects(() => policyWith((p) => (p.stress.minEquity = "0.000000001")), 'stress.minEquity: "0.000000001" has 9 decimal places; at most 8');
  });

  it("checks the VaR method and required fields", () => {
    rejects(() => policyWith((p) => (p.var.method = "monte-carlo")), 'var.method: expected one of "historical", "parametric", "both", got string "monte-carlo"');
    rejects(() => policyWith((p) => delete p.var.method), "policy.json: var.method: required field is missing", true);
    rejects(() => policyWith((p) => (p.minHealthFactor = 1.1)), 'minHealthFactor: expected a decimal string like "1.10", got number 1.1');
    rejects(() => policyWith((p) => (p.version = 2)), "policy.json: version: unsupported format version 2 (this toolkit reads version 1)", true);
  });
});

describe("inputs: JSON Schemas", () => {
  const schemas = jsonSchemas();

  it("are draft 2020-12 and list the required fields", () => {
    assert.equal(schemas.market.$schema, "https://json-schema.org/draft/2020-12/schema");
    assert.deepEqual(schemas.position.required, ["version", "account", "nonce", "collateral", "debt", "derivatives"]);
    assert.deepEqual(schemas.policy.required, ["version", "minHealthFactor", "trigger", "stress", "var", "maxSlippage"]);
  });

  it("match the files in schemas/ (run scripts/export-json-schemas.ts after a schema change)", () => {
    for (const name of ["position", "market", "policy"] as const) {
      const file = JSON.parse(readFileSync(new URL(`../schemas/${name}.schema.json`, import.meta.url), "utf8"));
      assert.deepEqual(file, schemas[name], `schemas/${name}.schema.json is stale`);
    }
  });
});
