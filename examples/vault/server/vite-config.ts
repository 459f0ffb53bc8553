/**
 * The page's Vite configuration, shared by the production build (build.ts: `vite build` into
 * examples/vault/dist) and the development server (start.ts --dev).
 *
 * The SDK comes from the workspace through its package exports. In this checkout the
 * "@zk-solvency/source" condition picks the TypeScript sources (Vite compiles them), so the example
 * needs no package build first; an installed @zk-solvency/sdk resolves to its dist/ instead,
 * which test/vite-consumer.e2e.test.ts builds a fresh app against.
 */
import path from "node:path";
import { defaultClientConditions, type InlineConfig } from "vite";
import { PACKAGE_ROOT } from "../../../packages/node/src/setup/paths.ts";

export const EXAMPLE_ROOT = path.join(PACKAGE_ROOT, "examples", "vault");
/** Where `vite build` writes the page (git-ignored). */
export const DIST_DIR = path.join(EXAMPLE_ROOT, "dist");

/** The configuration both modes share: the two pages, the SDK's sources, the worker as an ES module. */
export function pageConfig(): InlineConfig {
  return {
    configFile: false,
    root: EXAMPLE_ROOT,
    logLevel: "warn",
    clearScreen: false,
    resolve: { conditions: ["@zk-solvency/source", ...defaultClientConditions] },
    // No worker settings: Vite follows BrowserProver's `new Worker(new URL("./prover-worker.js",
    // import.meta.url), { type: "module" })` and bundles the worker as an asset of its own, as it
    // does for any app installing the package (test/vite-consumer.e2e.test.ts).
    build: {
      outDir: DIST_DIR,
      emptyOutDir: true,
      // ES2022: bigint literals and top-level await, which the SDK and snarkjs use.
      target: "es2022",
      // One chunk of ethers + the SDK's model and planner is expected to be large; the worker
      // holds snarkjs. Say so when a chunk grows past 1.5 MB rather than at Vite's 500 kB.
      chunkSizeWarningLimit: 1536,
      rolldownOptions: { input: { index: path.join(EXAMPLE_ROOT, "index.html"), bench: path.join(EXAMPLE_ROOT, "bench.html") } },
    },
  };
}
