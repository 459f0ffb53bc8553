import * as snarkjs from "snarkjs";
import type { CircuitSignals, Groth16Proof, NumericString } from "snarkjs";
import type { ProvingArtifacts } from "./artifacts.ts";
import { UnprovableError } from "./errors.ts";

export interface ZkProof {
  proof: Groth16Proof;
  /** In the order of the instance's `publicSignals` (circuits/instances.json). */
  publicSignals: NumericString[];
}

export type ProveStage = "witness" | "proof" | "done";

export interface ProveOptions {
  onProgress?: (stage: ProveStage, elapsedMs: number) => void;
}

export interface ProveTimings {
  witnessMs: number;
  proofMs: number;
}

/**
 * A Groth16 proof for one instance: the witness first (so a rejected input is reported as
 * such, not as a prover crash), then the proof. Works in Node and in the browser.
 */
export async function generateProof(
  signals: CircuitSignals,
  artifacts: ProvingArtifacts,
  options: ProveOptions = {},
): Promise<ZkProof & { timings: ProveTimings }> {
  const started = performance.now();
  options.onProgress?.("witness", 0);
  const witness: { type: "mem"; data?: Uint8Array } = { type: "mem" };
  try {
    await withCapturedConsoleErrors(() => snarkjs.wtns.calculate(signals, artifacts.wasm, witness));
  } catch (error) {
    throw new UnprovableError(artifacts.instance, firstLine(error));
  }
  const witnessDone = performance.now();
  options.onProgress?.("proof", witnessDone - started);
  const { proof, publicSignals } = await snarkjs.groth16.prove(artifacts.zkey, witness);
  const done = performance.now();
  options.onProgress?.("done", done - started);
  return { proof, publicSignals, timings: { witnessMs: witnessDone - started, proofMs: done - witnessDone } };
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
  const lines = message.split("\n").map((line) => line.trim()).filter(Boolean);
  return lines.length > 0 ? lines.join(" <- ") : "witness calculation failed";
}
