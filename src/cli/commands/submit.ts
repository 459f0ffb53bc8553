import type { Command } from "commander";
import { Contract, getAddress } from "ethers";
import { AUDIT_REGISTRY_ABI, REBALANCE_GATE_ABI } from "../../chain/abi.ts";
import { gateArguments, parseGateError, rebalanceFlows, REBALANCE_SIGNAL, SOLVENCY_SIGNAL } from "../../chain/calldata.ts";
import { InputError, SetupError, ZksError } from "../../core/errors.ts";
import { readJsonFile } from "../../node/read-json.ts";
import { parseProofFile } from "../../proof-file/proof-file.ts";
import { EXIT, printJson } from "../output.ts";
import { epochFlag, provider as rpcProvider, reachRpc, rpcUrlFlag, walletFromEnv } from "../support/chain.ts";
import { checkProofFor, GATE_FUNCTIONS, gateFunctionFlag } from "./calldata.ts";
import { revertData } from "../../chain/calldata.ts";

interface SubmitFlags {
  proof: string;
  deployment: string;
  for: string;
  epoch?: string;
  rpc: string;
  json?: boolean;
}

interface DeploymentFile {
  network: string;
  chainId: string;
  contracts: { RebalanceGate: string; AuditRegistry: string };
  contexts?: { RebalanceGate?: string; AuditRegistry?: string };
}

/** The parts of a deployments file (scripts/deploy.ts, `zks deploy`) that submit needs. */
export function readDeployment(file: string): DeploymentFile {
  const raw = readJsonFile(file) as Partial<DeploymentFile> | null;
  if (typeof raw !== "object" || raw === null) throw new InputError(file, "", "not a deployments file (expected a JSON object)");
  if (typeof raw.chainId !== "string" || !/^\d+$/.test(raw.chainId)) throw new InputError(file, "chainId", "missing or not a decimal string (not a deployments file?)");
  const contracts = raw.contracts as Record<string, unknown> | undefined;
  for (const name of ["RebalanceGate", "AuditRegistry"]) {
    try {
      getAddress(String(contracts?.[name]));
    } catch {
      throw new InputError(file, `contracts.${name}`, "missing or not an address");
    }
  }
  if (raw.network === "in-process") throw new InputError(file, "network", "an in-process deployment is a dry run whose chain ended with it; deploy with --rpc URL");
  return raw as DeploymentFile;
}

export function registerSubmit(program: Command): void {
  program
    .command("submit")
    .description("send a proof to the deployed RebalanceGate (register, rebalance) or AuditRegistry (recordClaim), wait for the receipt")
    .requiredOption("--proof <file>", "proof.json from `zks prove` (register, recordClaim) or `zks rebalance`")
    .requiredOption("--deployment <file>", "the deployments file written by `zks deploy` (deployments/X.json)")
    .requiredOption("--for <function>", `the call: ${GATE_FUNCTIONS.join(" | ")}`)
    .option("--epoch <n>", "the market epoch the proof is about (default: the proof's epoch)")
    .option("--rpc <url>", "JSON-RPC endpoint of the deployment's chain", "http://127.0.0.1:8545")
    .option("--json", "machine-readable output")
    .addHelpText(
      "after",
      "\nThe transaction is signed with ZKS_PRIVATE_KEY (register and a non-forced rebalance must come from the proof's account).\nThe proof must be made for this contract: `zks prove --context N` with N from the deployments file's \"contexts\".\nA rebalance with positive flows pulls tokens: approve the gate first.\nExit status: 0 mined, 1 reverted (the contract's named error is printed), 2 bad input, 3 unreachable endpoint or no key.",
    )
    .action(async (flags: SubmitFlags) => {
      const fn = gateFunctionFlag(flags.for);
      const { file, zkProof } = parseProofFile(readJsonFile(flags.proof), flags.proof);
      checkProofFor(fn, file, flags.proof);
      const deployment = readDeployment(flags.deployment);
      const epoch = flags.epoch === undefined ? BigInt(file.zks.epoch) : epochFlag(flags.epoch);
      const url = rpcUrlFlag(flags.rpc);
      const wallet = walletFromEnv();
      const chainId = await reachRpc(url);
      if (chainId.toString() !== deployment.chainId) throw new InputError(flags.deployment, "chainId", `the deployment is on chain ${deployment.chainId}, but ${url} is chain ${chainId}`);

      const contractName = fn === "recordClaim" ? "AuditRegistry" : "RebalanceGate";
      const address = getAddress(deployment.contracts[contractName]);
      const provider = rpcProvider(url, chainId);
      const signer = wallet.connect(provider);
      const contract = new Contract(address, fn === "recordClaim" ? AUDIT_REGISTRY_ABI : REBALANCE_GATE_ABI, signer);
      const { proof, signals } = gateArguments(zkProof);
      const say = (line: string) => !flags.json && process.stderr.write(`${line}\n`);
      if (fn === "rebalance") {
        const nAssets = signals.length - REBALANCE_SIGNAL.flow;
        const flows = rebalanceFlows(signals, nAssets);
        say(`token flows per asset slot (positive: pulled from the account, approve the gate first): ${flows.join(", ")}`);
      }
      const account = `0x${BigInt(file.zks.publicSignals[fn === "rebalance" ? REBALANCE_SIGNAL.account : SOLVENCY_SIGNAL.account]!).toString(16).padStart(40, "0")}`;
      say(`sending ${contractName}.${fn}(epoch ${epoch}) for account ${getAddress(account)} from ${wallet.address} to ${address} on chain ${chainId}...`);
      try {
        let receipt;
        try {
          const tx = await contract.getFunction(fn)(epoch, proof, signals);
          say(`transaction ${tx.hash} sent; waiting for the receipt...`);
          receipt = await tx.wait();
        } catch (error) {
          const data = revertData(error);
          const parsed = data ? parseGateError(data) : null;
          if (parsed) {
            const args = parsed.args.map((a: unknown) => String(a)).join(", ");
            throw new ZksError(`${contractName}.${fn} reverted: ${parsed.name}(${args})`, EXIT.checkFailed);
          }
          const e = error as { code?: string; shortMessage?: string; message?: string };
          if (e.code === "CALL_EXCEPTION") throw new ZksError(`${contractName}.${fn} reverted: ${e.shortMessage ?? "no reason"}`, EXIT.checkFailed);
          if (e.code === "INSUFFICIENT_FUNDS") throw new SetupError(`${wallet.address} cannot pay for gas on chain ${chainId}`);
          if (e.code === "NETWORK_ERROR" || e.code === "TIMEOUT" || e.code === "SERVER_ERROR") throw new SetupError(`the JSON-RPC endpoint ${url} failed: ${e.shortMessage ?? e.message}`);
          throw error;
        }
        if (!receipt || receipt.status !== 1) throw new ZksError(`${contractName}.${fn} reverted in block ${receipt?.blockNumber ?? "?"} (transaction ${receipt?.hash ?? "?"})`, EXIT.checkFailed);
        const result = { function: fn, contract: contractName, address, chainId: chainId.toString(), epoch: epoch.toString(), transaction: receipt.hash, blockNumber: receipt.blockNumber, gasUsed: receipt.gasUsed.toString(), from: wallet.address };
        if (flags.json) printJson(result);
        else process.stdout.write(`OK: ${contractName}.${fn} mined in block ${result.blockNumber}\n  transaction ${result.transaction}\n  gas used    ${Number(receipt.gasUsed).toLocaleString("en-US")}\n`);
      } finally {
        provider.destroy();
      }
    });
}
