import type { Command } from "commander";
import type { VerificationKey } from "snarkjs";
import { InputError } from "../../core/errors.ts";
import { loadInstanceArtifacts } from "../../node/artifacts.ts";
import { readJsonFile } from "../../node/read-json.ts";
import { parseProofFile } from "../../proof-file/proof-file.ts";
import { verifyProof } from "../../verifier/verify.ts";
import { EXIT, printJson } from "../output.ts";

interface VerifyFlags {
  proof: string;
  vkey?: string;
  json?: boolean;
}

export function registerVerify(program: Command): void {
  program
    .command("verify")
    .description("verify a proof file off-chain with its instance's verification key (exit 0 valid, 1 invalid)")
    .requiredOption("--proof <file>", "proof.json written by zks (snarkjs' proof plus zks metadata)")
    .option("--vkey <file>", "verification key JSON (default: the built key of the proof's instance)")
    .option("--json", "machine-readable output")
    .action(async (flags: VerifyFlags) => {
      const { file, zkProof } = parseProofFile(readJsonFile(flags.proof), flags.proof);
      let verificationKey: VerificationKey;
      if (flags.vkey) {
        verificationKey = readJsonFile(flags.vkey) as VerificationKey;
        if (typeof verificationKey !== "object" || verificationKey === null || verificationKey.protocol !== "groth16") {
          throw new InputError(flags.vkey, "protocol", "not a Groth16 verification key");
        }
      } else {
        verificationKey = loadInstanceArtifacts(file.zks.instance).verificationKey;
      }
      const valid = await verifyProof(verificationKey, zkProof);
      if (flags.json) {
        printJson({ valid, instance: file.zks.instance, statement: file.zks.statement, epoch: file.zks.epoch, publicSignals: file.zks.named });
      } else {
        const lines = [
          `${valid ? "VALID" : "INVALID"}: ${file.zks.statement} proof, instance ${file.zks.instance}, epoch ${file.zks.epoch}`,
          ...Object.entries(file.zks.named).map(([name, value]) => `  ${name.padEnd(16)} ${value}`),
        ];
        process.stdout.write(`${lines.join("\n")}\n`);
      }
      if (!valid) process.exitCode = EXIT.checkFailed;
    });
}
