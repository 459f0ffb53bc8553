/**
 * `zks execution` as a user runs it (docs/execution.md), then a 3-slice execution from the files
 * it wrote: `zks plan` makes a delta-neutral plan selling WETH, `zks execution schedule` splits it
 * (commitment.json public, seed.json and schedule.json private), every slice is proven from
 * seed.json (a Rebalance proof on rebalance-3x3x16 bound to a gate, and a ScheduleSlice proof)
 * and the chain verifies against the published commitment.json, the gate's context and the
 * commitment the gate holds for the position (computed from position.json, not from the chain);
 * the verifier loads its own slice key by the one name it knows. Bad input exits 2 with one line;
 * `zks execution backtest` writes its report. Minutes of proving: an e2e file.
 */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { loadCircuitArtifacts } from "../packages/node/src/artifacts.ts";
import { proveRebalance, type RebalanceProof } from "../packages/sdk/src/api/rebalance.ts";
import { gateContext } from "../packages/sdk/src/chain/context.ts";
import { commitPosition } from "../packages/sdk/src/commitment/position-commitment.ts";
import {
  deriveSchedule,
  SCHEDULE_SLICE_INSTANCE,
  parseCommitmentFile,
  parseSeedFile,
  proveScheduleSlice,
  scheduleTransitions,
  slicePlan,
  verifyScheduleChain,
  type ScheduleChainStep,
} from "../packages/sdk/src/execution/index.ts";
import { releaseProverThreads } from "../packages/sdk/src/prover/release.ts";
import { parsePlanFile } from "../packages/sdk/src/rebalance/plan-file.ts";
import { assertOneLineError, zks } from "./helpers/cli.ts";
import { example, loadMarket, loadPolicy, loadPosition } from "./helpers/examples.ts";
import { TEST_KEEPER } from "./helpers/keeper-key.ts";

/** A window opening tomorrow on the hour: `zks execution schedule` refuses one that has opened. */
const START = Math.ceil(Date.now() / 1000 / 3600) * 3600 + 86_400;
const GATE = gateContext(31337n, "0x5FbDB2315678afecb367f032d93F642f64180aa3");

describe("zks execution (CLI) and a 3-slice chain from its files", function () {
  let dir: string;
  const files = () => ["--position", example("position-healthy.json"), "--market", example("market-grid.json"), "--policy", example("policy.json")];

  before(function () {
    dir = mkdtempSync(path.join(os.tmpdir(), "zks-execution-"));
    writeFileSync(path.join(dir, "allow.json"), JSON.stringify({ wallet: {}, sellable: ["WETH", "WBTC"] }));
    const plan = zks("plan", ...files(), "--allow", path.join(dir, "allow.json"), "--strategy", "delta-neutral", "--out", path.join(dir, "plan.json"));
    assert.equal(plan.code, 0, plan.stderr);
  });
  after(async function () {
    rmSync(dir, { recursive: true, force: true });
    await releaseProverThreads();
  });

  it("schedule: writes the public commitment and the private seed and schedule; the seed reproduces the schedule", function () {
    const out = path.join(dir, "schedule");
    const run = zks("execution", "schedule", "--plan", path.join(dir, "plan.json"), ...files(), "--window-hours", "1.5", "--slices", "3", "--start", String(START), "--out", out);
    assert.equal(run.code, 0, run.stderr);
    const when = new Date(START * 1000).toISOString().replace(/\./g, "\\.");
    assert.match(run.stdout, new RegExp(`^schedule: 3 slices of WETH -> USDC over 5400 s from ${when} \\(1800 s apart on average\\)\nseed commitment 0x[0-9a-f]{64}\n$`));
    assert.match(run.stderr, /publish commitment\.json before the window opens, keep seed\.json and schedule\.json private/);
    for (const name of ["seed.json", "schedule.json", "commitment.json"]) assert.equal(statSync(path.join(out, name)).mode & 0o777, 0o600, `${name} is private to its owner`);
    const commitment = parseCommitmentFile(JSON.parse(readFileSync(path.join(out, "commitment.json"), "utf8")), "commitment.json");
    assert.deepEqual(commitment.window, { start: START, seconds: 5400, slices: 3 });
    assert.doesNotMatch(readFileSync(path.join(out, "commitment.json"), "utf8"), /amount|time"|WETH|swaps/);
    const seed = parseSeedFile(JSON.parse(readFileSync(path.join(out, "seed.json"), "utf8")), "seed.json");
    const schedule = JSON.parse(readFileSync(path.join(out, "schedule.json"), "utf8"));
    const market = loadMarket();
    const plan = parsePlanFile(JSON.parse(readFileSync(path.join(dir, "plan.json"), "utf8")), "plan.json", market);
    assert.deepEqual(
      seed.plan,
      plan.movements.swaps.map((s) => ({ sell: s.sell, buy: s.buy, amountIn: s.amountIn })),
    );
    const derived = deriveSchedule(seed.secret, commitment.window, seed.plan);
    assert.equal(derived.seedCommitment, commitment.seedCommitment);
    assert.deepEqual(
      schedule.slices.map((s: { time: number }) => s.time),
      derived.slices.map((s) => s.time),
    );
  });

  it("schedule: bad input exits 2 with one line naming the flag or file", function () {
    const plan = path.join(dir, "plan.json");
    const out = path.join(dir, "bad");
    assertOneLineError(zks("execution", "schedule", "--plan", plan, ...files(), "--slices", "17", "--out", out), /^zks: --slices: expected an integer from 1 to 16, got "17"$/);
    assertOneLineError(zks("execution", "schedule", "--plan", plan, ...files(), "--window-hours", "-1", "--out", out), /^zks: --window-hours: expected a number > 0/);
    assertOneLineError(zks("execution", "schedule", "--plan", path.join(dir, "missing.json"), ...files(), "--out", out), /missing\.json: file not found$/);
    assertOneLineError(zks("execution", "schedule", "--plan", plan, ...files(), "--start", "2000000000000", "--out", out), /^zks: --start: expected an integer from 0 to/);
    assertOneLineError(zks("execution", "schedule", "--plan", plan, ...files(), "--start", "1767225600", "--out", out), /^zks: --start: 1767225600 .* is not after now/);
    assertOneLineError(zks("execution", "schedule", "--plan", plan, ...files(), "--out", path.join(dir, "schedule")), /^zks: --out: .*seed\.json exists: .*--force$/);
    assertOneLineError(zks("execution", "schedule", "--plan", plan, ...files(), "--out", example("policy.json")), /^zks: --out: .* is a file/);
    const other = zks(
      "execution",
      "schedule",
      "--plan",
      plan,
      "--position",
      example("position-at-risk.json"),
      "--market",
      example("market-grid.json"),
      "--policy",
      example("policy.json"),
      "--out",
      out,
    );
    assert.equal(other.code, 2);
    assertOneLineError(other, /plan\.json: .*(account|nonce|position)/);
  });

  it("backtest: writes the report and the results; bad input exits 2", function () {
    const out = path.join(dir, "backtest");
    const run = zks("execution", "backtest", "--paths", "20", "--trade-fractions", "0.05", "--size-samples", "20", "--out", out);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /\| 5\.0% \| randomized \| 8 \|/);
    const results = JSON.parse(readFileSync(path.join(out, "execution-backtest.json"), "utf8"));
    assert.equal(results.kind, "zks-execution-backtest");
    assert.equal(results.rows.length, 4);
    assert.match(readFileSync(path.join(out, "execution-backtest.md"), "utf8"), /^# Execution backtest/);
    assertOneLineError(zks("execution", "backtest", "--paths", "0", "--out", out), /^zks: --paths: expected an integer from 1 to 100000, got "0"$/);
    assertOneLineError(zks("execution", "backtest", "--fee", "x", "--out", out), /^zks: --fee: expected a number/);
  });

  it("3 slices proven from seed.json (Rebalance + ScheduleSlice each) verify as a chain against the published commitment", async function () {
    this.timeout(900_000);
    const out = path.join(dir, "schedule");
    const market = loadMarket();
    const policy = loadPolicy(market);
    const position = loadPosition("position-healthy.json", market);
    const plan = parsePlanFile(JSON.parse(readFileSync(path.join(dir, "plan.json"), "utf8")), "plan.json", market, position);
    const commitment = parseCommitmentFile(JSON.parse(readFileSync(path.join(out, "commitment.json"), "utf8")), "commitment.json");
    const { secret, plan: committed } = parseSeedFile(JSON.parse(readFileSync(path.join(out, "seed.json"), "utf8")), "seed.json");
    const sliced = slicePlan(plan, secret, commitment.window, market, policy);
    const transitions = scheduleTransitions(sliced, position, market, policy, plan);
    const rebalanceKey = loadCircuitArtifacts("rebalance-3x3x16");
    // The verifier's own key choice: the one slice instance it knows, never commitment.json's say.
    const sliceKey = loadCircuitArtifacts(SCHEDULE_SLICE_INSTANCE);
    const steps: ScheduleChainStep[] = [];
    for (const [i, t] of transitions.entries()) {
      const rebalance: RebalanceProof = await proveRebalance({ transition: t, market, policy, keeperKey: TEST_KEEPER.publicKey, context: GATE }, rebalanceKey);
      const slice = await proveScheduleSlice(
        {
          secret,
          window: commitment.window,
          index: i,
          plan: committed,
          oldCommitment: rebalance.oldCommitment,
          newCommitment: rebalance.newCommitment,
        },
        sliceKey,
      );
      steps.push({ rebalance, slice, blockTime: slice.sliceTime + 24 });
    }
    const report = await verifyScheduleChain({
      commitment,
      context: GATE,
      steps,
      keys: { rebalance: rebalanceKey, slice: sliceKey },
      // What the gate holds for the account when the window opens: position.json's commitment, independent of the chain.
      startCommitment: commitPosition(position, position.salt!, { nAssets: 3, nInstruments: 3 }),
    });
    assert.equal(report.complete, true);
    assert.deepEqual(report.sold, [{ sell: 0, buy: 2, amountIn: plan.movements.swaps[0]!.amountIn }]);
    assert.equal(transitions.at(-1)!.next.collateral[0], position.collateral[0]! - plan.movements.swaps[0]!.amountIn);
  });
});
