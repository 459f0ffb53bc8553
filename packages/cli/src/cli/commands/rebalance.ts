import { realpathSync, existsSync } from "node:fs";
import path from "node:path";
import type { Command } from "commander";
import { randomSalt } from "@zk-solvency/sdk/commitment";
import { formatHuman, InputError, ZksError } from "@zk-solvency/sdk/core";
import { positionToJson } from "@zk-solvency/sdk/inputs";
import { checkPosition } from "@zk-solvency/sdk/model";
import { readJsonFile, selectInstance, writeFileSafely, writeProofFiles, proveBuiltInstance } from "@zk-solvency/node";
import { ALL_CHECKS, verifyProof } from "@zk-solvency/sdk/verifier";
import { keyLine, toProofFile } from "@zk-solvency/sdk/proof-file";
import { rebalanceInput } from "@zk-solvency/sdk/prover";
import { emptyAllowance, parseAllowance, backedTransition, parsePlanFile, plan, STRATEGIES } from "@zk-solvency/sdk/rebalance";
import type { Movements, Strategy } from "@zk-solvency/sdk/rebalance";
import type { Position } from "@zk-solvency/sdk/inputs";
import { loadMarketFile, loadPolicyFile, loadPositionFile } from "../load-inputs.ts";
import { EXIT, printJson } from "../output.ts";
import { GATE_FLAG_HELP, gateBindingFromFlags, KEEPER_KEY_HELP, keeperKeyLine, keeperKeySummary } from "../support/keeper-key.ts";
import { addProverFlag, proverFromFlag, proverJson, provedWithLine } from "../support/prover-flag.ts";

interface RebalanceFlags {
  position: string;
  market: string;
  policy: string;
  out: string;
  plan?: string;
  allow?: string;
  strategy: string;
  forced?: boolean;
  instance?: string;
  context?: string;
  chainId?: string;
  contract?: string;
  keeperKey?: string;
  deployment?: string;
  rpc?: string;
  prover?: string;
  json?: boolean;
}

const same = (a: string, b: string) => existsSync(a) && existsSync(b) && realpathSync(a) === realpathSync(b);

export function registerRebalance(program: Command): void {
  const command = program
    .command("rebalance")
    .description("plan (or take a plan), prove the rebalance, and write the new position and its proof to a directory")
    .requiredOption("--position <file>", "position.json (private; never modified)")
    .requiredOption("--market <file>", "market.json of the epoch")
    .requiredOption("--policy <file>", "policy.json")
    .requiredOption("--out <dir>", "where to write position.json (the new position), proof.json and public.json")
    .option("--plan <file>", "a plan file from `zks plan --out` (default: plan now)")
    .option("--allow <file>", "allow.json for planning (see `zks plan --help`)")
    .option("--strategy <name>", `planning strategy: ${STRATEGIES.join(" | ")}`, "threshold")
    .option("--forced", "a keeper's rebalance: also prove the old position was below the policy's trigger")
    .option("--instance <name>", "rebalance circuit instance (default: the smallest built one that fits the market)")
    .option("--chain-id <id>", "bind the proof to a gate: its chain id (with --contract)")
    .option("--contract <address>", "bind the proof to a gate: its address (with --chain-id, or on the --rpc chain)")
    .option("--context <n>", "the gate's context signal directly (default: the --deployment's gate, else 0: off-chain only)")
    .option("--keeper-key <file>", GATE_FLAG_HELP.keeperKey)
    .option("--deployment <file>", GATE_FLAG_HELP.deployment)
    .option("--rpc <url>", GATE_FLAG_HELP.rpc);
  addProverFlag(command)
    .option("--json", "machine-readable output")
    .addHelpText("after", KEEPER_KEY_HELP)
    .action(async (flags: RebalanceFlags) => {
      // Who proves, first: a bad name, a missing or a broken rapidsnark is one line before any work.
      const prover = await proverFromFlag(flags.prover);
      const market = loadMarketFile(flags.market);
      const policy = loadPolicyFile(flags.policy, market);
      const position = loadPositionFile(flags.position, market);
      if (position.salt === undefined) throw new InputError(flags.position, "salt", "missing; the old position must open its commitment (run `zks commit --add-salt` first)");
      const newPositionFile = path.join(flags.out, "position.json");
      if (same(newPositionFile, flags.position)) throw new InputError("--out", "", `${newPositionFile} is the input position; choose another directory`);

      const forced = Boolean(flags.forced);
      let planned: { next: Position; movements: Movements };
      let explanation: string[];
      if (flags.plan) {
        const parsed = parsePlanFile(readJsonFile(flags.plan), flags.plan, market, position);
        if (!parsed.needed) return nothingToDo(flags, ["the plan says no rebalance is needed"]);
        planned = { next: parsed.position, movements: parsed.movements };
        explanation = parsed.explanation;
      } else {
        if (!STRATEGIES.includes(flags.strategy as Strategy)) throw new InputError("--strategy", "", `expected one of ${STRATEGIES.join(", ")}, got "${flags.strategy}"`);
        const allowance = flags.allow === undefined ? emptyAllowance(market) : parseAllowance(readJsonFile(flags.allow), flags.allow, market);
        const result = plan(position, market, policy, allowance, { strategy: flags.strategy as Strategy, forced });
        if (result.kind === "none") throw new ZksError(`no rebalance: ${result.reason}`, EXIT.checkFailed);
        if (!result.needed) return nothingToDo(flags, result.explanation);
        planned = { next: result.position, movements: result.movements };
        explanation = result.explanation;
      }
      // The new commitment gets a fresh salt: the old one is known to whoever saw the old position.
      // A keeper's transition keeps the owner's salt (the circuit requires it), so the owner can
      // still open the new commitment.
      const next = { ...planned.next, nonce: position.nonce + 1n, salt: forced ? position.salt : randomSalt() };
      // Every balance change must be a token movement the gate performs (docs/custody.md): exit 2 before proving otherwise.
      const transition = backedTransition(position, next, planned.movements, market, policy, forced);
      // The keeper key (and the gate) before proving: a missing or stale key is one line, not a revert.
      const binding = await gateBindingFromFlags(flags);
      // The new position must pass the whole policy: only an instance with all four checks.
      const { artifacts, layout } = selectInstance("Rebalance", market, flags.instance, undefined, ALL_CHECKS);
      const say = (line: string) => !flags.json && process.stderr.write(`${line}\n`);
      say(`proving the rebalance with ${artifacts.instance} (${artifacts.manifest.nConstraints.toLocaleString("en-US")} constraints)...`);
      const signals = rebalanceInput(transition, market, policy, layout, flags.position, binding.context, { keeperKey: binding.keeperKey });
      const zkProof = await proveBuiltInstance(signals, artifacts, { prover });
      if (!(await verifyProof(artifacts.verificationKey, zkProof))) throw new Error("the proof just made does not verify");
      const file = toProofFile(zkProof, { statement: "rebalance", epoch: market.epoch, manifest: artifacts.manifest });
      // Proof first, the new position last: a directory with position.json always has its proof.
      const written = writeProofFiles(flags.out, file);
      writeFileSafely(newPositionFile, `${JSON.stringify(positionToJson(next, market), null, 2)}\n`);

      const before = checkPosition(position, market, policy);
      const after = checkPosition(next, market, policy);
      const hf = (r: typeof before) => (r.healthFactor.value === null ? "none (no debt)" : formatHuman(r.healthFactor.value, 4, 4));
      const summary = {
        instance: artifacts.instance,
        proofSeconds: Number(((zkProof.timings.witnessMs + zkProof.timings.proofMs) / 1000).toFixed(2)),
        ...proverJson(zkProof, prover),
        healthFactor: { before: before.healthFactor.value, after: after.healthFactor.value },
        pass: { before: before.pass, after: after.pass },
        files: { position: newPositionFile, proof: written.proof, publicSignals: written.publicSignals },
        publicSignals: file.zks.named,
        key: { verificationKeyHash: file.zks.verificationKeyHash, source: file.zks.keySource },
        keeperKey: keeperKeySummary(binding),
        explanation,
      };
      if (flags.json) return printJson(summary);
      say(provedWithLine(zkProof, summary.proofSeconds, prover));
      process.stdout.write(
        [
          ...explanation,
          `health factor ${hf(before)} -> ${hf(after)}; checks ${before.pass ? "PASS" : "FAIL"} -> ${after.pass ? "PASS" : "FAIL"}`,
          `proof (${artifacts.instance}) made in ${summary.proofSeconds} s and verified`,
          keyLine(file.zks),
          keeperKeyLine(binding),
          `wrote ${newPositionFile} (nonce ${next.nonce}, ${forced ? "the owner's salt kept" : "new salt: keep it private"}), ${written.proof}, ${written.publicSignals}`,
          `check it with: zks verify --proof ${written.proof}`,
          "",
        ].join("\n"),
      );
    });
}

function nothingToDo(flags: RebalanceFlags, explanation: string[]): void {
  if (flags.json) printJson({ needed: false, explanation });
  else process.stdout.write(`NOTHING TO DO: ${explanation.join("; ")}\n`);
}
