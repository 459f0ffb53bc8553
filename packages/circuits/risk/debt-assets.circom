pragma circom 2.1.9;

include "../lib/bounds.circom";
include "../lib/range-check.circom";

// DebtAssets(nAssets): debt committed in index-scaled units (Aave's scaled balances, docs/custody.md)
// valued in base units of the asset, rounded against the position (risk-model.md, Arithmetic):
//   debtAssets[i] = ceil(debt[i] * debtIndex[i] / 10^18)
// The quotient is a hint pinned by its remainder: 0 <= debtAssets * 10^18 - debt * debtIndex < 10^18
// and debtAssets < 2^96, so the division equation holds over the integers (every term is below
// 2^160) and has exactly one solution. The 96-bit bound is also what AssetValues assumes of the
// debt it values: a position whose indexed debt reaches 2^96 base units cannot be proven.
// Caller assumptions: debt < 2^96 (PositionCommitment checks it); 10^18 <= debtIndex < 2^64
// (AssetsDigest checks it; the market root binds it).
template DebtAssets(nAssets) {
    signal input debt[nAssets];
    signal input debtIndex[nAssets];
    signal output debtAssets[nAssets];

    var INDEX_SCALE = DEBT_INDEX_SCALE();
    signal product[nAssets];
    signal remainder[nAssets];
    component quotientRange[nAssets];
    component remainderRange[nAssets];
    for (var i = 0; i < nAssets; i++) {
        product[i] <== debt[i] * debtIndex[i];
        debtAssets[i] <-- (product[i] + INDEX_SCALE - 1) \ INDEX_SCALE;
        remainder[i] <== debtAssets[i] * INDEX_SCALE - product[i];

        // Pins the hint: quotient bounded, remainder in [0, 10^18).
        quotientRange[i] = RangeCheck(DEBT_ASSETS_BITS());
        quotientRange[i].in <== debtAssets[i];
        remainderRange[i] = RemainderCheck(INDEX_SCALE);
        remainderRange[i].in <== remainder[i];
    }
}
