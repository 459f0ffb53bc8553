/**
 * `npm run bench:keeper [-- --positions 100] [--provers 1]`: the keeper service at scale, against a
 * real `hardhat node` with real proofs (rebalance-3x3x16), not part of `npm test`.
 *
 *   1. `zks deploy` with a keeper key; N owners register positions at epoch 42 (the SDK in a loop:
 *      real proofs from a ProverPool, real `register` transactions), each 10 WETH against
 *      15,700 + 8 * i USDC of debt: healthy at epoch 42, all under a health factor of 1 at 1,900.
 *   2. `zks keeper run` (a child process, as an operator runs it) follows the chain, decrypts and
 *      evaluates the N positions: positions evaluated per second, from its own log lines (its
 *      first pass, which decrypts every opening, and the pass at the next epoch, which only
 *      evaluates: openings are decrypted once per commitment and kept); and the two steps
 *      (decryptOpening, checkPosition) timed separately in this process.
 *   3. The oracle publishes epoch 43 (WETH 1,900, the pool arbitraged to it): the time from the
 *      publication's receipt to the keeper's first submitted liquidation.
 *   4. The keeper proves and submits N liquidations back to back with its warm prover: proofs per
 *      minute, and its resident memory (prom-client's process_resident_memory_bytes, scraped from
 *      its metrics endpoint twice a second): peak, and the mean over its first 10 proofs against
 *      its last 10 (flat memory: no growth with the number of proofs).
 * Writes benchmarks/keeper.json and prints a Markdown table (BENCHMARKS.md's keeper section).
 */
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { Contract, HDNodeWallet, JsonRpcProvider, NonceManager, Wallet, type Signer } from "ethers";
import { ERC20_ABI, MARKET_ORACLE_ABI, REBALANCE_GATE_ABI } from "../packages/sdk/src/chain/abi.ts";
import { gateArguments } from "../packages/sdk/src/chain/calldata.ts";
import { LENDER_VAULT_ABI } from "../packages/sdk/src/chain/lender.ts";
import { addLiquidity, createPair, UNISWAP_V2_FACTORY_ABI } from "../packages/sdk/src/chain/uniswap-v2.ts";
import { marketRoot } from "../packages/sdk/src/commitment/market-root.ts";
import { arbitrageToPrice } from "../packages/cli/src/demo/custody-steps.ts";
import { decryptOpening } from "../packages/sdk/src/encryption/opening-cipher.ts";
import { parseMarket } from "../packages/sdk/src/inputs/parse-market.ts";
import type { Position } from "../packages/sdk/src/inputs/types.ts";
import { checkPosition } from "../packages/sdk/src/model/check.ts";
import { ProverPool } from "../packages/node/src/prover-pool/prover-pool.ts";
import { rebalanceInput } from "../packages/sdk/src/prover/witness/rebalance.ts";
import { registrationTransition } from "../packages/sdk/src/rebalance/registration.ts";
import { PACKAGE_ROOT } from "../packages/node/src/setup/paths.ts";
import { zksAsync } from "../test/helpers/cli.ts";
import { example, loadPolicy } from "../test/helpers/examples.ts";
import { KeeperProcess, writeKeeperConfig, writeKeeperKey, type KeeperLog } from "../test/helpers/keeper-fixtures.ts";
import { HARDHAT_MNEMONIC, startLocalNode } from "../test/helpers/local-node.ts";
import { describeMachine } from "./bench/machine.ts";

const { values } = parseArgs({
  options: {
    positions: { type: "string", default: "100" },
    provers: { type: "string", default: "1" },
    // auto (the keeper's own default) takes rapidsnark when one is installed: name it to compare.
    prover: { type: "string", default: "auto" },
    out: { type: "string", default: path.join(PACKAGE_ROOT, "benchmarks", "keeper.json") },
  },
});
const N = Number(values.positions);
const PROVERS = Number(values.provers);
if (!Number.isInteger(N) || N < 10) throw new Error(`--positions: at least 10 (first 10 against last 10), got ${values.positions}`);
if (!Number.isInteger(PROVERS) || PROVERS < 1) throw new Error(`--provers: a positive whole number, got ${values.provers}`);
if (!["auto", "snarkjs", "rapidsnark"].includes(values.prover!)) throw new Error(`--prover: auto, snarkjs or rapidsnark, got ${values.prover}`);

const [WETH, USDC] = [0, 2];
const E6 = 10n ** 6n;
const E18 = 10n ** 18n;
const LAYOUT = { nAssets: 3, nInstruments: 3, nScenarios: 16, nSwaps: 2 };
const INSTANCE = "rebalance-3x3x16";
const KEEPER_ENV = "ZKS_BENCH_KEEPER_SIGNER";
const walletAt = (index: number) => HDNodeWallet.fromPhrase(HARDHAT_MNEMONIC, undefined, `m/44'/60'/0'/0/${index}`);
const log = (line: string) => process.stderr.write(`${line}\n`);
const seconds = (ms: number) => Number((ms / 1000).toFixed(2));
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(xs.length, 1);
const MiB = (bytes: number) => Number((bytes / 2 ** 20).toFixed(1));

async function main(): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), "zks-bench-keeper-"));
  const feed = path.join(dir, "markets");
  mkdirSync(feed);
  copyFileSync(example("market-grid.json"), path.join(feed, "epoch-42.json"));
  const rawMarket = JSON.parse(readFileSync(example("market-grid.json"), "utf8"));
  const m42 = parseMarket(rawMarket, "market-grid.json");
  const policy = loadPolicy(m42);
  const node = await startLocalNode();
  let keeper: KeeperProcess | undefined;
  try {
    const key = writeKeeperKey(dir, "keeper-key");
    const deploymentFile = path.join(dir, "deployment.json");
    const deployed = await zksAsync(
      [
        "deploy",
        "--rpc",
        node.url,
        "--market",
        example("market-grid.json"),
        "--policy",
        example("policy.json"),
        "--test-tokens",
        "--test-lenders",
        "USDC",
        "--keeper-key",
        key.pubFile,
        "--out",
        deploymentFile,
      ],
      { ZKS_PRIVATE_KEY: walletAt(0).privateKey },
    );
    if (deployed.code !== 0) throw new Error(`zks deploy failed: ${deployed.stderr}`);
    const deployment = JSON.parse(readFileSync(deploymentFile, "utf8"));
    const provider = new JsonRpcProvider(node.url, undefined, { staticNetwork: true, pollingInterval: 100 });
    const deployer: Signer = new NonceManager(new Wallet(walletAt(0).privateKey, provider));
    const me = await deployer.getAddress();
    const send = async (contract: Contract, method: string, ...args: unknown[]) => (await contract.getFunction(method)(...args)).wait();
    const gate = new Contract(deployment.contracts.RebalanceGate, REBALANCE_GATE_ABI, deployer);
    const oracle = new Contract(deployment.contracts.MarketOracle, MARKET_ORACLE_ABI, deployer);
    const mintable = [...ERC20_ABI, "function mint(address to, uint256 amount)", "function transfer(address to, uint256 amount) returns (bool)"];
    const tokens = (deployment.tokens as { address: string }[]).map((t) => new Contract(t.address, mintable, deployer));
    const latest = async () => (await provider.getBlock("latest"))!;
    await send(oracle, "publish", 42, marketRoot(m42, LAYOUT), (await latest()).timestamp);

    // The lender's liquidity, and a pool deep enough for N liquidations' sales within the 0.5 % slippage bound.
    const lender = new Contract(deployment.lenders[USDC].address, LENDER_VAULT_ABI, deployer);
    const lent = BigInt(N) * 17_000n * E6;
    await send(tokens[USDC]!, "mint", me, lent);
    await send(tokens[USDC]!, "approve", await lender.getAddress(), lent);
    await send(lender, "deposit", lent, me);
    const factory = new Contract(deployment.uniswapV2Factory.address, UNISWAP_V2_FACTORY_ABI, deployer);
    const pair = await createPair(factory, deployment.tokens[WETH].address, deployment.tokens[USDC].address);
    const depth = 1_000_000n * E18;
    const usdcDepth = (depth * m42.assets[WETH]!.price * E6) / (m42.assets[USDC]!.price * E18);
    await send(tokens[WETH]!, "mint", me, depth);
    await send(tokens[USDC]!, "mint", me, usdcDepth);
    await addLiquidity(pair, deployer, deployment.tokens[WETH].address, depth, deployment.tokens[USDC].address, usdcDepth);

    // 1. N owners register, proven by a pool of 2 workers (the owners' side; not the keeper's figure).
    const context = BigInt(await gate.getFunction("context")());
    const [kx, ky] = (await gate.getFunction("keeperKey")()) as [bigint, bigint];
    const owners = Array.from({ length: N }, (_, i) => walletAt(100 + i));
    const transitions = owners.map((w, i) => {
      const position: Position = {
        version: 1,
        account: w.address,
        nonce: 1n,
        salt: 1_000_000n + BigInt(i),
        collateral: [10n * E18, 0n, 0n],
        debt: [0n, 0n, (15_700n + 8n * BigInt(i)) * E6],
        quantities: [0n, 0n, 0n],
      };
      if (!checkPosition(position, m42, policy).pass) throw new Error(`position ${i} does not pass at epoch 42`);
      return registrationTransition(position, m42, policy);
    });
    log(`registering ${N} positions (real proofs, 2 pool workers)...`);
    const registrationStart = performance.now();
    const pool = await ProverPool.start([INSTANCE], { workers: 2 });
    const proofs = new Array<Awaited<ReturnType<ProverPool["prove"]>>>(N);
    for await (const outcome of pool.proveEach(
      INSTANCE,
      transitions.map((t) => rebalanceInput(t, m42, policy, LAYOUT, t.next.account, context, { keeperKey: [kx, ky] })),
    )) {
      if ("error" in outcome) throw outcome.error;
      proofs[outcome.index] = outcome.proof;
    }
    await pool.close();
    const registrationProofMs = performance.now() - registrationStart;
    for (const [i, w] of owners.entries()) {
      const wallet = new NonceManager(new Wallet(w.privateKey, provider));
      await provider.send("hardhat_setBalance", [w.address, "0x56BC75E2D63100000"]); // 100 ETH for gas
      await send(tokens[WETH]!, "mint", w.address, 10n * E18);
      await send(tokens[WETH]!.connect(wallet) as Contract, "approve", gate.target, 10n * E18);
      const { proof, signals } = gateArguments(proofs[i]!);
      await send(gate.connect(wallet) as Contract, "register", 42, proof, signals);
    }
    const registrationMs = performance.now() - registrationStart;
    log(`registered ${N} positions in ${seconds(registrationMs)} s (${seconds(registrationProofMs)} s proving)`);

    // The keeper's own two steps per position, in this process: decrypt the published opening, evaluate it.
    const events = await gate.queryFilter(gate.filters.OpeningEncrypted!());
    const published = events.map((e) => {
      const { args } = gate.interface.parseLog(e)!;
      return {
        account: args.account as string,
        nonce: args.nonce as bigint,
        commitment: args.commitment as bigint,
        ephemeralKey: [args.ephemeralKey[0], args.ephemeralKey[1]] as const,
        ciphertext: [...args.ciphertext] as bigint[],
      };
    });
    const rounds = 5;
    let decryptMs = 0;
    let evaluateMs = 0;
    for (let round = 0; round < rounds; round++) {
      for (const p of published) {
        const t0 = performance.now();
        const position = decryptOpening(p, key.key.secret, m42, LAYOUT);
        const t1 = performance.now();
        checkPosition(position, m42, policy);
        evaluateMs += performance.now() - t1;
        decryptMs += t1 - t0;
      }
    }
    const inProcess = {
      positions: published.length,
      rounds,
      decryptMsPerPosition: Number((decryptMs / (rounds * published.length)).toFixed(3)),
      evaluateMsPerPosition: Number((evaluateMs / (rounds * published.length)).toFixed(3)),
      positionsPerSecond: Math.round((rounds * published.length * 1000) / (decryptMs + evaluateMs)),
    };

    // 2. The keeper service follows the chain and evaluates every position.
    const config = writeKeeperConfig(dir, {
      rpcUrl: node.url,
      deployment: "deployment.json",
      keeperKeyFile: key.file,
      signerKeyEnv: KEEPER_ENV,
      market: "markets",
      policy: example("policy.json"),
      instance: INSTANCE,
      database: "keeper.sqlite",
      metricsPort: 0,
      pollIntervalMs: 1_000,
      jitterMs: 0,
      provers: PROVERS,
    });
    keeper = new KeeperProcess(["--config", config, "--prover", values.prover!], { [KEEPER_ENV]: walletAt(9).privateKey });
    const started = await keeper.event("started", undefined, 300_000);
    // What made the proofs, as the keeper reports it ("rapidsnark-native", "pool", ...): auto depends on the machine.
    const proverBackend = String(started.prover);
    log(`the keeper proves with ${proverBackend}`);
    const metricsUrl = started.metrics as string;
    const firstPass = await keeper.event("evaluated", (l) => l.epoch === "42" && l.evaluated === N, 300_000);
    const service = {
      positions: firstPass.evaluated as number,
      ms: firstPass.ms as number,
      positionsPerSecond: Math.round(((firstPass.evaluated as number) * 1000) / (firstPass.ms as number)),
    };
    log(`the keeper evaluated ${service.positions} positions in ${service.ms} ms (decrypt + model)`);

    // Memory: the keeper's resident set from its metrics endpoint, twice a second, with the proofs done so far.
    const samples: { t: number; rss: number; heap: number; proofs: number }[] = [];
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        try {
          const text = await (await fetch(metricsUrl)).text();
          const rss = Number(/^process_resident_memory_bytes (\d+)/m.exec(text)?.[1]);
          const heap = Number(/^nodejs_heap_size_used_bytes (\d+)/m.exec(text)?.[1]);
          if (rss > 0) samples.push({ t: Date.now(), rss, heap, proofs: keeper!.logs.filter((l) => l.event === "proved").length });
        } catch {
          // the keeper is between scrapes or stopping
        }
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    })();

    // 3. A new epoch: WETH at 1,900 puts every position under a health factor of 1.
    const json = structuredClone(rawMarket);
    json.epoch = 43;
    json.timestamp = (await latest()).timestamp;
    json.assets[WETH].price = "1900.00";
    writeFileSync(path.join(feed, "epoch-43.json"), JSON.stringify(json, null, 2));
    const m43 = parseMarket(json, "epoch-43.json");
    await arbitrageToPrice(pair, tokens[WETH]!, tokens[USDC]!, deployer, m43.assets[WETH]!, m43.assets[USDC]!);
    await send(oracle, "publish", 43, marketRoot(m43, LAYOUT), json.timestamp);
    const publishedAt = Date.now();
    log("epoch 43 published; the keeper liquidates...");
    const epochPass = await keeper.event("evaluated", (l) => l.epoch === "43", 600_000);
    const perEpoch = {
      positions: epochPass.evaluated as number,
      ms: epochPass.ms as number,
      positionsPerSecond: Math.round(((epochPass.evaluated as number) * 1000) / (epochPass.ms as number)),
    };
    const firstSubmitted = await keeper.event("submitted", undefined, 600_000);
    const epochToSubmittedMs = Date.parse(firstSubmitted.time as string) - publishedAt;

    // 4. N liquidations back to back.
    const minedAll = await keeper.waitFor(() => keeper!.logs.filter((l) => l.event === "mined" && l.kind === "liquidate").length >= N, `${N} liquidations mined`, 60 * 60_000);
    void minedAll;
    sampling = false;
    await sampler;
    const proved = keeper.logs.filter((l): l is KeeperLog & { time: string; proofSeconds: number } => l.event === "proved");
    const proving = keeper.logs.filter((l) => l.event === "proving") as (KeeperLog & { time: string })[];
    const spanMs = Date.parse(proved.at(-1)!.time) - Date.parse(proving[0]!.time);
    const refused = keeper.logs.filter((l) => l.event === "refused" || l.event === "reverted" || l.event === "unprovable").length;
    const first10 = samples.filter((s) => s.proofs >= 1 && s.proofs <= 10).map((s) => s.rss);
    const last10 = samples.filter((s) => s.proofs > N - 10).map((s) => s.rss);
    const liquidations = (await gate.queryFilter(gate.filters.Liquidated!())).length;

    keeper.kill("SIGTERM");
    const exit = await keeper.exited;
    const result = {
      generatedBy: `npm run bench:keeper -- --positions ${N} --provers ${PROVERS} --prover ${values.prover}`,
      instance: INSTANCE,
      positions: N,
      provers: PROVERS,
      prover: proverBackend,
      registration: {
        seconds: seconds(registrationMs),
        provingSeconds: seconds(registrationProofMs),
        note: "the owners' registrations: a 2-worker ProverPool, then N register transactions",
      },
      evaluation: { firstPass: service, newEpoch: perEpoch, inProcess },
      epochToSubmittedMs,
      keeperSinceEpochMs: firstSubmitted.sinceEpochMs,
      proofs: {
        count: proved.length,
        spanSeconds: seconds(spanMs),
        perMinute: Number(((proved.length * 60_000) / spanMs).toFixed(1)),
        meanProofSeconds: Number(mean(proved.map((p) => p.proofSeconds)).toFixed(2)),
        liquidationsOnChain: liquidations,
        refusedOrReverted: refused,
      },
      memory: {
        samples: samples.length,
        peakRssMiB: MiB(Math.max(...samples.map((s) => s.rss))),
        first10MeanRssMiB: MiB(mean(first10)),
        last10MeanRssMiB: MiB(mean(last10)),
        /** Mean resident memory while proofs 1-10, 11-20, ... were made: the trend, not one window. */
        byTenProofsMiB: Array.from({ length: Math.ceil(N / 10) }, (_, k) => MiB(mean(samples.filter((s) => s.proofs > 10 * k && s.proofs <= 10 * (k + 1)).map((s) => s.rss)))),
        /** The JavaScript heap in use (the keeper's own state lives there; the prover's curve threads' memory does not). */
        heapByTenProofsMiB: Array.from({ length: Math.ceil(N / 10) }, (_, k) => MiB(mean(samples.filter((s) => s.proofs > 10 * k && s.proofs <= 10 * (k + 1)).map((s) => s.heap)))),
      },
      keeperExit: exit,
      machine: describeMachine(),
    };
    writeFileSync(values.out!, `${JSON.stringify(result, null, 2)}\n`);
    process.stdout.write(`${markdown(result)}\n`);
    log(`wrote ${path.relative(process.cwd(), values.out!)}`);
  } finally {
    await keeper?.cleanup();
    await node.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

function markdown(r: {
  positions: number;
  provers: number;
  prover: string;
  evaluation: {
    firstPass: { positionsPerSecond: number; ms: number };
    newEpoch: { positionsPerSecond: number; ms: number };
    inProcess: { positionsPerSecond: number; decryptMsPerPosition: number; evaluateMsPerPosition: number };
  };
  epochToSubmittedMs: number;
  keeperSinceEpochMs: unknown;
  proofs: { count: number; perMinute: number; meanProofSeconds: number; liquidationsOnChain: number };
  memory: { peakRssMiB: number; first10MeanRssMiB: number; last10MeanRssMiB: number; byTenProofsMiB: number[]; heapByTenProofsMiB: number[] };
  machine: { cpu: string; cores: number; node: string; date: string };
}): string {
  return [
    `### Keeper service (\`npm run bench:keeper\`: ${r.positions} positions, rebalance-3x3x16, ${r.provers} prover${r.provers === 1 ? "" : "s"}, backend ${r.prover})`,
    "",
    "| figure | value |",
    "| --- | ---: |",
    `| positions evaluated per second at a new epoch, by the service (model only: openings decrypted once, kept in its database) | ${r.evaluation.newEpoch.positionsPerSecond.toLocaleString("en-US")} (${r.positions} in ${r.evaluation.newEpoch.ms} ms) |`,
    `| positions decrypted and evaluated per second, by the service (its first pass: every opening decrypted) | ${r.evaluation.firstPass.positionsPerSecond.toLocaleString("en-US")} (${r.positions} in ${r.evaluation.firstPass.ms} ms) |`,
    `| per position, in-process: decrypt (ECDH, subgroup checks, Poseidon decryption, commitment check) / evaluate (the model) | ${r.evaluation.inProcess.decryptMsPerPosition} ms / ${r.evaluation.inProcess.evaluateMsPerPosition} ms |`,
    `| liquidation proofs per minute (${r.proofs.count} back to back, mean ${r.proofs.meanProofSeconds} s each) | ${r.proofs.perMinute} |`,
    `| time from a new epoch (publication's receipt) to a submitted liquidation | ${(r.epochToSubmittedMs / 1000).toFixed(2)} s (${Number(r.keeperSinceEpochMs) / 1000} s after the keeper saw the epoch) |`,
    `| liquidations on chain | ${r.proofs.liquidationsOnChain} |`,
    `| keeper resident memory: peak | ${r.memory.peakRssMiB} MiB |`,
    `| keeper resident memory: mean over proofs 1-10 / over the last 10 | ${r.memory.first10MeanRssMiB} / ${r.memory.last10MeanRssMiB} MiB |`,
    `| keeper resident memory by ten proofs (1-10, 11-20, ...) | ${r.memory.byTenProofsMiB.join(", ")} MiB |`,
    `| keeper JavaScript heap in use by ten proofs | ${r.memory.heapByTenProofsMiB.join(", ")} MiB |`,
    "",
    `${r.machine.cpu}, ${r.machine.cores} cores, Node ${r.machine.node}, ${r.machine.date}.`,
  ].join("\n");
}

await main();
