export { marketRoot } from "./market-root.ts";
export { commitPosition } from "./position-commitment.ts";
export { formatSalt, randomSalt } from "./salt.ts";
export { checkMarketFits, parseLayout, STANDARD_LAYOUT } from "./slot-layout.ts";
export { policyHash } from "./policy-hash.ts";
export { type CircuitLayout } from "./circuit-layout.ts";
