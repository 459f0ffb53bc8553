import { InputError } from "../core/errors.ts";
import type { Market } from "../inputs/types.ts";

/**
 * How many asset and instrument slots a circuit instance has. A position is committed over
 * the slots of the instance that will prove things about it, the market's assets and
 * instruments first, in order, then zeros.
 */
export interface SlotLayout {
  nAssets: number;
  nInstruments: number;
}

/** The layout of the standard instances, used by the CLI unless told otherwise. */
export const STANDARD_LAYOUT: SlotLayout = { nAssets: 8, nInstruments: 8 };

export function parseLayout(text: string, source = "--slots"): SlotLayout {
  const match = /^(\d+)x(\d+)$/.exec(text);
  if (!match) throw new InputError(source, "", `expected ASSETSxINSTRUMENTS like 8x8, got "${text}"`);
  return { nAssets: Number(match[1]), nInstruments: Number(match[2]) };
}

/** The market must fit the instance; a clear error beats a silently truncated position. */
export function checkMarketFits(market: Market, layout: SlotLayout, source: string): void {
  if (market.assets.length > layout.nAssets) {
    throw new InputError(source, "assets", `the market has ${market.assets.length} assets but the circuit instance has ${layout.nAssets} asset slots; use a larger instance`);
  }
  if (market.instruments.length > layout.nInstruments) {
    throw new InputError(
      source,
      "instruments",
      `the market has ${market.instruments.length} instruments but the circuit instance has ${layout.nInstruments} instrument slots; use a larger instance`,
    );
  }
}

/** Pads a per-market vector with zeros up to the slot count. */
export function padSlots(values: readonly bigint[], slots: number): bigint[] {
  return [...values, ...Array<bigint>(Math.max(slots - values.length, 0)).fill(0n)];
}
