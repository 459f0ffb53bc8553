/**
 * The compiled zk-solvency contracts, for deploying and calling them with ethers (or viem)
 * without hardhat or solc: each deployable contract as `{ contractName, abi, bytecode,
 * deployedBytecode }`, each interface as `{ contractName, abi }`, and every ABI on its own
 * (`rebalanceGateAbi`, ...) so a page that only calls a contract does not bundle its bytecode.
 * The same data is in `@zk-solvency/contracts/artifacts/<Name>.json`, and the Solidity sources
 * in `@zk-solvency/contracts/contracts/`.
 *
 * ```ts
 * import { RebalanceGate } from "@zk-solvency/contracts";
 * const gate = await new ContractFactory(RebalanceGate.abi, RebalanceGate.bytecode, signer).deploy(...);
 * ```
 *
 * The verifiers are per circuit instance: `zks setup` compiles them (`<instance>/verifier.json`)
 * and published keys carry them; they are not in this package.
 */
export {
  RebalanceGate,
  rebalanceGateAbi,
  MarketOracle,
  marketOracleAbi,
  AuditRegistry,
  auditRegistryAbi,
  LenderVault,
  lenderVaultAbi,
  // The ERC-20 that `zks deploy` mints for a local test stack; never part of a real deployment.
  TestToken,
  testTokenAbi,
  IRebalanceGate,
  iRebalanceGateAbi,
  IMarketOracle,
  iMarketOracleAbi,
  IAuditRegistry,
  iAuditRegistryAbi,
  ILenderVault,
  iLenderVaultAbi,
} from "./generated/contracts.ts";

/** A deployable contract as this package ships it. */
export interface ContractArtifact<Abi extends readonly unknown[] = readonly unknown[]> {
  readonly contractName: string;
  readonly abi: Abi;
  readonly bytecode: `0x${string}`;
  readonly deployedBytecode: `0x${string}`;
}

/** An interface: its ABI only. */
export interface InterfaceArtifact<Abi extends readonly unknown[] = readonly unknown[]> {
  readonly contractName: string;
  readonly abi: Abi;
}
