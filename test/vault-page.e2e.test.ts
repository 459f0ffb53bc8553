/**
 * The vault page as a user sees it, in Debian's headless Chromium (playwright-core), on its
 * production build served by examples/vault/server/static.ts against a local `hardhat node`:
 *
 * - screenshots of the risk pictures (health-factor gauge, scenario losses against equity, VaR
 *   bars), now and before/after the planned rebalance, and of the page, compared with the
 *   baselines in test/fixtures/screenshots/ (test/helpers/screenshots.ts; ZKS_UPDATE_SCREENSHOTS=1
 *   re-records them) at a fixed viewport, scale, colour scheme, locale and time zone;
 * - the wallet as users get it wrong: no wallet, a wallet on another chain (switching refused, then
 *   allowed), the wrong account, a rejected transaction, accounts and chain switched in the
 *   wallet. Each ends in one clear line and nothing on chain; then the right account registers;
 * - the development server (`npm run example -- --dev`) serving the same page from the sources.
 *
 * test/browser.e2e.test.ts (npm run test:e2e) drives the full register / rebalance / audit story; this file is
 * in `npm run test:e2e`.
 *
 *   npx mocha --no-config -n import=tsx --timeout 600000 test/vault-page.e2e.test.ts
 *   ZKS_UPDATE_SCREENSHOTS=1 npx mocha --no-config -n import=tsx --timeout 600000 test/vault-page.e2e.test.ts
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { Contract, HDNodeWallet, JsonRpcProvider } from "ethers";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { PNG } from "pngjs";
import { REBALANCE_GATE_ABI } from "../packages/sdk/src/chain/abi.ts";
import { readManifest } from "../packages/node/src/setup/manifest.ts";
import { defaultBuildPaths, instanceDir, PACKAGE_ROOT } from "../packages/node/src/setup/paths.ts";
import { startVaultExample, type VaultExample } from "../examples/vault/server/start.ts";
import { CHROMIUM_PATH, chromiumAvailable, launchChromium } from "./helpers/browser.ts";
import { injectWallet, type InjectedWallet, type InjectedWalletOptions } from "./helpers/injected-wallet.ts";
import { HARDHAT_MNEMONIC, startLocalNode, type LocalNode } from "./helpers/local-node.ts";
import { matchScreenshot, type ScreenshotMatch } from "./helpers/screenshots.ts";

const execute = promisify(execFile);
const require = createRequire(import.meta.url);
const HARDHAT_CLI = path.join(path.dirname(require.resolve("hardhat/package.json")), "dist", "src", "cli.js");
const INSTANCES = ["solvency-3x3x16", "rebalance-3x3x16"];
const isBuilt = (instance: string) => Boolean(readManifest(instanceDir(defaultBuildPaths(), instance))?.setupKey);
/** Hardhat's development account #3: unlocked on the node, not the example position's account (#1). */
const OTHER_ACCOUNT = HDNodeWallet.fromPhrase(HARDHAT_MNEMONIC, undefined, "m/44'/60'/0'/0/3").address;

describe("screenshot comparison (test/helpers/screenshots.ts)", function () {
  /** A 100x100 grey picture with `changed` pixels of its first rows painted black. */
  const png = (changed = 0) => {
    const image = new PNG({ width: 100, height: 100 });
    for (let p = 0; p < 100 * 100; p++) {
      const value = p < changed ? 0 : 200;
      image.data.set([value, value, value, 255], p * 4);
    }
    return PNG.sync.write(image);
  };

  it("fails without a baseline, tolerates a few pixels and notices a changed picture", function () {
    const dir = mkdtempSync(path.join(tmpdir(), "zks-screenshots-test-"));
    try {
      // No baseline: a clear failure, never a silent pass.
      assert.throws(() => matchScreenshot("picture", png(), { dir, update: false }), /^Error: no baseline .*picture\.png: record it with ZKS_UPDATE_SCREENSHOTS=1/);
      assert.equal(matchScreenshot("picture", png(), { dir, update: true }).updated, true);
      assert.equal(matchScreenshot("picture", png(), { dir, update: false }).diffPixels, 0);
      // 0.2% of 10,000 pixels may differ: 15 do.
      assert.equal(matchScreenshot("picture", png(15), { dir, update: false }).diffPixels, 15);
      assert.throws(
        () => matchScreenshot("picture", png(400), { dir, update: false }),
        /^Error: picture: 400 of 10000 pixels differ from .*picture\.png \(at most 20 may\); this run's screenshot: .*picture\.actual\.png, the differences: .*picture\.diff\.png/,
      );
      const smaller = new PNG({ width: 50, height: 100 });
      assert.throws(() => matchScreenshot("picture", PNG.sync.write(smaller), { dir, update: false }), /the screenshot is 50x100, the baseline .* 100x100/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("vault page: pictures, wallet and screenshots in headless Chromium", function () {
  this.timeout(600_000);
  let node: LocalNode | undefined;
  let example: VaultExample | undefined;
  let browser: Browser | undefined;
  let context: BrowserContext;
  let provider: JsonRpcProvider;
  let outDir: string | undefined;
  const pages: Page[] = [];
  const matches: ScreenshotMatch[] = [];

  before(async function () {
    if (!chromiumAvailable()) {
      assert.notEqual(process.env.ZKS_REQUIRE_BROWSER, "1", `ZKS_REQUIRE_BROWSER=1 but there is no Chromium at ${CHROMIUM_PATH}`);
      console.log(`      skipped: no Chromium at ${CHROMIUM_PATH} (apt-get install chromium, or set ZKS_CHROMIUM)`);
      this.skip();
    }
    const missing = INSTANCES.filter((i) => !isBuilt(i));
    assert.deepEqual(missing, [], `set up the test tier first: ZKS_PTAU=... npx zks setup --tier test (missing ${missing.join(", ")})`);
    await execute(process.execPath, [HARDHAT_CLI, "compile", "--quiet"], { cwd: PACKAGE_ROOT, maxBuffer: 16 << 20 });
    node = await startLocalNode();
    outDir = mkdtempSync(path.join(tmpdir(), "zks-vault-dist-"));
    example = await startVaultExample({ rpcUrl: node.url, outDir });
    provider = new JsonRpcProvider(node.url, undefined, { staticNetwork: true });
    browser = await launchChromium();
    // Everything that moves pixels, pinned: viewport, scale, colour scheme, locale, time zone, motion.
    context = await browser.newContext({
      viewport: { width: 1280, height: 900 },
      deviceScaleFactor: 1,
      colorScheme: "light",
      locale: "en-US",
      timezoneId: "UTC",
      reducedMotion: "reduce",
    });
  });

  after(async function () {
    if (matches.length > 0)
      console.log(`      screenshots: ${matches.map((m) => `${m.name} ${m.updated ? "recorded" : `${m.diffPixels} of ${m.totalPixels} pixels differ`}`).join("; ")}`);
    for (const p of pages) await p.close().catch(() => {});
    await context?.close();
    await browser?.close();
    await example?.close();
    provider?.destroy();
    await node?.stop();
    if (outDir) rmSync(outDir, { recursive: true, force: true });
  });

  /** A fresh page of the example, with an injected wallet unless `wallet` is null. */
  async function open(wallet: Partial<InjectedWalletOptions> | null): Promise<{ page: Page; wallet?: InjectedWallet }> {
    const page = await context.newPage();
    pages.push(page);
    page.on("pageerror", (error) => console.log(`      page error: ${error.message}`));
    const injected = wallet === null ? undefined : await injectWallet(page, { rpcUrl: node!.url, account: example!.chain.config().account, ...wallet });
    await page.goto(example!.url);
    await page.waitForSelector("body[data-ready=true]", { timeout: 60_000 });
    return { page, ...(injected && { wallet: injected }) };
  }

  const run = async (page: Page, id: string) => {
    await page.click(`#${id}`);
    await page.waitForSelector(`#${id}:not([disabled])`, { timeout: 120_000 });
  };
  const text = (page: Page, selector: string) => page.locator(selector).innerText();
  const data = (page: Page, selector: string, key: string) => page.locator(selector).getAttribute(`data-${key}`);
  const shoot = async (name: string, shot: Promise<Buffer>) => {
    matches.push(matchScreenshot(name, await shot));
  };
  const gate = () => new Contract(example!.chain.config().contracts.RebalanceGate, REBALANCE_GATE_ABI, provider);

  it("without a wallet, says there is none and how to get one", async function () {
    const { page } = await open(null);
    assert.equal(await text(page, "#wallet-status"), "no wallet found in this browser (window.ethereum)");
    await run(page, "connect-wallet");
    assert.equal(await data(page, "#wallet-status", "state"), "error");
    assert.equal(await text(page, "#wallet-status"), "no wallet found: this page signs with an injected EIP-1193 wallet (window.ethereum), such as a browser extension wallet");
  });

  it("asks a wallet on another chain to switch, and says which chain when it will not", async function () {
    const refusing = await open({ chainId: 1n, allowSwitch: false });
    await run(refusing.page, "connect-wallet");
    assert.equal(await data(refusing.page, "#wallet-status", "state"), "error");
    assert.match(await text(refusing.page, "#wallet-status"), /^the wallet is on chain 1, not the gate's chain 31337: switch it to chain 31337 \(Unrecognized chain ID 31337\.\)$/);
    assert.equal(await data(refusing.page, "#wallet-status", "account"), null);

    const switching = await open({ chainId: 1n, allowSwitch: true });
    await run(switching.page, "connect-wallet");
    assert.equal(await data(switching.page, "#wallet-status", "state"), "ok", await text(switching.page, "#wallet-status"));
    assert.deepEqual(
      switching.wallet!.requests.filter((r) => r.method === "wallet_switchEthereumChain").map((r) => r.params),
      [[{ chainId: "0x7a69" }]],
    );
  });

  it("pictures the example position now, as in the baselines", async function () {
    const { page } = await open({});
    await run(page, "load-example");
    await page.waitForSelector("#checks[data-pass=true]");
    assert.equal(await data(page, "#pictures", "state"), "now");
    await shoot("vault-pictures-now", page.locator("#pictures").screenshot({ animations: "disabled" }));
    // The page's first screen: addresses and blocks are deterministic on a fresh node; the
    // market's publication time is not, so its line is masked.
    await page.evaluate(() => window.scrollTo(0, 0));
    await shoot("vault-page-top", page.screenshot({ animations: "disabled", mask: [page.locator("#market-status"), page.locator("#chain-status")] }));
  });

  it("refuses the wrong account and a rejected transaction with one clear line each, then registers with the right one", async function () {
    const account = example!.chain.config().account;
    const { page, wallet } = await open({});
    await run(page, "connect-wallet");
    await run(page, "load-example");
    await page.waitForSelector("#checks[data-pass=true]");
    assert.equal(await data(page, "#statement", "kind"), "register");
    await page.click("#prove");
    await page.waitForSelector("#proof-status[data-state=proved], #proof-status[data-state=error]", { timeout: 300_000 });
    assert.equal(await data(page, "#proof-status", "state"), "proved", await text(page, "#proof-status"));
    await run(page, "verify");
    assert.equal(await data(page, "#verify-status", "state"), "valid", await text(page, "#verify-status"));

    // The user switches the wallet to another account: the page forgets the signer at once ...
    wallet!.setAccount(OTHER_ACCOUNT);
    await wallet!.emit("accountsChanged", [OTHER_ACCOUNT]);
    assert.equal(await text(page, "#wallet-status"), "the wallet switched accounts: connect again");
    // ... and submitting reconnects, then refuses to send the position's proof from that account
    // (the gate would revert NotAccount): nothing is sent, not even an approval.
    const sent = () => wallet!.requests.filter((r) => r.method === "eth_sendTransaction").length;
    const before = sent();
    await run(page, "submit");
    assert.equal(await data(page, "#submit-status", "state"), "error");
    assert.equal(
      await text(page, "#submit-status"),
      `the wallet's account ${OTHER_ACCOUNT} is not the position's account ${account}: switch to it in the wallet (the gate binds the proof to the account that sends it)`,
    );
    assert.equal(sent(), before);
    assert.match(await text(page, "#wallet-status"), new RegExp(`^wallet ${OTHER_ACCOUNT} on chain 31337: not the position's account ${account}`));

    // Back to the right account; the user rejects the first approval in the wallet.
    wallet!.setAccount(account);
    await wallet!.emit("accountsChanged", [account]);
    wallet!.reject("eth_sendTransaction");
    await run(page, "submit");
    assert.equal(await data(page, "#submit-status", "state"), "error");
    assert.equal(await text(page, "#submit-status"), "the request was rejected in the wallet");
    assert.equal(await gate().getFunction("isRegistered")(account), false);

    // A chain switch in the wallet also drops the signer.
    await wallet!.emit("chainChanged", "0x1");
    assert.equal(await text(page, "#wallet-status"), "the wallet switched chains: connect again");

    // Then it goes through: submitting reconnects and registers. (Success leaves Submit disabled:
    // there is nothing left to submit, so wait for the status, which the click resets at once.)
    await page.click("#submit");
    await page.waitForSelector("#submit-status[data-state=done], #submit-status[data-state=error]", { timeout: 120_000 });
    assert.equal(await data(page, "#submit-status", "state"), "done", await text(page, "#submit-status"));
    assert.equal(await data(page, "#submit-status", "event"), "PositionRegistered");
    assert.equal(await gate().getFunction("isRegistered")(account), true);
    assert.equal(await data(page, "#wallet-status", "state"), "ok");
  });

  it("pictures the planned rebalance before and after, as in the baseline", async function () {
    const { page } = await open({});
    await run(page, "connect-wallet");
    // The registered position (the page of the test above holds it, with its fresh salt).
    const registered = await pages.at(-2)!.locator("#position-json").inputValue();
    await page.fill("#position-json", registered);
    await run(page, "check");
    await page.waitForSelector("#onchain-status[data-nonce='1']");
    await run(page, "dev-shock");
    await page.waitForSelector("#market-status[data-epoch='43']");
    await page.waitForSelector("#checks[data-pass=false]");
    await run(page, "plan");
    assert.equal(await data(page, "#plan-status", "state"), "ok", await text(page, "#plan-status"));
    assert.match(await text(page, "#plan-steps"), /repay 7,200 USDC of debt from the wallet/);
    assert.equal(await data(page, "#pictures", "state"), "before-after");
    assert.match((await page.locator("#hf-gauge svg").getAttribute("aria-label"))!, /^Health factor: 1\.0963 before the rebalance, 1\.3909 after the rebalance;/);
    await shoot("vault-pictures-plan", page.locator("#pictures").screenshot({ animations: "disabled" }));
  });

  it("the benchmark page (bench.html) of the build proves and verifies with the test instance", async function () {
    const page = await context.newPage();
    pages.push(page);
    await page.goto(`${example!.url}bench.html?instance=solvency-3x3x16&runs=1`);
    await page.waitForSelector("#bench-status[data-state=done], #bench-status[data-state=error]", { timeout: 300_000 });
    assert.equal(await data(page, "#bench-status", "state"), "done", await text(page, "#bench-status"));
    const result = (await page.evaluate("window.zksBench")) as { verified: boolean; runs: unknown[]; instance: string };
    assert.equal(result.verified, true);
    assert.equal(result.instance, "solvency-3x3x16");
    assert.equal(result.runs.length, 1);
  });

  it("the development server (--dev) serves the same page from the sources", async function () {
    const dev = await startVaultExample({ rpcUrl: node!.url, mode: "dev" });
    try {
      assert.equal(dev.mode, "dev");
      const page = await context.newPage();
      pages.push(page);
      await injectWallet(page, { rpcUrl: node!.url, account: dev.chain.config().account });
      await page.goto(dev.url);
      await page.waitForSelector("body[data-ready=true]", { timeout: 120_000 });
      await run(page, "load-example");
      await page.waitForSelector("#pictures[data-state=now]");
      assert.match((await page.locator("#hf-gauge svg").getAttribute("aria-label"))!, /^Health factor: 1\.4618 now;/);
      // The same read-only RPC as the static server.
      const refused = await fetch(new URL("/rpc", dev.url), {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_sendTransaction", params: [] }),
      });
      assert.equal(refused.status, 403);
    } finally {
      await dev.close();
    }
  });
});
