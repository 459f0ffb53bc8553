/**
 * Node-only file work of a backtest (runBacktestFiles, `zks backtest`): the output directory
 * (created when missing, never an input file's place), atomic writes of every output, and PNG
 * copies of the charts when the optional renderer @resvg/resvg-js is installed.
 */
import { existsSync, mkdirSync, realpathSync, statSync } from "node:fs";
import path from "node:path";
import { BACKTEST_PNG_OF, backtestReportFiles, type BacktestFile, type BacktestReportMeta, type BacktestRun } from "@zk-solvency/sdk/backtest";
import { InputError } from "@zk-solvency/sdk/core";
import { writeFileSafely } from "./write-file-safely.ts";

/** A file to write into an output directory (the SDK's BacktestFile). */
export type OutputFile = BacktestFile;

const resolved = (file: string): string => (existsSync(file) ? realpathSync(file) : path.resolve(file));

/**
 * Creates `dir` if missing and checks that no output name in it is one of the input files (a
 * position file named results.json in the output directory, say), so a run never replaces its
 * own inputs. `--out` names the flag in messages.
 */
export function prepareOutputDir(dir: string, outputNames: readonly string[], inputs: readonly { flag: string; file: string }[]): string {
  if (existsSync(dir) && !statSync(dir).isDirectory()) throw new InputError("--out", "", `${dir} is a file; --out takes a directory (created if missing)`);
  try {
    mkdirSync(dir, { recursive: true });
  } catch (error) {
    throw new InputError("--out", "", `cannot create the directory ${dir} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  const real = realpathSync(dir);
  for (const name of outputNames) {
    const out = resolved(path.join(real, name));
    for (const { flag, file } of inputs) {
      if (resolved(file) === out) throw new InputError("--out", "", `${path.join(dir, name)} would replace the ${flag} file; choose another directory`);
    }
  }
  return real;
}

/** Writes every output into `dir`, each atomically (an existing file is replaced whole, never torn). */
export function writeOutputs(dir: string, files: readonly OutputFile[]): string[] {
  return files.map(({ name, content }) => {
    const file = path.join(dir, name);
    writeFileSafely(file, content);
    return file;
  });
}

/** Renders one SVG to PNG bytes. */
export type PngRenderer = (svg: string) => Uint8Array;

/** The module name of the optional renderer; not a dependency of the package (see docs/backtest.md, "PNG"). */
export const PNG_RENDERER_MODULE = "@resvg/resvg-js";

/**
 * The PNG renderer when @resvg/resvg-js can be loaded, else undefined. It is imported by a name
 * held in a variable, so neither TypeScript nor a bundler requires it to be installed.
 */
export async function loadPngRenderer(moduleName: string = PNG_RENDERER_MODULE): Promise<PngRenderer | undefined> {
  let resvg: { Resvg: new (svg: string, options?: unknown) => { render(): { asPng(): Uint8Array } } };
  try {
    resvg = (await import(moduleName)) as typeof resvg;
  } catch {
    return undefined;
  }
  if (typeof resvg?.Resvg !== "function") return undefined;
  return (svg) =>
    new resvg.Resvg(svg, {
      fitTo: { mode: "zoom", value: 2 },
      background: "#ffffff",
      font: { loadSystemFonts: true, defaultFontFamily: "DejaVu Sans", sansSerifFamily: "DejaVu Sans" },
    })
      .render()
      .asPng();
}

export interface BacktestReportOptions extends Omit<BacktestReportMeta, "runtimeMs" | "pngs" | "pngNote"> {
  /** performance.now() when the run started: the report states the run time up to its writing. */
  startedAt: number;
  /** Write PNG copies of two charts when @resvg/resvg-js is installed (default true). */
  png?: boolean;
  /** The renderer's module name (tests point it at a module that is not there). */
  pngRendererModule?: string;
}

export interface WrittenBacktestReport {
  /** Every file written, by name, in writing order. */
  names: string[];
  paths: string[];
  /** PNG copies written (none without the renderer or with png false). */
  pngs: string[];
  /** Why PNGs were not written, or which were; also in the report. */
  pngNote?: string;
  runtimeMs: number;
}

/**
 * Writes a run's report.md, results.json, SVG charts and (when the renderer loads) PNG copies
 * into `dir`, each atomically. `dir` should come from prepareOutputDir, checked before the run.
 */
export async function writeBacktestReport(dir: string, run: BacktestRun, options: BacktestReportOptions): Promise<WrittenBacktestReport> {
  const pngs: OutputFile[] = [];
  let pngNote: string | undefined;
  if (options.png ?? true) {
    const render = await loadPngRenderer(options.pngRendererModule);
    if (render) {
      for (const [svgName, pngName] of Object.entries(BACKTEST_PNG_OF)) pngs.push({ name: pngName, content: render(run.charts[svgName as keyof BacktestRun["charts"]]) });
      pngNote = `PNG copies: ${pngs.map((p) => `\`${p.name}\``).join(", ")} (rendered by @resvg/resvg-js).`;
    } else {
      pngNote = "PNG copies were not written: the optional renderer @resvg/resvg-js is not installed (`npm install @resvg/resvg-js` adds it).";
    }
  }
  const runtimeMs = performance.now() - options.startedAt;
  const files = backtestReportFiles(run, { command: options.command, inputs: options.inputs, runtimeMs, pngs, ...(pngNote !== undefined && { pngNote }) });
  const paths = writeOutputs(dir, files);
  return { names: files.map((f) => f.name), paths, pngs: pngs.map((p) => p.name), ...(pngNote !== undefined && { pngNote }), runtimeMs };
}
