/**
 * Helpers of the gate-contract tests (test/contracts*.test.ts): rebalance transitions, reading a
 * revert's named custom error, gas arithmetic (the Groth16 minimum) and the Gas section of
 * BENCHMARKS.md.
 */
import assert from "node:assert/strict";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { Interface } from "ethers";
import type { Position } from "../../src/inputs/types.ts";
import type { RebalanceTransition } from "../../src/prover/witness/rebalance.ts";
import { PACKAGE_ROOT } from "../../src/setup/paths.ts";
import { revertData } from "../../src/chain/calldata.ts";

/** Slots of the test-tier instances solvency-3x3x16 and rebalance-3x3x16. */
export const LAYOUT = { nAssets: 3, nInstruments: 3, nScenarios: 16 } as const;
export const [WETH, WBTC, USDC] = [0, 1, 2] as const;

/** A transition with no flows or trades, to edit (the new position at nonce + 1 with another salt). */
export function still(old: Position, saltDelta = 7n): RebalanceTransition {
  return {
    old,
    next: { ...old, nonce: old.nonce + 1n, salt: old.salt! + saltDelta, collateral: [...old.collateral], debt: [...old.debt], quantities: [...old.quantities] },
    flows: old.collateral.map(() => 0n),
    assetBought: old.collateral.map(() => 0n),
    assetSold: old.collateral.map(() => 0n),
    instrumentBought: old.quantities.map(() => 0n),
    instrumentSold: old.quantities.map(() => 0n),
    forced: false,
  };
}

/** `deposit(asset, a)` of docs/rebalance.md: collateral up, flow +a (wallet -> gate). */
export function deposit(t: RebalanceTransition, asset: number, amount: bigint): RebalanceTransition {
  t.next.collateral[asset]! += amount;
  t.flows[asset]! += amount;
  return t;
}

/** `withdraw(asset, a)`: collateral down, flow -a (gate -> wallet). */
export function withdraw(t: RebalanceTransition, asset: number, amount: bigint): RebalanceTransition {
  t.next.collateral[asset]! -= amount;
  t.flows[asset]! -= amount;
  return t;
}

/** `repayWithCollateral(asset, a)`: collateral and debt down by a, no flow. */
export function repayWithCollateral(t: RebalanceTransition, asset: number, amount: bigint): RebalanceTransition {
  t.next.collateral[asset]! -= amount;
  t.next.debt[asset]! -= amount;
  return t;
}


/**
 * Awaits `action`, which must revert with the custom error `name` of `iface` (and, if given,
 * exactly the arguments `args`).
 */
export async function revertsWith(action: Promise<unknown>, iface: Interface, name: string, args?: unknown[]): Promise<void> {
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
export const groth16MinimumGas = (signals: number, data: string): bigint =>
  TX_BASE_GAS + calldataGas(data) + GROTH16_PAIRING_GAS + GROTH16_GAS_PER_SIGNAL * BigInt(signals);

export interface GasRow {
  call: string;
  signals: number;
  gasUsed: bigint;
  /** The Groth16 minimum for the same calldata and number of signals. */
  minimum: bigint;
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
    `of the \`${context.instance}\` instances; solc ${context.solc} (optimizer on, 1,000 runs), hardhat ${context.hardhat},`,
    `Node ${context.node}, ${context.date}. Regenerate with`,
    "`npm run bench` (or this test alone: `ZKS_BENCHMARKS=1 npx mocha --no-config -n import=tsx --timeout 600000 test/contracts.test.ts`).",
    "",
    "The Groth16 minimum of a call is what verifying its proof cannot cost less than: 21,000 (transaction)",
    "+ its calldata (16 gas per non-zero byte, 4 per zero byte) + 181,000 (the 4-pair ecPairing) + 6,150 per",
    "public signal (one ecMul and one ecAdd each). The gate calls add the contracts' own checks (the oracle",
    "call, context, policy, field checks), their storage writes and, for rebalances, the ERC-20 transfers.",
    "",
    "The ratio is gas used over that minimum (the goal for a bare verification is at most 1.15x). A gate call's",
    "own work (checks, storage, transfers) is the last column: its gas minus the bare verifier's for the same",
    "number of public signals.",
    "",
    "| call | public signals | gas used | Groth16 minimum | ratio | on top of the bare verifier | what it includes |",
    "| --- | ---: | ---: | ---: | ---: | ---: | --- |",
    ...rows.map((r) => {
      const ratio = Number((r.gasUsed * 10_000n) / r.minimum) / 10_000;
      const bare = rows.find((b) => b.note === BARE_VERIFIER_NOTE && b.signals === r.signals);
      const onTop = r.note === BARE_VERIFIER_NOTE || !bare ? "" : formatGas(r.gasUsed - bare.gasUsed);
      return `| ${r.call} | ${r.signals} | ${formatGas(r.gasUsed)} | ${formatGas(r.minimum)} | ${ratio.toFixed(3)}x | ${onTop} | ${r.note} |`;
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
  const next =
    start >= 0 && end > start ? current.slice(0, start) + section + current.slice(end + END.length) : `${current.trimEnd()}\n\n${section}\n`;
  writeFileSync(file, next.endsWith("\n") ? next : `${next}\n`);
}
