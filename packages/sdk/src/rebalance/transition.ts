/**
 * A transition P -> P' as the custody model sees it (docs/custody.md): every change of a
 * committed balance is a token movement the gate performs in the same transaction. This is the
 * exact TypeScript mirror of packages/circuits/rebalance.circom's conservation rules, used to check a
 * transition before proving it (a clear error instead of an unprovable witness) and by the
 * differential tests. Pure integer code, no Node built-ins.
 */
import { BPS_SCALE, DEBT_INDEX_SCALE, MAX_AMOUNT, QUANTITY_OFFSET, RATIO_SCALE } from "../core/fixed-point.ts";
import type { Asset, Market, Policy, Position } from "../inputs/types.ts";
import { checkPosition, type RiskReport } from "../model/check.ts";
import { ModelError } from "../model/errors.ts";
import { healthFactor } from "../model/health-factor.ts";
import { assetValues, debtAssets as debtAssetsOf } from "../model/values.ts";

/** Swap slots of the standard and test Rebalance instances (packages/circuits/instances.json, last parameter). */
export const SWAP_SLOTS = 2;

/** Values of swap legs are compared at quote units * 10^18, so nothing rounds. */
export const SWAP_VALUE_DECIMALS = 18;

/** Debt indices are fixed-point with 18 decimals (1.0 = 10^18): core/fixed-point.ts's scale. */
export { DEBT_INDEX_SCALE };

/** One executed AMM swap: sell `amountIn` of asset `sell` for at least `minOut` of asset `buy`. */
export interface SwapLeg {
  sell: number;
  buy: number;
  amountIn: bigint;
  minOut: bigint;
}

/** The public token movements of a transition, per market asset / instrument (docs/custody.md). */
export interface Movements {
  /** Signed wallet flow per asset, base units: deposits +, withdrawals -. */
  flows: bigint[];
  /** Signed debt change per asset in index-scaled units: borrows +, repayments -. */
  debtDelta: bigint[];
  /** Per asset, >= 0: a borrow's least delivery, a repayment's most charge; 0 without a debt change. */
  debtAssets: bigint[];
  /** Executed swaps, at most the instance's swap slots. */
  swaps: SwapLeg[];
  /** Signed option-token flow per instrument, instrument base units: deposits +, withdrawals -. */
  instrumentFlows: bigint[];
}

/**
 * A keeper's liquidation (docs/enforcement.md): the position pays `bonus[i]` base units of asset i
 * (one per market asset) to `liquidator`, worth at most `bonusBps` of what its repayments paid.
 */
export interface LiquidationTerms {
  /** The address the gate pays the bonus to; it must also be the transaction's sender. */
  liquidator: string;
  /** The gate's liquidationBonus(), basis points (<= 10^4). */
  bonusBps: bigint;
  /** Per market asset, base units, >= 0. */
  bonus: bigint[];
  /** The old position is strictly below health factor 1.0: the gate skips the grace window. */
  urgent: boolean;
}

/** A transition as packages/circuits/rebalance.circom proves it. */
export interface Transition extends Movements {
  old: Position;
  next: Position;
  /** A keeper's rebalance: proves the old position was below the policy's trigger. */
  forced: boolean;
  /** A registration: the old position is the empty one (nonce 0, salt 0, no balances). */
  fromEmpty: boolean;
  /** A keeper's liquidation (the circuit's liquidation = 1); absent otherwise. */
  liquidation?: LiquidationTerms;
}

export type TransitionRule =
  "shape" | "account" | "nonce" | "empty" | "range" | "balance" | "swap" | "slippage" | "debt" | "instrument" | "checks" | "trigger" | "liquidation" | "bonus";

export interface TransitionViolation {
  rule: TransitionRule;
  message: string;
}

export interface TransitionCheck {
  valid: boolean;
  violations: TransitionViolation[];
  /** The RiskReport of P' when the checks were evaluated. */
  after?: RiskReport;
}

const abs = (x: bigint): bigint => (x < 0n ? -x : x);
const zeros = (n: number): bigint[] => new Array<bigint>(n).fill(0n);

/** No movement at all, for a market of this shape. */
export function noMovements(market: Market): Movements {
  const nA = market.assets.length;
  return { flows: zeros(nA), debtDelta: zeros(nA), debtAssets: zeros(nA), swaps: [], instrumentFlows: zeros(market.instruments.length) };
}

/** The empty position of `account`: what registration starts from. */
export function emptyPosition(account: string, market: Market): Position {
  return {
    version: 1,
    account,
    nonce: 0n,
    salt: 0n,
    collateral: zeros(market.assets.length),
    debt: zeros(market.assets.length),
    quantities: zeros(market.instruments.length),
  };
}

/** An amount of asset i at quote units * 10^18: x * p_i * 10^(18 - decimals_i), exact. */
export function swapValue(amount: bigint, asset: Asset): bigint {
  return amount * asset.price * 10n ** BigInt(SWAP_VALUE_DECIMALS - asset.decimals);
}

/**
 * The policy's slippage bound on one executed swap, against the epoch's oracle prices:
 *     V_buy(minOut) * 10^6 >= (10^6 - maxSlippage) * V_sell(amountIn)
 */
export function withinSlippage(swap: SwapLeg, market: Market, policy: Policy): boolean {
  const sold = swapValue(swap.amountIn, market.assets[swap.sell]!);
  const bought = swapValue(swap.minOut, market.assets[swap.buy]!);
  return bought * RATIO_SCALE >= (RATIO_SCALE - policy.maxSlippage) * sold;
}

/** The least `minOut` of asset `buy` the policy allows for selling `amountIn` of `sell` (rounded up). */
export function slippageFloor(sell: number, amountIn: bigint, buy: number, market: Market, policy: Policy): bigint {
  const need = (RATIO_SCALE - policy.maxSlippage) * swapValue(amountIn, market.assets[sell]!);
  const unit = swapValue(1n, market.assets[buy]!) * RATIO_SCALE;
  return unit === 0n ? 0n : (need + unit - 1n) / unit;
}

/** What each asset's collateral gains from the swaps (bought minus sold), base units. */
export function swapNet(swaps: readonly SwapLeg[], nAssets: number): bigint[] {
  const net = zeros(nAssets);
  for (const s of swaps) {
    net[s.sell] = net[s.sell]! - s.amountIn;
    net[s.buy] = net[s.buy]! + s.minOut;
  }
  return net;
}

/**
 * Applies movements to a position: the P' they imply (nonce + 1, same account and salt). A
 * liquidation's bonus leaves the collateral too.
 */
export function applyMovements(old: Position, m: Movements & { liquidation?: LiquidationTerms }): Position {
  const net = swapNet(m.swaps, old.collateral.length);
  const bonus = (i: number): bigint => m.liquidation?.bonus[i] ?? 0n;
  return {
    ...old,
    nonce: old.nonce + 1n,
    collateral: old.collateral.map((c, i) => c + m.flows[i]! + net[i]! + signedDebtAssets(m, i) - bonus(i)),
    debt: old.debt.map((d, i) => d + m.debtDelta[i]!),
    quantities: old.quantities.map((q, k) => q + m.instrumentFlows[k]!),
  };
}

/** +debtAssets for a borrow, -debtAssets for a repayment. */
function signedDebtAssets(m: Movements, i: number): bigint {
  return m.debtDelta[i]! < 0n ? -m.debtAssets[i]! : m.debtAssets[i]!;
}

/**
 * What the repayments paid the lender, at the epoch's oracle unit values (quote units * 10^18,
 * exact): sum_i debtAssets_i * u_i over the assets whose debt falls. A liquidation's bonus is
 * bounded by bonusBps of this (packages/circuits/rebalance.circom).
 */
export function repaidValue(m: Movements, market: Market): bigint {
  return market.assets.reduce((sum, asset, i) => (m.debtDelta[i]! < 0n ? sum + swapValue(m.debtAssets[i]!, asset) : sum), 0n);
}

/** sum_i bonus_i * u_i: what a liquidation bonus is worth, quote units * 10^18. */
export function bonusValue(bonus: readonly bigint[], market: Market): bigint {
  return market.assets.reduce((sum, asset, i) => sum + swapValue(bonus[i] ?? 0n, asset), 0n);
}

/** Health factor 1.0 at the thresholds' scale: below it a liquidation is urgent. */
export const URGENT_HEALTH_FACTOR = BPS_SCALE;

export interface CheckTransitionOptions {
  /** Also require P' to pass the policy's checks under the market (default true, as the circuit does). */
  checks?: boolean;
  /** The instance's swap slots (default SWAP_SLOTS). */
  swapSlots?: number;
}

/**
 * Verifies a transition exactly as the circuit does (docs/custody.md, "The circuit proves"):
 * shapes, account and nonce, the empty old position of a registration, ranges, the balance
 * equations, well-formed swap slots within the slippage bound, debt movements, long-only
 * option-token flows, P' passing the policy (unless options.checks is false, or a liquidation
 * closes the position) and, for a forced transition, P strictly below the trigger. A liquidation
 * (docs/enforcement.md): P strictly below the trigger (below 1.0 if urgent), no wallet or
 * option-token flow, no borrow, the salt kept, each repayment charging at most one base unit more
 * than the debt value it removes, the bonus within bonusBps of the repaid value, something repaid,
 * no asset's net swap inflow above its repayment, the value sold at most `swapSlots` times the
 * repaid value over the slippage allowance, and P' at or above the trigger unless it is closed.
 */
export function checkTransition(t: Transition, market: Market, policy: Policy, options: CheckTransitionOptions = {}): TransitionCheck {
  const violations: TransitionViolation[] = [];
  const fail = (rule: TransitionRule, message: string): void => void violations.push({ rule, message });
  const nA = market.assets.length;
  const nK = market.instruments.length;
  const { old, next } = t;
  const shapes: [string, number, number][] = [
    ["old collateral", old.collateral.length, nA],
    ["old debt", old.debt.length, nA],
    ["old quantities", old.quantities.length, nK],
    ["new collateral", next.collateral.length, nA],
    ["new debt", next.debt.length, nA],
    ["new quantities", next.quantities.length, nK],
    ["flows", t.flows.length, nA],
    ["debt changes", t.debtDelta.length, nA],
    ["debt assets", t.debtAssets.length, nA],
    ["instrument flows", t.instrumentFlows.length, nK],
    ...(t.liquidation ? ([["liquidation bonus", t.liquidation.bonus.length, nA]] as [string, number, number][]) : []),
  ];
  for (const [what, have, want] of shapes) if (have !== want) fail("shape", `${what} has ${have} entries; the market needs ${want}`);
  const slots = options.swapSlots ?? SWAP_SLOTS;
  if (t.swaps.length > slots) fail("shape", `${t.swaps.length} swaps, but the instance has ${slots} swap slots`);
  if (violations.length > 0) return { valid: false, violations };

  if (old.account.toLowerCase() !== next.account.toLowerCase()) fail("account", `the new position belongs to ${next.account}, not to ${old.account}`);
  if (next.nonce !== old.nonce + 1n) fail("nonce", `nonce' = ${next.nonce} but it must be nonce + 1 = ${old.nonce + 1n}`);
  if (t.fromEmpty) {
    const empty = old.nonce === 0n && (old.salt ?? 0n) === 0n && [...old.collateral, ...old.debt, ...old.quantities].every((x) => x === 0n);
    if (!empty) fail("empty", "a registration starts from the empty position (nonce 0, salt 0, no balances)");
    if (t.forced) fail("empty", "a registration cannot be a keeper's transition");
  }

  const inAmount = (x: bigint): boolean => x >= 0n && x <= MAX_AMOUNT;
  const symbol = (i: number): string => market.assets[i]?.symbol ?? `asset #${i}`;
  market.assets.forEach((a, i) => {
    if (!inAmount(next.collateral[i]!)) fail("range", `new collateral of ${a.symbol} would be ${next.collateral[i]} base units, outside [0, 2^96)`);
    if (!inAmount(next.debt[i]!)) fail("range", `new debt of ${a.symbol} would be ${next.debt[i]} units, outside [0, 2^96)`);
    if (abs(t.flows[i]!) > MAX_AMOUNT) fail("range", `flow of ${a.symbol} ${t.flows[i]} is outside (-2^96, 2^96)`);
    if (abs(t.debtDelta[i]!) > MAX_AMOUNT) fail("range", `debt change of ${a.symbol} ${t.debtDelta[i]} is outside (-2^96, 2^96)`);
    if (!inAmount(t.debtAssets[i]!)) fail("range", `debt assets of ${a.symbol} ${t.debtAssets[i]} are outside [0, 2^96)`);
    if (t.debtDelta[i] === 0n && t.debtAssets[i] !== 0n) fail("debt", `${a.symbol}: ${t.debtAssets[i]} base units move to or from the lender without a debt change`);
  });
  t.swaps.forEach((s, n) => {
    const at = `swap ${n + 1}`;
    if (!Number.isInteger(s.sell) || s.sell < 0 || s.sell >= nA || !Number.isInteger(s.buy) || s.buy < 0 || s.buy >= nA) {
      fail("swap", `${at}: asset index out of the market`);
      return;
    }
    if (!inAmount(s.amountIn) || !inAmount(s.minOut)) fail("range", `${at}: amounts must be in [0, 2^96)`);
    if (s.amountIn === 0n) fail("swap", `${at}: sells nothing (leave the slot empty)`);
    if (s.sell === s.buy) fail("swap", `${at}: sells ${symbol(s.sell)} for itself`);
    if (s.amountIn > 0n && s.sell !== s.buy && !withinSlippage(s, market, policy)) {
      fail(
        "slippage",
        `${at}: at least ${s.minOut} base units of ${symbol(s.buy)} for ${s.amountIn} of ${symbol(s.sell)} is below the policy's slippage bound (${slippageFloor(s.sell, s.amountIn, s.buy, market, policy)} at the oracle's prices)`,
      );
    }
  });
  market.instruments.forEach((k, index) => {
    const q = old.quantities[index]!;
    const q2 = next.quantities[index]!;
    if (abs(q2) >= QUANTITY_OFFSET) fail("range", `new quantity of ${k.id} is outside |q| < 2^95`);
    if (abs(t.instrumentFlows[index]!) > MAX_AMOUNT) fail("range", `option-token flow of ${k.id} is outside (-2^96, 2^96)`);
    if (t.instrumentFlows[index] !== 0n && (q < 0n || q2 < 0n)) {
      fail("instrument", `${k.id}: option tokens back long holdings only; a flow cannot create or touch a written (short) position`);
    }
  });

  // The balance equations, against what the movements imply.
  const implied = applyMovements(old, t);
  market.assets.forEach((a, i) => {
    if (next.collateral[i] !== implied.collateral[i]) {
      fail(
        "balance",
        `${a.symbol}: new collateral ${next.collateral[i]} but the movements bring it to ${implied.collateral[i]} (${next.collateral[i]! > implied.collateral[i]! ? "value from nowhere" : "value vanished"})`,
      );
    }
    if (next.debt[i] !== implied.debt[i]) fail("balance", `${a.symbol}: new debt ${next.debt[i]} units but the lender movements bring it to ${implied.debt[i]}`);
  });
  market.instruments.forEach((k, index) => {
    if (next.quantities[index] !== implied.quantities[index])
      fail("balance", `${k.id}: q' = ${next.quantities[index]} but the option-token flows bring it to ${implied.quantities[index]}`);
  });

  let after: RiskReport | undefined;
  // A liquidation that repays every debt closes the position: the circuit then skips every check of
  // P' (its amounts stay range-checked by the commitment: the "range" rule above), so a model error
  // the checks would raise (say a covariance that is not PSD for P's exposures) does not refuse it.
  const closed = t.liquidation !== undefined && next.debt.every((d) => d === 0n);
  if (options.checks ?? true) {
    try {
      after = checkPosition(next, market, policy);
      if (!after.pass && !closed) fail("checks", `the new position fails the policy's checks: ${after.failures.join(", ")}`);
    } catch (error) {
      if (!(error instanceof ModelError)) throw error;
      if (!closed) fail("checks", `the new position cannot be evaluated: ${error.message}`);
    }
  }
  if (t.liquidation) checkLiquidation(t, t.liquidation, market, policy, slots, closed, fail);
  if (t.forced) {
    // A keeper keeps the owner's salt, so the owner can still open the new commitment.
    if ((next.salt ?? 0n) !== (old.salt ?? 0n)) fail("trigger", "a keeper's transition keeps the position's salt (the owner must be able to open the new commitment)");
    try {
      // Only the values enter the circuit's belowTrigger (not the old position's other checks).
      const hf = healthFactor(assetValues(old, market), market, policy.trigger.healthFactor);
      // sum_i vc_i * LT_i < trigger * sum_i vd_i, strictly; no debt can never be forced.
      if (!(hf.numerator < policy.trigger.healthFactor * hf.denominator)) {
        fail("trigger", `the old position is not below the trigger health factor ${policy.trigger.healthFactor}/${BPS_SCALE}, so a keeper may not force a rebalance`);
      }
      // ... and the keeper restores it to at least the trigger: HFnum' >= trigger * HFden'.
      const restored = healthFactor(assetValues(next, market), market, policy.trigger.healthFactor);
      if (restored.numerator < policy.trigger.healthFactor * restored.denominator) {
        fail("trigger", `a keeper's transition must leave the position at or above the trigger health factor ${policy.trigger.healthFactor}/${BPS_SCALE}`);
      }
    } catch (error) {
      if (!(error instanceof ModelError)) throw error;
      fail("trigger", `the position cannot be evaluated: ${error.message}`);
    }
  }
  return { valid: violations.length === 0, violations, ...(after && { after }) };
}

/** The liquidation rules of packages/circuits/rebalance.circom (liquidation = 1); `slots` is the instance's nSwaps. */
function checkLiquidation(
  t: Transition,
  liq: LiquidationTerms,
  market: Market,
  policy: Policy,
  slots: number,
  closed: boolean,
  fail: (rule: TransitionRule, message: string) => void,
): void {
  const { old, next } = t;
  const symbol = (i: number): string => market.assets[i]!.symbol;
  if (t.fromEmpty) fail("liquidation", "a registration cannot be a liquidation");
  if (t.forced) fail("liquidation", "a transition is a forced rebalance or a liquidation, not both");
  if (!/^0x[0-9a-fA-F]{40}$/.test(liq.liquidator)) fail("liquidation", `the liquidator ${liq.liquidator} is not an address`);
  if (liq.bonusBps < 0n || liq.bonusBps > BPS_SCALE) fail("bonus", `the bonus rate ${liq.bonusBps} bps is outside [0, ${BPS_SCALE}]`);
  market.assets.forEach((a, i) => {
    const bonus = liq.bonus[i]!;
    if (bonus < 0n || bonus > MAX_AMOUNT) fail("range", `bonus of ${a.symbol} ${bonus} is outside [0, 2^96)`);
    if (t.flows[i] !== 0n) fail("liquidation", `${a.symbol}: a liquidation moves nothing to or from the owner's wallet (flow ${t.flows[i]})`);
    if (t.debtDelta[i]! > 0n) fail("liquidation", `${a.symbol}: a liquidation cannot borrow`);
    // The charge may exceed the debt value removed only by the lender's rounding (one base unit):
    // an inflated debtAssets (the gate forwards the excess to the owner) would inflate the bonus.
    const removed = debtAssetsOf(old.debt[i]!, a) - debtAssetsOf(next.debt[i]!, a);
    if (t.debtDelta[i]! < 0n && t.debtAssets[i]! > removed + 1n) {
      fail("bonus", `${a.symbol}: the repayment charges ${t.debtAssets[i]} base units but removes debt worth ${removed}; a liquidation may charge at most one base unit more`);
    }
  });
  market.instruments.forEach((k, index) => {
    if (t.instrumentFlows[index] !== 0n) fail("liquidation", `${k.id}: a liquidation moves no option tokens`);
  });
  // The swaps serve the repayment (the circuit's nothingRepaid, buyCap and churn): something is
  // repaid, no asset's net swap inflow exceeds its repayment, and the swaps sell at most `slots`
  // times the repaid value over the slippage allowance. Otherwise a keeper could churn the
  // collateral at the slippage floor (swaps only, or a round trip) and sandwich it.
  const repaid = (i: number): bigint => (t.debtDelta[i]! < 0n ? t.debtAssets[i]! : 0n);
  const repaidWorth = repaidValue(t, market);
  if (market.assets.every((_, i) => repaid(i) === 0n))
    fail("liquidation", "a liquidation repays some debt; this one repays nothing, so its swaps would only churn the owner's collateral");
  const net = swapNet(t.swaps, market.assets.length);
  market.assets.forEach((a, i) => {
    if (net[i]! > repaid(i)) {
      fail("liquidation", `${a.symbol}: the swaps bring in ${net[i]} base units net but the repayment takes ${repaid(i)}; a liquidation's swaps only raise what it repays`);
    }
  });
  const sold = t.swaps.reduce((sum, s) => (market.assets[s.sell] ? sum + swapValue(s.amountIn, market.assets[s.sell]!) : sum), 0n);
  if ((RATIO_SCALE - policy.maxSlippage) * sold > BigInt(slots) * RATIO_SCALE * repaidWorth) {
    fail("liquidation", `the swaps sell more than ${slots} times the repaid value (over the slippage allowance): a liquidation's swaps only raise what it repays`);
  }
  const allowance = liq.bonusBps * repaidWorth;
  const worth = bonusValue(liq.bonus, market);
  if (BPS_SCALE * worth > allowance) {
    const paid = market.assets
      .map((_, i) => (liq.bonus[i]! > 0n ? `${liq.bonus[i]} ${symbol(i)}` : ""))
      .filter(Boolean)
      .join(" + ");
    fail("bonus", `the bonus (${paid}) is worth more than ${liq.bonusBps} bps of the repaid value at the oracle's prices`);
  }
  if ((next.salt ?? 0n) !== (old.salt ?? 0n)) fail("liquidation", "a keeper's liquidation keeps the position's salt (the owner must be able to open the new commitment)");
  try {
    // Only the values enter the circuit's belowTrigger and belowOne (a model error in P's other
    // checks, say a covariance not PSD for its exposures, does not stop a liquidation).
    const hf = healthFactor(assetValues(old, market), market, policy.trigger.healthFactor);
    // sum_i vc_i * LT_i < trigger * sum_i vd_i, strictly: no debt is never below the trigger.
    if (!(hf.numerator < policy.trigger.healthFactor * hf.denominator)) {
      fail("liquidation", `the old position is not below the trigger health factor ${policy.trigger.healthFactor}/${BPS_SCALE}, so no keeper may liquidate it`);
    }
    if (liq.urgent && !(hf.numerator < URGENT_HEALTH_FACTOR * hf.denominator)) {
      fail("liquidation", "an urgent liquidation needs the old position strictly below health factor 1.0");
    }
  } catch (error) {
    if (!(error instanceof ModelError)) throw error;
    fail("liquidation", `the old position cannot be evaluated: ${error.message}`);
  }
  // A liquidation that leaves debt restores the trigger (the circuit's `restored`, enabled by
  // forced + liquidation - checksOff): otherwise the position could be flagged again at once and
  // liquidated for another bonus, a sliver at a time. Only the values enter, as in the circuit.
  if (!closed) {
    const after = healthFactor(assetValues(next, market), market, policy.trigger.healthFactor);
    if (after.numerator < policy.trigger.healthFactor * after.denominator) {
      fail(
        "trigger",
        `a liquidation that leaves debt must leave the position at or above the trigger health factor ${policy.trigger.healthFactor}/${BPS_SCALE} (or repay all of it)`,
      );
    }
  }
}
