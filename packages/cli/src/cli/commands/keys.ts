import path from "node:path";
import type { Command } from "commander";
import { InputError } from "@zk-solvency/sdk/core";
import { fetchKeys, publishKeys, type Tier } from "@zk-solvency/node/keys";
import { DEVELOPMENT_KEY_NOTE } from "@zk-solvency/node/setup";
import { printJson } from "../output.ts";

interface PublishFlags {
  out: string;
  version?: string;
  instance: string[];
  tier: string[];
  allowDevelopmentKey?: boolean;
  json?: boolean;
}

interface FetchFlags {
  from: string;
  version?: string;
  instance: string[];
  expectIndexSha256?: string;
  expectKeyHash: string[];
  force?: boolean;
  json?: boolean;
}

const TIERS = ["test", "standard", "large"] as const;

function parseTiers(values: string[]): Tier[] {
  for (const value of values) {
    if (!(TIERS as readonly string[]).includes(value)) throw new InputError("--tier", "", `unknown tier "${value}" (tiers: ${TIERS.join(", ")})`);
  }
  return values as Tier[];
}

/** `--expect-key-hash NAME=0x...`, repeatable: one pin per instance. */
function parseKeyPins(values: string[]): Record<string, string> {
  const pins: Record<string, string> = {};
  for (const value of values) {
    const match = /^([^=]+)=(.+)$/.exec(value);
    if (!match) throw new InputError("--expect-key-hash", value, "expected INSTANCE=0x<64 hex digits>, e.g. solvency-3x3x16=0xbd03…");
    const [, name, hash] = match as unknown as [string, string, string];
    if (pins[name] !== undefined && pins[name] !== hash) throw new InputError("--expect-key-hash", name, "pinned twice to different hashes");
    pins[name] = hash;
  }
  return pins;
}

const megabytes = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`;
/** Relative to the working directory when inside it, else absolute. */
const relative = (file: string) => {
  const r = path.relative(process.cwd(), file);
  return r === "" ? "." : r.startsWith("..") || path.isAbsolute(r) ? file : r;
};

export function registerKeys(program: Command): void {
  const keys = program.command("keys").description("publish built keys as a versioned release, or fetch and install a release, checked by hash");

  keys
    .command("publish")
    .description("write the built keys (wasm, zkey, verification key, compiled verifier) as release <out>/<version>/ with an index of sha256s")
    .requiredOption("--out <dir>", "the folder releases are published in (served as is by any static host)")
    .option("--version <version>", "the release version (default: the @zk-solvency/sdk version)")
    .option("--instance <name...>", "only these instances (default: every built instance of --tier)", [])
    .option("--tier <tier...>", "instances of these tiers: test, standard, large (default: test and standard)", [])
    .option("--allow-development-key", "also publish development keys (and ceremony keys on an untrusted ptau): forgeable by whoever made them, for tests only")
    .option("--json", "machine-readable output")
    .addHelpText(
      "after",
      [
        "",
        "A release never changes: an existing <out>/<version> is refused. Give consumers the printed index sha256",
        "(or each key hash, which the deployed verifier returns as VERIFICATION_KEY_HASH()) to pin what they fetch.",
        "Exit status: 0 published, 1 a built file failed its check, 2 bad input, 3 keys not built.",
      ].join("\n"),
    )
    .action(async (flags: PublishFlags) => {
      if (flags.instance.length > 0 && flags.tier.length > 0) throw new InputError("--tier", "", "name instances with --instance or select them by --tier, not both");
      const result = await publishKeys({
        outDir: flags.out,
        version: flags.version,
        instances: flags.instance,
        tiers: parseTiers(flags.tier),
        allowDevelopmentKey: flags.allowDevelopmentKey,
      });
      if (flags.json) {
        printJson(result);
        return;
      }
      const development = result.instances.filter((instance) => !instance.deployable);
      if (development.length > 0)
        process.stderr.write(`zks keys: WARNING published keys that are not deployable (${DEVELOPMENT_KEY_NOTE}): ${development.map((i) => i.instance).join(", ")}\n`);
      process.stdout.write(
        [
          `zks keys publish: release ${result.version} in ${relative(result.dir)} (${result.instances.length} instance(s), ${megabytes(result.bytes)})`,
          ...result.instances.map(
            (i) => `  ${i.instance.padEnd(22)} key ${i.verificationKeyHash}  ${i.keyLabel}${i.files.verifier ? "" : "  (no verifier.json: build it with `zks setup` and solc)"}`,
          ),
          ...(result.skipped.length > 0 ? [`not built, left out: ${result.skipped.join(", ")}`] : []),
          `index sha256 ${result.indexSha256}`,
          `consumers: zks keys fetch --from <URL of ${relative(path.dirname(result.dir))}> --version ${result.version} --expect-index-sha256 ${result.indexSha256}`,
          "",
        ].join("\n"),
      );
    });

  keys
    .command("fetch")
    .description("download a key release, check every file against its index and your pins, and install it into the build directory")
    .requiredOption("--from <url|dir>", "where releases are published: an http(s) URL or a folder holding <version>/index.json")
    .option("--version <version>", "the release version (default: the @zk-solvency/sdk version)")
    .option("--instance <name...>", "only these instances (default: every instance of the release this install declares)", [])
    .option("--expect-index-sha256 <hex>", "the release index's sha256, as its publisher announced it: pins every file")
    .option("--expect-key-hash <instance=hash...>", "an instance's verification key hash (e.g. a deployed verifier's VERIFICATION_KEY_HASH()): pins what its proofs mean", [])
    .option("--force", "replace an installed key that differs from the release's")
    .option("--json", "machine-readable output")
    .addHelpText(
      "after",
      [
        "",
        "Nothing is installed unless every file of every instance passes: its size and sha256 (index), the verification key's hash",
        "(index and pins), the proving key against the verification key, the compiled verifier against the key. Ceremony keys need a pin.",
        "Exit status: 0 installed, 1 a check failed (nothing installed), 2 bad input, 3 the release is unreachable or lacks an instance.",
      ].join("\n"),
    )
    .action(async (flags: FetchFlags) => {
      const result = await fetchKeys({
        baseUrl: flags.from,
        version: flags.version,
        instances: flags.instance,
        expected: { indexSha256: flags.expectIndexSha256, verificationKeyHashes: parseKeyPins(flags.expectKeyHash) },
        force: flags.force,
      });
      if (flags.json) {
        printJson(result);
        return;
      }
      const development = result.instances.filter((instance) => !instance.deployable);
      if (development.length > 0)
        process.stderr.write(`zks keys: WARNING keys that are not deployable (${DEVELOPMENT_KEY_NOTE}): ${development.map((i) => i.instance).join(", ")}\n`);
      const otherSources = result.instances.filter((instance) => instance.sameCircuitSources === false);
      if (otherSources.length > 0) {
        process.stderr.write(
          `zks keys: note: ${otherSources.map((i) => i.instance).join(", ")} were built from other circuit sources than this install's (another version?); \`zks setup\` would rebuild them${otherSources.some((i) => i.keySource.kind === "development") ? " (a development key with a new one of its own)" : ""}\n`,
        );
      }
      const pinned =
        result.pinnedBy.length > 0
          ? `pinned by ${result.pinnedBy.join(" and ")}`
          : "NOT pinned: the keys are whatever the source served (pin with --expect-index-sha256 or --expect-key-hash)";
      process.stdout.write(
        [
          `zks keys fetch: release ${result.version} from ${result.release}, index sha256 ${result.indexSha256}, ${pinned}`,
          ...result.instances.map((i) => `  ${i.instance.padEnd(22)} ${i.state.padEnd(9)} key ${i.verificationKeyHash}  ${i.keyLabel}  ${relative(i.dir)}`),
          ...(result.skipped.length > 0 ? [`not declared by this install, left out: ${result.skipped.join(", ")}`] : []),
          "",
        ].join("\n"),
      );
    });
}
