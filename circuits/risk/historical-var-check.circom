pragma circom 2.1.9;

include "../lib/bounds.circom";
include "../lib/range-check.circom";

// HistoricalVarCheck(nScenarios, nAssets, nInstruments): risk-model.md section 3 (historical
// simulation) as docs/risk-arithmetic.md section 5, without sorting:
//   e = floor((1e6 - confidence) * count / 1e6)            allowed exceptions
//   T = floor(equity * 1e6 / capitalMultiplier)             largest loss the equity covers
//   pass  <=>  equity >= 0  and  #{ j : loss[j] > T } <= e
// The prover marks exceptions with bits; a scenario not marked must satisfy loss[j] <= T, while
// marking one that does not exceed only uses up the allowance (it cannot help the prover).
// Padding scenarios have loss 0 <= T and never count.
// `enabled` (policy method bit) turns the whole check off: equity and T are then taken as 0.
// Caller assumptions: |equity|, |loss| < 2^LOSS_BITS; 0 < confidence < 1e6;
// 1e6 <= capitalMultiplier < 2^32 (a multiplier of at least 1); count < 2^16.
template HistoricalVarCheck(nScenarios, nAssets, nInstruments) {
    signal input enabled;
    signal input equity;
    signal input loss[nScenarios];
    signal input count;
    signal input confidence;
    signal input capitalMultiplier;

    var RATIO = 1000000;
    var equityBits = EQUITY_BITS(nAssets, nInstruments);
    enabled * (enabled - 1) === 0;

    component multiplierAtLeastOne = RangeCheck(RATIO_BITS());
    multiplierAtLeastOne.in <== capitalMultiplier - RATIO;

    signal activeEquity <== enabled * equity;
    component solvent = RangeCheck(equityBits);
    solvent.in <== activeEquity;

    // e, pinned by its remainder in [0, 1e6).
    signal tail <== (RATIO - confidence) * count;
    signal allowed <-- tail \ RATIO;
    component allowedChecks[3];
    allowedChecks[0] = RangeCheck(20);
    allowedChecks[0].in <== allowed;
    allowedChecks[1] = RangeCheck(20);
    allowedChecks[1].in <== tail - allowed * RATIO;
    allowedChecks[2] = RangeCheck(20);
    allowedChecks[2].in <== RATIO - 1 - (tail - allowed * RATIO);

    // T, pinned by its remainder in [0, capitalMultiplier); T <= equity since the multiplier >= 1.
    signal threshold <-- (activeEquity * RATIO) \ capitalMultiplier;
    signal thresholdRemainder <== activeEquity * RATIO - threshold * capitalMultiplier;
    component thresholdChecks[3];
    thresholdChecks[0] = RangeCheck(equityBits);
    thresholdChecks[0].in <== threshold;
    thresholdChecks[1] = RangeCheck(RATIO_BITS());
    thresholdChecks[1].in <== thresholdRemainder;
    thresholdChecks[2] = RangeCheck(RATIO_BITS());
    thresholdChecks[2].in <== capitalMultiplier - 1 - thresholdRemainder;

    var coverBits = LOSS_BITS(nAssets, nInstruments) + 1;
    signal exceeds[nScenarios];
    signal covered[nScenarios];
    component coveredChecks[nScenarios];
    var exceptions = 0;
    for (var j = 0; j < nScenarios; j++) {
        exceeds[j] <-- (loss[j] > threshold) ? 1 : 0;
        exceeds[j] * (exceeds[j] - 1) === 0;
        covered[j] <== (1 - exceeds[j]) * (threshold - loss[j]);
        coveredChecks[j] = RangeCheck(coverBits);
        coveredChecks[j].in <== covered[j];
        exceptions += exceeds[j];
    }
    component withinAllowance = RangeCheck(log2ceil(nScenarios + 1) + 20);
    withinAllowance.in <== enabled * (allowed - exceptions);
}
