/**
 * The protocol keeper's key a gate is deployed with (docs/enforcement.md), and what only a local
 * chain may take: a grace window of 0, the demo's key (derived from a public seed) and a key file
 * holding the keeper's secret.
 */
import { createHash } from "node:crypto";
import { generateKeeperKey, KEEPER_KEY_KIND, parseKeeperKeyFile, parseKeeperPublicKeyFile, type KeeperKeyPair, type Point } from "@zk-solvency/sdk/encryption";
import { readJsonFile } from "../read-json.ts";
import { LOCAL_CHAIN_IDS } from "../setup/deploy-keys.ts";

/** The deploy defaults of the liquidation terms (docs/enforcement.md): a 5 % bonus, a one-hour grace window. */
export const DEFAULT_LIQUIDATION_BONUS = 500n;
export const DEFAULT_LIQUIDATION_WINDOW = 3_600n;
/** The gate's caps (RebalanceGate.MAX_LIQUIDATION_BONUS, MAX_LIQUIDATION_WINDOW), checked before any transaction. */
export const MAX_LIQUIDATION_BONUS = 2_000n;
export const MAX_LIQUIDATION_WINDOW = 30n * 86_400n;

/**
 * The public seed of the demo's keeper key: the same key every run, so the demo's output is
 * reproducible. Anyone can derive its secret from this line: a demo key, never one to deploy
 * (`zks keeper keygen` makes a real one). Here, not in the demo, so that deploy can refuse it
 * without loading the demo.
 */
export const DEMO_KEEPER_SEED = "zks demo keeper key";

/** The demo keeper's key pair: generateKeeperKey over SHA-256(seed, counter), 256 bits a draw. */
export function demoKeeperKey(seed = DEMO_KEEPER_SEED): KeeperKeyPair {
  let counter = 0;
  return generateKeeperKey(() => BigInt(`0x${createHash("sha256").update(`${seed}/${counter++}`).digest("hex")}`));
}

/** A keeper key as deploy takes it: its public half, where it came from, and whether that source also held the secret. */
export interface KeeperKeyInput {
  publicKey: Point;
  /** The file (or other source) it was read from, named in refusals. */
  source: string;
  /** The source was a key file with the keeper's secret (only the public half is used). */
  hadSecret: boolean;
}

/**
 * The keeper's key from a public-key file or a key file (whose secret is checked against its
 * public half and then dropped): either way validated as a Baby Jubjub point of the prime subgroup.
 */
export function readKeeperKey(file: string): KeeperKeyInput {
  const json = readJsonFile(file);
  const text = JSON.stringify(json);
  const kind = typeof json === "object" && json !== null ? (json as { kind?: unknown }).kind : undefined;
  if (kind === KEEPER_KEY_KIND) return { publicKey: parseKeeperKeyFile(text, file).publicKey, source: file, hadSecret: true };
  return { publicKey: parseKeeperPublicKeyFile(text, file), source: file, hadSecret: false };
}

/** Just the public key of {@link readKeeperKey}. */
export function readKeeperPublicKey(file: string): Point {
  return readKeeperKey(file).publicKey;
}

/**
 * Why the enforcement settings may not go to chain `chainId`, or undefined: on a chain other than
 * 31337 and 1337 (LOCAL_CHAIN_IDS) a grace window of 0, the demo's keeper key (public seed) and a
 * key file with the keeper's secret are refused. `flag` names the option in the message.
 */
export function enforcementRefusal(
  chainId: bigint,
  keeper: KeeperKeyInput,
  liquidationWindow: bigint,
  flag = { keeperKey: "--keeper-key", liquidationWindow: "--liquidation-window" },
): string | undefined {
  if (LOCAL_CHAIN_IDS.includes(chainId)) return undefined;
  const where = `chain ${chainId} is not a local chain (${LOCAL_CHAIN_IDS.join(", ")})`;
  if (liquidationWindow === 0n) {
    return `${flag.liquidationWindow}: ${where}: a grace window of 0 lets a keeper flag a position and liquidate it in the next transaction, leaving its owner no time to re-prove; give a window in seconds (default ${DEFAULT_LIQUIDATION_WINDOW})`;
  }
  const demo = demoKeeperKey().publicKey;
  if (keeper.publicKey[0] === demo[0] && keeper.publicKey[1] === demo[1]) {
    return `${flag.keeperKey} ${keeper.source}: ${where}: this is the demo's keeper key, derived from a public seed (DEMO_KEEPER_SEED): anyone can decrypt every opening encrypted to it; make one with \`zks keeper keygen\``;
  }
  if (keeper.hadSecret) {
    return `${flag.keeperKey} ${keeper.source}: ${where}: the file holds the keeper's secret; give its public-key file ({"kind":"zks-keeper-public-key",...}) so the secret stays on the keeper's machine`;
  }
  return undefined;
}
