/**
 * The files of `zks execution schedule` (docs/execution.md, "Files"):
 *
 *   commitment.json  PUBLIC, published before the window opens (to the gate's watchers, an
 *                    auditor): { version: 1, kind: "zks-execution-commitment", seedCommitment,
 *                    account, nonce, window: { start, seconds, slices }, instance }.
 *                    seedCommitment = Poseidon(seed, salt, planHash) binds the plan's totals and
 *                    pairs; the file says neither, nor any slice's time or size.
 *   seed.json        PRIVATE: { version: 1, kind: "zks-execution-seed", seed, salt, plan: { swaps:
 *                    [{ sell, buy, amountIn }] } (asset indices, base units), seedCommitment }:
 *                    everything a slice proof needs. Whoever holds it knows every slice's time
 *                    and size in advance.
 *   schedule.json    PRIVATE: every slice's time, offset, draw, amounts and actions (what the seed
 *                    draws, written out for the executor), and the plan's swaps.
 *
 * Field elements are 0x hex (64 digits). In schedule.json amounts are whole-token decimal strings
 * and assets symbols; in seed.json the committed plan is exact (base units, asset indices).
 */
import { formatDecimal } from "../core/decimal.ts";
import { InputError } from "../core/errors.ts";
import type { Market } from "../inputs/types.ts";
import { actionToJson } from "../rebalance/plan-file.ts";
import type { SwapLeg } from "../rebalance/transition.ts";
import {
  checkExecutionWindow,
  MAX_SCHEDULE_AMOUNT,
  paddedPlan,
  parseSecretField,
  SCHEDULE_SLICE_INSTANCE,
  scheduleCommitment,
  ScheduleError,
  type ScheduleSecret,
  type ScheduleSwap,
  type ScheduleWindow,
} from "./schedule.ts";
import type { SlicedPlan } from "./slices.ts";

export const COMMITMENT_FILE_KIND = "zks-execution-commitment";
export const SEED_FILE_KIND = "zks-execution-seed";
export const SCHEDULE_FILE_KIND = "zks-execution-schedule";
const VERSION = 1;

type Json = Record<string, unknown>;

const hex = (x: bigint): string => `0x${x.toString(16).padStart(64, "0")}`;

/** What commitment.json publishes. */
export interface PublishedCommitment {
  seedCommitment: bigint;
  account: string;
  /** The nonce of the position the first slice starts from. */
  nonce: bigint;
  window: ScheduleWindow;
  /** Always SCHEDULE_SLICE_INSTANCE (parseCommitmentFile refuses any other name). */
  instance: typeof SCHEDULE_SLICE_INSTANCE;
}

/** What seed.json holds: the secret and the committed plan, checked against the commitment it records. */
export interface SeedFile {
  secret: ScheduleSecret;
  plan: ScheduleSwap[];
  seedCommitment: bigint;
}

export interface ScheduleFiles {
  commitment: Json;
  seed: Json;
  schedule: Json;
}

/** The three files' objects for a sliced plan of `account`'s position at `nonce`. */
export function scheduleFiles(sliced: SlicedPlan, secret: ScheduleSecret, context: { account: string; nonce: bigint; market: Market }): ScheduleFiles {
  const { market } = context;
  const { schedule } = sliced;
  const symbol = (i: number): string => market.assets[i]!.symbol;
  const tokens = (i: number, units: bigint): string => formatDecimal(units, market.assets[i]!.decimals);
  const swapJson = (s: SwapLeg) => ({ sell: symbol(s.sell), buy: symbol(s.buy), amountIn: tokens(s.sell, s.amountIn), minOut: tokens(s.buy, s.minOut) });
  const window = { start: schedule.window.start, seconds: schedule.window.seconds, slices: schedule.window.slices };
  return {
    commitment: {
      version: VERSION,
      kind: COMMITMENT_FILE_KIND,
      seedCommitment: hex(schedule.seedCommitment),
      account: context.account,
      nonce: context.nonce.toString(),
      window,
      instance: SCHEDULE_SLICE_INSTANCE,
    },
    seed: {
      version: VERSION,
      kind: SEED_FILE_KIND,
      seed: hex(secret.seed),
      salt: hex(secret.salt),
      plan: { swaps: schedule.swaps.map((s) => ({ sell: s.sell, buy: s.buy, amountIn: s.amountIn.toString() })) },
      seedCommitment: hex(schedule.seedCommitment),
    },
    schedule: {
      version: VERSION,
      kind: SCHEDULE_FILE_KIND,
      seedCommitment: hex(schedule.seedCommitment),
      account: context.account,
      nonce: context.nonce.toString(),
      epoch: market.epoch,
      window: { ...window, spacingSeconds: schedule.spacingSeconds },
      rounding:
        "slice k (the k-th in time) gets floor(a * W_{k+1} / W) - floor(a * W_k / W) of every amount a of the plan (W_k: the weights before slice k; a swap's amountIn included), so the slices sum exactly to each; a swap's minOut is split by ceilings the same way, then raised to the policy's slippage floor where the rounding left it below",
      plan: { swaps: sliced.planSwaps.map(swapJson) },
      slices: sliced.steps.map((step) => ({
        index: step.index,
        time: step.time,
        offset: step.offset,
        draw: step.draw,
        weight: step.weight.toString(),
        swaps: step.swaps.map(swapJson),
        actions: step.actions.map((a) => actionToJson(a, market)),
      })),
    },
  };
}

const isObject = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);

function expectKind(json: unknown, source: string, kind: string): Json {
  if (!isObject(json)) throw new InputError(source, "", "expected a JSON object");
  if (json.kind !== kind) throw new InputError(source, "kind", `expected "${kind}", got ${JSON.stringify(json.kind) ?? "nothing"}`);
  if (json.version !== VERSION) throw new InputError(source, "version", `unsupported version ${JSON.stringify(json.version) ?? "(missing)"} (this toolkit reads ${VERSION})`);
  return json;
}

/** seed.json's committed plan: 1 to 2 swaps { sell, buy, amountIn } (asset indices, base units as a decimal string). */
function parsePlanSwaps(file: Json, source: string): ScheduleSwap[] {
  if (!isObject(file.plan) || !Array.isArray(file.plan.swaps)) throw new InputError(source, "plan.swaps", "expected the committed plan's swaps [{ sell, buy, amountIn }]");
  const swaps = file.plan.swaps.map((raw: unknown, i: number): ScheduleSwap => {
    const field = `plan.swaps[${i}]`;
    if (!isObject(raw)) throw new InputError(source, field, "expected { sell, buy, amountIn }");
    if (!Number.isInteger(raw.sell) || !Number.isInteger(raw.buy)) throw new InputError(source, field, "sell and buy must be asset indices");
    if (typeof raw.amountIn !== "string" || !/^\d{1,29}$/.test(raw.amountIn)) throw new InputError(source, `${field}.amountIn`, "expected base units as a decimal string");
    const amountIn = BigInt(raw.amountIn);
    if (amountIn > MAX_SCHEDULE_AMOUNT) throw new InputError(source, `${field}.amountIn`, "is not below 2^96");
    return { sell: raw.sell as number, buy: raw.buy as number, amountIn };
  });
  try {
    paddedPlan(swaps);
  } catch (error) {
    if (error instanceof ScheduleError) throw new InputError(source, "plan.swaps", error.message);
    throw error;
  }
  return swaps;
}

/** seed.json: the secret and the committed plan, checked against the commitment it records. InputError (exit 2) naming the field. */
export function parseSeedFile(json: unknown, source: string): SeedFile {
  const file = expectKind(json, source, SEED_FILE_KIND);
  const secret = { seed: parseSecretField(source, "seed", file.seed), salt: parseSecretField(source, "salt", file.salt) };
  const plan = parsePlanSwaps(file, source);
  const recorded = parseSecretField(source, "seedCommitment", file.seedCommitment);
  let computed: bigint;
  try {
    computed = scheduleCommitment(secret, plan);
  } catch (error) {
    if (error instanceof ScheduleError) throw new InputError(source, "salt", error.message);
    throw error;
  }
  if (computed !== recorded) throw new InputError(source, "seedCommitment", "is not Poseidon(seed, salt, planHash) of this file's seed, salt and plan");
  return { secret, plan, seedCommitment: recorded };
}

/** commitment.json. InputError (exit 2) naming the field. */
export function parseCommitmentFile(json: unknown, source: string): PublishedCommitment {
  const file = expectKind(json, source, COMMITMENT_FILE_KIND);
  const seedCommitment = parseSecretField(source, "seedCommitment", file.seedCommitment);
  if (typeof file.account !== "string" || !/^0x[0-9a-fA-F]{40}$/.test(file.account)) throw new InputError(source, "account", "expected a 0x address");
  if (typeof file.nonce !== "string" || !/^\d{1,20}$/.test(file.nonce)) throw new InputError(source, "nonce", 'expected an integer string like "7"');
  if (!isObject(file.window)) throw new InputError(source, "window", "expected { start, seconds, slices }");
  const window = { start: file.window.start, seconds: file.window.seconds, slices: file.window.slices } as ScheduleWindow;
  for (const field of ["start", "seconds", "slices"] as const) {
    if (typeof window[field] !== "number") throw new InputError(source, `window.${field}`, "expected an integer");
  }
  try {
    checkExecutionWindow(window);
  } catch (error) {
    if (error instanceof ScheduleError) throw new InputError(source, "window", error.message);
    throw error;
  }
  // The verifier proves and checks with its own key of the one instance it knows; a name the
  // owner's file supplies is never used to load a key.
  if (file.instance !== SCHEDULE_SLICE_INSTANCE)
    throw new InputError(source, "instance", `expected "${SCHEDULE_SLICE_INSTANCE}", got ${JSON.stringify(file.instance) ?? "nothing"}`);
  return { seedCommitment, account: file.account, nonce: BigInt(file.nonce), window, instance: SCHEDULE_SLICE_INSTANCE };
}
