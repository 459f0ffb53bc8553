#!/usr/bin/env node
// Entry point of the `zks` CLI. Installed, it runs the compiled dist/; in a checkout of the
// repository (src/ beside dist/, see tools/source-mode.mjs) it runs the TypeScript sources.
import { existsSync } from "node:fs";

const [major] = process.versions.node.split(".").map(Number);
if (major < 22) {
  console.error(`zks: Node.js >= 22 is required (this is ${process.version}). See README.md, "Requirements".`);
  process.exit(2);
}
const source = new URL("../src/cli/main.ts", import.meta.url);
const sourceMode = new URL("../../../tools/source-mode.mjs", import.meta.url);
if (existsSync(source) && existsSync(sourceMode)) {
  await import(sourceMode.href);
  await import(source.href);
} else {
  await import("../dist/cli/main.js");
}
