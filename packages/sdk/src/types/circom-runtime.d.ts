// circom_runtime and ffjavascript ship no type declarations; these cover the calls the warm
// prover makes (the same versions snarkjs pins).
declare module "circom_runtime" {
  export interface CircomWitnessCalculator {
    /** The witness as the bytes of a .wtns file, which snarkjs' prover reads directly. */
    calculateWTNSBin(input: Record<string, unknown>, sanityCheck: boolean): Promise<Uint8Array>;
  }
  export function WitnessCalculatorBuilder(code: Uint8Array, options?: Record<string, unknown>): Promise<CircomWitnessCalculator>;
}

declare module "ffjavascript" {
  export interface Curve {
    terminate(): Promise<void>;
  }
  export function buildBn128(singleThread?: boolean): Promise<Curve>;
}
