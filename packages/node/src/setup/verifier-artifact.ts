/**
 * The compiled Solidity verifier of one circuit instance, `<instanceDir>/verifier.json`: what
 * `zks deploy` deploys with ethers' ContractFactory and what `zks keys publish` ships, so neither
 * needs hardhat or a compiler at run time. `zks setup` compiles it with solc-js (the `solc` npm
 * package, an optional dependency of this package: loaded only when a verifier changed), with
 * the compiler and settings hardhat.config.ts uses for the checkout's contracts.
 *
 * The file carries the source it was compiled from: deploy classifies the key by comparing that
 * text with the verifier the installed zkey makes and by finding the key's points in the runtime
 * bytecode (setup/deploy-keys.ts), never by trusting the contract's self-declared key hash.
 */
import { createHash } from "node:crypto";
import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import path from "node:path";
import { SetupError } from "@zk-solvency/sdk/core";

export const VERIFIER_ARTIFACT_FILE = "verifier.json";

/**
 * The solc release every verifier is compiled with: the `solc` package version pinned by the
 * repository (hardhat.config.ts compiles with that package) and by this package's optional
 * dependency. test/contracts-deploy.e2e.test.ts checks the three agree.
 */
export const SOLC_VERSION = "0.8.37";

/** hardhat.config.ts's `solidity.settings` (checked equal by test/contracts-deploy.e2e.test.ts). */
export const SOLC_SETTINGS = { optimizer: { enabled: true, runs: 1000 }, evmVersion: "cancun" } as const;

export interface VerifierArtifact {
  contractName: string;
  abi: unknown[];
  /** Creation code, 0x-hex: what ContractFactory deploys. */
  bytecode: string;
  /** Runtime code, 0x-hex: what the chain must hold afterwards (the verifier has no immutables). */
  deployedBytecode: string;
  /** solc's full version string, e.g. "0.8.37+commit.….Emscripten.clang". */
  solcVersion: string;
  settings: typeof SOLC_SETTINGS;
  instance: string;
  /** keccak256 of the key's points (the contract's VERIFICATION_KEY_HASH) when it was compiled. */
  verificationKeyHash: string;
  /** sha256 of `source`: decides whether a later setup must recompile. */
  sourceSha256: string;
  /** The exact Solidity text compiled (setup/groth16-setup.ts's solidityVerifierSource). */
  source: string;
}

interface Solc {
  version(): string;
  compile(input: string): string;
}

let solcLoad: Promise<Solc | undefined> | undefined;

/** solc-js, once per process (its wasm takes a few seconds to load), or undefined when not installed. */
export function loadSolc(): Promise<Solc | undefined> {
  solcLoad ??= import("solc").then(
    (module) => ((module as { default?: Solc }).default ?? (module as unknown as Solc)) as Solc,
    (error: { code?: string }) => {
      if (error.code === "ERR_MODULE_NOT_FOUND" || error.code === "MODULE_NOT_FOUND") return undefined;
      throw error;
    },
  );
  return solcLoad;
}

/** How setup and deploy tell a user to get the compiler. */
export const SOLC_HINT = `install the compiler with \`npm install solc@${SOLC_VERSION}\` (an optional dependency of @zk-solvency/node) and run \`zks setup\` again`;

const sha256 = (text: string): string => createHash("sha256").update(text).digest("hex");
const isHex = (value: unknown): value is string => typeof value === "string" && /^0x[0-9a-fA-F]+$/.test(value) && value.length % 2 === 0;

/** Compiles one generated verifier; a compiler error is a setup problem naming the contract. */
export function compileVerifier(solc: Solc, source: string, contractName: string): Pick<VerifierArtifact, "abi" | "bytecode" | "deployedBytecode" | "solcVersion"> {
  const file = `${contractName}.sol`;
  const input = {
    language: "Solidity",
    sources: { [file]: { content: source } },
    settings: { ...SOLC_SETTINGS, outputSelection: { [file]: { [contractName]: ["abi", "evm.bytecode.object", "evm.deployedBytecode.object"] } } },
  };
  const output = JSON.parse(solc.compile(JSON.stringify(input))) as {
    errors?: { severity: string; formattedMessage?: string; message: string }[];
    contracts?: Record<string, Record<string, { abi: unknown[]; evm: { bytecode: { object: string }; deployedBytecode: { object: string } } }>>;
  };
  const error = output.errors?.find((e) => e.severity === "error");
  if (error) throw new SetupError(`solc ${solc.version()}: ${file}: ${(error.formattedMessage ?? error.message).split("\n")[0]}`);
  const compiled = output.contracts?.[file]?.[contractName];
  if (!compiled?.evm.bytecode.object) throw new SetupError(`solc ${solc.version()}: ${file}: no bytecode for contract ${contractName}`);
  return { abi: compiled.abi, bytecode: `0x${compiled.evm.bytecode.object}`, deployedBytecode: `0x${compiled.evm.deployedBytecode.object}`, solcVersion: solc.version() };
}

/**
 * Reads and checks `<dir>/verifier.json`; undefined when absent. A file that is not a verifier
 * artifact (bad JSON, missing or non-hex fields) is a setup problem naming the file and field.
 */
export function readVerifierArtifact(dir: string): VerifierArtifact | undefined {
  const file = path.join(dir, VERIFIER_ARTIFACT_FILE);
  if (!existsSync(file)) return undefined;
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(readFileSync(file, "utf8")) as Record<string, unknown>;
  } catch {
    throw new SetupError(`${file}: malformed JSON; run \`zks setup\` to compile the verifier again`);
  }
  const bad = (field: string, what: string) => new SetupError(`${file}: ${field}: ${what}; run \`zks setup\` to compile the verifier again`);
  if (typeof json !== "object" || json === null) throw bad("(root)", "not an object");
  for (const field of ["contractName", "solcVersion", "instance", "source"] as const) if (typeof json[field] !== "string" || json[field] === "") throw bad(field, "missing");
  if (!Array.isArray(json.abi)) throw bad("abi", "not an array");
  for (const field of ["bytecode", "deployedBytecode"] as const) if (!isHex(json[field])) throw bad(field, "not 0x-prefixed hex");
  if (typeof json.verificationKeyHash !== "string" || !/^0x[0-9a-f]{64}$/.test(json.verificationKeyHash)) throw bad("verificationKeyHash", "not a 32-byte 0x-hex hash");
  if (json.sourceSha256 !== sha256(json.source as string)) throw bad("sourceSha256", "not the sha256 of its source");
  return json as unknown as VerifierArtifact;
}

/**
 * Makes `<dir>/verifier.json` the compiled form of `source`, unless it already is (same source,
 * compiler release and settings). Returns "compiled", "cached", or "no-solc" when the compiler
 * is not installed (the caller says how to get it; only this step is skipped).
 */
export async function ensureVerifierArtifact(
  dir: string,
  verifier: { instance: string; contractName: string; source: string; verificationKeyHash: string },
  onCompile?: () => void,
): Promise<"compiled" | "cached" | "no-solc"> {
  const sourceSha256 = sha256(verifier.source);
  let current: VerifierArtifact | undefined;
  try {
    current = readVerifierArtifact(dir);
  } catch {
    current = undefined; // a damaged file is recompiled
  }
  if (
    current &&
    current.sourceSha256 === sourceSha256 &&
    current.contractName === verifier.contractName &&
    current.verificationKeyHash === verifier.verificationKeyHash &&
    current.solcVersion.startsWith(`${SOLC_VERSION}+`) &&
    JSON.stringify(current.settings) === JSON.stringify(SOLC_SETTINGS)
  ) {
    return "cached";
  }
  const solc = await loadSolc();
  if (!solc) return "no-solc";
  if (!solc.version().startsWith(`${SOLC_VERSION}+`)) {
    throw new SetupError(`solc ${solc.version()} is installed; verifiers are compiled with ${SOLC_VERSION} (hardhat.config.ts's): ${SOLC_HINT}`);
  }
  onCompile?.();
  const compiled = compileVerifier(solc, verifier.source, verifier.contractName);
  const artifact: VerifierArtifact = {
    contractName: verifier.contractName,
    ...compiled,
    settings: SOLC_SETTINGS,
    instance: verifier.instance,
    verificationKeyHash: verifier.verificationKeyHash,
    sourceSha256,
    source: verifier.source,
  };
  // Written beside and renamed: a reader never sees half a file.
  const file = path.join(dir, VERIFIER_ARTIFACT_FILE);
  writeFileSync(`${file}.tmp`, `${JSON.stringify(artifact, null, 2)}\n`);
  renameSync(`${file}.tmp`, file);
  return "compiled";
}
