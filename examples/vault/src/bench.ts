/**
 * Browser proving benchmark: starts a prover worker, loads one Solvency instance (fetch, witness
 * calculator compile, curve build: "workerStartMs"), proves the example position `runs` times and
 * verifies the last proof. The result goes to #bench-result (JSON) and window.zksBench, for
 * test/browser.e2e.test.ts, which writes benchmarks/browser.json from it (test/vault-page.e2e.test.ts
 * runs it once with the test instance, so that it keeps working).
 */
import { BrowserProver, instanceLayout, type InstanceInfo } from "@zk-solvency/sdk/browser";
import { parseMarket, parsePolicy, parsePosition } from "@zk-solvency/sdk/inputs";
import { solvencyInput } from "@zk-solvency/sdk/prover";
import { verifyProof } from "@zk-solvency/sdk/verifier";

interface ServedInstance extends InstanceInfo {
  files: { wasm: string; zkey: string; vkey: string };
}

export interface BenchResult {
  instance: string;
  constraints: number;
  userAgent: string;
  hardwareConcurrency: number;
  workerStartMs: number;
  runs: { witnessMs: number; proofMs: number; proveMs: number }[];
  verified: boolean;
}

const status = document.getElementById("bench-status")!;
const log = (line: string) => document.getElementById("bench-log")!.append(Object.assign(document.createElement("li"), { textContent: line }));

async function getJson<T>(url: string): Promise<T> {
  const response = await fetch(url, { cache: "no-store" });
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status} ${await response.text()}`);
  return (await response.json()) as T;
}

async function bench(): Promise<BenchResult> {
  const params = new URLSearchParams(location.search);
  const name = params.get("instance") ?? "solvency-8x8x16";
  const runs = Number(params.get("runs") ?? "3");
  const instances = await getJson<ServedInstance[]>("/zks/instances.json");
  const info = instances.find((i) => i.instance === name);
  if (!info) throw new Error(`instance ${name} is not built (built: ${instances.map((i) => i.instance).join(", ")})`);
  if (info.template !== "Solvency") throw new Error(`${name} is a ${info.template} instance; this benchmark proves Solvency`);
  const market = parseMarket(await getJson<unknown>("/zks/examples/market.json"), "market.json");
  const policy = parsePolicy(await getJson<unknown>("/zks/policy.json"), "policy.json", market);
  const position = parsePosition(await getJson<unknown>("/zks/examples/position.json"), "position.json", market);
  const signals = solvencyInput(position, market, policy, instanceLayout(info));

  const started = performance.now();
  const prover = BrowserProver.start();
  await prover.load({ instance: name, wasm: info.files.wasm, zkey: info.files.zkey });
  const workerStartMs = performance.now() - started;
  log(`worker started and ${name} loaded in ${workerStartMs.toFixed(0)} ms`);
  const results: BenchResult["runs"] = [];
  let last;
  for (let i = 0; i < runs; i++) {
    status.textContent = `proving ${i + 1} of ${runs}...`;
    last = await prover.prove(name, signals);
    const { witnessMs, proofMs } = last.timings;
    results.push({ witnessMs, proofMs, proveMs: witnessMs + proofMs });
    log(`run ${i + 1}: ${(witnessMs + proofMs).toFixed(0)} ms (witness ${witnessMs.toFixed(0)} ms, proof ${proofMs.toFixed(0)} ms)`);
  }
  const verified = last ? await verifyProof(await getJson(info.files.vkey), last) : false;
  prover.terminate();
  return {
    instance: name,
    constraints: info.nConstraints,
    userAgent: navigator.userAgent,
    hardwareConcurrency: navigator.hardwareConcurrency,
    workerStartMs,
    runs: results,
    verified,
  };
}

bench().then(
  (result) => {
    (window as unknown as { zksBench: BenchResult }).zksBench = result;
    document.getElementById("bench-result")!.textContent = JSON.stringify(result, null, 2);
    status.dataset.state = "done";
    status.textContent = result.verified ? "done; the last proof verifies" : "done, but the last proof does NOT verify";
  },
  (error: unknown) => {
    console.error(error);
    status.dataset.state = "error";
    status.textContent = error instanceof Error ? error.message : String(error);
  },
);
