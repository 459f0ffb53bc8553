pragma circom 2.1.9;

include "circomlib/circuits/poseidon.circom";

// PolicyHash(): what the chain knows of the governance policy (risk-model.md, "Policy"):
//   Poseidon(minHealthFactor, triggerHealthFactor, minEquity, varMethod, confidence,
//            capitalMultiplier, quantileZ, maxSlippage)
// varMethod: 1 historical, 2 parametric, 3 both (bit 0: historical, bit 1: parametric).
// quantileZ = ceil(z_confidence * 1e8) + 1, fixed by governance with the policy (circuits
// cannot compute a normal quantile). Scales: docs/risk-arithmetic.md.
// Mirrored by src/commitment/policy-hash.ts.
template PolicyHash() {
    signal input minHealthFactor;
    signal input triggerHealthFactor;
    signal input minEquity;
    signal input varMethod;
    signal input confidence;
    signal input capitalMultiplier;
    signal input quantileZ;
    signal input maxSlippage;
    signal output out;

    component hash = Poseidon(8);
    hash.inputs[0] <== minHealthFactor;
    hash.inputs[1] <== triggerHealthFactor;
    hash.inputs[2] <== minEquity;
    hash.inputs[3] <== varMethod;
    hash.inputs[4] <== confidence;
    hash.inputs[5] <== capitalMultiplier;
    hash.inputs[6] <== quantileZ;
    hash.inputs[7] <== maxSlippage;
    out <== hash.out;
}
