import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { Command } from "commander";
import type { Signer } from "ethers";
import { InputError, SetupError, ZksError } from "@zk-solvency/sdk/core";
import { policyHash } from "@zk-solvency/sdk/commitment";
import type { Market } from "@zk-solvency/sdk/inputs";
import { deployStack, describeDeployment, planStack, readKeeperKey, type Deployment, type DeployStackOptions } from "@zk-solvency/node/deploy";
import { CHECKOUT_ROOT, DEVELOPMENT_KEY_NOTE, PACKAGE_ROOT } from "@zk-solvency/node/setup";
import { loadMarketFile, loadPolicyFile } from "../load-inputs.ts";
import { EXIT, printJson } from "../output.ts";
import { integerFlag, provider as rpcProvider, reachRpc, rpcUrlFlag, walletFromEnv } from "../support/chain.ts";

export interface DeployFlags {
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

/** deployStack's option names as this command's flags, for its messages. */
const FLAG: Partial<Record<keyof DeployStackOptions, string>> = {
  policyHash: "--policy-hash",
  instrumentTokens: "--instrument-tokens",
  testLenders: "--test-lenders",
  lenderRate: "--lender-rate",
  keeperKey: "--keeper-key",
  liquidationBonus: "--liquidation-bonus",
  liquidationWindow: "--liquidation-window",
  allowDevelopmentKeys: "--allow-development-keys",
};
const flagOf = (option: keyof DeployStackOptions): string => FLAG[option] ?? `--${option}`;

const list = (text: string): string[] => text.split(",").map((item) => item.trim());

/**
 * The flags as deployStack's options, every file read and every value checked (exit 2 naming the
 * flag), before any network.
 */
export function deployOptionsFromFlags(flags: DeployFlags): DeployStackOptions {
  // The gate cannot exist without the key its openings are encrypted to.
  if (flags.keeperKey === undefined)
    throw new InputError(
      "--keeper-key",
      "",
      "missing: the gate encrypts every opening to the protocol keeper's key; give its public-key file (or the key file from `zks keeper keygen`)",
    );
  if (Boolean(flags.testTokens) === (flags.tokens !== undefined))
    throw new InputError("--tokens", "", "give exactly one of --tokens A,B,C (0x0 for slots without a token) or --test-tokens");
  if (flags.policy !== undefined && flags.market === undefined) throw new InputError("--policy", "", "needs --market (the policy's bounds depend on the market)");
  const market: Market | undefined = flags.market === undefined ? undefined : loadMarketFile(flags.market);
  let hash: bigint;
  if (flags.policyHash !== undefined) {
    if (flags.policy !== undefined) throw new InputError("--policy-hash", "", "give --policy or --policy-hash, not both");
    hash = integerFlag("--policy-hash", flags.policyHash);
  } else if (flags.policy !== undefined) {
    hash = policyHash(loadPolicyFile(flags.policy, market!));
  } else {
    throw new InputError("--policy", "", "the gate needs a policy: --policy FILE --market FILE, or --policy-hash N");
  }
  const bounded = (flag: string, text: string) => integerFlag(flag, text, 2n ** 64n - 1n);
  const options: DeployStackOptions = {
    size: flags.size,
    policyHash: hash,
    market,
    tokens: flags.testTokens ? "test" : list(flags.tokens!),
    instrumentTokens: flags.instrumentTokens === undefined ? undefined : list(flags.instrumentTokens),
    factory: flags.factory,
    lenders: flags.lenders === undefined ? undefined : list(flags.lenders),
    testLenders: flags.testLenders === undefined ? undefined : list(flags.testLenders).filter(Boolean),
    lenderRate: flags.lenderRate === undefined ? undefined : integerFlag("--lender-rate", flags.lenderRate, 2n ** 256n - 1n),
    swaps: flags.swaps === undefined ? undefined : Number(integerFlag("--swaps", flags.swaps, 255n)),
    freshness: bounded("--freshness", flags.freshness),
    publisher: flags.publisher,
    owner: flags.owner,
    keeperKey: readKeeperKey(path.resolve(flags.keeperKey)),
    liquidationBonus: integerFlag("--liquidation-bonus", flags.liquidationBonus, 2n ** 64n - 1n),
    liquidationWindow: bounded("--liquidation-window", flags.liquidationWindow),
    allowDevelopmentKeys: flags.allowDevelopmentKeys ?? false,
    name: flagOf,
  };
  planStack(options);
  return options;
}

/**
 * Hardhat's in-process network (a dry run: its chain ends with the process), for a checkout only:
 * hardhat is a dev dependency of the repository, never of the installed CLI.
 */
async function inProcessSigner(): Promise<Signer> {
  if (!CHECKOUT_ROOT) {
    throw new SetupError(
      "deploy: without --rpc, zks deploy is a dry run on hardhat's in-process network, which only a checkout of the repository has: give --rpc URL (a `npx hardhat node`, anvil, or a real chain)",
    );
  }
  // Hardhat finds its config from the working directory.
  const cwd = process.cwd();
  process.chdir(CHECKOUT_ROOT);
  try {
    const { network } = await import("hardhat");
    const { ethers } = await network.connect();
    const [signer] = await ethers.getSigners();
    return signer as unknown as Signer;
  } finally {
    process.chdir(cwd);
  }
}

/** A failed transaction or an endpoint that stopped answering, as the CLI's errors. */
function translate(error: unknown): unknown {
  if (error instanceof ZksError) return error;
  const e = error as { code?: string; shortMessage?: string; message?: string };
  // ethers' shortMessage leaves out the whole signed transaction.
  const message = (e.shortMessage ?? e.message ?? String(error)).split("\n")[0];
  if (e.code === "NETWORK_ERROR" || e.code === "TIMEOUT" || e.code === "ECONNREFUSED" || e.code === "SERVER_ERROR")
    return new SetupError(`deploy: the JSON-RPC endpoint failed: ${message}`);
  if (typeof e.code === "string" && /^[A-Z_]+$/.test(e.code)) return new ZksError(`deploy: ${message}`, EXIT.checkFailed);
  return error;
}

export function registerDeploy(program: Command): void {
  program
    .command("deploy")
    .description(
      "deploy the verifiers, MarketOracle, RebalanceGate (with its tokens, lenders, Uniswap v2 factory, keeper key and liquidation terms) and AuditRegistry from their compiled artifacts, and write a deployments file",
    )
    .option("--rpc <url>", "JSON-RPC endpoint to deploy to, signed with $ZKS_PRIVATE_KEY (default in a checkout: hardhat's in-process network, a dry run)")
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
    .option("--size <AxIxS>", "instance size of the verifiers (their verifier.json comes from `zks setup` or `zks keys fetch`)", "3x3x16")
    .option("--freshness <seconds>", "the oracle's freshness window", "3600")
    .option("--publisher <address>", "the oracle's first publisher (default: the deployer)")
    .option("--owner <address>", "owner of the contracts (default: the deployer)")
    .option(
      "--keeper-key <file>",
      "the protocol keeper's public-key file, or (local chains only) its key file from `zks keeper keygen` (only the public half is used): every opening is encrypted to it (required; never the demo's key outside a local chain)",
    )
    .option("--liquidation-bonus <bps>", "the liquidator's bonus, basis points of the debt value repaid (at most 2000)", "500")
    .option("--liquidation-window <seconds>", "how long a flag must stand before a non-urgent liquidation (at most 2592000, 30 days; 0 on local chains only)", "3600")
    .option(
      "--allow-development-keys",
      "deploy verifiers without a deployable ceremony key (development keys, ceremony keys on an untrusted ptau) to a chain that is not local (31337, 1337): whoever holds their setup secrets can forge proofs",
    )
    .option("--json", "machine-readable output: the deployments file's content")
    .addHelpText(
      "after",
      "\nThe signing key comes from ZKS_PRIVATE_KEY only (a flag would be visible to other users).\nThe contracts come from @zk-solvency/contracts' artifacts (a checkout: `npm run compile:contracts`), the verifiers from each instance's verifier.json (`zks setup`, with solc installed, or `zks keys fetch`): no compiler or hardhat runs.\nThe keeper key (--keeper-key) is generation 1 of the gate's key; governance rotates it with setKeeperKey (docs/enforcement.md).\nOn a chain other than 31337 and 1337 only ceremony keys on the public phase-1 ptau are deployed: development keys (one contribution by the\nmachine that ran `zks setup`), ceremony keys on an untrusted ptau, and verifiers not compiled exactly from the installed key are refused\n(exit 3) unless --allow-development-keys: run a phase-2 ceremony (`zks ceremony`, README) and install its keys with `zks setup --zkey`.\nExit status: 0 deployed, 1 a transaction failed, 2 bad input, 3 unreachable endpoint, missing build or development keys on a non-local chain.",
    )
    .action(async (flags: DeployFlags) => {
      // Bad input before any network.
      const options = deployOptionsFromFlags(flags);
      let signer: Signer;
      if (flags.rpc !== undefined) {
        const url = rpcUrlFlag(flags.rpc);
        const chainId = await reachRpc(url);
        signer = walletFromEnv().connect(rpcProvider(url, chainId)); // the same message (exit 3) as `zks submit` when the key is missing
      } else {
        signer = await inProcessSigner();
      }
      const network: Deployment["network"] = flags.rpc !== undefined ? "json-rpc" : "in-process";
      let deployment: Deployment;
      try {
        deployment = await deployStack(signer, { ...options, network });
      } catch (error) {
        throw translate(error);
      } finally {
        // The JSON-RPC provider polls until destroyed; the in-process one ends with the process.
        if (flags.rpc !== undefined) signer.provider?.destroy();
      }
      const out = path.resolve(flags.out ?? path.join(PACKAGE_ROOT, "deployments", network === "in-process" ? "in-process.json" : `chain-${deployment.chainId}.json`));
      mkdirSync(path.dirname(out), { recursive: true });
      writeFileSync(out, `${JSON.stringify(deployment, null, 2)}\n`);
      const shown = path.relative(process.cwd(), out);
      const lines = [...describeDeployment(deployment), `wrote ${shown.startsWith("..") ? out : shown}`];
      if (network === "in-process") lines.push("(hardhat's in-process network: a dry run, these contracts end with this command; use --rpc URL to deploy)");
      if (flags.json) {
        process.stderr.write(`${lines.join("\n")}\n`);
        printJson(deployment);
      } else {
        process.stdout.write(`${lines.join("\n")}\n`);
      }
      // Keys that are not deployable on a non-local chain were refused unless allowed; say what went out.
      const refused = deployment.verifierKeys.filter((key) => !key.deployable).map((key) => `${key.contract} (${key.label})`);
      if (refused.length > 0) process.stderr.write(`zks deploy: WARNING verifiers without a deployable ceremony key (${DEVELOPMENT_KEY_NOTE}): ${refused.join(", ")}\n`);
    });
}
