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
