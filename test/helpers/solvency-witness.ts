/**
 * A reusable witness calculator for the differential tests: snarkjs' `wtns.calculate` compiles
 * the wasm and round-trips a .wtns file on every call (~0.4 s for a solvency instance), which is
 * too slow for hundreds of cases. This compiles the instance's wasm once with circom_runtime (the
 * very builder snarkjs uses internally) and returns witnesses as bigints.
 *
 * The circom witness generator asserts every constraint while it computes, so "the witness
 * computes" is "the circuit accepts the input" (spot-checked with CircuitUnderTest.violated).
 */
import { readFileSync } from "node:fs";
import type { CircuitSignals } from "snarkjs";
import type { InstanceArtifacts } from "../../packages/node/src/artifacts.ts";
import { RuntimeErrorLog } from "../../packages/sdk/src/prover/warm-witness.ts";

interface WitnessCalculator {
  calculateWitness(input: CircuitSignals, sanityCheck: boolean): Promise<bigint[]>;
}
type Builder = (code: Uint8Array) => Promise<WitnessCalculator>;

/** circom_runtime ships no types; a computed specifier keeps it an untyped dynamic import. */
const RUNTIME = "circom_runtime";

export type WitnessResult = { accepted: true; witness: bigint[] } | { accepted: false; error: string };

export class FastWitness {
  private readonly errors = new RuntimeErrorLog();

  private constructor(private readonly calculator: WitnessCalculator) {}

  static async load(artifacts: InstanceArtifacts): Promise<FastWitness> {
    if (typeof artifacts.wasm !== "string") throw new Error("FastWitness needs the wasm as a file path");
    const { WitnessCalculatorBuilder } = (await import(RUNTIME)) as { WitnessCalculatorBuilder: Builder };
    return new FastWitness(await WitnessCalculatorBuilder(readFileSync(artifacts.wasm)));
  }

  /** The witness, or why the circuit refused the input (an assertion failed). */
  async calculate(input: CircuitSignals): Promise<WitnessResult> {
    // The runtime prints "ERROR: ..." before it throws; the error is returned instead.
    const log = console.log;
    const error = console.error;
    console.log = () => {};
    console.error = () => {};
    try {
      return { accepted: true, witness: await this.calculator.calculateWitness(input, true) };
    } catch (e) {
      return { accepted: false, error: this.describe(e) };
    } finally {
      console.log = log;
      console.error = error;
    }
  }

  /** The failing template and its callers, innermost first (only this failure's lines). */
  private describe(e: unknown): string {
    if (!(e instanceof Error)) return String(e);
    const failure = this.errors.read(e.message);
    if (!failure) return `witness calculation failed: ${e.message.split("\n").filter(Boolean).join(" <- ")}`;
    return `${failure.kind}: ${failure.fresh.join(" <- ")}`;
  }
}
