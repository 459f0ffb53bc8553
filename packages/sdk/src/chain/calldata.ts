import { Interface, type ErrorDescription } from "ethers";
import type { ZkProof } from "../prover/prove.ts";
import { toSolidityProof } from "../verifier/calldata.ts";
import { AUDIT_REGISTRY_ABI, MARKET_ORACLE_ABI, REBALANCE_GATE_ABI } from "./abi.ts";

/** The `Groth16Proof` struct of packages/contracts/contracts/libraries/Groth16.sol. */
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

/**
 * Positions of the Solvency public signals, generated from packages/circuits/instances.json with
 * packages/contracts/contracts/libraries/PublicSignals.sol's. The Rebalance public signals' positions depend on the
 * instance's sizes: `custodyLayout` (./custody.ts).
 */
export { SOLVENCY_SIGNAL, SOLVENCY_SIGNAL_COUNT } from "../core/signals.generated.ts";

/** snarkjs' proof and public signals as the gate contracts take them. */
export function gateArguments(zkProof: ZkProof): GateArguments {
  const { a, b, c, input } = toSolidityProof(zkProof);
  return { proof: { a, b, c }, signals: input };
}

const gate = new Interface(REBALANCE_GATE_ABI);
const registry = new Interface(AUDIT_REGISTRY_ABI);
const oracle = new Interface(MARKET_ORACLE_ABI);

/** Calldata of `RebalanceGate.register(epoch, proof, signals)` for a Rebalance proof from the empty position (fromEmpty = 1) made with the gate's context. */
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
