/**
 * The plan file (`zks plan --out plan.json`, read back by `zks rebalance --plan plan.json`):
 * JSON with value-carrying numbers as exact decimal strings (formats.md), assets and
 * instruments by symbol / id. PRIVATE like position.json: it holds the new position and its salt.
 *
 *     {
 *       "version": 2,                         version 1 (internal swaps, hedges, trade legs) is refused
 *       "kind": "zks-rebalance-plan",
 *       "strategy": "threshold" | "time" | "delta-neutral" | "grid-hedge",
 *       "needed": true,                       false: the position is at its target, no actions
 *       "epoch": 42,                          the market epoch the plan was made under
 *       "account": "0x...", "nonce": "0",     the position the plan starts from
 *       "lenderIndex": { "USDC": "1.02" },    optional; the lender indices a borrow counted on (default 1)
 *       "actions": [                          in execution order; amounts in whole tokens,
 *         { "kind": "deposit" | "withdraw" | "borrow" | "repay" | "repayWithCollateral",
 *           "asset": "USDC", "amount": "2000" },
 *         { "kind": "swap", "sell": "WETH", "amountIn": "1.5", "buy": "USDC", "minOut": "4497.2" },
 *         { "kind": "depositInstrument" | "withdrawInstrument", "instrument": "ETH-26DEC26-3200-C", "quantity": "30" }
 *       ],
 *       "position": { ...position.json of the new position (nonce + 1) },
 *       "movements": {                        the public token movements (docs/custody.md), nonzero entries
 *         "flows": { "USDC": "2000" },        signed whole tokens: deposit +, withdrawal -
 *         "debtDelta": { "USDC": "-11619.047619" },   signed debt units (index-scaled), at the asset's decimals
 *         "debtAssets": { "USDC": "12200" },  whole tokens: a borrow's least delivery, a repayment's most charge
 *         "swaps": [ { "sell": "WETH", "buy": "USDC", "amountIn": "1.5", "minOut": "4497.2" } ],
 *         "instrumentFlows": { "ETH-26DEC26-3200-C": "-30" }   signed contracts
 *       },
 *       "values": { "sold", "bought", "lost": quote-currency decimals (exact) },
 *       "cost": { "slippage", "lost", "gasCost", "total": quote currency; "actions": [{ "action", "kind",
 *                 "gas", "gasCost", "slippage" }], "verificationGas", "totalGas", "gasPriceGwei",
 *                 "nativePrice" (or null) },
 *       "before", "after": the `zks check --json` objects,
 *       "explanation": [ "..." ],
 *       "nextRebalanceAt": 1764304800,        time strategy only (unix seconds)
 *       "delta": { "band", "before": {..}, "after": {..} }   delta-neutral only, quote currency
 *       "grid": { "band", "before", "after": { "worstLoss", "scenario", "vega"?, "gamma"? } }   grid-hedge only, quote currency
 *     }
 *
 * parsePlanFile checks the shape, resolves names against the market, refuses a plan made for
 * another epoch, recomputes the movements from the actions and compares them, and (given the
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
import { applyActions, movementsOf, RebalanceError, type Action, type ApplyOptions } from "./actions.ts";
import { VALUE_DECIMALS } from "./conservation.ts";
import { DEBT_INDEX_SCALE, type Movements } from "./transition.ts";
import type { GridExposures } from "./grid-hedge.ts";
import type { Plan, Strategy } from "./planner.ts";

export const PLAN_FILE_KIND = "zks-rebalance-plan";
/** The plan file format this toolkit writes and reads. */
export const PLAN_FILE_VERSION = 2;
const DEBT_INDEX_DECIMALS = 18;

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
        amountIn: tokens(action.sell, action.amountIn),
        buy: market.assets[action.buy]!.symbol,
        minOut: tokens(action.buy, action.minOut),
      };
    case "depositInstrument":
    case "withdrawInstrument":
      return { kind: action.kind, instrument: market.instruments[action.instrument]!.id, quantity: formatDecimal(action.quantity, QUANTITY_DECIMALS) };
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

/** The movements by symbol / id, nonzero entries, whole tokens (debt units at the asset's decimals). */
export function movementsToJson(m: Movements, market: Market): Json {
  const symbols = market.assets.map((a) => a.symbol);
  const ids = market.instruments.map((k) => k.id);
  const dec = (i: number): number => market.assets[i]!.decimals;
  return {
    flows: nonzero(m.flows, symbols, dec),
    debtDelta: nonzero(m.debtDelta, symbols, dec),
    debtAssets: nonzero(m.debtAssets, symbols, dec),
    swaps: m.swaps.map((s) => ({
      sell: symbols[s.sell],
      buy: symbols[s.buy],
      amountIn: formatDecimal(s.amountIn, dec(s.sell)),
      minOut: formatDecimal(s.minOut, dec(s.buy)),
    })),
    instrumentFlows: nonzero(m.instrumentFlows, ids, () => QUANTITY_DECIMALS),
  };
}

/** The plan file object (see the module comment). */
export function planToJson(plan: Plan, market: Market, options: Pick<ApplyOptions, "lenderIndex"> = {}): Json {
  const money = (v: bigint): string => formatDecimal(v, market.quote.decimals);
  const exact = (v: bigint): string => formatDecimal(v, market.quote.decimals + VALUE_DECIMALS);
  const symbols = market.assets.map((a) => a.symbol);
  const start = plan.needed ? plan.position.nonce - 1n : plan.position.nonce;
  const v = plan.values;
  const lenderIndex = nonzero(
    market.assets.map((_, i) => {
      const index = options.lenderIndex?.[i];
      return index === undefined || index === DEBT_INDEX_SCALE ? 0n : index;
    }),
    symbols,
    () => DEBT_INDEX_DECIMALS,
  );
  return {
    version: PLAN_FILE_VERSION,
    kind: PLAN_FILE_KIND,
    strategy: plan.strategy,
    needed: plan.needed,
    epoch: market.epoch,
    account: plan.position.account,
    nonce: start.toString(),
    ...(Object.keys(lenderIndex).length > 0 && { lenderIndex }),
    actions: plan.actions.map((a) => actionToJson(a, market)),
    position: newPositionJson(plan.position, market),
    movements: movementsToJson(plan.movements, market),
    values: { sold: exact(v.sold), bought: exact(v.bought), lost: exact(v.lost) },
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
    ...(plan.grid && {
      grid: {
        band: money(plan.grid.band),
        before: exposuresJson(plan.grid.before, money),
        after: exposuresJson(plan.grid.after, money),
      },
    }),
  };
}

/** A grid summary's exposures in the plan file, quote currency. */
function exposuresJson(x: GridExposures, money: (v: bigint) => string): Record<string, string> {
  return {
    worstLoss: money(x.worstLoss),
    scenario: x.scenario,
    ...(x.vega !== undefined && { vega: money(x.vega) }),
    ...(x.gamma !== undefined && { gamma: money(x.gamma) }),
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
  /** The movements of the actions (recomputed, and equal to the file's). */
  movements: Movements;
  /** The lender indices the plan's borrows counted on (per asset; undefined = 10^18). */
  lenderIndex: (bigint | undefined)[];
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
  if (json.version === 1) {
    at.fail("version", "plan version 1 was made for the old rebalance model (internal swaps, hedges and trade legs); plan again with `zks plan` (this toolkit reads version 2)");
  }
  if (json.version !== PLAN_FILE_VERSION) {
    at.fail(
      "version",
      json.version === undefined ? "required field is missing" : `unsupported plan version ${describeValue(json.version)} (this toolkit reads version ${PLAN_FILE_VERSION})`,
    );
  }
  if (json.kind !== PLAN_FILE_KIND) at.fail("kind", `expected "${PLAN_FILE_KIND}", got ${describeValue(json.kind)} (is this a plan file?)`);
  const strategy = json.strategy;
  if (strategy !== "threshold" && strategy !== "time" && strategy !== "delta-neutral" && strategy !== "grid-hedge") {
    at.fail("strategy", `expected "threshold", "time", "delta-neutral" or "grid-hedge", got ${describeValue(strategy)}`);
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
        return { kind: "swap", sell, amountIn: amount(`${f}.amountIn`, raw.amountIn, sell), buy, minOut: amount(`${f}.minOut`, raw.minOut, buy) };
      }
      case "depositInstrument":
      case "withdrawInstrument": {
        const k = at.lookup(`${f}.instrument`, text(`${f}.instrument`, raw.instrument), instruments, "instrument");
        return { kind: raw.kind, instrument: k, quantity: at.decimal(`${f}.quantity`, text(`${f}.quantity`, raw.quantity), QUANTITY_DECIMALS, NON_NEGATIVE) };
      }
      default:
        return at.fail(
          `${f}.kind`,
          raw.kind === "hedge"
            ? "hedge actions are gone (instrument trades have no venue in the custody model); plan again"
            : `unknown action ${describeValue(raw.kind)} (deposit, withdraw, borrow, repay, repayWithCollateral, swap, depositInstrument, withdrawInstrument)`,
        );
    }
  });

  const lenderIndex: (bigint | undefined)[] = market.assets.map(() => undefined);
  if (json.lenderIndex !== undefined) {
    if (!isObject(json.lenderIndex)) at.fail("lenderIndex", `expected an object of symbol -> index, got ${describeValue(json.lenderIndex)}`);
    for (const [name, v] of Object.entries(json.lenderIndex)) {
      const i = asset(`lenderIndex.${name}`, name);
      const index = at.decimal(`lenderIndex.${name}`, text(`lenderIndex.${name}`, v), DEBT_INDEX_DECIMALS, NON_NEGATIVE);
      if (index < DEBT_INDEX_SCALE) at.fail(`lenderIndex.${name}`, `"${String(v)}" is below 1; a lender's index is at least 1`);
      lenderIndex[i] = index;
    }
  }

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

  let computed: Movements;
  try {
    computed = movementsOf(actions, market, { lenderIndex });
  } catch (error) {
    if (error instanceof RebalanceError) at.fail("actions", error.message);
    throw error;
  }
  const compare = (field: string, recorded: unknown, values: readonly bigint[], names: string[], decimals: (i: number) => number): void => {
    if (recorded === undefined) recorded = {};
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
  const recorded = json.movements;
  if (!isObject(recorded)) at.fail("movements", recorded === undefined ? "required field is missing" : `expected an object, got ${describeValue(recorded)}`);
  compare("movements.flows", recorded.flows, computed.flows, symbols, dec);
  compare("movements.debtDelta", recorded.debtDelta, computed.debtDelta, symbols, dec);
  compare("movements.debtAssets", recorded.debtAssets, computed.debtAssets, symbols, dec);
  compare("movements.instrumentFlows", recorded.instrumentFlows, computed.instrumentFlows, ids, () => QUANTITY_DECIMALS);
  const swaps = recorded.swaps ?? [];
  if (!Array.isArray(swaps)) at.fail("movements.swaps", `expected an array, got ${describeValue(swaps)}`);
  if (swaps.length !== computed.swaps.length) at.fail("movements.swaps", `${swaps.length} swaps but the actions make ${computed.swaps.length}`);
  swaps.forEach((raw: unknown, n: number) => {
    const f = `movements.swaps[${n}]`;
    if (!isObject(raw)) at.fail(f, `expected an object, got ${describeValue(raw)}`);
    const want = computed.swaps[n]!;
    const sell = asset(`${f}.sell`, raw.sell);
    const buy = asset(`${f}.buy`, raw.buy);
    if (sell !== want.sell || buy !== want.buy) at.fail(f, `${symbols[sell]} -> ${symbols[buy]} does not match the actions (${symbols[want.sell]} -> ${symbols[want.buy]})`);
    if (amount(`${f}.amountIn`, raw.amountIn, sell) !== want.amountIn) at.fail(`${f}.amountIn`, `does not match the actions (${formatDecimal(want.amountIn, dec(sell))})`);
    if (amount(`${f}.minOut`, raw.minOut, buy) !== want.minOut) at.fail(`${f}.minOut`, `does not match the actions (${formatDecimal(want.minOut, dec(buy))})`);
  });

  if (from) {
    if (from.account.toLowerCase() !== json.account.toLowerCase()) at.fail("account", `the plan is for ${json.account}, not for ${from.account}`);
    if (from.nonce !== nonce) at.fail("nonce", `the plan starts from nonce ${nonce} but the position is at nonce ${from.nonce} (stale plan?)`);
    if (json.needed) {
      let next: Position;
      try {
        next = applyActions(from, actions, market, { lenderIndex }).position;
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
  return {
    strategy,
    needed: json.needed,
    epoch: json.epoch,
    account: json.account,
    nonce,
    actions,
    position,
    movements: computed,
    lenderIndex,
    explanation,
    ...(typeof next === "number" && { nextRebalanceAt: next }),
  };
}
