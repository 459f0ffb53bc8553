/**
 * The site's JSON-RPC endpoint (/rpc), forwarded to the chain's node: the page reads contracts,
 * blocks and receipts through it before any wallet is connected. Read-only by an allow-list.
 * A development node (`hardhat node`) signs for its unlocked accounts, so a proxy that passed
 * eth_sendTransaction on would let any visitor of the site spend them; so would hardhat_* and
 * evm_* (set balances, impersonate, mine). Transactions are signed by the user's wallet (its own
 * connection to the chain); the proxy forwards only reads and already-signed transactions.
 */
import type { IncomingMessage, ServerResponse } from "node:http";

/** Methods the page (through ethers' JsonRpcProvider) needs, all read-only or pre-signed. */
export const RPC_ALLOWED_METHODS: ReadonlySet<string> = new Set([
  "eth_blockNumber",
  "eth_call",
  "eth_chainId",
  "eth_estimateGas",
  "eth_feeHistory",
  "eth_gasPrice",
  "eth_getBalance",
  "eth_getBlockByHash",
  "eth_getBlockByNumber",
  "eth_getCode",
  "eth_getLogs",
  "eth_getStorageAt",
  "eth_getTransactionByHash",
  "eth_getTransactionCount",
  "eth_getTransactionReceipt",
  "eth_maxPriorityFeePerGas",
  "eth_sendRawTransaction",
  "net_version",
  "web3_clientVersion",
]);

/** Requests larger than this are refused (413): a page's calls are a few kilobytes. */
export const RPC_MAX_BODY_BYTES = 1 << 20;

interface RpcRequest {
  jsonrpc?: unknown;
  id?: unknown;
  method?: unknown;
}

function reply(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json", "cache-control": "no-store" });
  res.end(JSON.stringify(body));
}

const rpcError = (id: unknown, code: number, message: string) => ({ jsonrpc: "2.0", id: id ?? null, error: { code, message } });

function readBody(req: IncomingMessage): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > RPC_MAX_BODY_BYTES) {
        // Answer 413 now; the rest of the body is read and dropped, never kept.
        req.removeAllListeners("data");
        req.resume();
        resolve(null);
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

/** Why a request (or batch) is refused, as a JSON-RPC error per refused call; null when every call is allowed. */
function refusals(parsed: unknown): unknown[] | null {
  const calls = Array.isArray(parsed) ? parsed : [parsed];
  if (calls.length === 0) return [rpcError(null, -32600, "an empty batch")];
  const refused = calls.flatMap((call: RpcRequest) => {
    if (typeof call !== "object" || call === null || typeof call.method !== "string") return [rpcError(null, -32600, "not a JSON-RPC request")];
    if (!RPC_ALLOWED_METHODS.has(call.method)) {
      return [rpcError(call.id, -32601, `${call.method} is not served by this site's RPC, which only reads the chain: transactions are signed in your wallet`)];
    }
    return [];
  });
  return refused.length > 0 ? refused : null;
}

/** Connect-style middleware for POST /rpc (Vite's dev server and static.ts alike). */
export function rpcProxy(rpcUrl: string, mount = "/rpc") {
  return (req: IncomingMessage, res: ServerResponse, next: () => void): void => {
    const pathname = new URL(req.url ?? "/", "http://localhost").pathname;
    if (pathname !== mount) return next();
    if (req.method !== "POST") return reply(res, 405, rpcError(null, -32600, `${req.method} ${mount}: JSON-RPC takes POST`));
    readBody(req).then(
      async (body) => {
        if (body === null) return reply(res, 413, rpcError(null, -32600, `request larger than ${RPC_MAX_BODY_BYTES} bytes`));
        let parsed: unknown;
        try {
          parsed = JSON.parse(body.toString("utf8"));
        } catch {
          return reply(res, 400, rpcError(null, -32700, "not JSON"));
        }
        const refused = refusals(parsed);
        if (refused) return reply(res, 403, Array.isArray(parsed) ? refused : refused[0]);
        try {
          const upstream = await fetch(rpcUrl, { method: "POST", headers: { "content-type": "application/json" }, body: new Uint8Array(body) });
          res.writeHead(upstream.status, { "content-type": upstream.headers.get("content-type") ?? "application/json", "cache-control": "no-store" });
          res.end(Buffer.from(await upstream.arrayBuffer()));
        } catch (error) {
          reply(res, 502, rpcError(null, -32603, `the chain's node is unreachable (${(error as Error).message})`));
        }
      },
      () => reply(res, 400, rpcError(null, -32600, "the request body could not be read")),
    );
  };
}
