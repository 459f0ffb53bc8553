import type { Command } from "commander";
import type { VerificationKey } from "snarkjs";
import { InputError, SetupError, ZksError } from "../../core/errors.ts";
import type { Market, Policy } from "../../inputs/types.ts";
import { loadInstanceArtifacts } from "../../node/artifacts.ts";
import { readJsonFile } from "../../node/read-json.ts";
import { DEVELOPMENT_KEY_LABEL, parseProofFile } from "../../proof-file/proof-file.ts";
import { loadInstances } from "../../setup/instances.ts";
import { readManifest } from "../../setup/manifest.ts";
import { defaultBuildPaths, instanceDir } from "../../setup/paths.ts";
import { checkChainBinding, type ChainBinding } from "../../verifier/chain-binding.ts";
import { verificationKeyHash } from "../../verifier/key-hash.ts";
import { ProofKeyError, ProofMetadataError, verifyProofFile, type InstanceDeclaration } from "../../verifier/proof-file-verdict.ts";
import { describeChecks, isProofFileTemplate } from "../../verifier/statements.ts";
import { loadMarketFile, loadPolicyFile } from "../load-inputs.ts";
import { EXIT, printJson } from "../output.ts";
import { addressFlag, provider as rpcProvider, reachRpc, rpcUrlFlag } from "../support/chain.ts";

interface VerifyFlags {
  proof: string;
  vkey?: string;
  market?: string;
  policy?: string;
  rpc?: string;
  gate?: string;
  registry?: string;
  json?: boolean;
}

const HELP = `
What is checked: the Groth16 proof under the instance's key, pinned by its fingerprint (the
built key, or --vkey, must be the key the proof file records); that the file's metadata agrees
with the public signals (signals by name, a statement the instance's circuit makes); with
--market, that the proof's marketRoot is that market's (then its epoch is the proof's); with
--policy, its policyHash; with --rpc and --gate (and --registry for a Solvency proof, an audit
claim), that the proof's context is the contract's, its policy and market root those the
contract and its oracle hold for the epoch, and the contract's verifier has the proof's key.
Only values read from the public signals are printed.

Not checked: the epoch without --market or --rpc (it is not a signal); that the position is
still the account's current one; anything about the private position beyond what the proof states.

Exit status: 0 valid, 1 invalid or the file, market, policy or chain disagrees with the signals,
2 bad input (including a --vkey that is not the proof's key), 3 setup (not built, or the built
key is not the proof's key: another setup).`;

/** The instance of circuits/instances.json the file names; the name was checked as [a-z0-9-]+ when the file was parsed. */
function declaredInstance(name: string, source: string) {
  const declared = loadInstances().find((instance) => instance.name === name);
  if (!declared) throw new InputError(source, "zks.instance", `"${name}" is not an instance of circuits/instances.json`);
  if (!isProofFileTemplate(declared.template)) throw new InputError(source, "zks.instance", `${name} is an ${declared.template} instance; audit proofs are checked with \`zks audit verify\``);
  return declared;
}

export function registerVerify(program: Command): void {
  program
    .command("verify")
    .description("verify a proof file off-chain with its instance's pinned key and report what its public signals say (exit 0 valid, 1 invalid)")
    .requiredOption("--proof <file>", "proof.json written by zks (snarkjs' proof plus zks metadata)")
    .option("--vkey <file>", "verification key JSON (default: the built key of the proof's instance); must be the key the proof records")
    .option("--market <file>", "market.json the proof claims: its root must be the proof's marketRoot (then the epoch is verified)")
    .option("--policy <file>", "policy.json: its hash must be the proof's policyHash (needs --market)")
    .option("--rpc <url>", "JSON-RPC endpoint of the deployment (with --gate): check context, policy, market root and the verifier's key on-chain")
    .option("--gate <address>", "the deployment's RebalanceGate")
    .option("--registry <address>", "the deployment's AuditRegistry, for a Solvency proof (an audit claim)")
    .option("--json", "machine-readable output")
    .addHelpText("after", HELP)
    .action(async (flags: VerifyFlags) => {
      if (flags.policy !== undefined && flags.market === undefined) throw new InputError("--policy", "", "needs --market (the policy's bounds depend on the market)");
      if (flags.rpc === undefined && (flags.gate !== undefined || flags.registry !== undefined)) throw new InputError(flags.gate !== undefined ? "--gate" : "--registry", "", "needs --rpc URL");
      if (flags.rpc !== undefined && flags.gate === undefined) throw new InputError("--rpc", "", "needs --gate ADDR (the deployment's RebalanceGate)");
      const rpc = flags.rpc === undefined ? undefined : rpcUrlFlag(flags.rpc);
      const gate = flags.gate === undefined ? undefined : addressFlag("--gate", flags.gate);
      const registry = flags.registry === undefined ? undefined : addressFlag("--registry", flags.registry);

      const { file } = parseProofFile(readJsonFile(flags.proof), flags.proof);
      // Validated before any path is built from it: the name selects a build directory.
      const declared = declaredInstance(file.zks.instance, flags.proof);
      const name = declared.name;
      const declaration: InstanceDeclaration = { instance: name, template: declared.template, params: declared.params, publicSignals: declared.publicSignals };
      let verificationKey: VerificationKey;
      if (flags.vkey) {
        verificationKey = readJsonFile(flags.vkey) as VerificationKey;
        if (typeof verificationKey !== "object" || verificationKey === null || verificationKey.protocol !== "groth16") {
          throw new InputError(flags.vkey, "protocol", "not a Groth16 verification key");
        }
        let hash: string | undefined;
        try {
          hash = verificationKeyHash(verificationKey);
        } catch {
          hash = undefined; // reported by verifyProofFile, naming the key
        }
        // A key says nothing of its circuit; this machine's builds do. A key built here for another
        // instance (same signal count: a relabelled proof) is refused; the key's source is known
        // only when this machine's build of the instance holds the very same key.
        const paths = defaultBuildPaths();
        for (const other of loadInstances()) {
          const manifest = readManifest(instanceDir(paths, other.name));
          if (hash === undefined || manifest?.verificationKeyHash !== hash) continue;
          if (other.name !== name) throw new InputError(`--vkey ${flags.vkey}`, "", `it is the key of instance ${other.name} (${instanceDir(paths, other.name)}), not of ${name}, the proof file's instance`);
          declaration.keySource = manifest.keySource ?? { kind: "development" };
        }
      } else {
        const artifacts = loadInstanceArtifacts(name);
        if (artifacts.manifest.verificationKeyHash === undefined) throw new SetupError(`circuit instance "${name}" was built before verification keys were fingerprinted; run \`zks setup --instance ${name}\``);
        verificationKey = artifacts.verificationKey;
        declaration.verificationKeyHash = artifacts.manifest.verificationKeyHash;
        declaration.keySource = artifacts.manifest.keySource ?? { kind: "development" };
      }
      const market: Market | undefined = flags.market === undefined ? undefined : loadMarketFile(flags.market);
      const policy: Policy | undefined = flags.policy === undefined ? undefined : loadPolicyFile(flags.policy, market!);

      let verdict;
      try {
        verdict = await verifyProofFile(file, verificationKey, declaration, { market, policy });
      } catch (error) {
        if (error instanceof ProofKeyError) {
          if (flags.vkey) throw new ZksError(`--vkey ${flags.vkey}: ${error.message}`, EXIT.badInput);
          throw new SetupError(`the built key of ${name} (${instanceDir(defaultBuildPaths(), name)}): ${error.message}; verify with that setup's key (--vkey)`);
        }
        if (error instanceof ProofMetadataError) throw new ZksError(`${flags.proof}: ${error.message}`, EXIT.checkFailed);
        throw error;
      }
      if (!verdict.valid) {
        if (flags.json) printJson({ valid: false, instance: name, verificationKeyHash: verdict.verificationKeyHash });
        else process.stdout.write(`INVALID: the proof does not verify under instance ${name}'s key ${verdict.verificationKeyHash}\n`);
        process.exitCode = EXIT.checkFailed;
        return;
      }

      let chain: ChainBinding | undefined;
      if (rpc !== undefined) {
        const chainId = await reachRpc(rpc);
        const provider = rpcProvider(rpc, chainId);
        try {
          chain = await checkChainBinding(verdict, file.zks.epoch, { provider, chainId, gate: gate!, registry });
        } catch (error) {
          if (error instanceof ProofMetadataError) throw new ZksError(`${flags.proof}: ${error.message}`, EXIT.checkFailed);
          throw error;
        } finally {
          provider.destroy();
        }
      }

      // The epoch is not a signal: it is a fact only when a market file or the oracle vouches for it.
      const epoch = verdict.epoch ?? chain?.epoch;
      const epochBy = verdict.epoch !== undefined ? `${flags.market}'s root is the proof's marketRoot` : chain ? "the oracle's root for it is the proof's marketRoot" : undefined;
      const development = verdict.keySource.kind === "development";
      if (flags.json) {
        printJson({
          valid: true,
          instance: name,
          template: verdict.template,
          statement: verdict.statement,
          proves: verdict.proves,
          key: { verificationKeyHash: verdict.verificationKeyHash, source: verdict.keySource.kind, sourceVerified: verdict.keySource.verified },
          epoch: epoch ?? null,
          epochVerifiedBy: verdict.epoch !== undefined ? "market" : chain ? "chain" : null,
          ...(verdict.account !== undefined && { account: verdict.account }),
          publicSignals: verdict.signals,
          matched: {
            market: verdict.matched.market,
            policy: verdict.matched.policy,
            chain: chain ? { chainId: chain.chainId.toString(), contract: chain.contract.name, address: chain.contract.address, oracle: chain.oracle, verifier: chain.verifier } : null,
          },
        });
        return;
      }
      const what = verdict.proves.length > 0 ? `; the circuit checks ${describeChecks(verdict.proves)}` : "";
      const lines = [
        `VALID: ${verdict.statement} proof, instance ${name} (${verdict.template}${what})`,
        `  ${"key".padEnd(16)} ${verdict.verificationKeyHash}, ${development ? DEVELOPMENT_KEY_LABEL : "ceremony key"}${verdict.keySource.verified ? "" : " (as the file says: no manifest of this key here)"}`,
        epoch !== undefined
          ? `  ${"epoch".padEnd(16)} ${epoch} (verified: ${epochBy})`
          : `  ${"epoch".padEnd(16)} not verified (not a public signal; check it with --market FILE or --rpc)`,
        ...Object.entries(verdict.signals).map(([signal, value]) => `  ${signal.padEnd(16)} ${value}${signal === "account" && verdict.account ? ` (${verdict.account})` : ""}`),
      ];
      if (verdict.matched.market) lines.push(`  marketRoot is ${flags.market}'s`);
      if (verdict.matched.policy) lines.push(`  policyHash is ${flags.policy}'s`);
      if (chain) {
        lines.push(
          `  on chain ${chain.chainId}: bound to ${chain.contract.name} ${chain.contract.address}; its policy, its oracle's root for epoch ${chain.epoch} and its verifier's key (${chain.verifier}) are the proof's`,
        );
      }
      process.stdout.write(`${lines.join("\n")}\n`);
    });
}
