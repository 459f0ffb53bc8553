pragma circom 2.1.9;

include "../lib/bounds.circom";
include "../lib/pack.circom";
include "../lib/poseidon-chain.circom";

// InstrumentsDigest(nInstruments): the instruments section of the market root:
//   id[0..nInstruments-1]  each instrument id as an integer (src/commitment/market-root.ts)
//   then the marks (quote units per contract, |m| < 2^64) packed 3 per word in 65-bit slots with
//     offset 2^64: (mark[3w + u] + 2^64) * 2^(65u)
//   then the deltas (8 decimals, |delta| < 2^40) packed 6 per word in 41-bit slots with offset
//     2^40: (delta[6w + u] + 2^40) * 2^(41u)
//   then the underlying asset slots packed 31 per word in 8-bit slots: underlying[31w + u] * 2^(8u)
// Mirrored by src/commitment/market-root.ts.
//
// Marks and deltas are range-checked here, once per circuit (docs/risk-arithmetic.md, "Bounds"):
// the slot ranges make the words determine the values EquityAndLosses and ParametricVarCheck
// compute with, and keep every product with a quantity far below p. The underlyings are not
// range-checked here: the one statement that uses them (ParametricVarCheck) proves each is an
// asset slot below nAssets <= 256, so the words determine them; statements that do not use them
// bind only the words (which hold nothing else).
template InstrumentsDigest(nInstruments) {
    signal input id[nInstruments];
    signal input underlying[nInstruments];
    signal input mark[nInstruments];
    signal input delta[nInstruments];
    signal output out;

    var MARKS_PER_WORD = 3;
    var nMarkWords = (nInstruments + MARKS_PER_WORD - 1) \ MARKS_PER_WORD;
    component marks = PackWords(nInstruments, MARK_BITS() + 1, MARKS_PER_WORD, 1 << MARK_BITS(), 1);
    marks.in <== mark;

    var DELTAS_PER_WORD = 6;
    var nDeltaWords = (nInstruments + DELTAS_PER_WORD - 1) \ DELTAS_PER_WORD;
    component deltas = PackWords(nInstruments, DELTA_BITS() + 1, DELTAS_PER_WORD, 1 << DELTA_BITS(), 1);
    deltas.in <== delta;

    var UNDERLYINGS_PER_WORD = 31;
    var nUnderlyingWords = (nInstruments + UNDERLYINGS_PER_WORD - 1) \ UNDERLYINGS_PER_WORD;
    component underlyings = PackWords(nInstruments, 8, UNDERLYINGS_PER_WORD, 0, 0);
    underlyings.in <== underlying;

    component digest = PoseidonChain(nInstruments + nMarkWords + nDeltaWords + nUnderlyingWords);
    for (var k = 0; k < nInstruments; k++) {
        digest.in[k] <== id[k];
    }
    var at = nInstruments;
    for (var w = 0; w < nMarkWords; w++) {
        digest.in[at + w] <== marks.out[w];
    }
    at += nMarkWords;
    for (var w = 0; w < nDeltaWords; w++) {
        digest.in[at + w] <== deltas.out[w];
    }
    at += nDeltaWords;
    for (var w = 0; w < nUnderlyingWords; w++) {
        digest.in[at + w] <== underlyings.out[w];
    }
    out <== digest.out;
}
