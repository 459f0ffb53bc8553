#!/usr/bin/env node
// Entry point of the `zks` CLI. The toolkit is written in TypeScript and run through tsx,
// so a clone works without a compile step.
const [major] = process.versions.node.split(".").map(Number);
if (major < 22) {
  console.error(`zks: Node.js >= 22 is required (this is ${process.version}). See README.md, "Requirements".`);
  process.exit(2);
}
const { register } = await import("tsx/esm/api");
register();
await import("../src/cli/main.ts");
