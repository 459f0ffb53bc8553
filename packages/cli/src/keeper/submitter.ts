/**
 * Sending the keeper's transactions (README, "Running a keeper", MEV):
 *
 *   1. simulate (eth_estimateGas): a transaction that would revert is refused before it costs gas,
 *      its custom error named;
 *   2. sign with an explicit signer nonce and EIP-1559 fees;
 *   3. RECORD: hash, nonce and raw bytes written to the database (state `submitted`) before
 *      anything leaves the process, so a crash at any later point is reconciled on restart;
 *   4. wait a random delay within `jitterMs`, so the submission time does not reveal when the
 *      epoch's prices made a position liquidatable to the block;
 *   5. broadcast to the private endpoint (Flashbots-Protect style: not in the public mempool),
 *      falling back to the public RPC when it fails;
 *   6. wait for the receipt; a transaction that vanished is rebroadcast unchanged (same nonce,
 *      same hash: it can land at most once), for as long as its nonce is free.
 *
 * Nonces: one mutex around steps 1-3 hands them out in order; the next is the larger of the
 * chain's pending count and the highest nonce still in flight in the database + 1.
 */
import { randomInt } from "node:crypto";
import { Transaction, type JsonRpcProvider, type TransactionReceipt, type Wallet } from "ethers";
import { parseGateError, revertData } from "@zk-solvency/sdk/chain";
import type { Logger } from "./logger.ts";
import type { KeeperMetrics } from "./metrics.ts";
import { describeError, isTransportError, sleep } from "./retry.ts";
import type { ActionRow, KeeperStore } from "./store.ts";

/** Raised when the simulation reverts: nothing was signed or sent. */
export class SimulationRevertedError extends Error {
  constructor(readonly reason: string) {
    super(`the transaction would revert: ${reason}`);
  }
}

export interface SubmitterOptions {
  provider: JsonRpcProvider;
  /** The private submit endpoint; transactions fall back to `provider` when it fails. */
  privateProvider?: JsonRpcProvider;
  wallet: Wallet;
  chainId: bigint;
  store: KeeperStore;
  logger: Logger;
  metrics: KeeperMetrics;
  jitterMs: number;
  /** Rebroadcasts of a vanished transaction before each further one is logged as an error. */
  maxRetries: number;
  /** How often to ask for a receipt. */
  receiptPollMs: number;
  /** Without a receipt for this long, check whether the transaction is still known; rebroadcast if not. */
  receiptTimeoutMs: number;
  /** Every chain read, retried with back-off (the service's wrapper). */
  rpc: <T>(what: string, call: () => Promise<T>) => Promise<T>;
  signal: AbortSignal;
}

/** One decoded line for a revert: the gate's custom error with its arguments, else ethers' message. */
export function revertReason(error: unknown): string {
  const data = revertData(error);
  const parsed = data ? parseGateError(data) : null;
  if (parsed) return `${parsed.name}(${parsed.args.map(String).join(", ")})`;
  return describeError(error);
}

export type SubmissionOutcome =
  | { result: "mined"; receipt: TransactionReceipt }
  | { result: "reverted"; receipt: TransactionReceipt }
  /** The node has it, not yet mined. */
  | { result: "pending" }
  /** Neither mined nor known to the node, its nonce still free: rebroadcast it. */
  | { result: "unknown" }
  /** Not mined and its nonce taken by another transaction: it can never land. */
  | { result: "dropped" };

export class Submitter {
  private lock: Promise<unknown> = Promise.resolve();
  private lastNonce: number | null = null;

  constructor(private readonly o: SubmitterOptions) {}

  get address(): string {
    return this.o.wallet.address;
  }

  private exclusive<T>(work: () => Promise<T>): Promise<T> {
    const run = this.lock.then(work, work);
    this.lock = run.catch(() => {});
    return run;
  }

  private async nextNonce(): Promise<number> {
    const pending = await this.o.rpc("eth_getTransactionCount", () => this.o.provider.getTransactionCount(this.address, "pending"));
    const inFlight = this.o.store.highestPendingNonce();
    const candidates = [pending, inFlight === null ? 0 : inFlight + 1, this.lastNonce === null ? 0 : this.lastNonce + 1];
    return Math.max(...candidates);
  }

  /**
   * Steps 1-3 for the action (state `proving`): simulate, sign, record. Throws
   * SimulationRevertedError (nothing recorded) when the gate would refuse the call.
   */
  async signAndRecord(action: ActionRow, to: string, data: string): Promise<{ hash: string; nonce: number; raw: string }> {
    return this.exclusive(async () => {
      let gasEstimate: bigint;
      try {
        gasEstimate = await this.o.rpc("eth_estimateGas", () => this.o.provider.estimateGas({ from: this.address, to, data }));
      } catch (error) {
        if (isTransportError(error) || (error as { name?: string }).name === "RpcUnavailableError") throw error;
        throw new SimulationRevertedError(revertReason(error));
      }
      const fees = await this.o.rpc("eth_feeData", () => this.o.provider.getFeeData());
      const nonce = await this.nextNonce();
      const tx = Transaction.from({
        to,
        data,
        nonce,
        chainId: this.o.chainId,
        // 20% headroom: state between the simulation and inclusion may cost a little more (a cold slot).
        gasLimit: (gasEstimate * 12n) / 10n,
        ...(fees.maxFeePerGas !== null && fees.maxPriorityFeePerGas !== null
          ? { type: 2, maxFeePerGas: fees.maxFeePerGas, maxPriorityFeePerGas: fees.maxPriorityFeePerGas }
          : { type: 0, gasPrice: fees.gasPrice ?? 0n }),
      });
      const raw = await this.o.wallet.signTransaction(tx);
      const hash = Transaction.from(raw).hash!;
      this.o.store.recordSubmission(action.id, hash, nonce, raw);
      this.lastNonce = nonce;
      this.o.logger.info({ event: "submission_recorded", action: action.id, kind: action.kind, account: action.account, txHash: hash, nonce }, "submission recorded");
      return { hash, nonce, raw };
    });
  }

  /** Steps 4-5: the random delay, then the private endpoint with the public one as fallback. */
  async broadcast(action: ActionRow, raw: string, { jitter = true } = {}): Promise<void> {
    if (jitter && this.o.jitterMs > 0) {
      const delay = randomInt(0, this.o.jitterMs + 1);
      this.o.logger.debug({ event: "jitter", action: action.id, delayMs: delay }, "waiting before broadcast");
      await sleep(delay, this.o.signal);
      // Shutting down: the recorded transaction is broadcast by the next start's reconciliation.
      if (this.o.signal.aborted) return;
    }
    const send = async (provider: JsonRpcProvider, via: string) => {
      try {
        await provider.send("eth_sendRawTransaction", [raw]);
      } catch (error) {
        // The node already has it (a rebroadcast, or a restart after a send): that is success.
        if (/already known|known transaction|already imported|AlreadyKnown/i.test(describeError(error))) return;
        throw Object.assign(error as object, { via });
      }
    };
    if (this.o.privateProvider) {
      try {
        await send(this.o.privateProvider, "private");
        this.o.metrics.submissions.inc({ kind: action.kind, result: "sent_private" });
        this.o.logger.info({ event: "broadcast", action: action.id, via: "private" }, "sent to the private endpoint");
        return;
      } catch (error) {
        this.o.logger.warn(
          { event: "private_endpoint_failed", action: action.id, error: describeError(error) },
          "the private endpoint failed; falling back to the public RPC (the transaction becomes visible in the public mempool)",
        );
      }
    }
    await this.o.rpc("eth_sendRawTransaction", () => send(this.o.provider, "public"));
    this.o.metrics.submissions.inc({ kind: action.kind, result: "sent" });
    this.o.logger.info({ event: "broadcast", action: action.id, via: "public" }, "sent");
  }

  /** The receipt of `hash` if mined; else whether the node still knows the transaction. */
  async status(hash: string, nonce: number): Promise<SubmissionOutcome> {
    const receipt = await this.o.rpc("eth_getTransactionReceipt", () => this.o.provider.getTransactionReceipt(hash));
    if (receipt) return { result: receipt.status === 1 ? "mined" : "reverted", receipt };
    const known = await this.o.rpc("eth_getTransactionByHash", () => this.o.provider.getTransaction(hash));
    if (known) return { result: "pending" };
    // Unknown and its nonce already used by another transaction: it can never be mined.
    const used = await this.o.rpc("eth_getTransactionCount", () => this.o.provider.getTransactionCount(this.address, "latest"));
    if (used <= nonce) return { result: "unknown" };
    // The nonce moved on: look once more, in case ours was mined between the two reads.
    const again = await this.o.rpc("eth_getTransactionReceipt", () => this.o.provider.getTransactionReceipt(hash));
    if (again) return { result: again.status === 1 ? "mined" : "reverted", receipt: again };
    return { result: "dropped" };
  }

  /** Sends a recorded transaction again, byte for byte (same nonce, same hash). */
  async rebroadcast(action: ActionRow, rawTx: string): Promise<void> {
    this.o.store.countRebroadcast(action.id);
    this.o.metrics.submissions.inc({ kind: action.kind, result: "rebroadcast" });
    this.o.logger.warn(
      { event: "rebroadcast", action: action.id, txHash: action.txHash, nonce: action.nonce },
      "the node does not know the recorded transaction: rebroadcasting it unchanged (same nonce)",
    );
    await this.broadcast(action, rawTx, { jitter: false });
  }

  /**
   * Step 6 for a recorded action: waits for its receipt; a transaction the node no longer knows
   * is rebroadcast unchanged, for as long as its nonce is free. Returns null when shutting down
   * (the row stays `submitted`; the next start reconciles it).
   */
  async settle(action: ActionRow): Promise<SubmissionOutcome | null> {
    const { txHash, nonce, rawTx } = action;
    if (txHash === null || nonce === null || rawTx === null) throw new Error(`action ${action.id} has no recorded transaction`);
    let rebroadcasts = 0;
    let since = Date.now();
    for (;;) {
      if (this.o.signal.aborted) return null;
      const receipt = await this.o.rpc("eth_getTransactionReceipt", () => this.o.provider.getTransactionReceipt(txHash));
      if (receipt) return { result: receipt.status === 1 ? "mined" : "reverted", receipt };
      if (Date.now() - since >= this.o.receiptTimeoutMs) {
        const now = await this.status(txHash, nonce);
        if (now.result === "mined" || now.result === "reverted" || now.result === "dropped") return now;
        if (now.result === "unknown") {
          // Never abandoned while its nonce is free: a new transaction for the action could then
          // land beside this one if it reappeared. Only a transaction that takes the nonce (the
          // operator replacing it, see README) ends it, as "dropped".
          rebroadcasts++;
          if (rebroadcasts > this.o.maxRetries) {
            this.o.logger.error(
              { event: "stuck", action: action.id, txHash, nonce, rebroadcasts },
              "the node keeps losing this transaction; still rebroadcasting it (replace its nonce to abandon it)",
            );
          }
          await this.rebroadcast(action, rawTx);
        }
        since = Date.now();
      }
      await sleep(this.o.receiptPollMs, this.o.signal);
    }
  }
}
