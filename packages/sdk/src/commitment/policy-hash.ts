import { poseidon8 } from "poseidon-lite";
import type { Policy, VarMethod } from "../inputs/types.ts";
import { scaledQuantile } from "../model/normal-quantile.ts";

/** The policy as packages/circuits/policy/policy-hash.circom hashes it. */
export interface PolicySignals {
  minHealthFactor: bigint;
  triggerHealthFactor: bigint;
  minEquity: bigint;
  /** Bit 0: historical VaR, bit 1: parametric VaR. */
  varMethod: bigint;
  confidence: bigint;
  capitalMultiplier: bigint;
  /** ceil(z * 1e8) + 1: fixed with the policy because a circuit cannot compute a quantile. */
  quantileZ: bigint;
  maxSlippage: bigint;
}

const METHOD_BITS: Record<VarMethod, bigint> = { historical: 1n, parametric: 2n, both: 3n };

export function policySignals(policy: Policy): PolicySignals {
  return {
    minHealthFactor: policy.minHealthFactor,
    triggerHealthFactor: policy.trigger.healthFactor,
    minEquity: policy.stress.minEquity,
    varMethod: METHOD_BITS[policy.var.method],
    confidence: policy.var.confidence,
    capitalMultiplier: policy.var.capitalMultiplier,
    quantileZ: scaledQuantile(policy.var.confidence),
    maxSlippage: policy.maxSlippage,
  };
}

/** policyHash: what governance sets on the gate contracts. */
export function policyHash(policy: Policy): bigint {
  const p = policySignals(policy);
  return poseidon8([p.minHealthFactor, p.triggerHealthFactor, p.minEquity, p.varMethod, p.confidence, p.capitalMultiplier, p.quantileZ, p.maxSlippage]);
}
