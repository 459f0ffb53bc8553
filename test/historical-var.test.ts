import assert from "node:assert/strict";
import { marketRoot } from "../src/commitment/market-root.ts";
import { policyHash } from "../src/commitment/policy-hash.ts";
import { commitPosition } from "../src/commitment/position-commitment.ts";
import type { Market, Policy } from "../src/inputs/types.ts";
import { checkPosition } from "../src/model/check.ts";
import { releaseProverThreads } from "../src/prover/release.ts";
import { solvencyInput } from "../src/prover/witness/solvency.ts";
import { CircuitUnderTest } from "./helpers/circuit.ts";
import { loadMarket, loadPolicy, loadPosition } from "./helpers/examples.ts";
import { withMarket, withPolicy } from "./helpers/model-fixtures.ts";

const INSTANCE = "hvar-3x3x128";
const LAYOUT = { nAssets: 3, nInstruments: 3, nScenarios: 128 };

/**
 * The historical-VaR instance (128 days; health factor, historical and parametric VaR) on the
 * example history cut to its first 128 days. Witnesses only: a proof of this 59k-constraint
 * circuit takes about 10 s and belongs in `npm run bench`.
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
