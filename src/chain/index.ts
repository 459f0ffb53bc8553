/**
 * The chain side of the SDK (browser-safe): the proof context, calldata of the gate contracts and
 * their ABI fragments.
 */
export { gateContext, CONTEXT_SHIFT } from "./context.ts";
export {
  gateArguments,
  encodeRegister,
  encodeRebalance,
  encodeRecordClaim,
  encodePublish,
  rebalanceFlows,
  parseGateError,
  revertData,
  rebalanceSignalCount,
  SOLVENCY_SIGNAL,
  SOLVENCY_SIGNAL_COUNT,
  REBALANCE_SIGNAL,
  type GateArguments,
  type GateProof,
} from "./calldata.ts";
export { MARKET_ORACLE_ABI, REBALANCE_GATE_ABI, AUDIT_REGISTRY_ABI, ERC20_ABI } from "./abi.ts";
