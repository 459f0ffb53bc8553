pragma circom 2.1.9;

include "../lib/bounds.circom";
include "../lib/pack.circom";
include "../lib/poseidon-chain.circom";
include "../lib/range-check.circom";

// AssetsDigest(nAssets): the assets section of the market root:
//   symbol[0..nAssets-1]  each symbol's bytes as a big-endian integer (src/commitment/market-root.ts)
//   then the decimals (scale = 10^decimals, 0 in padding slots) packed 50 per word in 5-bit slots:
//     decimals[50w + u] * 2^(5u)
//   then the prices (quote units per whole token, < 2^64; 0 in padding slots) packed 3 per word in
//     64-bit slots: price[3w + u] * 2^(64u)
//   then the liquidation thresholds (4 decimals, <= 1e4) packed 16 per word in 14-bit slots:
//     threshold[16w + u] * 2^(14u)
//   then the debt indices (18 decimals, 10^18 in padding slots) packed 3 per word in 64-bit slots:
//     debtIndex[3w + u] * 2^(64u)
// Mirrored by src/commitment/market-root.ts.
//
// Every value a statement computes with is range-checked here, once per circuit (the audit batch
// instantiates this once for all its leaves), so the words determine the values and no statement
// assumes a bound of the oracle (docs/risk-arithmetic.md, "Bounds"):
//   scale      an exact power of ten, 10^0 .. 10^18 (a one-hot selector over the 19 powers), so
//              AssetValues divides by a nonzero scale below 2^60 and Rebalance's 10^18 / scale is
//              an integer; the hashed decimals are the selector's index, below 19 by construction
//   price      [0, 2^64): AssetValues, ParametricVarCheck and Rebalance's unit values rely on it
//   threshold  [0, 10^4] (the slot's 14 bits and 10^4 - threshold in [0, 2^14)): the health
//              factor and the keeper trigger weigh collateral by it, so a threshold above 1 would
//              inflate both (16,383 would pass a health factor 1.64 times the true one)
//   debtIndex  [10^18, 2^64): an index below 1 would let a proof understate debt (DebtAssets)
template AssetsDigest(nAssets) {
    signal input symbol[nAssets];
    signal input scale[nAssets];
    signal input price[nAssets];
    signal input threshold[nAssets];
    signal input debtIndex[nAssets];
    signal output out;

    // scale[i] = 10^decimals[i]: power[i][d] is a hint pinned as the one-hot vector of the
    // exponent (bits, exactly one set, and the set one's power of ten is the scale). A scale that
    // is no power of ten up to 10^18 (0, 3, 10^19, a field element) has no such vector.
    var POWERS = MAX_DECIMALS() + 1;
    signal power[nAssets][POWERS];
    signal decimals[nAssets];
    for (var i = 0; i < nAssets; i++) {
        var ones = 0;
        var value = 0;
        var exponent = 0;
        for (var d = 0; d < POWERS; d++) {
            power[i][d] <-- scale[i] == 10 ** d ? 1 : 0;
            power[i][d] * (power[i][d] - 1) === 0;
            ones += power[i][d];
            value += power[i][d] * (10 ** d);
            exponent += power[i][d] * d;
        }
        ones === 1;
        value === scale[i];
        decimals[i] <== exponent;
    }
    // Below 19 < 2^5 by the selector: no range check of their own (check = 0).
    var DECIMALS_PER_WORD = 50;
    var nDecimalWords = (nAssets + DECIMALS_PER_WORD - 1) \ DECIMALS_PER_WORD;
    component decimalWords = PackWords(nAssets, 5, DECIMALS_PER_WORD, 0, 0);
    decimalWords.in <== decimals;

    var PRICES_PER_WORD = 3;
    var nPriceWords = (nAssets + PRICES_PER_WORD - 1) \ PRICES_PER_WORD;
    component prices = PackWords(nAssets, PRICE_BITS(), PRICES_PER_WORD, 0, 1);
    prices.in <== price;

    var THRESHOLDS_PER_WORD = 16;
    var nThresholdWords = (nAssets + THRESHOLDS_PER_WORD - 1) \ THRESHOLDS_PER_WORD;
    component thresholds = PackWords(nAssets, BPS_BITS(), THRESHOLDS_PER_WORD, 0, 1);
    thresholds.in <== threshold;
    // The slot's range check is the lower bound (>= 0); the upper bound 10^4 on its own.
    component atMostOne[nAssets];
    for (var i = 0; i < nAssets; i++) {
        atMostOne[i] = RangeCheck(BPS_BITS());
        atMostOne[i].in <== BPS_ONE() - threshold[i];
    }

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

    var nWords = nDecimalWords + nPriceWords + nThresholdWords + nIndexWords;
    component digest = PoseidonChain(nAssets + nWords);
    for (var i = 0; i < nAssets; i++) {
        digest.in[i] <== symbol[i];
    }
    var at = nAssets;
    for (var w = 0; w < nDecimalWords; w++) {
        digest.in[at + w] <== decimalWords.out[w];
    }
    at += nDecimalWords;
    for (var w = 0; w < nPriceWords; w++) {
        digest.in[at + w] <== prices.out[w];
    }
    at += nPriceWords;
    for (var w = 0; w < nThresholdWords; w++) {
        digest.in[at + w] <== thresholds.out[w];
    }
    at += nThresholdWords;
    for (var w = 0; w < nIndexWords; w++) {
        digest.in[at + w] <== indices.out[w];
    }
    out <== digest.out;
}
