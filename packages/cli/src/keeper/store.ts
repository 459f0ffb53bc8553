/**
 * The keeper's local state in SQLite (Node 22's `node:sqlite`, WAL journal): the positions it
 * follows, the block cursor it has processed logs up to, and its actions (flag, liquidate) with a
 * crash-safe state machine. What makes a restart safe:
 *
 *   - UNIQUE(account, commitment, kind): one flag and one liquidation per committed position, ever.
 *     A restart finds the row and resumes it; it never plans a second one.
 *   - A transaction is signed first, then its hash, signer nonce and raw bytes are written with
 *     state `submitted` in one SQLite transaction, and only then broadcast. A crash after the
 *     write leaves a row the restart reconciles by receipt: mined, or dropped and rebroadcast
 *     (the same raw transaction, so the SAME nonce: it can never land twice).
 *   - The log cursor moves in the same SQLite transaction as the positions those logs changed.
 */
import { createRequire } from "node:module";
import { mkdirSync } from "node:fs";
import path from "node:path";
import type { DatabaseSync, SQLOutputValue, StatementSync } from "node:sqlite";
import { InputError } from "@zk-solvency/sdk/core";

export type ActionKind = "flag" | "liquidate";
export type ActionState = "planned" | "proving" | "submitted" | "mined" | "failed";
export const ACTION_KINDS: readonly ActionKind[] = ["flag", "liquidate"];
export const ACTION_STATES: readonly ActionState[] = ["planned", "proving", "submitted", "mined", "failed"];

export interface PositionRow {
  account: string;
  nonce: bigint;
  commitment: bigint;
  keyGeneration: bigint;
  /** The decrypted opening (bigints as decimal strings), null until decrypted or when no key decrypts it. */
  openingJson: string | null;
  /** The OpeningEncrypted event's ephemeral key and ciphertext, kept until decrypted. */
  publishedJson: string | null;
  /** Why no key decrypts it, when none does. */
  decryptError: string | null;
  /** When the gate flagged this commitment below the trigger (FlaggedBelowTrigger), unix seconds. */
  flagSince: bigint | null;
  block: number;
}

export interface ActionRow {
  id: number;
  account: string;
  commitment: bigint;
  kind: ActionKind;
  state: ActionState;
  txHash: string | null;
  nonce: number | null;
  attempts: number;
  error: string | null;
  updatedAt: number;
  /** The signed transaction, for a rebroadcast with the same nonce. */
  rawTx: string | null;
  epoch: bigint | null;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT;
CREATE TABLE IF NOT EXISTS cursor (name TEXT PRIMARY KEY, block INTEGER NOT NULL CHECK (block >= 0)) STRICT;
CREATE TABLE IF NOT EXISTS positions (
  account TEXT PRIMARY KEY,
  nonce TEXT NOT NULL,
  commitment TEXT NOT NULL,
  key_generation TEXT NOT NULL,
  opening_json TEXT,
  published_json TEXT,
  decrypt_error TEXT,
  flag_since TEXT,
  block INTEGER NOT NULL
) STRICT;
CREATE TABLE IF NOT EXISTS actions (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  account TEXT NOT NULL,
  commitment TEXT NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('flag', 'liquidate')),
  state TEXT NOT NULL CHECK (state IN ('planned', 'proving', 'submitted', 'mined', 'failed')),
  tx_hash TEXT,
  nonce INTEGER,
  attempts INTEGER NOT NULL DEFAULT 0,
  error TEXT,
  updated_at INTEGER NOT NULL,
  raw_tx TEXT,
  epoch TEXT,
  UNIQUE (account, commitment, kind),
  CHECK (state <> 'submitted' OR (tx_hash IS NOT NULL AND nonce IS NOT NULL AND raw_tx IS NOT NULL))
) STRICT;
CREATE INDEX IF NOT EXISTS actions_state ON actions (state);
`;

/**
 * node:sqlite is experimental in Node 22 and says so on stderr when loaded; the CLI promises one
 * clear line on stderr, so that one warning is dropped (every other warning still prints).
 */
export function loadSqlite(): typeof import("node:sqlite") {
  const emit = process.emitWarning;
  process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
    const text = typeof warning === "string" ? warning : warning.message;
    const type = typeof rest[0] === "string" ? rest[0] : (rest[0] as { type?: string } | undefined)?.type;
    if ((type === "ExperimentalWarning" || (warning as Error).name === "ExperimentalWarning") && /SQLite/i.test(text)) return;
    (emit as (...args: unknown[]) => void).call(process, warning, ...rest);
  }) as typeof process.emitWarning;
  try {
    return createRequire(import.meta.url)("node:sqlite") as typeof import("node:sqlite");
  } finally {
    process.emitWarning = emit;
  }
}

const text = (v: SQLOutputValue | undefined): string | null => (v === null || v === undefined ? null : String(v));
const big = (v: SQLOutputValue | undefined): bigint | null => (v === null || v === undefined ? null : BigInt(v as string));

function positionOf(r: Record<string, SQLOutputValue>): PositionRow {
  return {
    account: String(r.account),
    nonce: BigInt(r.nonce as string),
    commitment: BigInt(r.commitment as string),
    keyGeneration: BigInt(r.key_generation as string),
    openingJson: text(r.opening_json),
    publishedJson: text(r.published_json),
    decryptError: text(r.decrypt_error),
    flagSince: big(r.flag_since),
    block: Number(r.block),
  };
}

function actionOf(r: Record<string, SQLOutputValue>): ActionRow {
  return {
    id: Number(r.id),
    account: String(r.account),
    commitment: BigInt(r.commitment as string),
    kind: r.kind as ActionKind,
    state: r.state as ActionState,
    txHash: text(r.tx_hash),
    nonce: r.nonce === null ? null : Number(r.nonce),
    attempts: Number(r.attempts),
    error: text(r.error),
    updatedAt: Number(r.updated_at),
    rawTx: text(r.raw_tx),
    epoch: big(r.epoch),
  };
}

const hex = (x: bigint): string => `0x${x.toString(16).padStart(64, "0")}`;

export class KeeperStore {
  /** Prepared once per statement text: a statement holds native memory the JS heap does not see, so preparing per call grows the process until a GC. */
  private readonly statements = new Map<string, StatementSync>();

  private constructor(
    private readonly db: DatabaseSync,
    readonly file: string,
  ) {}

  private sql(text: string): StatementSync {
    let statement = this.statements.get(text);
    if (!statement) {
      statement = this.db.prepare(text);
      this.statements.set(text, statement);
    }
    return statement;
  }

  /**
   * Opens (or creates) the database. A database made for another gate or chain is refused
   * (exit 2): its positions and actions are not this deployment's.
   */
  static open(file: string, pin?: { chainId: bigint; gate: string }): KeeperStore {
    const { DatabaseSync } = loadSqlite();
    let db: DatabaseSync;
    try {
      if (file !== ":memory:") mkdirSync(path.dirname(file), { recursive: true });
      db = new DatabaseSync(file);
      // WAL: readers (`zks keeper status`) never block the service; synchronous=FULL so a
      // committed `submitted` row survives a power cut, not only a process crash.
      db.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA busy_timeout = 5000;");
      db.exec(SCHEMA);
    } catch (error) {
      throw new InputError(file, "", `not a usable keeper database (${(error as Error).message})`);
    }
    const store = new KeeperStore(db, file);
    if (pin) {
      try {
        store.pin(pin);
      } catch (error) {
        db.close();
        throw error;
      }
    }
    return store;
  }

  /** The deployment this database follows (null before the service first ran on it). */
  deployment(): { chainId: string; gate: string } | null {
    const get = (name: string) => text(this.sql("SELECT value FROM meta WHERE name = ?").get(name)?.value);
    const [chainId, gate] = [get("chainId"), get("gate")];
    return chainId === null || gate === null ? null : { chainId, gate };
  }

  private pin({ chainId, gate }: { chainId: bigint; gate: string }): void {
    const get = (name: string) => text(this.sql("SELECT value FROM meta WHERE name = ?").get(name)?.value);
    const [knownChain, knownGate] = [get("chainId"), get("gate")];
    if (knownChain === null && knownGate === null) {
      this.transaction(() => {
        this.sql("INSERT INTO meta (name, value) VALUES ('chainId', ?), ('gate', ?)").run(chainId.toString(), gate.toLowerCase());
      });
      return;
    }
    if (knownChain !== chainId.toString() || knownGate !== gate.toLowerCase()) {
      throw new InputError(
        this.file,
        "",
        `this database follows gate ${knownGate} on chain ${knownChain}, not gate ${gate.toLowerCase()} on chain ${chainId}; give the keeper its own database per deployment`,
      );
    }
  }

  /** Runs `work` in one SQLite transaction (all or nothing). */
  transaction<T>(work: () => T): T {
    this.db.exec("BEGIN IMMEDIATE");
    try {
      const result = work();
      this.db.exec("COMMIT");
      return result;
    } catch (error) {
      this.db.exec("ROLLBACK");
      throw error;
    }
  }

  close(): void {
    this.statements.clear();
    if (this.db.isOpen) this.db.close();
  }

  get isOpen(): boolean {
    return this.db.isOpen;
  }

  integrityCheck(): string {
    return String(this.sql("PRAGMA integrity_check").get()?.integrity_check);
  }

  // --- cursor -------------------------------------------------------------------------------

  cursor(name: string): number | null {
    const row = this.sql("SELECT block FROM cursor WHERE name = ?").get(name);
    return row === undefined ? null : Number(row.block);
  }

  setCursor(name: string, block: number): void {
    this.sql("INSERT INTO cursor (name, block) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET block = excluded.block").run(name, block);
  }

  // --- positions ----------------------------------------------------------------------------

  /** A new commitment of `account` (OpeningEncrypted): replaces what was known, clears the flag and the old opening. */
  putPublished(account: string, nonce: bigint, commitment: bigint, keyGeneration: bigint, publishedJson: string, block: number): void {
    this.sql(
      `INSERT INTO positions (account, nonce, commitment, key_generation, opening_json, published_json, decrypt_error, flag_since, block)
         VALUES (?, ?, ?, ?, NULL, ?, NULL, NULL, ?)
         ON CONFLICT (account) DO UPDATE SET nonce = excluded.nonce, commitment = excluded.commitment, key_generation = excluded.key_generation,
           opening_json = NULL, published_json = excluded.published_json, decrypt_error = NULL, flag_since = NULL, block = excluded.block
         WHERE excluded.block >= positions.block`,
    ).run(account.toLowerCase(), nonce.toString(), hex(commitment), keyGeneration.toString(), publishedJson, block);
  }

  setOpening(account: string, commitment: bigint, openingJson: string): void {
    this.sql("UPDATE positions SET opening_json = ?, published_json = NULL, decrypt_error = NULL WHERE account = ? AND commitment = ?").run(
      openingJson,
      account.toLowerCase(),
      hex(commitment),
    );
  }

  setDecryptError(account: string, commitment: bigint, error: string): void {
    this.sql("UPDATE positions SET decrypt_error = ? WHERE account = ? AND commitment = ?").run(error, account.toLowerCase(), hex(commitment));
  }

  /** Forgets every "no key decrypts it": the keys may have changed since (a retired key added); they are tried again. */
  clearDecryptErrors(): number {
    return Number(this.sql("UPDATE positions SET decrypt_error = NULL WHERE decrypt_error IS NOT NULL").run().changes);
  }

  /** FlaggedBelowTrigger for the account's current commitment (a flag of an older commitment is void). */
  setFlag(account: string, commitment: bigint, since: bigint): void {
    this.sql("UPDATE positions SET flag_since = ? WHERE account = ? AND commitment = ?").run(since.toString(), account.toLowerCase(), hex(commitment));
  }

  position(account: string): PositionRow | undefined {
    const row = this.sql("SELECT * FROM positions WHERE account = ?").get(account.toLowerCase());
    return row === undefined ? undefined : positionOf(row);
  }

  positions(): PositionRow[] {
    return this.sql("SELECT * FROM positions ORDER BY account").all().map(positionOf);
  }

  // --- actions ------------------------------------------------------------------------------

  action(account: string, commitment: bigint, kind: ActionKind): ActionRow | undefined {
    const row = this.sql("SELECT * FROM actions WHERE account = ? AND commitment = ? AND kind = ?").get(account.toLowerCase(), hex(commitment), kind);
    return row === undefined ? undefined : actionOf(row);
  }

  actionById(id: number): ActionRow {
    const row = this.sql("SELECT * FROM actions WHERE id = ?").get(id);
    if (row === undefined) throw new Error(`no action ${id}`);
    return actionOf(row);
  }

  actions(state?: ActionState): ActionRow[] {
    const rows = state === undefined ? this.sql("SELECT * FROM actions ORDER BY id").all() : this.sql("SELECT * FROM actions WHERE state = ? ORDER BY id").all(state);
    return rows.map(actionOf);
  }

  /**
   * The action for (account, commitment, kind), created `planned` if there is none. Exactly one
   * row per key can exist (UNIQUE), so two evaluations, or a restart, find the same one.
   */
  claimAction(account: string, commitment: bigint, kind: ActionKind, epoch: bigint): ActionRow {
    return this.transaction(() => {
      this.sql(
        "INSERT INTO actions (account, commitment, kind, state, attempts, updated_at, epoch) VALUES (?, ?, ?, 'planned', 0, ?, ?) ON CONFLICT (account, commitment, kind) DO NOTHING",
      ).run(account.toLowerCase(), hex(commitment), kind, Date.now(), epoch.toString());
      return this.action(account, commitment, kind)!;
    });
  }

  /** planned/failed -> proving (a new attempt). Refuses any other state: the caller lost a race. */
  startProving(id: number, epoch: bigint): boolean {
    const result = this.sql(
      "UPDATE actions SET state = 'proving', attempts = attempts + 1, error = NULL, epoch = ?, updated_at = ? WHERE id = ? AND state IN ('planned', 'proving', 'failed')",
    ).run(epoch.toString(), Date.now(), id);
    return Number(result.changes) === 1;
  }

  /**
   * proving -> submitted with the signed transaction, BEFORE it is broadcast. One transaction:
   * the row holds the hash, the nonce and the bytes together, or nothing changed.
   */
  recordSubmission(id: number, txHash: string, nonce: number, rawTx: string): void {
    this.transaction(() => {
      const result = this.sql("UPDATE actions SET state = 'submitted', tx_hash = ?, nonce = ?, raw_tx = ?, error = NULL, updated_at = ? WHERE id = ? AND state = 'proving'").run(
        txHash,
        nonce,
        rawTx,
        Date.now(),
        id,
      );
      if (Number(result.changes) !== 1) throw new Error(`action ${id} is not being proven; refusing to record a submission`);
    });
  }

  /** A rebroadcast after a drop: same raw transaction, one more attempt. */
  countRebroadcast(id: number): void {
    this.sql("UPDATE actions SET attempts = attempts + 1, updated_at = ? WHERE id = ?").run(Date.now(), id);
  }

  markMined(id: number): void {
    this.sql("UPDATE actions SET state = 'mined', error = NULL, updated_at = ? WHERE id = ?").run(Date.now(), id);
  }

  /** The action failed (reverted, refused before sending, unprovable): kept with its reason; retried up to maxRetries. */
  markFailed(id: number, error: string): void {
    this.sql("UPDATE actions SET state = 'failed', error = ?, updated_at = ? WHERE id = ?").run(error.slice(0, 2_000), Date.now(), id);
  }

  /** proving -> planned: shutting down mid-proof; the next start proves again (nothing was signed). */
  checkpoint(id: number): void {
    this.sql("UPDATE actions SET state = 'planned', updated_at = ? WHERE id = ? AND state = 'proving'").run(Date.now(), id);
  }

  /** The highest signer nonce of a submission still in flight (null when none). */
  highestPendingNonce(): number | null {
    const row = this.sql("SELECT MAX(nonce) AS n FROM actions WHERE state = 'submitted'").get();
    return row?.n === null || row?.n === undefined ? null : Number(row.n);
  }

  counts(): { positions: number; decrypted: number; undecryptable: number; actions: Record<ActionState, number> } {
    const one = (sql: string) => Number(this.sql(sql).get()?.n ?? 0);
    const actions = Object.fromEntries(ACTION_STATES.map((s) => [s, 0])) as Record<ActionState, number>;
    for (const row of this.sql("SELECT state, COUNT(*) AS n FROM actions GROUP BY state").all()) actions[row.state as ActionState] = Number(row.n);
    return {
      positions: one("SELECT COUNT(*) AS n FROM positions"),
      decrypted: one("SELECT COUNT(*) AS n FROM positions WHERE opening_json IS NOT NULL"),
      undecryptable: one("SELECT COUNT(*) AS n FROM positions WHERE decrypt_error IS NOT NULL"),
      actions,
    };
  }
}
