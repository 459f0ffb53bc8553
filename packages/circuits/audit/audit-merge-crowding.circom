pragma circom 2.1.9;

include "circomlib/circuits/bitify.circom";
include "circomlib/circuits/comparators.circom";
include "../lib/bounds.circom";
include "../lib/poseidon-chain.circom";
include "../lib/range-check.circom";
include "./sum-subtree.circom";

// AuditMergeCrowding(fanIn, nAssets, nInstruments, nScenarios, top): AuditMerge (audit-merge.circom) for
// the crowding instances, whose sums carry the crowding figures. A copy rather than a parameter of
// AuditMerge, so the plain instances' sources, and so their compile keys and keys, stay as
// published (test/audit-crowding.test.ts pins them).
//
// One level of the audit's aggregation (docs/audit.md):
// batches (or merges) chained by root, not recursion. The children's hashes, sum digests and
// first/last accounts are public inputs, which the verifier checks against the children's own
// proofs (`zks audit verify`); their sums are private and pinned by the digests. Outputs the
// subtree over the children, with the same public outputs as AuditBatch's tree part.
//
// Padding: a child with lastAccount = 0 is empty; empty children come last and the verifier
// checks that their hash and digest are those of an empty subtree of the children's height.
// Accounts strictly increase across children, so no account appears in two batches.
//
// top = 1 makes this the audit's root and proves the aggregate statements on the total sums:
//   collateral >= debt, and for every scenario j, loss[j] <= collateral - debt
// (the aggregate loss is covered by the aggregate equity). positions and failing are public.
// The sums are AuditLeaf's figures: [counts, collateral, debt, loss[nScenarios], amount[nAssets],
// debtUnits[nAssets], long[nInstruments], written[nInstruments]], counts = positions + failing * 2^40;
// the merge adds the per-token ones like the others and proves nothing about them (the verifier
// compares the root's with the chain). It splits counts into its public positions and failing:
// both below 2^40, checked, so the split is unique.
//
// Crowding: the sums go on with the crowding figures (AuditLeafCrowding, j-major:
// crowding[j][i] at 3 + nScenarios + 2 * nAssets + 2 * nInstruments + j * nAssets + i), added like
// the others. The root (top = 1) then takes the public input liquidity[nAssets], each asset's
// liquidity bound in quote units (below 2^96), and proves for every scenario j and asset i:
//   sum of crowding[j][i] <= liquidity[i] * 1e8
// (the figures are quote units * 1e8): the bound on what the positions' threshold repairs would
// sell of asset i, were scenario j to happen, is at most the liquidity published for it.
//
// Caller assumptions: children's sums below 2^152 (figures below 2^120, depth at most 32), so
// every difference checked below lies in (-2^153, 2^153) and RangeCheck(160) is exact, and no sum
// wraps the field (p > 2^253).
template AuditMergeCrowding(fanIn, nAssets, nInstruments, nScenarios, top) {
    var nPlain = 3 + nScenarios + 2 * nAssets + 2 * nInstruments;
    var nFigures = nPlain + nScenarios * nAssets;
    signal input childHash[fanIn];
    signal input childDigest[fanIn];
    signal input childFirst[fanIn];
    signal input childLast[fanIn];
    signal input liquidity[nAssets * top];
    signal input childSums[fanIn][nFigures];

    signal output hash;
    signal output digest;
    signal output firstAccount;
    signal output lastAccount;
    signal output positions;
    signal output failing;

    component digests[fanIn];
    for (var c = 0; c < fanIn; c++) {
        digests[c] = PoseidonChain(nFigures);
        digests[c].in <== childSums[c];
        digests[c].out === childDigest[c];
    }

    component empty[fanIn];
    signal active[fanIn];
    component increasing[fanIn];
    for (var c = 0; c < fanIn; c++) {
        empty[c] = IsZero();
        empty[c].in <== childLast[c];
        active[c] <== 1 - empty[c].out;
        if (c > 0) {
            active[c] * (1 - active[c - 1]) === 0;
            increasing[c] = RangeCheck(160);
            increasing[c].in <== active[c] * (childFirst[c] - childLast[c - 1] - 1);
        }
    }
    active[0] === 1;
    signal lastTerm[fanIn];
    var last = 0;
    for (var c = 0; c < fanIn; c++) {
        lastTerm[c] <== childLast[c] * (active[c] - (c + 1 < fanIn ? active[c + 1] : 0));
        last += lastTerm[c];
    }
    firstAccount <== childFirst[0];
    lastAccount <== last;

    component subtree = SumSubtree(fanIn, nFigures);
    subtree.childHash <== childHash;
    subtree.childDigest <== childDigest;
    subtree.childSums <== childSums;
    hash <== subtree.hash;
    digest <== subtree.digest;
    // counts = positions + failing * 2^40 with both below 2^40 (honest children: at most 2^32
    // positions at depth 32), so these two range checks make the split unique.
    component positionBits = Num2Bits(40);
    component failingBits = Num2Bits(40);
    positions <-- subtree.sums[0] & ((1 << 40) - 1);
    failing <-- subtree.sums[0] >> 40;
    positionBits.in <== positions;
    failingBits.in <== failing;
    subtree.sums[0] === positions + failing * (1 << 40);

    if (top == 1) {
        // Aggregate equity = total collateral - total debt (collateral and debt include the
        // derivatives' marked value by sign, so their difference is the sum of the equities).
        signal equity <== subtree.sums[1] - subtree.sums[2];
        component solvent = RangeCheck(160);
        solvent.in <== equity;
        component covered[nScenarios];
        for (var j = 0; j < nScenarios; j++) {
            covered[j] = RangeCheck(160);
            covered[j].in <== equity - subtree.sums[3 + j];
        }
    }

    if (top == 1) {
        // liquidity < 2^96, so liquidity * 1e8 < 2^123 and an honest margin fits marginBits (123);
        // a sum above the bound (sums < 2^152) wraps and fails.
        var liquidityBits = 96;
        var marginBits = log2ceil((1 << liquidityBits) * 100000000);
        component liquidityRange[nAssets];
        component withinLiquidity[nScenarios][nAssets];
        for (var i = 0; i < nAssets; i++) {
            liquidityRange[i] = RangeCheck(liquidityBits);
            liquidityRange[i].in <== liquidity[i];
        }
        for (var j = 0; j < nScenarios; j++) {
            for (var i = 0; i < nAssets; i++) {
                withinLiquidity[j][i] = RangeCheck(marginBits);
                withinLiquidity[j][i].in <== liquidity[i] * 100000000 - subtree.sums[nPlain + j * nAssets + i];
            }
        }
    }
}
