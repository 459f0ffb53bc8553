pragma circom 2.1.9;

include "../lib/bounds.circom";
include "../lib/range-check.circom";

// HistoricalVarCheck(nScenarios, nAssets, nInstruments, equityProven): risk-model.md section 3 (historical
// simulation) as docs/risk-arithmetic.md section 5, without sorting:
//   e = floor((1e6 - confidence) * count / 1e6)            allowed exceptions
//   T = floor(equity * 1e6 / capitalMultiplier)             largest loss the equity covers
//   pass  <=>  equity >= 0  and  #{ j : loss[j] > T } <= e
// The prover marks exceptions with bits; a scenario not marked must satisfy loss[j] <= T, while
// marking one that does not exceed only uses up the allowance (it cannot help the prover).
// Padding scenarios (slots from count on) are checked like the others. The oracle publishes them
// as zeros (loss 0 <= T: never counted) and nothing here forces that, nor needs to: the market root
// commits them, and a nonzero padding row only adds a loss that must be covered or counted
// against the allowance e (which depends on count alone), so it can only make the check stricter.
// `enabled` (policy method bit) turns the whole check off: equity and T are then taken as 0.
// `equityProven` = 1 when the caller already proves equity >= 0 (StressCheck's margin
// E* * 1e4 - minEquity * 1e12 >= 0 with minEquity >= 0 implies it); the check is then not repeated.
// Caller assumptions: |equity| < EQUITY_BOUND, |loss| < LOSS_BOUND (bounds.circom); 0 < confidence < 1e6;
// 1e6 <= capitalMultiplier < 1e6 + 2^32 (Solvency: PolicyRanges, at most 1e9; AuditBatch: its policy ranges);
// 1 <= count <= nScenarios (ScenariosDigest checks it).
template HistoricalVarCheck(nScenarios, nAssets, nInstruments, equityProven) {
    signal input enabled;
    signal input equity;
    signal input loss[nScenarios];
    signal input count;
    signal input confidence;
    signal input capitalMultiplier;

    var RATIO = 1000000;
    var equityBits = EQUITY_BITS(nAssets, nInstruments);
    enabled * (enabled - 1) === 0;

    signal activeEquity <== enabled * equity;
    if (equityProven == 0) {
        component solvent = RangeCheck(equityBits);
        solvent.in <== activeEquity;
    }

    // e, pinned by its remainder in [0, 1e6) and by the allowance check below: with enabled = 1,
    // e - exceptions in [0, 2^25) makes e a small integer, and a small integer e with
    // e * 1e6 + remainder = tail (all far below p) is floor(tail / 1e6). (Another remainder r'
    // would give e' = e + (r - r') / 1e6 mod p, which is no small integer.) With enabled = 0,
    // e is used nowhere.
    signal tail <== (RATIO - confidence) * count;
    signal allowed <-- tail \ RATIO;
    component allowedRemainder = RemainderCheck(RATIO);
    allowedRemainder.in <== tail - allowed * RATIO;

    // T, pinned by its remainder in [0, capitalMultiplier) and by the cover checks below: for any
    // scenario not marked, T - loss[j] in [0, 2^coverBits) makes T a small integer (|loss| is far
    // below p), and a small integer T with T * capitalMultiplier + remainder = activeEquity * 1e6
    // is the floor quotient (another remainder r' gives T + (r - r') / capitalMultiplier mod p,
    // which is no small integer). If every scenario is marked, T is used nowhere.
    // T <= equity since the multiplier >= 1.
    signal threshold <-- (activeEquity * RATIO) \ capitalMultiplier;
    signal thresholdRemainder <== activeEquity * RATIO - threshold * capitalMultiplier;
    component thresholdChecks[2];
    thresholdChecks[0] = RangeCheck(RATIO_BITS());
    thresholdChecks[0].in <== thresholdRemainder;
    thresholdChecks[1] = RangeCheck(RATIO_BITS());
    thresholdChecks[1].in <== capitalMultiplier - 1 - thresholdRemainder;

    var coverBits = COVER_BITS(nAssets, nInstruments);
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
