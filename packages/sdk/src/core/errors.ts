/**
 * Errors a user can act on. The CLI prints `message` on one line and exits with `exitCode`
 * (formats.md: 2 for bad input); anything else reaching the top level is a bug.
 */
export class ZksError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** Bad input: names the file (or source), the field path and the problem. Exit code 2. */
export class InputError extends ZksError {
  constructor(
    readonly source: string,
    readonly field: string,
    readonly problem: string,
  ) {
    super(`${source}: ${field ? `${field}: ` : ""}${problem}`, 2);
  }
}

/** Missing or inconsistent build artifacts, ptau, or configuration. Exit code 3. */
export class SetupError extends ZksError {
  constructor(message: string) {
    super(message, 3);
  }
}
