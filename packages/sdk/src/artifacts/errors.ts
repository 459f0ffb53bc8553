import { ZksError } from "../core/errors.ts";

/**
 * A published key file (or the release index) is not what the index, or the caller's pin, says it
 * is: altered, truncated, swapped for another instance's, or inconsistent with its verification
 * key. `file` is where it came from (a URL or a path); `expected` and `actual` are the two values
 * compared (sha256s, byte sizes or key hashes) when the check compares two. Exit code 1: a check
 * failed, the files are refused and nothing is installed.
 */
export class ArtifactIntegrityError extends ZksError {
  constructor(
    readonly file: string,
    readonly problem: string,
    readonly expected?: string,
    readonly actual?: string,
  ) {
    super(`${file}: ${problem}`, 1);
  }
}

/**
 * A release could not be read: unreachable, an HTTP error status (`status`), a redirect to
 * another origin, or an instance the release does not publish. Exit code 3 (setup missing): the
 * keys are not there to check.
 */
export class ArtifactFetchError extends ZksError {
  constructor(
    readonly url: string,
    readonly problem: string,
    readonly status?: number,
  ) {
    super(`${url}: ${problem}`, 3);
  }
}
