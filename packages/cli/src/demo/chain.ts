/**
 * An embedded chain for the demo: hardhat's in-process network (EDR) with the project's config,
 * its contracts compiled on demand, and deployments / transactions that report their gas.
 */
import path from "node:path";
import type { Contract, Signer } from "ethers";
import { createHardhatRuntimeEnvironment, importUserConfig } from "hardhat/hre";
import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";
import { SetupError } from "@zk-solvency/sdk/core";
import { PACKAGE_ROOT } from "@zk-solvency/node/setup";
import { revertData } from "@zk-solvency/sdk/chain";

type Connection = Awaited<ReturnType<HardhatRuntimeEnvironment["network"]["connect"]>>;
export type ChainEthers = Connection["ethers"];

export interface DemoChain {
  ethers: ChainEthers;
  chainId: bigint;
  signers: Signer[];
  close(): Promise<void>;
}

/** Runs `action` with everything written to stdout sent to stderr (hardhat's build prints). */
async function stdoutToStderr<T>(action: () => Promise<T>): Promise<T> {
  const write = process.stdout.write;
  process.stdout.write = process.stderr.write.bind(process.stderr) as typeof process.stdout.write;
  try {
    return await action();
  } finally {
    process.stdout.write = write;
  }
}

/**
 * Starts the in-process chain with its clock at `initialDate`, after compiling the contracts
 * (hardhat's build is incremental: a second run only checks) and checking `required` artifacts.
 */
export async function startChain(initialDate: Date, required: string[], log: (message: string) => void): Promise<DemoChain> {
  const configPath = path.join(PACKAGE_ROOT, "hardhat.config.ts");
  let hre: HardhatRuntimeEnvironment;
  try {
    hre = await createHardhatRuntimeEnvironment(await importUserConfig(configPath), { config: configPath }, PACKAGE_ROOT);
  } catch (error) {
    throw new SetupError(`cannot load ${configPath}: ${(error as Error).message}`);
  }
  log("compiling the contracts (hardhat build, incremental)...");
  try {
    await stdoutToStderr(() => hre.tasks.getTask("build").run({ quiet: true, noTests: true }));
  } catch (error) {
    throw new SetupError(`the contracts do not compile (npx hardhat build): ${(error as Error).message.split("\n")[0]}`);
  }
  for (const name of required) {
    if (!(await hre.artifacts.artifactExists(name))) {
      throw new SetupError(`no compiled contract ${name}: run \`npx zks setup\` (for verifiers) and \`npm run compile:contracts\``);
    }
  }
  const connection = await hre.network.connect({ override: { initialDate } });
  const chainId = (await connection.ethers.provider.getNetwork()).chainId;
  const signers = (await connection.ethers.getSigners()) as unknown as Signer[];
  return { ethers: connection.ethers, chainId, signers, close: () => connection.close() };
}

/** A transaction's gas, once mined successfully. */
async function gasOf(tx: { wait(): Promise<{ gasUsed: bigint; status: number | null } | null> } | null, what: string): Promise<bigint> {
  const receipt = tx === null ? null : await tx.wait();
  if (!receipt || receipt.status !== 1) throw new Error(`${what}: the transaction failed`);
  return receipt.gasUsed;
}

/** Deploys `name` (a compiled artifact) from `signer`; returns the contract, its address and the gas used. */
export async function deploy(ethers: ChainEthers, name: string, args: unknown[], signer: Signer): Promise<{ contract: Contract; address: string; gas: bigint }> {
  const contract = (await ethers.deployContract(name, args, signer as never)) as unknown as Contract;
  await contract.waitForDeployment();
  const gas = await gasOf(contract.deploymentTransaction() as never, `deploying ${name}`);
  return { contract, address: await contract.getAddress(), gas };
}

/** Sends `contract.method(...args)` from `signer` and returns the gas used; a revert names its custom error. */
export async function send(contract: Contract, signer: Signer, method: string, ...args: unknown[]): Promise<bigint> {
  try {
    const tx = await (contract.connect(signer) as Contract).getFunction(method)(...args);
    return await gasOf(tx, method);
  } catch (error) {
    const data = revertData(error);
    const parsed = data ? contract.interface.parseError(data) : null;
    if (parsed) throw new Error(`${method} reverted with ${parsed.name}(${parsed.args.map(String).join(", ")})`, { cause: error });
    throw error;
  }
}
