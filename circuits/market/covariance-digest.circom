pragma circom 2.1.9;

include "../lib/poseidon-chain.circom";

// CovarianceDigest(nAssets): the covariance section of the market root:
//   horizonDays, then the upper triangle of the daily covariance matrix row by row
//   (i <= j, at 12 decimals, signed, field-encoded). Symmetry is by construction: the
//   lower triangle is never an input.
// Mirrored by src/commitment/market-root.ts.
template CovarianceDigest(nAssets) {
    var nUpper = nAssets * (nAssets + 1) \ 2;
    signal input horizonDays;
    signal input upper[nUpper];
    signal output out;

    component digest = PoseidonChain(1 + nUpper);
    digest.in[0] <== horizonDays;
    for (var u = 0; u < nUpper; u++) {
        digest.in[1 + u] <== upper[u];
    }
    out <== digest.out;
}
