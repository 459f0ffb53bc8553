import type { Command } from "commander";
import { Contract, getAddress, NonceManager, type Signer } from "ethers";
import {
  AUDIT_REGISTRY_ABI,
  ERC20_ABI,
  REBALANCE_GATE_ABI,
  gateArguments,
  parseGateError,
  SOLVENCY_SIGNAL,
  formatAmount,
  readGateSetup,
  unbackedMovements,
  revertData,
} from "@zk-solvency/sdk/chain";
import { decodeTransition, type DecodedTransition } from "@zk-solvency/sdk/chain";
import { InputError, SetupError, ZksError } from "@zk-solvency/sdk/core";
import { loadMarketFile, loadPositionFile } from "../load-inputs.ts";
import { readJsonFile } from "@zk-solvency/node";
import { parseProofFile } from "@zk-solvency/sdk/proof-file";
import { EXIT, printJson } from "../output.ts";
import { epochFlag, provider as rpcProvider, reachRpc, rpcUrlFlag, walletFromEnv } from "../support/chain.ts";
import { checkProofFor, GATE_FUNCTIONS, gateFunctionFlag } from "./calldata.ts";

interface SubmitFlags {
  proof: string;
  deployment: string;
  for: string;
  epoch?: string;
  rpc: string;
  position?: string;
  market?: string;
  json?: boolean;
}

export interface DeploymentFile {
  network: string;
  chainId: string;
  contracts: { RebalanceGate: string; AuditRegistry: string };
  contexts?: { RebalanceGate?: string; AuditRegistry?: string };
  /** The gate's keeper key at deployment, [x, y] as decimal strings (src/cli/support/keeper-key.ts reads it). */
  keeperKey?: unknown;
}

/** The parts of a deployments file (`zks deploy`, deployStack) that submit needs. */
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
    .option("--position <file>", "the position the proof moves (register: leave out; private, read locally): its holdings bound the withdrawals (needs --market)")
    .option("--market <file>", "market.json, to read --position")
    .option("--json", "machine-readable output")
    .addHelpText(
      "after",
      "\nThe transaction is signed with ZKS_PRIVATE_KEY (register and a non-forced rebalance must come from the proof's account).\nThe proof must be made for this contract: `zks prove --context N` with N from the deployments file's \"contexts\".\nregister and rebalance first check that every movement can be backed (the wallet holds the deposits, the pair delivers each swap's least\noutput, the lender can fund each borrow, withdrawals stay within the position's holdings), then approve the gate for each deposit and\noption-token deposit from the account's wallet, then send.\nExit status: 0 mined, 1 reverted (the contract's named error is printed), 2 bad input or a movement that cannot be backed (nothing sent),\n3 unreachable endpoint or no key.",
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
      if (chainId.toString() !== deployment.chainId)
        throw new InputError(flags.deployment, "chainId", `the deployment is on chain ${deployment.chainId}, but ${url} is chain ${chainId}`);

      const contractName = fn === "recordClaim" ? "AuditRegistry" : "RebalanceGate";
      const address = getAddress(deployment.contracts[contractName]);
      const provider = rpcProvider(url, chainId);
      // NonceManager: an approval then the call, without the provider's cached nonce handing both the same one.
      const signer = new NonceManager(wallet.connect(provider));
      const contract = new Contract(address, fn === "recordClaim" ? AUDIT_REGISTRY_ABI : REBALANCE_GATE_ABI, signer);
      const { proof, signals } = gateArguments(zkProof);
      const say = (line: string) => !flags.json && process.stderr.write(`${line}\n`);
      try {
        let transition: DecodedTransition | undefined;
        if (fn !== "recordClaim") {
          const gate = new Contract(address, REBALANCE_GATE_ABI, provider);
          const sizes = {
            nAssets: Number(await gate.getFunction("nAssets")()),
            nInstruments: Number(await gate.getFunction("nInstruments")()),
            nSwaps: Number(await gate.getFunction("nSwaps")()),
          };
          try {
            transition = decodeTransition(signals, sizes);
          } catch (error) {
            throw new InputError(
              flags.proof,
              "zks.publicSignals",
              `${(error as Error).message}: not an instance of this gate (${sizes.nAssets} assets, ${sizes.nInstruments} instruments, ${sizes.nSwaps} swap slots)`,
            );
          }
          // The gate takes only its current keeper key (RebalanceGate__WrongKeeperKey): a proof made
          // before a rotation is refused here, with what to do, instead of by a revert that costs gas.
          const [x, y] = (await gate.getFunction("keeperKey")()) as [bigint, bigint];
          if (transition.keeperKey[0] !== x || transition.keeperKey[1] !== y) {
            const generation = (await gate.getFunction("keyGeneration")()) as bigint;
            throw new InputError(
              flags.proof,
              "zks.named.keeperKey",
              `the proof encrypts the opening to keeper key (${transition.keeperKey[0]}, ${transition.keeperKey[1]}), but the gate's current key (generation ${generation}) is (${x}, ${y}): prove again with --rpc or --deployment (the key was rotated, or the proof is for another gate); nothing sent`,
            );
          }
        }
        const account = transition ? getAddress(transition.account) : getAddress(`0x${BigInt(file.zks.publicSignals[SOLVENCY_SIGNAL.account]!).toString(16).padStart(40, "0")}`);
        if (transition) await backAndApprove(address, transition, signer, account, flags, say);
        say(`sending ${contractName}.${fn}(epoch ${epoch}) for account ${account} from ${wallet.address} to ${address} on chain ${chainId}...`);
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
          if (e.code === "NETWORK_ERROR" || e.code === "TIMEOUT" || e.code === "SERVER_ERROR")
            throw new SetupError(`the JSON-RPC endpoint ${url} failed: ${e.shortMessage ?? e.message}`);
          throw error;
        }
        if (!receipt || receipt.status !== 1)
          throw new ZksError(`${contractName}.${fn} reverted in block ${receipt?.blockNumber ?? "?"} (transaction ${receipt?.hash ?? "?"})`, EXIT.checkFailed);
        const result = {
          function: fn,
          contract: contractName,
          address,
          chainId: chainId.toString(),
          epoch: epoch.toString(),
          transaction: receipt.hash,
          blockNumber: receipt.blockNumber,
          gasUsed: receipt.gasUsed.toString(),
          from: wallet.address,
        };
        if (flags.json) printJson(result);
        else
          process.stdout.write(
            `OK: ${contractName}.${fn} mined in block ${result.blockNumber}\n  transaction ${result.transaction}\n  gas used    ${Number(receipt.gasUsed).toLocaleString("en-US")}\n`,
          );
      } finally {
        provider.destroy();
      }
    });
}

/**
 * Refuses (exit 2, nothing sent) a transition whose movements cannot be backed now, then approves
 * the gate for each deposit and option-token deposit the gate will pull from the account's wallet
 * (only what the current allowance lacks; only when the signer is the account).
 */
async function backAndApprove(gate: string, t: DecodedTransition, signer: Signer, account: string, flags: SubmitFlags, say: (line: string) => void): Promise<void> {
  const runner = signer;
  // A registration of a registered account: the gate's own error (AlreadyRegistered) says it best.
  if (t.fromEmpty && (await new Contract(gate, REBALANCE_GATE_ABI, runner).getFunction("isRegistered")(account))) return;
  const setup = await readGateSetup(gate, runner);
  let position;
  if (flags.position !== undefined) {
    if (flags.market === undefined) throw new InputError("--position", "", "needs --market (the position's slots follow the market's)");
    position = loadPositionFile(flags.position, loadMarketFile(flags.market));
    if (position.account.toLowerCase() !== account.toLowerCase()) throw new InputError(flags.position, "account", `${position.account} is not the proof's account ${account}`);
  }
  const problems = await unbackedMovements(gate, t, runner, { setup, ...(position && { position }) });
  if (problems.length > 0) {
    const more = problems.length > 1 ? ` (and ${problems.length - 1} more)` : "";
    throw new ZksError(`the transition cannot be backed: ${problems[0]}${more}; nothing sent`, EXIT.badInput);
  }
  const deposits: { token: NonNullable<(typeof setup.tokens)[number]>; amount: bigint; what: string }[] = [];
  t.flows.forEach((f, i) => f > 0n && deposits.push({ token: setup.tokens[i]!, amount: f, what: "deposit" }));
  t.instrumentFlows.forEach((g, k) => g > 0n && deposits.push({ token: setup.instrumentTokens[k]!, amount: g, what: "option-token deposit" }));
  if (deposits.length === 0) return;
  const from = await signer.getAddress();
  if (from.toLowerCase() !== account.toLowerCase()) return; // the gate refuses it (only the account moves its wallet)
  for (const d of deposits) {
    const token = new Contract(d.token.address, ERC20_ABI, signer);
    const allowance = (await token.getFunction("allowance")(from, gate)) as bigint;
    if (allowance >= d.amount) continue;
    say(`approving the gate for the ${d.what} of ${formatAmount(d.amount, d.token)}...`);
    const receipt = await (await token.getFunction("approve")(gate, d.amount)).wait();
    if (!receipt || receipt.status !== 1) throw new ZksError(`approving ${d.token.symbol} for the gate failed`, EXIT.checkFailed);
  }
}
