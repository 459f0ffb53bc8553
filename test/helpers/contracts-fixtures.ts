/**
 * Helpers of the gate-contract tests (test/contracts*.test.ts, test/custody.test.ts): custody
 * transitions (docs/custody.md), reading a revert's named custom error, gas arithmetic (the Groth16
 * minimum) and the Gas section of BENCHMARKS.md.
 */
import assert from "node:assert/strict";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { ErrorDescription, Interface } from "ethers";
import { revertData } from "../../packages/sdk/src/chain/calldata.ts";
import { borrowAssets, repayAssets } from "../../packages/sdk/src/chain/lender.ts";
import type { Position } from "../../packages/sdk/src/inputs/types.ts";
import { applyMovements, type LiquidationTerms, type Movements, type Transition } from "../../packages/sdk/src/rebalance/transition.ts";
import { PACKAGE_ROOT } from "../../packages/node/src/setup/paths.ts";
import type { GasSplit } from "./gas-trace.ts";

/** Slots of the test-tier instances solvency-3x3x16 and rebalance-3x3x16 (2 swap slots). */
export const LAYOUT = { nAssets: 3, nInstruments: 3, nScenarios: 16, nSwaps: 2 } as const;
export const [WETH, WBTC, USDC] = [0, 1, 2] as const;

/** `flows[asset] = amount` (deposit +, withdrawal -) on top of `m`. */
export function flow(m: Movements, asset: number, amount: bigint): Movements {
  m.flows[asset] = m.flows[asset]! + amount;
  return m;
}

/** A borrow of `units` debt units of `asset`, crediting what the lender delivers at `index` at least (floor). */
export function borrow(m: Movements, asset: number, units: bigint, index: bigint): Movements {
  m.debtDelta[asset] = units;
  m.debtAssets[asset] = borrowAssets(units, index);
  return m;
}

/** A repayment of `units` from collateral, debiting the most the lender takes at the proof's `index` (ceil). */
export function repay(m: Movements, asset: number, units: bigint, index: bigint): Movements {
  m.debtDelta[asset] = -units;
  m.debtAssets[asset] = repayAssets(units, index);
  return m;
}

/**
 * The transition old -> P' that `m` implies (P' at nonce + 1 with `salt`, a liquidation's bonus
 * taken out of its collateral); a registration when `old` is the empty position (nonce 0, salt 0),
 * unless told otherwise.
 */
export function transitionOf(
  old: Position,
  m: Movements,
  salt: bigint,
  options: { forced?: boolean; fromEmpty?: boolean; next?: Position; liquidation?: LiquidationTerms } = {},
): Transition {
  const liquidation = options.liquidation ? { liquidation: options.liquidation } : {};
  const next = options.next ?? { ...applyMovements(old, { ...m, ...liquidation }), salt };
  return { old, next, ...m, forced: options.forced ?? false, fromEmpty: options.fromEmpty ?? (old.nonce === 0n && old.salt === 0n), ...liquidation };
}

/**
 * Awaits `action`, which must revert with the custom error `name` of `iface` (and, if given,
 * exactly the arguments `args`).
 */
export async function revertsWith(action: Promise<unknown>, iface: Interface, name: string, args?: unknown[]): Promise<ErrorDescription> {
  let error: unknown;
  try {
    await action;
  } catch (caught) {
    error = caught;
  }
  assert.ok(error !== undefined, `expected a revert with ${name}, but the call succeeded`);
  const data = revertData(error);
  assert.ok(data, `expected a revert with ${name}, got ${error instanceof Error ? error.message : String(error)}`);
  const parsed = iface.parseError(data);
  assert.ok(parsed, `expected ${name}, got unknown revert data ${data}`);
  assert.equal(parsed.name, name);
  if (args) assert.deepEqual([...parsed.args], args, `${name} arguments`);
  return parsed;
}

/** Calldata gas of a transaction's data: 16 per non-zero byte, 4 per zero byte (EIP-2028). */
export function calldataGas(data: string): bigint {
  const bytes = Buffer.from(data.replace(/^0x/, ""), "hex");
  let gas = 0n;
  for (const byte of bytes) gas += byte === 0 ? 4n : 16n;
  return gas;
}

/** Gas of a transaction before execution (EIP-2028 calldata). */
export const TX_BASE_GAS = 21_000n;
/** ecPairing of 4 pairs (EIP-1108): 45,000 + 4 x 34,000. */
export const GROTH16_PAIRING_GAS = 181_000n;
/** ecMul (6,000) + ecAdd (150) per public signal, for the verifier's linear combination (EIP-1108). */
export const GROTH16_GAS_PER_SIGNAL = 6_150n;

/**
 * The least gas a transaction verifying one Groth16 proof with `signals` public signals can
 * cost: the base, its calldata and the precompiles alone.
 */
export const groth16MinimumGas = (signals: number, data: string): bigint => TX_BASE_GAS + calldataGas(data) + GROTH16_PAIRING_GAS + GROTH16_GAS_PER_SIGNAL * BigInt(signals);

export interface GasRow {
  call: string;
  signals: number;
  gasUsed: bigint;
  /** The Groth16 minimum for the same calldata and number of signals. */
  minimum: bigint;
  /** The call's execution split (test/helpers/gas-trace.ts); none for the bare verifiers. */
  split?: GasSplit;
  note: string;
}

/** The note of the rows that measure a generated verifier on its own. */
export const BARE_VERIFIER_NOTE = "the generated verifier alone";

const BEGIN = "<!-- gas:begin (written by test/contracts.test.ts with ZKS_BENCHMARKS=1) -->";
const END = "<!-- gas:end -->";

const formatGas = (gas: bigint): string => gas.toLocaleString("en-US");

/** The Markdown of the Gas section's table and its context. */
export function gasSection(rows: GasRow[], context: { instance: string; node: string; hardhat: string; solc: string; hardfork: string; date: string }): string {
  const lines = [
    BEGIN,
    "## Gas",
    "",
    `Measured by \`test/contracts.test.ts\` on hardhat's in-process network (EDR, hardfork ${context.hardfork}) with real proofs`,
    `of the \`${context.instance}\` instances against a real Uniswap v2 pair (\`@uniswap/v2-core\`'s published artifacts) and the`,
    `LenderVault (docs/custody.md); solc ${context.solc} (optimizer on, 1,000 runs), hardhat ${context.hardhat}, Node ${context.node},`,
    `${context.date}. Regenerate with \`npm run bench\` (or this test alone:`,
    "`ZKS_BENCHMARKS=1 npx mocha --no-config -n import=tsx --timeout 600000 test/contracts.test.ts`).",
    "",
    "The Groth16 minimum of a call is what verifying its proof cannot cost less than: 21,000 (transaction)",
    "+ its calldata (16 gas per non-zero byte, 4 per zero byte) + 181,000 (the 4-pair ecPairing) + 6,150 per",
    "public signal (one ecMul and one ecAdd each). The ratio is gas used over that minimum (the goal for a bare",
    "verification is at most 1.15x).",
    "",
    "A contract call's execution (gas used minus the 21,000 and the calldata, before refunds) splits, from",
    "`debug_traceTransaction` (test/helpers/gas-trace.ts, as benchmarks/custody-gas.json), into the verifier it",
    "calls, its other external calls (ERC-20 transfers, the v2 factory and pair, the LenderVault, the",
    "MarketOracle, the gate) and the contract's own work (checks, decoding, storage, events): the last column.",
    "Since docs/enforcement.md, a Rebalance proof has 18 more public signals (liquidation terms, the keeper key,",
    "the ephemeral key, the 7-element ciphertext): about 120,000 more gas in the verifier (6,150 per signal and",
    "its calldata); the gate's own work adds the keeper-key check, the account's key generation and the",
    "`OpeningEncrypted` event (about 16,000 per rebalance; a registration also creates two slots). A keeper's",
    "transition (forced, a liquidation) credits what it owes the owner (a repayment's leftover, a swap's excess) to",
    "`claimable` instead of transferring it, so a token that refuses the owner cannot block enforcement: two",
    "storage slots (the account's and the token's total, 22,100 gas each the first time) and a `ClaimableCredited` log,",
    "about 46,000 gas the first time, 10,000 after. `setKeeperKey` (governance, once per rotation) costs 457,368 gas:",
    "about 360,000 for the on-chain subgroup check, 44,200 for recording the key and its negation as used.",
    "",
    "| call | public signals | gas used | Groth16 minimum | ratio | verifier | external calls | contract's own | what it includes |",
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ...rows.map((r) => {
      const ratio = Number((r.gasUsed * 10_000n) / r.minimum) / 10_000;
      const [verifier, external, own] = r.split ? [r.split.verifier, r.split.external, r.split.own].map(formatGas) : ["", "", ""];
      return `| ${r.call} | ${r.signals} | ${formatGas(r.gasUsed)} | ${formatGas(r.minimum)} | ${ratio.toFixed(3)}x | ${verifier} | ${external} | ${own} | ${r.note} |`;
    }),
    END,
  ];
  return lines.join("\n");
}

/** Writes (or replaces) the Gas section of BENCHMARKS.md at the package root, leaving other sections alone. */
export function writeGasSection(section: string, file = path.join(PACKAGE_ROOT, "BENCHMARKS.md")): void {
  const current = existsSync(file) ? readFileSync(file, "utf8") : "# Benchmarks\n";
  const start = current.indexOf("<!-- gas:begin");
  const end = current.indexOf(END);
  const next = start >= 0 && end > start ? current.slice(0, start) + section + current.slice(end + END.length) : `${current.trimEnd()}\n\n${section}\n`;
  writeFileSync(file, next.endsWith("\n") ? next : `${next}\n`);
}
