pragma circom 2.1.9;

include "./bounds.circom";
include "./range-check.circom";

// PolicyRanges(): the policy values a statement computes with, range-checked to exactly the
// bounds the policy parser enforces (src/inputs/parse-policy.ts; docs/risk-arithmetic.md,
// "Bounds"), so the circuit proves nothing under a policy no policy file could state:
//   minHealthFactor     (0, 100] at 1e4:   1 <= v <= 10^6
//   minEquity           [0, 2^80) quote units (scaled by 1e12 in stress: must not wrap)
//   capitalMultiplier   [1, 1000] at 1e6:  10^6 <= v <= 10^9 (VaR checks rely on >= 1; the
//                       historical VaR remainder checks on < 2^RATIO_BITS)
//   confidence          (0, 1) at 1e6:     1 <= v <= 999,999
//   quantileZ           [0, 2^30) at 1e8   (z < 10.7: fixed with the policy, which hashes it)
// Instantiated once per circuit, whatever it checks: an out-of-range value must not make a
// comparison trivial.
template PolicyRanges() {
    signal input minHealthFactor;
    signal input minEquity;
    signal input capitalMultiplier;
    signal input confidence;
    signal input quantileZ;

    component healthFactor = InRange(20, 1, MAX_HEALTH_FACTOR());
    healthFactor.in <== minHealthFactor;
    component equity = RangeCheck(VALUE_BITS());
    equity.in <== minEquity;
    component multiplier = InRange(30, RATIO_ONE(), MAX_CAPITAL_MULTIPLIER());
    multiplier.in <== capitalMultiplier;
    component level = InRange(20, 1, RATIO_ONE() - 1);
    level.in <== confidence;
    component z = RangeCheck(30);
    z.in <== quantileZ;
}
