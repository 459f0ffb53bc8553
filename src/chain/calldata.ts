import { Interface, type ErrorDescription } from "ethers";
import { SNARK_FIELD } from "../core/field.ts";
import type { ZkProof } from "../prover/prove.ts";
import { toSolidityProof } from "../verifier/calldata.ts";
import { AUDIT_REGISTRY_ABI, MARKET_ORACLE_ABI, REBALANCE_GATE_ABI } from "./abi.ts";

/** The `Groth16Proof` struct of contracts/libraries/Groth16.sol. */
export interface GateProof {
  a: [bigint, bigint];
  b: [[bigint, bigint], [bigint, bigint]];
  c: [bigint, bigint];
}

/** The arguments after `epoch` of `register`, `rebalance` and `recordClaim`. */
export interface GateArguments {
  proof: GateProof;
  signals: bigint[];
}

/** Positions of the Solvency public signals (contracts/libraries/PublicSignals.sol). */
export const SOLVENCY_SIGNAL = { commitment: 0, marketRoot: 1, policyHash: 2, account: 3, nonce: 4, context: 5 } as const;
export const SOLVENCY_SIGNAL_COUNT = 6;

/** Positions of the Rebalance public signals; flow[i] is at `flow + i`. */
export const REBALANCE_SIGNAL = { oldCommitment: 0, newCommitment: 1, marketRoot: 2, policyHash: 3, account: 4, nonce: 5, context: 6, forced: 7, flow: 8 } as const;
export const rebalanceSignalCount = (nAssets: number): number => REBALANCE_SIGNAL.flow + nAssets;

/** snarkjs' proof and public signals as the gate contracts take them. */
export function gateArguments(zkProof: ZkProof): GateArguments {
  const { a, b, c, input } = toSolidityProof(zkProof);
  return { proof: { a, b, c }, signals: input };
}

const gate = new Interface(REBALANCE_GATE_ABI);
const registry = new Interface(AUDIT_REGISTRY_ABI);
const oracle = new Interface(MARKET_ORACLE_ABI);

/** Calldata of `RebalanceGate.register(epoch, proof, signals)` for a Solvency proof made with the gate's context. */
export function encodeRegister(epoch: bigint | number, zkProof: ZkProof): string {
  const { proof, signals } = gateArguments(zkProof);
  return gate.encodeFunctionData("register", [epoch, proof, signals]);
}

/** Calldata of `RebalanceGate.rebalance(epoch, proof, signals)` for a Rebalance proof made with the gate's context. */
export function encodeRebalance(epoch: bigint | number, zkProof: ZkProof): string {
  const { proof, signals } = gateArguments(zkProof);
  return gate.encodeFunctionData("rebalance", [epoch, proof, signals]);
}

/** Calldata of `AuditRegistry.recordClaim(epoch, proof, signals)` for a Solvency proof made with the registry's context. */
export function encodeRecordClaim(epoch: bigint | number, zkProof: ZkProof): string {
  const { proof, signals } = gateArguments(zkProof);
  return registry.encodeFunctionData("recordClaim", [epoch, proof, signals]);
}

/** Calldata of `MarketOracle.publish(epoch, marketRoot, timestamp)`. */
export function encodePublish(epoch: bigint | number, marketRoot: bigint, timestamp: bigint | number): string {
  return oracle.encodeFunctionData("publish", [epoch, marketRoot, timestamp]);
}

/**
 * The signed token flows of a Rebalance proof's public signals, decoded as the gate does: a field
 * element above (p - 1) / 2 stands for the negative `x - p`. Positive flows are pulled from the
 * account (approve the gate first), negative ones paid to it.
 */
export function rebalanceFlows(signals: readonly (bigint | string)[], nAssets: number): bigint[] {
  if (signals.length !== rebalanceSignalCount(nAssets)) {
    throw new RangeError(`a Rebalance proof with ${nAssets} asset slots has ${rebalanceSignalCount(nAssets)} public signals, got ${signals.length}`);
  }
  return signals.slice(REBALANCE_SIGNAL.flow).map((signal) => {
    const x = BigInt(signal);
    return x > SNARK_FIELD / 2n ? x - SNARK_FIELD : x;
  });
}

/** The named custom error in a revert's data from any of the gate contracts, or null if none matches. */
export function parseGateError(data: string): ErrorDescription | null {
  for (const iface of [gate, registry, oracle]) {
    const parsed = iface.parseError(data);
    if (parsed) return parsed;
  }
  return null;
}

/** The revert data of a failed call or transaction, wherever ethers or hardhat put it. */
export function revertData(error: unknown): string | undefined {
  const seen = new Set<unknown>();
  const walk = (value: unknown): string | undefined => {
    if (value === null || typeof value !== "object" || seen.has(value)) return undefined;
    seen.add(value);
    const record = value as Record<string, unknown>;
    if (typeof record.data === "string" && /^0x[0-9a-fA-F]{8}/.test(record.data)) return record.data;
    for (const key of ["error", "info", "cause", "data"]) {
      const found = walk(record[key]);
      if (found) return found;
    }
    return undefined;
  };
  return walk(error);
}
