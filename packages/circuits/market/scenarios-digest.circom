pragma circom 2.1.9;

include "../lib/bounds.circom";
include "../lib/pack.circom";
include "../lib/poseidon-chain.circom";
include "../lib/range-check.circom";

// ScenariosDigest(nScenarios, nAssets, nInstruments, checkWeights): the scenarios section of the
// market root:
//   count,
//   the weights packed 16 per word (14-bit slots: weight[16w + u] * 2^(14u), weights <= 1e4),
//   the asset returns in scenario-major order (assetReturn[j][i] at position j * nAssets + i),
//     packed 7 per word in 32-bit slots with offset 2^31: (r + 2^31) * 2^(32u), |r| < 2^31,
//   the instrument PnL in scenario-major order (instrumentPnl[j][k] at position j * nInstruments + k),
//     packed 5 per word in 50-bit slots with offset 2^49: (g + 2^49) * 2^(50u), |g| < 2^49.
// `count` is the number of real scenarios (historical VaR's S); padding slots are all zero.
// Mirrored by src/commitment/market-root.ts.
//
// Every value a statement computes with is range-checked here, once per circuit (the audit batch
// instantiates this once for all its leaves; docs/risk-arithmetic.md, "Bounds"):
//   count   1 <= count <= nScenarios (historical VaR's allowance e = floor((1 - confidence) * count))
//   return  r + 2^31 in [0, 2^32), so the words determine the returns the losses use
//   PnL     g + 2^49 in [0, 2^50), likewise; the bound is 2^49 rather than the marks' 2^64 so that
//           five fit a word: 50 + 41/5 ~ 58 constraints per value, where a 65-bit check and a
//           third of a hash would cost ~79 (the PnL dominates every statement with scenarios)
//   weight  checkWeights = 1 range-checks each in [0, 10^4] (the slot's 14 bits and 10^4 - weight
//           in [0, 2^14)), so the weights stress uses are the ones hashed and none counts a loss
//           more than once; with 0 they are only hashed (historical VaR ignores weights, and their
//           words hold nothing else).
template ScenariosDigest(nScenarios, nAssets, nInstruments, checkWeights) {
    signal input count;
    signal input weight[nScenarios];
    signal input assetReturn[nScenarios][nAssets];
    signal input instrumentPnl[nScenarios][nInstruments];
    signal output out;

    var WEIGHTS_PER_WORD = 16;
    var nWeightWords = (nScenarios + WEIGHTS_PER_WORD - 1) \ WEIGHTS_PER_WORD;
    component weights = PackWords(nScenarios, BPS_BITS(), WEIGHTS_PER_WORD, 0, checkWeights);
    weights.in <== weight;
    component weightAtMostOne[nScenarios];
    if (checkWeights == 1) {
        for (var j = 0; j < nScenarios; j++) {
            weightAtMostOne[j] = RangeCheck(BPS_BITS());
            weightAtMostOne[j].in <== BPS_ONE() - weight[j];
        }
    }

    var RETURNS_PER_WORD = 7;
    var nReturns = nScenarios * nAssets;
    var nReturnWords = (nReturns + RETURNS_PER_WORD - 1) \ RETURNS_PER_WORD;
    component returns = PackWords(nReturns, RETURN_BITS() + 1, RETURNS_PER_WORD, 1 << RETURN_BITS(), 1);
    for (var j = 0; j < nScenarios; j++) {
        for (var i = 0; i < nAssets; i++) {
            returns.in[j * nAssets + i] <== assetReturn[j][i];
        }
    }

    var PNL_PER_WORD = 5;
    var nPnl = nScenarios * nInstruments;
    var nPnlWords = (nPnl + PNL_PER_WORD - 1) \ PNL_PER_WORD;
    component pnl = PackWords(nPnl, PNL_BITS() + 1, PNL_PER_WORD, 1 << PNL_BITS(), 1);
    for (var j = 0; j < nScenarios; j++) {
        for (var k = 0; k < nInstruments; k++) {
            pnl.in[j * nInstruments + k] <== instrumentPnl[j][k];
        }
    }

    // 1 <= count <= nScenarios.
    var countBits = log2ceil(nScenarios);
    component countRanges[2];
    countRanges[0] = RangeCheck(countBits);
    countRanges[0].in <== count - 1;
    countRanges[1] = RangeCheck(countBits);
    countRanges[1].in <== nScenarios - count;

    component digest = PoseidonChain(1 + nWeightWords + nReturnWords + nPnlWords);
    digest.in[0] <== count;
    for (var w = 0; w < nWeightWords; w++) {
        digest.in[1 + w] <== weights.out[w];
    }
    for (var w = 0; w < nReturnWords; w++) {
        digest.in[1 + nWeightWords + w] <== returns.out[w];
    }
    for (var w = 0; w < nPnlWords; w++) {
        digest.in[1 + nWeightWords + nReturnWords + w] <== pnl.out[w];
    }
    out <== digest.out;
}
