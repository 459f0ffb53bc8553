/**
 * Measures one circuit instance in a process of its own (so memory figures are its own and
 * no curve or cache survives from another instance). Run by scripts/bench.ts:
 *   tsx scripts/bench/measure-instance.ts <instance> <prove|memory|pool> <runs>
 *   tsx scripts/bench/measure-instance.ts <instance> native <runs> <rapidsnark binary>
 * Prints one line `BENCH_RESULT <json>`.
 */
import { realpathSync } from "node:fs";
import { availableParallelism } from "node:os";
import * as snarkjs from "snarkjs";
import { loadInstanceArtifacts } from "../../packages/node/src/artifacts.ts";
import { loadWarmProver } from "../../packages/node/src/load-warm-prover.ts";
import { ProverPool } from "../../packages/node/src/prover-pool/prover-pool.ts";
import { generateProof, type TimedProof } from "../../packages/sdk/src/prover/prove.ts";
import { releaseProverThreads } from "../../packages/sdk/src/prover/release.ts";
import { verifyProof } from "../../packages/sdk/src/verifier/verify.ts";
import { loadInstances } from "../../packages/node/src/setup/instances.ts";
import type { ProverBackend } from "../../packages/node/src/native-prover/backend.ts";
import { proveBuiltInstance } from "../../packages/node/src/prove-built.ts";
import { benchInput } from "./inputs.ts";
import { describeMachine } from "./machine.ts";
import { largestPeakMiB, ProcessTreeSampler } from "./proc-memory.ts";
import type { NativeResult } from "./report.ts";
import { median, peakRssMiB, timed } from "./stats.ts";

const [instanceName, mode, runsArg, binaryArg] = process.argv.slice(2);
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
  // snarkjs explicitly: the pool's default (ZKS_PROVER, else auto) would take rapidsnark where one is found.
  const [started, startMs] = await timed(() => ProverPool.start([artifacts], { workers, prover: "snarkjs" }));
  try {
    await Promise.all(Array.from({ length: workers }, () => started.prove(config!.name, input)));
    const proofs = Math.max(2 * workers, runs * workers);
    const [, ms] = await timed(() => Promise.all(Array.from({ length: proofs }, () => started.prove(config!.name, input))));
    return { workers, proofs, startMs, perProofMs: ms / proofs, proofsPerMinute: (60_000 * proofs) / ms, peakMiB: peakRssMiB() };
  } finally {
    await started.close();
  }
}

/**
 * rapidsnark: one-off proofs as the CLI makes them (the whole proveBuiltInstance call, run -1
 * discarded as for the cold runs), with the peak of their rapidsnark processes; then a pool with
 * rapidsnark, measured as pool() measures snarkjs' (after each worker's first proof).
 */
async function native(): Promise<NativeResult> {
  if (!binaryArg) throw new Error("bench: native needs the rapidsnark binary as its 4th argument");
  const backend: ProverBackend = { kind: "rapidsnark", binary: binaryArg, found: "ZKS_RAPIDSNARK" };
  const exe = realpathSync(binaryArg);
  const children = new ProcessTreeSampler(process.pid, 50);
  const total: number[] = [];
  const witnessMs: number[] = [];
  const proofMs: number[] = [];
  let witness: NativeResult["witness"] = "wasm";
  for (let run = -1; run < runs; run++) {
    const [proof, ms] = await timed(() => proveBuiltInstance(input, artifacts, { prover: backend }));
    witness = proof.witness;
    if (run < 0) continue;
    total.push(ms);
    witnessMs.push(proof.timings.witnessMs);
    proofMs.push(proof.timings.proofMs);
  }
  const rapidsnarkPeakMiB = largestPeakMiB(children.stop(), (path) => path === exe);

  const workers = availableParallelism();
  const [started, startMs] = await timed(() => ProverPool.start([artifacts], { workers, prover: backend }));
  let poolResult: NativeResult["pool"];
  try {
    await Promise.all(Array.from({ length: workers }, () => started.prove(config!.name, input)));
    const proofs = Math.max(2 * workers, runs * workers);
    const [, ms] = await timed(() => Promise.all(Array.from({ length: proofs }, () => started.prove(config!.name, input))));
    poolResult = {
      workers,
      threadsPerProof: Math.max(1, Math.floor(availableParallelism() / workers)),
      proofs,
      startMs,
      perProofMs: ms / proofs,
      proofsPerMinute: (60_000 * proofs) / ms,
    };
  } finally {
    await started.close();
  }
  await releaseProverThreads();
  const machine = describeMachine();
  return {
    binary: binaryArg,
    constraints: artifacts.manifest.nConstraints,
    witness,
    oneOffMs: median(total),
    oneOffWitnessMs: median(witnessMs),
    oneOffProofMs: median(proofMs),
    ...(rapidsnarkPeakMiB !== undefined ? { rapidsnarkPeakMiB } : {}),
    pool: poolResult,
    runs,
    date: machine.date,
    commit: machine.commit,
  };
}

const measure = { prove, memory, pool, native }[mode as "prove" | "memory" | "pool" | "native"];
if (!measure) throw new Error(`bench: unknown mode ${mode}`);
const result = await measure();
process.stdout.write(`BENCH_RESULT ${JSON.stringify(result)}\n`);
