/**
 * What proofs make public about their private inputs: the position's Poseidon commitment and its
 * salt, the market's root, the policy's hash, and the slot layouts they are computed in.
 * Browser-safe.
 *
 * @module
 */
export { marketDigests, marketRoot, marketSignals, type MarketDigests, type MarketSignals } from "./market-root.ts";
export { commitmentWords, commitPosition, positionSignals, type PositionSignals } from "./position-commitment.ts";
export { poseidonChain } from "./poseidon-chain.ts";
export { formatSalt, randomSalt } from "./salt.ts";
export { checkMarketFits, parseLayout, STANDARD_LAYOUT, type SlotLayout } from "./slot-layout.ts";
export { policyHash, policySignals, type PolicySignals } from "./policy-hash.ts";
export { type CircuitLayout } from "./circuit-layout.ts";
