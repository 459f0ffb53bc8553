pragma circom 2.1.9;

include "../lib/poseidon-chain.circom";

// AssetsDigest(nAssets): the assets section of the market root. Per slot i, in order:
//   symbol[i]     the symbol's bytes as a big-endian integer (src/commitment/market-root.ts)
//   scale[i]      10^decimals of the token (1 in padding slots)
//   price[i]      quote units per whole token
//   threshold[i]  liquidation threshold at 4 decimals
// Mirrored by src/commitment/market-root.ts. No constraint beyond the hash: the oracle
// publishes these values within the bounds of docs/risk-arithmetic.md.
template AssetsDigest(nAssets) {
    signal input symbol[nAssets];
    signal input scale[nAssets];
    signal input price[nAssets];
    signal input threshold[nAssets];
    signal output out;

    component digest = PoseidonChain(4 * nAssets);
    for (var i = 0; i < nAssets; i++) {
        digest.in[4 * i] <== symbol[i];
        digest.in[4 * i + 1] <== scale[i];
        digest.in[4 * i + 2] <== price[i];
        digest.in[4 * i + 3] <== threshold[i];
    }
    out <== digest.out;
}
