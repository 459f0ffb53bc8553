import { AbiCoder, getAddress, keccak256 } from "ethers";

/** Bits dropped from the hash so the context fits the BN254 scalar field (packages/contracts/contracts/libraries/ProofContext.sol). */
export const CONTEXT_SHIFT = 8n;

/**
 * The `context` public signal of proofs meant for the contract at `address` on chain `chainId`
 * (risk-model.md, "Binding"): `uint256(keccak256(abi.encode(chainid, address))) >> 8`, as
 * `ProofContext.contextOf` computes it on-chain. Pass it as the last argument of `solvencyInput`
 * or `rebalanceInput`. Registration and rebalance proofs use the gate's address, audit claims the
 * registry's.
 */
export function gateContext(chainId: bigint, address: string): bigint {
  const encoded = AbiCoder.defaultAbiCoder().encode(["uint256", "address"], [chainId, getAddress(address)]);
  return BigInt(keccak256(encoded)) >> CONTEXT_SHIFT;
}
