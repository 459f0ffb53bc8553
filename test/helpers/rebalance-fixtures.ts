/**
 * Builders for the rebalance tests: allowances by symbol, and seeded random at-risk cases
 * (market, policy, position, allowance) on top of the model's random generators.
 */
import type { Market, Policy, Position } from "../../packages/sdk/src/inputs/types.ts";
import { checkPosition } from "../../packages/sdk/src/model/check.ts";
import { ModelError } from "../../packages/sdk/src/model/errors.ts";
import { parseAllowance, type Allowance } from "../../packages/sdk/src/rebalance/allowance.ts";
import { Random, randomMarket, randomPolicy, randomPosition } from "./model-fixtures.ts";

/** The allowance of the brief's at-risk example: 20,000 USDC, WETH and WBTC sellable, the ETH call tradable. */
export const EXAMPLE_ALLOWANCE = {
  wallet: { USDC: "20000" },
  sellable: ["WETH", "WBTC"],
  tradable: ["ETH-26DEC26-3200-C"],
};

export const allowanceOf = (market: Market, spec: unknown): Allowance => parseAllowance(spec, "allow.json", market);

/** Random wallet balances (worth 10^-2 .. 10^8 quote units), sellable assets, tradable instruments, sometimes an action limit. */
export function randomAllowance(rng: Random, market: Market): Allowance {
  return {
    wallet: market.assets.map((asset) => {
      if (!rng.chance(0.5)) return 0n;
      const price = Number(asset.price) / 10 ** market.quote.decimals;
      return rng.fixed(rng.logUniform(1e-2, 1e8) / price, asset.decimals);
    }),
    sellable: market.assets.map(() => rng.chance(0.5)),
    tradable: market.instruments.map(() => rng.chance(0.6)),
    ...(rng.chance(0.15) && { maxActions: rng.int(1, 4) }),
  };
}

export interface RandomCase {
  seed: number;
  market: Market;
  policy: Policy;
  position: Position;
  allowance: Allowance;
}

/** Below the trigger or failing a check, and within the model's bounds. */
export function atRisk(position: Position, market: Market, policy: Policy): boolean {
  try {
    const report = checkPosition(position, market, policy);
    const hf = report.healthFactor;
    return !report.pass || hf.numerator < policy.trigger.healthFactor * hf.denominator;
  } catch (error) {
    if (error instanceof ModelError) return false;
    throw error;
  }
}

/** `count` random at-risk cases from `seed` (deterministic). */
export function randomAtRiskCases(seed: number, count: number): RandomCase[] {
  const rng = new Random(seed);
  const cases: RandomCase[] = [];
  for (let attempt = 0; cases.length < count && attempt < count * 50; attempt++) {
    const market = randomMarket(rng);
    const policy = randomPolicy(rng, market);
    const position = randomPosition(rng, market);
    if (!atRisk(position, market, policy)) continue;
    cases.push({ seed: attempt, market, policy, position, allowance: randomAllowance(rng, market) });
  }
  return cases;
}
