// Type declarations for the circom/snarkjs libraries the tests read circuits with.
declare module "r1csfile" {
  export interface R1cs {
    nConstraints: number;
    nVars: number;
    constraints: [Record<string, bigint>, Record<string, bigint>, Record<string, bigint>][];
    prime: bigint;
  }
  export function readR1cs(file: string, options: Record<string, unknown>): Promise<R1cs>;
}
declare module "ffjavascript" {
  export class F1Field {
    constructor(prime: bigint);
  }
}
