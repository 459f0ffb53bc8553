/**
 * The crowding audit's longer cases, with real proofs: a book deep enough for merge levels (test
 * tier), its inclusion proofs cut and checked by an owner (the leaf's hash is the plain audit's,
 * the root's sums carry the crowding figures), `zks audit verify --json`, and the standard tier
 * (batches of 2 under merges of 8).
 */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { parseAuditReport } from "../packages/sdk/src/audit/audit-files.ts";
import { accountFigures } from "../packages/sdk/src/audit/figures.ts";
import { checkInclusion, inclusionFile } from "../packages/sdk/src/audit/inclusion.ts";
import { parseLiquidityFile } from "../packages/sdk/src/audit/liquidity.ts";
import { syntheticBook } from "../packages/sdk/src/audit/synthetic-book.ts";
import { verifyAudit, type AuditKeys } from "../packages/sdk/src/audit/verify-audit.ts";
import { positionToJson } from "../packages/sdk/src/inputs/position-file.ts";
import { checkPosition } from "../packages/sdk/src/model/check.ts";
import { releaseProverThreads } from "../packages/sdk/src/prover/release.ts";
import { loadInstanceArtifacts } from "../packages/node/src/artifacts.ts";
import { buildCircuits } from "../packages/node/src/setup/build.ts";
import { readBook } from "../packages/node/src/audit/read-book.ts";
import { CROWDING_AUDIT_INSTANCES, runAudit } from "../packages/node/src/audit/run-audit.ts";
import { zks } from "./helpers/cli.ts";
import { example, loadMarket, loadPolicy, loadPosition } from "./helpers/examples.ts";

const LIQUIDITY = {
  kind: "zks-liquidity",
  version: 1,
  epoch: 42,
  assets: {
    WETH: { bound: "1000000", source: { kind: "constant-product", venue: "WETH/USD pool", quoteReserve: "60000000", priceImpact: "0.05" } },
    WBTC: { bound: "500000", source: { kind: "constant-product", venue: "WBTC/USD pool", quoteReserve: "40000000", priceImpact: "0.05" } },
    USDC: { bound: "250000", source: { kind: "stated", note: "USDC/USD order books, 0.1% from mid" } },
  },
};

const keysOf = (instances: { batch: string; merge: string; top: string }): AuditKeys => ({
  batch: loadInstanceArtifacts(instances.batch).verificationKey,
  merge: loadInstanceArtifacts(instances.merge).verificationKey,
  top: loadInstanceArtifacts(instances.top).verificationKey,
});

describe("audit crowding, end to end (longer cases)", function () {
  this.timeout(1_800_000);
  const market = loadMarket();
  const policy = loadPolicy(market);
  const healthy = loadPosition("position-healthy.json", market);
  const atRisk = loadPosition("position-at-risk.json", market);
  const common = ["--market", example("market-grid.json"), "--policy", example("policy.json")];
  let dir: string;
  const file = (name: string) => path.join(dir, name);

  before(function () {
    dir = mkdtempSync(path.join(tmpdir(), "zks-crowding-e2e-"));
    writeFileSync(file("liquidity.json"), JSON.stringify(LIQUIDITY, null, 2));
  });
  after(async function () {
    if (dir) rmSync(dir, { recursive: true, force: true });
    await releaseProverThreads();
  });

  it("7 positions (test tier: 4 batches, 2 + 1 merges): proven, verified, and each owner's inclusion checks", async function () {
    const book = syntheticBook(healthy, atRisk, { count: 7, seed: 11, atRiskShare: 0.3 });
    assert.ok(book.some((p) => !checkPosition(p, market, policy).pass) && book.some((p) => checkPosition(p, market, policy).pass));
    writeFileSync(file("book.jsonl"), `${book.map((p) => JSON.stringify(positionToJson(p, market))).join("\n")}\n`);
    book.forEach((p, i) => writeFileSync(file(`position-${i}.json`), JSON.stringify(positionToJson(p, market))));
    const liquidity = parseLiquidityFile(readFileSync(file("liquidity.json")), "liquidity.json", market);
    const instances = CROWDING_AUDIT_INSTANCES.test;
    const run = await runAudit(readBook(file("book.jsonl"), market), market, policy, { instances, liquidity, workers: 2 });
    assert.deepEqual(run.shape.proofsPerLevel, [4, 2, 1]);
    const keys = keysOf(instances);
    const verdict = await verifyAudit(run.report, keys, { liquidity: { ...liquidity, source: "liquidity.json" } });
    assert.equal(verdict.crowding?.fileChecked, true);
    assert.ok(verdict.crowding!.statements.holds);
    assert.ok(
      run.report.root.sums.crowding!.flat().some((v) => v > 0n),
      "the at-risk positions sell",
    );

    // Every owner's inclusion: their leaf (plain figures) under the root whose sums carry crowding.
    for (const [i, position] of book.entries()) {
      const at = run.accounts.findIndex((a) => a.leaf.account === BigInt(position.account));
      const proof = inclusionFile(run.tree, at, run.report);
      const result = await checkInclusion(proof, position, market, policy, keys, run.report.root);
      assert.deepEqual(result.figures, accountFigures(position, market, policy, run.report.layout).leaf.figures, `position ${i}`);
    }
  });

  it("zks audit verify --json reports the crowding statement and the file it checked", function () {
    const prove = zks("audit", "--positions", file("book.jsonl"), ...common, "--out", file("out"), "--tier", "test", "--crowding", "--liquidity", file("liquidity.json"), "--json");
    assert.equal(prove.code, 0, prove.stderr);
    const summary = JSON.parse(prove.stdout) as { crowding: { holds: boolean; tightest: { scenario: string; asset: string }; liquidity: { sha256: string } } };
    assert.equal(summary.crowding.holds, true);
    assert.ok(typeof summary.crowding.tightest.scenario === "string" && summary.crowding.tightest.scenario.length > 0);
    const verify = zks("audit", "verify", "--audit", file("out"), ...common, "--liquidity", file("liquidity.json"), "--json");
    assert.equal(verify.code, 0, verify.stdout + verify.stderr);
    const json = JSON.parse(verify.stdout) as { valid: boolean; crowding: { holds: boolean; liquidity: { sha256: string; fileChecked: boolean } } };
    assert.equal(json.valid, true);
    assert.equal(json.crowding.holds, true);
    assert.equal(json.crowding.liquidity.fileChecked, true);
    assert.equal(json.crowding.liquidity.sha256, summary.crowding.liquidity.sha256);
    // An owner checks their inclusion through the CLI, as in a plain audit.
    const report = parseAuditReport(JSON.parse(readFileSync(file("out/audit.json"), "utf8")), "audit.json");
    assert.equal(report.layout.crowding, true);
    const cut = zks("audit", "inclusion", "--audit", file("out"), "--account", JSON.parse(readFileSync(file("position-0.json"), "utf8")).account, "--out", file("inclusion.json"));
    assert.equal(cut.code, 0, cut.stderr);
    const check = zks("audit", "check", "--inclusion", file("inclusion.json"), "--position", file("position-0.json"), ...common, "--audit", file("out/audit.json"));
    assert.equal(check.code, 0, check.stdout + check.stderr);
    assert.match(check.stdout, /^INCLUDED: your position/);
  });

  it("the standard tier: batches of 2 under a root of 8 (audit-top-3x3x16x8c)", async function () {
    const book = syntheticBook(healthy, atRisk, { count: 5, seed: 3, atRiskShare: 0.5 });
    writeFileSync(file("standard.jsonl"), `${book.map((p) => JSON.stringify(positionToJson(p, market))).join("\n")}\n`);
    const liquidity = parseLiquidityFile(readFileSync(file("liquidity.json")), "liquidity.json", market);
    const instances = CROWDING_AUDIT_INSTANCES.standard;
    // `npm run build` only compiles the standard tier: set up its crowding merge and root here (cached by content hash, minutes the first time).
    this.timeout(1_800_000);
    await buildCircuits({ instances: [instances.batch, instances.merge, instances.top] });
    await releaseProverThreads();
    const run = await runAudit(readBook(file("standard.jsonl"), market), market, policy, { instances, liquidity, workers: 2 });
    assert.deepEqual(run.shape.proofsPerLevel, [3, 1]);
    const verdict = await verifyAudit(run.report, keysOf(instances));
    assert.ok(verdict.crowding!.statements.holds);
    assert.equal(verdict.crowding!.fileChecked, false);
  });
});
