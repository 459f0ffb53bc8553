#!/usr/bin/env node
// Exports what @zk-solvency/contracts ships besides the .sol sources: the compiled contracts,
// so an app deploys or calls them with ethers alone (no hardhat, no solc, no OpenZeppelin at run
// time).
//
// 1. `hardhat compile` at the repository root (a no-op when nothing changed), so the package
//    never ships ABIs or bytecode older than its sources.
// 2. artifacts/<Name>.json for each contract below: `{ contractName, abi, bytecode,
//    deployedBytecode }` (interfaces: `{ contractName, abi }`), read from hardhat's artifacts.
//    Stale files from an earlier export are removed first.
// 3. src/generated/contracts.ts: the same as TypeScript constants `as const`, so a consumer's
//    ABI is typed to the function (viem and ethers' typed contracts read it). src/index.ts
//    re-exports them by name; tools/build-package.mjs then compiles src/ into dist/.
//
// Run by the package's `build` (and so `prepack`) script; only a checkout runs it.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

const PACKAGE_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const REPO = path.resolve(PACKAGE_DIR, "../..");
const HARDHAT_ARTIFACTS = path.join(REPO, "artifacts", "packages", "contracts", "contracts");
const OUT_DIR = path.join(PACKAGE_DIR, "artifacts");
const GENERATED = path.join(PACKAGE_DIR, "src", "generated", "contracts.ts");
const INDEX = path.join(PACKAGE_DIR, "src", "index.ts");

/**
 * What the package exports: `source` is the file under contracts/. Deployable contracts carry
 * bytecode; interfaces only their ABI. TestToken (contracts/test/) is the ERC-20 that
 * `zks deploy` mints for a local test stack; it is never part of a production deployment.
 */
const CONTRACTS = [
  { name: "RebalanceGate", source: "RebalanceGate.sol", kind: "contract" },
  { name: "MarketOracle", source: "MarketOracle.sol", kind: "contract" },
  { name: "AuditRegistry", source: "AuditRegistry.sol", kind: "contract" },
  { name: "LenderVault", source: "LenderVault.sol", kind: "contract" },
  { name: "TestToken", source: "test/TestToken.sol", kind: "contract" },
  { name: "IRebalanceGate", source: "interfaces/IRebalanceGate.sol", kind: "interface" },
  { name: "IMarketOracle", source: "interfaces/IMarketOracle.sol", kind: "interface" },
  { name: "IAuditRegistry", source: "interfaces/IAuditRegistry.sol", kind: "interface" },
  { name: "ILenderVault", source: "interfaces/ILenderVault.sol", kind: "interface" },
];

function fail(message) {
  console.error(`export-artifacts: ${message}`);
  process.exit(1);
}

const require = createRequire(path.join(REPO, "package.json"));
let hardhatCli;
try {
  const hardhatPackage = require.resolve("hardhat/package.json");
  hardhatCli = path.join(path.dirname(hardhatPackage), JSON.parse(readFileSync(hardhatPackage, "utf8")).bin.hardhat);
} catch {
  fail(`hardhat is not installed at ${REPO}: run \`npm install\` at the repository root (this script runs only in a checkout)`);
}
const compile = spawnSync(process.execPath, [hardhatCli, "compile", "--quiet"], { cwd: REPO, stdio: "inherit" });
if (compile.status !== 0) fail(`\`hardhat compile\` failed (exit ${compile.status ?? compile.signal})`);

const HEX = /^0x([0-9a-fA-F]{2})*$/;
rmSync(OUT_DIR, { recursive: true, force: true });
mkdirSync(OUT_DIR, { recursive: true });
const exported = [];
for (const { name, source, kind } of CONTRACTS) {
  const file = path.join(HARDHAT_ARTIFACTS, source, `${name}.json`);
  if (!existsSync(file)) fail(`${file}: missing after \`hardhat compile\` (is contracts/${source} still where this script says?)`);
  const artifact = JSON.parse(readFileSync(file, "utf8"));
  if (artifact.contractName !== name || !Array.isArray(artifact.abi)) fail(`${file}: not the artifact of ${name}`);
  let out;
  if (kind === "interface") {
    out = { contractName: name, abi: artifact.abi };
  } else {
    // ethers' ContractFactory deploys these as they are: a library linked at deploy time would
    // leave __$…$__ placeholders in the bytecode, and would have to be exported and linked too.
    if (Object.keys(artifact.linkReferences ?? {}).length > 0) fail(`${file}: ${name} links external libraries; export and link them too`);
    if (!HEX.test(artifact.bytecode) || artifact.bytecode.length <= 2) fail(`${file}: bytecode: not deployable 0x-hex code`);
    if (!HEX.test(artifact.deployedBytecode)) fail(`${file}: deployedBytecode: not 0x-hex code`);
    out = { contractName: name, abi: artifact.abi, bytecode: artifact.bytecode, deployedBytecode: artifact.deployedBytecode };
    // Byte ranges of the runtime code the constructor fills in: `zks verify --registry` compares
    // a deployed AuditRegistry's code with deployedBytecode everywhere else.
    if (Object.keys(artifact.immutableReferences ?? {}).length > 0) out.immutableReferences = artifact.immutableReferences;
  }
  writeFileSync(path.join(OUT_DIR, `${name}.json`), `${JSON.stringify(out, null, 2)}\n`);
  exported.push({ name, kind, out });
}

// The typed constants. Each ABI is its own export so a page that only calls the gate does not
// bundle its bytecode (the package is side-effect free, so unused exports are dropped).
const abiName = (name) => `${name[0].toLowerCase()}${name.slice(1)}Abi`;
let ts =
  "// Generated by packages/contracts/scripts/export-artifacts.mjs from hardhat's artifacts: do not edit.\n" +
  "// The ABIs are `as const` so they type calls; the bytecode is typed as 0x-hex only.\n\n";
for (const { name, kind, out } of exported) {
  ts += `export const ${abiName(name)} = ${JSON.stringify(out.abi)} as const;\n\n`;
  if (kind === "contract") {
    ts +=
      `export const ${name} = {\n` +
      `  contractName: "${name}",\n` +
      `  abi: ${abiName(name)},\n` +
      `  bytecode: "${out.bytecode}" as \`0x\${string}\`,\n` +
      `  deployedBytecode: "${out.deployedBytecode}" as \`0x\${string}\`,\n` +
      `} as const;\n\n`;
  } else {
    ts += `export const ${name} = { contractName: "${name}", abi: ${abiName(name)} } as const;\n\n`;
  }
}
mkdirSync(path.dirname(GENERATED), { recursive: true });
writeFileSync(GENERATED, ts);

// src/index.ts names its exports one by one (no `export *`): check it names every one, so a
// contract added above is not silently left out of the package.
const index = readFileSync(INDEX, "utf8");
const missing = exported.flatMap(({ name }) => [name, abiName(name)]).filter((id) => !new RegExp(`\\b${id}\\b`).test(index));
if (missing.length > 0) fail(`${INDEX} does not export ${missing.join(", ")}: add them to its export list`);

// On stderr: `npm pack --json` prints its report on stdout, after the prepack build.
console.error(
  `@zk-solvency/contracts: exported ${exported.length} artifacts (${exported
    .filter((c) => c.kind === "contract")
    .map((c) => c.name)
    .join(", ")}; interfaces ${exported
    .filter((c) => c.kind === "interface")
    .map((c) => c.name)
    .join(", ")})`,
);
