// snarkjs ships no type declarations; these cover the calls this project makes.
declare module "snarkjs" {
  export type NumericString = string;
  export type SignalValue = bigint | number | string | SignalValue[];
  export type CircuitSignals = Record<string, SignalValue>;

  export interface Groth16Proof {
    pi_a: NumericString[];
    pi_b: NumericString[][];
    pi_c: NumericString[];
    protocol: "groth16";
    curve: "bn128";
  }

  export interface VerificationKey {
    protocol: "groth16";
    curve: string;
    nPublic: number;
    [key: string]: unknown;
  }

  export type ZKArtifact = string | Uint8Array | { type: "mem"; data?: Uint8Array };

  export interface Logger {
    debug(msg: string): void;
    info(msg: string): void;
    warn(msg: string): void;
    error(msg: string): void;
  }

  export const groth16: {
    fullProve(
      input: CircuitSignals,
      wasm: ZKArtifact,
      zkey: ZKArtifact,
      logger?: Logger,
      wtnsCalcOptions?: unknown,
      proverOptions?: unknown,
    ): Promise<{ proof: Groth16Proof; publicSignals: NumericString[] }>;
    prove(
      zkey: ZKArtifact,
      witness: ZKArtifact,
      logger?: Logger,
    ): Promise<{ proof: Groth16Proof; publicSignals: NumericString[] }>;
    verify(vkey: VerificationKey, publicSignals: NumericString[], proof: Groth16Proof, logger?: Logger): Promise<boolean>;
    exportSolidityCallData(proof: Groth16Proof, publicSignals: NumericString[]): Promise<string>;
  };

  export const wtns: {
    calculate(input: CircuitSignals, wasm: ZKArtifact, wtns: ZKArtifact, options?: unknown): Promise<void>;
    check(r1cs: ZKArtifact, wtns: ZKArtifact, logger?: Logger): Promise<boolean>;
    exportJson(wtns: ZKArtifact): Promise<bigint[]>;
  };

  export const zKey: {
    newZKey(r1cs: ZKArtifact, ptau: ZKArtifact, zkey: ZKArtifact, logger?: Logger): Promise<unknown>;
    contribute(zkeyOld: ZKArtifact, zkeyNew: ZKArtifact, name: string, entropy: string, logger?: Logger): Promise<Uint8Array>;
    /** Resolves to the contribution hash, or false (after logging why) for a malformed beacon or iteration count. */
    beacon(zkeyOld: ZKArtifact, zkeyNew: ZKArtifact, name: string, beaconHashHex: string, numIterationsExp: number, logger?: Logger): Promise<Uint8Array | false>;
    /** `snarkjs zkey verify`: true when every contribution chains from the r1cs and ptau; false (after logging why) otherwise. */
    verifyFromR1cs(r1cs: ZKArtifact, ptau: ZKArtifact, zkey: ZKArtifact, logger?: Logger): Promise<boolean>;
    exportVerificationKey(zkey: ZKArtifact, logger?: Logger): Promise<VerificationKey>;
    exportSolidityVerifier(zkey: ZKArtifact, templates: { groth16: string }, logger?: Logger): Promise<string>;
  };

  export const r1cs: {
    info(r1cs: ZKArtifact, logger?: Logger): Promise<{ nConstraints: number; nVars: number; nOutputs: number; nPubInputs: number; nPrvInputs: number }>;
  };

  export const powersOfTau: {
    newAccumulator(curve: unknown, power: number, file: string, logger?: Logger): Promise<unknown>;
    contribute(oldFile: string, newFile: string, name: string, entropy: string, logger?: Logger): Promise<unknown>;
    preparePhase2(oldFile: string, newFile: string, logger?: Logger): Promise<unknown>;
  };

  export const curves: { getCurveFromName(name: string): Promise<{ terminate(): Promise<void> }> };
}
