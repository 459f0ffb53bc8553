pragma circom 2.1.9;

include "circomlib/circuits/bitify.circom";

// PackWords(n, bits, perWord, offset, check): small values packed into field elements for hashing,
// perWord values per word, value u of a word at bit bits * u (little-endian), each stored as
// in + offset (offset makes signed values non-negative):
//   out[w] = sum_u (in[w * perWord + u] + offset) * 2^(bits * u)        (a linear combination)
// Mirrored by packWords in src/commitment/market-root.ts, which refuses slot values outside
// [0, 2^bits), so the words are injective on every value that has a digest.
// check = 1 range-checks every slot value in [0, 2^bits): the words then determine the values, so
// a statement that computes with them may unpack them. check = 0 is for values the statement
// never uses: only their words are bound, which is all the hash needs.
// Caller assumptions: bits * perWord <= 252.
template PackWords(n, bits, perWord, offset, check) {
    assert(bits * perWord <= 252);
    var nWords = (n + perWord - 1) \ perWord;
    signal input in[n];
    signal output out[nWords];

    component ranges[n];
    for (var w = 0; w < nWords; w++) {
        var word = 0;
        for (var u = 0; u < perWord && w * perWord + u < n; u++) {
            var i = w * perWord + u;
            word += (in[i] + offset) * (1 << (bits * u));
            if (check == 1) {
                ranges[i] = Num2Bits(bits);
                ranges[i].in <== in[i] + offset;
            }
        }
        out[w] <== word;
    }
}
