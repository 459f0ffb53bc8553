import assert from "node:assert/strict";
import { renderBenchmarks, type InstanceResult } from "../scripts/bench/report.ts";

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
