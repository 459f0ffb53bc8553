import assert from "node:assert/strict";
import { network } from "hardhat";
import { marketRoot } from "../packages/sdk/src/commitment/market-root.ts";
import { policyHash } from "../packages/sdk/src/commitment/policy-hash.ts";
import { commitPosition } from "../packages/sdk/src/commitment/position-commitment.ts";
import { SNARK_FIELD, toField } from "../packages/sdk/src/core/field.ts";
import { MAX_AMOUNT } from "../packages/sdk/src/core/fixed-point.ts";
import { parseMarket } from "../packages/sdk/src/inputs/parse-market.ts";
import { parsePolicy } from "../packages/sdk/src/inputs/parse-policy.ts";
import type { Market, Policy, Position } from "../packages/sdk/src/inputs/types.ts";
import { ceilDiv, checkPosition, floorDiv, ModelBoundsError, type CheckName } from "../packages/sdk/src/model/index.ts";
import type { InstanceArtifacts } from "../packages/node/src/artifacts.ts";
import { readJsonFile } from "../packages/node/src/read-json.ts";
import { UnprovableError } from "../packages/sdk/src/prover/errors.ts";
import { generateProof, type ZkProof } from "../packages/sdk/src/prover/prove.ts";
import { releaseProverThreads } from "../packages/sdk/src/prover/release.ts";

import { toSolidityProof } from "../packages/sdk/src/verifier/calldata.ts";
import { verifyProof } from "../packages/sdk/src/verifier/verify.ts";
import { CircuitUnderTest } from "./helpers/circuit.ts";
import { LenientWitness } from "./helpers/lenient-witness.ts";
import { describeCircuit, describeModel, modelAccepts, modelVerdict, SolvencyHarness } from "./helpers/solvency-harness.ts";
import { example } from "./helpers/examples.ts";
import { positionOf, withMarket, withPolicy } from "./helpers/model-fixtures.ts";
import {
  emptyPosition,
  randomCases,
  SOLVENCY_LAYOUT,
  stablecoinMarket,
  stablecoinPolicy,
  thresholdVariants,
  wrappingPerpQuantity,
  type SolvencyCase,
} from "./helpers/solvency-cases.ts";
import type { WitnessResult } from "./helpers/solvency-witness.ts";

const INSTANCE = "solvency-3x3x16";
const LAYOUT = SOLVENCY_LAYOUT;
const COMMITMENT_LAYOUT = { nAssets: LAYOUT.nAssets, nInstruments: LAYOUT.nInstruments };
const E8 = 10n ** 8n;
const E12 = 10n ** 12n;
const E18 = 10n ** 18n;
const units = (whole: bigint, decimals: number): bigint => whole * 10n ** BigInt(decimals);

describe(`solvency circuit (${INSTANCE})`, function () {
  let h: SolvencyHarness;
  let artifacts: InstanceArtifacts;
  let circuit: CircuitUnderTest;
  let market: Market;
  let policy: Policy;
  let healthy: Position;
  let atRisk: Position;

  before(async function () {
    h = await SolvencyHarness.load(INSTANCE);
    ({ artifacts, circuit, market, policy, healthy, atRisk } = h);
  });

  after(releaseProverThreads);

  const input = (c: SolvencyCase) => h.input(c);
  const caseOf = (position: Position, m?: Market, p?: Policy, label?: string): SolvencyCase => h.caseOf(position, m, p, label);
  const run = (c: SolvencyCase): Promise<WitnessResult> => h.run(c);
  const signal = (witness: bigint[], name: string): bigint => h.signal(witness, name);
  const assertBindings = (witness: bigint[], c: SolvencyCase): void => h.assertBindings(witness, c);

  /**
   * The model's failing checks are `failures` (or it refuses the inputs, "refused"), and the
   * circuit accepts exactly when the model passes; an accepted witness is bound to the case.
   */
  async function agrees(c: SolvencyCase, failures: CheckName[] | "refused", options: { constraints?: boolean } = {}): Promise<WitnessResult> {
    const verdict = modelVerdict(c);
    if (failures === "refused") {
      assert.ok(verdict.refused && verdict.error instanceof ModelBoundsError, `${c.label}: expected the model to refuse the inputs`);
    } else {
      assert.ok(!verdict.refused, `${c.label}: the model refused: ${verdict.refused ? verdict.error.message : ""}`);
      assert.deepEqual(verdict.report.failures, failures, `${c.label}: model failures`);
    }
    const result = await run(c);
    assert.equal(result.accepted, modelAccepts(verdict), `${c.label}: ${describeCircuit(result)}, ${describeModel(verdict)}`);
    if (result.accepted) {
      assertBindings(result.witness, c);
      if (options.constraints) assert.deepEqual(circuit.violated(result.witness), [], `${c.label}: violated constraints`);
    }
    return result;
  }

  async function honestWitness(c: SolvencyCase): Promise<bigint[]> {
    const result = await run(c);
    assert.ok(result.accepted, `${c.label}: the honest witness must compute`);
    return result.witness;
  }

  describe("bindings: public outputs equal the TypeScript commitment, marketRoot and policyHash", function () {
    it("for position-healthy under the example grid market and policy (and the fast witness equals snarkjs')", async function () {
      const c = caseOf(healthy);
      const witness = await circuit.witness(input(c));
      assert.deepEqual(await honestWitness(c), witness);
      assertBindings(witness, c);
      assert.equal(signal(witness, "main.account"), BigInt(healthy.account));
      assert.equal(signal(witness, "main.nonce"), healthy.nonce);
    });

    it("for position-at-risk (under the grid's 8 down and flat scenarios, where it passes; it fails the full grid)", async function () {
      const downOnly = withMarket(market, (m) => (m.scenarios = m.scenarios.slice(0, 8)));
      const c = caseOf(atRisk, downOnly);
      const result = await agrees(c, [], { constraints: true });
      assert.ok(result.accepted);
      // The commitment does not depend on the market: the same as under the full grid.
      assert.equal(signal(result.witness, "main.commitment"), commitPosition(atRisk, atRisk.salt!, COMMITMENT_LAYOUT));
      assert.notEqual(marketRoot(downOnly, LAYOUT), marketRoot(market, LAYOUT));
    });

    it("the marketRoot output follows every market section, the policyHash output every policy field", async function () {
      const marketEdits: [string, (m: Market) => void][] = [
        ["epoch", (m) => (m.epoch += 1)],
        ["timestamp", (m) => (m.timestamp += 1)],
        ["quote decimals", (m) => (m.quote.decimals = 6)],
        ["price", (m) => (m.assets[2]!.price += 1n)],
        ["threshold", (m) => (m.assets[1]!.liquidationThreshold -= 1n)],
        ["debt index", (m) => (m.assets[1]!.debtIndex += 1n)],
        ["mark", (m) => (m.instruments[1]!.mark += 1n)],
        ["delta", (m) => (m.instruments[0]!.delta = -m.instruments[0]!.delta)],
        ["scenario return", (m) => (m.scenarios[15]!.assetReturns[2] = 1n)],
        ["scenario PnL", (m) => (m.scenarios[3]!.instrumentPnl[1]! -= 1n)],
        ["scenario weight", (m) => (m.scenarios[14]!.weight = 3_501n)],
        ["covariance", (m) => (m.covariance.matrix[0]![1] = m.covariance.matrix[1]![0] = 784_000_001n)],
        ["horizon", (m) => (m.covariance.horizonDays = 10)],
      ];
      const policyEdits: [string, (p: Policy) => void][] = [
        ["minHealthFactor", (p) => (p.minHealthFactor = 10_500n)],
        ["trigger", (p) => (p.trigger.healthFactor += 1n)],
        ["minEquity", (p) => (p.stress.minEquity = 1n)],
        ["method", (p) => (p.var.method = "historical")],
        ["confidence", (p) => (p.var.confidence = 975_000n)],
        ["capitalMultiplier", (p) => (p.var.capitalMultiplier = 1_500_001n)],
        ["maxSlippage", (p) => (p.maxSlippage = 0n)],
      ];
      const roots = new Set([marketRoot(market, LAYOUT)]);
      for (const [name, edit] of marketEdits) {
        const c = caseOf(healthy, withMarket(market, edit), policy, `market ${name}`);
        const witness = await honestWitness(c);
        assertBindings(witness, c);
        roots.add(signal(witness, "main.marketRoot"));
      }
      assert.equal(roots.size, marketEdits.length + 1);
      const hashes = new Set([policyHash(policy)]);
      for (const [name, edit] of policyEdits) {
        const c = caseOf(healthy, market, withPolicy(policy, edit), `policy ${name}`);
        const witness = await honestWitness(c);
        assertBindings(witness, c);
        hashes.add(signal(witness, "main.policyHash"));
      }
      assert.equal(hashes.size, policyEdits.length + 1);
    });
  });

  describe("example files", function () {
    it("position-healthy passes: model pass, the witness computes, no constraint is violated", async function () {
      const report = checkPosition(healthy, market, policy);
      assert.equal(report.pass, true);
      const witness = await circuit.witness(input(caseOf(healthy)));
      assert.deepEqual(circuit.violated(witness), []);
    });

    it("position-at-risk fails the model's stress check, and generateProof rejects it with UnprovableError", async function () {
      const report = checkPosition(atRisk, market, policy);
      assert.equal(report.pass, false);
      assert.ok(report.failures.includes("stress"));
      await assert.rejects(generateProof(input(caseOf(atRisk)), artifacts), UnprovableError);
      assert.equal((await run(caseOf(atRisk))).accepted, false);
    });
  });

  describe("one check failing at a time: model and circuit agree both ways", function () {
    it("health factor: a minimum just above the position's HF fails only that check", async function () {
      const hf = checkPosition(healthy, market, policy).healthFactor;
      assert.equal(hf.value, 38_081n); // 3.8081
      await agrees(
        caseOf(
          healthy,
          market,
          withPolicy(policy, (p) => (p.minHealthFactor = hf.value!)),
        ),
        [],
      );
      await agrees(
        caseOf(
          healthy,
          market,
          withPolicy(policy, (p) => (p.minHealthFactor = hf.value! + 1n)),
        ),
        ["healthFactor"],
      );
    });

    it("health factor exactly at the minimum (HFnum = minHF * HFden) passes; one base unit less collateral fails", async function () {
      // Debt 300 USDC: vd = 30,003,000,000 q.u. exactly; HFnum = 11000 * HFden needs vc_WETH = 40,004,000,000.
      // Parametric VaR only: 400 USD of WETH against 300 of debt fails the grid's unweighted 30% drop.
      const parametric = withPolicy(policy, (p) => (p.var.method = "parametric"));
      const vc = 40_004_000_000n;
      const wei = ceilDiv(vc * E18, market.assets[0]!.price);
      const debt = { USDC: units(300n, 6) };
      const at = caseOf(positionOf(market, { collateral: { WETH: wei }, debt }), market, parametric, "HF at the minimum");
      const report = checkPosition(at.position, market, parametric);
      assert.equal(report.healthFactor.numerator, 11_000n * report.healthFactor.denominator);
      assert.equal(report.healthFactor.margin, 0n);
      await agrees(at, [], { constraints: true });
      await agrees(caseOf(positionOf(market, { collateral: { WETH: wei - 1n }, debt }), market, parametric, "one wei less"), ["healthFactor"]);
    });

    it("stress exactly at the threshold (minEquity = E - worstLoss) passes; one quote unit more fails", async function () {
      const report = checkPosition(healthy, market, policy);
      assert.equal(report.equity.scaled % E8, 0n);
      assert.equal(report.stress.worst % E12, 0n);
      const minEquity = report.equity.value - report.stress.worstLoss;
      assert.equal(minEquity, 4_352_708_375_000n);
      const at = caseOf(
        healthy,
        market,
        withPolicy(policy, (p) => (p.stress.minEquity = minEquity)),
        "stress at the threshold",
      );
      assert.equal(checkPosition(healthy, market, at.policy).stress.margin, 0n);
      await agrees(at, [], { constraints: true });
      await agrees(
        caseOf(
          healthy,
          market,
          withPolicy(policy, (p) => (p.stress.minEquity = minEquity + 1n)),
        ),
        ["stress"],
      );
    });

    it("historical VaR: the largest capital multiplier the equity covers passes; one unit (1e-6) more fails", async function () {
      const historical = withPolicy(policy, (p) => (p.var.method = "historical"));
      const report = checkPosition(healthy, market, historical);
      const limit = (report.equity.scaled * 1_000_000n) / report.var.historical!.scaled;
      assert.ok(limit > 1_500_000n && limit < 1_000_000_000n);
      const at = withPolicy(historical, (p) => (p.var.capitalMultiplier = limit));
      await agrees(caseOf(healthy, market, at, "historical VaR at the limit"), [], { constraints: true });
      const beyond = withPolicy(historical, (p) => (p.var.capitalMultiplier = limit + 1n));
      await agrees(caseOf(healthy, market, beyond, "historical VaR beyond"), ["historicalVar"]);
      // The same multiplier under "both": parametric VaR is smaller here, so only historical fails.
      await agrees(
        caseOf(
          healthy,
          market,
          withPolicy(beyond, (p) => (p.var.method = "both")),
        ),
        ["historicalVar"],
      );
    });

    it("parametric VaR: the largest capital multiplier the equity covers passes; one unit more fails", async function () {
      const parametric = withPolicy(policy, (p) => (p.var.method = "parametric"));
      const report = checkPosition(healthy, market, parametric);
      const limit = (report.equity.value * 1_000_000n) / report.var.parametric!.value;
      assert.ok(limit > 1_500_000n && limit < 1_000_000_000n);
      await agrees(
        caseOf(
          healthy,
          market,
          withPolicy(parametric, (p) => (p.var.capitalMultiplier = limit)),
          "parametric at the limit",
        ),
        [],
        { constraints: true },
      );
      await agrees(
        caseOf(
          healthy,
          market,
          withPolicy(parametric, (p) => (p.var.capitalMultiplier = limit + 1n)),
        ),
        ["parametricVar"],
      );
    });

    it("method gating: a position failing only parametric VaR is accepted when the method is historical", async function () {
      // USDC only: no scenario moves USDC (historical VaR 0), but its variance gives a parametric VaR.
      const usdc = positionOf(market, { collateral: { USDC: units(10_000n, 6) } });
      const report = checkPosition(
        usdc,
        market,
        withPolicy(policy, (p) => (p.var.method = "parametric")),
      );
      const multiplier = (report.equity.value * 1_000_000n) / report.var.parametric!.value + 1n; // ~ 860
      assert.ok(multiplier < 1_000_000_000n);
      const strict = (method: Policy["var"]["method"]) =>
        withPolicy(policy, (p) => {
          p.var.method = method;
          p.var.capitalMultiplier = multiplier;
        });
      await agrees(caseOf(usdc, market, strict("parametric")), ["parametricVar"]);
      await agrees(caseOf(usdc, market, strict("both")), ["parametricVar"]);
      await agrees(caseOf(usdc, market, strict("historical")), [], { constraints: true });
    });

    it("zero debt: HF is unbounded and passes", async function () {
      const c = caseOf(positionOf(market, { collateral: { WETH: units(1n, 18), WBTC: units(1n, 8) } }));
      assert.equal(checkPosition(c.position, market, policy).healthFactor.value, null);
      await agrees(c, [], { constraints: true });
      // Even the largest minimum health factor.
      await agrees(
        caseOf(
          c.position,
          market,
          withPolicy(policy, (p) => (p.minHealthFactor = 1_000_000n)),
        ),
        [],
      );
    });

    it("all-zero position passes; a minimum equity of one quote unit fails it on stress", async function () {
      const empty = emptyPosition(market);
      await agrees(caseOf(empty), [], { constraints: true });
      await agrees(
        caseOf(
          empty,
          market,
          withPolicy(policy, (p) => (p.stress.minEquity = 1n)),
        ),
        ["stress"],
      );
    });

    it("negative quantities (short options): covered shorts pass, naked shorts fail", async function () {
      // position-healthy is short 30 calls; USDC cash against 10 written puts passes too.
      await agrees(caseOf(healthy), []);
      const shortPuts = positionOf(market, { collateral: { USDC: units(10_000n, 6) }, derivatives: { "ETH-26DEC26-2800-P": -10n * E8 } });
      await agrees(caseOf(shortPuts), [], { constraints: true });
      // Twice the puts: the unweighted 'extreme down' loss exceeds what the equity covers.
      const morePuts = positionOf(market, { collateral: { USDC: units(10_000n, 6) }, derivatives: { "ETH-26DEC26-2800-P": -20n * E8 } });
      await agrees(caseOf(morePuts), ["historicalVar"]);
      // Naked: 1e-8 of a written call, E* = -166.36e8 < 0.
      await agrees(caseOf(positionOf(market, { derivatives: { "ETH-26DEC26-3200-C": -1n } })), ["stress", "historicalVar", "parametricVar"]);
    });

    it("E* < 0 fails stress and both VaR checks (HF passing); E* = -1 fails, E* = 0 and E* = 1 pass", async function () {
      const lenient = withPolicy(policy, (p) => (p.minHealthFactor = 5_000n));
      const underwater = positionOf(market, { collateral: { WETH: units(1n, 18) }, debt: { USDC: units(4_000n, 6) } });
      assert.ok(checkPosition(underwater, market, lenient).equity.scaled < 0n);
      await agrees(caseOf(underwater, market, lenient), ["stress", "historicalVar", "parametricVar"]);
      await agrees(
        caseOf(
          underwater,
          market,
          withPolicy(lenient, (p) => (p.var.method = "historical")),
        ),
        ["stress", "historicalVar"],
      );
      // An instrument marked at 1 q.u. with no delta or scenario PnL: q = -1, 0, 1 gives E* = -1, 0, 1.
      const unit = withMarket(market, (m) => {
        m.instruments[2]!.mark = 1n;
        m.instruments[2]!.delta = 0n;
        m.scenarios.forEach((s) => (s.instrumentPnl[2] = 0n));
      });
      const withQuantity = (q: bigint) => positionOf(unit, { derivatives: { "BTC-26DEC26-95000-C": q } });
      assert.equal(checkPosition(withQuantity(-1n), unit, policy).equity.scaled, -1n);
      await agrees(caseOf(withQuantity(-1n), unit), ["stress", "historicalVar", "parametricVar"]);
      await agrees(caseOf(withQuantity(0n), unit), []);
      await agrees(caseOf(withQuantity(1n), unit), [], { constraints: true });
    });
  });

  describe("boundaries", function () {
    const LIMIT = 1n << 80n;

    it("amounts: the largest values within the model's bounds (2^80 - 1 q.u. per asset) agree; 2^80 is refused by both", async function () {
      const wbtc = market.assets[1]!;
      const usdc = market.assets[2]!;
      const satoshis = ceilDiv(LIMIT * E8, wbtc.price) - 1n; // vc = 2^80 - 1 exactly or just below
      const usdcDebt = floorDiv((LIMIT - 1n) * 10n ** 6n, usdc.price); // the most USDC with vd < 2^80
      const rich = positionOf(market, { collateral: { WETH: MAX_AMOUNT, WBTC: satoshis } });
      assert.ok(checkPosition(rich, market, policy).values.collateral[1]! < LIMIT);
      await agrees(caseOf(rich, market, policy, "maximal collateral"), [], { constraints: true });
      const levered = positionOf(market, { collateral: { WETH: MAX_AMOUNT, WBTC: satoshis }, debt: { USDC: usdcDebt } });
      assert.ok(checkPosition(levered, market, policy).values.debt[2]! < LIMIT);
      await agrees(caseOf(levered, market, policy, "maximal debt"), ["healthFactor", "stress", "historicalVar", "parametricVar"]);
      // Debt within the bound but HF and stress fine: maximal collateral against a third of it in debt.
      const third = positionOf(market, { collateral: { WBTC: satoshis }, debt: { USDC: usdcDebt / 4n } });
      await agrees(caseOf(third, market, policy, "quarter debt"), []);
      // One satoshi more: the model refuses (ModelBoundsError) and the circuit's 80-bit range check rejects.
      await agrees(caseOf(positionOf(market, { collateral: { WBTC: satoshis + 1n } }), market, policy, "2^80 q.u."), "refused");
      await agrees(caseOf(positionOf(market, { debt: { USDC: usdcDebt + 1n } }), market, policy, "2^80 q.u. debt"), "refused");
    });

    it("quantities at +-(2^80 - 1) (notionals beyond 2^107: refused) and other large magnitudes agree; +-2^80 is refused by both", async function () {
      const big = (1n << 80n) - 1n;
      const cases: [string, Record<string, bigint>][] = [];
      for (const id of market.instruments.map((k) => k.id)) {
        cases.push([`${id} +(2^80-1)`, { [id]: big }], [`${id} -(2^80-1)`, { [id]: -big }], [`${id} +2^40`, { [id]: 1n << 40n }]);
      }
      cases.push(["short 2^40 calls against long 2^40 puts", { "ETH-26DEC26-3200-C": -(1n << 40n), "ETH-26DEC26-2800-P": 1n << 40n }]);
      const seen = { pass: 0, fail: 0, refused: 0 };
      for (const [label, derivatives] of cases) {
        // 10 million USDC of cash covers positions of 2^40 (11,000 contracts), not of 2^80.
        const c = caseOf(positionOf(market, { collateral: { USDC: units(10_000_000n, 6) }, derivatives }), market, policy, label);
        const verdict = modelVerdict(c);
        seen[verdict.refused ? "refused" : verdict.report.pass ? "pass" : "fail"]++;
        await agrees(c, verdict.refused ? "refused" : verdict.report.failures);
      }
      assert.ok(seen.pass > 0 && seen.fail > 0 && seen.refused > 0, `a mix of verdicts: ${JSON.stringify(seen)}`);
      const refused = positionOf(market, { derivatives: { "ETH-26DEC26-2800-P": -(1n << 80n) } });
      await agrees(caseOf(refused, market, policy, "-2^80"), "refused");
    });

    it("instrument notionals: at the model's 2^107 bound (2^80 quote units) both accept; a book beyond the circuit's equity range is refused by both", async function () {
      // A deep out-of-the-money call (delta 0.01), so the delta-exposure bound (2^84 quote units)
      // stays clear and the notional bound is the one tested.
      const dai = withMarket(stablecoinMarket(), (m) => (m.instruments[1]!.delta = 1_000_000n));
      const historical = stablecoinPolicy("historical");
      const call = dai.instruments[1]!;
      const atBound = ((1n << 107n) - 1n) / call.mark; // 1.6e14 calls marked at 100 DAI: 1.6e16 DAI
      const book = (q: bigint) => positionOf(dai, { derivatives: { [call.id]: q } });
      await agrees(caseOf(book(atBound), dai, historical, "notional just below 2^107"), [], { constraints: true });
      // 2^80 - 1 quantity units: E* = q * m >= 2^111, beyond what the circuit's equity range checks hold.
      const large = book((1n << 80n) - 1n);
      assert.ok(((1n << 80n) - 1n) * call.mark >= 1n << 111n);
      await agrees(caseOf(large, dai, historical, "2^80 calls"), "refused");
    });

    it("asset decimals: 18 agrees; 19 and 24 are refused by the parser and the model, and the circuit rejects their scale", async function () {
      // The schema admits decimals up to 255 (24 is real: NEAR), but the circuits prove each scale
      // is 10^decimals with decimals <= 18 (AssetsDigest), even for a position without the asset.
      const raw = (decimals: number) => {
        const file = readJsonFile(example("market-grid.json")) as {
          assets: { symbol: string; decimals: number; price: string; liquidationThreshold: string }[];
          covariance: { assets: string[] };
        };
        file.assets[2] = { symbol: "WNEAR", decimals, price: "2.5", liquidationThreshold: "0.6" };
        file.covariance.assets[2] = "WNEAR";
        return file;
      };
      const eighteen = parseMarket(raw(18), "market-grid.json with an 18-decimal asset");
      const position = (m: Market) => positionOf(m, { collateral: { WETH: units(10n, 18) } }); // no WNEAR at all
      await agrees(caseOf(position(eighteen), eighteen, policy, "18 decimals"), []);
      for (const decimals of [19, 24]) {
        assert.throws(() => parseMarket(raw(decimals), "market.json"), new RegExp(`market\\.json: assets\\[2\\]\\.decimals: must be <= 18, got number ${decimals}`));
        // Built in code (as a backtest builds markets): the model refuses it, and the circuit rejects the scale.
        const m = withMarket(eighteen, (next) => (next.assets[2]!.decimals = decimals));
        const c = caseOf(position(m), m, policy, `${decimals} decimals`);
        assert.ok(modelVerdict(c).refused);
        const honest = input(caseOf(position(eighteen), eighteen, policy)) as Record<string, unknown>;
        const result = await h.fast.calculate({ ...honest, scale: [E18, units(1n, 8), 10n ** BigInt(decimals)] } as never);
        assert.ok(!result.accepted && /AssetsDigest/.test(result.error), `${decimals} decimals: ${describeCircuit(result)}`);
      }
    });

    it("a market with fewer assets, instruments and scenarios than slots (padding) agrees and binds", async function () {
      // WETH and WBTC, the ETH call, the first five (down) scenarios: 1, 2 and 11 padding slots.
      const small = withMarket(market, (m) => {
        m.assets = m.assets.slice(0, 2);
        m.instruments = m.instruments.slice(0, 1);
        m.scenarios = m.scenarios.map((s) => ({ ...s, assetReturns: s.assetReturns.slice(0, 2), instrumentPnl: s.instrumentPnl.slice(0, 1) })).slice(0, 5);
        m.covariance.matrix = m.covariance.matrix.slice(0, 2).map((row) => row.slice(0, 2));
      });
      const position = positionOf(small, { collateral: { WETH: units(6n, 18), WBTC: units(1n, 7) }, derivatives: { "ETH-26DEC26-3200-C": -30n * E8 } });
      await agrees(caseOf(position, small, policy, "padded"), [], { constraints: true });
      await agrees(caseOf(emptyPosition(small), small, policy, "padded, empty"), []);
    });

    it("historical VaR counts exceptions over the market's S scenarios, not the 16 slots (S = 5, alpha = 0.8: e = 1)", async function () {
      const five = withMarket(market, (m) => (m.scenarios = m.scenarios.slice(0, 5)));
      const base = withPolicy(policy, (p) => {
        p.var.method = "historical";
        p.var.confidence = 800_000n;
      });
      const report = checkPosition(healthy, five, base);
      assert.equal(report.var.historical!.exceptions, 1); // with 16 slots it would be 3
      const sorted = [...report.losses.scaled].sort((a, b) => (a > b ? -1 : a < b ? 1 : 0));
      assert.ok(sorted[0]! > sorted[1]! && sorted[1]! > sorted[2]! && sorted[2]! > 0n);
      // T* just above the 2nd largest loss: one exception, passes. Just above the 3rd: two, fails.
      const multiplierFor = (loss: bigint) => (report.equity.scaled * 1_000_000n) / loss;
      const one = withPolicy(base, (p) => (p.var.capitalMultiplier = multiplierFor(sorted[1]!)));
      const two = withPolicy(base, (p) => (p.var.capitalMultiplier = multiplierFor(sorted[2]!)));
      assert.equal(checkPosition(healthy, five, one).var.historical!.exceedances, 1);
      assert.equal(checkPosition(healthy, five, two).var.historical!.exceedances, 2);
      await agrees(caseOf(healthy, five, one, "one exception"), [], { constraints: true });
      await agrees(caseOf(healthy, five, two, "two exceptions"), ["historicalVar"]);
    });

    it("field edges: salt = p - 1, the largest account and nonce", async function () {
      const edge: Position = { ...healthy, salt: SNARK_FIELD - 1n, account: "0xFFfFfFffFFfffFFfFFfFFFFFffFFFffffFfFFFfF", nonce: (1n << 64n) - 1n };
      const result = await agrees(caseOf(edge, market, policy, "field edges"), [], { constraints: true });
      assert.ok(result.accepted);
      assert.equal(signal(result.witness, "main.account"), (1n << 160n) - 1n);
      assert.equal(signal(result.witness, "main.nonce"), (1n << 64n) - 1n);
      assert.equal(signal(result.witness, "main.salt"), SNARK_FIELD - 1n);
      assert.notEqual(signal(result.witness, "main.commitment"), commitPosition(healthy, healthy.salt!, COMMITMENT_LAYOUT));
    });
  });

  describe("forged witnesses of position-healthy violate the constraints", function () {
    /**
     * Witness indices of RangeCheck `check`'s bits. --O2 substitutes the top bit away (it is the
     * input minus the others, over 2^(n-1)), so only the bits still in the witness are listed.
     */
    function bitIndices(check: string, n: number): Map<number, number> {
      const bits = new Map<number, number>();
      for (let k = 0; k < n; k++) {
        try {
          bits.set(k, circuit.index(`${check}.bits.out[${k}]`));
        } catch {
          // optimised away
        }
      }
      assert.ok(bits.size >= n - 1, `${check}: expected at least ${n - 1} bits in the witness`);
      return bits;
    }
    /** Sets the bits of RangeCheck `check` (its Num2Bits) to the low bits of a field element. */
    function setBits(witness: bigint[], check: string, value: bigint, n: number): void {
      for (const [k, index] of bitIndices(check, n)) witness[index] = (toField(value) >> BigInt(k)) & 1n;
    }
    const bitSignals = (check: string, n: number): Set<number> => new Set(bitIndices(check, n).values());
    /** Every violated constraint belongs to the given range check (references one of its bits). */
    function assertViolatesOnly(witness: bigint[], check: string, n: number): void {
      const violated = circuit.violated(witness);
      assert.ok(violated.length > 0, `expected ${check} to be violated`);
      const bits = bitSignals(check, n);
      for (const i of violated) {
        const touched = circuit.r1cs.constraints[i]!.flatMap((lc) => Object.keys(lc).map(Number));
        assert.ok(
          touched.some((s) => bits.has(s)),
          `constraint ${i} is not part of ${check}`,
        );
      }
    }

    it("a collateral value (AssetValues output) + 1", async function () {
      const honest = await honestWitness(caseOf(healthy));
      for (let i = 0; i < 3; i++) {
        const forged = [...honest];
        const v = circuit.index(`main.book.collateralValue[${i}]`);
        forged[v] = forged[v]! + 1n;
        assert.ok(circuit.violated(forged).length > 0, `collateralValue[${i}]`);
      }
    });

    it("a quotient raised by one with its remainder shifted down by the scale (the division still holds)", async function () {
      const honest = await honestWitness(caseOf(healthy));
      const forged = [...honest];
      const value = circuit.index("main.book.collateralValue[0]");
      const remainder = circuit.index("main.values.collateralRemainder[0]");
      forged[value] = forged[value]! + 1n;
      forged[remainder] = toField(forged[remainder]! - units(1n, 18));
      const violated = circuit.violated(forged);
      assert.ok(violated.length > 0);
      // Among them, the remainder's range check [0, 2^60).
      const bits = bitSignals("main.values.checks[0][1]", 60);
      assert.ok(violated.some((i) => circuit.r1cs.constraints[i]!.some((lc) => Object.keys(lc).some((s) => bits.has(Number(s))))));
    });

    it("the equity shifted by one unit or by one quote unit", async function () {
      const honest = await honestWitness(caseOf(healthy));
      for (const shift of [1n, E8, -E8]) {
        const forged = [...honest];
        const e = circuit.index("main.book.equity");
        forged[e] = toField(forged[e]! + shift);
        assert.ok(circuit.violated(forged).length > 0, `equity + ${shift}`);
      }
    });

    describe("historical VaR exceedance bits (alpha = 0.85, S = 16: e = 2; one scenario exceeds T*)", function () {
      let c: SolvencyCase;
      let honest: bigint[];
      let exceeding: number;
      let calm: number;

      before(async function () {
        const base = withPolicy(policy, (p) => {
          p.var.method = "historical";
          p.var.confidence = 850_000n;
        });
        const losses = checkPosition(healthy, market, base).losses.scaled;
        const sorted = [...losses].sort((a, b) => (a > b ? -1 : a < b ? 1 : 0));
        const equity = checkPosition(healthy, market, base).equity.scaled;
        const p = withPolicy(base, (q) => (q.var.capitalMultiplier = (equity * 1_000_000n) / sorted[1]!));
        const h = checkPosition(healthy, market, p).var.historical!;
        assert.equal(h.exceptions, 2);
        assert.equal(h.exceedances, 1);
        assert.equal(h.pass, true);
        exceeding = losses.indexOf(sorted[0]!);
        calm = losses.findIndex((l) => l < 0n);
        c = caseOf(healthy, market, p, "one exceedance");
        honest = await honestWitness(c);
        assert.equal(signal(honest, `main.historical.exceeds[${exceeding}]`), 1n);
        assert.equal(signal(honest, `main.historical.exceeds[${calm}]`), 0n);
      });

      /** Flips scenario j's bit and updates covered[j] and the allowance count consistently. */
      function flip(witness: bigint[], j: number, to: bigint): bigint[] {
        const forged = [...witness];
        const threshold = signal(witness, "main.historical.threshold");
        const loss = signal(witness, `main.book.loss[${j}]`);
        forged[circuit.index(`main.historical.exceeds[${j}]`)] = to;
        const covered = toField((1n - to) * (threshold - loss));
        forged[circuit.index(`main.historical.covered[${j}]`)] = covered;
        setBits(forged, `main.historical.coveredChecks[${j}]`, covered, 113);
        const allowance = circuit.index("main.historical.withinAllowance.in");
        const delta = to - signal(witness, `main.historical.exceeds[${j}]`);
        forged[allowance] = toField(forged[allowance]! - delta);
        setBits(forged, "main.historical.withinAllowance", forged[allowance]!, 25);
        return forged;
      }

      it("control: marking a scenario that does not exceed only uses the allowance (still a valid witness)", function () {
        assert.deepEqual(circuit.violated(flip(honest, calm, 1n)), []);
      });

      it("flipping the bit of the scenario whose loss exceeds T* to 0 violates its covered range check", function () {
        assertViolatesOnly(flip(honest, exceeding, 0n), `main.historical.coveredChecks[${exceeding}]`, 113);
        // The bit alone (covered left as it was) violates covered's definition.
        const bare = [...honest];
        bare[circuit.index(`main.historical.exceeds[${exceeding}]`)] = 0n;
        assert.ok(circuit.violated(bare).length > 0);
      });
    });

    describe("parametric VaR hint V", function () {
      let honest: bigint[];
      let V: bigint;

      before(async function () {
        honest = await honestWitness(caseOf(healthy));
        V = signal(honest, "main.parametric.valueAtRisk");
        assert.equal(V, checkPosition(healthy, market, policy).var.parametric!.value);
      });

      /** Replaces V and updates V^2, capitalMultiplier * V and the range checks' bits consistently. */
      function withV(v: bigint): bigint[] {
        const forged = [...honest];
        const cm = policy.var.capitalMultiplier;
        const term = signal(honest, "main.parametric.varianceTerm");
        const equityUnits = signal(honest, "main.parametric.equityUnits");
        forged[circuit.index("main.parametric.valueAtRisk")] = toField(v);
        forged[circuit.index("main.parametric.varSquared")] = toField(v * v);
        forged[circuit.index("main.parametric.required")] = toField(cm * v);
        setBits(forged, "main.parametric.varBound", v, 83);
        setBits(forged, "main.parametric.covers", v * v * 10n ** 16n - term, 137);
        setBits(forged, "main.parametric.holds", equityUnits * 1_000_000n - cm * v, 103);
        return forged;
      }

      it("control: an overstated V + 1 is a valid witness (the prover may only overstate)", function () {
        assert.deepEqual(circuit.violated(withV(V + 1n)), []);
        assert.deepEqual(circuit.violated(withV(V)), []);
      });

      it("-V mod p (same square) violates only V's 83-bit range check", function () {
        assertViolatesOnly(withV(-V), "main.parametric.varBound", 83);
      });

      it("V - 1 (understated) violates only (V * 1e8)^2 >= Z^2 h Qf", function () {
        assertViolatesOnly(withV(V - 1n), "main.parametric.covers", 137);
      });
    });
  });

  describe("differential: circuit acceptance equals the model's verdict", function () {
    const SEED = 20_251_121;
    const BASE = 300;
    // Built (and judged by the model) when the suite is defined, so the title can carry the counts.
    /** `expect`: for threshold pairs, what the model must say (a self-check of the construction). */
    const cases: (SolvencyCase & { expect?: CheckName[] })[] = [];
    let rotation = 0;
    for (const c of randomCases(SEED, BASE)) {
      cases.push(c);
      const verdict = modelVerdict(c);
      if (verdict.refused || !verdict.report.pass) continue;
      // For each passing case, one check (in rotation) set exactly at its limit, and one unit beyond.
      const variants = thresholdVariants(c.policy, verdict.report);
      const v = variants[rotation++ % variants.length]!;
      cases.push({ ...c, label: `${c.label}, ${v.check} at its limit`, policy: v.atLimit, expect: [] });
      cases.push({ ...c, label: `${c.label}, ${v.check} one unit beyond`, policy: v.beyond, expect: [v.check] });
    }
    const verdicts = cases.map(modelVerdict);
    const passing = verdicts.filter(modelAccepts).length;
    const refused = verdicts.filter((v) => v.refused).length;
    const failing = cases.length - passing - refused;

    it(`agrees on ${cases.length} cases (${passing} pass, ${failing} fail, ${refused} refused): ${BASE} random (seed ${SEED}) + threshold pairs`, async function () {
      assert.ok(passing >= 100 && failing >= 100, "enough passing and failing cases");
      const started = performance.now();
      let checked = 0;
      for (const [i, c] of cases.entries()) {
        const verdict = verdicts[i]!;
        // Threshold pairs: the limit passes, one unit beyond fails exactly that check.
        if (c.expect) assert.deepEqual(verdict.refused ? "refused" : verdict.report.failures, c.expect, `${c.label}: model`);
        const result = await run(c);
        assert.equal(result.accepted, modelAccepts(verdict), `${c.label}: ${describeCircuit(result)}, ${describeModel(verdict)}`);
        if (result.accepted) {
          assertBindings(result.witness, c);
          // An independent R1CS check on a few accepted witnesses.
          if (checked < 5 && i % 7 === 0) {
            assert.deepEqual(circuit.violated(result.witness), [], `${c.label}: violated constraints`);
            checked++;
          }
        }
      }
      assert.ok(checked > 0);
      // Hundreds of refused inputs later, the reused calculator still computes snarkjs' witness.
      assert.deepEqual(await honestWitness(caseOf(healthy)), await circuit.witness(input(caseOf(healthy))));
      console.log(
        `      ${cases.length} cases (${passing} pass, ${failing} fail, ${refused} refused) in ${((performance.now() - started) / 1000).toFixed(1)} s; R1CS-checked ${checked}`,
      );
    });
  });

  describe("soundness at the edges (disagreements these tests once found, now fixed)", function () {
    it("parametric VaR: a huge delta exposure cannot wrap x^T Sigma x; the model refuses it as out of bounds and the circuit rejects it", async function () {
      // UNI at 1e11 DAI (1e19 quote units, below the 2^64 price bound) and a UNI perp marked at 0
      // with delta 5,000 (below 2^40): every market value in bounds, yet q < 2^80 gives
      // x_UNI = q * 5e14 q.u., so c * x^2 > p would wrap. The exposure range check (|x'| < 2^84) stops it.
      const dai = withMarket(stablecoinMarket(), (m) => {
        m.assets[0]!.price = 10n ** 19n;
        m.instruments[0]!.delta = 5_000n * 10n ** 8n;
      });
      const parametric = stablecoinPolicy("parametric");
      const q = wrappingPerpQuantity(dai);
      assert.ok(q < 1n << 80n);
      const position = positionOf(dai, { collateral: { USDC: units(100_000n, 6) }, derivatives: { "UNI-PERP": q } });
      assert.throws(
        () => checkPosition(position, dai, parametric),
        (error: unknown) => error instanceof ModelBoundsError && /delta exposure on UNI/.test(error.message),
      );
      const result = await run(caseOf(position, dai, parametric, "wrapping exposure"));
      assert.equal(result.accepted, false, "the circuit accepts a position whose delta exposure wraps the quadratic form");
    });

    it("policy stress.minEquity that would wrap the field once scaled is refused by the model and by the circuit", async function () {
      // minEquity = ceil(p / 1e12) quote units (~2.2e56 USD); minEquity * 1e12 = p + 4.2e11 = 4.2e11 in the field.
      const minEquity = (SNARK_FIELD + E12 - 1n) / E12;
      const digits = minEquity.toString();
      const raw = { ...(readJsonFile(example("policy.json")) as Record<string, unknown>), stress: { minEquity: `${digits.slice(0, -8)}.${digits.slice(-8)}` } };
      const absurd = parsePolicy(raw, "policy.json with an absurd minEquity", market);
      assert.equal(absurd.stress.minEquity, minEquity);
      assert.throws(() => checkPosition(healthy, market, absurd), ModelBoundsError);
      const result = await run(caseOf(healthy, market, absurd, "wrapping minEquity"));
      assert.equal(result.accepted, false, "the circuit accepts a position whose equity is ~2.2e56 USD short of the policy's minimum");
    });

    it("policy: the minimum health factor in (0, 100] and the capital multiplier in [1, 1000] in-circuit, exactly the parser's bounds (PolicyRanges)", async function () {
      // The empty position passes every check under any policy, so only the policy's ranges decide.
      const empty = caseOf(emptyPosition(market), market, policy).position;
      const at = (edit: (p: Policy) => void) => withPolicy(policy, edit);
      for (const [what, p] of [
        ["minimum health factor 100", at((p) => (p.minHealthFactor = 1_000_000n))],
        ["minimum health factor 0.0001", at((p) => (p.minHealthFactor = 1n))],
        ["capital multiplier 1000", at((p) => (p.var.capitalMultiplier = 1_000_000_000n))],
        ["capital multiplier 1", at((p) => (p.var.capitalMultiplier = 1_000_000n))],
      ] as const) {
        assert.ok((await run(caseOf(empty, market, p, what))).accepted, what);
      }
      const lenient = await LenientWitness.load(artifacts, input(caseOf(empty)), (i) => circuit.witness(i));
      const bits = (check: string, n: number): number[] =>
        Array.from({ length: n }, (_, k) => `main.policyRanges.${check}.bits.out[${k}]`).flatMap((name) => {
          try {
            return [circuit.index(name)];
          } catch {
            return []; // optimised away
          }
        });
      for (const [what, edit, check, n] of [
        ["minimum health factor 100.0001", (p: Policy) => (p.minHealthFactor = 1_000_001n), "healthFactor.below", 20],
        ["minimum health factor 0", (p: Policy) => (p.minHealthFactor = 0n), "healthFactor.above", 20],
        ["capital multiplier 1000.000001", (p: Policy) => (p.var.capitalMultiplier = 1_000_000_001n), "multiplier.below", 30],
        ["capital multiplier 0.999999", (p: Policy) => (p.var.capitalMultiplier = 999_999n), "multiplier.above", 30],
      ] as const) {
        const c = caseOf(empty, market, at(edit), what);
        const result = await run(c);
        assert.ok(!result.accepted && /PolicyRanges/.test(result.error), `${what}: ${describeCircuit(result)}`);
        // The circuit's own witness for it (policyHash computed over the value) breaks only that bound.
        const witness = await lenient.calculate(input(c));
        assert.equal(signal(witness, "main.policyHash"), policyHash(c.policy));
        const mine = new Set(bits(check, n));
        const violated = circuit.violated(witness);
        assert.ok(
          violated.length > 0 && violated.every((k) => circuit.r1cs.constraints[k]!.some((lc) => Object.keys(lc).some((i) => mine.has(Number(i))))),
          `${what}: only ${check} is violated`,
        );
      }
      // The parser refuses the same values, naming the field.
      const raw = readJsonFile(example("policy.json")) as Record<string, any>;
      assert.throws(() => parsePolicy({ ...raw, minHealthFactor: "100.0001" }, "policy.json", market), /policy\.json: minHealthFactor: must be in \(0, 100\]/);
      assert.throws(
        () => parsePolicy({ ...raw, var: { ...raw.var, capitalMultiplier: "1000.000001" } }, "policy.json", market),
        /policy\.json: var\.capitalMultiplier: must be in \[1, 1000\]/,
      );
    });

    it("outside the model's position bounds the circuit still decides with exact integers (the bounds are about completeness)", async function () {
      // An instrument with zero mark, delta and PnL: a quantity of 2^85 changes no figure, so the
      // exact statement is the healthy position's, which holds; the model refuses to evaluate it.
      const inert = withMarket(market, (m) => {
        m.instruments[2]!.mark = 0n;
        m.instruments[2]!.delta = 0n;
        m.scenarios.forEach((s) => (s.instrumentPnl[2] = 0n));
      });
      const position = { ...healthy, quantities: [healthy.quantities[0]!, healthy.quantities[1]!, 1n << 85n] };
      assert.throws(() => checkPosition(position, inert, policy), ModelBoundsError);
      const zero = { ...healthy, quantities: [healthy.quantities[0]!, healthy.quantities[1]!, 0n] };
      assert.equal(checkPosition(zero, inert, policy).pass, true);
      assert.equal((await run(caseOf(position, inert, policy, "q = 2^85, inert"))).accepted, true);
    });
  });

  describe("end to end: a real Groth16 proof of position-healthy", function () {
    let zkProof: ZkProof;
    const withSignal = (index: number, value: bigint): ZkProof => ({
      ...zkProof,
      publicSignals: zkProof.publicSignals.map((s, i) => (i === index ? value.toString() : s)) as ZkProof["publicSignals"],
    });
    let tampered: [string, ZkProof][];

    before(async function () {
      zkProof = await generateProof(input(caseOf(healthy)), artifacts);
      const stricter = withPolicy(policy, (p) => (p.minHealthFactor = 10_500n));
      tampered = [
        ["marketRoot + 1", withSignal(1, (BigInt(zkProof.publicSignals[1]!) + 1n) % SNARK_FIELD)],
        ["policyHash of another policy", withSignal(2, policyHash(stricter))],
        ["another nonce", withSignal(4, healthy.nonce + 1n)],
        ["another context (chain or contract)", withSignal(5, 1n)],
      ];
    });

    it("has the public signals [commitment, marketRoot, policyHash, account, nonce, context]", function () {
      assert.deepEqual(
        zkProof.publicSignals,
        [commitPosition(healthy, healthy.salt!, COMMITMENT_LAYOUT), marketRoot(market, LAYOUT), policyHash(policy), BigInt(healthy.account), healthy.nonce, 0n].map(String),
      );
    });

    it("verifies with snarkjs; a tampered public signal does not", async function () {
      assert.equal(await verifyProof(artifacts.verificationKey, zkProof), true);
      for (const [what, proof] of tampered) assert.equal(await verifyProof(artifacts.verificationKey, proof), false, what);
    });

    it("verifies with the generated Solidity verifier on hardhat's in-process network; tampering is rejected", async function () {
      const { ethers } = await network.connect();
      assert.equal(artifacts.manifest.verifierContract, "Solvency3x3x16Verifier");
      const deployed = await ethers.deployContract("Solvency3x3x16Verifier");
      const verify = deployed.getFunction("verifyProof");
      const good = toSolidityProof(zkProof);
      assert.equal(await verify(good.a, good.b, good.c, good.input), true);
      for (const [what, proof] of tampered) {
        const bad = toSolidityProof(proof);
        assert.equal(await verify(bad.a, bad.b, bad.c, bad.input), false, what);
      }
    });
  });
});
