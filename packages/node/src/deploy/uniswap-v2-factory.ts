/**
 * Deploys Uniswap v2 from the published package (`@uniswap/v2-core`'s build artifacts, the
 * bytecode that mainnet runs) for local chains and tests. Node-only: the JSON artifact is a
 * dependency of this package, not of the browser SDK.
 */
import { Contract, ContractFactory, type Signer } from "ethers";
import { UNISWAP_V2_FACTORY_ABI } from "@zk-solvency/sdk/chain";

/** Deploys `UniswapV2Factory` from `@uniswap/v2-core/build/UniswapV2Factory.json` (abi + bytecode). */
export async function deployUniswapV2Factory(deployer: Signer, feeToSetter?: string): Promise<Contract> {
  const artifact = (await import("@uniswap/v2-core/build/UniswapV2Factory.json", { with: { type: "json" } })).default as {
    abi: unknown[];
    bytecode: string;
  };
  const bytecode = artifact.bytecode.startsWith("0x") ? artifact.bytecode : `0x${artifact.bytecode}`;
  const factory = new ContractFactory(artifact.abi as never, bytecode, deployer);
  const contract = await factory.deploy(feeToSetter ?? (await deployer.getAddress()));
  await contract.waitForDeployment();
  return new Contract(await contract.getAddress(), UNISWAP_V2_FACTORY_ABI, deployer);
}
