/**
 * The workflows the CLI is a shell over, called directly as an app would (issue 19: "Workflows
 * (plan, prove, verify, write) live in the SDK"): the browser-safe ones of
 * @zk-solvency/sdk/workflows with parsed inputs and a wasm prover, and the file ones of
 * @zk-solvency/node. Real proofs with the test tier's instances (solvency-3x3x16,
 * rebalance-3x3x16); each workflow also fails as it should (bad file: a named error; failing
 * policy: a check failed, nothing proven or written).
 */
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import * as snarkjs from "snarkjs";
import { loadInstanceArtifacts } from "../packages/node/src/artifacts.ts";
import { layoutOf } from "../packages/node/src/select-instance.ts";
import { loadInstances } from "../packages/node/src/setup/instances.ts";
import { PACKAGE_ROOT } from "../packages/node/src/setup/paths.ts";
import { readJsonFile } from "../packages/node/src/read-json.ts";
import {
  commitPositionFile,
  inspectInstance,
  inspectInstances,
  loadPositionFile,
  planRebalanceFiles,
  proveStatementFiles,
  rebalanceFiles,
  runBacktestFiles,
  verifyProofFiles,
} from "../packages/node/src/index.ts";
import { BacktestOptionsError, backtestPricePaths, runBacktestWorkflow } from "../packages/sdk/src/backtest/index.ts";
import { commitPosition } from "../packages/sdk/src/commitment/position-commitment.ts";
import { InputError, SetupError, ZksError } from "../packages/sdk/src/core/errors.ts";
import { parsePlanFile } from "../packages/sdk/src/rebalance/plan-file.ts";
import { noMovements } from "../packages/sdk/src/rebalance/transition.ts";
import type { ProofFile } from "../packages/sdk/src/proof-file/proof-file.ts";
import { releaseProverThreads } from "../packages/sdk/src/prover/release.ts";
import { verificationKeyHash } from "../packages/sdk/src/verifier/key-hash.ts";
import type { InstanceDeclaration } from "../packages/sdk/src/verifier/proof-file-verdict.ts";
import {
  checkWorkflow,
  planWorkflow,
  proveStatementWorkflow,
  rebalanceWorkflow,
  verifyProofFileWorkflow,
  wasmInstanceProver,
  type InstanceProver,
} from "../packages/sdk/src/workflows/index.ts";
import { example, loadMarket, loadPolicy, loadPosition } from "./helpers/examples.ts";
import { TEST_KEEPER } from "./helpers/keeper-key.ts";
import { allowanceOf, EXAMPLE_ALLOWANCE } from "./helpers/rebalance-fixtures.ts";

const SOLVENCY = "solvency-3x3x16";
const REBALANCE = "rebalance-3x3x16";
const RETURNS_EXAMPLE = path.join(PACKAGE_ROOT, "examples", "backtest", "returns-250d.csv");

/** The instance as instances.json declares it, with the key this machine built: what a verifier trusts. */
function declaration(instance: string): InstanceDeclaration {
  const config = loadInstances().find((i) => i.name === instance)!;
  const artifacts = loadInstanceArtifacts(instance);
  return {
    instance,
    template: config.template,
    params: config.params,
    publicSignals: config.publicSignals,
    verificationKeyHash: verificationKeyHash(artifacts.verificationKey),
    keySource: { kind: "development" },
  };
}

/** The browser's prover: the wasm witness and snarkjs, from the build's files. */
function wasmProver(instance: string): InstanceProver {
  const artifacts = loadInstanceArtifacts(instance);
  return wasmInstanceProver(artifacts, layoutOf(loadInstances().find((i) => i.name === instance)!));
}

/** Asserts `fn` throws a ZksError of `exitCode` whose one-line message matches `message`. */
async function rejectsWith(fn: () => unknown, type: new (...args: never[]) => ZksError, exitCode: number, message: RegExp): Promise<void> {
  await assert.rejects(
    async () => fn(),
    (error: unknown) => {
      assert.ok(error instanceof type, `expected a ${type.name}, got ${String(error)}`);
      assert.equal(error.exitCode, exitCode);
      assert.match(error.message, message);
      assert.doesNotMatch(error.message, /\n/, "one line");
      return true;
    },
  );
}

describe("workflows (SDK and Node), called directly", function () {
  let dir: string;
  const market = loadMarket();
  const policy = loadPolicy(market);
  const healthy = loadPosition("position-healthy.json", market);
  const atRisk = loadPosition("position-at-risk.json", market);
  const files = (position: string) => ({ position: example(position), market: example("market-grid.json"), policy: example("policy.json") });

  before(function () {
    // A SetupError (run `zks setup --tier test`) rather than a skip: `npm test` builds them first.
    for (const instance of [SOLVENCY, REBALANCE]) loadInstanceArtifacts(instance);
    dir = mkdtempSync(path.join(tmpdir(), "zks-workflows-"));
  });
  after(async () => {
    if (dir) rmSync(dir, { recursive: true, force: true });
    await releaseProverThreads();
  });

  describe("check", function () {
    it("explains every check; the at-risk example fails stress and historical VaR", function () {
      const pass = checkWorkflow(healthy, market, policy);
      assert.equal(pass.pass, true);
      assert.equal(pass.checks.length, 4);
      assert.deepEqual(pass.failing, []);
      const fail = checkWorkflow(atRisk, market, policy);
      assert.equal(fail.pass, false);
      assert.deepEqual(
        fail.failing.map((c) => c.check),
        ["stress", "historicalVar"],
      );
      assert.match(fail.failing[0]!.line, /stress: worst loss 5,532.34 USD/);
    });
  });

  describe("prove a statement, verify the proof file (SDK, wasm prover: what a browser runs)", function () {
    let result: Awaited<ReturnType<typeof proveStatementWorkflow>>;
    let file: ProofFile;
    before(async function () {
      result = await proveStatementWorkflow({ statement: "health", position: healthy, market, policy, context: 7n }, () => wasmProver(SOLVENCY));
      if (result.proved) file = result.file;
    });

    it("proves `health` for the healthy example; the proof verifies under the built key with its named fields", async function () {
      assert.equal(result.proved, true);
      if (!result.proved) return;
      assert.equal(result.instance, SOLVENCY);
      assert.equal(file.zks.statement, "health");
      assert.equal(BigInt(file.zks.named.context!), 7n);
      assert.ok(result.proofSeconds > 0);
      const vkey = loadInstanceArtifacts(SOLVENCY).verificationKey;
      assert.equal(await snarkjs.groth16.verify(vkey, file.zks.publicSignals, file), true, "snarkjs accepts the proof file as it is");

      const verdict = await verifyProofFileWorkflow({ file, source: "proof.json", verificationKey: vkey, declaration: declaration(SOLVENCY), market, policy });
      assert.equal(verdict.valid, true);
      if (!verdict.valid) return;
      assert.equal(verdict.verdict.epoch, market.epoch, "the market vouches for the epoch");
      assert.deepEqual(verdict.verdict.matched, { market: true, policy: true });
    });

    it("a failing position is `proved: false` with the failing checks, and no prover is ever chosen", async function () {
      let chosen = false;
      const result = await proveStatementWorkflow({ statement: "stress", position: atRisk, market, policy }, () => {
        chosen = true;
        return wasmProver(SOLVENCY);
      });
      assert.equal(result.proved, false);
      assert.deepEqual(
        result.failing.map((c) => c.check),
        ["stress", "historicalVar"],
      );
      assert.equal(chosen, false, "no instance is loaded for a position that cannot be proven");
    });

    it("a position without its salt, or an unknown statement, is bad input naming it (exit 2)", async function () {
      const unsalted = { ...healthy, salt: undefined };
      await rejectsWith(
        () => proveStatementWorkflow({ statement: "health", position: unsalted, market, policy, source: "mine.json" }, () => wasmProver(SOLVENCY)),
        InputError,
        2,
        /^mine\.json: salt: missing; the proof opens the position's commitment/,
      );
      await rejectsWith(
        () => proveStatementWorkflow({ statement: "solvent" as "health", position: healthy, market, policy }, () => wasmProver(SOLVENCY)),
        InputError,
        2,
        /statement: expected one of health, stress, var, audit, got "solvent"/,
      );
    });

    it("an edited proof file, another market or policy, or a forged proof does not verify (named field, exit 1)", async function () {
      const vkey = loadInstanceArtifacts(SOLVENCY).verificationKey;
      const check = (edited: ProofFile, extra: { market?: typeof market; policy?: typeof policy } = {}) =>
        verifyProofFileWorkflow({ file: edited, source: "proof.json", verificationKey: vkey, declaration: declaration(SOLVENCY), ...extra });

      const relabelled = structuredClone(file);
      relabelled.zks.named.context = `0x${8n.toString(16).padStart(64, "0")}`;
      const named = await check(relabelled);
      assert.equal(named.valid, false);
      if (named.valid) return;
      assert.equal(named.stage, "metadata");
      assert.match(named.message, /^proof\.json: zks\.named\.context: /);

      const otherMarket = { ...market, epoch: market.epoch + 1 };
      const wrongMarket = await check(file, { market: otherMarket });
      assert.equal(wrongMarket.valid, false);
      if (wrongMarket.valid) return;
      assert.equal(wrongMarket.field, "marketRoot");

      const otherPolicy = { ...policy, minHealthFactor: policy.minHealthFactor + 1n };
      const wrongPolicy = await check(file, { market, policy: otherPolicy });
      assert.equal(wrongPolicy.valid, false);
      if (wrongPolicy.valid) return;
      assert.equal(wrongPolicy.field, "policyHash");

      // A signal changed consistently everywhere the file states it: the pairing refuses it.
      const forged = structuredClone(file);
      const index = loadInstances()
        .find((i) => i.name === SOLVENCY)!
        .publicSignals.indexOf("context");
      forged.zks.publicSignals[index] = "8";
      forged.zks.named.context = `0x${8n.toString(16).padStart(64, "0")}`;
      const pairing = await check(forged);
      assert.equal(pairing.valid, false);
      if (pairing.valid) return;
      assert.equal(pairing.stage, "proof");
      assert.match(pairing.problem, /^the proof does not verify under instance solvency-3x3x16's key 0x[0-9a-f]{64}$/);
    });
  });

  describe("prove and verify from files (Node)", function () {
    let result: Awaited<ReturnType<typeof proveStatementFiles>>;
    const seen: string[] = [];
    before(async function () {
      result = await proveStatementFiles({
        statement: "audit",
        ...files("position-healthy.json"),
        out: path.join(dir, "healthy"),
        onProving: (instance, constraints) => seen.push(`${instance} ${constraints}`),
      });
    });

    it("writes proof.json and public.json; verifyProofFiles pins the built key and checks market and policy", async function () {
      const out = path.join(dir, "healthy");
      assert.equal(result.proved, true);
      if (!result.proved) return;
      assert.deepEqual(seen, [`${SOLVENCY} ${loadInstanceArtifacts(SOLVENCY).manifest.nConstraints}`]);
      assert.deepEqual(result.files, { proof: path.join(out, "proof.json"), publicSignals: path.join(out, "public.json") });
      assert.deepEqual(JSON.parse(readFileSync(result.files!.publicSignals, "utf8")), result.file.zks.publicSignals);
      assert.equal(statSync(result.files!.proof).mode & 0o777, 0o600, "a new proof file is private");

      const verified = await verifyProofFiles({ proof: result.files!.proof, market: example("market-grid.json"), policy: example("policy.json") });
      assert.equal(verified.valid, true);
      if (!verified.valid) return;
      assert.equal(verified.pinnedBy, "build");
      assert.equal(verified.verdict.statement, "audit");
      assert.equal(verified.untrustedCeremony, false);

      // The same key given as a file is pinned by the build it matches; by --key-hash when given.
      const vkeyFile = path.join(dir, "vkey.json");
      writeFileSync(vkeyFile, JSON.stringify(loadInstanceArtifacts(SOLVENCY).verificationKey));
      const byHash = await verifyProofFiles({ proof: result.files!.proof, vkey: vkeyFile, keyHash: result.file.zks.verificationKeyHash });
      assert.equal(byHash.valid && byHash.pinnedBy, "key-hash");
    });

    it("bad files are one named error (exit 2); a failing policy proves nothing and writes nothing (check failed)", async function () {
      const out = path.join(dir, "never");
      const malformed = path.join(dir, "position-malformed.json");
      writeFileSync(malformed, "{ not json");
      await rejectsWith(
        () => proveStatementFiles({ statement: "health", ...files("position-healthy.json"), position: malformed, out }),
        InputError,
        2,
        /position-malformed\.json: malformed JSON/,
      );
      await rejectsWith(
        () => proveStatementFiles({ statement: "health", ...files("position-healthy.json"), policy: path.join(dir, "missing.json"), out }),
        InputError,
        2,
        /missing\.json: file not found/,
      );

      const failing = await proveStatementFiles({ statement: "stress", ...files("position-at-risk.json"), out });
      assert.equal(failing.proved, false);
      assert.deepEqual(
        failing.failing.map((c) => c.check),
        ["stress", "historicalVar"],
      );
      assert.equal(failing.files, undefined);
      assert.equal(existsSync(out), false, "nothing written");

      // Verification: a proof file that is not one, a key nothing pins, a tampered file.
      const notProof = path.join(dir, "not-a-proof.json");
      writeFileSync(notProof, JSON.stringify({ hello: 1 }));
      await rejectsWith(() => verifyProofFiles({ proof: notProof }), InputError, 2, /not-a-proof\.json: /);
      await rejectsWith(() => verifyProofFiles({ proof: path.join(dir, "healthy", "proof.json"), policy: example("policy.json") }), InputError, 2, /^--policy: needs --market/);
      const foreignKey = path.join(dir, "foreign-vkey.json");
      // Valid points, another key: what a prover holding its own trapdoor would hand over.
      const key = structuredClone(loadInstanceArtifacts(SOLVENCY).verificationKey) as unknown as { IC: string[][] };
      [key.IC[0], key.IC[1]] = [key.IC[1]!, key.IC[0]!];
      writeFileSync(foreignKey, JSON.stringify(key));
      await rejectsWith(() => verifyProofFiles({ proof: path.join(dir, "healthy", "proof.json"), vkey: foreignKey }), InputError, 2, /unpinned key: its hash is 0x[0-9a-f]{64}/);

      const tampered = path.join(dir, "tampered.json");
      const file = readJsonFile(path.join(dir, "healthy", "proof.json")) as ProofFile;
      file.zks.statement = "rebalance";
      writeFileSync(tampered, JSON.stringify(file));
      const refused = await verifyProofFiles({ proof: tampered });
      assert.equal(refused.valid, false);
      if (refused.valid) return;
      assert.equal(refused.stage, "metadata");
      assert.match(refused.message, /^.*tampered\.json: zks\.statement: /);
    });
  });

  describe("plan and rebalance", function () {
    it("plans the at-risk example within its allowance and writes the plan file; none without an allowance (check failed, nothing written)", function () {
      const planned = planWorkflow({ position: atRisk, market, policy, allowance: allowanceOf(market, EXAMPLE_ALLOWANCE), options: { strategy: "threshold" } });
      assert.equal(planned.kind, "plan");
      const none = planWorkflow({ position: atRisk, market, policy, options: { strategy: "threshold" } });
      assert.equal(none.kind, "none");
      if (none.kind !== "none") return;
      assert.equal(none.json.kind, "zks-rebalance-no-plan");
      assert.equal(none.json.nonce, atRisk.nonce.toString());

      const allow = path.join(dir, "allow.json");
      writeFileSync(allow, JSON.stringify(EXAMPLE_ALLOWANCE));
      const out = path.join(dir, "plan.json");
      const written = planRebalanceFiles({ ...files("position-at-risk.json"), allow, out, options: { strategy: "threshold" } });
      assert.equal(written.kind, "plan");
      assert.equal(written.written, out);
      const parsed = parsePlanFile(readJsonFile(out), out, market, atRisk);
      assert.equal(parsed.needed, true);

      const untouched = path.join(dir, "no-plan.json");
      const noPlan = planRebalanceFiles({ ...files("position-at-risk.json"), out: untouched, options: { strategy: "threshold" } });
      assert.equal(noPlan.kind, "none");
      assert.equal(existsSync(untouched), false);
    });

    it("refuses to write the plan over an input, and names a bad allowance file (exit 2)", async function () {
      const copy = path.join(dir, "position-copy.json");
      writeFileSync(copy, readFileSync(example("position-at-risk.json")));
      await rejectsWith(
        () => planRebalanceFiles({ ...files("position-at-risk.json"), position: copy, out: copy, options: { strategy: "threshold" } }),
        InputError,
        2,
        /^--out: .*position-copy\.json is also the --position file/,
      );
      const badAllow = path.join(dir, "allow-bad.json");
      writeFileSync(badAllow, JSON.stringify({ wallet: { DOGE: "1" } }));
      await rejectsWith(
        () => planRebalanceFiles({ ...files("position-at-risk.json"), allow: badAllow, options: { strategy: "threshold" } }),
        InputError,
        2,
        /allow-bad\.json: wallet/,
      );
    });

    it("proves the planned rebalance (the keeper's proveTransition inside), writes the proof then the new position; the proof verifies", async function () {
      const allow = path.join(dir, "allow-rebalance.json");
      writeFileSync(allow, JSON.stringify(EXAMPLE_ALLOWANCE));
      const out = path.join(dir, "rebalanced");
      const result = await rebalanceFiles({ ...files("position-at-risk.json"), out, allow, binding: { context: 0n, keeperKey: TEST_KEEPER.publicKey } });
      assert.equal(result.needed, true);
      if (!result.needed) return;
      assert.equal(result.instance, REBALANCE);
      assert.equal(result.before.pass, false);
      assert.equal(result.after.pass, true);
      assert.equal(result.next.nonce, atRisk.nonce + 1n);
      assert.notEqual(result.next.salt, atRisk.salt, "a fresh salt: the old one is known to whoever saw the old position");
      assert.equal(BigInt(result.file.zks.named["keeperKey[0]"]!), TEST_KEEPER.publicKey[0]);
      const next = loadPositionFile(result.files.position, market);
      assert.equal(commitPosition(next, next.salt!, layoutOf(loadInstances().find((i) => i.name === REBALANCE)!)), BigInt(result.file.zks.named.newCommitment!));

      const verified = await verifyProofFiles({ proof: result.files.proof, market: example("market-grid.json"), policy: example("policy.json") });
      assert.equal(verified.valid, true);
      if (verified.valid) assert.equal(verified.verdict.statement, "rebalance");
    });

    it("a transition the gate cannot back is refused before anything is proven (exit 2)", async function () {
      let chosen = false;
      const moved = { ...atRisk, collateral: atRisk.collateral.map((c, i) => (i === 0 ? c + 1n : c)) };
      await rejectsWith(
        () =>
          rebalanceWorkflow(
            { position: atRisk, market, policy, planned: { position: moved, movements: noMovements(market) }, binding: { context: 0n, keeperKey: TEST_KEEPER.publicKey } },
            () => {
              chosen = true;
              return wasmProver(REBALANCE);
            },
          ),
        ZksError,
        2,
        /^the transition cannot be backed: /,
      );
      assert.equal(chosen, false);
    });
  });

  describe("commit and inspect", function () {
    it("commits a position file; without a salt it is refused unless asked to add one, which keeps the file's other fields", async function () {
      const committed = commitPositionFile({ position: example("position-healthy.json"), market: example("market-grid.json") });
      assert.equal(committed.saltAdded, false);
      assert.match(committed.commitment, /^0x[0-9a-f]{64}$/);
      assert.equal(committed.slots, "8x8");

      const unsalted = path.join(dir, "unsalted.json");
      const raw = JSON.parse(readFileSync(example("position-healthy.json"), "utf8"));
      delete raw.salt;
      writeFileSync(unsalted, JSON.stringify({ ...raw, note: "kept" }));
      await rejectsWith(() => commitPositionFile({ position: unsalted, market: example("market-grid.json") }), InputError, 2, /unsalted\.json: salt: missing; .*--add-salt/);
      const added = commitPositionFile({ position: unsalted, market: example("market-grid.json"), addSalt: true });
      assert.equal(added.saltAdded, true);
      const after = JSON.parse(readFileSync(unsalted, "utf8"));
      assert.equal(after.note, "kept");
      assert.match(after.salt, /^0x[0-9a-f]+$/);
      assert.equal(commitPositionFile({ position: unsalted, market: example("market-grid.json") }).commitment, added.commitment, "the stored salt opens the same commitment");
    });

    it("lists the instances with their build state; an unknown instance is a setup error (exit 3)", async function () {
      const { instances } = inspectInstances();
      const solvency = instances.find((i) => i.instance === SOLVENCY)!;
      assert.equal(solvency.built, true);
      assert.equal(solvency.keySource, "development");
      assert.equal(inspectInstance(SOLVENCY).details.verificationKeyHash, loadInstanceArtifacts(SOLVENCY).manifest.verificationKeyHash);
      await rejectsWith(() => inspectInstance("solvency-9x9"), SetupError, 3, /unknown circuit instance "solvency-9x9"/);
    });
  });

  describe("backtest", function () {
    it("the SDK workflow is deterministic per seed; the Node one writes the report, results and charts", async function () {
      const spec = { kind: "simulated" as const, paths: 2, horizonDays: 10, seed: 5 };
      const run = runBacktestWorkflow({ position: atRisk, market, policy, strategies: ["none", "threshold"], paths: spec });
      const again = runBacktestWorkflow({ position: atRisk, market, policy, strategies: ["none", "threshold"], paths: backtestPricePaths(market, spec) });
      assert.deepEqual(again.result.metrics, run.result.metrics);
      assert.deepEqual(Object.keys(run.charts), ["hf-paths.svg", "hf-percentiles.svg", "cost-vs-risk.svg", "cost-vs-drawdown.svg"]);

      const out = path.join(dir, "backtest");
      const written = await runBacktestFiles({
        ...files("position-at-risk.json"),
        out,
        strategies: ["none", "time"],
        returns: RETURNS_EXAMPLE,
        paths: 2,
        horizonDays: 10,
        png: false,
      });
      assert.deepEqual(written.written.names, ["report.md", "results.json", "hf-paths.svg", "hf-percentiles.svg", "cost-vs-risk.svg", "cost-vs-drawdown.svg"]);
      const results = JSON.parse(readFileSync(path.join(out, "results.json"), "utf8"));
      assert.equal(results.source.kind, "replay");
      assert.equal(written.run.paths.pricePaths.length, 2);
    });

    it("bad options name their flag (exit 2) before anything is written", async function () {
      const out = path.join(dir, "backtest-never");
      await rejectsWith(
        () => runBacktestFiles({ ...files("position-at-risk.json"), out, paths: 0 }),
        BacktestOptionsError,
        2,
        /^--paths: expected an integer >= 1 and <= 100000, got 0$/,
      );
      await rejectsWith(
        () => runBacktestFiles({ ...files("position-at-risk.json"), out, strategies: ["hodl"] }),
        BacktestOptionsError,
        2,
        /^--strategies: unknown strategy "hodl"/,
      );
      await rejectsWith(
        () => runBacktestFiles({ ...files("position-at-risk.json"), out, returns: RETURNS_EXAMPLE, seed: 2 }),
        BacktestOptionsError,
        2,
        /^--seed: applies to simulated paths/,
      );
      await rejectsWith(
        () => runBacktestFiles({ ...files("position-at-risk.json"), out, model: { jumpStd: 5 } }),
        BacktestOptionsError,
        2,
        /^--jump-std: must be in \[0, 2\], got 5$/,
      );
      await rejectsWith(() => runBacktestFiles({ ...files("position-at-risk.json"), out, returns: path.join(dir, "none.csv") }), InputError, 2, /none\.csv: file not found/);
      assert.equal(existsSync(out), false, "nothing written");
    });
  });
});
