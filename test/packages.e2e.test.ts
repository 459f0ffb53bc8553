/**
 * Consumer tests (issue 19): the packages as a vault team gets them. `npm pack` each workspace
 * package (its prepack builds dist/), install the tarballs into fresh projects outside the
 * repository (npm install from the tarballs and the registry), and use them there:
 * - what each tarball holds: dist/ with declarations, every `exports` target, no build-only files;
 * - a project that installs only @zk-solvency/sdk gets no circom2, tsx, hardhat or resvg, and
 *   plain `node` imports every entry point;
 * - plain `node` ESM proves and verifies with the high-level API (proveSolvency, verifySolvency,
 *   loadCircuitArtifacts);
 * - strict `tsc` (nodenext, and bundler with Vite's template options) over every public entry
 *   point: 0 errors, and the types are real (an ABI typed to its functions, snarkjs' types not any);
 * - the CLI from the install: --help, check, demo's "needs a checkout", deploy to a `hardhat node`.
 * The proof uses the test tier built in the checkout's build directory (ZKS_BUILD_DIR).
 */
import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import path from "node:path";
import { PACKAGE_ROOT } from "../packages/node/src/setup/paths.ts";
import { EXAMPLES_DIR } from "./helpers/examples.ts";
import { startLocalNode, type LocalNode } from "./helpers/local-node.ts";
import {
  consumerProject,
  npmEnv,
  packWorkspace,
  removePacks,
  run,
  size,
  writeFiles,
  WORKSPACE_PACKAGES,
  type ConsumerProject,
  type PackedPackage,
  type WorkspacePackage,
} from "./helpers/pack.ts";

/** The checkout's build directory, which holds the test tier (solvency-3x3x16, rebalance-3x3x16). */
const BUILD_DIR = process.env.ZKS_BUILD_DIR ?? path.join(PACKAGE_ROOT, "build");
/** Hardhat's first development account (its public mnemonic): a key for local chains only. */
const HARDHAT_KEY_0 = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";
/** The registry packages a TypeScript consumer adds: the versions the repository itself uses. */
const installedVersion = (name: string): string => (JSON.parse(readFileSync(path.join(PACKAGE_ROOT, "node_modules", name, "package.json"), "utf8")) as { version: string }).version;

/** The import specifiers of a package's public entry points (its `exports`, without wildcards). */
function entryPoints(project: ConsumerProject, name: string): string[] {
  const manifest = JSON.parse(readFileSync(path.join(project.dir, "node_modules", name, "package.json"), "utf8")) as { exports: Record<string, unknown> };
  return Object.keys(manifest.exports)
    .filter((key) => key !== "./package.json" && !key.includes("*"))
    .map((key) => (key === "." ? name : `${name}${key.slice(1)}`));
}

/** Every built .js file of an installed package. */
function builtScripts(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      if (entry.isDirectory()) walk(path.join(d, entry.name));
      else if (entry.name.endsWith(".js")) out.push(path.join(d, entry.name));
    }
  };
  walk(dir);
  return out;
}

describe("the packages from npm pack, installed into fresh projects", function () {
  this.timeout(900_000);
  let packed: Record<WorkspacePackage, PackedPackage>;
  const projects: ConsumerProject[] = [];

  before(async function () {
    packed = await packWorkspace();
  });

  after(function () {
    // ZKS_KEEP_CONSUMERS=1 keeps the tarballs and projects, to look into a failure.
    if (process.env.ZKS_KEEP_CONSUMERS) {
      console.log(`      kept: ${[path.dirname(packed.sdk.tarball), ...projects.map((p) => p.dir)].join(" ")}`);
      return;
    }
    for (const project of projects) project.remove();
    removePacks();
  });

  it("packs each package with its built dist/, every exports target, and no build-only files", function () {
    const lines: string[] = [];
    for (const name of WORKSPACE_PACKAGES) {
      const { files, bytes, unpackedBytes, seconds } = packed[name];
      const fileSet = new Set(files);
      lines.push(
        `${packed[name].name.padEnd(24)} ${size(bytes).padStart(9)} packed, ${size(unpackedBytes).padStart(9)} unpacked, ${String(files.length).padStart(4)} files (pack ${seconds.toFixed(0)} s)`,
      );
      const manifest = JSON.parse(readFileSync(path.join(PACKAGE_ROOT, "packages", name, "package.json"), "utf8")) as {
        exports?: Record<string, unknown>;
        bin?: Record<string, string>;
      };
      // Every file an exports condition points at ships, so no condition resolves to nothing.
      const targets = (value: unknown): string[] => (typeof value === "string" ? [value] : value && typeof value === "object" ? Object.values(value).flatMap(targets) : []);
      for (const [key, value] of Object.entries(manifest.exports ?? {})) {
        for (const target of targets(value)) {
          if (target.includes("*")) continue;
          assert.ok(fileSet.has(target.replace(/^\.\//, "")), `${packed[name].name}: exports["${key}"] -> ${target}, which the tarball does not have`);
        }
      }
      for (const bin of Object.values(manifest.bin ?? {})) assert.ok(fileSet.has(bin.replace(/^\.\//, "")), `${packed[name].name}: bin ${bin} is not in the tarball`);
      for (const file of files) {
        assert.doesNotMatch(file, /(^|\/)(test|tests|node_modules)\/|tsconfig|\.tsbuildinfo$|^scripts\//, `${packed[name].name} ships ${file}`);
      }
    }
    console.log(`      ${lines.join("\n      ")}`);

    const sdk = new Set(packed.sdk.files);
    for (const file of ["dist/index.js", "dist/index.d.ts", "dist/browser/prover-worker.js", "dist/types/snarkjs.d.ts", "README.md"])
      assert.ok(sdk.has(file), `@zk-solvency/sdk lacks ${file}`);
    const contracts = new Set(packed.contracts.files);
    for (const contract of ["RebalanceGate", "MarketOracle", "AuditRegistry", "LenderVault", "IRebalanceGate"]) {
      assert.ok(contracts.has(`artifacts/${contract}.json`), `@zk-solvency/contracts lacks artifacts/${contract}.json`);
    }
    assert.ok(contracts.has("contracts/RebalanceGate.sol") && contracts.has("dist/index.d.ts"), "@zk-solvency/contracts ships its sources and typed index");
    assert.ok(
      packed.contracts.files.every((f) => !f.startsWith("contracts/test/") && !f.startsWith("contracts/generated/")),
      "@zk-solvency/contracts ships neither the test contracts nor the locally generated verifiers",
    );
    assert.ok(packed.cli.files.includes("dist/cli/main.js") && packed.cli.files.every((f) => !f.startsWith("src/")), "@zk-solvency/cli ships its dist/ and not its sources");
  });

  describe("a project that installs only @zk-solvency/sdk", function () {
    let project: ConsumerProject;

    before(async function () {
      project = await consumerProject("sdk-only", packed, ["sdk"]);
      projects.push(project);
    });

    it("brings no circom2, tsx, hardhat or resvg", function () {
      for (const name of ["circom2", "tsx", "hardhat", "@resvg/resvg-js", "@nomicfoundation/hardhat-ethers", "solc", "@zk-solvency/node", "@zk-solvency/cli"]) {
        assert.equal(project.has(name), false, `installing @zk-solvency/sdk brought ${name}`);
      }
      console.log(`      node_modules: ${size(project.nodeModulesBytes())} (install ${project.installSeconds.toFixed(0)} s)`);
    });

    it("imports every entry point in plain node ESM and parses the example files", async function () {
      // The worker script is not a module to import: it is what a page starts with new Worker().
      const entries = entryPoints(project, "@zk-solvency/sdk").filter((entry) => entry !== "@zk-solvency/sdk/prover-worker");
      writeFiles(project.dir, {
        "parse.mjs": [
          `import { readFileSync } from "node:fs";`,
          `import { parseMarket, parsePosition, parsePolicy } from "@zk-solvency/sdk/inputs";`,
          `import { checkPosition } from "@zk-solvency/sdk/model";`,
          `const entries = ${JSON.stringify(entries)};`,
          `for (const entry of entries) await import(entry);`,
          `const read = (name) => JSON.parse(readFileSync(${JSON.stringify(EXAMPLES_DIR)} + "/" + name, "utf8"));`,
          `const market = parseMarket(read("market-grid.json"), "market-grid.json");`,
          `const position = parsePosition(read("position-healthy.json"), "position-healthy.json", market);`,
          `const policy = parsePolicy(read("policy.json"), "policy.json", market);`,
          `const report = checkPosition(position, market, policy);`,
          `console.log(JSON.stringify({ entries: entries.length, pass: report.pass }));`,
        ].join("\n"),
      });
      const result = await run("node", ["parse.mjs"], project.dir);
      assert.equal(result.code, 0, `node parse.mjs failed:\n${result.stderr}`);
      const out = JSON.parse(result.stdout) as { entries: number; pass: boolean };
      assert.equal(out.entries, entries.length);
      assert.equal(out.pass, true, "position-healthy.json passes every check");
    });
  });

  describe("a Node project with @zk-solvency/sdk, @zk-solvency/node and @zk-solvency/contracts", function () {
    let project: ConsumerProject;

    before(async function () {
      project = await consumerProject("node-app", packed, ["sdk", "node", "contracts"], {
        typescript: installedVersion("typescript"),
        "@types/node": installedVersion("@types/node"),
      });
      projects.push(project);
    });

    it("brings neither circom2, tsx nor hardhat (optional peers stay out)", function () {
      for (const name of ["circom2", "tsx", "hardhat", "@resvg/resvg-js"]) assert.equal(project.has(name), false, `the install brought ${name}`);
      for (const name of ["@zk-solvency/sdk", "@zk-solvency/node", "@zk-solvency/contracts"]) {
        const scripts = builtScripts(path.join(project.dir, "node_modules", name, "dist"));
        for (const file of scripts) assert.doesNotMatch(readFileSync(file, "utf8"), /\b(from\s*|import\s*\(\s*)["']tsx(\/[^"']*)?["']/, `${file} imports tsx`);
      }
    });

    it("proves a solvency proof and verifies it in plain node ESM (proveSolvency, verifySolvency, loadCircuitArtifacts)", async function () {
      writeFiles(project.dir, {
        "prove.mjs": [
          `// A plain Node ESM consumer: parse the spec's example files, prove solvency, verify.`,
          `import { readFileSync } from "node:fs";`,
          `import { parseMarket, parsePosition, parsePolicy, proveSolvency, verifySolvency } from "@zk-solvency/sdk";`,
          `import { loadCircuitArtifacts } from "@zk-solvency/node";`,
          `const read = (name) => JSON.parse(readFileSync(${JSON.stringify(EXAMPLES_DIR)} + "/" + name, "utf8"));`,
          `const market = parseMarket(read("market-grid.json"), "market-grid.json");`,
          `const position = parsePosition(read("position-healthy.json"), "position-healthy.json", market);`,
          `const policy = parsePolicy(read("policy.json"), "policy.json", market);`,
          `const artifacts = loadCircuitArtifacts("solvency-3x3x16");`,
          `const started = Date.now();`,
          `const proof = await proveSolvency({ position, market, policy }, artifacts);`,
          `const seconds = (Date.now() - started) / 1000;`,
          `const valid = await verifySolvency(proof, artifacts.verificationKey);`,
          `// A proof object whose named field was edited must not verify.`,
          `const edited = await verifySolvency({ ...proof, policyHash: proof.policyHash + 1n }, artifacts.verificationKey);`,
          `console.log(JSON.stringify({ valid, edited, seconds, instance: proof.instance, account: proof.account, signals: proof.publicSignals.length }));`,
          `process.exit(0);`,
        ].join("\n"),
      });
      const result = await run("node", ["prove.mjs"], project.dir, npmEnv({ ZKS_BUILD_DIR: BUILD_DIR }));
      assert.equal(result.code, 0, `node prove.mjs failed:\n${result.stderr}`);
      const out = JSON.parse(result.stdout.trim().split("\n").at(-1)!) as { valid: boolean; edited: boolean; seconds: number; instance: string; account: string; signals: number };
      assert.equal(out.valid, true, "the proof verifies");
      assert.equal(out.edited, false, "a proof whose policyHash field was edited does not verify");
      assert.equal(out.instance, "solvency-3x3x16");
      assert.equal(out.account, "0x70997970c51812dc3a010c7d01b50e0d17dc79c8");
      console.log(`      proved in ${out.seconds.toFixed(1)} s (whole script ${result.seconds.toFixed(1)} s)`);
    });

    describe("strict tsc over every public entry point", function () {
      /** What a consumer writes: every entry point imported, and the types put to use. */
      function writeConsumer(): void {
        const entries = ["@zk-solvency/sdk", "@zk-solvency/node", "@zk-solvency/contracts"].flatMap((name) => entryPoints(project, name));
        const importAll = (list: string[]) =>
          [...list.map((entry, k) => `import * as entry${k} from "${entry}";`), `export const entries: object[] = [${list.map((_, k) => `entry${k}`).join(", ")}];`].join("\n");
        writeFiles(project.dir, {
          "src/entries.ts": importAll(entries),
          // A Node service has no DOM types: every entry point but the browser's own.
          "node-only/entries.ts": importAll(entries.filter((entry) => !/\/(browser|prover-worker)$/.test(entry))),
          "src/typed.ts": [
            `import { parseMarket, parsePolicy, parsePosition, proveSolvency, verifySolvency, type SolvencyProof } from "@zk-solvency/sdk";`,
            `import { loadCircuitArtifacts } from "@zk-solvency/node";`,
            `import { RebalanceGate, rebalanceGateAbi } from "@zk-solvency/contracts";`,
            ``,
            `type IsAny<T> = 0 extends 1 & T ? true : false;`,
            `// snarkjs ships no types: the SDK's must reach the consumer as real types, not any.`,
            `export const proofIsTyped: IsAny<SolvencyProof["proof"]> = false;`,
            `export const keyIsTyped: IsAny<Parameters<typeof verifySolvency>[1]> = false;`,
            ``,
            `// The ABI is typed as const: a function name the gate does not have is an error.`,
            `type GateFunction = Extract<(typeof rebalanceGateAbi)[number], { type: "function" }>["name"];`,
            `export const register: GateFunction = "register";`,
            `// @ts-expect-error: not a function of RebalanceGate`,
            `export const missing: GateFunction = "mintForFree";`,
            `export const bytecode: \`0x\${string}\` = RebalanceGate.bytecode;`,
            ``,
            `export async function proveAndVerify(files: { market: unknown; position: unknown; policy: unknown }): Promise<{ proof: SolvencyProof; valid: boolean }> {`,
            `  const market = parseMarket(files.market, "market.json");`,
            `  const position = parsePosition(files.position, "position.json", market);`,
            `  const policy = parsePolicy(files.policy, "policy.json", market);`,
            `  const artifacts = loadCircuitArtifacts("solvency-3x3x16");`,
            `  const proof = await proveSolvency({ position, market, policy }, artifacts);`,
            `  const commitment: bigint = proof.commitment;`,
            `  const piA: string[] = proof.proof.pi_a;`,
            `  // @ts-expect-error: pi_a holds decimal strings`,
            `  const wrong: number[] = proof.proof.pi_a;`,
            `  void commitment, piA, wrong;`,
            `  return { proof, valid: await verifySolvency(proof, artifacts.verificationKey) };`,
            `}`,
          ].join("\n"),
        });
      }

      /** Runs the consumer's tsc with `options`; 0 errors expected. */
      async function compile(config: string, options: Record<string, unknown>, files = ["src/entries.ts", "src/typed.ts"]): Promise<void> {
        writeConsumer();
        writeFiles(project.dir, { [config]: JSON.stringify({ compilerOptions: options, files }, null, 2) });
        const result = await run("node", [path.join("node_modules", "typescript", "bin", "tsc"), "-p", config], project.dir);
        const errors = (result.stdout.match(/error TS\d+/g) ?? []).length;
        assert.equal(result.code, 0, `tsc -p ${config}: ${errors} errors:\n${result.stdout.slice(0, 6000)}${result.stderr}`);
        console.log(`      tsc -p ${config}: 0 errors (${result.seconds.toFixed(1)} s)`);
      }

      const strict = { strict: true, noEmit: true, skipLibCheck: false, target: "ES2022", types: ["node"] };

      it("module nodenext, moduleResolution nodenext: 0 errors", async function () {
        await compile("tsconfig.nodenext.json", { ...strict, module: "nodenext", moduleResolution: "nodenext", lib: ["ES2023", "DOM"] });
      });

      it("module nodenext without the DOM lib (a Node service; every entry point but /browser and /prover-worker): 0 errors", async function () {
        await compile("tsconfig.node-only.json", { ...strict, module: "nodenext", moduleResolution: "nodenext", lib: ["ES2023"] }, ["node-only/entries.ts", "src/typed.ts"]);
      });

      it("module esnext, moduleResolution bundler (Vite's template options): 0 errors", async function () {
        await compile("tsconfig.bundler.json", {
          ...strict,
          module: "ESNext",
          moduleResolution: "bundler",
          lib: ["ES2023", "DOM", "DOM.Iterable"],
          useDefineForClassFields: true,
          allowImportingTsExtensions: true,
          verbatimModuleSyntax: true,
          moduleDetection: "force",
          noUnusedLocals: true,
          noUnusedParameters: true,
          erasableSyntaxOnly: true,
          noFallthroughCasesInSwitch: true,
          noUncheckedSideEffectImports: true,
        });
      });
    });
  });

  describe("the CLI installed from its tarball", function () {
    let project: ConsumerProject;
    let node: LocalNode | undefined;
    const zks = (args: string[], env: NodeJS.ProcessEnv = {}) => run("npx", ["--no", "--", "zks", ...args], project.dir, npmEnv({ ZKS_BUILD_DIR: BUILD_DIR, ...env }));
    const example = (name: string) => path.join(EXAMPLES_DIR, name);

    before(async function () {
      project = await consumerProject("cli", packed, ["cli"]);
      projects.push(project);
    });

    after(async function () {
      await node?.stop();
    });

    it("brings no tsx or hardhat", function () {
      for (const name of ["tsx", "hardhat", "@nomicfoundation/hardhat-ethers"]) assert.equal(project.has(name), false, `installing @zk-solvency/cli brought ${name}`);
      console.log(`      node_modules: ${size(project.nodeModulesBytes())} (install ${project.installSeconds.toFixed(0)} s)`);
    });

    it("npx zks --help lists the commands", async function () {
      const result = await zks(["--help"]);
      assert.equal(result.code, 0, result.stderr);
      for (const command of ["check", "prove", "verify", "deploy", "keys", "setup"]) assert.match(result.stdout, new RegExp(`^\\s+${command}\\b`, "m"), `--help lists ${command}`);
    });

    it("npx zks check passes the healthy example (exit 0) and names a missing file on one line (exit 2)", async function () {
      const ok = await zks(["check", "--position", example("position-healthy.json"), "--market", example("market-grid.json"), "--policy", example("policy.json")]);
      assert.equal(ok.code, 0, ok.stderr);
      assert.match(ok.stdout, /PASS/);
      const missing = await zks([
        "check",
        "--position",
        path.join(project.dir, "no-such-position.json"),
        "--market",
        example("market-grid.json"),
        "--policy",
        example("policy.json"),
      ]);
      assert.equal(missing.code, 2, missing.stderr);
      assert.equal(missing.stderr.trim().split("\n").length, 1, `one line, not a stack trace:\n${missing.stderr}`);
      assert.match(missing.stderr, /no-such-position\.json/);
    });

    it("npx zks demo says it needs a checkout (exit 3, one line)", async function () {
      const result = await zks(["demo"]);
      assert.equal(result.code, 3, result.stderr);
      assert.equal(result.stderr.trim().split("\n").length, 1, `one line, not a stack trace:\n${result.stderr}`);
      assert.match(result.stderr, /checkout/);
    });

    it("npx zks deploy deploys the stack to a hardhat node with the shipped artifacts (no hardhat installed)", async function () {
      node = await startLocalNode();
      const keygen = await zks(["keeper", "keygen", "--out", path.join(project.dir, "keeper-key.json")]);
      assert.equal(keygen.code, 0, keygen.stderr);
      const out = path.join(project.dir, "deployment.json");
      const deployed = await zks(
        [
          "deploy",
          "--rpc",
          node.url,
          "--policy",
          example("policy.json"),
          "--market",
          example("market-grid.json"),
          "--test-tokens",
          "--keeper-key",
          path.join(project.dir, "keeper-key.pub.json"),
          "--out",
          out,
        ],
        { ZKS_PRIVATE_KEY: HARDHAT_KEY_0 },
      );
      assert.equal(deployed.code, 0, `${deployed.stdout}\n${deployed.stderr}`);
      const deployment = JSON.parse(readFileSync(out, "utf8")) as { chainId: string; contracts: Record<string, string> };
      assert.equal(deployment.chainId, "31337");
      for (const contract of ["MarketOracle", "RebalanceGate", "AuditRegistry"]) {
        assert.match(String(deployment.contracts[contract]), /^0x[0-9a-fA-F]{40}$/, `the deployment records ${contract}`);
      }
      // The contracts are really there: the gate has code.
      const response = await fetch(node.url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_getCode", params: [deployment.contracts.RebalanceGate, "latest"] }),
      });
      const { result: code } = (await response.json()) as { result: string };
      assert.ok(code.length > 2, "RebalanceGate has code on the node");
      console.log(`      deployed in ${deployed.seconds.toFixed(1)} s`);
    });
  });
});
