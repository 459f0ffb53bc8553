import path from "node:path";
import type { Command } from "commander";
import { randomSalt } from "@zk-solvency/sdk/commitment";
import { formatHuman, parseDecimal, DEBT_INDEX_DECIMALS, DEBT_INDEX_SCALE, InputError } from "@zk-solvency/sdk/core";
import { positionToJson } from "@zk-solvency/sdk/inputs";
import { checkPosition } from "@zk-solvency/sdk/model";
import { selectInstance, writeFileSafely, writeProofFiles, proveBuiltInstance } from "@zk-solvency/node";
import { ALL_CHECKS, verifyProof } from "@zk-solvency/sdk/verifier";
import { keyLine, toProofFile } from "@zk-solvency/sdk/proof-file";
import { rebalanceInput } from "@zk-solvency/sdk/prover";
import { describeMovements, registrationTransition } from "@zk-solvency/sdk/rebalance";
import { loadMarketFile, loadPolicyFile, loadPositionFile } from "../load-inputs.ts";
import { printJson } from "../output.ts";
import { GATE_FLAG_HELP, gateBindingFromFlags, KEEPER_KEY_HELP, keeperKeyLine, keeperKeySummary } from "../support/keeper-key.ts";
import { addProverFlag, proverFromFlag, proverJson, provedWithLine } from "../support/prover-flag.ts";

interface RegisterFlags {
  position: string;
  market: string;
  policy: string;
  out: string;
  lenderIndex?: string[];
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

/** `--lender-index USDC=1.0000057`: the lender's current index of an asset, 18 decimals. */
function parseLenderIndex(values: string[] | undefined, symbols: string[]): (bigint | undefined)[] {
  const index: (bigint | undefined)[] = symbols.map(() => undefined);
  for (const value of values ?? []) {
    const [symbol, text, extra] = value.split("=");
    if (!symbol || text === undefined || extra !== undefined) throw new InputError("--lender-index", "", `expected SYMBOL=INDEX like USDC=1.0000057, got "${value}"`);
    const i = symbols.indexOf(symbol);
    if (i < 0) throw new InputError("--lender-index", "", `${symbol} is not an asset of the market (${symbols.join(", ")})`);
    try {
      index[i] = parseDecimal(text, DEBT_INDEX_DECIMALS);
    } catch (error) {
      throw new InputError("--lender-index", symbol, (error as Error).message);
    }
    if (index[i]! < DEBT_INDEX_SCALE) throw new InputError("--lender-index", symbol, `a debt index is at least 1, got ${text}`);
  }
  return index;
}

export function registerRegister(program: Command): void {
  const command = program
    .command("register")
    .description("prove a registration: the position as a deposit (and borrow) from the empty position, the only way a gate accepts a first commitment (docs/custody.md)")
    .requiredOption("--position <file>", "position.json to register (private; never modified)")
    .requiredOption("--market <file>", "market.json of the latest epoch")
    .requiredOption("--policy <file>", "policy.json")
    .requiredOption("--out <dir>", "where to write position.json (the registered position, nonce 1), proof.json and public.json")
    .option(
      "--lender-index <SYMBOL=INDEX...>",
      "the lender's current debt index of a borrowed asset (default 1: the registration credits the least the lender delivers; the gate forwards any excess to the wallet)",
    )
    .option("--instance <name>", "rebalance circuit instance (default: the smallest built one that fits the market)")
    .option("--chain-id <id>", "bind the proof to a gate: its chain id (with --contract)")
    .option("--contract <address>", "bind the proof to a gate: its address (with --chain-id, or on the --rpc chain)")
    .option("--context <n>", "the gate's context signal directly (default: the --deployment's gate, else 0: off-chain only)")
    .option("--keeper-key <file>", GATE_FLAG_HELP.keeperKey)
    .option("--deployment <file>", GATE_FLAG_HELP.deployment)
    .option("--rpc <url>", GATE_FLAG_HELP.rpc)
    .option("--json", "machine-readable output")
    .addHelpText("after", KEEPER_KEY_HELP);
  addProverFlag(command).action(async (flags: RegisterFlags) => {
    // The prover first: a bad --prover or a broken rapidsnark is one line before any work.
    const prover = await proverFromFlag(flags.prover);
    const market = loadMarketFile(flags.market);
    const policy = loadPolicyFile(flags.policy, market);
    const loaded = loadPositionFile(flags.position, market);
    if (loaded.nonce !== 0n)
      throw new InputError(flags.position, "nonce", `a registration creates nonce 1 from the empty position; this position is at nonce ${loaded.nonce} (already registered?)`);
    // A registered position needs a salt of its own; one is drawn when the file has none.
    const position = { ...loaded, salt: loaded.salt ?? randomSalt() };
    const lenderIndex = parseLenderIndex(
      flags.lenderIndex,
      market.assets.map((a) => a.symbol),
    );
    // Exit 2 with one line, before proving, when the position cannot be registered.
    const transition = registrationTransition(position, market, policy, { lenderIndex });
    // The keeper key (and the gate) before proving: a missing or stale key is one line, not a revert.
    const binding = await gateBindingFromFlags(flags);
    // The new position must pass the whole policy: only an instance with all four checks.
    const { artifacts, layout } = selectInstance("Rebalance", market, flags.instance, undefined, ALL_CHECKS);
    const say = (line: string) => !flags.json && process.stderr.write(`${line}\n`);
    say(`proving the registration with ${artifacts.instance} (${artifacts.manifest.nConstraints.toLocaleString("en-US")} constraints)...`);
    const zkProof = await proveBuiltInstance(rebalanceInput(transition, market, policy, layout, flags.position, binding.context, { keeperKey: binding.keeperKey }), artifacts, {
      prover,
    });
    if (!(await verifyProof(artifacts.verificationKey, zkProof))) throw new Error("the proof just made does not verify");
    const file = toProofFile(zkProof, { statement: "register", epoch: market.epoch, manifest: artifacts.manifest });
    const written = writeProofFiles(flags.out, file);
    const newPositionFile = path.join(flags.out, "position.json");
    writeFileSafely(newPositionFile, `${JSON.stringify(positionToJson(transition.next, market), null, 2)}\n`);

    const report = checkPosition(transition.next, market, policy);
    const movements = describeMovements(transition, market);
    const summary = {
      instance: artifacts.instance,
      proofSeconds: Number(((zkProof.timings.witnessMs + zkProof.timings.proofMs) / 1000).toFixed(2)),
      healthFactor: report.healthFactor.value,
      movements,
      files: { position: newPositionFile, proof: written.proof, publicSignals: written.publicSignals },
      publicSignals: file.zks.named,
      key: { verificationKeyHash: file.zks.verificationKeyHash, source: file.zks.keySource },
      keeperKey: keeperKeySummary(binding),
      ...proverJson(zkProof, prover),
    };
    if (flags.json) return printJson(summary);
    say(provedWithLine(zkProof, summary.proofSeconds, prover));
    const hf = report.healthFactor.value === null ? "none (no debt)" : formatHuman(report.healthFactor.value, 4, 4);
    process.stdout.write(
      [
        `registration from the empty position: ${movements.join(", ")}`,
        `health factor ${hf}; every check PASS`,
        `proof (${artifacts.instance}, ${zkProof.prover}) made in ${summary.proofSeconds} s and verified`,
        keyLine(file.zks),
        keeperKeyLine(binding),
        `wrote ${newPositionFile} (nonce 1: keep it and its salt private), ${written.proof}, ${written.publicSignals}`,
        `send it with: zks submit --proof ${written.proof} --for register --epoch ${market.epoch} --deployment DEPLOYMENT`,
        "",
      ].join("\n"),
    );
  });
}
