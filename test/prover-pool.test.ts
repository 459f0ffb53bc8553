import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { CircuitSignals } from "snarkjs";
import { loadWarmProver } from "../packages/node/src/load-warm-prover.ts";
import { ProverPool, sweepStaleRoots, type PoolOutcome } from "../packages/node/src/prover-pool/prover-pool.ts";
import { ZksError } from "../packages/sdk/src/core/errors.ts";
import { selectInstance } from "../packages/node/src/select-instance.ts";
import { UnprovableError } from "../packages/sdk/src/prover/errors.ts";
import { releaseProverThreads } from "../packages/sdk/src/prover/release.ts";
import { WarmProver } from "../packages/sdk/src/prover/warm-prover.ts";
import { solvencyInput } from "../packages/sdk/src/prover/witness/solvency.ts";
import { verifyProof } from "../packages/sdk/src/verifier/verify.ts";
import { loadMarket, loadPolicy, loadPosition } from "./helpers/examples.ts";

const INSTANCE = "solvency-3x3x16";

describe("warm prover and prover pool", function () {
  const market = loadMarket();
  const policy = loadPolicy(market);
  const { artifacts, layout } = selectInstance("Solvency", market, INSTANCE);
  const healthy = solvencyInput(loadPosition("position-healthy.json", market), market, policy, layout);
  // The at-risk example fails the stress check, so the circuit has no witness for it.
  const atRisk = solvencyInput(loadPosition("position-at-risk.json", market), market, policy, layout);

  after(releaseProverThreads);

  describe("WarmProver", function () {
    it("proves repeatedly from artifacts loaded once, and a rejected input does not spoil the next proof", async function () {
      const prover = await loadWarmProver(INSTANCE);
      const first = await prover.prove(healthy);
      assert.ok(await verifyProof(artifacts.verificationKey, first));
      await assert.rejects(prover.prove(atRisk), (error: unknown) => {
        assert.ok(error instanceof UnprovableError);
        assert.equal(error.exitCode, 1);
        assert.match(error.detail, /^Assert Failed\. .*StressCheck/);
        return true;
      });
      const third = await prover.prove(healthy);
      assert.ok(await verifyProof(artifacts.verificationKey, third));
      assert.deepEqual(third.publicSignals, first.publicSignals);
      // Groth16 proofs are randomised: the same statement, a fresh proof.
      assert.notDeepEqual(third.proof.pi_a, first.proof.pi_a);
    });

    it("takes the artifacts as bytes (as a browser would after fetching them)", async function () {
      const prover = await WarmProver.load({ instance: INSTANCE, wasm: readFileSync(artifacts.wasm as string), zkey: readFileSync(artifacts.zkey as string) });
      const stages: string[] = [];
      const proof = await prover.prove(healthy, { onProgress: (stage) => stages.push(stage) });
      assert.deepEqual(stages, ["witness", "proof", "done"]);
      assert.ok(await verifyProof(artifacts.verificationKey, proof));
    });

    it("names the artifact it cannot fetch", async function () {
      await assert.rejects(
        WarmProver.load({ instance: INSTANCE, wasm: "http://127.0.0.1:9/main.wasm", zkey: new Uint8Array() }),
        /solvency-3x3x16 witness wasm: cannot fetch http:\/\/127\.0\.0\.1:9\/main\.wasm/,
      );
    });
  });

  describe("ProverPool", function () {
    let pool: ProverPool;
    before(async function () {
      pool = await ProverPool.start([INSTANCE], { workers: 2, maxQueued: 1 });
    });
    after(async function () {
      await pool?.close();
    });

    it("proves a stream with bounded queueing; each outcome carries its input's index", async function () {
      const inputs: CircuitSignals[] = [healthy, atRisk, healthy, healthy, healthy];
      let mostQueued = 0;
      // The pool pulls the next input only when there is room: record the queue as it pulls.
      function* watched() {
        for (const input of inputs) {
          mostQueued = Math.max(mostQueued, pool.stats.queued);
          yield input;
        }
      }
      const outcomes: PoolOutcome[] = [];
      for await (const outcome of pool.proveEach(INSTANCE, watched())) outcomes.push(outcome);
      assert.deepEqual(outcomes.map((o) => o.index).sort(), [0, 1, 2, 3, 4]);
      assert.ok(mostQueued <= 1, `queue reached ${mostQueued}`);
      for (const outcome of outcomes) {
        if (outcome.index === 1) {
          assert.ok("error" in outcome && outcome.error instanceof UnprovableError, "the at-risk input is reported as unprovable");
        } else {
          assert.ok("proof" in outcome, `input ${outcome.index}: ${"error" in outcome ? outcome.error.message : ""}`);
          assert.ok(await verifyProof(artifacts.verificationKey, outcome.proof));
          assert.equal(outcome.proof.instance, INSTANCE);
        }
      }
      assert.equal(pool.stats.completed, 5);
    });

    it("makes prove() wait for room when maxQueued proofs are already waiting", async function () {
      const order: string[] = [];
      const calls = [0, 1, 2, 3].map((i) => {
        const call = pool.prove(INSTANCE, healthy).then(() => order.push(`done ${i}`));
        return call;
      });
      // Two proving, one queued: the fourth call is held back, not queued.
      await new Promise((resolve) => setImmediate(resolve));
      assert.ok(pool.stats.queued <= 1, `queued ${pool.stats.queued}`);
      assert.equal(pool.stats.proving, 2);
      await Promise.all(calls);
      assert.equal(order.length, 4);
    });

    it("rejects an instance it was not started with, naming what it has", async function () {
      await assert.rejects(pool.prove("rebalance-3x3x16", healthy), /no instance "rebalance-3x3x16" \(it has solvency-3x3x16\)/);
    });

    it("rejects bad options by name", async function () {
      await assert.rejects(ProverPool.start([INSTANCE], { workers: 0 }), /workers must be a positive integer/);
      await assert.rejects(ProverPool.start([], {}), /no instances given/);
    });

    it("removes the temp roots of pools whose process died (they hold witnesses), and only those", function () {
      const tmp = mkdtempSync(path.join(tmpdir(), "zks-sweep-"));
      try {
        // pid_max is at most 2^22: no process has this pid.
        const dead = path.join(tmp, "zks-pool-999999999-aB3xYz");
        const alive = path.join(tmp, `zks-pool-${process.ppid}-aB3xYz`);
        const other = path.join(tmp, "zks-pool-999999999-not-a-root");
        for (const root of [dead, alive, other]) {
          mkdirSync(path.join(root, "zks-witness-x"), { recursive: true });
          writeFileSync(path.join(root, "zks-witness-x", "witness.wtns.input.json"), "{}");
        }
        sweepStaleRoots(tmp);
        assert.deepEqual(readdirSync(tmp).sort(), [path.basename(alive), path.basename(other)].sort());
      } finally {
        rmSync(tmp, { recursive: true, force: true });
      }
    });

    // Last: it closes the suite's pool.
    it("close() rejects the proofs in flight and the queued ones (exit 70), and removes the pool's temp root", async function () {
      const roots = () => readdirSync(tmpdir()).filter((name) => name.startsWith(`zks-pool-${process.pid}-`));
      assert.equal(roots().length, 1, roots().join(" "));
      const root = path.join(tmpdir(), roots()[0]!);
      const calls = [0, 1, 2].map((i) =>
        pool.prove(INSTANCE, healthy).then(
          () => `proved ${i}`,
          (error: unknown) => (error instanceof ZksError && error.exitCode === 70 ? error.message : `${i}: ${String(error)}`),
        ),
      );
      await new Promise((resolve) => setImmediate(resolve));
      await pool.close();
      assert.deepEqual((await Promise.all(calls)).sort(), [
        "ProverPool: closed before this proof finished",
        "ProverPool: closed before this proof finished",
        "ProverPool: closed before this proof started",
      ]);
      assert.equal(existsSync(root), false);
      await assert.rejects(pool.prove(INSTANCE, healthy), /ProverPool: the pool is closed/);
    });
  });
});
