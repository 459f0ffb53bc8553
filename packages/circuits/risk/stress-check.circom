pragma circom 2.1.9;

include "../lib/bounds.circom";
include "../lib/range-check.circom";

// StressCheck(nScenarios, nAssets, nInstruments): risk-model.md section 2 as
// docs/risk-arithmetic.md section 4, with M = equity * 1e4 - minEquity * 1e12:
//   M >= 0   and   M >= weight[j] * loss[j]   for every scenario j
// which is E >= max(0, max_j w_j L_j) + minEquity without computing the max.
// `enabled` = 0 turns the check off (the audit batch skips positions it counts as failing);
// Solvency sets it to the constant 1, which the optimiser folds away.
// Caller assumptions: |equity| < EQUITY_BOUND, |loss[j]| < LOSS_BOUND (bounds.circom, for positions
// within the bounds table), weight <= 10^4, 0 <= minEquity < 2^100. Honest margins then fit in
// MARGIN_BITS and honest differences in STRESS_BITS; a failing one is a negative integer (below
// 2^180 in magnitude even outside the table, with the commitment's ranges) that wraps to about p,
// so it is rejected.
template StressCheck(nScenarios, nAssets, nInstruments) {
    signal input equity;
    signal input loss[nScenarios];
    signal input weight[nScenarios];
    signal input minEquity;
    signal input enabled;

    var bits = STRESS_BITS(nAssets, nInstruments);
    signal margin <== enabled * (equity * 10000 - minEquity * 1000000000000);
    component solvent = RangeCheck(MARGIN_BITS(nAssets, nInstruments));
    solvent.in <== margin;

    signal weightedLoss[nScenarios];
    signal activeLoss[nScenarios];
    component covered[nScenarios];
    for (var j = 0; j < nScenarios; j++) {
        weightedLoss[j] <== weight[j] * loss[j];
        activeLoss[j] <== enabled * weightedLoss[j];
        covered[j] = RangeCheck(bits);
        covered[j].in <== margin - activeLoss[j];
    }
}
