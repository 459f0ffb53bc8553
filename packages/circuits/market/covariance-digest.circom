pragma circom 2.1.9;

include "../lib/bounds.circom";
include "../lib/pack.circom";
include "../lib/poseidon-chain.circom";
include "../lib/range-check.circom";

// CovarianceDigest(nAssets): the covariance section of the market root:
//   horizonDays, then the upper triangle of the daily covariance matrix row by row (i <= j, at 12
//   decimals, |c| < 2^40) packed 6 per word in 41-bit slots with offset 2^40:
//     (upper[6w + u] + 2^40) * 2^(41u)
//   Symmetry is by construction: the lower triangle is never an input.
// Mirrored by src/commitment/market-root.ts.
//
// Range-checked here, once per circuit (docs/risk-arithmetic.md, "Bounds"): 1 <= horizonDays <= 1023
// (a horizon of 0 would make every parametric VaR 0) and every entry's slot, so the words determine
// the entries ParametricVarCheck's quadratic form uses and keep it far below p.
template CovarianceDigest(nAssets) {
    var nUpper = nAssets * (nAssets + 1) \ 2;
    signal input horizonDays;
    signal input upper[nUpper];
    signal output out;

    // horizonDays - 1 and 1023 - horizonDays in [0, 2^10): horizonDays in [1, 1023].
    var HORIZON_MAX = (1 << HORIZON_BITS()) - 1;
    component horizonRanges[2];
    horizonRanges[0] = RangeCheck(HORIZON_BITS());
    horizonRanges[0].in <== horizonDays - 1;
    horizonRanges[1] = RangeCheck(HORIZON_BITS());
    horizonRanges[1].in <== HORIZON_MAX - horizonDays;

    var ENTRIES_PER_WORD = 6;
    var nWords = (nUpper + ENTRIES_PER_WORD - 1) \ ENTRIES_PER_WORD;
    component entries = PackWords(nUpper, COVARIANCE_BITS() + 1, ENTRIES_PER_WORD, 1 << COVARIANCE_BITS(), 1);
    entries.in <== upper;

    component digest = PoseidonChain(1 + nWords);
    digest.in[0] <== horizonDays;
    for (var w = 0; w < nWords; w++) {
        digest.in[1 + w] <== entries.out[w];
    }
    out <== digest.out;
}
