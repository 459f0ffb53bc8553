/**
 * Deploys the gate contracts (docs/custody.md) with ethers' ContractFactory and compiled
 * artifacts, no hardhat: the Solvency and Rebalance verifiers of one instance size (each
 * instance's verifier.json from `zks setup`), the MarketOracle, the RebalanceGate (tokens,
 * option tokens, lenders, the Uniswap v2 factory its swaps run on, the keeper key and
 * liquidation terms of docs/enforcement.md) and the AuditRegistry; returns what a deployments
 * file records.
 *
 * With test tokens it also deploys a TestToken per asset slot and per instrument of the market
 * (8 decimals) and, without a factory, a Uniswap v2 factory from `@uniswap/v2-core`'s published
 * artifacts (no pairs: create and fund them with the SDK's chain/uniswap-v2). Test lenders are a
 * LenderVault per listed asset symbol, the gate its only borrower, then owned by `owner`.
 *
 * Everything that can be refused is refused before the first transaction: counts and addresses,
 * enforcement settings only a local chain may take, and verifiers whose key is not deployable on
 * a chain that is not local (setup/deploy-keys.ts). After deploying each verifier its code on
 * the chain must be the compiled runtime code and its VERIFICATION_KEY_HASH the installed key's:
 * a verifier.json whose creation code deploys something else stops the deploy before any gate
 * trusts that address.
 */
import { Contract, ContractFactory, getAddress, NonceManager, ZeroAddress, type Signer } from "ethers";
import { InputError, SetupError, SNARK_FIELD, ZksError } from "@zk-solvency/sdk/core";
import { gateContext, gateEnforcement } from "@zk-solvency/sdk/chain";
import type { Market } from "@zk-solvency/sdk/inputs";
import { developmentKeyRefusal, verifierKey, type VerifierKey } from "../setup/deploy-keys.ts";
import { verifierContractName } from "../setup/groth16-setup.ts";
import { loadInstances } from "../setup/instances.ts";
import { readManifest } from "../setup/manifest.ts";
import { defaultBuildPaths, instanceDir, type BuildPaths } from "../setup/paths.ts";
import { readContractArtifact, readVerifierContract, type StackContract } from "./contract-artifacts.ts";
import { DEFAULT_LIQUIDATION_BONUS, DEFAULT_LIQUIDATION_WINDOW, enforcementRefusal, MAX_LIQUIDATION_BONUS, MAX_LIQUIDATION_WINDOW, type KeeperKeyInput } from "./keeper-key.ts";
import { deployUniswapV2Factory } from "./uniswap-v2-factory.ts";

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
  /** Each verifier's key as compiled (its points, not its self-declared hash): ceremony, development or unknown, and whether deployable (setup/deploy-keys.ts). */
  verifierKeys: VerifierKey[];
  tokens: { slot: number; symbol: string | null; address: string; test: boolean }[];
  /** The option token of each instrument slot (the zero address for none). */
  instrumentTokens: { slot: number; id: string | null; address: string; test: boolean }[];
  /** The LenderVault of each asset slot (the zero address for none). */
  lenders: { slot: number; symbol: string | null; address: string; test: boolean }[];
  /** The Uniswap v2 factory the gate swaps on; `test` when deployStack deployed it. */
  uniswapV2Factory: { address: string; test: boolean };
  nSwaps: number;
  contexts: { RebalanceGate: string; AuditRegistry: string };
  owner: string;
  publisher: string;
}

export interface DeployStackOptions {
  /** Instance size of the verifiers, assets x instruments x scenarios: solvency-<size> and rebalance-<size>. Default "3x3x16". */
  size?: string;
  /** The policy hash the gate and registry enforce (a BN254 field element above 0). */
  policyHash: bigint;
  /** Names the test tokens and instrument slots; its assets must fit the size. */
  market?: Market;
  /** An ERC-20 per asset slot (the zero address for a slot without one), or "test": a TestToken per slot and per instrument of `market`. */
  tokens: string[] | "test";
  /** An option token per instrument slot (the zero address for none); default none, or test tokens with `tokens: "test"`. */
  instrumentTokens?: string[];
  /** The Uniswap v2 factory the gate swaps on; required unless `tokens` is "test" (which deploys one). */
  factory?: string;
  /** A LenderVault per asset slot (the zero address for an asset without debt). */
  lenders?: string[];
  /** Deploy a LenderVault for each of these asset symbols (test deployments). */
  testLenders?: string[];
  /** The test lenders' rate per second at 18 decimals (default 0). */
  lenderRate?: bigint;
  /** Swap slots of the Rebalance instance (default: the instance's, instances.json). */
  swaps?: number;
  /** The oracle's freshness window in seconds (default 3600). */
  freshness?: bigint;
  publisher?: string;
  owner?: string;
  keeperKey: KeeperKeyInput;
  liquidationBonus?: bigint;
  liquidationWindow?: bigint;
  /** Deploy verifiers without a deployable key to a chain that is not local. */
  allowDevelopmentKeys?: boolean;
  paths?: BuildPaths;
  /** Recorded in the deployments file (default "json-rpc"). */
  network?: Deployment["network"];
  /** How options are named in messages: the CLI passes its flag names (`--tokens`). */
  name?: (option: keyof DeployStackOptions) => string;
}

export interface StackPlan {
  size: string;
  nAssets: number;
  nInstruments: number;
  nSwaps: number;
  solvencyInstance: string;
  rebalanceInstance: string;
  liquidationBonus: bigint;
  liquidationWindow: bigint;
  freshness: bigint;
}

const MAX_UINT64 = 2n ** 64n - 1n;

/**
 * Checks the options without any network and works out the instance sizes; every problem is an
 * InputError (exit 2) naming the option as `o.name` spells it. deployStack calls it first; the
 * CLI calls it before it even connects.
 */
export function planStack(o: DeployStackOptions): StackPlan {
  const name = o.name ?? ((option) => option);
  const bad = (option: keyof DeployStackOptions, problem: string) => new InputError(name(option), "", problem);
  const size = o.size ?? "3x3x16";
  const match = /^(\d{1,3})x(\d{1,3})x(\d{1,4})$/.exec(size);
  if (!match) throw bad("size", `expected assets x instruments x scenarios, e.g. 3x3x16; got ${size}`);
  const nAssets = Number(match[1]);
  const nInstruments = Number(match[2]);
  if (o.policyHash <= 0n || o.policyHash >= SNARK_FIELD) throw bad("policyHash", "must be a BN254 field element above 0");
  if (o.market && o.market.assets.length > nAssets) throw bad("market", `has ${o.market.assets.length} assets; instance size ${size} has ${nAssets} slots`);
  const freshness = o.freshness ?? 3_600n;
  if (freshness <= 0n || freshness > MAX_UINT64) throw bad("freshness", `seconds, a positive integer below 2^64; got ${freshness}`);
  const test = o.tokens === "test";
  if (!test && (o.tokens as string[]).length !== nAssets) throw bad("tokens", `${(o.tokens as string[]).length} addresses for ${nAssets} asset slots`);
  if (!test && o.factory === undefined) throw bad("factory", "the gate swaps on a Uniswap v2 factory: give its address (only test tokens come with a test factory)");
  if (o.instrumentTokens && o.instrumentTokens.length !== nInstruments)
    throw bad("instrumentTokens", `${o.instrumentTokens.length} addresses for ${nInstruments} instrument slots`);
  if (o.lenders && o.testLenders) throw bad("testLenders", `give ${name("lenders")} or ${name("testLenders")}, not both`);
  if (o.lenders && o.lenders.length !== nAssets) throw bad("lenders", `${o.lenders.length} addresses for ${nAssets} asset slots`);
  if ((o.lenderRate ?? 0n) < 0n || (o.lenderRate ?? 0n) >= 2n ** 256n) throw bad("lenderRate", "a per-second rate at 18 decimals, a non-negative integer");
  for (const symbol of o.testLenders ?? []) {
    if (!tokenSymbols(o, nAssets).includes(symbol)) throw bad("testLenders", `no token for ${symbol}`);
  }
  const liquidationBonus = o.liquidationBonus ?? DEFAULT_LIQUIDATION_BONUS;
  const liquidationWindow = o.liquidationWindow ?? DEFAULT_LIQUIDATION_WINDOW;
  if (liquidationBonus < 0n || liquidationBonus > MAX_LIQUIDATION_BONUS)
    throw bad("liquidationBonus", `basis points of the debt value repaid, an integer from 0 to ${MAX_LIQUIDATION_BONUS}; got ${liquidationBonus}`);
  if (liquidationWindow < 0n || liquidationWindow > MAX_LIQUIDATION_WINDOW)
    throw bad("liquidationWindow", `seconds, an integer from 0 to ${MAX_LIQUIDATION_WINDOW}; got ${liquidationWindow}`);
  for (const [option, list] of [
    ["tokens", test ? [] : o.tokens],
    ["instrumentTokens", o.instrumentTokens ?? []],
    ["lenders", o.lenders ?? []],
  ] as const) {
    for (const a of list as string[]) addressOrZero(a, name(option));
  }
  if (o.factory !== undefined) address(o.factory, name("factory"));
  if (o.owner !== undefined) address(o.owner, name("owner"));
  if (o.publisher !== undefined) address(o.publisher, name("publisher"));
  // Swap slots: the Rebalance instance's last parameter (instances.json), unless given.
  const rebalanceInstance = `rebalance-${size}`;
  const instanceSwaps = loadInstances().find((i) => i.name === rebalanceInstance)?.params[4];
  const nSwaps = o.swaps ?? Number(instanceSwaps ?? 2);
  if (!Number.isInteger(nSwaps) || nSwaps < 0 || nSwaps > 255) throw bad("swaps", `an integer from 0 to 255; got ${o.swaps}`);
  return { size, nAssets, nInstruments, nSwaps, solvencyInstance: `solvency-${size}`, rebalanceInstance, liquidationBonus, liquidationWindow, freshness };
}

/** The symbol of each asset slot: the market's, or TST<slot> for test tokens without a market. */
function tokenSymbols(o: DeployStackOptions, nAssets: number): (string | undefined)[] {
  return Array.from({ length: nAssets }, (_, slot) => o.market?.assets[slot]?.symbol ?? (o.tokens === "test" ? `TST${slot}` : undefined));
}

function address(text: string, option: string): string {
  try {
    return getAddress(text);
  } catch {
    throw new InputError(option, "", `not an address: ${text}`);
  }
}

/** An address, or the zero address for "0x0" (a slot without a contract). */
const addressOrZero = (text: string, option: string): string => (/^0x0*$/i.test(text.trim()) ? ZeroAddress : address(text.trim(), option));

/**
 * The verifier of `instance` as it will be deployed: its compiled artifact and its key,
 * classified from the artifact's source and runtime code against the installed zkey.
 */
async function verifierToDeploy(instance: string, paths: BuildPaths) {
  const artifact = readVerifierContract(instance, paths);
  const contract = verifierContractName(instance);
  if (artifact.contractName !== contract)
    throw new SetupError(`${artifact.file}: contractName: "${artifact.contractName}", not ${contract}; run \`zks setup --instance ${instance}\``);
  const key = await verifierKey(contract, { deployedBytecode: artifact.deployedBytecode, source: artifact.source }, paths);
  return { artifact, key };
}

/**
 * Deploys the stack from `signer` (its provider is the chain) and returns the deployment. The
 * signer is wrapped in a NonceManager (unless it is one): a provider's short cache of
 * eth_getTransactionCount would otherwise hand two consecutive deployments the same nonce.
 */
export async function deployStack(signer: Signer, options: DeployStackOptions): Promise<Deployment> {
  const plan = planStack(options);
  const name = options.name ?? ((option) => option);
  const paths = options.paths ?? defaultBuildPaths();
  const provider = signer.provider;
  if (!provider) throw new InputError("deployStack", "signer", "not connected to a provider");
  const chainId = (await provider.getNetwork()).chainId;
  // Before the first transaction: enforcement settings only a local chain may take (bad input).
  const enforcement = enforcementRefusal(chainId, options.keeperKey, plan.liquidationWindow, { keeperKey: name("keeperKey"), liquidationWindow: name("liquidationWindow") });
  if (enforcement) throw new ZksError(enforcement, 2);
  // Before the first transaction: a development key goes to a local chain only, unless allowed.
  const solvency = await verifierToDeploy(plan.solvencyInstance, paths);
  const rebalance = await verifierToDeploy(plan.rebalanceInstance, paths);
  const keys = [solvency.key, rebalance.key];
  const refusal = developmentKeyRefusal(chainId, keys, options.allowDevelopmentKeys ?? false);
  if (refusal) throw new SetupError(`deploy: ${refusal}`);
  // Every artifact is read before the first transaction: a missing one is not found half-way.
  const test = options.tokens === "test";
  const needed: StackContract[] = [
    "MarketOracle",
    "RebalanceGate",
    "AuditRegistry",
    ...(options.testLenders?.length ? (["LenderVault"] as const) : []),
    ...(test ? (["TestToken"] as const) : []),
  ];
  const artifacts = new Map(needed.map((contract) => [contract, readContractArtifact(contract)]));

  const sender = signer instanceof NonceManager ? signer : new NonceManager(signer);
  const deployer = await sender.getAddress();
  const owner = options.owner ? getAddress(options.owner) : deployer;
  const publisher = options.publisher ? getAddress(options.publisher) : deployer;
  const deploy = async (contract: StackContract, args: unknown[] = []): Promise<string> => {
    const artifact = artifacts.get(contract)!;
    const deployed = await new ContractFactory(artifact.abi as never, artifact.bytecode, sender).deploy(...args);
    await deployed.waitForDeployment();
    return deployed.getAddress();
  };

  // The verifiers first: one that is not what was classified stops the deploy before anything
  // else is spent on it.
  const verifiers: string[] = [];
  for (const { artifact, key } of [solvency, rebalance]) {
    const contract = await new ContractFactory(artifact.abi as never, artifact.bytecode, sender).deploy();
    await contract.waitForDeployment();
    const at = await contract.getAddress();
    // The code on the chain is what was classified, and it verifies with the installed key.
    const code = await provider.getCode(at);
    if (code.toLowerCase() !== artifact.deployedBytecode.toLowerCase()) {
      throw new SetupError(
        `${artifact.file}: bytecode: deploying it left other code at ${at} than its deployedBytecode (the file's creation code is not its verifier's); run \`zks setup --instance ${artifact.instance} --force\``,
      );
    }
    const installed = readManifest(instanceDir(paths, artifact.instance))?.verificationKeyHash;
    const onChain = String(await new Contract(at, ["function VERIFICATION_KEY_HASH() view returns (bytes32)"], provider).getFunction("VERIFICATION_KEY_HASH")());
    if (!installed || onChain !== installed || (key.verificationKeyHash !== null && onChain !== key.verificationKeyHash)) {
      throw new SetupError(
        `${artifact.file}: the deployed ${artifact.contractName}'s VERIFICATION_KEY_HASH is ${onChain}, not the installed key's ${installed ?? "(none built)"}; run \`zks setup --instance ${artifact.instance}\``,
      );
    }
    verifiers.push(at);
  }
  const [solvencyVerifier, rebalanceVerifier] = verifiers as [string, string];

  const market = options.market;
  const tokens: Deployment["tokens"] = [];
  if (!test) {
    (options.tokens as string[]).forEach((t, slot) => tokens.push({ slot, symbol: market?.assets[slot]?.symbol ?? null, address: addressOrZero(t, name("tokens")), test: false }));
  } else {
    for (let slot = 0; slot < plan.nAssets; slot++) {
      const asset = market?.assets[slot];
      const symbol = asset?.symbol ?? `TST${slot}`;
      tokens.push({ slot, symbol, address: await deploy("TestToken", [`Test ${symbol}`, symbol, asset?.decimals ?? 18]), test: true });
    }
  }

  // Option tokens: one per instrument slot (address(0) for none).
  const instrumentTokens: Deployment["instrumentTokens"] = [];
  for (let slot = 0; slot < plan.nInstruments; slot++) {
    const id = market?.instruments[slot]?.id ?? null;
    const given = options.instrumentTokens?.[slot];
    if (given !== undefined) instrumentTokens.push({ slot, id, address: addressOrZero(given, name("instrumentTokens")), test: false });
    // Instrument quantities are at 10^8 (QUANTITY_SCALE): one option token base unit each.
    else if (test && id !== null) instrumentTokens.push({ slot, id, address: await deploy("TestToken", [`Test option ${id}`, `OPT${slot}`, 8]), test: true });
    else instrumentTokens.push({ slot, id, address: ZeroAddress, test: false });
  }

  // Lenders: one LenderVault per asset slot that has debt (address(0) for none).
  const lenders: Deployment["lenders"] = tokens.map((t) => ({ slot: t.slot, symbol: t.symbol, address: ZeroAddress, test: false }));
  options.lenders?.forEach((l, slot) => (lenders[slot]!.address = addressOrZero(l, name("lenders"))));
  for (const symbol of options.testLenders ?? []) {
    const t = tokens.find((x) => x.symbol === symbol);
    if (!t || t.address === ZeroAddress) throw new InputError(name("testLenders"), "", `no token for ${symbol}`);
    const deployed = await deploy("LenderVault", [t.address, `Lender ${symbol}`, `l${symbol}`, options.lenderRate ?? 0n, deployer]);
    lenders[t.slot] = { slot: t.slot, symbol, address: deployed, test: true };
  }

  const factory: Deployment["uniswapV2Factory"] =
    options.factory !== undefined ? { address: getAddress(options.factory), test: false } : { address: await (await deployUniswapV2Factory(sender)).getAddress(), test: true };

  const oracle = await deploy("MarketOracle", [owner, publisher, plan.freshness]);
  const gate = await deploy("RebalanceGate", [
    oracle,
    tokens.map((t) => t.address),
    instrumentTokens.map((t) => t.address),
    lenders.map((l) => l.address),
    factory.address,
    plan.nSwaps,
    options.policyHash,
    gateEnforcement(options.keeperKey.publicKey, plan.liquidationBonus, plan.liquidationWindow),
    rebalanceVerifier,
    owner,
  ]);
  const registry = await deploy("AuditRegistry", [oracle, gate, solvencyVerifier, options.policyHash, owner]);
  // The gate is each test lender's only borrower; then governance passes to the owner.
  for (const l of lenders.filter((x) => x.test)) {
    const vault = new Contract(l.address, ["function setBorrower(address)", "function transferOwnership(address)"], sender);
    await (await vault.getFunction("setBorrower")(gate)).wait();
    if (owner !== deployer) await (await vault.getFunction("transferOwnership")(owner)).wait();
  }

  return {
    version: 1,
    network: options.network ?? "json-rpc",
    chainId: chainId.toString(),
    deployer,
    blockNumber: await provider.getBlockNumber(),
    size: plan.size,
    policyHash: options.policyHash.toString(),
    freshnessWindow: plan.freshness.toString(),
    keeperKey: [options.keeperKey.publicKey[0].toString(), options.keeperKey.publicKey[1].toString()],
    keyGeneration: "1",
    liquidationBonus: plan.liquidationBonus.toString(),
    liquidationWindow: plan.liquidationWindow.toString(),
    contracts: { MarketOracle: oracle, SolvencyVerifier: solvencyVerifier, RebalanceVerifier: rebalanceVerifier, RebalanceGate: gate, AuditRegistry: registry },
    verifierContracts: { solvency: verifierContractName(plan.solvencyInstance), rebalance: verifierContractName(plan.rebalanceInstance) },
    verifierKeys: keys,
    tokens,
    instrumentTokens,
    lenders,
    uniswapV2Factory: factory,
    nSwaps: plan.nSwaps,
    contexts: { RebalanceGate: gateContext(chainId, gate).toString(), AuditRegistry: gateContext(chainId, registry).toString() },
    owner,
    publisher,
  };
}

/** The lines `zks deploy` prints for a deployment. */
export function describeDeployment(d: Deployment): string[] {
  const lines = [`deployed to chain ${d.chainId} (${d.network}) by ${d.deployer}:`];
  for (const [contract, at] of Object.entries(d.contracts)) lines.push(`  ${contract.padEnd(18)} ${at}`);
  for (const k of d.verifierKeys)
    lines.push(`  key of ${k.contract.padEnd(26)} ${k.verificationKeyHash ?? "(none built)"} ${k.label}${k.deployable ? "" : " (tests and local chains only)"}`);
  for (const t of d.tokens) lines.push(`  token ${t.slot} ${(t.symbol ?? "").padEnd(10)} ${t.address}${t.test ? " (test token)" : ""}`);
  for (const t of d.instrumentTokens.filter((x) => x.address !== ZeroAddress)) lines.push(`  option token ${t.slot} ${t.id ?? ""} ${t.address}${t.test ? " (test token)" : ""}`);
  for (const l of d.lenders.filter((x) => x.address !== ZeroAddress))
    lines.push(`  lender ${l.slot} ${(l.symbol ?? "").padEnd(10)} ${l.address}${l.test ? " (test LenderVault)" : ""}`);
  lines.push(`  Uniswap v2 factory  ${d.uniswapV2Factory.address}${d.uniswapV2Factory.test ? " (deployed here)" : ""}; ${d.nSwaps} swap slots`);
  lines.push(`  keeper key (generation 1) x = ${d.keeperKey[0]}, y = ${d.keeperKey[1]}; liquidation bonus ${d.liquidationBonus} bps, grace window ${d.liquidationWindow} s`);
  return lines;
}
