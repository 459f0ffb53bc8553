/**
 * `zks keeper run`: the long-running keeper (README, "Running a keeper"; docs/enforcement.md).
 *
 * Each poll it
 *   1. follows the oracle's MarketPublished and the gate's OpeningEncrypted, FlaggedBelowTrigger,
 *      Liquidated and Rebalanced logs from its SQLite cursor, `confirmations` blocks below the head
 *      (the cursor moves in the same SQLite transaction as the positions those logs changed);
 *   2. loads the latest fresh epoch's market from the operator's feed, only if its root is the
 *      oracle's;
 *   3. decrypts each new opening with the current or a retired keeper key, and evaluates every
 *      position with the risk model (packages/sdk/src/model/check.ts);
 *   4. for a position below the trigger plans a liquidation (packages/sdk/src/liquidation/plan.ts): urgent
 *      (health factor < 1) -> liquidate at once; otherwise flag it, and liquidate once the gate's
 *      grace window has passed;
 *   5. proves with the warm prover and submits (./submitter.ts): recorded before sent, so a
 *      restart never submits an action twice.
 * An RPC outage fails a poll, never the service: calls are retried with capped back-off, the
 * loop logs, waits and polls again.
 */
import { Contract, FetchRequest, getAddress, Interface, JsonRpcProvider, Wallet, type Log } from "ethers";
import { MARKET_ORACLE_ABI, REBALANCE_GATE_ABI, gateArguments, gateContext, UNISWAP_V2_FACTORY_ABI, UNISWAP_V2_PAIR_ABI } from "@zk-solvency/sdk/chain";
import { policyHash } from "@zk-solvency/sdk/commitment";
import { InputError, SetupError, ZksError } from "@zk-solvency/sdk/core";
import { decryptOpening, OpeningDecryptionError, type PublishedOpening, parseKeeperKeyFile, type KeeperKeyPair, type Point } from "@zk-solvency/sdk/encryption";
import { parsePolicy } from "@zk-solvency/sdk/inputs";
import type { Market, Policy, Position } from "@zk-solvency/sdk/inputs";
import { belowTrigger, isUrgent, planLiquidation, type LiquidationPlan, type PoolReserves } from "@zk-solvency/sdk/liquidation";
import { checkPosition } from "@zk-solvency/sdk/model";
import { loadInstanceArtifacts, type InstanceArtifacts, type ProverBackend } from "@zk-solvency/node";
import { readJsonFile, readTextFile, layoutOf } from "@zk-solvency/node";
import type { RebalanceLayout } from "@zk-solvency/sdk/prover";
import { proveTransition } from "@zk-solvency/sdk/workflows";
import { UnprovableError } from "@zk-solvency/sdk/prover";
import { loadInstances } from "@zk-solvency/node/setup";
import { reachRpc } from "../cli/support/chain.ts";
import type { KeeperConfig } from "./config.ts";
import type { Logger } from "./logger.ts";
import { MarketSource } from "./markets.ts";
import { KeeperMetrics } from "./metrics.ts";
import { startKeeperProver, type KeeperProver } from "./prover.ts";
import { backoffDelay, describeError, RpcUnavailableError, sleep, withRetry } from "./retry.ts";
import { KeeperStore, type ActionKind, type ActionRow, type PositionRow } from "./store.ts";
import { SimulationRevertedError, Submitter } from "./submitter.ts";

const LOG_CURSOR = "logs";

export interface KeeperRunOptions {
  /** Process what is there (logs to the head, evaluation, submissions until mined) and return. */
  once?: boolean;
  /** How often to ask for a receipt (default: the poll interval, at most 1 s). */
  receiptPollMs?: number;
  /** How long without a receipt before checking the transaction is still known (default 60 s). */
  receiptTimeoutMs?: number;
  /** Who proves (the CLI's --prover); default ZKS_PROVER, else auto. */
  prover?: ProverBackend;
}

/** The stored opening: bigints as decimal strings (never logged). */
interface OpeningJson {
  account: string;
  nonce: string;
  salt: string;
  collateral: string[];
  debt: string[];
  quantities: string[];
}

function openingToJson(p: Position): string {
  const s = (xs: bigint[]) => xs.map(String);
  const o: OpeningJson = { account: p.account, nonce: String(p.nonce), salt: String(p.salt), collateral: s(p.collateral), debt: s(p.debt), quantities: s(p.quantities) };
  return JSON.stringify(o);
}

/** The opening in `market`'s slots: a market may have appended assets or instruments since (zeros there). */
function openingFromJson(text: string, market: Market): Position {
  const o = JSON.parse(text) as OpeningJson;
  const pad = (xs: string[], n: number) => Array.from({ length: n }, (_, i) => BigInt(xs[i] ?? "0"));
  return {
    version: 1,
    account: getAddress(o.account),
    nonce: BigInt(o.nonce),
    salt: BigInt(o.salt),
    collateral: pad(o.collateral, market.assets.length),
    debt: pad(o.debt, market.assets.length),
    quantities: pad(o.quantities, market.instruments.length),
  };
}

interface PublishedJson {
  ephemeralKey: [string, string];
  ciphertext: string[];
}

interface EpochState {
  epoch: bigint;
  root: bigint;
  market: Market;
  policy: Policy;
  /** When this keeper first saw the epoch (for the epoch-to-submission latency). */
  seenAt: number;
}

/** A simple counting semaphore: at most `permits` proofs at once (the prover's capacity). */
class Semaphore {
  private waiting: (() => void)[] = [];
  constructor(private permits: number) {}
  async acquire(): Promise<() => void> {
    if (this.permits > 0) this.permits--;
    else await new Promise<void>((resolve) => this.waiting.push(resolve));
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiting.shift();
      if (next) next();
      else this.permits++;
    };
  }
}

interface ServiceParts {
  config: KeeperConfig;
  logger: Logger;
  store: KeeperStore;
  metrics: KeeperMetrics;
  abort: AbortController;
  provider: JsonRpcProvider;
  privateProvider: JsonRpcProvider | undefined;
  wallet: Wallet;
  chainId: bigint;
  gate: Contract;
  oracle: Contract;
  keys: KeeperKeyPair[];
  layout: RebalanceLayout;
  policyJson: unknown;
  markets: MarketSource;
  context: bigint;
  options: Required<Omit<KeeperRunOptions, "prover">>;
}

export class KeeperService {
  readonly config: KeeperConfig;
  readonly logger: Logger;
  readonly store: KeeperStore;
  readonly metrics: KeeperMetrics;
  readonly chainId: bigint;
  readonly submitter: Submitter;
  private readonly abort: AbortController;
  private readonly provider: JsonRpcProvider;
  private readonly privateProvider: JsonRpcProvider | undefined;
  private readonly wallet: Wallet;
  private readonly gate: Contract;
  private readonly oracle: Contract;
  private readonly keys: KeeperKeyPair[];
  private readonly layout: RebalanceLayout;
  private readonly policyJson: unknown;
  private readonly markets: MarketSource;
  private readonly context: bigint;
  private readonly options: Required<Omit<KeeperRunOptions, "prover">>;
  private readonly gateInterface = new Interface(REBALANCE_GATE_ABI);
  private readonly oracleInterface = new Interface(MARKET_ORACLE_ABI);
  private readonly tasks = new Set<Promise<void>>();
  /** Accounts with a job or a settlement running (one action per account at a time). */
  private readonly busy = new Set<string>();
  /** account -> the (epoch, commitment) last found above the trigger: not evaluated again until one changes. */
  private readonly healthy = new Map<string, string>();
  private readonly pairs = new Map<string, { pair: Contract; token0: string } | null>();
  /** account -> the (epoch, reason) last logged for "no liquidation plan", so it is logged once. */
  private readonly noPlan = new Map<string, string>();
  private readonly proving: Semaphore;
  private prover: KeeperProver | undefined;
  private epochState: EpochState | undefined;
  private skippedEpoch: string | undefined;
  private evaluatedEpoch: bigint | undefined;
  private metricsServer: { port: number; close(): Promise<void> } | undefined;
  private stopped: Promise<void> | undefined;

  private constructor(parts: ServiceParts) {
    this.config = parts.config;
    this.logger = parts.logger;
    this.store = parts.store;
    this.metrics = parts.metrics;
    this.abort = parts.abort;
    this.provider = parts.provider;
    this.privateProvider = parts.privateProvider;
    this.wallet = parts.wallet;
    this.chainId = parts.chainId;
    this.gate = parts.gate;
    this.oracle = parts.oracle;
    this.keys = parts.keys;
    this.layout = parts.layout;
    this.policyJson = parts.policyJson;
    this.markets = parts.markets;
    this.context = parts.context;
    this.options = parts.options;
    this.proving = new Semaphore(parts.config.provers);
    this.submitter = new Submitter({
      provider: parts.provider,
      ...(parts.privateProvider && { privateProvider: parts.privateProvider }),
      wallet: parts.wallet,
      chainId: parts.chainId,
      store: parts.store,
      logger: parts.logger,
      metrics: parts.metrics,
      jitterMs: parts.config.jitterMs,
      maxRetries: parts.config.maxRetries,
      receiptPollMs: parts.options.receiptPollMs,
      receiptTimeoutMs: parts.options.receiptTimeoutMs,
      rpc: (what, call) => this.rpc(what, call),
      signal: parts.abort.signal,
    });
  }

  get signal(): AbortSignal {
    return this.abort.signal;
  }

  get metricsPort(): number | undefined {
    return this.metricsServer?.port;
  }

  /** An RPC call with retries and back-off; each failed attempt counted and logged. */
  private rpc = <T>(what: string, call: () => Promise<T>): Promise<T> =>
    withRetry(what, call, {
      retries: this.config.maxRetries,
      baseMs: 250,
      capMs: 8_000,
      signal: this.abort.signal,
      onError: (error, attempt, delayMs) => {
        this.metrics.rpcErrors.inc();
        this.logger.warn({ event: "rpc_error", call: what, attempt, retryInMs: delayMs, error: describeError(error) }, "JSON-RPC call failed");
      },
    });

  /**
   * Everything the service needs, checked before the first poll: bad configuration, key files,
   * a key that is not the gate's or a gate that is not one is InputError (exit 2); an endpoint
   * that does not answer, a missing build or signer key is SetupError (exit 3).
   */
  static async start(config: KeeperConfig, logger: Logger, runOptions: KeeperRunOptions = {}): Promise<KeeperService> {
    const keys = [config.keeperKeyFile, ...config.retiredKeyFiles].map(readKeyFile);
    const policyJson = readJsonFile(config.policy);
    const signerKey = process.env[config.signerKeyEnv];
    if (!signerKey)
      throw new SetupError(`${config.source}: signerKeyEnv: the environment variable ${config.signerKeyEnv} is not set (the submitting account's private key, 0x + 64 hex digits)`);
    let wallet: Wallet;
    try {
      wallet = new Wallet(signerKey);
    } catch {
      throw new SetupError(`${config.source}: signerKeyEnv: ${config.signerKeyEnv} does not hold a 32-byte hex private key`);
    }

    const chainId = await reachRpc(config.rpcUrl);
    if (config.chainId !== undefined && config.chainId !== chainId) {
      throw new InputError(config.deployment ?? config.source, "chainId", `the deployment is on chain ${config.chainId}, but ${config.rpcUrl} is chain ${chainId}`);
    }
    const provider = jsonRpc(config.rpcUrl, chainId);
    const privateProvider = config.privateRpcUrl === undefined ? undefined : jsonRpc(config.privateRpcUrl, chainId);
    let service: KeeperService;
    let artifacts: InstanceArtifacts;
    let store: KeeperStore;
    try {
      const setupFailure = (what: string) => (error: unknown) => {
        if (error instanceof ZksError) throw error;
        throw new SetupError(`the JSON-RPC endpoint ${config.rpcUrl} failed while ${what}: ${describeError(error)}`);
      };
      const gate = new Contract(config.gate, REBALANCE_GATE_ABI, provider);
      const oracle = new Contract(config.oracle, MARKET_ORACLE_ABI, provider);
      const onChain = await (async () => {
        for (const [address, name] of [
          [config.gate, "gate"],
          [config.oracle, "oracle"],
        ] as const) {
          if ((await provider.getCode(address)) === "0x") throw new InputError(config.source, name, `no contract at ${address} on chain ${chainId}`);
        }
        const call = async <T>(contract: Contract, fn: string, field: string): Promise<T> => {
          try {
            return (await contract.getFunction(fn)()) as T;
          } catch (error) {
            const code = (error as { code?: string }).code;
            if (code === "CALL_EXCEPTION" || code === "BAD_DATA")
              throw new InputError(config.source, field, `${await contract.getAddress()} has no ${fn}(): not a RebalanceGate with keeper keys`);
            throw error;
          }
        };
        const [gateOracle, key, nAssets, nInstruments, nSwaps, signalCount] = await Promise.all([
          call<string>(gate, "oracle", "gate"),
          call<[bigint, bigint]>(gate, "keeperKey", "gate"),
          call<bigint>(gate, "nAssets", "gate"),
          call<bigint>(gate, "nInstruments", "gate"),
          call<bigint>(gate, "nSwaps", "gate"),
          call<bigint>(gate, "rebalanceSignalCount", "gate"),
        ]);
        return {
          gateOracle: getAddress(gateOracle),
          key: [key[0], key[1]] as Point,
          nAssets: Number(nAssets),
          nInstruments: Number(nInstruments),
          nSwaps: Number(nSwaps),
          signalCount: Number(signalCount),
        };
      })().catch(setupFailure("reading the gate"));

      if (onChain.gateOracle !== config.oracle) throw new InputError(config.source, "oracle", `${config.oracle} is not the gate's oracle (the gate reads ${onChain.gateOracle})`);
      const current = keys[0]!;
      if (current.publicKey[0] !== onChain.key[0] || current.publicKey[1] !== onChain.key[1]) {
        const held = keys.slice(1).some((k) => k.publicKey[0] === onChain.key[0] && k.publicKey[1] === onChain.key[1]);
        throw new InputError(
          config.keeperKeyFile,
          "publicKey",
          held
            ? `is not the gate's current keeper key; the gate's key is one of retiredKeyFiles: swap them in the configuration`
            : `is not the gate's keeper key (the gate ${config.gate} holds (${onChain.key[0]}, ${onChain.key[1]})): wrong key file, or the key was rotated`,
        );
      }

      // The instance: the configured one, else the one whose layout the gate's verifier takes.
      const candidates = loadInstances().filter((i) => i.template === "Rebalance");
      const matches = (i: (typeof candidates)[number]) => {
        const l = layoutOf(i);
        return l.nAssets === onChain.nAssets && l.nInstruments === onChain.nInstruments && l.nSwaps === onChain.nSwaps && i.publicSignals.length === onChain.signalCount;
      };
      const instance = config.instance === undefined ? candidates.find(matches) : candidates.find((i) => i.name === config.instance);
      if (config.instance !== undefined && instance === undefined)
        throw new InputError(config.source, "instance", `no Rebalance instance "${config.instance}" in circuits/instances.json`);
      if (instance === undefined)
        throw new SetupError(
          `no Rebalance instance in circuits/instances.json has the gate's layout (${onChain.nAssets} assets, ${onChain.nInstruments} instruments, ${onChain.nSwaps} swaps, ${onChain.signalCount} signals)`,
        );
      if (!matches(instance)) {
        throw new InputError(
          config.source,
          "instance",
          `${instance.name} does not fit the gate (the gate takes ${onChain.nAssets} assets, ${onChain.nInstruments} instruments, ${onChain.nSwaps} swaps, ${onChain.signalCount} public signals)`,
        );
      }
      artifacts = loadInstanceArtifacts(instance.name);
      const layout = layoutOf(instance);

      store = KeeperStore.open(config.database, { chainId, gate: config.gate });
      const options: Required<Omit<KeeperRunOptions, "prover">> = {
        once: runOptions.once ?? false,
        receiptPollMs: runOptions.receiptPollMs ?? Math.min(config.pollIntervalMs, 1_000),
        receiptTimeoutMs: runOptions.receiptTimeoutMs ?? 60_000,
      };
      service = new KeeperService({
        config,
        logger,
        store,
        metrics: new KeeperMetrics(),
        abort: new AbortController(),
        provider,
        privateProvider,
        wallet,
        chainId,
        gate,
        oracle,
        keys,
        layout,
        policyJson,
        markets: new MarketSource(config.market, layout),
        context: gateContext(chainId, config.gate),
        options,
      });
    } catch (error) {
      provider.destroy();
      privateProvider?.destroy();
      throw error;
    }
    try {
      service.metricsServer = await service.metrics.serve(config.metricsPort);
      service.prover = await startKeeperProver(artifacts, config.provers, runOptions.prover);
      logger.info(
        {
          event: "started",
          chainId,
          gate: config.gate,
          oracle: config.oracle,
          keeper: wallet.address,
          instance: artifacts.instance,
          prover: service.prover.backend,
          metrics: `http://127.0.0.1:${service.metricsServer.port}/metrics`,
          database: config.database,
          privateEndpoint: config.privateRpcUrl !== undefined,
          keys: keys.length,
        },
        "keeper started",
      );
      return service;
    } catch (error) {
      await service.metricsServer?.close();
      await service.prover?.close();
      store.close();
      provider.destroy();
      privateProvider?.destroy();
      throw error;
    }
  }

  /** Asks the service to stop: polling ends, in-flight work finishes or is checkpointed. */
  stop(reason: string): void {
    if (this.abort.signal.aborted) return;
    this.logger.info({ event: "stopping", reason }, "stopping: finishing or checkpointing the action in flight");
    this.abort.abort();
  }

  /** The service loop; resolves once stopped (or after one pass with `once`) and everything is closed. */
  async run(): Promise<void> {
    try {
      await this.reconcile();
      let failures = 0;
      while (!this.abort.signal.aborted) {
        try {
          await this.tick();
          failures = 0;
        } catch (error) {
          if (!(error instanceof RpcUnavailableError)) throw error;
          failures++;
          const wait = backoffDelay(failures, this.config.pollIntervalMs, 60_000);
          this.logger.error(
            { event: "poll_failed", error: error.message, consecutiveFailures: failures, retryInMs: wait },
            "poll failed: the JSON-RPC endpoint is unavailable; the keeper keeps running",
          );
          if (this.options.once) throw error;
          await sleep(wait, this.abort.signal);
          continue;
        }
        if (this.options.once) break;
        await sleep(this.config.pollIntervalMs, this.abort.signal);
      }
      await this.drain();
    } finally {
      await this.close();
    }
  }

  /** Waits for the jobs and settlements started so far. */
  async drain(): Promise<void> {
    while (this.tasks.size > 0) await Promise.allSettled([...this.tasks]);
  }

  private async close(): Promise<void> {
    if (this.stopped) return this.stopped;
    this.stopped = (async () => {
      await this.drain();
      await this.prover?.close();
      await this.metricsServer?.close();
      this.provider.destroy();
      this.privateProvider?.destroy();
      const integrity = this.store.integrityCheck();
      this.store.close();
      this.logger.info({ event: "stopped", database: this.config.database, integrity }, "database closed; keeper stopped");
    })();
    return this.stopped;
  }

  private spawn(work: () => Promise<void>): void {
    const task = work().catch((error: unknown) => {
      this.logger.error({ event: "job_crashed", error: describeError(error) }, "a keeper job failed unexpectedly");
    });
    this.tasks.add(task);
    void task.finally(() => this.tasks.delete(task));
  }

  // --- start-up reconciliation -----------------------------------------------------------------

  /**
   * Actions the last run left behind: `submitted` ones are settled by receipt (mined, reverted,
   * or rebroadcast unchanged when the node does not know them); `proving` ones were interrupted
   * before anything was signed and are planned again.
   */
  private async reconcile(): Promise<void> {
    for (const action of this.store.actions("proving")) this.store.checkpoint(action.id);
    const retry = this.store.clearDecryptErrors();
    if (retry > 0) this.logger.info({ event: "decrypt_retry", positions: retry }, "positions no key decrypted last run are tried again with this run's keys");
    this.resumeSubmitted();
  }

  /** Settles every `submitted` action nobody is settling (after a restart, or a job cut short by an outage). */
  private resumeSubmitted(): void {
    for (const action of this.store.actions("submitted")) {
      if (this.busy.has(action.account)) continue;
      this.busy.add(action.account);
      this.spawn(async () => {
        try {
          const status = await this.submitter.status(action.txHash!, action.nonce!);
          this.logger.info(
            { event: "reconcile", action: action.id, kind: action.kind, account: action.account, txHash: action.txHash, nonce: action.nonce, status: status.result },
            "settling a recorded submission",
          );
          if (status.result === "unknown") await this.submitter.rebroadcast(action, action.rawTx!);
          await this.finish(action, status.result === "unknown" || status.result === "pending" ? await this.submitter.settle(action) : status);
        } finally {
          this.busy.delete(action.account);
        }
      });
    }
  }

  // --- one poll ---------------------------------------------------------------------------------

  private async tick(): Promise<void> {
    const head = await this.rpc("eth_blockNumber", () => this.provider.getBlockNumber());
    const safe = head - this.config.confirmations;
    await this.ingest(safe);
    this.resumeSubmitted();
    this.metrics.positionsTracked.set(this.store.counts().positions);

    const latest = await this.rpc("latestEpoch", async () => (await this.oracle.getFunction("latestEpoch")()) as bigint);
    if (latest === 0n) return;
    const [root, , fresh] = await this.rpc("marketOf", async () => (await this.oracle.getFunction("marketOf")(latest)) as [bigint, bigint, boolean]);
    if (!fresh) {
      this.skipEpoch(latest, "stale", "the oracle's latest epoch is stale (outside its freshness window): the gate accepts no proof until the next epoch");
      return;
    }
    if (this.epochState?.epoch !== latest || this.epochState.root !== root) {
      const found = this.markets.lookup(latest, root);
      if (found.market === null) {
        this.skipEpoch(latest, "market", `no usable market for epoch ${latest}: ${found.problem}`);
        return;
      }
      let policy: Policy;
      try {
        policy = parsePolicy(this.policyJson, this.config.policy, found.market);
      } catch (error) {
        this.skipEpoch(latest, "policy", describeError(error));
        return;
      }
      this.epochState = { epoch: latest, root, market: found.market, policy, seenAt: Date.now() };
      this.logger.info({ event: "epoch", epoch: latest, marketRoot: root, file: found.file }, "new epoch: evaluating every position");
    }
    await this.evaluateAll(this.epochState);
  }

  private skipEpoch(epoch: bigint, kind: string, message: string): void {
    const key = `${epoch}:${kind}`;
    if (this.skippedEpoch === key) return;
    this.skippedEpoch = key;
    this.logger.warn({ event: "epoch_skipped", epoch, reason: kind }, message);
  }

  /** Logs up to `safe`, in chunks; each chunk's effects and the cursor in one SQLite transaction. */
  private async ingest(safe: number): Promise<boolean> {
    let cursor = this.store.cursor(LOG_CURSOR) ?? this.config.fromBlock - 1;
    let changed = false;
    while (cursor < safe && !this.abort.signal.aborted) {
      const from = cursor + 1;
      const to = Math.min(safe, from + this.config.logChunkBlocks - 1);
      const logs = await this.rpc("eth_getLogs", () => this.provider.getLogs({ address: [this.config.gate, this.config.oracle], fromBlock: from, toBlock: to }));
      logs.sort((a, b) => a.blockNumber - b.blockNumber || a.index - b.index);
      // Reads the chunk needs (block times of flags) happen before the SQLite transaction.
      const flagTimes = new Map<number, bigint>();
      for (const log of logs) {
        if (this.parseGate(log)?.name === "FlaggedBelowTrigger" && !flagTimes.has(log.blockNumber)) {
          const block = await this.rpc("eth_getBlockByNumber", () => this.provider.getBlock(log.blockNumber));
          flagTimes.set(log.blockNumber, BigInt(block!.timestamp));
        }
      }
      this.store.transaction(() => {
        for (const log of logs) changed = this.apply(log, flagTimes) || changed;
        this.store.setCursor(LOG_CURSOR, to);
      });
      cursor = to;
      this.metrics.lastBlock.set(to);
    }
    return changed;
  }

  private parseGate(log: Log) {
    if (log.address.toLowerCase() !== this.config.gate.toLowerCase()) return null;
    try {
      return this.gateInterface.parseLog(log);
    } catch {
      return null;
    }
  }

  /** One log's effect on the database (inside the chunk's transaction); true when a position changed. */
  private apply(log: Log, flagTimes: Map<number, bigint>): boolean {
    if (log.address.toLowerCase() === this.config.oracle.toLowerCase()) {
      const parsed = this.oracleInterface.parseLog(log);
      if (parsed?.name === "MarketPublished")
        this.logger.info({ event: "market_published", epoch: parsed.args.epoch, marketRoot: parsed.args.marketRoot, block: log.blockNumber }, "the oracle published an epoch");
      return false;
    }
    const parsed = this.parseGate(log);
    if (!parsed) return false;
    const a = parsed.args;
    switch (parsed.name) {
      case "OpeningEncrypted": {
        const published: PublishedJson = { ephemeralKey: [String(a.ephemeralKey[0]), String(a.ephemeralKey[1])], ciphertext: (a.ciphertext as bigint[]).map(String) };
        this.store.putPublished(a.account, a.nonce, a.commitment, a.keyGeneration, JSON.stringify(published), log.blockNumber);
        this.logger.info(
          { event: "opening_published", account: a.account, nonce: a.nonce, commitment: a.commitment, keyGeneration: a.keyGeneration, block: log.blockNumber },
          "a position committed; its opening is encrypted to the keeper key",
        );
        return true;
      }
      case "FlaggedBelowTrigger":
        this.store.setFlag(a.account, a.commitment, flagTimes.get(log.blockNumber)!);
        this.logger.info(
          { event: "flagged", account: a.account, commitment: a.commitment, epoch: a.epoch, liquidatableAt: a.liquidatableAt },
          "the gate flagged a position below the trigger",
        );
        return true;
      case "Liquidated":
        this.logger.info(
          {
            event: "liquidated",
            account: a.account,
            liquidator: a.liquidator,
            newCommitment: a.newCommitment,
            epoch: a.epoch,
            urgent: a.urgent,
            ours: getAddress(a.liquidator) === this.wallet.address,
          },
          "a position was liquidated",
        );
        return true;
      case "Rebalanced":
        this.logger.debug({ event: "rebalanced", account: a.account, newCommitment: a.newCommitment, forced: a.forced }, "a position was rebalanced");
        return false;
      case "KeeperKeyRotated": {
        const held = this.keys.some((k) => k.publicKey[0] === a.x && k.publicKey[1] === a.y);
        if (held) this.logger.info({ event: "key_rotated", generation: a.generation }, "the gate rotated to a keeper key this keeper holds");
        else
          this.logger.error(
            { event: "key_rotated", generation: a.generation },
            "the gate rotated to a keeper key this keeper does not hold: new openings will not decrypt; restart with the new keeperKeyFile (the old one under retiredKeyFiles)",
          );
        return false;
      }
      default:
        return false;
    }
  }

  // --- evaluation -------------------------------------------------------------------------------

  /** Decrypts the row's opening with the current or a retired key; null (and counted) when none opens it. */
  private decrypt(row: PositionRow, market: Market): Position | null {
    if (row.openingJson !== null) return openingFromJson(row.openingJson, market);
    if (row.publishedJson === null || row.decryptError !== null) return null;
    const p = JSON.parse(row.publishedJson) as PublishedJson;
    const published: PublishedOpening = {
      account: getAddress(row.account),
      nonce: row.nonce,
      commitment: row.commitment,
      ephemeralKey: [BigInt(p.ephemeralKey[0]), BigInt(p.ephemeralKey[1])],
      ciphertext: p.ciphertext.map(BigInt),
    };
    const problems: string[] = [];
    for (const key of this.keys) {
      try {
        const position = decryptOpening(published, key.secret, market, this.layout);
        this.store.setOpening(row.account, row.commitment, openingToJson(position));
        return position;
      } catch (error) {
        if (!(error instanceof OpeningDecryptionError || error instanceof InputError)) throw error;
        problems.push(error.message);
      }
    }
    const message = `no configured keeper key decrypts it (key generation ${row.keyGeneration}): ${problems[0] ?? "no keys"}`;
    this.store.setDecryptError(row.account, row.commitment, message);
    this.metrics.decryptFailures.inc();
    this.logger.warn({ event: "decrypt_failed", account: row.account, commitment: row.commitment, keyGeneration: row.keyGeneration }, message);
    return null;
  }

  private async evaluateAll(state: EpochState): Promise<void> {
    const { market, policy, epoch } = state;
    const expectedPolicy = await this.rpc("policyHash", async () => (await this.gate.getFunction("policyHash")()) as bigint);
    if (policyHash(policy) !== expectedPolicy) {
      this.skipEpoch(epoch, "policyHash", `${this.config.policy}'s hash is not the gate's policyHash ${expectedPolicy}: the gate would refuse every proof; update the policy file`);
      return;
    }
    let block: { timestamp: number } | null = null;
    const candidates: { row: PositionRow; position: Position; urgent: boolean }[] = [];
    const started = performance.now();
    let evaluated = 0;
    const rows = this.store.positions();
    for (const row of rows) {
      if (this.abort.signal.aborted) return;
      const mark = `${epoch}:${row.commitment}`;
      if (this.healthy.get(row.account) === mark || this.busy.has(row.account)) continue;
      const position = this.decrypt(row, market);
      if (position === null) continue;
      let report;
      try {
        report = checkPosition(position, market, policy);
      } catch (error) {
        this.logger.warn({ event: "evaluation_failed", account: row.account, error: describeError(error) }, "the model cannot evaluate this position under this market");
        this.healthy.set(row.account, mark);
        continue;
      }
      this.metrics.positionsEvaluated.inc();
      evaluated++;
      if (!belowTrigger(report.healthFactor, policy)) {
        this.healthy.set(row.account, mark);
        continue;
      }
      candidates.push({ row, position, urgent: isUrgent(report.healthFactor) });
    }
    if (evaluated > 0) {
      // Info once per epoch (the pass over every position), debug for the re-checks of positions below the trigger.
      const first = this.evaluatedEpoch !== epoch;
      this.evaluatedEpoch = epoch;
      this.logger[first ? "info" : "debug"](
        { event: "evaluated", epoch, positions: rows.length, evaluated, belowTrigger: candidates.length, ms: Number((performance.now() - started).toFixed(1)) },
        `evaluated ${evaluated} positions with the model`,
      );
    }
    if (candidates.length === 0) return;

    for (const { row, position, urgent } of candidates) {
      let kind: ActionKind;
      if (urgent) kind = "liquidate";
      else {
        // The gate's flag is the truth: it stores when the flag becomes usable and when it lapses
        // (FLAG_LIFETIME), whatever the window is now and whoever set it.
        const [flagged, , liquidatableAt, expiresAt] = await this.rpc(
          "flagOf",
          async () => (await this.gate.getFunction("flagOf")(row.account)) as [bigint, bigint, bigint, bigint],
        );
        if (flagged !== row.commitment || liquidatableAt === 0n) kind = "flag";
        else {
          block ??= await this.rpc("eth_getBlockByNumber", () => this.provider.getBlock("latest"));
          const now = BigInt(block!.timestamp);
          if (now >= expiresAt) {
            // liquidate would revert FlagExpired; this commitment's flag action is spent (one per
            // commitment), so the position waits for the owner's next transition or HF < 1.0.
            this.logger.warn({ event: "flag_expired", account: row.account, expiredAt: expiresAt }, "the flag lapsed before a liquidation; not flagging the same commitment twice");
            continue;
          }
          if (now < liquidatableAt) {
            this.logger.debug({ event: "grace_window", account: row.account, liquidatableAt }, "flagged; waiting for the grace window");
            continue;
          }
          kind = "liquidate";
        }
      }
      const existing = this.store.action(row.account, row.commitment, kind);
      if (existing && !this.retryable(existing)) continue;
      this.busy.add(row.account);
      this.spawn(() => this.act(kind, row, position, state).finally(() => this.busy.delete(row.account)));
    }
  }

  /** Whether an existing action may be attempted (again). */
  private retryable(action: ActionRow): boolean {
    if (action.state === "planned" || action.state === "proving") return true;
    if (action.state === "failed") return action.attempts <= this.config.maxRetries;
    return false; // submitted (being settled) or mined (done)
  }

  /** The Uniswap v2 reserves of every pair of the market's assets that has a pool. */
  private async readPools(market: Market): Promise<PoolReserves[]> {
    const factoryAddress = await this.rpc("factory", async () => (await this.gate.getFunction("factory")()) as string);
    const factory = new Contract(factoryAddress, UNISWAP_V2_FACTORY_ABI, this.provider);
    const tokens: string[] = [];
    for (let i = 0; i < market.assets.length; i++) tokens.push(await this.rpc("tokenOf", async () => (await this.gate.getFunction("tokenOf")(i)) as string));
    const pools: PoolReserves[] = [];
    for (let a = 0; a < tokens.length; a++) {
      for (let b = a + 1; b < tokens.length; b++) {
        if (BigInt(tokens[a]!) === 0n || BigInt(tokens[b]!) === 0n) continue;
        const key = `${tokens[a]}:${tokens[b]}`;
        if (!this.pairs.has(key) || this.pairs.get(key) === null) {
          const address = await this.rpc("getPair", async () => (await factory.getFunction("getPair")(tokens[a], tokens[b])) as string);
          if (BigInt(address) === 0n) {
            this.pairs.set(key, null);
            continue;
          }
          const pair = new Contract(address, UNISWAP_V2_PAIR_ABI, this.provider);
          const token0 = await this.rpc("token0", async () => (await pair.getFunction("token0")()) as string);
          this.pairs.set(key, { pair, token0: getAddress(token0) });
        }
        const entry = this.pairs.get(key)!;
        const [r0, r1] = await this.rpc("getReserves", async () => (await entry.pair.getFunction("getReserves")()) as [bigint, bigint, bigint]);
        const aIsToken0 = getAddress(tokens[a]!) === entry.token0;
        pools.push({ assets: [a, b], reserves: aIsToken0 ? [r0, r1] : [r1, r0] });
      }
    }
    return pools;
  }

  // --- acting -----------------------------------------------------------------------------------

  /** The liquidation plan against the current pools and bonus; null (logged once per epoch and reason) when there is none. */
  private async plan(position: Position, state: EpochState): Promise<LiquidationPlan | null> {
    const bonusBps = await this.rpc("liquidationBonus", async () => (await this.gate.getFunction("liquidationBonus")()) as bigint);
    const pools = await this.readPools(state.market);
    let plan;
    try {
      plan = planLiquidation(position, state.market, state.policy, pools, { liquidator: this.wallet.address, bonusBps, swapSlots: this.layout.nSwaps ?? 2 });
    } catch (error) {
      this.logger.error({ event: "plan_failed", account: position.account, error: describeError(error) }, "the liquidation planner failed on this position");
      return null;
    }
    if (plan.kind === "none") {
      const key = `${state.epoch}:${plan.reason}`;
      if (this.noPlan.get(position.account) !== key) {
        this.noPlan.set(position.account, key);
        this.logger.warn({ event: "no_plan", account: position.account, epoch: state.epoch, reason: plan.reason }, plan.message);
      }
      return null;
    }
    this.noPlan.delete(position.account);
    return plan;
  }

  /** Proves, records, submits and settles one action. */
  private async act(kind: ActionKind, row: PositionRow, position: Position, state: EpochState): Promise<void> {
    const release = await this.proving.acquire();
    let recorded: { raw: string } | undefined;
    let action: ActionRow | undefined;
    try {
      if (this.abort.signal.aborted) return;
      // Planned now, with the pools as they are when the prover is free: a plan made while
      // another proof ran would carry stale minOuts (the gate reverts below them).
      const plan = await this.plan(position, state);
      if (plan === null) return;
      action = this.store.claimAction(row.account, row.commitment, kind, state.epoch);
      if (!this.retryable(action) || !this.store.startProving(action.id, state.epoch)) return;
      action = this.store.actionById(action.id);
      const keeperKey = await this.rpc("keeperKey", async () => (await this.gate.getFunction("keeperKey")()) as [bigint, bigint]);
      const log = { action: action.id, kind, account: row.account, commitment: row.commitment, epoch: state.epoch, urgent: plan.urgent, closed: plan.closed };
      this.logger.info({ event: "proving", ...log, plan: plan.explanation }, `proving a ${kind === "flag" ? "flag" : "liquidation"}`);
      const started = performance.now();
      let proof;
      try {
        // The rebalance workflow's witness and proof step (proveTransition), with the keeper's warm prover.
        const prover = this.prover!;
        proof = await proveTransition(
          plan.transition,
          state.market,
          state.policy,
          { layout: this.layout, prove: (signals) => prover.prove(signals) },
          { source: row.account, context: this.context, keeperKey: [keeperKey[0], keeperKey[1]] },
        );
      } catch (error) {
        if (error instanceof UnprovableError) {
          this.store.markFailed(action.id, `unprovable: ${error.message}`);
          this.logger.error({ event: "unprovable", ...log, error: error.message }, "the circuit refused the planned transition");
          return;
        }
        throw error;
      }
      const seconds = (performance.now() - started) / 1000;
      this.metrics.proofs.inc({ kind });
      this.metrics.proofSeconds.observe(seconds);
      if (this.abort.signal.aborted) {
        // Nothing signed yet: the next start plans and proves again.
        this.store.checkpoint(action.id);
        return;
      }
      const { proof: p, signals: publicSignals } = gateArguments(proof);
      const data = this.gateInterface.encodeFunctionData(kind === "flag" ? "flagBelowTrigger" : "liquidate", [state.epoch, p, publicSignals]);
      try {
        const signed = await this.submitter.signAndRecord(action, this.config.gate, data);
        recorded = signed;
        this.logger.info({ event: "proved", ...log, proofSeconds: Number(seconds.toFixed(2)), txHash: signed.hash, nonce: signed.nonce }, "proved; submission recorded");
      } catch (error) {
        if (error instanceof SimulationRevertedError) {
          this.store.markFailed(action.id, error.message);
          this.metrics.submissions.inc({ kind, result: "refused" });
          this.logger.warn({ event: "refused", ...log, reason: error.reason }, "the gate would refuse it; not sent");
          return;
        }
        throw error;
      }
    } catch (error) {
      if (action && !recorded && this.store.isOpen && this.store.actionById(action.id).state === "proving") {
        // An outage is no fault of the action: planned again, not counted against it.
        if (error instanceof RpcUnavailableError) this.store.checkpoint(action.id);
        else this.store.markFailed(action.id, describeError(error));
      }
      throw error;
    } finally {
      release();
    }
    action = this.store.actionById(action!.id);
    try {
      await this.submitter.broadcast(action, recorded.raw);
      if (this.abort.signal.aborted) return; // recorded: reconciled by the next start
      this.logger.info({ event: "submitted", action: action.id, kind, account: row.account, txHash: action.txHash, sinceEpochMs: Date.now() - state.seenAt }, "submitted");
      await this.finish(action, await this.submitter.settle(action));
    } catch (error) {
      // Recorded, so nothing is lost: the row stays `submitted` and a later poll settles it
      // (rebroadcast while its nonce is free, failed once another transaction took the nonce).
      const outage = error instanceof RpcUnavailableError;
      this.logger[outage ? "warn" : "error"](
        { event: "settle_deferred", action: action.id, txHash: action.txHash, error: describeError(error) },
        "sending or settling the recorded transaction failed; a later poll rebroadcasts or settles it",
      );
    }
  }

  /** Records how a submitted action ended. */
  private async finish(action: ActionRow, outcome: Awaited<ReturnType<Submitter["settle"]>>): Promise<void> {
    if (outcome === null) return; // shutting down: stays `submitted`, reconciled on restart
    const log = { action: action.id, kind: action.kind, account: action.account, txHash: action.txHash };
    if (outcome.result === "mined") {
      this.store.markMined(action.id);
      this.metrics.submissions.inc({ kind: action.kind, result: "mined" });
      this.logger.info(
        { event: "mined", ...log, block: outcome.receipt.blockNumber, gasUsed: outcome.receipt.gasUsed },
        `${action.kind === "flag" ? "flag" : "liquidation"} mined`,
      );
    } else if (outcome.result === "reverted") {
      this.store.markFailed(action.id, `reverted in block ${outcome.receipt.blockNumber}`);
      this.metrics.submissions.inc({ kind: action.kind, result: "reverted" });
      this.logger.error({ event: "reverted", ...log, block: outcome.receipt.blockNumber }, "the transaction reverted");
    } else if (outcome.result === "dropped") {
      this.store.markFailed(action.id, "dropped: the transaction never landed and its nonce was used or its rebroadcasts ran out");
      this.metrics.submissions.inc({ kind: action.kind, result: "dropped" });
      this.logger.error({ event: "dropped", ...log }, "the transaction was dropped");
    }
  }
}

/** A JSON-RPC provider with a per-request timeout (ethers' default waits five minutes). */
function jsonRpc(url: string, chainId: bigint): JsonRpcProvider {
  const request = new FetchRequest(url);
  request.timeout = 20_000;
  return new JsonRpcProvider(request, chainId, { staticNetwork: true, batchMaxCount: 1, pollingInterval: 1_000 });
}

function readKeyFile(file: string): KeeperKeyPair {
  return parseKeeperKeyFile(readTextFile(file), file);
}
