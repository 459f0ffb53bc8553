pragma circom 2.1.9;

include "../lib/bounds.circom";
include "../lib/pack.circom";
include "../lib/poseidon-chain.circom";

// AssetsDigest(nAssets): the assets section of the market root:
//   per slot i, in order:
//     symbol[i]     the symbol's bytes as a big-endian integer (src/commitment/market-root.ts)
//     scale[i]      10^decimals of the token (1 in padding slots)
//     price[i]      quote units per whole token
//   then the liquidation thresholds (4 decimals, <= 1e4) packed 16 per word in 14-bit slots:
//     threshold[16w + u] * 2^(14u)
// Mirrored by src/commitment/market-root.ts. Each threshold is range-checked below 2^14 here, so
// the words determine the thresholds the statements use. Otherwise no constraint beyond the
// hash: the oracle publishes these values within the bounds of docs/risk-arithmetic.md.
template AssetsDigest(nAssets) {
    signal input symbol[nAssets];
    signal input scale[nAssets];
    signal input price[nAssets];
    signal input threshold[nAssets];
    signal output out;

    var THRESHOLDS_PER_WORD = 16;
    var nWords = (nAssets + THRESHOLDS_PER_WORD - 1) \ THRESHOLDS_PER_WORD;
    component thresholds = PackWords(nAssets, BPS_BITS(), THRESHOLDS_PER_WORD, 0, 1);
    thresholds.in <== threshold;

    component digest = PoseidonChain(3 * nAssets + nWords);
    for (var i = 0; i < nAssets; i++) {
        digest.in[3 * i] <== symbol[i];
        digest.in[3 * i + 1] <== scale[i];
        digest.in[3 * i + 2] <== price[i];
    }
    for (var w = 0; w < nWords; w++) {
        digest.in[3 * nAssets + w] <== thresholds.out[w];
    }
    out <== digest.out;
}
