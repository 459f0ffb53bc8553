/**
 * Where the owner's CLI finds the protocol keeper's public key and the gate a proof is bound to.
 * Every Rebalance proof encrypts the new position's opening to the gate's CURRENT keeper key, and
 * the gate refuses any other (RebalanceGate__WrongKeeperKey), so the key must come from somewhere
 * the user trusts: a public-key file, the deployments file, or the gate itself over JSON-RPC. When
 * several are given they must agree: a key rotated since the deployments file was written, or a
 * file for another deployment, is caught before minutes of proving, not by a revert.
 */
import { Contract, getAddress } from "ethers";
import { gateContext, REBALANCE_GATE_ABI } from "@zk-solvency/sdk/chain";
import { InputError, SetupError } from "@zk-solvency/sdk/core";
import { parseKeeperPublicKeyFile, validateKeeperPublicKey, type Point } from "@zk-solvency/sdk/encryption";
import { readJsonFile } from "@zk-solvency/node";
import { readDeployment, type DeploymentFile } from "../commands/submit.ts";
import { addressFlag, contextFromFlags, integerFlag, provider as rpcProvider, reachRpc, rpcUrlFlag } from "./chain.ts";

export interface GateFlags {
  keeperKey?: string;
  deployment?: string;
  rpc?: string;
  context?: string;
  chainId?: string;
  contract?: string;
}

/** The flags' help lines, shared by every command that proves a transition. */
export const GATE_FLAG_HELP = {
  keeperKey: 'the protocol keeper\'s public key file ({"kind":"zks-keeper-public-key",...}); the new position\'s opening is encrypted to it',
  deployment: "the deployments file of the gate (zks deploy): its keeperKey, and its context unless --context/--chain-id/--contract",
  rpc: "read the keeper key from the gate's keeperKey() over this JSON-RPC endpoint (the gate: --contract or --deployment)",
} as const;

export const KEEPER_KEY_HELP = `
The keeper key: every transition's proof encrypts the new position's opening to the protocol
keeper's public key (docs/enforcement.md), and the gate accepts only its current key. It comes
from --keeper-key FILE, the deployments file's keeperKey (--deployment FILE), or the gate's
keeperKey() (--rpc URL with --contract ADDR or --deployment FILE); given more than once, all must
agree (a key rotated since the deployments file was written is refused: exit 2).
`;

export interface GateBinding {
  keeperKey: Point;
  /** Where the key came from, e.g. ["--keeper-key keeper.pub.json", "gate 0x.. keeperKey() (generation 2)"]. */
  keeperKeySources: string[];
  /** The `context` signal: the gate the proof is bound to, or 0 (off-chain only). */
  context: bigint;
}

const MISSING =
  "missing: the proof encrypts the new position's opening to the protocol keeper's key; give --keeper-key FILE (its public-key file), --deployment FILE (the deployments file's keeperKey), or --rpc URL with --contract ADDR or --deployment FILE (the gate's keeperKey())";

/** A point as the deployments file writes it: two decimal (or 0x hex) strings. */
function deploymentKey(deployment: DeploymentFile, file: string): Point {
  const raw = (deployment as { keeperKey?: unknown }).keeperKey;
  if (raw === undefined) throw new InputError(file, "keeperKey", "missing (a deployment from before keeper keys?): give --keeper-key FILE or --rpc URL");
  const coordinate = (v: unknown) => (typeof v === "string" && /^(0x[0-9a-fA-F]{1,64}|\d{1,78})$/.test(v) ? BigInt(v) : undefined);
  const xy = Array.isArray(raw) && raw.length === 2 ? raw.map(coordinate) : [];
  if (xy.length !== 2 || xy.includes(undefined)) throw new InputError(file, "keeperKey", "expected [x, y] as two decimal strings");
  return validateKeeperPublicKey([xy[0]!, xy[1]!], file, "keeperKey");
}

const show = (p: Point) => `(${p[0]}, ${p[1]})`;

/**
 * The keeper key and the context of a transition proof from the flags (see KEEPER_KEY_HELP).
 * Exit 2 for a missing or disagreeing key, a gate that is no gate, a chain that is not the
 * deployment's; exit 3 for an endpoint that does not answer.
 */
export async function gateBindingFromFlags(flags: GateFlags): Promise<GateBinding> {
  const keys: { label: string; key: Point }[] = [];
  if (flags.keeperKey !== undefined) {
    keys.push({ label: `--keeper-key ${flags.keeperKey}`, key: parseKeeperPublicKeyFile(JSON.stringify(readJsonFile(flags.keeperKey)), flags.keeperKey) });
  }
  const deployment = flags.deployment === undefined ? undefined : readDeployment(flags.deployment);
  if (deployment) keys.push({ label: `${flags.deployment} (keeperKey)`, key: deploymentKey(deployment, flags.deployment!) });

  // The gate the proof is for: --contract, else the deployments file's.
  const contract = flags.contract !== undefined ? addressFlag("--contract", flags.contract) : undefined;
  const gate = contract ?? (deployment ? getAddress(deployment.contracts.RebalanceGate) : undefined);
  let rpcChainId: bigint | undefined;
  if (flags.rpc !== undefined) {
    const url = rpcUrlFlag(flags.rpc);
    if (gate === undefined) throw new InputError("--rpc", "", "reads the keeper key from the gate: give --contract ADDR or --deployment FILE");
    rpcChainId = await reachRpc(url);
    if (flags.chainId !== undefined && integerFlag("--chain-id", flags.chainId) !== rpcChainId)
      throw new InputError("--chain-id", "", `${flags.chainId}, but ${url} is chain ${rpcChainId}`);
    if (deployment && BigInt(deployment.chainId) !== rpcChainId)
      throw new InputError(flags.deployment!, "chainId", `the deployment is on chain ${deployment.chainId}, but ${url} is chain ${rpcChainId}`);
    keys.push(await gateKey(url, rpcChainId, gate));
  }

  if (keys.length === 0) throw new InputError("--keeper-key", "", MISSING);
  const [first, ...others] = keys;
  for (const other of others) {
    if (other.key[0] !== first!.key[0] || other.key[1] !== first!.key[1]) {
      throw new InputError(
        first!.label,
        "",
        `keeper key ${show(first!.key)} differs from ${other.label}'s ${show(other.key)}; the gate takes only its current key (rotated since the deployments file was written? update the file or leave one source out)`,
      );
    }
  }
  return { keeperKey: first!.key, keeperKeySources: keys.map((k) => k.label), context: contextOf(flags, contract, rpcChainId, deployment) };
}

/** The gate's current key over JSON-RPC, validated as any other (the SDK never encrypts to an invalid key). */
async function gateKey(url: string, chainId: bigint, gate: string): Promise<{ label: string; key: Point }> {
  const provider = rpcProvider(url, chainId);
  try {
    const contract = new Contract(gate, REBALANCE_GATE_ABI, provider);
    const [x, y] = (await contract.getFunction("keeperKey")()) as [bigint, bigint];
    const generation = (await contract.getFunction("keyGeneration")()) as bigint;
    const label = `gate ${gate} keeperKey() (generation ${generation})`;
    return { label, key: validateKeeperPublicKey([x, y], label, "keeperKey") };
  } catch (error) {
    if (error instanceof InputError) throw error;
    const e = error as { code?: string; shortMessage?: string; message?: string };
    if (e.code === "CALL_EXCEPTION" || e.code === "BAD_DATA")
      throw new InputError("--rpc", "", `${gate} on chain ${chainId} has no keeperKey(): not a RebalanceGate with keeper keys`);
    throw new SetupError(`the JSON-RPC endpoint ${url} failed while reading the gate's keeper key: ${e.shortMessage ?? e.message}`);
  } finally {
    provider.destroy();
  }
}

/**
 * The context: --context, or --chain-id with --contract, or --contract on the --rpc chain, else
 * the deployments file's gate, else 0. A context flag naming another gate than --deployment's is
 * refused: the proof would be bound to one gate and encrypted to another's key.
 */
function contextOf(flags: GateFlags, contract: string | undefined, rpcChainId: bigint | undefined, deployment: DeploymentFile | undefined): bigint {
  const explicit =
    flags.context === undefined && flags.chainId === undefined && contract !== undefined && rpcChainId !== undefined
      ? gateContext(rpcChainId, contract)
      : flags.context !== undefined || flags.chainId !== undefined || flags.contract !== undefined
        ? contextFromFlags(flags)
        : undefined;
  if (!deployment) return explicit ?? 0n;
  const deployed = gateContext(BigInt(deployment.chainId), getAddress(deployment.contracts.RebalanceGate));
  if (explicit !== undefined && explicit !== deployed) {
    throw new InputError(
      flags.deployment!,
      "contexts.RebalanceGate",
      `the deployment's gate has context ${deployed}, but ${flags.context !== undefined ? "--context" : "--chain-id/--contract"} gives ${explicit}: bind the proof to the gate whose key it is encrypted to`,
    );
  }
  return deployed;
}

/** The key in a command's JSON summary. */
export function keeperKeySummary(binding: GateBinding): { x: string; y: string; sources: string[] } {
  return { x: binding.keeperKey[0].toString(), y: binding.keeperKey[1].toString(), sources: binding.keeperKeySources };
}

/** The key in a command's human output: what the gate will publish, and to whom it is readable. */
export function keeperKeyLine(binding: GateBinding): string {
  const x = binding.keeperKey[0].toString(16).padStart(64, "0");
  return `the new opening is encrypted to the keeper key x = 0x${x.slice(0, 8)}…${x.slice(-6)} (from ${binding.keeperKeySources.join(", ")}); the gate publishes the ciphertext, which only the keeper can read`;
}
