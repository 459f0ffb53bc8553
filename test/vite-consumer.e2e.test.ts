/**
 * A fresh Vite app, as a vault team would start one, builds against the packed @zk-solvency/sdk
 * and proves in headless Chromium.
 *
 * `npm pack` of packages/sdk (its prepack builds dist/), then a new project in a temporary
 * directory outside the repository: Vite's vanilla-ts template as `npm create vite` writes it
 * (package.json with `"build": "tsc && vite build"`, its strict tsconfig with
 * erasableSyntaxOnly and verbatimModuleSyntax, index.html, src/main.ts), vite and typescript from
 * the registry, the SDK from the tarball. No Vite configuration beyond naming a second page: the
 * prover's Web Worker must come with the package by itself. Two pages:
 *
 * - index.html proves a Solvency proof of the spec's example position in the page's Web Worker
 *   (`proveSolvency` with a `BrowserProver`, artifacts fetched by URL) and verifies it
 *   (`verifySolvency`), and checks that an edited named field does not verify;
 * - parse.html only parses the files and runs the risk model: its bundle must hold none of the
 *   prover (tree-shaking through the package's ES modules and `sideEffects: false`).
 *
 * The build is served by a small static server with the solvency-3x3x16 artifacts of
 * build/circuits (the test tier). It reports the bundle sizes and the prove time.
 *
 *   npx mocha --no-config -n import=tsx --timeout 900000 test/vite-consumer.e2e.test.ts
 */
import assert from "node:assert/strict";
import { createReadStream, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { gzipSync } from "node:zlib";
import type { Browser } from "playwright-core";
import { manifestFiles, readManifest } from "../packages/node/src/setup/manifest.ts";
import { defaultBuildPaths, instanceDir, PACKAGE_ROOT } from "../packages/node/src/setup/paths.ts";
import { resolveStatic } from "../examples/vault/server/static.ts";
import { CHROMIUM_PATH, chromiumAvailable, launchChromium } from "./helpers/browser.ts";
import { npmEnv, run, tempDir, writeFiles } from "./helpers/pack.ts";

const INSTANCE = "solvency-3x3x16";
const EXAMPLES = path.join(PACKAGE_ROOT, "..", "shared", "spec", "examples");
const rootPackage = JSON.parse(readFileSync(path.join(PACKAGE_ROOT, "package.json"), "utf8")) as { devDependencies: Record<string, string> };
/** The same majors the repository builds with. */
const VITE = rootPackage.devDependencies.vite!;
const TYPESCRIPT = rootPackage.devDependencies.typescript!;

/** Vite 8's vanilla-ts template (`npm create vite@latest app -- --template vanilla-ts`), as it writes them, plus a second page. */
function templateFiles(tarball: string): Record<string, string> {
  return {
    "package.json": JSON.stringify(
      {
        name: "vault-app",
        private: true,
        version: "0.0.0",
        type: "module",
        scripts: { dev: "vite", build: "tsc && vite build", preview: "vite preview" },
        dependencies: { "@zk-solvency/sdk": `file:${tarball}` },
        devDependencies: { typescript: TYPESCRIPT, vite: VITE },
      },
      null,
      2,
    ),
    "tsconfig.json": JSON.stringify(
      {
        compilerOptions: {
          target: "ES2022",
          useDefineForClassFields: true,
          module: "ESNext",
          lib: ["ES2022", "DOM", "DOM.Iterable"],
          types: ["vite/client"],
          skipLibCheck: true,
          moduleResolution: "bundler",
          allowImportingTsExtensions: true,
          verbatimModuleSyntax: true,
          moduleDetection: "force",
          noEmit: true,
          strict: true,
          noUnusedLocals: true,
          noUnusedParameters: true,
          erasableSyntaxOnly: true,
          noFallthroughCasesInSwitch: true,
          noUncheckedSideEffectImports: true,
        },
        include: ["src"],
      },
      null,
      2,
    ),
    // The only configuration: a second page (Vite's documented multi-page setup).
    "vite.config.ts": `import { defineConfig } from "vite";\n\nexport default defineConfig({\n  build: { rolldownOptions: { input: { main: "index.html", parse: "parse.html" } } },\n});\n`,
    "index.html": `<!doctype html>
<html lang="en">
  <head>
    <meta charset="UTF-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1.0" />
    <title>vault-app</title>
  </head>
  <body>
    <div id="app">proving...</div>
    <script type="module" src="/src/main.ts"></script>
  </body>
</html>
`,
    "parse.html": `<!doctype html>
<html lang="en">
  <head><meta charset="UTF-8" /><title>vault-app: check</title></head>
  <body>
    <div id="app">checking...</div>
    <script type="module" src="/src/parse.ts"></script>
  </body>
</html>
`,
    "src/main.ts": `import { BrowserProver, parseMarket, parsePolicy, parsePosition, proveSolvency, verifySolvency, type CircuitArtifacts } from "@zk-solvency/sdk";

interface Result {
  valid: boolean;
  tamperedValid: boolean;
  proveMs: number;
  verifyMs: number;
  instance: string;
  commitment: string;
  account: string;
  nonce: string;
}

declare global {
  interface Window {
    result?: Result;
    failure?: string;
  }
}

async function json(url: string): Promise<unknown> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(url + ": HTTP " + response.status);
  return response.json();
}

async function main(): Promise<Result> {
  const market = parseMarket(await json("/fixtures/market-grid.json"), "market-grid.json");
  const policy = parsePolicy(await json("/fixtures/policy.json"), "policy.json", market);
  const position = parsePosition(await json("/fixtures/position-healthy.json"), "position-healthy.json", market);
  const artifacts: CircuitArtifacts = {
    instance: "${INSTANCE}",
    wasm: "/artifacts/main.wasm",
    zkey: "/artifacts/circuit.zkey",
    verificationKey: (await json("/artifacts/verification_key.json")) as CircuitArtifacts["verificationKey"],
  };
  // Proving in a Web Worker: the package's prover-worker, bundled by Vite from the package itself.
  const prover = BrowserProver.start();
  const started = performance.now();
  const proof = await proveSolvency({ position, market, policy }, artifacts, { prover });
  const proveMs = performance.now() - started;
  const verifying = performance.now();
  const valid = await verifySolvency(proof, artifacts);
  const verifyMs = performance.now() - verifying;
  // A proof object whose named fields were edited does not verify.
  const tamperedValid = await verifySolvency({ ...proof, nonce: proof.nonce + 1n }, artifacts);
  prover.terminate();
  return { valid, tamperedValid, proveMs, verifyMs, instance: proof.instance, commitment: proof.commitment.toString(), account: proof.account, nonce: proof.nonce.toString() };
}

main().then(
  (result) => {
    window.result = result;
    document.querySelector("#app")!.textContent = result.valid ? "proved and verified" : "the proof does not verify";
  },
  (error: unknown) => {
    window.failure = error instanceof Error ? error.name + ": " + error.message : String(error);
    document.querySelector("#app")!.textContent = window.failure;
  },
);
`,
    "src/parse.ts": `import { checkPosition, explainChecks, parseMarket, parsePolicy, parsePosition } from "@zk-solvency/sdk";

declare global {
  interface Window {
    lines?: string[];
  }
}

async function json(url: string): Promise<unknown> {
  return (await fetch(url)).json();
}

const market = parseMarket(await json("/fixtures/market-grid.json"), "market-grid.json");
const policy = parsePolicy(await json("/fixtures/policy.json"), "policy.json", market);
const position = parsePosition(await json("/fixtures/position-healthy.json"), "position-healthy.json", market);
window.lines = explainChecks(checkPosition(position, market, policy)).map((e) => e.line);
document.querySelector("#app")!.textContent = window.lines.join("\\n");
`,
  };
}

/** The built app, the fixtures and the instance's artifacts, over HTTP on 127.0.0.1. */
async function serve(dist: string): Promise<{ url: string; server: Server }> {
  const built = instanceDir(defaultBuildPaths(), INSTANCE);
  const files = manifestFiles(built, readManifest(built)!);
  const artifacts: Record<string, string> = { "main.wasm": files.wasm, "circuit.zkey": files.zkey, "verification_key.json": files.vkey };
  const types: Record<string, string> = { ".html": "text/html", ".js": "text/javascript", ".css": "text/css", ".json": "application/json", ".wasm": "application/wasm" };
  const server = createServer((req, res) => {
    const pathname = new URL(req.url ?? "/", "http://localhost").pathname;
    const artifact = /^\/artifacts\/([\w.]+)$/.exec(pathname)?.[1];
    const fixture = /^\/fixtures\/([\w.-]+\.json)$/.exec(pathname)?.[1];
    const file = artifact ? artifacts[artifact] : fixture ? resolveStatic(EXAMPLES, `/${fixture}`) : resolveStatic(dist, pathname);
    if (!file) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { "content-type": types[path.extname(file)] ?? "application/octet-stream", "content-length": String(statSync(file).size) });
    createReadStream(file).pipe(res);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, server };
}

const kib = (bytes: number) => `${(bytes / 1024).toFixed(0)} KiB`;

describe("a fresh Vite app with the packed @zk-solvency/sdk", function () {
  this.timeout(900_000);
  let dir: string | undefined;
  let server: Server | undefined;
  let browser: Browser | undefined;
  let url: string;
  let assets: { file: string; bytes: number; gzip: number }[] = [];
  const report: string[] = [];

  before(async function () {
    if (!chromiumAvailable()) {
      assert.notEqual(process.env.ZKS_REQUIRE_BROWSER, "1", `ZKS_REQUIRE_BROWSER=1 but there is no Chromium at ${CHROMIUM_PATH}`);
      console.log(`      skipped: no Chromium at ${CHROMIUM_PATH}`);
      this.skip();
    }
    assert.ok(readManifest(instanceDir(defaultBuildPaths(), INSTANCE))?.setupKey, `set up the test tier first: ZKS_PTAU=... npx zks setup --instance ${INSTANCE}`);
  });

  after(async function () {
    if (report.length > 0) console.log(`      ${report.join("\n      ")}`);
    await browser?.close();
    server?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("installs the packed SDK into a fresh Vite vanilla-ts project, which type-checks and builds with the prover worker bundled", async function () {
    dir = tempDir("vite-app");
    // The package as a user gets it: `npm pack`, whose prepack builds dist/.
    const packed = await run("npm", ["pack", "--pack-destination", dir, "--json"], path.join(PACKAGE_ROOT, "packages", "sdk"));
    assert.equal(packed.code, 0, `npm pack failed:\n${packed.stdout.slice(-3000)}\n${packed.stderr.slice(-3000)}`);
    const { filename, size } = (JSON.parse(packed.stdout) as { filename: string; size: number }[])[0]!;
    report.push(`npm pack @zk-solvency/sdk: ${kib(size)} in ${packed.seconds.toFixed(0)} s`);
    const app = path.join(dir, "app");
    writeFiles(app, templateFiles(path.join(dir, filename)));
    const install = await run("npm", ["install", "--no-audit", "--no-fund", "--prefer-offline"], app);
    assert.equal(install.code, 0, `npm install failed:\n${install.stdout.slice(-3000)}\n${install.stderr.slice(-3000)}`);
    report.push(`npm install: ${install.seconds.toFixed(0)} s`);

    // The template's own build: tsc (strict, erasableSyntaxOnly, verbatimModuleSyntax) then vite build.
    const build = await run("npm", ["run", "build"], app, npmEnv());
    assert.equal(build.code, 0, `npm run build (tsc && vite build) failed:\n${build.stdout.slice(-4000)}\n${build.stderr.slice(-4000)}`);
    report.push(`tsc && vite build: ${build.seconds.toFixed(1)} s`);
    const dist = path.join(app, "dist");
    assets = readdirSync(path.join(dist, "assets"))
      .filter((f) => f.endsWith(".js"))
      .map((file) => {
        const bytes = readFileSync(path.join(dist, "assets", file));
        return { file, bytes: bytes.length, gzip: gzipSync(bytes).length };
      });
    assert.ok(
      assets.some((a) => a.file.startsWith("prover-worker")),
      `the worker is bundled as an asset of its own: ${assets.map((a) => a.file).join(", ")}`,
    );
    report.push(`bundle: ${assets.map((a) => `${a.file} ${kib(a.bytes)} (${kib(a.gzip)} gzipped)`).join(", ")}`);
    ({ url, server } = await serve(dist));
  });

  it("proves in the page's Web Worker and verifies, and an edited field does not verify", async function () {
    assert.ok(url, "the app was built");
    browser = await launchChromium();
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on("pageerror", (error) => errors.push(error.message));
    const workers: string[] = [];
    page.on("worker", (worker) => workers.push(worker.url()));
    const started = Date.now();
    await page.goto(url);
    await page.waitForFunction(() => window.result !== undefined || window.failure !== undefined, undefined, { timeout: 600_000, polling: 250 });
    const failure = await page.evaluate(() => window.failure);
    assert.equal(failure, undefined, failure);
    const result = (await page.evaluate(() => window.result))!;
    assert.deepEqual(errors, []);
    assert.equal(result.valid, true, "the proof verifies");
    assert.equal(result.tamperedValid, false, "an edited nonce does not verify");
    assert.equal(result.instance, INSTANCE);
    const position = JSON.parse(readFileSync(path.join(EXAMPLES, "position-healthy.json"), "utf8")) as { account: string; nonce: string | number };
    assert.equal(result.account, position.account.toLowerCase());
    assert.equal(result.nonce, String(position.nonce));
    assert.ok(
      workers.some((w) => /\/assets\/prover-worker-[\w-]+\.js$/.test(w)),
      `the page proved in the bundled worker: ${workers.join(", ")}`,
    );
    report.push(
      `proved in ${(result.proveMs / 1000).toFixed(2)} s in the worker (artifacts fetched, witness and proof; ${((Date.now() - started) / 1000).toFixed(1)} s from page load), verified in ${(result.verifyMs / 1000).toFixed(2)} s`,
    );
    await page.close();
  });

  it("a page that only parses and checks holds none of the prover", async function () {
    assert.ok(url, "the app was built");
    const html = readFileSync(path.join(dir!, "app", "dist", "parse.html"), "utf8");
    const scripts = [...html.matchAll(/(?:src|href)="\/assets\/([\w.-]+\.js)"/g)].map((m) => m[1]!);
    const parse = assets.filter((a) => scripts.includes(a.file));
    assert.ok(parse.length > 0, `parse.html loads ${scripts.join(", ")}`);
    const code = parse.map((a) => readFileSync(path.join(dir!, "app", "dist", "assets", a.file), "utf8")).join("\n");
    // snarkjs' and ffjavascript's curve, the witness calculator and the worker stay out of it.
    for (const marker of ["bn128", "groth16", "prover-worker", "WitnessCalculator"]) assert.ok(!code.includes(marker), `the parse-only page's bundle holds "${marker}"`);
    const bytes = parse.reduce((sum, a) => sum + a.bytes, 0);
    const gzip = parse.reduce((sum, a) => sum + a.gzip, 0);
    report.push(`parse-only page: ${kib(bytes)} (${kib(gzip)} gzipped) in ${parse.map((a) => a.file).join(", ")}`);
    browser ??= await launchChromium();
    const page = await browser.newPage();
    await page.goto(new URL("parse.html", url).href);
    await page.waitForFunction(() => window.lines !== undefined, undefined, { timeout: 60_000 });
    const lines = (await page.evaluate(() => window.lines))!;
    assert.equal(lines.length, 4);
    assert.match(lines[0]!, /^health factor \d/);
    await page.close();
  });
});

declare global {
  interface Window {
    result?: { valid: boolean; tamperedValid: boolean; proveMs: number; verifyMs: number; instance: string; commitment: string; account: string; nonce: string };
    failure?: string;
    lines?: string[];
  }
}
