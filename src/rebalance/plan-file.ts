/**
 * The plan file (`zks plan --out plan.json`, read back by `zks rebalance --plan plan.json`):
 * JSON with value-carrying numbers as exact decimal strings (formats.md), assets and
 * instruments by symbol / id. PRIVATE like position.json: it holds the new position and its salt.
 *
 *     {
 *       "version": 1,
 *       "kind": "zks-rebalance-plan",
 *       "strategy": "threshold" | "time" | "delta-neutral",
 *       "needed": true,                       false: the position is at its target, no actions
 *       "epoch": 42,                          the market epoch the plan was made under
 *       "account": "0x...", "nonce": "0",     the position the plan starts from
 *       "actions": [                          in execution order; amounts in whole tokens,
 *         { "kind": "deposit" | "withdraw" | "borrow" | "repay" | "repayWithCollateral",
 *           "asset": "USDC", "amount": "2000" },
 *         { "kind": "swap", "sell": "WETH", "sellAmount": "1.5", "buy": "USDC", "buyAmount": "4497.2" },
 *         { "kind": "hedge", "instrument": "ETH-26DEC26-3200-C", "side": "buy" | "sell",
 *           "quantity": "30", "asset": "WETH", "cash": "1.67" }
 *       ],
 *       "position": { ...position.json of the new position (nonce + 1) },
 *       "flows": { "USDC": "2000" },          signed public token flows, nonzero entries
 *       "legs": { "assetBought": {..}, "assetSold": {..}, "instrumentBought": {..}, "instrumentSold": {..} },
 *       "conservation": { "given", "gained", "lost", "traded": quote-currency decimals (exact), "valid" },
 *       "cost": { "slippage", "lost", "gasCost", "total": quote currency; "actions": [{ "action", "kind",
 *                 "gas", "gasCost", "slippage" }], "verificationGas", "totalGas", "gasPriceGwei",
 *                 "nativePrice" (or null) },
 *       "before", "after": the `zks check --json` objects,
 *       "explanation": [ "..." ],
 *       "nextRebalanceAt": 1764304800,        time strategy only (unix seconds)
 *       "delta": { "band", "before": {..}, "after": {..} }   delta-neutral only, quote currency
 *     }
 *
 * parsePlanFile checks the shape, resolves names against the market, refuses a plan made for
 * another epoch, recomputes flows and legs from the actions and compares them, and (given the
 * current position) that the actions lead exactly to the file's position.
 */
import { formatDecimal } from "../core/decimal.ts";
import { InputError } from "../core/errors.ts";
import { QUANTITY_DECIMALS } from "../core/fixed-point.ts";
import { Fields, NON_NEGATIVE } from "../inputs/fields.ts";
import { parsePosition } from "../inputs/parse-position.ts";
import { positionToJson } from "../inputs/position-file.ts";
import { describeValue } from "../inputs/schemas.ts";
import type { Market, Position } from "../inputs/types.ts";
import { riskReportJson } from "../model/check.ts";
import { applyActions, legsOf, RebalanceError, type Action, type TradeLegs } from "./actions.ts";
import { VALUE_DECIMALS } from "./conservation.ts";
import type { Plan, Strategy } from "./planner.ts";

export const PLAN_FILE_KIND = "zks-rebalance-plan";

type Json = Record<string, unknown>;

/** position.json of the new position (src/inputs/position-file.ts), with a nonce beyond 2^53 kept exact as a string. */
function newPositionJson(position: Position, market: Market): Json {
  const nonce = position.nonce <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(position.nonce) : position.nonce.toString();
  return { ...positionToJson(position, market), nonce };
}

/** An action by symbol / id with whole-token decimal strings. */
export function actionToJson(action: Action, market: Market): Json {
  const tokens = (i: number, units: bigint): string => formatDecimal(units, market.assets[i]!.decimals);
  switch (action.kind) {
    case "swap":
      return {
        kind: "swap",
        sell: market.assets[action.sell]!.symbol,
        sellAmount: tokens(action.sell, action.sellAmount),
        buy: market.assets[action.buy]!.symbol,
        buyAmount: tokens(action.buy, action.buyAmount),
      };
    case "hedge":
      return {
        kind: "hedge",
        instrument: market.instruments[action.instrument]!.id,
        side: action.side,
        quantity: formatDecimal(action.quantity, QUANTITY_DECIMALS),
        asset: market.assets[action.asset]!.symbol,
        cash: tokens(action.asset, action.cash),
      };
    default:
      return { kind: action.kind, asset: market.assets[action.asset]!.symbol, amount: tokens(action.asset, action.amount) };
  }
}

function nonzero(values: readonly bigint[], names: string[], decimals: (i: number) => number): Record<string, string> {
  const out: Record<string, string> = {};
  values.forEach((v, i) => {
    if (v !== 0n) out[names[i]!] = formatDecimal(v, decimals(i));
  });
  return out;
}

function legsToJson(legs: TradeLegs, market: Market): Json {
  const symbols = market.assets.map((a) => a.symbol);
  const ids = market.instruments.map((k) => k.id);
  const dec = (i: number): number => market.assets[i]!.decimals;
  return {
    assetBought: nonzero(legs.assetBought, symbols, dec),
    assetSold: nonzero(legs.assetSold, symbols, dec),
    instrumentBought: nonzero(legs.instrumentBought, ids, () => QUANTITY_DECIMALS),
    instrumentSold: nonzero(legs.instrumentSold, ids, () => QUANTITY_DECIMALS),
  };
}

/** The plan file object (see the module comment). */
export function planToJson(plan: Plan, market: Market): Json {
  const money = (v: bigint): string => formatDecimal(v, market.quote.decimals);
  const exact = (v: bigint): string => formatDecimal(v, market.quote.decimals + VALUE_DECIMALS);
  const symbols = market.assets.map((a) => a.symbol);
  const start = plan.needed ? plan.position.nonce - 1n : plan.position.nonce;
  const c = plan.conservation;
  return {
    version: 1,
    kind: PLAN_FILE_KIND,
    strategy: plan.strategy,
    needed: plan.needed,
    epoch: market.epoch,
    account: plan.position.account,
    nonce: start.toString(),
    actions: plan.actions.map((a) => actionToJson(a, market)),
    position: newPositionJson(plan.position, market),
    flows: nonzero(plan.flows, symbols, (i) => market.assets[i]!.decimals),
    legs: legsToJson(plan.legs, market),
    conservation: { given: exact(c.given), gained: exact(c.gained), lost: exact(c.lost), traded: exact(c.traded), valid: c.valid },
    cost: {
      slippage: money(plan.cost.slippage),
      lost: money(plan.cost.lost),
      actions: plan.cost.actions.map((a) => ({ action: a.action, kind: a.kind, gas: a.gas.toString(), gasCost: money(a.gasCost), slippage: money(a.slippage) })),
      verificationGas: plan.cost.verificationGas.toString(),
      totalGas: plan.cost.totalGas.toString(),
      gasPriceGwei: formatDecimal(plan.cost.gasPriceWei, 9),
      nativePrice: plan.cost.nativePrice === undefined ? null : money(plan.cost.nativePrice),
      gasCost: money(plan.cost.gasCost),
      total: money(plan.cost.total),
    },
    goal: { healthFactor: formatDecimal(plan.goal.healthFactor, 4), varHeadroom: formatDecimal(plan.goal.varHeadroom, 6) },
    before: riskReportJson(plan.before, market),
    after: riskReportJson(plan.after, market),
    explanation: plan.explanation,
    ...(plan.nextRebalanceAt !== undefined && { nextRebalanceAt: plan.nextRebalanceAt }),
    ...(plan.delta && {
      delta: {
        band: money(plan.delta.band),
        before: Object.fromEntries(plan.delta.assets.map((i) => [symbols[i]!, money(plan.delta!.before[i]!)])),
        after: Object.fromEntries(plan.delta.assets.map((i) => [symbols[i]!, money(plan.delta!.after[i]!)])),
      },
    }),
  };
}

export interface ParsedPlan {
  strategy: Strategy;
  needed: boolean;
  epoch: number;
  /** The position the plan starts from: its account and nonce. */
  account: string;
  nonce: bigint;
  actions: Action[];
  /** P', resolved against the market. */
  position: Position;
  flows: bigint[];
  legs: TradeLegs;
  explanation: string[];
  nextRebalanceAt?: number;
}

const isObject = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * Reads a plan file against `market` (the epoch the plan will be executed in). With `from`
 * (the current position), also checks the plan starts from it and its actions lead exactly to
 * the file's new position. Every problem is an InputError naming `source` and the field.
 */
export function parsePlanFile(json: unknown, source: string, market: Market, from?: Position): ParsedPlan {
  const at: Fields = new Fields(source);
  if (!isObject(json)) throw new InputError(source, "", `expected a JSON object, got ${describeValue(json)}`);
  if (json.version !== 1) at.fail("version", json.version === undefined ? "required field is missing" : `unsupported plan version ${describeValue(json.version)} (this toolkit reads version 1)`);
  if (json.kind !== PLAN_FILE_KIND) at.fail("kind", `expected "${PLAN_FILE_KIND}", got ${describeValue(json.kind)} (is this a plan file?)`);
  const strategy = json.strategy;
  if (strategy !== "threshold" && strategy !== "time" && strategy !== "delta-neutral") {
    at.fail("strategy", `expected "threshold", "time" or "delta-neutral", got ${describeValue(strategy)}`);
  }
  if (typeof json.needed !== "boolean") at.fail("needed", `expected true or false, got ${describeValue(json.needed)}`);
  if (typeof json.epoch !== "number" || !Number.isInteger(json.epoch)) at.fail("epoch", `expected an integer, got ${describeValue(json.epoch)}`);
  if (json.epoch !== market.epoch) {
    at.fail("epoch", `the plan was made for market epoch ${json.epoch} but the market is epoch ${market.epoch}; plan again with this market`);
  }
  if (typeof json.account !== "string") at.fail("account", `expected an address, got ${describeValue(json.account)}`);
  if (typeof json.nonce !== "string" || !/^\d+$/.test(json.nonce)) at.fail("nonce", `expected an integer string like "7", got ${describeValue(json.nonce)}`);
  const nonce = BigInt(json.nonce);

  const assets = new Map(market.assets.map((a, i) => [a.symbol, i]));
  const instruments = new Map(market.instruments.map((k, i) => [k.id, i]));
  const text = (field: string, v: unknown): string => {
    if (typeof v !== "string") at.fail(field, `expected a decimal string, got ${describeValue(v)}`);
    return v;
  };
  const asset = (field: string, v: unknown): number => at.lookup(field, text(field, v), assets, "asset");
  const amount = (field: string, v: unknown, i: number): bigint => at.decimal(field, text(field, v), market.assets[i]!.decimals, NON_NEGATIVE);

  if (!Array.isArray(json.actions)) at.fail("actions", `expected an array, got ${describeValue(json.actions)}`);
  const actions: Action[] = json.actions.map((raw: unknown, n: number): Action => {
    const f = `actions[${n}]`;
    if (!isObject(raw)) at.fail(f, `expected an object, got ${describeValue(raw)}`);
    switch (raw.kind) {
      case "deposit":
      case "withdraw":
      case "borrow":
      case "repay":
      case "repayWithCollateral": {
        const i = asset(`${f}.asset`, raw.asset);
        return { kind: raw.kind, asset: i, amount: amount(`${f}.amount`, raw.amount, i) };
      }
      case "swap": {
        const sell = asset(`${f}.sell`, raw.sell);
        const buy = asset(`${f}.buy`, raw.buy);
        return { kind: "swap", sell, sellAmount: amount(`${f}.sellAmount`, raw.sellAmount, sell), buy, buyAmount: amount(`${f}.buyAmount`, raw.buyAmount, buy) };
      }
      case "hedge": {
        const k = at.lookup(`${f}.instrument`, text(`${f}.instrument`, raw.instrument), instruments, "instrument");
        if (raw.side !== "buy" && raw.side !== "sell") at.fail(`${f}.side`, `expected "buy" or "sell", got ${describeValue(raw.side)}`);
        const i = asset(`${f}.asset`, raw.asset);
        return {
          kind: "hedge",
          instrument: k,
          side: raw.side,
          quantity: at.decimal(`${f}.quantity`, text(`${f}.quantity`, raw.quantity), QUANTITY_DECIMALS, NON_NEGATIVE),
          asset: i,
          cash: amount(`${f}.cash`, raw.cash, i),
        };
      }
      default:
        return at.fail(`${f}.kind`, `unknown action ${describeValue(raw.kind)} (deposit, withdraw, borrow, repay, repayWithCollateral, swap, hedge)`);
    }
  });

  let position: Position;
  try {
    position = parsePosition(json.position, source, market);
  } catch (error) {
    if (error instanceof InputError) throw new InputError(source, error.field ? `position.${error.field}` : "position", error.problem);
    throw error;
  }
  if (position.account.toLowerCase() !== json.account.toLowerCase()) {
    at.fail("position.account", `${position.account} is not the plan's account ${json.account}`);
  }
  const expectedNonce = json.needed ? nonce + 1n : nonce;
  if (position.nonce !== expectedNonce) at.fail("position.nonce", `${position.nonce}; the plan starts from nonce ${nonce}, so the new position must have nonce ${expectedNonce}`);
  if (!json.needed && actions.length > 0) at.fail("actions", "a plan that is not needed has no actions");

  let computed: ReturnType<typeof legsOf>;
  try {
    computed = legsOf(actions, market);
  } catch (error) {
    if (error instanceof RebalanceError) at.fail("actions", error.message);
    throw error;
  }
  const compare = (field: string, recorded: unknown, values: readonly bigint[], names: string[], decimals: (i: number) => number): void => {
    if (recorded === undefined) return;
    if (!isObject(recorded)) at.fail(field, `expected an object, got ${describeValue(recorded)}`);
    const index = new Map(names.map((name, i) => [name, i]));
    const file = new Array<bigint>(names.length).fill(0n);
    for (const [name, v] of Object.entries(recorded)) {
      const i = at.lookup(`${field}.${name}`, name, index, "name");
      file[i] = at.decimal(`${field}.${name}`, text(`${field}.${name}`, v), decimals(i));
    }
    values.forEach((v, i) => {
      if (file[i] !== v) at.fail(`${field}.${names[i]}`, `${formatDecimal(file[i]!, decimals(i))} does not match the actions (${formatDecimal(v, decimals(i))})`);
    });
  };
  const symbols = market.assets.map((a) => a.symbol);
  const ids = market.instruments.map((k) => k.id);
  const dec = (i: number): number => market.assets[i]!.decimals;
  compare("flows", json.flows, computed.flows, symbols, dec);
  if (json.legs !== undefined) {
    if (!isObject(json.legs)) at.fail("legs", `expected an object, got ${describeValue(json.legs)}`);
    compare("legs.assetBought", json.legs.assetBought, computed.assetBought, symbols, dec);
    compare("legs.assetSold", json.legs.assetSold, computed.assetSold, symbols, dec);
    compare("legs.instrumentBought", json.legs.instrumentBought, computed.instrumentBought, ids, () => QUANTITY_DECIMALS);
    compare("legs.instrumentSold", json.legs.instrumentSold, computed.instrumentSold, ids, () => QUANTITY_DECIMALS);
  }

  if (from) {
    if (from.account.toLowerCase() !== json.account.toLowerCase()) at.fail("account", `the plan is for ${json.account}, not for ${from.account}`);
    if (from.nonce !== nonce) at.fail("nonce", `the plan starts from nonce ${nonce} but the position is at nonce ${from.nonce} (stale plan?)`);
    if (json.needed) {
      let next: Position;
      try {
        next = applyActions(from, actions, market).position;
      } catch (error) {
        if (error instanceof RebalanceError) at.fail("actions", `cannot be applied to the current position: ${error.message}`);
        throw error;
      }
      const same = (a: readonly bigint[], b: readonly bigint[]): boolean => a.length === b.length && a.every((v, i) => v === b[i]);
      if (!same(next.collateral, position.collateral) || !same(next.debt, position.debt) || !same(next.quantities, position.quantities)) {
        at.fail("position", "does not follow from applying the plan's actions to the current position");
      }
    }
  }

  const explanation = Array.isArray(json.explanation) ? json.explanation.filter((l): l is string => typeof l === "string") : [];
  const next = json.nextRebalanceAt;
  if (next !== undefined && (typeof next !== "number" || !Number.isInteger(next))) at.fail("nextRebalanceAt", `expected an integer (unix seconds), got ${describeValue(next)}`);
  const { flows, ...legs } = computed;
  return {
    strategy,
    needed: json.needed,
    epoch: json.epoch,
    account: json.account,
    nonce,
    actions,
    position,
    flows,
    legs,
    explanation,
    ...(typeof next === "number" && { nextRebalanceAt: next }),
  };
}

