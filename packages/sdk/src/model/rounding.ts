/**
 * Integer division with a stated rounding, for signed bigints (docs/risk-arithmetic.md: "all
 * divisions are stated with their rounding; nothing else rounds"). BigInt `/` truncates toward
 * zero, which is neither floor nor ceiling for negative operands, so the model never uses it
 * directly on signed values.
 */

function nonZero(divisor: bigint): void {
  if (divisor === 0n) throw new RangeError("division by zero");
}

/** floor(a / b) for any signs, b != 0. */
export function floorDiv(a: bigint, b: bigint): bigint {
  nonZero(b);
  const quotient = a / b;
  return a % b !== 0n && a < 0n !== b < 0n ? quotient - 1n : quotient;
}

/** ceil(a / b) for any signs, b != 0. */
export function ceilDiv(a: bigint, b: bigint): bigint {
  nonZero(b);
  const quotient = a / b;
  return a % b !== 0n && a < 0n === b < 0n ? quotient + 1n : quotient;
}

/** a / b rounded to the nearest integer, halves away from zero (2.5 -> 3, -2.5 -> -3). */
export function roundHalfAway(a: bigint, b: bigint): bigint {
  nonZero(b);
  const n = a < 0n ? -a : a;
  const d = b < 0n ? -b : b;
  const magnitude = (2n * n + d) / (2n * d);
  return a < 0n !== b < 0n ? -magnitude : magnitude;
}

/** floor(sqrt(n)) for n >= 0 (Newton's method on bigints, exact). */
export function isqrtFloor(n: bigint): bigint {
  if (n < 0n) throw new RangeError(`square root of a negative number (${n})`);
  if (n < 2n) return n;
  // Start above the root: 2^ceil(bits/2) >= sqrt(n); Newton then decreases monotonically.
  let x = 1n << BigInt(Math.ceil(n.toString(2).length / 2));
  for (;;) {
    const y = (x + n / x) >> 1n;
    if (y >= x) return x;
    x = y;
  }
}

/** ceil(sqrt(n)) for n >= 0: the smallest r with r^2 >= n. */
export function isqrtCeil(n: bigint): bigint {
  const root = isqrtFloor(n);
  return root * root === n ? root : root + 1n;
}

export const abs = (x: bigint): bigint => (x < 0n ? -x : x);
