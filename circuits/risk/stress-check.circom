pragma circom 2.1.9;

include "../lib/bounds.circom";
include "../lib/range-check.circom";

// StressCheck(nScenarios, nAssets, nInstruments): risk-model.md section 2 as
// docs/risk-arithmetic.md section 4, with M = equity * 1e4 - minEquity * 1e12:
//   M >= 0   and   M >= weight[j] * loss[j]   for every scenario j
// which is E >= max(0, max_j w_j L_j) + minEquity without computing the max.
// Caller assumptions: |equity|, |loss[j]| < 2^LOSS_BITS (bounds.circom, for positions within the
// bounds table), weight <= 10^4, 0 <= minEquity < 2^100. Honest differences then fit in
// LOSS_BITS + 16 bits; a failing one wraps to about p and is rejected.
template StressCheck(nScenarios, nAssets, nInstruments) {
    signal input equity;
    signal input loss[nScenarios];
    signal input weight[nScenarios];
    signal input minEquity;

    var bits = LOSS_BITS(nAssets, nInstruments) + BPS_BITS() + 2;
    signal margin <== equity * 10000 - minEquity * 1000000000000;
    component solvent = RangeCheck(bits);
    solvent.in <== margin;

    signal weightedLoss[nScenarios];
    component covered[nScenarios];
    for (var j = 0; j < nScenarios; j++) {
        weightedLoss[j] <== weight[j] * loss[j];
        covered[j] = RangeCheck(bits);
        covered[j].in <== margin - weightedLoss[j];
    }
}
