pragma circom 2.1.9;

include "../lib/pack.circom";
include "../lib/poseidon-chain.circom";

// InstrumentsDigest(nInstruments): the instruments section of the market root:
//   per slot k, in order:
//     id[k]          the instrument id as an integer (src/commitment/market-root.ts)
//     mark[k]        quote units per contract (signed, field-encoded)
//     delta[k]       at 8 decimals (signed, field-encoded)
//   then the underlying asset slots packed 31 per word in 8-bit slots: underlying[31w + u] * 2^(8u)
// Mirrored by src/commitment/market-root.ts. The underlyings are not range-checked here: the one
// statement that uses them (ParametricVarCheck) proves each is an asset slot below nAssets <= 256,
// so the words determine them; statements that do not use them bind only the words.
template InstrumentsDigest(nInstruments) {
    signal input id[nInstruments];
    signal input underlying[nInstruments];
    signal input mark[nInstruments];
    signal input delta[nInstruments];
    signal output out;

    var UNDERLYINGS_PER_WORD = 31;
    var nWords = (nInstruments + UNDERLYINGS_PER_WORD - 1) \ UNDERLYINGS_PER_WORD;
    component underlyings = PackWords(nInstruments, 8, UNDERLYINGS_PER_WORD, 0, 0);
    underlyings.in <== underlying;

    component digest = PoseidonChain(3 * nInstruments + nWords);
    for (var k = 0; k < nInstruments; k++) {
        digest.in[3 * k] <== id[k];
        digest.in[3 * k + 1] <== mark[k];
        digest.in[3 * k + 2] <== delta[k];
    }
    for (var w = 0; w < nWords; w++) {
        digest.in[3 * nInstruments + w] <== underlyings.out[w];
    }
    out <== digest.out;
}
