import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { marketRoot } from "../packages/sdk/src/commitment/market-root.ts";
import { policyHash } from "../packages/sdk/src/commitment/policy-hash.ts";
import { commitPosition } from "../packages/sdk/src/commitment/position-commitment.ts";
import type { Market, Policy } from "../packages/sdk/src/inputs/types.ts";
import { checkPosition } from "../packages/sdk/src/model/check.ts";
import { releaseProverThreads } from "../packages/sdk/src/prover/release.ts";
import { solvencyInput } from "../packages/sdk/src/prover/witness/solvency.ts";
import { InputError, SetupError } from "../packages/sdk/src/core/errors.ts";
import { readJsonFile } from "../packages/node/src/read-json.ts";
import { checkNames, checksOf, eligibleInstances, requiredChecks, selectInstance } from "../packages/node/src/select-instance.ts";
import { ALL_CHECKS } from "../packages/sdk/src/verifier/statements.ts";
import { loadInstances } from "../packages/node/src/setup/instances.ts";
import { CircuitUnderTest } from "./helpers/circuit.ts";
import { assertOneLineError, zks } from "./helpers/cli.ts";
import { example, loadMarket, loadPolicy, loadPosition } from "./helpers/examples.ts";
import { withMarket, withPolicy } from "./helpers/model-fixtures.ts";

const INSTANCE = "health-var-3x3x128";
const LAYOUT = { nAssets: 3, nInstruments: 3, nScenarios: 128 };

/**
 * The health-var instance (128 days; health factor, historical and parametric VaR, no stress and no
 * minimum equity: checks = 13) on the example history cut to its first 128 days. Witnesses only: a
 * proof of this 61k-constraint circuit takes about 10 s and belongs in `npm run bench`. Then how
 * `zks prove` selects instances by the checks a statement needs, through the CLI.
 */
describe(`historical VaR instance (${INSTANCE})`, function () {
  let circuit: CircuitUnderTest;
  let market: Market;
  let policy: Policy;

  before(async function () {
    circuit = await CircuitUnderTest.load(INSTANCE);
    market = withMarket(loadMarket("market-historical.json"), (m) => {
      m.scenarios = m.scenarios.slice(0, LAYOUT.nScenarios);
    });
    policy = loadPolicy(market);
  });
  after(releaseProverThreads);

  async function accepts(positionName: string, p: Policy): Promise<{ accepted: boolean; witness?: bigint[] }> {
    const position = loadPosition(positionName, market);
    try {
      return { accepted: true, witness: await circuit.witness(solvencyInput(position, market, p, LAYOUT)) };
    } catch {
      return { accepted: false };
    }
  }

  it("agrees with the model on both example positions and binds commitment, market and policy", async function () {
    for (const name of ["position-healthy.json", "position-at-risk.json"]) {
      const position = loadPosition(name, market);
      const model = checkPosition(position, market, policy);
      const { accepted, witness } = await accepts(name, policy);
      // This instance has no stress check: it proves HF and both VaR methods.
      const expected = model.healthFactor.pass && model.var.historical!.pass && model.var.parametric!.pass;
      assert.equal(accepted, expected, `${name}: circuit ${accepted}, model ${expected} (${model.failures.join(", ")})`);
      if (witness) {
        assert.deepEqual(circuit.violated(witness), []);
        assert.equal(witness[circuit.index("main.commitment")], commitPosition(position, position.salt!, LAYOUT));
        assert.equal(witness[circuit.index("main.marketRoot")], marketRoot(market, LAYOUT));
        assert.equal(witness[circuit.index("main.policyHash")], policyHash(policy));
      }
    }
  });

  it("rejects when the historical VaR fails (capital multiplier raised) and the model says so", async function () {
    const strict = withPolicy(policy, (p) => {
      p.var.method = "historical";
      p.var.capitalMultiplier = 40_000_000n;
    });
    const model = checkPosition(loadPosition("position-healthy.json", market), market, strict);
    assert.equal(model.var.historical!.pass, false);
    assert.equal((await accepts("position-healthy.json", strict)).accepted, false);
  });

  it("follows the policy's method: with parametric only, historical VaR is not required", async function () {
    const parametricOnly = withPolicy(policy, (p) => (p.var.method = "parametric"));
    const model = checkPosition(loadPosition("position-healthy.json", market), market, parametricOnly);
    assert.equal((await accepts("position-healthy.json", parametricOnly)).accepted, model.healthFactor.pass && model.var.parametric!.pass);
  });
});

describe("instances without stress (health-var-*): what `zks prove` selects for each statement", function () {
  this.timeout(120_000);
  let dir: string;
  /** The example history cut to 100 days: more scenarios than any solvency-* instance holds (16). */
  let longMarket: string;
  const inputs = (market: string) => ["--position", example("position-healthy.json"), "--market", market, "--policy", example("policy.json")];

  before(function () {
    dir = mkdtempSync(path.join(tmpdir(), "zks-health-var-"));
    const raw = readJsonFile(example("market-historical.json")) as { scenarios: { items: unknown[] } };
    raw.scenarios.items = raw.scenarios.items.slice(0, 100);
    longMarket = path.join(dir, "market-100d.json");
    writeFileSync(longMarket, JSON.stringify(raw));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("the names say what they prove: every health-var-* instance lacks stress, every solvency-* and rebalance-* has all four checks", function () {
    const instances = loadInstances().filter((i) => i.template === "Solvency" || i.template === "Rebalance");
    assert.ok(instances.some((i) => i.name === "health-var-3x3x128") && instances.some((i) => i.name === "health-var-3x3x250"));
    assert.ok(!instances.some((i) => i.name.startsWith("hvar-")), "the old names are gone");
    for (const i of instances) {
      if (i.name.startsWith("health-var-")) assert.equal(checksOf(i), ALL_CHECKS & ~2, i.name);
      else assert.equal(checksOf(i), ALL_CHECKS, i.name);
    }
    assert.equal(checkNames(requiredChecks("stress", "historical")), "stress and historical VaR");
    assert.equal(requiredChecks("health", "parametric"), 1 | 8);
    assert.equal(requiredChecks("var", "both"), 4 | 8);
    assert.equal(requiredChecks("audit", "historical"), ALL_CHECKS);
  });

  it("an explicit --instance without stress for `prove stress` or `prove audit` is bad input (exit 2) naming the instance and the missing check", function () {
    for (const statement of ["stress", "audit"]) {
      const result = zks("prove", statement, ...inputs(example("market-grid.json")), "--out", path.join(dir, statement), "--instance", "health-var-3x3x128");
      assert.equal(result.code, 2, result.stderr);
      assertOneLineError(
        result,
        /^zks: --instance: health-var-3x3x128: does not check stress, which this statement needs under this policy \(it proves health factor, historical VaR and parametric VaR\)$/,
      );
    }
    // The SDK function throws the same InputError.
    const market = loadMarket();
    assert.throws(
      () => selectInstance("Solvency", market, "health-var-3x3x128", undefined, requiredChecks("stress", "both")),
      (e: unknown) => e instanceof InputError && e.exitCode === 2,
    );
  });

  it("auto-selection never picks one for stress: a 100-scenario market has no instance for `prove stress` or `audit` (exit 3, naming the checks), while health and var select health-var-3x3x128", function () {
    const stress = zks("prove", "stress", ...inputs(longMarket), "--out", path.join(dir, "stress-100d"));
    assert.equal(stress.code, 3, stress.stderr);
    assertOneLineError(
      stress,
      /^zks: no Solvency instance that checks stress, historical VaR and parametric VaR fits a market of 3 assets, 3 instruments and 100 scenarios; declare a larger one in circuits\/instances.json$/,
    );
    const market = loadMarket("market-historical.json");
    market.scenarios = market.scenarios.slice(0, 100);
    assert.throws(() => selectInstance("Solvency", market, undefined, undefined, requiredChecks("audit", "both")), SetupError);
    // health and var need only what health-var-* proves. The choice is made before any key is
    // read (eligibleInstances), so it is tested here without health-var-3x3x128's keys: it is a
    // standard-tier instance, compiled without keys by `npm run build`, and a proof of its 61k
    // constraints belongs in `npm run bench`.
    for (const statement of ["health", "var"] as const) {
      const names = eligibleInstances("Solvency", market, undefined, requiredChecks(statement, "both")).map((i) => i.name);
      assert.deepEqual(names, ["health-var-3x3x128", "health-var-3x3x250"], statement);
    }
    // Through the CLI against an empty build directory, so the answer does not depend on which keys
    // this machine has: setup is asked for exactly that instance.
    const previous = process.env.ZKS_BUILD_DIR;
    process.env.ZKS_BUILD_DIR = path.join(dir, "empty-build");
    try {
      for (const statement of ["health", "var"]) {
        const result = zks("prove", statement, ...inputs(longMarket), "--out", path.join(dir, `${statement}-100d`));
        assert.equal(result.code, 3, `${statement}: ${result.stderr}`);
        assertOneLineError(result, /^zks: no Solvency instance that fits this market is built; run `zks setup --instance health-var-3x3x128`$/);
      }
    } finally {
      if (previous === undefined) delete process.env.ZKS_BUILD_DIR;
      else process.env.ZKS_BUILD_DIR = previous;
    }
  });

  it("a Rebalance proof needs all four checks: an instance without one is never chosen, and naming it is bad input", function () {
    const market = loadMarket();
    const rebalance = loadInstances().find((i) => i.name === "rebalance-3x3x16")!;
    // A declared Rebalance instance without stress (none is declared: this is the guard that keeps it so).
    const noStress = { ...rebalance, name: "rebalance-no-stress-3x3x16", params: [3, 3, 16, ALL_CHECKS & ~2, 2] };
    assert.deepEqual(
      eligibleInstances("Rebalance", market, undefined, 0, [noStress, rebalance]).map((i) => i.name),
      ["rebalance-3x3x16"],
    );
    assert.throws(
      () => eligibleInstances("Rebalance", market, undefined, 0, [noStress]),
      (e: unknown) => e instanceof SetupError && /no Rebalance instance that checks health factor, stress, historical VaR and parametric VaR fits/.test(e.message),
    );
    assert.throws(
      () => eligibleInstances("Rebalance", market, "rebalance-no-stress-3x3x16", 0, [noStress]),
      (e: unknown) => e instanceof InputError && e.exitCode === 2 && /rebalance-no-stress-3x3x16: does not check stress/.test(e.message),
    );
  });
});
