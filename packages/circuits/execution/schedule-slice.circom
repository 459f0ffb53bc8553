pragma circom 2.1.9;

include "circomlib/circuits/bitify.circom";
include "circomlib/circuits/comparators.circom";
include "circomlib/circuits/poseidon.circom";
include "../lib/bounds.circom";

// ScheduleSlice(maxSlices, nSwaps): one slice of a time-weighted, randomized execution
// (docs/execution.md). A rebalance plan's swaps are split into `slices` slices over a window of
// `windowSeconds` from `windowStart`; before the window opened the owner committed to a secret
// seed AND to the plan, and this proves that slice `slice` is the one the seed draws for it:
//   planHash       = Poseidon(planIn[0..n), planSell[0..n), planBuy[0..n))
//   seedCommitment = Poseidon(seed, salt, planHash)
//   d_j = Poseidon(seed, j) for j < slices, u_j = d_j mod 2^64, v_j = floor(d_j / 2^64) mod 2^17
//   o_j = u_j mod windowSeconds                 (draw j's offset: anywhere in the whole window)
//   sliceTime = windowStart + the offset of rank `slice` among o_0..o_{slices-1}
//               (sorted ascending, ties by draw index): the slices run in time order
//   w_k = 2^16 + v_k in [2^16, 3 * 2^16),  W_k = sum_{j < k} w_j,  W = W_slices
//   swapIn[s] = floor(planIn[s] * W_{slice+1} / W) - floor(planIn[s] * W_slice / W)
// so the slices' sizes of each plan swap sum exactly to planIn[s] (the floors telescope) and each
// is within one base unit of its share planIn[s] * w_slice / W. The times are not one per public
// sub-window (an adversary watching the gate would know a slice is due near each sub-window's
// end): they are the order statistics of draws over the whole window. The TypeScript mirror is
// packages/sdk/src/execution/schedule.ts (test/execution.test.ts compares them).
// The plan's totals are private (only the commitment binds them); its pairs are public, so the
// verifier compares them with the Rebalance proof's swaps. oldCommitment and newCommitment are
// the commitments of the Rebalance proof this slice is executed by: the verifier
// (verifyScheduleChain) requires them equal to that proof's, so a slice proof cannot be moved to
// another transition.
// Public, in snarkjs order: seedCommitment, sliceTime (outputs), then slices, slice, windowStart,
// windowSeconds, planSell[nSwaps], planBuy[nSwaps], swapIn[nSwaps], oldCommitment, newCommitment.
// Ranges: 1 <= slices <= maxSlices, 0 <= slice < slices, windowStart < 2^40 (unix seconds),
// slices <= windowSeconds < 2^32, planIn < 2^96 (as every amount). Every hint (`<--`) is pinned by
// a range check and an equation whose terms stay below 2^120, far from the field prime, so each
// hint is the unique integer quotient or remainder and nothing wraps; the rank hint is pinned by
// the rank equation (the ranks of distinct draws are a permutation, ties broken by index).
// Caller assumptions: none; the seed, salt and pairs are any field elements (the SDK draws 31
// random bytes for the seed and the salt; the verifier compares the pairs with the Rebalance's).
template ScheduleSlice(maxSlices, nSwaps) {
    assert(maxSlices >= 1 && maxSlices <= 1024);
    // Poseidon takes at most 16 inputs.
    assert(nSwaps >= 1 && 3 * nSwaps <= 16);
    var AMOUNT = 96;
    var DRAW_TIME_BITS = 64;
    var DRAW_WEIGHT_BITS = 17;
    var WEIGHT_BASE = 1 << 16;
    var WINDOW_BITS = 32;
    var START_BITS = 40;
    // W < maxSlices * 3 * 2^16.
    var TOTAL_BITS = log2ceil(maxSlices * 3 * WEIGHT_BASE);

    signal output seedCommitment;
    signal output sliceTime;

    signal input slices;
    signal input slice;
    signal input windowStart;
    signal input windowSeconds;
    signal input planSell[nSwaps];
    signal input planBuy[nSwaps];
    signal input swapIn[nSwaps];
    signal input oldCommitment;
    signal input newCommitment;

    signal input seed;
    signal input salt;
    signal input planIn[nSwaps];

    // The commitment binds the seed and the whole plan: another total or pair after the window
    // opened is another commitment.
    component planHash = Poseidon(3 * nSwaps);
    for (var s = 0; s < nSwaps; s++) {
        planHash.inputs[s] <== planIn[s];
        planHash.inputs[nSwaps + s] <== planSell[s];
        planHash.inputs[2 * nSwaps + s] <== planBuy[s];
    }
    component commit = Poseidon(3);
    commit.inputs[0] <== seed;
    commit.inputs[1] <== salt;
    commit.inputs[2] <== planHash.out;
    seedCommitment <== commit.out;

    // slices in [1, maxSlices]: one-hot over its possible values (none matches outside).
    component countIs[maxSlices];
    var countSum = 0;
    for (var k = 0; k < maxSlices; k++) {
        countIs[k] = IsEqual();
        countIs[k].in[0] <== slices;
        countIs[k].in[1] <== k + 1;
        countSum += countIs[k].out;
    }
    countSum === 1;
    // active[j] = [j < slices] = sum_{k >= j} [slices = k + 1].
    var active[maxSlices];
    for (var j = 0; j < maxSlices; j++) {
        active[j] = 0;
        for (var k = j; k < maxSlices; k++) active[j] += countIs[k].out;
    }

    // slice in [0, maxSlices) one-hot, and below slices: sum_j [slice = j] * active[j] = active[slice].
    component sliceIs[maxSlices];
    signal sliceActive[maxSlices];
    var sliceSum = 0;
    var inRange = 0;
    for (var j = 0; j < maxSlices; j++) {
        sliceIs[j] = IsEqual();
        sliceIs[j].in[0] <== slice;
        sliceIs[j].in[1] <== j;
        sliceSum += sliceIs[j].out;
        sliceActive[j] <== sliceIs[j].out * active[j];
        inRange += sliceActive[j];
    }
    sliceSum === 1;
    inRange === 1;

    // The window: windowStart < 2^40, slices <= windowSeconds < 2^32.
    component startBits = Num2Bits(START_BITS);
    startBits.in <== windowStart;
    component windowBits = Num2Bits(WINDOW_BITS);
    windowBits.in <== windowSeconds;
    component windowAbove = Num2Bits(WINDOW_BITS);
    windowAbove.in <== windowSeconds - slices;

    // The draws. Num2Bits_strict decomposes each Poseidon output into its canonical 254 bits
    // (below p), so u_j and v_j are exactly the TypeScript model's d_j mod 2^64 and
    // floor(d_j / 2^64) mod 2^17: a prover cannot pick the other representation d_j + p.
    // Each draw's offset: u_j = quotient_j * windowSeconds + offset_j, 0 <= offset_j < windowSeconds.
    component draw[maxSlices];
    component drawBits[maxSlices];
    signal weight[maxSlices];
    signal quotient[maxSlices];
    signal offset[maxSlices];
    component quotientBits[maxSlices];
    component offsetBits[maxSlices];
    component offsetBelow[maxSlices];
    for (var j = 0; j < maxSlices; j++) {
        draw[j] = Poseidon(2);
        draw[j].inputs[0] <== seed;
        draw[j].inputs[1] <== j;
        drawBits[j] = Num2Bits_strict();
        drawBits[j].in <== draw[j].out;
        var u = 0;
        for (var t = 0; t < DRAW_TIME_BITS; t++) u += drawBits[j].out[t] * (1 << t);
        var v = 0;
        for (var w = 0; w < DRAW_WEIGHT_BITS; w++) v += drawBits[j].out[DRAW_TIME_BITS + w] * (1 << w);
        // Slices beyond `slices` weigh nothing.
        weight[j] <== active[j] * (WEIGHT_BASE + v);

        quotient[j] <-- u \ windowSeconds;
        offset[j] <-- u % windowSeconds;
        // quotient <= u < 2^64; offset and windowSeconds - 1 - offset in [0, 2^32) (windowSeconds >= 1).
        quotientBits[j] = Num2Bits(DRAW_TIME_BITS);
        quotientBits[j].in <== quotient[j];
        offsetBits[j] = Num2Bits(WINDOW_BITS);
        offsetBits[j].in <== offset[j];
        offsetBelow[j] = Num2Bits(WINDOW_BITS);
        offsetBelow[j].in <== windowSeconds - 1 - offset[j];
        // Below 2^96 + 2^32: the integer equation.
        u === quotient[j] * windowSeconds + offset[j];
    }

    // The time: the offset of rank `slice`. `chosen` (a hint) is one-hot over the active draws;
    // rank(i) = #{active j: o_j < o_i} + #{active j < i: o_j = o_i}. The ranks of the active draws
    // are a permutation of 0..slices-1, so exactly one active draw has rank `slice`: the hint has
    // no freedom.
    signal chosen[maxSlices];
    signal chosenTerm[maxSlices];
    var chosenSum = 0;
    var chosenActive = 0;
    var chosenOffset = 0;
    signal chosenIsActive[maxSlices];
    for (var j = 0; j < maxSlices; j++) {
        // The witness's rank of draw j (the constraints below check the chosen one's).
        var rankOf = 0;
        for (var k = 0; k < maxSlices; k++) rankOf += active[k] * ((offset[k] < offset[j] || (offset[k] == offset[j] && k < j)) ? 1 : 0);
        chosen[j] <-- (active[j] == 1 && rankOf == slice) ? 1 : 0;
        chosen[j] * (chosen[j] - 1) === 0;
        chosenSum += chosen[j];
        chosenIsActive[j] <== chosen[j] * active[j];
        chosenActive += chosenIsActive[j];
        chosenTerm[j] <== chosen[j] * offset[j];
        chosenOffset += chosenTerm[j];
    }
    chosenSum === 1;
    chosenActive === 1;
    signal pickedOffset <== chosenOffset;

    // Both compared values are below 2^32: offset_j by its range check, pickedOffset as one of them.
    component earlier[maxSlices];
    component tied[maxSlices];
    signal tiedBefore[maxSlices];
    signal ranked[maxSlices];
    var rank = 0;
    for (var j = 0; j < maxSlices; j++) {
        earlier[j] = LessThan(WINDOW_BITS);
        earlier[j].in[0] <== offset[j];
        earlier[j].in[1] <== pickedOffset;
        tied[j] = IsEqual();
        tied[j].in[0] <== offset[j];
        tied[j].in[1] <== pickedOffset;
        // [j < i] for the chosen i = sum_{k > j} chosen[k].
        var laterChosen = 0;
        for (var k = j + 1; k < maxSlices; k++) laterChosen += chosen[k];
        tiedBefore[j] <== tied[j].out * laterChosen;
        ranked[j] <== active[j] * (earlier[j].out + tiedBefore[j]);
        rank += ranked[j];
    }
    rank === slice;
    sliceTime <== windowStart + pickedOffset;

    // The prefix sums W_slice (before) and W_{slice+1} (through), and W.
    signal beforeTerm[maxSlices];
    signal currentTerm[maxSlices];
    var total = 0;
    var before = 0;
    var current = 0;
    for (var j = 0; j < maxSlices; j++) {
        // [j < slice] = sum_{k > j} [slice = k].
        var later = 0;
        for (var k = j + 1; k < maxSlices; k++) later += sliceIs[k].out;
        beforeTerm[j] <== later * weight[j];
        currentTerm[j] <== sliceIs[j].out * weight[j];
        total += weight[j];
        before += beforeTerm[j];
        current += currentTerm[j];
    }
    var through = before + current;

    // Each swap's slice: the difference of two floors. For X in {through, before}:
    // planIn * X = cumulative * total + remainder, 0 <= remainder < total, cumulative < 2^96;
    // every term is below 2^96 * 2^TOTAL_BITS + 2^TOTAL_BITS (2^118 for 16 slices).
    component planBits[nSwaps];
    signal throughProduct[nSwaps];
    signal beforeProduct[nSwaps];
    signal throughCumulative[nSwaps];
    signal beforeCumulative[nSwaps];
    signal throughRemainder[nSwaps];
    signal beforeRemainder[nSwaps];
    component cumulativeBits[nSwaps][2];
    component remainderBits[nSwaps][2];
    component remainderBelow[nSwaps][2];
    for (var s = 0; s < nSwaps; s++) {
        planBits[s] = Num2Bits(AMOUNT);
        planBits[s].in <== planIn[s];
        throughProduct[s] <== planIn[s] * through;
        beforeProduct[s] <== planIn[s] * before;
        throughCumulative[s] <-- throughProduct[s] \ total;
        throughRemainder[s] <-- throughProduct[s] % total;
        beforeCumulative[s] <-- beforeProduct[s] \ total;
        beforeRemainder[s] <-- beforeProduct[s] % total;

        cumulativeBits[s][0] = Num2Bits(AMOUNT);
        cumulativeBits[s][0].in <== throughCumulative[s];
        remainderBits[s][0] = Num2Bits(TOTAL_BITS);
        remainderBits[s][0].in <== throughRemainder[s];
        remainderBelow[s][0] = Num2Bits(TOTAL_BITS);
        remainderBelow[s][0].in <== total - 1 - throughRemainder[s];
        throughProduct[s] === throughCumulative[s] * total + throughRemainder[s];

        cumulativeBits[s][1] = Num2Bits(AMOUNT);
        cumulativeBits[s][1].in <== beforeCumulative[s];
        remainderBits[s][1] = Num2Bits(TOTAL_BITS);
        remainderBits[s][1].in <== beforeRemainder[s];
        remainderBelow[s][1] = Num2Bits(TOTAL_BITS);
        remainderBelow[s][1].in <== total - 1 - beforeRemainder[s];
        beforeProduct[s] === beforeCumulative[s] * total + beforeRemainder[s];

        swapIn[s] === throughCumulative[s] - beforeCumulative[s];
    }

    // snarkjs' Groth16 setup already binds every public input (its input-consistency rows); these
    // squares make the binding of the transition's commitments part of the circuit itself.
    signal oldSquare <== oldCommitment * oldCommitment;
    signal newSquare <== newCommitment * newCommitment;
}
