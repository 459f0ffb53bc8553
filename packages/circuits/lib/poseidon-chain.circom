pragma circom 2.1.9;

include "circomlib/circuits/poseidon.circom";

// PoseidonChain(n): a digest of n field elements, for any n >= 1.
//
// circomlib's Poseidon takes at most 16 inputs. Longer inputs are absorbed as a chain:
//   h = Poseidon(x[0..min(n,16)-1]);  then  h = Poseidon(h, next <= 15 elements)  until done.
// Each link's arity is fixed by n, so different lengths hash with different permutations
// (Poseidon's width is part of its parameters) and cannot collide by construction.
// Cost: about 40 constraints per absorbed element at full width.
//
// Mirrored exactly by src/commitment/poseidon-chain.ts.
// Caller assumptions: none; inputs are arbitrary field elements.
template PoseidonChain(n) {
    assert(n >= 1);
    signal input in[n];
    signal output out;

    var first = n < 16 ? n : 16;
    var links = 1;
    var rest = n - first;
    while (rest > 0) {
        links++;
        rest -= rest < 15 ? rest : 15;
    }

    component hashers[links];
    hashers[0] = Poseidon(first);
    for (var i = 0; i < first; i++) {
        hashers[0].inputs[i] <== in[i];
    }
    var offset = first;
    for (var l = 1; l < links; l++) {
        var take = (n - offset) < 15 ? (n - offset) : 15;
        hashers[l] = Poseidon(take + 1);
        hashers[l].inputs[0] <== hashers[l - 1].out;
        for (var i = 0; i < take; i++) {
            hashers[l].inputs[i + 1] <== in[offset + i];
        }
        offset += take;
    }
    out <== hashers[links - 1].out;
}
