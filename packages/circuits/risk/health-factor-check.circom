pragma circom 2.1.9;

include "../lib/bounds.circom";
include "../lib/range-check.circom";

// HealthFactorCheck(nAssets): risk-model.md section 1, exactly as docs/risk-arithmetic.md:
//   sum_i collateralValue[i] * threshold[i]  >=  minHealthFactor * sum_i debtValue[i]
// No division: with no debt the right side is 0 and the check passes, as in Aave.
// `enabled` = 0 turns the check off (the audit batch skips positions it counts as failing);
// Solvency sets it to the constant 1, which the optimiser folds away.
// Caller assumptions: values < 2^80 (AssetValues), threshold < 2^14 (AssetsDigest checks it),
// minHealthFactor < 2^20 (policy). The difference is then below nAssets * 2^80 * 1e4 (HEALTH_BITS)
// when the check holds, and wraps far above 2^HEALTH_BITS when it does not.
template HealthFactorCheck(nAssets) {
    signal input collateralValue[nAssets];
    signal input debtValue[nAssets];
    signal input threshold[nAssets];
    signal input minHealthFactor;
    signal input enabled;

    signal weighted[nAssets];
    var numerator = 0;
    var denominator = 0;
    for (var i = 0; i < nAssets; i++) {
        weighted[i] <== collateralValue[i] * threshold[i];
        numerator += weighted[i];
        denominator += debtValue[i];
    }
    signal required <== minHealthFactor * denominator;
    component holds = RangeCheck(HEALTH_BITS(nAssets));
    holds.in <== enabled * (numerator - required);
}
