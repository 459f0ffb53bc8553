/**
 * A reproducible synthetic book of positions for the audit's scale runs, tests and demo: each
 * position is the spec's healthy or at-risk example scaled by a random factor (risk checks are
 * homogeneous in the amounts, so the verdict is the example's), with its own account and salt.
 * The share of at-risk positions is a parameter. Browser-safe; no real user data is involved.
 */
import { keccak256, toUtf8Bytes, getAddress } from "ethers";
import { mulberry32 } from "../core/seeded-random.ts";
import type { Position } from "../inputs/types.ts";

export interface SyntheticBookOptions {
  count: number;
  seed: number;
  /** Share of positions built from the at-risk example (default 0.1). */
  atRiskShare?: number;
}

/** Scales every amount by factor / 10^6, rounding down (a zero amount stays zero). */
const scaled = (amounts: readonly bigint[], factor: bigint): bigint[] => amounts.map((a) => (a * factor) / 1_000_000n);

export function syntheticBook(healthy: Position, atRisk: Position, options: SyntheticBookOptions): Position[] {
  const { count, seed, atRiskShare = 0.1 } = options;
  if (!Number.isInteger(count) || count < 1) throw new RangeError(`syntheticBook: count must be a positive integer (got ${count})`);
  if (!(atRiskShare >= 0 && atRiskShare <= 1)) throw new RangeError(`syntheticBook: atRiskShare must be in [0, 1] (got ${atRiskShare})`);
  const random = mulberry32(seed);
  return Array.from({ length: count }, (_, i) => {
    const base = random() < atRiskShare ? atRisk : healthy;
    // Factors from 0.05x to 20x, log-uniform: books hold small and large vaults.
    const factor = BigInt(Math.round(1_000_000 * Math.exp((random() * 2 - 1) * Math.log(20))));
    const tag = keccak256(toUtf8Bytes(`zks synthetic book ${seed} position ${i}`));
    return {
      ...base,
      account: getAddress(`0x${tag.slice(26)}`),
      nonce: BigInt(Math.floor(random() * 5)),
      salt: BigInt(keccak256(toUtf8Bytes(`salt ${tag}`))) >> 8n,
      collateral: scaled(base.collateral, factor),
      debt: scaled(base.debt, factor),
      quantities: scaled(base.quantities, factor),
    };
  });
}
