pragma circom 2.1.9;

include "./sum-node.circom";

// SumSubtree(nChildren, nFigures): the binary Merkle sum tree over nChildren nodes (a power of
// two), children in order. Outputs the subtree's root hash, its sums and their digest.
// Caller assumptions: as SumNode's, for every child.
template SumSubtree(nChildren, nFigures) {
    assert(nChildren >= 2);
    assert((nChildren & (nChildren - 1)) == 0);
    signal input childHash[nChildren];
    signal input childDigest[nChildren];
    signal input childSums[nChildren][nFigures];
    signal output hash;
    signal output sums[nFigures];
    signal output digest;

    // Nodes in heap order over the children: node n has children 2n+1, 2n+2; the children
    // themselves are positions nChildren-1 .. 2*nChildren-2.
    component nodes[nChildren - 1];
    for (var n = nChildren - 2; n >= 0; n--) {
        nodes[n] = SumNode(nFigures);
        for (var side = 0; side < 2; side++) {
            var at = 2 * n + 1 + side;
            if (at >= nChildren - 1) {
                var c = at - (nChildren - 1);
                if (side == 0) {
                    nodes[n].leftHash <== childHash[c];
                    nodes[n].leftDigest <== childDigest[c];
                    nodes[n].leftSums <== childSums[c];
                } else {
                    nodes[n].rightHash <== childHash[c];
                    nodes[n].rightDigest <== childDigest[c];
                    nodes[n].rightSums <== childSums[c];
                }
            } else {
                if (side == 0) {
                    nodes[n].leftHash <== nodes[at].hash;
                    nodes[n].leftDigest <== nodes[at].digest;
                    nodes[n].leftSums <== nodes[at].sums;
                } else {
                    nodes[n].rightHash <== nodes[at].hash;
                    nodes[n].rightDigest <== nodes[at].digest;
                    nodes[n].rightSums <== nodes[at].sums;
                }
            }
        }
    }
    hash <== nodes[0].hash;
    sums <== nodes[0].sums;
    digest <== nodes[0].digest;
}
