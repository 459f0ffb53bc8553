/**
 * The public signals of the Rebalance circuit with custody (docs/custody.md, "The Rebalance
 * circuit's public signals"; docs/enforcement.md for the liquidation terms and the new opening
 * encrypted to the keeper key), decoded as the gate reads them. Their positions are generated from
 * packages/circuits/instances.json (`templates.Rebalance`), as packages/contracts/contracts/libraries/PublicSignals.sol's are.
 */
import { SNARK_FIELD } from "../core/field.ts";
import { ciphertextLength, rebalanceSignalLayout, type RebalanceSignalLayout } from "../core/signals.generated.ts";

/** Where each signal of a Rebalance instance sits (generated from packages/circuits/instances.json, as PublicSignals.RebalanceLayout). */
export type CustodyLayout = RebalanceSignalLayout;

/** Words of the ciphertext of an opening with these slot counts: L = 1 + nAssets + ceil(nInstruments / 2) padded to blocks of 3, plus the tag. */
export { ciphertextLength };

/** Where each signal of `Rebalance(nAssets, nInstruments, _, _, nSwaps)` sits. */
export function custodyLayout(nAssets: number, nInstruments: number, nSwaps: number): CustodyLayout {
  return rebalanceSignalLayout(nAssets, nInstruments, nSwaps);
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
  if (sizes.nAssets === 0) return null;
  const l = custodyLayout(sizes.nAssets, sizes.nInstruments, sizes.nSwaps);
  // The count and the names at the layout's landmarks: a proof of the layout before liquidation and
  // encryption (docs/enforcement.md) has neither, and no gate of this version takes it.
  const landmarks: [number, string][] = [
    [l.fromEmpty, "fromEmpty"],
    [l.liquidation, "liquidation"],
    [l.keeperKey, "keeperKey[0]"],
    [l.ciphertext, "ciphertext[0]"],
  ];
  if (l.count !== names.length || landmarks.some(([at, name]) => names[at] !== name)) return null;
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
  /** A keeper's liquidation (docs/enforcement.md). */
  liquidation: boolean;
  /** A liquidation of a position below health factor 1.0: no grace window. */
  urgent: boolean;
  /** Who receives the bonus, checksum-free lower-case hex (the zero address unless a liquidation). */
  liquidator: string;
  /** The bonus rate in basis points the proof was made under. */
  liquidationBonus: bigint;
  /** Per asset, the bonus paid to the liquidator out of the position. */
  bonus: bigint[];
  /** The keeper key the new opening is encrypted to, and the transition's ephemeral key. */
  keeperKey: [bigint, bigint];
  ephemeralKey: [bigint, bigint];
  /** The new opening's Poseidon ciphertext (its last element the authentication tag). */
  ciphertext: bigint[];
}

/** Decodes a Rebalance proof's public signals for an instance of `sizes` (the gate's, or custodySizesOf the proof's names). */
export function decodeTransition(signals: readonly (bigint | string)[], sizes: CustodySizes): DecodedTransition {
  const l = custodyLayout(sizes.nAssets, sizes.nInstruments, sizes.nSwaps);
  if (signals.length !== l.count) {
    throw new RangeError(
      `a Rebalance proof with ${sizes.nAssets} asset, ${sizes.nInstruments} instrument and ${sizes.nSwaps} swap slots has ${l.count} public signals, got ${signals.length}`,
    );
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
    liquidation: x[l.liquidation] === 1n,
    urgent: x[l.urgent] === 1n,
    liquidator: `0x${x[l.liquidator]!.toString(16).padStart(40, "0")}`,
    liquidationBonus: x[l.liquidationBonus]!,
    bonus: slice(l.bonus, sizes.nAssets),
    keeperKey: [x[l.keeperKey]!, x[l.keeperKey + 1]!],
    ephemeralKey: [x[l.ephemeralKey]!, x[l.ephemeralKey + 1]!],
    ciphertext: slice(l.ciphertext, l.ciphertextLength),
  };
}

/** The signed wallet flows of a Rebalance proof's public signals: positive ones are pulled from the account (approve the gate first), negative ones paid to it. */
export function rebalanceFlows(signals: readonly (bigint | string)[], sizes: CustodySizes): bigint[] {
  return decodeTransition(signals, sizes).flows;
}
