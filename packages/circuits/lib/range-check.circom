pragma circom 2.1.9;

include "circomlib/circuits/bitify.circom";

// RangeCheck(n): constrains 0 <= in < 2^n (as an integer below the field prime).
//
// Used for one-sided comparisons: `a >= b` is RangeCheck(n)(a - b). That is sound whenever the
// true integer a - b lies in (-(p - 2^n), 2^n): a negative difference wraps to a field element
// above p - |a - b| > 2^n and fails. Every caller states the bounds that make this hold.
// Caller assumptions: n <= 252.
template RangeCheck(n) {
    assert(n <= 252);
    signal input in;
    component bits = Num2Bits(n);
    bits.in <== in;
}

// RemainderCheck(divisor): constrains 0 <= in < divisor for a constant divisor >= 2, the remainder
// of a division by a constant. With divisor = 2^a * b, b odd: in = high * 2^a + low with
// 0 <= low < 2^a (a bits) and 0 <= high < b (two checks of log2ceil(b) bits), which is exactly
// [0, divisor) and costs a + 2 * log2ceil(b) instead of 2 * log2ceil(divisor). `high` is a hint
// pinned by both ranges (the split of an integer below 2^a * b is unique).
// Caller assumptions: divisor < 2^250.
template RemainderCheck(divisor) {
    signal input in;
    var twos = 0;
    var odd = divisor;
    while (odd % 2 == 0) {
        odd = odd \ 2;
        twos++;
    }
    assert(divisor >= 2);
    var oddBits = 0;
    while ((1 << oddBits) < odd) oddBits++;
    signal high;
    if (odd == 1) {
        high <== 0;
        component bits = Num2Bits(twos);
        bits.in <== in;
    } else {
        high <-- in >> twos;
        if (twos > 0) {
            component low = Num2Bits(twos);
            low.in <== in - high * (1 << twos);
        } else {
            high === in;
        }
        component atLeast = Num2Bits(oddBits);
        atLeast.in <== high;
        component below = Num2Bits(oddBits);
        below.in <== odd - 1 - high;
    }
}

// InRange(n, lo, hi): constrains lo <= in <= hi for constants 0 <= lo <= hi with hi - lo < 2^n,
// as in - lo and hi - in both in [0, 2^n). Sound for any field element: below lo, in - lo wraps to
// about p; above hi but below lo + 2^n, hi - in wraps to about p; from lo + 2^n up, in - lo is at
// least 2^n (and below p). Costs 2n constraints.
// Caller assumptions: n <= 252, hi < p - 2^n.
template InRange(n, lo, hi) {
    assert(lo <= hi);
    assert(hi - lo < (1 << n));
    signal input in;
    component above = RangeCheck(n);
    above.in <== in - lo;
    component below = RangeCheck(n);
    below.in <== hi - in;
}
