/**
 * The vault example's JSON endpoints, as connect-style middleware: served by the production
 * server (static.ts) and, as a Vite plugin, by the dev server (start.ts --dev) and `vite preview`:
 *
 *   GET  /zks/instances.json                the built instances (name, template, parameters, constraints)
 *   GET  /zks/artifacts/INSTANCE/main.wasm  the witness calculator,  \
 *   GET  /zks/artifacts/INSTANCE/circuit.zkey  the proving key,       } read from build/circuits/INSTANCE/
 *   GET  /zks/artifacts/INSTANCE/verification_key.json                /  at each request (never copied)
 *   GET  /zks/config.json, /zks/market.json, /zks/policy.json   the chain, the oracle's latest market, the policy
 *   GET  /zks/examples/position.json, /zks/examples/market.json  example files
 *   POST /zks/dev/shock                     the local oracle publishes a price shock (dev only)
 *
 * Nothing here receives a position: the page only downloads. Artifacts are read from build/ at
 * request time, so a rebuild by `zks setup` is served as soon as it lands.
 */
import { createReadStream, existsSync, statSync } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import path from "node:path";
import type { Plugin } from "vite";
import type { InstanceInfo } from "../../../packages/sdk/src/browser/instances.ts";
import { loadInstances } from "../../../packages/node/src/setup/instances.ts";
import { manifestFiles, readManifest } from "../../../packages/node/src/setup/manifest.ts";
import { defaultBuildPaths, instanceDir, type BuildPaths } from "../../../packages/node/src/setup/paths.ts";
import type { PageConfig, Published } from "./local-chain.ts";

export interface VaultServerState {
  config(): PageConfig;
  market(): unknown;
  policy(): unknown;
  examplePosition(): unknown;
  exampleMarket(): unknown;
  shock?(): Promise<Published>;
}

export interface ServedInstance extends InstanceInfo {
  files: { wasm: string; zkey: string; vkey: string };
}

const ARTIFACT_FILES = { "main.wasm": "wasm", "circuit.zkey": "zkey", "verification_key.json": "vkey" } as const;
const CONTENT_TYPES = { wasm: "application/wasm", zkey: "application/octet-stream", vkey: "application/json" } as const;

/** The instances `zks setup` has finished (keys made), as the page sees them. */
export function builtInstances(paths: BuildPaths = defaultBuildPaths()): ServedInstance[] {
  return loadInstances().flatMap((config) => {
    const manifest = readManifest(instanceDir(paths, config.name));
    if (!manifest?.setupKey) return [];
    const base = `/zks/artifacts/${config.name}`;
    return [
      {
        instance: config.name,
        template: config.template,
        params: config.params as number[],
        nConstraints: manifest.nConstraints,
        publicSignals: manifest.publicSignals,
        files: { wasm: `${base}/main.wasm`, zkey: `${base}/circuit.zkey`, vkey: `${base}/verification_key.json` },
      },
    ];
  });
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body, (_key, value: unknown) => (typeof value === "bigint" ? value.toString() : value));
  res.writeHead(status, { "content-type": "application/json", "cache-control": "no-store" });
  res.end(text);
}

function sendArtifact(res: ServerResponse, paths: BuildPaths, instance: string, file: keyof typeof ARTIFACT_FILES): void {
  const dir = instanceDir(paths, instance);
  const manifest = readManifest(dir);
  if (!manifest?.setupKey) return sendJson(res, 404, { error: `instance ${instance} is not built: run \`zks setup --instance ${instance}\`` });
  const kind = ARTIFACT_FILES[file];
  const full = manifestFiles(dir, manifest)[kind];
  if (!existsSync(full)) return sendJson(res, 404, { error: `${instance}: ${path.basename(full)} is missing` });
  res.writeHead(200, { "content-type": CONTENT_TYPES[kind], "content-length": String(statSync(full).size), "cache-control": "no-store" });
  createReadStream(full).pipe(res);
}

export function vaultMiddleware(state: VaultServerState, paths: BuildPaths = defaultBuildPaths()) {
  return (req: IncomingMessage, res: ServerResponse, next: () => void): void => {
    const url = new URL(req.url ?? "/", "http://localhost");
    if (!url.pathname.startsWith("/zks/")) return next();
    const route = url.pathname.slice("/zks/".length);
    const fail = (error: unknown) => sendJson(res, 500, { error: error instanceof Error ? error.message : String(error) });
    try {
      if (req.method === "POST" && route === "dev/shock") {
        if (!state.shock) return sendJson(res, 404, { error: "this server has no dev oracle" });
        state.shock().then((published) => sendJson(res, 200, published), fail);
        return;
      }
      if (req.method !== "GET" && req.method !== "HEAD") return sendJson(res, 405, { error: `${req.method} not allowed` });
      const artifact = /^artifacts\/([a-z0-9][a-z0-9-]*)\/(main\.wasm|circuit\.zkey|verification_key\.json)$/.exec(route);
      if (artifact) return sendArtifact(res, paths, artifact[1]!, artifact[2] as keyof typeof ARTIFACT_FILES);
      switch (route) {
        case "instances.json":
          return sendJson(res, 200, builtInstances(paths));
        case "config.json":
          return sendJson(res, 200, state.config());
        case "market.json":
          return sendJson(res, 200, state.market());
        case "policy.json":
          return sendJson(res, 200, state.policy());
        case "examples/position.json":
          return sendJson(res, 200, state.examplePosition());
        case "examples/market.json":
          return sendJson(res, 200, state.exampleMarket());
        default:
          return sendJson(res, 404, { error: `no such resource: ${url.pathname}` });
      }
    } catch (error) {
      fail(error);
    }
  };
}

/** The middleware as a Vite plugin, on the dev server and on `vite preview` alike. */
export function vaultPlugin(state: VaultServerState, paths?: BuildPaths): Plugin {
  return {
    name: "zks-vault",
    configureServer(server) {
      server.middlewares.use(vaultMiddleware(state, paths));
    },
    configurePreviewServer(server) {
      server.middlewares.use(vaultMiddleware(state, paths));
    },
  };
}
