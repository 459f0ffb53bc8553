/**
 * Debt in index-scaled units (docs/custody.md, "Debt from a real lending market, with interest"):
 * a debt of d units of asset i is worth ceil(d * debtIndex_i / 10^18) base units, the index is part
 * of the market root, and every check values debt through it. The reference model against the
 * Solvency and AuditBatch circuits with indices other than 1, the boundaries (index exactly 1, the
 * indexed debt at 2^96), failing cases and forged witnesses.
 */
import assert from "node:assert/strict";
import { auditBatchInput, type BatchMember } from "../packages/sdk/src/audit/batch-input.ts";
import { accountFigures } from "../packages/sdk/src/audit/figures.ts";
import { buildSumTree, figuresDigest } from "../packages/sdk/src/audit/merkle-sum-tree.ts";
import { marketDigests, marketRoot, marketSignals } from "../packages/sdk/src/commitment/market-root.ts";

import { SNARK_FIELD, toField } from "../packages/sdk/src/core/field.ts";
import { DEBT_INDEX_SCALE } from "../packages/sdk/src/core/fixed-point.ts";
import type { Market, Policy, Position } from "../packages/sdk/src/inputs/types.ts";
import { ceilDiv, checkPosition, debtAssets, ModelBoundsError, type CheckName } from "../packages/sdk/src/model/index.ts";
import { loadInstanceArtifacts, type InstanceArtifacts } from "../packages/node/src/artifacts.ts";
import { generateProof } from "../packages/sdk/src/prover/prove.ts";
import { releaseProverThreads } from "../packages/sdk/src/prover/release.ts";

import { verifyProof } from "../packages/sdk/src/verifier/verify.ts";
import { CircuitUnderTest } from "./helpers/circuit.ts";
import { describeCircuit, describeModel, modelAccepts, modelVerdict, SolvencyHarness } from "./helpers/solvency-harness.ts";
import { loadMarket, loadPolicy, loadPosition } from "./helpers/examples.ts";
import { positionOf, Random, withMarket, withPolicy } from "./helpers/model-fixtures.ts";
import { randomCases, SOLVENCY_LAYOUT, thresholdVariants, type SolvencyCase } from "./helpers/solvency-cases.ts";
import { FastWitness, type WitnessResult } from "./helpers/solvency-witness.ts";

const INSTANCE = "solvency-3x3x16";
const BATCH = "audit-batch-3x3x16x2";
const LAYOUT = SOLVENCY_LAYOUT;
const E8 = 10n ** 8n;
const E18 = 10n ** 18n;
const LIMIT_96 = 1n << 96n;
const LIMIT_80 = 1n << 80n;
/** An index an Aave market reaches after a few years of interest. */
const INDEX = 1_037_148_902_771_560_314n;
const units = (whole: bigint, decimals: number): bigint => whole * 10n ** BigInt(decimals);

/** The market with asset i's index set to indices[i] (undefined: unchanged). */
const withIndices = (market: Market, indices: (bigint | undefined)[]): Market => withMarket(market, (m) => m.assets.forEach((a, i) => (a.debtIndex = indices[i] ?? a.debtIndex)));

/** A random index in [1, 1.5) at full 18-decimal precision, or exactly 1 one time in five. */
function randomIndex(rng: Random): bigint {
  return rng.chance(0.2) ? DEBT_INDEX_SCALE : DEBT_INDEX_SCALE + (rng.digits(18) % (DEBT_INDEX_SCALE / 2n));
}

describe("debt index: the reference model", function () {
  const market = loadMarket();
  const policy = loadPolicy(market);
  const healthy = loadPosition("position-healthy.json", market);

  it("values d units as ceil(d * index / 1e18) base units, then as before; index 1 changes nothing", function () {
    const usdc = market.assets[2]!;
    assert.equal(usdc.debtIndex, E18);
    assert.equal(debtAssets(14_000_000_000n, usdc), 14_000_000_000n);
    const indexed = { ...usdc, debtIndex: INDEX };
    // 14,000 USDC of units at 1.0371...: 14,520.084638801844396 USDC, rounded up to the base unit.
    assert.equal(debtAssets(14_000_000_000n, indexed), 14_520_084_639n);
    assert.equal(debtAssets(0n, indexed), 0n);
    assert.equal(debtAssets(1n, { ...usdc, debtIndex: E18 + 1n }), 2n);
    const base = checkPosition(healthy, market, policy);
    const report = checkPosition(healthy, withIndices(market, [undefined, undefined, INDEX]), policy);
    assert.equal(report.values.debt[2], ceilDiv(14_520_084_639n * usdc.price, 10n ** 6n));
    assert.deepEqual(report.values.collateral, base.values.collateral);
    assert.ok(report.healthFactor.value! < base.healthFactor.value!);
    assert.equal(report.equity.scaled, base.equity.scaled - (report.values.debt[2]! - base.values.debt[2]!) * E8);
  });

  it("refuses an indexed debt of 2^96 base units (ModelBoundsError) and an index below 1 built in code", function () {
    const m = withIndices(market, [(3n * E18) / 2n]);
    const d = ((LIMIT_96 - 1n) * E18) / m.assets[0]!.debtIndex;
    assert.equal(debtAssets(d, m.assets[0]!), LIMIT_96 - 1n);
    assert.ok(debtAssets(d + 1n, m.assets[0]!) >= LIMIT_96);
    const owing = (wei: bigint) => positionOf(m, { debt: { WETH: wei } });
    assert.doesNotThrow(() => checkPosition(owing(d), m, policy));
    assert.throws(
      () => checkPosition(owing(d + 1n), m, policy),
      (e: unknown) => e instanceof ModelBoundsError && /WETH debt valued through its index exceeds 2\^96/.test(e.message),
    );
    assert.throws(
      () => checkPosition(healthy, withIndices(market, [E18 - 1n]), policy),
      (e: unknown) => e instanceof ModelBoundsError && /debt index of WETH/.test(e.message),
    );
    assert.throws(() => checkPosition(healthy, withIndices(market, [LIMIT_96 >> 32n]), policy), ModelBoundsError);
  });

  it("the market root commits to every index; an index outside [1e18, 2^64) has no root", function () {
    const edits: (bigint | undefined)[][] = [[], [E18 + 1n], [undefined, E18 + 1n], [undefined, undefined, E18 + 1n], [undefined, undefined, (1n << 64n) - 1n]];
    const roots = new Set(edits.map((indices) => marketRoot(withIndices(market, indices), LAYOUT)));
    assert.equal(roots.size, edits.length);
    for (const bad of [E18 - 1n, 1n << 64n]) {
      assert.throws(() => marketDigests(marketSignals(withIndices(market, [undefined, bad]), LAYOUT)), RangeError);
    }
  });
});

describe(`debt index: circuits (${INSTANCE}, ${BATCH})`, function () {
  this.timeout(600_000);
  let h: SolvencyHarness;
  let artifacts: InstanceArtifacts;
  let circuit: CircuitUnderTest;
  let market: Market;
  let policy: Policy;
  let healthy: Position;

  before(async function () {
    h = await SolvencyHarness.load(INSTANCE);
    ({ artifacts, circuit, market, policy, healthy } = h);
  });

  after(releaseProverThreads);

  const input = (c: SolvencyCase) => h.input(c);
  const caseOf = (position: Position, m?: Market, p?: Policy, label?: string): SolvencyCase => h.caseOf(position, m, p, label);
  const run = (c: SolvencyCase): Promise<WitnessResult> => h.run(c);
  const signal = (witness: bigint[], name: string): bigint => h.signal(witness, name);

  /** Bindings, and DebtAssets' outputs equal the model's base units (padding slots: 0). */
  function assertBound(witness: bigint[], c: SolvencyCase): void {
    h.assertBindings(witness, c);
    for (let i = 0; i < LAYOUT.nAssets; i++) {
      const expected = i < c.market.assets.length ? debtAssets(c.position.debt[i]!, c.market.assets[i]!) : 0n;
      assert.equal(signal(witness, `main.debtAssets.debtAssets[${i}]`), expected, `${c.label}: debtAssets[${i}]`);
    }
  }

  /** The model's failures are `failures` (or it refuses), and the circuit accepts exactly when the model passes. */
  async function agrees(c: SolvencyCase, failures: CheckName[] | "refused", options: { constraints?: boolean } = {}): Promise<WitnessResult> {
    const verdict = modelVerdict(c);
    if (failures === "refused") {
      assert.ok(verdict.refused && verdict.error instanceof ModelBoundsError, `${c.label}: expected the model to refuse`);
    } else {
      assert.ok(!verdict.refused, `${c.label}: the model refused: ${verdict.refused ? verdict.error.message : ""}`);
      assert.deepEqual(verdict.report.failures, failures, `${c.label}: model failures`);
    }
    const result = await run(c);
    assert.equal(result.accepted, modelAccepts(verdict), `${c.label}: ${describeCircuit(result)}, ${describeModel(verdict)}`);
    if (result.accepted) {
      assertBound(result.witness, c);
      if (options.constraints) assert.deepEqual(circuit.violated(result.witness), [], `${c.label}: violated constraints`);
    }
    return result;
  }

  describe("differential", function () {
    const SEED = 20_260_317;
    const BASE = 150;
    const rng = new Random(SEED);
    const cases: (SolvencyCase & { expect?: CheckName[] })[] = [];
    for (const c of randomCases(SEED, BASE)) {
      const indexed = {
        ...c,
        market: withIndices(
          c.market,
          c.market.assets.map(() => randomIndex(rng)),
        ),
      };
      cases.push(indexed);
      const verdict = modelVerdict(indexed);
      if (verdict.refused || !verdict.report.pass) continue;
      // A check at its limit and one unit beyond, with the debt valued through the indices.
      const variants = thresholdVariants(indexed.policy, verdict.report);
      const v = variants[cases.length % variants.length]!;
      cases.push({ ...indexed, label: `${c.label}, ${v.check} at its limit`, policy: v.atLimit, expect: [] });
      cases.push({ ...indexed, label: `${c.label}, ${v.check} one unit beyond`, policy: v.beyond, expect: [v.check] });
    }
    const verdicts = cases.map(modelVerdict);
    const passing = verdicts.filter(modelAccepts).length;
    const refused = verdicts.filter((v) => v.refused).length;

    it(`agrees on ${cases.length} cases with random indices in [1, 1.5) (${passing} pass, ${cases.length - passing - refused} fail, ${refused} refused; seed ${SEED})`, async function () {
      assert.ok(passing >= 40 && cases.length - passing - refused >= 40, "enough passing and failing cases");
      assert.ok(
        cases.some((c) => c.position.debt.some((d, i) => d > 0n && c.market.assets[i]!.debtIndex > E18)),
        "some indexed debt",
      );
      let checked = 0;
      for (const [i, c] of cases.entries()) {
        const verdict = verdicts[i]!;
        if (c.expect) assert.deepEqual(verdict.refused ? "refused" : verdict.report.failures, c.expect, `${c.label}: model`);
        const result = await run(c);
        assert.equal(result.accepted, modelAccepts(verdict), `${c.label}: ${describeCircuit(result)}, ${describeModel(verdict)}`);
        if (result.accepted) {
          assertBound(result.witness, c);
          if (checked < 4 && i % 5 === 0) {
            assert.deepEqual(circuit.violated(result.witness), [], `${c.label}: violated constraints`);
            checked++;
          }
        }
      }
      assert.ok(checked > 0);
    });

    it("position-healthy at index 1.0371... on USDC: the circuit's figures are the model's, and a real proof verifies", async function () {
      const m = withIndices(market, [E18 + 1n, 1_500_000_000_000_000_000n, INDEX]);
      const c = caseOf(healthy, m, policy, "healthy, indexed");
      await agrees(c, [], { constraints: true });
      const proof = await generateProof(input(c), artifacts);
      assert.equal(proof.publicSignals[1], marketRoot(m, LAYOUT).toString());
      assert.notEqual(proof.publicSignals[1], marketRoot(market, LAYOUT).toString());
      assert.equal(await verifyProof(artifacts.verificationKey, proof), true);
    });
  });

  describe("boundaries", function () {
    it("index exactly 1 (the default) values debt at its units: the same figures and witness values as before", async function () {
      const explicit = withIndices(market, [E18, E18, E18]);
      assert.equal(marketRoot(explicit, LAYOUT), marketRoot(market, LAYOUT));
      const result = await agrees(caseOf(healthy, explicit), [], { constraints: true });
      assert.ok(result.accepted);
      assert.deepEqual(
        [0, 1, 2].map((i) => signal(result.witness, `main.debtAssets.debtAssets[${i}]`)),
        healthy.debt,
      );
    });

    it("indexed debt at 2^96 - 1 base units agrees; one unit of debt more (2^96 after indexing, units still < 2^96) is refused by both", async function () {
      const m = withIndices(market, [(3n * E18) / 2n]);
      const d = ((LIMIT_96 - 1n) * E18) / m.assets[0]!.debtIndex;
      // The most WBTC collateral below the 2^80 q.u. value bound, against the largest indexed WETH debt.
      const satoshis = ceilDiv(LIMIT_80 * E8, m.assets[1]!.price) - 1n;
      const at = caseOf(positionOf(m, { collateral: { WBTC: satoshis }, debt: { WETH: d } }), m, policy, "indexed debt 2^96 - 1");
      const verdict = modelVerdict(at);
      assert.ok(!verdict.refused);
      await agrees(at, verdict.report.failures, { constraints: verdict.report.pass });
      assert.ok(d + 1n < LIMIT_96, "the units alone are within the commitment's range");
      const beyond = caseOf(positionOf(m, { collateral: { WBTC: satoshis }, debt: { WETH: d + 1n } }), m, policy, "indexed debt 2^96");
      const result = await agrees(beyond, "refused");
      assert.ok(!result.accepted && /DebtAssets/.test(result.error), `rejected by DebtAssets' range check: ${!result.accepted && result.error}`);
      // At index 1 the same units are far inside the bound.
      const unindexed = withIndices(m, [E18]);
      assert.ok(!modelVerdict(caseOf(beyond.position, unindexed, policy)).refused);
    });

    it("health factor exactly at the minimum passes at index 1 and fails at index 1 + 1e-18", async function () {
      // 300 USDC of debt: vd = 30,003,000,000 q.u.; HFnum = 11000 * HFden at vc_WETH = 40,004,000,000.
      const parametric = withPolicy(policy, (p) => (p.var.method = "parametric"));
      const wei = ceilDiv(40_004_000_000n * E18, market.assets[0]!.price);
      const position = positionOf(market, { collateral: { WETH: wei }, debt: { USDC: units(300n, 6) } });
      const at = caseOf(position, market, parametric, "HF at the minimum, index 1");
      assert.equal(checkPosition(at.position, market, parametric).healthFactor.margin, 0n);
      await agrees(at, [], { constraints: true });
      const accrued = withIndices(market, [undefined, undefined, E18 + 1n]);
      assert.equal(debtAssets(units(300n, 6), accrued.assets[2]!), units(300n, 6) + 1n);
      await agrees(caseOf(position, accrued, parametric, "index 1 + 1e-18"), ["healthFactor"]);
    });

    it("position-healthy passes at index 1 (and 3.2) and fails once its USDC debt has accrued 3.5x", async function () {
      // HF 3.8081 at index 1, 1.19 at 3.2, 1.088 < 1.10 at 3.5.
      await agrees(caseOf(healthy), []);
      await agrees(caseOf(healthy, withIndices(market, [undefined, undefined, (16n * E18) / 5n]), policy, "index 3.2"), [], { constraints: true });
      const result = await agrees(caseOf(healthy, withIndices(market, [undefined, undefined, (7n * E18) / 2n]), policy, "index 3.5"), ["healthFactor", "historicalVar"]);
      assert.equal(result.accepted, false);
    });

    it("an index below 1 is rejected by the circuit at the index's lower-bound range check", async function () {
      const honest = input(caseOf(healthy)) as Record<string, unknown>;
      const result = await h.fast.calculate({ ...honest, debtIndex: [E18 - 1n, E18, E18] } as never);
      assert.ok(!result.accepted && /AssetsDigest/.test(result.error), `rejected in AssetsDigest: ${!result.accepted && result.error}`);
    });
  });

  describe("forged witnesses violate the constraints", function () {
    let honest: bigint[];
    let c: SolvencyCase;

    before(async function () {
      c = caseOf(healthy, withIndices(market, [E18 + 7n, E18 + 11n, INDEX]), policy, "healthy, indexed");
      const result = await run(c);
      assert.ok(result.accepted);
      honest = result.witness;
    });

    /** Witness indices of the named signals that --O2 kept. */
    function kept(names: string[]): Set<number> {
      const found = new Set<number>();
      for (const name of names) {
        try {
          found.add(circuit.index(name));
        } catch {
          // optimised away
        }
      }
      return found;
    }
    const bitNames = (check: string, n: number): string[] => Array.from({ length: n }, (_, k) => `${check}.out[${k}]`);
    /** Every violated constraint references one of `signals`; at least one is violated. */
    function assertViolatesOnly(witness: bigint[], signals: Set<number>, what: string): void {
      const violated = circuit.violated(witness);
      assert.ok(violated.length > 0, `expected ${what} to be violated`);
      for (const i of violated) {
        const touched = circuit.r1cs.constraints[i]!.flatMap((lc) => Object.keys(lc).map(Number));
        assert.ok(
          touched.some((s) => signals.has(s)),
          `constraint ${i} is not part of ${what}`,
        );
      }
    }

    it("a DebtAssets quotient lowered by one (understated debt, the division shifted by 1e18) violates its remainder check", function () {
      const forged = [...honest];
      const q = circuit.index("main.debtAssets.debtAssets[2]");
      forged[q] = forged[q]! - 1n;
      const violated = circuit.violated(forged);
      assert.ok(violated.length > 0);
      const remainder = kept([
        "main.debtAssets.remainderRange[2].high",
        ...bitNames("main.debtAssets.remainderRange[2].low", 18),
        ...bitNames("main.debtAssets.remainderRange[2].atLeast", 42),
        ...bitNames("main.debtAssets.remainderRange[2].below", 42),
      ]);
      assert.ok(
        violated.some((i) => circuit.r1cs.constraints[i]!.some((lc) => Object.keys(lc).some((s) => remainder.has(Number(s))))),
        "the remainder check is among the violated constraints",
      );
    });

    it("a DebtAssets quotient raised by one with its remainder split kept consistent violates the remainder's upper bound", function () {
      // remainder' = remainder + 1e18 = (high + 5^18) * 2^18 + low: the low bits stand, high exceeds 5^18 - 1.
      const forged = [...honest];
      const ODD = 5n ** 18n;
      const q = circuit.index("main.debtAssets.debtAssets[2]");
      forged[q] = forged[q]! + 1n;
      const high = circuit.index("main.debtAssets.remainderRange[2].high");
      forged[high] = forged[high]! + ODD;
      const setBits = (check: string, value: bigint, n: number) => {
        for (let k = 0; k < n; k++) {
          try {
            forged[circuit.index(`${check}.out[${k}]`)] = (toField(value) >> BigInt(k)) & 1n;
          } catch {
            // optimised away
          }
        }
      };
      setBits("main.debtAssets.remainderRange[2].atLeast", forged[high]!, 42);
      setBits("main.debtAssets.remainderRange[2].below", ODD - 1n - forged[high]!, 42);
      const violated = circuit.violated(forged);
      assert.ok(violated.length > 0);
      const below = kept(bitNames("main.debtAssets.remainderRange[2].below", 42));
      assert.ok(
        violated.some((i) => circuit.r1cs.constraints[i]!.some((lc) => Object.keys(lc).some((s) => below.has(Number(s))))),
        "the remainder's upper bound is violated",
      );
    });

    it("an index aliased past 2^64 (index[0] + 2^64, index[1] - 1: the same packed word and market root) violates only the 64-bit range checks", function () {
      // Slots 0 and 1 carry no debt, so nothing downstream of the index changes.
      assert.equal(healthy.debt[0], 0n);
      assert.equal(healthy.debt[1], 0n);
      const forged = [...honest];
      const i0 = circuit.index("main.debtIndex[0]");
      const i1 = circuit.index("main.debtIndex[1]");
      forged[i0] = forged[i0]! + (1n << 64n);
      forged[i1] = forged[i1]! - 1n;
      const setBits = (check: string, value: bigint) => {
        for (let k = 0; k < 64; k++) {
          try {
            forged[circuit.index(`${check}.out[${k}]`)] = (toField(value) >> BigInt(k)) & 1n;
          } catch {
            // optimised away
          }
        }
      };
      setBits("main.assets.indices.ranges[0]", forged[i0]!);
      setBits("main.assets.indices.ranges[1]", forged[i1]!);
      setBits("main.assets.atLeastOne[0].bits", forged[i0]! - E18);
      setBits("main.assets.atLeastOne[1].bits", forged[i1]! - E18);
      assert.equal(forged[circuit.index("main.marketRoot")], honest[circuit.index("main.marketRoot")]);
      const checks = kept(["main.debtIndex[0]", ...bitNames("main.assets.indices.ranges[0]", 64), ...bitNames("main.assets.atLeastOne[0].bits", 64)]);
      assertViolatesOnly(forged, checks, "the 64-bit range checks of index 0");
    });

    it("an index aliased below 1 (index[0] - 2^64, i.e. p - (2^64 - index), index[1] + 1: same root) violates only index 0's range checks", function () {
      const forged = [...honest];
      const i0 = circuit.index("main.debtIndex[0]");
      const i1 = circuit.index("main.debtIndex[1]");
      forged[i0] = toField(forged[i0]! - (1n << 64n));
      forged[i1] = forged[i1]! + 1n;
      assert.ok(forged[i0]! > SNARK_FIELD - (1n << 64n));
      for (const [check, value] of [
        ["main.assets.indices.ranges[0]", forged[i0]!],
        ["main.assets.indices.ranges[1]", forged[i1]!],
        ["main.assets.atLeastOne[0].bits", forged[i0]! - E18],
        ["main.assets.atLeastOne[1].bits", forged[i1]! - E18],
      ] as const) {
        for (let k = 0; k < 64; k++) {
          try {
            forged[circuit.index(`${check}.out[${k}]`)] = (toField(value) >> BigInt(k)) & 1n;
          } catch {
            // optimised away
          }
        }
      }
      const checks = kept(["main.debtIndex[0]", ...bitNames("main.assets.indices.ranges[0]", 64), ...bitNames("main.assets.atLeastOne[0].bits", 64)]);
      assertViolatesOnly(forged, checks, "the range checks of index 0");
    });
  });

  describe("audit batch", function () {
    const address = (n: number): string => `0x${n.toString(16).padStart(40, "0")}`;

    it("AuditBatch values debt through the index: its subtree equals the model's on indexed markets", async function () {
      const batch = await FastWitness.load(loadInstanceArtifacts(BATCH));
      const batchCircuit = await CircuitUnderTest.load(BATCH);
      const output = (witness: bigint[], name: string) => witness[batchCircuit.index(`main.${name}`)]!;
      const atRisk = loadPosition("position-at-risk.json", market);
      const rng = new Random(4242);
      const digests = new Set<bigint>();
      for (let b = 0; b < 12; b++) {
        const m = withIndices(
          market,
          market.assets.map(() => randomIndex(rng)),
        );
        const pair = [
          { ...healthy, account: address(100 + 2 * b), salt: BigInt(b + 1) },
          { ...atRisk, account: address(101 + 2 * b), salt: BigInt(b + 100) },
        ];
        const members: BatchMember[] = pair.map((position, i) => ({ position, fails: checkPosition(position, m, policy).pass ? 0n : 1n, source: `position ${i}` }));
        const result = await batch.calculate(auditBatchInput(members, m, policy, LAYOUT, 2));
        assert.ok(result.accepted, `batch ${b}: ${!result.accepted && result.error}`);
        const expected = buildSumTree(
          pair.map((p) => accountFigures(p, m, policy, LAYOUT).leaf),
          LAYOUT,
          1,
        ).root;
        assert.equal(output(result.witness, "hash"), expected.hash, `batch ${b}: subtree hash`);
        assert.equal(output(result.witness, "digest"), figuresDigest(expected.sums), `batch ${b}: sums`);
        assert.equal(output(result.witness, "marketRoot"), marketRoot(m, LAYOUT));
        digests.add(figuresDigest(expected.sums));
        if (b === 0) assert.deepEqual(batchCircuit.violated(result.witness), []);
      }
      assert.ok(digests.size > 1, "the figures follow the indices");
      // The total debt follows the index: USDC at 2x doubles the healthy position's debt figure.
      const doubled = withIndices(market, [undefined, undefined, 2n * E18]);
      const before = accountFigures({ ...healthy, salt: 1n }, market, policy, LAYOUT).leaf.figures.debt;
      const after = accountFigures({ ...healthy, salt: 1n }, doubled, policy, LAYOUT).leaf.figures.debt;
      const vd = checkPosition(healthy, market, policy).values.debt[2]!;
      assert.ok(after - before >= (vd - 1n) * E8 && after - before <= (vd + 1n) * E8);
      // A failing position counted as passing under the index is refused.
      const stressed = withIndices(market, [undefined, undefined, (7n * E18) / 2n]);
      assert.equal(checkPosition(healthy, stressed, policy).pass, false);
      const lying = auditBatchInput([{ position: { ...healthy, account: address(7), salt: 3n }, fails: 0n, source: "healthy at 3.5" }], stressed, policy, LAYOUT, 2);
      assert.equal((await batch.calculate(lying)).accepted, false);
    });
  });
});
