#!/usr/bin/env node
// Builds one TypeScript workspace package (packages/sdk, node or cli) into its dist/: ESM .js,
// .d.ts and maps from `tsc -p tsconfig.build.json`, then makes the declarations usable by a
// consumer and checks what the built files import. Run from the package directory (its `build`
// and `prepack` scripts do: `node ../../tools/build-package.mjs`), or with the directory as the
// argument. Only a checkout runs this: an installed package ships the finished dist/.
//
// Why the declaration step: snarkjs, circom_runtime and ffjavascript ship no types, and the
// sources type them with ambient `declare module "snarkjs" { ... }` files
// (packages/sdk/src/types/*.d.ts). tsc neither emits nor references those, so an emitted
// `import type { Groth16Proof } from "snarkjs"` would leave a consumer's strict tsc with TS7016
// (or, under skipLibCheck, silently `any`). Shipping the ambient files and referencing them
// would put a global `declare module "snarkjs"` into every consumer's program, which then
// overrides @types/snarkjs or clashes with the consumer's own declaration of it. So each
// package ships the declarations as an ordinary module, dist/types/<module>.d.ts, and the
// emitted declarations import that file instead of the untyped package. The types are
// structural, so the sdk's and node's copies are interchangeable.
//
// The checks fail the build, naming the file and the import, when:
// - a built .js imports a package that is not among the package's dependencies (tsx, hardhat,
//   circom2 anywhere but as node's optional peer...), so an install never lacks a module;
// - an emitted .d.ts imports a module a consumer cannot type with the package's dependencies,
//   or (for the browser-safe sdk) a Node built-in.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { builtinModules, createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const AMBIENT_DIR = path.join(REPO, "packages", "sdk", "src", "types");
const require = createRequire(import.meta.url);
const ts = require("typescript");

function fail(message) {
  console.error(`build-package: ${message}`);
  process.exit(1);
}

const packageDir = path.resolve(process.argv[2] ?? process.cwd());
const manifestPath = path.join(packageDir, "package.json");
if (!existsSync(manifestPath)) fail(`${packageDir}: no package.json`);
const manifest = JSON.parse(readFileSync(manifestPath, "utf8"));
const finalDir = path.join(packageDir, "dist");
// Built beside dist/ and swapped in at the end, so dist/ is never half-built or missing while a
// package that depends on it builds (and a failed build leaves the last good one).
const distDir = path.join(packageDir, `.dist-next-${process.pid}`);
const label = manifest.name;
// The sdk is the browser-safe package: its public types must not need @types/node.
const browserSafe = manifest.name === "@zk-solvency/sdk";

// A fresh output directory: a file left by a source that was since removed would otherwise be packed.
rmSync(distDir, { recursive: true, force: true });
process.on("exit", () => rmSync(distDir, { recursive: true, force: true }));
const started = Date.now();
const tsc = spawnSync(process.execPath, [require.resolve("typescript/bin/tsc"), "-p", "tsconfig.build.json", "--outDir", distDir], { cwd: packageDir, stdio: "inherit" });
if (tsc.status !== 0) fail(`${label}: tsc -p ${path.join(packageDir, "tsconfig.build.json")} failed (exit ${tsc.status ?? tsc.signal})`);

function walk(dir, out = []) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) walk(full, out);
    else out.push(full);
  }
  return out;
}
const files = walk(distDir);
const declarations = files.filter((f) => f.endsWith(".d.ts"));
const scripts = files.filter((f) => f.endsWith(".js"));

// --- The untyped packages' declarations, as modules ---------------------------------------
/** module name -> the statements of its ambient `declare module "name" { ... }` block. */
const ambient = new Map();
for (const name of readdirSync(AMBIENT_DIR).filter((f) => f.endsWith(".d.ts"))) {
  const file = path.join(AMBIENT_DIR, name);
  const source = ts.createSourceFile(file, readFileSync(file, "utf8"), ts.ScriptTarget.Latest, true);
  for (const statement of source.statements) {
    if (ts.isModuleDeclaration(statement) && ts.isStringLiteral(statement.name) && statement.body && ts.isModuleBlock(statement.body)) {
      const body = statement.body.statements.map((s) => s.getFullText(source)).join("");
      ambient.set(statement.name.text, body.replace(/^\n+/, "").replace(/^ {2}/gm, "") + "\n");
    }
  }
}
const typesFile = (module) => path.join(distDir, "types", `${module.replace(/[^A-Za-z0-9_.-]/g, "_")}.d.ts`);

/**
 * The module specifiers a file imports (import/export ... from, import(), require()), found by
 * TypeScript's own scanner, so a string such as an ABI's "from" is never taken for one. Each with
 * the offset of its opening quote.
 */
function specifiersOf(text) {
  const found = ts.preProcessFile(text, true, true);
  return [...found.importedFiles, ...found.typeReferenceDirectives.map((d) => ({ ...d, reference: true }))].map((f) => ({
    specifier: f.fileName,
    quote: f.pos,
    reference: f.reference === true,
  }));
}

const written = new Set();
for (const file of declarations) {
  const text = readFileSync(file, "utf8");
  let rewritten = text;
  // From the end, so earlier offsets stay valid.
  for (const { specifier, quote, reference } of specifiersOf(text).sort((a, b) => b.quote - a.quote)) {
    if (reference || text.slice(quote + 1, quote + 1 + specifier.length) !== specifier) continue;
    let replacement;
    if (specifier.startsWith(".") && specifier.endsWith(".ts") && !specifier.endsWith(".d.ts")) {
      // tsc rewrites "./x.ts" to "./x.js" in the .js it emits but not in the .d.ts: make them
      // agree, so every consumer resolves the ordinary way (x.js -> x.d.ts).
      replacement = `${specifier.slice(0, -3)}.js`;
    } else if (ambient.has(specifier)) {
      written.add(specifier);
      replacement = path
        .relative(path.dirname(file), typesFile(specifier))
        .split(path.sep)
        .join("/")
        .replace(/\.d\.ts$/, ".js");
      if (!replacement.startsWith(".")) replacement = `./${replacement}`;
    } else {
      continue;
    }
    rewritten = rewritten.slice(0, quote + 1) + replacement + rewritten.slice(quote + 1 + specifier.length);
  }
  if (rewritten !== text) writeFileSync(file, rewritten);
}
for (const module of written) {
  mkdirSync(path.dirname(typesFile(module)), { recursive: true });
  writeFileSync(
    typesFile(module),
    `// The types of "${module}" (which ships none) that ${label}'s public declarations use, as a\n` +
      `// module rather than a global \`declare module\`, so they never clash with a consumer's own.\n` +
      `// Generated by tools/build-package.mjs from packages/sdk/src/types.\n` +
      ambient.get(module) +
      (ambient.get(module).includes("export") ? "" : "\nexport {};\n"),
  );
}

// --- What the built files import ----------------------------------------------------------
const builtins = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));
const declared = new Set([
  manifest.name,
  ...Object.keys(manifest.dependencies ?? {}),
  ...Object.keys(manifest.peerDependencies ?? {}),
  ...Object.keys(manifest.optionalDependencies ?? {}),
]);
const packageOf = (specifier) =>
  specifier
    .split("/")
    .slice(0, specifier.startsWith("@") ? 2 : 1)
    .join("/");
// What preProcessFile does not see: module names resolved rather than imported.
const RESOLVED = /\b(?:require\.resolve|import\.meta\.resolve)\s*\(\s*(["'])([^"'\n]+)\1/g;
const problems = [];
const shown = (file) => path.join("dist", path.relative(distDir, file));
for (const file of scripts) {
  const text = readFileSync(file, "utf8");
  const specifiers = [...specifiersOf(text).map((s) => s.specifier), ...[...text.matchAll(RESOLVED)].map((m) => m[2])];
  for (const specifier of specifiers) {
    if (specifier.startsWith(".") || specifier.startsWith("data:") || builtins.has(specifier)) continue;
    if (!declared.has(packageOf(specifier))) problems.push(`${shown(file)} imports "${specifier}", which is not a dependency of ${label}`);
  }
}
const resolutionOptions = { module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, strict: true };
for (const file of declarations) {
  for (const { specifier, reference } of specifiersOf(readFileSync(file, "utf8"))) {
    if (reference) {
      if (!(specifier === "node" && !browserSafe)) problems.push(`${shown(file)} references types "${specifier}", which a consumer may not have`);
      continue;
    }
    if (specifier.startsWith(".")) {
      if (!existsSync(path.resolve(path.dirname(file), specifier.replace(/\.js$/, ".d.ts")))) problems.push(`${shown(file)} refers to "${specifier}", which dist/ does not have`);
      continue;
    }
    if (builtins.has(specifier)) {
      if (browserSafe) problems.push(`${shown(file)} types need Node's "${specifier}", but ${label} is browser-safe`);
      continue;
    }
    if (!declared.has(packageOf(specifier))) {
      problems.push(`${shown(file)} refers to "${specifier}", which is not a dependency of ${label}`);
      continue;
    }
    const resolved = ts.resolveModuleName(specifier, file, resolutionOptions, ts.sys).resolvedModule;
    if (!resolved || !/\.d\.[cm]?ts$/.test(resolved.resolvedFileName)) {
      problems.push(`${shown(file)} refers to "${specifier}", which has no type declarations a consumer can resolve`);
    }
  }
}
if (problems.length > 0) fail(`${label}: the built files import what an install would not have:\n  ${problems.join("\n  ")}`);

const bytes = walk(distDir).reduce((sum, f) => sum + statSync(f).size, 0);
const previous = path.join(packageDir, `.dist-old-${process.pid}`);
if (existsSync(finalDir)) renameSync(finalDir, previous);
renameSync(distDir, finalDir);
rmSync(previous, { recursive: true, force: true });

// On stderr: `npm pack --json` prints its report on stdout, after the prepack build.
console.error(
  `${label}: dist/ built in ${((Date.now() - started) / 1000).toFixed(1)} s: ${scripts.length} .js, ${declarations.length + written.size} .d.ts, ${(bytes / 1024).toFixed(0)} KiB` +
    (written.size > 0 ? ` (typed ${[...written].join(", ")} through dist/types/)` : ""),
);
