/**
 * The SDK in a real browser. First the browser-safety check: every entry point of
 * @zk-solvency/sdk bundles for the browser with no Node built-in (scripts/build-browser.ts). Then
 * the vault page's pictures (examples/vault/src/charts.ts), in Node: their numbers are the risk
 * model's, formatted as `zks check` prints them. Then the vault example page (examples/vault) as a
 * user gets it: its production build (`vite build`) served by its static server, driven in
 * Debian's headless Chromium through playwright-core with an injected EIP-1193 wallet
 * (test/helpers/injected-wallet.ts: window.ethereum, signing with the local node's account; no key
 * in the page). It connects the wallet, registers the example position with a Rebalance proof
 * from the empty position made in the page's Web Worker (a proven deposit: the gate pulls the
 * collateral and option tokens, borrows the debt from the USDC lender vault), and after a price
 * shock plans, proves, verifies and submits a rebalance that the gate on a local `hardhat node`
 * accepts. No token is ever minted to the gate (docs/custody.md). Its audit inclusion panel checks
 * an inclusion proof built here for the example position (no proving needed).
 *
 * Screenshots, the wallet's refusals and the Vite consumer app are in test/vault-page.e2e.test.ts
 * and test/vite-consumer.e2e.test.ts (npm run test:e2e).
 *
 * Skipped when there is no Chromium at /usr/bin/chromium (or $ZKS_CHROMIUM), unless
 * ZKS_REQUIRE_BROWSER=1 (CI), which makes that a failure.
 *
 * With ZKS_BENCHMARKS=1 it also measures browser proving of the standard instance
 * (solvency-8x8x16, built by `zks setup --instance solvency-8x8x16`) and writes
 * benchmarks/browser.json. Run alone:
 *
 *   npx mocha --no-config -n import=tsx --timeout 600000 test/browser.e2e.test.ts
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { Contract, JsonRpcProvider } from "ethers";
import type { Browser, Page } from "playwright-core";
import { buildBrowserBundle, nodeLeaks, NodeBuiltinInBrowserBuild, sdkEntries } from "../scripts/build-browser.ts";
import { inclusionFileJson } from "../packages/sdk/src/audit/audit-files.ts";
import { accountFigures } from "../packages/sdk/src/audit/figures.ts";
import { inclusionFile } from "../packages/sdk/src/audit/inclusion.ts";
import { addFigures } from "../packages/sdk/src/audit/merkle-sum-tree.ts";
import { aggregateStatements } from "../packages/sdk/src/audit/statements.ts";
import { syntheticBook } from "../packages/sdk/src/audit/synthetic-book.ts";
import { ERC20_ABI, MARKET_ORACLE_ABI, REBALANCE_GATE_ABI } from "../packages/sdk/src/chain/abi.ts";
import { LENDER_VAULT_ABI } from "../packages/sdk/src/chain/lender.ts";
import { formatHuman } from "../packages/sdk/src/core/decimal.ts";
import { QUANTITY_SCALE } from "../packages/sdk/src/core/fixed-point.ts";
import { defaultExamplesDir, loadScenario } from "../packages/cli/src/demo/scenario.ts";
import { parseMarket } from "../packages/sdk/src/inputs/parse-market.ts";
import { parsePolicy } from "../packages/sdk/src/inputs/parse-policy.ts";
import { parsePosition } from "../packages/sdk/src/inputs/parse-position.ts";
import type { Market, Position } from "../packages/sdk/src/inputs/types.ts";
import { checkPosition, type RiskReport } from "../packages/sdk/src/model/check.ts";
import { explainChecks } from "../packages/sdk/src/model/explain.ts";
import { AUDIT_INSTANCES, auditLayout, runAudit } from "../packages/node/src/audit/run-audit.ts";
import { readJsonFile } from "../packages/node/src/read-json.ts";
import { releaseProverThreads } from "../packages/sdk/src/prover/release.ts";
import { readManifest } from "../packages/node/src/setup/manifest.ts";
import { defaultBuildPaths, instanceDir, PACKAGE_ROOT } from "../packages/node/src/setup/paths.ts";
import type { BenchResult } from "../examples/vault/src/bench.ts";
import { healthFactorGauge, moneyText, riskPictures, scenarioLossBars, varBars } from "../examples/vault/src/charts.ts";
import { CONTENT_SECURITY_POLICY } from "../examples/vault/server/static.ts";
import { startVaultExample, type VaultExample } from "../examples/vault/server/start.ts";
import { CHROMIUM_PATH, chromiumAvailable, launchChromium, median } from "./helpers/browser.ts";
import { injectWallet, type InjectedWallet } from "./helpers/injected-wallet.ts";
import { startLocalNode, type LocalNode } from "./helpers/local-node.ts";

const execute = promisify(execFile);
const require = createRequire(import.meta.url);
const HARDHAT_CLI = path.join(path.dirname(require.resolve("hardhat/package.json")), "dist", "src", "cli.js");
const TEST_INSTANCES = ["solvency-3x3x16", "rebalance-3x3x16"];
const STANDARD_INSTANCE = "solvency-8x8x16";
const BENCHMARK_FILE = path.join(PACKAGE_ROOT, "benchmarks", "browser.json");
/** The page's own thread must keep running while the worker proves: a proof on it would stall it for seconds. */
const MAX_STALL_MS = 1_500;

const isBuilt = (instance: string) => Boolean(readManifest(instanceDir(defaultBuildPaths(), instance))?.setupKey);
const ms = (value: number) => `${(value / 1000).toFixed(2)} s`;

describe("browser safety of @zk-solvency/sdk (scripts/build-browser.ts)", function () {
  it("bundles every entry point the package exports for the browser, with no Node built-in and no Node-only source", async function () {
    const pkg = JSON.parse(readFileSync(path.join(PACKAGE_ROOT, "packages", "sdk", "package.json"), "utf8")) as { exports: Record<string, unknown> };
    const subpaths = Object.keys(pkg.exports).filter((k) => k !== "./package.json");
    const entries = sdkEntries();
    assert.deepEqual(Object.keys(entries).sort(), subpaths.map((k) => (k === "." ? "index" : k.slice(2))).sort(), "one bundle per exported entry point");
    const build = await buildBrowserBundle();
    assert.equal(build.outdir, null, "a check writes nothing");
    assert.deepEqual(nodeLeaks(build.metafile), []);
    assert.deepEqual(build.outputs.map((o) => o.entry).sort(), Object.keys(entries).sort());
    assert.ok(build.inputs.includes("packages/sdk/src/browser/prover-worker.ts"));
    assert.ok(
      build.inputs.some((i) => i.startsWith("node_modules/snarkjs/build/browser")),
      "snarkjs' browser build, not its Node one",
    );
    assert.ok(!build.inputs.some((i) => /^packages\/(node|cli)\//.test(i)));
    // The model alone is small: a page that only checks positions does not pay for the prover.
    const size = (entry: string) => build.outputs.find((o) => o.entry === entry)!.bytes;
    assert.ok(size("model") < 64 * 1024, `@zk-solvency/sdk/model bundles to ${size("model")} bytes`);
    console.log(`      minified, each entry alone: ${build.outputs.map((o) => `${o.entry} ${(o.bytes / 1024).toFixed(0)} KiB`).join(", ")}`);
  });

  it("accepts `buffer` only as the npm package for the browser (@zk-kit/utils' dependency), never the built-in", function () {
    const leaks = (path: string, external = false) =>
      nodeLeaks({ inputs: { "x.js": { bytes: 1, imports: [{ path, kind: "import-statement", original: "buffer", ...(external ? { external } : {}) }] } }, outputs: {} } as never);
    assert.deepEqual(leaks("node_modules/buffer/index.js"), []);
    assert.deepEqual(leaks("buffer", true), ['x.js imports the Node built-in "buffer"']);
    assert.deepEqual(leaks("node_modules/not-buffer/index.js"), ['x.js imports the Node built-in "buffer"']);
  });

  it("fails the build when a module imports a Node built-in, and writes nothing", async function () {
    const dir = mkdtempSync(path.join(tmpdir(), "zks-browser-"));
    try {
      const entry = path.join(dir, "leaky.ts");
      writeFileSync(entry, 'import { readFileSync } from "node:fs";\nexport const read = () => readFileSync("x");\n');
      await assert.rejects(buildBrowserBundle({ entries: { leaky: entry }, outdir: path.join(dir, "out") }), (error: Error) => {
        assert.ok(error instanceof NodeBuiltinInBrowserBuild, error.message);
        assert.match(error.message, /node:fs/);
        return true;
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("vault page pictures (examples/vault/src/charts.ts)", function () {
  const scenario = loadScenario(defaultExamplesDir());
  const { market, policy } = scenario;
  /** The demo's shock: WETH -25%, under which the example position fails the health factor and historical VaR. */
  const shocked: Market = { ...market, assets: market.assets.map((a) => (a.symbol === "WETH" ? { ...a, price: (a.price * 75n) / 100n } : a)) };
  const before = checkPosition(scenario.position, shocked, policy);
  // The planner's rebalance of the demo: repay 7,200 USDC of debt (6 decimals) from the wallet.
  const usdc = shocked.assets.findIndex((a) => a.symbol === "USDC");
  const repaid: Position = { ...scenario.position, debt: scenario.position.debt.map((d, i) => (i === usdc ? d - 7_200n * 10n ** 6n : d)) };
  const after = checkPosition(repaid, shocked, policy);
  const input = { quote: shocked.quote, scenarios: shocked.scenarios.map((s) => s.name), policy, before, after };
  const cli = (report: RiskReport, check: string) => explainChecks(report).find((e) => e.check === check)!.line;
  const xml = (text: string) => text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
  const attr = (svg: string, element: string, name: string) => [...svg.matchAll(new RegExp(`<${element} [^>]*${name}="([^"]*)"`, "g"))].map((m) => m[1]!);

  it("shows the health factor before and after with the numbers zks check prints", function () {
    assert.equal(before.healthFactor.value, 10963n);
    const gauge = healthFactorGauge(input);
    assert.equal(gauge.label, "Health factor: 1.0963 before the rebalance, 1.3909 after the rebalance; policy minimum 1.10, rebalance trigger 1.25.");
    // The same figures as the CLI's lines, which the picture's description carries verbatim.
    assert.match(cli(before, "healthFactor"), /^health factor 1\.0963 < 1\.10/);
    assert.match(cli(after, "healthFactor"), /^health factor 1\.3909 >= 1\.10/);
    assert.ok(gauge.svg.includes(xml(cli(before, "healthFactor"))) && gauge.svg.includes(xml(cli(after, "healthFactor"))));
    assert.deepEqual(
      attr(gauge.svg, "line", "data-state").filter((s) => s !== ""),
      ["before", "after"],
    );
    assert.match(gauge.svg, /^<svg [^>]*role="img" aria-label="Health factor: 1\.0963/);
    // Now only: one needle, no "after".
    const now = healthFactorGauge({ ...input, after: undefined });
    assert.equal(now.label, "Health factor: 1.0963 now; policy minimum 1.10, rebalance trigger 1.25.");
  });

  it("draws every scenario's loss against equity, failing exactly where the stress check would", function () {
    const losses = scenarioLossBars(input);
    const n = shocked.scenarios.length;
    assert.equal(attr(losses.svg, "rect", "data-scenario").length, 2 * n, "a bar per scenario and state");
    // Each bar's figure is the model's weighted loss W_j = ceil(w_j L*_j / 10^12), and it fails
    // exactly when W_j exceeds equity less the minimum, which is what the stress check compares.
    const passes = attr(losses.svg, "rect", "data-pass");
    const figures = attr(losses.svg, "rect", "data-loss");
    for (const [k, report] of [before, after].entries()) {
      for (let j = 0; j < n; j++) {
        const w = report.stress.weightedLosses[j]!;
        const weighted = w >= 0n ? (w + 10n ** 12n - 1n) / 10n ** 12n : -(-w / 10n ** 12n);
        assert.equal(figures[2 * j + k], formatHuman(weighted, shocked.quote.decimals));
        assert.equal(passes[2 * j + k], String(weighted <= report.equity.value - report.stress.minEquity));
      }
      assert.equal(
        passes.filter((p, i) => i % 2 === k).every((p) => p === "true"),
        report.stress.pass,
        "all bars pass exactly when the stress check passes",
      );
    }
    assert.ok(
      losses.label.includes(
        `worst loss ${moneyText(shocked.quote, before.stress.worstLoss)} in '${before.stress.scenario}' against equity ${moneyText(shocked.quote, before.equity.value)}`,
      ),
    );
    assert.ok(cli(before, "stress").includes(moneyText(shocked.quote, before.equity.value)), "the equity the picture shows is the CLI's");
  });

  it("draws each VaR and the capital it requires against equity, as the CLI computes them", function () {
    const bars = varBars(input);
    assert.deepEqual(attr(bars.svg, "g", "data-method"), ["historical", "historical", "parametric", "parametric"]);
    assert.deepEqual(attr(bars.svg, "g", "data-state"), ["before", "after", "before", "after"]);
    assert.deepEqual(attr(bars.svg, "g", "data-pass"), [
      String(before.var.historical!.pass),
      String(after.var.historical!.pass),
      String(before.var.parametric!.pass),
      String(after.var.parametric!.pass),
    ]);
    assert.equal(before.var.historical!.pass, false, "the shock fails historical VaR");
    // "VaR x 1.5 = required" as the CLI line prints it, for every bar.
    const required = attr(bars.svg, "g", "data-required");
    const lines = [cli(before, "historicalVar"), cli(after, "historicalVar"), cli(before, "parametricVar"), cli(after, "parametricVar")];
    lines.forEach((line, i) => assert.ok(line.includes(`x 1.5 = ${required[i]} ${shocked.quote.symbol}`), `${line} / ${required[i]}`));
    assert.match(bars.label, /historical VaR before the rebalance [\d,.]+ USD, capital required [\d,.]+ USD \(× 1\.50\), equity [\d,.]+ USD, fails/);
  });

  it("escapes what the market file says: a scenario name cannot put markup into the page", function () {
    const hostile = { ...input, scenarios: input.scenarios.map((s, j) => (j === 0 ? `</title><script>alert(1)</script><img src=x onerror="alert(2)">` : s)) };
    const { gauge, losses, var: bars } = riskPictures(hostile);
    for (const svg of [gauge.svg, losses.svg, bars.svg]) {
      assert.doesNotMatch(svg, /<script|<img|onerror="/);
    }
    assert.ok(losses.svg.includes("&lt;/title&gt;&lt;script&gt;"));
  });
});

describe("vault example page (production build) in headless Chromium", function () {
  this.timeout(600_000);
  let node: LocalNode | undefined;
  let example: VaultExample | undefined;
  let browser: Browser | undefined;
  let page: Page;
  let wallet: InjectedWallet;
  let provider: JsonRpcProvider;
  let outDir: string | undefined;
  const timings: string[] = [];
  /** What the browser reported refusing under the page's Content-Security-Policy. */
  const violations: string[] = [];

  before(async function () {
    if (!chromiumAvailable()) {
      // CI installs Chromium and sets ZKS_REQUIRE_BROWSER=1, so that a missing browser fails there.
      assert.notEqual(process.env.ZKS_REQUIRE_BROWSER, "1", `ZKS_REQUIRE_BROWSER=1 but there is no Chromium at ${CHROMIUM_PATH}`);
      console.log(`      skipped: no Chromium at ${CHROMIUM_PATH} (apt-get install chromium, or set ZKS_CHROMIUM)`);
      this.skip();
    }
    const missing = TEST_INSTANCES.filter((i) => !isBuilt(i));
    assert.deepEqual(missing, [], `set up the test tier first: ZKS_PTAU=... npx zks setup --tier test (missing ${missing.join(", ")})`);
    // The gate's verifiers must be the ones generated with the current keys (incremental).
    await execute(process.execPath, [HARDHAT_CLI, "compile", "--quiet"], { cwd: PACKAGE_ROOT, maxBuffer: 16 << 20 });
    node = await startLocalNode();
    // The page's production build, in a directory of this run's own.
    outDir = mkdtempSync(path.join(tmpdir(), "zks-vault-dist-"));
    example = await startVaultExample({ rpcUrl: node.url, outDir });
    assert.equal(example.mode, "build");
    const js = example.page!.files.filter((f) => f.file.endsWith(".js"));
    timings.push(`vite build ${ms(example.page!.ms)}: ${js.map((f) => `${f.file} ${(f.bytes / 1024).toFixed(0)} KiB`).join(", ")}`);
    provider = new JsonRpcProvider(node.url, undefined, { staticNetwork: true });
    browser = await launchChromium();
    page = await browser.newPage();
    page.on("pageerror", (error) => console.log(`      page error: ${error.message}`));
    page.on("console", (message) => {
      if (/Content Security Policy/i.test(message.text())) violations.push(message.text());
    });
    wallet = await injectWallet(page, { rpcUrl: node.url, account: example.chain.config().account });
    await page.goto(example.url);
    await page.waitForSelector("body[data-ready=true]", { timeout: 60_000 });
  });

  after(async function () {
    if (timings.length > 0) console.log(`      Chromium ${browser?.version()}: ${timings.join("; ")}`);
    await browser?.close();
    await example?.close();
    provider?.destroy();
    await node?.stop();
    if (outDir) rmSync(outDir, { recursive: true, force: true });
  });

  const text = (selector: string) => page.locator(selector).innerText();
  /** Clicks one of the page's buttons and waits for its work to end (the page disables a button while it works). */
  const run = async (id: string) => {
    await page.click(`#${id}`);
    await page.waitForSelector(`#${id}:not([disabled])`, { timeout: 60_000 });
  };
  const data = (selector: string, key: string) => page.locator(selector).getAttribute(`data-${key}`);

  /** Clicks the proof card's buttons in turn, checking the progress the page shows; returns the page's figures. */
  async function proveVerifySubmit(expectedEvent: string) {
    await page.click("#prove");
    await page.waitForSelector("#proof-status[data-state=proved], #proof-status[data-state=error]", { timeout: 300_000 });
    assert.equal(await data("#proof-status", "state"), "proved", await text("#proof-status"));
    // Progress went through every stage of the worker, in order.
    const stages = await page.locator("#progress-log li").evaluateAll((items) => items.map((li) => li.getAttribute("data-stage")));
    assert.deepEqual(stages, ["loaded", "witness", "proof", "done"]);
    assert.equal(await data("#progress", "stage"), "done");
    const figures = {
      instance: (await data("#proof-status", "instance"))!,
      witnessMs: Number(await data("#proof-status", "witness-ms")),
      proofMs: Number(await data("#proof-status", "proof-ms")),
      maxStallMs: Number(await data("#proof-status", "max-stall-ms")),
    };
    assert.ok(figures.proofMs > 0 && figures.witnessMs > 0);
    assert.ok(figures.maxStallMs < MAX_STALL_MS, `the page stalled ${figures.maxStallMs} ms while proving`);

    await page.click("#verify");
    await page.waitForSelector("#verify-status[data-state=valid], #verify-status[data-state=invalid], #verify-status[data-state=error]");
    assert.equal(await data("#verify-status", "state"), "valid", await text("#verify-status"));

    await page.click("#submit");
    await page.waitForSelector("#submit-status[data-state=done], #submit-status[data-state=error]", { timeout: 120_000 });
    assert.equal(await data("#submit-status", "state"), "done", await text("#submit-status"));
    assert.equal(await data("#submit-status", "event"), expectedEvent);
    timings.push(`${figures.instance} ${ms(figures.witnessMs + figures.proofMs)} (witness ${ms(figures.witnessMs)}), page stalled at most ${figures.maxStallMs} ms`);
    return { ...figures, tx: (await data("#submit-status", "tx"))!, commitment: BigInt((await data("#submit-status", "commitment"))!) };
  }

  it("serves the build with a Content-Security-Policy, nothing outside the build directory, and a read-only /rpc", async function () {
    const get = (pathname: string) => fetch(new URL(pathname, example!.url), { redirect: "manual" });
    const index = await get("/");
    assert.equal(index.status, 200);
    assert.equal(index.headers.get("content-security-policy"), CONTENT_SECURITY_POLICY);
    assert.match(await index.text(), /<script type="module" crossorigin src="\/assets\/index-[\w-]+\.js">/, "the built page, not the sources");
    // Escapes from the build directory, plain and encoded: the repository (and examples/vault's
    // own sources beside dist/) are not served.
    for (const escape of [
      "/../package.json",
      "/%2e%2e/%2e%2e/package.json",
      "/..%2f..%2fpackage.json",
      "/assets/..%2f..%2fserver%2fstart.ts",
      "/%2fetc%2fpasswd",
      "/src/main.ts",
      "/assets/%00.js",
      "/..%5c..%5cpackage.json",
    ]) {
      const response = await get(escape);
      assert.equal(response.status, 404, `${escape} answered ${response.status}`);
    }
    // The site's RPC forwards reads; it never lets a visitor spend the node's unlocked accounts.
    const rpc = (body: unknown) => fetch(new URL("/rpc", example!.url), { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
    const read = await rpc({ jsonrpc: "2.0", id: 1, method: "eth_chainId", params: [] });
    assert.equal(read.status, 200);
    assert.equal(((await read.json()) as { result: string }).result, "0x7a69");
    const account = example!.chain.config().account;
    for (const method of ["eth_sendTransaction", "eth_accounts", "eth_sign", "hardhat_setBalance", "evm_mine", "hardhat_impersonateAccount", "personal_sign"]) {
      const refused = await rpc({ jsonrpc: "2.0", id: 7, method, params: [{ from: account, to: account, value: "0x1" }] });
      assert.equal(refused.status, 403, method);
      const body = (await refused.json()) as { id: number; error: { code: number; message: string } };
      assert.equal(body.id, 7);
      assert.equal(body.error.code, -32601);
      assert.match(body.error.message, new RegExp(`^${method} is not served by this site's RPC, which only reads the chain`));
    }
    // A batch is refused whole when one call in it is refused.
    const batch = await rpc([
      { jsonrpc: "2.0", id: 1, method: "eth_blockNumber", params: [] },
      { jsonrpc: "2.0", id: 2, method: "eth_sendTransaction", params: [{ from: account, to: account, value: "0x1" }] },
    ]);
    assert.equal(batch.status, 403);
    assert.deepEqual(
      ((await batch.json()) as { id: number }[]).map((e) => e.id),
      [2],
    );
    assert.equal((await fetch(new URL("/rpc", example!.url))).status, 405);
    const huge = await fetch(new URL("/rpc", example!.url), { method: "POST", body: "x".repeat(2 << 20) });
    assert.equal(huge.status, 413);
  });

  it("connects the injected wallet through ethers' BrowserProvider, with no key in the page", async function () {
    const config = example!.chain.config();
    assert.equal(await data("#wallet-status", "account"), null);
    await run("connect-wallet");
    assert.equal(await data("#wallet-status", "state"), "ok", await text("#wallet-status"));
    assert.equal(await data("#wallet-status", "account"), config.account);
    assert.equal(await text("#wallet-status"), `wallet ${config.account} on chain 31337`);
    assert.deepEqual(
      wallet.requests.map((r) => r.method).filter((m) => m.startsWith("eth_request") || m.startsWith("wallet_")),
      ["eth_requestAccounts"],
      "asked for the accounts once; already on the gate's chain, so no switch",
    );
  });

  it("registers the example position with a proven deposit from the empty position generated in the page", async function () {
    const config = example!.chain.config();
    const gate = new Contract(config.contracts.RebalanceGate, REBALANCE_GATE_ABI, provider);
    const erc20 = (address: string) => new Contract(address, ERC20_ABI, provider);
    const slot = (symbol: string) => config.tokens.find((t) => t.symbol === symbol)!;
    const usdc = erc20(slot("USDC").address);
    const lender = new Contract(config.lenders.find((l) => l.symbol === "USDC")!.address, LENDER_VAULT_ABI, provider);
    const put = erc20(config.instrumentTokens.find((t) => t.id === "ETH-26DEC26-2800-P")!.address);
    assert.equal(await gate.getFunction("isRegistered")(config.account), false);
    // No reserve: the gate holds nothing before a position brings it in.
    for (const t of config.tokens) assert.equal(await erc20(t.address).getFunction("balanceOf")(config.contracts.RebalanceGate), 0n, `${t.symbol} at the gate`);
    assert.match(await text("#market-status"), /epoch 42.*matches the oracle/);
    const walletUsdc = (await usdc.getFunction("balanceOf")(config.account)) as bigint;

    await run("load-example");
    await page.waitForSelector("#checks[data-pass=true]");
    assert.equal(await data("#hf", "value"), "1.4618");
    assert.equal(await data("#statement", "kind"), "register");
    // The pictures show the position now, with the model's numbers (labelled for screen readers).
    assert.equal(await data("#pictures", "state"), "now");
    assert.equal(await page.getByRole("img", { name: /^Health factor:/ }).getAttribute("aria-label"), "Health factor: 1.4618 now; policy minimum 1.10, rebalance trigger 1.25.");
    assert.equal(await page.locator("#loss-bars rect.loss").count(), 16);
    assert.equal(await page.locator("#var-bars g.var").count(), 2);
    // A written option cannot be registered under token custody: the page says so and leaves it out.
    const loaded = JSON.parse(await page.locator("#position-json").inputValue()) as { derivatives: Record<string, string> };
    await page.fill("#position-json", JSON.stringify({ ...loaded, derivatives: { ...loaded.derivatives, "ETH-26DEC26-3200-C": "-4" } }, null, 2));
    await run("check");
    assert.match(await text("#statement"), /Written \(short\) options cannot be registered under token custody and are left out: ETH-26DEC26-3200-C -4/);
    await run("load-example");
    await page.waitForSelector("#checks[data-pass=true]");
    const statement = await text("#statement");
    assert.doesNotMatch(statement, /Written \(short\)/);
    assert.match(statement, /deposit 20(\.0+)? WETH/);
    assert.match(statement, /borrow 34,000(\.\d+)? USDC from the lender/);
    assert.match(statement, /withdraw 34,000(\.\d+)? USDC to the wallet/);
    assert.match(statement, /deposit 2(\.0+)? ETH-26DEC26-2800-P option tokens/);

    const sentBefore = wallet.requests.filter((r) => r.method === "eth_sendTransaction").length;
    const result = await proveVerifySubmit("PositionRegistered");
    assert.equal(result.instance, "rebalance-3x3x16");
    // Every transaction went through the wallet, from the position's account: the approvals of the
    // WETH and put-token deposits, then register. The page asked for no signature of anything else.
    const sent = wallet.requests.filter((r) => r.method === "eth_sendTransaction").slice(sentBefore);
    assert.equal(sent.length, 3);
    for (const r of sent) assert.equal((r.params[0] as { from: string }).from.toLowerCase(), config.account.toLowerCase());
    assert.ok(!wallet.requests.some((r) => /sign/i.test(r.method)));
    assert.equal(await gate.getFunction("isRegistered")(config.account), true);
    assert.equal(await gate.getFunction("commitmentOf")(config.account), result.commitment);
    // Custody: the gate holds exactly the registered collateral and option tokens, and owes the lender the debt units.
    assert.equal(await erc20(slot("WETH").address).getFunction("balanceOf")(config.contracts.RebalanceGate), 20n * 10n ** 18n);
    assert.equal(await usdc.getFunction("balanceOf")(config.contracts.RebalanceGate), 0n);
    assert.equal(await put.getFunction("balanceOf")(config.contracts.RebalanceGate), 2n * 10n ** 8n);
    assert.equal(await lender.getFunction("debtUnitsOf")(config.contracts.RebalanceGate), 34_000n * 10n ** 6n);
    // The borrowed USDC reached the wallet (at the lender's index, at least 34,000).
    assert.ok(((await usdc.getFunction("balanceOf")(config.account)) as bigint) - walletUsdc >= 34_000n * 10n ** 6n);
    await page.waitForSelector("#onchain-status[data-registered=true]");
    // The page holds the registered position: nonce 1, its long puts, no written call.
    const held = await page.locator("#position-json").inputValue();
    assert.match(held, /"nonce": 1/);
    assert.match(held, /ETH-26DEC26-2800-P/);
    assert.doesNotMatch(held, /ETH-26DEC26-3200-C/);
  });

  it("after a price shock, plans a rebalance, proves and verifies it in the page, and the gate accepts it on-chain", async function () {
    const config = example!.chain.config();
    const gate = new Contract(config.contracts.RebalanceGate, REBALANCE_GATE_ABI, provider);
    const usdc = new Contract(config.tokens.find((t) => t.symbol === "USDC")!.address, ERC20_ABI, provider);
    const before = { commitment: (await gate.getFunction("commitmentOf")(config.account)) as bigint, usdc: (await usdc.getFunction("balanceOf")(config.account)) as bigint };

    // The oracle publishes epoch 43, WETH -25%: the example server plays it, behind the page's
    // dev button, which then fetches the new market as "Fetch the latest market" does.
    await run("dev-shock");
    await page.waitForSelector("#market-status[data-epoch='43']");
    const oracle = new Contract(config.contracts.MarketOracle, MARKET_ORACLE_ABI, provider);
    assert.equal(await oracle.getFunction("latestEpoch")(), 43n);
    await run("refresh-market");
    assert.equal(await data("#market-status", "state"), "ok");
    assert.match(await text("#market-status"), /epoch 43.*matches the oracle/);
    await page.waitForSelector("#checks[data-pass=false]");
    const failures = (await data("#checks", "failures"))!.split(",");
    assert.ok(failures.includes("healthFactor"), `failures: ${failures.join(", ")}`);
    assert.match(await text("#checks"), /health factor 1\.0963 < 1\.10/);

    await run("plan");
    assert.equal(await data("#plan-status", "state"), "ok", await text("#plan-status"));
    assert.match(await text("#plan-steps"), /repay 7,200 USDC of debt from the wallet/);
    assert.equal(await data("#statement", "kind"), "rebalance");
    // The pictures now show the position before and after the planned rebalance.
    assert.equal(await data("#pictures", "state"), "before-after");
    assert.equal(
      await page.locator("#hf-gauge svg").getAttribute("aria-label"),
      "Health factor: 1.0963 before the rebalance, 1.3909 after the rebalance; policy minimum 1.10, rebalance trigger 1.25.",
    );
    assert.equal(await page.locator("#loss-bars rect.loss").count(), 32);
    assert.deepEqual(
      await page.locator("#var-bars g.var").evaluateAll((gs) => gs.map((g) => `${g.getAttribute("data-method")} ${g.getAttribute("data-state")} ${g.getAttribute("data-pass")}`)),
      ["historical before false", "historical after true", "parametric before true", "parametric after true"],
    );

    const result = await proveVerifySubmit("Rebalanced");
    assert.equal(result.instance, "rebalance-3x3x16");

    // On-chain: the gate's commitment moved to the page's new position, the nonce advanced, the
    // Rebalanced event is in the page's transaction and the repayment left the wallet.
    const after = (await gate.getFunction("commitmentOf")(config.account)) as bigint;
    assert.notEqual(after, before.commitment);
    assert.equal(after, result.commitment);
    const receipt = await provider.getTransactionReceipt(result.tx);
    const events = receipt!.logs.map((log) => gate.interface.parseLog(log)).filter((e) => e !== null);
    const rebalanced = events.find((e) => e.name === "Rebalanced");
    assert.ok(rebalanced, "a Rebalanced event");
    assert.equal(rebalanced.args.nonce, 2n, "the event carries the new nonce (the gate stores only the commitment, which binds it)");
    assert.equal(rebalanced.args.account, config.account);
    assert.equal(rebalanced.args.oldCommitment, before.commitment);
    assert.equal(rebalanced.args.newCommitment, after);
    assert.equal(rebalanced.args.epoch, 43n);
    // The wallet paid what the lender took for the repaid units (at most the 7,200 USDC proven;
    // anything the lender did not take came back to the wallet in the same transaction).
    const lender = new Contract(config.lenders.find((l) => l.symbol === "USDC")!.address, LENDER_VAULT_ABI, provider);
    const repaid = receipt!.logs
      .filter((log) => log.address === lender.target)
      .map((log) => lender.interface.parseLog(log))
      .find((e) => e?.name === "Repaid");
    assert.ok(repaid, "a Repaid event of the lender");
    const taken = repaid.args.assets as bigint;
    assert.ok(taken <= 7_200_000_000n && taken > 7_199_000_000n, `the lender took ${taken}`);
    assert.equal(before.usdc - ((await usdc.getFunction("balanceOf")(config.account)) as bigint), taken);
    // The page now holds the new position (nonce 2) and it is the one the gate commits to.
    await page.waitForSelector("#onchain-status[data-nonce='2']");
    assert.match(await page.locator("#position-json").inputValue(), /"nonce": 2/);
    assert.match(await text("#onchain-status"), /is this position's/);
    assert.deepEqual(violations, [], "the page did everything within its Content-Security-Policy");
  });

  it(`measures browser proving of the standard instance (${STANDARD_INSTANCE}) into benchmarks/browser.json (ZKS_BENCHMARKS=1)`, async function () {
    if (process.env.ZKS_BENCHMARKS !== "1") {
      console.log("      skipped: set ZKS_BENCHMARKS=1 to measure the standard instance");
      this.skip();
    }
    assert.ok(isBuilt(STANDARD_INSTANCE), `set up the standard instance first: ZKS_PTAU=... npx zks setup --instance ${STANDARD_INSTANCE}`);
    const bench = await browser!.newPage();
    try {
      await bench.goto(`${example!.url}bench.html?instance=${STANDARD_INSTANCE}&runs=3`);
      await bench.waitForSelector("#bench-status[data-state=done], #bench-status[data-state=error]", { timeout: 540_000 });
      const status = bench.locator("#bench-status");
      assert.equal(await status.getAttribute("data-state"), "done", await status.innerText());
      const result = (await bench.evaluate(() => (window as unknown as { zksBench: unknown }).zksBench)) as BenchResult;
      assert.equal(result.verified, true);
      assert.equal(result.runs.length, 3);
      const record = {
        date: new Date().toISOString(),
        chromium: browser!.version(),
        instance: result.instance,
        constraints: result.constraints,
        proveMs: Math.round(median(result.runs.map((r) => r.proveMs))),
        witnessMs: Math.round(median(result.runs.map((r) => r.witnessMs))),
        workerStartMs: Math.round(result.workerStartMs),
      };
      writeFileSync(BENCHMARK_FILE, `${JSON.stringify(record, null, 2)}\n`);
      timings.push(
        `${STANDARD_INSTANCE} median ${ms(record.proveMs)} of ${result.runs.map((r) => ms(r.proveMs)).join(", ")} (worker start ${ms(record.workerStartMs)}, ${result.hardwareConcurrency} threads)`,
      );
    } finally {
      await bench.close();
    }
  });

  // Runs after the tests above (mocha runs a suite's own tests before its children's), on the same
  // server and page: it reloads the example position and uses the market the page holds.
  describe("audit inclusion panel", function () {
    /**
     * A small audit proven here with the test-tier audit instances (batches of 2, merges of 2):
     * the page's example position (position-healthy.json's account and salt with the demo's
     * 20 WETH against 34,000 USDC, packages/cli/src/demo/scenario.ts) among seven synthetic accounts, at the
     * market the oracle serves the page.
     */
    let audit: Awaited<ReturnType<typeof smallAudit>>;
    async function smallAudit() {
      const chain = example!.chain;
      const market = parseMarket(chain.market(), "market");
      const policy = parsePolicy(chain.policy(), "policy", market);
      const mine = parsePosition(chain.examplePosition(), "example position", market);
      const read = (name: string) => {
        const file = path.join(defaultExamplesDir(), name);
        return parsePosition(readJsonFile(file), file, market);
      };
      const [healthy, atRisk] = [read("position-healthy.json"), read("position-at-risk.json")];
      // The page's market is the shocked one when the tests above ran: take the first seed whose
      // book still satisfies the root's statements there (else no audit proof exists).
      const bookOf = (seed: number) => [...syntheticBook(healthy, atRisk, { count: 7, seed, atRiskShare: 0.1 }), mine];
      const provable = (book: readonly Position[]) => {
        const totals = book.map((p) => accountFigures(p, market, policy, auditLayout(AUDIT_INSTANCES.test).layout).leaf.figures).reduce(addFigures);
        return aggregateStatements(totals, market.scenarios.length).holds;
      };
      const seed = Array.from({ length: 50 }, (_, i) => 7 + i).find((s) => provable(bookOf(s)));
      assert.ok(seed !== undefined, "no provable book among 50 seeds at the page's market");
      const book = bookOf(seed);
      assert.equal(new Set(book.map((p) => BigInt(p.account))).size, book.length, "distinct accounts");
      const run = await runAudit(
        book.map((position, i) => ({ position, source: `book:${i}` })),
        market,
        policy,
        { instances: AUDIT_INSTANCES.test },
      );
      const leaves = run.accounts.map((a) => a.leaf);
      const index = leaves.findIndex((leaf) => leaf.account === BigInt(mine.account));
      const proofOf = (i: number) =>
        inclusionFileJson(inclusionFile(run.tree, i, run.report)) as { root: { sums: { collateral: string } }; zkProofs: { proof: { pi_a: string[] } }[] };
      const money = (figure: bigint) => `${formatHuman(figure / QUANTITY_SCALE, market.quote.decimals)} ${market.quote.symbol}`;
      return { tree: run.tree, index, mine: leaves[index]!, other: index === 0 ? 1 : 0, proofOf, money };
    }
    before(async function () {
      const missing = Object.values(AUDIT_INSTANCES.test).filter((i) => !isBuilt(i));
      assert.deepEqual(missing, [], `set up the test tier first (missing ${missing.join(", ")})`);
      audit = await smallAudit();
    });
    after(releaseProverThreads);

    it("says Included with what the audit counted for the example position, and Not included for another account's proof, altered totals or a forged proof", async function () {
      await run("load-example");
      const settled = "#inclusion-status[data-state=included], #inclusion-status[data-state=not-included], #inclusion-status[data-state=error]";

      // Opened as a file (read by the browser's File API).
      await page.setInputFiles("#inclusion-file", {
        name: "inclusion.json",
        mimeType: "application/json",
        buffer: Buffer.from(JSON.stringify(audit.proofOf(audit.index), null, 2)),
      });
      await page.waitForSelector(settled);
      assert.equal(await data("#inclusion-status", "state"), "included", await text("#inclusion-status"));
      assert.match(await text("#inclusion-status"), /^Included: account 0x70997970C51812dc3A010C7d01b50e0d17dc79C8 is counted/);
      assert.equal(await text("#audit-collateral"), audit.money(audit.mine.figures.collateral));
      assert.equal(await text("#audit-debt"), audit.money(audit.mine.figures.debt));
      assert.equal(await text("#audit-verdict"), audit.mine.figures.fails === 1n ? "failing" : "passing");
      const totals = audit.tree.root.sums;
      assert.equal(await text("#audit-positions"), `8 (${totals.fails} failing the policy)`);
      assert.equal(await text("#audit-total-collateral"), audit.money(totals.collateral));
      assert.equal(await text("#audit-total-debt"), audit.money(totals.debt));

      const notIncluded = async (file: unknown, reason: RegExp) => {
        await page.fill("#inclusion-json", JSON.stringify(file));
        await run("check-inclusion");
        assert.equal(await data("#inclusion-status", "state"), "not-included", await text("#inclusion-status"));
        assert.match(await text("#inclusion-status"), reason);
        assert.equal(await page.locator("#inclusion-figures dd").count(), 0);
      };
      // Pasted: another account's proof does not lead from this position's leaf into its batch.
      await notIncluded(audit.proofOf(audit.other), /^Not included: the path does not lead to the batch proof's subtree/);
      // Its own proof with the published collateral doubled: the root proof committed to other totals.
      const inflated = audit.proofOf(audit.index);
      inflated.root.sums.collateral = String(BigInt(inflated.root.sums.collateral) * 2n);
      await notIncluded(inflated, /^Not included: the published totals are not the ones the root proof committed to/);
      // Its own proof with the root proof forged: the page verifies every proof on the path.
      const forged = audit.proofOf(audit.index);
      const top = forged.zkProofs.at(-1)!.proof;
      top.pi_a = [top.pi_a[1]!, top.pi_a[0]!, top.pi_a[2]!];
      await notIncluded(forged, /^Not included: the root proof does not verify/);
    });
  });
});
