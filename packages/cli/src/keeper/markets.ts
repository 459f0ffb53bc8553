/**
 * The market of an epoch, as the keeper reads it: the operator's oracle feed on disk (config
 * `market`), a file or a directory of files, exactly as the owner's CLI reads one. A market is
 * used only when its root, computed here over the instance's slots, is the root the oracle
 * published for that epoch: a file for another epoch, a tampered or a missing one is logged and
 * skipped, never used (a proof over it could not be accepted anyway, and a plan over it would
 * act on prices nobody published).
 */
import { readdirSync, statSync } from "node:fs";
import path from "node:path";
import type { CircuitLayout } from "@zk-solvency/sdk/commitment";
import { marketRoot } from "@zk-solvency/sdk/commitment";
import { ZksError } from "@zk-solvency/sdk/core";
import { parseMarket } from "@zk-solvency/sdk/inputs";
import type { Market } from "@zk-solvency/sdk/inputs";
import { readJsonFile } from "@zk-solvency/node";

export type MarketLookup = { market: Market; file: string } | { market: null; problem: string };

interface Parsed {
  mtimeMs: number;
  size: number;
  result: { market: Market; root: bigint } | { error: string };
}

export class MarketSource {
  private readonly parsed = new Map<string, Parsed>();

  constructor(
    /** A market file, or a directory of them (every *.json in it). */
    readonly location: string,
    private readonly layout: CircuitLayout,
  ) {}

  private files(): string[] {
    let stat;
    try {
      stat = statSync(this.location);
    } catch {
      return [];
    }
    if (!stat.isDirectory()) return [this.location];
    return readdirSync(this.location)
      .filter((name) => name.endsWith(".json") && !name.startsWith("."))
      .sort()
      .map((name) => path.join(this.location, name));
  }

  /** Parses a file once per modification (the feed may rewrite files while the keeper runs). */
  private read(file: string): Parsed["result"] {
    let stat;
    try {
      stat = statSync(file);
    } catch {
      return { error: "file not found" };
    }
    const cached = this.parsed.get(file);
    if (cached && cached.mtimeMs === stat.mtimeMs && cached.size === stat.size) return cached.result;
    let result: Parsed["result"];
    try {
      const market = parseMarket(readJsonFile(file), file);
      result = { market, root: marketRoot(market, this.layout) };
    } catch (error) {
      result = { error: error instanceof ZksError ? error.message : String(error) };
    }
    this.parsed.set(file, { mtimeMs: stat.mtimeMs, size: stat.size, result });
    return result;
  }

  /** The market of `epoch` whose root is `root`, or why there is none. */
  lookup(epoch: bigint, root: bigint): MarketLookup {
    const files = this.files();
    if (files.length === 0) return { market: null, problem: `no market file at ${this.location}` };
    const problems: string[] = [];
    for (const file of files) {
      const result = this.read(file);
      if ("error" in result) {
        problems.push(result.error);
        continue;
      }
      if (BigInt(result.market.epoch) !== epoch) continue;
      if (result.root === root) return { market: result.market, file };
      problems.push(`${file}: epoch ${epoch}'s marketRoot is ${result.root}, but the oracle published ${root}: not the published market`);
    }
    if (problems.length > 0) return { market: null, problem: problems.join("; ") };
    return { market: null, problem: `no market file for epoch ${epoch} at ${this.location}` };
  }
}
