import { ZksError } from "../core/errors.ts";

/**
 * The risk model cannot evaluate this position under this market: the inputs parse, but
 * they are inconsistent with each other or cannot be proven. Exit code 2 (bad input).
 */
export class ModelError extends ZksError {
  constructor(message: string) {
    super(message, 2);
  }
}

/**
 * A quantity is outside the bounds table of docs/risk-arithmetic.md, so the circuits'
 * range checks would reject it (no value may wrap the BN254 field). Exit code 2.
 */
export class ModelBoundsError extends ModelError {
  constructor(
    /** What is out of bounds, e.g. "value of WETH collateral". */
    readonly quantity: string,
    /** The bound is |x| < 2^bits in the quantity's own unit. */
    readonly bits: number,
    message: string,
  ) {
    super(message);
  }
}
