/**
 * The witness a cheating prover starts from: every signal computed by the circuit's own witness
 * generator for an input the circuit refuses, with its assertions switched off, so everything
 * after the refused value (its hashed words, the market root, every check) is computed over it.
 * `CircuitUnderTest.violated` then shows which constraints such a witness breaks, and a test may
 * forge the hints further (range-check bits, selectors) to show that no choice of them helps.
 *
 * How: the circom 2 wasm returns error code 4 from a template whose constraint fails, right after
 * printing the message (`call $printErrorMessage; i32.const 4; return`), and every caller passes
 * the code up, so generation stops. This copy of the wasm drops the code instead (`i32.const 4;
 * drop`: the same length, so no offset moves and the module still validates) and generation runs
 * to the end. `load` checks that some sites were patched and that an honest input gives exactly
 * the unpatched generator's witness.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import type { CircuitSignals } from "snarkjs";
import type { InstanceArtifacts } from "../../packages/node/src/artifacts.ts";

interface WitnessCalculator {
  calculateWitness(input: CircuitSignals, sanityCheck: boolean): Promise<bigint[]>;
}
type Builder = (code: Uint8Array) => Promise<WitnessCalculator>;
const RUNTIME = "circom_runtime";

/** Import index of printErrorMessage in circom's wasm (after exceptionHandler). */
const PRINT_ERROR_MESSAGE = 1;
const CALL = 0x10;
const I32_CONST = 0x41;
const ASSERT_FAILED = 0x04;
const RETURN = 0x0f;
const DROP = 0x1a;

/** The code section's byte range (id 10), so data (message strings) is never touched. */
function codeSection(wasm: Uint8Array): [number, number] {
  const leb = (at: number): [number, number] => {
    let value = 0;
    let shift = 0;
    for (;;) {
      const byte = wasm[at++]!;
      value += (byte & 0x7f) * 2 ** shift;
      shift += 7;
      if (byte < 0x80) return [value, at];
    }
  };
  let at = 8; // magic and version
  while (at < wasm.length) {
    const id = wasm[at]!;
    const [size, start] = leb(at + 1);
    if (id === 10) return [start, start + size];
    at = start + size;
  }
  throw new Error("no code section in the wasm");
}

export class LenientWitness {
  private constructor(private readonly calculator: WitnessCalculator) {}

  static async load(artifacts: InstanceArtifacts, honest: CircuitSignals, strict: (input: CircuitSignals) => Promise<bigint[]>): Promise<LenientWitness> {
    if (typeof artifacts.wasm !== "string") throw new Error("LenientWitness needs the wasm as a file path");
    const wasm = new Uint8Array(readFileSync(artifacts.wasm));
    const [start, end] = codeSection(wasm);
    const site = [CALL, PRINT_ERROR_MESSAGE, I32_CONST, ASSERT_FAILED, RETURN];
    let patched = 0;
    for (let at = start; at + site.length <= end; at++) {
      if (site.every((byte, k) => wasm[at + k] === byte)) {
        wasm[at + 4] = DROP;
        patched++;
      }
    }
    assert.ok(patched > 0, `${artifacts.instance}: no assertion sites found in the wasm (has circom's code generation changed?)`);
    const { WitnessCalculatorBuilder } = (await import(RUNTIME)) as { WitnessCalculatorBuilder: Builder };
    const lenient = new LenientWitness(await WitnessCalculatorBuilder(wasm));
    assert.deepEqual(await lenient.calculate(honest), await strict(honest), `${artifacts.instance}: the patched generator must compute the honest witness unchanged`);
    return lenient;
  }

  /** The full witness for `input`, whatever constraints it breaks (the messages are silenced). */
  async calculate(input: CircuitSignals): Promise<bigint[]> {
    const [log, error] = [console.log, console.error];
    console.log = () => {};
    console.error = () => {};
    try {
      return await this.calculator.calculateWitness(input, false);
    } finally {
      console.log = log;
      console.error = error;
    }
  }
}
