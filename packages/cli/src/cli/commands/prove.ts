import { Command, CommanderError } from "commander";
import { InputError, ZksError } from "@zk-solvency/sdk/core";
import { proveStatementFiles } from "@zk-solvency/node";
import { keyLine } from "@zk-solvency/sdk/proof-file";
import { SOLVENCY_STATEMENTS } from "@zk-solvency/sdk/workflows";
import { EXIT, printJson } from "../output.ts";
import { contextFromFlags } from "../support/chain.ts";
import { GATE_FLAG_HELP } from "../support/keeper-key.ts";
import { addProverFlag, proverFromFlag, proverJson, provedWithLine } from "../support/prover-flag.ts";
import { registerRebalance } from "./rebalance.ts";

/** Statements `zks prove` accepts; all but `rebalance` are proven with a Solvency instance. */
export const STATEMENTS = [...SOLVENCY_STATEMENTS, "rebalance"] as const;
export type Statement = (typeof STATEMENTS)[number];

interface ProveFlags {
  position: string;
  market: string;
  policy: string;
  out: string;
  instance?: string;
  context?: string;
  chainId?: string;
  contract?: string;
  plan?: string;
  allow?: string;
  strategy?: string;
  forced?: boolean;
  keeperKey?: string;
  deployment?: string;
  rpc?: string;
  prover?: string;
  json?: boolean;
}

const HELP = `
Statements:
  health, stress, var, audit  proven with a Solvency instance (the smallest built one that fits the
                              market and checks what the statement names, or --instance). With a
                              solvency-* instance one proof covers ALL of the policy's checks
                              (health factor, stress, historical and parametric VaR); health-var-*
                              instances (long histories) check all but stress and minimum equity,
                              so stress and audit never use them. Every check of the policy must
                              pass whichever statement you name. An --instance lacking a check the
                              statement needs (or the policy's VaR method) is bad input (exit 2).
                              The name is recorded as the proof's purpose ("zks.statement").
  rebalance                   the same as \`zks rebalance\` (needs --plan FILE or --allow FILE, and the
                              keeper key: --keeper-key, --deployment or --rpc; also writes
                              DIR/position.json, the new position).

Binding: a proof for a contract must carry its context: --context N (from a deployments file's
"contexts"), or --chain-id ID --contract ADDR to compute it; the default 0 is for off-chain checks.

Prover: --prover rapidsnark (or auto, the default, when one is found) proves natively; every such
proof is checked against its witness and verified before it is written (README, "Native prover").

Exit status: 0 proof written, 1 a check fails (explained; no proof), 2 bad input, 3 setup (not built,
or rapidsnark missing or broken).`;

export function registerProve(program: Command): void {
  const command = program
    .command("prove")
    .description("prove a statement about a private position (health | stress | var | audit | rebalance) and write DIR/proof.json + DIR/public.json")
    .argument("<statement>", `what to prove: ${STATEMENTS.join(" | ")}`)
    .requiredOption("--position <file>", "position.json (private; needs its salt)")
    .requiredOption("--market <file>", "market.json of the epoch")
    .requiredOption("--policy <file>", "policy.json")
    .requiredOption("--out <dir>", "where to write proof.json and public.json")
    .option("--instance <name>", "circuit instance (default: the smallest built one that fits the market and checks what the statement needs)")
    .option("--context <n>", "the proof's context signal (binds it to one contract on one chain)")
    .option("--chain-id <id>", "with --contract: compute the context of that contract on that chain")
    .option("--contract <address>", "the gate (register, rebalance) or registry (audit claims) the proof is for")
    .option("--plan <file>", "rebalance: a plan file from `zks plan --out`")
    .option("--allow <file>", "rebalance: allow.json to plan with (see `zks plan --help`)")
    .option("--strategy <name>", "rebalance: planning strategy (see `zks rebalance --help`)")
    .option("--forced", "rebalance: a keeper's rebalance (proves the old position was below the trigger)")
    .option("--keeper-key <file>", `rebalance: ${GATE_FLAG_HELP.keeperKey}`)
    .option("--deployment <file>", `rebalance: ${GATE_FLAG_HELP.deployment}`)
    .option("--rpc <url>", `rebalance: ${GATE_FLAG_HELP.rpc}`);
  addProverFlag(command)
    .option("--json", "machine-readable output")
    .addHelpText("after", HELP)
    .action(async (statement: string, flags: ProveFlags) => {
      if (!(STATEMENTS as readonly string[]).includes(statement)) throw new InputError("statement", "", `expected one of ${STATEMENTS.join(", ")}, got "${statement}"`);
      if (statement === "rebalance") return proveRebalance(flags);
      for (const [flag, given] of [
        ["--plan", flags.plan],
        ["--allow", flags.allow],
        ["--strategy", flags.strategy],
        ["--forced", flags.forced],
        ["--keeper-key", flags.keeperKey],
        ["--deployment", flags.deployment],
        ["--rpc", flags.rpc],
      ] as const) {
        if (given !== undefined) throw new InputError(flag, "", `is for \`zks prove rebalance\`, not ${statement}`);
      }
      const context = contextFromFlags(flags);
      const prover = await proverFromFlag(flags.prover);
      const proved = await proveStatementFiles({
        statement: statement as Exclude<Statement, "rebalance">,
        position: flags.position,
        market: flags.market,
        policy: flags.policy,
        out: flags.out,
        context,
        prover,
        ...(flags.instance !== undefined && { instance: flags.instance }),
        onProving: (instance, constraints) => {
          if (!flags.json) process.stderr.write(`proving ${statement} with ${instance} (${constraints.toLocaleString("en-US")} constraints)...\n`);
        },
      });
      const { checks, market, position } = proved;
      const explained = checks.map((c) => ({ check: c.check, pass: c.pass, explanation: c.line }));

      // A failing position gets an explanation, not a witness error.
      if (!proved.proved) {
        if (flags.json) {
          printJson({ proved: false, statement, pass: false, failing: proved.failing.map((c) => ({ check: c.check, explanation: c.line })), checks: explained });
        } else {
          process.stdout.write(
            [
              `FAIL: no ${statement} proof: ${proved.failing.length} of ${checks.length} checks fail (a Solvency proof needs them all to pass)`,
              ...checks.map((c) => `  ${c.pass ? "PASS" : "FAIL"}  ${c.line}`),
              "",
            ].join("\n"),
          );
        }
        process.exitCode = EXIT.checkFailed;
        return;
      }

      const { file, files: written, made } = proved;
      if (flags.json) {
        printJson({
          proved: true,
          statement,
          instance: proved.instance,
          epoch: market.epoch,
          context: context.toString(),
          proofSeconds: proved.proofSeconds,
          ...proverJson(made!, prover),
          files: { proof: written!.proof, publicSignals: written!.publicSignals },
          publicSignals: file.zks.named,
          key: { verificationKeyHash: file.zks.verificationKeyHash, source: file.zks.keySource },
          checks: explained,
        });
        return;
      }
      process.stderr.write(`${provedWithLine(made!, proved.proofSeconds, prover)}\n`);
      process.stdout.write(
        [
          `PROVED: ${statement} (all ${checks.length} checks of the policy) for account ${position.account}, epoch ${market.epoch}`,
          ...checks.map((c) => `  PASS  ${c.line}`),
          `proof (${proved.instance}) made in ${proved.proofSeconds} s and verified; context ${context === 0n ? "0 (off-chain only)" : context.toString()}`,
          keyLine(file.zks),
          `wrote ${written!.proof}, ${written!.publicSignals}`,
          `check it with: zks verify --proof ${written!.proof}`,
          "",
        ].join("\n"),
      );
    });
}

/** `zks prove rebalance`: runs `zks rebalance`'s own command with the same flags. */
async function proveRebalance(flags: ProveFlags): Promise<void> {
  if (flags.plan === undefined && flags.allow === undefined) throw new InputError("rebalance", "", "needs --plan FILE (from `zks plan --out`) or --allow FILE to plan with");
  const args = ["rebalance", "--position", flags.position, "--market", flags.market, "--policy", flags.policy, "--out", flags.out];
  if (flags.plan !== undefined) args.push("--plan", flags.plan);
  if (flags.allow !== undefined) args.push("--allow", flags.allow);
  if (flags.strategy !== undefined) args.push("--strategy", flags.strategy);
  if (flags.instance !== undefined) args.push("--instance", flags.instance);
  if (flags.forced) args.push("--forced");
  if (flags.context !== undefined) args.push("--context", flags.context);
  if (flags.chainId !== undefined) args.push("--chain-id", flags.chainId);
  if (flags.contract !== undefined) args.push("--contract", flags.contract);
  if (flags.keeperKey !== undefined) args.push("--keeper-key", flags.keeperKey);
  if (flags.deployment !== undefined) args.push("--deployment", flags.deployment);
  if (flags.rpc !== undefined) args.push("--rpc", flags.rpc);
  if (flags.prover !== undefined) args.push("--prover", flags.prover);
  if (flags.json) args.push("--json");
  const inner = new Command().name("zks").exitOverride();
  registerRebalance(inner);
  try {
    await inner.parseAsync(args, { from: "user" });
  } catch (error) {
    if (error instanceof CommanderError) throw new ZksError(error.message.replace(/^error: /, ""), EXIT.badInput);
    throw error;
  }
}
