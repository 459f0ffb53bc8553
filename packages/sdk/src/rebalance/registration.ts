/**
 * Registration as a proven deposit (docs/custody.md, "Registration from nothing"): the movements
 * that take the empty position to a given one, and the transition the circuit proves with
 * `fromEmpty = 1`. Pure integer code, no Node built-ins.
 */
import { formatHuman } from "../core/decimal.ts";
import { QUANTITY_DECIMALS } from "../core/fixed-point.ts";
import type { Market, Policy, Position } from "../inputs/types.ts";
import { borrowDelivery, RebalanceError } from "./actions.ts";
import { checkTransition, emptyPosition, noMovements, type Movements, type Transition } from "./transition.ts";

export interface RegistrationOptions {
  /**
   * Per asset, the lender's current debt index (10^18 scale) when known. A borrow of d units
   * delivers floor(d * index / 10^18) >= d base units; the registration credits the least the
   * lender can deliver at that index (default 10^18, the lowest possible), and the gate forwards
   * any excess to the wallet.
   */
  lenderIndex?: readonly (bigint | undefined)[];
}

/**
 * The movements that register `position` from the empty one: every collateral amount deposited
 * from the wallet, every debt borrowed from its asset's lender (the proceeds credited to the
 * position and, beyond its collateral of that asset, withdrawn to the wallet in the same
 * transaction), every long option deposited as option tokens. A written option cannot be
 * registered: token custody backs long holdings only (docs/custody.md, "Not yet").
 */
/** An amount in whole tokens, every digit kept (12.5, 14,000), for messages: never rounded. */
function exactAmount(value: bigint, decimals: number): string {
  const text = formatHuman(value, decimals, decimals);
  return text.includes(".") ? text.replace(/0+$/, "").replace(/\.$/, "") : text;
}

export function registrationMovements(position: Position, market: Market, options: RegistrationOptions = {}): Movements {
  const m = noMovements(market);
  position.collateral.forEach((c, i) => (m.flows[i] = c));
  position.debt.forEach((units, i) => {
    if (units === 0n) return;
    const delivered = borrowDelivery(units, options.lenderIndex?.[i]);
    m.debtDelta[i] = units;
    m.debtAssets[i] = delivered;
    m.flows[i] = m.flows[i]! - delivered;
  });
  position.quantities.forEach((q, k) => {
    if (q < 0n) {
      const id = market.instruments[k]!.id;
      throw new RebalanceError(`${id}: a written option (${exactAmount(-q, QUANTITY_DECIMALS)} short) cannot be registered: option tokens back long holdings only`);
    }
    m.instrumentFlows[k] = q;
  });
  return m;
}

/**
 * The registration of `position` (its account, balances and salt; nonce 1 after it) as a
 * transition from the empty position, checked as the circuit checks it: a position that fails
 * the policy, or one that cannot be backed, is a one-line RebalanceError (exit 2).
 */
export function registrationTransition(position: Position, market: Market, policy: Policy, options: RegistrationOptions = {}): Transition {
  const m = registrationMovements(position, market, options);
  const next: Position = { ...position, nonce: 1n };
  const t: Transition = { old: emptyPosition(position.account, market), next, ...m, forced: false, fromEmpty: true };
  const first = checkTransition(t, market, policy).violations[0];
  if (first) throw new RebalanceError(`the registration cannot be proven: ${first.message}`);
  return t;
}

/** `deposit 20 WETH`, `borrow 34,000 USDC (to the wallet)`, `deposit 2 ETH-26DEC26-2800-P`. */
export function describeMovements(m: Movements, market: Market): string[] {
  const lines: string[] = [];
  market.assets.forEach((a, i) => {
    const f = m.flows[i]!;
    const d = m.debtDelta[i]!;
    if (d > 0n) lines.push(`borrow ${exactAmount(m.debtAssets[i]!, a.decimals)} ${a.symbol} from the lender`);
    if (d < 0n) lines.push(`repay ${exactAmount(-d, a.decimals)} ${a.symbol} units to the lender`);
    if (f > 0n) lines.push(`deposit ${exactAmount(f, a.decimals)} ${a.symbol}`);
    if (f < 0n) lines.push(`withdraw ${exactAmount(-f, a.decimals)} ${a.symbol} to the wallet`);
  });
  market.instruments.forEach((k, index) => {
    const g = m.instrumentFlows[index]!;
    if (g !== 0n) lines.push(`${g > 0n ? "deposit" : "withdraw"} ${exactAmount(g > 0n ? g : -g, QUANTITY_DECIMALS)} ${k.id} option tokens`);
  });
  return lines;
}
