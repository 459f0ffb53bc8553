import { WitnessCalculatorBuilder, type CircomWitnessCalculator } from "circom_runtime";
import type { CircuitSignals } from "snarkjs";
import { UnprovableError } from "./errors.ts";

/**
 * circom's witness calculator, compiled and instantiated once and reused for every witness.
 * snarkjs' `wtns.calculate` compiles the wasm on each call, which is the larger part of the
 * witness time for the small instances.
 */
export class WarmWitnessCalculator {
  private readonly errors = new RuntimeErrorLog();

  private constructor(
    private readonly calculator: CircomWitnessCalculator,
    private readonly instance: string,
  ) {}

  static async compile(wasm: Uint8Array, instance: string): Promise<WarmWitnessCalculator> {
    return new WarmWitnessCalculator(await WitnessCalculatorBuilder(wasm), instance);
  }

  /** The witness as .wtns bytes; an input the circuit rejects is an UnprovableError. */
  async calculate(signals: CircuitSignals): Promise<Uint8Array> {
    const consoleError = console.error;
    const consoleLog = console.log;
    // The runtime prints "ERROR: ..." before it throws; the error we raise carries the message.
    console.error = () => {};
    console.log = () => {};
    try {
      return await this.calculator.calculateWTNSBin(signals as Record<string, unknown>, true);
    } catch (error) {
      throw new UnprovableError(this.instance, this.freshMessage(error));
    } finally {
      console.error = consoleError;
      console.log = consoleLog;
    }
  }

  /** The failure's kind and only the log lines this failure added, innermost template first. */
  private freshMessage(error: unknown): string {
    const message = error instanceof Error ? error.message : String(error);
    const failure = this.errors.read(message);
    if (!failure)
      return (
        message
          .split("\n")
          .map((line) => line.trim())
          .filter(Boolean)
          .join(" <- ") || "witness calculation failed"
      );
    return [`${failure.kind}.`, failure.fresh.join(" <- ")].filter(Boolean).join(" ");
  }
}

/** Failures raised by the runtime's exception handler: "<kind>. " followed by the whole log. */
const RUNTIME_FAILURE =
  /^(?:Error: )?(Signal not found|Too many signals set|Signal already set|Assert Failed|Not enough memory|Input signal array access exceeds the size|Unknown error)\. ?/;

/**
 * circom's witness runtime appends each failure's lines to one log it never clears, and throws
 * its kind plus the whole log; a calculator reused across inputs reads only what is new.
 */
export class RuntimeErrorLog {
  private reportedLines = 0;

  /** The failure's kind and the lines it added, or undefined for an error the runtime's handler did not raise. */
  read(message: string): { kind: string; fresh: string[] } | undefined {
    const kind = RUNTIME_FAILURE.exec(message);
    if (!kind) return undefined;
    const lines = message
      .slice(kind[0].length)
      .split("\n")
      .map((line) => line.trim())
      .filter(Boolean);
    const fresh = lines.slice(this.reportedLines);
    this.reportedLines = lines.length;
    return { kind: kind[1]!, fresh };
  }
}
