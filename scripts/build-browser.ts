/**
 * The browser build of the SDK (`npm run build:browser`): src/index.ts bundled for the browser
 * platform into dist/browser/index.js, and the prover's Web Worker into
 * dist/browser/prover-worker.js (index.js starts it from beside itself). package.json's
 * "browser" export condition points at them.
 *
 * esbuild, not Vite's library mode: two self-contained ES modules are all this needs, esbuild
 * already comes with tsx (same version), builds both in about a second, and its metafile lists
 * every module that went in, which is what the Node built-in check below reads. Vite serves and
 * builds the example page (examples/vault), a different job.
 *
 * Both files bundle their dependencies (snarkjs' and ffjavascript's browser builds, circom's
 * witness runtime, ethers, zod, poseidon-lite): they load in any page, with or without a bundler.
 * Minified with names kept (ZksError subclasses report `name`), with source maps.
 *
 *   npx tsx scripts/build-browser.ts [--outdir dist/browser] [--no-minify]
 */
import { builtinModules } from "node:module";
import { rmSync } from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import * as esbuild from "esbuild";
import { PACKAGE_ROOT } from "../packages/node/src/setup/paths.ts";

export const BROWSER_ENTRIES = {
  index: path.join(PACKAGE_ROOT, "packages", "sdk", "src", "index.ts"),
  "prover-worker": path.join(PACKAGE_ROOT, "packages", "sdk", "src", "browser", "prover-worker.ts"),
} as const;

export const DEFAULT_OUTDIR = path.join(PACKAGE_ROOT, "dist", "browser");

/** Source folders that are Node-only: nothing of them may reach the browser bundle. */
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
  outdir: string;
  /** Output files (relative to the package root) and their sizes in bytes. */
  outputs: { file: string; bytes: number }[];
  /** Inputs bundled, relative to the package root. */
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
  outdir?: string;
  minify?: boolean;
  /** Other entry points (name -> file) than the SDK's two; for testing the check itself. */
  entries?: Record<string, string>;
  log?: (line: string) => void;
}

/** Builds both bundles; throws NodeBuiltinInBrowserBuild (leaving no output) when Node code would reach the browser. */
export async function buildBrowserBundle(options: BrowserBuildOptions = {}): Promise<BrowserBuild> {
  const outdir = path.resolve(options.outdir ?? DEFAULT_OUTDIR);
  const minify = options.minify ?? true;
  rmSync(outdir, { recursive: true, force: true });
  let result: esbuild.BuildResult<{ metafile: true }>;
  try {
    result = await bundle(options.entries ?? BROWSER_ENTRIES, outdir, minify);
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
    rmSync(outdir, { recursive: true, force: true });
    throw new NodeBuiltinInBrowserBuild(`the browser bundle is not browser-safe:\n  ${problems.join("\n  ")}`);
  }
  const outputs = Object.entries(result.metafile.outputs)
    .filter(([file]) => file.endsWith(".js"))
    .map(([file, info]) => ({ file, bytes: info.bytes }));
  for (const w of result.warnings) options.log?.(`warning: ${w.text}`);
  for (const o of outputs) options.log?.(`${o.file}  ${(o.bytes / 1024).toFixed(0)} KiB`);
  return { outdir, outputs, inputs: Object.keys(result.metafile.inputs), metafile: result.metafile };
}

function bundle(entryPoints: Record<string, string>, outdir: string, minify: boolean) {
  return esbuild.build({
    absWorkingDir: PACKAGE_ROOT,
    entryPoints,
    outdir,
    bundle: true,
    // Two self-contained files: index.js finds prover-worker.js beside itself by URL, so no
    // shared chunk may move code (and that URL) elsewhere.
    splitting: false,
    format: "esm",
    platform: "browser",
    // ES2022: bigint literals, top-level await, class fields; every current browser has them.
    target: "es2022",
    conditions: ["browser"],
    minify,
    keepNames: true,
    sourcemap: true,
    metafile: true,
    legalComments: "linked",
    logLevel: "silent",
    define: { "process.env.NODE_ENV": '"production"' },
  });
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.join(PACKAGE_ROOT, "scripts", "build-browser.ts")) {
  const { values } = parseArgs({ options: { outdir: { type: "string" }, "no-minify": { type: "boolean", default: false } } });
  buildBrowserBundle({ outdir: values.outdir, minify: !values["no-minify"], log: (line) => console.log(line) }).then(
    () => process.exit(0),
    (error: unknown) => {
      console.error(`build:browser: ${error instanceof Error ? error.message : String(error)}`);
      process.exit(1);
    },
  );
}
