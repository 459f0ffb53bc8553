/**
 * Conservation of a rebalance in the custody model (docs/custody.md): every committed balance
 * changes only by a token movement the gate performs, so a transition is checked by
 * checkTransition (src/rebalance/transition.ts, the TypeScript mirror of the circuit), and the
 * only value a rebalance can lose at the oracle's prices is what its swaps give up:
 *
 *     V_i(x)  = x * p_i * 10^(18 - decimals_i)              an amount of asset i, q.u. * 10^18
 *     cost(s) = V_sell(amountIn) - V_buy(minOut)             per swap slot, at most maxSlippage * V_sell(amountIn)
 *
 * A borrow credits at least what the lender delivers and a repayment debits at most what it
 * charges, both rounded against the position (docs/rebalance.md, "Conservation").
 */
import type { Asset, Market, Policy, Position } from "../inputs/types.ts";
import { RebalanceError } from "./actions.ts";
import { checkTransition, SWAP_VALUE_DECIMALS, swapValue, type CheckTransitionOptions, type Movements, type SwapLeg, type Transition, type TransitionCheck } from "./transition.ts";

/** Values in conservation are quote units * 10^18. */
export const VALUE_DECIMALS = SWAP_VALUE_DECIMALS;
export const VALUE_SCALE = 10n ** BigInt(VALUE_DECIMALS);

/** V_i(x) = x * p_i * 10^(18 - decimals_i), exact (decimals <= 18, as the model's bounds require). */
export function assetValueExact(amount: bigint, asset: Asset): bigint {
  if (asset.decimals > VALUE_DECIMALS) {
    throw new RebalanceError(`${asset.symbol} has ${asset.decimals} decimals; swap values need at most ${VALUE_DECIMALS}`);
  }
  return swapValue(amount, asset);
}

/** What one swap gives up at the oracle's prices: V_sell(amountIn) - V_buy(minOut), q.u. * 10^18 (negative: the swap asks for more than it sells). */
export function swapCost(swap: SwapLeg, market: Market): bigint {
  return assetValueExact(swap.amountIn, market.assets[swap.sell]!) - assetValueExact(swap.minOut, market.assets[swap.buy]!);
}

export interface MovementValues {
  /** sum of V_sell(amountIn) over the swaps, q.u. * 10^18. */
  sold: bigint;
  /** sum of V_buy(minOut) over the swaps, q.u. * 10^18. */
  bought: bigint;
  /** sold - bought: the most the swaps lose at the oracle's prices, q.u. * 10^18. */
  lost: bigint;
}

/** The value side of the movements: what the swaps sell, the least they buy, and the difference. */
export function movementValues(m: Movements, market: Market): MovementValues {
  let sold = 0n;
  let bought = 0n;
  for (const s of m.swaps) {
    sold += assetValueExact(s.amountIn, market.assets[s.sell]!);
    bought += assetValueExact(s.minOut, market.assets[s.buy]!);
  }
  return { sold, bought, lost: sold - bought };
}

/** checkTransition for a rebalance (not a registration) from `old` to `next` with movements `m`. */
export function checkMovements(
  old: Position,
  next: Position,
  m: Movements,
  market: Market,
  policy: Policy,
  options: CheckTransitionOptions & { forced?: boolean } = {},
): TransitionCheck {
  const { forced, ...rest } = options;
  return checkTransition({ old, next, forced: forced ?? false, fromEmpty: false, ...m }, market, policy, rest);
}

/**
 * What a keeper's transition may not do (docs/custody.md, "Keepers"): a forced transition may
 * only swap and repay debt from collateral. Undefined when the movements comply, else one line.
 */
export function forcedViolation(m: Movements, market: Market): string | undefined {
  const name = (i: number): string => market.assets[i]?.symbol ?? `asset #${i}`;
  const flow = m.flows.findIndex((f) => f !== 0n);
  if (flow >= 0) return `a keeper's transition may only swap and repay from collateral, but it moves ${name(flow)} to or from the wallet`;
  const borrow = m.debtDelta.findIndex((d) => d > 0n);
  if (borrow >= 0) return `a keeper's transition may only swap and repay from collateral, but it borrows ${name(borrow)}`;
  const k = m.instrumentFlows.findIndex((f) => f !== 0n);
  if (k >= 0) return `a keeper's transition may only swap and repay from collateral, but it moves option tokens of ${market.instruments[k]?.id ?? `instrument #${k}`}`;
  return undefined;
}

/**
 * The Transition of a rebalance (fromEmpty false) from `old` to `next` by movements `m`, after
 * every check the circuit and the gate make (checkTransition, and a keeper's restrictions when
 * forced). A transition that cannot be backed is a RebalanceError (exit 2) with one line naming
 * what and why, before anything is proven or sent.
 */
export function backedTransition(old: Position, next: Position, m: Movements, market: Market, policy: Policy, forced: boolean): Transition {
  const t: Transition = { old, next, forced, fromEmpty: false, ...m };
  const keeper = forced ? forcedViolation(m, market) : undefined;
  if (keeper) throw new RebalanceError(`the transition cannot be backed: ${keeper}`);
  const check = checkTransition(t, market, policy);
  const first = check.violations[0];
  if (first) {
    const more = check.violations.length > 1 ? ` (and ${check.violations.length - 1} more)` : "";
    throw new RebalanceError(`the transition cannot be backed: ${first.message}${more}`);
  }
  return t;
}
