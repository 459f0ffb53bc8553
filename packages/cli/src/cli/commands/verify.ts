import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import type { Command } from "commander";
import { getAddress } from "ethers";
import type { VerificationKey } from "snarkjs";
import { z } from "zod";
import { InputError, SetupError, ZksError } from "@zk-solvency/sdk/core";
import type { Market, Policy } from "@zk-solvency/sdk/inputs";
import { readJsonFile } from "@zk-solvency/node";
import { DEVELOPMENT_KEY_LABEL, parseProofFile, type KeySourceKind } from "@zk-solvency/sdk/proof-file";
import { loadInstances, type InstanceConfig } from "@zk-solvency/node/setup";
import { keyDeployable, manifestFiles, readManifest, UNTRUSTED_PTAU_NOTE, type KeySource } from "@zk-solvency/node/setup";
import { defaultBuildPaths, instanceDir, PACKAGE_ROOT } from "@zk-solvency/node/setup";
import { ChainMismatchError, checkChainBinding, type ChainBinding, type CompiledRuntime } from "@zk-solvency/sdk/verifier";
import { canonicalVerificationKey, VerificationKeyShapeError } from "@zk-solvency/sdk/verifier";
import { verificationKeyHash } from "@zk-solvency/sdk/verifier";
import { ProofKeyError, ProofMetadataError, verifyProofFile, type InstanceDeclaration, type VerifiedProofFile } from "@zk-solvency/sdk/verifier";
import { describeChecks, isProofFileTemplate } from "@zk-solvency/sdk/verifier";
import { loadMarketFile, loadPolicyFile } from "../load-inputs.ts";
import { EXIT, printJson } from "../output.ts";
import { addressFlag, provider as rpcProvider, reachRpc, rpcUrlFlag } from "../support/chain.ts";

interface VerifyFlags {
  proof: string;
  vkey?: string;
  keyHash?: string;
  deployment?: string;
  market?: string;
  policy?: string;
  rpc?: string;
  gate?: string;
  registry?: string;
  json?: boolean;
}

const HELP = `
What is checked: the Groth16 proof under the instance's key, pinned by a source other than the
proof file: this machine's build of the instance (the default, and --vkey must then be that very
key), or --key-hash, --deployment FILE, or --rpc (the deployed verifier's code holds the key);
a key nothing pins is refused, since a key says nothing of its circuit. Then that the file's
metadata agrees with the public signals (signals by name, a statement the instance's circuit
makes, the key source); with --market, that the proof's marketRoot is that market's (then its
epoch is the proof's); with --policy, its policyHash; with --rpc and --gate (and --registry for a
Solvency proof, an audit claim) or --deployment, that the proof's context is the contract's, its
policy and market root those the contract and its oracle hold for the epoch, the registry is the
compiled AuditRegistry bound to the gate, and the contract's verifier has the proof's key in its
code. Only values read from the public signals are printed, each binding marked checked or not.

Not checked: marketRoot, policyHash, context and the epoch unless the flags above are given (they
are the prover's choice otherwise); that the position is still the account's current one;
anything about the private position beyond what the proof states.

Exit status: 0 valid, 1 invalid or the file, market, policy or chain disagrees with the signals,
2 bad input (including a --vkey that no trusted source pins, or that is not the proof's key),
3 setup (not built, a stale or inconsistent build, or the built key is not the proof's key:
another setup; the JSON-RPC endpoint failing).`;

const KEY_HASH = /^0x[0-9a-fA-F]{64}$/;

/** The instance of circuits/instances.json the file names; the name was checked as [a-z0-9-]+ when the file was parsed. */
function declaredInstance(name: string, source: string): InstanceConfig {
  const declared = loadInstances().find((instance) => instance.name === name);
  if (!declared) throw new InputError(source, "zks.instance", `"${name}" is not an instance of circuits/instances.json`);
  if (!isProofFileTemplate(declared.template)) throw new InputError(source, "zks.instance", `${name} is an ${declared.template} instance; audit proofs are checked with \`zks audit verify\``);
  return declared;
}

interface BuiltKey {
  dir: string;
  key: VerificationKey;
  /** Computed from verification_key.json itself, not read from the manifest. */
  hash: string;
  keySource: KeySource | { kind: "development" };
}

/**
 * This machine's build of the instance, when there is one: its key, and that key's fingerprint
 * computed from the key file (the manifest's field is only a record of it). The manifest must
 * describe the instance circuits/instances.json declares: template, parameters and signal names
 * come from instances.json while the key comes from the build, so a stale build is a setup error.
 */
function builtKey(declared: InstanceConfig): BuiltKey | undefined {
  const paths = defaultBuildPaths();
  const dir = instanceDir(paths, declared.name);
  const manifest = readManifest(dir);
  if (!manifest?.setupKey) return undefined;
  const rebuild = `run \`zks setup --instance ${declared.name}\``;
  const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
  for (const field of ["template", "params", "publicSignals"] as const) {
    if (!same(manifest[field], declared[field])) {
      throw new SetupError(`the build of ${declared.name} (${dir}) is stale: its manifest's ${field} ${JSON.stringify(manifest[field])} is not circuits/instances.json's ${JSON.stringify(declared[field])}; ${rebuild}`);
    }
  }
  if (manifest.verificationKeyHash === undefined) throw new SetupError(`circuit instance "${declared.name}" was built before verification keys were fingerprinted; ${rebuild}`);
  const file = manifestFiles(dir, manifest).vkey;
  let key: VerificationKey;
  try {
    key = canonicalVerificationKey(JSON.parse(readFileSync(file, "utf8")));
  } catch (error) {
    throw new SetupError(`${file}: not a usable verification key (${(error as Error).message}); ${rebuild}`);
  }
  const hash = verificationKeyHash(key);
  if (hash !== manifest.verificationKeyHash) {
    throw new SetupError(`${file}: its hash is ${hash} but the manifest records ${manifest.verificationKeyHash}: an inconsistent build; ${rebuild}`);
  }
  return { dir, key, hash, keySource: manifest.keySource ?? { kind: "development" } };
}

/** The fingerprint of another instance's built key equal to `hash`, if any: a relabelled proof under its own key. */
function builtInstanceWithKey(hash: string, except: string): { name: string; dir: string } | undefined {
  const paths = defaultBuildPaths();
  for (const other of loadInstances()) {
    if (other.name === except) continue;
    const dir = instanceDir(paths, other.name);
    const manifest = readManifest(dir);
    if (!manifest?.setupKey) continue;
    try {
      if (verificationKeyHash(canonicalVerificationKey(JSON.parse(readFileSync(manifestFiles(dir, manifest).vkey, "utf8")))) === hash) return { name: other.name, dir };
    } catch {
      // An unreadable key of another instance pins nothing either way.
    }
  }
  return undefined;
}

/** The parts of a deployments file (scripts/deploy.ts) verify trusts: its addresses and the key of each verifier. */
const deploymentSchema = z.object({
  network: z.string(),
  chainId: z.string().regex(/^\d+$/, "expected a decimal chain id"),
  contracts: z.object({ RebalanceGate: z.string(), AuditRegistry: z.string() }),
  verifierKeys: z
    .array(
      z.object({
        instance: z.string().nullable(),
        kind: z.enum(["development", "ceremony", "unknown"]),
        verificationKeyHash: z.string().regex(/^0x[0-9a-f]{64}$/).nullable(),
      }),
    )
    .optional(),
});
type DeploymentPins = z.infer<typeof deploymentSchema> & { gate: string; registry: string };

function readDeploymentFile(file: string): DeploymentPins {
  const parsed = deploymentSchema.safeParse(readJsonFile(file));
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new InputError(file, issue.path.join("."), `${issue.message} (not a deployments file written by \`zks deploy\`?)`);
  }
  if (parsed.data.network === "in-process") throw new InputError(file, "network", "an in-process deployment is a dry run whose chain ended with it");
  const address = (field: "RebalanceGate" | "AuditRegistry") => {
    try {
      return getAddress(parsed.data.contracts[field]);
    } catch {
      throw new InputError(file, `contracts.${field}`, "not an address");
    }
  };
  return { ...parsed.data, gate: address("RebalanceGate"), registry: address("AuditRegistry") };
}

/** The compiled AuditRegistry's runtime code (hardhat's artifact), which a --registry must run. */
function compiledAuditRegistry(): CompiledRuntime {
  const file = path.join(PACKAGE_ROOT, "artifacts", "packages", "contracts", "contracts", "AuditRegistry.sol", "AuditRegistry.json");
  if (!existsSync(file)) throw new SetupError(`${file} is missing: run \`npx hardhat compile\` (a --registry is checked against the compiled AuditRegistry)`);
  const artifact = JSON.parse(readFileSync(file, "utf8")) as CompiledRuntime;
  if (typeof artifact.deployedBytecode !== "string") throw new SetupError(`${file}: no deployedBytecode; run \`npx hardhat compile\``);
  return artifact;
}

/** How the key was pinned, for output. */
type PinnedBy = "build" | "key-hash" | "deployment" | "chain";

export function registerVerify(program: Command): void {
  program
    .command("verify")
    .description("verify a proof file off-chain under its instance's pinned key and report what its public signals say (exit 0 valid, 1 invalid)")
    .requiredOption("--proof <file>", "proof.json written by zks (snarkjs' proof plus zks metadata)")
    .option("--vkey <file>", "verification key JSON (default: this machine's built key of the proof's instance); must be pinned: the built key, --key-hash, --deployment or --rpc")
    .option("--key-hash <hash>", "the fingerprint (0x + 64 hex) of the instance's key you trust, e.g. from the ceremony's published transcript")
    .option("--deployment <file>", "deployments file of `zks deploy`: pins the instance's key and gives --gate and --registry")
    .option("--market <file>", "market.json the proof claims: its root must be the proof's marketRoot (then the epoch is verified)")
    .option("--policy <file>", "policy.json: its hash must be the proof's policyHash (needs --market)")
    .option("--rpc <url>", "JSON-RPC endpoint of the deployment (with --gate or --deployment): check context, policy, market root and the verifier's key on-chain")
    .option("--gate <address>", "the deployment's RebalanceGate")
    .option("--registry <address>", "the deployment's AuditRegistry, for a Solvency proof (an audit claim)")
    .option("--json", "machine-readable output")
    .addHelpText("after", HELP)
    .action(async (flags: VerifyFlags) => {
      if (flags.policy !== undefined && flags.market === undefined) throw new InputError("--policy", "", "needs --market (the policy's bounds depend on the market)");
      if (flags.deployment !== undefined && (flags.gate !== undefined || flags.registry !== undefined)) throw new InputError(flags.gate !== undefined ? "--gate" : "--registry", "", "--deployment gives the gate and registry; leave this out");
      if (flags.rpc === undefined && (flags.gate !== undefined || flags.registry !== undefined)) throw new InputError(flags.gate !== undefined ? "--gate" : "--registry", "", "needs --rpc URL");
      if (flags.rpc !== undefined && flags.gate === undefined && flags.deployment === undefined) throw new InputError("--rpc", "", "needs --gate ADDR (the deployment's RebalanceGate) or --deployment FILE");
      if (flags.keyHash !== undefined && !KEY_HASH.test(flags.keyHash)) throw new InputError("--key-hash", "", `expected 0x and 64 hex digits, got "${flags.keyHash}"`);
      const pinnedHash = flags.keyHash?.toLowerCase();
      const rpc = flags.rpc === undefined ? undefined : rpcUrlFlag(flags.rpc);
      const deployment = flags.deployment === undefined ? undefined : readDeploymentFile(flags.deployment);

      const { file } = parseProofFile(readJsonFile(flags.proof), flags.proof);
      // Validated before any path is built from it: the name selects a build directory.
      const declared = declaredInstance(file.zks.instance, flags.proof);
      const name = declared.name;
      const built = builtKey(declared);
      // `zks deploy` records "unknown" when the compiled verifier it deployed did not carry the build's key: that hash pins nothing.
      const deployed = deployment?.verifierKeys?.find((k) => k.instance === name && k.verificationKeyHash !== null && k.kind !== "unknown");

      // The key, and the trusted fingerprint it must have: never the file's own say-so.
      let verificationKey: VerificationKey;
      let trusted: string;
      let pinnedBy: PinnedBy;
      const keyFlag = flags.vkey === undefined ? undefined : `--vkey ${flags.vkey}`;
      if (flags.vkey !== undefined) {
        try {
          verificationKey = canonicalVerificationKey(readJsonFile(flags.vkey));
        } catch (error) {
          if (error instanceof VerificationKeyShapeError) throw new InputError(flags.vkey, error.field, `${error.problem} (not a Groth16 BN254 verification key as its fingerprint covers it)`);
          throw error;
        }
        const hash = verificationKeyHash(verificationKey);
        const other = builtInstanceWithKey(hash, name);
        if (other) throw new InputError(keyFlag!, "", `it is the key of instance ${other.name} (${other.dir}), not of ${name}, the proof file's instance (key ${hash}; ${name}'s is ${built?.hash ?? "not built here"})`);
        if (pinnedHash !== undefined && pinnedHash !== hash) throw new InputError(keyFlag!, "", `the key's hash is ${hash}, not the pinned --key-hash ${pinnedHash}`);
        if (deployed && deployed.verificationKeyHash !== hash) throw new InputError(keyFlag!, "", `the key's hash is ${hash}, not ${deployed.verificationKeyHash}, the key of ${name} in ${flags.deployment}`);
        if (pinnedHash !== undefined) pinnedBy = "key-hash";
        else if (deployed) pinnedBy = "deployment";
        else if (built?.hash === hash) pinnedBy = "build";
        else if (rpc !== undefined) pinnedBy = "chain"; // checked below: the deployed verifier's code must hold this key
        else {
          const here = built ? `this machine's built key of ${name} is ${built.hash}` : `${name} is not built here`;
          throw new InputError(keyFlag!, "", `unpinned key: its hash is ${hash} and ${here}; a key says nothing of the circuit it was made for (whoever made it may hold its trapdoor), so pin it with --key-hash HASH from a source you trust, --deployment FILE or --rpc with the deployment`);
        }
        trusted = hash;
      } else {
        if (!built) throw new SetupError(`circuit instance "${name}" is not built in ${defaultBuildPaths().buildDir}; run \`zks setup --instance ${name}\` or give the key (--vkey) with a pin`);
        verificationKey = built.key;
        for (const [pin, by] of [[pinnedHash, "--key-hash pins"], [deployed?.verificationKeyHash, `${flags.deployment} records`]] as const) {
          if (pin != null && pin !== built.hash) throw new SetupError(`the built key of ${name} (${built.dir}) is ${built.hash}, not ${pin}, the key ${by}; verify with that key (--vkey)`);
        }
        trusted = built.hash;
        pinnedBy = pinnedHash !== undefined ? "key-hash" : deployed ? "deployment" : "build";
      }
      // The key's source is known from this machine's manifest of the very key, or the deployments file that pins it.
      const source = built?.hash === trusted ? built.keySource : deployed && deployed.kind !== "unknown" && pinnedBy === "deployment" ? { kind: deployed.kind } : undefined;
      const declaration: InstanceDeclaration = { instance: name, template: declared.template, params: declared.params, publicSignals: declared.publicSignals, verificationKeyHash: trusted, ...(source && { keySource: source }) };

      const market: Market | undefined = flags.market === undefined ? undefined : loadMarketFile(flags.market);
      const policy: Policy | undefined = flags.policy === undefined ? undefined : loadPolicyFile(flags.policy, market!);

      /** A failed check: on --json a {valid: false} object too, then one line on stderr and exit 1. */
      const failed = (field: string, problem: string, message: string): never => {
        if (flags.json) printJson({ valid: false, instance: name, field, problem });
        throw new ZksError(message, EXIT.checkFailed);
      };

      let verdict;
      try {
        verdict = await verifyProofFile(file, verificationKey, declaration, { market, policy });
      } catch (error) {
        if (error instanceof ProofKeyError) {
          if (keyFlag) throw new ZksError(`${keyFlag}: ${error.message}`, EXIT.badInput);
          throw new SetupError(`the built key of ${name} (${built!.dir}): ${error.message}; verify with that setup's key (--vkey) and a pin`);
        }
        if (error instanceof ProofMetadataError) failed(error.field, error.problem, `${flags.proof}: ${error.message}`);
        throw error;
      }
      if (!verdict.valid) {
        const problem = `the proof does not verify under instance ${name}'s key ${verdict.verificationKeyHash}`;
        if (flags.json) printJson({ valid: false, instance: name, verificationKeyHash: verdict.verificationKeyHash, field: null, problem });
        else process.stdout.write(`INVALID: ${problem}\n`);
        process.exitCode = EXIT.checkFailed;
        return;
      }

      let chain: ChainBinding | undefined;
      if (rpc !== undefined) {
        const chainId = await reachRpc(rpc);
        if (deployment && BigInt(deployment.chainId) !== chainId) throw new InputError("--rpc", "", `${rpc} is chain ${chainId}, but ${flags.deployment} is a deployment on chain ${deployment.chainId}`);
        const gate = deployment ? deployment.gate : addressFlag("--gate", flags.gate!);
        const registry = deployment ? (verdict.template === "Solvency" ? deployment.registry : undefined) : flags.registry === undefined ? undefined : addressFlag("--registry", flags.registry);
        const provider = rpcProvider(rpc, chainId);
        try {
          chain = await checkChainBinding(verdict, verificationKey, file.zks.epoch, { provider, chainId, gate, registry, ...(registry !== undefined && { auditRegistry: compiledAuditRegistry() }) });
        } catch (error) {
          if (error instanceof ProofMetadataError) failed(error.field, error.problem, `${flags.proof}: ${error.message}`);
          if (error instanceof ChainMismatchError) failed(error.field, error.problem, error.message);
          throw error;
        } finally {
          provider.destroy();
        }
      }
      // A ceremony key on an untrusted phase-1 ptau is labelled as setup, inspect and deploy label it.
      const untrustedCeremony = built?.hash === trusted && built.keySource.kind === "ceremony" && !keyDeployable(built.keySource);
      report(flags, verdict, chain, pinnedBy, built?.dir, untrustedCeremony);
    });
}

function report(flags: VerifyFlags, verdict: VerifiedProofFile, chain: ChainBinding | undefined, pinnedBy: PinnedBy, builtDir: string | undefined, untrustedCeremony: boolean): void {
  const { signals } = verdict;
  // The epoch is not a signal: it is a fact only when a market file or the oracle vouches for it.
  const epoch = verdict.epoch ?? chain?.epoch;
  const has = (signal: string) => signal in signals;
  const checked = {
    marketRoot: has("marketRoot") ? verdict.matched.market || chain !== undefined : null,
    policyHash: has("policyHash") ? verdict.matched.policy || chain !== undefined : null,
    context: has("context") ? chain !== undefined : null,
    epoch: has("marketRoot") ? epoch !== undefined : null,
  };
  const pinned = {
    build: `this machine's build${builtDir ? ` (${builtDir})` : ""}`,
    "key-hash": "--key-hash",
    deployment: `${flags.deployment}`,
    chain: "the deployed verifier's code (--rpc)",
  }[pinnedBy];
  const source = verdict.keySource.kind;
  if (flags.json) {
    printJson({
      valid: true,
      instance: verdict.instance,
      template: verdict.template,
      statement: verdict.statement,
      proves: verdict.proves,
      key: { verificationKeyHash: verdict.verificationKeyHash, pinnedBy, source, claimedSource: verdict.keySource.claimed, untrustedPtau: untrustedCeremony },
      epoch: epoch ?? null,
      epochVerifiedBy: verdict.epoch !== undefined ? "market" : chain ? "chain" : null,
      ...(verdict.account !== undefined && { account: verdict.account }),
      publicSignals: signals,
      checked,
      matched: {
        market: verdict.matched.market,
        policy: verdict.matched.policy,
        chain: chain ? { chainId: chain.chainId.toString(), contract: chain.contract.name, address: chain.contract.address, oracle: chain.oracle, verifier: chain.verifier } : null,
      },
    });
    return;
  }
  const label = (kind: KeySourceKind) => (kind === "development" ? DEVELOPMENT_KEY_LABEL : untrustedCeremony ? `ceremony key on an UNTRUSTED ptau: ${UNTRUSTED_PTAU_NOTE}` : "ceremony key");
  const keySource = source !== null ? label(source) : `source not known here (the file says: ${label(verdict.keySource.claimed)})`;
  const what = verdict.proves.length > 0 ? `; the circuit checks ${describeChecks(verdict.proves)}` : "";
  const note: Record<string, string> = {};
  if (has("marketRoot")) {
    const by = [verdict.matched.market && `${flags.market}'s root`, chain && `the oracle's root for epoch ${chain.epoch}`].filter(Boolean);
    note.marketRoot = by.length > 0 ? `checked: ${by.join("; ")}` : "not checked: give --market FILE or --rpc";
  }
  if (has("policyHash")) {
    const by = [verdict.matched.policy && `${flags.policy}'s hash`, chain && `the policy ${chain.contract.name} enforces`].filter(Boolean);
    note.policyHash = by.length > 0 ? `checked: ${by.join("; ")}` : "not checked: give --policy FILE or --rpc";
  }
  if (has("context")) {
    if (chain) note.context = `checked: ${chain.contract.name} ${chain.contract.address} on chain ${chain.chainId}`;
    else note.context = BigInt(signals.context!) === 0n ? "0: an off-chain proof, bound to no contract" : "not checked: give --rpc URL with --gate or --deployment";
  }
  if (signals.account !== undefined && verdict.account) note.account = verdict.account;
  const epochBy = verdict.epoch !== undefined ? `${flags.market}'s root is the proof's marketRoot` : "the oracle's root for it is the proof's marketRoot";
  const lines = [
    `VALID: ${verdict.statement} proof, instance ${verdict.instance} (${verdict.template}${what})`,
    `  ${"key".padEnd(16)} ${verdict.verificationKeyHash}, ${keySource} (pinned by ${pinned})`,
    has("marketRoot")
      ? epoch !== undefined
        ? `  ${"epoch".padEnd(16)} ${epoch} (checked: ${epochBy})`
        : `  ${"epoch".padEnd(16)} not checked (not a public signal; check it with --market FILE or --rpc)`
      : `  ${"epoch".padEnd(16)} none (a ${verdict.template} proof carries no marketRoot)`,
    ...Object.entries(signals).map(([signal, value]) => `  ${signal.padEnd(16)} ${value}${note[signal] ? ` (${note[signal]})` : ""}`),
  ];
  if (chain) lines.push(`  on chain ${chain.chainId}: bound to ${chain.contract.name} ${chain.contract.address}; its policy, its oracle's root for epoch ${chain.epoch} and its verifier's key (${chain.verifier}, in its code) are the proof's`);
  process.stdout.write(`${lines.join("\n")}\n`);
}
