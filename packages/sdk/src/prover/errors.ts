import { ZksError } from "../core/errors.ts";

/**
 * The circuit rejected the input: some constraint (a range check, a solvency check) does not
 * hold, so no proof exists. Exit code 1, like a failed check.
 */
export class UnprovableError extends ZksError {
  constructor(
    readonly instance: string,
    readonly detail: string,
  ) {
    super(`${instance}: the circuit rejects this input, so no proof exists (${detail})`, 1);
  }
}
