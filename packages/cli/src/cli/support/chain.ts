import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import { getAddress, JsonRpcProvider, Wallet } from "ethers";
import { InputError, SetupError, SNARK_FIELD } from "@zk-solvency/sdk/core";
import { gateContext } from "@zk-solvency/sdk/chain";

/** A non-negative integer flag (decimal or 0x hex), else exit 2 naming the flag. */
export function integerFlag(flag: string, text: string, max?: bigint): bigint {
  let value: bigint;
  try {
    if (!/^(0x[0-9a-fA-F]+|\d+)$/.test(text.trim())) throw new Error();
    value = BigInt(text.trim());
  } catch {
    throw new InputError(flag, "", `not a non-negative integer: "${text}"`);
  }
  if (max !== undefined && value > max) throw new InputError(flag, "", `${text} is too large (at most ${max})`);
  return value;
}

export const fieldFlag = (flag: string, text: string): bigint => integerFlag(flag, text, SNARK_FIELD - 1n);
export const epochFlag = (text: string): bigint => integerFlag("--epoch", text, 2n ** 64n - 1n);

export function addressFlag(flag: string, text: string): string {
  try {
    return getAddress(text);
  } catch {
    throw new InputError(flag, "", `not an address: "${text}"`);
  }
}

/** A JSON-RPC URL, syntactically (http, https, ws, wss). */
export function rpcUrlFlag(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new InputError("--rpc", "", `not a URL: "${text}"`);
  }
  if (!["http:", "https:"].includes(url.protocol)) throw new InputError("--rpc", "", `expected an http(s):// JSON-RPC URL, got "${text}"`);
  return text;
}

/** POSTs one JSON-RPC request with node:http(s) (fetch refuses some ports, e.g. 1 and 6000). */
function post(url: URL, body: string, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const request = (url.protocol === "https:" ? httpsRequest : httpRequest)(
      url,
      { method: "POST", headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body) }, timeout: timeoutMs },
      (response) => {
        let text = "";
        response.setEncoding("utf8");
        response.on("data", (chunk: string) => (text += chunk));
        response.on("end", () => ((response.statusCode ?? 0) >= 400 ? reject(new Error(`HTTP ${response.statusCode}`)) : resolve(text)));
        response.on("error", reject);
      },
    );
    request.on("timeout", () => request.destroy(new Error(`no answer within ${timeoutMs / 1000} s`)));
    request.on("error", reject);
    request.end(body);
  });
}

/**
 * Asks the endpoint for its chain id once, with a timeout, so an unreachable or wrong URL ends
 * in one clear line (exit 3) rather than ethers' endless "failed to detect network" retries.
 */
export async function reachRpc(url: string, timeoutMs = 10_000): Promise<bigint> {
  let result: unknown;
  try {
    const text = await post(new URL(url), JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_chainId", params: [] }), timeoutMs);
    result = (JSON.parse(text) as { result?: unknown }).result;
  } catch (error) {
    const e = error as { code?: string; message?: string };
    throw new SetupError(`cannot reach the JSON-RPC endpoint ${url} (${e.code ?? e.message})`);
  }
  if (typeof result !== "string" || !/^0x[0-9a-fA-F]+$/.test(result)) {
    throw new SetupError(`cannot reach the JSON-RPC endpoint ${url} (it does not answer eth_chainId)`);
  }
  return BigInt(result);
}

/** The signing wallet from $ZKS_PRIVATE_KEY (never from a flag: flags are visible to other users). */
export function walletFromEnv(): Wallet {
  const key = process.env.ZKS_PRIVATE_KEY;
  if (!key) throw new SetupError("set ZKS_PRIVATE_KEY to the signing account's private key (0x + 64 hex digits)");
  try {
    return new Wallet(key);
  } catch {
    throw new SetupError("ZKS_PRIVATE_KEY is not a 32-byte hex private key");
  }
}

export function provider(url: string, chainId: bigint): JsonRpcProvider {
  return new JsonRpcProvider(url, chainId, { staticNetwork: true, pollingInterval: 250 });
}

/** The `context` signal from --context, or --chain-id with --contract (0 when none). */
export function contextFromFlags(flags: { context?: string; chainId?: string; contract?: string }): bigint {
  if (flags.context !== undefined) {
    if (flags.chainId !== undefined || flags.contract !== undefined) throw new InputError("--context", "", "give --context N or --chain-id ID --contract ADDR, not both");
    return fieldFlag("--context", flags.context);
  }
  if ((flags.chainId === undefined) !== (flags.contract === undefined))
    throw new InputError(flags.chainId === undefined ? "--contract" : "--chain-id", "", "--chain-id and --contract go together");
  if (flags.chainId !== undefined) return gateContext(integerFlag("--chain-id", flags.chainId), addressFlag("--contract", flags.contract!));
  return 0n;
}
