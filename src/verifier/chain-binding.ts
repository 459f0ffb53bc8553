/**
 * Checks a verified proof against the deployment it claims to be for: the contract its context
 * binds it to, the policy that contract enforces, the market root its oracle published for the
 * epoch, and the key of the verifier the contract calls. Browser-safe (ethers only).
 */
import { Contract, getAddress, type Provider } from "ethers";
import { AUDIT_REGISTRY_ABI, MARKET_ORACLE_ABI, REBALANCE_GATE_ABI } from "../chain/abi.ts";
import { gateContext } from "../chain/context.ts";
import { ZksError } from "../core/errors.ts";
import { signalHex } from "../proof-file/proof-file.ts";
import { ProofMetadataError, type VerifiedProofFile } from "./proof-file-verdict.ts";

/** Every generated verifier (contracts/generated/) returns its key's fingerprint (src/verifier/key-hash.ts). */
export const VERIFIER_KEY_ABI = ["function VERIFICATION_KEY_HASH() view returns (bytes32)"] as const;

export interface ChainTarget {
  provider: Provider;
  /** The chain's id, as the endpoint reports it (eth_chainId). */
  chainId: bigint;
  /** The RebalanceGate of the deployment. */
  gate: string;
  /** The deployment's AuditRegistry: a Solvency proof is an audit claim bound to it. */
  registry?: string;
}

export interface ChainBinding {
  chainId: bigint;
  /** The contract the proof's context binds it to. */
  contract: { name: "RebalanceGate" | "AuditRegistry"; address: string };
  oracle: string;
  verifier: string;
  /** Verified: the oracle's root for this epoch is the proof's marketRoot. */
  epoch: number;
}

/** A call to a deployed contract; a revert means the address is not the contract it was given as. */
async function read<T>(contract: Contract, fn: string, args: unknown[], what: string): Promise<T> {
  try {
    return (await contract.getFunction(fn).staticCall(...args)) as T;
  } catch (error) {
    const e = error as { code?: string; shortMessage?: string; message?: string };
    if (e.code === "CALL_EXCEPTION" || e.code === "BAD_DATA") throw new ZksError(`${what}: ${fn}() failed (${e.shortMessage ?? e.code}): not the contract it was given as`, 1);
    throw error;
  }
}

async function hasCode(provider: Provider, address: string, flag: string, chainId: bigint): Promise<void> {
  if ((await provider.getCode(address)) === "0x") throw new ZksError(`${flag}: no contract at ${address} on chain ${chainId}`, 2);
}

/**
 * Compares the proof's signals with the chain. Throws ProofMetadataError (exit 1) naming the
 * signal or field that disagrees: `context` (another contract or chain, or 0: off-chain only),
 * `policyHash` (not the policy the contract enforces), `zks.epoch` (the oracle published no market
 * for the file's epoch), `marketRoot` (not the oracle's root for it), `zks.verificationKeyHash`
 * (the contract's verifier checks another key).
 */
export async function checkChainBinding(verdict: VerifiedProofFile, claimedEpoch: number, target: ChainTarget): Promise<ChainBinding> {
  const { provider, chainId } = target;
  if (verdict.template === "PositionCommitment") throw new ZksError("a PositionCommitment proof carries no context: it is bound to no contract", 2);
  if (verdict.template === "Solvency" && target.registry === undefined) {
    throw new ZksError("--registry: a Solvency proof is an audit claim, bound to the AuditRegistry it was made for; give its address", 2);
  }
  if (verdict.template === "Rebalance" && target.registry !== undefined) throw new ZksError("--registry: a Rebalance proof is for the gate itself; leave --registry out", 2);

  const gateAddress = getAddress(target.gate);
  await hasCode(provider, gateAddress, "--gate", chainId);
  const gate = new Contract(gateAddress, REBALANCE_GATE_ABI, provider);
  let contract = gate;
  let name: ChainBinding["contract"]["name"] = "RebalanceGate";
  let contractAddress = gateAddress;
  if (target.registry !== undefined) {
    contractAddress = getAddress(target.registry);
    await hasCode(provider, contractAddress, "--registry", chainId);
    contract = new Contract(contractAddress, AUDIT_REGISTRY_ABI, provider);
    name = "AuditRegistry";
    const registryGate = getAddress(await read<string>(contract, "gate", [], `--registry ${contractAddress}`));
    if (registryGate !== gateAddress) throw new ZksError(`--registry: the AuditRegistry at ${contractAddress} audits the gate ${registryGate}, not --gate ${gateAddress}`, 1);
  }
  const where = `${name} ${contractAddress} on chain ${chainId}`;

  // context = keccak256(abi.encode(chainid, address)) >> 8, as ProofContext.contextOf computes it.
  const expected = gateContext(chainId, contractAddress);
  const onChain = await read<bigint>(contract, "context", [], where);
  if (onChain !== expected) throw new ZksError(`${where}: its context() ${signalHex(onChain)} is not keccak256(abi.encode(chainid, address)) >> 8 (${signalHex(expected)}): not a zk-solvency contract`, 1);
  const context = BigInt(verdict.signals.context!);
  if (context !== expected) {
    const whose = context === 0n ? "0, an off-chain proof bound to no contract" : "another contract or chain";
    throw new ProofMetadataError("context", `the proof's context ${verdict.signals.context} is ${whose}; ${where} takes ${signalHex(expected)}`);
  }

  const policy = await read<bigint>(contract, "policyHash", [], where);
  if (signalHex(policy) !== verdict.signals.policyHash) {
    throw new ProofMetadataError("policyHash", `the proof's policy hash ${verdict.signals.policyHash} is not the policy ${where} enforces (${signalHex(policy)})`);
  }

  const oracleAddress = getAddress(await read<string>(contract, "oracle", [], where));
  const oracle = new Contract(oracleAddress, MARKET_ORACLE_ABI, provider);
  const root = await read<bigint>(oracle, "rootOf", [claimedEpoch], `MarketOracle ${oracleAddress}`);
  if (root === 0n) throw new ProofMetadataError("zks.epoch", `the file says epoch ${claimedEpoch}, for which the oracle ${oracleAddress} published no market`);
  if (signalHex(root) !== verdict.signals.marketRoot) {
    throw new ProofMetadataError("marketRoot", `the proof's market root ${verdict.signals.marketRoot} is not the one the oracle ${oracleAddress} published for epoch ${claimedEpoch} (the file's zks.epoch): ${signalHex(root)}`);
  }

  const verifierAddress = getAddress(await read<string>(contract, name === "RebalanceGate" ? "rebalanceVerifier" : "solvencyVerifier", [], where));
  const verifier = new Contract(verifierAddress, VERIFIER_KEY_ABI, provider);
  let deployedKey: string;
  try {
    deployedKey = await verifier.getFunction("VERIFICATION_KEY_HASH").staticCall();
  } catch {
    throw new ProofMetadataError("zks.verificationKeyHash", `the verifier ${verifierAddress} that ${where} calls has no VERIFICATION_KEY_HASH() (deployed before keys were fingerprinted): its key cannot be compared`);
  }
  if (deployedKey.toLowerCase() !== verdict.verificationKeyHash) {
    throw new ProofMetadataError("zks.verificationKeyHash", `the proof's key ${verdict.verificationKeyHash} is not the key of the verifier ${verifierAddress} that ${where} calls (${deployedKey})`);
  }
  return { chainId, contract: { name, address: contractAddress }, oracle: oracleAddress, verifier: verifierAddress, epoch: claimedEpoch };
}
