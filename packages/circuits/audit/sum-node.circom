pragma circom 2.1.9;

include "circomlib/circuits/poseidon.circom";
include "../lib/poseidon-chain.circom";

// SumNode(nFigures): one inner node of the audit's Merkle sum tree (docs/audit.md), mirrored by
// src/audit/merkle-sum-tree.ts:
//   hash   = Poseidon(leftHash, leftDigest, rightHash, rightDigest)
//   sums   = leftSums + rightSums
//   digest = PoseidonChain(sums)
// The hash binds both children's sums (through their digests), not only their total: a parent
// that committed only to the total would let one child's sum be understated (Maxwell's attack on
// proof-of-liabilities trees).
// Caller assumptions: each child's digest is the digest of the sums passed with it (the caller
// computed it, or checked it against a proof's public signal); every sum is below 2^152
// (figures below 2^120, depth at most 32), so no addition wraps the field.
template SumNode(nFigures) {
    signal input leftHash;
    signal input leftDigest;
    signal input leftSums[nFigures];
    signal input rightHash;
    signal input rightDigest;
    signal input rightSums[nFigures];
    signal output hash;
    signal output sums[nFigures];
    signal output digest;

    component node = Poseidon(4);
    node.inputs[0] <== leftHash;
    node.inputs[1] <== leftDigest;
    node.inputs[2] <== rightHash;
    node.inputs[3] <== rightDigest;
    hash <== node.out;

    component sumsDigest = PoseidonChain(nFigures);
    for (var f = 0; f < nFigures; f++) {
        sums[f] <== leftSums[f] + rightSums[f];
        sumsDigest.in[f] <== sums[f];
    }
    digest <== sumsDigest.out;
}
