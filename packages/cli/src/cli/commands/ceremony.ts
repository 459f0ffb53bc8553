import { existsSync } from "node:fs";
import path from "node:path";
import type { Command } from "commander";
import { InputError } from "@zk-solvency/sdk/core";
import { buildCircuits, loadInstances, manifestFiles, isPublicCeremonyPtau, requiredPower } from "@zk-solvency/node/setup";
import {
  ceremonyContribute,
  ceremonyFinalize,
  ceremonyInit,
  deployability,
  loadTranscript,
  MIN_CONTRIBUTIONS,
  parseBeacon,
  parseIterations,
  resolveCeremonyPtau,
  transcriptBeside,
  verifyCeremonyZkey,
  type CeremonyCircuit,
  type LoadedTranscript,
  type StepResult,
  defaultBuildPaths,
  type BuildPaths,
} from "@zk-solvency/node/setup";
import { printJson } from "../output.ts";

const EXIT_HELP = "Exit status: 0 done, 1 a key or transcript failed a check (tampered, out of order, another circuit), 2 bad input, 3 missing ptau or unbuildable circuit.";

/** Instance names come from packages/circuits/instances.json only: the name becomes a build path. */
function checkInstance(name: string): void {
  const all = loadInstances();
  if (!/^[a-z0-9-]+$/.test(name) || !all.some((instance) => instance.name === name)) {
    throw new InputError("--instance", "", `unknown circuit instance "${name}" (declared: ${all.map((i) => i.name).join(", ")})`);
  }
}

/**
 * The instance compiled here (the r1cs every check runs against) and the ptau: the public
 * ceremony file the transcript names, or --ptau / ZKS_PTAU. The compile goes to a scratch build
 * (<build>/ceremony/) so the ceremony never touches the installed keys: a new ceremony for a
 * changed circuit starts on a machine whose build holds the old ceremony's key. Notes (a compile,
 * a ptau that is not a published ceremony file) are collected for the report rather than
 * printed, so a failure stays one line.
 */
export async function ceremonyCircuit(
  instance: string,
  ptauFlag: string | undefined,
  notes: string[],
  transcript?: LoadedTranscript,
  paths: BuildPaths = defaultBuildPaths(),
): Promise<CeremonyCircuit> {
  checkInstance(instance);
  const scratch: BuildPaths = { buildDir: path.join(paths.buildDir, "ceremony"), generatedContractsDir: paths.generatedContractsDir };
  const log = (message: string) => void notes.push(message);
  const [built] = (await buildCircuits({ instances: [instance], compileOnly: true, paths: scratch, log })).instances;
  const { manifest, dir } = built!;
  const ptau = await resolveCeremonyPtau({
    ptau: ptauFlag,
    requiredPower: requiredPower(manifest.nConstraints, manifest.nPublic),
    transcript,
    hashCacheFile: path.join(paths.buildDir, "ptau-hashes.json"),
    log,
  });
  return { instance, compileKey: manifest.compileKey, r1cs: manifestFiles(dir, manifest).r1cs, nConstraints: manifest.nConstraints, nPublic: manifest.nPublic, ptau };
}

/** How a ptau is named in reports: whether it is a public ceremony file is the first thing a reader needs. */
const phase1 = (ptau: CeremonyCircuit["ptau"]): string =>
  `${ptau.path} (power ${ptau.power}, blake2b ${ptau.blake2b.slice(0, 16)}…, ${isPublicCeremonyPtau(ptau.power, ptau.blake2b) ? "the public ceremony file" : "NOT a known public ceremony file: an untrusted phase 1"})`;

const relative = (file: string): string => path.relative(process.cwd(), file) || ".";

function printStep(result: StepResult, json: boolean | undefined, next: string): void {
  if (json) return printJson(result);
  const { entry } = result;
  process.stdout.write(
    [
      `${entry.kind === "beacon" ? "FINALIZED" : "CONTRIBUTED"}: #${entry.index} ${entry.name} -> ${relative(result.output)}`,
      `  contribution hash  ${entry.contributionHash}`,
      `  zkey sha256        ${entry.zkeySha256}`,
      ...(entry.beacon ? [`  beacon             ${entry.beacon.hash} (2^${entry.beacon.iterationsExp} SHA-256 iterations; ${entry.beacon.source})`] : []),
      ...(entry.statement ? [`  statement          ${entry.statement}`] : []),
      `  transcript         ${relative(result.transcriptFile)}`,
      next,
      "",
    ].join("\n"),
  );
}

export function registerCeremony(program: Command): void {
  const ceremony = program
    .command("ceremony")
    .description("run a multi-party Groth16 phase-2 ceremony for one instance: init, contribute (each party on their own machine), verify, finalize with a public beacon")
    .addHelpText(
      "after",
      [
        "",
        "  zks ceremony init --instance NAME --out DIR               the zero-contribution key DIR/NAME_0000.zkey and DIR/transcript.json",
        "  zks ceremony contribute --in K --out K2 --name WHO        one party's contribution (each on their own machine)",
        "  zks ceremony verify --zkey K --instance NAME              snarkjs zkey verify against the r1cs and ptau, hashes against the transcript",
        "  zks ceremony finalize --in K --out FINAL --beacon HEX     the public beacon's contribution (announced in advance)",
        '  zks setup --instance NAME --zkey FINAL --transcript T     install the key (README, "Running a phase-2 ceremony")',
        "",
        `A deployable key has at least ${MIN_CONTRIBUTIONS} contributions by distinct names, then the beacon, on a public phase-1 ptau`,
        "(the Hermez/Polygon file: whoever made any other ptau can forge proofs). --untrusted-ptau runs a rehearsal on another one.",
      ].join("\n"),
    );

  ceremony
    .command("init")
    .description("start a ceremony: compile the instance if needed and write its zero-contribution key and an empty transcript")
    .requiredOption("--instance <name>", "the circuit instance (circuits/instances.json)")
    .requiredOption("--out <dir>", "a new directory for the ceremony's keys and transcript.json")
    .option("--ptau <file>", "prepared powers-of-tau file (default: $ZKS_PTAU, else the public ceremony file; never a development ptau)")
    .option("--untrusted-ptau", "accept a ptau that is not a known public ceremony file: a rehearsal, whose key is never deployable")
    .option("--json", "machine-readable output")
    .addHelpText("after", `\n${EXIT_HELP}`)
    .action(async (flags: { instance: string; out: string; ptau?: string; untrustedPtau?: boolean; json?: boolean }) => {
      const notes: string[] = [];
      const circuit = await ceremonyCircuit(flags.instance, flags.ptau, notes);
      const result = await ceremonyInit(circuit, path.resolve(flags.out), { untrustedPtau: flags.untrustedPtau });
      if (flags.json) return printJson({ ...result, notes });
      const { transcript } = result;
      process.stdout.write(
        [
          `INITIALIZED: ${flags.instance} (${transcript.circuit.nConstraints} constraints) -> ${relative(result.zkey)}`,
          `  circuit hash       ${transcript.circuit.circuitHash}`,
          `  r1cs sha256        ${transcript.circuit.r1csSha256}`,
          `  ptau               ${phase1(circuit.ptau)}`,
          `  zkey sha256        ${transcript.initial.zkeySha256}`,
          `  transcript         ${relative(result.transcriptFile)}`,
          ...notes.map((note) => `  note: ${note}`),
          `next: send ${path.basename(result.zkey)} and transcript.json to the first party: zks ceremony contribute --in ${path.basename(result.zkey)} --out ${flags.instance}_0001.zkey --name WHO`,
          "",
        ].join("\n"),
      );
    });

  ceremony
    .command("contribute")
    .description("add one party's contribution of secret randomness; run it on your own machine and publish the contribution hash it prints")
    .requiredOption("--in <zkey>", "the ceremony's latest key")
    .requiredOption("--out <zkey>", "the new key (a new file)")
    .requiredOption("--name <who>", "who contributes (printed in every verification, at most 64 characters)")
    .option("--entropy <text>", "extra entropy, mixed with the system's randomness (default: 64 random bytes)")
    .option("--statement <url>", "where you publish your contribution hash (a signed message, a URL), recorded in the transcript for the deployer to match")
    .option("--transcript <file>", "the ceremony's transcript (default: transcript.json beside --in); the updated one is written beside --out")
    .option("--json", "machine-readable output")
    .addHelpText("after", `\nThe contribution's randomness never leaves this process. ${EXIT_HELP}`)
    .action(async (flags: { in: string; out: string; name: string; entropy?: string; statement?: string; transcript?: string; json?: boolean }) => {
      if (flags.entropy !== undefined && flags.entropy.length === 0) throw new InputError("--entropy", "", "must not be empty (omit it for system randomness)");
      const result = await ceremonyContribute({
        input: path.resolve(flags.in),
        output: path.resolve(flags.out),
        name: flags.name,
        entropy: flags.entropy,
        statement: flags.statement,
        transcript: flags.transcript && path.resolve(flags.transcript),
      });
      printStep(result, flags.json, `next: publish the contribution hash; pass ${path.basename(result.output)} and transcript.json to the next party, or finalize`);
    });

  ceremony
    .command("verify")
    .description("snarkjs zkey verify of a ceremony key against the r1cs and ptau, and its contribution hashes against the transcript")
    .requiredOption("--zkey <file>", "the key to check (any step's)")
    .requiredOption("--instance <name>", "the circuit instance it is for")
    .option("--ptau <file>", "the ceremony's ptau (default: $ZKS_PTAU, else the public ceremony file)")
    .option("--transcript <file>", "the transcript (default: transcript.json beside --zkey, when there is one)")
    .option("--expect-beacon <hex>", "the beacon value the ceremony announced (e.g. the block hash), checked against the key's")
    .option("--json", "machine-readable output")
    .addHelpText("after", `\n${EXIT_HELP}`)
    .action(async (flags: { zkey: string; instance: string; ptau?: string; transcript?: string; expectBeacon?: string; json?: boolean }) => {
      const zkey = path.resolve(flags.zkey);
      const expectBeacon = flags.expectBeacon === undefined ? undefined : parseBeacon(flags.expectBeacon, "--expect-beacon");
      const beside = transcriptBeside(zkey);
      const transcriptFile = flags.transcript !== undefined ? path.resolve(flags.transcript) : existsSync(beside) ? beside : undefined;
      const transcript = transcriptFile === undefined ? undefined : loadTranscript(transcriptFile);
      const notes: string[] = [];
      const circuit = await ceremonyCircuit(flags.instance, flags.ptau, notes, transcript);
      const verification = await verifyCeremonyZkey(circuit, zkey, transcript, { expectBeacon });
      const deployable = deployability(verification);
      const entries = transcript?.content.entries ?? [];
      if (flags.json) {
        return printJson({
          valid: true,
          instance: flags.instance,
          ...verification,
          transcript: transcript && { file: transcript.file, sha256: transcript.sha256 },
          ptau: { ...circuit.ptau, publicCeremony: verification.ptau.publicCeremony },
          deployable,
          notes,
        });
      }
      const width = Math.max(...verification.contributions.map((c) => `#${c.index} ${c.name}`.length), 10);
      process.stdout.write(
        [
          `VERIFIED: ${relative(zkey)} is a phase-2 key of ${flags.instance} (snarkjs zkey verify against its r1cs and the ptau)`,
          `  circuit hash  ${verification.circuitHash}`,
          `  ptau          ${phase1(circuit.ptau)}`,
          `  zkey sha256   ${verification.zkeySha256}`,
          ...(verification.contributions.length === 0 ? ["  contributions none (an initial key)"] : []),
          ...verification.contributions.map((c, i) => {
            const statement = entries[i]?.statement ? `  (statement: ${entries[i]!.statement})` : "";
            const beacon = c.beacon ? `  (beacon ${c.beacon.hash}, 2^${c.beacon.iterationsExp} iterations${entries[i]?.beacon ? `; ${entries[i]!.beacon!.source}` : ""})` : "";
            return `  ${`#${c.index} ${c.name}`.padEnd(width)}  ${c.contributionHash}${beacon}${statement}`;
          }),
          transcript
            ? `  transcript    ${relative(transcript.file)} (sha256 ${transcript.sha256}): every contribution hash matches`
            : "  transcript    none given: the hashes above were not compared with one",
          ...(expectBeacon ? [`  beacon        ${expectBeacon}: the announced value`] : []),
          deployable.ok
            ? `  deployable    yes: ${deployable.contributions} contributions and the beacon on a public phase 1 (\`zks setup --zkey\` accepts it)`
            : `  deployable    no: ${deployable.reason}`,
          "  each contributor finds their hash above; the deployer matches every hash to its contributor's own published statement",
          ...notes.map((note) => `  note: ${note}`),
          "",
        ].join("\n"),
      );
    });

  ceremony
    .command("finalize")
    .description("close the ceremony with a public random beacon (e.g. a future block hash or drand round, announced before it is known)")
    .requiredOption("--in <zkey>", "the ceremony's latest key")
    .requiredOption("--out <zkey>", "the final key (a new file)")
    .requiredOption("--beacon <hex>", "the beacon value, hex (1 to 255 bytes)")
    .requiredOption("--beacon-source <text>", 'what was announced before the value was known, e.g. "hash of Ethereum block 21000000 (announced 2026-12-01 at URL)"')
    .option("--iterations <n>", "2^n SHA-256 iterations applied to the beacon (10 to 63); more makes grinding the beacon's source costlier", "20")
    .option("--name <text>", "the beacon's name in the key", "final beacon")
    .option("--transcript <file>", "the ceremony's transcript (default: transcript.json beside --in); the updated one is written beside --out")
    .option("--json", "machine-readable output")
    .addHelpText("after", `\n${EXIT_HELP}`)
    .action(async (flags: { in: string; out: string; beacon: string; beaconSource: string; iterations: string; name: string; transcript?: string; json?: boolean }) => {
      const result = await ceremonyFinalize({
        input: path.resolve(flags.in),
        output: path.resolve(flags.out),
        beacon: parseBeacon(flags.beacon),
        iterationsExp: parseIterations(flags.iterations),
        source: flags.beaconSource,
        name: flags.name,
        transcript: flags.transcript && path.resolve(flags.transcript),
      });
      const install = `zks setup --instance ${result.transcript.instance} --zkey ${relative(result.output)} --transcript ${relative(result.transcriptFile)} --expect-beacon ${result.entry.beacon!.hash}`;
      printStep(result, flags.json, `next: publish the key and transcript.json; install with ${install}`);
    });
}
