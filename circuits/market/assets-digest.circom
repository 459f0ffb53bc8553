pragma circom 2.1.9;

include "../lib/bounds.circom";
include "../lib/pack.circom";
include "../lib/poseidon-chain.circom";
include "../lib/range-check.circom";

// AssetsDigest(nAssets): the assets section of the market root:
//   per slot i, in order:
//     symbol[i]     the symbol's bytes as a big-endian integer (src/commitment/market-root.ts)
//     scale[i]      10^decimals of the token (1 in padding slots)
//     price[i]      quote units per whole token
//   then the liquidation thresholds (4 decimals, <= 1e4) packed 16 per word in 14-bit slots:
//     threshold[16w + u] * 2^(14u)
//   then the debt indices (18 decimals, 10^18 in padding slots) packed 3 per word in 64-bit slots:
//     debtIndex[3w + u] * 2^(64u)
// Mirrored by src/commitment/market-root.ts. Each threshold is range-checked below 2^14 and each
// debt index in [10^18, 2^64) here, so the words determine the values the statements use, and a
// debt index can only value debt at or above its units (DebtAssets relies on both bounds).
// Otherwise no constraint beyond the hash: the oracle publishes these values within the bounds
// of docs/risk-arithmetic.md.
template AssetsDigest(nAssets) {
    signal input symbol[nAssets];
    signal input scale[nAssets];
    signal input price[nAssets];
    signal input threshold[nAssets];
    signal input debtIndex[nAssets];
    signal output out;

    var THRESHOLDS_PER_WORD = 16;
    var nThresholdWords = (nAssets + THRESHOLDS_PER_WORD - 1) \ THRESHOLDS_PER_WORD;
    component thresholds = PackWords(nAssets, BPS_BITS(), THRESHOLDS_PER_WORD, 0, 1);
    thresholds.in <== threshold;

    // The packing's 64-bit range check is the index's upper bound; the lower bound is checked on
    // its own (an index below 1 would let a proof understate debt).
    var INDICES_PER_WORD = 3;
    var nIndexWords = (nAssets + INDICES_PER_WORD - 1) \ INDICES_PER_WORD;
    component indices = PackWords(nAssets, DEBT_INDEX_BITS(), INDICES_PER_WORD, 0, 1);
    indices.in <== debtIndex;
    component atLeastOne[nAssets];
    for (var i = 0; i < nAssets; i++) {
        atLeastOne[i] = RangeCheck(DEBT_INDEX_BITS());
        atLeastOne[i].in <== debtIndex[i] - DEBT_INDEX_SCALE();
    }

    component digest = PoseidonChain(3 * nAssets + nThresholdWords + nIndexWords);
    for (var i = 0; i < nAssets; i++) {
        digest.in[3 * i] <== symbol[i];
        digest.in[3 * i + 1] <== scale[i];
        digest.in[3 * i + 2] <== price[i];
    }
    for (var w = 0; w < nThresholdWords; w++) {
        digest.in[3 * nAssets + w] <== thresholds.out[w];
    }
    for (var w = 0; w < nIndexWords; w++) {
        digest.in[3 * nAssets + nThresholdWords + w] <== indices.out[w];
    }
    out <== digest.out;
}
