import * as snarkjs from "snarkjs";
import type { CircuitSignals } from "snarkjs";
import type { Artifact } from "./artifacts.ts";
import { UnprovableError } from "./errors.ts";

export type WitnessBuffer = { type: "mem"; data?: Uint8Array };

/**
 * The full witness of a circuit for `signals`, in memory. An input the circuit rejects (a
 * failed range check or solvency check) becomes an UnprovableError naming the template.
 */
export async function calculateWitness(signals: CircuitSignals, wasm: Artifact, instance: string): Promise<WitnessBuffer> {
  const witness: WitnessBuffer = { type: "mem" };
  try {
    await withCapturedConsoleErrors(() => snarkjs.wtns.calculate(signals, wasm, witness));
  } catch (error) {
    throw new UnprovableError(instance, firstLine(error));
  }
  return witness;
}

/**
 * circom's witness calculator prints "ERROR: ..." to the console before it throws; the
 * message is already in the error we report, so it is kept off the user's terminal.
 */
let captureDepth = 0;
let originalConsoleError: typeof console.error | undefined;
async function withCapturedConsoleErrors<T>(work: () => Promise<T>): Promise<T> {
  if (captureDepth++ === 0) {
    originalConsoleError = console.error;
    console.error = () => {};
  }
  try {
    return await work();
  } finally {
    if (--captureDepth === 0) console.error = originalConsoleError!;
  }
}

/** circom reports the failing template and its callers on separate lines; one line for the user. */
function firstLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const lines = message
    .split("\n")
    .map((line) => line.trim())
    .filter(Boolean);
  return lines.length > 0 ? lines.join(" <- ") : "witness calculation failed";
}
