/**
 * Completeness against the chain (docs/audit.md): the audited positions are exactly the positions
 * the gate holds at a block, and the root's per-token totals are what the gate holds and owes
 * there. Browser-safe and pure: the gate's state comes in as a GateSnapshot (src/audit/gate-snapshot.ts
 * reads one over JSON-RPC), and the audit's proofs must already have been verified (verifyAudit),
 * since this reads their public signals.
 *
 * Why it holds: every batch proof publishes, per slot, members[s] = Poseidon(commitment, account)
 * of the position it opened (Poseidon(0, 0) for padding), and its first and last account; the
 * merges prove the batches' account ranges disjoint and increasing. The gate's registered accounts
 * and their commitments are public. So:
 *   - no dropped account: every registered account falls in some batch's range and is one of its
 *     members (else the batch counts fewer positions there than the gate holds, or the account is
 *     in no range at all);
 *   - no fake account: every member is a registered account at its current commitment (else a
 *     member hash matches no (account, commitment) the gate holds in the range);
 *   - no stale position: a member at another nonce has another commitment, so another hash.
 * Together the multiset of opened (account, commitment) pairs equals the gate's at the block, and
 * the per-token figures the batches computed from those openings add up, through proven merges,
 * to the root's sums.
 */
import { formatUnits } from "ethers";
import { QUANTITY_DECIMALS } from "../core/fixed-point.ts";
import type { AuditReport } from "./audit-files.ts";
import { InputError } from "../core/errors.ts";
import { ownerHash, type AuditFigures } from "./merkle-sum-tree.ts";
import { batchSignals } from "./public-signals.ts";
import { AuditVerificationError } from "./verify-audit.ts";

/** One asset slot of the gate at the block. A slot without a token (or lender) has `null` there. */
export interface GateAsset {
  symbol: string;
  decimals: number;
  token: string | null;
  /** token.balanceOf(gate) at the block. */
  held: bigint;
  lender: string | null;
  /** lender.debtUnitsOf(gate) at the block. */
  debtUnits: bigint;
}

export interface GateInstrument {
  id: string;
  token: string | null;
  /** The option token's balanceOf(gate) at the block. */
  held: bigint;
}

/** The gate's public state at one block: what completeness and the per-token totals are checked against. */
export interface GateSnapshot {
  chainId: bigint;
  /** Checksummed. */
  gate: string;
  block: number;
  blockHash: string;
  nAssets: number;
  nInstruments: number;
  /** Every account registered up to the block (PositionRegistered), increasing, with commitmentOf(account) at the block. */
  members: { account: bigint; commitment: bigint }[];
  assets: GateAsset[];
  instruments: GateInstrument[];
  /** The gate's oracle's root for the audit's epoch at the block (0 when it has none), and its latest epoch. */
  epochRoot: bigint;
  latestEpoch: bigint;
}

/** One token's line of the reserves statement, in base units (option tokens: 10^8 per contract). */
export interface ReserveLine {
  what: "collateral" | "debt units" | "option tokens";
  slot: number;
  label: string;
  decimals: number;
  /** What the audited positions commit (the root's sums). */
  committed: bigint;
  /** What the chain says: the token balance or the lender's debt units of the gate. */
  onChain: bigint;
  /** onChain - committed for holdings (>= 0: e.g. a donation), 0 for debt (which must be equal). */
  surplus: bigint;
}

export interface CompletenessVerdict {
  chainId: bigint;
  gate: string;
  block: number;
  blockHash: string;
  /** Registered accounts at the block: the audited positions, one each. */
  accounts: number;
  reserves: ReserveLine[];
  /** Said, not refused: e.g. the oracle has a later epoch than the audit's at the block. */
  notes: string[];
}

const address = (account: bigint): string => `0x${account.toString(16).padStart(40, "0")}`;
const short = (value: bigint): string => `0x${value.toString(16).padStart(64, "0").slice(0, 8)}…`;
const amount = (value: bigint, decimals: number): string => formatUnits(value, decimals);

/** Checks `report` (whose proofs verifyAudit has verified) against the gate's state `snapshot`; throws an AuditVerificationError naming the first discrepancy. */
export function checkAgainstGate(report: AuditReport, snapshot: GateSnapshot): CompletenessVerdict {
  const at = `at block ${snapshot.block}`;
  if (report.chain) {
    const recorded = report.chain;
    if (recorded.chainId !== snapshot.chainId) throw new AuditVerificationError(`chain.chainId: the audit was made on chain ${recorded.chainId}, the RPC endpoint is chain ${snapshot.chainId}`);
    if (recorded.gate.toLowerCase() !== snapshot.gate.toLowerCase()) throw new AuditVerificationError(`chain.gate: the audit was made for gate ${recorded.gate}, not ${snapshot.gate}`);
    if (recorded.block === snapshot.block && recorded.blockHash !== snapshot.blockHash) {
      throw new AuditVerificationError(`chain.blockHash: block ${snapshot.block} is ${snapshot.blockHash} on this chain, the audit records ${recorded.blockHash} (a reorganisation, or another chain)`);
    }
  }
  const notes = checkGateMarket(report, snapshot, at);
  checkMembers(report, snapshot, at);
  const reserves = checkReserves(report.root.sums, snapshot, at);
  return { chainId: snapshot.chainId, gate: snapshot.gate, block: snapshot.block, blockHash: snapshot.blockHash, accounts: snapshot.members.length, reserves, notes };
}

/** The gate's layout is the audit's, and its oracle holds the audit's market at the block; returns notes. */
function checkGateMarket(audit: Pick<AuditReport, "layout" | "epoch" | "marketRoot">, snapshot: GateSnapshot, at: string): string[] {
  const { layout } = audit;
  if (snapshot.nAssets !== layout.nAssets || snapshot.nInstruments !== layout.nInstruments) {
    throw new AuditVerificationError(`the gate commits positions of ${snapshot.nAssets} asset and ${snapshot.nInstruments} instrument slots; the audit's instances open ${layout.nAssets} and ${layout.nInstruments}`);
  }
  if (snapshot.epochRoot === 0n) throw new AuditVerificationError(`the gate's oracle has no market for the audit's epoch ${audit.epoch} ${at}`);
  if (snapshot.epochRoot !== audit.marketRoot) throw new AuditVerificationError(`the gate's oracle's root for epoch ${audit.epoch} ${at} is ${short(snapshot.epochRoot)}, not the audit's marketRoot ${short(audit.marketRoot)}`);
  return snapshot.latestEpoch > BigInt(audit.epoch) ? [`the oracle's latest epoch ${at} is ${snapshot.latestEpoch}; the audit values the positions at epoch ${audit.epoch}`] : [];
}

/** One position of the operator's book, as the audit will open it. */
export interface BookLeaf {
  account: bigint;
  commitment: bigint;
  /** Where it came from, for errors ("book.jsonl:3"). */
  source: string;
}

/**
 * The operator's side, before any proof: the book is exactly the gate's positions at the block
 * (every registered account once, at its commitment there; exit 2 naming the position or account
 * when not) and the gate's holdings back its per-token totals (`sums`: the tree's root; exit 1
 * when not). Its verdict is what `zks audit` records in audit.json and prints.
 */
export function checkBookAgainstGate(book: readonly BookLeaf[], sums: AuditFigures, audit: Pick<AuditReport, "layout" | "epoch" | "marketRoot">, snapshot: GateSnapshot): CompletenessVerdict {
  const at = `at block ${snapshot.block}`;
  const notes = checkGateMarket(audit, snapshot, at);
  const registered = new Map(snapshot.members.map((m) => [m.account, m.commitment]));
  const inBook = new Set<bigint>();
  for (const leaf of book) {
    const commitment = registered.get(leaf.account);
    if (commitment === undefined) throw new InputError(leaf.source, "account", `${address(leaf.account)} is not registered with gate ${snapshot.gate} ${at}`);
    if (commitment !== leaf.commitment) {
      throw new InputError(leaf.source, "", `this position's commitment ${short(leaf.commitment)} is not the one gate ${snapshot.gate} holds for ${address(leaf.account)} ${at} (${short(commitment)}): a stale version (another nonce) or another salt`);
    }
    inBook.add(leaf.account);
  }
  const missing = snapshot.members.filter((m) => !inBook.has(m.account));
  if (missing.length > 0) {
    throw new InputError("--positions", "", `${missing.length} account(s) registered with gate ${snapshot.gate} ${at} have no position in the book, e.g. ${address(missing[0]!.account)}; an audit of the gate counts every one`);
  }
  const reserves = checkReserves(sums, snapshot, at);
  return { chainId: snapshot.chainId, gate: snapshot.gate, block: snapshot.block, blockHash: snapshot.blockHash, accounts: snapshot.members.length, reserves, notes };
}

/** Every registered account at its current commitment is a member of exactly the batch whose range holds it, and nothing else is. */
function checkMembers(report: AuditReport, snapshot: GateSnapshot, at: string): void {
  const chain = snapshot.members;
  for (let i = 1; i < chain.length; i++) if (chain[i]!.account <= chain[i - 1]!.account) throw new Error("checkAgainstGate: the snapshot's members must strictly increase (a bug)");
  const registered = new Map(chain.map((m) => [m.account, m.commitment]));
  const dropped = (m: { account: bigint; commitment: bigint }, where: string) =>
    new AuditVerificationError(`account ${address(m.account)} is registered with the gate ${at} (commitment ${short(m.commitment)}) but ${where}: the audit leaves it out (a dropped account)`);
  let next = 0;
  for (const [b, zkProof] of report.proofs[0]!.entries()) {
    const batch = batchSignals(zkProof.publicSignals);
    const name = `batch proof ${b}`;
    if (next < chain.length && chain[next]!.account < batch.firstAccount) {
      throw dropped(chain[next]!, b === 0 ? "comes before the first batch's first account" : `lies between batch proofs ${b - 1} and ${b}`);
    }
    const inRange: { account: bigint; commitment: bigint }[] = [];
    while (next < chain.length && chain[next]!.account <= batch.lastAccount) inRange.push(chain[next++]!);
    for (const [end, account] of [["first", batch.firstAccount], ["last", batch.lastAccount]] as const) {
      if (!registered.has(account)) throw new AuditVerificationError(`${name}'s ${end} account ${address(account)} is not registered with the gate ${at}: the audit counts a position the gate does not hold (a fake account)`);
    }
    const positions = Number(batch.positions);
    const slots = batch.members.slice(0, positions);
    const expected = inRange.map((m) => ownerHash(m.commitment, m.account));
    if (expected.length > slots.length) {
      // The gate holds more accounts in the range than the batch counts: name one it left out.
      const counted = new Set(slots);
      const missing = inRange.find((_, s) => !counted.has(expected[s]!))!;
      throw dropped(missing, `is not among the ${positions} positions of ${name}, whose range [${address(batch.firstAccount)}, ${address(batch.lastAccount)}] holds it`);
    }
    // Both lists are in increasing account order: the first slot that differs names the problem.
    const differs = expected.findIndex((hash, s) => slots[s] !== hash);
    if (slots.length > expected.length) {
      const s = differs >= 0 ? differs : expected.length;
      throw new AuditVerificationError(`${name}, slot ${s}: a position of an account the gate does not hold ${at} (the batch counts ${positions} positions in its range, the gate holds ${expected.length} there): a fake account`);
    }
    if (differs >= 0) {
      const m = inRange[differs]!;
      throw new AuditVerificationError(
        `${name}, slot ${differs}: not account ${address(m.account)}'s position ${at} (the gate holds commitment ${short(m.commitment)}): a stale or forged version of it, or another account's position in its place`,
      );
    }
  }
  if (next < chain.length) throw dropped(chain[next]!, "comes after the last batch's last account");
}

/** The root's per-token sums against the gate's balances and the lenders' debt units of the gate. */
function checkReserves(sums: AuditFigures, snapshot: GateSnapshot, at: string): ReserveLine[] {
  const lines: ReserveLine[] = [];
  for (const [i, asset] of snapshot.assets.entries()) {
    const committed = sums.amounts[i]!;
    const units = sums.debtUnits[i]!;
    const label = asset.symbol;
    if (asset.token === null) {
      if (committed > 0n) throw new AuditVerificationError(`asset slot ${i} (${label}) has no token at the gate, yet the audited positions hold ${amount(committed, asset.decimals)} of it`);
    } else {
      if (asset.held < committed) {
        throw new AuditVerificationError(
          `${label}: the gate holds ${amount(asset.held, asset.decimals)} ${at}, the audited positions hold ${amount(committed, asset.decimals)}: short by ${amount(committed - asset.held, asset.decimals)} (reserves below liabilities to the accounts)`,
        );
      }
      lines.push({ what: "collateral", slot: i, label, decimals: asset.decimals, committed, onChain: asset.held, surplus: asset.held - committed });
    }
    if (asset.lender === null) {
      if (units > 0n) throw new AuditVerificationError(`asset slot ${i} (${label}) has no lender at the gate, yet the audited positions owe ${amount(units, asset.decimals)} debt units of it`);
    } else {
      if (asset.debtUnits !== units) {
        throw new AuditVerificationError(
          `${label} debt: the lender ${asset.lender} counts ${amount(asset.debtUnits, asset.decimals)} debt units of the gate ${at}, the audited positions owe ${amount(units, asset.decimals)}: they must be equal`,
        );
      }
      lines.push({ what: "debt units", slot: i, label, decimals: asset.decimals, committed: units, onChain: asset.debtUnits, surplus: 0n });
    }
  }
  for (const [k, instrument] of snapshot.instruments.entries()) {
    const long = sums.long[k]!;
    const written = sums.written[k]!;
    const label = instrument.id;
    if (written > 0n) throw new AuditVerificationError(`${label}: the audited positions have written ${amount(written, QUANTITY_DECIMALS)} contracts, which a custody gate cannot hold (its positions are long-only)`);
    if (instrument.token === null) {
      if (long > 0n) throw new AuditVerificationError(`instrument slot ${k} (${label}) has no option token at the gate, yet the audited positions hold ${amount(long, QUANTITY_DECIMALS)} contracts`);
      continue;
    }
    if (instrument.held < long) {
      throw new AuditVerificationError(`${label}: the gate holds ${amount(instrument.held, QUANTITY_DECIMALS)} option tokens ${at}, the audited positions hold ${amount(long, QUANTITY_DECIMALS)}: short by ${amount(long - instrument.held, QUANTITY_DECIMALS)}`);
    }
    lines.push({ what: "option tokens", slot: k, label, decimals: QUANTITY_DECIMALS, committed: long, onChain: instrument.held, surplus: instrument.held - long });
  }
  return lines;
}
