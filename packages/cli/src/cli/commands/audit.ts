import { keySourceLabel, type KeySource } from "@zk-solvency/node/setup";
import cliProgress from "cli-progress";
import type { Command } from "commander";
import { formatUnits, getAddress } from "ethers";
import { z } from "zod";
import { formatHuman, InputError, SetupError, ZksError, QUANTITY_DECIMALS } from "@zk-solvency/sdk/core";
import {
  inclusionFileJson,
  parseInclusionFile,
  type AuditChain,
  type AuditKeyRecords,
  checkAgainstGate,
  checkBookAgainstGate,
  type CompletenessVerdict,
  type DeploymentPins,
  type GateSnapshot,
  addFigures,
  AuditTreeError,
  buildSumTree,
  type AuditFigures,
  type CrowdingStatements,
} from "@zk-solvency/sdk/audit";
import {
  auditShape,
  accountFigures,
  readGateSnapshot,
  checkInclusion,
  inclusionFile,
  AggregateStatementsError,
  aggregateStatements,
  toQuoteUnits,
  syntheticBook,
  AuditVerificationError,
  verifyAudit,
  CrowdingError,
  crowdingStatements,
} from "@zk-solvency/sdk/audit";
import { marketRoot as marketRootOf } from "@zk-solvency/sdk/commitment";
import type { Market } from "@zk-solvency/sdk/inputs";
import { positionToJson } from "@zk-solvency/sdk/inputs";
import { developmentKeys, loadAuditKeys, readAuditReport, readLeaves, writeAuditDir, readBook, readJsonFile, writeFileSafely } from "@zk-solvency/node";
import {
  AUDIT_INSTANCES,
  CROWDING_AUDIT_INSTANCES,
  readLiquidityFile,
  auditLayout,
  checkQueueName,
  checkQueueReachable,
  parseQueueUrl,
  resolveQueueUrl,
  removeAuditJobs,
  runAudit,
  runQueuedAudit,
  startAuditWorker,
  type AuditProgress,
  type AuditRun,
  type QueuedAuditRun,
} from "@zk-solvency/node";
import { loadMarketFile, loadPolicyFile, loadPositionFile } from "../load-inputs.ts";
import { EXIT, printJson } from "../output.ts";
import { addressFlag, integerFlag, provider as rpcProvider, reachRpc, rpcUrlFlag } from "../support/chain.ts";
import { PROVER_FLAG_HELP, proverFromFlag } from "../support/prover-flag.ts";

interface ProveFlags extends ChainFlags {
  crowding?: boolean;
  liquidity?: string;
  positions: string;
  market: string;
  policy: string;
  out: string;
  tier: string;
  workers?: string;
  prover?: string;
  queue?: string;
  queueName: string;
  keepJobs?: boolean;
  json?: boolean;
}

/** --rpc, --gate or --deployment, --block, --from-block, --allow-epoch: the gate state an audit is checked against. */
interface ChainFlags {
  rpc?: string;
  gate?: string;
  deployment?: string;
  block?: string;
  fromBlock?: string;
  allowEpoch?: string;
}

const nullableAddress = z.string().transform((text, ctx) => {
  try {
    return /^0x0*$/i.test(text) ? null : getAddress(text);
  } catch {
    ctx.addIssue({ code: z.ZodIssueCode.custom, message: `not an address: "${text}"` });
    return z.NEVER;
  }
});
const slotList = z
  .array(z.object({ slot: z.number().int().nonnegative(), address: nullableAddress }))
  .transform((list) => [...list].sort((a, b) => a.slot - b.slot).map((t) => t.address));
/** The parts of a deployments file (`zks deploy`, deployStack) that pin the gate and what it must use. */
const deploymentSchema = z.object({
  network: z.string(),
  chainId: z.string().regex(/^\d+$/, "expected a decimal string"),
  contracts: z.object({ RebalanceGate: nullableAddress, MarketOracle: nullableAddress }),
  tokens: slotList,
  lenders: slotList.optional(),
  instrumentTokens: slotList.optional(),
});

/** A deployments file's gate, and what its oracle, tokens and lenders must be (exit 2 naming the field when it is not one). */
function readDeploymentPins(file: string): DeploymentPins & { gate: string } {
  const parsed = deploymentSchema.safeParse(readJsonFile(file));
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new InputError(file, issue.path.join("."), `${issue.message} (not a deployments file written by \`zks deploy\`?)`);
  }
  const d = parsed.data;
  if (d.network === "in-process") throw new InputError(file, "network", "an in-process deployment is a dry run whose chain ended with it");
  if (d.contracts.RebalanceGate === null) throw new InputError(file, "contracts.RebalanceGate", "the zero address");
  if (d.contracts.MarketOracle === null) throw new InputError(file, "contracts.MarketOracle", "the zero address");
  return {
    source: file,
    gate: d.contracts.RebalanceGate,
    chainId: BigInt(d.chainId),
    oracle: d.contracts.MarketOracle,
    tokens: d.tokens,
    // Files from before lenders and option tokens: none pinned means none at the gate.
    lenders: d.lenders ?? d.tokens.map(() => null),
    instrumentTokens: d.instrumentTokens ?? [],
  };
}

/** --allow-epoch: an epoch the user accepts although it is not the oracle's latest fresh one. */
function allowEpochFlag(flags: ChainFlags): number | undefined {
  return flags.allowEpoch === undefined ? undefined : Number(integerFlag("--allow-epoch", flags.allowEpoch, 2n ** 64n - 1n));
}

/**
 * The gate's state at the block the flags (or the audit's record) name, read over JSON-RPC.
 * Unreachable endpoints and failed reads end in one line, exit 3; bad flags exit 2.
 */
async function gateSnapshotFromFlags(
  flags: ChainFlags,
  recorded: AuditChain | undefined,
  epoch: number,
  market: Market | undefined,
  pins: { gate: string } | undefined,
): Promise<GateSnapshot> {
  const url = rpcUrlFlag(flags.rpc!);
  // Only a gate the user names counts: audit.json's is the operator's, who could deploy a real
  // RebalanceGate of their own (real oracle, fresh tokens) holding only healthy positions.
  const gateText = flags.gate ?? pins?.gate;
  if (gateText === undefined) {
    throw new InputError("--rpc", "", `pin the gate with --gate ADDR or --deployment FILE; audit.json's gate${recorded ? ` (${recorded.gate})` : ""} is the operator's claim`);
  }
  const gate = flags.gate !== undefined ? addressFlag("--gate", gateText) : gateText;
  const block = flags.block !== undefined ? Number(integerFlag("--block", flags.block, BigInt(Number.MAX_SAFE_INTEGER))) : recorded?.block;
  const fromBlock = flags.fromBlock !== undefined ? Number(integerFlag("--from-block", flags.fromBlock, BigInt(Number.MAX_SAFE_INTEGER))) : undefined;
  const chainId = await reachRpc(url);
  try {
    return await readGateSnapshot(rpcProvider(url, chainId), gate, {
      epoch,
      ...(block !== undefined ? { block } : {}),
      ...(fromBlock !== undefined ? { fromBlock } : {}),
      ...(market ? { assets: market.assets.map((a) => ({ symbol: a.symbol, decimals: a.decimals })), instruments: market.instruments.map((i) => ({ id: i.id })) } : {}),
    });
  } catch (error) {
    if (error instanceof ZksError) throw error;
    const e = error as { code?: string; shortMessage?: string; message?: string };
    // A call that reverts or answers garbage is the address's fault (not a RebalanceGate, or one
    // whose tokens are not ERC-20s): bad input. Transport failures stay setup errors.
    if (e.code === "CALL_EXCEPTION" || e.code === "BAD_DATA")
      throw new InputError(
        flags.gate !== undefined ? "--gate" : flags.deployment!,
        flags.gate !== undefined ? "" : "contracts.RebalanceGate",
        `reading gate ${gate} at its block failed (${e.shortMessage ?? e.message}): not a RebalanceGate, or one whose tokens or oracle do not answer`,
      );
    throw new SetupError(`reading gate ${gate} over ${url} failed: ${e.shortMessage ?? e.message}`);
  }
}

/** The root's per-token totals by the market's names, exact (token base units formatted at their decimals). */
function tokenTotals(sums: AuditFigures, market: Market) {
  return {
    assets: market.assets.map((a, i) => ({ symbol: a.symbol, collateral: formatUnits(sums.amounts[i]!, a.decimals), debtUnits: formatUnits(sums.debtUnits[i]!, a.decimals) })),
    instruments: market.instruments.map((inst, k) => ({
      id: inst.id,
      long: formatUnits(sums.long[k]!, QUANTITY_DECIMALS),
      written: formatUnits(sums.written[k]!, QUANTITY_DECIMALS),
    })),
  };
}

function tokenTotalsLine(sums: AuditFigures, market: Market): string {
  const t = tokenTotals(sums, market);
  const assets = t.assets.map((a) => `${a.symbol} ${a.collateral} held${a.debtUnits !== "0.0" ? `, ${a.debtUnits} owed (debt units)` : ""}`);
  const instruments = t.instruments
    .filter((i) => i.long !== "0.0" || i.written !== "0.0")
    .map((i) => `${i.id} ${i.long} long${i.written !== "0.0" ? `, ${i.written} written` : ""}`);
  return [...assets, ...instruments].join("; ");
}

/** The reserves lines of a completeness verdict, for people. */
function reserveLines(verdict: CompletenessVerdict): string[] {
  return verdict.reserves.map((r) => {
    const held = (v: bigint) => formatUnits(v, r.decimals);
    if (r.what === "debt units") return `  ${r.label} debt: the lender ${r.address} counts ${held(r.onChain)} debt units of the gate; the positions owe ${held(r.committed)}`;
    const unit = r.what === "option tokens" ? " option tokens" : "";
    const surplus = r.surplus > 0n ? ` (surplus ${held(r.surplus)}: held beyond what the positions commit, e.g. a donation)` : "";
    return `  ${r.label} (token ${r.address}): the gate holds ${held(r.onChain)}${unit}; the positions hold ${held(r.committed)}${surplus}`;
  });
}

/** A line naming the audit's keys that are not deployable (development keys, or ceremony keys on an untrusted ptau), if any. */
function keyLabel(keys: AuditKeyRecords): string | undefined {
  const dev = developmentKeys(keys);
  if (dev.length === 0) return undefined;
  const labels = dev.map((role) => `${role}: ${keySourceLabel(keys[role as keyof AuditKeyRecords].keySource as KeySource)}`);
  return `keys: not deployable (${labels.join(", ")}): whoever made them (or their phase-1 ptau) can forge these proofs; a deployment's audit needs a ceremony's keys on a public ptau (\`zks ceremony\`)`;
}

const money = (figure: bigint, market: Market) => `${formatHuman(toQuoteUnits(figure), market.quote.decimals)} ${market.quote.symbol}`;
/** A liquidity bound (quote base units) for people. */
const quoteMoney = (amount: bigint, market: Market) => `${formatHuman(amount, market.quote.decimals)} ${market.quote.symbol}`;

const scenarioName = (market: Market | undefined, j: number) => (market?.scenarios[j] ? `"${market.scenarios[j]!.name}"` : `scenario slot ${j}`);
const assetName = (market: Market | undefined, i: number) => market?.assets[i]?.symbol ?? `asset slot ${i}`;

/** One crowded (or tightest) pair for people: the scenario, the asset, the amount against its bound. */
function pairText(pair: { scenario: number; asset: number; amount: bigint; bound: bigint }, market: Market | undefined): string {
  const amount = market ? money(pair.amount, market) : `${toQuoteUnits(pair.amount)} quote base units`;
  const bound = market ? quoteMoney(pair.bound, market) : `${pair.bound} quote base units`;
  // Share of the bound, to 0.1%, from the exact figures (amount is q.u. * 1e8, the bound q.u.).
  const share = pair.bound === 0n ? "" : ` (${(Number((pair.amount * 1000n) / (pair.bound * 100_000_000n)) / 10).toFixed(1)}%)`;
  return `${scenarioName(market, pair.scenario)} ${assetName(market, pair.asset)}: ${amount} of ${bound}${share}`;
}

/** The crowding statement's line: every pair within its bound, and the tightest one. */
function crowdingLine(statements: CrowdingStatements, market: Market | undefined): string {
  return `every scenario's bound on the health-factor repairs' sales within the liquidity bounds (${statements.tightest ? `tightest ${pairText(statements.tightest, market)}` : "no position would sell anything"})`;
}

/** JSON of the crowding statements: per pair the amount (quote units), the bound, and the crowded pairs by name. */
function crowdingJson(statements: CrowdingStatements, market: Market | undefined) {
  const named = (p: { scenario: number; asset: number; amount: bigint; bound: bigint }) => ({
    scenario: market?.scenarios[p.scenario]?.name ?? p.scenario,
    asset: assetName(market, p.asset),
    amount: toQuoteUnits(p.amount),
    bound: p.bound,
  });
  return { holds: statements.holds, tightest: statements.tightest ? named(statements.tightest) : null, crowded: statements.crowded.map(named) };
}

function progressReporter(json: boolean | undefined): { onProgress: (p: AuditProgress) => void; stop: () => void } {
  const bar =
    process.stderr.isTTY && !json
      ? new cliProgress.SingleBar({ format: "{bar} {value}/{total} {task}", hideCursor: true, clearOnComplete: true }, cliProgress.Presets.shades_classic)
      : undefined;
  let started = false;
  let lastLine = 0;
  return {
    onProgress: (p) => {
      if (p.stage === "tree") {
        if (!json) process.stderr.write(`zks audit: Merkle sum tree of depth ${p.depth} over ${p.leaves} accounts\n`);
        return;
      }
      const task = p.stage === "figures" ? "figures" : p.level === 0 ? "batch proofs" : `merge proofs (level ${p.level})`;
      if (bar) {
        if (!started) bar.start(p.total, 0, { task });
        started = true;
        bar.setTotal(p.total);
        bar.update(p.done, { task });
        if (p.stage === "figures" && p.done === p.total) {
          bar.stop();
          started = false;
        }
      } else if (!json && (p.done === p.total || performance.now() - lastLine > 10_000)) {
        // Without a terminal (CI, logs): a line every 10 s at most.
        lastLine = performance.now();
        process.stderr.write(`zks audit: ${task} ${p.done}/${p.total}\n`);
      }
    },
    stop: () => {
      if (bar && started) bar.stop();
    },
  };
}

export function registerAudit(program: Command): void {
  const audit = program.command("audit").description("protocol-wide solvency audit: aggregate proofs over many positions, per-account inclusion proofs (docs/audit.md)");

  audit
    .command("prove", { isDefault: true })
    .description("prove the aggregate statements over a book of positions: batch proofs in parallel, chained by root")
    .requiredOption("--positions <dir|file.jsonl>", "a directory of position files (*.json) or a JSONL file, one position per line (with salts)")
    .requiredOption("--market <file>", "the epoch's market (formats.md)")
    .requiredOption("--policy <file>", "the policy (formats.md)")
    .requiredOption("--out <dir>", "where to write audit.json (public) and leaves.jsonl (private: keep it to cut inclusion proofs)")
    .option("--tier <tier>", "audit circuit instances: standard (batches of 4, merges of 8; with --crowding batches of 2) or test (2 and 2)", "standard")
    .option(
      "--crowding",
      "also prove that, in every grid scenario, an upper bound on what the positions' threshold repairs would sell of each asset to restore max(trigger, minimum) health factor is within --liquidity's bounds (docs/audit.md, \"Crowding\": stress and VaR repairs are not bounded; crowding instances: batches of 2)",
    )
    .option("--liquidity <file>", 'with --crowding: the liquidity file published with the market (docs/audit.md, "Crowding"): each asset\'s bound and its source')
    .option("--workers <n>", "prover worker threads (default: the machine's available parallelism)")
    .option("--prover <name>", PROVER_FLAG_HELP)
    .option(
      "--queue <url>",
      "prove on `zks audit worker`s through this Redis (redis://[user:password@]host[:port][/db] or rediss:// for TLS) instead of this machine: one BullMQ flow of proof jobs; running the same command again resumes. `--queue env` reads the URL from ZKS_QUEUE (keeps a password off the command line)",
    )
    .option("--queue-name <name>", "the BullMQ queue, with --queue", "zks-audit")
    .option("--keep-jobs", "with --queue: leave the audit's jobs (and their results) in Redis once the audit is written (by default they are removed: they hold positions)")
    .option("--rpc <url>", "check the book against the gate's registered positions and holdings first, and record the chain state in audit.json (with --gate)")
    .option("--gate <address>", "the RebalanceGate whose positions the book must be, exactly")
    .option("--block <n>", "the block to audit at (default: the latest)")
    .option("--from-block <n>", "the first block to search for registrations (default 0; the gate's deployment block on long chains)")
    .option("--allow-epoch <n>", "audit at the market's epoch although it is not the gate's oracle's latest fresh epoch at the block")
    .option("--json", "machine-readable summary")
    .action(async (flags: ProveFlags) => {
      if (flags.tier !== "standard" && flags.tier !== "test") throw new InputError("--tier", "", `expected standard or test, got "${flags.tier}"`);
      const workers = flags.workers === undefined ? undefined : Number(flags.workers);
      if (workers !== undefined && (!Number.isInteger(workers) || workers < 1 || workers > 256))
        throw new InputError("--workers", "", `expected a whole number from 1 to 256, got "${flags.workers}"`);
      // `--queue env`: the URL (with its password) from ZKS_QUEUE, not from the command line, which ps and shell histories show.
      if (flags.queue !== undefined) flags.queue = resolveQueueUrl(flags.queue);
      // With --queue the workers prove, each with its own --workers and --prover: refuse flags that would do nothing.
      if (flags.queue !== undefined) {
        parseQueueUrl(flags.queue);
        checkQueueName(flags.queueName);
        if (flags.workers !== undefined || flags.prover !== undefined)
          throw new InputError(flags.workers !== undefined ? "--workers" : "--prover", "", "with --queue the workers prove: give it to `zks audit worker`");
      } else if (flags.keepJobs || flags.queueName !== "zks-audit") {
        throw new InputError(flags.keepJobs ? "--keep-jobs" : "--queue-name", "", "needs --queue");
      }
      if (flags.crowding && flags.liquidity === undefined) throw new InputError("--liquidity", "", "missing: --crowding proves the crowding within a liquidity file's bounds");
      if (!flags.crowding && flags.liquidity !== undefined) throw new InputError("--liquidity", "", "needs --crowding");
      // The workers prove the plain audit's instances; a crowding audit runs on this machine for now.
      if (flags.crowding && flags.queue !== undefined)
        throw new InputError("--crowding", "", "not with --queue yet (the workers prove the plain audit's instances): run it without --queue");
      const prover = flags.queue === undefined ? await proverFromFlag(flags.prover) : undefined;
      if (flags.queue !== undefined) await checkQueueReachable(flags.queue, flags.queueName);
      const market = loadMarketFile(flags.market);
      const policy = loadPolicyFile(flags.policy, market);
      const liquidity = flags.liquidity !== undefined ? readLiquidityFile(flags.liquidity, market) : undefined;
      const book = readBook(flags.positions, market);
      const instances = (flags.crowding ? CROWDING_AUDIT_INSTANCES : AUDIT_INSTANCES)[flags.tier];
      const { batchSize, fanIn } = auditLayout(instances);

      const shape = auditShape(book.length, batchSize, fanIn);
      if (flags.rpc === undefined && (flags.gate ?? flags.block ?? flags.fromBlock ?? flags.allowEpoch) !== undefined) {
        throw new InputError(
          flags.gate ? "--gate" : flags.block ? "--block" : flags.fromBlock ? "--from-block" : "--allow-epoch",
          "",
          "needs --rpc: the gate is read over JSON-RPC",
        );
      }
      // Against the gate first: the book must be its positions at the block, backed by its holdings.
      let gateVerdict: CompletenessVerdict | undefined;
      if (flags.rpc !== undefined) {
        const { layout } = auditLayout(instances);
        const allowEpoch = allowEpochFlag(flags);
        const snapshot = await gateSnapshotFromFlags(flags, undefined, market.epoch, market, undefined);
        const leaves = book.map((entry) => ({ ...accountFigures(entry.position, market, policy, layout, entry.source).leaf, source: entry.source }));
        const sums = leaves.map((leaf) => leaf.figures).reduce(addFigures);
        const { policyHash } = await import("@zk-solvency/sdk/commitment");
        gateVerdict = checkBookAgainstGate(
          leaves,
          sums,
          { layout, epoch: market.epoch, marketRoot: marketRootOf(market, layout), policyHash: policyHash(policy) },
          snapshot,
          allowEpoch !== undefined ? { allowEpoch } : {},
        );
        if (!flags.json)
          process.stderr.write(
            `zks audit: the book is exactly the ${gateVerdict.accounts} positions gate ${snapshot.gate} holds at block ${snapshot.block} (chain ${snapshot.chainId}), backed by its holdings\n`,
          );
      }
      if (!flags.json) {
        process.stderr.write(
          `zks audit: ${book.length} positions -> ${shape.proofsPerLevel[0]} batch proofs (${instances.batch}), then ${shape.proofsPerLevel.slice(1).join(" + ")} merge proofs (${instances.merge}, root ${instances.top})\n`,
        );
      }
      const reporter = progressReporter(flags.json);
      let run: AuditRun | QueuedAuditRun;
      try {
        const chain = gateVerdict ? { chainId: gateVerdict.chainId, gate: gateVerdict.gate, block: gateVerdict.block, blockHash: gateVerdict.blockHash } : undefined;
        run =
          flags.queue !== undefined
            ? await runQueuedAudit(book, market, policy, {
                queue: flags.queue,
                queueName: flags.queueName,
                keepJobs: flags.keepJobs === true,
                instances,
                onProgress: reporter.onProgress,
                onNote: (line) => {
                  if (!flags.json) process.stderr.write(`zks audit: ${line}\n`);
                },
                ...(chain ? { chain } : {}),
              })
            : await runAudit(book, market, policy, {
                instances,
                workers,
                onProgress: reporter.onProgress,
                ...(prover ? { prover } : {}),
                ...(chain ? { chain } : {}),
                ...(liquidity ? { liquidity } : {}),
              });
      } catch (error) {
        if (error instanceof CrowdingError) {
          // Name every crowded scenario and asset, with the amount and its bound.
          const { crowded } = error.statements;
          if (flags.json) printJson({ proven: false, crowding: crowdingJson(error.statements, market) });
          process.stderr.write(
            `zks audit: crowded, so no audit proof exists: in ${crowded.length} scenario and asset pair(s) the bound on what the positions' repairs would sell is above what ${flags.liquidity} allows: ${crowded.map((p) => pairText(p, market)).join("; ")}\n`,
          );
          process.exitCode = EXIT.checkFailed;
          return;
        }
        if (!(error instanceof AggregateStatementsError)) throw error;
        const { statements } = error;
        const uncovered = statements.scenarios.filter((s) => !s.covered).map((s) => `"${market.scenarios[s.index]!.name}" loses ${money(s.loss, market)}`);
        process.stderr.write(
          `zks audit: the aggregate statements do not hold, so no audit proof exists: ${statements.solvent ? "" : `total debt exceeds total collateral by ${money(-statements.equity, market)}; `}${uncovered.length > 0 ? `aggregate equity ${money(statements.equity, market)} does not cover: ${uncovered.join("; ")}` : ""}\n`,
        );
        process.exitCode = EXIT.checkFailed;
        return;
      } finally {
        reporter.stop();
      }
      const files = writeAuditDir(
        flags.out,
        run.report,
        run.accounts.map((a) => a.leaf),
      );
      // Only now, with the audit written, do the queue's jobs (which hold positions) leave Redis.
      const queued = "queue" in run ? (run as QueuedAuditRun).queue : undefined;
      let jobsRemoved = false;
      if (queued && !flags.keepJobs) jobsRemoved = await removeAuditJobs({ queue: flags.queue!, queueName: flags.queueName }, queued.rootJob);
      const statements = aggregateStatements(run.report.root.sums, market.scenarios.length);
      const crowding = run.report.crowding ? crowdingStatements(run.report.root.sums, run.report.crowding.liquidity.bounds) : undefined;
      const failing = run.accounts.filter((a) => a.leaf.figures.fails === 1n);
      const proofCount = run.shape.proofsPerLevel.reduce((a, b) => a + b, 0);
      const summary = {
        epoch: market.epoch,
        positions: run.accounts.length,
        failing: failing.length,
        failingPositions: failing.map((a) => ({ source: a.source, failures: a.failures })),
        totals: {
          collateral: toQuoteUnits(run.report.root.sums.collateral),
          debt: toQuoteUnits(run.report.root.sums.debt),
          equity: toQuoteUnits(statements.equity),
          worstScenario: { name: market.scenarios[statements.worst.index]?.name, loss: toQuoteUnits(statements.worst.loss) },
          tokens: tokenTotals(run.report.root.sums, market),
        },
        keys: run.report.keys,
        ...(crowding ? { crowding: { ...crowdingJson(crowding, market), liquidity: { file: flags.liquidity, sha256: run.report.crowding!.liquidity.sha256 } } } : {}),
        ...(gateVerdict ? { chain: run.report.chain, reserves: gateVerdict.reserves } : {}),
        root: `0x${run.report.root.hash.toString(16).padStart(64, "0")}`,
        proofs: proofCount,
        seconds: Number((run.timings.totalMs / 1000).toFixed(1)),
        files,
        ...(queued ? { queue: { ...queued, jobsRemoved } } : {}),
      };
      if (flags.json) return printJson(summary);
      const coverage = statements.worst.loss === 0n ? "no scenario loses" : `covered ${(Number((statements.equity * 100n) / statements.worst.loss) / 100).toFixed(2)}x`;
      const lines = [
        `PROVEN: audit of epoch ${market.epoch}, ${run.accounts.length} positions, ${failing.length} failing the policy on their own`,
        `  total collateral  ${money(run.report.root.sums.collateral, market)}`,
        `  total debt        ${money(run.report.root.sums.debt, market)}`,
        `  aggregate equity  ${money(statements.equity, market)}`,
        `  worst scenario    "${summary.totals.worstScenario.name}": aggregate loss ${money(statements.worst.loss, market)} (${coverage})`,
        `  per token         ${tokenTotalsLine(run.report.root.sums, market)}`,
        ...(crowding ? [`  crowding          ${crowdingLine(crowding, market)}; bounds of ${flags.liquidity} (sha256 ${run.report.crowding!.liquidity.sha256})`] : []),
        `  root              ${summary.root}`,
        ...(gateVerdict
          ? [
              `  complete: exactly the ${gateVerdict.accounts} positions gate ${gateVerdict.gate} holds at block ${gateVerdict.block} on chain ${gateVerdict.chainId} (recorded in audit.json)`,
              ...reserveLines(gateVerdict),
            ]
          : []),
        ...[keyLabel(run.report.keys)].filter((line): line is string => line !== undefined).map((line) => `  ${line}`),
        `  ${proofCount} proofs in ${summary.seconds} s (${run.shape.proofsPerLevel.join(" + ")}); tree depth ${run.shape.depth}`,
        ...(queued
          ? [
              `  proven through queue ${queued.name} at ${queued.redis} (audit ${queued.auditId}${queued.resumed ? `, resumed with ${queued.alreadyDone} proofs done` : ""}) by ${Object.keys(queued.workers).length} workers; every proof verified here`,
              `  ${jobsRemoved ? "removed its jobs from the queue" : flags.keepJobs ? "kept its jobs in the queue (--keep-jobs)" : "could not remove its jobs from the queue (some are locked): remove them by hand"}`,
            ]
          : []),
        `  wrote ${files.audit} (publish it) and ${files.leaves} (private: every account's figures)`,
        ...(failing.length > 0
          ? [
              `  failing: ${failing
                .slice(0, 5)
                .map((a) => `${a.source} (${a.failures.join(", ")})`)
                .join("; ")}${failing.length > 5 ? `; and ${failing.length - 5} more` : ""}`,
            ]
          : []),
      ];
      process.stdout.write(`${lines.join("\n")}\n`);
    });

  audit
    .command("worker")
    .description(
      "prove the jobs `zks audit prove --queue` enqueues, on this machine (run one per machine, any number of machines); SIGTERM or SIGINT: finish the jobs in hand and stop (a second one: hand them back to the queue now)",
    )
    .option(
      "--queue <url>",
      "the coordinator's Redis: redis://[user:password@]host[:port][/db], or rediss:// for TLS (default: ZKS_QUEUE, which keeps a password off the command line; `env` says so explicitly)",
    )
    .option("--queue-name <name>", "the BullMQ queue", "zks-audit")
    .option("--workers <n>", "prover threads, and so jobs at once (default: the machine's available parallelism)")
    .option("--prover <name>", PROVER_FLAG_HELP)
    .option("--tier <tier>", "the audit's instances: standard or test (as the coordinator's --tier)", "standard")
    .option("--lock-seconds <s>", "a job held by a worker that stops answering goes back to the queue after one to two times this", "30")
    .option(
      "--exit-when-idle",
      "stop once the queue has had no job this worker could prove (its tier and keys; waiting, delayed or active) for 5 s (for batch runs; by default the worker waits for jobs)",
    )
    .action(async (flags: { queue?: string; queueName: string; workers?: string; prover?: string; tier: string; lockSeconds: string; exitWhenIdle?: boolean }) => {
      const queue = resolveQueueUrl(flags.queue);
      if (queue === undefined) throw new InputError("--queue", "", "missing: give the Redis URL, or set ZKS_QUEUE to it (which keeps its password off the command line)");
      parseQueueUrl(queue);
      checkQueueName(flags.queueName);
      if (flags.tier !== "standard" && flags.tier !== "test") throw new InputError("--tier", "", `expected standard or test, got "${flags.tier}"`);
      const workers = flags.workers === undefined ? undefined : Number(flags.workers);
      if (workers !== undefined && (!Number.isInteger(workers) || workers < 1 || workers > 256))
        throw new InputError("--workers", "", `expected a whole number from 1 to 256, got "${flags.workers}"`);
      const lockSeconds = Number(flags.lockSeconds);
      if (!Number.isInteger(lockSeconds) || lockSeconds < 1 || lockSeconds > 3600)
        throw new InputError("--lock-seconds", "", `expected a whole number of seconds from 1 to 3600, got "${flags.lockSeconds}"`);
      const prover = await proverFromFlag(flags.prover);
      const log = (line: string) => process.stderr.write(`zks audit worker: ${line}\n`);
      const run = await startAuditWorker({
        queue,
        queueName: flags.queueName,
        instances: AUDIT_INSTANCES[flags.tier],
        tierName: flags.tier,
        prover,
        lockSeconds,
        exitWhenIdle: flags.exitWhenIdle === true,
        onLog: log,
        ...(workers !== undefined ? { workers } : {}),
      });
      // First signal: finish the jobs in hand, then stop. Second: hand them back now (another
      // worker proves them at once instead of after the lock expires).
      let signals = 0;
      const onSignal = (signal: NodeJS.Signals) => {
        signals++;
        log(signals === 1 ? `${signal}: finishing the jobs in hand, then stopping (send it again to hand them back now)` : `${signal}: handing the jobs in hand back to the queue`);
        void run.stop(signals > 1).catch(() => {});
      };
      process.on("SIGTERM", onSignal);
      process.on("SIGINT", onSignal);
      try {
        const stats = await run.finished;
        process.stdout.write(
          `audit worker stopped: proved ${stats.proved.length} jobs${stats.returned.length > 0 ? `, handed ${stats.returned.length} back to the queue` : ""}${stats.unprovable.length > 0 ? `, ${stats.unprovable.length} unprovable` : ""}${stats.deferred.length > 0 ? `, put ${new Set(stats.deferred).size} jobs of other tiers or keys back for other workers` : ""}\n`,
        );
      } finally {
        process.off("SIGTERM", onSignal);
        process.off("SIGINT", onSignal);
      }
    });

  audit
    .command("sample")
    .description("write a synthetic book (JSONL) to try the audit on: the given positions scaled at random, each with its own account and salt")
    .requiredOption("--market <file>", "the market the positions are for")
    .requiredOption("--healthy <file>", "a position that passes the policy (e.g. the spec's position-healthy.json)")
    .requiredOption("--at-risk <file>", "a position that fails it (e.g. position-at-risk.json)")
    .requiredOption("--count <n>", "how many positions")
    .requiredOption("--out <file.jsonl>", "where to write the book")
    .option("--seed <n>", "seed: the same seed gives the same book", "1")
    .option("--at-risk-share <x>", "share of positions built from the at-risk one", "0.1")
    .action((flags: { market: string; healthy: string; atRisk: string; count: string; out: string; seed: string; atRiskShare: string }) => {
      const count = Number(flags.count);
      if (!Number.isInteger(count) || count < 1 || count > 1_000_000) throw new InputError("--count", "", `expected a whole number from 1 to 1000000, got "${flags.count}"`);
      const seed = Number(flags.seed);
      if (!Number.isInteger(seed) || seed < 0) throw new InputError("--seed", "", `expected a non-negative whole number, got "${flags.seed}"`);
      const share = Number(flags.atRiskShare);
      if (!(share >= 0 && share <= 1)) throw new InputError("--at-risk-share", "", `expected a number from 0 to 1, got "${flags.atRiskShare}"`);
      const market = loadMarketFile(flags.market);
      const book = syntheticBook(loadPositionFile(flags.healthy, market), loadPositionFile(flags.atRisk, market), { count, seed, atRiskShare: share });
      writeFileSafely(flags.out, `${book.map((position) => JSON.stringify(positionToJson(position, market))).join("\n")}\n`);
      process.stdout.write(`wrote ${flags.out}: ${count} positions (seed ${seed})\n`);
    });

  audit
    .command("verify")
    .description(
      "verify a published audit: every proof and their chaining by root; with --rpc, that it is complete against the gate and its per-token totals are what the gate holds and owes (exit 0 valid, 1 invalid)",
    )
    .requiredOption("--audit <dir|audit.json>", "the audit directory or its audit.json")
    .option("--market <file>", "check that the audit is for this market (its marketRoot)")
    .option("--policy <file>", "check that the audit is for this policy (its policyHash)")
    .option("--liquidity <file>", "a crowding audit: check that it was proven against this liquidity file (its SHA-256 and bounds; needs --market)")
    .option("--rpc <url>", "check completeness and reserves against the gate's state on this chain")
    .option("--gate <address>", "the RebalanceGate you trust (audit.json's is only the operator's claim): needed with --rpc, or --deployment")
    .option("--deployment <file>", "the deployments file of `zks deploy`: pins the gate, and its oracle, tokens and lenders must be the file's")
    .option("--block <n>", "the block to check at (default: the one audit.json records)")
    .option("--from-block <n>", "the first block to search for registrations (default 0; must not be after the gate's deployment)")
    .option("--allow-epoch <n>", "accept the audit's epoch although it is not the gate's oracle's latest fresh epoch at the block")
    .option("--json", "machine-readable output")
    .action(async (flags: ChainFlags & { audit: string; market?: string; policy?: string; liquidity?: string; json?: boolean }) => {
      const { report, file } = readAuditReport(flags.audit);
      const keys = loadAuditKeys(report, file);
      if (flags.rpc === undefined && (flags.gate ?? flags.deployment ?? flags.block ?? flags.fromBlock ?? flags.allowEpoch) !== undefined) {
        const flag = flags.gate ? "--gate" : flags.deployment ? "--deployment" : flags.block ? "--block" : flags.fromBlock ? "--from-block" : "--allow-epoch";
        throw new InputError(flag, "", "needs --rpc: the gate is read over JSON-RPC");
      }
      if (flags.gate !== undefined && flags.deployment !== undefined) throw new InputError("--gate", "", "--deployment gives the gate; leave this out");
      const pins = flags.deployment !== undefined ? readDeploymentPins(flags.deployment) : undefined;
      const allowEpoch = allowEpochFlag(flags);
      if (flags.rpc !== undefined && report.chain === undefined && flags.block === undefined)
        throw new InputError("--block", "", `needed: ${file} records no block (the operator audited without --rpc); give the block the audit claims to be complete at`);
      let market: Market | undefined;
      let expected: { marketRoot?: bigint; policyHash?: bigint } = {};
      if (flags.market) {
        const { policyHash } = await import("@zk-solvency/sdk/commitment");
        market = loadMarketFile(flags.market);
        expected = { marketRoot: marketRootOf(market, report.layout), ...(flags.policy ? { policyHash: policyHash(loadPolicyFile(flags.policy, market)) } : {}) };
      } else if (flags.policy) {
        throw new InputError("--policy", "", "needs --market too (a policy is read against its market)");
      }
      if (flags.liquidity !== undefined && !report.layout.crowding) throw new InputError("--liquidity", "", `${file} is not a crowding audit: it proves no liquidity bounds`);
      if (flags.liquidity !== undefined && !market) throw new InputError("--liquidity", "", "needs --market too (a liquidity file is read against its market)");
      const liquidityFile = flags.liquidity !== undefined ? readLiquidityFile(flags.liquidity, market!) : undefined;
      // Read the chain before the proofs: an unreachable endpoint or a bad flag fails fast.
      const snapshot = flags.rpc !== undefined ? await gateSnapshotFromFlags(flags, report.chain, report.epoch, market, pins) : undefined;
      try {
        const verdict = await verifyAudit(report, keys, {
          ...expected,
          source: file,
          ...(market ? { assetNames: market.assets.map((a) => a.symbol) } : {}),
          ...(liquidityFile
            ? {
                liquidity: {
                  sha256: liquidityFile.sha256,
                  bounds: Array.from({ length: report.layout.nAssets }, (_, i) => liquidityFile.bounds[i] ?? 0n),
                  source: flags.liquidity!,
                },
              }
            : {}),
        });
        const gate = snapshot ? checkAgainstGate(report, snapshot, { ...(pins ? { pins } : {}), ...(allowEpoch !== undefined ? { allowEpoch } : {}) }) : undefined;
        const statements = aggregateStatements(verdict.totals);
        const label = keyLabel(report.keys);
        // The epoch is audit.json's word until a market file (whose root hashes its epoch) or the
        // gate's oracle (its root for that epoch) matches the proofs' marketRoot.
        const epochChecked = expected.marketRoot !== undefined || gate !== undefined;
        const epoch = epochChecked ? `epoch ${report.epoch}` : `epoch ${report.epoch} (as audit.json says: --market or --rpc checks it)`;
        if (flags.json) {
          return printJson({
            valid: true,
            epoch: report.epoch,
            epochChecked,
            ...verdict,
            ...(verdict.crowding
              ? {
                  crowding: {
                    ...crowdingJson(verdict.crowding.statements, market),
                    liquidity: { sha256: verdict.crowding.sha256, bounds: verdict.crowding.liquidity, fileChecked: verdict.crowding.fileChecked },
                  },
                }
              : {}),
            equity: statements.equity,
            keys: report.keys,
            ...(report.chain ? { recordedChain: report.chain } : {}),
            ...(gate ? { complete: true, gate } : {}),
          });
        }
        const blockNote = gate && report.chain && report.chain.block !== gate.block ? ` (audit.json records block ${report.chain.block})` : "";
        process.stdout.write(
          [
            `VALID: audit of ${epoch}: ${verdict.positions} positions, ${verdict.failing} failing the policy on their own; total collateral >= total debt and every scenario's aggregate loss covered (${verdict.proofs} proofs checked)`,
            ...(verdict.crowding
              ? [
                  `  crowding: ${crowdingLine(verdict.crowding.statements, market)}; ${verdict.crowding.fileChecked ? `bounds of ${flags.liquidity}, the file proven against` : `bounds as audit.json records them (sha256 ${verdict.crowding.sha256}): check the published file with --liquidity FILE`}`,
                ]
              : []),
            ...(gate
              ? [
                  `COMPLETE: the audited positions are exactly the ${gate.accounts} accounts registered with gate ${gate.gate} on chain ${gate.chainId} at block ${gate.block}${blockNote}, each at its commitment there; per token, the gate holds at least what they hold and the lenders count exactly what they owe:`,
                  `  gate pinned by ${pins ? `${pins.source} (its oracle ${pins.oracle}, tokens and lenders checked)` : "--gate (its oracle, tokens and lenders are the gate's own: pin them with --deployment)"}; oracle ${snapshot!.oracle}`,
                  ...reserveLines(gate),
                  ...gate.notes.map((note) => `  note: ${note}`),
                ]
              : report.chain
                ? [
                    `  the audit records gate ${report.chain.gate} on chain ${report.chain.chainId} at block ${report.chain.block} (the operator's claim): check that it is complete with --rpc URL and the gate you trust (--deployment FILE or --gate ADDR)`,
                  ]
                : []),
            ...(label ? [label] : []),
          ].join("\n") + "\n",
        );
      } catch (error) {
        if (!(error instanceof AuditVerificationError)) throw error;
        if (flags.json) printJson({ valid: false, reason: error.message });
        else process.stdout.write(`INVALID: ${error.message}\n`);
        process.exitCode = EXIT.checkFailed;
      }
    });

  audit
    .command("inclusion")
    .description("cut one account's inclusion proof out of an audit (operator side; needs the private leaves.jsonl)")
    .requiredOption("--audit <dir>", "the audit directory (audit.json and leaves.jsonl)")
    .requiredOption("--account <address>", "the account whose proof to write")
    .requiredOption("--out <file>", "where to write the inclusion proof (give it to the account's owner)")
    .action((flags: { audit: string; account: string; out: string }) => {
      if (!/^0x[0-9a-fA-F]{40}$/.test(flags.account)) throw new InputError("--account", "", `expected a 0x-prefixed 20-byte address, got "${flags.account}"`);
      const { report } = readAuditReport(flags.audit);
      const leaves = readLeaves(flags.audit, report.layout);
      const tree = buildSumTree(leaves, report.layout, report.depth);
      if (tree.root.hash !== report.root.hash) throw new InputError(flags.audit, "leaves.jsonl", "these leaves do not rebuild the published root; is it the same audit?");
      const index = leaves.findIndex((leaf) => leaf.account === BigInt(flags.account));
      if (index < 0) throw new InputError("--account", "", `${flags.account} has no position in this audit`);
      const file = inclusionFile(tree, index, report);
      writeFileSafely(flags.out, `${JSON.stringify(inclusionFileJson(file), null, 2)}\n`);
      process.stdout.write(
        `wrote ${flags.out}: leaf ${index} of ${leaves.length}, ${file.merklePath.path.length} steps into its batch and ${file.zkProofs.length} proofs up to root 0x${report.root.hash.toString(16).padStart(64, "0")}; no other account's figures\n`,
      );
    });

  audit
    .command("check")
    .description("check that your position is counted in an audit: its path into its batch and the proofs up to the root (exit 0 included, 1 not)")
    .requiredOption("--inclusion <file>", "your inclusion proof, from the operator")
    .requiredOption("--position <file>", "your position file (with its salt)")
    .requiredOption("--market <file>", "the audit epoch's market")
    .requiredOption("--policy <file>", "the policy")
    .option("--audit <audit.json>", "the published audit: its root must be the one the proof leads to")
    .option("--json", "machine-readable output")
    .action(async (flags: { inclusion: string; position: string; market: string; policy: string; audit?: string; json?: boolean }) => {
      const file = parseInclusionFile(readJsonFile(flags.inclusion), flags.inclusion);
      const keys = loadAuditKeys(file, flags.inclusion);
      const market = loadMarketFile(flags.market);
      const policy = loadPolicyFile(flags.policy, market);
      const position = loadPositionFile(flags.position, market);
      const published = flags.audit ? readAuditReport(flags.audit).report.root : undefined;
      try {
        const result = await checkInclusion(file, position, market, policy, keys, published, flags.inclusion);
        const label = keyLabel(file.keys);
        if (flags.json)
          return printJson({ included: true, countedAsFailingWhilePassing: result.countedAsFailingWhilePassing, figures: result.figures, root: result.root, keys: file.keys });
        process.stdout.write(
          [
            `INCLUDED: your position (account ${position.account}) is counted in the audit of epoch ${file.epoch} (root 0x${file.root.hash.toString(16).padStart(64, "0")})`,
            `  counted as: collateral ${money(result.figures.collateral, market)}, debt ${money(result.figures.debt, market)}, ${result.figures.fails === 1n ? "failing" : "passing"} the policy`,
            ...(result.countedAsFailingWhilePassing
              ? ["  note: the audit counts your position as failing although it passes the policy (the audit may overstate failures, never understate them)"]
              : []),
            `  the ${file.zkProofs.length} proofs from your batch to the root verify (the whole audit's proofs: \`zks audit verify\` on audit.json)`,
            `  the audit's totals: ${file.root.sums.positions} positions, ${file.root.sums.fails} failing; collateral ${money(file.root.sums.collateral, market)}, debt ${money(file.root.sums.debt, market)}`,
            `  ${published ? "the root is the published audit's" : "compare the root with the published audit.json (or pass --audit)"}`,
            ...(label ? [`  ${label}`] : []),
          ].join("\n") + "\n",
        );
      } catch (error) {
        if (!(error instanceof AuditTreeError)) throw error;
        if (flags.json) printJson({ included: false, reason: error.message });
        else process.stdout.write(`NOT INCLUDED: ${error.message}\n`);
        process.exitCode = EXIT.checkFailed;
      }
    });
}
