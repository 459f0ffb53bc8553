import { InputError } from "../core/errors.ts";
import type { Market } from "../inputs/types.ts";
import { checkMarketFits, type SlotLayout } from "./slot-layout.ts";

/** Slots of a risk circuit instance: assets and instruments (as the commitment) plus scenarios. */
export interface CircuitLayout extends SlotLayout {
  nScenarios: number;
}

export function checkMarketFitsCircuit(market: Market, layout: CircuitLayout, source: string): void {
  checkMarketFits(market, layout, source);
  if (market.scenarios.length > layout.nScenarios) {
    throw new InputError(
      source,
      "scenarios.items",
      `the market has ${market.scenarios.length} scenarios but the circuit instance has ${layout.nScenarios} scenario slots; use a larger instance`,
    );
  }
}
