import type { Command } from "commander";
import { ZksError } from "@zk-solvency/sdk/core";
import { verifyProofFiles, type KeyPinnedBy } from "@zk-solvency/node";
import { DEVELOPMENT_KEY_LABEL, type KeySourceKind } from "@zk-solvency/sdk/proof-file";
import { UNTRUSTED_PTAU_NOTE } from "@zk-solvency/node/setup";
import { describeChecks, type ChainBinding, type VerifiedProofFile } from "@zk-solvency/sdk/verifier";
import { EXIT, printJson } from "../output.ts";
import { provider as rpcProvider, reachRpc } from "../support/chain.ts";

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

/** How the key was pinned, for output. */
type PinnedBy = KeyPinnedBy;

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
      const result = await verifyProofFiles({
        proof: flags.proof,
        ...(flags.vkey !== undefined && { vkey: flags.vkey }),
        ...(flags.keyHash !== undefined && { keyHash: flags.keyHash }),
        ...(flags.deployment !== undefined && { deployment: flags.deployment }),
        ...(flags.market !== undefined && { market: flags.market }),
        ...(flags.policy !== undefined && { policy: flags.policy }),
        ...(flags.gate !== undefined && { gate: flags.gate }),
        ...(flags.registry !== undefined && { registry: flags.registry }),
        ...(flags.rpc !== undefined && {
          rpc: {
            url: flags.rpc,
            connect: async (url: string) => {
              const chainId = await reachRpc(url);
              return { chainId, provider: rpcProvider(url, chainId) };
            },
          },
        }),
      });
      if (!result.valid) {
        if (result.stage === "proof") {
          if (flags.json) printJson({ valid: false, instance: result.instance, verificationKeyHash: result.verificationKeyHash, field: null, problem: result.problem });
          else process.stdout.write(`INVALID: ${result.problem}\n`);
          process.exitCode = EXIT.checkFailed;
          return;
        }
        // A failed check: on --json a {valid: false} object too, then one line on stderr and exit 1.
        if (flags.json) printJson({ valid: false, instance: result.instance, field: result.field, problem: result.problem });
        throw new ZksError(result.message, EXIT.checkFailed);
      }
      report(flags, result.verdict, result.chain, result.pinnedBy, result.builtDir, result.untrustedCeremony);
    });
}

function report(
  flags: VerifyFlags,
  verdict: VerifiedProofFile,
  chain: ChainBinding | undefined,
  pinnedBy: PinnedBy,
  builtDir: string | undefined,
  untrustedCeremony: boolean,
): void {
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
  const label = (kind: KeySourceKind) =>
    kind === "development" ? DEVELOPMENT_KEY_LABEL : untrustedCeremony ? `ceremony key on an UNTRUSTED ptau: ${UNTRUSTED_PTAU_NOTE}` : "ceremony key";
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
  if (chain)
    lines.push(
      `  on chain ${chain.chainId}: bound to ${chain.contract.name} ${chain.contract.address}; its policy, its oracle's root for epoch ${chain.epoch} and its verifier's key (${chain.verifier}, in its code) are the proof's`,
    );
  process.stdout.write(`${lines.join("\n")}\n`);
}
