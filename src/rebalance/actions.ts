/**
 * The actions of a rebalance (docs/rebalance.md, "Actions") and their effect on a position:
 * the new position, the public token flow of every asset and the trade legs (what entered and
 * left the collateral by trading). Pure integer code, no Node built-ins.
 *
 * Assets and instruments are indices into the market (the commitment's slot order); amounts
 * are base units of the asset, instrument quantities contracts at QUANTITY_DECIMALS, all >= 0.
 */
import { ZksError } from "../core/errors.ts";
import { MAX_AMOUNT, QUANTITY_OFFSET } from "../core/fixed-point.ts";
import type { Market, Position } from "../inputs/types.ts";
import { MAX_NONCE } from "../inputs/parse-position.ts";

/** `c += amount`; flow `+amount` (wallet -> vault). */
export interface DepositAction {
  kind: "deposit";
  asset: number;
  amount: bigint;
}

/** `c -= amount`; flow `-amount`. */
export interface WithdrawAction {
  kind: "withdraw";
  asset: number;
  amount: bigint;
}

/** `d += amount`; flow `-amount` (the borrowed tokens go to the wallet). */
export interface BorrowAction {
  kind: "borrow";
  asset: number;
  amount: bigint;
}

/** `d -= amount`; flow `+amount` (paid from the wallet). */
export interface RepayAction {
  kind: "repay";
  asset: number;
  amount: bigint;
}

/** `c -= amount, d -= amount`; no flow. */
export interface RepayWithCollateralAction {
  kind: "repayWithCollateral";
  asset: number;
  amount: bigint;
}

/** swap(sell, a, buy, b): `c_sell -= sellAmount, c_buy += buyAmount`; no flow. */
export interface SwapAction {
  kind: "swap";
  sell: number;
  sellAmount: bigint;
  buy: number;
  buyAmount: bigint;
}

export type HedgeSide = "buy" | "sell";

/**
 * hedge(instrument, buy | sell, n, asset, a): `q += quantity` (buy) or `q -= quantity` (sell);
 * the cash leg `c_asset -= cash` (buy) or `c_asset += cash` (sell); no flow.
 */
export interface HedgeAction {
  kind: "hedge";
  instrument: number;
  side: HedgeSide;
  /** Contracts at QUANTITY_DECIMALS. */
  quantity: bigint;
  /** The cash leg's asset. */
  asset: number;
  /** Base units of `asset`. */
  cash: bigint;
}

export type Action =
  | DepositAction
  | WithdrawAction
  | BorrowAction
  | RepayAction
  | RepayWithCollateralAction
  | SwapAction
  | HedgeAction;

export type ActionKind = Action["kind"];

export const ACTION_KINDS: readonly ActionKind[] = ["deposit", "withdraw", "borrow", "repay", "repayWithCollateral", "swap", "hedge"];

/** Per asset and instrument, what entered and left by trading (docs/rebalance.md, "Conservation"). */
export interface TradeLegs {
  /** bought_i >= 0, base units, one per market asset: swap proceeds and hedge-sale cash. */
  assetBought: bigint[];
  /** sold_i >= 0, base units, one per market asset: swap inputs and hedge-purchase cash. */
  assetSold: bigint[];
  /** bought_k >= 0, contracts at QTY, one per market instrument. */
  instrumentBought: bigint[];
  /** sold_k >= 0, contracts at QTY, one per market instrument. */
  instrumentSold: bigint[];
}

export interface RebalanceResult extends TradeLegs {
  /** P': same account and salt, nonce + 1. */
  position: Position;
  /** f_i, signed base units, one per market asset (+ into the vault, - out to the wallet). */
  flows: bigint[];
}

/** An action that cannot be applied: out of range, beyond a balance, or malformed. Exit code 2. */
export class RebalanceError extends ZksError {
  constructor(message: string) {
    super(message, 2);
  }
}

/** `deposit 2,000 USDC` style names of the assets and instruments an action touches. */
export function assetSymbol(market: Market, index: number): string {
  return market.assets[index]?.symbol ?? `asset #${index}`;
}

export function instrumentId(market: Market, index: number): string {
  return market.instruments[index]?.id ?? `instrument #${index}`;
}

function checkIndex(index: number, count: number, what: string, where: string): void {
  if (!Number.isInteger(index) || index < 0 || index >= count) {
    throw new RebalanceError(`${where}: ${what} index ${index} is not in the market (it has ${count})`);
  }
}

function checkAmount(amount: bigint, what: string, where: string): void {
  if (typeof amount !== "bigint" || amount < 0n) throw new RebalanceError(`${where}: ${what} must be >= 0 (got ${String(amount)})`);
  if (amount > MAX_AMOUNT) throw new RebalanceError(`${where}: ${what} ${amount} is above the maximum 2^96 - 1`);
}

const zeros = (n: number): bigint[] => new Array<bigint>(n).fill(0n);

/** Where an error happened: `action 2 (swap WETH -> USDC)`. */
function where(action: Action, n: number, market: Market): string {
  switch (action.kind) {
    case "swap":
      return `action ${n} (swap ${assetSymbol(market, action.sell)} -> ${assetSymbol(market, action.buy)})`;
    case "hedge":
      return `action ${n} (hedge ${action.side} ${instrumentId(market, action.instrument)})`;
    default:
      return `action ${n} (${action.kind} ${assetSymbol(market, action.asset)})`;
  }
}

/**
 * Applies `actions` in order to `position` (resolved against `market`). Every intermediate
 * balance must stay >= 0 and within the commitment's ranges (c, d < 2^96, |q| < 2^95); a
 * withdraw, repay, swap or cash leg beyond the balance is an error, as is a quantity leaving
 * its range. The result has nonce + 1 and the same account and salt (the caller may re-salt).
 */
export function applyActions(position: Position, actions: readonly Action[], market: Market): RebalanceResult {
  const nAssets = market.assets.length;
  const nInstruments = market.instruments.length;
  if (position.collateral.length !== nAssets || position.debt.length !== nAssets || position.quantities.length !== nInstruments) {
    throw new RebalanceError(
      `the position has ${position.collateral.length} assets and ${position.quantities.length} instruments but the market has ${nAssets} and ${nInstruments} (resolve it against this market)`,
    );
  }
  if (position.nonce >= MAX_NONCE) throw new RebalanceError(`nonce ${position.nonce} is at its maximum 2^64 - 1; no further rebalance is possible`);
  const collateral = [...position.collateral];
  const debt = [...position.debt];
  const quantities = [...position.quantities];
  const flows = zeros(nAssets);
  const assetBought = zeros(nAssets);
  const assetSold = zeros(nAssets);
  const instrumentBought = zeros(nInstruments);
  const instrumentSold = zeros(nInstruments);

  const setBalance = (slots: bigint[], i: number, value: bigint, side: "collateral" | "debt", at: string): void => {
    const symbol = assetSymbol(market, i);
    if (value < 0n) {
      throw new RebalanceError(`${at}: ${side} of ${symbol} would become negative (${slots[i]} base units available, ${-(value - slots[i]!)} needed)`);
    }
    if (value > MAX_AMOUNT) throw new RebalanceError(`${at}: ${side} of ${symbol} would exceed the commitment's range 2^96 - 1`);
    slots[i] = value;
  };

  actions.forEach((action, n) => {
    const at = where(action, n, market);
    switch (action.kind) {
      case "deposit":
      case "withdraw":
      case "borrow":
      case "repay":
      case "repayWithCollateral": {
        checkIndex(action.asset, nAssets, "asset", at);
        checkAmount(action.amount, "amount", at);
        const i = action.asset;
        const a = action.amount;
        if (action.kind === "deposit") {
          setBalance(collateral, i, collateral[i]! + a, "collateral", at);
          flows[i] = flows[i]! + a;
        } else if (action.kind === "withdraw") {
          setBalance(collateral, i, collateral[i]! - a, "collateral", at);
          flows[i] = flows[i]! - a;
        } else if (action.kind === "borrow") {
          setBalance(debt, i, debt[i]! + a, "debt", at);
          flows[i] = flows[i]! - a;
        } else if (action.kind === "repay") {
          setBalance(debt, i, debt[i]! - a, "debt", at);
          flows[i] = flows[i]! + a;
        } else {
          setBalance(collateral, i, collateral[i]! - a, "collateral", at);
          setBalance(debt, i, debt[i]! - a, "debt", at);
        }
        break;
      }
      case "swap": {
        checkIndex(action.sell, nAssets, "sell asset", at);
        checkIndex(action.buy, nAssets, "buy asset", at);
        if (action.sell === action.buy) throw new RebalanceError(`${at}: a swap must sell and buy different assets`);
        checkAmount(action.sellAmount, "sell amount", at);
        checkAmount(action.buyAmount, "buy amount", at);
        setBalance(collateral, action.sell, collateral[action.sell]! - action.sellAmount, "collateral", at);
        setBalance(collateral, action.buy, collateral[action.buy]! + action.buyAmount, "collateral", at);
        assetSold[action.sell] = assetSold[action.sell]! + action.sellAmount;
        assetBought[action.buy] = assetBought[action.buy]! + action.buyAmount;
        break;
      }
      case "hedge": {
        checkIndex(action.instrument, nInstruments, "instrument", at);
        checkIndex(action.asset, nAssets, "cash asset", at);
        if (action.side !== "buy" && action.side !== "sell") throw new RebalanceError(`${at}: side must be "buy" or "sell"`);
        checkAmount(action.quantity, "quantity", at);
        checkAmount(action.cash, "cash", at);
        const k = action.instrument;
        const q = quantities[k]! + (action.side === "buy" ? action.quantity : -action.quantity);
        if (q <= -QUANTITY_OFFSET || q >= QUANTITY_OFFSET) {
          throw new RebalanceError(`${at}: the quantity of ${instrumentId(market, k)} would leave the commitment's range |q| < 2^95`);
        }
        quantities[k] = q;
        if (action.side === "buy") {
          instrumentBought[k] = instrumentBought[k]! + action.quantity;
          setBalance(collateral, action.asset, collateral[action.asset]! - action.cash, "collateral", at);
          assetSold[action.asset] = assetSold[action.asset]! + action.cash;
        } else {
          instrumentSold[k] = instrumentSold[k]! + action.quantity;
          setBalance(collateral, action.asset, collateral[action.asset]! + action.cash, "collateral", at);
          assetBought[action.asset] = assetBought[action.asset]! + action.cash;
        }
        break;
      }
      default: {
        const unknown: never = action;
        throw new RebalanceError(`action ${n}: unknown kind ${JSON.stringify((unknown as { kind?: unknown }).kind)}`);
      }
    }
  });

  // Actions may buy and sell the same asset or instrument (a swap into USDC, a hedge paid in
  // USDC); the proof takes one net leg per slot (docs/rebalance.md, "one-sided legs").
  netLegs(assetBought, assetSold);
  netLegs(instrumentBought, instrumentSold);
  return {
    position: { ...position, nonce: position.nonce + 1n, collateral, debt, quantities },
    flows,
    assetBought,
    assetSold,
    instrumentBought,
    instrumentSold,
  };
}

/** The trade legs alone (flows included) of `actions`, without a position: they depend only on the actions. */
export function legsOf(actions: readonly Action[], market: Market): Omit<RebalanceResult, "position"> {
  // Apply to a position rich enough that no balance goes negative; only flows and legs are kept.
  const big = MAX_AMOUNT / 2n;
  const start: Position = {
    version: 1,
    account: "0x0000000000000000000000000000000000000000",
    nonce: 0n,
    salt: undefined,
    collateral: market.assets.map(() => big),
    debt: market.assets.map(() => big),
    quantities: market.instruments.map(() => 0n),
  };
  const { position: _ignored, ...rest } = applyActions(start, actions, market);
  return rest;
}

/** Nets bought against sold per slot, in place: what is left is one-sided and changes the same balance. */
function netLegs(bought: bigint[], sold: bigint[]): void {
  bought.forEach((b, i) => {
    const common = b < sold[i]! ? b : sold[i]!;
    bought[i] = b - common;
    sold[i] = sold[i]! - common;
  });
}
