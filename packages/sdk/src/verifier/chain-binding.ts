/**
 * Checks a verified proof against the deployment it claims to be for: the contract its context
 * binds it to, the policy that contract enforces, the market root its oracle published for the
 * epoch, and the key of the verifier the contract calls. The gate is the anchor the caller trusts;
 * everything else is checked rather than asked, since a contract's answers about itself are only
 * claims: a registry must run the compiled AuditRegistry's code and share the gate's oracle and
 * policy, and the verifier's code must hold the key's points (its VERIFICATION_KEY_HASH() is a
 * constant any contract can return). Browser-safe (ethers only).
 */
import { Contract, getAddress, getBytes, hexlify, type Provider } from "ethers";
import type { VerificationKey } from "snarkjs";
import { AUDIT_REGISTRY_ABI, MARKET_ORACLE_ABI, REBALANCE_GATE_ABI } from "../chain/abi.ts";
import { gateContext } from "../chain/context.ts";
import { SetupError, ZksError } from "../core/errors.ts";
import { signalHex } from "../proof-file/proof-file.ts";
import { verificationKeyWords } from "./key-check.ts";
import { ProofMetadataError, type VerifiedProofFile } from "./proof-file-verdict.ts";

/** Every generated verifier (packages/contracts/contracts/generated/) returns its key's fingerprint (src/verifier/key-hash.ts). */
export const VERIFIER_KEY_ABI = ["function VERIFICATION_KEY_HASH() view returns (bytes32)"] as const;

/** A deployed contract is not what it was given as, or not bound to the rest of the deployment: a check failed, exit 1. */
export class ChainMismatchError extends ZksError {
  constructor(
    /** What disagrees: `--gate`, `--registry` or `verifier`. */
    readonly field: string,
    readonly problem: string,
  ) {
    super(`${field}: ${problem}`, 1);
  }
}

/** A compiled contract's runtime code as hardhat's artifact holds it (artifacts/contracts/X.sol/X.json). */
export interface CompiledRuntime {
  deployedBytecode: string;
  /** Byte ranges the constructor fills in (immutables): they differ per deployment and are not compared. */
  immutableReferences?: Record<string, readonly { start: number; length: number }[]>;
}

export interface ChainTarget {
  provider: Provider;
  /** The chain's id, as the endpoint reports it (eth_chainId). */
  chainId: bigint;
  /** The RebalanceGate of the deployment: the address the caller trusts. */
  gate: string;
  /** The deployment's AuditRegistry: a Solvency proof is an audit claim bound to it. */
  registry?: string;
  /** The compiled AuditRegistry, required with `registry`: its deployed code must be this code. */
  auditRegistry?: CompiledRuntime;
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

/**
 * Runs one JSON-RPC read. A revert or an empty answer (CALL_EXCEPTION, BAD_DATA) means the address
 * is not the contract it was given as, and `notThatContract` says so; anything else is the
 * endpoint failing, one line and exit 3, never "invalid".
 */
async function rpc<T>(what: string, run: () => Promise<T>, notThatContract?: (reason: string) => Error): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof ZksError) throw error;
    const e = error as { code?: string; shortMessage?: string; message?: string };
    if (notThatContract && (e.code === "CALL_EXCEPTION" || e.code === "BAD_DATA")) throw notThatContract(e.shortMessage ?? e.code);
    throw new SetupError(`--rpc: the JSON-RPC endpoint failed while reading ${what} (${e.shortMessage ?? e.code ?? e.message})`);
  }
}

/** A view call; a revert means `flag`'s address is not the contract it was given as. */
function read<T>(contract: Contract, fn: string, args: unknown[], flag: string, what: string): Promise<T> {
  return rpc(
    `${what}.${fn}()`,
    async () => (await contract.getFunction(fn).staticCall(...args)) as T,
    (reason) => new ChainMismatchError(flag, `${what}: ${fn}() failed (${reason}): not the contract it was given as`),
  );
}

async function codeAt(provider: Provider, address: string, flag: string, chainId: bigint): Promise<string> {
  const code = await rpc(`the code at ${address}`, () => provider.getCode(address));
  if (code === "0x") throw new ZksError(`${flag}: no contract at ${address} on chain ${chainId}`, 2);
  return code;
}

/** Whether `code` is the compiled runtime, the constructor-set immutables aside. */
export function isCompiledRuntime(code: string, compiled: CompiledRuntime): boolean {
  const deployed = getBytes(code);
  const expected = getBytes(compiled.deployedBytecode);
  if (deployed.length !== expected.length) return false;
  const masked = new Uint8Array(deployed.length);
  for (const ranges of Object.values(compiled.immutableReferences ?? {})) {
    for (const { start, length } of ranges) masked.fill(1, start, start + length);
  }
  return deployed.every((byte, i) => masked[i] === 1 || byte === expected[i]);
}

/** Every value the code pushes (PUSH1..PUSH32 immediates), walking the opcodes so data after a push is never read as code. */
export function pushedValues(code: string): Set<bigint> {
  const bytes = getBytes(code);
  const values = new Set<bigint>();
  for (let i = 0; i < bytes.length; i++) {
    const op = bytes[i]!;
    if (op < 0x60 || op > 0x7f) continue;
    const n = op - 0x5f;
    const immediate = bytes.subarray(i + 1, i + 1 + n);
    values.add(immediate.length === 0 ? 0n : BigInt(hexlify(immediate)));
    i += n;
  }
  return values;
}

/**
 * Compares the proof's signals with the chain. Throws ProofMetadataError (exit 1) naming the
 * signal or field of the proof that disagrees: `context` (another contract or chain, or 0:
 * off-chain only), `policyHash` (not the policy the contract enforces), `zks.epoch` (the oracle
 * published no market for the file's epoch), `marketRoot` (not the oracle's root for it),
 * `zks.verificationKeyHash` (the contract's verifier checks another key); ChainMismatchError (exit
 * 1) when a contract is not what it was given as (`--registry` not the compiled AuditRegistry or
 * not bound to the gate, `verifier` whose code does not hold the key); SetupError (exit 3) when the
 * endpoint fails.
 */
export async function checkChainBinding(verdict: VerifiedProofFile, verificationKey: VerificationKey, claimedEpoch: number, target: ChainTarget): Promise<ChainBinding> {
  const { provider, chainId } = target;
  if (verdict.template === "PositionCommitment") throw new ZksError("a PositionCommitment proof carries no context: it is bound to no contract", 2);
  if (verdict.template === "Solvency" && target.registry === undefined) {
    throw new ZksError("--registry: a Solvency proof is an audit claim bound to the AuditRegistry; give its address (--registry ADDR)", 2);
  }
  if (verdict.template === "Rebalance" && target.registry !== undefined) throw new ZksError("--registry: a Rebalance proof is for the gate itself; leave --registry out", 2);

  const gateAddress = getAddress(target.gate);
  await codeAt(provider, gateAddress, "--gate", chainId);
  const gate = new Contract(gateAddress, REBALANCE_GATE_ABI, provider);
  const gateWhere = `RebalanceGate ${gateAddress}`;
  let contract = gate;
  let name: ChainBinding["contract"]["name"] = "RebalanceGate";
  let contractAddress = gateAddress;
  let flag = "--gate";
  if (target.registry !== undefined) {
    if (!target.auditRegistry)
      throw new SetupError("checking --registry needs the compiled AuditRegistry (artifacts/contracts/AuditRegistry.sol/AuditRegistry.json); run `npx hardhat compile`");
    contractAddress = getAddress(target.registry);
    flag = "--registry";
    const code = await codeAt(provider, contractAddress, flag, chainId);
    // Its answers below are worth something only if the code giving them is ours.
    if (!isCompiledRuntime(code, target.auditRegistry)) {
      throw new ChainMismatchError(
        flag,
        `the code at ${contractAddress} is not the compiled AuditRegistry's (immutables aside): not this project's registry, whose oracle, policy and verifier it reports could be anything`,
      );
    }
    contract = new Contract(contractAddress, AUDIT_REGISTRY_ABI, provider);
    name = "AuditRegistry";
    const what = `AuditRegistry ${contractAddress}`;
    const registryGate = getAddress(await read<string>(contract, "gate", [], flag, what));
    if (registryGate !== gateAddress) throw new ChainMismatchError(flag, `the AuditRegistry at ${contractAddress} audits the gate ${registryGate}, not --gate ${gateAddress}`);
    // Anyone can deploy a real AuditRegistry naming the real gate: the gate's oracle and policy bind it to the deployment.
    const [registryOracle, gateOracle] = [
      getAddress(await read<string>(contract, "oracle", [], flag, what)),
      getAddress(await read<string>(gate, "oracle", [], "--gate", gateWhere)),
    ];
    if (registryOracle !== gateOracle)
      throw new ChainMismatchError(flag, `the AuditRegistry at ${contractAddress} reads the oracle ${registryOracle}, not the gate's ${gateOracle}: not the deployment's registry`);
    const [registryPolicy, gatePolicy] = [await read<bigint>(contract, "policyHash", [], flag, what), await read<bigint>(gate, "policyHash", [], "--gate", gateWhere)];
    if (registryPolicy !== gatePolicy)
      throw new ChainMismatchError(
        flag,
        `the AuditRegistry at ${contractAddress} enforces the policy ${signalHex(registryPolicy)}, not the gate's ${signalHex(gatePolicy)}: not the deployment's registry`,
      );
  }
  const where = `${name} ${contractAddress} on chain ${chainId}`;

  // context = keccak256(abi.encode(chainid, address)) >> 8, as ProofContext.contextOf computes it.
  const expected = gateContext(chainId, contractAddress);
  const onChain = await read<bigint>(contract, "context", [], flag, where);
  if (onChain !== expected)
    throw new ChainMismatchError(
      flag,
      `${where}: its context() ${signalHex(onChain)} is not keccak256(abi.encode(chainid, address)) >> 8 (${signalHex(expected)}): not a zk-solvency contract`,
    );
  const context = BigInt(verdict.signals.context!);
  if (context !== expected) {
    const whose = context === 0n ? "0, an off-chain proof bound to no contract" : "another contract or chain";
    throw new ProofMetadataError("context", `the proof's context ${verdict.signals.context} is ${whose}; ${where} takes ${signalHex(expected)}`);
  }

  const policy = await read<bigint>(contract, "policyHash", [], flag, where);
  if (signalHex(policy) !== verdict.signals.policyHash) {
    throw new ProofMetadataError("policyHash", `the proof's policy hash ${verdict.signals.policyHash} is not the policy ${where} enforces (${signalHex(policy)})`);
  }

  const oracleAddress = getAddress(await read<string>(contract, "oracle", [], flag, where));
  const oracle = new Contract(oracleAddress, MARKET_ORACLE_ABI, provider);
  const root = await read<bigint>(oracle, "rootOf", [claimedEpoch], "oracle", `MarketOracle ${oracleAddress}`);
  if (root === 0n) throw new ProofMetadataError("zks.epoch", `the file says epoch ${claimedEpoch}, for which the oracle ${oracleAddress} published no market`);
  if (signalHex(root) !== verdict.signals.marketRoot) {
    throw new ProofMetadataError(
      "marketRoot",
      `the proof's market root ${verdict.signals.marketRoot} is not the one the oracle ${oracleAddress} published for epoch ${claimedEpoch} (the file's zks.epoch): ${signalHex(root)}`,
    );
  }

  const verifierAddress = getAddress(await read<string>(contract, name === "RebalanceGate" ? "rebalanceVerifier" : "solvencyVerifier", [], flag, where));
  const verifierWhere = `the verifier ${verifierAddress} that ${where} calls`;
  const verifierCode = await rpc(`the code at ${verifierAddress}`, () => provider.getCode(verifierAddress));
  const verifier = new Contract(verifierAddress, VERIFIER_KEY_ABI, provider);
  const deployedKey = await rpc(
    `${verifierWhere}: VERIFICATION_KEY_HASH()`,
    async () => String(await verifier.getFunction("VERIFICATION_KEY_HASH").staticCall()),
    () =>
      new ProofMetadataError(
        "zks.verificationKeyHash",
        `${verifierWhere} has no VERIFICATION_KEY_HASH() (no code, or deployed before keys were fingerprinted): its key cannot be compared`,
      ),
  );
  if (deployedKey.toLowerCase() !== verdict.verificationKeyHash) {
    throw new ProofMetadataError("zks.verificationKeyHash", `the proof's key ${verdict.verificationKeyHash} is not the key of ${verifierWhere} (${deployedKey})`);
  }
  // What it says of itself is a constant; what it verifies with is in its code: every point of the
  // key is an immediate of the generated verifier (snarkjs' template inlines its constants).
  const pushed = pushedValues(verifierCode);
  const missing = verificationKeyWords(verificationKey).filter((word) => !pushed.has(word)).length;
  if (missing > 0) {
    throw new ChainMismatchError(
      "verifier",
      `${verifierWhere} returns the proof's key fingerprint but ${missing} of the key's words are not in its code: it does not verify with that key`,
    );
  }
  return { chainId, contract: { name, address: contractAddress }, oracle: oracleAddress, verifier: verifierAddress, epoch: claimedEpoch };
}
