pragma circom 2.1.9;

include "../lib/poseidon-chain.circom";

// InstrumentsDigest(nInstruments): the instruments section of the market root. Per slot k:
//   id[k]          the instrument id as an integer (src/commitment/market-root.ts)
//   underlying[k]  index of the underlying asset slot
//   mark[k]        quote units per contract (signed, field-encoded)
//   delta[k]       at 8 decimals (signed, field-encoded)
// Mirrored by src/commitment/market-root.ts.
template InstrumentsDigest(nInstruments) {
    signal input id[nInstruments];
    signal input underlying[nInstruments];
    signal input mark[nInstruments];
    signal input delta[nInstruments];
    signal output out;

    component digest = PoseidonChain(4 * nInstruments);
    for (var k = 0; k < nInstruments; k++) {
        digest.in[4 * k] <== id[k];
        digest.in[4 * k + 1] <== underlying[k];
        digest.in[4 * k + 2] <== mark[k];
        digest.in[4 * k + 3] <== delta[k];
    }
    out <== digest.out;
}
