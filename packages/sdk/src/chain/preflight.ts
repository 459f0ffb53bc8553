/**
 * Before sending a Rebalance proof to the gate (docs/custody.md): can its public movements be
 * backed? The circuit proves the committed balances move by exactly these amounts; the gate then
 * moves real tokens, and reverts when they are not there. This reads the chain (and, when given,
 * the position the proof moves) and names the first movement that cannot be backed, in the
 * words of the movement, e.g. "withdrawal of 5 WETH exceeds what this position holds (1 WETH)".
 * Browser-safe: ethers only.
 */
import { Contract, formatUnits, ZeroAddress, type ContractRunner } from "ethers";
import type { Position } from "../inputs/types.ts";
import { ERC20_ABI, REBALANCE_GATE_ABI } from "./abi.ts";
import type { DecodedTransition } from "./custody.ts";
import { borrowAssets, LENDER_VAULT_ABI } from "./lender.ts";
import { getPair, quoteAmountOut, UNISWAP_V2_FACTORY_ABI } from "./uniswap-v2.ts";

/** A token as the gate holds it: address, symbol and decimals (read from the token). */
export interface GateToken {
  address: string;
  symbol: string;
  decimals: number;
}

/** What the gate is deployed with, read from it. */
export interface GateSetup {
  tokens: (GateToken | undefined)[];
  instrumentTokens: (GateToken | undefined)[];
  lenders: (string | undefined)[];
  factory: string;
}

const orUndefined = (a: string): string | undefined => (a === ZeroAddress ? undefined : a);

async function tokenAt(address: string | undefined, runner: ContractRunner, fallback: string): Promise<GateToken | undefined> {
  if (!address) return undefined;
  const token = new Contract(address, ERC20_ABI, runner);
  const [symbol, decimals] = await Promise.all([
    token
      .getFunction("symbol")()
      .catch(() => fallback) as Promise<string>,
    token
      .getFunction("decimals")()
      .then(Number, () => 18) as Promise<number>,
  ]);
  return { address, symbol, decimals };
}

/** The gate's tokens, option tokens, lenders and factory. */
export async function readGateSetup(gate: string, runner: ContractRunner): Promise<GateSetup> {
  const g = new Contract(gate, REBALANCE_GATE_ABI, runner);
  const [nAssets, nInstruments, factory] = (await Promise.all([g.getFunction("nAssets")(), g.getFunction("nInstruments")(), g.getFunction("factory")()])) as [
    bigint,
    bigint,
    string,
  ];
  const tokens = await Promise.all(Array.from({ length: Number(nAssets) }, async (_, i) => tokenAt(orUndefined(await g.getFunction("tokenOf")(i)), runner, `asset #${i}`)));
  const instrumentTokens = await Promise.all(
    Array.from({ length: Number(nInstruments) }, async (_, k) => tokenAt(orUndefined(await g.getFunction("instrumentTokenOf")(k)), runner, `instrument #${k}`)),
  );
  const lenders = await Promise.all(Array.from({ length: Number(nAssets) }, async (_, i) => orUndefined(await g.getFunction("lenderOf")(i))));
  return { tokens, instrumentTokens, lenders, factory };
}

/** "5 WETH", "0.5 WETH", "1,000 USDC": exact, without trailing zeros. */
export function formatAmount(amount: bigint, token: GateToken | undefined, fallback = "base units"): string {
  if (!token) return `${amount} ${fallback}`;
  const [whole, fraction] = formatUnits(amount < 0n ? -amount : amount, token.decimals).split(".");
  const grouped = BigInt(whole!).toLocaleString("en-US");
  const text = fraction && fraction !== "0" ? `${grouped}.${fraction}` : grouped;
  return `${amount < 0n ? "-" : ""}${text} ${token.symbol}`;
}

/**
 * The movements of `t` that cannot be backed, in the order the gate would meet them, as
 * one-line messages (empty: every movement can be backed now). `position` is the position the
 * proof moves (its holdings bound withdrawals, sales, repayments and option-token withdrawals);
 * without it, withdrawals are checked against what the gate holds in all.
 */
export async function unbackedMovements(gate: string, t: DecodedTransition, runner: ContractRunner, options: { setup?: GateSetup; position?: Position } = {}): Promise<string[]> {
  const setup = options.setup ?? (await readGateSetup(gate, runner));
  const problems: string[] = [];
  const position = options.position;
  const name = (i: number) => setup.tokens[i]?.symbol ?? `asset #${i}`;
  const amount = (i: number, x: bigint) => formatAmount(x, setup.tokens[i]);
  const balanceOf = async (token: string, who: string): Promise<bigint> => BigInt(await new Contract(token, ERC20_ABI, runner).getFunction("balanceOf")(who));

  for (let i = 0; i < t.flows.length; i++) {
    const moves = t.flows[i] !== 0n || t.debtDelta[i] !== 0n || t.swaps.some((s) => s.sell === i || s.buy === i);
    if (moves && !setup.tokens[i]) problems.push(`asset slot ${i} has no token on this gate, but the proof moves it`);
  }
  t.instrumentFlows.forEach((g, k) => {
    if (g !== 0n && !setup.instrumentTokens[k])
      problems.push(`instrument slot ${k} has no option token on this gate, but the proof moves ${g > 0n ? "" : "-"}${g < 0n ? -g : g} units of it`);
  });
  if (problems.length > 0) return problems;

  // Deposits and option-token deposits: the account's wallet must hold them.
  for (const [i, flow] of t.flows.entries()) {
    if (flow <= 0n) continue;
    const held = await balanceOf(setup.tokens[i]!.address, t.account);
    if (held < flow) problems.push(`deposit of ${amount(i, flow)} exceeds the wallet's balance (${amount(i, held)})`);
  }
  for (const [k, flow] of t.instrumentFlows.entries()) {
    if (flow <= 0n) continue;
    const token = setup.instrumentTokens[k]!;
    const held = await balanceOf(token.address, t.account);
    if (held < flow) problems.push(`deposit of ${formatAmount(flow, token)} option tokens exceeds the wallet's balance (${formatAmount(held, token)})`);
  }
  // Borrows and repayments: a lender for the asset, with the liquidity to deliver what the proof credits.
  for (const [i, delta] of t.debtDelta.entries()) {
    if (delta === 0n) continue;
    const lenderAddress = setup.lenders[i];
    if (!lenderAddress) {
      problems.push(`${delta > 0n ? "borrow" : "repayment"} of ${delta > 0n ? delta : -delta} ${name(i)} debt units: ${name(i)} has no lender on this gate`);
      continue;
    }
    const lender = new Contract(lenderAddress, LENDER_VAULT_ABI, runner);
    if (delta > 0n) {
      const [index, idle] = (await Promise.all([lender.getFunction("debtIndex")(), lender.getFunction("idle")()])) as [bigint, bigint];
      const delivered = borrowAssets(delta, index);
      if (delivered > idle) problems.push(`borrow of ${amount(i, delivered)} exceeds the lender's idle liquidity (${amount(i, idle)})`);
      else if (delivered < t.debtAssets[i]!)
        problems.push(`borrow: the lender delivers ${amount(i, delivered)} for ${delta} units, less than the ${amount(i, t.debtAssets[i]!)} the proof credits`);
    } else if (position && -delta > position.debt[i]!) {
      problems.push(`repayment of ${-delta} ${name(i)} debt units exceeds this position's debt (${position.debt[i]} units)`);
    }
  }
  // Swaps: the position holds what it sells; the pair delivers at least minOut now.
  const factory = new Contract(setup.factory, UNISWAP_V2_FACTORY_ABI, runner);
  for (const s of t.swaps) {
    if (s.sell >= t.flows.length || s.buy >= t.flows.length || s.sell === s.buy) {
      problems.push(`swap slot ${s.slot} is not a swap between two of the gate's assets`);
      continue;
    }
    const sellable = position
      ? position.collateral[s.sell]! + (t.flows[s.sell]! > 0n ? t.flows[s.sell]! : 0n) + (t.debtDelta[s.sell]! > 0n ? t.debtAssets[s.sell]! : 0n)
      : undefined;
    if (sellable !== undefined && s.amountIn > sellable) {
      problems.push(`swap slot ${s.slot} sells ${amount(s.sell, s.amountIn)}, more than this position holds (${amount(s.sell, sellable)})`);
      continue;
    }
    const pair = await getPair(factory, setup.tokens[s.sell]!.address, setup.tokens[s.buy]!.address, runner);
    if ((await pair.getAddress()) === ZeroAddress) {
      problems.push(`swap slot ${s.slot}: no Uniswap v2 pair for ${name(s.sell)}/${name(s.buy)}`);
      continue;
    }
    const out = await quoteAmountOut(pair, setup.tokens[s.sell]!.address, s.amountIn);
    if (out < s.minOut) problems.push(`swap of ${amount(s.sell, s.amountIn)}: the pair delivers ${amount(s.buy, out)} now, below the proof's least ${amount(s.buy, s.minOut)}`);
  }
  // Withdrawals: out of this position's own collateral and what the same transition brings in
  // (swap outputs, loans) and takes out (sales, repayments); without it, at most what the gate holds.
  for (const [i, flow] of t.flows.entries()) {
    if (flow >= 0n) continue;
    if (position) {
      const signedDebt = t.debtDelta[i]! > 0n ? t.debtAssets[i]! : -t.debtAssets[i]!;
      const swapped = t.swaps.reduce((sum, s) => sum + (s.buy === i ? s.minOut : 0n) - (s.sell === i ? s.amountIn : 0n), 0n);
      const available = position.collateral[i]! + signedDebt + swapped;
      if (-flow > available) problems.push(`withdrawal of ${amount(i, -flow)} exceeds what this position holds (${amount(i, available < 0n ? 0n : available)})`);
    } else {
      const held = await balanceOf(setup.tokens[i]!.address, gate);
      if (-flow > held) problems.push(`withdrawal of ${amount(i, -flow)} exceeds what the gate holds in all (${amount(i, held)})`);
    }
  }
  for (const [k, flow] of t.instrumentFlows.entries()) {
    if (flow >= 0n) continue;
    const token = setup.instrumentTokens[k]!;
    const held = position ? position.quantities[k]! : await balanceOf(token.address, gate);
    if (-flow > held)
      problems.push(
        `withdrawal of ${formatAmount(-flow, token)} option tokens exceeds what ${position ? "this position holds" : "the gate holds in all"} (${formatAmount(held, token)})`,
      );
  }
  return problems;
}
