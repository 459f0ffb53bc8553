/**
 * Measures one circuit instance in a process of its own (so memory figures are its own and
 * no curve or cache survives from another instance). Run by scripts/bench.ts:
 *   tsx scripts/bench/measure-instance.ts <instance> <prove|memory|pool> <runs>
 * Prints one line `BENCH_RESULT <json>`.
 */
import { availableParallelism } from "node:os";
import * as snarkjs from "snarkjs";
import { loadInstanceArtifacts } from "../../packages/node/src/artifacts.ts";
import { loadWarmProver } from "../../packages/node/src/load-warm-prover.ts";
import { ProverPool } from "../../packages/node/src/prover-pool/prover-pool.ts";
import { generateProof, type TimedProof } from "../../packages/sdk/src/prover/prove.ts";
import { releaseProverThreads } from "../../packages/sdk/src/prover/release.ts";
import { verifyProof } from "../../packages/sdk/src/verifier/verify.ts";
import { loadInstances } from "../../packages/node/src/setup/instances.ts";
import { benchInput } from "./inputs.ts";
import { median, peakRssMiB, timed } from "./stats.ts";

const [instanceName, mode, runsArg] = process.argv.slice(2);
const runs = Number(runsArg ?? 5);
const config = loadInstances().find((i) => i.name === instanceName);
if (!config) throw new Error(`bench: unknown instance ${instanceName}`);
const artifacts = loadInstanceArtifacts(config.name);
const input = benchInput(config);
// snarkjs' fullProve wants plain JSON-like signals (it unstringifies them itself).
const jsonInput = JSON.parse(JSON.stringify(input, (_key, value) => (typeof value === "bigint" ? value.toString() : value)));

async function prove(): Promise<Record<string, unknown>> {
  const sdk: TimedProof["timings"][] = [];
  const sdkTotal: number[] = [];
  const snarkjsTotal: number[] = [];
  let lastProof: TimedProof | undefined;
  // Cold: each call loads the artifacts from disk and builds the curve, as a one-off CLI run
  // does. The SDK and plain snarkjs alternate so drift on the machine hits both alike. Run -1
  // is discarded: it pays the process's one-time module loading for whichever goes first.
  for (let run = -1; run < runs; run++) {
    const sdkRun = async () => {
      const [proof, ms] = await timed(() => generateProof(input, artifacts));
      await releaseProverThreads();
      lastProof = proof;
      if (run < 0) return;
      sdk.push(proof.timings);
      sdkTotal.push(ms);
    };
    const snarkjsRun = async () => {
      const [, ms] = await timed(() => snarkjs.groth16.fullProve(jsonInput, artifacts.wasm, artifacts.zkey));
      await releaseProverThreads();
      if (run >= 0) snarkjsTotal.push(ms);
    };
    if (run % 2 !== 0) {
      await sdkRun();
      await snarkjsRun();
    } else {
      await snarkjsRun();
      await sdkRun();
    }
  }

  // Warm: artifacts, compiled witness calculator and curve loaded once.
  const [prover, loadMs] = await timed(() => loadWarmProver(artifacts));
  const warm: TimedProof["timings"][] = [];
  const warmTotal: number[] = [];
  for (let run = 0; run < runs; run++) {
    const [proof, ms] = await timed(() => prover.prove(input));
    warm.push(proof.timings);
    warmTotal.push(ms);
  }

  const verifyMs: number[] = [];
  for (let run = 0; run < runs; run++) {
    const [ok, ms] = await timed(() => verifyProof(artifacts.verificationKey, lastProof!));
    if (!ok) throw new Error(`bench: a ${config!.name} proof did not verify`);
    verifyMs.push(ms);
  }
  await releaseProverThreads();
  return {
    sdkColdMs: median(sdkTotal),
    sdkColdWitnessMs: median(sdk.map((t) => t.witnessMs)),
    sdkColdProofMs: median(sdk.map((t) => t.proofMs)),
    snarkjsColdMs: median(snarkjsTotal),
    warmLoadMs: loadMs,
    warmMs: median(warmTotal),
    warmWitnessMs: median(warm.map((t) => t.witnessMs)),
    warmProofMs: median(warm.map((t) => t.proofMs)),
    verifyMs: median(verifyMs),
    runs,
  };
}

/** Peak memory of one cold proof, and of the process before it (Node, tsx, the SDK loaded). */
async function memory(): Promise<Record<string, unknown>> {
  const baselineMiB = peakRssMiB();
  await generateProof(input, artifacts);
  await releaseProverThreads();
  return { baselineMiB, peakMiB: peakRssMiB() };
}

/** Throughput of the prover pool, one worker per core, after each worker's first proof. */
async function pool(): Promise<Record<string, unknown>> {
  const workers = availableParallelism();
  const [started, startMs] = await timed(() => ProverPool.start([artifacts], { workers }));
  try {
    await Promise.all(Array.from({ length: workers }, () => started.prove(config!.name, input)));
    const proofs = Math.max(2 * workers, runs * workers);
    const [, ms] = await timed(() => Promise.all(Array.from({ length: proofs }, () => started.prove(config!.name, input))));
    return { workers, proofs, startMs, perProofMs: ms / proofs, proofsPerMinute: (60_000 * proofs) / ms, peakMiB: peakRssMiB() };
  } finally {
    await started.close();
  }
}

const measure = { prove, memory, pool }[mode as "prove" | "memory" | "pool"];
if (!measure) throw new Error(`bench: unknown mode ${mode}`);
const result = await measure();
process.stdout.write(`BENCH_RESULT ${JSON.stringify(result)}\n`);
