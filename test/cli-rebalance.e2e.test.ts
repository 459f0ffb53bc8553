import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync, copyFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { keeperPublicKeyFileJson } from "../packages/sdk/src/encryption/keeper-key.ts";
import { PACKAGE_ROOT } from "../packages/node/src/setup/paths.ts";
import { example } from "./helpers/examples.ts";
import { TEST_KEEPER } from "./helpers/keeper-key.ts";

const ZKS = path.join(PACKAGE_ROOT, "packages", "cli", "bin", "zks.js");
const zks = (...args: string[]) => spawnSync(process.execPath, [ZKS, ...args], { encoding: "utf8" });
const sha = (file: string) => createHash("sha256").update(readFileSync(file)).digest("hex");

describe("zks rebalance", function () {
  let dir: string;
  let allow: string;
  let position: string;
  let keeperKey: string;
  /** The market, the policy and the keeper key every transition's proof encrypts its new opening to. */
  const inputs = () => ["--market", example("market-grid.json"), "--policy", example("policy.json"), "--keeper-key", keeperKey];

  before(function () {
    dir = mkdtempSync(path.join(tmpdir(), "zks-rebalance-"));
    allow = path.join(dir, "allow.json");
    writeFileSync(allow, JSON.stringify({ version: 1, wallet: { USDC: "20000" }, sellable: ["WETH", "WBTC"], tradable: ["ETH-26DEC26-3200-C"] }));
    position = path.join(dir, "at-risk.json");
    copyFileSync(example("position-at-risk.json"), position);
    keeperKey = path.join(dir, "keeper.pub.json");
    writeFileSync(keeperKey, keeperPublicKeyFileJson(TEST_KEEPER.publicKey));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("plans, proves and writes the new position and its proof for the at-risk example; zks verify accepts it; the old file is untouched", function () {
    const before = sha(position);
    const out = path.join(dir, "out");
    const result = zks("rebalance", "--position", position, ...inputs(), "--allow", allow, "--out", out, "--json");
    assert.equal(result.status, 0, result.stderr);
    const summary = JSON.parse(result.stdout);
    assert.deepEqual(summary.pass, { before: false, after: true });
    assert.equal(BigInt(summary.publicSignals["keeperKey[0]"]), TEST_KEEPER.publicKey[0]);
    assert.equal(BigInt(summary.publicSignals["keeperKey[1]"]), TEST_KEEPER.publicKey[1]);
    assert.equal(sha(position), before);
    for (const name of ["position.json", "proof.json", "public.json"]) assert.ok(existsSync(path.join(out, name)), name);

    const verified = zks("verify", "--proof", path.join(out, "proof.json"), "--json");
    assert.equal(verified.status, 0, verified.stderr);
    assert.equal(JSON.parse(verified.stdout).valid, true);

    // The written position opens the proven new commitment; the input opens the old one.
    const commitment = (file: string) => JSON.parse(zks("commit", "--position", file, "--market", example("market-grid.json"), "--slots", "3x3", "--json").stdout).commitment;
    assert.equal(commitment(path.join(out, "position.json")), summary.publicSignals.newCommitment);
    assert.equal(commitment(position), summary.publicSignals.oldCommitment);
    assert.equal(JSON.parse(readFileSync(path.join(out, "position.json"), "utf8")).nonce, 1);
  });

  it("proves a given plan file (zks plan --out, then zks rebalance --plan); as a keeper (--forced) a wallet repayment exits 2 before proving", function () {
    const planFile = path.join(dir, "plan.json");
    const planned = zks("plan", "--position", position, ...inputs().slice(0, 4), "--allow", allow, "--out", planFile);
    assert.equal(planned.status, 0, planned.stderr);
    const out = path.join(dir, "from-plan");
    // A keeper may not move the owner's wallet tokens: refused before anything is proven (exit 2, one line).
    const forced = zks("rebalance", "--position", position, ...inputs(), "--plan", planFile, "--forced", "--out", path.join(dir, "forced"));
    assert.equal(forced.status, 2, forced.stderr);
    assert.equal(forced.stderr.trim().split("\n").length, 1);
    assert.match(forced.stderr, /the transition cannot be backed: a keeper's transition may only swap and repay from collateral, but it moves USDC to or from the wallet/);
    assert.equal(existsSync(path.join(dir, "forced", "proof.json")), false);
    const result = zks("rebalance", "--position", position, ...inputs(), "--plan", planFile, "--out", out);
    assert.equal(result.status, 0, result.stderr);
    const file = JSON.parse(readFileSync(path.join(out, "proof.json"), "utf8"));
    assert.equal(file.zks.named.forced, `0x${"0".repeat(64)}`);
    assert.equal(zks("verify", "--proof", path.join(out, "proof.json")).status, 0);
  });

  it("says clearly when no rebalance exists within the allowance (exit 1), and when none is needed (exit 0, nothing written)", function () {
    const none = zks("rebalance", "--position", position, ...inputs(), "--out", path.join(dir, "none"));
    assert.equal(none.status, 1);
    assert.match(none.stderr.trim(), /^zks: no rebalance: no allowed action restores/);
    assert.equal(none.stderr.trim().split("\n").length, 1);
    assert.ok(!existsSync(path.join(dir, "none", "position.json")));

    const healthy = zks("rebalance", "--position", example("position-healthy.json"), ...inputs(), "--allow", allow, "--out", path.join(dir, "healthy"));
    assert.equal(healthy.status, 0, healthy.stderr);
    assert.match(healthy.stdout, /^NOTHING TO DO/);
    assert.ok(!existsSync(path.join(dir, "healthy", "position.json")));
  });

  it("refuses to write the new position over the input (exit 2)", function () {
    const inPlace = path.join(dir, "in-place");
    rmSync(inPlace, { recursive: true, force: true });
    const own = path.join(dir, "position.json");
    copyFileSync(example("position-at-risk.json"), own);
    const result = zks("rebalance", "--position", own, ...inputs(), "--allow", allow, "--out", dir);
    assert.equal(result.status, 2);
    assert.match(result.stderr, /is the input position/);
  });
});
