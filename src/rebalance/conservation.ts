/**
 * Conservation of a rebalance (docs/rebalance.md, "Conservation"), exactly, at the scale
 * quote units * 10^18 so that nothing rounds:
 *
 *     V_i(x) = x * p_i * (10^18 / 10^decimals_i)      an amount of asset i
 *     H_k(x) = x * m_k * 10^10                         x contracts (8 decimals) at mark m_k
 *     given  = sum_i V_i(sold_i)
 *     gained = sum_i V_i(bought_i) + sum_k H_k(bought_k - sold_k)
 *     lost   = given - gained
 *     traded = given + sum_k (bought_k + sold_k) * |m_k| * 10^10
 *     valid  <=> lost >= 0 and lost * 10^6 <= maxSlippage * traded
 *
 * `checkRebalance` verifies a transition P -> P' from its flows and legs alone, independently
 * of how they were produced: what the rebalance circuit proves.
 */
import { QUANTITY_DECIMALS, RATIO_SCALE, BPS_SCALE, MAX_AMOUNT, QUANTITY_OFFSET } from "../core/fixed-point.ts";
import type { Asset, Instrument, Market, Policy, Position } from "../inputs/types.ts";
import { ModelError } from "../model/errors.ts";
import { checkPosition, type RiskReport } from "../model/check.ts";
import { RebalanceError, assetSymbol, instrumentId, type RebalanceResult, type TradeLegs } from "./actions.ts";

/** Values in conservation are quote units * 10^18. */
export const VALUE_DECIMALS = 18;
export const VALUE_SCALE = 10n ** BigInt(VALUE_DECIMALS);

/** V_i(x) = x * p_i * 10^(18 - decimals_i), exact (decimals <= 18, as the model's bounds require). */
export function assetValueExact(amount: bigint, asset: Asset): bigint {
  if (asset.decimals > VALUE_DECIMALS) {
    throw new RebalanceError(`${asset.symbol} has ${asset.decimals} decimals; conservation needs at most ${VALUE_DECIMALS}`);
  }
  return amount * asset.price * 10n ** BigInt(VALUE_DECIMALS - asset.decimals);
}

/** H_k(x) = x * m_k * 10^10: x contracts at QTY (10^8) valued at the mark, q.u. * 10^18. */
export function instrumentValueExact(quantity: bigint, instrument: Instrument): bigint {
  return quantity * instrument.mark * 10n ** BigInt(VALUE_DECIMALS - QUANTITY_DECIMALS);
}

export interface Conservation {
  /** sum_i V_i(sold_i), q.u. * 10^18. */
  given: bigint;
  /** sum_i V_i(bought_i) + sum_k H_k(bought_k - sold_k), q.u. * 10^18. */
  gained: bigint;
  /** given - gained, q.u. * 10^18. */
  lost: bigint;
  /** given + sum_k (bought_k + sold_k) * |m_k| * 10^10, q.u. * 10^18. */
  traded: bigint;
  /** lost >= 0: no value appears from nowhere at the epoch's prices and marks. */
  noValueFromNowhere: boolean;
  /** lost * 10^6 <= maxSlippage * traded. */
  withinSlippage: boolean;
  /** n'_i = n_i + f_i + bought_i - sold_i and q'_k = q_k + bought_k - sold_k hold (always, for applyActions' result). */
  balanced: boolean;
  /** balanced, no value from nowhere and within slippage. */
  valid: boolean;
}

const abs = (x: bigint): bigint => (x < 0n ? -x : x);

/** given, gained, lost, traded of the trade legs (the value part of conservation). */
export function legValues(legs: TradeLegs, market: Market): Pick<Conservation, "given" | "gained" | "lost" | "traded"> {
  let given = 0n;
  let gained = 0n;
  let traded = 0n;
  market.assets.forEach((asset, i) => {
    given += assetValueExact(legs.assetSold[i] ?? 0n, asset);
    gained += assetValueExact(legs.assetBought[i] ?? 0n, asset);
  });
  traded += given;
  market.instruments.forEach((k, index) => {
    const bought = legs.instrumentBought[index] ?? 0n;
    const sold = legs.instrumentSold[index] ?? 0n;
    gained += instrumentValueExact(bought - sold, k);
    traded += (bought + sold) * abs(k.mark) * 10n ** BigInt(VALUE_DECIMALS - QUANTITY_DECIMALS);
  });
  return { given, gained, lost: given - gained, traded };
}

/** The doc's value rule alone: lost >= 0 and lost * 10^6 <= maxSlippage * traded. */
export function valueRule(lost: bigint, traded: bigint, policy: Policy): { noValueFromNowhere: boolean; withinSlippage: boolean } {
  return { noValueFromNowhere: lost >= 0n, withinSlippage: lost * RATIO_SCALE <= policy.maxSlippage * traded };
}

/** The balance equations n'_i = n_i + f_i + bought_i - sold_i, q'_k = q_k + bought_k - sold_k. */
function balanceViolations(old: Position, next: Position, flows: readonly bigint[], legs: TradeLegs, market: Market): string[] {
  const problems: string[] = [];
  market.assets.forEach((_, i) => {
    const n = old.collateral[i]! - old.debt[i]!;
    const n2 = next.collateral[i]! - next.debt[i]!;
    const expected = n + flows[i]! + legs.assetBought[i]! - legs.assetSold[i]!;
    if (n2 !== expected) {
      problems.push(
        `${assetSymbol(market, i)}: n' = c' - d' = ${n2} base units but n + f + bought - sold = ${expected} (${n2 > expected ? "value from nowhere" : "value vanished"})`,
      );
    }
  });
  market.instruments.forEach((_, k) => {
    const expected = old.quantities[k]! + legs.instrumentBought[k]! - legs.instrumentSold[k]!;
    if (next.quantities[k] !== expected) {
      problems.push(`${instrumentId(market, k)}: q' = ${next.quantities[k]} but q + bought - sold = ${expected}`);
    }
  });
  return problems;
}

/** Conservation of the result of applyActions(old, ...): given, gained, lost, traded and validity. */
export function conservation(old: Position, result: RebalanceResult, market: Market, policy: Policy): Conservation {
  const values = legValues(result, market);
  const rule = valueRule(values.lost, values.traded, policy);
  const balanced = balanceViolations(old, result.position, result.flows, result, market).length === 0;
  return { ...values, ...rule, balanced, valid: balanced && rule.noValueFromNowhere && rule.withinSlippage };
}

export type RebalanceRule =
  | "shape"
  | "account"
  | "nonce"
  | "range"
  | "balance"
  | "wash"
  | "value"
  | "slippage"
  | "checks"
  | "trigger";

export interface RebalanceViolation {
  rule: RebalanceRule;
  message: string;
}

export interface CheckRebalanceOptions {
  /** Also require P' to pass the policy's checks under the market (default true, as the circuit does). */
  checks?: boolean;
  /** A keeper-triggered rebalance: also require HFnum < trigger * HFden for P (default false). */
  keeper?: boolean;
}

export interface RebalanceCheck {
  valid: boolean;
  violations: RebalanceViolation[];
  /** Present when the shapes match (the legs could be valued). */
  conservation?: Conservation;
  /** The RiskReport of P' when the checks were evaluated. */
  after?: RiskReport;
}

/**
 * Verifies P -> P' from the public flows and the trade legs alone (docs/rebalance.md): same
 * account, nonce' = nonce + 1, every amount in the commitment's ranges, the balance equations
 * per asset and instrument, no value from nowhere, loss within the policy's slippage of the
 * traded value, and (unless options.checks is false) P' passing the policy's checks. With
 * options.keeper, P must also have been strictly below the trigger health factor.
 */
export function checkRebalance(
  old: Position,
  next: Position,
  flows: readonly bigint[],
  legs: TradeLegs,
  market: Market,
  policy: Policy,
  options: CheckRebalanceOptions = {},
): RebalanceCheck {
  const violations: RebalanceViolation[] = [];
  const fail = (rule: RebalanceRule, message: string): void => void violations.push({ rule, message });
  const nA = market.assets.length;
  const nK = market.instruments.length;
  const shapes: [string, number, number][] = [
    ["old collateral", old.collateral.length, nA],
    ["old debt", old.debt.length, nA],
    ["old quantities", old.quantities.length, nK],
    ["new collateral", next.collateral.length, nA],
    ["new debt", next.debt.length, nA],
    ["new quantities", next.quantities.length, nK],
    ["flows", flows.length, nA],
    ["assets bought", legs.assetBought.length, nA],
    ["assets sold", legs.assetSold.length, nA],
    ["instruments bought", legs.instrumentBought.length, nK],
    ["instruments sold", legs.instrumentSold.length, nK],
  ];
  for (const [what, have, want] of shapes) if (have !== want) fail("shape", `${what} has ${have} entries; the market needs ${want}`);
  if (violations.length > 0) return { valid: false, violations };

  if (old.account.toLowerCase() !== next.account.toLowerCase()) {
    fail("account", `the new position belongs to ${next.account}, not to ${old.account}`);
  }
  if (next.nonce !== old.nonce + 1n) fail("nonce", `nonce' = ${next.nonce} but it must be nonce + 1 = ${old.nonce + 1n}`);

  const inAmountRange = (x: bigint): boolean => x >= 0n && x <= MAX_AMOUNT;
  market.assets.forEach((a, i) => {
    if (!inAmountRange(next.collateral[i]!)) fail("range", `new collateral of ${a.symbol} ${next.collateral[i]} is outside [0, 2^96)`);
    if (!inAmountRange(next.debt[i]!)) fail("range", `new debt of ${a.symbol} ${next.debt[i]} is outside [0, 2^96)`);
    if (!inAmountRange(legs.assetBought[i]!)) fail("range", `bought ${a.symbol} ${legs.assetBought[i]} is outside [0, 2^96)`);
    if (!inAmountRange(legs.assetSold[i]!)) fail("range", `sold ${a.symbol} ${legs.assetSold[i]} is outside [0, 2^96)`);
    if (abs(flows[i]!) > MAX_AMOUNT) fail("range", `flow of ${a.symbol} ${flows[i]} is outside (-2^96, 2^96)`);
  });
  market.instruments.forEach((k, index) => {
    if (abs(next.quantities[index]!) >= QUANTITY_OFFSET) fail("range", `new quantity of ${k.id} is outside |q| < 2^95`);
    if (!inAmountRange(legs.instrumentBought[index]!)) fail("range", `bought ${k.id} ${legs.instrumentBought[index]} is outside [0, 2^96)`);
    if (!inAmountRange(legs.instrumentSold[index]!)) fail("range", `sold ${k.id} ${legs.instrumentSold[index]} is outside [0, 2^96)`);
  });

  for (const problem of balanceViolations(old, next, flows, legs, market)) fail("balance", problem);
  // A leg bought and sold at once changes nothing but `traded`, and so the loss slippage allows.
  market.assets.forEach((a, i) => {
    if (legs.assetBought[i]! > 0n && legs.assetSold[i]! > 0n) fail("wash", `${a.symbol} is both bought and sold; net the legs (bought * sold must be 0)`);
  });
  market.instruments.forEach((k, index) => {
    if (legs.instrumentBought[index]! > 0n && legs.instrumentSold[index]! > 0n) fail("wash", `${k.id} is both bought and sold; net the legs (bought * sold must be 0)`);
  });

  const values = legValues(legs, market);
  const rule = valueRule(values.lost, values.traded, policy);
  if (!rule.noValueFromNowhere) {
    fail("value", `the trades gain ${-values.lost} (q.u. * 10^18) more than they give at the epoch's prices and marks: value from nowhere`);
  }
  if (rule.noValueFromNowhere && !rule.withinSlippage) {
    fail(
      "slippage",
      `the trades lose ${values.lost} of ${values.traded} traded (q.u. * 10^18), more than the policy's maximum slippage ${policy.maxSlippage} / 10^6`,
    );
  }
  const balanced = !violations.some((v) => v.rule === "balance");
  const conservationResult: Conservation = {
    ...values,
    ...rule,
    balanced,
    valid: balanced && rule.noValueFromNowhere && rule.withinSlippage,
  };

  let after: RiskReport | undefined;
  if (options.checks ?? true) {
    try {
      after = checkPosition(next, market, policy);
      if (!after.pass) fail("checks", `the new position fails the policy's checks: ${after.failures.join(", ")}`);
    } catch (error) {
      if (!(error instanceof ModelError)) throw error;
      fail("checks", `the new position cannot be evaluated: ${error.message}`);
    }
  }
  if (options.keeper) {
    try {
      const before = checkPosition(old, market, policy);
      const hf = before.healthFactor;
      // sum_i vc_i * LT_i < trigger * sum_i vd_i, strictly; no debt can never be forced.
      if (!(hf.numerator < policy.trigger.healthFactor * hf.denominator)) {
        fail("trigger", `the old position is not below the trigger health factor ${policy.trigger.healthFactor}/${BPS_SCALE}, so a keeper may not force a rebalance`);
      }
    } catch (error) {
      if (!(error instanceof ModelError)) throw error;
      fail("trigger", `the old position cannot be evaluated: ${error.message}`);
    }
  }
  return { valid: violations.length === 0, violations, conservation: conservationResult, ...(after && { after }) };
}
