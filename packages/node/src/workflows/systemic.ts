/**
 * `zks systemic` as a function: read the market, the policy and the book (a directory of
 * position files or a JSONL book, or position files given one by one), check the output
 * directory, run the cascade simulation (the SDK's runSystemicWorkflow) and write report.md,
 * result.json and the charts. Options that name market assets come as text and are parsed once
 * the market is read; every problem is one line naming the file or the flag (exit 2).
 */
import { rmSync } from "node:fs";
import path from "node:path";
import type { Market, Position } from "@zk-solvency/sdk/inputs";
import {
  parseDepth,
  parseQuoteAsset,
  parseShock,
  runSystemicWorkflow,
  sweepPlan,
  systemicSettings,
  SYSTEMIC_OUTPUT_FILES,
  SYSTEMIC_PNG_OF,
  systemicReportFiles,
  SystemicOptionsError,
  type SystemicFile,
  type SystemicInput,
  type SystemicRun,
} from "@zk-solvency/sdk/systemic";
import { readBook } from "../audit/read-book.ts";
import { loadPngRenderer, prepareOutputDir, writeOutputs } from "../backtest-files.ts";
import { loadMarketFile, loadPolicyFile, loadPositionFile } from "./load-inputs.ts";

/** The simulation's options that do not name market assets (those come as text below). */
export type SystemicFileSettings = Omit<SystemicInput, "market" | "policy" | "templates" | "shock" | "depth" | "quote" | "marketSource">;

export interface SystemicFilesOptions {
  market: string;
  policy: string;
  /** A directory of position files or a JSONL book: the templates (or, with asIs, the vaults). */
  book?: string;
  /** Position files, each a template (e.g. the spec's example positions). */
  positions?: readonly string[];
  /** Directory for the outputs (created if missing; files replaced atomically; never an input's place). */
  out: string;
  settings?: SystemicFileSettings;
  /** "WETH=-0.2,WBTC=-0.1" (default: the most volatile asset -20%). */
  shock?: string;
  /** "WETH=50000000": pool depths in whole tokens of the quote asset. */
  depth?: string;
  /** The pools' quote asset by symbol (default: the market's safest asset). */
  quoteAsset?: string;
  /** PNG copies of two charts when @resvg/resvg-js is installed (default true). */
  png?: boolean;
  /** The command line the report records. */
  command?: string;
  /** performance.now() at the start (default: this call's start). */
  startedAt?: number;
  pngRendererModule?: string;
}

export interface WrittenSystemicReport {
  names: string[];
  paths: string[];
  pngs: string[];
  pngNote?: string;
  runtimeMs: number;
}

export interface SystemicFilesResult {
  run: SystemicRun;
  dir: string;
  written: WrittenSystemicReport;
}

/** The templates: the book's positions, then the position files, in that order. */
function loadTemplates(options: SystemicFilesOptions, market: Market): { templates: Position[]; label: string } {
  const templates: Position[] = [];
  const labels: string[] = [];
  if (options.book !== undefined) {
    templates.push(...readBook(options.book, market).map((e) => e.position));
    labels.push(path.basename(options.book));
  }
  for (const file of options.positions ?? []) {
    templates.push(loadPositionFile(file, market));
    labels.push(path.basename(file));
  }
  if (templates.length === 0) throw new SystemicOptionsError("--book", "give a book (a directory of position files or a .jsonl file) or --position files to vary the vaults from");
  return { templates, label: labels.join(", ") };
}

export async function runSystemicFiles(options: SystemicFilesOptions): Promise<SystemicFilesResult> {
  const startedAt = options.startedAt ?? performance.now();
  const market = loadMarketFile(options.market);
  const policy = loadPolicyFile(options.policy, market);
  const { templates, label } = loadTemplates(options, market);
  const quote = options.quoteAsset !== undefined ? parseQuoteAsset(options.quoteAsset, market) : undefined;
  const input: SystemicInput = {
    market,
    policy,
    templates,
    marketSource: options.market,
    ...options.settings,
    ...(quote !== undefined && { quote }),
  };
  // Every option is checked before the output directory is touched; the shock and the depths
  // against the quote asset the workflow will use.
  const checked = systemicSettings(input);
  if (options.shock !== undefined) input.shock = parseShock(options.shock, market, checked.quote);
  if (options.depth !== undefined) input.depth = parseDepth(options.depth, market, checked.quote);
  sweepPlan(input, systemicSettings(input));

  const pngNames = (options.png ?? true) ? Object.values(SYSTEMIC_PNG_OF) : [];
  const dir = prepareOutputDir(
    options.out,
    [...SYSTEMIC_OUTPUT_FILES, ...pngNames],
    [
      { flag: "--market", file: options.market },
      { flag: "--policy", file: options.policy },
      ...(options.book !== undefined ? [{ flag: "--book", file: options.book }] : []),
      ...(options.positions ?? []).map((file) => ({ flag: "--position", file })),
    ],
  );
  const run = runSystemicWorkflow(input);

  const pngs: SystemicFile[] = [];
  let pngNote: string | undefined;
  if (options.png ?? true) {
    const render = await loadPngRenderer(options.pngRendererModule);
    if (render) {
      for (const [svgName, pngName] of Object.entries(SYSTEMIC_PNG_OF)) {
        const svg = run.charts[svgName];
        if (svg !== undefined) pngs.push({ name: pngName, content: render(svg) });
      }
      pngNote = `PNG copies: ${pngs.map((p) => `\`${p.name}\``).join(", ")} (rendered by @resvg/resvg-js).`;
    } else {
      pngNote = "PNG copies were not written: the optional renderer @resvg/resvg-js is not installed (`npm install @resvg/resvg-js` adds it).";
    }
  }
  const runtimeMs = performance.now() - startedAt;
  const files = systemicReportFiles(run, {
    command: options.command ?? "runSystemicFiles",
    inputs: { market: path.basename(options.market), policy: path.basename(options.policy), book: label },
    runtimeMs,
    pngs,
    ...(pngNote !== undefined && { pngNote }),
  });
  const paths = writeOutputs(dir, files);
  // A previous run's outputs that this run does not write (the sweep's charts after --no-sweep,
  // PNGs after --no-png) would describe another run: they go. Only our own names, in our directory.
  const writtenNames = new Set(files.map((f) => f.name));
  for (const name of [...SYSTEMIC_OUTPUT_FILES, ...Object.values(SYSTEMIC_PNG_OF)]) if (!writtenNames.has(name)) rmSync(path.join(dir, name), { force: true });
  return { run, dir, written: { names: files.map((f) => f.name), paths, pngs: pngs.map((p) => p.name), ...(pngNote !== undefined && { pngNote }), runtimeMs } };
}
