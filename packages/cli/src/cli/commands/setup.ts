import type { Command } from "commander";
import cliProgress from "cli-progress";
import { existsSync } from "node:fs";
import path from "node:path";
import type { InstanceConfig } from "@zk-solvency/node/setup";
import { InputError } from "@zk-solvency/sdk/core";
import { printJson } from "../output.ts";

interface SetupFlags {
  ptau?: string;
  instance: string[];
  tier: string[];
  force?: boolean;
  compileOnly?: boolean;
  nativeWitness?: boolean;
  nativeProver?: string;
  zkey?: string;
  transcript?: string;
  expectBeacon?: string;
  untrustedPtau?: boolean;
  json?: boolean;
}

const TIERS = ["test", "standard", "large"] as const;

function parseTiers(values: string[]): InstanceConfig["tier"][] {
  for (const value of values) {
    if (!(TIERS as readonly string[]).includes(value)) throw new InputError("--tier", "", `unknown tier "${value}" (tiers: ${TIERS.join(", ")})`);
  }
  return values as InstanceConfig["tier"][];
}

export function registerSetup(program: Command): void {
  program
    .command("setup")
    .description("compile the circuit instances, run their Groth16 setup, export verification keys and Solidity verifiers (cached by content hash)")
    .option("--ptau <file>", "powers-of-tau file to use (default: $ZKS_PTAU, else the public ceremony file, downloaded and hash-checked)")
    .option("--instance <name...>", "only these instances (see circuits/instances.json)", [])
    .option("--tier <tier...>", "only instances of these tiers: test, standard, large (default: test and standard)", [])
    .option("--force", "rebuild even when nothing changed")
    .option("--compile-only", "compile the circuits but run no trusted setup (enough for witness and constraint tests)")
    .option(
      "--native-witness",
      "also build circom's C++ witness generator for the Node prover (needs g++, make, libgmp-dev, nlohmann-json3-dev; nasm optional); the wasm witness stays the default",
    )
    .option(
      "--native-prover <src-dir>",
      "build rapidsnark's native Groth16 prover from a source checkout (git clone --recursive https://github.com/iden3/rapidsnark; needs cmake, g++, make, libgmp-dev, nasm) into <build dir>/bin/rapidsnark, where --prover auto finds it; builds no circuits",
    )
    .option("--zkey <file>", "install this finalized phase-2 ceremony key (`zks ceremony finalize`) for the one --instance, instead of a development key")
    .option("--transcript <file>", "the ceremony's transcript.json (with --zkey)")
    .option("--expect-beacon <hex>", "the beacon value the ceremony announced (e.g. the block hash), checked against the key's (with --zkey)")
    .option(
      "--untrusted-ptau",
      "install a ceremony key whose phase-1 ptau is not a known public ceremony file: a rehearsal key, labelled so and refused by deploy on a non-local chain",
    )
    .option("--json", "print the summary as JSON")
    .addHelpText(
      "after",
      [
        "",
        "Without --zkey each instance gets a development key: one phase-2 contribution made here, for tests and local chains.",
        "With --zkey the key is verified against the r1cs and ptau (snarkjs zkey verify), its transcript and the announced beacon, and must have",
        "at least two contributions by distinct names followed by the beacon, on a public phase-1 ptau (else --untrusted-ptau, a rehearsal).",
        "A later `zks setup` keeps a ceremony key; --force replaces it with a development key.",
        "--native-prover SRC_DIR builds only rapidsnark, in a temporary copy of SRC_DIR, and installs it once it passed its probe and, when a commitment instance is built, a test proof verified with snarkjs (docs/native-prover.md).",
        "Exit status: 0 built, 1 the ceremony key or its transcript failed a check, 2 bad input, 3 missing ptau, unbuildable circuit or native prover.",
      ].join("\n"),
    )
    .action(async (flags: SetupFlags) => {
      if (flags.nativeProver !== undefined) return setupNativeProver(flags.nativeProver, flags);
      // Loaded here, not at the top: the whole setup module (snarkjs, circom, solc) costs seconds
      // that `--native-prover`, which needs none of it, should not pay.
      const { BUILD_STEP_LABEL, buildCircuits, parseBeacon, DEVELOPMENT_KEY_NOTE, keyDeployable, keySourceLabel, UNTRUSTED_PTAU_NOTE, defaultBuildPaths, VERIFIER_ARTIFACT_FILE } =
        await import("@zk-solvency/node/setup");
      if ((flags.zkey === undefined) !== (flags.transcript === undefined)) {
        // Name the flag that is missing.
        throw new InputError(flags.zkey === undefined ? "--zkey" : "--transcript", "", "a ceremony key is installed with its transcript: give --zkey and --transcript together");
      }
      if (flags.zkey !== undefined && flags.tier.length > 0) throw new InputError("--zkey", "", "installs one instance's key: name it with --instance, not --tier");
      // The deployer states the value announced before the ceremony ended; the key's beacon must be it.
      if (flags.zkey !== undefined && flags.expectBeacon === undefined)
        throw new InputError("--expect-beacon", "", "with --zkey, give the beacon value the ceremony announced (e.g. the block hash): the key's beacon must be it");
      if (flags.zkey === undefined && (flags.expectBeacon !== undefined || flags.untrustedPtau))
        throw new InputError(flags.untrustedPtau ? "--untrusted-ptau" : "--expect-beacon", "", "only with --zkey (installing a ceremony key)");
      const expectBeacon = flags.expectBeacon === undefined ? undefined : parseBeacon(flags.expectBeacon, "--expect-beacon");
      const interactive = process.stderr.isTTY && !flags.json;
      const bar = interactive
        ? new cliProgress.SingleBar({ format: "{bar} {value}/{total} {task}", hideCursor: true, clearOnComplete: true }, cliProgress.Presets.shades_classic)
        : undefined;
      let barStarted = false;
      const result = await buildCircuits({
        ptau: flags.ptau,
        instances: flags.instance,
        tiers: parseTiers(flags.tier),
        force: flags.force,
        compileOnly: flags.compileOnly,
        nativeWitness: flags.nativeWitness,
        ceremony:
          flags.zkey !== undefined
            ? { zkey: path.resolve(flags.zkey), transcript: path.resolve(flags.transcript!), expectBeacon: expectBeacon!, untrustedPtau: flags.untrustedPtau }
            : undefined,
        log: (message) => {
          if (bar && barStarted) bar.stop();
          process.stderr.write(`${message}\n`);
          barStarted = false;
        },
        onProgress: (event) => {
          const task = `${event.instance ?? ""} ${BUILD_STEP_LABEL[event.step]}${event.state === "cached" ? " (cached)" : ""}`.trim();
          if (!bar) {
            if (event.state === "start") process.stderr.write(`zks setup: ${task}...\n`);
            return;
          }
          if (!barStarted) {
            bar.start(event.total, event.index, { task });
            barStarted = true;
          }
          bar.update(event.state === "start" ? event.index : event.index + 1, { task });
        },
      });
      if (bar && barStarted) bar.stop();
      if (flags.json) {
        printJson({
          seconds: Number(result.seconds.toFixed(2)),
          ptau: result.ptau ?? null,
          ceremony: result.ceremony ?? null,
          instances: result.instances.map(({ manifest, dir, compiled, nativeBuilt, setUp }) => ({
            instance: manifest.instance,
            constraints: manifest.nConstraints,
            publicSignals: manifest.publicSignals,
            rebuilt: { compile: compiled, native: nativeBuilt, setup: setUp },
            dir,
            verifier: manifest.verifierContract,
            verifierArtifact: existsSync(path.join(dir, VERIFIER_ARTIFACT_FILE)) ? path.join(dir, VERIFIER_ARTIFACT_FILE) : null,
            verificationKeyHash: manifest.verificationKeyHash ?? null,
            keySource: manifest.keySource ?? null,
            nativeWitness: manifest.nativeWitness ? path.join(dir, manifest.nativeWitness.binary) : null,
          })),
        });
        return;
      }
      const rows = result.instances.map(({ manifest, dir, compiled, nativeBuilt, setUp }) => {
        const keys = !manifest.setupKey ? ", no keys" : `, ${keySourceLabel(manifest.keySource).replace("DEVELOPMENT", "development")}`;
        const native = flags.nativeWitness ? ", native witness" : "";
        const steps = [compiled && "compile", nativeBuilt && "native", setUp && "setup"].filter(Boolean);
        const state = steps.length > 0 ? `built (${steps.join(" + ")}${keys}${native})` : `cached${keys}${native}`;
        return `  ${manifest.instance.padEnd(22)} ${String(manifest.nConstraints).padStart(7)} constraints  ${state.padEnd(40)} ${path.relative(process.cwd(), dir) || "."}`;
      });
      const ptauLine = result.ptau ? `ptau: ${result.ptau.path} (power ${result.ptau.power}, ${result.ptau.origin})` : "ptau: unchanged (all keys cached)";
      const development = result.instances.filter(({ manifest }) => manifest.setupKey && manifest.keySource?.kind !== "ceremony").map(({ manifest }) => manifest.instance);
      if (development.length > 0) process.stderr.write(`zks setup: WARNING development keys (${DEVELOPMENT_KEY_NOTE}): ${development.join(", ")}\n`);
      const rehearsal = result.instances
        .filter(({ manifest }) => manifest.keySource?.kind === "ceremony" && !keyDeployable(manifest.keySource))
        .map(({ manifest }) => manifest.instance);
      if (rehearsal.length > 0) process.stderr.write(`zks setup: WARNING ceremony keys on an UNTRUSTED ptau (${UNTRUSTED_PTAU_NOTE}): ${rehearsal.join(", ")}\n`);
      // The deployer matches each hash to its contributor's own published statement (README).
      const installed = result.ceremony
        ? [
            `ceremony key of ${result.ceremony.instance}: transcript sha256 ${result.ceremony.transcriptSha256}; match each hash to its contributor's published statement:`,
            ...result.ceremony.contributions.map(
              (c) =>
                `  #${c.index} ${c.name}  ${c.contributionHash}${c.beacon ? `  (beacon ${c.beacon.hash}, 2^${c.beacon.iterationsExp} iterations)` : ""}${c.statement ? `  (statement: ${c.statement})` : ""}`,
            ),
          ]
        : [];
      process.stdout.write(
        [
          `zks setup: ${result.instances.length} instance(s) ready in ${result.seconds.toFixed(1)} s`,
          ...rows,
          ptauLine,
          ...installed,
          `verifiers: ${path.relative(process.cwd(), defaultBuildPaths().generatedContractsDir) || "."}/ (Solidity), compiled to each instance's ${VERIFIER_ARTIFACT_FILE} (what \`zks deploy\` deploys)`,
          "",
        ].join("\n"),
      );
    });
}

/**
 * `zks setup --native-prover SRC_DIR`: builds (or finds cached) the native prover, nothing else.
 * Circuit flags are refused rather than ignored: the user meant something by them.
 */
async function setupNativeProver(sourceDir: string, flags: SetupFlags): Promise<void> {
  const circuitFlags: [string, unknown][] = [
    ["--instance", flags.instance.length > 0],
    ["--tier", flags.tier.length > 0],
    ["--ptau", flags.ptau],
    ["--compile-only", flags.compileOnly],
    ["--native-witness", flags.nativeWitness],
    ["--zkey", flags.zkey],
    ["--transcript", flags.transcript],
    ["--expect-beacon", flags.expectBeacon],
    ["--untrusted-ptau", flags.untrustedPtau],
  ];
  const clash = circuitFlags.find(([, value]) => value !== undefined && value !== false);
  if (clash) throw new InputError("--native-prover", "", `builds only the native prover: run \`zks setup ${clash[0]} ...\` for the circuits separately`);
  const { buildNativeProver } = await import("@zk-solvency/node/setup/native-prover");
  const result = await buildNativeProver({ sourceDir, force: flags.force, log: (message) => process.stderr.write(`zks setup: ${message}\n`) });
  const { record } = result;
  if (flags.json) {
    printJson({
      nativeProver: {
        binary: result.binary,
        record: `${result.binary}.json`,
        cached: result.cached,
        seconds: result.seconds,
        buildSeconds: record.buildSeconds,
        sha256: record.sha256,
        sourceDir: record.sourceDir,
        commit: record.commit,
        selfTest: result.selfTest ?? null,
      },
    });
    return;
  }
  const from = `${record.sourceDir}${record.commit ? ` (commit ${record.commit.slice(0, 12)})` : ""}`;
  process.stdout.write(
    [
      result.cached
        ? `zks setup: rapidsnark cached in ${result.seconds.toFixed(1)} s (source unchanged since ${record.builtAt}, binary sha256 matches): ${result.binary}`
        : `zks setup: rapidsnark built in ${result.seconds.toFixed(1)} s from ${from}, installed at ${result.binary}`,
      ...(result.selfTest ? [`  test proof on ${result.selfTest.instance} verified with snarkjs (${(result.selfTest.ms / 1000).toFixed(2)} s)`] : []),
      `  sha256 ${record.sha256}; record: ${result.binary}.json`,
      "  `--prover auto` (the default) proves with it; ZKS_RAPIDSNARK, when set, takes precedence (docs/native-prover.md)",
      "",
    ].join("\n"),
  );
}
