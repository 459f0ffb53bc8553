import cliProgress from "cli-progress";
import type { Command } from "commander";
import { formatHuman } from "../../core/decimal.ts";
import { InputError } from "../../core/errors.ts";
import { auditReportJson, inclusionFileJson, parseInclusionFile } from "../../audit/audit-files.ts";
import { checkInclusion, inclusionFile } from "../../audit/inclusion.ts";
import { AuditTreeError, buildSumTree } from "../../audit/merkle-sum-tree.ts";
import { AggregateStatementsError, aggregateStatements, toQuoteUnits } from "../../audit/statements.ts";
import { AuditVerificationError, verifyAudit } from "../../audit/verify-audit.ts";
import { auditShape } from "../../audit/audit-shape.ts";
import type { Market } from "../../inputs/types.ts";
import { positionToJson } from "../../inputs/position-file.ts";
import { syntheticBook } from "../../audit/synthetic-book.ts";
import { loadAuditKeys } from "../../node/audit/audit-keys.ts";
import { readAuditReport, readLeaves, writeAuditDir } from "../../node/audit/audit-dir.ts";
import { readBook } from "../../node/audit/read-book.ts";
import { AUDIT_INSTANCES, auditLayout, runAudit, type AuditProgress } from "../../node/audit/run-audit.ts";
import { readJsonFile } from "../../node/read-json.ts";
import { writeFileSafely } from "../../node/write-file-safely.ts";
import { loadMarketFile, loadPolicyFile, loadPositionFile } from "../load-inputs.ts";
import { EXIT, printJson } from "../output.ts";

interface ProveFlags {
  positions: string;
  market: string;
  policy: string;
  out: string;
  tier: string;
  workers?: string;
  json?: boolean;
}

const money = (figure: bigint, market: Market) => `${formatHuman(toQuoteUnits(figure), market.quote.decimals)} ${market.quote.symbol}`;

function progressReporter(json: boolean | undefined): { onProgress: (p: AuditProgress) => void; stop: () => void } {
  const bar = process.stderr.isTTY && !json ? new cliProgress.SingleBar({ format: "{bar} {value}/{total} {task}", hideCursor: true, clearOnComplete: true }, cliProgress.Presets.shades_classic) : undefined;
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
  const audit = program
    .command("audit")
    .description("protocol-wide solvency audit: aggregate proofs over many positions, per-account inclusion proofs (docs/audit.md)");

  audit
    .command("prove", { isDefault: true })
    .description("prove the aggregate statements over a book of positions: batch proofs in parallel, chained by root")
    .requiredOption("--positions <dir|file.jsonl>", "a directory of position files (*.json) or a JSONL file, one position per line (with salts)")
    .requiredOption("--market <file>", "the epoch's market (formats.md)")
    .requiredOption("--policy <file>", "the policy (formats.md)")
    .requiredOption("--out <dir>", "where to write audit.json (public) and leaves.jsonl (private: keep it to cut inclusion proofs)")
    .option("--tier <tier>", "audit circuit instances: standard (batches of 4, merges of 8) or test (2 and 2)", "standard")
    .option("--workers <n>", "prover worker threads (default: the machine's available parallelism)")
    .option("--json", "machine-readable summary")
    .action(async (flags: ProveFlags) => {
      if (flags.tier !== "standard" && flags.tier !== "test") throw new InputError("--tier", "", `expected standard or test, got "${flags.tier}"`);
      const workers = flags.workers === undefined ? undefined : Number(flags.workers);
      if (workers !== undefined && (!Number.isInteger(workers) || workers < 1 || workers > 256)) throw new InputError("--workers", "", `expected a whole number from 1 to 256, got "${flags.workers}"`);
      const market = loadMarketFile(flags.market);
      const policy = loadPolicyFile(flags.policy, market);
      const book = readBook(flags.positions, market);
      const instances = AUDIT_INSTANCES[flags.tier];
      const { batchSize, fanIn } = auditLayout(instances);

      const shape = auditShape(book.length, batchSize, fanIn);
      if (!flags.json) {
        process.stderr.write(
          `zks audit: ${book.length} positions -> ${shape.proofsPerLevel[0]} batch proofs (${instances.batch}), then ${shape.proofsPerLevel.slice(1).join(" + ")} merge proofs (${instances.merge}, root ${instances.top})\n`,
        );
      }
      const reporter = progressReporter(flags.json);
      let run;
      try {
        run = await runAudit(book, market, policy, { instances, workers, onProgress: reporter.onProgress });
      } catch (error) {
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
      const files = writeAuditDir(flags.out, run.report, run.accounts.map((a) => a.leaf));
      const statements = aggregateStatements(run.report.root.sums, market.scenarios.length);
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
        },
        root: `0x${run.report.root.hash.toString(16).padStart(64, "0")}`,
        proofs: proofCount,
        seconds: Number((run.timings.totalMs / 1000).toFixed(1)),
        files,
      };
      if (flags.json) return printJson(summary);
      const coverage = statements.worst.loss === 0n ? "no scenario loses" : `covered ${(Number((statements.equity * 100n) / statements.worst.loss) / 100).toFixed(2)}x`;
      const lines = [
        `PROVEN: audit of epoch ${market.epoch}, ${run.accounts.length} positions, ${failing.length} failing the policy on their own`,
        `  total collateral  ${money(run.report.root.sums.collateral, market)}`,
        `  total debt        ${money(run.report.root.sums.debt, market)}`,
        `  aggregate equity  ${money(statements.equity, market)}`,
        `  worst scenario    "${summary.totals.worstScenario.name}": aggregate loss ${money(statements.worst.loss, market)} (${coverage})`,
        `  root              ${summary.root}`,
        `  ${proofCount} proofs in ${summary.seconds} s (${run.shape.proofsPerLevel.join(" + ")}); tree depth ${run.shape.depth}`,
        `  wrote ${files.audit} (publish it) and ${files.leaves} (private: every account's figures)`,
        ...(failing.length > 0 ? [`  failing: ${failing.slice(0, 5).map((a) => `${a.source} (${a.failures.join(", ")})`).join("; ")}${failing.length > 5 ? `; and ${failing.length - 5} more` : ""}`] : []),
      ];
      process.stdout.write(`${lines.join("\n")}\n`);
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
    .description("verify a published audit: every proof and their chaining by root (exit 0 valid, 1 invalid)")
    .requiredOption("--audit <dir|audit.json>", "the audit directory or its audit.json")
    .option("--market <file>", "check that the audit is for this market (its marketRoot)")
    .option("--policy <file>", "check that the audit is for this policy (its policyHash)")
    .option("--json", "machine-readable output")
    .action(async (flags: { audit: string; market?: string; policy?: string; json?: boolean }) => {
      const { report } = readAuditReport(flags.audit);
      const keys = loadAuditKeys(report, flags.audit);
      let expected: { marketRoot?: bigint; policyHash?: bigint } = {};
      if (flags.market) {
        const { marketRoot } = await import("../../commitment/market-root.ts");
        const { policyHash } = await import("../../commitment/policy-hash.ts");
        const market = loadMarketFile(flags.market);
        expected = { marketRoot: marketRoot(market, report.layout), ...(flags.policy ? { policyHash: policyHash(loadPolicyFile(flags.policy, market)) } : {}) };
      } else if (flags.policy) {
        throw new InputError("--policy", "", "needs --market too (a policy is read against its market)");
      }
      try {
        const verdict = await verifyAudit(report, keys, expected);
        const statements = aggregateStatements(verdict.totals);
        if (flags.json) return printJson({ valid: true, epoch: report.epoch, ...verdict, equity: statements.equity });
        process.stdout.write(
          `VALID: audit of epoch ${report.epoch}: ${verdict.positions} positions, ${verdict.failing} failing the policy on their own; total collateral >= total debt and every scenario's aggregate loss covered (${verdict.proofs} proofs checked)\n`,
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
      const leaves = readLeaves(flags.audit, report.layout.nScenarios);
      const tree = buildSumTree(leaves, report.layout.nScenarios, report.depth);
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
        const result = await checkInclusion(file, position, market, policy, keys, published);
        if (flags.json) return printJson({ included: true, countedAsFailingWhilePassing: result.countedAsFailingWhilePassing, figures: result.figures, root: result.root });
        process.stdout.write(
          [
            `INCLUDED: your position (account ${position.account}) is counted in the audit of epoch ${file.epoch} (root 0x${file.root.hash.toString(16).padStart(64, "0")})`,
            `  counted as: collateral ${money(result.figures.collateral, market)}, debt ${money(result.figures.debt, market)}, ${result.figures.fails === 1n ? "failing" : "passing"} the policy`,
            ...(result.countedAsFailingWhilePassing ? ["  note: the audit counts your position as failing although it passes the policy (the audit may overstate failures, never understate them)"] : []),
            `  the ${file.zkProofs.length} proofs from your batch to the root verify (the whole audit's proofs: \`zks audit verify\` on audit.json)`,
            `  the audit's totals: ${file.root.sums.positions} positions, ${file.root.sums.fails} failing; collateral ${money(file.root.sums.collateral, market)}, debt ${money(file.root.sums.debt, market)}`,
            `  ${published ? "the root is the published audit's" : "compare the root with the published audit.json (or pass --audit)"}`,
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
