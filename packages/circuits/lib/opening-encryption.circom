pragma circom 2.1.9;

include "circomlib/circuits/bitify.circom";
include "circomlib/circuits/escalarmulany.circom";
include "circomlib/circuits/escalarmulfix.circom";
include "circomlib/circuits/poseidon.circom";

// OpeningEncryption(nWords): verifiable encryption of nWords field elements to a Baby Jubjub
// public key (docs/enforcement.md), MACI's encrypted-message pattern:
//   ephemeralKey = ephemeralSecret * Base8                     (circomlib BabyPbk's multiplication)
//   shared       = ephemeralSecret * keeperKey                 (ECDH: @zk-kit/circuits' Ecdh is
//                                                              exactly this EscalarMulAny(253))
//   ciphertext   = PoseidonEncrypt(words, shared, nonce)       (@zk-kit/poseidon-cipher)
// The circuit proves the ciphertext decrypts to `words` as @zk-kit/circuits'
// PoseidonDecryptIterations does: a duplex sponge over the width-4 Poseidon permutation, started
// from [0, shared.x, shared.y, nonce + nWords * 2^128]; block b releases
// words[3b..3b+2] = ciphertext[3b..3b+2] - state_b[1..3], then absorbs the ciphertext block
// (state_{b+1} = perm([state_b[0], ciphertext[3b..3b+2]])); padding words past nWords decrypt to 0
// and the last element is the authentication tag: ciphertext[C-1] = state_nBlocks[1].
// C = 3 * ceil(nWords / 3) + 1.
//
// Why not include @zk-kit's poseidon-cipher.circom itself: it includes circomlib's
// poseidon_old.circom, whose Poseidon, Ark, Mix and Sigma collide with poseidon.circom's (used by
// every commitment here), and circom refuses duplicate template names. circomlib's PoseidonEx
// computes the same permutation (the optimised constants are an equivalent form of the reference
// ones), so each sponge step is PoseidonEx(3, 4) with the capacity element as its initial state;
// test/opening-encryption-circuit.test.ts proves that ciphertexts from @zk-kit/poseidon-cipher
// (src/encryption/opening-cipher.ts) are exactly what this template accepts.
//
// One Num2Bits(253) of the secret feeds both multiplications (< 2^253 < p: the decomposition is
// unique). Both are sound for every 253-bit scalar: in EscalarMulFix every accumulator before an
// adder is below subOrder and above the window point, so its Montgomery adders never see equal
// inputs (no free `lamda`); in EscalarMulAny's segments an adder adds 2^(i+1) * P to an odd
// multiple of P below 2^149 * P, never equal to it, with the segments joined by complete Edwards
// additions (BabyAdd). Completeness has two gaps, both refused here on purpose or harmless:
//   - a secret = 0 (mod subOrder) gives ephemeralKey = shared = (0, 1), the identity, a key anyone
//     knows, which decryptOpening refuses; the x != 0 check below makes it unprovable, so every
//     accepted ciphertext is one the keeper opens;
//   - circomlib's EscalarMulFix uses a first segment of 249 bits (83 windows); when the secret's
//     low 249 bits are sLow = subOrder - 2^250 - (2^249 - 1) / 7, the running sum at that segment's
//     last adder equals subOrder, the adder gets P and -P (lamda * 0 = -2y) and no witness exists.
//     These 16 scalars (sLow + k * 2^249, k < 16; 3 of them below subOrder) have no proof at all,
//     never a wrong key; the SDK's randomEphemeralSecret skips them.
// For every secret the circuit accepts, keeperSecret * ephemeralKey = shared, so the keeper recovers
// the key the ciphertext was made under.
//
// Caller assumptions:
//   - keeperKey is in Baby Jubjub's prime-order subgroup and not the identity. NOT checked here:
//     governance validates the key before setting it (RebalanceGate.setKeeperKey, and the SDK's
//     validateKeeperPublicKey), and the gate requires the proof's keeperKey signals to equal it.
//     EscalarMulAny assumes exactly this; with a small-order key anyone could compute `shared`.
//   - nonce < 2^128 (poseidon-cipher's domain; the caller's nonce is range-checked to 64 bits).
//   - words are whatever the caller binds them to (here: the packed words of a commitment).
template OpeningEncryption(nWords) {
    var nBlocks = (nWords + 2) \ 3;
    var C = 3 * nBlocks + 1;
    var TWO128 = 1 << 128;
    var BASE8[2] = [
        5299619240641551281634865583518297030282874472190772894086521144482721001553,
        16950150798460657717958625567821834550301663161624707787222815936182638968203
    ];

    signal input words[nWords];
    signal input nonce;
    signal input keeperKey[2];
    signal input ephemeralSecret;
    signal input ephemeralKey[2];
    signal input ciphertext[C];

    component secretBits = Num2Bits(253);
    secretBits.in <== ephemeralSecret;

    component ephemeral = EscalarMulFix(253, BASE8);
    ephemeral.e <== secretBits.out;
    ephemeralKey[0] === ephemeral.out[0];
    ephemeralKey[1] === ephemeral.out[1];

    // ephemeralSecret != 0 (mod subOrder): otherwise ephemeralKey and the shared point are the
    // identity (0, 1), whose shared key is public, and the owner could commit an opening the keeper
    // refuses to act on (decryptOpening refuses an identity ephemeral key). ephemeralKey is a
    // multiple of Base8, in the prime-order subgroup, where only the identity has x = 0 (the other
    // point with x = 0, (0, -1), has order 2), so x != 0 is exactly "not the identity". The hint is
    // pinned: inverse * x = 1 has exactly one solution when x != 0 and none when x = 0.
    signal ephemeralXInverse <-- ephemeralKey[0] != 0 ? 1 / ephemeralKey[0] : 0;
    ephemeralXInverse * ephemeralKey[0] === 1;

    component shared = EscalarMulAny(253);
    shared.e <== secretBits.out;
    shared.p <== keeperKey;

    component sponge[nBlocks + 1];
    sponge[0] = PoseidonEx(3, 4);
    sponge[0].initialState <== 0;
    sponge[0].inputs[0] <== shared.out[0];
    sponge[0].inputs[1] <== shared.out[1];
    sponge[0].inputs[2] <== nonce + nWords * TWO128;
    for (var b = 0; b < nBlocks; b++) {
        for (var j = 0; j < 3; j++) {
            var at = 3 * b + j;
            // The released keystream element makes the ciphertext decrypt to the word (or to 0 in
            // the padding, which poseidon-cipher's decryption also requires).
            if (at < nWords) {
                ciphertext[at] - sponge[b].out[j + 1] === words[at];
            } else {
                ciphertext[at] === sponge[b].out[j + 1];
            }
        }
        // The last permutation only releases the tag (state element 1).
        sponge[b + 1] = PoseidonEx(3, b + 1 < nBlocks ? 4 : 2);
        sponge[b + 1].initialState <== sponge[b].out[0];
        for (var j = 0; j < 3; j++) {
            sponge[b + 1].inputs[j] <== ciphertext[3 * b + j];
        }
    }
    ciphertext[C - 1] === sponge[nBlocks].out[1];
}
