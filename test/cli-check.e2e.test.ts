import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { exactRatioDecimal } from "../packages/sdk/src/model/check.ts";
import { PACKAGE_ROOT } from "../packages/node/src/setup/paths.ts";
import { example } from "./helpers/examples.ts";

const ZKS = path.join(PACKAGE_ROOT, "packages", "cli", "bin", "zks.js");

function zks(...args: string[]) {
  const result = spawnSync(process.execPath, [ZKS, ...args], { encoding: "utf8", env: { ...process.env, ZKS_DEBUG: "" } });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** One clear line on stderr, no stack trace, nothing on stdout. */
function assertOneLineError(result: { stdout: string; stderr: string }, fragment: string): void {
  const lines = result.stderr.trim().split("\n");
  assert.equal(lines.length, 1, `expected one line, got:\n${result.stderr}`);
  assert.match(lines[0]!, new RegExp(fragment));
  assert.doesNotMatch(result.stderr, /\bat .+:\d+:\d+/);
  assert.equal(result.stdout, "");
}

const readExample = (name: string): Record<string, unknown> => JSON.parse(readFileSync(example(name), "utf8"));

/** `zks check` on the given files (names without a slash are spec examples). */
function check(position: string, market: string, policy = "policy.json", ...extra: string[]) {
  const file = (name: string) => (name.includes(path.sep) ? name : example(name));
  return zks("check", "--position", file(position), "--market", file(market), "--policy", file(policy), ...extra);
}

const DECIMAL = /^-?\d+(\.\d+)?$/;

function parseReport(stdout: string): Record<string, any> {
  const report = JSON.parse(stdout);
  // The keys of formats.md, "Output of zks check --json", plus the health factor as an exact rational.
  assert.deepEqual(Object.keys(report).sort(), ["equity", "healthFactor", "healthFactorExact", "pass", "stress", "var"]);
  assert.equal(report.healthFactor === null, report.healthFactorExact === null);
  assert.deepEqual(Object.keys(report.stress).sort(), ["pass", "scenario", "worstLoss"]);
  assert.ok(report.healthFactor === null || DECIMAL.test(report.healthFactor), `healthFactor ${report.healthFactor}`);
  assert.match(report.equity, DECIMAL);
  assert.match(report.stress.worstLoss, DECIMAL);
  assert.equal(typeof report.stress.scenario, "string");
  assert.equal(typeof report.stress.pass, "boolean");
  assert.equal(typeof report.var.pass, "boolean");
  for (const method of ["historical", "parametric"]) {
    if (method in report.var) assert.match(report.var[method], DECIMAL);
  }
  assert.equal(typeof report.pass, "boolean");
  return report;
}

describe("zks check", function () {
  // Each case spawns the CLI (tsx start-up ~0.7 s) once or twice; allow for that without .mocharc.
  this.timeout(60_000);
  let dir: string;
  before(() => (dir = mkdtempSync(path.join(tmpdir(), "zks-check-"))));
  after(() => rmSync(dir, { recursive: true, force: true }));

  const write = (name: string, value: unknown): string => {
    const file = path.join(dir, name);
    writeFileSync(file, JSON.stringify(value, null, 2));
    return file;
  };

  describe("market-grid", function () {
    it("the healthy position passes every check: exit 0, JSON pass true with decimal strings", function () {
      const json = check("position-healthy.json", "market-grid.json", "policy.json", "--json");
      assert.equal(json.code, 0, json.stderr);
      const report = parseReport(json.stdout);
      assert.equal(report.pass, true);
      assert.equal(report.stress.pass, true);
      assert.equal(report.var.pass, true);
      assert.match(report.healthFactor, DECIMAL);
      assert.ok("historical" in report.var && "parametric" in report.var, "policy method both gives both VaR figures");

      const text = check("position-healthy.json", "market-grid.json");
      assert.equal(text.code, 0, text.stderr);
      assert.equal(text.stderr, "");
      const lines = text.stdout.trimEnd().split("\n");
      assert.match(lines[0]!, /^account 0x70997970C51812dc3A010C7d01b50e0d17dc79C8, epoch \d+: PASS/);
      assert.equal(lines.length, 5, "header and one line per check (health factor, stress, historical, parametric)");
      assert.ok(
        lines.slice(1).every((line) => line.startsWith("  PASS  ")),
        text.stdout,
      );
    });

    it("the at-risk position fails stress: exit 1, and the text says by how much in which scenario", function () {
      const json = check("position-at-risk.json", "market-grid.json", "policy.json", "--json");
      assert.equal(json.code, 1, json.stderr);
      const report = parseReport(json.stdout);
      assert.equal(report.pass, false);
      assert.equal(report.stress.pass, false);
      assert.equal(report.stress.scenario, "price +3/3 range, vol up");
      assert.equal(report.equity, "3705.66");

      const text = check("position-at-risk.json", "market-grid.json");
      assert.equal(text.code, 1, text.stderr);
      assert.equal(text.stderr, "");
      assert.match(text.stdout.split("\n")[0]!, /FAIL/);
      const stress = text.stdout.split("\n").find((line) => line.includes("stress:"));
      assert.ok(stress, text.stdout);
      assert.ok(stress.startsWith("  FAIL  "), stress);
      assert.ok(stress.includes("5,532.34"), stress);
      assert.ok(stress.includes("price +3/3 range, vol up"), stress);
      assert.ok(stress.includes("exceeds equity 3,705.66"), stress);
      assert.match(text.stdout, /^[\x20-\x7e\n]*$/, "ASCII only");
    });
  });

  describe("market-historical", function () {
    it("the healthy position passes (exit 0)", function () {
      const json = check("position-healthy.json", "market-historical.json", "policy.json", "--json");
      assert.equal(json.code, 0, json.stderr);
      const report = parseReport(json.stdout);
      assert.equal(report.pass, true);
      assert.equal(check("position-healthy.json", "market-historical.json").code, 0);
    });

    it("the at-risk position fails stress (exit 1)", function () {
      const json = check("position-at-risk.json", "market-historical.json", "policy.json", "--json");
      assert.equal(json.code, 1, json.stderr);
      const report = parseReport(json.stdout);
      assert.equal(report.pass, false);
      assert.equal(report.stress.pass, false);
      const text = check("position-at-risk.json", "market-historical.json");
      assert.equal(text.code, 1);
      assert.match(text.stdout, /FAIL {2}stress: worst loss [\d,.]+ USD in scenario '[^']+' exceeds equity/);
    });
  });

  it("var holds only the methods the policy asks for", function () {
    const policy = readExample("policy.json");
    const historicalOnly = write("policy-historical.json", { ...policy, var: { ...(policy.var as object), method: "historical" } });
    const historical = parseReport(check("position-healthy.json", "market-grid.json", historicalOnly, "--json").stdout);
    assert.deepEqual(Object.keys(historical.var).sort(), ["historical", "pass"]);

    const parametricOnly = write("policy-parametric.json", { ...policy, var: { ...(policy.var as object), method: "parametric" } });
    const parametric = parseReport(check("position-healthy.json", "market-grid.json", parametricOnly, "--json").stdout);
    assert.deepEqual(Object.keys(parametric.var).sort(), ["parametric", "pass"]);

    const text = check("position-healthy.json", "market-grid.json", historicalOnly);
    assert.equal(text.stdout.trimEnd().split("\n").length, 4, "header, health factor, stress, historical VaR");
    assert.doesNotMatch(text.stdout, /parametric/);
  });

  it("a deeply underwater position's health factor keeps 18 significant digits and its exact rational (BigInt arithmetic, like Aave's wad)", function () {
    // 0.1 WBTC of collateral against 847,755 USDC of debt: HF 0.0083930..., which 4 decimals showed as 0.0083.
    const underwater = write("underwater.json", { ...readExample("position-at-risk.json"), collateral: { WBTC: "0.1" }, debt: { USDC: "847755" }, derivatives: {} });
    const json = check(underwater, "market-grid.json", "policy.json", "--json");
    assert.equal(json.code, 1, json.stderr);
    const report = parseReport(json.stdout);
    // By hand (q.u. = 1e-8 USD): vc_WBTC = floor(0.1e8 * 91230.10e8 / 1e8) = 912,301,000,000, LT 0.78;
    // vd_USDC = ceil(847755e6 * 1.0001e8 / 1e6) = 84,783,977,550,000 (as test/model.test.ts computes position-at-risk's).
    const hfNum = 912_301_000_000n * 7_800n; // q.u. * BPS
    const hfDen = 84_783_977_550_000n * 10_000n; // q.u. * BPS
    // 18 significant digits: 0.00 then 18 digits, floored.
    const digits = (hfNum * 10n ** 20n) / hfDen;
    assert.equal(digits.toString().length, 18);
    assert.equal(report.healthFactor, `0.${digits.toString().padStart(20, "0")}`.replace(/0+$/, ""));
    assert.equal(report.healthFactor, "0.00839303369059735744");
    const { numerator, denominator } = report.healthFactorExact;
    assert.equal(BigInt(numerator) * hfDen, BigInt(denominator) * hfNum, "the rational is HFnum / (HFden * BPS)");
    assert.deepEqual(report.healthFactorExact, { numerator: "23719826", denominator: "2826132585" });
    // The human line keeps 4 decimals.
    assert.match(check(underwater, "market-grid.json").stdout, /FAIL {2}health factor 0\.0083 < 1\.10/);
  });

  it("below 1e-18 the health factor still keeps 18 significant digits (the decimals follow the magnitude)", function () {
    // 18 decimals of 1 / (3 * 10^30) are all 0; a fixed number of extra decimals showed only 5 of its 3s.
    const sig = (text: string) => text.replace(/^0\.0*/, "");
    for (const exponent of [18n, 19n, 30n, 100n]) {
      const value = exactRatioDecimal(1n, 3n * 10n ** exponent);
      assert.equal(sig(value), "3".repeat(18), value);
      // Floored: the exact ratio lies in [value, value + one unit of the last digit).
      const decimals = BigInt(value.length - 2);
      assert.equal(BigInt(value.slice(2)), 10n ** decimals / (3n * 10n ** exponent));
    }
    assert.equal(sig(exactRatioDecimal(2n, 7n * 10n ** 25n)), "285714285714285714");
    // Exact ratios print exactly, trailing zeros dropped.
    assert.equal(exactRatioDecimal(1n, 10n ** 30n), `0.${"0".repeat(29)}1`);
    assert.equal(exactRatioDecimal(123n, 10n ** 20n), "0.00000000000000000123");
    assert.equal(exactRatioDecimal(7n, 7n), "1");
  });

  it("an exact health factor above 1 has wad precision (18 decimals, floored)", function () {
    const report = parseReport(check("position-at-risk.json", "market-grid.json", "policy.json", "--json").stdout);
    // HFnum = 22,028,070,300,000,000, HFden = 1,850,185,000,000 (test/model.test.ts, by hand).
    const wad = (22_028_070_300_000_000n * 10n ** 18n) / (1_850_185_000_000n * 10_000n);
    assert.equal(report.healthFactor, `${wad / 10n ** 18n}.${(wad % 10n ** 18n).toString().padStart(18, "0")}`);
  });

  it("a position without debt has healthFactor null and passes (exit 0)", function () {
    const noDebt = write("no-debt.json", { ...readExample("position-healthy.json"), debt: {} });
    const json = check(noDebt, "market-grid.json", "policy.json", "--json");
    assert.equal(json.code, 0, json.stderr);
    const report = parseReport(json.stdout);
    assert.equal(report.healthFactor, null);
    assert.equal(report.pass, true);
    const text = check(noDebt, "market-grid.json");
    assert.equal(text.code, 0);
    assert.match(text.stdout, /health factor: no debt/);
  });

  describe("bad input: exit 2, one line naming file and field", function () {
    it("missing policy file", function () {
      const result = check("position-healthy.json", "market-grid.json", path.join(dir, "nope.json"), "--json");
      assert.equal(result.code, 2);
      assertOneLineError(result, "nope.json: file not found");
    });

    it("policy with minHealthFactor as a JSON number", function () {
      const policy = write("policy-number.json", { ...readExample("policy.json"), minHealthFactor: 1.1 });
      const result = check("position-healthy.json", "market-grid.json", policy);
      assert.equal(result.code, 2);
      assertOneLineError(result, "policy-number.json: minHealthFactor: .*decimal string");
    });

    it("negative collateral amount", function () {
      const position = readExample("position-healthy.json");
      const file = write("negative.json", { ...position, collateral: { ...(position.collateral as object), WETH: "-1" } });
      const result = check(file, "market-grid.json");
      assert.equal(result.code, 2);
      assertOneLineError(result, "negative.json: collateral.WETH: must be >= 0");
    });

    it("amount with more decimals than the asset has", function () {
      const position = readExample("position-healthy.json");
      const file = write("decimals.json", { ...position, collateral: { ...(position.collateral as object), USDC: "1.1234567" } });
      const result = check(file, "market-grid.json", "policy.json", "--json");
      assert.equal(result.code, 2);
      assertOneLineError(result, "decimals.json: collateral.USDC: .*7 decimal places; at most 6");
    });

    it("unknown asset", function () {
      const position = readExample("position-healthy.json");
      const file = write("unknown.json", { ...position, collateral: { ...(position.collateral as object), DOGE: "1" } });
      const result = check(file, "market-grid.json");
      assert.equal(result.code, 2);
      assertOneLineError(result, "unknown.json: collateral.DOGE: unknown asset");
    });

    it("a position outside the model's bounds (ModelBoundsError)", function () {
      const position = readExample("position-healthy.json");
      const file = write("huge.json", { ...position, collateral: { ...(position.collateral as object), WBTC: "1000000000000" } });
      for (const extra of [[], ["--json"]]) {
        const result = check(file, "market-grid.json", "policy.json", ...extra);
        assert.equal(result.code, 2);
        assertOneLineError(result, "value of WBTC collateral exceeds 2\\^80 quote units");
      }
    });

    it("a missing --policy option", function () {
      const result = zks("check", "--position", example("position-healthy.json"), "--market", example("market-grid.json"));
      assert.equal(result.code, 2);
      assert.match(result.stderr, /required option '--policy <file>' not specified/);
    });
  });
});
