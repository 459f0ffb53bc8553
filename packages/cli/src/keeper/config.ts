/**
 * The keeper's configuration file (README, "Running a keeper"): one JSON object, checked with
 * zod. Every failure is one InputError naming the file and the field (exit 2). Relative paths
 * are taken relative to the configuration file, so a config directory can be moved as a whole.
 */
import path from "node:path";
import { getAddress } from "ethers";
import { z } from "zod";
import { InputError } from "@zk-solvency/sdk/core";
import { fieldPath, describeValue } from "@zk-solvency/sdk/inputs";
import { readJsonFile } from "@zk-solvency/node";

const address = z.string().transform((text, ctx) => {
  try {
    if (!/^0x[0-9a-fA-F]{40}$/.test(text)) throw new Error();
    const checked = getAddress(text);
    if (BigInt(checked) === 0n) throw new Error();
    return checked;
  } catch {
    ctx.addIssue({ code: "custom", message: `not a non-zero address: ${describeValue(text)}` });
    return z.NEVER;
  }
});

const httpUrl = z.string().refine(
  (text) => {
    try {
      return ["http:", "https:"].includes(new URL(text).protocol);
    } catch {
      return false;
    }
  },
  { message: "expected an http(s):// JSON-RPC URL" },
);

const fileName = z.string().min(1);
/** An environment variable's name (never the key itself: a config file is read by more people than the key's owner). */
const envName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "expected the NAME of an environment variable holding the key, not the key");
const count = (min: number, max: number) => z.number().int().min(min).max(max);

export const keeperConfigSchema = z
  .object({
    version: z.literal(1).optional(),
    rpcUrl: httpUrl,
    /** A private submit endpoint (Flashbots Protect style): transactions go there first, rpcUrl is the fallback. */
    privateRpcUrl: httpUrl.optional(),
    gate: address.optional(),
    oracle: address.optional(),
    deployment: fileName.optional(),
    keeperKeyFile: fileName,
    retiredKeyFiles: z.array(fileName).default([]),
    signerKeyEnv: envName,
    market: fileName,
    policy: fileName,
    instance: z
      .string()
      .regex(/^[a-z0-9-]+$/, "expected an instance name such as rebalance-3x3x16")
      .optional(),
    database: fileName,
    /** 0 picks a free port (logged at start). */
    metricsPort: count(0, 65_535).default(9464),
    pollIntervalMs: count(100, 3_600_000).default(4_000),
    jitterMs: count(0, 600_000).default(2_000),
    maxRetries: count(0, 100).default(5),
    provers: count(1, 64).default(1),
    /** Logs are processed only this many blocks below the head (reorg safety); 0 on local chains. */
    confirmations: count(0, 1_000).default(0),
    /** Where to start following the chain on an empty database (default: the deployment's block, else 0). */
    fromBlock: count(0, Number.MAX_SAFE_INTEGER).optional(),
    /** Largest block range per eth_getLogs call (providers cap it). */
    logChunkBlocks: count(1, 1_000_000).default(2_000),
  })
  .strict();

export type RawKeeperConfig = z.output<typeof keeperConfigSchema>;

export interface KeeperConfig extends Omit<RawKeeperConfig, "gate" | "oracle" | "deployment" | "fromBlock"> {
  /** The configuration file itself, for messages. */
  source: string;
  gate: string;
  oracle: string;
  /** Pinned by the deployment file when given: the keeper refuses another chain. */
  chainId?: bigint;
  fromBlock: number;
  deployment?: string;
}

const deploymentSchema = z.object({
  chainId: z.string().regex(/^\d+$/, "expected a decimal string"),
  blockNumber: z.number().int().nonnegative().optional(),
  network: z.string().optional(),
  contracts: z.object({ RebalanceGate: address, MarketOracle: address }),
});

/** Reads and checks the keeper's configuration file; paths come back absolute. */
export function loadKeeperConfig(file: string): KeeperConfig {
  const json = readJsonFile(file);
  if (typeof json !== "object" || json === null || Array.isArray(json)) throw new InputError(file, "", `expected a JSON object, got ${describeValue(json)}`);
  const parsed = keeperConfigSchema.safeParse(json, {
    error: (issue) => {
      if (issue.code === "invalid_type" && issue.input === undefined) return "required field is missing";
      if (issue.code === "invalid_type") return `expected ${issue.expected === "int" ? "an integer" : `a ${issue.expected}`}, got ${describeValue(issue.input)}`;
      if ((issue.code === "too_big" || issue.code === "too_small") && issue.origin === "number") {
        return `must be ${issue.code === "too_big" ? "<=" : ">="} ${issue.code === "too_big" ? issue.maximum : issue.minimum}, got ${describeValue(issue.input)}`;
      }
      if (issue.code === "unrecognized_keys") return `unknown field(s) ${issue.keys.map((k) => `"${k}"`).join(", ")} (see README, "Running a keeper")`;
      return undefined;
    },
  });
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new InputError(file, fieldPath(issue.path), issue.message);
  }
  const raw = parsed.data;
  const dir = path.dirname(path.resolve(file));
  const resolve = (p: string) => path.resolve(dir, p);
  let gate = raw.gate;
  let oracle = raw.oracle;
  let chainId: bigint | undefined;
  let fromBlock = raw.fromBlock;
  const deployment = raw.deployment === undefined ? undefined : resolve(raw.deployment);
  if (deployment !== undefined) {
    if (gate !== undefined || oracle !== undefined) throw new InputError(file, raw.gate !== undefined ? "gate" : "oracle", "give either deployment or gate and oracle, not both");
    const d = deploymentSchema.safeParse(readJsonFile(deployment));
    if (!d.success) {
      const issue = d.error.issues[0]!;
      throw new InputError(deployment, fieldPath(issue.path), `${issue.message} (not a deployments file written by \`zks deploy\`?)`);
    }
    if (d.data.network === "in-process") throw new InputError(deployment, "network", "an in-process deployment is a dry run whose chain ended with it");
    gate = d.data.contracts.RebalanceGate;
    oracle = d.data.contracts.MarketOracle;
    chainId = BigInt(d.data.chainId);
    fromBlock ??= d.data.blockNumber;
  }
  if (gate === undefined) throw new InputError(file, "gate", "required field is missing (or give deployment: a deployments file written by `zks deploy`)");
  if (oracle === undefined) throw new InputError(file, "oracle", "required field is missing (or give deployment: a deployments file written by `zks deploy`)");
  return {
    ...raw,
    source: file,
    gate,
    oracle,
    ...(chainId !== undefined && { chainId }),
    ...(deployment !== undefined && { deployment }),
    fromBlock: fromBlock ?? 0,
    keeperKeyFile: resolve(raw.keeperKeyFile),
    retiredKeyFiles: raw.retiredKeyFiles.map(resolve),
    market: resolve(raw.market),
    policy: resolve(raw.policy),
    database: resolve(raw.database),
  };
}
