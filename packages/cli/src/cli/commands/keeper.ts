/**
 * `zks keeper`: the keeper operator's commands (README, "Running a keeper").
 *   keygen --out FILE        a new keeper key (file mode 0600) and its public half FILE.pub.json
 *   run --config FILE        the service (src/keeper/service.ts); --once: one pass, then exit
 *   status --config FILE     what the keeper's database knows
 */
import { closeSync, existsSync, openSync, writeSync, fsyncSync } from "node:fs";
import type { Command } from "commander";
import { InputError } from "@zk-solvency/sdk/core";
import { generateKeeperKey, keeperKeyFileJson, keeperPublicKeyFileJson } from "@zk-solvency/sdk/encryption";
import { loadKeeperConfig } from "../../keeper/config.ts";
import { KeeperStore, type ActionRow, type PositionRow } from "../../keeper/store.ts";
import { EXIT, printJson } from "../output.ts";
import { addProverFlag, proverFromFlag } from "../support/prover-flag.ts";

/** FILE.json -> FILE.pub.json; any other name gets .pub.json appended. */
export const publicKeyFileOf = (file: string): string => (file.endsWith(".json") ? `${file.slice(0, -".json".length)}.pub.json` : `${file}.pub.json`);

/** Writes a new file (never replacing one) with `mode`, flushed before returning. */
function writeNewFile(file: string, content: string, mode: number): void {
  let fd: number;
  try {
    fd = openSync(file, "wx", mode);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new InputError(file, "", code === "EEXIST" ? "already exists; a keeper key is never overwritten (move it away first)" : `cannot be created (${code})`);
  }
  try {
    writeSync(fd, content);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

const EXIT_HELP =
  "\nExit status: 0 ok (run: stopped by SIGINT/SIGTERM or --once done), 2 bad input (configuration, key files, a key that is not the gate's), 3 setup (JSON-RPC endpoint unreachable at start, circuit not built, signer key not set).";

export function registerKeeper(program: Command): void {
  const keeper = program.command("keeper").description("the keeper service: watch the gate, decrypt openings, flag and liquidate positions below the trigger");

  keeper
    .command("keygen")
    .description("generate a keeper key (Baby Jubjub): FILE holds the secret (mode 0600), FILE.pub.json the public key governance sets on the gate")
    .requiredOption("--out <file>", "where to write the key file (refuses to overwrite)")
    .option("--json", "machine-readable output")
    .addHelpText("after", EXIT_HELP)
    .action((flags: { out: string; json?: boolean }) => {
      const pubFile = publicKeyFileOf(flags.out);
      if (existsSync(flags.out)) throw new InputError(flags.out, "", "already exists; a keeper key is never overwritten (move it away first)");
      if (existsSync(pubFile)) throw new InputError(pubFile, "", "already exists; move it away first");
      const key = generateKeeperKey();
      // The secret decrypts every position encrypted to this key: readable by its owner only.
      writeNewFile(flags.out, keeperKeyFileJson(key), 0o600);
      writeNewFile(pubFile, keeperPublicKeyFileJson(key.publicKey), 0o644);
      const [x, y] = key.publicKey.map(String) as [string, string];
      if (flags.json) return printJson({ keyFile: flags.out, publicKeyFile: pubFile, publicKey: [x, y] });
      process.stdout.write(
        [
          `wrote ${flags.out} (the secret, mode 0600: keep it off shared disks; whoever holds it can read every position encrypted to it)`,
          `wrote ${pubFile} (the public key: deploy with \`zks deploy --keeper-key ${pubFile}\` or rotate with setKeeperKey)`,
          `public key x = ${x}`,
          `           y = ${y}`,
          "",
        ].join("\n"),
      );
    });

  const run = keeper
    .command("run")
    .description("run the keeper: follow the chain, evaluate every decrypted position each epoch, flag and liquidate, until SIGINT/SIGTERM")
    .requiredOption("--config <file>", 'the keeper\'s configuration file (README, "Running a keeper")')
    .option("--once", "process what is there (logs, the latest epoch, submissions until mined), then exit");
  addProverFlag(run)
    .addHelpText(
      "after",
      `\nLogs are JSON lines on stdout (pino); ZKS_LOG_LEVEL=debug for more. The submitting account's key comes from the environment variable the configuration names (signerKeyEnv).${EXIT_HELP}`,
    )
    .action(async (flags: { config: string; once?: boolean; prover?: string }) => {
      const config = loadKeeperConfig(flags.config);
      const prover = await proverFromFlag(flags.prover);
      // Loaded here, not with the CLI: pino, prom-client and the prover are the keeper's alone.
      const [{ keeperLogger }, { KeeperService }] = await Promise.all([import("../../keeper/logger.ts"), import("../../keeper/service.ts")]);
      const logger = keeperLogger();
      const service = await KeeperService.start(config, logger, { once: Boolean(flags.once), prover });
      let signals = 0;
      const onSignal = (signal: NodeJS.Signals) => {
        signals++;
        if (signals === 1) service.stop(signal);
        else {
          // A second signal: the operator wants out now. The database is consistent at every
          // commit (WAL), so this loses at most the action in flight, which the next start reconciles.
          logger.warn({ event: "forced_exit", signal }, "second signal: exiting without waiting");
          process.exit(EXIT.checkFailed);
        }
      };
      process.on("SIGINT", onSignal);
      process.on("SIGTERM", onSignal);
      try {
        await service.run();
      } finally {
        process.off("SIGINT", onSignal);
        process.off("SIGTERM", onSignal);
      }
    });

  keeper
    .command("status")
    .description("print what the keeper's database knows: its cursor, the positions it follows and its actions")
    .requiredOption("--config <file>", "the keeper's configuration file")
    .option("--json", "machine-readable output")
    .addHelpText("after", EXIT_HELP)
    .action((flags: { config: string; json?: boolean }) => {
      const config = loadKeeperConfig(flags.config);
      if (!existsSync(config.database)) throw new InputError(config.source, "database", `${config.database} does not exist yet (the keeper has not run)`);
      const store = KeeperStore.open(config.database);
      try {
        const follows = store.deployment();
        if (follows && follows.gate !== config.gate.toLowerCase()) {
          throw new InputError(
            config.database,
            "",
            `this database follows gate ${follows.gate} on chain ${follows.chainId}, not ${config.source}'s gate ${config.gate.toLowerCase()}`,
          );
        }
        const cursor = store.cursor("logs");
        const positions = store.positions();
        const actions = store.actions();
        const counts = store.counts();
        if (flags.json) {
          return printJson({
            database: config.database,
            gate: config.gate,
            chainId: follows?.chainId ?? null,
            lastBlock: cursor,
            counts,
            positions: positions.map(positionSummary),
            actions: actions.map(actionSummary),
          });
        }
        const lines = [
          `database ${config.database}: gate ${config.gate}, logs processed to block ${cursor ?? "none yet"}`,
          `${counts.positions} positions followed: ${counts.decrypted} decrypted, ${counts.undecryptable} no configured key decrypts`,
          `actions: ${Object.entries(counts.actions)
            .map(([state, n]) => `${n} ${state}`)
            .join(", ")}`,
        ];
        for (const p of positions) {
          const s = positionSummary(p);
          lines.push(
            `  ${s.account} nonce ${s.nonce} commitment ${short(s.commitment)} key ${s.keyGeneration} ${s.decrypted ? "decrypted" : s.decryptError ? "UNDECRYPTABLE" : "not yet decrypted"}${s.flagSince ? `, flagged since ${s.flagSince}` : ""}`,
          );
        }
        for (const a of actions) {
          const s = actionSummary(a);
          lines.push(
            `  #${s.id} ${s.kind} ${s.account} ${short(s.commitment)}: ${s.state}${s.txHash ? ` tx ${s.txHash} nonce ${s.nonce}` : ""} (${s.attempts} attempt${s.attempts === 1 ? "" : "s"})${s.error ? `: ${s.error}` : ""}`,
          );
        }
        process.stdout.write(`${lines.join("\n")}\n`);
      } finally {
        store.close();
      }
    });
}

const short = (hex: string): string => `${hex.slice(0, 10)}…${hex.slice(-6)}`;
const hex = (x: bigint): string => `0x${x.toString(16).padStart(64, "0")}`;

/** No balances: status output is for operators' dashboards and may be shared; openings are not. */
function positionSummary(p: PositionRow) {
  return {
    account: p.account,
    nonce: p.nonce.toString(),
    commitment: hex(p.commitment),
    keyGeneration: p.keyGeneration.toString(),
    decrypted: p.openingJson !== null,
    decryptError: p.decryptError,
    flagSince: p.flagSince === null ? null : p.flagSince.toString(),
    block: p.block,
  };
}

function actionSummary(a: ActionRow) {
  return {
    id: a.id,
    account: a.account,
    commitment: hex(a.commitment),
    kind: a.kind,
    state: a.state,
    txHash: a.txHash,
    nonce: a.nonce,
    attempts: a.attempts,
    epoch: a.epoch === null ? null : a.epoch.toString(),
    error: a.error,
    updatedAt: new Date(a.updatedAt).toISOString(),
  };
}
