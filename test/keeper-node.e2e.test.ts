/**
 * `zks keeper run` against a real `hardhat node` on 127.0.0.1, with real proofs (rebalance-3x3x16),
 * as an operator runs it: `zks keeper keygen`, `zks deploy --keeper-key`, a configuration file, the
 * keeper as a child process whose JSON logs the test follows. The keeper talks to the node through
 * a JSON-RPC forwarder the test controls (and sends through a second one, its "private endpoint").
 *
 * Four owners register real positions at epoch 42 (proven deposits and borrows) and vanish:
 *   A  12 WETH against 19,500 USDC debt    epoch 43 (WETH 1,900) puts it under HF 1: urgent
 *   B  10 WETH against 13,000 USDC debt    epoch 43: below the trigger 1.25, above 1: flag, then the window
 *   C  1 WBTC against 55,000 USDC debt     epoch 44 (WBTC -30%): urgent, while the keeper is killed
 *   D  70,000 USDC against 12 WETH debt    epoch 45 (WETH 5,500): urgent, during an RPC outage
 * Then governance rotates the keeper key: E registers under the new key, which the running keeper
 * cannot read (a warning, counted; it keeps going); restarted with the new key and the old one
 * retired, a keeper on a fresh database opens all five.
 *
 *   npx mocha --no-config -n import=tsx --timeout 600000 test/keeper-node.e2e.test.ts
 */
import assert from "node:assert/strict";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Contract, HDNodeWallet, JsonRpcProvider, NonceManager, Wallet, type Signer } from "ethers";
import { ERC20_ABI, MARKET_ORACLE_ABI, REBALANCE_GATE_ABI } from "../packages/sdk/src/chain/abi.ts";
import { gateArguments } from "../packages/sdk/src/chain/calldata.ts";
import { custodyLayout, fromFieldSigned } from "../packages/sdk/src/chain/custody.ts";
import { LENDER_VAULT_ABI } from "../packages/sdk/src/chain/lender.ts";
import { addLiquidity, createPair, UNISWAP_V2_FACTORY_ABI } from "../packages/sdk/src/chain/uniswap-v2.ts";
import { marketRoot } from "../packages/sdk/src/commitment/market-root.ts";
import { commitPosition } from "../packages/sdk/src/commitment/position-commitment.ts";
import { arbitrageToPrice } from "../packages/cli/src/demo/custody-steps.ts";
import { decryptOpening } from "../packages/sdk/src/encryption/opening-cipher.ts";
import { parseKeeperKeyFile } from "../packages/sdk/src/encryption/keeper-key.ts";
import { loadSqlite } from "../packages/cli/src/keeper/store.ts";
import { parseMarket } from "../packages/sdk/src/inputs/parse-market.ts";
import type { Market, Position } from "../packages/sdk/src/inputs/types.ts";
import { checkPosition } from "../packages/sdk/src/model/check.ts";
import { loadWarmProver } from "../packages/node/src/load-warm-prover.ts";
import { releaseProverThreads } from "../packages/sdk/src/prover/release.ts";
import { rebalanceInput } from "../packages/sdk/src/prover/witness/rebalance.ts";
import { registrationTransition } from "../packages/sdk/src/rebalance/registration.ts";
import { assertOneLineError, zksAsync } from "./helpers/cli.ts";
import { example, loadPolicy } from "./helpers/examples.ts";
import { KeeperProcess, RpcProxy, writeKeeperConfig } from "./helpers/keeper-fixtures.ts";
import { HARDHAT_MNEMONIC, startLocalNode, type LocalNode } from "./helpers/local-node.ts";

const hardhatKey = (index: number) => HDNodeWallet.fromPhrase(HARDHAT_MNEMONIC, undefined, `m/44'/60'/0'/0/${index}`).privateKey;
const [WETH, WBTC, USDC] = [0, 1, 2];
const E6 = 10n ** 6n;
const E8 = 10n ** 8n;
const E18 = 10n ** 18n;
const LAYOUT = { nAssets: 3, nInstruments: 3, nScenarios: 16, nSwaps: 2 };
const SIGNALS = custodyLayout(3, 3, 2);
const WINDOW = 600n; // the gate's grace window for flagged positions, seconds
const KEEPER_ENV = "ZKS_TEST_KEEPER_SIGNER";

describe("zks keeper run against a hardhat node (real proofs)", function () {
  this.timeout(900_000);
  let dir: string;
  let feed: string;
  let node: LocalNode;
  let proxy: RpcProxy; // the keeper's rpcUrl
  let relay: RpcProxy; // the keeper's privateRpcUrl
  let provider: JsonRpcProvider;
  let deployer: Signer;
  let deployment: {
    contracts: { RebalanceGate: string; MarketOracle: string };
    tokens: { address: string }[];
    lenders: { address: string }[];
    uniswapV2Factory: { address: string };
  };
  let gate: Contract;
  let oracle: Contract;
  let tokens: Contract[];
  let pairs: Record<"weth" | "wbtc", Contract>;
  let keeperSecret: bigint;
  let keeperAddress: string;
  let config: string;
  let owners: Record<"A" | "B" | "C" | "D", Position>;
  const markets = new Map<number, Market>();
  const keepers: KeeperProcess[] = [];
  const rawMarket = JSON.parse(readFileSync(example("market-grid.json"), "utf8"));
  const policy = loadPolicy(parseMarket(rawMarket, "market-grid.json"));
  const keeperEnv = () => ({ [KEEPER_ENV]: hardhatKey(9), ZKS_LOG_LEVEL: "debug" });
  const startKeeper = (...extra: string[]) => {
    const keeper = new KeeperProcess(["--config", config, ...extra], keeperEnv());
    keepers.push(keeper);
    return keeper;
  };
  const send = async (contract: Contract, method: string, ...args: unknown[]) => (await contract.getFunction(method)(...args)).wait();
  const latest = async () => (await provider.getBlock("latest"))!;

  /** Writes epoch `epoch`'s market to the keeper's feed and publishes its root; pools follow the new prices by arbitrage. */
  async function publishEpoch(epoch: number, prices: Record<string, string>): Promise<Market> {
    const json = structuredClone(rawMarket);
    json.epoch = epoch;
    json.timestamp = (await latest()).timestamp;
    for (const asset of json.assets) if (prices[asset.symbol]) asset.price = prices[asset.symbol];
    writeFileSync(path.join(feed, `epoch-${epoch}.json`), `${JSON.stringify(json, null, 2)}\n`);
    const market = parseMarket(json, `epoch-${epoch}.json`);
    markets.set(epoch, market);
    await send(oracle, "publish", epoch, marketRoot(market, LAYOUT), json.timestamp);
    if (prices.WETH) await arbitrageToPrice(pairs.weth, tokens[WETH]!, tokens[USDC]!, deployer, market.assets[WETH]!, market.assets[USDC]!);
    if (prices.WBTC) await arbitrageToPrice(pairs.wbtc, tokens[WBTC]!, tokens[USDC]!, deployer, market.assets[WBTC]!, market.assets[USDC]!);
    return market;
  }

  const liquidations = async (account: string) => gate.queryFilter(gate.filters.Liquidated!(account));
  const keeperTxCount = () => provider.getTransactionCount(keeperAddress, "latest");
  const status = async () => {
    const result = await zksAsync(["keeper", "status", "--config", config, "--json"]);
    assert.equal(result.code, 0, result.stderr);
    return JSON.parse(result.stdout) as { actions: { account: string; kind: string; state: string; txHash: string | null; attempts: number }[] };
  };

  before(async function () {
    dir = mkdtempSync(path.join(tmpdir(), "zks-keeper-node-"));
    feed = path.join(dir, "markets");
    mkdirSync(feed);
    copyFileSync(example("market-grid.json"), path.join(feed, "epoch-42.json"));
    markets.set(42, parseMarket(rawMarket, "market-grid.json"));
    node = await startLocalNode();
    proxy = new RpcProxy(node.url);
    relay = new RpcProxy(node.url);
    await proxy.start();
    await relay.start();

    // The operator's key, as a keeper operator makes it; governance deploys the gate with its public half.
    const keygen = await zksAsync(["keeper", "keygen", "--out", path.join(dir, "keeper-key.json")]);
    assert.equal(keygen.code, 0, keygen.stderr);
    keeperSecret = parseKeeperKeyFile(readFileSync(path.join(dir, "keeper-key.json"), "utf8"), "keeper-key.json").secret;
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
        "USDC,WETH",
        "--keeper-key",
        path.join(dir, "keeper-key.pub.json"),
        "--liquidation-window",
        String(WINDOW),
        "--out",
        deploymentFile,
      ],
      { ZKS_PRIVATE_KEY: hardhatKey(0) },
    );
    assert.equal(deployed.code, 0, deployed.stderr);
    deployment = JSON.parse(readFileSync(deploymentFile, "utf8"));

    provider = new JsonRpcProvider(node.url, undefined, { staticNetwork: true, pollingInterval: 100 });
    deployer = new NonceManager(new Wallet(hardhatKey(0), provider));
    keeperAddress = new Wallet(hardhatKey(9)).address;
    gate = new Contract(deployment.contracts.RebalanceGate, REBALANCE_GATE_ABI, deployer);
    oracle = new Contract(deployment.contracts.MarketOracle, MARKET_ORACLE_ABI, deployer);
    const mintable = [...ERC20_ABI, "function mint(address to, uint256 amount)", "function transfer(address to, uint256 amount) returns (bool)"];
    tokens = deployment.tokens.map((t) => new Contract(t.address, mintable, deployer));
    const me = await deployer.getAddress();
    await send(oracle, "publish", 42, marketRoot(markets.get(42)!, LAYOUT), (await latest()).timestamp);

    // Lenders (USDC and WETH) funded by a depositor; pools deep enough that a liquidation's swap stays within the policy's 0.5 % slippage.
    for (const [asset, amount] of [
      [USDC, 1_000_000n * E6],
      [WETH, 1_000n * E18],
    ] as const) {
      const lender = new Contract(deployment.lenders[asset]!.address, LENDER_VAULT_ABI, deployer);
      await send(tokens[asset]!, "mint", me, amount);
      await send(tokens[asset]!, "approve", await lender.getAddress(), amount);
      await send(lender, "deposit", amount, me);
    }
    const factory = new Contract(deployment.uniswapV2Factory.address, UNISWAP_V2_FACTORY_ABI, deployer);
    const m42 = markets.get(42)!;
    const usdcFor = (amount: bigint, asset: number, unit: bigint) => (amount * m42.assets[asset]!.price * E6) / (m42.assets[USDC]!.price * unit);
    pairs = {
      weth: await createPair(factory, deployment.tokens[WETH]!.address, deployment.tokens[USDC]!.address),
      wbtc: await createPair(factory, deployment.tokens[WBTC]!.address, deployment.tokens[USDC]!.address),
    };
    for (const [pair, asset, amount, unit] of [
      [pairs.weth, WETH, 10_000n * E18, E18],
      [pairs.wbtc, WBTC, 3_000n * E8, E8],
    ] as const) {
      await send(tokens[asset]!, "mint", me, amount);
      await send(tokens[USDC]!, "mint", me, usdcFor(amount, asset, unit));
      await addLiquidity(pair, deployer, deployment.tokens[asset]!.address, amount, deployment.tokens[USDC]!.address, usdcFor(amount, asset, unit));
    }

    // The owners register (proven deposits and borrows from the empty position), then vanish.
    const context = BigInt(await gate.getFunction("context")());
    const [kx, ky] = (await gate.getFunction("keeperKey")()) as [bigint, bigint];
    const prover = await loadWarmProver("rebalance-3x3x16");
    const book: [keyof typeof owners, number, bigint[], bigint[]][] = [
      ["A", 1, [12n * E18, 0n, 0n], [0n, 0n, 19_500n * E6]],
      ["B", 2, [10n * E18, 0n, 0n], [0n, 0n, 13_000n * E6]],
      ["C", 3, [0n, E8, 0n], [0n, 0n, 55_000n * E6]],
      ["D", 4, [0n, 0n, 70_000n * E6], [12n * E18, 0n, 0n]],
    ];
    owners = {} as typeof owners;
    for (const [name, index, collateral, debt] of book) {
      const wallet = new NonceManager(new Wallet(hardhatKey(index), provider));
      const account = await wallet.getAddress();
      const position: Position = { version: 1, account, nonce: 1n, salt: 7_000n + BigInt(index), collateral, debt, quantities: [0n, 0n, 0n] };
      const t = registrationTransition(position, m42, policy);
      for (const [slot, token] of tokens.entries()) {
        if (t.flows[slot]! > 0n) {
          await send(token, "mint", account, t.flows[slot]!);
          await send(token.connect(wallet) as Contract, "approve", gate.target, t.flows[slot]!);
        }
      }
      const { proof, signals } = gateArguments(await prover.prove(rebalanceInput(t, m42, policy, LAYOUT, account, context, { keeperKey: [kx, ky] })));
      await send(gate.connect(wallet) as Contract, "register", 42, proof, signals);
      owners[name] = t.next;
    }
    await releaseProverThreads();

    config = writeKeeperConfig(dir, {
      rpcUrl: proxy.url,
      privateRpcUrl: relay.url,
      deployment: "deployment.json",
      keeperKeyFile: "keeper-key.json",
      signerKeyEnv: KEEPER_ENV,
      market: "markets",
      policy: example("policy.json"),
      instance: "rebalance-3x3x16",
      database: "keeper.sqlite",
      metricsPort: 0,
      pollIntervalMs: 400,
      jitterMs: 300,
      maxRetries: 3,
      provers: 1,
    });
  });

  after(async function () {
    for (const keeper of keepers) await keeper.cleanup();
    await proxy?.stop();
    await relay?.stop();
    await node?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
    await releaseProverThreads();
  });

  it("refuses to start with a key that is not the gate's (exit 2, one line)", async () => {
    const other = await zksAsync(["keeper", "keygen", "--out", path.join(dir, "other-key.json")]);
    assert.equal(other.code, 0, other.stderr);
    const wrong = writeKeeperConfig(dir, { ...JSON.parse(readFileSync(config, "utf8")), keeperKeyFile: "other-key.json" }, "wrong-key.config.json");
    const result = await zksAsync(["keeper", "run", "--config", wrong], keeperEnv());
    assert.equal(result.code, 2);
    assertOneLineError(
      result,
      /other-key\.json: publicKey: is not the gate's keeper key \(the gate 0x[0-9a-fA-F]{40} holds \(\d+, \d+\)\): wrong key file, or the key was rotated$/,
    );
  });

  it("an owner vanishes; after a price shock the keeper liquidates (urgent): the bonus paid to the keeper, the lender repaid, the new opening decrypts", async () => {
    const keeper = startKeeper();
    await keeper.event("started");
    const usdcLender = new Contract(deployment.lenders[USDC]!.address, LENDER_VAULT_ABI, provider);
    const debtBefore = (await usdcLender.getFunction("debtUnitsOf")(gate.target)) as bigint;
    const m43 = await publishEpoch(43, { WETH: "1900.00" });
    assert.ok(checkPosition(owners.A, m43, policy).healthFactor.value! < 10_000n, "A is under a health factor of 1");

    const mined = await keeper.event("mined", (l) => l.kind === "liquidate" && l.account === owners.A.account.toLowerCase());
    const [event] = await liquidations(owners.A.account);
    assert.ok(event, "the gate emitted Liquidated");
    const { args } = gate.interface.parseLog(event)!;
    assert.equal(args.liquidator, keeperAddress);
    assert.equal(args.urgent, true);
    assert.equal(args.epoch, 43n);
    assert.equal(event.transactionHash, mined.txHash);
    // The keeper was paid exactly the proof's bonus (in WETH, the collateral it sold), and nothing else.
    const tx = (await provider.getTransaction(event.transactionHash))!;
    const signals = (gate.interface.parseTransaction(tx)!.args.signals as bigint[]).map(BigInt);
    const bonus = signals.slice(SIGNALS.bonus, SIGNALS.bonus + 3);
    assert.ok(bonus[WETH]! > 0n, "a WETH bonus");
    for (const [i, token] of tokens.entries()) assert.equal(await token.getFunction("balanceOf")(keeperAddress), bonus[i], `the keeper holds the bonus of token ${i}`);
    assert.equal(signals[SIGNALS.liquidationBonus], 500n);
    // The lender was repaid what the proof says.
    const repaid = -fromFieldSigned(signals[SIGNALS.debtDelta + USDC]!);
    assert.ok(repaid > 0n);
    assert.equal(await usdcLender.getFunction("debtUnitsOf")(gate.target), debtBefore - repaid);
    // The new commitment's ciphertext, as the gate published it, opens with the keeper's key to the position the gate holds.
    const receipt = (await provider.getTransactionReceipt(event.transactionHash))!;
    const opened = receipt.logs.map((l) => gate.interface.parseLog(l)).find((l) => l?.name === "OpeningEncrypted")!;
    const next = decryptOpening(
      {
        account: owners.A.account,
        nonce: opened.args.nonce,
        commitment: opened.args.commitment,
        ephemeralKey: [opened.args.ephemeralKey[0], opened.args.ephemeralKey[1]],
        ciphertext: [...opened.args.ciphertext],
      },
      keeperSecret,
      m43,
      LAYOUT,
    );
    assert.equal(await gate.getFunction("commitmentOf")(owners.A.account), commitPosition(next, next.salt!, LAYOUT));
    assert.equal(next.salt, owners.A.salt, "the owner's salt is kept: the owner can still open the position");
    assert.equal(next.debt[USDC], owners.A.debt[USDC]! - repaid);
    assert.ok(checkPosition(next, m43, policy).pass, "the liquidated position passes every check");
    // Sent through the private endpoint, not the public one.
    assert.ok(relay.methods.includes("eth_sendRawTransaction"), "sent to the private endpoint");
    assert.ok(!proxy.methods.includes("eth_sendRawTransaction"), "never through the public RPC");
    owners.A = next;

    // B is below the trigger but not under 1: the keeper only flags it (and B's grace window starts).
    await keeper.event("mined", (l) => l.kind === "flag" && l.account === owners.B.account.toLowerCase());
    const [flagged, since] = (await gate.getFunction("flagOf")(owners.B.account)) as [bigint, bigint];
    assert.equal(flagged, commitPosition(owners.B, owners.B.salt!, LAYOUT));
    assert.ok(since > 0n);
    assert.equal((await liquidations(owners.B.account)).length, 0, "not liquidated within the window");
  });

  it("non-urgent: the flagged position is liquidated once the grace window has passed", async () => {
    const keeper = keepers[0]!;
    await keeper.event("flagged", (l) => l.account === owners.B.account);
    // Still inside the window: nothing happens.
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    assert.equal((await liquidations(owners.B.account)).length, 0);
    await provider.send("evm_increaseTime", [Number(WINDOW)]);
    await provider.send("evm_mine", []);
    await keeper.event("mined", (l) => l.kind === "liquidate" && l.account === owners.B.account.toLowerCase());
    const [event] = await liquidations(owners.B.account);
    const { args } = gate.interface.parseLog(event!)!;
    assert.equal(args.urgent, false);
    assert.equal(args.liquidator, keeperAddress);
    const [flagAfter] = (await gate.getFunction("flagOf")(owners.B.account)) as [bigint, bigint];
    assert.equal(flagAfter, 0n, "the flag is cleared");
  });

  it("SIGTERM: the keeper stops polling, closes the database and exits 0", async () => {
    const keeper = keepers[0]!;
    keeper.kill("SIGTERM");
    const exit = await keeper.exited;
    assert.deepEqual(exit, { code: 0, signal: null }, keeper.stderr);
    const stopped = await keeper.event("stopped");
    assert.equal(stopped.integrity, "ok");
    assert.equal(keeper.stderr, "", "nothing on stderr");
    // Closed cleanly: the write-ahead log was checkpointed into the database and removed.
    assert.equal(existsSync(path.join(dir, "keeper.sqlite-wal")), false);
    const actions = (await status()).actions.map((a) => `${a.kind} ${a.account} ${a.state}`);
    assert.deepEqual(
      actions.sort(),
      [`flag ${owners.B.account.toLowerCase()} mined`, `liquidate ${owners.A.account.toLowerCase()} mined`, `liquidate ${owners.B.account.toLowerCase()} mined`].sort(),
    );
  });

  it("killed (SIGKILL) right after recording a submission and restarted: the same transaction (same nonce) lands exactly once; the database is intact", async () => {
    await publishEpoch(44, { WETH: "1900.00", WBTC: "63861.07" });
    const nonceBefore = await keeperTxCount();
    // Blocks are mined on demand from here on, so the submission cannot land before the kill.
    await provider.send("evm_setAutomine", [false]);
    const first = startKeeper();
    const recorded = await first.event("submission_recorded", (l) => l.account === owners.C.account.toLowerCase());
    first.kill("SIGKILL");
    assert.equal((await first.exited).signal, "SIGKILL");
    // Whatever reached the node is lost with it (a node restart, a mempool eviction).
    await provider.send("hardhat_dropTransaction", [recorded.txHash]);
    await provider.send("evm_setAutomine", [true]);
    assert.equal((await liquidations(owners.C.account)).length, 0);
    const inDatabase = (await status()).actions.find((a) => a.account === owners.C.account.toLowerCase())!;
    assert.deepEqual([inDatabase.state, inDatabase.txHash], ["submitted", recorded.txHash]);

    const second = startKeeper();
    const reconciled = await second.event("reconcile", (l) => l.txHash === recorded.txHash);
    assert.equal(reconciled.status, "unknown");
    await second.event("rebroadcast", (l) => l.txHash === recorded.txHash);
    const mined = await second.event("mined", (l) => l.txHash === recorded.txHash);
    assert.equal(mined.kind, "liquidate");
    assert.equal((await liquidations(owners.C.account)).length, 1, "one liquidation");
    assert.equal(await keeperTxCount(), nonceBefore + 1, "one transaction: the recorded one, same nonce");
    assert.equal((await provider.getTransaction(recorded.txHash as string))!.nonce, recorded.nonce);
    assert.equal(second.logs.filter((l) => l.event === "proving" && l.account === owners.C.account.toLowerCase()).length, 0, "the restart did not prove again");
  });

  it("the RPC node goes away and comes back: the keeper logs the errors, keeps running, and completes its work; the private endpoint down, it falls back to the public RPC", async () => {
    const keeper = keepers.at(-1)!;
    const started = await keeper.event("started");
    const metricsUrl = started.metrics as string;
    await proxy.stop();
    await relay.stop();
    await keeper.event("poll_failed");
    // Meanwhile the oracle publishes an epoch that puts D under 1 (its WETH debt is worth more).
    await publishEpoch(45, { WETH: "5500.00", WBTC: "63861.07" });
    await keeper.waitFor((l) => l.event === "poll_failed" && (l.consecutiveFailures as number) >= 2, "a second failed poll");
    assert.equal(
      keeper.logs.some((l) => l.event === "stopped"),
      false,
      "still running",
    );
    await proxy.start(); // the public RPC is back; the private endpoint stays down
    const mined = await keeper.event("mined", (l) => l.kind === "liquidate" && l.account === owners.D.account.toLowerCase());
    assert.ok(
      keeper.logs.some((l) => l.event === "private_endpoint_failed"),
      "the private endpoint's failure was logged",
    );
    assert.ok(keeper.logs.some((l) => l.event === "broadcast" && l.via === "public" && l.action === mined.action));
    const [event] = await liquidations(owners.D.account);
    assert.equal(gate.interface.parseLog(event!)!.args.urgent, true);
    const metrics = await (await fetch(metricsUrl)).text();
    assert.ok(Number(/^rpc_errors_total (\d+)/m.exec(metrics)![1]) > 0, "rpc_errors_total counts the outage");
    assert.match(metrics, /submissions_total\{kind="liquidate",result="mined"\} 2/);
    assert.match(metrics, /^positions_tracked 4$/m);

    keeper.kill("SIGTERM");
    assert.equal((await keeper.exited).code, 0);
    // Every action once, each with one transaction: 5 actions, 5 keeper transactions on the chain.
    const actions = (await status()).actions;
    assert.equal(actions.length, 5);
    assert.ok(
      actions.every((a) => a.state === "mined"),
      JSON.stringify(actions),
    );
    assert.equal(await keeperTxCount(), 5);
    const { DatabaseSync } = loadSqlite();
    const db = new DatabaseSync(path.join(dir, "keeper.sqlite"), { readOnly: true });
    assert.equal(db.prepare("PRAGMA integrity_check").get()?.integrity_check, "ok");
    db.close();
  });

  it("key rotation: an opening under a key the keeper does not hold is a counted warning, not a stop; with the old key retired a fresh keeper opens every position; a market file that is not the published one is skipped", async () => {
    const keeper = startKeeper();
    const started = await keeper.event("started");
    await keeper.event("epoch", (l) => l.epoch === "45");
    // Governance rotates to a new key; the running keeper holds only the old one.
    const made = await zksAsync(["keeper", "keygen", "--out", path.join(dir, "keeper-key-2.json")]);
    assert.equal(made.code, 0, made.stderr);
    const newKey = parseKeeperKeyFile(readFileSync(path.join(dir, "keeper-key-2.json"), "utf8"), "keeper-key-2.json");
    await send(gate, "setKeeperKey", newKey.publicKey[0], newKey.publicKey[1]);
    await keeper.event("key_rotated", (l) => l.level === 50);
    // E registers at epoch 45, its opening encrypted to the new key.
    const m45 = markets.get(45)!;
    const wallet = new NonceManager(new Wallet(hardhatKey(5), provider));
    const account = await wallet.getAddress();
    const e: Position = { version: 1, account, nonce: 1n, salt: 7_005n, collateral: [5n * E18, 0n, 0n], debt: [0n, 0n, 0n], quantities: [0n, 0n, 0n] };
    const t = registrationTransition(e, m45, policy);
    await send(tokens[WETH]!, "mint", account, 5n * E18);
    await send(tokens[WETH]!.connect(wallet) as Contract, "approve", gate.target, 5n * E18);
    const prover = await loadWarmProver("rebalance-3x3x16");
    const { proof, signals } = gateArguments(
      await prover.prove(rebalanceInput(t, m45, policy, LAYOUT, account, BigInt(await gate.getFunction("context")()), { keeperKey: newKey.publicKey })),
    );
    await releaseProverThreads();
    await send(gate.connect(wallet) as Contract, "register", 45, proof, signals);
    const failed = await keeper.event("decrypt_failed", (l) => l.account === account.toLowerCase());
    assert.equal(failed.keyGeneration, "2");
    // A market file that is not what the oracle published (a tampered price) is never used.
    const json = JSON.parse(readFileSync(path.join(feed, "epoch-45.json"), "utf8"));
    json.epoch = 46;
    json.timestamp = (await latest()).timestamp;
    await send(oracle, "publish", 46, marketRoot(parseMarket(json, "published"), LAYOUT), json.timestamp);
    json.assets[WETH].price = "100.00";
    writeFileSync(path.join(feed, "epoch-46.json"), JSON.stringify(json));
    const skipped = await keeper.event("epoch_skipped", (l) => l.epoch === "46");
    assert.equal(skipped.reason, "market");
    assert.match(skipped.msg as string, /epoch-46\.json: epoch 46's marketRoot is \d+, but the oracle published \d+: not the published market/);
    const metrics = await (await fetch(started.metrics as string)).text();
    assert.match(metrics, /^decrypt_failures_total 1$/m);
    assert.equal(
      keeper.logs.some((l) => l.event === "stopped"),
      false,
      "the keeper keeps running",
    );
    keeper.kill("SIGTERM");
    assert.equal((await keeper.exited).code, 0);
    json.assets[WETH].price = "5500.00";
    writeFileSync(path.join(feed, "epoch-46.json"), JSON.stringify(json));

    // The old key as the current one is refused at start: the gate has moved on.
    const base = JSON.parse(readFileSync(config, "utf8"));
    const stale = writeKeeperConfig(dir, { ...base, retiredKeyFiles: ["keeper-key-2.json"] }, "stale.config.json");
    const refused = await zksAsync(["keeper", "run", "--config", stale, "--once"], keeperEnv());
    assert.equal(refused.code, 2);
    assertOneLineError(refused, /keeper-key\.json: publicKey: is not the gate's current keeper key; the gate's key is one of retiredKeyFiles: swap them in the configuration$/);
    // The new key current, the old one retired, a fresh database: one pass (--once) opens all five.
    const rotated = writeKeeperConfig(
      dir,
      { ...base, keeperKeyFile: "keeper-key-2.json", retiredKeyFiles: ["keeper-key.json"], database: "keeper-2.sqlite" },
      "rotated.config.json",
    );
    const once = new KeeperProcess(["--config", rotated, "--once"], keeperEnv());
    keepers.push(once);
    assert.equal((await once.exited).code, 0, once.stderr);
    const view = await zksAsync(["keeper", "status", "--config", rotated, "--json"]);
    const positions = JSON.parse(view.stdout).positions as { account: string; decrypted: boolean; keyGeneration: string }[];
    assert.equal(positions.length, 5);
    assert.ok(
      positions.every((p) => p.decrypted),
      JSON.stringify(positions),
    );
    assert.deepEqual(positions.map((p) => p.keyGeneration).sort(), ["1", "1", "1", "1", "2"]);
  });
});
