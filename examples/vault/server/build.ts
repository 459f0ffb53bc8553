/**
 * The vault page's production build: `vite build` of index.html (the vault) and bench.html (the
 * browser proving benchmark) into examples/vault/dist/, static files any web server can serve
 * beside the JSON endpoints of static.ts.
 *
 *   npx tsx examples/vault/server/build.ts [--out DIR]
 */
import { readdirSync, statSync } from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { build } from "vite";
import { DIST_DIR, EXAMPLE_ROOT, pageConfig } from "./vite-config.ts";

export interface PageBuild {
  outDir: string;
  /** Every file written, relative to outDir, with its size. */
  files: { file: string; bytes: number }[];
  ms: number;
}

function listFiles(dir: string, prefix = ""): { file: string; bytes: number }[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const relative = path.posix.join(prefix, entry.name);
    const full = path.join(dir, entry.name);
    return entry.isDirectory() ? listFiles(full, relative) : [{ file: relative, bytes: statSync(full).size }];
  });
}

/** Builds the page into `outDir` (default examples/vault/dist), replacing what was there. */
export async function buildVaultPage(options: { outDir?: string } = {}): Promise<PageBuild> {
  const outDir = path.resolve(options.outDir ?? DIST_DIR);
  const started = performance.now();
  const config = pageConfig();
  await build({ ...config, build: { ...config.build, outDir } });
  return { outDir, files: listFiles(outDir).sort((a, b) => a.file.localeCompare(b.file)), ms: performance.now() - started };
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.join(EXAMPLE_ROOT, "server", "build.ts")) {
  const { values } = parseArgs({ options: { out: { type: "string" } } });
  buildVaultPage({ outDir: values.out }).then(
    (page) => {
      for (const f of page.files) console.log(`${path.join(path.relative(process.cwd(), page.outDir), f.file)}  ${(f.bytes / 1024).toFixed(0)} KiB`);
      console.log(`built in ${(page.ms / 1000).toFixed(1)} s`);
    },
    (error: unknown) => {
      console.error(`build: ${error instanceof Error ? error.message : String(error)}`);
      process.exit(1);
    },
  );
}
