pragma circom 2.1.9;

include "../lib/poseidon-chain.circom";

// ScenariosDigest(nScenarios, nAssets, nInstruments): the scenarios section of the market root:
//   count, then per scenario slot j: weight[j], assetReturn[j][0..nAssets-1], instrumentPnl[j][0..nInstruments-1]
// `count` is the number of real scenarios (historical VaR's S); padding slots are all zero.
// Signed values are field-encoded. This section dominates the cost of every statement that
// uses scenarios: about 41 constraints per value, (1 + nAssets + nInstruments) values each.
// Mirrored by src/commitment/market-root.ts.
template ScenariosDigest(nScenarios, nAssets, nInstruments) {
    signal input count;
    signal input weight[nScenarios];
    signal input assetReturn[nScenarios][nAssets];
    signal input instrumentPnl[nScenarios][nInstruments];
    signal output out;

    var width = 1 + nAssets + nInstruments;
    component digest = PoseidonChain(1 + nScenarios * width);
    digest.in[0] <== count;
    for (var j = 0; j < nScenarios; j++) {
        digest.in[1 + j * width] <== weight[j];
        for (var i = 0; i < nAssets; i++) {
            digest.in[2 + j * width + i] <== assetReturn[j][i];
        }
        for (var k = 0; k < nInstruments; k++) {
            digest.in[2 + j * width + nAssets + k] <== instrumentPnl[j][k];
        }
    }
    out <== digest.out;
}
