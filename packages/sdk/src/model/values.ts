/**
 * Section 1 of docs/risk-arithmetic.md: per-asset values in quote units (q.u.).
 *   vc_i = floor(c_i * p_i / 10^dec_i)   collateral value rounds down
 *   da_i = ceil (d_i * I_i / 10^18)      debt units (index-scaled) to base units, rounds up
 *   vd_i = ceil (da_i * p_i / 10^dec_i)  debt value rounds up
 */
import { DEBT_INDEX_SCALE } from "../core/fixed-point.ts";
import type { Asset, Market, Position } from "../inputs/types.ts";
import { ModelError } from "./errors.ts";
import { ceilDiv, floorDiv } from "./rounding.ts";

export interface AssetValues {
  /** vc_i, q.u., one per Market.assets entry. */
  collateral: bigint[];
  /** vd_i, q.u., one per Market.assets entry. */
  debt: bigint[];
}

const unit = (asset: Asset): bigint => 10n ** BigInt(asset.decimals);

/** vc = floor(amount * price / 10^decimals). */
export function collateralValue(amount: bigint, asset: Asset): bigint {
  return floorDiv(amount * asset.price, unit(asset));
}

/**
 * Base units owed for `units` of index-scaled debt (docs/custody.md): ceil(units * debtIndex / 10^18),
 * so interest accrued since the units were borrowed is always counted (packages/circuits/risk/debt-assets.circom).
 */
export function debtAssets(units: bigint, asset: Asset): bigint {
  return ceilDiv(units * asset.debtIndex, DEBT_INDEX_SCALE);
}

/** vd = ceil(debtAssets(units) * price / 10^decimals): debt units valued through the index. */
export function debtValue(units: bigint, asset: Asset): bigint {
  return ceilDiv(debtAssets(units, asset) * asset.price, unit(asset));
}

/** vc_i and vd_i of every asset. The position must be resolved against this market. */
export function assetValues(position: Position, market: Market): AssetValues {
  assertResolved(position, market);
  return {
    collateral: market.assets.map((asset, i) => collateralValue(position.collateral[i]!, asset)),
    debt: market.assets.map((asset, i) => debtValue(position.debt[i]!, asset)),
  };
}

/** vc_i - vd_i per asset (q.u.). */
export function netValues(values: AssetValues): bigint[] {
  return values.collateral.map((vc, i) => vc - values.debt[i]!);
}

/** The position's slots must match the market's assets and instruments one for one. */
export function assertResolved(position: Position, market: Market): void {
  const slots: [string, number, number][] = [
    ["collateral", position.collateral.length, market.assets.length],
    ["debt", position.debt.length, market.assets.length],
    ["derivative", position.quantities.length, market.instruments.length],
  ];
  for (const [what, have, want] of slots) {
    if (have !== want) {
      throw new ModelError(
        `position has ${have} ${what} slots but the market has ${want} ${what === "derivative" ? "instruments" : "assets"} (resolve the position against this market)`,
      );
    }
  }
}
