/**
 * `zks plan`: exit codes (0 plan or nothing to do, 1 no plan, 2 bad input), --json, and --out
 * safety (written atomically; an existing file replaced whole, never clobbered on error).
 */
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { assertOneLineError, zks } from "./helpers/cli.ts";
import { parsePlanFile } from "../packages/sdk/src/rebalance/plan-file.ts";
import { example, loadMarket, loadPosition } from "./helpers/examples.ts";
import { EXAMPLE_ALLOWANCE } from "./helpers/rebalance-fixtures.ts";

describe("zks plan", function () {
  this.timeout(60_000);
  let dir: string;
  let allow: string;
  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), "zks-plan-"));
    allow = path.join(dir, "allow.json");
    writeFileSync(allow, JSON.stringify(EXAMPLE_ALLOWANCE, null, 2));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const inputs = (position = "position-at-risk.json", market = "market-grid.json"): string[] => [
    "--position",
    example(position),
    "--market",
    example(market),
    "--policy",
    example("policy.json"),
  ];

  it("the at-risk example with an allowance: a plan (exit 0) with its explanation and cost", function () {
    const r = zks("plan", ...inputs(), "--allow", allow);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, "");
    const lines = r.stdout.trimEnd().split("\n");
    assert.equal(lines[0], "account 0x70997970C51812dc3A010C7d01b50e0d17dc79C8, epoch 42, strategy threshold: PLAN: 1 action, cost 27.11 USD");
    assert.ok(lines.includes("  fails: stress: worst loss 5,532.34 USD in scenario 'price +3/3 range, vol up' exceeds equity 3,705.66 USD by 1,826.68 USD"), r.stdout);
    assert.ok(
      lines.some((l) => l.startsWith("  1. repay 12,200 USDC of debt from the wallet: health factor 1.1905 -> 3.4961")),
      r.stdout,
    );
    assert.ok(
      lines.some((l) => l.startsWith("  cost: ")),
      r.stdout,
    );
    assert.match(r.stdout, /^[\x20-\x7e\n]*$/, "ASCII only");
  });

  it("--json prints the plan file object: decimal strings, the actions, before and after", function () {
    const r = zks("plan", ...inputs(), "--allow", allow, "--json");
    assert.equal(r.code, 0, r.stderr);
    const json = JSON.parse(r.stdout);
    assert.equal(json.kind, "zks-rebalance-plan");
    assert.equal(json.strategy, "threshold");
    assert.equal(json.needed, true);
    assert.deepEqual(json.actions, [{ kind: "repay", asset: "USDC", amount: "12200" }]);
    assert.equal(json.version, 2);
    assert.deepEqual(json.movements, { flows: { USDC: "12200" }, debtDelta: { USDC: "-12200" }, debtAssets: { USDC: "12200" }, swaps: [], instrumentFlows: {} });
    assert.equal(json.position.nonce, 1);
    assert.equal(json.before.pass, false);
    assert.equal(json.after.pass, true);
    assert.equal(json.cost.total, "27.11295");
    assert.equal(json.cost.totalGas, "450000");
    assert.deepEqual(json.values, { sold: "0", bought: "0", lost: "0" });
    assert.ok(Array.isArray(json.explanation) && json.explanation.length > 3);
  });

  it("each strategy runs from the command line", function () {
    const time = zks("plan", ...inputs(), "--allow", allow, "--strategy", "time", "--interval-days", "1", "--now", "1764000000", "--json");
    assert.equal(time.code, 0, time.stderr);
    assert.equal(JSON.parse(time.stdout).nextRebalanceAt, 1764086400);
    const both = path.join(dir, "allow-both.json");
    writeFileSync(both, JSON.stringify({ wallet: { USDC: "20000" }, sellable: ["WBTC"] }));
    // Spot hedge: the long WBTC delta is sold into USDC on the AMM.
    const delta = zks("plan", ...inputs(), "--allow", both, "--strategy", "delta-neutral", "--delta-band", "500", "--delta-assets", "WBTC", "--json");
    assert.equal(delta.code, 0, delta.stderr);
    const d = JSON.parse(delta.stdout);
    assert.equal(d.delta.band, "500");
    for (const value of Object.values(d.delta.after) as string[]) assert.ok(Math.abs(Number(value)) <= 500, value);
    assert.equal(d.movements.swaps[0].sell, "WBTC");
    assert.equal(d.movements.swaps[0].buy, "USDC");
  });

  it("a healthy position: nothing to do (exit 0)", function () {
    const r = zks("plan", ...inputs("position-healthy.json"), "--allow", allow);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout.split("\n")[0]!, /: NOTHING TO DO$/);
  });

  it("no plan within the allowance: the reason, exit 1 (text and --json)", function () {
    const r = zks("plan", ...inputs());
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stdout.split("\n")[0]!, /strategy threshold: NO PLAN$/);
    assert.match(r.stdout, /no plan: no allowed action restores .*stress needs 1,826\.68 USD more equity/);
    const json = zks("plan", ...inputs(), "--json");
    assert.equal(json.code, 1);
    const parsed = JSON.parse(json.stdout);
    assert.equal(parsed.kind, "zks-rebalance-no-plan");
    assert.match(parsed.reason, /nothing is allowed/);
    assert.equal(parsed.before.pass, false);
  });

  it("bad input: one line naming the file or flag and the field, exit 2", function () {
    assertOneLineError(zks("plan", ...inputs(), "--allow", path.join(dir, "missing.json")), /missing\.json: file not found$/);
    const bad = path.join(dir, "allow-bad.json");
    writeFileSync(bad, JSON.stringify({ wallet: { DAI: "5" } }));
    const r = zks("plan", ...inputs(), "--allow", bad);
    assert.equal(r.code, 2);
    assertOneLineError(r, /allow-bad\.json: wallet\.DAI: unknown asset \(market has WETH, WBTC, USDC\)$/);
    const strategy = zks("plan", ...inputs(), "--strategy", "yolo");
    assert.equal(strategy.code, 2);
    assertOneLineError(strategy, /--strategy: expected one of threshold, time, delta-neutral, grid-hedge, got "yolo"/);
    const target = zks("plan", ...inputs(), "--target-hf", "1.2");
    assert.equal(target.code, 2);
    assertOneLineError(target, /below the trigger/);
    const band = zks("plan", ...inputs(), "--strategy", "delta-neutral", "--delta-band", "abc");
    assert.equal(band.code, 2);
    assertOneLineError(band, /--delta-band: "abc" is not a decimal number/);
  });

  describe("--out", function () {
    it("writes the plan file (private, mode 0600), which parses back against the position", function () {
      const out = path.join(dir, "plan.json");
      const r = zks("plan", ...inputs(), "--allow", allow, "--out", out);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr, /wrote the plan to .*plan\.json; keep it private/);
      assert.equal(statSync(out).mode & 0o777, 0o600);
      const market = loadMarket("market-grid.json");
      const parsed = parsePlanFile(JSON.parse(readFileSync(out, "utf8")), out, market, loadPosition("position-at-risk.json", market));
      assert.equal(parsed.actions.length, 1);
      assert.equal(parsed.position.nonce, 1n);
    });

    it("replaces an existing file whole (temp file then rename), leaving no temporary file", function () {
      const out = path.join(dir, "replace.json");
      writeFileSync(out, "old content\n", { mode: 0o640 });
      const r = zks("plan", ...inputs(), "--allow", allow, "--out", out, "--json");
      assert.equal(r.code, 0, r.stderr);
      const written = readFileSync(out, "utf8");
      assert.equal(JSON.parse(written).kind, "zks-rebalance-plan");
      assert.deepEqual(JSON.parse(written), JSON.parse(r.stdout), "the file holds exactly the printed object");
      assert.equal(statSync(out).mode & 0o777, 0o640, "the user's permissions are kept");
      assert.deepEqual(
        readdirSync(dir).filter((name) => name.endsWith(".tmp")),
        [],
      );
    });

    it("leaves an existing file untouched when there is no plan or the input is bad", function () {
      const out = path.join(dir, "keep.json");
      writeFileSync(out, "precious\n");
      const before = statSync(out).mtimeMs;
      const none = zks("plan", ...inputs(), "--out", out);
      assert.equal(none.code, 1);
      assert.match(none.stderr, /no plan, so .*keep\.json was not written/);
      const bad = zks("plan", ...inputs(), "--allow", path.join(dir, "missing.json"), "--out", out);
      assert.equal(bad.code, 2);
      assert.equal(readFileSync(out, "utf8"), "precious\n");
      assert.equal(statSync(out).mtimeMs, before);
      assert.deepEqual(
        readdirSync(dir).filter((name) => name.endsWith(".tmp")),
        [],
      );
    });

    it("refuses to write over one of its inputs (exit 2)", function () {
      const position = path.join(dir, "position.json");
      const content = readFileSync(example("position-at-risk.json"), "utf8");
      writeFileSync(position, content);
      const r = zks("plan", "--position", position, "--market", example("market-grid.json"), "--policy", example("policy.json"), "--allow", allow, "--out", position);
      assert.equal(r.code, 2);
      assertOneLineError(r, /--out: .*position\.json is also the --position file/);
      assert.equal(readFileSync(position, "utf8"), content);
    });
  });
});
