/**
 * The browser-safety check of @zk-solvency/sdk (`npm run check:browser`): every entry point the
 * package exports (".", "./model", "./prover", ..., "./prover-worker") bundled by esbuild for the
 * browser platform, from its sources, and the bundle's metafile read for anything Node-only: an
 * import of a Node built-in, or a module of packages/node or packages/cli. Each entry is bundled
 * on its own (no shared chunks), so the sizes it reports are what a page importing only that
 * entry pays, minified, before its bundler's own tree-shaking.
 *
 * The SDK ships as ES modules compiled by tsc (packages/sdk/dist); bundlers (Vite, webpack,
 * esbuild) take it from there, and test/vite-consumer.e2e.test.ts builds a fresh Vite app against
 * the packed package. Nothing here is shipped: with --outdir it writes the self-contained bundles
 * for a look (or for a page without a bundler), else it only checks.
 *
 * esbuild, not Vite: one call per entry point, about a second for all of them, and a metafile
 * listing every module that went in, which is what nodeLeaks reads. The eslint boundary rules
 * (packages/sdk may not import node:*, @zk-solvency/node or /cli) say the same thing at the
 * source; this check also catches what a dependency pulls in.
 *
 *   npx tsx scripts/build-browser.ts [--outdir DIR] [--no-minify]
 */
import { builtinModules } from "node:module";
import { readFileSync, rmSync } from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import * as esbuild from "esbuild";
import { PACKAGE_ROOT } from "../packages/node/src/setup/paths.ts";

const SDK_DIR = path.join(PACKAGE_ROOT, "packages", "sdk");

/**
 * The SDK's entry points from its package.json `exports`: entry name ("index" for ".", else the
 * subpath: "model", "prover-worker") -> the source file its "@zk-solvency/source" condition names.
 */
export function sdkEntries(): Record<string, string> {
  const pkg = JSON.parse(readFileSync(path.join(SDK_DIR, "package.json"), "utf8")) as { exports: Record<string, string | Record<string, string>> };
  const entries: Record<string, string> = {};
  for (const [subpath, target] of Object.entries(pkg.exports)) {
    if (typeof target === "string") continue; // "./package.json"
    const source = target["@zk-solvency/source"];
    if (!source) throw new Error(`packages/sdk/package.json: exports["${subpath}"] has no "@zk-solvency/source" condition`);
    entries[subpath === "." ? "index" : subpath.replace(/^\.\//, "")] = path.join(SDK_DIR, source);
  }
  return entries;
}

/** Source folders that are Node-only: nothing of them may reach a browser bundle. */
const NODE_ONLY_SOURCES = ["packages/node/", "packages/cli/"];

const BUILTINS = new Set(builtinModules.flatMap((name) => [name, `node:${name}`]));

/**
 * Bare imports named like a Node built-in that resolve to an npm package written for the browser:
 * `buffer` (feross/buffer), a declared dependency of @zk-kit/utils (under @zk-kit/baby-jubjub and
 * poseidon-cipher, the keeper-key encryption). Allowed only when esbuild resolved the import to
 * that package's folder, never to the built-in itself.
 */
const BROWSER_PACKAGES: Record<string, string> = { buffer: "node_modules/buffer/" };

export interface BrowserBuild {
  /** Where the bundles were written; null when only checked. */
  outdir: string | null;
  /** One per entry point: its name, output file name and minified size in bytes. */
  outputs: { entry: string; file: string; bytes: number }[];
  /** Inputs bundled (every entry), relative to the repository root. */
  inputs: string[];
  metafile: esbuild.Metafile;
}

export class NodeBuiltinInBrowserBuild extends Error {}

/**
 * Why a metafile is not browser-safe: an import of a Node built-in (kept external or resolved to
 * anything), or a Node-only source folder of this package among the inputs. Empty when it is.
 */
export function nodeLeaks(metafile: esbuild.Metafile): string[] {
  const problems: string[] = [];
  for (const [input, info] of Object.entries(metafile.inputs)) {
    if (NODE_ONLY_SOURCES.some((dir) => input.startsWith(dir))) problems.push(`${input}: Node-only source in the browser bundle`);
    for (const imported of info.imports) {
      const name = imported.original ?? imported.path;
      const polyfill = BROWSER_PACKAGES[name] !== undefined && !imported.external && imported.path.startsWith(BROWSER_PACKAGES[name]!);
      if (imported.path.startsWith("node:") || (BUILTINS.has(name) && !polyfill)) {
        problems.push(`${input} imports the Node built-in "${imported.original ?? imported.path}"`);
      }
    }
  }
  for (const [output, info] of Object.entries(metafile.outputs)) {
    for (const imported of info.imports) {
      if (imported.external) problems.push(`${output} keeps the import "${imported.path}" external`);
    }
  }
  return problems;
}

export interface BrowserBuildOptions {
  /** Write the bundles here; without it nothing is written. */
  outdir?: string;
  minify?: boolean;
  /** Other entry points (name -> file) than the SDK's; for testing the check itself. */
  entries?: Record<string, string>;
  log?: (line: string) => void;
}

/** Bundles every entry point for the browser; throws NodeBuiltinInBrowserBuild (writing nothing) when Node code would reach one. */
export async function buildBrowserBundle(options: BrowserBuildOptions = {}): Promise<BrowserBuild> {
  const outdir = options.outdir ? path.resolve(options.outdir) : null;
  const minify = options.minify ?? true;
  const entries = options.entries ?? sdkEntries();
  if (outdir) rmSync(outdir, { recursive: true, force: true });
  let result: esbuild.BuildResult<{ metafile: true }>;
  try {
    result = await bundle(entries, outdir, minify);
  } catch (error) {
    // esbuild itself refuses what the browser platform cannot resolve, Node built-ins first of all.
    const messages = ((error as { errors?: esbuild.Message[] }).errors ?? []).map((m) => `${m.location ? `${m.location.file}:${m.location.line}: ` : ""}${m.text}`);
    if (messages.length === 0) throw error;
    const builtin = messages.some((m) => /node:|built-in|Node\.js/i.test(m));
    const Failure = builtin ? NodeBuiltinInBrowserBuild : Error;
    throw new Failure(`the browser bundle does not build${builtin ? " (Node built-ins)" : ""}:\n  ${messages.join("\n  ")}`);
  }
  const problems = nodeLeaks(result.metafile);
  if (problems.length > 0) {
    if (outdir) rmSync(outdir, { recursive: true, force: true });
    throw new NodeBuiltinInBrowserBuild(`the browser bundle is not browser-safe:\n  ${problems.join("\n  ")}`);
  }
  const outputs = Object.entries(result.metafile.outputs)
    .filter(([file]) => file.endsWith(".js"))
    .map(([file, info]) => ({ entry: path.basename(file, ".js"), file: path.basename(file), bytes: info.bytes }))
    .sort((a, b) => a.entry.localeCompare(b.entry));
  for (const w of result.warnings) options.log?.(`warning: ${w.text}`);
  for (const o of outputs) options.log?.(`${o.entry.padEnd(14)} ${(o.bytes / 1024).toFixed(0).padStart(6)} KiB`);
  return { outdir, outputs, inputs: Object.keys(result.metafile.inputs), metafile: result.metafile };
}

function bundle(entryPoints: Record<string, string>, outdir: string | null, minify: boolean) {
  return esbuild.build({
    absWorkingDir: PACKAGE_ROOT,
    entryPoints,
    // Without an outdir esbuild still needs one to name the outputs; nothing is written.
    outdir: outdir ?? path.join(PACKAGE_ROOT, "dist", "browser-check"),
    write: outdir !== null,
    bundle: true,
    // Each entry self-contained: its size is what importing that entry alone costs.
    splitting: false,
    format: "esm",
    platform: "browser",
    // ES2022: bigint literals, top-level await, class fields; every current browser has them.
    target: "es2022",
    // The SDK's sources in this checkout, then each dependency's browser build (snarkjs, ffjavascript).
    conditions: ["@zk-solvency/source", "browser"],
    minify,
    keepNames: true,
    sourcemap: outdir !== null,
    metafile: true,
    legalComments: "none",
    logLevel: "silent",
    define: { "process.env.NODE_ENV": '"production"' },
  });
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.join(PACKAGE_ROOT, "scripts", "build-browser.ts")) {
  const { values } = parseArgs({ options: { outdir: { type: "string" }, "no-minify": { type: "boolean", default: false } } });
  buildBrowserBundle({ outdir: values.outdir, minify: !values["no-minify"], log: (line) => console.log(line) }).then(
    (build) => {
      console.log(
        `every entry point of @zk-solvency/sdk is browser-safe (${build.outputs.length} entries, ${build.inputs.length} modules)${build.outdir ? `; bundles in ${build.outdir}` : ""}`,
      );
      process.exit(0);
    },
    (error: unknown) => {
      console.error(`check:browser: ${error instanceof Error ? error.message : String(error)}`);
      process.exit(1);
    },
  );
}
