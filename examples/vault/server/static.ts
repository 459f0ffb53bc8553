/**
 * A small static server for the built page (examples/vault/dist): what a vault's web server does
 * in production, in about a hundred lines of node:http.
 *
 *   GET  /, /bench.html, /assets/...   the files of `vite build`, nothing outside the build directory
 *   GET  /zks/...                      the page's JSON endpoints and circuit artifacts (plugin.ts)
 *   POST /rpc                          read-only JSON-RPC to the chain's node (rpc-proxy.ts)
 *
 * HTML goes out with a Content-Security-Policy that lets the page load and connect to its own
 * origin only: scripts from the build, workers from the build or blob: (snarkjs' curve starts its
 * threads from a blob), WebAssembly compiled from fetched bytes ('wasm-unsafe-eval'; the witness
 * calculator and the curve are wasm). A page that proves private positions should not be able to
 * reach anything else, whatever a dependency tries.
 */
import { createReadStream, existsSync, lstatSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import type { BuildPaths } from "../../../packages/node/src/setup/paths.ts";
import { vaultMiddleware, type VaultServerState } from "./plugin.ts";
import { rpcProxy } from "./rpc-proxy.ts";

export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self' 'wasm-unsafe-eval'",
  "worker-src 'self' blob:",
  "connect-src 'self'",
  "img-src 'self' data: blob:",
  "style-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

const CONTENT_TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json",
  ".map": "application/json",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".wasm": "application/wasm",
  ".txt": "text/plain; charset=utf-8",
};

const COMMON_HEADERS = { "x-content-type-options": "nosniff", "referrer-policy": "no-referrer", "cross-origin-opener-policy": "same-origin" };

function notFound(res: ServerResponse, status = 404, text = "not found"): void {
  res.writeHead(status, { "content-type": "text/plain; charset=utf-8", ...COMMON_HEADERS });
  res.end(`${text}\n`);
}

/**
 * The file under `root` a request path names, or null. Decoded once, then resolved against the
 * root and required to stay inside it: `..`, encoded slashes (`%2f`), backslashes and NUL bytes
 * cannot leave the build directory, and symbolic links are not followed.
 */
export function resolveStatic(root: string, pathname: string): string | null {
  let decoded: string;
  try {
    decoded = decodeURIComponent(pathname);
  } catch {
    return null;
  }
  if (decoded.includes("\0") || decoded.includes("\\")) return null;
  const relative = decoded === "/" ? "index.html" : decoded.replace(/^\/+/, "");
  const full = path.resolve(root, relative);
  if (full !== root && !full.startsWith(root + path.sep)) return null;
  if (!existsSync(full)) return null;
  const stat = lstatSync(full);
  return stat.isFile() ? full : null;
}

function serveFile(req: IncomingMessage, res: ServerResponse, root: string): void {
  if (req.method !== "GET" && req.method !== "HEAD") return notFound(res, 405, `${req.method} not allowed`);
  const pathname = new URL(req.url ?? "/", "http://localhost").pathname;
  const file = resolveStatic(root, pathname);
  if (!file) return notFound(res);
  const type = CONTENT_TYPES[path.extname(file)] ?? "application/octet-stream";
  const html = type.startsWith("text/html");
  res.writeHead(200, {
    "content-type": type,
    "content-length": String(lstatSync(file).size),
    // Vite names assets by content hash: they never change under a name. Pages are revalidated.
    "cache-control": pathname.startsWith("/assets/") ? "public, max-age=31536000, immutable" : "no-cache",
    ...COMMON_HEADERS,
    ...(html && { "content-security-policy": CONTENT_SECURITY_POLICY }),
  });
  if (req.method === "HEAD") return void res.end();
  createReadStream(file).pipe(res);
}

export interface StaticServerOptions {
  /** The build directory (examples/vault/dist). */
  root: string;
  state: VaultServerState;
  /** The chain's node, for /rpc. */
  rpcUrl: string;
  /** 0 (the default) picks a free port. */
  port?: number;
  host?: string;
  paths?: BuildPaths;
}

export interface StaticServer {
  url: string;
  server: Server;
  close(): Promise<void>;
}

export async function serveVaultPage(options: StaticServerOptions): Promise<StaticServer> {
  const root = path.resolve(options.root);
  if (!existsSync(path.join(root, "index.html"))) throw new Error(`no built page in ${root}: run \`npx tsx examples/vault/server/build.ts\``);
  const api = vaultMiddleware(options.state, options.paths);
  const rpc = rpcProxy(options.rpcUrl);
  const server = createServer((req, res) => {
    api(req, res, () => rpc(req, res, () => serveFile(req, res, root)));
  });
  const host = options.host ?? "127.0.0.1";
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host}:${port}/`,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
