/**
 * Reads a RebalanceGate's public state at one block over JSON-RPC (ethers; browser-safe): every
 * account registered up to the block with its commitment there, each slot's token balance and
 * lender debt units of the gate, and the oracle's root for an epoch. What completeness and the
 * per-token totals of an audit are checked against (src/audit/completeness.ts).
 *
 * Registered accounts come from the gate's PositionRegistered events (a position is never
 * unregistered: the gate refuses a zero commitment), commitments from commitmentOf(account) at the
 * block, balances from balanceOf / debtUnitsOf at the block: state anyone can read, so the
 * operator chooses nothing here but the block.
 */
import { Contract, getAddress, ZeroAddress, type Provider } from "ethers";
import { ERC20_ABI, MARKET_ORACLE_ABI, REBALANCE_GATE_ABI } from "../chain/abi.ts";
import { LENDER_VAULT_ABI } from "../chain/lender.ts";
import { InputError } from "../core/errors.ts";
import type { GateAsset, GateInstrument, GateSnapshot } from "./completeness.ts";

export interface SnapshotOptions {
  /** The block (default: the latest). */
  block?: number;
  /** The first block to search for registrations (default 0; give the gate's deployment block on long chains). */
  fromBlock?: number;
  /** The epoch whose oracle root to read. */
  epoch: number;
  /** Labels for messages, by slot (e.g. from the market file); else the tokens' own symbol() and decimals(). */
  assets?: { symbol: string; decimals: number }[];
  instruments?: { id: string }[];
  /** Log ranges queried at a time (providers cap eth_getLogs ranges). */
  logChunk?: number;
  /** Concurrent eth_calls for the commitments. */
  concurrency?: number;
}

const orNull = (address: string): string | null => (address === ZeroAddress ? null : getAddress(address));

/** Runs `work` over `items` with at most `limit` at a time, keeping their order. */
async function mapLimited<T, R>(items: readonly T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await work(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

export async function readGateSnapshot(provider: Provider, gateAddress: string, options: SnapshotOptions): Promise<GateSnapshot> {
  // getBlock("latest") asks the node; ethers' getBlockNumber() may answer from a short cache.
  const latest = (await provider.getBlock("latest"))!.number;
  const block = options.block ?? latest;
  if (block > latest) throw new InputError("--block", "", `block ${block} is beyond the chain's latest block ${latest}`);
  const header = await provider.getBlock(block);
  if (!header?.hash) throw new InputError("--block", "", `the endpoint has no block ${block}`);
  const gate = getAddress(gateAddress);
  if ((await provider.getCode(gate, block)) === "0x") throw new InputError("--gate", "", `no contract at ${gate} at block ${block}`);
  const blockTag = block;
  const g = new Contract(gate, REBALANCE_GATE_ABI, provider);
  const call = async <T>(contract: Contract, method: string, ...args: unknown[]): Promise<T> => (await contract.getFunction(method).staticCall(...args, { blockTag })) as T;
  let nAssets: number;
  let nInstruments: number;
  try {
    nAssets = Number(await call<bigint>(g, "nAssets"));
    nInstruments = Number(await call<bigint>(g, "nInstruments"));
  } catch {
    throw new InputError("--gate", "", `${gate} does not answer nAssets() and nInstruments() at block ${block}: not a RebalanceGate`);
  }
  const chainId = (await provider.getNetwork()).chainId;
  // Registrations are searched from --from-block on: one after the gate's deployment would miss
  // the accounts registered before it (the audit's dropped accounts would go unseen), so the gate
  // must not have existed at the block before it.
  const fromBlock = options.fromBlock ?? 0;
  if (fromBlock > block) throw new InputError("--from-block", "", `${fromBlock} is after the block checked (${block})`);
  if (fromBlock > 0 && (await provider.getCode(gate, fromBlock - 1)) !== "0x") {
    throw new InputError(
      "--from-block",
      "",
      `gate ${gate} already exists at block ${fromBlock - 1}: registrations before block ${fromBlock} would be missed; give its deployment block or leave --from-block out`,
    );
  }

  // Registrations up to the block, in chunks the provider accepts.
  const accounts = new Set<string>();
  const chunk = options.logChunk ?? 50_000;
  for (let from = fromBlock; from <= block; from += chunk) {
    const events = await g.queryFilter(g.filters.PositionRegistered!(), from, Math.min(from + chunk - 1, block));
    for (const event of events) accounts.add(getAddress((event as unknown as { args: [string] }).args[0]));
  }
  const sorted = [...accounts].map((a) => BigInt(a)).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const commitments = await mapLimited(sorted, options.concurrency ?? 16, (account) => call<bigint>(g, "commitmentOf", getAddress(`0x${account.toString(16).padStart(40, "0")}`)));
  const members = sorted.map((account, i) => ({ account, commitment: commitments[i]! }));

  const erc20 = (token: string) => new Contract(token, ERC20_ABI, provider);
  const assets: GateAsset[] = [];
  for (let i = 0; i < nAssets; i++) {
    const token = orNull(await call<string>(g, "tokenOf", i));
    const lender = orNull(await call<string>(g, "lenderOf", i));
    const label = options.assets?.[i];
    assets.push({
      symbol: label?.symbol ?? (token ? await call<string>(erc20(token), "symbol").catch(() => `asset slot ${i}`) : `asset slot ${i}`),
      decimals: label?.decimals ?? (token ? Number(await call<bigint>(erc20(token), "decimals").catch(() => 0n)) : 0),
      token,
      // What backs committed collateral: the balance less what forced and liquidation
      // transitions credited to owners to claim (RebalanceGate.claimable), a liability too.
      held: token ? (await call<bigint>(erc20(token), "balanceOf", gate)) - (await call<bigint>(g, "claimableTotal", token)) : 0n,
      lender,
      debtUnits: lender ? await call<bigint>(new Contract(lender, LENDER_VAULT_ABI, provider), "debtUnitsOf", gate) : 0n,
    });
  }
  const instruments: GateInstrument[] = [];
  for (let k = 0; k < nInstruments; k++) {
    const token = orNull(await call<string>(g, "instrumentTokenOf", k));
    instruments.push({ id: options.instruments?.[k]?.id ?? `instrument slot ${k}`, token, held: token ? await call<bigint>(erc20(token), "balanceOf", gate) : 0n });
  }
  const oracleAddress = getAddress(await call<string>(g, "oracle"));
  const policyHash = await call<bigint>(g, "policyHash");
  const oracle = new Contract(oracleAddress, MARKET_ORACLE_ABI, provider);
  const epochRoot = await call<bigint>(oracle, "rootOf", options.epoch);
  const latestEpoch = await call<bigint>(oracle, "latestEpoch");
  // isFresh at the block: the oracle's own freshness window against that block's timestamp.
  const epochFresh = epochRoot === 0n ? false : await call<boolean>(oracle, "isFresh", options.epoch);
  return {
    chainId,
    gate,
    block,
    blockHash: header.hash,
    nAssets,
    nInstruments,
    members,
    assets,
    instruments,
    oracle: oracleAddress,
    policyHash,
    epochRoot,
    latestEpoch,
    epochFresh,
  };
}
