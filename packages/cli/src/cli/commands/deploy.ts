import path from "node:path";
import type { Command } from "commander";
import { InputError, SetupError, ZksError } from "@zk-solvency/sdk/core";
import { DEVELOPMENT_KEY_NOTE } from "@zk-solvency/node/setup";
import { PACKAGE_ROOT } from "@zk-solvency/node/setup";
import { EXIT, printJson } from "../output.ts";
import { reachRpc, rpcUrlFlag, walletFromEnv } from "../support/chain.ts";

interface DeployFlags {
  rpc?: string;
  market?: string;
  policy?: string;
  policyHash?: string;
  tokens?: string;
  testTokens?: boolean;
  instrumentTokens?: string;
  factory?: string;
  lenders?: string;
  testLenders?: string;
  lenderRate?: string;
  swaps?: string;
  out?: string;
  size: string;
  freshness: string;
  publisher?: string;
  owner?: string;
  keeperKey?: string;
  liquidationBonus: string;
  liquidationWindow: string;
  allowDevelopmentKeys?: boolean;
  json?: boolean;
}

/** The arguments of scripts/deploy.ts for these flags (file paths made absolute). */
export function deployScriptArgs(flags: DeployFlags): string[] {
  const args: string[] = ["--size", flags.size, "--freshness", flags.freshness, "--liquidation-bonus", flags.liquidationBonus, "--liquidation-window", flags.liquidationWindow];
  const file = (f: string) => path.resolve(f);
  if (flags.rpc !== undefined) args.push("--rpc", flags.rpc);
  if (flags.market !== undefined) args.push("--market", file(flags.market));
  if (flags.policy !== undefined) args.push("--policy", file(flags.policy));
  if (flags.policyHash !== undefined) args.push("--policy-hash", flags.policyHash);
  if (flags.tokens !== undefined) args.push("--tokens", flags.tokens);
  if (flags.testTokens) args.push("--test-tokens");
  if (flags.instrumentTokens !== undefined) args.push("--instrument-tokens", flags.instrumentTokens);
  if (flags.factory !== undefined) args.push("--factory", flags.factory);
  if (flags.lenders !== undefined) args.push("--lenders", flags.lenders);
  if (flags.testLenders !== undefined) args.push("--test-lenders", flags.testLenders);
  if (flags.lenderRate !== undefined) args.push("--lender-rate", flags.lenderRate);
  if (flags.swaps !== undefined) args.push("--swaps", flags.swaps);
  if (flags.out !== undefined) args.push("--out", file(flags.out));
  if (flags.publisher !== undefined) args.push("--publisher", flags.publisher);
  if (flags.owner !== undefined) args.push("--owner", flags.owner);
  if (flags.keeperKey !== undefined) args.push("--keeper-key", file(flags.keeperKey));
  if (flags.allowDevelopmentKeys) args.push("--allow-development-keys");
  return args;
}

/** scripts/deploy.ts's errors as the CLI's: usage 2, unreachable node 3, a failed transaction 1. */
function translate(error: unknown): unknown {
  if (error instanceof ZksError) return error;
  const e = error as { name?: string; code?: string; shortMessage?: string; message?: string; constructor?: { name?: string } };
  const message = e.shortMessage ?? e.message ?? String(error);
  if (e.constructor?.name === "UsageError" || e.code?.startsWith("ERR_PARSE_ARGS")) return new ZksError(`deploy: ${message.split("\n")[0]}`, EXIT.badInput);
  if (e.code === "NETWORK_ERROR" || e.code === "TIMEOUT" || e.code === "ECONNREFUSED" || e.code === "SERVER_ERROR") return new SetupError(`deploy: the JSON-RPC endpoint failed: ${message.split("\n")[0]}`);
  if (typeof e.code === "string" && /^[A-Z_]+$/.test(e.code)) return new ZksError(`deploy: ${message.split("\n")[0]}`, EXIT.checkFailed);
  return error;
}

export function registerDeploy(program: Command): void {
  program
    .command("deploy")
    .description("deploy the verifiers, MarketOracle, RebalanceGate (with its tokens, lenders, Uniswap v2 factory, keeper key and liquidation terms) and AuditRegistry (as scripts/deploy.ts) and write a deployments file")
    .option("--rpc <url>", "JSON-RPC endpoint to deploy to, signed with $ZKS_PRIVATE_KEY (default: hardhat's in-process network, a dry run)")
    .option("--market <file>", "market.json: with --policy, gives the policy hash; also names the test tokens")
    .option("--policy <file>", "policy.json whose hash the gate and registry accept (needs --market)")
    .option("--policy-hash <n>", "the policy hash itself, instead of --policy")
    .option("--tokens <addresses>", "comma-separated ERC-20 address per asset slot (0x0 for a slot without a token)")
    .option("--test-tokens", "deploy a mintable TestToken per asset slot and per instrument of --market, and a Uniswap v2 factory unless --factory (tests and local chains only)")
    .option("--instrument-tokens <addresses>", "comma-separated option-token address per instrument slot (0x0 for none)")
    .option("--factory <address>", "the Uniswap v2 factory the gate swaps on (required without --test-tokens)")
    .option("--lenders <addresses>", "comma-separated LenderVault address per asset slot (0x0 for an asset without debt)")
    .option("--test-lenders <symbols>", "deploy a LenderVault for each listed asset symbol (e.g. USDC,WETH), the gate its only borrower")
    .option("--lender-rate <perSecond>", "the test lenders' borrow rate per second, 18 decimals", "0")
    .option("--swaps <n>", "swap slots of the Rebalance instance (default: the instance's, circuits/instances.json)")
    .option("--out <file>", "deployments file to write (default deployments/in-process.json or deployments/chain-<id>.json)")
    .option("--size <AxIxS>", "instance size of the verifiers (their contracts come from `zks setup`)", "3x3x16")
    .option("--freshness <seconds>", "the oracle's freshness window", "3600")
    .option("--publisher <address>", "the oracle's first publisher (default: the deployer)")
    .option("--owner <address>", "owner of the contracts (default: the deployer)")
    .option("--keeper-key <file>", "the protocol keeper's public-key file, or (local chains only) its key file from `zks keeper keygen` (only the public half is used): every opening is encrypted to it (required; never the demo's key outside a local chain)")
    .option("--liquidation-bonus <bps>", "the liquidator's bonus, basis points of the debt value repaid (at most 2000)", "500")
    .option("--liquidation-window <seconds>", "how long a flag must stand before a non-urgent liquidation (at most 2592000, 30 days; 0 on local chains only)", "3600")
    .option("--allow-development-keys", "deploy verifiers without a deployable ceremony key (development keys, ceremony keys on an untrusted ptau) to a chain that is not local (31337, 1337): whoever holds their setup secrets can forge proofs")
    .option("--json", "machine-readable output: the deployments file's content")
    .addHelpText(
      "after",
      "\nThe signing key comes from ZKS_PRIVATE_KEY only (a flag would be visible to other users).\nCompile the contracts first: `npm run compile:contracts`.\nThe keeper key (--keeper-key) is generation 1 of the gate's key; governance rotates it with setKeeperKey (docs/enforcement.md).\nOn a chain other than 31337 and 1337 only ceremony keys on the public phase-1 ptau are deployed: development keys (one contribution by the\nmachine that ran `zks setup`), ceremony keys on an untrusted ptau, and verifiers not compiled exactly from the installed key are refused\n(exit 3) unless --allow-development-keys: run a phase-2 ceremony (`zks ceremony`, README) and install its keys with `zks setup --zkey`.\nExit status: 0 deployed, 1 a transaction failed, 2 bad input, 3 unreachable endpoint, missing build or development keys on a non-local chain.",
    )
    .action(async (flags: DeployFlags) => {
      // Bad input before any network: the gate cannot exist without the key its openings are encrypted to.
      if (flags.keeperKey === undefined) throw new InputError("--keeper-key", "", "missing: the gate encrypts every opening to the protocol keeper's key; give its public-key file (or the key file from `zks keeper keygen`)");
      if (flags.rpc !== undefined) {
        await reachRpc(rpcUrlFlag(flags.rpc));
        walletFromEnv(); // the same message (exit 3) as `zks submit` when the key is missing
      }
      if (flags.policy !== undefined && flags.market === undefined) throw new InputError("--policy", "", "needs --market (the policy's bounds depend on the market)");
      const args = deployScriptArgs(flags);
      // Hardhat finds its config from the working directory: deploy from the package root.
      const cwd = process.cwd();
      const log = console.log;
      if (flags.json) console.log = (...items: unknown[]) => process.stderr.write(`${items.join(" ")}\n`);
      let deployment;
      try {
        process.chdir(PACKAGE_ROOT);
        const { main } = await import("../../../../../scripts/deploy.ts");
        deployment = await main(args);
      } catch (error) {
        throw translate(error);
      } finally {
        console.log = log;
        process.chdir(cwd);
      }
      // scripts/deploy.ts refused keys that are not deployable on a non-local chain unless allowed; it records what it deployed.
      const refused = deployment.verifierKeys.filter((key) => !key.deployable).map((key) => `${key.contract} (${key.label})`);
      if (flags.json) printJson(deployment);
      if (refused.length > 0) process.stderr.write(`zks deploy: WARNING verifiers without a deployable ceremony key (${DEVELOPMENT_KEY_NOTE}): ${refused.join(", ")}\n`);
    });
}
