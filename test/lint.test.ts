/**
 * The linters, as part of `npm test`: eslint (typescript-eslint, import cycles, package
 * boundaries), solhint and prettier run over the repository exactly as `npm run lint:ts`,
 * `lint:sol` and `format:check` do (the commands are read from package.json), all three at once
 * so the whole takes about as long as eslint alone. A test file rather than a pretest step: a
 * formatting slip fails one named test instead of hiding the suite's results.
 *
 * Then the rules that stand for a guarantee are tried on purpose: the browser-safe SDK refuses a
 * Node built-in (static or lazy), the Node-only packages and hardhat; @zk-solvency/node refuses
 * the CLI and hardhat; no package reaches by relative path into another package, scripts/ or
 * test/; an import cycle is refused, a type-only one is not; solhint refuses revert strings and
 * undocumented external functions. Each names the import (or line) and the reason.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { ESLint } from "eslint";
import tseslint from "typescript-eslint";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

interface Run {
  code: number | null;
  output: string;
  seconds: number;
}

/**
 * Runs package.json's script `name` without a shell: its first word is a binary of
 * node_modules/.bin, started with this process's node (the `node` on PATH may be an older one).
 */
function runScript(name: string): Promise<Run> {
  const scripts = (JSON.parse(readFileSync(path.join(ROOT, "package.json"), "utf8")) as { scripts: Record<string, string> }).scripts;
  const script = scripts[name];
  assert.ok(script !== undefined, `package.json has no script "${name}"`);
  // Only a single command with words and single-quoted globs: anything more would need a shell.
  assert.ok(!/[;&|<>$`"\\]/.test(script), `package.json's "${name}" is not a single command: ${script}`);
  const [bin, ...args] = script.split(/\s+/).map((word) => word.replace(/^'(.*)'$/, "$1"));
  const entry = realpathSync(path.join(ROOT, "node_modules", ".bin", bin!));
  const started = performance.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [entry, ...args], { cwd: ROOT, env: { ...process.env, FORCE_COLOR: "0", NO_COLOR: "1" } });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.on("error", (error) => resolve({ code: null, output: `${output}\n${error.message}`, seconds: (performance.now() - started) / 1000 }));
    child.on("close", (code) => resolve({ code, output, seconds: (performance.now() - started) / 1000 }));
  });
}

/** The end of a linter's report: enough to act on, short enough to read in mocha's failure. */
function tail(output: string, lines = 80): string {
  const all = output.trimEnd().split("\n");
  return (all.length > lines ? [`... (${all.length - lines} lines before)`, ...all.slice(-lines)] : all).join("\n");
}

describe("lint", function () {
  describe("the repository", function () {
    let runs: Record<"lint:ts" | "lint:sol" | "format:check", Promise<Run>>;

    before(function () {
      // Started together; each test awaits its own. runScript never rejects.
      runs = { "lint:ts": runScript("lint:ts"), "lint:sol": runScript("lint:sol"), "format:check": runScript("format:check") };
    });

    for (const [name, what] of [
      ["lint:ts", "eslint reports nothing"],
      ["lint:sol", "solhint reports nothing"],
      ["format:check", "prettier would change no file (fix: npm run format)"],
    ] as const) {
      it(`${what} (npm run ${name})`, async function () {
        const run = await runs[name];
        assert.equal(run.code, 0, `npm run ${name} failed (exit ${run.code}, ${run.seconds.toFixed(1)} s):\n${tail(run.output)}`);
      });
    }
  });

  describe("eslint's boundary and cycle rules", function () {
    // Type information is not what these rules need, and a file that does not exist has none.
    const eslint = new ESLint({ cwd: ROOT, overrideConfig: [{ files: ["**/*.ts"], ...tseslint.configs.disableTypeChecked }] });

    async function problems(file: string, code: string): Promise<string[]> {
      const [result] = await eslint.lintText(code, { filePath: path.join(ROOT, file) });
      return result!.messages.map((m) => `${m.ruleId}: ${m.message}`);
    }

    async function assertRefused(file: string, code: string, rule: string, message: RegExp): Promise<void> {
      const found = await problems(file, code);
      assert.ok(
        found.some((p) => p.startsWith(`${rule}: `) && message.test(p)),
        `${file}: expected ${rule} to refuse ${JSON.stringify(code)} with ${message}, got:\n  ${found.join("\n  ") || "(nothing)"}`,
      );
    }

    it("the SDK imports no Node built-in, static or lazy, node: or bare", async function () {
      const why = /browser-safe: no Node built-in, static or lazy/;
      await assertRefused("packages/sdk/src/probe.ts", `import { readFileSync } from "node:fs";\nexport { readFileSync };`, "zks/package-boundary", /"node:fs": .*browser-safe/);
      await assertRefused("packages/sdk/src/probe.ts", `import path from "path";\nexport { path };`, "zks/package-boundary", why);
      await assertRefused("packages/sdk/src/prover/probe.ts", `export async function load() {\n  return import("node:worker_threads");\n}`, "zks/package-boundary", why);
      await assertRefused("packages/sdk/src/probe.ts", `export { Buffer } from "buffer";`, "zks/package-boundary", why);
    });

    it("the SDK uses no Node global", async function () {
      await assertRefused(
        "packages/sdk/src/probe.ts",
        `export const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString("hex");`,
        "no-restricted-globals",
        /'Buffer'.*runs in browsers/,
      );
      await assertRefused("packages/sdk/src/probe.ts", `export const debug = () => process.env.DEBUG;`, "no-restricted-globals", /'process'/);
    });

    it("the SDK imports neither the Node-only packages nor hardhat, nor anything it does not declare", async function () {
      await assertRefused(
        "packages/sdk/src/probe.ts",
        `export { loadCircuitArtifacts } from "@zk-solvency/node";`,
        "zks/package-boundary",
        /may not import the Node-only packages/,
      );
      await assertRefused("packages/sdk/src/probe.ts", `export type { Anything } from "@zk-solvency/cli/dist/cli/main.js";`, "zks/package-boundary", /Node-only packages/);
      await assertRefused("packages/sdk/src/probe.ts", `import { network } from "hardhat";\nexport { network };`, "zks/package-boundary", /may not import hardhat/);
      await assertRefused(
        "packages/sdk/src/probe.ts",
        `import { Command } from "commander";\nexport { Command };`,
        "import-x/no-extraneous-dependencies",
        /'commander' should be listed/,
      );
    });

    it("@zk-solvency/node imports neither the CLI nor hardhat", async function () {
      await assertRefused("packages/node/src/probe.ts", `export { registerKeys } from "@zk-solvency/cli";`, "zks/package-boundary", /may not import @zk-solvency\/cli/);
      await assertRefused("packages/node/src/deploy/probe.ts", `export async function chain() {\n  return import("hardhat");\n}`, "zks/package-boundary", /may not import hardhat/);
    });

    it("no package reaches by relative path into another package, scripts/ or test/", async function () {
      await assertRefused(
        "packages/sdk/src/prover/probe.ts",
        `export { loadCircuitArtifacts } from "../../../node/src/artifacts.ts";`,
        "zks/package-boundary",
        /leaves packages\/sdk\/ \(it resolves to packages\/node\/src\/artifacts\.ts\)/,
      );
      await assertRefused(
        "packages/cli/src/cli/commands/probe.ts",
        `export async function deploy() {\n  return import("../../../../../scripts/deploy.ts");\n}`,
        "zks/package-boundary",
        /resolves to scripts\/deploy\.ts/,
      );
      await assertRefused("packages/node/src/probe.ts", `export { runCli } from "../../../test/helpers/cli.ts";`, "zks/package-boundary", /resolves to test\/helpers\/cli\.ts/);
    });

    it("allows what each place may import", async function () {
      const cases: [string, string][] = [
        ["packages/sdk/src/prover/probe.ts", `import { keccak256 } from "ethers";\nimport { ZksError } from "../core/errors.ts";\nexport { keccak256, ZksError };`],
        ["packages/node/src/probe.ts", `import { readFileSync } from "node:fs";\nimport { ZksError } from "@zk-solvency/sdk/core";\nexport { readFileSync, ZksError };`],
        ["packages/cli/src/cli/probe.ts", `import { Command } from "commander";\nimport { CIRCUITS_DIR } from "@zk-solvency/node/setup";\nexport { Command, CIRCUITS_DIR };`],
        // Tests, scripts and examples import the sources by relative path, by design.
        ["test/probe.ts", `import { ZksError } from "../packages/sdk/src/core/errors.ts";\nexport { ZksError };`],
        ["scripts/probe.ts", `import { PACKAGE_ROOT } from "../packages/node/src/setup/paths.ts";\nexport { PACKAGE_ROOT };`],
      ];
      for (const [file, code] of cases) assert.deepEqual(await problems(file, code), [], `${file}: ${JSON.stringify(code)}`);
    });

    it("refuses an import cycle, but not a cycle of type-only imports", async function () {
      // The fixtures are on disk (no-cycle follows real files); the repository's lint ignores them.
      const linter = new ESLint({ cwd: ROOT, ignore: false, overrideConfig: [{ files: ["**/*.ts"], ...tseslint.configs.disableTypeChecked }] });
      const [cycle] = await linter.lintFiles([path.join(ROOT, "test", "fixtures", "lint", "cycle-a.ts")]);
      assert.deepEqual(
        cycle!.messages.map((m) => m.ruleId),
        ["import-x/no-cycle"],
        cycle!.messages.map((m) => m.message).join("\n"),
      );
      const [types] = await linter.lintFiles([path.join(ROOT, "test", "fixtures", "lint", "type-cycle-a.ts")]);
      assert.deepEqual(types!.messages, []);
    });
  });

  describe("solhint's rules", function () {
    let dir: string;
    before(function () {
      dir = mkdtempSync(path.join(os.tmpdir(), "zks-solhint-"));
    });
    after(function () {
      rmSync(dir, { recursive: true, force: true });
    });

    it("refuses a revert string and an undocumented external function", async function () {
      // Outside packages/contracts/contracts/test/, whose own .solhint.json relaxes NatSpec for mocks.
      const file = path.join(dir, "Probe.sol");
      writeFileSync(
        file,
        [
          "// SPDX-License-Identifier: MIT",
          "pragma solidity ^0.8.24;",
          "",
          "/// @title Probe",
          "/// @notice A contract that breaks two of the rules.",
          "contract Probe {",
          "    function pay(uint256 amount) external pure returns (uint256) {",
          '        require(amount > 0, "amount must be positive");',
          "        return amount;",
          "    }",
          "}",
          "",
        ].join("\n"),
      );
      const entry = realpathSync(path.join(ROOT, "node_modules", ".bin", "solhint"));
      const run = await new Promise<Run>((resolve) => {
        // From the probe's folder: solhint's ignore check wants paths below its working directory.
        const child = spawn(process.execPath, [entry, "--disc", "-c", path.join(ROOT, ".solhint.json"), "-f", "unix", "Probe.sol"], { cwd: dir });
        let output = "";
        child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
        child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
        child.on("close", (code) => resolve({ code, output, seconds: 0 }));
      });
      assert.notEqual(run.code, 0, run.output);
      assert.match(run.output, /Probe\.sol:8:\d+: .*\[Error\/gas-custom-errors\]/, run.output);
      assert.match(run.output, /Probe\.sol:7:\d+: Missing @notice tag in function 'pay' \[Error\/use-natspec\]/, run.output);
    });
  });
});
