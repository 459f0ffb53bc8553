/**
 * Deploys the gate contracts (docs/custody.md): the generated Solvency and Rebalance verifiers of
 * one instance size, the MarketOracle, the RebalanceGate (tokens, option tokens, lenders, the
 * Uniswap v2 factory its swaps run on, the keeper key and liquidation terms of docs/enforcement.md)
 * and the AuditRegistry, and writes their addresses to a deployments file.
 *
 *   npx tsx scripts/deploy.ts [--rpc URL] [--private-key KEY] [--out deployments/NAME.json]
 *       [--size 3x3x16] (--policy policy.json --market market.json | --policy-hash N)
 *       --keeper-key FILE [--liquidation-bonus BPS] [--liquidation-window SECONDS]
 *       [--tokens ADDR,ADDR,... | --test-tokens] [--instrument-tokens ADDR,...]
 *       [--factory ADDR] [--lenders ADDR,... | --test-lenders SYMBOL,...] [--lender-rate PER_SECOND]
 *       [--swaps N] [--freshness SECONDS] [--publisher ADDR] [--owner ADDR]
 *
 * With --test-tokens it also deploys a test option token per instrument slot (8 decimals, unless
 * --instrument-tokens gives them) and, without --factory, a Uniswap v2 factory from
 * `@uniswap/v2-core`'s published artifacts (no pairs: create and fund them with
 * src/chain/uniswap-v2.ts). --test-lenders deploys a LenderVault for each listed asset symbol
 * (the deployer its owner until the gate is set as its only borrower, then --owner).
 *
 * --keeper-key names the protocol keeper's public-key file ({"kind":"zks-keeper-public-key",...})
 * or its key file (`zks keeper keygen`; only the public half is used): every opening is encrypted
 * to it (generation 1). The liquidation terms default to a 500 basis-point bonus and a 3,600 s grace
 * window; the gate caps them at 2,000 bps and 30 days. On a chain other than 31337 and 1337 it
 * refuses, before any transaction, what only a local chain may take: a grace window of 0 (a keeper
 * could flag and liquidate in consecutive transactions), the demo's keeper key (derived from a public
 * seed: anyone decrypts every opening) and a key file holding the keeper's secret (give the
 * public-key file: the secret stays on the keeper's machine).
 *
 * Without --rpc it deploys to hardhat's in-process network (a dry run: that chain ends with the
 * script). With --rpc it sends the transactions to that JSON-RPC endpoint, signed with
 * --private-key or $ZKS_PRIVATE_KEY (prefer the environment variable: flags are visible to other
 * users of the machine). Compile first: `npm run compile:contracts`.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { Contract, ContractFactory, getAddress, JsonRpcProvider, NonceManager, Wallet, ZeroAddress, type Signer } from "ethers";
import { artifacts, network } from "hardhat";
import { gateContext } from "../packages/sdk/src/chain/context.ts";
import { deployUniswapV2Factory } from "../packages/node/src/deploy/uniswap-v2-factory.ts";
import { policyHash } from "../packages/sdk/src/commitment/policy-hash.ts";
import { gateEnforcement } from "../packages/sdk/src/chain/abi.ts";
import { InputError, SetupError, ZksError } from "../packages/sdk/src/core/errors.ts";
import { SNARK_FIELD } from "../packages/sdk/src/core/field.ts";
import { KEEPER_KEY_KIND, parseKeeperKeyFile, parseKeeperPublicKeyFile, type Point } from "../packages/sdk/src/encryption/keeper-key.ts";
import { parseMarket } from "../packages/sdk/src/inputs/parse-market.ts";
import { parsePolicy } from "../packages/sdk/src/inputs/parse-policy.ts";
import type { Market } from "../packages/sdk/src/inputs/types.ts";
import { readJsonFile } from "../packages/node/src/read-json.ts";
import { developmentKeyRefusal, LOCAL_CHAIN_IDS, verifierKeys, type VerifierKey } from "../packages/node/src/setup/deploy-keys.ts";
import { loadInstances } from "../packages/node/src/setup/instances.ts";
import { PACKAGE_ROOT } from "../packages/node/src/setup/paths.ts";

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
  /** The keeper key (x, y) the gate was deployed with, decimal: generation `keyGeneration` (1). Rotations after deployment are the gate's (`keeperKey()`). */
  keeperKey: [string, string];
  keyGeneration: string;
  /** The liquidation terms at deployment: bonus in basis points, grace window in seconds. */
  liquidationBonus: string;
  liquidationWindow: string;
  contracts: Record<"MarketOracle" | "SolvencyVerifier" | "RebalanceVerifier" | "RebalanceGate" | "AuditRegistry", string>;
  verifierContracts: { solvency: string; rebalance: string };
  /** Each verifier's key as compiled (its points, not its self-declared hash): ceremony, development or unknown, and whether deployable (src/setup/deploy-keys.ts). */
  verifierKeys: VerifierKey[];
  tokens: { slot: number; symbol: string | null; address: string; test: boolean }[];
  /** The option token of each instrument slot (the zero address for none). */
  instrumentTokens: { slot: number; id: string | null; address: string; test: boolean }[];
  /** The LenderVault of each asset slot (the zero address for none). */
  lenders: { slot: number; symbol: string | null; address: string; test: boolean }[];
  /** The Uniswap v2 factory the gate swaps on; `test` when this script deployed it. */
  uniswapV2Factory: { address: string; test: boolean };
  nSwaps: number;
  contexts: { RebalanceGate: string; AuditRegistry: string };
  owner: string;
  publisher: string;
}

class UsageError extends Error {}

const USAGE = `usage: npx tsx scripts/deploy.ts [--rpc URL] [--private-key KEY] [--out FILE] [--size 3x3x16]
       (--policy FILE --market FILE | --policy-hash N) [--tokens A,B,C | --test-tokens]
       [--instrument-tokens A,B,C] [--factory ADDR] [--lenders A,B,C | --test-lenders SYMBOL,...]
       [--lender-rate PER_SECOND] [--swaps N] [--freshness SECONDS] [--publisher ADDR] [--owner ADDR]
       --keeper-key FILE [--liquidation-bonus BPS (500)] [--liquidation-window SECONDS (3600)]
       (on a chain other than 31337 and 1337: --keeper-key a public-key file, not the demo's; a window above 0)
       [--allow-development-keys]   (needed to deploy development keys to a chain other than 31337 or 1337)`;

/** The deploy defaults of the liquidation terms (docs/enforcement.md): a 5 % bonus, a one-hour grace window. */
export const DEFAULT_LIQUIDATION_BONUS = 500n;
export const DEFAULT_LIQUIDATION_WINDOW = 3_600n;
/** The gate's caps (RebalanceGate.MAX_LIQUIDATION_BONUS, MAX_LIQUIDATION_WINDOW), checked before any transaction. */
const MAX_LIQUIDATION_BONUS = 2_000n;
const MAX_LIQUIDATION_WINDOW = 30n * 86_400n;

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
      "instrument-tokens": { type: "string" },
      factory: { type: "string" },
      lenders: { type: "string" },
      "test-lenders": { type: "string" },
      "lender-rate": { type: "string", default: "0" },
      swaps: { type: "string" },
      freshness: { type: "string", default: "3600" },
      publisher: { type: "string" },
      owner: { type: "string" },
      "keeper-key": { type: "string" },
      "liquidation-bonus": { type: "string", default: DEFAULT_LIQUIDATION_BONUS.toString() },
      "liquidation-window": { type: "string", default: DEFAULT_LIQUIDATION_WINDOW.toString() },
      "allow-development-keys": { type: "boolean", default: false },
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

/**
 * The keeper's public key from a public-key file or a key file (whose secret is checked against its
 * public half and then dropped): either way validated as a Baby Jubjub point of the prime subgroup.
 */
export function readKeeperPublicKey(file: string): Point {
  return readKeeperKey(file).publicKey;
}

/** readKeeperPublicKey, and whether the file held the keeper's secret too (a key file). */
function readKeeperKey(file: string): { publicKey: Point; hadSecret: boolean } {
  const json = readJsonFile(file);
  const text = JSON.stringify(json);
  const kind = typeof json === "object" && json !== null ? (json as { kind?: unknown }).kind : undefined;
  if (kind === KEEPER_KEY_KIND) return { publicKey: parseKeeperKeyFile(text, file).publicKey, hadSecret: true };
  return { publicKey: parseKeeperPublicKeyFile(text, file), hadSecret: false };
}

/**
 * Why the enforcement settings may not go to chain `chainId`, or undefined: on a chain other than
 * 31337 and 1337 (LOCAL_CHAIN_IDS) a grace window of 0, the demo's keeper key (public seed) and a
 * key file with the keeper's secret are refused.
 */
export async function enforcementRefusal(chainId: bigint, keeper: { file: string; publicKey: Point; hadSecret: boolean }, liquidationWindow: bigint): Promise<string | undefined> {
  if (LOCAL_CHAIN_IDS.includes(chainId)) return undefined;
  const where = `chain ${chainId} is not a local chain (${LOCAL_CHAIN_IDS.join(", ")})`;
  if (liquidationWindow === 0n) {
    return `--liquidation-window: ${where}: a grace window of 0 lets a keeper flag a position and liquidate it in the next transaction, leaving its owner no time to re-prove; give a window in seconds (default ${DEFAULT_LIQUIDATION_WINDOW})`;
  }
  // The demo's module builds the whole demo: loaded only for a non-local chain.
  const { demoKeeperKey } = await import("../packages/cli/src/demo/run.ts");
  const demo = demoKeeperKey().publicKey;
  if (keeper.publicKey[0] === demo[0] && keeper.publicKey[1] === demo[1]) {
    return `--keeper-key ${keeper.file}: ${where}: this is the demo's keeper key, derived from a public seed (DEMO_KEEPER_SEED in src/demo/run.ts): anyone can decrypt every opening encrypted to it; make one with \`zks keeper keygen\``;
  }
  if (keeper.hadSecret) {
    return `--keeper-key ${keeper.file}: ${where}: the file holds the keeper's secret; give its public-key file ({"kind":"zks-keeper-public-key",...}) so the secret stays on the keeper's machine`;
  }
  return undefined;
}

/** A non-negative integer flag no larger than `max`. */
function boundedInteger(text: string, flag: string, max: bigint, unit: string): bigint {
  if (!/^\d{1,20}$/.test(text) || BigInt(text) > max) throw new UsageError(`${flag}: ${unit}, an integer from 0 to ${max}; got ${text}`);
  return BigInt(text);
}

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
  const nInstruments = Number(match[2]);
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
  if (o.lenders !== undefined && o["test-lenders"] !== undefined) throw new UsageError("give --lenders or --test-lenders, not both");
  if (!o["test-tokens"] && o.factory === undefined) throw new UsageError("the gate swaps on a Uniswap v2 factory: give --factory ADDR (only --test-tokens deploys one)");
  if (!/^\d+$/.test(o["lender-rate"])) throw new UsageError(`--lender-rate: a per-second rate at 18 decimals, a non-negative integer; got ${o["lender-rate"]}`);
  // The keeper key and the liquidation terms (docs/enforcement.md), before any transaction.
  if (o["keeper-key"] === undefined) {
    throw new UsageError("the gate encrypts every opening to the protocol keeper's key: give --keeper-key FILE (its public-key file, or a key file from `zks keeper keygen`)");
  }
  const keeperFile = o["keeper-key"];
  const { publicKey: keeperKey, hadSecret: keeperSecretGiven } = readKeeperKey(keeperFile);
  const liquidationBonus = boundedInteger(o["liquidation-bonus"], "--liquidation-bonus", MAX_LIQUIDATION_BONUS, "basis points of the debt value repaid");
  const liquidationWindow = boundedInteger(o["liquidation-window"], "--liquidation-window", MAX_LIQUIDATION_WINDOW, "seconds");
  // Test lenders name asset symbols: check them before any transaction is sent.
  const testLenders = (o["test-lenders"] ?? "").split(",").map((x) => x.trim()).filter(Boolean);
  const symbolAt = (slot: number): string | undefined => market?.assets[slot]?.symbol ?? (o["test-tokens"] ? `TST${slot}` : undefined);
  const symbols = Array.from({ length: nAssets }, (_, slot) => symbolAt(slot));
  for (const symbol of testLenders) if (!symbols.includes(symbol)) throw new UsageError(`--test-lenders: no token for ${symbol}`);
  // Swap slots: the Rebalance instance's last parameter (circuits/instances.json), unless given.
  const instanceSwaps = loadInstances().find((i) => i.name === `rebalance-${size}`)?.params[4];
  const nSwaps = o.swaps !== undefined ? Number(o.swaps) : Number(instanceSwaps ?? 2);
  if (!Number.isInteger(nSwaps) || nSwaps < 0) throw new UsageError(`--swaps: a non-negative integer; got ${o.swaps}`);

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
  // Before the first transaction: enforcement settings only a local chain may take (bad input).
  const enforcement = await enforcementRefusal(chainId, { file: keeperFile, publicKey: keeperKey, hadSecret: keeperSecretGiven }, liquidationWindow);
  if (enforcement) throw new UsageError(enforcement);
  // Before the first transaction: a development key goes to a local chain only, unless allowed.
  const keys = await verifierKeys([solvencyName, rebalanceName]);
  const refusal = developmentKeyRefusal(chainId, keys, o["allow-development-keys"]);
  if (refusal) throw new SetupError(`deploy: ${refusal}`);
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

  // Option tokens: one per instrument slot (address(0) for none).
  const instrumentTokens: Deployment["instrumentTokens"] = [];
  if (o["instrument-tokens"] !== undefined) {
    const list = o["instrument-tokens"].split(",").map((t) => t.trim());
    if (list.length !== nInstruments) throw new UsageError(`--instrument-tokens: ${list.length} addresses for ${nInstruments} instrument slots`);
    list.forEach((t, slot) => instrumentTokens.push({ slot, id: market?.instruments[slot]?.id ?? null, address: /^0x0*$/i.test(t) ? ZeroAddress : address(t, "--instrument-tokens"), test: false }));
  } else {
    for (let slot = 0; slot < nInstruments; slot++) {
      const id = market?.instruments[slot]?.id ?? null;
      if (o["test-tokens"] && id !== null) {
        // Instrument quantities are at 10^8 (QUANTITY_SCALE): one option token base unit each.
        const deployed = await deploy("TestToken", signer, [`Test option ${id}`, `OPT${slot}`, 8]);
        instrumentTokens.push({ slot, id, address: deployed, test: true });
      } else {
        instrumentTokens.push({ slot, id, address: ZeroAddress, test: false });
      }
    }
  }

  // Lenders: one LenderVault per asset slot that has debt (address(0) for none).
  const lenders: Deployment["lenders"] = tokens.map((t) => ({ slot: t.slot, symbol: t.symbol, address: ZeroAddress, test: false }));
  if (o.lenders !== undefined) {
    const list = o.lenders.split(",").map((t) => t.trim());
    if (list.length !== nAssets) throw new UsageError(`--lenders: ${list.length} addresses for ${nAssets} asset slots`);
    list.forEach((t, slot) => (lenders[slot]!.address = /^0x0*$/i.test(t) ? ZeroAddress : address(t, "--lenders")));
  } else if (o["test-lenders"] !== undefined) {
    for (const symbol of testLenders) {
      const t = tokens.find((x) => x.symbol === symbol);
      if (!t || t.address === ZeroAddress) throw new UsageError(`--test-lenders: no token for ${symbol}`);
      const deployed = await deploy("LenderVault", signer, [t.address, `Lender ${symbol}`, `l${symbol}`, BigInt(o["lender-rate"]), deployer]);
      lenders[t.slot] = { slot: t.slot, symbol, address: deployed, test: true };
    }
  }

  let factory: Deployment["uniswapV2Factory"];
  if (o.factory !== undefined) factory = { address: address(o.factory, "--factory"), test: false };
  else factory = { address: await (await deployUniswapV2Factory(signer)).getAddress(), test: true };

  const solvencyVerifier = await deploy(solvencyName, signer);
  const rebalanceVerifier = await deploy(rebalanceName, signer);
  const oracle = await deploy("MarketOracle", signer, [owner, publisher, BigInt(o.freshness)]);
  const gate = await deploy("RebalanceGate", signer, [
    oracle,
    tokens.map((t) => t.address),
    instrumentTokens.map((t) => t.address),
    lenders.map((l) => l.address),
    factory.address,
    nSwaps,
    hash,
    gateEnforcement(keeperKey, liquidationBonus, liquidationWindow),
    rebalanceVerifier,
    owner,
  ]);
  const registry = await deploy("AuditRegistry", signer, [oracle, gate, solvencyVerifier, hash, owner]);
  // The gate is each test lender's only borrower; then governance passes to the owner.
  for (const l of lenders.filter((x) => x.test)) {
    const vault = new Contract(l.address, ["function setBorrower(address)", "function transferOwnership(address)"], signer);
    await (await vault.getFunction("setBorrower")(gate)).wait();
    if (owner !== deployer) await (await vault.getFunction("transferOwnership")(owner)).wait();
  }

  const deployment: Deployment = {
    version: 1,
    network: kind,
    chainId: chainId.toString(),
    deployer,
    blockNumber: await provider.getBlockNumber(),
    size,
    policyHash: hash.toString(),
    freshnessWindow: o.freshness,
    keeperKey: [keeperKey[0].toString(), keeperKey[1].toString()],
    keyGeneration: "1",
    liquidationBonus: liquidationBonus.toString(),
    liquidationWindow: liquidationWindow.toString(),
    contracts: { MarketOracle: oracle, SolvencyVerifier: solvencyVerifier, RebalanceVerifier: rebalanceVerifier, RebalanceGate: gate, AuditRegistry: registry },
    verifierContracts: { solvency: solvencyName, rebalance: rebalanceName },
    verifierKeys: keys,
    tokens,
    instrumentTokens,
    lenders,
    uniswapV2Factory: factory,
    nSwaps,
    contexts: { RebalanceGate: gateContext(chainId, gate).toString(), AuditRegistry: gateContext(chainId, registry).toString() },
    owner,
    publisher,
  };
  const out = path.resolve(o.out ?? path.join(PACKAGE_ROOT, "deployments", kind === "in-process" ? "in-process.json" : `chain-${chainId}.json`));
  mkdirSync(path.dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify(deployment, null, 2)}\n`);
  console.log(`deployed to chain ${chainId} (${kind}) by ${deployer}:`);
  for (const [name, at] of Object.entries(deployment.contracts)) console.log(`  ${name.padEnd(18)} ${at}`);
  for (const k of keys) {
    console.log(`  key of ${k.contract.padEnd(26)} ${k.verificationKeyHash ?? "(none built)"} ${k.label}${k.deployable ? "" : " (tests and local chains only)"}`);
  }
  for (const t of tokens) console.log(`  token ${t.slot} ${(t.symbol ?? "").padEnd(10)} ${t.address}${t.test ? " (test token)" : ""}`);
  for (const t of instrumentTokens.filter((x) => x.address !== ZeroAddress)) console.log(`  option token ${t.slot} ${t.id ?? ""} ${t.address}${t.test ? " (test token)" : ""}`);
  for (const l of lenders.filter((x) => x.address !== ZeroAddress)) console.log(`  lender ${l.slot} ${(l.symbol ?? "").padEnd(10)} ${l.address}${l.test ? " (test LenderVault)" : ""}`);
  console.log(`  Uniswap v2 factory  ${factory.address}${factory.test ? " (deployed here)" : ""}; ${nSwaps} swap slots`);
  console.log(`  keeper key (generation 1) x = ${keeperKey[0]}, y = ${keeperKey[1]}; liquidation bonus ${liquidationBonus} bps, grace window ${liquidationWindow} s`);
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
      if (error instanceof ZksError) {
        console.error(`${error.message}`);
        process.exit(error.exitCode);
      }
      // ethers' shortMessage leaves out the whole signed transaction.
      const message = (error as { shortMessage?: string }).shortMessage ?? (error instanceof Error ? error.message : String(error));
      console.error(`deploy: ${message}`);
      process.exit(1);
    },
  );
}
