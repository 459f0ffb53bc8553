/**
 * Splits a gate transaction's gas with debug_traceTransaction (struct logs): the gate's own work,
 * the verifier it calls and every other external call (tokens, Uniswap v2 factory and pairs,
 * LenderVaults, MarketOracle). Shared by test/custody.test.ts (ClearTransitionVerifier) and
 * test/contracts.test.ts (the generated Groth16 verifier).
 */
import type { TransactionReceipt } from "ethers";

interface StructLog {
  op: string;
  gas: number;
  gasCost: number;
  depth: number;
  stack?: string[];
}

export interface GasSplit {
  gasUsed: bigint;
  /** Gas of the first opcode minus gas left after the called contract's last opcode (no intrinsic 21,000, calldata or refunds). */
  execution: bigint;
  /** The calls to the verifier. */
  verifier: bigint;
  /** Every other call the contract makes (ERC-20 tokens, v2 factory and pairs, lenders, oracle, gate). */
  external: bigint;
  /** execution - verifier - external. */
  own: bigint;
}

/** How {@link splitGas} measures, for the files that record its figures. */
export const GAS_SPLIT_METHOD =
  "debug_traceTransaction struct logs: execution = gas of the first opcode minus gas left after the called contract's last opcode (excludes the 21,000 intrinsic + calldata gas and refunds); every CALL/STATICCALL the contract makes at depth 1 is charged the gas between that opcode and its next opcode (its access cost, the callee's execution); calls to the verifier are 'verifier', all others (ERC-20 tokens, Uniswap v2 factory and pairs, LenderVaults, MarketOracle, the gate) 'externalCalls'; gateOwn = execution - verifier - externalCalls.";

/**
 * Splits `receipt`'s execution gas: every CALL / STATICCALL / DELEGATECALL the called contract makes
 * at depth 1 costs the gas between that opcode and the contract's next opcode (the call's access
 * cost, the callee's execution, the memory it returns); calls to `verifier` are "verifier", all
 * others "external"; own = execution - verifier - external.
 */
export async function splitGas(provider: { send(method: string, params: unknown[]): Promise<unknown> }, receipt: TransactionReceipt, verifier: string): Promise<GasSplit> {
  const trace = (await provider.send("debug_traceTransaction", [receipt.hash, { enableMemory: false, enableReturnData: false }])) as { structLogs: StructLog[] };
  const logs = trace.structLogs;
  const verifierAddress = verifier.toLowerCase();
  const first = logs[0]!;
  const last = [...logs].reverse().find((l) => l.depth === 1)!;
  const execution = BigInt(first.gas - (last.gas - last.gasCost));
  let verifierGas = 0n;
  let externalGas = 0n;
  for (let j = 0; j < logs.length; j++) {
    const l = logs[j]!;
    if (l.depth !== 1 || !["CALL", "STATICCALL", "DELEGATECALL", "CALLCODE"].includes(l.op)) continue;
    let k = j + 1;
    while (k < logs.length && logs[k]!.depth !== 1) k++;
    const cost = BigInt(l.gas - logs[k]!.gas);
    const target = `0x${BigInt(l.stack![l.stack!.length - 2]!)
      .toString(16)
      .padStart(40, "0")}`;
    if (target === verifierAddress) verifierGas += cost;
    else externalGas += cost;
  }
  return { gasUsed: receipt.gasUsed, execution, verifier: verifierGas, external: externalGas, own: execution - verifierGas - externalGas };
}
