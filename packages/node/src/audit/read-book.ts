import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { InputError } from "@zk-solvency/sdk/core";
import { parsePosition } from "@zk-solvency/sdk/inputs";
import type { Market, Position } from "@zk-solvency/sdk/inputs";
import { readJsonFile } from "../read-json.ts";

export interface BookEntry {
  position: Position;
  /** "dir/alice.json" or "book.jsonl:12", for errors. */
  source: string;
}

/**
 * The positions of an audit: a directory of position files (formats.md; *.json, in name order)
 * or a JSONL file with one position object per line (blank lines skipped). Each is validated
 * against the market; errors name the file (and line) and field.
 */
export function readBook(location: string, market: Market): BookEntry[] {
  let stat;
  try {
    stat = statSync(location);
  } catch {
    throw new InputError(location, "", "not found (expected a directory of position files or a .jsonl file)");
  }
  if (stat.isDirectory()) {
    const files = readdirSync(location)
      .filter((name) => name.endsWith(".json"))
      .sort();
    if (files.length === 0) throw new InputError(location, "", "the directory holds no .json position files");
    return files.map((name) => {
      const source = path.join(location, name);
      return { position: parsePosition(readJsonFile(source), source, market), source };
    });
  }
  const entries: BookEntry[] = [];
  readFileSync(location, "utf8")
    .split("\n")
    .forEach((line, i) => {
      if (line.trim() === "") return;
      const source = `${location}:${i + 1}`;
      let json: unknown;
      try {
        json = JSON.parse(line);
      } catch (error) {
        throw new InputError(source, "", `malformed JSON (${(error as Error).message})`);
      }
      entries.push({ position: parsePosition(json, source, market), source });
    });
  if (entries.length === 0) throw new InputError(location, "", "the file holds no positions (expected one JSON position per line)");
  return entries;
}
