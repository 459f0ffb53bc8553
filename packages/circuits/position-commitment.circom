pragma circom 2.1.9;

include "circomlib/circuits/bitify.circom";
include "./lib/poseidon-chain.circom";

// PositionCommitment(nAssets, nInstruments): the Poseidon commitment to a private position
// (risk-model.md, "Commitment"), with every field range-checked so that the packing below
// is injective and nothing can wrap the BN254 field.
//
// Slot layout: asset slot i and instrument slot k are the i-th asset and k-th instrument of
// the market's lists, padded with zeros up to the instance size. A commitment is therefore
// tied to an instance size and to the oracle keeping its asset and instrument order.
//
// Encoding (all checked here):
//   account            < 2^160            (EVM address as an integer)
//   nonce              < 2^64
//   salt               any field element   (blinding; 31 random bytes from the SDK)
//   collateral[i]      < 2^96              (base units of asset i)
//   debt[i]            < 2^96
//   quantity[k]        -2^95 <= q < 2^95   (instrument base units, 8 decimals; negative = short,
//                                           given as the field element p - |q|)
// Packed words, hashed with PoseidonChain (mirrored by src/commitment/position-commitment.ts):
//   [ account + nonce * 2^160,
//     salt,
//     collateral[i] + debt[i] * 2^96                      for each asset i,
//     u[2m] + u[2m+1] * 2^96  with u[k] = q[k] + 2^95     for each pair of instruments
//                                                         (an odd last one stands alone) ]
// Every word is below 2^224 < p, so two positions that differ anywhere differ in some word.
//
// Caller assumptions: none beyond the encoding above; out-of-range inputs fail the proof.
template PositionCommitment(nAssets, nInstruments) {
    signal input account;
    signal input nonce;
    signal input salt;
    signal input collateral[nAssets];
    signal input debt[nAssets];
    signal input quantity[nInstruments];
    signal output commitment;

    component opening = PositionOpening(nAssets, nInstruments, 1);
    opening.account <== account;
    opening.nonce <== nonce;
    opening.salt <== salt;
    opening.collateral <== collateral;
    opening.debt <== debt;
    opening.quantity <== quantity;
    commitment <== opening.commitment;
}

// PositionOpening(nAssets, nInstruments, checkAccount): PositionCommitment, with the account's
// 160-bit range check only when checkAccount = 1. Caller assumptions with checkAccount = 0: the
// caller range-checks the same account signal below 2^160 elsewhere (Rebalance opens two
// commitments of one account and checks it once).
template PositionOpening(nAssets, nInstruments, checkAccount) {
    signal input account;
    signal input nonce;
    signal input salt;
    signal input collateral[nAssets];
    signal input debt[nAssets];
    signal input quantity[nInstruments];
    signal output commitment;

    var AMOUNT_BITS = 96;
    var QUANTITY_OFFSET = 1 << 95;

    if (checkAccount == 1) {
        component accountBits = Num2Bits(160);
        accountBits.in <== account;
    }
    component nonceBits = Num2Bits(64);
    nonceBits.in <== nonce;

    component collateralBits[nAssets];
    component debtBits[nAssets];
    for (var i = 0; i < nAssets; i++) {
        collateralBits[i] = Num2Bits(AMOUNT_BITS);
        collateralBits[i].in <== collateral[i];
        debtBits[i] = Num2Bits(AMOUNT_BITS);
        debtBits[i].in <== debt[i];
    }

    component quantityBits[nInstruments];
    for (var k = 0; k < nInstruments; k++) {
        quantityBits[k] = Num2Bits(AMOUNT_BITS);
        quantityBits[k].in <== quantity[k] + QUANTITY_OFFSET;
    }

    var nPairs = (nInstruments + 1) \ 2;
    component digest = PoseidonChain(2 + nAssets + nPairs);
    digest.in[0] <== account + nonce * (1 << 160);
    digest.in[1] <== salt;
    for (var i = 0; i < nAssets; i++) {
        digest.in[2 + i] <== collateral[i] + debt[i] * (1 << AMOUNT_BITS);
    }
    for (var m = 0; m < nPairs; m++) {
        if (2 * m + 1 < nInstruments) {
            digest.in[2 + nAssets + m] <== (quantity[2 * m] + QUANTITY_OFFSET)
                + (quantity[2 * m + 1] + QUANTITY_OFFSET) * (1 << AMOUNT_BITS);
        } else {
            digest.in[2 + nAssets + m] <== quantity[2 * m] + QUANTITY_OFFSET;
        }
    }
    commitment <== digest.out;
}
