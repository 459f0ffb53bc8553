import type { Command } from "commander";
import { encodeRebalance, encodeRecordClaim, encodeRegister, SOLVENCY_SIGNAL_COUNT, custodySizesOf } from "@zk-solvency/sdk/chain";
import { InputError } from "@zk-solvency/sdk/core";
import { readJsonFile } from "@zk-solvency/node";
import { parseProofFile, type ProofFile } from "@zk-solvency/sdk/proof-file";
import type { ZkProof } from "@zk-solvency/sdk/prover";
import { toSolidityProof } from "@zk-solvency/sdk/verifier";
import { printJson } from "../output.ts";
import { epochFlag } from "../support/chain.ts";

export const GATE_FUNCTIONS = ["register", "rebalance", "recordClaim"] as const;
export type GateFunction = (typeof GATE_FUNCTIONS)[number];

interface CalldataFlags {
  proof: string;
  for?: string;
  epoch?: string;
  json?: boolean;
}

const ENCODERS: Record<GateFunction, (epoch: bigint, zkProof: ZkProof) => string> = {
  register: encodeRegister,
  rebalance: encodeRebalance,
  recordClaim: encodeRecordClaim,
};

/**
 * Is the proof of the kind `fn` takes? register takes a Rebalance proof from the empty position
 * (fromEmpty = 1, docs/custody.md), rebalance a Rebalance proof with fromEmpty = 0, recordClaim a
 * Solvency proof.
 */
export function checkProofFor(fn: GateFunction, file: ProofFile, source: string): void {
  const names = Object.keys(file.zks.named);
  const isRebalance = "oldCommitment" in file.zks.named;
  const isSolvency = !isRebalance && file.zks.publicSignals.length === SOLVENCY_SIGNAL_COUNT && "marketRoot" in file.zks.named;
  if (fn === "recordClaim") {
    if (!isSolvency) throw new InputError(source, "zks.instance", `${file.zks.instance} is not a Solvency proof; \`recordClaim\` takes one from \`zks prove\``);
    return;
  }
  const producer = fn === "register" ? "a registration (a Rebalance proof from the empty position)" : "one from `zks rebalance`";
  if (!isRebalance) throw new InputError(source, "zks.instance", `${file.zks.instance} is not a Rebalance proof; \`${fn}\` takes ${producer}`);
  if (!custodySizesOf(names))
    throw new InputError(
      source,
      "zks.instance",
      `${file.zks.instance}: the proof's public signals are not the custody layout (docs/custody.md); rebuild with \`zks setup\` and prove again`,
    );
  // A keeper's liquidation proof is for the gate's flagBelowTrigger or liquidate (`zks keeper`), which the gate checks apart.
  if (BigInt(file.zks.named.liquidation ?? 0) === 1n)
    throw new InputError(
      source,
      "zks.named.liquidation",
      `a keeper's liquidation proof (liquidation = 1): the gate takes it with flagBelowTrigger or liquidate (zks keeper), not \`${fn}\``,
    );
  const fromEmpty = BigInt(file.zks.named.fromEmpty!) === 1n;
  if (fn === "register" && !fromEmpty)
    throw new InputError(
      source,
      "zks.named.fromEmpty",
      "`register` takes a proof from the empty position (fromEmpty = 1); this one moves a registered position: use --for rebalance",
    );
  if (fn === "rebalance" && fromEmpty)
    throw new InputError(source, "zks.named.fromEmpty", "this proof starts from the empty position (fromEmpty = 1): it registers the account, use --for register");
}

export function gateFunctionFlag(text: string): GateFunction {
  if (!(GATE_FUNCTIONS as readonly string[]).includes(text)) throw new InputError("--for", "", `expected one of ${GATE_FUNCTIONS.join(", ")}, got "${text}"`);
  return text as GateFunction;
}

export function registerCalldata(program: Command): void {
  program
    .command("calldata")
    .description("print a proof file's Solidity calldata: verifyProof(a, b, c, input) as decimal strings, or a gate call's ABI-encoded data")
    .requiredOption("--proof <file>", "proof.json written by zks")
    .option(
      "--for <function>",
      `also ABI-encode the call of a gate contract: ${GATE_FUNCTIONS.join(" | ")} (register and rebalance on RebalanceGate with Rebalance proofs, recordClaim on AuditRegistry with a Solvency proof)`,
    )
    .option("--epoch <n>", "the market epoch argument of the gate call (default: the proof's epoch)")
    .option("--json", "machine-readable output (one JSON object)")
    .addHelpText("after", "\nExit status: 0 printed, 2 bad input (not a proof file, wrong kind of proof for --for).")
    .action((flags: CalldataFlags) => {
      const { file, zkProof } = parseProofFile(readJsonFile(flags.proof), flags.proof);
      if (flags.epoch !== undefined && flags.for === undefined) throw new InputError("--epoch", "", "is the argument of a gate call; give --for too");
      const { a, b, c, input } = toSolidityProof(zkProof);
      const dec = (x: bigint) => x.toString();
      const solidity = { a: a.map(dec), b: b.map((pair) => pair.map(dec)), c: c.map(dec), input: input.map(dec) };
      let call: { function: GateFunction; contract: string; epoch: string; data: string } | undefined;
      if (flags.for !== undefined) {
        const fn = gateFunctionFlag(flags.for);
        checkProofFor(fn, file, flags.proof);
        const epoch = flags.epoch === undefined ? BigInt(file.zks.epoch) : epochFlag(flags.epoch);
        call = { function: fn, contract: fn === "recordClaim" ? "AuditRegistry" : "RebalanceGate", epoch: epoch.toString(), data: ENCODERS[fn](epoch, zkProof) };
      }
      if (flags.json) {
        printJson({ instance: file.zks.instance, statement: file.zks.statement, ...solidity, ...(call ? { call } : {}) });
        return;
      }
      const lines = [
        `// verifyProof(a, b, c, input) of ${file.zks.instance} (${file.zks.statement} proof, epoch ${file.zks.epoch})`,
        `a     = ${JSON.stringify(solidity.a)}`,
        `b     = ${JSON.stringify(solidity.b)}`,
        `c     = ${JSON.stringify(solidity.c)}`,
        `input = ${JSON.stringify(solidity.input)}`,
      ];
      if (call) lines.push(`// ${call.contract}.${call.function}(epoch ${call.epoch}, proof, signals)`, `data  = ${call.data}`);
      process.stdout.write(`${lines.join("\n")}\n`);
    });
}
