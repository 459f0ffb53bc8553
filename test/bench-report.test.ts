import assert from "node:assert/strict";
import {
  auditRowKey,
  perProofSeconds,
  projectAudit,
  projectionSection,
  renderAuditSection,
  scaleOutSection,
  scaleOutVerdict,
  targetVerdict,
  type AuditScaleResult,
  type ScaleOutResult,
  type ScaleOutRun,
} from "../scripts/bench/audit-report.ts";
import { nativeTable, renderBenchmarks, stalenessNote, type InstanceResult } from "../scripts/bench/report.ts";

/** A synthetic run: the report's arithmetic and verdicts, without measuring anything. */
function result(instance: string, constraints: number, coldMs: number, snarkjsMs: number, warmMs: number, poolMs: number): InstanceResult {
  return {
    instance,
    template: "Solvency",
    tier: "test",
    constraints,
    publicSignals: 6,
    wasmBytes: 2 ** 20,
    zkeyBytes: 3 * 2 ** 20,
    prove: {
      sdkColdMs: coldMs,
      sdkColdWitnessMs: 100,
      sdkColdProofMs: coldMs - 100,
      snarkjsColdMs: snarkjsMs,
      warmLoadMs: 300,
      warmMs,
      warmWitnessMs: 30,
      warmProofMs: warmMs - 30,
      verifyMs: 15,
      runs: 5,
    },
    memory: { baselineMiB: 125, peakMiB: 300 },
    pool: { workers: 2, proofs: 10, startMs: 800, perProofMs: poolMs, proofsPerMinute: 60_000 / poolMs, peakMiB: 500 },
    witness: { wasmColdMs: 120, wasmWarmMs: 30, nativeMs: 20, nativeBuildMs: 110_000, nativeBinaryBytes: 11 * 2 ** 20 },
  };
}

describe("BENCHMARKS.md rendering (scripts/bench/report.ts)", function () {
  const machine = { cpu: "Test CPU", cores: 2, memoryGiB: 24, os: "Linux", node: "v22.0.0", snarkjs: "0.7.6", circom2: "0.2.23", commit: "abc1234", date: "2026-11-21" };
  const gasSection = [
    "<!-- gas:begin (written by test/contracts.test.ts with ZKS_BENCHMARKS=1) -->",
    "| `V.verifyProof` (bare verifier, `eth_estimateGas`) | 6 | 252,764 | 245,580 | 1.029x |  | the generated verifier alone |",
    "<!-- gas:end -->",
  ].join("\n");

  it("states each goal's verdict per instance, with the ratios that decide it", function () {
    const markdown = renderBenchmarks({
      machine,
      runs: 5,
      results: [result("small", 1_000, 600, 600, 200, 150), result("large", 30_000, 3_000, 2_800, 2_500, 2_100)],
      changes: [{ change: "a cut", before: { small: 1_100 }, after: { small: 1_000 } }],
      gasSection,
      plotFile: "benchmarks/scaling.svg",
      seconds: 600,
    });
    assert.match(markdown, /commit abc1234/);
    // 3,000 / 2,800 = 1.07x: over the 1.05x goal on "large" only.
    assert.match(markdown, /met on 1 of 2; not on large \(1\.07x\)/);
    // Pool 3,000 / 2,100 = 1.43x misses 1.5x; 600 / 150 = 4x meets it.
    assert.match(markdown, /pool: met on 1 of 2; not on large \(1\.43x\)/);
    assert.match(markdown, /1\.029x \(\[Gas\]\(#gas\)\) \| met \|/);
    assert.match(markdown, /\| a cut \| 1,100 -> 1,000 \|/);
    assert.match(markdown, /Not measured in this run/, "no browser figures given");
    assert.ok(markdown.includes(gasSection), "the gas section is kept as the contract test wrote it");
  });
});

describe("rapidsnark beside snarkjs (scripts/bench/report.ts nativeTable)", function () {
  const base = (name: string, constraints: number) => {
    const r = {
      instance: name,
      template: "Solvency",
      tier: "test",
      constraints,
      publicSignals: 6,
      wasmBytes: 1,
      zkeyBytes: 1,
      prove: {
        sdkColdMs: 3_000,
        sdkColdWitnessMs: 100,
        sdkColdProofMs: 2_900,
        snarkjsColdMs: 3_200,
        warmLoadMs: 1,
        warmMs: 2_000,
        warmWitnessMs: 1,
        warmProofMs: 1,
        verifyMs: 1,
        runs: 5,
      },
      memory: { baselineMiB: 100, peakMiB: 280 },
      pool: { workers: 2, proofs: 10, startMs: 1, perProofMs: 1_600, proofsPerMinute: 37.5, peakMiB: 1 },
    };
    return r as InstanceResult;
  };
  const native = (constraints: number): NonNullable<InstanceResult["native"]> => ({
    binary: "/opt/rapidsnark/prover",
    constraints,
    witness: "native",
    oneOffMs: 400,
    oneOffWitnessMs: 50,
    oneOffProofMs: 330,
    rapidsnarkPeakMiB: 39,
    pool: { workers: 2, threadsPerProof: 1, proofs: 10, startMs: 1, perProofMs: 320, proofsPerMinute: 187.5 },
    runs: 5,
    date: "2026-12-06",
    commit: "def5678",
  });

  it("names the rows measured on another circuit than today's build, and the instances it could not compare", function () {
    const rows = [
      result("solvency-3x3x16", 17_154, 2000, 1900, 900, 700),
      result("audit-batch-3x3x16x2", 34_371, 5000, 4800, 2000, 1500),
      result("hvar-3x3x128", 52_603, 6000, 5000, 2500, 2000),
    ];
    assert.deepEqual(stalenessNote(rows, undefined), []);
    assert.deepEqual(stalenessNote(rows, { "solvency-3x3x16": 17_154, "audit-batch-3x3x16x2": 34_371, "hvar-3x3x128": 52_603 }), []);
    const [note] = stalenessNote(rows, { "solvency-3x3x16": 17_495, "audit-batch-3x3x16x2": 36_011, "hvar-3x3x128": undefined });
    assert.match(
      note!,
      /^\*\*Not yet re-measured:\*\* 2 of 3 instances changed since this run measured them \(constraints then -> now: `solvency-3x3x16` 17,154 -> 17,495, `audit-batch-3x3x16x2` 34,371 -> 36,011\)/,
    );
    assert.match(note!, /Not compared with today's circuits \(not built in this build directory, or no longer in instances.json\): `hvar-3x3x128`\.$/);
    const machine = { cpu: "Test CPU", cores: 2, memoryGiB: 24, os: "Linux", node: "v22.0.0", snarkjs: "0.7.6", circom2: "0.2.23", commit: "abc1234", date: "2026-11-21" };
    const page = renderBenchmarks({
      machine,
      runs: 5,
      results: rows,
      changes: [],
      plotFile: "p.svg",
      seconds: 60,
      current: { "solvency-3x3x16": 17_495, "audit-batch-3x3x16x2": 34_371, "hvar-3x3x128": 52_603 },
    });
    assert.match(page, /\*\*Not yet re-measured:\*\* 1 of 3 instances changed[^\n]*`solvency-3x3x16` 17,154 -> 17,495\)/);
    assert.ok(page.indexOf("Not yet re-measured") < page.indexOf("## Summary against the goals"), "the note comes before the tables it qualifies");
  });

  it("says when other work shared the cores during the run (load average above the cores), and nothing of load when not sampled", function () {
    const rows = [result("solvency-3x3x16", 17_154, 2000, 1900, 900, 700)];
    const machine = { cpu: "Test CPU", cores: 2, memoryGiB: 24, os: "Linux", node: "v22.0.0", snarkjs: "0.7.6", circom2: "0.2.23", commit: "abc1234", date: "2026-12-05" };
    const render = (load?: { mean: number; max: number; samples: number }) =>
      renderBenchmarks({ machine: { ...machine, ...(load && { load }) }, runs: 5, results: rows, changes: [], plotFile: "p.svg", seconds: 60 });
    assert.match(
      render({ mean: 4.91, max: 6.33, samples: 200 }),
      /^Load average \(1 min\) during the run: mean 4\.91, max 6\.33 on 2 cores: other work shared the cores, so absolute times are inflated/m,
    );
    assert.match(render({ mean: 1.2, max: 2.1, samples: 200 }), /^Load average \(1 min\) during the run: mean 1\.2, max 2\.1 on 2 cores\.$/m);
    assert.doesNotMatch(render(), /Load average/);
    const page = renderBenchmarks({ machine, runs: 5, results: rows, changes: [], plotFile: "p.svg", seconds: 60, unmeasured: [{ instance: "x-1", reason: "Error: no input" }] });
    assert.match(page, /^Not measured in this run \(the measurement failed\): `x-1` \(Error: no input\)\.$/m);
  });

  it("gives each prover's speed-up over plain snarkjs, and – where rapidsnark was not measured", function () {
    const measured = { ...base("fast", 30_000), native: native(30_000) };
    const table = nativeTable([measured, base("unmeasured", 40_000)]).join("\n");
    // 3,200 ms snarkjs: SDK cold 3,000 -> 1.07x, warm 2,000 -> 1.60x, pool 1,600 -> 2.00x, rapidsnark 400 -> 8.00x, its pool 320 -> 10.00x.
    assert.match(
      table,
      /\| `fast` \| 30,000 \| 3\.20 \| 3\.00 \| 1\.07x \| 2\.00 \| 1\.60x \| 1\.60 \| 2\.00x \| 0\.40 \| 8\.00x \| 0\.05 \| native \| 0\.32 \| 10\.00x \| 280 \/ 39 \|/,
    );
    assert.match(table, /\| `unmeasured` \| 40,000 \| 3\.20 \| 3\.00 \| 1\.07x \| 2\.00 \| 1\.60x \| 1\.60 \| 2\.00x \| – \| – \| – \| – \| – \| – \| 280 \/ – \|/);
    assert.match(table, /Measured on 2026-12-06 \(commit def5678\)/);
  });

  it("says when rapidsnark ran on another circuit than the snarkjs figures", function () {
    const table = nativeTable([{ ...base("changed", 30_000), native: native(31_500) }]).join("\n");
    assert.match(table, /0\.40 \(on 31,500 constraints\)/);
  });

  it("says rapidsnark was not measured at all rather than leaving the section out", function () {
    assert.match(nativeTable([base("a", 1_000)]).join("\n"), /Not measured in this run \(no rapidsnark found/);
  });
});

describe("the audit's figures (scripts/bench/audit-report.ts)", function () {
  const machine = { cpu: "Test CPU", cores: 2, memoryGiB: 24, os: "Linux", node: "v22.0.0", snarkjs: "0.7.6", circom2: "0.2.23", commit: "abc1234", date: "2026-12-06" };
  const row = (positions: number, prover: "snarkjs" | "rapidsnark" | undefined, totalSeconds: number): AuditScaleResult => ({
    positions,
    failing: positions / 10,
    batchSize: 4,
    fanIn: 8,
    depth: 14,
    proofsPerLevel: [2500, 313, 40, 5, 1],
    constraints: { batch: 65_121, merge: 21_586, top: 24_306 },
    workers: 2,
    ...(prover ? { prover, witness: prover === "rapidsnark" ? "native" : "wasm" } : {}),
    // 2,500 batch proofs on 2 workers in 2,500 s: 2 worker-seconds each; 359 merges in 359 s: 2 each.
    seconds: { figuresAndTree: totalSeconds - 2_859, batches: 2_500, merges: 359, total: totalSeconds, verify: 57 },
    proofsPerMinute: 2859 / (totalSeconds / 60),
    positionsPerMinute: positions / (totalSeconds / 60),
    peakRssMiB: 500,
    ...(prover === "rapidsnark" ? { rapidsnarkPeakMiB: 70 } : {}),
    bytes: { auditJson: 5_000_000, perProof: 1_400, leavesJsonl: 4_000_000 },
    machine,
  });

  it("decides the 10,000-position target from measured rows only", function () {
    assert.match(targetVerdict([row(1_000, "rapidsnark", 3_000)]), /15 minutes on 2 cores: not measured yet/, "a smaller run is not extrapolated");
    assert.match(
      targetVerdict([row(10_000, undefined, 8_510), row(10_000, "rapidsnark", 3_000)]),
      /: not met\*\*, measured: snarkjs \(wasm witness, 2 workers\): 141\.8 min; rapidsnark/,
    );
    assert.match(targetVerdict([row(10_000, undefined, 8_510), row(10_000, "rapidsnark", 900)]), /: met\*\*/);
    assert.match(targetVerdict([{ ...row(10_000, "rapidsnark", 600), machine: { ...machine, cores: 8 } }]), /not measured yet/, "8 cores do not decide a 2-core target");
  });

  it("keeps rows from before issue 20 as snarkjs rows, beside the rapidsnark ones, with time per proof by level", function () {
    const old = row(10_000, undefined, 8_510);
    assert.deepEqual(perProofSeconds(old), { batch: 2, merge: 2 });
    assert.equal(auditRowKey(old), "10000/snarkjs/2");
    const markdown = renderAuditSection([row(10_000, "rapidsnark", 3_000), old], [], { seed: 1 });
    assert.match(markdown, /\| 10,000 \| rapidsnark \| native \| 2 \|[^\n]*\| 2\.00 s \| 2\.00 s \|[^\n]*500 MiB \(\+ rapidsnark 70 MiB\)/);
    assert.match(markdown, /\| 10,000 \| snarkjs \| wasm \| 2 \|/);
    assert.match(markdown, /## Audit across worker processes \(issue 20\)\n\nNot measured yet/);
    assert.match(markdown, /^<!-- audit:begin[\s\S]*<!-- audit:end -->$/);
  });

  const scaleOut = (ratio: number): ScaleOutResult => {
    const run = (processes: number, perProof: number, ppm: number): ScaleOutRun => ({
      processes,
      jobs: 2859,
      windowSeconds: (2859 / ppm) * 60,
      proofsPerMinute: ppm,
      perProofSeconds: { batch: perProof, merge: perProof / 2 },
      proverSeconds: { batch: perProof, merge: perProof / 2 },
      coordinatorSeconds: { figuresAndTree: 90, enqueue: 10, total: 1_000 },
      retried: 0,
      workers: Array.from({ length: processes }, (_, core) => ({ worker: `h/${core}`, core, jobs: 2859 / processes, nodePeakMiB: 400, rapidsnarkPeakMiB: 70, timeMaxRssMiB: 400 })),
    });
    return {
      positions: 10_000,
      failing: 1_000,
      instances: { batch: "b", merge: "m", top: "t" },
      constraints: { batch: 65_121, merge: 21_586, top: 24_306 },
      batchSize: 4,
      fanIn: 8,
      proofsPerLevel: [2500, 313, 40, 5, 1],
      prover: "rapidsnark",
      witness: "native",
      runs: [run(1, 1, 60), run(2, 1.1, 60 * ratio)],
      ratio,
      verifySeconds: 28.59,
      machine,
    };
  };

  it("states the scale-out ratio against 1.8x", function () {
    assert.equal(scaleOutVerdict(scaleOut(1.85)), "met (1.85x)");
    assert.equal(scaleOutVerdict(scaleOut(1.6)), "not met (1.60x)");
    const markdown = scaleOutSection([scaleOut(1.85)]).join("\n");
    assert.match(markdown, /core 1: node 400 MiB, rapidsnark 70 MiB, max RSS 400 MiB/);
    assert.match(markdown, /target >= 1\.8x: met \(1\.85x\)/);
  });

  it("projects 100,000 positions level by level from the measured time per proof, labelled as a projection", function () {
    const { proofsPerLevel, rows } = projectAudit(scaleOut(1.85), 100_000, 8);
    assert.deepEqual(proofsPerLevel, [25_000, 3_125, 391, 49, 7, 1]);
    const [one, two, hosts] = rows;
    // 1 worker: 25,000 batches x 1 s, 3,573 merges x 0.5 s; figures and tree 100 s x 10.
    assert.equal(one!.batchSeconds, 25_000);
    assert.equal(one!.mergeSeconds, 3_573 * 0.5);
    assert.equal(one!.prepareSeconds, 1_000);
    // 2 workers at the 2-process rate (1.1 s): ceil per level, so the lone root proof still takes a whole proof's time.
    assert.equal(two!.batchSeconds, 12_500 * 1.1);
    assert.ok(Math.abs(two!.mergeSeconds - (1_563 + 196 + 25 + 4 + 1) * 0.55) < 1e-9);
    // 16 workers outrun the coordinator's verification (10 ms per proof: 28,573 proofs in 285.7 s).
    assert.equal(hosts!.workers, 16);
    assert.ok(Math.abs(hosts!.coordinatorBoundSeconds - 285.73) < 1e-9);
    assert.equal(hosts!.totalSeconds, hosts!.prepareSeconds + Math.max(hosts!.batchSeconds + hosts!.mergeSeconds, hosts!.coordinatorBoundSeconds));
    const markdown = projectionSection([scaleOut(1.85)], 8).join("\n");
    assert.match(markdown, /### 100,000 positions: projection, not measured/);
    for (const line of markdown.split("\n").filter((l) => l.startsWith("| ") && !l.startsWith("| setup") && !l.startsWith("| ---"))) assert.match(line, /\(projection\) \|$/);
  });
});
