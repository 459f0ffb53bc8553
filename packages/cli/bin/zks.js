#!/usr/bin/env node
// Entry point of the `zks` CLI. Installed, it runs the compiled dist/; in a checkout of the
// repository (src/ beside dist/, see tools/source-mode.mjs) it runs the TypeScript sources.
import { existsSync } from "node:fs";

const [major] = process.versions.node.split(".").map(Number);
if (major < 22) {
  console.error(`zks: Node.js >= 22 is required (this is ${process.version}). See README.md, "Requirements".`);
  process.exit(2);
}
// snarkjs (through fastfile) leaves zkey FileHandles for the garbage collector to close, and
// Node then warns "Closing file descriptor N on garbage collection" (with DEP0137) at a moment
// that depends on GC timing: noise, not the user's problem, that breaks the CLI's promise of
// one line on stderr per error. Those two are dropped; every other warning prints as Node would.
const gcFileHandle = (warning) => warning.code === "DEP0137" || /^Closing file descriptor \d+ on garbage collection$/.test(warning.message);
process.removeAllListeners("warning");
process.on("warning", (warning) => {
  if (!gcFileHandle(warning)) process.stderr.write(`(node:${process.pid}) ${warning.name}: ${warning.message}\n`);
});

const source = new URL("../src/cli/main.ts", import.meta.url);
const sourceMode = new URL("../../../tools/source-mode.mjs", import.meta.url);
if (existsSync(source) && existsSync(sourceMode)) {
  await import(sourceMode.href);
  await import(source.href);
} else {
  await import("../dist/cli/main.js");
}
