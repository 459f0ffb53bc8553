/**
 * The chain side of the SDK (browser-safe): the proof context, calldata of the gate contracts and
 * their ABI fragments, the Rebalance signals as the gate reads them, the Uniswap v2 pools and the
 * lender vault custody uses.
 *
 * @module
 */
export { gateContext, CONTEXT_SHIFT } from "./context.ts";
export {
  gateArguments,
  encodeRegister,
  encodeRebalance,
  encodeRecordClaim,
  encodePublish,
  parseGateError,
  revertData,
  SOLVENCY_SIGNAL,
  SOLVENCY_SIGNAL_COUNT,
  type GateArguments,
  type GateProof,
} from "./calldata.ts";
export { MARKET_ORACLE_ABI, REBALANCE_GATE_ABI, AUDIT_REGISTRY_ABI, ERC20_ABI, gateEnforcement } from "./abi.ts";
export {
  ciphertextLength,
  custodyLayout,
  custodySizesOf,
  decodeTransition,
  fromFieldSigned,
  rebalanceFlows,
  toFieldSigned,
  type CustodyLayout,
  type CustodySizes,
  type DecodedTransition,
} from "./custody.ts";
export type { RebalanceSignalLayout } from "../core/signals.generated.ts";
export {
  createPair,
  getPair,
  addLiquidity,
  reservesOf,
  quoteAmountOut,
  getAmountOut,
  UNISWAP_V2_FACTORY_ABI,
  UNISWAP_V2_PAIR_ABI,
  V2_FEE_NUMERATOR,
  V2_FEE_DENOMINATOR,
  arbitrageSwap,
} from "./uniswap-v2.ts";
export { LENDER_VAULT_ABI, INDEX_ONE, borrowAssets, repayAssets, projectIndex } from "./lender.ts";
export { formatAmount, readGateSetup, unbackedMovements, type GateSetup, type GateToken } from "./preflight.ts";
