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
import { SNARK_FIELD } from "../core/field.ts";
import { batchSignals } from "./public-signals.ts";
import { AuditVerificationError } from "./verify-audit.ts";

/** One asset slot of the gate at the block. A slot without a token (or lender) has `null` there. */
export interface GateAsset {
  symbol: string;
  decimals: number;
  token: string | null;
  /** token.balanceOf(gate) less the gate's claimableTotal(token) (owed to owners) at the block. */
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
  /** The gate's oracle (checksummed) and policyHash() at the block. */
  oracle: string;
  policyHash: bigint;
  /** The gate's oracle's root for the audit's epoch at the block (0 when it has none), its latest epoch, and whether it calls the audit's epoch fresh at the block. */
  epochRoot: bigint;
  latestEpoch: bigint;
  epochFresh: boolean;
}

/** What the user pinned beyond the gate (a deployments file of `zks deploy`): the chain, the oracle, and each slot's token and lender (checksummed; null for none). */
export interface DeploymentPins {
  source: string;
  chainId: bigint;
  oracle: string;
  tokens: (string | null)[];
  lenders: (string | null)[];
  instrumentTokens: (string | null)[];
}

export interface GateCheckOptions {
  /** An epoch the user accepts although it is not the oracle's latest fresh one at the block (`--allow-epoch`). */
  allowEpoch?: number;
  /** The deployments file the user pinned the gate with: its oracle, tokens and lenders must be the gate's. */
  pins?: DeploymentPins;
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
  /** The token (collateral, option tokens) or lender (debt units) contract, checksummed. */
  address: string;
  /** Every slot this contract serves, e.g. ["WETH"], or ["WETH", "ETH-PUT"] for a token shared by an asset and an instrument slot: their amounts are summed. */
  slots: string[];
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

/** A batch's padding slot publishes Poseidon(0, 0). */
const PADDING = ownerHash(0n, 0n);
const address = (account: bigint): string => `0x${account.toString(16).padStart(40, "0")}`;
const short = (value: bigint): string => `0x${value.toString(16).padStart(64, "0").slice(0, 8)}…`;
const amount = (value: bigint, decimals: number): string => formatUnits(value, decimals);

/** Checks `report` (whose proofs verifyAudit has verified) against the gate's state `snapshot`; throws an AuditVerificationError naming the first discrepancy. */
export function checkAgainstGate(report: AuditReport, snapshot: GateSnapshot, options: GateCheckOptions = {}): CompletenessVerdict {
  const at = `at block ${snapshot.block}`;
  if (options.pins) checkPins(options.pins, snapshot, at);
  if (report.chain) {
    const recorded = report.chain;
    if (recorded.chainId !== snapshot.chainId)
      throw new AuditVerificationError(`chain.chainId: the audit was made on chain ${recorded.chainId}, the RPC endpoint is chain ${snapshot.chainId}`);
    if (recorded.gate.toLowerCase() !== snapshot.gate.toLowerCase())
      throw new AuditVerificationError(`chain.gate: the audit was made for gate ${recorded.gate}, not ${snapshot.gate}`);
    if (recorded.block === snapshot.block && recorded.blockHash !== snapshot.blockHash) {
      throw new AuditVerificationError(
        `chain.blockHash: block ${snapshot.block} is ${snapshot.blockHash} on this chain, the audit records ${recorded.blockHash} (a reorganisation, or another chain)`,
      );
    }
  }
  const notes = checkGateMarket(report, snapshot, at, options.allowEpoch);
  checkMembers(report, snapshot, at);
  const reserves = checkReserves(report.root.sums, snapshot, at);
  return { chainId: snapshot.chainId, gate: snapshot.gate, block: snapshot.block, blockHash: snapshot.blockHash, accounts: snapshot.members.length, reserves, notes };
}

/**
 * The gate a deployments file pins is the deployment: same chain, and the gate's oracle, tokens and
 * lenders at the block are the file's. A gate the operator deployed with its own tokens and lender
 * (holding only healthy positions) differs here even when it runs the real contracts' code.
 */
function checkPins(pins: DeploymentPins, snapshot: GateSnapshot, at: string): void {
  const differs = (field: string, pinned: string | null, actual: string | null) =>
    new AuditVerificationError(`${pins.source}: ${field} is ${pinned ?? "none"}, but gate ${snapshot.gate} uses ${actual ?? "none"} ${at}: not the deployment this file describes`);
  if (pins.chainId !== snapshot.chainId) throw new AuditVerificationError(`${pins.source}: chainId is ${pins.chainId}, the RPC endpoint is chain ${snapshot.chainId}`);
  if (pins.oracle !== snapshot.oracle) throw differs("contracts.MarketOracle", pins.oracle, snapshot.oracle);
  const compare = (field: string, pinned: (string | null)[], actual: (string | null)[]) => {
    if (pinned.length !== actual.length) throw new AuditVerificationError(`${pins.source}: ${field} lists ${pinned.length} slots, gate ${snapshot.gate} has ${actual.length}`);
    pinned.forEach((p, i) => {
      if (p !== actual[i]) throw differs(`${field}[${i}]`, p, actual[i]!);
    });
  };
  compare(
    "tokens",
    pins.tokens,
    snapshot.assets.map((a) => a.token),
  );
  compare(
    "lenders",
    pins.lenders,
    snapshot.assets.map((a) => a.lender),
  );
  compare(
    "instrumentTokens",
    pins.instrumentTokens,
    snapshot.instruments.map((i) => i.token),
  );
}

/**
 * The gate's layout is the audit's, its policy is the audit's, and its oracle holds the audit's
 * market at the block as its latest, fresh epoch (an older or stale epoch only when the user names
 * it: `allowEpoch`, then said in a note); returns notes.
 */
function checkGateMarket(audit: Pick<AuditReport, "layout" | "epoch" | "marketRoot" | "policyHash">, snapshot: GateSnapshot, at: string, allowEpoch: number | undefined): string[] {
  const { layout } = audit;
  if (snapshot.nAssets !== layout.nAssets || snapshot.nInstruments !== layout.nInstruments) {
    throw new AuditVerificationError(
      `the gate commits positions of ${snapshot.nAssets} asset and ${snapshot.nInstruments} instrument slots; the audit's instances open ${layout.nAssets} and ${layout.nInstruments}`,
    );
  }
  if (snapshot.epochRoot === 0n) throw new AuditVerificationError(`the gate's oracle has no market for the audit's epoch ${audit.epoch} ${at}`);
  if (snapshot.epochRoot !== audit.marketRoot)
    throw new AuditVerificationError(
      `the gate's oracle's root for epoch ${audit.epoch} ${at} is ${short(snapshot.epochRoot)}, not the audit's marketRoot ${short(audit.marketRoot)}`,
    );
  // The gate checks every position against its policy; an audit under another policy (looser
  // thresholds) would count as passing what the gate's own rules call failing.
  if (snapshot.policyHash !== audit.policyHash)
    throw new AuditVerificationError(
      `policyHash: the gate's policy ${at} is ${short(snapshot.policyHash)}, the audit's is ${short(audit.policyHash)}: the audit applies another policy than the gate`,
    );
  // An audit values the positions at one epoch's prices; an old epoch (before a crash) can make
  // today's book look solvent. Only the latest, fresh epoch passes unless the user names another.
  const stale =
    snapshot.latestEpoch !== BigInt(audit.epoch)
      ? `the oracle's latest epoch ${at} is ${snapshot.latestEpoch}, the audit's is ${audit.epoch}`
      : !snapshot.epochFresh
        ? `the oracle calls epoch ${audit.epoch} stale ${at}`
        : undefined;
  if (stale === undefined) return [];
  if (allowEpoch !== audit.epoch)
    throw new AuditVerificationError(
      `epoch: ${stale}: the audit values the positions at prices the oracle no longer stands by (accept it explicitly with --allow-epoch ${audit.epoch})`,
    );
  return [`${stale}; accepted by --allow-epoch ${audit.epoch}`];
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
export function checkBookAgainstGate(
  book: readonly BookLeaf[],
  sums: AuditFigures,
  audit: Pick<AuditReport, "layout" | "epoch" | "marketRoot" | "policyHash">,
  snapshot: GateSnapshot,
  options: GateCheckOptions = {},
): CompletenessVerdict {
  const at = `at block ${snapshot.block}`;
  if (options.pins) checkPins(options.pins, snapshot, at);
  const notes = checkGateMarket(audit, snapshot, at, options.allowEpoch);
  const registered = new Map(snapshot.members.map((m) => [m.account, m.commitment]));
  const inBook = new Set<bigint>();
  for (const leaf of book) {
    const commitment = registered.get(leaf.account);
    if (commitment === undefined) throw new InputError(leaf.source, "account", `${address(leaf.account)} is not registered with gate ${snapshot.gate} ${at}`);
    if (commitment !== leaf.commitment) {
      throw new InputError(
        leaf.source,
        "",
        `this position's commitment ${short(leaf.commitment)} is not the one gate ${snapshot.gate} holds for ${address(leaf.account)} ${at} (${short(commitment)}): a stale version (another nonce) or another salt`,
      );
    }
    inBook.add(leaf.account);
  }
  const missing = snapshot.members.filter((m) => !inBook.has(m.account));
  if (missing.length > 0) {
    throw new InputError(
      "--positions",
      "",
      `${missing.length} account(s) registered with gate ${snapshot.gate} ${at} have no position in the book, e.g. ${address(missing[0]!.account)}; an audit of the gate counts every one`,
    );
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
    new AuditVerificationError(
      `account ${address(m.account)} is registered with the gate ${at} (commitment ${short(m.commitment)}) but ${where}: the audit leaves it out (a dropped account)`,
    );
  let next = 0;
  for (const [b, zkProof] of report.proofs[0]!.entries()) {
    const batch = batchSignals(zkProof.publicSignals);
    const name = `batch proof ${b}`;
    if (next < chain.length && chain[next]!.account < batch.firstAccount) {
      throw dropped(chain[next]!, b === 0 ? "comes before the first batch's first account" : `lies between batch proofs ${b - 1} and ${b}`);
    }
    const inRange: { account: bigint; commitment: bigint }[] = [];
    while (next < chain.length && chain[next]!.account <= batch.lastAccount) inRange.push(chain[next++]!);
    for (const [end, account] of [
      ["first", batch.firstAccount],
      ["last", batch.lastAccount],
    ] as const) {
      if (!registered.has(account))
        throw new AuditVerificationError(
          `${name}'s ${end} account ${address(account)} is not registered with the gate ${at}: the audit counts a position the gate does not hold (a fake account)`,
        );
    }
    const positions = Number(batch.positions);
    const slots = batch.members.slice(0, positions);
    // The circuit fills the slots after `positions` with padding; anything else there is a member
    // this check would not see.
    batch.members.slice(positions).forEach((hash, i) => {
      if (hash !== PADDING) throw new AuditVerificationError(`${name}, slot ${positions + i}: after its ${positions} positions, a member that is not padding Poseidon(0, 0)`);
    });
    const expected = inRange.map((m) => {
      // A commitment the gate returns is a uint256; one at or above the field's order is none the circuits can open.
      if (m.commitment >= SNARK_FIELD)
        throw new AuditVerificationError(`the gate's commitment for account ${address(m.account)} ${at} is ${short(m.commitment)}, not a field element: no audit can open it`);
      return ownerHash(m.commitment, m.account);
    });
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
      throw new AuditVerificationError(
        `${name}, slot ${s}: a position of an account the gate does not hold ${at} (the batch counts ${positions} positions in its range, the gate holds ${expected.length} there): a fake account`,
      );
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

/**
 * The root's per-token sums against the gate's balances and the lenders' debt units of the gate.
 * Amounts are summed per contract first: a token serving two slots (an asset and an option token,
 * or two assets) backs both at once, so comparing each slot with the whole balance would count it
 * twice; likewise a lender serving two assets.
 */
function checkReserves(sums: AuditFigures, snapshot: GateSnapshot, at: string): ReserveLine[] {
  // Slots without a contract first: nothing can back what the positions commit there.
  for (const [i, asset] of snapshot.assets.entries()) {
    if (asset.token === null && sums.amounts[i]! > 0n)
      throw new AuditVerificationError(
        `asset slot ${i} (${asset.symbol}) has no token at the gate, yet the audited positions hold ${amount(sums.amounts[i]!, asset.decimals)} of it`,
      );
    if (asset.lender === null && sums.debtUnits[i]! > 0n)
      throw new AuditVerificationError(
        `asset slot ${i} (${asset.symbol}) has no lender at the gate, yet the audited positions owe ${amount(sums.debtUnits[i]!, asset.decimals)} debt units of it`,
      );
  }
  for (const [k, instrument] of snapshot.instruments.entries()) {
    const written = sums.written[k]!;
    if (written > 0n)
      throw new AuditVerificationError(
        `${instrument.id}: the audited positions have written ${amount(written, QUANTITY_DECIMALS)} contracts, which a custody gate cannot hold (its positions are long-only)`,
      );
    if (instrument.token === null && sums.long[k]! > 0n)
      throw new AuditVerificationError(
        `instrument slot ${k} (${instrument.id}) has no option token at the gate, yet the audited positions hold ${amount(sums.long[k]!, QUANTITY_DECIMALS)} contracts`,
      );
  }
  // Per contract, in the order the slots first name them: asset tokens, lenders, option tokens.
  type Group = Omit<ReserveLine, "surplus">;
  const tokens = new Map<string, Group>();
  const lenders = new Map<string, Group>();
  const add = (map: Map<string, Group>, key: string, first: Omit<Group, "committed" | "slots" | "label">, name: string, committed: bigint) => {
    const group = map.get(key) ?? { ...first, label: "", slots: [], committed: 0n };
    group.slots.push(name);
    group.label = group.slots.join(" + ");
    group.committed += committed;
    map.set(key, group);
  };
  const order: [Map<string, Group>, string][] = [];
  const note = (map: Map<string, Group>, key: string) => {
    if (!order.some(([m, k]) => m === map && k === key)) order.push([map, key]);
  };
  for (const [i, asset] of snapshot.assets.entries()) {
    if (asset.token !== null) {
      add(tokens, asset.token, { what: "collateral", slot: i, decimals: asset.decimals, onChain: asset.held, address: asset.token }, asset.symbol, sums.amounts[i]!);
      note(tokens, asset.token);
    }
    if (asset.lender !== null) {
      add(lenders, asset.lender, { what: "debt units", slot: i, decimals: asset.decimals, onChain: asset.debtUnits, address: asset.lender }, asset.symbol, sums.debtUnits[i]!);
      note(lenders, asset.lender);
    }
  }
  for (const [k, instrument] of snapshot.instruments.entries()) {
    if (instrument.token === null) continue;
    add(
      tokens,
      instrument.token,
      { what: "option tokens", slot: k, decimals: QUANTITY_DECIMALS, onChain: instrument.held, address: instrument.token },
      instrument.id,
      sums.long[k]!,
    );
    note(tokens, instrument.token);
  }
  const lines: ReserveLine[] = [];
  for (const [map, key] of order) {
    const g = map.get(key)!;
    const shared = g.slots.length > 1 ? ` (token ${g.address}, shared by ${g.label}: their amounts summed)` : "";
    if (g.what === "debt units") {
      if (g.onChain !== g.committed) {
        throw new AuditVerificationError(
          `${g.label} debt: the lender ${g.address} counts ${amount(g.onChain, g.decimals)} debt units of the gate ${at}, the audited positions owe ${amount(g.committed, g.decimals)}: they must be equal`,
        );
      }
      lines.push({ ...g, surplus: 0n });
      continue;
    }
    if (g.onChain < g.committed) {
      const unit = g.what === "option tokens" ? " option tokens" : "";
      const tail = g.what === "option tokens" ? "" : " (reserves below liabilities to the accounts)";
      throw new AuditVerificationError(
        `${g.label}: the gate holds ${amount(g.onChain, g.decimals)}${unit} ${at}, the audited positions hold ${amount(g.committed, g.decimals)}: short by ${amount(g.committed - g.onChain, g.decimals)}${tail}${shared}`,
      );
    }
    lines.push({ ...g, surplus: g.onChain - g.committed });
  }
  return lines;
}
