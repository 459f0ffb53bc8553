/**
 * The actions of a rebalance (docs/rebalance.md, "Actions") and the token movements they map to
 * (docs/custody.md): every change of a committed balance is a wallet flow, a loan or repayment
 * with the asset's lender, a swap on the AMM, or an option-token flow, performed by the gate in
 * the same transaction. applyActions returns the new position and its `Movements`, the public
 * signals packages/circuits/rebalance.circom proves. Pure integer code, no Node built-ins.
 *
 * Assets and instruments are indices into the market (the commitment's slot order); amounts
 * are base units of the asset, instrument quantities contracts at QUANTITY_DECIMALS, all >= 0.
 */
import { ZksError } from "../core/errors.ts";
import { MAX_AMOUNT, QUANTITY_DECIMALS, QUANTITY_OFFSET } from "../core/fixed-point.ts";
import { formatDecimal } from "../core/decimal.ts";
import type { Asset, Market, Policy, Position } from "../inputs/types.ts";
import { MAX_NONCE } from "../inputs/parse-position.ts";
import { ceilDiv } from "../model/rounding.ts";
import { DEBT_INDEX_SCALE, SWAP_SLOTS, noMovements, slippageFloor, withinSlippage, type Movements, type SwapLeg } from "./transition.ts";

/** `c += amount`; flow `+amount` (wallet -> gate). */
export interface DepositAction {
  kind: "deposit";
  asset: number;
  amount: bigint;
}

/** `c -= amount`; flow `-amount` (gate -> wallet). */
export interface WithdrawAction {
  kind: "withdraw";
  asset: number;
  amount: bigint;
}

/**
 * Borrow about `amount` base units to the wallet: `units = ceil(amount * 10^18 / index)` debt
 * units; the lender delivers at least `debtAssets = floor(units * lenderIndex / 10^18)` into
 * collateral, which the same transition withdraws to the wallet (flow `-debtAssets`); the gate
 * forwards any excess.
 */
export interface BorrowAction {
  kind: "borrow";
  asset: number;
  amount: bigint;
}

/**
 * Repay up to `amount` base units from the wallet: `units = floor(amount * 10^18 / index)`,
 * `debtAssets = ceil(units * index / 10^18) <= amount` deposited (flow `+debtAssets`) and paid.
 */
export interface RepayAction {
  kind: "repay";
  asset: number;
  amount: bigint;
}

/** As repay, but `debtAssets` is debited from collateral; no flow. */
export interface RepayWithCollateralAction {
  kind: "repayWithCollateral";
  asset: number;
  amount: bigint;
}

/** One AMM swap: sell `amountIn` of `sell` for at least `minOut` of `buy`; `c_sell -= amountIn, c_buy += minOut`. */
export interface SwapAction {
  kind: "swap";
  sell: number;
  amountIn: bigint;
  buy: number;
  minOut: bigint;
}

/** Option tokens from the wallet: `q += quantity` (longs only). */
export interface DepositInstrumentAction {
  kind: "depositInstrument";
  instrument: number;
  /** Contracts at QUANTITY_DECIMALS. */
  quantity: bigint;
}

/** Option tokens to the wallet: `q -= quantity` (longs only: q stays >= 0). */
export interface WithdrawInstrumentAction {
  kind: "withdrawInstrument";
  instrument: number;
  /** Contracts at QUANTITY_DECIMALS. */
  quantity: bigint;
}

export type Action = DepositAction | WithdrawAction | BorrowAction | RepayAction | RepayWithCollateralAction | SwapAction | DepositInstrumentAction | WithdrawInstrumentAction;

export type ActionKind = Action["kind"];

export const ACTION_KINDS: readonly ActionKind[] = ["deposit", "withdraw", "borrow", "repay", "repayWithCollateral", "swap", "depositInstrument", "withdrawInstrument"];

export interface RebalanceResult {
  /** P': same account and salt, nonce + 1. */
  position: Position;
  /** The public token movements (docs/custody.md) that take P to P'. */
  movements: Movements;
}

export interface ApplyOptions {
  /**
   * Per market asset, the lender's current debt index (10^18 scale) when known (a CLI connected
   * to a chain); default 10^18, the lowest possible index: a borrow then counts on the least
   * delivery any lender can make.
   */
  lenderIndex?: readonly (bigint | undefined)[];
  /** With a policy, every swap's minOut must satisfy its slippage bound (withinSlippage). */
  policy?: Policy;
  /** Swap slots of the rebalance instance (default SWAP_SLOTS). */
  swapSlots?: number;
}

/** An action that cannot be applied or backed: out of range, beyond a balance, or malformed. Exit code 2. */
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

/** The market's debt index of an asset (10^18 scale; 1.0 when the market omits it). */
export function debtIndexOf(asset: Asset): bigint {
  return asset.debtIndex;
}

/** Debt units a borrow of `amount` base units takes at `index`: ceil(amount * 10^18 / index), rounded against the position. */
export function borrowUnits(amount: bigint, index: bigint): bigint {
  return ceilDiv(amount * DEBT_INDEX_SCALE, index);
}

/** Debt units a repayment of at most `amount` base units retires at `index`: floor(amount * 10^18 / index). */
export function repayUnits(amount: bigint, index: bigint): bigint {
  return (amount * DEBT_INDEX_SCALE) / index;
}

/** The least a lender at `lenderIndex` delivers for `units`: floor(units * lenderIndex / 10^18). */
export function borrowDelivery(units: bigint, lenderIndex: bigint = DEBT_INDEX_SCALE): bigint {
  return (units * lenderIndex) / DEBT_INDEX_SCALE;
}

/** The most a repayment of `units` is charged at `index`: ceil(units * index / 10^18). */
export function repayCharge(units: bigint, index: bigint): bigint {
  return ceilDiv(units * index, DEBT_INDEX_SCALE);
}

/** Whole tokens: 3200000000000000000 at 18 -> "3.2". */
const tokens = (market: Market, i: number, units: bigint): string => `${formatDecimal(units, market.assets[i]?.decimals ?? 0)} ${assetSymbol(market, i)}`;
const contracts = (n: bigint): string => `${formatDecimal(n, QUANTITY_DECIMALS)} contracts`;

function checkIndex(index: number, count: number, what: string, where: string): void {
  if (!Number.isInteger(index) || index < 0 || index >= count) {
    throw new RebalanceError(`${where}: ${what} index ${index} is not in the market (it has ${count})`);
  }
}

function checkAmount(amount: bigint, what: string, where: string): void {
  if (typeof amount !== "bigint" || amount < 0n) throw new RebalanceError(`${where}: ${what} must be >= 0 (got ${String(amount)})`);
  if (amount > MAX_AMOUNT) throw new RebalanceError(`${where}: ${what} ${amount} is above the maximum 2^96 - 1`);
}

/** Where an error happened: `action 2 (swap WETH -> USDC)`. */
function where(action: Action, n: number, market: Market): string {
  switch (action.kind) {
    case "swap":
      return `action ${n + 1} (swap ${assetSymbol(market, action.sell)} -> ${assetSymbol(market, action.buy)})`;
    case "depositInstrument":
    case "withdrawInstrument":
      return `action ${n + 1} (${action.kind} ${instrumentId(market, action.instrument)})`;
    default:
      return `action ${n + 1} (${action.kind} ${assetSymbol(market, action.asset)})`;
  }
}

/**
 * Applies `actions` in order to `position` (resolved against `market`) and collects their
 * movements. Every intermediate balance must stay >= 0 and within the commitment's ranges; a
 * withdrawal or repayment beyond the balance is an error. Netting: swaps of the same (sell, buy)
 * pair merge into one slot; more distinct swaps than the instance's slots, or a borrow and a
 * repayment of the same asset, are errors. The result has nonce + 1 and the same account and
 * salt (the caller re-salts).
 */
export function applyActions(position: Position, actions: readonly Action[], market: Market, options: ApplyOptions = {}): RebalanceResult {
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
  const m = noMovements(market);
  const swaps: SwapLeg[] = [];
  const slots = options.swapSlots ?? SWAP_SLOTS;

  const setCollateral = (i: number, value: bigint, at: string): void => {
    if (value > MAX_AMOUNT) throw new RebalanceError(`${at}: collateral of ${assetSymbol(market, i)} would exceed the commitment's range 2^96 - 1`);
    collateral[i] = value;
  };
  const debit = (i: number, amount: bigint, what: string): void => {
    if (amount > collateral[i]!) throw new RebalanceError(`${what} exceeds what this position holds (${tokens(market, i, collateral[i]!)})`);
    collateral[i] = collateral[i]! - amount;
  };
  const debtChange = (i: number, units: bigint, at: string): void => {
    const before = m.debtDelta[i]!;
    if ((before > 0n && units < 0n) || (before < 0n && units > 0n)) {
      throw new RebalanceError(`${at}: a rebalance cannot both borrow and repay ${assetSymbol(market, i)} (the lender movement of an asset has one direction)`);
    }
    m.debtDelta[i] = before + units;
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
        const index = debtIndexOf(market.assets[i]!);
        if (action.kind === "deposit") {
          setCollateral(i, collateral[i]! + a, at);
          m.flows[i] = m.flows[i]! + a;
        } else if (action.kind === "withdraw") {
          debit(i, a, `withdrawal of ${tokens(market, i, a)}`);
          m.flows[i] = m.flows[i]! - a;
        } else if (action.kind === "borrow") {
          const units = borrowUnits(a, index);
          const delivered = borrowDelivery(units, options.lenderIndex?.[i] ?? DEBT_INDEX_SCALE);
          if (debt[i]! + units > MAX_AMOUNT) throw new RebalanceError(`${at}: debt of ${assetSymbol(market, i)} would exceed the commitment's range 2^96 - 1`);
          debtChange(i, units, at);
          debt[i] = debt[i]! + units;
          m.debtAssets[i] = m.debtAssets[i]! + delivered;
          // Credited to collateral by the lender's delivery, withdrawn to the wallet at once.
          m.flows[i] = m.flows[i]! - delivered;
        } else {
          const units = repayUnits(a, index);
          const charged = repayCharge(units, index);
          if (units > debt[i]!) {
            throw new RebalanceError(`repayment of ${tokens(market, i, a)} exceeds the debt of this position (${tokens(market, i, repayCharge(debt[i]!, index))})`);
          }
          if (action.kind === "repayWithCollateral") {
            debit(i, charged, `repayment of ${tokens(market, i, charged)} from collateral`);
          } else {
            m.flows[i] = m.flows[i]! + charged;
          }
          debtChange(i, -units, at);
          debt[i] = debt[i]! - units;
          m.debtAssets[i] = m.debtAssets[i]! + charged;
        }
        break;
      }
      case "swap": {
        checkIndex(action.sell, nAssets, "sell asset", at);
        checkIndex(action.buy, nAssets, "buy asset", at);
        if (action.sell === action.buy) throw new RebalanceError(`${at}: a swap must sell and buy different assets`);
        checkAmount(action.amountIn, "amount in", at);
        checkAmount(action.minOut, "minimum out", at);
        if (action.amountIn === 0n) throw new RebalanceError(`${at}: a swap must sell more than 0`);
        const leg: SwapLeg = { sell: action.sell, buy: action.buy, amountIn: action.amountIn, minOut: action.minOut };
        if (options.policy && !withinSlippage(leg, market, options.policy)) {
          const floor = slippageFloor(leg.sell, leg.amountIn, leg.buy, market, options.policy);
          throw new RebalanceError(
            `swap of ${tokens(market, leg.sell, leg.amountIn)} for at least ${tokens(market, leg.buy, leg.minOut)} is below the policy's slippage floor (${tokens(market, leg.buy, floor)} at the oracle's prices)`,
          );
        }
        debit(action.sell, action.amountIn, `swap of ${tokens(market, action.sell, action.amountIn)}`);
        setCollateral(action.buy, collateral[action.buy]! + action.minOut, at);
        const same = swaps.find((s) => s.sell === leg.sell && s.buy === leg.buy);
        if (same) {
          same.amountIn += leg.amountIn;
          same.minOut += leg.minOut;
        } else {
          if (swaps.length >= slots) {
            const pairs = [...swaps, leg].map((s) => `${assetSymbol(market, s.sell)} -> ${assetSymbol(market, s.buy)}`).join(", ");
            throw new RebalanceError(`${swaps.length + 1} distinct swaps (${pairs}) but a rebalance has ${slots} swap slots`);
          }
          swaps.push(leg);
        }
        break;
      }
      case "depositInstrument":
      case "withdrawInstrument": {
        checkIndex(action.instrument, nInstruments, "instrument", at);
        checkAmount(action.quantity, "quantity", at);
        const k = action.instrument;
        const q = quantities[k]!;
        const id = instrumentId(market, k);
        if (q < 0n) throw new RebalanceError(`${at}: ${id} is a written (short) position; option tokens back long holdings only`);
        if (action.kind === "depositInstrument") {
          if (q + action.quantity >= QUANTITY_OFFSET) throw new RebalanceError(`${at}: the quantity of ${id} would leave the commitment's range |q| < 2^95`);
          quantities[k] = q + action.quantity;
          m.instrumentFlows[k] = m.instrumentFlows[k]! + action.quantity;
        } else {
          if (action.quantity > q) throw new RebalanceError(`withdrawal of ${contracts(action.quantity)} of ${id} exceeds what this position holds (${contracts(q)})`);
          quantities[k] = q - action.quantity;
          m.instrumentFlows[k] = m.instrumentFlows[k]! - action.quantity;
        }
        break;
      }
      default: {
        const unknown: never = action;
        throw new RebalanceError(`action ${n + 1}: unknown kind ${JSON.stringify((unknown as { kind?: unknown }).kind)}`);
      }
    }
  });

  return {
    position: { ...position, nonce: position.nonce + 1n, collateral, debt, quantities },
    movements: { ...m, swaps },
  };
}

/** The movements alone of `actions`, from a position rich enough that no balance runs out. */
export function movementsOf(actions: readonly Action[], market: Market, options: ApplyOptions = {}): Movements {
  const big = MAX_AMOUNT / 2n;
  const start: Position = {
    version: 1,
    account: "0x0000000000000000000000000000000000000000",
    nonce: 0n,
    salt: undefined,
    collateral: market.assets.map(() => big),
    debt: market.assets.map(() => big),
    quantities: market.instruments.map(() => QUANTITY_OFFSET / 2n),
  };
  return applyActions(start, actions, market, options).movements;
}
