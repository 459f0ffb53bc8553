/**
 * The audit's circuits (packages/circuits/audit) against the reference model: AuditBatch's subtree equals
 * buildSumTree's over the model's figures on hundreds of random positions; the order, padding and
 * fails rules; the per-token figures and the members the completeness check reads; forged
 * witnesses; AuditMerge's chaining, tampered sums, the counts split and the root's statements.
 */
import assert from "node:assert/strict";
import type { CircuitSignals } from "snarkjs";
import { auditBatchInput, type BatchMember } from "../packages/sdk/src/audit/batch-input.ts";
import { emptySubtree } from "../packages/sdk/src/audit/empty-subtree.ts";
import { accountFigures } from "../packages/sdk/src/audit/figures.ts";
import { auditMergeInput, type ProvenSubtree } from "../packages/sdk/src/audit/merge-input.ts";
import { addFigures, buildSumTree, figuresDigest, nodeHash, ownerHash, zeroFigures, type AuditFigures, type SumNode } from "../packages/sdk/src/audit/merkle-sum-tree.ts";
import { batchSignalNames, mergeSignalNames } from "../packages/sdk/src/audit/public-signals.ts";
import { commitPosition } from "../packages/sdk/src/commitment/position-commitment.ts";
import { marketRoot } from "../packages/sdk/src/commitment/market-root.ts";
import { policyHash } from "../packages/sdk/src/commitment/policy-hash.ts";
import { SNARK_FIELD } from "../packages/sdk/src/core/field.ts";
import type { Market, Policy, Position } from "../packages/sdk/src/inputs/types.ts";
import { checkPosition } from "../packages/sdk/src/model/check.ts";
import { loadInstanceArtifacts } from "../packages/node/src/artifacts.ts";
import { loadInstances } from "../packages/node/src/setup/instances.ts";
import { CircuitUnderTest } from "./helpers/circuit.ts";
import { loadMarket, loadPolicy, loadPosition } from "./helpers/examples.ts";
import { Random, randomMarket, randomPolicy, randomPosition } from "./helpers/model-fixtures.ts";
import { FastWitness } from "./helpers/solvency-witness.ts";

const BATCH = "audit-batch-3x3x16x2";
const MERGE = "audit-merge-3x3x16x2";
const TOP = "audit-top-3x3x16x2";
const LAYOUT = { nAssets: 3, nInstruments: 3, nScenarios: 16 };
const S = LAYOUT.nScenarios;

const address = (n: number): string => `0x${n.toString(16).padStart(40, "0")}`;
const withAccount = (position: Position, n: number, salt: bigint): Position => ({ ...position, account: address(n), salt });

function members(positions: Position[], market: Market, policy: Policy): BatchMember[] {
  return positions.map((position, i) => ({ position, fails: checkPosition(position, market, policy).pass ? 0n : 1n, source: `position ${i}` }));
}

/** The reference model's subtree over the batch: 2 leaves (the second possibly padding). */
function modelSubtree(positions: Position[], market: Market, policy: Policy): SumNode {
  return buildSumTree(
    positions.map((p) => accountFigures(p, market, policy, LAYOUT).leaf),
    LAYOUT,
    1,
  ).root;
}

describe("audit circuits", function () {
  this.timeout(600_000);
  let batch: FastWitness;
  let batchCircuit: CircuitUnderTest;
  let merge: FastWitness;
  let top: FastWitness;
  let topCircuit: CircuitUnderTest;
  const market = loadMarket();
  const policy = loadPolicy(market);
  const healthy = loadPosition("position-healthy.json", market);
  const atRisk = loadPosition("position-at-risk.json", market);

  before(async function () {
    [batch, merge, top] = (await Promise.all([BATCH, MERGE, TOP].map((name) => FastWitness.load(loadInstanceArtifacts(name))))) as [FastWitness, FastWitness, FastWitness];
    [batchCircuit, topCircuit] = await Promise.all([CircuitUnderTest.load(BATCH), CircuitUnderTest.load(TOP)]);
  });

  const output = (circuit: CircuitUnderTest, witness: bigint[], name: string) => witness[circuit.index(`main.${name}`)]!;

  it("declares the public signals the verifier reads, in snarkjs order", function () {
    const instances = loadInstances();
    const batches = instances.filter((i) => i.template === "AuditBatch" || i.template === "AuditBatchCrowding");
    for (const instance of batches) assert.deepEqual(instance.publicSignals, batchSignalNames(instance.params[0]!));
    for (const instance of instances.filter((i) => i.template === "AuditMerge" || i.template === "AuditMergeCrowding")) {
      // The root of a crowding audit (AuditMergeCrowding, top) takes its liquidity bounds last, one per asset slot.
      const [fanIn, nAssets, , , top] = instance.params as number[];
      assert.deepEqual(instance.publicSignals, mergeSignalNames(fanIn!, instance.template === "AuditMergeCrowding" && top === 1 ? nAssets! : 0));
    }
  });

  describe("AuditBatch", function () {
    it("agrees with the reference model on 240 random positions in 120 batches (random markets and policies)", async function () {
      const rng = new Random(909);
      let batches = 0;
      let failing = 0;
      let attempts = 0;
      while (batches < 120) {
        assert.ok(attempts++ < 2000, "too few usable random cases");
        let m = randomMarket(rng);
        if (m.assets.length > 3 || m.instruments.length > 3 || m.scenarios.length > S) continue;
        const p = randomPolicy(rng, m);
        const base = rng.int(1, 1 << 30);
        const pair = [withAccount(randomPosition(rng, m), base, rng.digits(70)), withAccount(randomPosition(rng, m), base + rng.int(1, 1000), rng.digits(70))];
        try {
          pair.forEach((position) => checkPosition(position, m, p));
        } catch {
          continue; // outside the bounds the circuits prove; the model refuses it (tested elsewhere)
        }
        const result = await batch.calculate(auditBatchInput(members(pair, m, p), m, p, LAYOUT, 2));
        assert.ok(result.accepted, `batch ${batches}: ${!result.accepted && result.error}`);
        const expected = modelSubtree(pair, m, p);
        assert.equal(output(batchCircuit, result.witness, "hash"), expected.hash, `batch ${batches}: subtree hash`);
        assert.equal(output(batchCircuit, result.witness, "digest"), figuresDigest(expected.sums), `batch ${batches}: sums`);
        assert.equal(output(batchCircuit, result.witness, "marketRoot"), marketRoot(m, LAYOUT));
        assert.equal(output(batchCircuit, result.witness, "policyHash"), policyHash(p));
        assert.equal(output(batchCircuit, result.witness, "failing"), expected.sums.fails);
        // The members the verifier compares with the gate: each slot's Poseidon(commitment, account).
        pair.forEach((position, s) =>
          assert.equal(
            output(batchCircuit, result.witness, `members[${s}]`),
            ownerHash(commitPosition(position, position.salt!, LAYOUT), BigInt(position.account)),
            `batch ${batches}: members[${s}]`,
          ),
        );
        failing += Number(expected.sums.fails);
        batches++;
        m = undefined as unknown as Market;
      }
      // Both verdicts must be exercised for the agreement to mean something.
      assert.ok(failing > 20 && failing < 220, `failing positions: ${failing} of 240`);
    });

    it("proves the examples: one passing, one failing, and a batch with one padding slot", async function () {
      const pair = [withAccount(healthy, 10, 1n), withAccount(atRisk, 11, 2n)];
      const result = await batch.calculate(auditBatchInput(members(pair, market, policy), market, policy, LAYOUT, 2));
      assert.ok(result.accepted);
      assert.equal(output(batchCircuit, result.witness, "positions"), 2n);
      assert.equal(output(batchCircuit, result.witness, "failing"), 1n);
      assert.equal(output(batchCircuit, result.witness, "firstAccount"), 10n);
      assert.equal(output(batchCircuit, result.witness, "lastAccount"), 11n);

      const single = await batch.calculate(auditBatchInput(members([pair[0]!], market, policy), market, policy, LAYOUT, 2));
      assert.ok(single.accepted);
      assert.equal(output(batchCircuit, single.witness, "hash"), modelSubtree([pair[0]!], market, policy).hash);
      assert.equal(output(batchCircuit, single.witness, "lastAccount"), 10n);
      assert.equal(output(batchCircuit, single.witness, "positions"), 1n);
      assert.equal(output(batchCircuit, single.witness, "members[1]"), ownerHash(0n, 0n), "a padding slot's member is Poseidon(0, 0)");
    });

    it("sums the committed amounts per token: collateral, debt units, and each instrument's quantity by sign", async function () {
      // The healthy example holds long puts and written calls, and owes USDC debt units.
      const pair = [withAccount(healthy, 30, 1n), withAccount(healthy, 31, 2n)];
      assert.ok(healthy.quantities.some((q) => q > 0n) && healthy.quantities.some((q) => q < 0n) && healthy.debt.some((d) => d > 0n));
      const result = await batch.calculate(auditBatchInput(members(pair, market, policy), market, policy, LAYOUT, 2));
      assert.ok(result.accepted);
      const sums = modelSubtree(pair, market, policy).sums;
      assert.equal(output(batchCircuit, result.witness, "digest"), figuresDigest(sums));
      const twice = (values: readonly bigint[]) => [...values, ...Array(3 - values.length).fill(0n)].map((v) => 2n * v);
      assert.deepEqual(sums.amounts, twice(healthy.collateral));
      assert.deepEqual(sums.debtUnits, twice(healthy.debt));
      assert.deepEqual(sums.long, twice(healthy.quantities.map((q) => (q > 0n ? q : 0n))));
      assert.deepEqual(sums.written, twice(healthy.quantities.map((q) => (q < 0n ? -q : 0n))));
      // The figures in the witness, in the circuit's order after counts, collateral, debt and the
      // losses (slot 1's: slot 0 is always active, so the optimiser folds its products away).
      const leaf = (f: number) => result.witness[batchCircuit.index(`main.leaves[1].figures[${f}]`)]!;
      const at = 3 + S;
      const pad = (values: readonly bigint[]) => [...values, ...Array(3 - values.length).fill(0n)];
      assert.deepEqual(
        [0, 1, 2].map((i) => leaf(at + i)),
        pad(healthy.collateral),
      );
      assert.deepEqual(
        [0, 1, 2].map((i) => leaf(at + 3 + i)),
        pad(healthy.debt),
      );
      assert.deepEqual(
        [0, 1, 2].map((k) => leaf(at + 6 + k) - leaf(at + 9 + k)),
        pad(healthy.quantities),
      );
    });

    it("boundary cases: an empty position, the largest account, zero-figure sums", async function () {
      const empty: Position = { ...healthy, collateral: [0n, 0n, 0n], debt: [0n, 0n, 0n], quantities: [0n, 0n, 0n] };
      const pair = [withAccount(empty, 1, 5n), { ...withAccount(healthy, 0, 6n), account: `0x${"f".repeat(40)}` }];
      const result = await batch.calculate(auditBatchInput(members(pair, market, policy), market, policy, LAYOUT, 2));
      assert.ok(result.accepted, !result.accepted ? result.error : "");
      assert.equal(output(batchCircuit, result.witness, "hash"), modelSubtree(pair, market, policy).hash);
      assert.equal(output(batchCircuit, result.witness, "lastAccount"), (1n << 160n) - 1n);
    });

    it("refuses to count a failing position as passing (fails = 0 enforces every check)", async function () {
      const input = auditBatchInput([{ position: withAccount(atRisk, 3, 1n), fails: 0n, source: "at-risk" }], market, policy, LAYOUT, 2);
      const result = await batch.calculate(input);
      assert.equal(result.accepted, false);
      // Counting a passing position as failing is allowed: the public count may only be overstated.
      const over = await batch.calculate(auditBatchInput([{ position: withAccount(healthy, 3, 1n), fails: 1n, source: "healthy" }], market, policy, LAYOUT, 2));
      assert.ok(over.accepted);
      assert.equal(output(batchCircuit, over.witness, "failing"), 1n);
    });

    const tweak = (input: CircuitSignals, edit: (signals: Record<string, unknown>) => void): CircuitSignals => {
      const copy = structuredClone(input) as Record<string, unknown>;
      edit(copy);
      return copy as CircuitSignals;
    };
    const pairInput = () => auditBatchInput(members([withAccount(healthy, 20, 1n), withAccount(healthy, 21, 2n)], market, policy), market, policy, LAYOUT, 2);

    it("rejects accounts out of order, duplicated, zero, and an active slot after a padding slot", async function () {
      const cases: [string, (s: Record<string, unknown>) => void][] = [
        ["out of order", (s) => (s.account as bigint[]).reverse()],
        ["duplicate", (s) => ((s.account as bigint[])[1] = (s.account as bigint[])[0]!)],
        ["account zero", (s) => ((s.account as bigint[])[0] = 0n)],
        ["active after padding", (s) => ((s.active as bigint[])[0] = 0n)],
        ["no positions", (s) => (s.active as bigint[]).fill(0n)],
        [
          "fails on a padding slot",
          (s) => {
            (s.active as bigint[])[1] = 0n;
            (s.fails as bigint[])[1] = 1n;
            (s.account as bigint[])[1] = 0n;
          },
        ],
        ["a padding slot with an account", (s) => ((s.active as bigint[])[1] = 0n)],
      ];
      for (const [name, edit] of cases) {
        const result = await batch.calculate(tweak(pairInput(), edit));
        assert.equal(result.accepted, false, name);
      }
    });

    it("a padding slot's balances count for nothing", async function () {
      const input = tweak(auditBatchInput(members([withAccount(healthy, 20, 1n)], market, policy), market, policy, LAYOUT, 2), (s) => {
        (s.collateral as bigint[][])[1] = [10n ** 24n, 0n, 0n];
      });
      const result = await batch.calculate(input);
      assert.ok(result.accepted);
      assert.equal(output(batchCircuit, result.witness, "hash"), modelSubtree([withAccount(healthy, 20, 1n)], market, policy).hash);
    });

    it("a forged witness (a leaf's figure raised, negative or at the field's edge, a member swapped) violates the constraints", async function () {
      const result = await batch.calculate(pairInput());
      assert.ok(result.accepted);
      assert.deepEqual(batchCircuit.violated(result.witness), []);
      // The per-token figures (amounts, debt units, long, written) of slot 1: slot 0 is always
      // active, so the optimiser folds its `active *` products into linear combinations.
      const at = 3 + S;
      const required = new Set<string>();
      for (const [signal, forge, mustExist] of [
        ["main.leaves[0].figures[0]", (v: bigint) => v + (1n << 40n), false], // counted as failing although it passes
        ["main.leaves[0].figures[1]", (v: bigint) => v + 1n, false], // more collateral than the position holds
        ["main.leaves[0].figures[2]", () => SNARK_FIELD - 1n, false], // a negative debt
        ["main.leaves[1].figures[4]", () => SNARK_FIELD - 1n, false], // a loss at the field's edge
        [`main.leaves[1].figures[${at}]`, (v: bigint) => v + 10n ** 18n, true], // more WETH than committed
        [`main.leaves[1].figures[${at + 3 + 2}]`, () => 0n, true], // the USDC debt units left out
        [`main.leaves[1].figures[${at + 6 + 1}]`, (v: bigint) => v + 1n, true], // a long quantity raised
        [`main.leaves[1].figures[${at + 9 + 0}]`, () => 0n, true], // the written call (instrument slot 0) hidden
        ["main.members[0]", (v: bigint) => v + 1n, true], // another (account, commitment) in slot 0
        ["main.members[1]", () => ownerHash(0n, 0n), true], // an active slot passed off as padding
        ["main.failing", (v: bigint) => v + 1n, false],
      ] as const) {
        let index: number;
        try {
          index = batchCircuit.index(signal);
        } catch {
          assert.ok(!mustExist, `${signal} is not in the witness: forge another signal of the same figure`);
          continue; // optimised into a linear combination: covered by the signals around it
        }
        if (mustExist) required.add(signal);
        const forged = [...result.witness];
        forged[index] = forge(forged[index]!);
        if (forged[index] === result.witness[index]) continue;
        assert.ok(batchCircuit.violated(forged).length > 0, `${signal} forged, yet every constraint holds`);
      }
      assert.equal(required.size, 6, "every per-token figure and member forge ran");
    });
  });

  describe("AuditMerge", function () {
    const figures = (collateral: bigint, debt: bigint, loss: bigint, positions = 1n, fails = 0n): AuditFigures => ({
      ...zeroFigures(LAYOUT),
      positions,
      collateral,
      debt,
      fails,
      losses: Array.from({ length: S }, (_, j) => (j === 3 ? loss : 0n)),
      amounts: [positions * 10n, 0n, 7n],
      debtUnits: [0n, 0n, positions * 3n],
      long: [0n, positions, 0n],
      written: [fails, 0n, 0n],
    });
    const child = (hash: bigint, sums: AuditFigures, first: bigint, last: bigint): ProvenSubtree => ({ node: { hash, sums }, firstAccount: first, lastAccount: last });
    const pair = () => [child(111n, figures(1000n, 400n, 100n), 1n, 5n), child(222n, figures(500n, 100n, 50n, 2n, 1n), 6n, 9n)];

    it("builds the parent node of the model and exposes counts", async function () {
      const result = await merge.calculate(auditMergeInput(pair()));
      assert.ok(result.accepted, !result.accepted ? result.error : "");
      const [a, b] = pair().map((c) => c.node);
      const circuit = await CircuitUnderTest.load(MERGE);
      assert.equal(result.witness[circuit.index("main.hash")], nodeHash(a!, b!));
      assert.equal(result.witness[circuit.index("main.positions")], 3n);
      assert.equal(result.witness[circuit.index("main.failing")], 1n);
      assert.equal(result.witness[circuit.index("main.lastAccount")], 9n);
    });

    it("adds the per-token sums like the others; the counts word splits into positions and failing, and only one way", async function () {
      const result = await merge.calculate(auditMergeInput(pair()));
      assert.ok(result.accepted);
      const circuit = await CircuitUnderTest.load(MERGE);
      const [a, b] = pair().map((c) => c.node.sums);
      const total = addFigures(a!, b!);
      assert.equal(result.witness[circuit.index("main.digest")], figuresDigest(total));
      assert.deepEqual(total.amounts, [30n, 0n, 14n]);
      assert.deepEqual(total.written, [1n, 0n, 0n]);
      // A child's per-token sum understated (child 1 owes fewer debt units): its digest says otherwise.
      const input = auditMergeInput(pair()) as Record<string, unknown>;
      (input.childSums as bigint[][])[1]![3 + S + 3 + 2] = 0n;
      assert.equal((await merge.calculate(input as CircuitSignals)).accepted, false);
      // Forged splits of the counts word violate the constraints.
      for (const [name, value] of [
        ["main.failing", 0n],
        ["main.positions", 4n],
        ["main.failing", (1n << 40n) + 1n],
      ] as const) {
        const forged = [...result.witness];
        forged[circuit.index(name)] = value;
        assert.ok(circuit.violated(forged).length > 0, `${name} = ${value} forged, yet every constraint holds`);
      }
    });

    it("catches a tampered sum: a child's sums must open its digest", async function () {
      const input = auditMergeInput(pair()) as Record<string, unknown>;
      (input.childSums as bigint[][])[0]![1] = 999n; // understate child 0's collateral... the digest says otherwise
      assert.equal((await merge.calculate(input as CircuitSignals)).accepted, false);
    });

    it("rejects overlapping accounts across children and an empty child before a real one", async function () {
      const overlap = pair();
      overlap[1] = { ...overlap[1]!, firstAccount: 5n };
      assert.equal((await merge.calculate(auditMergeInput(overlap))).accepted, false);
      const empty = emptySubtree(1, LAYOUT);
      const gap = [child(empty.hash, empty.sums, 0n, 0n), pair()[0]!];
      assert.equal((await merge.calculate(auditMergeInput(gap))).accepted, false);
      const trailing = [pair()[0]!, child(empty.hash, empty.sums, 0n, 0n)];
      assert.ok((await merge.calculate(auditMergeInput(trailing))).accepted);
    });

    it("the root proves collateral >= debt and every scenario covered, and nothing else", async function () {
      assert.ok((await top.calculate(auditMergeInput(pair()))).accepted);
      // Equity 1,000: a scenario losing exactly 1,000 is covered, 1,001 is not.
      const edge = [child(1n, figures(1200n, 200n, 1000n), 1n, 1n), child(2n, figures(0n, 0n, 0n), 2n, 2n)];
      assert.ok((await top.calculate(auditMergeInput(edge))).accepted);
      const uncovered = [child(1n, figures(1200n, 200n, 1001n), 1n, 1n), child(2n, figures(0n, 0n, 0n), 2n, 2n)];
      assert.equal((await top.calculate(auditMergeInput(uncovered))).accepted, false);
      const insolvent = [child(1n, figures(100n, 200n, 0n), 1n, 1n), child(2n, figures(99n, 0n, 0n), 2n, 2n)];
      assert.equal((await top.calculate(auditMergeInput(insolvent))).accepted, false);
      // A forged witness: the root's statements pinned in R1CS too.
      const result = await top.calculate(auditMergeInput(edge));
      assert.ok(result.accepted);
      assert.deepEqual(topCircuit.violated(result.witness), []);
      const forged = [...result.witness];
      forged[topCircuit.index("main.positions")] = 7n;
      assert.ok(topCircuit.violated(forged).length > 0);
    });
  });
});
