pragma circom 2.1.9;

include "../lib/bounds.circom";
include "../lib/pack.circom";
include "../lib/poseidon-chain.circom";

// ScenariosDigest(nScenarios, nAssets, nInstruments, checkWeights): the scenarios section of the
// market root:
//   count,
//   the weights packed 16 per word (14-bit slots: weight[16w + u] * 2^(14u), weights <= 1e4),
//   the asset returns in scenario-major order (assetReturn[j][i] at position j * nAssets + i),
//     packed 7 per word in 32-bit slots with offset 2^31: (r + 2^31) * 2^(32u), |r| < 2^31,
//   then per scenario slot j: instrumentPnl[j][0..nInstruments-1] (signed, field-encoded).
// `count` is the number of real scenarios (historical VaR's S); padding slots are all zero.
// This section dominates the cost of every statement that uses scenarios: about 41 constraints
// per hashed element (nInstruments per scenario) plus 32 per return (its range check and an
// eighth of a hash).
// Every return is range-checked: r + 2^31 in [0, 2^32), so the words determine the returns the
// losses use (and the returns bound of docs/risk-arithmetic.md is enforced, not assumed).
// checkWeights = 1 range-checks each weight below 2^14, so the weights the statement uses are
// the ones hashed (stress); with 0 they are only hashed (historical VaR ignores weights).
// Mirrored by src/commitment/market-root.ts.
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

    var RETURNS_PER_WORD = 7;
    var nReturns = nScenarios * nAssets;
    var nReturnWords = (nReturns + RETURNS_PER_WORD - 1) \ RETURNS_PER_WORD;
    component returns = PackWords(nReturns, RETURN_BITS() + 1, RETURNS_PER_WORD, 1 << RETURN_BITS(), 1);
    for (var j = 0; j < nScenarios; j++) {
        for (var i = 0; i < nAssets; i++) {
            returns.in[j * nAssets + i] <== assetReturn[j][i];
        }
    }

    var head = 1 + nWeightWords + nReturnWords;
    component digest = PoseidonChain(head + nScenarios * nInstruments);
    digest.in[0] <== count;
    for (var w = 0; w < nWeightWords; w++) {
        digest.in[1 + w] <== weights.out[w];
    }
    for (var w = 0; w < nReturnWords; w++) {
        digest.in[1 + nWeightWords + w] <== returns.out[w];
    }
    for (var j = 0; j < nScenarios; j++) {
        for (var k = 0; k < nInstruments; k++) {
            digest.in[head + j * nInstruments + k] <== instrumentPnl[j][k];
        }
    }
    out <== digest.out;
}
