import { readFileSync } from "node:fs";
import { InputError } from "@zk-solvency/sdk/core";

/** Reads a text input file; a missing or unreadable file is an InputError (exit 2). */
export function readTextFile(file: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const problem = code === "ENOENT" ? "file not found" : code === "EISDIR" ? "is a directory, not a file" : `cannot be read (${code})`;
    throw new InputError(file, "", problem);
  }
}

/** Reads and parses a JSON input file; a missing or malformed file is an InputError (exit 2). */
export function readJsonFile(file: string): unknown {
  const text = readTextFile(file);
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new InputError(file, "", `malformed JSON (${(error as Error).message})`);
  }
}
