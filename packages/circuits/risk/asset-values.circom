pragma circom 2.1.9;

include "../lib/bounds.circom";
include "../lib/range-check.circom";

// AssetValues(nAssets): value(x) = x * p / 10^decimals in quote units, rounded against the
// position (risk-model.md, Arithmetic): collateral down, debt up.
//   collateralValue[i] = floor(collateral[i] * price[i] / scale[i])
//   debtValue[i]       = ceil (debt[i]       * price[i] / scale[i])
// Each quotient is a hint pinned by its remainder: 0 <= remainder < scale, and the quotient is
// range-checked below 2^80 (the value bound), so the division equation holds over the integers
// and has exactly one solution.
// Caller assumptions: collateral, debt < 2^96 (PositionCommitment checks them);
// price < 2^64 and scale a power of ten from 1 to 10^18 < 2^60 (AssetsDigest checks them).
template AssetValues(nAssets) {
    signal input collateral[nAssets];
    signal input debt[nAssets];
    signal input price[nAssets];
    signal input scale[nAssets];
    signal output collateralValue[nAssets];
    signal output debtValue[nAssets];

    signal collateralProduct[nAssets];
    signal debtProduct[nAssets];
    signal collateralRemainder[nAssets];
    signal debtRemainder[nAssets];
    component checks[nAssets][6];
    for (var i = 0; i < nAssets; i++) {
        collateralProduct[i] <== collateral[i] * price[i];
        collateralValue[i] <-- collateralProduct[i] \ scale[i];
        collateralRemainder[i] <== collateralProduct[i] - collateralValue[i] * scale[i];

        debtProduct[i] <== debt[i] * price[i];
        debtValue[i] <-- (debtProduct[i] + scale[i] - 1) \ scale[i];
        debtRemainder[i] <== debtValue[i] * scale[i] - debtProduct[i];

        // Pins both hints: quotients bounded, remainders in [0, scale).
        checks[i][0] = RangeCheck(VALUE_BITS());
        checks[i][0].in <== collateralValue[i];
        checks[i][1] = RangeCheck(SCALE_BITS());
        checks[i][1].in <== collateralRemainder[i];
        checks[i][2] = RangeCheck(SCALE_BITS());
        checks[i][2].in <== scale[i] - 1 - collateralRemainder[i];
        checks[i][3] = RangeCheck(VALUE_BITS());
        checks[i][3].in <== debtValue[i];
        checks[i][4] = RangeCheck(SCALE_BITS());
        checks[i][4].in <== debtRemainder[i];
        checks[i][5] = RangeCheck(SCALE_BITS());
        checks[i][5].in <== scale[i] - 1 - debtRemainder[i];
    }
}
