/**
 * Cases for the solvency circuit tests (test/solvency.test.ts): random markets / positions /
 * policies that fit the solvency-3x3x16 instance, threshold variants that put one check exactly
 * at its limit (and one unit beyond), and the hand-built markets of the boundary tests.
 */
import { SNARK_FIELD } from "../../packages/sdk/src/core/field.ts";
import { DEBT_INDEX_SCALE } from "../../packages/sdk/src/core/fixed-point.ts";
import type { Market, Policy, Position } from "../../packages/sdk/src/inputs/types.ts";
import { isqrtCeil, type CheckName, type RiskReport } from "../../packages/sdk/src/model/index.ts";
import { ACCOUNT, Random, randomMarket, randomPolicy, randomPosition, withPolicy } from "./model-fixtures.ts";

/** Slots of solvency-3x3x16 (packages/circuits/instances.json). */
export const SOLVENCY_LAYOUT = { nAssets: 3, nInstruments: 3, nScenarios: 16 } as const;

export interface SolvencyCase {
  label: string;
  market: Market;
  position: Position;
  policy: Policy;
}

export const fitsInstance = (market: Market): boolean =>
  market.assets.length <= SOLVENCY_LAYOUT.nAssets && market.instruments.length <= SOLVENCY_LAYOUT.nInstruments && market.scenarios.length <= SOLVENCY_LAYOUT.nScenarios;

/** A position with a salt (the commitment needs one). */
export const salted = (position: Position, salt: bigint): Position => ({ ...position, salt });

/**
 * `count` random cases from model-fixtures' generators, drawing markets until one fits the
 * instance (at most 3 assets and 16 scenarios; instruments always fit).
 */
export function randomCases(seed: number, count: number): SolvencyCase[] {
  const rng = new Random(seed);
  const cases: SolvencyCase[] = [];
  while (cases.length < count) {
    const market = randomMarket(rng);
    if (!fitsInstance(market)) continue;
    const position = salted(randomPosition(rng, market), rng.digits(20) % SNARK_FIELD);
    const policy = randomPolicy(rng, market);
    cases.push({ label: `random #${cases.length}`, market, position, policy });
  }
  return cases;
}

const RATIO = 1_000_000n;
const MAX_HEALTH_FACTOR = 1_000_000n; // 100 at BPS, parse-policy's bound
const MAX_MULTIPLIER = 1_000n * RATIO; // parse-policy's bound
const E12 = 10n ** 12n;

/** A policy edit that puts `check` exactly at its limit, and the same limit one unit stricter. */
export interface ThresholdVariant {
  check: CheckName;
  atLimit: Policy;
  beyond: Policy;
}

/**
 * For a case that passes every check (`report`), a variant per check whose limit can be set
 * exactly within the policy bounds: minHealthFactor = floor(HFnum / HFden), minEquity =
 * floor(margin / 10^12), capitalMultiplier = floor(E* * 1e6 / VaR*) (historical) or
 * floor(E * 1e6 / V) (parametric), the VaR method narrowed to the one under test so that the
 * multiplier does not trip the other method.
 */
export function thresholdVariants(policy: Policy, report: RiskReport): ThresholdVariant[] {
  const variants: ThresholdVariant[] = [];
  const hf = report.healthFactor;
  if (hf.denominator > 0n) {
    const limit = hf.numerator / hf.denominator;
    if (limit >= 1n && limit < MAX_HEALTH_FACTOR) {
      variants.push({
        check: "healthFactor",
        atLimit: withPolicy(policy, (p) => (p.minHealthFactor = limit)),
        beyond: withPolicy(policy, (p) => (p.minHealthFactor = limit + 1n)),
      });
    }
  }
  const stressRoom = report.stress.margin + report.stress.minEquity * E12; // E* * BPS - worst
  const minEquity = stressRoom / E12;
  variants.push({
    check: "stress",
    atLimit: withPolicy(policy, (p) => (p.stress.minEquity = minEquity)),
    beyond: withPolicy(policy, (p) => (p.stress.minEquity = minEquity + 1n)),
  });
  const multiplierVariant = (check: "historicalVar" | "parametricVar", covered: bigint, risk: bigint): void => {
    if (risk <= 0n) return;
    const limit = (covered * RATIO) / risk;
    if (limit < RATIO || limit >= MAX_MULTIPLIER) return;
    const method = check === "historicalVar" ? "historical" : "parametric";
    const edit = (multiplier: bigint) => (p: Policy) => {
      p.var.method = method;
      p.var.capitalMultiplier = multiplier;
    };
    variants.push({ check, atLimit: withPolicy(policy, edit(limit)), beyond: withPolicy(policy, edit(limit + 1n)) });
  };
  if (report.var.historical) multiplierVariant("historicalVar", report.equity.scaled, report.var.historical.scaled);
  if (report.var.parametric) multiplierVariant("parametricVar", report.equity.value, report.var.parametric.value);
  return variants;
}

const E8 = 10n ** 8n;

/**
 * A market quoted in a stablecoin at 8 quote decimals (the most a market may have, since prices,
 * marks and PnL are bounded in quote units: packages/sdk/src/model/bounds.ts): UNI at 15 and USDC at 1; a UNI
 * perpetual marked at 0 with delta 1 and a UNI call marked at 100 with delta 0.05; one flat
 * scenario; UNI's daily variance 0.001225 (3.5% vol).
 */
export function stablecoinMarket(): Market {
  return {
    version: 1,
    epoch: 7,
    timestamp: 1_763_700_000,
    quote: { symbol: "DAI", decimals: 8 },
    assets: [
      { symbol: "UNI", decimals: 18, price: 15n * E8, liquidationThreshold: 8_250n, debtIndex: DEBT_INDEX_SCALE },
      { symbol: "USDC", decimals: 6, price: E8, liquidationThreshold: 8_900n, debtIndex: DEBT_INDEX_SCALE },
    ],
    instruments: [
      { id: "UNI-PERP", underlying: 0, kind: "perp", strike: 0n, expiry: 0, mark: 0n, delta: 100_000_000n },
      { id: "UNI-26DEC26-30-C", underlying: 0, kind: "call", strike: 30n * E8, expiry: 1_798_243_200, mark: 100n * E8, delta: 5_000_000n },
    ],
    scenarioKind: "grid",
    scenarios: [{ name: "flat", weight: 10_000n, assetReturns: [0n, 0n], instrumentPnl: [0n, 0n] }],
    covariance: {
      matrix: [
        [1_225_000_000n, 0n],
        [0n, 0n],
      ],
      horizonDays: 1,
    },
  };
}

export function stablecoinPolicy(method: Policy["var"]["method"]): Policy {
  return {
    version: 1,
    minHealthFactor: 11_000n,
    trigger: { healthFactor: 12_500n },
    stress: { minEquity: 0n },
    var: { method, confidence: 990_000n, capitalMultiplier: 1_500_000n },
    maxSlippage: 5_000n,
  };
}

/**
 * A perpetual quantity q < 2^80 (within the model's bounds) whose exposure on asset 0,
 * x = q * delta * price / 1e16 q.u., makes x^T Sigma x = c * x^2 exceed the field prime and wrap
 * to a small residue: the least q with c * x^2 >= k * p for the first k where q fits, so the
 * circuit's Qf would be a fraction of the model's (the exact form is above 2^254). delta * price
 * must be a multiple of 1e16 (x exact).
 */
export function wrappingPerpQuantity(market: Market): bigint {
  const asset = market.assets[0]!;
  const perp = market.instruments[0]!;
  if ((perp.delta * asset.price) % 10n ** 16n !== 0n) throw new Error("wrappingPerpQuantity: delta * price must be a multiple of 1e16");
  const exposurePerUnit = (perp.delta * asset.price) / 10n ** 16n;
  const c = market.covariance.matrix[0]![0]! * exposurePerUnit * exposurePerUnit;
  for (let k = 1n; ; k++) {
    const q = isqrtCeil((k * SNARK_FIELD + c - 1n) / c);
    if (c * q * q - k * SNARK_FIELD >= 0n && q < 1n << 80n) return q;
  }
}

/** An empty position against `market`, with the fixtures' account. */
export function emptyPosition(market: Market, salt = 1n): Position {
  return {
    version: 1,
    account: ACCOUNT,
    nonce: 0n,
    salt,
    collateral: market.assets.map(() => 0n),
    debt: market.assets.map(() => 0n),
    quantities: market.instruments.map(() => 0n),
  };
}
