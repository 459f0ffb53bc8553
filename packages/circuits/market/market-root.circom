pragma circom 2.1.9;

include "circomlib/circuits/poseidon.circom";

// MarketRoot(): what the chain knows of a market epoch (risk-model.md, "Market"):
//   Poseidon(epoch, timestamp, quoteScale, assetsDigest, instrumentsDigest, scenariosDigest, covarianceDigest)
// A statement recomputes the sections it uses from their values and takes the others' digests
// as private inputs, so a health-factor proof never pays for hashing 16 scenarios. epoch,
// timestamp and quoteScale are only hashed: no statement computes with them (values are in quote
// units throughout), so they need no range check. (The toolkit publishes and accepts quoteScale
// = 10^d with d <= 8 only, since the quote-unit bounds of prices, marks and PnL are sized for it:
// src/model/bounds.ts, MAX_QUOTE_DECIMALS.)
// Mirrored by src/commitment/market-root.ts.
template MarketRoot() {
    signal input epoch;
    signal input timestamp;
    signal input quoteScale;
    signal input assetsDigest;
    signal input instrumentsDigest;
    signal input scenariosDigest;
    signal input covarianceDigest;
    signal output out;

    component root = Poseidon(7);
    root.inputs[0] <== epoch;
    root.inputs[1] <== timestamp;
    root.inputs[2] <== quoteScale;
    root.inputs[3] <== assetsDigest;
    root.inputs[4] <== instrumentsDigest;
    root.inputs[5] <== scenariosDigest;
    root.inputs[6] <== covarianceDigest;
    out <== root.out;
}
