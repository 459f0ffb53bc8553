/**
 * The vault example: sets up a local chain (deploys the gate, its lender vault and Uniswap v2
 * pools, publishes the market, funds the example account) and serves the page with Vite's dev server on 127.0.0.1.
 *
 *   npx hardhat node                      # another terminal: the local chain on 127.0.0.1:8545
 *   npm run example                       # builds the browser bundle, then runs this
 *   npx tsx examples/vault/server/start.ts [--rpc http://127.0.0.1:8545] [--port 5173] [--examples DIR]
 *
 * Needs the test-tier circuits built (`ZKS_PTAU=... npx zks setup --tier test`), the contracts
 * compiled (`npm run compile:contracts`) and the browser bundle (`npm run build:browser`).
 */
import { existsSync } from "node:fs";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { parseArgs } from "node:util";
import { createServer, type ViteDevServer } from "vite";
import { ZksError } from "../../../packages/sdk/src/core/errors.ts";
import { readManifest } from "../../../packages/node/src/setup/manifest.ts";
import { defaultBuildPaths, instanceDir, PACKAGE_ROOT } from "../../../packages/node/src/setup/paths.ts";
import { setUpVaultChain, type VaultChain } from "./local-chain.ts";
import { vaultPlugin } from "./plugin.ts";

export const EXAMPLE_ROOT = path.join(PACKAGE_ROOT, "examples", "vault");
export const BROWSER_BUNDLE = path.join(PACKAGE_ROOT, "dist", "browser", "index.js");

export interface VaultExample {
  /** The page, e.g. http://127.0.0.1:5173/. */
  url: string;
  chain: VaultChain;
  server: ViteDevServer;
  close(): Promise<void>;
}

export interface VaultExampleOptions {
  rpcUrl: string;
  /** 0 (the default) picks a free port. */
  port?: number;
  examplesDir?: string;
  size?: string;
  log?: (line: string) => void;
}

/** The Vite config of the page: the SDK through its "browser" export (dist/browser), the middleware, the RPC proxy. */
export function viteConfig(chain: VaultChain, port: number) {
  return {
    configFile: false as const,
    root: EXAMPLE_ROOT,
    logLevel: "warn" as const,
    clearScreen: false,
    // "zk-solvency" is this package itself: resolve it as a dependency would be, through
    // package.json's exports with the "browser" condition (dist/browser/index.js).
    resolve: { alias: [{ find: /^zk-solvency$/, replacement: PACKAGE_ROOT }] },
    plugins: [vaultPlugin({ ...chain, shock: () => chain.shock() })],
    optimizeDeps: { include: ["ethers"], entries: ["index.html", "bench.html"] },
    server: {
      host: "127.0.0.1",
      port,
      strictPort: port !== 0,
      fs: { allow: [PACKAGE_ROOT] },
      // The page talks JSON-RPC to its own origin; the dev server forwards to the node.
      proxy: { "/rpc": { target: chain.rpcUrl, changeOrigin: true, rewrite: () => "/" } },
    },
  };
}

export async function startVaultExample(options: VaultExampleOptions): Promise<VaultExample> {
  const size = options.size ?? "3x3x16";
  if (!existsSync(BROWSER_BUNDLE)) throw new ZksError(`no browser bundle at ${path.relative(PACKAGE_ROOT, BROWSER_BUNDLE)}: run \`npm run build:browser\``, 3);
  const paths = defaultBuildPaths();
  for (const instance of [`solvency-${size}`, `rebalance-${size}`]) {
    if (!readManifest(instanceDir(paths, instance))?.setupKey) throw new ZksError(`circuit instance ${instance} is not built: run \`zks setup --instance ${instance}\``, 3);
  }
  const chain = await setUpVaultChain({ rpcUrl: options.rpcUrl, examplesDir: options.examplesDir, size, log: options.log });
  let server: ViteDevServer;
  try {
    server = await createServer(viteConfig(chain, options.port ?? 0));
    await server.listen();
  } catch (error) {
    await chain.close();
    throw error;
  }
  const address = server.httpServer!.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${address.port}/`,
    chain,
    server,
    async close() {
      await server.close();
      await chain.close();
    },
  };
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.join(EXAMPLE_ROOT, "server", "start.ts")) {
  const { values } = parseArgs({
    options: {
      rpc: { type: "string", default: "http://127.0.0.1:8545" },
      port: { type: "string", default: "5173" },
      examples: { type: "string" },
    },
  });
  const log = (line: string) => console.log(line);
  startVaultExample({ rpcUrl: values.rpc, port: Number(values.port), examplesDir: values.examples, log }).then(
    (example) => {
      const { account, contracts } = example.chain.config();
      console.log(`\nvault example: ${example.url}  (bench: ${example.url}bench.html?instance=solvency-8x8x16)`);
      console.log(`  account ${account} (the node's account #1), gate ${contracts.RebalanceGate}`);
      console.log("  in the page: load the example position, register it (a proven deposit), then 'Publish a price shock' and rebalance. Ctrl-C ends.");
      const stop = () => example.close().finally(() => process.exit(0));
      process.once("SIGINT", stop);
      process.once("SIGTERM", stop);
    },
    (error: unknown) => {
      console.error(`example: ${error instanceof Error ? error.message : String(error)}`);
      if (/ECONNREFUSED|fetch failed|could not detect network/i.test(String(error))) console.error(`  is \`npx hardhat node\` running on ${values.rpc}?`);
      process.exit(error instanceof ZksError ? error.exitCode : 1);
    },
  );
}
