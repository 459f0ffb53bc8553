// eslint for the whole repository (`npm run lint:ts`, part of `npm run lint`, which `npm test` runs).
//
// Three kinds of rule, each for a reason:
// - typescript-eslint's recommended set, plus the few type-aware rules that catch real bugs in
//   async code (a promise nobody awaits loses its rejection: a CLI exits 0 on a failed proof).
//   Type information comes from the root tsconfig.json; the rest of
//   recommendedTypeChecked (no-unsafe-*) is left out: snarkjs and circom_runtime are untyped, and
//   those rules would flag every call into them rather than a bug.
// - No import cycles (import-x/no-cycle; type-only imports do not count, they vanish at run time).
// - Package boundaries, the static twin of the browser-safety check in scripts/build-browser.ts
//   (nodeLeaks): @zk-solvency/sdk is browser-safe, so it imports no Node built-in and nothing
//   Node-only; @zk-solvency/node never imports the CLI or hardhat; a package imports only what its
//   package.json declares, and never reaches by relative path into another package, scripts/ or
//   test/ (what an installed package cannot see). nodeLeaks finds a leak in the bundle after the
//   fact; these rules name the import line that would cause it.
import { builtinModules } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { includeIgnoreFile } from "@eslint/compat";
import js from "@eslint/js";
import { defineConfig } from "eslint/config";
import { createTypeScriptImportResolver } from "eslint-import-resolver-typescript";
import { importX } from "eslint-plugin-import-x";
import globals from "globals";
import tseslint from "typescript-eslint";

const ROOT = path.dirname(fileURLToPath(import.meta.url));

const NODE_BUILTINS = new Set(builtinModules.flatMap((name) => [name, `node:${name}`]));

/** Bare or node: imports that a package must not make, with the reason the lint reports. */
const FORBIDDEN = {
  sdk: [
    {
      pattern: { test: (specifier) => NODE_BUILTINS.has(specifier) || specifier.startsWith("node:") },
      why: "@zk-solvency/sdk is browser-safe: no Node built-in, static or lazy (the browser build, scripts/build-browser.ts, refuses it); Node-only code goes in @zk-solvency/node",
    },
    { pattern: /^@zk-solvency\/(node|cli)(\/|$)/, why: "@zk-solvency/sdk is browser-safe: it may not import the Node-only packages @zk-solvency/node or @zk-solvency/cli" },
    { pattern: /^(hardhat|@nomicfoundation\/)/, why: "@zk-solvency/sdk may not import hardhat (a development tool, never installed with the SDK)" },
  ],
  node: [
    { pattern: /^@zk-solvency\/cli(\/|$)/, why: "@zk-solvency/node may not import @zk-solvency/cli (the CLI depends on node, not the reverse)" },
    {
      pattern: /^(hardhat|@nomicfoundation\/)/,
      why: "@zk-solvency/node may not import hardhat: it runs from an install, where hardhat is not (deploy with ethers' ContractFactory)",
    },
  ],
  cli: [],
};

/**
 * zks/package-boundary: a file under packages/<name>/ imports by relative path only inside
 * packages/<name>/, and none of the specifiers FORBIDDEN lists for <name>. Static imports,
 * `export ... from` and `import("literal")` alike: a lazy import leaks into an install (or a
 * browser bundle) just as much. Imports built from a URL at run time (bin/zks.js finding
 * tools/source-mode.mjs only when it exists in a checkout) are not literals and are not checked.
 */
const packageBoundary = {
  meta: {
    type: "problem",
    docs: { description: "keep each workspace package's imports inside what an installed package can see" },
    schema: [],
    messages: {
      relative:
        '"{{specifier}}" leaves packages/{{pkg}}/ (it resolves to {{target}}): an installed package has no such file; import another package by its name (@zk-solvency/...) and never scripts/ or test/',
      forbidden: '"{{specifier}}": {{why}}',
    },
  },
  create(context) {
    const file = path.relative(ROOT, context.filename);
    const match = /^packages\/([^/]+)\//.exec(file.split(path.sep).join("/"));
    if (!match) return {};
    const pkg = match[1];
    const pkgDir = path.join(ROOT, "packages", pkg);
    const check = (node) => {
      if (!node || node.type !== "Literal" || typeof node.value !== "string") return;
      const specifier = node.value;
      if (specifier.startsWith(".")) {
        const target = path.resolve(path.dirname(context.filename), specifier);
        if (target !== pkgDir && !target.startsWith(pkgDir + path.sep)) {
          context.report({ node, messageId: "relative", data: { specifier, pkg, target: path.relative(ROOT, target) } });
        }
        return;
      }
      for (const { pattern, why } of FORBIDDEN[pkg] ?? []) {
        if (pattern.test(specifier)) context.report({ node, messageId: "forbidden", data: { specifier, why } });
      }
    };
    return {
      ImportDeclaration: (node) => check(node.source),
      ExportNamedDeclaration: (node) => check(node.source),
      ExportAllDeclaration: (node) => check(node.source),
      ImportExpression: (node) => check(node.source),
      TSImportType: (node) => check(node.argument?.literal ?? node.argument),
    };
  },
};

const TS_FILES = ["**/*.ts"];
const PACKAGE_FILES = ["packages/*/src/**/*.{ts,mjs,js}", "packages/*/bin/**/*.js", "packages/*/scripts/**/*.{mjs,js}"];

export default defineConfig(
  // What git ignores (builds, generated verifiers and artifacts, typedoc's output) is not ours to lint.
  includeIgnoreFile(path.join(ROOT, ".gitignore"), ".gitignore"),
  {
    ignores: [
      // Written from hardhat's artifacts by the contracts package's build (also in .gitignore).
      "packages/contracts/src/generated/**",
      // Deliberate import cycles that test/lint.test.ts lints on purpose.
      "test/fixtures/lint/**",
    ],
  },
  { linterOptions: { reportUnusedDisableDirectives: "error" } },
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    languageOptions: {
      ecmaVersion: 2023,
      sourceType: "module",
      globals: { ...globals.node },
    },
    plugins: { "import-x": importX, zks: { rules: { "package-boundary": packageBoundary } } },
    settings: {
      // import-x reads (for no-cycle) only the extensions listed here, with the parser named for them.
      "import-x/extensions": [".ts", ".mts", ".cts", ".js", ".mjs", ".cjs"],
      "import-x/parsers": { "@typescript-eslint/parser": [".ts", ".mts", ".cts"] },
      "import-x/external-module-folders": ["node_modules", "node_modules/@types"],
      "import-x/resolver-next": [
        // The root tsconfig's `paths` send @zk-solvency/* to the sources, as tsc and tsx see them.
        createTypeScriptImportResolver({ project: path.join(ROOT, "tsconfig.json"), conditionNames: ["@zk-solvency/source", "types", "import", "node", "default"] }),
      ],
    },
    rules: {
      // Unused bindings are errors, except the ones named to be unused (`_`, `_index`).
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_", caughtErrorsIgnorePattern: "^_", destructuredArrayIgnorePattern: "^_" }],
      "import-x/no-cycle": ["error", { ignoreExternal: true }],
      "import-x/no-self-import": "error",
      "import-x/no-duplicates": "error",
    },
  },
  {
    files: TS_FILES,
    languageOptions: {
      // The root tsconfig.json (every TypeScript file but the contracts index below): one program,
      // measured a fifth cheaper than the project service here.
      parserOptions: { project: "./tsconfig.json", tsconfigRootDir: ROOT },
    },
    rules: {
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/no-misused-promises": "error",
      "@typescript-eslint/await-thenable": "error",
      "@typescript-eslint/no-for-in-array": "error",
    },
  },
  {
    // JavaScript, and the contracts package's index (the root tsconfig leaves it out: it re-exports
    // the generated artifacts, and that package's own build type-checks it): no type information.
    files: ["**/*.{js,mjs,cjs}", "packages/contracts/src/**/*.ts"],
    ...tseslint.configs.disableTypeChecked,
  },
  {
    files: PACKAGE_FILES,
    rules: {
      "zks/package-boundary": "error",
      // Only what the package's own package.json declares: an install has nothing else. Types
      // count too, since the published .d.ts files import them.
      "import-x/no-extraneous-dependencies": ["error", { devDependencies: false, optionalDependencies: true, peerDependencies: true, includeTypes: true }],
    },
  },
  {
    // The browser-safe SDK (zks/package-boundary refuses its Node built-ins, with the reason): browser
    // globals, and only its plain dependencies, since an optional or peer one may be missing.
    files: ["packages/sdk/src/**/*.ts"],
    languageOptions: { globals: { ...globals.browser, ...globals.worker } },
    rules: {
      // Node's globals are not imports, so nodeLeaks never sees them: they fail in the page instead.
      "no-restricted-globals": [
        "error",
        ...["Buffer", "process", "global", "require", "__dirname", "__filename", "setImmediate"].map((name) => ({
          name,
          message: `a Node global: @zk-solvency/sdk runs in browsers (Uint8Array, globalThis, import.meta.url instead)`,
        })),
      ],
      "import-x/no-extraneous-dependencies": ["error", { devDependencies: false, optionalDependencies: false, peerDependencies: false, includeTypes: true }],
    },
  },
  {
    // The example vault page's browser code: no Node built-in either (Vite would stub it out).
    files: ["examples/vault/src/**/*.ts"],
    languageOptions: { globals: { ...globals.browser, ...globals.worker } },
    rules: { "import-x/no-nodejs-modules": "error" },
  },
  {
    files: ["test/**/*.ts"],
    languageOptions: { globals: { ...globals.mocha } },
    // Tests edit raw JSON to forge bad input on purpose; typing every such edit buys nothing.
    rules: { "@typescript-eslint/no-explicit-any": "off" },
  },
);
