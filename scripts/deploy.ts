/**
 * Deploys the gate contracts: the generated Solvency and Rebalance verifiers of one instance
 * size, the MarketOracle, the RebalanceGate and the AuditRegistry, and writes their addresses
 * to a deployments file.
 *
 *   npx tsx scripts/deploy.ts [--rpc URL] [--private-key KEY] [--out deployments/NAME.json]
 *       [--size 3x3x16] (--policy policy.json --market market.json | --policy-hash N)
 *       [--tokens ADDR,ADDR,... | --test-tokens] [--freshness SECONDS] [--publisher ADDR] [--owner ADDR]
 *
 * Without --rpc it deploys to hardhat's in-process network (a dry run: that chain ends with the
 * script). With --rpc it sends the transactions to that JSON-RPC endpoint, signed with
 * --private-key or $ZKS_PRIVATE_KEY (prefer the environment variable: flags are visible to other
 * users of the machine). Compile first: `npm run compile:contracts`.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { ContractFactory, getAddress, JsonRpcProvider, NonceManager, Wallet, ZeroAddress, type Signer } from "ethers";
import { artifacts, network } from "hardhat";
import { gateContext } from "../src/chain/context.ts";
import { policyHash } from "../src/commitment/policy-hash.ts";
import { InputError } from "../src/core/errors.ts";
import { SNARK_FIELD } from "../src/core/field.ts";
import { parseMarket } from "../src/inputs/parse-market.ts";
import { parsePolicy } from "../src/inputs/parse-policy.ts";
import type { Market } from "../src/inputs/types.ts";
import { readJsonFile } from "../src/node/read-json.ts";
import { PACKAGE_ROOT } from "../src/setup/paths.ts";

/** What a deployments file holds (addresses checksummed, big numbers as decimal strings). */
export interface Deployment {
  version: 1;
  network: "in-process" | "json-rpc";
  chainId: string;
  deployer: string;
  blockNumber: number;
  size: string;
  policyHash: string;
  freshnessWindow: string;
  contracts: Record<"MarketOracle" | "SolvencyVerifier" | "RebalanceVerifier" | "RebalanceGate" | "AuditRegistry", string>;
  verifierContracts: { solvency: string; rebalance: string };
  tokens: { slot: number; symbol: string | null; address: string; test: boolean }[];
  contexts: { RebalanceGate: string; AuditRegistry: string };
  owner: string;
  publisher: string;
}

class UsageError extends Error {}

const USAGE = `usage: npx tsx scripts/deploy.ts [--rpc URL] [--private-key KEY] [--out FILE] [--size 3x3x16]
       (--policy FILE --market FILE | --policy-hash N) [--tokens A,B,C | --test-tokens]
       [--freshness SECONDS] [--publisher ADDR] [--owner ADDR]`;

function options(argv: string[]) {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      rpc: { type: "string" },
      "private-key": { type: "string" },
      out: { type: "string" },
      size: { type: "string", default: "3x3x16" },
      policy: { type: "string" },
      market: { type: "string" },
      "policy-hash": { type: "string" },
      tokens: { type: "string" },
      "test-tokens": { type: "boolean", default: false },
      freshness: { type: "string", default: "3600" },
      publisher: { type: "string" },
      owner: { type: "string" },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  return values;
}

const address = (text: string, flag: string): string => {
  try {
    return getAddress(text);
  } catch {
    throw new UsageError(`${flag}: not an address: ${text}`);
  }
};

async function contractFactory(name: string, signer: Signer): Promise<ContractFactory> {
  if (!(await artifacts.artifactExists(name))) {
    throw new UsageError(`no compiled contract ${name}: run \`npx zks setup\` (for verifiers) and \`npm run compile:contracts\``);
  }
  const artifact = await artifacts.readArtifact(name);
  return new ContractFactory(artifact.abi as never, artifact.bytecode, signer);
}

async function deploy(name: string, signer: Signer, args: unknown[] = []): Promise<string> {
  const contract = await (await contractFactory(name, signer)).deploy(...args);
  await contract.waitForDeployment();
  return contract.getAddress();
}

export async function main(argv: string[]): Promise<Deployment> {
  const o = options(argv);
  if (o.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const size = o.size;
  const match = /^(\d+)x(\d+)x(\d+)$/.exec(size);
  if (!match) throw new UsageError(`--size: expected assets x instruments x scenarios, e.g. 3x3x16; got ${size}`);
  const nAssets = Number(match[1]);
  const solvencyName = `Solvency${size}Verifier`;
  const rebalanceName = `Rebalance${size}Verifier`;

  let market: Market | undefined;
  if (o.market) market = parseMarket(readJsonFile(o.market), o.market);
  let hash: bigint;
  if (o["policy-hash"] !== undefined) {
    if (o.policy) throw new UsageError("give --policy or --policy-hash, not both");
    try {
      hash = BigInt(o["policy-hash"]);
    } catch {
      throw new UsageError(`--policy-hash: not an integer: ${o["policy-hash"]}`);
    }
    if (hash <= 0n || hash >= SNARK_FIELD) throw new UsageError("--policy-hash: must be a BN254 field element above 0");
  } else if (o.policy) {
    if (!market) throw new UsageError("--policy needs --market (the policy's bounds depend on the market)");
    hash = policyHash(parsePolicy(readJsonFile(o.policy), o.policy, market));
  } else {
    throw new UsageError("the gate needs a policy: --policy FILE --market FILE, or --policy-hash N");
  }
  if (market && market.assets.length > nAssets) throw new UsageError(`--market has ${market.assets.length} assets; instance size ${size} has ${nAssets} slots`);
  if (!/^\d+$/.test(o.freshness) || BigInt(o.freshness) === 0n || BigInt(o.freshness) >= 2n ** 64n) {
    throw new UsageError(`--freshness: seconds, a positive integer below 2^64; got ${o.freshness}`);
  }
  if (o["test-tokens"] === (o.tokens !== undefined)) throw new UsageError("give exactly one of --tokens A,B,C (0x0 for slots without a token) or --test-tokens");

  // The signer: a key on a JSON-RPC endpoint, or hardhat's first in-process account.
  let signer: Signer;
  let kind: Deployment["network"];
  if (o.rpc) {
    const key = o["private-key"] ?? process.env.ZKS_PRIVATE_KEY;
    if (!key) throw new UsageError("--rpc needs a signing key: --private-key KEY or ZKS_PRIVATE_KEY");
    let wallet: Wallet;
    try {
      wallet = new Wallet(key);
    } catch {
      throw new UsageError("the private key is not a 32-byte hex key");
    }
    // NonceManager counts nonces locally: the provider's short cache of eth_getTransactionCount
    // would otherwise hand two consecutive deployments the same nonce.
    signer = new NonceManager(wallet.connect(new JsonRpcProvider(o.rpc, undefined, { staticNetwork: true, pollingInterval: 250 })));
    kind = "json-rpc";
  } else {
    if (o["private-key"]) throw new UsageError("--private-key is for --rpc; the in-process network uses hardhat's accounts");
    const { ethers } = await network.connect();
    [signer] = (await ethers.getSigners()) as unknown as [Signer];
    kind = "in-process";
  }
  const provider = signer.provider!;
  const chainId = (await provider.getNetwork()).chainId;
  const deployer = await signer.getAddress();
  const owner = o.owner ? address(o.owner, "--owner") : deployer;
  const publisher = o.publisher ? address(o.publisher, "--publisher") : deployer;

  const tokens: Deployment["tokens"] = [];
  if (o.tokens !== undefined) {
    const list = o.tokens.split(",").map((t) => t.trim());
    if (list.length !== nAssets) throw new UsageError(`--tokens: ${list.length} addresses for ${nAssets} asset slots`);
    list.forEach((t, slot) => tokens.push({ slot, symbol: market?.assets[slot]?.symbol ?? null, address: /^0x0*$/i.test(t) ? ZeroAddress : address(t, "--tokens"), test: false }));
  } else {
    for (let slot = 0; slot < nAssets; slot++) {
      const asset = market?.assets[slot];
      const symbol = asset?.symbol ?? `TST${slot}`;
      const deployed = await deploy("TestToken", signer, [`Test ${symbol}`, symbol, asset?.decimals ?? 18]);
      tokens.push({ slot, symbol, address: deployed, test: true });
    }
  }

  const solvencyVerifier = await deploy(solvencyName, signer);
  const rebalanceVerifier = await deploy(rebalanceName, signer);
  const oracle = await deploy("MarketOracle", signer, [owner, publisher, BigInt(o.freshness)]);
  const gate = await deploy("RebalanceGate", signer, [oracle, tokens.map((t) => t.address), hash, solvencyVerifier, rebalanceVerifier, owner]);
  const registry = await deploy("AuditRegistry", signer, [oracle, gate, solvencyVerifier, hash, owner]);

  const deployment: Deployment = {
    version: 1,
    network: kind,
    chainId: chainId.toString(),
    deployer,
    blockNumber: await provider.getBlockNumber(),
    size,
    policyHash: hash.toString(),
    freshnessWindow: o.freshness,
    contracts: { MarketOracle: oracle, SolvencyVerifier: solvencyVerifier, RebalanceVerifier: rebalanceVerifier, RebalanceGate: gate, AuditRegistry: registry },
    verifierContracts: { solvency: solvencyName, rebalance: rebalanceName },
    tokens,
    contexts: { RebalanceGate: gateContext(chainId, gate).toString(), AuditRegistry: gateContext(chainId, registry).toString() },
    owner,
    publisher,
  };
  const out = path.resolve(o.out ?? path.join(PACKAGE_ROOT, "deployments", kind === "in-process" ? "in-process.json" : `chain-${chainId}.json`));
  mkdirSync(path.dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify(deployment, null, 2)}\n`);
  console.log(`deployed to chain ${chainId} (${kind}) by ${deployer}:`);
  for (const [name, at] of Object.entries(deployment.contracts)) console.log(`  ${name.padEnd(18)} ${at}`);
  for (const t of tokens) console.log(`  token ${t.slot} ${(t.symbol ?? "").padEnd(10)} ${t.address}${t.test ? " (test token)" : ""}`);
  const shown = path.relative(process.cwd(), out);
  console.log(`wrote ${shown.startsWith("..") ? out : shown}`);
  if (kind === "in-process") console.log("(hardhat's in-process network: a dry run, these contracts end with this script; use --rpc URL to deploy)");
  return deployment;
}

if (import.meta.url === `file://${process.argv[1]}` || process.argv[1]?.endsWith("scripts/deploy.ts")) {
  main(process.argv.slice(2)).then(
    () => process.exit(0),
    (error: unknown) => {
      if (error instanceof UsageError || error instanceof InputError || (error as { code?: string }).code?.startsWith("ERR_PARSE_ARGS")) {
        console.error(`deploy: ${(error as Error).message}\n${USAGE}`);
        process.exit(2);
      }
      // ethers' shortMessage leaves out the whole signed transaction.
      const message = (error as { shortMessage?: string }).shortMessage ?? (error instanceof Error ? error.message : String(error));
      console.error(`deploy: ${message}`);
      process.exit(1);
    },
  );
}
