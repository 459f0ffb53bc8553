/**
 * The audit's crowding proof (docs/audit.md, "Crowding"): the rule in the TypeScript model
 * (passing positions, the boundary at the trigger, the underwater cap, netting of debt in the sold
 * asset, rounding), the liquidity file, the circuit against the model on random positions, forged
 * witnesses (an understated figure, a rho too small, a beta too large), the root's bound, and the
 * whole audit with real proofs through the CLI: proven, crowded (named, exit 1), and verified
 * against a swapped liquidity file and a root proven against other bounds (named, exit 1). The
 * plain audit's instances are unchanged.
 */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import fc from "fast-check";
import { auditBatchInput, type BatchMember } from "../packages/sdk/src/audit/batch-input.ts";
import { parseAuditReport, auditReportJson } from "../packages/sdk/src/audit/audit-files.ts";
import { CROWD_ONE, crowdingFigures, crowdingStatements, priceFactors, restoreShares } from "../packages/sdk/src/audit/crowding.ts";
import { accountFigures } from "../packages/sdk/src/audit/figures.ts";
import { constantProductDepth, parseLiquidityFile, type LiquidityFile } from "../packages/sdk/src/audit/liquidity.ts";
import { auditMergeInput } from "../packages/sdk/src/audit/merge-input.ts";
import { emptySubtree } from "../packages/sdk/src/audit/empty-subtree.ts";
import { buildSumTree, figuresDigest, leafHash, type AuditFigures } from "../packages/sdk/src/audit/merkle-sum-tree.ts";
import { syntheticBook } from "../packages/sdk/src/audit/synthetic-book.ts";
import { SNARK_FIELD } from "../packages/sdk/src/core/field.ts";
import { RATE_SCALE } from "../packages/sdk/src/core/fixed-point.ts";
import { positionToJson } from "../packages/sdk/src/inputs/position-file.ts";
import type { Market, Policy, Position } from "../packages/sdk/src/inputs/types.ts";
import { checkPosition } from "../packages/sdk/src/model/check.ts";
import { generateProof } from "../packages/sdk/src/prover/prove.ts";
import { releaseProverThreads } from "../packages/sdk/src/prover/release.ts";
import { loadInstanceArtifacts } from "../packages/node/src/artifacts.ts";
import { readBook } from "../packages/node/src/audit/read-book.ts";
import { auditProofInput, CROWDING_AUDIT_INSTANCES, prepareAudit } from "../packages/node/src/audit/run-audit.ts";
import { readManifest } from "../packages/node/src/setup/manifest.ts";
import { defaultBuildPaths, instanceDir } from "../packages/node/src/setup/paths.ts";
import { CircuitUnderTest } from "./helpers/circuit.ts";
import { assertOneLineError, zks } from "./helpers/cli.ts";
import { example, loadMarket, loadPolicy, loadPosition } from "./helpers/examples.ts";
import { Random, randomMarket, randomPolicy, randomPosition } from "./helpers/model-fixtures.ts";
import { FastWitness } from "./helpers/solvency-witness.ts";

const { batch: BATCH, top: TOP } = CROWDING_AUDIT_INSTANCES.test;
const LAYOUT = { nAssets: 3, nInstruments: 3, nScenarios: 16, crowding: true };
/** Words of a 3x3x16 leaf before its crowding words. */
const PLAIN = 31;
const address = (n: number): string => `0x${n.toString(16).padStart(40, "0")}`;
const withAccount = (position: Position, n: number, salt: bigint): Position => ({ ...position, account: address(n), salt });
const members = (positions: Position[], market: Market, policy: Policy): BatchMember[] =>
  positions.map((position, i) => ({ position, fails: checkPosition(position, market, policy).pass ? 0n : 1n, source: `position ${i}` }));

const ceilDiv = (a: bigint, b: bigint) => (a + b - 1n) / b;
const liquidityBytes = (assets: Record<string, unknown>, epoch = 42) => new TextEncoder().encode(JSON.stringify({ kind: "zks-liquidity", version: 1, epoch, assets }, null, 2));
/** Bounds the book of the end-to-end tests stays within: two pools and a stated USDC figure. */
const GENEROUS = {
  WETH: { bound: "1000000", source: { kind: "constant-product", venue: "WETH/USD pool", quoteReserve: "60000000", priceImpact: "0.05" } },
  WBTC: { bound: "500000", source: { kind: "constant-product", venue: "WBTC/USD pool", quoteReserve: "40000000", priceImpact: "0.05" } },
  USDC: { bound: "250000", source: { kind: "stated", note: "USDC/USD order books, 0.1% from mid" } },
};

describe("audit crowding", function () {
  this.timeout(600_000);
  const market = loadMarket();
  const policy = loadPolicy(market);
  const healthy = loadPosition("position-healthy.json", market);
  const atRisk = loadPosition("position-at-risk.json", market);

  describe("the rule (reference model)", function () {
    const G = RATE_SCALE; // a scenario that moves no price
    const shares = (collateralValue: bigint[], debtValue: bigint[], threshold: bigint[], trigger = 12_500n, factor = [G, G, G]) =>
      restoreShares({ collateralValue, debtValue, threshold, trigger, factor });

    it("a position that stays at or above the trigger sells nothing: the healthy example in every scenario", function () {
      const { leaf } = accountFigures(healthy, market, policy, LAYOUT);
      assert.deepEqual(
        leaf.figures.crowding,
        Array.from({ length: 16 }, () => [0n, 0n, 0n]),
      );
      // The at-risk example is below the trigger already (1.19 < 1.25), so it sells even when prices do not move.
      const risky = accountFigures(atRisk, market, policy, LAYOUT).leaf.figures.crowding!;
      assert.ok(
        risky[6]!.some((v) => v > 0n),
        "at-risk sells in the no-move scenario",
      );
      assert.ok(
        risky[12]!.every((v) => v === 0n),
        "and nothing once prices rise 15/12%",
      );
    });

    it("the boundary: at exactly h nothing is sold; one unit of debt more and rho is the least that restores h", function () {
      // LT * vc = 0.8 * 125 = 1.25 * 80 = h * vd.
      const at = shares([125n, 0n, 0n], [0n, 80n, 0n], [8_000n, 0n, 0n]);
      assert.equal(at.shortfall, 0n);
      assert.equal(at.rho, 0n);
      assert.deepEqual(at.crowding, [0n, 0n, 0n]);
      const below = shares([125n, 0n, 0n], [0n, 81n, 0n], [8_000n, 0n, 0n]);
      // shortfall = (1.25 * 81 - 100) * 1e8 * 1e4, room = (1.25 * 125 - 100) * 1e8 * 1e4: rho = ceil(1.25 / 56.25 * 2^20).
      assert.equal(below.rho, ceilDiv(12_500n * CROWD_ONE, 562_500n));
      assert.equal(below.rho, 23_302n);
      // Selling x = rho * C and repaying it leaves the health factor at h (rounding only above).
      const x = (below.rho * 125n * G) / CROWD_ONE;
      assert.ok(8_000n * (125n * G - x) >= 12_500n * (81n * G - x));
    });

    it("underwater (or no sale can restore h): everything is sold, the repayment is capped at the sale", function () {
      const under = shares([100n, 0n, 0n], [0n, 200n, 0n], [8_000n, 0n, 0n]);
      assert.equal(under.rho, CROWD_ONE);
      assert.equal(under.beta, CROWD_ONE / 2n, "x = C repays half the debt");
      assert.deepEqual(under.crowding, [100n * G, 0n, 0n], "all the collateral, at the scenario's price");
      // A trigger below the threshold: selling does not raise the health factor (h C - A <= 0).
      const hopeless = shares([100n, 0n, 0n], [0n, 200n, 0n], [8_000n, 0n, 0n], 7_000n);
      assert.ok(hopeless.room < 0n);
      assert.equal(hopeless.rho, CROWD_ONE);
    });

    it("debt in the sold asset nets against its sale; a position buying an asset to repay counts 0, not a negative", function () {
      // Collateral 1000 A0 + 500 A1, debt 1000 A0 (LT 0.8, h 1.25): x = rho * 1500 is all repaid in A0.
      const owed = shares([1_000n, 500n, 0n], [1_000n, 0n, 0n], [8_000n, 8_000n, 0n]);
      assert.ok(owed.rho > 0n && owed.rho < CROWD_ONE);
      assert.equal(owed.crowding[0], 0n, "A0: sells 1/3 of x but buys all of it back to repay");
      assert.equal(owed.crowding[1], ceilDiv(500n * G * owed.rho, CROWD_ONE));
      // Debt split: A0's repayment nets part of its sale.
      const split = shares([1_000n, 500n, 0n], [300n, 0n, 700n], [8_000n, 8_000n, 0n]);
      const sale0 = ceilDiv(1_000n * G * split.rho, CROWD_ONE);
      assert.ok(split.crowding[0]! > 0n && split.crowding[0]! < sale0, `netted ${split.crowding[0]} < sold ${sale0}`);
      assert.equal(split.crowding[0], ceilDiv(1_000n * G * split.rho - 300n * G * split.beta, CROWD_ONE));
      assert.equal(split.crowding[2], 0n, "the debt-only asset is bought, never sold");
    });

    it("rounds against the protocol: rho the least that restores h (up), beta the most (down, at most 1), figures up", function () {
      fc.assert(
        fc.property(
          fc.array(fc.bigInt({ min: 0n, max: (1n << 80n) - 1n }), { minLength: 3, maxLength: 3 }),
          fc.array(fc.bigInt({ min: 0n, max: (1n << 80n) - 1n }), { minLength: 3, maxLength: 3 }),
          fc.array(fc.bigInt({ min: 0n, max: 10_000n }), { minLength: 3, maxLength: 3 }),
          fc.bigInt({ min: 1n, max: 1_000_000n }),
          fc.array(fc.bigInt({ min: 0n, max: (1n << 31n) + RATE_SCALE - 1n }), { minLength: 3, maxLength: 3 }),
          (vc, vd, lt, trigger, factor) => {
            const s = restoreShares({ collateralValue: vc, debtValue: vd, threshold: lt, trigger, factor });
            const scaled = s.shortfall * CROWD_ONE;
            assert.ok(s.rho >= 0n && s.rho <= CROWD_ONE && s.beta >= 0n && s.beta <= CROWD_ONE);
            if (s.shortfall <= 0n) assert.equal(s.rho, 0n);
            else if (s.rho < CROWD_ONE) {
              assert.ok(s.rho * s.room >= scaled, "rho restores h");
              assert.ok((s.rho - 1n) * s.room < scaled, "and is the least that does");
            } else assert.ok((CROWD_ONE - 1n) * s.room < scaled || s.room <= 0n, "everything is sold only when less does not restore h");
            const C = s.collateral.reduce((a, b) => a + b, 0n);
            const D = s.debt.reduce((a, b) => a + b, 0n);
            assert.ok(s.beta * D <= s.rho * C, "no more repaid than sold");
            if (s.beta < CROWD_ONE && D > 0n) assert.ok((s.beta + 1n) * D > s.rho * C, "beta is the most that is");
            s.crowding.forEach((n, i) => {
              const net = s.collateral[i]! * s.rho - s.debt[i]! * s.beta;
              assert.equal(n, net > 0n ? ceilDiv(net, CROWD_ONE) : 0n);
              assert.ok(n < 1n << 112n);
            });
          },
        ),
        { numRuns: 400, seed: 2121 },
      );
    });

    it("prices fall no lower than 0, and padding scenarios ask nothing", function () {
      const crash: Market = { ...market, scenarios: [{ ...market.scenarios[0]!, name: "crash", assetReturns: [-150_000_000n, -100_000_000n, 0n] }] };
      const factors = priceFactors(crash, LAYOUT);
      assert.deepEqual(factors[0], [0n, 0n, RATE_SCALE]);
      assert.deepEqual(factors[1], [0n, 0n, 0n]);
      const figures = crowdingFigures(checkPosition(atRisk, crash, policy).values, crash, policy, LAYOUT);
      // Collateral worth 0 cannot be sold; the rest of the slots are padding.
      assert.deepEqual(figures.flat(), Array<bigint>(48).fill(0n));
    });
  });

  describe("the liquidity file", function () {
    it("reads bounds in quote units, one per asset, hashed as read; checks a constant-product bound against the pool's depth", function () {
      const bytes = liquidityBytes(GENEROUS);
      const file = parseLiquidityFile(bytes, "liquidity.json", market);
      assert.deepEqual(file.bounds, [1_000_000n * 10n ** 8n, 500_000n * 10n ** 8n, 250_000n * 10n ** 8n]);
      assert.match(file.sha256, /^0x[0-9a-f]{64}$/);
      // depth = Y sqrt(g) (1 / sqrt(1 - p) - 1) at the worst scenario price (WETH -30%).
      const depth = constantProductDepth(60_000_000n * 10n ** 8n, 50_000n, 70_000_000n);
      const exact = 60e6 * Math.sqrt(0.7) * (1 / Math.sqrt(0.95) - 1);
      assert.ok(Math.abs(Number(depth) / 1e8 - exact) < 1e-3, `${depth} vs ${exact}`);
      const over = liquidityBytes({ ...GENEROUS, WETH: { ...GENEROUS.WETH, bound: "1400000" } });
      assert.throws(
        () => parseLiquidityFile(over, "liquidity.json", market),
        /liquidity\.json: assets\.WETH\.bound: 1,400,000\.00 USD is above the pool's depth to a 5\.00% price impact at the worst scenario price \(-30\.00% in "extreme down"\): 1,304,102\.92 USD; publish at most that/,
      );
    });

    it("refuses a file of another epoch, a missing or unknown asset, a bound too precise or too large (file and field named)", function () {
      const refuse = (bytes: Uint8Array, pattern: RegExp) => assert.throws(() => parseLiquidityFile(bytes, "liquidity.json", market), pattern);
      refuse(liquidityBytes(GENEROUS, 41), /liquidity\.json: epoch: 41, but the market is epoch 42/);
      const { USDC: _, ...noUsdc } = GENEROUS;
      refuse(liquidityBytes(noUsdc), /liquidity\.json: assets\.USDC: missing: every asset of the market needs a bound/);
      refuse(liquidityBytes({ ...GENEROUS, DAI: GENEROUS.USDC }), /liquidity\.json: assets\.DAI: not an asset of the market/);
      refuse(liquidityBytes({ ...GENEROUS, USDC: { ...GENEROUS.USDC, bound: "1.000000001" } }), /assets\.USDC\.bound: "1\.000000001" has 9 decimal places; at most 8/);
      refuse(liquidityBytes({ ...GENEROUS, USDC: { ...GENEROUS.USDC, bound: "800000000000000000000" } }), /assets\.USDC\.bound: .* is not below 2\^96 quote base units/);
      refuse(liquidityBytes({ ...GENEROUS, USDC: { bound: "1", source: { kind: "guess" } } }), /liquidity\.json: assets\.USDC\.source\.kind/);
      refuse(new TextEncoder().encode("{"), /liquidity\.json: not a JSON file/);
    });
  });

  describe("the circuit (audit-batch-3x3x16x2c) against the model", function () {
    let batch: FastWitness;
    let circuit: CircuitUnderTest;
    before(async function () {
      batch = await FastWitness.load(loadInstanceArtifacts(BATCH));
      circuit = await CircuitUnderTest.load(BATCH);
    });
    const at = (witness: bigint[], name: string) => witness[circuit.index(`main.${name}`)]!;
    const leafCrowding = (witness: bigint[], s: number) =>
      Array.from({ length: 16 }, (_, j) => Array.from({ length: 3 }, (_, i) => at(witness, `leaves[${s}].figures[${PLAIN + j * 3 + i}]`)));

    it("computes the model's figures for the examples; the leaves hash their plain figures only", async function () {
      const pair = [withAccount(healthy, 10, 1n), withAccount(atRisk, 11, 2n)];
      const result = await batch.calculate(auditBatchInput(members(pair, market, policy), market, policy, LAYOUT, 2));
      assert.ok(result.accepted, !result.accepted ? result.error : "");
      const leaves = pair.map((p) => accountFigures(p, market, policy, LAYOUT).leaf);
      leaves.forEach((leaf, s) => {
        assert.deepEqual(leafCrowding(result.witness, s), leaf.figures.crowding);
        // The leaf's hash is the plain audit's: an owner's inclusion check is the same with crowding.
        const plain = accountFigures(pair[s]!, market, policy, { ...LAYOUT, crowding: false }).leaf;
        assert.equal(at(result.witness, `leaves[${s}].hash`), leafHash(plain));
      });
      const tree = buildSumTree(leaves, LAYOUT, 1);
      assert.equal(at(result.witness, "hash"), tree.root.hash);
      assert.equal(at(result.witness, "digest"), figuresDigest(tree.root.sums));
      assert.ok(circuit.violated(result.witness).length === 0);
    });

    it("agrees with the model on random positions, markets (returns below -100% included), thresholds and triggers", async function () {
      let cases = 0;
      let selling = 0;
      await fc.assert(
        fc.asyncProperty(fc.integer({ min: 1, max: 2 ** 31 }), fc.integer({ min: 1, max: 1_000_000 }), async (seed, trigger) => {
          const rng = new Random(seed);
          const m = randomMarket(rng);
          if (m.assets.length > 3 || m.instruments.length > 3 || m.scenarios.length > 16) return;
          const p = { ...randomPolicy(rng, m), trigger: { healthFactor: BigInt(trigger) } };
          const pair = [withAccount(randomPosition(rng, m), 5, 7n), withAccount(randomPosition(rng, m), 6, 8n)];
          try {
            pair.forEach((position) => checkPosition(position, m, p));
          } catch {
            return; // outside the bounds the circuits prove (the model refuses it; tested elsewhere)
          }
          const result = await batch.calculate(auditBatchInput(members(pair, m, p), m, p, LAYOUT, 2));
          assert.ok(result.accepted, !result.accepted ? result.error : "");
          pair.forEach((position, s) => {
            const expected = accountFigures(position, m, p, LAYOUT).leaf.figures.crowding!;
            assert.deepEqual(leafCrowding(result.witness, s), expected, `seed ${seed}, trigger ${trigger}, slot ${s}`);
            if (expected.flat().some((v) => v > 0n)) selling++;
          });
          cases++;
        }),
        { numRuns: 24, seed: 2121 },
      );
      assert.ok(cases >= 6 && selling >= 3, `${cases} batches, ${selling} selling positions: too few to compare`);
    });

    describe("forged witnesses", function () {
      let honest: bigint[];
      const pair = () => [withAccount(atRisk, 10, 1n), withAccount(healthy, 11, 2n)];
      // The at-risk position in the no-move scenario 6: below the trigger, 0 < rho < 1.
      const J = 6;
      const leaf = (name: string) => `main.leaves[0].crowd[0].${name}`;
      before(async function () {
        const result = await batch.calculate(auditBatchInput(members(pair(), market, policy), market, policy, LAYOUT, 2));
        assert.ok(result.accepted);
        honest = result.witness;
        assert.deepEqual(circuit.violated(honest), []);
        const rho = honest[circuit.index(leaf(`rhoLow[${J}]`))]!;
        assert.ok(rho > 0n && rho < CROWD_ONE, `rho ${rho}`);
      });
      const forge = (edits: Record<string, bigint>) => {
        const forged = [...honest];
        for (const [name, value] of Object.entries(edits)) forged[circuit.index(name)] = ((value % SNARK_FIELD) + SNARK_FIELD) % SNARK_FIELD;
        return forged;
      };
      // A range check's bits (--O2 folds one bit of each into the sum it checks: that one is not in the witness).
      const bits = (name: string, value: bigint, n: number): Record<string, bigint> =>
        Object.fromEntries(
          Array.from({ length: n }, (_, b): [string, bigint] => [`${name}.out[${b}]`, (value >> BigInt(b)) & 1n]).filter(([signal]) => {
            try {
              circuit.index(signal);
              return true;
            } catch {
              return false;
            }
          }),
        );

      it("a leaf's crowding figure understated by one unit violates the constraints", function () {
        for (const word of [PLAIN + J * 3, PLAIN + J * 3 + 1]) {
          const name = `main.leaves[0].figures[${word}]`;
          assert.ok(honest[circuit.index(name)]! > 0n);
          assert.ok(circuit.violated(forge({ [name]: honest[circuit.index(name)]! - 1n })).length > 0, `${name} lowered, yet every constraint holds`);
        }
      });

      it("a rho one below the least that restores h (its bits and products recomputed) leaves its check negative: no bits can satisfy it", function () {
        const value = (name: string) => honest[circuit.index(leaf(name))]!;
        const rho = value(`rhoLow[${J}]`) - 1n;
        const room = value(`triggerCollateral[${J}]`) - [0, 1, 2].reduce((a, i) => a + value(`movedWeighted[${J}][${i}]`), 0n);
        const shortfall = value(`triggerDebt[${J}]`) - [0, 1, 2].reduce((a, i) => a + value(`movedWeighted[${J}][${i}]`), 0n);
        const restores = rho * room - shortfall * CROWD_ONE;
        assert.ok(restores < 0n, "one less does not restore h");
        // As a field element the check's input is p - |restores|, far above its 134-bit range.
        assert.ok(SNARK_FIELD + restores >= 1n << 134n);
        const forged = forge({
          [leaf(`rhoLow[${J}]`)]: rho,
          ...bits(leaf(`rhoBits[${J}]`), rho, 20),
          [leaf(`rhoTimesRoom[${J}]`)]: rho * room,
          [leaf(`restores[${J}]`)]: restores,
          ...bits(leaf(`rhoCheck[${J}].bits`), SNARK_FIELD + restores, 134),
        });
        assert.ok(circuit.violated(forged).length > 0);
      });

      it("a beta one above the most the sale pays for violates the repayment check", function () {
        const value = (name: string) => honest[circuit.index(leaf(name))]!;
        const beta = value(`betaLow[${J}]`) + 1n;
        const debt = [0, 1, 2].reduce((a, i) => a + value(`movedDebt[${J}][${i}]`), 0n);
        const margin = value(`sold[${J}]`) - beta * debt;
        assert.ok(margin < 0n, "beta + 1 would repay more than was sold");
        const forged = forge({ [leaf(`betaLow[${J}]`)]: beta, ...bits(leaf(`betaBits[${J}]`), beta, 20), [leaf(`repaid[${J}]`)]: beta * debt });
        assert.ok(circuit.violated(forged).length > 0);
      });
    });
  });

  describe("the root (audit-top-3x3x16x2c)", function () {
    it("proves the crowding sums within the liquidity inputs, to the unit, and refuses one unit less or a bound of 2^96", async function () {
      const top = await FastWitness.load(loadInstanceArtifacts(TOP));
      // The healthy position's equity covers the at-risk one's losses: the aggregate statements hold.
      const pair = [withAccount(healthy, 10, 1n), withAccount(atRisk, 11, 2n)];
      const leaves = pair.map((p) => accountFigures(p, market, policy, LAYOUT).leaf);
      const child = (node: { hash: bigint; sums: AuditFigures }, first: bigint, last: bigint) => ({ node, firstAccount: first, lastAccount: last });
      const batchTree = buildSumTree(leaves, LAYOUT, 1);
      const children = [child(batchTree.root, 10n, 11n), child(emptySubtree(1, LAYOUT), 0n, 0n)];
      // The least bounds that hold: each asset's largest sum over the scenarios, rounded up to a quote unit.
      const sums = batchTree.root.sums.crowding!;
      const least = [0, 1, 2].map((i) =>
        ceilDiv(
          sums.reduce((m, row) => (row[i]! > m ? row[i]! : m), 0n),
          RATE_SCALE,
        ),
      );
      assert.ok(least[0]! > 0n && least[1]! > 0n && least[2] === 0n);
      const ok = await top.calculate(auditMergeInput(children, least));
      assert.ok(ok.accepted, !ok.accepted ? ok.error : "");
      assert.ok(crowdingStatements(batchTree.root.sums, least).holds);
      const tight = await top.calculate(auditMergeInput(children, [least[0]! - 1n, least[1]!, least[2]!]));
      assert.equal(tight.accepted, false, "one quote unit below the WETH sales");
      const statements = crowdingStatements(batchTree.root.sums, [least[0]! - 1n, least[1]!, least[2]!]);
      assert.equal(statements.holds, false);
      assert.deepEqual(
        statements.crowded.map((p) => [p.scenario, p.asset]),
        [[14, 0]],
        "only the extreme-down scenario's WETH is crowded",
      );
      const huge = await top.calculate(auditMergeInput(children, [1n << 96n, least[1]!, least[2]!]));
      assert.equal(huge.accepted, false, "a bound of 2^96 is out of range");
    });
  });

  describe("end to end (real proofs, the CLI)", function () {
    let dir: string;
    const common = ["--market", example("market-grid.json"), "--policy", example("policy.json")];
    // 3 positions: 2 crowding batches, one root. At least one at-risk position, so something is sold.
    const book = syntheticBook(healthy, atRisk, { count: 3, seed: 8, atRiskShare: 0.6 });
    const file = (name: string) => path.join(dir, name);

    before(function () {
      assert.equal(book.filter((p) => !checkPosition(p, market, policy).pass).length, 1, "one at-risk position among healthy ones");
      dir = mkdtempSync(path.join(tmpdir(), "zks-crowding-"));
      writeFileSync(file("book.jsonl"), `${book.map((p) => JSON.stringify(positionToJson(p, market))).join("\n")}\n`);
      writeFileSync(file("liquidity.json"), liquidityBytes(GENEROUS));
      writeFileSync(file("thin.json"), liquidityBytes({ ...GENEROUS, WETH: { bound: "0", source: { kind: "stated", note: "a thin market" } } }));
    });
    after(async function () {
      if (dir) rmSync(dir, { recursive: true, force: true });
      await releaseProverThreads();
    });

    it("zks audit --crowding proves the book within the liquidity bounds; verify checks the proofs and the file", function () {
      const run = zks(
        "audit",
        "--positions",
        file("book.jsonl"),
        ...common,
        "--out",
        file("out"),
        "--tier",
        "test",
        "--crowding",
        "--liquidity",
        file("liquidity.json"),
        "--workers",
        "2",
      );
      assert.equal(run.code, 0, run.stderr);
      assert.match(run.stdout, /PROVEN: audit of epoch 42, 3 positions/);
      assert.match(
        run.stdout,
        /crowding {10}every scenario's forced sales within the liquidity bounds \(tightest "extreme down" (WETH|WBTC): [\d,.]+ USD of [\d,.]+ USD \([\d.]+%\)\); bounds of .*liquidity\.json \(sha256 0x[0-9a-f]{64}\)/,
      );
      const report = parseAuditReport(JSON.parse(readFileSync(file("out/audit.json"), "utf8")), "audit.json");
      assert.equal(report.layout.crowding, true);
      assert.deepEqual(report.crowding!.liquidity.bounds, parseLiquidityFile(readFileSync(file("liquidity.json")), "l", market).bounds);
      // The published totals are the model's.
      const expected = book.map((p) => accountFigures(p, market, policy, LAYOUT).leaf.figures.crowding!);
      assert.deepEqual(
        report.root.sums.crowding,
        expected.reduce((a, b) => a.map((row, j) => row.map((v, i) => v + b[j]![i]!))),
      );
      const verify = zks("audit", "verify", "--audit", file("out"), ...common, "--liquidity", file("liquidity.json"));
      assert.equal(verify.code, 0, verify.stdout + verify.stderr);
      assert.match(verify.stdout, /VALID: audit of epoch 42: 3 positions/);
      assert.match(verify.stdout, /crowding: every scenario's forced sales within the liquidity bounds .*; bounds of .*liquidity\.json, the file proven against/);
    });

    it("a liquidity file swapped after proving, and a root proven against lower bounds than audit.json's, are INVALID (exit 1, named)", async function () {
      // Swapped: the same bounds, another note: another SHA-256.
      writeFileSync(file("swapped.json"), liquidityBytes({ ...GENEROUS, USDC: { ...GENEROUS.USDC, note: "another venue" } }));
      const swapped = zks("audit", "verify", "--audit", file("out"), ...common, "--liquidity", file("swapped.json"));
      assert.equal(swapped.code, 1, swapped.stdout + swapped.stderr);
      assert.match(
        swapped.stdout,
        /^INVALID: .*swapped\.json is not the liquidity file the audit was proven against \(its SHA-256 is 0x[0-9a-f]{64}; audit\.json records 0x[0-9a-f]{64}\)\n$/,
      );

      // A root proven against other (lower, still holding) bounds, put in place of the real one.
      const entries = readBook(file("book.jsonl"), market);
      const real = parseLiquidityFile(readFileSync(file("liquidity.json")), "liquidity.json", market);
      const lower: LiquidityFile = { ...real, bounds: [real.bounds[0]! / 2n, real.bounds[1]!, real.bounds[2]!] };
      const prepared = prepareAudit(entries, market, policy, { instances: CROWDING_AUDIT_INSTANCES.test, liquidity: lower });
      const rootLevel = prepared.shape.proofsPerLevel.length - 1;
      const { proof, publicSignals } = await generateProof(auditProofInput(prepared, rootLevel, 0), loadInstanceArtifacts(TOP));
      const json = JSON.parse(readFileSync(file("out/audit.json"), "utf8"));
      json.proofs[rootLevel] = [{ proof, publicSignals }];
      writeFileSync(file("forged-root.json"), JSON.stringify(json));
      const forged = zks("audit", "verify", "--audit", file("forged-root.json"), ...common);
      assert.equal(forged.code, 1, forged.stdout + forged.stderr);
      assert.match(
        forged.stdout,
        /^INVALID: the root proof's liquidity bound for WETH is 50000000000000, not the 100000000000000 audit\.json records: the crowding was proven against other bounds\n$/,
      );
      // The same, with audit.json's recorded bounds edited to the forged root's: the file no longer matches.
      const edited = parseAuditReport(json, "forged");
      edited.crowding = { liquidity: { ...edited.crowding!.liquidity, bounds: lower.bounds } };
      writeFileSync(
        file("edited.json"),
        JSON.stringify(auditReportJson(edited), (_k, v) => (typeof v === "bigint" ? v.toString() : v)),
      );
      const mismatch = zks("audit", "verify", "--audit", file("edited.json"), ...common, "--liquidity", file("liquidity.json"));
      assert.equal(mismatch.code, 1, mismatch.stdout + mismatch.stderr);
      assert.match(mismatch.stdout, /^INVALID: .*liquidity\.json: the bound for WETH is 100000000000000, but audit\.json records 50000000000000\n$/);
    });

    it("a crowded book is refused before any proof, naming each scenario and asset with the amount (exit 1)", function () {
      const run = zks("audit", "--positions", file("book.jsonl"), ...common, "--out", file("crowded"), "--tier", "test", "--crowding", "--liquidity", file("thin.json"));
      assert.equal(run.code, 1, run.stderr);
      // WETH is sold in every scenario but the three highest price moves and "extreme up": 11 pairs, each named.
      // Progress lines come first (stderr is no terminal here); the verdict is the last line.
      const line = run.stderr.trimEnd().split("\n").at(-1)!;
      assert.match(
        line,
        /^zks audit: crowded, so no audit proof exists: in 11 scenario and asset pair\(s\) the positions would sell more than .*thin\.json allows: "price -3\/3 range, vol up" WETH: [\d,.]+ USD of 0\.00 USD;/,
      );
      assert.match(line, /; "extreme down" WETH: [\d,.]+ USD of 0\.00 USD$/);
      assert.doesNotMatch(run.stderr, /\bat .+:\d+:\d+/, "no stack trace");
      assert.doesNotMatch(run.stderr, /WBTC|USDC/, "only WETH is over its bound");
      assert.equal(run.stdout, "");
    });

    it("bad flags: --crowding without --liquidity, --liquidity alone, with --queue, a bad liquidity file (exit 2, one line)", function () {
      const base = ["audit", "--positions", file("book.jsonl"), ...common, "--out", file("x"), "--tier", "test"];
      const cases: [string[], RegExp][] = [
        [["--crowding"], /^zks: --liquidity: missing: --crowding proves the crowding within a liquidity file's bounds$/],
        [["--liquidity", file("liquidity.json")], /^zks: --liquidity: needs --crowding$/],
        [["--crowding", "--liquidity", file("liquidity.json"), "--queue", "redis://127.0.0.1:1"], /^zks: --crowding: not with --queue yet/],
        [["--crowding", "--liquidity", file("missing.json")], /missing\.json: not found$/],
      ];
      for (const [flags, pattern] of cases) {
        const run = zks(...base, ...flags);
        assert.equal(run.code, 2, `${flags.join(" ")}: ${run.stderr}`);
        assertOneLineError(run, pattern);
      }
    });
  });

  it("leaves the plain audit as it was: the same constraints and public signals for every plain instance", function () {
    // Measured before crowding existed (docs/audit.md, "Cost per position"); the R1CS files are byte-identical.
    const expected: Record<string, [number, number]> = {
      "audit-batch-3x3x16x2": [36_011, 10],
      "audit-merge-3x3x16x2": [4_198, 14],
      "audit-top-3x3x16x2": [6_918, 14],
      "audit-batch-3x3x16x4": [65_121, 12],
      "audit-merge-3x3x16x8": [21_586, 38],
      "audit-top-3x3x16x8": [24_306, 38],
    };
    for (const [name, [constraints, publics]] of Object.entries(expected)) {
      const manifest = readManifest(instanceDir(defaultBuildPaths(), name));
      assert.ok(manifest, `${name} is not built (zks setup --instance ${name})`);
      assert.equal(manifest.nConstraints, constraints, name);
      assert.equal(manifest.nPublic, publics, name);
    }
    const crowding = readManifest(instanceDir(defaultBuildPaths(), BATCH))!;
    assert.ok(crowding.nConstraints < 1 << 16, `${BATCH}: ${crowding.nConstraints} constraints must fit the 2^16 ptau`);
  });
});
