import { createHash } from "node:crypto";
import { readFileSync, existsSync } from "node:fs";
import path from "node:path";

const INCLUDE = /^\s*include\s+"([^"]+)"\s*;/gm;

/**
 * Every source file an entry .circom file depends on, following `include` lines the way
 * circom resolves them (relative to the including file, then each library directory).
 */
export function includeGraph(entry: string, libraryDirs: string[]): string[] {
  const seen = new Set<string>();
  const visit = (file: string): void => {
    if (seen.has(file)) return;
    seen.add(file);
    const source = readFileSync(file, "utf8");
    for (const match of source.matchAll(INCLUDE)) {
      const target = match[1]!;
      const candidates = [path.resolve(path.dirname(file), target), ...libraryDirs.map((dir) => path.resolve(dir, target))];
      const found = candidates.find((candidate) => existsSync(candidate));
      // A missing include is circom's error to report, with its own context.
      if (found) visit(found);
    }
  };
  visit(path.resolve(entry));
  return [...seen].sort();
}

/** sha256 over labelled parts: changing any part, or moving bytes between parts, changes it. */
export function hashParts(parts: Record<string, string | Buffer>): string {
  const hash = createHash("sha256");
  for (const [label, value] of Object.entries(parts).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)) /* code-unit order: the same on every machine */) {
    const bytes = typeof value === "string" ? Buffer.from(value) : value;
    hash.update(`${label}\0${bytes.length}\0`);
    hash.update(bytes);
  }
  return hash.digest("hex");
}

/** The files' contents keyed by path relative to `root`, ready for {@link hashParts}. */
export function fileParts(files: string[], root: string): Record<string, Buffer> {
  return Object.fromEntries(files.map((file) => [`file:${path.relative(root, file)}`, readFileSync(file)]));
}
