/**
 * The vault example: sets up a local chain (deploys the gate, its lender vault and Uniswap v2
 * pools, publishes the market, funds the example account), builds the page with `vite build` and
 * serves the build with the small static server of static.ts on 127.0.0.1, as a vault would in
 * production. `--dev` serves the sources with Vite's dev server instead (hot reload, no build).
 *
 *   npx hardhat node                      # another terminal: the local chain on 127.0.0.1:8545
 *   npm run example                       # compiles the contracts, then runs this
 *   npx tsx examples/vault/server/start.ts [--rpc http://127.0.0.1:8545] [--port 5173] [--examples DIR] [--dev]
 *
 * Needs the test-tier circuits built (`ZKS_PTAU=... npx zks setup --tier test`) and the contracts
 * compiled (`npm run compile:contracts`). The page signs with the browser's wallet (window.ethereum):
 * point it at the node (chain 31337, http://127.0.0.1:8545) and import the example account's key,
 * hardhat's public development account #1 (never a real key).
 */
import type { AddressInfo } from "node:net";
import path from "node:path";
import { parseArgs } from "node:util";
import { createServer, type ViteDevServer } from "vite";
import { ZksError } from "../../../packages/sdk/src/core/errors.ts";
import { readManifest } from "../../../packages/node/src/setup/manifest.ts";
import { defaultBuildPaths, instanceDir } from "../../../packages/node/src/setup/paths.ts";
import { buildVaultPage, type PageBuild } from "./build.ts";
import { setUpVaultChain, type VaultChain } from "./local-chain.ts";
import { vaultPlugin } from "./plugin.ts";
import { rpcProxy } from "./rpc-proxy.ts";
import { serveVaultPage } from "./static.ts";
import { EXAMPLE_ROOT, pageConfig } from "./vite-config.ts";

export { EXAMPLE_ROOT } from "./vite-config.ts";

export interface VaultExample {
  /** The page, e.g. http://127.0.0.1:5173/. */
  url: string;
  chain: VaultChain;
  /** "build": the production build served by static.ts; "dev": Vite's dev server. */
  mode: "build" | "dev";
  /** The production build (mode "build"). */
  page?: PageBuild;
  close(): Promise<void>;
}

export interface VaultExampleOptions {
  rpcUrl: string;
  /** 0 (the default) picks a free port. */
  port?: number;
  examplesDir?: string;
  size?: string;
  /** Default "build". */
  mode?: "build" | "dev";
  /** Where the production build goes (default examples/vault/dist). */
  outDir?: string;
  log?: (line: string) => void;
}

/** The Vite dev server's config: the page's, plus the JSON endpoints and the read-only RPC as middleware. */
export function devServerConfig(chain: VaultChain, port: number) {
  const config = pageConfig();
  return {
    ...config,
    plugins: [
      vaultPlugin({ ...chain, shock: () => chain.shock() }),
      { name: "zks-rpc", configureServer: (server: ViteDevServer) => void server.middlewares.use(rpcProxy(chain.rpcUrl)) },
    ],
    optimizeDeps: { include: ["ethers"], entries: ["index.html", "bench.html"] },
    server: { host: "127.0.0.1", port, strictPort: port !== 0, fs: { allow: [path.resolve(EXAMPLE_ROOT, "..", "..")] } },
  };
}

export async function startVaultExample(options: VaultExampleOptions): Promise<VaultExample> {
  const size = options.size ?? "3x3x16";
  const mode = options.mode ?? "build";
  const paths = defaultBuildPaths();
  for (const instance of [`solvency-${size}`, `rebalance-${size}`]) {
    if (!readManifest(instanceDir(paths, instance))?.setupKey) throw new ZksError(`circuit instance ${instance} is not built: run \`zks setup --instance ${instance}\``, 3);
  }
  // The page first (a few seconds): a build error should not leave a deployed chain behind.
  const page = mode === "build" ? await buildVaultPage({ outDir: options.outDir }) : undefined;
  if (page) options.log?.(`built the page into ${page.outDir} in ${(page.ms / 1000).toFixed(1)} s`);
  const chain = await setUpVaultChain({ rpcUrl: options.rpcUrl, examplesDir: options.examplesDir, size, log: options.log });
  const state = { ...chain, shock: () => chain.shock() };
  try {
    if (page) {
      const served = await serveVaultPage({ root: page.outDir, state, rpcUrl: chain.rpcUrl, port: options.port ?? 0 });
      return {
        url: served.url,
        chain,
        mode,
        page,
        async close() {
          await served.close();
          await chain.close();
        },
      };
    }
    const server = await createServer(devServerConfig(chain, options.port ?? 0));
    await server.listen();
    const address = server.httpServer!.address() as AddressInfo;
    return {
      url: `http://127.0.0.1:${address.port}/`,
      chain,
      mode,
      async close() {
        await server.close();
        await chain.close();
      },
    };
  } catch (error) {
    await chain.close();
    throw error;
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.join(EXAMPLE_ROOT, "server", "start.ts")) {
  const { values } = parseArgs({
    options: {
      rpc: { type: "string", default: "http://127.0.0.1:8545" },
      port: { type: "string", default: "5173" },
      examples: { type: "string" },
      dev: { type: "boolean", default: false },
    },
  });
  const log = (line: string) => console.log(line);
  startVaultExample({ rpcUrl: values.rpc, port: Number(values.port), examplesDir: values.examples, mode: values.dev ? "dev" : "build", log }).then(
    (example) => {
      const { account, contracts } = example.chain.config();
      console.log(`\nvault example: ${example.url}  (bench: ${example.url}bench.html?instance=solvency-8x8x16)`);
      console.log(`  ${example.mode === "build" ? "the production build, served by examples/vault/server/static.ts" : "Vite's dev server"}; gate ${contracts.RebalanceGate}`);
      console.log(`  the example position's account ${account} is the node's account #1: connect a wallet on chain ${example.chain.chainId} (${example.chain.rpcUrl}) holding it`);
      console.log("  in the page: connect the wallet, load the example position, register it (a proven deposit), then 'Publish a price shock' and rebalance. Ctrl-C ends.");
      const stop = () => void example.close().finally(() => process.exit(0));
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
