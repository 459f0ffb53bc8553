/**
 * The gate contracts with REAL Groth16 proofs (docs/custody.md): the MarketOracle, the
 * RebalanceGate holding every committed balance in tokens, against a real Uniswap v2 pair
 * (`@uniswap/v2-core`'s published artifacts) and the LenderVault, and the AuditRegistry. Every
 * registration and rebalance here is a proof of `rebalance-3x3x16` made with the SDK
 * (rebalanceInput -> generateProof) and verified by the generated Rebalance3x3x16Verifier; each
 * attack is rejected with its named error, a short sequence checks the custody invariants (1) and
 * (2) on-chain after every step, and the gas per call goes to BENCHMARKS.md (ZKS_BENCHMARKS=1).
 *
 *   npx mocha --no-config -n import=tsx --timeout 600000 test/contracts.test.ts
 *   ZKS_BENCHMARKS=1 npx mocha --no-config -n import=tsx --timeout 600000 test/contracts.test.ts   # also writes BENCHMARKS.md's Gas section
 */
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { Interface, type Contract, type Signer, type TransactionReceipt } from "ethers";
import { artifacts, network } from "hardhat";
import { AUDIT_REGISTRY_ABI, gateEnforcement, MARKET_ORACLE_ABI, REBALANCE_GATE_ABI } from "../packages/sdk/src/chain/abi.ts";
import { gateArguments, parseGateError, type GateArguments } from "../packages/sdk/src/chain/calldata.ts";
import { gateContext } from "../packages/sdk/src/chain/context.ts";
import { custodyLayout, decodeTransition, rebalanceFlows, toFieldSigned } from "../packages/sdk/src/chain/custody.ts";
import { borrowAssets, INDEX_ONE, LENDER_VAULT_ABI } from "../packages/sdk/src/chain/lender.ts";
import { deployUniswapV2Factory } from "../packages/node/src/deploy/uniswap-v2-factory.ts";
import { addLiquidity, createPair, quoteAmountOut } from "../packages/sdk/src/chain/uniswap-v2.ts";
import { marketRoot } from "../packages/sdk/src/commitment/market-root.ts";
import { policyHash } from "../packages/sdk/src/commitment/policy-hash.ts";
import { commitPosition } from "../packages/sdk/src/commitment/position-commitment.ts";
import { SNARK_FIELD } from "../packages/sdk/src/core/field.ts";
import { decryptOpening } from "../packages/sdk/src/encryption/opening-cipher.ts";
import { QUANTITY_DECIMALS } from "../packages/sdk/src/core/fixed-point.ts";
import type { Market, Policy, Position } from "../packages/sdk/src/inputs/types.ts";
import { loadInstanceArtifacts, type InstanceArtifacts } from "../packages/node/src/artifacts.ts";
import { generateProof, type ZkProof } from "../packages/sdk/src/prover/prove.ts";
import { releaseProverThreads } from "../packages/sdk/src/prover/release.ts";
import { rebalanceInput } from "../packages/sdk/src/prover/witness/rebalance.ts";
import { solvencyInput } from "../packages/sdk/src/prover/witness/solvency.ts";
import { checkPosition } from "../packages/sdk/src/model/check.ts";
import { checkTransition, emptyPosition, noMovements, type Movements, type Transition } from "../packages/sdk/src/rebalance/transition.ts";
import {
  BARE_VERIFIER_NOTE,
  borrow,
  flow,
  gasSection,
  groth16MinimumGas,
  LAYOUT,
  repay,
  revertsWith,
  transitionOf,
  USDC,
  WBTC,
  WETH,
  writeGasSection,
  type GasRow,
} from "./helpers/contracts-fixtures.ts";
import { splitGas } from "./helpers/gas-trace.ts";
import { TEST_KEEPER } from "./helpers/keeper-key.ts";
import { loadMarket, loadPolicy } from "./helpers/examples.ts";
import { withPolicy } from "./helpers/model-fixtures.ts";

const SOLVENCY = "solvency-3x3x16";
const REBALANCE = "rebalance-3x3x16";
const EPOCH = 42n;
/** Seconds a published market stays fresh in these tests. */
const FRESHNESS = 3_600n;
const E6 = 10n ** 6n;
const E8 = 10n ** 8n;
const E18 = 10n ** 18n;
/** The instance's public-signal layout (docs/custody.md, docs/enforcement.md): 50 signals. */
const SIGNALS = custodyLayout(LAYOUT.nAssets, LAYOUT.nInstruments, LAYOUT.nSwaps);
/** Instrument slot 1 (ETH-26DEC26-2800-P) has an option token; slots 0 and 2 have none. */
const PUT = 1;
/** The USDC lender's borrow rate: 5 % a year, per second at 10^18 (so the index visibly moves). */
const LENDER_RATE = (5n * 10n ** 16n) / (365n * 24n * 3600n);
/** The gate's liquidation terms (docs/enforcement.md): a 5 % bonus, a ten-minute grace window (within an epoch's freshness). */
const BONUS_BPS = 500n;
const LIQUIDATION_WINDOW = 600n;
/** A zero-to-non-zero SSTORE, cold. */
const NEW_SLOT = 22_100n;
/** A keeper's transition credits the owner's share to claimable: the account's and the token's total (new the first time) and a ClaimableCredited log (LOG3, one word). */
const CREDIT = 2n * NEW_SLOT + 4n * 375n + 8n * 32n;
/** The OpeningEncrypted log: LOG3 (375 + 3 x 375) and 8 gas per data byte (6 head words and the ciphertext). */
const OPENING_LOG = 375n + 3n * 375n + 8n * 32n * BigInt(6 + custodyLayout(LAYOUT.nAssets, LAYOUT.nInstruments, LAYOUT.nSwaps).ciphertextLength);
/** Pool depths: 5,000 WETH and 200 WBTC, each against USDC at the oracle's prices. */
const POOL = { [WETH]: 5_000n * E18, [WBTC]: 200n * E8 } as Record<number, bigint>;

const require = createRequire(import.meta.url);

/** A proof and what it was made of. */
interface Proven extends GateArguments {
  t: Transition;
  zk: ZkProof;
}

describe("gate contracts: MarketOracle, RebalanceGate with Uniswap v2 and LenderVault, AuditRegistry (real proofs, in-process network)", function () {
  let market: Market; // epoch 42: the example market with the USDC lender's projected debt index
  let root42: bigint;
  let policy: Policy;
  let solvencyArtifacts: InstanceArtifacts;
  let rebalanceArtifacts: InstanceArtifacts;
  let ethers: Awaited<ReturnType<typeof network.connect>>["ethers"];
  let hardfork: string;
  let chainId: bigint;
  let owner: Signer, alice: Signer, bob: Signer, keeper: Signer, carol: Signer, publisher: Signer, lp: Signer;
  let A: string, B: string, C: string;
  let oracle: Contract, gate: Contract, registry: Contract, lender: Contract, factory: Contract;
  let tokens: Contract[]; // WETH, WBTC, USDC
  let put: Contract; // the option token of instrument slot 1
  let pairs: Map<number, Contract>; // asset -> its pair against USDC
  let solvencyVerifier: Contract, rebalanceVerifier: Contract;
  let oracleErrors: Interface, gateErrors: Interface, registryErrors: Interface;
  let gateAddress: string;
  let gateCtx: bigint, registryCtx: bigint;

  // Proofs made once the contracts' addresses (and so contexts) are known.
  let aliceRegistration: Proven; // deposits 12.5 WETH, 25,000 USDC and 2 puts
  let bobRegistration: Proven; // deposits 2,500 USDC and borrows 7,500 USDC: HF 1.1866, below the trigger 1.25
  let carolChain1: Proven; // a registration bound to chain 1
  let carolOtherPolicy: Proven; // a registration under another policy
  let aliceClaim: GateArguments; // Solvency proof of alice's registered position, for the registry
  let aliceClaimZk: ZkProof;
  const gas: GasRow[] = [];
  let salt = 1_000_000n;
  const snapshots: Record<string, string> = {};

  const snapshot = async (): Promise<string> => ethers.provider.send("evm_snapshot", []);
  /** Back to the named state (a snapshot is consumed by evm_revert: take it again). */
  const restore = async (name: string): Promise<void> => {
    assert.equal(await ethers.provider.send("evm_revert", [snapshots[name]]), true);
    snapshots[name] = await snapshot();
  };
  const revertTo = async (id: string): Promise<void> => void (await ethers.provider.send("evm_revert", [id]));
  const increaseTime = async (seconds: bigint): Promise<void> => {
    await ethers.provider.send("evm_increaseTime", [Number(seconds)]);
    await ethers.provider.send("evm_mine", []);
  };
  const address = (signer: Signer): Promise<string> => signer.getAddress();
  const call = (contract: Contract, signer: Signer, method: string, ...args: unknown[]) => (contract.connect(signer) as Contract).getFunction(method)(...args);
  const mined = async (tx: Promise<unknown>): Promise<TransactionReceipt> => {
    const receipt = await ((await tx) as { wait(): Promise<TransactionReceipt | null> }).wait();
    assert.ok(receipt && receipt.status === 1);
    return receipt;
  };
  const tampered = <T extends GateArguments>(args: T, edit: (a: GateArguments) => void): GateArguments => {
    const copy = structuredClone({ proof: args.proof, signals: args.signals });
    edit(copy);
    return copy;
  };
  const send = (signer: Signer, fn: "register" | "rebalance", a: GateArguments, epoch = EPOCH) => call(gate, signer, fn, epoch, a.proof, a.signals);
  const balanceOf = async (token: Contract, who: string): Promise<bigint> => BigInt(await token.getFunction("balanceOf")(who));
  const nextSalt = (): bigint => ++salt;
  const moves = (): Movements => noMovements(market);

  /** The transition is one the circuit proves (checkTransition, the circuit's exact mirror), with the reason if not. */
  const provable = (t: Transition, m: Market = market): void => {
    const check = checkTransition(t, m, policy);
    assert.ok(check.valid, check.violations.map((v) => v.message).join("; "));
  };
  /** A real proof of `t` (rebalance-3x3x16), bound to the gate unless told otherwise. */
  const prove = async (t: Transition, o: { market?: Market; context?: bigint; policy?: Policy } = {}): Promise<Proven> => {
    const zk = await generateProof(
      rebalanceInput(t, o.market ?? market, o.policy ?? policy, LAYOUT, "position", o.context ?? gateCtx, { keeperKey: TEST_KEEPER.publicKey }),
      rebalanceArtifacts,
    );
    return { t, zk, ...gateArguments(zk) };
  };
  /** Checks, proves and returns the transition old -> (old + m). */
  const proveMove = async (old: Position, m: Movements, o: { forced?: boolean; market?: Market } = {}): Promise<Proven> => {
    // A keeper's transition keeps the owner's salt (the circuit's rule).
    const t = transitionOf(old, m, o.forced ? old.salt! : nextSalt(), { forced: o.forced ?? false });
    provable(t, o.market);
    return prove(t, o.market ? { market: o.market } : {});
  };
  /** The witness of `t` cannot be computed: no proof of it exists. */
  const unprovable = async (t: Transition, rule: RegExp): Promise<void> => {
    const check = checkTransition(t, market, policy);
    assert.equal(check.valid, false);
    assert.match(check.violations.map((v) => `${v.rule}: ${v.message}`).join("; "), rule);
    // The circuit's witness calculator refuses it: a constraint of packages/circuits/rebalance.circom fails.
    await assert.rejects(
      async () => generateProof(rebalanceInput(t, market, policy, LAYOUT, "position", gateCtx, { keeperKey: TEST_KEEPER.publicKey }), rebalanceArtifacts),
      (error: Error) => /the circuit rejects this input.*Assert Failed/s.test(error.message),
    );
  };
  /** The USDC lender's index now (what a borrow delivers at least: the index only grows). */
  const lenderIndex = async (): Promise<bigint> => BigInt(await lender.getFunction("debtIndex")());
  /** What selling `amountIn` of `sell` for USDC (or USDC for `buy`) delivers on the pair now. */
  const quote = async (sell: number, buy: number, amountIn: bigint): Promise<bigint> => {
    const pair = pairs.get(sell === USDC ? buy : sell)!;
    return quoteAmountOut(pair, await tokens[sell]!.getAddress(), amountIn);
  };

  /**
   * docs/custody.md's invariants on the chain, for the positions the gate holds: (1) each token's
   * balance at the gate equals the committed collateral (no one donated), the option token's the
   * committed quantities; (2) the lender's debt units of the gate equal the committed USDC debt,
   * and no position owes an asset without a lender.
   */
  async function checkCustody(positions: Position[]): Promise<void> {
    for (const [i, token] of tokens.entries()) {
      // What keeper transitions owe the accounts (claimable) is held beside the committed collateral.
      const owed = BigInt(await gate.getFunction("claimableTotal")(await token.getAddress()));
      assert.equal(await balanceOf(token, gateAddress), positions.reduce((s, p) => s + p.collateral[i]!, 0n) + owed, `invariant (1): ${market.assets[i]!.symbol}`);
    }
    assert.equal(
      await balanceOf(put, gateAddress),
      positions.reduce((s, p) => s + p.quantities[PUT]!, 0n),
      "option tokens == committed quantities",
    );
    assert.equal(
      BigInt(await lender.getFunction("debtUnitsOf")(gateAddress)),
      positions.reduce((s, p) => s + p.debt[USDC]!, 0n),
      "invariant (2): USDC debt units",
    );
    for (const i of [WETH, WBTC])
      assert.equal(
        positions.reduce((s, p) => s + p.debt[i]!, 0n),
        0n,
        `no lender, no debt: ${market.assets[i]!.symbol}`,
      );
  }

  /** A gas row of a mined gate or registry call, split by the trace. */
  async function record(
    label: string,
    receipt: TransactionReceipt,
    a: GateArguments,
    fn: "register" | "rebalance" | "flagBelowTrigger" | "liquidate" | "recordClaim",
    note: string,
  ): Promise<void> {
    const contract = fn === "recordClaim" ? registry : gate;
    const verifier = fn === "recordClaim" ? solvencyVerifier : rebalanceVerifier;
    const data = contract.interface.encodeFunctionData(fn, [EPOCH, a.proof, a.signals]);
    const split = await splitGas(ethers.provider, receipt, await verifier.getAddress());
    gas.push({ call: label, signals: a.signals.length, gasUsed: receipt.gasUsed, minimum: groth16MinimumGas(a.signals.length, data), split, note });
  }

  before(async function () {
    const example = loadMarket();
    policy = loadPolicy(example);
    solvencyArtifacts = loadInstanceArtifacts(SOLVENCY);
    rebalanceArtifacts = loadInstanceArtifacts(REBALANCE);
    assert.equal(solvencyArtifacts.manifest.publicSignals.at(-1), "context", "rebuild: solvency proofs need the context signal");
    assert.deepEqual(
      rebalanceArtifacts.manifest.publicSignals.length,
      SIGNALS.count,
      `rebuild ${REBALANCE}: the custody layout has ${SIGNALS.count} public signals (docs/custody.md)`,
    );
    assert.equal(rebalanceArtifacts.manifest.publicSignals[SIGNALS.fromEmpty], "fromEmpty", `rebuild ${REBALANCE}: the custody layout (docs/custody.md)`);

    // The chain starts ten minutes after the example market's timestamp, so epoch 42 is fresh.
    const connection = await network.connect({ override: { initialDate: new Date((example.timestamp + 600) * 1000) } });
    ethers = connection.ethers;
    hardfork = "hardfork" in connection.networkConfig ? String(connection.networkConfig.hardfork) : "unknown";
    chainId = (await ethers.provider.getNetwork()).chainId;
    const signers = await ethers.getSigners();
    [owner, alice, bob, keeper, carol, publisher, lp] = signers as unknown as [Signer, Signer, Signer, Signer, Signer, Signer, Signer];
    [A, B, C] = await Promise.all([address(alice), address(bob), address(carol)]);
    assert.equal(A.toLowerCase(), "0x70997970C51812dc3A010C7d01b50e0d17dc79C8".toLowerCase(), "the example account is hardhat's account #1");
    const ownerAddress = await address(owner);
    const lpAddress = await address(lp);

    // Tokens (mintable test ERC-20s), an option token for the puts, a Uniswap v2 factory and
    // pools against USDC at the oracle's prices, a USDC LenderVault funded by a depositor.
    tokens = [];
    for (const a of example.assets) tokens.push((await ethers.deployContract("TestToken", [`Test ${a.symbol}`, a.symbol, a.decimals])) as unknown as Contract);
    put = (await ethers.deployContract("TestToken", [example.instruments[PUT]!.id, "PUT", QUANTITY_DECIMALS])) as unknown as Contract;
    const tokenAddresses = await Promise.all(tokens.map((t) => t.getAddress()));
    const mint = (t: Contract, to: string, amount: bigint) => mined(call(t, owner, "mint", to, amount));
    factory = await deployUniswapV2Factory(owner);
    pairs = new Map();
    const usdc = example.assets[USDC]!;
    for (const i of [WETH, WBTC]) {
      const a = example.assets[i]!;
      const depth = POOL[i]!;
      const quoteDepth = (depth * a.price * 10n ** BigInt(usdc.decimals)) / (10n ** BigInt(a.decimals) * usdc.price);
      await mint(tokens[i]!, lpAddress, depth);
      await mint(tokens[USDC]!, lpAddress, quoteDepth);
      const pair = await createPair(factory, tokenAddresses[i]!, tokenAddresses[USDC]!);
      await addLiquidity(pair, lp, tokenAddresses[i]!, depth, tokenAddresses[USDC]!, quoteDepth);
      pairs.set(i, pair);
    }
    lender = (await ethers.deployContract("LenderVault", [tokenAddresses[USDC]!, "Lent USDC", "lUSDC", LENDER_RATE, ownerAddress])) as unknown as Contract;
    await mint(tokens[USDC]!, lpAddress, 1_000_000n * E6);
    await mined(call(tokens[USDC]!, lp, "approve", await lender.getAddress(), 1_000_000n * E6));
    await mined(call(lender, lp, "deposit", 1_000_000n * E6, lpAddress));

    oracle = (await ethers.deployContract("MarketOracle", [ownerAddress, await address(publisher), FRESHNESS])) as unknown as Contract;
    solvencyVerifier = (await ethers.deployContract(solvencyArtifacts.manifest.verifierContract!)) as unknown as Contract;
    rebalanceVerifier = (await ethers.deployContract(rebalanceArtifacts.manifest.verifierContract!)) as unknown as Contract;
    const ZERO = ethers.ZeroAddress;
    gate = (await ethers.deployContract("RebalanceGate", [
      await oracle.getAddress(),
      tokenAddresses,
      [ZERO, await put.getAddress(), ZERO],
      [ZERO, ZERO, await lender.getAddress()],
      await factory.getAddress(),
      LAYOUT.nSwaps,
      policyHash(policy),
      gateEnforcement(TEST_KEEPER.publicKey, BONUS_BPS, LIQUIDATION_WINDOW),
      await rebalanceVerifier.getAddress(),
      ownerAddress,
    ])) as unknown as Contract;
    gateAddress = await gate.getAddress();
    await mined(call(lender, owner, "setBorrower", gateAddress));
    registry = (await ethers.deployContract("AuditRegistry", [
      await oracle.getAddress(),
      gateAddress,
      await solvencyVerifier.getAddress(),
      policyHash(policy),
      ownerAddress,
    ])) as unknown as Contract;
    oracleErrors = oracle.interface as unknown as Interface;
    gateErrors = new Interface([...REBALANCE_GATE_ABI, ...LENDER_VAULT_ABI.filter((f) => f.startsWith("error")), "error OwnableUnauthorizedAccount(address account)"]);
    registryErrors = registry.interface as unknown as Interface;

    // Wallets: what the accounts deposit; they approve the gate once (zks submit approves per call).
    for (const user of [alice, bob, carol]) {
      const who = await address(user);
      await mint(tokens[WETH]!, who, 100n * E18);
      await mint(tokens[WBTC]!, who, 5n * E8);
      await mint(tokens[USDC]!, who, 100_000n * E6);
      await mint(put, who, 10n * E8);
      for (const t of [...tokens, put]) await mined(call(t, user, "approve", gateAddress, 1n << 255n));
    }

    // Epoch 42: the example market, with the lender's index projected to the end of the window
    // (the gate takes a proof's index when it is at least the lender's).
    const index42 = BigInt(await lender.getFunction("indexAt")(BigInt(example.timestamp) + FRESHNESS));
    assert.ok(index42 > INDEX_ONE);
    market = { ...example, assets: example.assets.map((a, i) => (i === USDC ? { ...a, debtIndex: index42 } : a)) };
    root42 = marketRoot(market, LAYOUT);
    await mined(call(oracle, publisher, "publish", EPOCH, root42, market.timestamp));
    gateCtx = gateContext(chainId, gateAddress);
    registryCtx = gateContext(chainId, await registry.getAddress());

    // The registrations, each a real proof from the empty position.
    const aliceIn = flow(flow(moves(), WETH, (125n * E18) / 10n), USDC, 25_000n * E6);
    aliceIn.instrumentFlows[PUT] = 2n * E8;
    aliceRegistration = await proveMove(emptyPosition(A, market), aliceIn);
    bobRegistration = await proveMove(emptyPosition(B, market), borrow(flow(moves(), USDC, 2_500n * E6), USDC, 7_500n * E6, await lenderIndex()));
    const bobBefore = checkPosition(bobRegistration.t.next, market, policy);
    assert.ok(bobBefore.pass && bobBefore.healthFactor.numerator < policy.trigger.healthFactor * bobBefore.healthFactor.denominator, "bob is below the trigger");
    const carolIn = flow(moves(), WETH, E18);
    carolChain1 = await prove(transitionOf(emptyPosition(C, market), carolIn, nextSalt()), { context: gateContext(1n, gateAddress) });
    const otherPolicy = withPolicy(policy, (p) => (p.minHealthFactor = 10_500n));
    carolOtherPolicy = await prove(transitionOf(emptyPosition(C, market), carolIn, nextSalt()), { policy: otherPolicy });
    aliceClaimZk = await generateProof(solvencyInput(aliceRegistration.t.next, market, policy, LAYOUT, "position", registryCtx), solvencyArtifacts);
    aliceClaim = gateArguments(aliceClaimZk);
    snapshots.fresh = await snapshot();
  });

  after(releaseProverThreads);

  describe("MarketOracle", function () {
    it("publishes epoch 42's root with its timestamp; reads it back; fresh within the window", async function () {
      assert.equal(await oracle.getFunction("rootOf")(EPOCH), root42);
      assert.equal(await oracle.getFunction("timestampOf")(EPOCH), BigInt(market.timestamp));
      assert.equal(await oracle.getFunction("latestEpoch")(), EPOCH);
      assert.equal(await oracle.getFunction("isFresh")(EPOCH), true);
      assert.equal(await oracle.getFunction("isFresh")(EPOCH + 1n), false);
      assert.deepEqual([...(await oracle.getFunction("marketOf")(EPOCH - 1n))], [0n, 0n, false]);
    });

    it("only publishers publish; epochs and timestamps strictly increase; no future timestamps; roots in the field; owner-only settings", async function () {
      const id = await snapshot();
      try {
        const root = root42;
        const now = BigInt((await ethers.provider.getBlock("latest"))!.timestamp);
        await revertsWith(call(oracle, alice, "publish", 43n, root, now), oracleErrors, "MarketOracle__NotPublisher", [await address(alice)]);
        await revertsWith(call(oracle, publisher, "publish", EPOCH, root, now), oracleErrors, "MarketOracle__EpochNotIncreasing", [EPOCH, EPOCH]);
        await revertsWith(call(oracle, publisher, "publish", 43n, root, BigInt(market.timestamp)), oracleErrors, "MarketOracle__TimestampNotIncreasing");
        await revertsWith(call(oracle, publisher, "publish", 43n, root, now + 1_000n), oracleErrors, "MarketOracle__TimestampInFuture");
        await revertsWith(call(oracle, publisher, "publish", 43n, SNARK_FIELD, now), oracleErrors, "MarketOracle__InvalidRoot", [SNARK_FIELD]);
        await revertsWith(call(oracle, publisher, "publish", 43n, 0n, now), oracleErrors, "MarketOracle__InvalidRoot", [0n]);
        await revertsWith(call(oracle, alice, "setPublisher", await address(alice), true), oracleErrors, "OwnableUnauthorizedAccount");
        await revertsWith(call(oracle, alice, "setFreshnessWindow", 1n), oracleErrors, "OwnableUnauthorizedAccount");
        await revertsWith(call(oracle, owner, "setFreshnessWindow", 0n), oracleErrors, "MarketOracle__ZeroFreshnessWindow");

        await mined(call(oracle, publisher, "publish", 44n, root + 1n, now));
        assert.equal(await oracle.getFunction("latestEpoch")(), 44n);
        assert.equal(await oracle.getFunction("rootOf")(43n), 0n); // skipped epochs stay unknown
        await mined(call(oracle, owner, "setPublisher", await address(publisher), false));
        await revertsWith(call(oracle, publisher, "publish", 45n, root, now + 1n), oracleErrors, "MarketOracle__NotPublisher");
        // The window: fresh up to FRESHNESS seconds after the timestamp, stale after.
        await mined(call(oracle, owner, "setFreshnessWindow", 100n));
        await increaseTime(101n);
        assert.equal(await oracle.getFunction("isFresh")(44n), false);
      } finally {
        await revertTo(id);
      }
    });
  });

  describe("RebalanceGate.register: a proven deposit from the empty position", function () {
    beforeEach(async () => restore("fresh"));

    it("registers alice: the gate holds exactly what arrived, the commitment at nonce 1; a replay is rejected", async function () {
      const before = await Promise.all([...tokens, put].map((t) => balanceOf(t, A)));
      const receipt = await mined(send(alice, "register", aliceRegistration));
      const next = aliceRegistration.t.next;
      assert.equal(await gate.getFunction("commitmentOf")(A), commitPosition(next, next.salt!, LAYOUT));
      assert.deepEqual([...(await gate.getFunction("positionOf")(A))], [commitPosition(next, next.salt!, LAYOUT), true]);
      const [event] = await gate.queryFilter(gate.filters.PositionRegistered!());
      assert.deepEqual([...(event as unknown as { args: unknown[] }).args], [A, commitPosition(next, next.salt!, LAYOUT), EPOCH]);
      const after = await Promise.all([...tokens, put].map((t) => balanceOf(t, A)));
      assert.deepEqual(
        after.map((x, j) => before[j]! - x),
        [(125n * E18) / 10n, 0n, 25_000n * E6, 2n * E8],
      );
      await checkCustody([next]);
      assert.deepEqual(rebalanceFlows(aliceRegistration.signals, LAYOUT), [(125n * E18) / 10n, 0n, 25_000n * E6]);
      // The opening, encrypted to the keeper key: the keeper decrypts the event to the proven position.
      const [opening] = receipt.logs.map((l) => gate.interface.parseLog(l)).filter((e) => e?.name === "OpeningEncrypted");
      const o = opening!.args;
      assert.deepEqual([o.account, o.commitment, o.nonce, o.keyGeneration], [A, commitPosition(next, next.salt!, LAYOUT), 1n, 1n]);
      const published = {
        account: o.account as string,
        nonce: o.nonce as bigint,
        commitment: o.commitment as bigint,
        ephemeralKey: [...o.ephemeralKey] as [bigint, bigint],
        ciphertext: [...o.ciphertext] as bigint[],
      };
      const decrypted = decryptOpening(published, TEST_KEEPER.secret, market, LAYOUT);
      assert.deepEqual({ ...decrypted, account: decrypted.account.toLowerCase() }, { ...next, account: next.account.toLowerCase(), nonce: 1n });
      await record(
        "`RebalanceGate.register`: a proven deposit (WETH, USDC and option tokens)",
        receipt,
        aliceRegistration,
        "register",
        "checks, oracle and lender reads, proof, 3 new storage slots (the commitment; the account's key generation and flag; the key generation's count), the `OpeningEncrypted` event, 3 `transferFrom`",
      );
      await revertsWith(send(alice, "register", aliceRegistration), gateErrors, "RebalanceGate__AlreadyRegistered", [A]);
    });

    it("phantom registration: balances from nothing cannot be proven; a valid proof registers no other account and is not replayed", async function () {
      // 10,000 WETH committed with nothing deposited: the balance equation fails, no witness exists.
      const phantom = transitionOf(emptyPosition(A, market), moves(), nextSalt(), {
        next: { ...emptyPosition(A, market), nonce: 1n, salt: 5n, collateral: [10_000n * E18, 0n, 0n] },
      });
      await unprovable(phantom, /balance: WETH: new collateral 10000000000000000000000 but the movements bring it to 0 \(value from nowhere\)/);
      // An old position that is not the empty one (it claims 10,000 WETH already) cannot register.
      const rich = { ...emptyPosition(A, market), salt: 9n, collateral: [10_000n * E18, 0n, 0n] };
      await unprovable(transitionOf(rich, flow(moves(), WETH, -E18), nextSalt(), { fromEmpty: true }), /empty: a registration starts from the empty position/);

      // Alice's valid proof: bob cannot register it (for himself or for her), nor edit its account.
      await revertsWith(send(bob, "register", aliceRegistration), gateErrors, "RebalanceGate__NotAccount", [B, A]);
      await revertsWith(
        send(
          bob,
          "register",
          tampered(aliceRegistration, (a) => (a.signals[SIGNALS.account] = BigInt(B))),
        ),
        gateErrors,
        "RebalanceGate__InvalidProof",
      );
      // A registration is not a rebalance.
      await revertsWith(send(alice, "rebalance", aliceRegistration), gateErrors, "RebalanceGate__WrongFromEmpty", [0n, 1n]);
      await revertsWith(
        send(
          alice,
          "register",
          tampered(aliceRegistration, (a) => (a.signals[SIGNALS.fromEmpty] = 0n)),
        ),
        gateErrors,
        "RebalanceGate__WrongFromEmpty",
        [1n, 0n],
      );
      // Claiming a smaller deposit than proven.
      await revertsWith(
        send(
          alice,
          "register",
          tampered(aliceRegistration, (a) => (a.signals[SIGNALS.flow + WETH]! -= 1n)),
        ),
        gateErrors,
        "RebalanceGate__InvalidProof",
      );
      for (const t of tokens) assert.equal(await balanceOf(t, gateAddress), 0n);

      await mined(send(alice, "register", aliceRegistration));
      await revertsWith(send(alice, "register", aliceRegistration), gateErrors, "RebalanceGate__AlreadyRegistered", [A]);
      await revertsWith(
        send(
          alice,
          "rebalance",
          tampered(aliceRegistration, (a) => (a.signals[SIGNALS.fromEmpty] = 0n)),
        ),
        gateErrors,
        "RebalanceGate__WrongCommitment",
      );
      await checkCustody([aliceRegistration.t.next]);
    });

    it("binding: another chain's context, another policy, a signal count, a public input >= p, a tampered proof point, an unknown and a stale epoch", async function () {
      await revertsWith(send(carol, "register", carolChain1), gateErrors, "RebalanceGate__WrongContext");
      await revertsWith(send(carol, "register", carolOtherPolicy), gateErrors, "RebalanceGate__WrongPolicy");
      await revertsWith(
        send(
          alice,
          "register",
          tampered(aliceRegistration, (a) => a.signals.splice(11)),
        ),
        gateErrors,
        "RebalanceGate__WrongSignalCount",
        [BigInt(SIGNALS.count), 11n],
      );
      await revertsWith(
        send(
          alice,
          "register",
          tampered(aliceRegistration, (a) => (a.signals[SIGNALS.context]! += SNARK_FIELD)),
        ),
        gateErrors,
        "RebalanceGate__PublicInputNotInField",
        [BigInt(SIGNALS.context)],
      );
      // A valid curve point that is not the proof's: -A instead of A.
      const q = 21888242871839275222246405745257275088696311157297823662689037894645226208583n;
      await revertsWith(
        send(
          alice,
          "register",
          tampered(aliceRegistration, (a) => (a.proof.a[1] = q - a.proof.a[1])),
        ),
        gateErrors,
        "RebalanceGate__InvalidProof",
      );
      await revertsWith(
        send(
          alice,
          "register",
          tampered(aliceRegistration, (a) => (a.signals[SIGNALS.newCommitment]! += 1n)),
        ),
        gateErrors,
        "RebalanceGate__InvalidProof",
      );
      await revertsWith(send(alice, "register", aliceRegistration, 43n), gateErrors, "RebalanceGate__NotLatestEpoch", [43n, EPOCH]);
      await increaseTime(FRESHNESS);
      await revertsWith(send(alice, "register", aliceRegistration), gateErrors, "RebalanceGate__StaleEpoch", [EPOCH]);
      assert.equal(await gate.getFunction("isRegistered")(A), false);
    });
  });

  describe("RebalanceGate.rebalance: attacks, each with real proofs and its named error", function () {
    let alicePosition: Position, bobPosition: Position;
    before(async function () {
      await restore("fresh");
      await mined(send(alice, "register", aliceRegistration));
      await mined(send(bob, "register", bobRegistration));
      alicePosition = aliceRegistration.t.next;
      bobPosition = bobRegistration.t.next;
      await checkCustody([alicePosition, bobPosition]);
      snapshots.registered = await snapshot();
    });
    beforeEach(async () => restore("registered"));

    it("a withdrawal beyond the account's own deposits: bob cannot take alice's WETH", async function () {
      // Bob holds no WETH: a proof of his withdrawing 5 WETH cannot be made (his balance would be -5).
      await unprovable(transitionOf(bobPosition, flow(moves(), WETH, -5n * E18), nextSalt()), /range: new collateral of WETH would be -5000000000000000000/);
      // His valid proof of withdrawing 100 USDC, with the WETH flow edited to -5 WETH.
      const bobs = await proveMove(bobPosition, flow(moves(), USDC, -100n * E6));
      await revertsWith(
        send(
          bob,
          "rebalance",
          tampered(bobs, (a) => (a.signals[SIGNALS.flow + WETH] = toFieldSigned(-5n * E18))),
        ),
        gateErrors,
        "RebalanceGate__InvalidProof",
      );
      // Alice's valid withdrawal, sent by bob: only she may (unforced); the 1 WETH would go to her anyway.
      const alices = await proveMove(alicePosition, flow(moves(), WETH, -E18));
      await revertsWith(send(bob, "rebalance", alices), gateErrors, "RebalanceGate__NotOwnerOrKeeperForced");
      assert.equal(await balanceOf(tokens[WETH]!, gateAddress), (125n * E18) / 10n);
      // Bob's own 100 USDC comes out.
      const bobUsdc = await balanceOf(tokens[USDC]!, B);
      await mined(send(bob, "rebalance", bobs));
      assert.equal((await balanceOf(tokens[USDC]!, B)) - bobUsdc, 100n * E6);
      await checkCustody([alicePosition, bobs.t.next]);
    });

    it("a swap whose minOut exceeds what the AMM delivers: InsufficientOutput; at the output it settles on the pair", async function () {
      const out = await quote(WETH, USDC, 2n * E18);
      const greedy = moves();
      greedy.swaps = [{ sell: WETH, buy: USDC, amountIn: 2n * E18, minOut: out + 1n }];
      await revertsWith(send(alice, "rebalance", await proveMove(alicePosition, greedy)), gateErrors, "RebalanceGate__InsufficientOutput", [0n, out, out + 1n]);
      const fair = moves();
      fair.swaps = [{ sell: WETH, buy: USDC, amountIn: 2n * E18, minOut: out }];
      const proven = await proveMove(alicePosition, fair);
      await mined(send(alice, "rebalance", proven));
      await checkCustody([proven.t.next, bobPosition]);
    });

    it("a proof at a superseded epoch while it is still fresh: NotLatestEpoch; the new epoch's root, then staleness", async function () {
      const proven = await proveMove(alicePosition, flow(moves(), WETH, -E18));
      const now = BigInt((await ethers.provider.getBlock("latest"))!.timestamp);
      const index43 = BigInt(await lender.getFunction("indexAt")(now + FRESHNESS));
      const market43 = { ...market, epoch: 43, timestamp: Number(now), assets: market.assets.map((a, i) => (i === USDC ? { ...a, debtIndex: index43 } : a)) };
      await mined(call(oracle, publisher, "publish", 43n, marketRoot(market43, LAYOUT), now));
      assert.equal(await oracle.getFunction("isFresh")(EPOCH), true, "epoch 42 is still fresh");
      await revertsWith(send(alice, "rebalance", proven), gateErrors, "RebalanceGate__NotLatestEpoch", [EPOCH, 43n]);
      await revertsWith(send(alice, "rebalance", proven, 43n), gateErrors, "RebalanceGate__WrongMarketRoot", [43n]);
      const at43 = await proveMove(alicePosition, flow(moves(), WETH, -E18), { market: market43 });
      const id = await snapshot();
      await increaseTime(FRESHNESS + 1n);
      await revertsWith(send(alice, "rebalance", at43, 43n), gateErrors, "RebalanceGate__StaleEpoch", [43n]);
      await revertTo(id);
      await mined(send(alice, "rebalance", at43, 43n));
      await checkCustody([at43.t.next, bobPosition]);
    });

    it("a borrow the lender does not fund: LenderShortfall; an asset without a lender: NoLenderForAsset", async function () {
      const index = await lenderIndex();
      const greedy = borrow(moves(), USDC, 1_000n * E6, index);
      greedy.debtAssets[USDC] = greedy.debtAssets[USDC]! + E6; // credits 1 USDC the lender does not deliver
      const parsed = await revertsWith(send(alice, "rebalance", await proveMove(alicePosition, greedy)), gateErrors, "RebalanceGate__LenderShortfall");
      assert.equal(parsed.args[0], BigInt(USDC));
      assert.ok(BigInt(parsed.args[1]) < greedy.debtAssets[USDC]! && BigInt(parsed.args[1]) >= borrowAssets(1_000n * E6, index));
      // WBTC has no lender: a proven WBTC borrow is refused before any call.
      const wbtc = borrow(moves(), WBTC, E6, INDEX_ONE);
      await revertsWith(send(alice, "rebalance", await proveMove(alicePosition, wbtc)), gateErrors, "RebalanceGate__NoLenderForAsset", [BigInt(WBTC)]);
      // A funded borrow: the lender's debt units of the gate are the committed ones.
      const fair = await proveMove(alicePosition, borrow(moves(), USDC, 1_000n * E6, index));
      await mined(send(alice, "rebalance", fair));
      assert.equal(BigInt(await lender.getFunction("debtUnitsOf")(gateAddress)), 1_000n * E6 + 7_500n * E6);
      await checkCustody([fair.t.next, bobPosition]);
    });

    it("an option-token payout without backing: unprovable, tampered, and a slot without a token", async function () {
      // Bob holds no puts: paying him 2 cannot be proven (q' = -2: option tokens back longs only).
      const take = moves();
      take.instrumentFlows[PUT] = -2n * E8;
      await unprovable(transitionOf(bobPosition, take, nextSalt()), /instrument: ETH-26DEC26-2800-P: option tokens back long holdings only/);
      // Bob's valid USDC withdrawal with the put flow edited in.
      const bobs = await proveMove(bobPosition, flow(moves(), USDC, -E6));
      await revertsWith(
        send(
          bob,
          "rebalance",
          tampered(bobs, (a) => (a.signals[SIGNALS.instrumentFlow + PUT] = toFieldSigned(-2n * E8))),
        ),
        gateErrors,
        "RebalanceGate__InvalidProof",
      );
      // Slot 0 (ETH-26DEC26-3200-C) has no option token on this gate.
      const call0 = moves();
      call0.instrumentFlows[0] = E8;
      await revertsWith(send(alice, "rebalance", await proveMove(alicePosition, call0)), gateErrors, "RebalanceGate__NoTokenForInstrument", [0n]);
      assert.equal(await balanceOf(put, gateAddress), 2n * E8);
      // Alice's own puts come out.
      const back = moves();
      back.instrumentFlows[PUT] = -2n * E8;
      const proven = await proveMove(alicePosition, back);
      await mined(send(alice, "rebalance", proven));
      await checkCustody([proven.t.next, bobPosition]);
    });

    it("replay: the same proof twice (WrongCommitment); the current commitment at another nonce is no proof (InvalidProof: the commitment binds the nonce)", async function () {
      const proven = await proveMove(alicePosition, flow(moves(), WETH, -E18));
      await revertsWith(
        send(
          alice,
          "rebalance",
          tampered(proven, (a) => (a.signals[SIGNALS.nonce] = 5n)),
        ),
        gateErrors,
        "RebalanceGate__InvalidProof",
      );
      await mined(send(alice, "rebalance", proven));
      await revertsWith(send(alice, "rebalance", proven), gateErrors, "RebalanceGate__WrongCommitment");
      const current = BigInt(await gate.getFunction("commitmentOf")(A));
      await revertsWith(
        send(
          alice,
          "rebalance",
          tampered(proven, (a) => (a.signals[SIGNALS.oldCommitment] = current)),
        ),
        gateErrors,
        "RebalanceGate__InvalidProof",
      );
      // Bob's registration replayed by alice.
      await revertsWith(send(alice, "register", bobRegistration), gateErrors, "RebalanceGate__NotAccount", [A, B]);
      await checkCustody([proven.t.next, bobPosition]);
    });

    it("a keeper-forced transition that moves value: ForcedTransitionMovesValue; forcing needs the proof's flag", async function () {
      // A valid forced proof (bob below the trigger, restored above it by a repayment from
      // collateral) that also withdraws 100 USDC to bob's wallet: the gate refuses any wallet flow.
      const repaid = repay(moves(), USDC, 2_000n * E6, market.assets[USDC]!.debtIndex);
      const withdrawal = await proveMove(bobPosition, flow(repaid, USDC, -100n * E6), { forced: true });
      await revertsWith(send(keeper, "rebalance", withdrawal), gateErrors, "RebalanceGate__ForcedTransitionMovesValue");
      // A borrow in a forced transition is refused before the proof is even checked.
      const loan = tampered(withdrawal, (a) => {
        a.signals[SIGNALS.flow + USDC] = 0n;
        a.signals[SIGNALS.debtDelta + USDC] = 100n * E6;
      });
      await revertsWith(send(keeper, "rebalance", loan), gateErrors, "RebalanceGate__ForcedTransitionMovesValue");
      // No forced proof may leave a position below the trigger, nor take a new salt.
      await unprovable(
        transitionOf(bobPosition, repay(moves(), USDC, 100n * E6, market.assets[USDC]!.debtIndex), bobPosition.salt!, { forced: true }),
        /trigger: a keeper's transition must leave the position at or above the trigger/,
      );
      await unprovable(transitionOf(bobPosition, repaid, nextSalt(), { forced: true }), /trigger: a keeper's transition keeps the position's salt/);
      // Alice is far above the trigger: no forced proof of her position exists.
      await unprovable(transitionOf(alicePosition, moves(), nextSalt(), { forced: true }), /trigger: the old position is not below the trigger/);
      // Bob's own (unforced) repayment: a keeper cannot send it, nor flip its forced flag.
      const own = await proveMove(bobPosition, repay(moves(), USDC, 1_000n * E6, market.assets[USDC]!.debtIndex));
      await revertsWith(send(keeper, "rebalance", own), gateErrors, "RebalanceGate__NotOwnerOrKeeperForced");
      await revertsWith(
        send(
          keeper,
          "rebalance",
          tampered(own, (a) => (a.signals[SIGNALS.forced] = 1n)),
        ),
        gateErrors,
        "RebalanceGate__InvalidProof",
      );
      await checkCustody([alicePosition, bobPosition]);
    });

    it("tampered public signals and proofs: InvalidProof; wrong context and policy at rebalance", async function () {
      const proven = await proveMove(alicePosition, flow(moves(), USDC, -1_000n * E6));
      for (const [what, edit] of [
        ["a larger withdrawal", (a: GateArguments) => (a.signals[SIGNALS.flow + USDC] = toFieldSigned(-2_000n * E6))],
        ["another new commitment", (a: GateArguments) => (a.signals[SIGNALS.newCommitment]! += 1n)],
        ["a higher debt index", (a: GateArguments) => (a.signals[SIGNALS.debtIndex + USDC]! += 1n)],
        ["a proof point", (a: GateArguments) => (a.proof.b[0][0] += 1n)],
      ] as const) {
        await revertsWith(send(alice, "rebalance", tampered(proven, edit)), gateErrors, "RebalanceGate__InvalidProof").catch((e: Error) => assert.fail(`${what}: ${e.message}`));
      }
      await revertsWith(
        send(
          alice,
          "rebalance",
          tampered(proven, (a) => (a.signals[SIGNALS.context]! += 1n)),
        ),
        gateErrors,
        "RebalanceGate__WrongContext",
      );
      const otherChain = await prove(transitionOf(alicePosition, flow(moves(), USDC, -1_000n * E6), nextSalt()), { context: gateContext(1n, gateAddress) });
      await revertsWith(send(alice, "rebalance", otherChain), gateErrors, "RebalanceGate__WrongContext");
      // Governance moves to another policy: proofs under the old one no longer pass.
      await mined(call(gate, owner, "setPolicyHash", policyHash(withPolicy(policy, (p) => (p.minHealthFactor = 10_500n)))));
      await revertsWith(send(alice, "rebalance", proven), gateErrors, "RebalanceGate__WrongPolicy");
    });
  });

  describe("a sequence with real proofs: the custody invariants (1) and (2) hold on-chain after each step", function () {
    it("registers alice and bob; alice deposits, swaps on the pair, borrows, repays and withdraws; a keeper repays for bob; alice records an audit claim", async function () {
      await restore("fresh");
      const held = new Map<string, Position>();
      const after = async (who: string, p: Position) => {
        held.set(who, p);
        const commitment = commitPosition(p, p.salt!, LAYOUT);
        assert.deepEqual([...(await gate.getFunction("positionOf")(who))], [commitment, true]);
        await checkCustody([...held.values()]);
      };
      const wallet = (i: number, who = A) => balanceOf(tokens[i]!, who);

      await mined(send(alice, "register", aliceRegistration));
      await after(A, aliceRegistration.t.next);
      await mined(send(bob, "register", bobRegistration));
      await after(B, bobRegistration.t.next);
      // Bob's loan: the lender delivered at least what his position was credited; the excess went to his wallet.
      assert.equal(BigInt(await lender.getFunction("debtUnitsOf")(gateAddress)), 7_500n * E6);

      // A deposit.
      let p = await proveMove(held.get(A)!, flow(moves(), USDC, 1_000n * E6));
      let receipt = await mined(send(alice, "rebalance", p));
      await after(A, p.t.next);
      await record("`RebalanceGate.rebalance`: a deposit", receipt, p, "rebalance", "checks, oracle and lender reads, proof, 1 storage update, 1 `transferFrom`");

      // A swap on the v2 pair: 2 WETH for USDC; the position is credited minOut, the excess goes to alice.
      const out = await quote(WETH, USDC, 2n * E18);
      const minOut = out - out / 2_000n;
      const swap = moves();
      swap.swaps = [{ sell: WETH, buy: USDC, amountIn: 2n * E18, minOut }];
      p = await proveMove(held.get(A)!, swap);
      const usdcBefore = await wallet(USDC);
      receipt = await mined(send(alice, "rebalance", p));
      assert.equal((await wallet(USDC)) - usdcBefore, out - minOut);
      await after(A, p.t.next);
      await record(
        "`RebalanceGate.rebalance`: a swap on the v2 pair, excess forwarded",
        receipt,
        p,
        "rebalance",
        "checks, reads, proof, storage; factory `getPair`, pair `getReserves` + `swap`, 2 `transfer`",
      );

      // A borrow of 5,000 USDC units, credited to collateral.
      p = await proveMove(held.get(A)!, borrow(moves(), USDC, 5_000n * E6, await lenderIndex()));
      receipt = await mined(send(alice, "rebalance", p));
      await after(A, p.t.next);
      await record(
        "`RebalanceGate.rebalance`: a borrow from the LenderVault",
        receipt,
        p,
        "rebalance",
        "checks, reads, proof, storage; lender `borrow` (accrues, transfers), excess forwarded",
      );

      // A repayment of 2,000 units from collateral, at most what the market's index says.
      p = await proveMove(held.get(A)!, repay(moves(), USDC, 2_000n * E6, market.assets[USDC]!.debtIndex));
      receipt = await mined(send(alice, "rebalance", p));
      await after(A, p.t.next);
      await record(
        "`RebalanceGate.rebalance`: a repayment to the LenderVault from collateral",
        receipt,
        p,
        "rebalance",
        "checks, reads, proof, storage; `approve`, lender `repay` (accrues, `transferFrom`), remainder forwarded",
      );

      // A withdrawal of 0.5 WETH to alice's wallet.
      p = await proveMove(held.get(A)!, flow(moves(), WETH, -E18 / 2n));
      const wethBefore = await wallet(WETH);
      receipt = await mined(send(alice, "rebalance", p));
      assert.equal((await wallet(WETH)) - wethBefore, E18 / 2n);
      await after(A, p.t.next);
      await record("`RebalanceGate.rebalance`: a withdrawal", receipt, p, "rebalance", "checks, oracle and lender reads, proof, 1 storage update, 1 `transfer`");

      // No movement at all (a new salt): the call's base.
      p = await proveMove(held.get(A)!, moves());
      receipt = await mined(send(alice, "rebalance", p));
      await after(A, p.t.next);
      await record(
        "`RebalanceGate.rebalance`: no movement",
        receipt,
        p,
        "rebalance",
        "checks, oracle and lender reads, proof, 1 storage update (and the account's key generation read), the `OpeningEncrypted` event",
      );

      // A keeper forces bob's repayment of 2,000 units from collateral (HF 1.1866 -> above the trigger); the keeper receives nothing.
      const keeperBefore = await balanceOf(tokens[USDC]!, await address(keeper));
      p = await proveMove(held.get(B)!, repay(moves(), USDC, 2_000n * E6, market.assets[USDC]!.debtIndex), { forced: true });
      receipt = await mined(send(keeper, "rebalance", p));
      assert.equal(await balanceOf(tokens[USDC]!, await address(keeper)), keeperBefore);
      const [forcedEvent] = await gate.queryFilter(gate.filters.Rebalanced!(B));
      assert.equal((forcedEvent as unknown as { args: unknown[] }).args[5], true);
      await after(B, p.t.next);
      await record(
        "`RebalanceGate.rebalance` forced by a keeper: a repayment from collateral",
        receipt,
        p,
        "rebalance",
        "as the repayment, the remainder credited to the account's `claimable` balance (2 new slots) instead of a `transfer`; the account's proof that it was below the trigger",
      );
      assert.deepEqual(decodeTransition(p.signals, LAYOUT).debtDelta, [0n, 0n, -2_000n * E6]);

      // An audit claim for alice's current position at epoch 42, sent by a relayer.
      const current = held.get(A)!;
      const claim = gateArguments(await generateProof(solvencyInput(current, market, policy, LAYOUT, "position", registryCtx), solvencyArtifacts));
      receipt = await mined(call(registry, keeper, "recordClaim", EPOCH, claim.proof, claim.signals));
      assert.equal(await registry.getFunction("isSolvent")(A, EPOCH), true);
      await record("`AuditRegistry.recordClaim` (Solvency proof)", receipt, claim, "recordClaim", "checks, gate and oracle reads, proof, 1 new storage slot");
    });
  });

  describe("a keeper's liquidation with real proofs (docs/enforcement.md)", function () {
    it("flags bob below the trigger, waits out the window and liquidates: debt repaid from collateral, a bonus within the gate's terms to the keeper, invariants held", async function () {
      await restore("fresh");
      await mined(send(alice, "register", aliceRegistration));
      await mined(send(bob, "register", bobRegistration));
      const bobPosition = bobRegistration.t.next;
      const K = await address(keeper);
      // Repay 2,000 USDC units from bob's collateral at the market's index; the bonus is 5 % of the
      // repaid value, in USDC (the circuit bounds it by the gate's bonus rate).
      const m = repay(moves(), USDC, 2_000n * E6, market.assets[USDC]!.debtIndex);
      const bonus = [0n, 0n, (m.debtAssets[USDC]! * BONUS_BPS) / 10_000n];
      const terms = { liquidator: K, bonusBps: BONUS_BPS, bonus, urgent: false };
      const t = transitionOf(bobPosition, m, bobPosition.salt!, { liquidation: terms });
      provable(t);
      const p = await prove(t);
      // The flag: the same proof, nothing executed; the window starts.
      let receipt = await mined(call(gate, keeper, "flagBelowTrigger", EPOCH, p.proof, p.signals));
      await checkCustody([aliceRegistration.t.next, bobPosition]);
      await record(
        "`RebalanceGate.flagBelowTrigger`: a liquidation-mode proof, nothing executed",
        receipt,
        p,
        "flagBelowTrigger",
        "checks, oracle and lender reads, proof, the account's flag",
      );
      const since = BigInt((await ethers.provider.getBlock(receipt.blockNumber))!.timestamp);
      await revertsWith(call(gate, keeper, "liquidate", EPOCH, p.proof, p.signals), gateErrors, "RebalanceGate__GraceWindowOpen", [B, since + LIQUIDATION_WINDOW]);
      // A copier of the keeper's transaction, with the calldata as is or the liquidator edited to itself.
      await revertsWith(call(gate, carol, "liquidate", EPOCH, p.proof, p.signals), gateErrors, "RebalanceGate__NotLiquidator", [C, K]);
      await increaseTime(LIQUIDATION_WINDOW);
      await revertsWith(
        call(gate, carol, "liquidate", EPOCH, p.proof, tampered(p, (a) => (a.signals[SIGNALS.liquidator] = BigInt(C))).signals),
        gateErrors,
        "RebalanceGate__InvalidProof",
      );
      const keeperBefore = await Promise.all(tokens.map((token) => balanceOf(token, K)));
      const bobWallet = await balanceOf(tokens[USDC]!, await address(bob));
      receipt = await mined(call(gate, keeper, "liquidate", EPOCH, p.proof, p.signals));
      // What the lender did not take of the repayment is bob's: credited to his claimable balance,
      // not pushed to his wallet (a token refusing bob must not block the keeper).
      const credited = receipt.logs
        .map((l) => gate.interface.parseLog(l))
        .filter((e) => e?.name === "ClaimableCredited")
        .reduce((sum, e) => sum + BigInt(e!.args.amount), 0n);
      assert.equal(BigInt(await gate.getFunction("claimable")(await address(bob), await tokens[USDC]!.getAddress())), credited);
      assert.equal(await balanceOf(tokens[USDC]!, await address(bob)), bobWallet);
      await record(
        "`RebalanceGate.liquidate`: repays from collateral and pays the bonus, after the window",
        receipt,
        p,
        "liquidate",
        "as the repayment, the remainder credited to the account's `claimable` balance; the flag's window, the bonus `transfer` to the keeper",
      );
      assert.deepEqual(await Promise.all(tokens.map(async (token, i) => (await balanceOf(token, K)) - keeperBefore[i]!)), bonus);
      await checkCustody([aliceRegistration.t.next, t.next]);
      assert.deepEqual([...(await gate.getFunction("flagOf")(B))], [0n, 0n, 0n, 0n]);
      const decoded = decodeTransition(p.signals, LAYOUT);
      assert.deepEqual([decoded.liquidation, decoded.urgent, decoded.liquidator, decoded.liquidationBonus, decoded.bonus], [true, false, K.toLowerCase(), BONUS_BPS, bonus]);
      assert.deepEqual(decoded.keeperKey, [...TEST_KEEPER.publicKey]);
    });
  });

  describe("AuditRegistry.recordClaim", function () {
    it("records that alice's on-chain position passes at epoch 42; anyone can ask; replays, gate proofs, stale and unknown epochs, an old commitment are rejected", async function () {
      await restore("fresh");
      const record = (a: GateArguments, epoch = EPOCH, signer = keeper) => call(registry, signer, "recordClaim", epoch, a.proof, a.signals);
      await revertsWith(record(aliceClaim), registryErrors, "AuditRegistry__NotRegistered", [A]);
      await mined(send(alice, "register", aliceRegistration));
      // A Solvency proof bound to the gate does not replay at the registry.
      const gateBound = gateArguments(await generateProof(solvencyInput(aliceRegistration.t.next, market, policy, LAYOUT, "position", gateCtx), solvencyArtifacts));
      await revertsWith(record(gateBound), registryErrors, "AuditRegistry__WrongContext");
      await revertsWith(record(tampered(aliceClaim, (a) => (a.signals[2]! += SNARK_FIELD))), registryErrors, "AuditRegistry__PublicInputNotInField", [2n]);
      await revertsWith(record(tampered(aliceClaim, (a) => (a.proof.c[0]! += 1n))), registryErrors, "AuditRegistry__InvalidProof");
      await revertsWith(record(aliceClaim, 43n), registryErrors, "AuditRegistry__UnknownEpoch", [43n]);
      // The commitment binds the nonce: a claim at another nonce is no proof.
      await revertsWith(record(tampered(aliceClaim, (a) => (a.signals[4] = 0n))), registryErrors, "AuditRegistry__InvalidProof");
      const id = await snapshot();
      await increaseTime(FRESHNESS);
      await revertsWith(record(aliceClaim), registryErrors, "AuditRegistry__StaleEpoch", [EPOCH]);
      await revertTo(id);

      assert.equal(await registry.getFunction("isSolvent")(A, EPOCH), false);
      await mined(record(aliceClaim)); // a relayer (the keeper) submits it
      assert.equal(await registry.getFunction("isSolvent")(A, EPOCH), true);
      assert.equal(await registry.getFunction("isSolvent")(A, EPOCH + 1n), false);
      assert.equal(await registry.getFunction("claimOf")(A, EPOCH), aliceClaim.signals[0]);
      await revertsWith(record(aliceClaim), registryErrors, "AuditRegistry__AlreadyRecorded", [A, EPOCH]);
      // After a rebalance the registered position is another: the old claim proof no longer matches it.
      const moved = await proveMove(aliceRegistration.t.next, flow(moves(), USDC, -1_000n * E6));
      await mined(send(alice, "rebalance", moved));
      assert.equal(await registry.getFunction("isSolvent")(A, EPOCH), true, "the recorded claim stays");
      const id2 = await snapshot();
      await mined(call(oracle, publisher, "publish", 43n, root42, BigInt((await ethers.provider.getBlock("latest"))!.timestamp)));
      await revertsWith(record(aliceClaim, 43n), registryErrors, "AuditRegistry__WrongCommitment");
      await revertTo(id2);
    });
  });

  describe("governance", function () {
    it("only the owner sets the policy hash and the verifier, with events; the lender's borrower is set once", async function () {
      await restore("fresh");
      await revertsWith(call(gate, alice, "setPolicyHash", 1n), gateErrors, "OwnableUnauthorizedAccount", [A]);
      await revertsWith(call(gate, alice, "setVerifier", A), gateErrors, "OwnableUnauthorizedAccount", [A]);
      await revertsWith(call(registry, alice, "setPolicyHash", 1n), registryErrors, "OwnableUnauthorizedAccount");
      await revertsWith(call(registry, alice, "setVerifier", A), registryErrors, "OwnableUnauthorizedAccount");
      await revertsWith(call(gate, owner, "setVerifier", ethers.ZeroAddress), gateErrors, "RebalanceGate__ZeroAddress");
      await revertsWith(call(lender, owner, "setBorrower", A), gateErrors, "LenderVault__BorrowerAlreadySet", [gateAddress]);
      await mined(call(gate, owner, "setPolicyHash", 5n));
      assert.equal(await gate.getFunction("policyHash")(), 5n);
      await mined(call(gate, owner, "setVerifier", await solvencyVerifier.getAddress()));
      assert.equal(await gate.getFunction("rebalanceVerifier")(), await solvencyVerifier.getAddress());
      const policyEvents = await gate.queryFilter(gate.filters.PolicyHashSet!());
      assert.equal((policyEvents.at(-1) as unknown as { args: unknown[] }).args[0], 5n);
      assert.equal((await gate.queryFilter(gate.filters.VerifierSet!())).length, 2); // constructor + this one
      // With the wrong verifier (a Solvency one, 6 signals) a valid Rebalance proof fails.
      await mined(call(gate, owner, "setPolicyHash", policyHash(policy)));
      await revertsWith(send(alice, "register", aliceRegistration), gateErrors, "RebalanceGate__InvalidProof");
    });
  });

  describe("chain helpers (src/chain) and gas", function () {
    it("gateContext equals the contracts' context(); the ABI fragments match the compiled contracts; signals decode; revert data parses", async function () {
      assert.equal(await gate.getFunction("context")(), gateCtx);
      assert.equal(await registry.getFunction("context")(), registryCtx);
      assert.equal(aliceRegistration.signals[SIGNALS.context], gateCtx);
      assert.equal(await gate.getFunction("rebalanceSignalCount")(), BigInt(SIGNALS.count));
      for (const [name, abi] of [
        ["MarketOracle", MARKET_ORACLE_ABI],
        ["RebalanceGate", REBALANCE_GATE_ABI],
        ["AuditRegistry", AUDIT_REGISTRY_ABI],
      ] as const) {
        const compiled = new Interface((await artifacts.readArtifact(name)).abi as never);
        const fragments = (iface: Interface) => new Set(iface.fragments.filter((f) => f.type !== "constructor").map((f) => f.format("minimal")));
        const ours = fragments(new Interface(abi));
        const missing = [...fragments(compiled)].filter(
          (f) => !ours.has(f) && !/OwnershipTransferred|transferOwnership|renounceOwnership|Ownable|ReentrancyGuard|SafeERC20|AddressEmptyCode|FailedCall/.test(f),
        );
        assert.deepEqual(missing, [], `${name}: fragments missing from src/chain/abi.ts`);
        const extra = [...ours].filter((f) => !fragments(compiled).has(f));
        assert.deepEqual(extra, [], `${name}: fragments in src/chain/abi.ts the contract does not have`);
      }
      const decoded = decodeTransition(bobRegistration.signals, LAYOUT);
      assert.equal(decoded.account, B.toLowerCase());
      assert.deepEqual([decoded.fromEmpty, decoded.forced, decoded.nonce], [true, false, 0n]);
      assert.deepEqual(decoded.flows, [0n, 0n, 2_500n * E6]);
      assert.deepEqual(decoded.debtDelta, [0n, 0n, 7_500n * E6]);
      assert.deepEqual(decoded.debtIndex, [INDEX_ONE, INDEX_ONE, market.assets[USDC]!.debtIndex]);
      const data = gateErrors.encodeErrorResult("RebalanceGate__StaleEpoch", [EPOCH]);
      assert.equal(parseGateError(data)?.name, "RebalanceGate__StaleEpoch");
    });

    it("the bare verifiers cost close to the Groth16 minimum; gas per call goes to BENCHMARKS.md (ZKS_BENCHMARKS=1)", async function () {
      for (const [label, verifier, zkProof] of [
        [`\`${solvencyArtifacts.manifest.verifierContract}.verifyProof\``, solvencyVerifier, aliceClaimZk],
        [`\`${rebalanceArtifacts.manifest.verifierContract}.verifyProof\``, rebalanceVerifier, aliceRegistration.zk],
      ] as const) {
        const { proof, signals: input } = gateArguments(zkProof);
        const args = [proof.a, proof.b, proof.c, input];
        assert.equal(await verifier.getFunction("verifyProof")(...args), true);
        const gasUsed = await verifier.getFunction("verifyProof").estimateGas(...args);
        const minimum = groth16MinimumGas(input.length, verifier.interface.encodeFunctionData("verifyProof", args));
        assert.ok(gasUsed >= minimum, `${label}: ${gasUsed} below the minimum ${minimum}?`);
        // The generated verifier's own overhead (field checks, memory, calls) stays within the goal: 1.15x.
        assert.ok(gasUsed * 100n <= minimum * 115n, `${label}: ${gasUsed} is more than 1.15x the Groth16 minimum ${minimum}`);
        gas.unshift({ call: `${label} (bare verifier, \`eth_estimateGas\`)`, signals: input.length, gasUsed, minimum, note: BARE_VERIFIER_NOTE });
      }
      const order = [
        "Solvency3x3x16",
        "Rebalance3x3x16",
        "register",
        "no movement",
        "a deposit",
        "a withdrawal",
        "a swap",
        "a borrow",
        "a repayment",
        "keeper",
        "flagBelowTrigger",
        "liquidate",
        "recordClaim",
      ];
      const rank = (call: string) => order.findIndex((o) => call.includes(o));
      gas.sort((x, y) => rank(x.call) - rank(y.call));
      assert.equal(gas.length, 13, `gas rows: ${gas.map((r) => r.call).join("; ")} (run the whole file)`);
      for (const r of gas.filter((x) => x.split)) {
        // Every contract call's own work stays within 60,000 gas, the commitment's new slot
        // included; a registration also creates the account's state slot and (first of its key
        // generation) the generation's count, and logs the ciphertext; a keeper's transition
        // (forced, liquidate) credits the owner's share to claimable (test/custody.test.ts).
        const limit = r.call.includes("register") ? 60_000n + 2n * NEW_SLOT + OPENING_LOG : r.call.includes("keeper") || r.call.includes("liquidate") ? 60_000n + CREDIT : 60_000n;
        assert.ok(r.split!.own <= limit, `${r.call}: the contract's own gas ${r.split!.own} > ${limit}`);
      }
      const section = gasSection(gas, {
        instance: `${SOLVENCY}\` and \`${REBALANCE}`,
        node: process.version,
        hardhat: require("hardhat/package.json").version,
        solc: require("solc/package.json").version,
        hardfork,
        date: new Date().toISOString().slice(0, 10),
      });
      if (process.env.ZKS_BENCHMARKS === "1") writeGasSection(section);
      else
        console.log(
          `      (gas, not written: set ZKS_BENCHMARKS=1)\n${gas.map((r) => `      ${r.call}: ${r.gasUsed} (minimum ${r.minimum}${r.split ? `; verifier ${r.split.verifier}, external ${r.split.external}, own ${r.split.own}` : ""})`).join("\n")}`,
        );
    });
  });
});
