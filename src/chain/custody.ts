/**
 * The public signals of the Rebalance circuit with custody (docs/custody.md, "The Rebalance
 * circuit's public signals"), as contracts/libraries/PublicSignals.sol lays them out:
 * [oldCommitment, newCommitment, marketRoot, policyHash, debtIndex[nAssets], account, nonce,
 * context, forced, fromEmpty, flow[nAssets], debtDelta[nAssets], debtAssets[nAssets],
 * swapSell[nSwaps], swapBuy[nSwaps], swapIn[nSwaps], swapMinOut[nSwaps], instrumentFlow[nInstruments]].
 */
import { SNARK_FIELD } from "../core/field.ts";

export interface CustodyLayout {
  oldCommitment: 0;
  newCommitment: 1;
  marketRoot: 2;
  policyHash: 3;
  debtIndex: 4;
  account: number;
  nonce: number;
  context: number;
  forced: number;
  fromEmpty: number;
  flow: number;
  debtDelta: number;
  debtAssets: number;
  swapSell: number;
  swapBuy: number;
  swapIn: number;
  swapMinOut: number;
  instrumentFlow: number;
  count: number;
}

/** Where each signal of `Rebalance(nAssets, nInstruments, _, _, nSwaps)` sits. */
export function custodyLayout(nAssets: number, nInstruments: number, nSwaps: number): CustodyLayout {
  const account = 4 + nAssets;
  const flow = account + 5;
  const debtDelta = flow + nAssets;
  const debtAssets = debtDelta + nAssets;
  const swapSell = debtAssets + nAssets;
  const swapBuy = swapSell + nSwaps;
  const swapIn = swapBuy + nSwaps;
  const swapMinOut = swapIn + nSwaps;
  const instrumentFlow = swapMinOut + nSwaps;
  return {
    oldCommitment: 0,
    newCommitment: 1,
    marketRoot: 2,
    policyHash: 3,
    debtIndex: 4,
    account,
    nonce: account + 1,
    context: account + 2,
    forced: account + 3,
    fromEmpty: account + 4,
    flow,
    debtDelta,
    debtAssets,
    swapSell,
    swapBuy,
    swapIn,
    swapMinOut,
    instrumentFlow,
    count: instrumentFlow + nInstruments,
  };
}

/** A signed integer as a field element (negative x as p - |x|). */
export const toFieldSigned = (x: bigint): bigint => (x < 0n ? SNARK_FIELD + x : x);

/** The slot counts of a Rebalance instance, which fix its signal layout. */
export interface CustodySizes {
  nAssets: number;
  nInstruments: number;
  nSwaps: number;
}

/**
 * The slot counts of a Rebalance instance from its public signals' names (a manifest's
 * `publicSignals`, a proof file's `zks.named` keys): how many `flow[i]`, `instrumentFlow[k]` and
 * `swapIn[s]` it has. Null when the names are not a custody Rebalance layout.
 */
export function custodySizesOf(names: readonly string[]): CustodySizes | null {
  const count = (prefix: string) => names.filter((n) => n.startsWith(`${prefix}[`)).length;
  const sizes = { nAssets: count("flow"), nInstruments: count("instrumentFlow"), nSwaps: count("swapIn") };
  if (sizes.nAssets === 0 || !names.includes("fromEmpty") || custodyLayout(sizes.nAssets, sizes.nInstruments, sizes.nSwaps).count !== names.length) return null;
  return sizes;
}

/** A field element as the gate reads a signed signal: above (p - 1) / 2 stands for x - p. */
export const fromFieldSigned = (x: bigint): bigint => (x > SNARK_FIELD / 2n ? x - SNARK_FIELD : x);

/** A Rebalance proof's public signals, decoded as the gate reads them (docs/custody.md). */
export interface DecodedTransition {
  oldCommitment: bigint;
  newCommitment: bigint;
  marketRoot: bigint;
  policyHash: bigint;
  debtIndex: bigint[];
  /** The account, checksum-free lower-case hex. */
  account: string;
  nonce: bigint;
  context: bigint;
  forced: boolean;
  fromEmpty: boolean;
  /** Signed wallet flow per asset: deposits +, withdrawals -. */
  flows: bigint[];
  /** Signed debt change per asset in index-scaled units: borrows +, repayments -. */
  debtDelta: bigint[];
  /** Per asset: a borrow's least delivery, a repayment's most charge. */
  debtAssets: bigint[];
  /** The non-empty swap slots, with their slot number. */
  swaps: { slot: number; sell: number; buy: number; amountIn: bigint; minOut: bigint }[];
  /** Signed option-token flow per instrument slot. */
  instrumentFlows: bigint[];
}

/** Decodes a Rebalance proof's public signals for an instance of `sizes` (the gate's, or custodySizesOf the proof's names). */
export function decodeTransition(signals: readonly (bigint | string)[], sizes: CustodySizes): DecodedTransition {
  const l = custodyLayout(sizes.nAssets, sizes.nInstruments, sizes.nSwaps);
  if (signals.length !== l.count) {
    throw new RangeError(`a Rebalance proof with ${sizes.nAssets} asset, ${sizes.nInstruments} instrument and ${sizes.nSwaps} swap slots has ${l.count} public signals, got ${signals.length}`);
  }
  const x = signals.map((s) => BigInt(s));
  const slice = (at: number, n: number) => x.slice(at, at + n);
  const swaps: DecodedTransition["swaps"] = [];
  for (let s = 0; s < sizes.nSwaps; s++) {
    const [sell, buy, amountIn, minOut] = [x[l.swapSell + s]!, x[l.swapBuy + s]!, x[l.swapIn + s]!, x[l.swapMinOut + s]!];
    if ((sell | buy | amountIn | minOut) !== 0n) swaps.push({ slot: s, sell: Number(sell), buy: Number(buy), amountIn, minOut });
  }
  return {
    oldCommitment: x[l.oldCommitment]!,
    newCommitment: x[l.newCommitment]!,
    marketRoot: x[l.marketRoot]!,
    policyHash: x[l.policyHash]!,
    debtIndex: slice(l.debtIndex, sizes.nAssets),
    account: `0x${x[l.account]!.toString(16).padStart(40, "0")}`,
    nonce: x[l.nonce]!,
    context: x[l.context]!,
    forced: x[l.forced] === 1n,
    fromEmpty: x[l.fromEmpty] === 1n,
    flows: slice(l.flow, sizes.nAssets).map(fromFieldSigned),
    debtDelta: slice(l.debtDelta, sizes.nAssets).map(fromFieldSigned),
    debtAssets: slice(l.debtAssets, sizes.nAssets),
    swaps,
    instrumentFlows: slice(l.instrumentFlow, sizes.nInstruments).map(fromFieldSigned),
  };
}

/** The signed wallet flows of a Rebalance proof's public signals: positive ones are pulled from the account (approve the gate first), negative ones paid to it. */
export function rebalanceFlows(signals: readonly (bigint | string)[], sizes: CustodySizes): bigint[] {
  return decodeTransition(signals, sizes).flows;
}
