import { closeSync, existsSync, fsyncSync, openSync, renameSync, rmSync, statSync, writeSync } from "node:fs";
import path from "node:path";

/**
 * Replaces `file` only once the new content is completely on disk: written to a temporary
 * file in the same directory, flushed, then renamed over the original (atomic on POSIX).
 * A crash at any point leaves either the old file or the new one, never a torn one.
 */
export function writeFileSafely(file: string, content: string | Uint8Array): void {
  const temporary = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.tmp`);
  try {
    // Keep the user's permissions; a new file is private by default (positions are secrets).
    const mode = existsSync(file) ? statSync(file).mode & 0o777 : 0o600;
    const fd = openSync(temporary, "wx", mode);
    try {
      if (typeof content === "string") writeSync(fd, content);
      else writeSync(fd, content);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temporary, file);
  } catch (error) {
    rmSync(temporary, { force: true });
    throw error;
  }
}
