import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { Interface, type Contract, type Signer } from "ethers";
import { artifacts, network } from "hardhat";
import { AUDIT_REGISTRY_ABI, MARKET_ORACLE_ABI, REBALANCE_GATE_ABI } from "../src/chain/abi.ts";
import { encodeRebalance, encodeRegister, gateArguments, parseGateError, rebalanceFlows, type GateArguments } from "../src/chain/calldata.ts";
import { gateContext } from "../src/chain/context.ts";
import { marketRoot } from "../src/commitment/market-root.ts";
import { policyHash } from "../src/commitment/policy-hash.ts";
import { commitPosition } from "../src/commitment/position-commitment.ts";
import { SNARK_FIELD } from "../src/core/field.ts";
import type { Market, Policy, Position } from "../src/inputs/types.ts";
import { checkPosition } from "../src/model/check.ts";
import { loadInstanceArtifacts, type InstanceArtifacts } from "../src/node/artifacts.ts";
import { generateProof, type ZkProof } from "../src/prover/prove.ts";
import { releaseProverThreads } from "../src/prover/release.ts";
import { rebalanceInput, type RebalanceTransition } from "../src/prover/witness/rebalance.ts";
import { solvencyInput } from "../src/prover/witness/solvency.ts";
import {
  BARE_VERIFIER_NOTE,
  deposit,
  gasSection,
  groth16MinimumGas,
  LAYOUT,
  repayWithCollateral,
  revertsWith,
  still,
  USDC,
  WETH,
  withdraw,
  writeGasSection,
  type GasRow,
} from "./helpers/contracts-fixtures.ts";
import { loadMarket, loadPolicy, loadPosition } from "./helpers/examples.ts";
import { positionOf, withPolicy } from "./helpers/model-fixtures.ts";

const SOLVENCY = "solvency-3x3x16";
const REBALANCE = "rebalance-3x3x16";
const EPOCH = 42n;
/** Seconds a published market stays fresh in these tests. */
const FRESHNESS = 3_600n;
const E6 = 10n ** 6n;
const E18 = 10n ** 18n;

const require = createRequire(import.meta.url);

describe("gate contracts: MarketOracle, RebalanceGate, AuditRegistry (real proofs, in-process network)", function () {
  let market: Market;
  let policy: Policy;
  let solvencyArtifacts: InstanceArtifacts;
  let rebalanceArtifacts: InstanceArtifacts;
  let ethers: Awaited<ReturnType<typeof network.connect>>["ethers"];
  let hardfork: string;
  let chainId: bigint;
  let owner: Signer, alice: Signer, bob: Signer, keeper: Signer, carol: Signer, publisher: Signer;
  let oracle: Contract, gate: Contract, registry: Contract;
  let weth: Contract, usdc: Contract;
  let solvencyVerifier: Contract, rebalanceVerifier: Contract;
  let oracleErrors: Interface, gateErrors: Interface, registryErrors: Interface;

  // Positions and their proofs, made once the contracts' addresses (and so contexts) are known.
  let healthy: Position; // alice's, the spec's example
  let belowTrigger: Position; // bob's: passes every check with HF in [1.10, 1.25)
  let aliceMove: RebalanceTransition;
  let bobRescue: RebalanceTransition;
  const proofs = {} as Record<"aliceRegister" | "aliceClaim" | "aliceRebalance" | "bobRegister" | "bobForced" | "carolChain1" | "carolOtherPolicy", GateArguments>;
  const zk = {} as Record<"aliceRegister" | "aliceRebalance", ZkProof>;
  const gas: GasRow[] = [];

  const snapshot = async (): Promise<string> => ethers.provider.send("evm_snapshot", []);
  const restore = async (id: string): Promise<void> => void (await ethers.provider.send("evm_revert", [id]));
  const increaseTime = async (seconds: bigint): Promise<void> => {
    await ethers.provider.send("evm_increaseTime", [Number(seconds)]);
    await ethers.provider.send("evm_mine", []);
  };
  const address = (signer: Signer): Promise<string> => signer.getAddress();
  const call = (contract: Contract, signer: Signer, method: string, ...args: unknown[]) => (contract.connect(signer) as Contract).getFunction(method)(...args);
  const mined = async (tx: Promise<unknown>) => {
    const receipt = await ((await tx) as { wait(): Promise<{ gasUsed: bigint; status: number } | null> }).wait();
    assert.ok(receipt && receipt.status === 1);
    return receipt;
  };
  const tampered = (args: GateArguments, edit: (a: GateArguments) => void): GateArguments => {
    const copy = structuredClone(args);
    edit(copy);
    return copy;
  };

  before(async function () {
    market = loadMarket();
    policy = loadPolicy(market);
    solvencyArtifacts = loadInstanceArtifacts(SOLVENCY);
    rebalanceArtifacts = loadInstanceArtifacts(REBALANCE);
    assert.equal(solvencyArtifacts.manifest.publicSignals.at(-1), "context", "rebuild: solvency proofs need the context signal");
    assert.equal(rebalanceArtifacts.manifest.publicSignals[6], "context", "rebuild: rebalance proofs need the context signal");

    // The chain starts ten minutes after the example market's timestamp, so epoch 42 is fresh.
    const connection = await network.connect({ override: { initialDate: new Date((market.timestamp + 600) * 1000) } });
    ethers = connection.ethers;
    hardfork = "hardfork" in connection.networkConfig ? String(connection.networkConfig.hardfork) : "unknown";
    chainId = (await ethers.provider.getNetwork()).chainId;
    const signers = await ethers.getSigners();
    [owner, alice, bob, keeper, carol, publisher] = signers as unknown as [Signer, Signer, Signer, Signer, Signer, Signer];
    healthy = loadPosition("position-healthy.json", market);
    assert.equal(healthy.account.toLowerCase(), (await address(alice)).toLowerCase(), "the example account is hardhat's account #1");

    oracle = await ethers.deployContract("MarketOracle", [await address(owner), await address(publisher), FRESHNESS]);
    weth = await ethers.deployContract("TestToken", ["Wrapped Ether", "WETH", 18]);
    const wbtc = await ethers.deployContract("TestToken", ["Wrapped BTC", "WBTC", 8]);
    usdc = await ethers.deployContract("TestToken", ["USD Coin", "USDC", 6]);
    solvencyVerifier = await ethers.deployContract(solvencyArtifacts.manifest.verifierContract!);
    rebalanceVerifier = await ethers.deployContract(rebalanceArtifacts.manifest.verifierContract!);
    const tokens = [await weth.getAddress(), await wbtc.getAddress(), await usdc.getAddress()];
    gate = await ethers.deployContract("RebalanceGate", [
      await oracle.getAddress(),
      tokens,
      policyHash(policy),
      await solvencyVerifier.getAddress(),
      await rebalanceVerifier.getAddress(),
      await address(owner),
    ]);
    registry = await ethers.deployContract("AuditRegistry", [
      await oracle.getAddress(),
      await gate.getAddress(),
      await solvencyVerifier.getAddress(),
      policyHash(policy),
      await address(owner),
    ]);
    oracleErrors = oracle.interface as unknown as Interface;
    gateErrors = gate.interface as unknown as Interface;
    registryErrors = registry.interface as unknown as Interface;
    await mined(call(oracle, publisher, "publish", EPOCH, marketRoot(market, LAYOUT), market.timestamp));

    // The proofs, each bound to its contract and chain.
    const gateAddress = await gate.getAddress();
    const gateCtx = gateContext(chainId, gateAddress);
    const registryCtx = gateContext(chainId, await registry.getAddress());
    const solvency = async (position: Position, context: bigint, p: Policy = policy) =>
      generateProof(solvencyInput(position, market, p, LAYOUT, "position", context), solvencyArtifacts);
    const rebalance = async (t: RebalanceTransition) => generateProof(rebalanceInput(t, market, policy, LAYOUT, "position", gateCtx), rebalanceArtifacts);

    // Alice: the healthy example; later deposits 1,000 USDC and withdraws 0.5 WETH.
    aliceMove = withdraw(deposit(still(healthy), USDC, 1_000n * E6), WETH, E18 / 2n);
    // Bob: 10,000 USDC against 7,500 USDC of debt, HF 1.1867 (below the trigger 1.25, above 1.10);
    // a keeper repays 2,000 USDC with collateral (HF 1.2945), no token moves.
    belowTrigger = { ...positionOf(market, { collateral: { USDC: 10_000n * E6 }, debt: { USDC: 7_500n * E6 } }), account: await address(bob), salt: 123_456_789n };
    bobRescue = { ...repayWithCollateral(still(belowTrigger), USDC, 2_000n * E6), forced: true };
    const carolsPosition = { ...healthy, account: await address(carol) };
    const otherPolicy = withPolicy(policy, (p) => (p.minHealthFactor = 10_500n));

    zk.aliceRegister = await solvency(healthy, gateCtx);
    zk.aliceRebalance = await rebalance(aliceMove);
    proofs.aliceRegister = gateArguments(zk.aliceRegister);
    proofs.aliceClaim = gateArguments(await solvency(healthy, registryCtx));
    proofs.aliceRebalance = gateArguments(zk.aliceRebalance);
    proofs.bobRegister = gateArguments(await solvency(belowTrigger, gateCtx));
    proofs.bobForced = gateArguments(await rebalance(bobRescue));
    proofs.carolChain1 = gateArguments(await solvency(carolsPosition, gateContext(1n, gateAddress)));
    proofs.carolOtherPolicy = gateArguments(await solvency(carolsPosition, gateCtx, otherPolicy));
  });

  after(releaseProverThreads);

  describe("MarketOracle", function () {
    it("publishes epoch 42's root with its timestamp; reads it back; fresh within the window", async function () {
      assert.equal(await oracle.getFunction("rootOf")(EPOCH), marketRoot(market, LAYOUT));
      assert.equal(await oracle.getFunction("timestampOf")(EPOCH), BigInt(market.timestamp));
      assert.equal(await oracle.getFunction("latestEpoch")(), EPOCH);
      assert.equal(await oracle.getFunction("isFresh")(EPOCH), true);
      assert.equal(await oracle.getFunction("isFresh")(EPOCH + 1n), false);
      assert.deepEqual([...(await oracle.getFunction("marketOf")(EPOCH - 1n))], [0n, 0n, false]);
    });

    it("only publishers publish; epochs and timestamps strictly increase; no future timestamps; roots in the field; owner-only settings", async function () {
      const id = await snapshot();
      try {
        const root = marketRoot(market, LAYOUT);
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
        await restore(id);
      }
    });
  });

  describe("RebalanceGate.register", function () {
    it("rejects, each with its named error: another account, public input >= p, tampered proof and signal, another chain id, wrong policy, unknown and stale epochs", async function () {
      const args = proofs.aliceRegister;
      const register = (signer: Signer, a: GateArguments, epoch = EPOCH) => call(gate, signer, "register", epoch, a.proof, a.signals);
      await revertsWith(register(bob, args), gateErrors, "RebalanceGate__NotAccount", [await address(bob), await address(alice)]);
      const notInField = tampered(args, (a) => (a.signals[0]! += SNARK_FIELD));
      await revertsWith(register(alice, notInField), gateErrors, "RebalanceGate__PublicInputNotInField", [0n]);
      const contextNotInField = tampered(args, (a) => (a.signals[5]! += SNARK_FIELD));
      await revertsWith(register(alice, contextNotInField), gateErrors, "RebalanceGate__PublicInputNotInField", [5n]);
      // A valid curve point that is not the proof's: -A instead of A.
      const badProof = tampered(args, (a) => (a.proof.a[1] = 21888242871839275222246405745257275088696311157297823662689037894645226208583n - a.proof.a[1]));
      await revertsWith(register(alice, badProof), gateErrors, "RebalanceGate__InvalidProof");
      const badSignal = tampered(args, (a) => (a.signals[0]! += 1n));
      await revertsWith(register(alice, badSignal), gateErrors, "RebalanceGate__InvalidProof");
      await revertsWith(register(carol, proofs.carolChain1), gateErrors, "RebalanceGate__WrongContext");
      await revertsWith(register(carol, proofs.carolOtherPolicy), gateErrors, "RebalanceGate__WrongPolicy");
      await revertsWith(register(alice, args, 43n), gateErrors, "RebalanceGate__UnknownEpoch", [43n]);
      await revertsWith(register(alice, args, 41n), gateErrors, "RebalanceGate__UnknownEpoch", [41n]);
      const signalCount = tampered(args, (a) => a.signals.push(0n));
      await revertsWith(register(alice, signalCount), gateErrors, "RebalanceGate__WrongSignalCount", [6n, 7n]);
      const id = await snapshot();
      try {
        await increaseTime(FRESHNESS);
        await revertsWith(register(alice, args), gateErrors, "RebalanceGate__StaleEpoch", [EPOCH]);
        // Another epoch's root: publish 43 with a root the proof was not made under.
        const now = BigInt((await ethers.provider.getBlock("latest"))!.timestamp);
        await mined(call(oracle, publisher, "publish", 43n, marketRoot(market, LAYOUT) + 1n, now));
        await revertsWith(register(alice, args, 43n), gateErrors, "RebalanceGate__WrongMarketRoot", [43n]);
      } finally {
        await restore(id);
      }
      assert.equal(await gate.getFunction("isRegistered")(await address(alice)), false);
    });

    it("registers the healthy example at nonce 0 with a Solvency proof; emits only the commitment; a replay is rejected", async function () {
      const { proof, signals } = proofs.aliceRegister;
      const receipt = await mined(call(gate, alice, "register", EPOCH, proof, signals));
      const commitment = commitPosition(healthy, healthy.salt!, LAYOUT);
      assert.equal(await gate.getFunction("commitmentOf")(await address(alice)), commitment);
      assert.equal(await gate.getFunction("nonceOf")(await address(alice)), 0n);
      const logs = await gate.queryFilter(gate.filters.PositionRegistered!());
      assert.equal(logs.length, 1);
      assert.deepEqual([...(logs[0] as unknown as { args: unknown[] }).args], [await address(alice), commitment, EPOCH]);
      gas.push({ call: "`RebalanceGate.register` (Solvency proof)", signals: 6, gasUsed: receipt.gasUsed, minimum: groth16MinimumGas(6, encodeRegister(EPOCH, zk.aliceRegister)), note: "checks, oracle call, proof, 2 new storage slots (commitment; nonce and registered flag)" });
      await revertsWith(call(gate, alice, "register", EPOCH, proof, signals), gateErrors, "RebalanceGate__AlreadyRegistered", [await address(alice)]);
    });
  });

  describe("AuditRegistry.recordClaim", function () {
    it("records that alice's on-chain position passes at epoch 42; anyone can ask; replays, gate proofs, stale and unknown epochs are rejected", async function () {
      const { proof, signals } = proofs.aliceClaim;
      const record = (a: GateArguments, epoch = EPOCH, signer = keeper) => call(registry, signer, "recordClaim", epoch, a.proof, a.signals);
      const aliceAddress = await address(alice);
      await revertsWith(record(proofs.aliceRegister), registryErrors, "AuditRegistry__WrongContext"); // the gate's proof
      await revertsWith(record(tampered(proofs.aliceClaim, (a) => (a.signals[2]! += SNARK_FIELD))), registryErrors, "AuditRegistry__PublicInputNotInField", [2n]);
      await revertsWith(record(tampered(proofs.aliceClaim, (a) => (a.proof.c[0]! += 1n))), registryErrors, "AuditRegistry__InvalidProof");
      await revertsWith(record(proofs.aliceClaim, 43n), registryErrors, "AuditRegistry__UnknownEpoch", [43n]);
      await revertsWith(record(proofs.carolOtherPolicy), registryErrors, "AuditRegistry__NotRegistered", [await address(carol)]);
      const id = await snapshot();
      try {
        await increaseTime(FRESHNESS);
        await revertsWith(record(proofs.aliceClaim), registryErrors, "AuditRegistry__StaleEpoch", [EPOCH]);
      } finally {
        await restore(id);
      }

      assert.equal(await registry.getFunction("isSolvent")(aliceAddress, EPOCH), false);
      const receipt = await mined(record(proofs.aliceClaim)); // a relayer (the keeper) submits it
      assert.equal(await registry.getFunction("isSolvent")(aliceAddress, EPOCH), true);
      assert.equal(await registry.getFunction("isSolvent")(aliceAddress, EPOCH + 1n), false);
      assert.equal(await registry.getFunction("claimOf")(aliceAddress, EPOCH), signals[0]);
      const calldata = registry.interface.encodeFunctionData("recordClaim", [EPOCH, proof, signals]);
      gas.push({ call: "`AuditRegistry.recordClaim` (Solvency proof)", signals: 6, gasUsed: receipt.gasUsed, minimum: groth16MinimumGas(6, calldata), note: "checks, gate and oracle calls, proof, 1 new storage slot" });
      await revertsWith(record(proofs.aliceClaim), registryErrors, "AuditRegistry__AlreadyRecorded", [aliceAddress, EPOCH]);
    });
  });

  describe("RebalanceGate.rebalance", function () {
    before(async function () {
      // Alice holds 1,000 USDC and approves the gate; the gate holds the WETH of registered
      // positions (its custody of the underlying protocol's assets, which the test stands in for).
      await mined(call(usdc, owner, "mint", await address(alice), 1_000n * E6));
      await mined(call(usdc, alice, "approve", await gate.getAddress(), 1_000n * E6));
      await mined(call(weth, owner, "mint", await gate.getAddress(), 10n * E18));
    });

    it("rejects, each with its named error: another account (unforced), public input >= p, tampered proof and flow, unknown and stale epochs, wrong policy", async function () {
      const args = proofs.aliceRebalance;
      const rebalance = (signer: Signer, a: GateArguments, epoch = EPOCH) => call(gate, signer, "rebalance", epoch, a.proof, a.signals);
      await revertsWith(rebalance(keeper, args), gateErrors, "RebalanceGate__NotOwnerOrKeeperForced");
      const flowNotInField = tampered(args, (a) => (a.signals[8 + USDC]! += SNARK_FIELD));
      await revertsWith(rebalance(alice, flowNotInField), gateErrors, "RebalanceGate__PublicInputNotInField", [BigInt(8 + USDC)]);
      await revertsWith(rebalance(alice, tampered(args, (a) => (a.proof.b[0][0] += 1n))), gateErrors, "RebalanceGate__InvalidProof");
      // Claiming a smaller deposit than proven.
      await revertsWith(rebalance(alice, tampered(args, (a) => (a.signals[8 + USDC]! -= 1n))), gateErrors, "RebalanceGate__InvalidProof");
      // Claiming a keeper's right the proof does not give.
      await revertsWith(rebalance(keeper, tampered(args, (a) => (a.signals[7] = 1n))), gateErrors, "RebalanceGate__InvalidProof");
      await revertsWith(rebalance(alice, args, 43n), gateErrors, "RebalanceGate__UnknownEpoch", [43n]);
      await revertsWith(rebalance(alice, tampered(args, (a) => (a.signals[5] = 1n))), gateErrors, "RebalanceGate__WrongNonce", [0n, 1n]);
      await revertsWith(rebalance(alice, tampered(args, (a) => (a.signals[0]! += 1n))), gateErrors, "RebalanceGate__WrongCommitment");
      await revertsWith(rebalance(bob, proofs.bobForced), gateErrors, "RebalanceGate__NotRegistered", [await address(bob)]);
      const id = await snapshot();
      try {
        await increaseTime(FRESHNESS);
        await revertsWith(rebalance(alice, args), gateErrors, "RebalanceGate__StaleEpoch", [EPOCH]);
      } finally {
        await restore(id);
      }
      const policyId = await snapshot();
      try {
        // Governance moves to another policy: proofs under the old one no longer pass.
        await mined(call(gate, owner, "setPolicyHash", policyHash(withPolicy(policy, (p) => (p.minHealthFactor = 10_500n)))));
        await revertsWith(rebalance(alice, args), gateErrors, "RebalanceGate__WrongPolicy");
      } finally {
        await restore(policyId);
      }
    });

    it("accepts alice's rebalance: moves the flows (1,000 USDC in, 0.5 WETH out), stores the new commitment at nonce 1; a replay is rejected", async function () {
      const aliceAddress = await address(alice);
      const gateAddress = await gate.getAddress();
      assert.deepEqual(rebalanceFlows(proofs.aliceRebalance.signals, 3), [-(E18 / 2n), 0n, 1_000n * E6]);
      const { proof, signals } = proofs.aliceRebalance;
      const receipt = await mined(call(gate, alice, "rebalance", EPOCH, proof, signals));
      assert.equal(await usdc.getFunction("balanceOf")(aliceAddress), 0n);
      assert.equal(await usdc.getFunction("balanceOf")(gateAddress), 1_000n * E6);
      assert.equal(await weth.getFunction("balanceOf")(aliceAddress), E18 / 2n);
      assert.equal(await weth.getFunction("balanceOf")(gateAddress), 10n * E18 - E18 / 2n);
      const next = commitPosition({ ...aliceMove.next, nonce: 1n }, aliceMove.next.salt!, LAYOUT);
      assert.equal(await gate.getFunction("commitmentOf")(aliceAddress), next);
      assert.equal(await gate.getFunction("nonceOf")(aliceAddress), 1n);
      const [event] = await gate.queryFilter(gate.filters.Rebalanced!());
      assert.deepEqual([...(event as unknown as { args: unknown[] }).args], [aliceAddress, signals[0], next, 1n, EPOCH, false]);
      gas.push({ call: "`RebalanceGate.rebalance` by the owner, 2 token flows", signals: 11, gasUsed: receipt.gasUsed, minimum: groth16MinimumGas(11, encodeRebalance(EPOCH, zk.aliceRebalance)), note: "checks, oracle call, proof, 2 storage updates, `transferFrom` + `transfer` (each creating a token balance slot)" });

      await revertsWith(call(gate, alice, "rebalance", EPOCH, proof, signals), gateErrors, "RebalanceGate__WrongCommitment");
      // The claim recorded at epoch 42 (about the position before the rebalance) stays.
      assert.equal(await registry.getFunction("isSolvent")(aliceAddress, EPOCH), true);
    });

    it("a keeper forces bob's rebalance (HF 1.1867 below the trigger 1.25 -> 1.2945) with no token flows", async function () {
      const before = checkPosition(belowTrigger, market, policy);
      assert.equal(before.pass, true);
      assert.ok(before.healthFactor.numerator < policy.trigger.healthFactor * before.healthFactor.denominator);
      assert.equal(checkPosition(bobRescue.next, market, policy).pass, true);
      const bobAddress = await address(bob);
      await mined(call(gate, bob, "register", EPOCH, proofs.bobRegister.proof, proofs.bobRegister.signals));
      const { proof, signals } = proofs.bobForced;
      const receipt = await mined(call(gate, keeper, "rebalance", EPOCH, proof, signals));
      assert.equal(await gate.getFunction("nonceOf")(bobAddress), 1n);
      assert.equal(await gate.getFunction("commitmentOf")(bobAddress), signals[1]);
      const events = await gate.queryFilter(gate.filters.Rebalanced!(bobAddress));
      assert.equal((events[0] as unknown as { args: unknown[] }).args[5], true);
      const calldata = gate.interface.encodeFunctionData("rebalance", [EPOCH, proof, signals]);
      gas.push({ call: "`RebalanceGate.rebalance` forced by a keeper, no token flow", signals: 11, gasUsed: receipt.gasUsed, minimum: groth16MinimumGas(11, calldata), note: "checks, oracle call, proof, 2 storage updates" });
    });
  });

  describe("governance", function () {
    it("only the owner sets the policy hash and the verifiers, with events", async function () {
      await revertsWith(call(gate, alice, "setPolicyHash", 1n), gateErrors, "OwnableUnauthorizedAccount", [await address(alice)]);
      await revertsWith(call(gate, alice, "setVerifiers", await address(alice), await address(alice)), gateErrors, "OwnableUnauthorizedAccount");
      await revertsWith(call(registry, alice, "setPolicyHash", 1n), registryErrors, "OwnableUnauthorizedAccount");
      await revertsWith(call(registry, alice, "setVerifier", await address(alice)), registryErrors, "OwnableUnauthorizedAccount");
      await revertsWith(call(gate, owner, "setVerifiers", ethers.ZeroAddress, await rebalanceVerifier.getAddress()), gateErrors, "RebalanceGate__ZeroAddress");
      const id = await snapshot();
      try {
        await mined(call(gate, owner, "setPolicyHash", 5n));
        assert.equal(await gate.getFunction("policyHash")(), 5n);
        await mined(call(gate, owner, "setVerifiers", await rebalanceVerifier.getAddress(), await solvencyVerifier.getAddress()));
        assert.equal(await gate.getFunction("solvencyVerifier")(), await rebalanceVerifier.getAddress());
        const policyEvents = await gate.queryFilter(gate.filters.PolicyHashSet!());
        assert.equal((policyEvents.at(-1) as unknown as { args: unknown[] }).args[0], 5n);
        assert.equal((await gate.queryFilter(gate.filters.VerifiersSet!())).length, 2); // constructor + this one
      } finally {
        await restore(id);
      }
    });
  });

  describe("chain helpers (src/chain) and gas", function () {
    it("gateContext equals the contracts' context(); the ABI fragments match the compiled contracts; revert data parses", async function () {
      assert.equal(await gate.getFunction("context")(), gateContext(chainId, await gate.getAddress()));
      assert.equal(await registry.getFunction("context")(), gateContext(chainId, await registry.getAddress()));
      assert.equal(proofs.aliceRegister.signals[5], gateContext(chainId, await gate.getAddress()));
      for (const [name, abi] of [
        ["MarketOracle", MARKET_ORACLE_ABI],
        ["RebalanceGate", REBALANCE_GATE_ABI],
        ["AuditRegistry", AUDIT_REGISTRY_ABI],
      ] as const) {
        const compiled = new Interface((await artifacts.readArtifact(name)).abi as never);
        const fragments = (iface: Interface) =>
          new Set(iface.fragments.filter((f) => f.type !== "constructor").map((f) => f.format("minimal")));
        const ours = fragments(new Interface(abi));
        const missing = [...fragments(compiled)].filter((f) => !ours.has(f) && !/OwnershipTransferred|transferOwnership|renounceOwnership|Ownable|ReentrancyGuard|SafeERC20|AddressEmptyCode|FailedCall/.test(f));
        assert.deepEqual(missing, [], `${name}: fragments missing from src/chain/abi.ts`);
        const extra = [...ours].filter((f) => !fragments(compiled).has(f));
        assert.deepEqual(extra, [], `${name}: fragments in src/chain/abi.ts the contract does not have`);
      }
      const data = gateErrors.encodeErrorResult("RebalanceGate__StaleEpoch", [EPOCH]);
      assert.equal(parseGateError(data)?.name, "RebalanceGate__StaleEpoch");
    });

    it("the bare verifiers cost close to the Groth16 minimum; gas per call goes to BENCHMARKS.md (ZKS_BENCHMARKS=1)", async function () {
      for (const [label, verifier, zkProof, signals] of [
        [`\`${solvencyArtifacts.manifest.verifierContract}.verifyProof\``, solvencyVerifier, zk.aliceRegister, 6],
        [`\`${rebalanceArtifacts.manifest.verifierContract}.verifyProof\``, rebalanceVerifier, zk.aliceRebalance, 11],
      ] as const) {
        const { proof, signals: input } = gateArguments(zkProof);
        const args = [proof.a, proof.b, proof.c, input];
        assert.equal(await verifier.getFunction("verifyProof")(...args), true);
        const gasUsed = await verifier.getFunction("verifyProof").estimateGas(...args);
        const minimum = groth16MinimumGas(signals, verifier.interface.encodeFunctionData("verifyProof", args));
        assert.ok(gasUsed >= minimum, `${label}: ${gasUsed} below the minimum ${minimum}?`);
        // The generated verifier's own overhead (field checks, memory, calls) stays under 5%.
        assert.ok(gasUsed * 100n <= minimum * 105n, `${label}: ${gasUsed} is more than 5% above the Groth16 minimum ${minimum}`);
        gas.unshift({ call: `${label} (bare verifier, \`eth_estimateGas\`)`, signals, gasUsed, minimum, note: BARE_VERIFIER_NOTE });
      }
      const order = ["Solvency3x3x16", "Rebalance3x3x16", "register", "recordClaim", "owner", "keeper"];
      gas.sort((x, y) => order.findIndex((o) => x.call.includes(o)) - order.findIndex((o) => y.call.includes(o)));
      const section = gasSection(gas, {
        instance: `${SOLVENCY}\` and \`${REBALANCE}`,
        node: process.version,
        hardhat: require("hardhat/package.json").version,
        solc: require("solc/package.json").version,
        hardfork,
        date: new Date().toISOString().slice(0, 10),
      });
      if (process.env.ZKS_BENCHMARKS === "1") writeGasSection(section);
      else console.log(`      (gas, not written: set ZKS_BENCHMARKS=1)\n${gas.map((r) => `      ${r.call}: ${r.gasUsed} (minimum ${r.minimum})`).join("\n")}`);
    });
  });
});
