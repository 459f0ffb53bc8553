/**
 * The gate's enforcement (docs/enforcement.md): the keeper key and its rotation, the ciphertext
 * event, flags and liquidations. Part 1 runs the RebalanceGate against real Uniswap v2 pairs and
 * LenderVaults with the tests-only ClearTransitionVerifier (test/helpers/custody-fixtures.ts): every
 * gate rule with its named error (flags with their stored window and lifetime, identity ephemeral
 * keys, key reuse), hostile tokens (a blocklisting USDC: keeper transitions credit the owner's share
 * to claimable; a WETH calling back into the gate: every entry point nonReentrant), and a fast-check
 * property test over random sequences of registrations, rebalances, repayments, key rotations,
 * flags, liquidations (with swaps), window changes, claims and time, checking the custody invariants
 * with bonuses paid out and claimable balances, and the key-generation accounting after every step. Part 2 tells
 * the story with REAL proofs of `rebalance-3x3x16`: the keeper rebuilds positions from the
 * OpeningEncrypted events alone (decryptOpening), the circuit refuses what a keeper may not prove
 * (an urgent claim above health factor 1.0, a bonus above the rate, an identity ephemeral key), the
 * gate refuses proofs to a rotated-out key, copied transactions and an identity ephemeral key, a
 * window cut after a flag moves nothing, and a flagged and an urgent liquidation go through.
 *
 *   npx mocha --no-config -n import=tsx --timeout 600000 test/liquidation-gate.test.ts
 *   ZKS_PROPERTY_RUNS=500 npx mocha --no-config -n import=tsx --timeout 600000 test/liquidation-gate.test.ts --grep @property
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { poseidonEncrypt } from "@zk-kit/poseidon-cipher";
import type { CircuitSignals } from "snarkjs";
import { addPoint, Base8, mulPointEscalar, subOrder, unpackPoint } from "@zk-kit/baby-jubjub";
import { Contract, Interface, type Log, type Signer, type TransactionReceipt } from "ethers";
import { network } from "hardhat";
import { gateEnforcement, REBALANCE_GATE_ABI } from "../packages/sdk/src/chain/abi.ts";
import { gateArguments, type GateArguments } from "../packages/sdk/src/chain/calldata.ts";
import { gateContext } from "../packages/sdk/src/chain/context.ts";
import { custodyLayout } from "../packages/sdk/src/chain/custody.ts";
import { borrowAssets, repayAssets } from "../packages/sdk/src/chain/lender.ts";
import { deployUniswapV2Factory } from "../packages/node/src/deploy/uniswap-v2-factory.ts";
import { addLiquidity, createPair, quoteAmountOut } from "../packages/sdk/src/chain/uniswap-v2.ts";
import { marketRoot } from "../packages/sdk/src/commitment/market-root.ts";
import { policyHash } from "../packages/sdk/src/commitment/policy-hash.ts";
import { commitPosition } from "../packages/sdk/src/commitment/position-commitment.ts";
import { SNARK_FIELD } from "../packages/sdk/src/core/field.ts";
import { validateKeeperPublicKey } from "../packages/sdk/src/encryption/keeper-key.ts";
import { decryptOpening, OpeningDecryptionError, openingPlaintext, type PublishedOpening } from "../packages/sdk/src/encryption/opening-cipher.ts";
import type { Market, Policy, Position } from "../packages/sdk/src/inputs/types.ts";
import { checkPosition } from "../packages/sdk/src/model/check.ts";
import { loadInstanceArtifacts, type InstanceArtifacts } from "../packages/node/src/artifacts.ts";
import { generateProof } from "../packages/sdk/src/prover/prove.ts";
import { releaseProverThreads } from "../packages/sdk/src/prover/release.ts";
import { rebalanceInput } from "../packages/sdk/src/prover/witness/rebalance.ts";
import { bonusValue, checkTransition, emptyPosition, noMovements, repaidValue, swapValue, type Transition } from "../packages/sdk/src/rebalance/transition.ts";
import { revertsWith, transitionOf } from "./helpers/contracts-fixtures.ts";
import { loadMarket, loadPolicy } from "./helpers/examples.ts";
import { OTHER_KEEPER, TEST_KEEPER } from "./helpers/keeper-key.ts";
import {
  applyMovement,
  BONUS_BPS,
  borrowMove,
  commitmentOf,
  currentDebtIndex,
  deployBench,
  emptyOpening,
  EPOCH,
  FLAG_LIFETIME,
  FRESHNESS,
  KEEPER_SECRETS,
  keeperKeyOf,
  LAYOUT,
  MARKET_ROOT,
  N_ASSETS,
  N_SWAPS,
  noMovement,
  POLICY,
  proofDebtIndex,
  quote,
  repayMove,
  resend,
  stage,
  stubEncryption,
  submit,
  USDC,
  WBTC,
  WETH,
  WINDOW,
  ZERO_PROOF,
  type Bench,
  type GateEntry,
  type Movement,
  type Opening,
} from "./helpers/custody-fixtures.ts";

const E18 = 10n ** 18n;
const E8 = 10n ** 8n;
const E6 = 10n ** 6n;
const TRANSFER = new Interface(["event Transfer(address indexed from, address indexed to, uint256 value)"]);
/** Baby Jubjub's point of order 2: adding it to a subgroup point leaves the prime subgroup. */
const ORDER_TWO: [bigint, bigint] = [0n, SNARK_FIELD - 1n];
/** setKeeperKey's gas bound: about 360k for the subgroup check (251 double-and-adds), 44k for the used-key records. */
const ROTATION_GAS_LIMIT = 480_000n;

/**
 * Points of order 4 and 8 (the cofactor's torsion): R * subOrder for curve points R outside the
 * prime subgroup, found from y = 0, 1, 2, ... with @zk-kit/baby-jubjub's unpackPoint (which solves
 * the curve equation for x); the first with order 4 and the first with order 8.
 */
function smallOrderPoints(): [[bigint, bigint], [bigint, bigint]] {
  const isIdentity = (p: readonly bigint[]) => p[0] === 0n && p[1] === 1n;
  const double = (p: [bigint, bigint]) => addPoint(p, p) as [bigint, bigint];
  let order4: [bigint, bigint] | undefined;
  let order8: [bigint, bigint] | undefined;
  for (let y = 0n; !order4 || !order8; y++) {
    const r = unpackPoint(y);
    if (!r) continue;
    const t = mulPointEscalar(r, subOrder) as [bigint, bigint];
    if (isIdentity(double(double(t))) && !isIdentity(double(t))) order4 ??= t;
    else if (!isIdentity(double(double(t)))) order8 ??= t;
  }
  return [order4, order8];
}

describe("enforcement at the gate: keeper key, flags, liquidations (ClearTransitionVerifier)", function () {
  let bench: Bench;
  let alice: Signer, bob: Signer, carol: Signer, keeper: Signer;
  let A: string, B: string, K: string;
  let snapshotId: string;
  let errors: Interface;

  const snapshot = async (): Promise<string> => bench.ethers.provider.send("evm_snapshot", []);
  const restore = async (id: string): Promise<void> => void (await bench.ethers.provider.send("evm_revert", [id]));
  const balanceOf = async (token: Contract, who: string): Promise<bigint> => BigInt(await token.getFunction("balanceOf")(who));
  const now = async (): Promise<bigint> => BigInt((await bench.ethers.provider.getBlock("latest"))!.timestamp);
  const passTime = async (seconds: bigint): Promise<void> => {
    await bench.ethers.provider.send("evm_increaseTime", [Number(seconds)]);
    await bench.ethers.provider.send("evm_mine", []);
  };
  const gate = (signer: Signer) => bench.gate.connect(signer) as Contract;
  const events = (receipt: TransactionReceipt, name: string) =>
    receipt.logs
      .map((log: Log) => bench.gate.interface.parseLog(log))
      .filter((e) => e?.name === name)
      .map((e) => e!.args);

  /**
   * Alice's indebted position: 10 WETH deposited, 15,000 USDC borrowed from the lender and paid to
   * her wallet (her USDC collateral is 0): what a keeper liquidates below.
   */
  async function registerIndebted(who: Signer = alice): Promise<Opening> {
    const account = await who.getAddress();
    const [, , usdcIndex] = await currentDebtIndex(bench);
    const m = borrowMove(noMovement(), USDC, 15_000n * E6, usdcIndex!);
    m.flow[WETH] = 10n * E18;
    m.flow[USDC] = -m.debtAssets[USDC]!;
    return (await submit(bench, who, emptyOpening(account), m)).next;
  }

  /**
   * A liquidation of `old`: sell `sell` WETH on the pair for USDC (minOut = what it delivers now),
   * repay as many USDC debt units as that covers at the proof's index (at most the debt), and pay
   * `bonusWeth` of WETH to the liquidator.
   */
  async function liquidationOf(
    old: Opening,
    o: { sell?: bigint; excess?: bigint; bonusWeth?: bigint; urgent?: boolean; liquidator?: string; bonusBps?: bigint; debtIndex?: bigint[] } = {},
  ): Promise<{ m: Movement; debtIndex: bigint[] }> {
    const debtIndex = o.debtIndex ?? (await proofDebtIndex(bench));
    const sell = o.sell ?? 2n * E18;
    // minOut `excess` below what the pair delivers: the excess is the owner's (credited to claimable).
    const minOut = (await quote(bench, WETH, USDC, sell)) - (o.excess ?? 0n);
    let units = (minOut * E18) / debtIndex[USDC]!;
    while (repayAssets(units, debtIndex[USDC]!) > minOut) units--;
    if (units > old.debt[USDC]!) units = old.debt[USDC]!;
    const m = repayMove(noMovement(), USDC, units, debtIndex[USDC]!);
    m.swaps = [{ sell: WETH, buy: USDC, amountIn: sell, minOut }];
    const bonus = Array(N_ASSETS).fill(0n) as bigint[];
    bonus[WETH] = o.bonusWeth ?? E18 / 20n;
    m.liquidation = { liquidator: o.liquidator ?? K, bonusBps: o.bonusBps ?? BONUS_BPS, bonus, urgent: o.urgent ?? false };
    return { m, debtIndex };
  }

  type LiquidateOptions = Parameters<typeof liquidationOf>[1] & {
    sender?: Signer;
    fn?: GateEntry;
    edit?: (x: bigint[]) => void;
    keeperKey?: readonly [bigint, bigint];
    epoch?: bigint;
  };
  const liquidate = async (old: Opening, o: LiquidateOptions = {}) => {
    const { m, debtIndex } = await liquidationOf(old, o);
    return submit(bench, o.sender ?? keeper, old, m, {
      debtIndex,
      fn: o.fn ?? "liquidate",
      edit: o.edit,
      ...(o.keeperKey && { keeperKey: o.keeperKey }),
      ...(o.epoch !== undefined && { epoch: o.epoch }),
    });
  };
  /**
   * The liquidation (or flag) of `old` mined in a block at exactly `at` (unix seconds): the openings
   * staged first, the proof's debt index projected past `at`.
   */
  const liquidateAt = async (old: Opening, at: bigint, o: LiquidateOptions = {}) => {
    const { m, debtIndex } = await liquidationOf(old, { ...o, debtIndex: await proofDebtIndex(bench, at - (await now()) + 60n) });
    const next = applyMovement(old, m, old.salt);
    // The staging block just before `at` (a reverted snapshot keeps hardhat's clock where it was).
    await bench.ethers.provider.send("evm_setNextBlockTimestamp", [Number(at - 1n)]);
    await stage(bench, old, next);
    await bench.ethers.provider.send("evm_setNextBlockTimestamp", [Number(at)]);
    return submit(bench, o.sender ?? keeper, old, m, { debtIndex, next, stage: false, fn: o.fn ?? "liquidate", edit: o.edit });
  };
  const setTerms = async (bonus: bigint, window: bigint) => (await gate(bench.owner).getFunction("setLiquidationTerms")(bonus, window)).wait();
  const flag = (old: Opening, o: Parameters<typeof liquidate>[1] = {}) => liquidate(old, { ...o, fn: "flagBelowTrigger" });

  const claimable = async (who: string, i: number): Promise<bigint> => BigInt(await bench.gate.getFunction("claimable")(who, bench.addresses.tokens[i]!));
  /** flagOf(account) as the gate returns it: commitment, since, liquidatableAt, expiresAt. */
  const flagOf = async (who: string): Promise<bigint[]> => [...((await bench.gate.getFunction("flagOf")(who)) as bigint[])];

  /**
   * Invariants (1) and (2) of the gate's header for the positions held: the gate holds exactly the
   * committed collateral plus what keeper transitions credited to the accounts (claimableTotal),
   * and the lenders count exactly the committed debt.
   */
  async function checkCustody(positions: Opening[]): Promise<void> {
    for (let i = 0; i < N_ASSETS; i++) {
      const owed = BigInt(await bench.gate.getFunction("claimableTotal")(bench.addresses.tokens[i]!));
      assert.equal(await balanceOf(bench.tokens[i]!, bench.addresses.gate), positions.reduce((s, p) => s + p.collateral[i]!, 0n) + owed, `invariant (1), asset ${i}`);
      const lender = bench.lenders[i];
      const units = lender ? BigInt(await lender.getFunction("debtUnitsOf")(bench.addresses.gate)) : 0n;
      assert.equal(
        units,
        positions.reduce((s, p) => s + p.debt[i]!, 0n),
        `invariant (2), asset ${i}`,
      );
    }
  }

  /** Runs the tests on `b` (its own chain: signers belong to their bench's connection). */
  async function use(b: Bench): Promise<void> {
    bench = b;
    [alice, bob, carol] = bench.users as [Signer, Signer, Signer];
    keeper = bench.keeper;
    [A, B, K] = await Promise.all([alice.getAddress(), bob.getAddress(), keeper.getAddress()]);
    errors = new Interface([
      ...bench.gateErrors.fragments.map((f) => f.format("full")),
      "error OwnableUnauthorizedAccount(address account)",
      "error ReentrancyGuardReentrantCall()",
      "error BlocklistToken__Blocklisted(address account)",
    ]);
  }
  /** The timestamp of a receipt's block. */
  const minedAt = async (receipt: TransactionReceipt): Promise<bigint> => BigInt((await bench.ethers.provider.getBlock(receipt.blockNumber))!.timestamp);

  before(async function () {
    await use(await deployBench());
  });
  beforeEach(async () => {
    snapshotId = await snapshot();
    bench.keeperKey = keeperKeyOf(KEEPER_SECRETS[0]!);
  });
  afterEach(async () => restore(snapshotId));

  describe("a liquidation", function () {
    it("repays debt from collateral through the pair and the lender, pays the bonus to the liquidator only, commits nonce + 1 under the current key", async function () {
      const position = await registerIndebted();
      const keeperWallet = await Promise.all(bench.tokens.map((t) => balanceOf(t, K)));
      const aliceWallet = await Promise.all(bench.tokens.map((t) => balanceOf(t, A)));
      const { next, signals, receipt } = await liquidate(position, { urgent: true });
      // The liquidator received exactly the bonus, nothing else; alice's wallet nothing: what the
      // lender did not take of the repayment (its index at inclusion is below the proof's
      // projection) is credited to her claimable balance, which she claims.
      assert.deepEqual(await Promise.all(bench.tokens.map(async (t, i) => (await balanceOf(t, K)) - keeperWallet[i]!)), [E18 / 20n, 0n, 0n]);
      assert.deepEqual(await Promise.all(bench.tokens.map(async (t, i) => (await balanceOf(t, A)) - aliceWallet[i]!)), [0n, 0n, 0n]);
      const leftover = await claimable(A, USDC);
      assert.ok(leftover > 0n && leftover < E6, `alice's claimable USDC ${leftover}`);
      assert.deepEqual([...events(receipt, "ClaimableCredited")[0]!], [A, bench.addresses.tokens[USDC], leftover]);
      assert.ok(next.debt[USDC]! < position.debt[USDC]!);
      assert.equal(next.collateral[WETH], 10n * E18 - 2n * E18 - E18 / 20n);
      await checkCustody([next]);
      const claimed = await (await gate(alice).getFunction("claim")(bench.addresses.tokens[USDC])).wait();
      assert.deepEqual([...events(claimed, "Claimed")[0]!], [A, bench.addresses.tokens[USDC], leftover]);
      assert.equal((await balanceOf(bench.tokens[USDC]!, A)) - aliceWallet[USDC]!, leftover);
      assert.equal(await claimable(A, USDC), 0n);
      await checkCustody([next]);
      assert.equal(BigInt(await bench.gate.getFunction("commitmentOf")(A)), commitmentOf(next));
      const [liquidated] = events(receipt, "Liquidated");
      assert.deepEqual([...liquidated!], [A, K, commitmentOf(position), commitmentOf(next), 2n, EPOCH, true]);
      assert.equal(events(receipt, "Rebalanced").length, 0);
      // The ciphertext event carries what the proof published: the new commitment's opening
      // (nonce 2) under the key of generation 1.
      const [opening] = events(receipt, "OpeningEncrypted");
      const { ephemeralKey, ciphertext } = stubEncryption(commitmentOf(next));
      assert.deepEqual([opening!.account, opening!.commitment, opening!.nonce, opening!.keyGeneration], [A, commitmentOf(next), 2n, 1n]);
      assert.deepEqual([...opening!.ephemeralKey], ephemeralKey);
      assert.deepEqual([...opening!.ciphertext], ciphertext);
      assert.deepEqual([...opening!.ciphertext], signals.slice(LAYOUT.ciphertext, LAYOUT.ciphertext + LAYOUT.ciphertextLength));
    });

    it("WrongMode: a liquidation through rebalance or register; a rebalance's proof through liquidate or flagBelowTrigger", async function () {
      const position = await registerIndebted();
      await revertsWith(liquidate(position, { urgent: true, fn: "rebalance" }), errors, "RebalanceGate__WrongMode", [0n, 1n]);
      await revertsWith(liquidate(position, { urgent: true, fn: "register" }), errors, "RebalanceGate__WrongMode", [0n, 1n]);
      // Alice's own rebalance (liquidation = 0) submitted as a liquidation or a flag.
      const own = noMovement();
      own.flow[WETH] = -E18;
      for (const fn of ["liquidate", "flagBelowTrigger"] as const) {
        await revertsWith(submit(bench, keeper, position, own, { fn }), errors, "RebalanceGate__WrongMode", [1n, 0n]);
      }
      // A registration sent to liquidate.
      await revertsWith(submit(bench, bob, emptyOpening(B), { ...noMovement(), flow: [E18, 0n, 0n] }, { fn: "liquidate" }), errors, "RebalanceGate__WrongMode", [1n, 0n]);
    });

    it("NotLiquidator: the proof pays its named liquidator; a copied transaction (a front-runner's) is refused", async function () {
      const position = await registerIndebted();
      const { m, debtIndex } = await liquidationOf(position, { urgent: true });
      // The keeper's exact calldata, sent first by bob (a mempool copier).
      await revertsWith(submit(bench, bob, position, m, { debtIndex }), errors, "RebalanceGate__NotLiquidator", [B, K]);
      // Even the owner may not take the keeper's bonus.
      await revertsWith(submit(bench, alice, position, m, { debtIndex }), errors, "RebalanceGate__NotLiquidator", [A, K]);
      // (Editing the liquidator signal to oneself breaks a real proof: part 2.) The keeper's own goes through.
      await submit(bench, keeper, position, m, { debtIndex });
    });

    it("WrongLiquidationBonus: a bonus rate above (or below) the gate's terms; governance's new terms apply at once", async function () {
      const position = await registerIndebted();
      await revertsWith(liquidate(position, { urgent: true, bonusBps: BONUS_BPS + 1n }), errors, "RebalanceGate__WrongLiquidationBonus", [BONUS_BPS, BONUS_BPS + 1n]);
      await revertsWith(flag(position, { bonusBps: 2_000n }), errors, "RebalanceGate__WrongLiquidationBonus", [BONUS_BPS, 2_000n]);
      await (await gate(bench.owner).getFunction("setLiquidationTerms")(300n, WINDOW)).wait();
      await revertsWith(liquidate(position, { urgent: true }), errors, "RebalanceGate__WrongLiquidationBonus", [300n, BONUS_BPS]);
      await liquidate(position, { urgent: true, bonusBps: 300n });
    });

    it("a non-urgent liquidation needs a flag (NotFlagged) that has stood for the window (GraceWindowOpen); an urgent one needs neither", async function () {
      const position = await registerIndebted();
      await revertsWith(liquidate(position), errors, "RebalanceGate__NotFlagged", [A]);
      const { receipt } = await flag(position);
      const since = BigInt((await bench.ethers.provider.getBlock(receipt.blockNumber))!.timestamp);
      const [flagged] = events(receipt, "FlaggedBelowTrigger");
      assert.deepEqual([...flagged!], [A, commitmentOf(position), EPOCH, since + WINDOW]);
      assert.deepEqual(await flagOf(A), [commitmentOf(position), since, since + WINDOW, since + WINDOW + FLAG_LIFETIME]);
      // The flag executes nothing: the position, the tokens, the lender are as they were.
      assert.equal(BigInt(await bench.gate.getFunction("commitmentOf")(A)), commitmentOf(position));
      await checkCustody([position]);
      await revertsWith(liquidate(position), errors, "RebalanceGate__GraceWindowOpen", [A, since + WINDOW]);
      await passTime(WINDOW - 30n);
      await revertsWith(liquidate(position), errors, "RebalanceGate__GraceWindowOpen", [A, since + WINDOW]);
      await passTime(30n);
      const { next } = await liquidate(position);
      // The new commitment is not flagged.
      assert.deepEqual(await flagOf(A), [0n, 0n, 0n, 0n]);
      await checkCustody([next]);
    });

    it("a flag counts for the commitment it proved only: the owner's re-proof supersedes it; AlreadyFlagged on the same commitment", async function () {
      const position = await registerIndebted();
      await flag(position);
      await revertsWith(flag(position), errors, "RebalanceGate__AlreadyFlagged", [A]);
      await passTime(WINDOW);
      // Alice re-proves (a repayment from her wallet) before the keeper acts: the flag is gone.
      const [, , index] = await proofDebtIndex(bench);
      const repaid = repayMove(noMovement(), USDC, 1_000n * E6, index!);
      repaid.flow[USDC] = repaid.debtAssets[USDC]!;
      const { next } = await submit(bench, alice, position, repaid);
      assert.deepEqual(await flagOf(A), [0n, 0n, 0n, 0n]);
      // The keeper's liquidation of the flagged (old) commitment is a replay; of the new one, unflagged.
      await revertsWith(liquidate(position), errors, "RebalanceGate__WrongCommitment");
      await revertsWith(liquidate(next), errors, "RebalanceGate__NotFlagged", [A]);
      // A new flag on the new commitment starts a new window.
      await flag(next);
      await revertsWith(liquidate(next), errors, "RebalanceGate__GraceWindowOpen");
    });

    it("the grace window's and the flag's exact edges: since + window - 1 GraceWindowOpen, since + window liquidates; expiresAt - 1 liquidates, expiresAt FlagExpired", async function () {
      const position = await registerIndebted();
      const since = await minedAt((await flag(position)).receipt);
      const [, , liquidatableAt, expiresAt] = (await flagOf(A)) as [bigint, bigint, bigint, bigint];
      assert.deepEqual([liquidatableAt, expiresAt], [since + WINDOW, since + WINDOW + FLAG_LIFETIME]);
      // Each edge from the flagged state (a snapshot is used up by its revert: take a new one).
      let edge = await snapshot();
      await revertsWith(liquidateAt(position, since + WINDOW - 1n), errors, "RebalanceGate__GraceWindowOpen", [A, since + WINDOW]);
      await liquidateAt(position, since + WINDOW);
      await restore(edge);
      edge = await snapshot();
      await liquidateAt(position, expiresAt - 1n);
      await restore(edge);
      await revertsWith(liquidateAt(position, expiresAt), errors, "RebalanceGate__FlagExpired", [A, expiresAt]);
    });

    it("a standing flag keeps the liquidatableAt it was set with: governance's shorter window (0) or longer one applies to later flags only", async function () {
      const alices = await registerIndebted();
      const bobs = await registerIndebted(bob);
      const since = await minedAt((await flag(alices)).receipt);
      // Governance cuts the window to 0 (meaning it for future flags): alice's promised time stands.
      await setTerms(BONUS_BPS, 0n);
      await revertsWith(liquidate(alices), errors, "RebalanceGate__GraceWindowOpen", [A, since + WINDOW]);
      assert.deepEqual(await flagOf(A), [commitmentOf(alices), since, since + WINDOW, since + WINDOW + FLAG_LIFETIME]);
      // Bob, flagged under the new window, is liquidatable at once (what his event says).
      const { receipt } = await flag(bobs);
      const sinceBob = await minedAt(receipt);
      assert.equal(events(receipt, "FlaggedBelowTrigger")[0]!.liquidatableAt, sinceBob);
      assert.deepEqual(await flagOf(B), [commitmentOf(bobs), sinceBob, sinceBob, sinceBob + FLAG_LIFETIME]);
      await liquidate(bobs);
      // A longer window set now does not delay alice's standing flag either.
      await setTerms(BONUS_BPS, 4n * WINDOW);
      await passTime(WINDOW);
      await liquidate(alices);
    });

    it("a flag lapses FLAG_LIFETIME after its liquidatableAt (FlagExpired): a dip weeks later needs a new flag at the latest epoch, which starts a new window", async function () {
      assert.equal(await bench.gate.getFunction("FLAG_LIFETIME")(), FLAG_LIFETIME);
      const position = await registerIndebted();
      const since = await minedAt((await flag(position)).receipt);
      // The position recovers (the owner has no reason to re-prove) and dips again much later: a
      // non-urgent liquidation on the old flag is refused.
      await passTime(WINDOW + FLAG_LIFETIME + 7n * 86_400n);
      await (await bench.oracle.getFunction("publish")(EPOCH + 1n, MARKET_ROOT + 1n, await now())).wait();
      const later = { epoch: EPOCH + 1n, edit: (x: bigint[]) => (x[LAYOUT.marketRoot] = MARKET_ROOT + 1n) };
      await revertsWith(liquidate(position, later), errors, "RebalanceGate__FlagExpired", [A, since + WINDOW + FLAG_LIFETIME]);
      // A lapsed flag does not block a new one (no AlreadyFlagged): proven at the new epoch, a new window.
      const again = await minedAt((await flag(position, later)).receipt);
      assert.deepEqual(await flagOf(A), [commitmentOf(position), again, again + WINDOW, again + WINDOW + FLAG_LIFETIME]);
      await revertsWith(flag(position, later), errors, "RebalanceGate__AlreadyFlagged", [A]);
      await revertsWith(liquidate(position, later), errors, "RebalanceGate__GraceWindowOpen", [A, again + WINDOW]);
      // An urgent liquidation (proven below health factor 1.0) needs no flag at all.
      await liquidate(position, { ...later, urgent: true });
    });

    it("InvalidEphemeralKey: an ephemeral key with x = 0 (the identity, whose shared key anyone knows and the keeper refuses) at every entry point, before the proof", async function () {
      const position = await registerIndebted();
      const bobs = await registerIndebted(bob);
      for (const [what, y] of [
        ["the identity (0, 1)", 1n],
        ["the order-2 point (0, -1)", SNARK_FIELD - 1n],
      ] as const) {
        const edit = (x: bigint[]) => {
          x[LAYOUT.ephemeralKey] = 0n;
          x[LAYOUT.ephemeralKey + 1] = y;
        };
        const own = noMovement();
        own.flow[WETH] = -E18;
        // A keeper's forced rebalance of bob: sell WETH, repay USDC debt (no liquidation terms).
        const forcing = async () => {
          const { m, debtIndex } = await liquidationOf(bobs);
          delete m.liquidation;
          return submit(bench, keeper, bobs, { ...m, forced: true }, { debtIndex, edit });
        };
        const attempts: [string, () => Promise<unknown>][] = [
          ["register", async () => submit(bench, carol, emptyOpening(await carol.getAddress()), { ...noMovement(), flow: [E18, 0n, 0n] }, { edit })],
          ["rebalance", () => submit(bench, alice, position, own, { edit })],
          ["forced rebalance", forcing],
          ["flagBelowTrigger", () => flag(position, { edit })],
          ["liquidate", () => liquidate(position, { urgent: true, edit })],
        ];
        for (const [fn, attempt] of attempts) {
          await revertsWith(attempt(), errors, "RebalanceGate__InvalidEphemeralKey").catch((e: Error) => assert.fail(`${what}, ${fn}: ${e.message}`));
        }
      }
      // The same transitions with a proper ephemeral key go through.
      await liquidate(position, { urgent: true });
    });

    it("anyone may flag (a copier replaying the keeper's liquidation proof into flagBelowTrigger records the same flag); a keeper's forced rebalance clears it", async function () {
      const position = await registerIndebted();
      const { m, debtIndex } = await liquidationOf(position);
      // Bob sends the keeper's proof (liquidator = K) as a flag: recorded, nothing paid to anyone.
      const bobWallet = await Promise.all(bench.tokens.map((t) => balanceOf(t, B)));
      const { receipt } = await submit(bench, bob, position, m, { debtIndex, fn: "flagBelowTrigger" });
      const since = await minedAt(receipt);
      assert.deepEqual(await flagOf(A), [commitmentOf(position), since, since + WINDOW, since + WINDOW + FLAG_LIFETIME]);
      assert.deepEqual(await Promise.all(bench.tokens.map((t) => balanceOf(t, B))), bobWallet);
      // The keeper's own copy is then AlreadyFlagged: the flag is the same either way.
      await revertsWith(submit(bench, keeper, position, m, { debtIndex, fn: "flagBelowTrigger" }), errors, "RebalanceGate__AlreadyFlagged", [A]);
      // A forced rebalance (a keeper restoring the position) commits: the flag is gone.
      const forcing = await liquidationOf(position);
      delete forcing.m.liquidation;
      const { next } = await submit(bench, keeper, position, { ...forcing.m, forced: true }, { debtIndex: forcing.debtIndex });
      assert.deepEqual(await flagOf(A), [0n, 0n, 0n, 0n]);
      await revertsWith(liquidate(next), errors, "RebalanceGate__NotFlagged", [A]);
    });

    it("ForcedTransitionMovesValue: a liquidation (or flag) that pays the owner's wallet, takes a deposit, borrows or moves option tokens", async function () {
      const position = await registerIndebted();
      const [wethIndex] = await currentDebtIndex(bench);
      const cases: [string, (m: Movement) => void][] = [
        ["a withdrawal to the owner", (m) => (m.flow[WETH] = -E18)],
        ["a deposit from the owner", (m) => (m.flow[WBTC] = E8)],
        ["a borrow", (m) => borrowMove(m, WETH, E18, wethIndex!)],
        ["an option-token flow", (m) => (m.instrumentFlow[0] = -1n)],
      ];
      for (const [what, edit] of cases) {
        for (const fn of ["liquidate", "flagBelowTrigger"] as const) {
          const { m, debtIndex } = await liquidationOf(position, { urgent: true });
          edit(m);
          await revertsWith(submit(bench, keeper, position, m, { debtIndex, fn }), errors, "RebalanceGate__ForcedTransitionMovesValue").catch((e: Error) =>
            assert.fail(`${what} (${fn}): ${e.message}`),
          );
        }
      }
      await checkCustody([position]);
    });

    it("replays: a liquidation twice, a flag after the liquidation; a superseded and a stale epoch", async function () {
      const position = await registerIndebted();
      const { signals } = await liquidate(position, { urgent: true });
      await revertsWith(resend(bench, keeper, "liquidate", signals), errors, "RebalanceGate__WrongCommitment");
      await revertsWith(resend(bench, keeper, "flagBelowTrigger", signals), errors, "RebalanceGate__WrongCommitment");
      const bobs = await registerIndebted(bob);
      await (await bench.oracle.getFunction("publish")(EPOCH + 1n, MARKET_ROOT + 1n, await now())).wait();
      const { m, debtIndex } = await liquidationOf(bobs, { urgent: true });
      for (const fn of ["liquidate", "flagBelowTrigger"] as const) {
        await revertsWith(submit(bench, keeper, bobs, m, { debtIndex, fn }), errors, "RebalanceGate__NotLatestEpoch", [EPOCH, EPOCH + 1n]);
      }
      await passTime(FRESHNESS + 1n);
      const edit = (x: bigint[]) => (x[LAYOUT.marketRoot] = MARKET_ROOT + 1n);
      await revertsWith(submit(bench, keeper, bobs, m, { debtIndex, fn: "flagBelowTrigger", epoch: EPOCH + 1n, edit }), errors, "RebalanceGate__StaleEpoch", [EPOCH + 1n]);
    });
  });

  describe("the keeper key", function () {
    it("governance rotates it (generation + 1); proofs to an old key or an attacker's are refused (WrongKeeperKey) at every entry point", async function () {
      const position = await registerIndebted();
      assert.deepEqual([...(await bench.gate.getFunction("keeperKey")())], keeperKeyOf(KEEPER_SECRETS[0]!));
      assert.equal(await bench.gate.getFunction("keyGeneration")(), 1n);
      const next = keeperKeyOf(KEEPER_SECRETS[1]!);
      const receipt = await (await gate(bench.owner).getFunction("setKeeperKey")(...next)).wait();
      assert.deepEqual([...events(receipt, "KeeperKeyRotated")[0]!], [2n, ...next]);
      assert.equal(await bench.gate.getFunction("keyGeneration")(), 2n);
      const old = keeperKeyOf(KEEPER_SECRETS[0]!);
      // A valid subgroup point nobody at the protocol holds the secret of.
      const attacker = keeperKeyOf(0xbad_5eedn);
      for (const key of [old, attacker]) {
        await revertsWith(submit(bench, bob, emptyOpening(B), { ...noMovement(), flow: [E18, 0n, 0n] }, { keeperKey: key }), errors, "RebalanceGate__WrongKeeperKey");
        const own = noMovement();
        own.flow[WETH] = -E18;
        await revertsWith(submit(bench, alice, position, own, { keeperKey: key }), errors, "RebalanceGate__WrongKeeperKey");
        await revertsWith(flag(position, { keeperKey: key }), errors, "RebalanceGate__WrongKeeperKey");
        await revertsWith(liquidate(position, { urgent: true, keeperKey: key }), errors, "RebalanceGate__WrongKeeperKey");
      }
      // The current key's proofs go through.
      bench.keeperKey = next;
      await liquidate(position, { urgent: true });
    });

    it("positions re-encrypt on their next transition: keyGenerationOf, positionsUnderKey per generation, the retired key's count reaching 0", async function () {
      const count = async (g: bigint) => BigInt(await bench.gate.getFunction("positionsUnderKey")(g));
      const generationOf = async (who: string) => BigInt(await bench.gate.getFunction("keyGenerationOf")(who));
      assert.equal(await generationOf(A), 0n, "unregistered: generation 0");
      const alices = await registerIndebted(alice);
      const bobs = await registerIndebted(bob);
      assert.deepEqual([await count(1n), await generationOf(A), await generationOf(B)], [2n, 1n, 1n]);
      bench.keeperKey = keeperKeyOf(KEEPER_SECRETS[1]!);
      await (await gate(bench.owner).getFunction("setKeeperKey")(...bench.keeperKey)).wait();
      // Nothing moves until a position transitions: both ciphertexts are still under generation 1.
      assert.deepEqual([await count(1n), await count(2n)], [2n, 0n]);
      const own = noMovement();
      own.flow[WETH] = -E18;
      const { receipt } = await submit(bench, alice, alices, own);
      assert.equal(events(receipt, "OpeningEncrypted")[0]!.keyGeneration, 2n);
      assert.deepEqual([await count(1n), await count(2n), await generationOf(A), await generationOf(B)], [1n, 1n, 2n, 1n]);
      // Carol registers under generation 2; bob is liquidated (re-encrypted to generation 2).
      await registerIndebted(carol);
      await liquidate(bobs, { urgent: true });
      assert.deepEqual([await count(1n), await count(2n), await generationOf(B)], [0n, 3n, 2n]);
      // Generation 1's count is 0: its secret may now be destroyed (docs/enforcement.md).
    });

    it("governance only: setKeeperKey and setLiquidationTerms by others; invalid keys (zero, identity, off the curve, small order, mixed, >= p); terms out of range", async function () {
      const key = keeperKeyOf(KEEPER_SECRETS[1]!);
      await revertsWith(gate(alice).getFunction("setKeeperKey")(...key), errors, "OwnableUnauthorizedAccount", [A]);
      await revertsWith(gate(keeper).getFunction("setLiquidationTerms")(2_000n, 0n), errors, "OwnableUnauthorizedAccount", [K]);
      const valid = keeperKeyOf(KEEPER_SECRETS[2]!);
      const [order4, order8] = smallOrderPoints();
      const plus = (t: readonly [bigint, bigint]): [bigint, bigint] => addPoint(valid, [t[0], t[1]]) as [bigint, bigint];
      const invalid: [string, bigint, bigint][] = [
        ["the zero point", 0n, 0n],
        ["the identity", 0n, 1n],
        ["off the curve", valid[0], valid[1] + 1n],
        ["of order 2", ...ORDER_TWO],
        ["of order 4", ...order4],
        ["of order 8", ...order8],
        ["a subgroup point plus the order-2 point", ...plus(ORDER_TWO)],
        ["a subgroup point plus an order-4 point", ...plus(order4)],
        ["a subgroup point plus an order-8 point", ...plus(order8)],
        ["a coordinate >= p (x + p)", valid[0] + SNARK_FIELD, valid[1]],
        ["a coordinate >= p (y + p)", valid[0], valid[1] + SNARK_FIELD],
      ];
      for (const [what, x, y] of invalid) {
        await revertsWith(gate(bench.owner).getFunction("setKeeperKey")(x, y), errors, "RebalanceGate__InvalidKeeperKey", [x, y]).catch((e: Error) =>
          assert.fail(`${what}: ${e.message}`),
        );
      }
      assert.equal(await bench.gate.getFunction("keyGeneration")(), 1n);
      for (const [bonus, window] of [
        [2_001n, WINDOW],
        [BONUS_BPS, 30n * 86_400n + 1n],
      ] as const) {
        await revertsWith(gate(bench.owner).getFunction("setLiquidationTerms")(bonus, window), errors, "RebalanceGate__LiquidationTermsOutOfRange", [bonus, window]);
      }
      const receipt = await (await gate(bench.owner).getFunction("setLiquidationTerms")(2_000n, 30n * 86_400n)).wait();
      assert.deepEqual([...events(receipt, "LiquidationTermsSet")[0]!], [2_000n, 30n * 86_400n]);
      assert.deepEqual([await bench.gate.getFunction("liquidationBonus")(), await bench.gate.getFunction("liquidationWindow")()], [2_000n, 30n * 86_400n]);
      assert.deepEqual([await bench.gate.getFunction("MAX_LIQUIDATION_BONUS")(), await bench.gate.getFunction("MAX_LIQUIDATION_WINDOW")()], [2_000n, 30n * 86_400n]);
      // A valid rotation, with its gas (the subgroup check and the used-key records: governance pays
      // it once per rotation); bounded so a costlier check does not slip in unnoticed.
      const rotation = await (await gate(bench.owner).getFunction("setKeeperKey")(...valid)).wait();
      console.log(`      setKeeperKey (on-curve and prime-subgroup check, used-key records): ${rotation.gasUsed.toLocaleString("en-US")} gas`);
      assert.ok(rotation.gasUsed <= ROTATION_GAS_LIMIT, `setKeeperKey used ${rotation.gasUsed} gas, above ${ROTATION_GAS_LIMIT}`);
      assert.deepEqual([...(await bench.gate.getFunction("keeperKey")())], valid);
    });

    it("KeeperKeyReused: a key is used once (the current key, a retired one, or the negation of either), so a retired generation's count of 0 means its secret protects nothing", async function () {
      const negation = (k: readonly [bigint, bigint]): [bigint, bigint] => [SNARK_FIELD - k[0], k[1]];
      const [k1, k2, k3] = [0, 1, 2].map((j) => keeperKeyOf(KEEPER_SECRETS[j]!)) as [[bigint, bigint], [bigint, bigint], [bigint, bigint]];
      const rotate = (k: readonly [bigint, bigint]) => gate(bench.owner).getFunction("setKeeperKey")(...k);
      // The deployment's key (generation 1) is the current one.
      for (const key of [k1, negation(k1)]) await revertsWith(rotate(key), errors, "RebalanceGate__KeeperKeyReused", [...key]);
      await (await rotate(k2)).wait();
      // Generation 1's key is retired; rotating back to it (or to either negation) is refused.
      for (const key of [k1, negation(k1), k2, negation(k2)]) await revertsWith(rotate(key), errors, "RebalanceGate__KeeperKeyReused", [...key]);
      assert.equal(await bench.gate.getFunction("keyGeneration")(), 2n);
      // The negation is itself a valid key (the refusal is reuse, not validity): a fresh gate takes it.
      assert.deepEqual(validateKeeperPublicKey(negation(k1), "negation"), negation(k1));
      await (await rotate(k3)).wait();
      assert.equal(await bench.gate.getFunction("keyGeneration")(), 3n);
    });

    it("the constructor refuses an invalid keeper key and terms out of range", async function () {
      const args = (enforcement: unknown) => [
        bench.oracle.target,
        bench.addresses.tokens,
        [bench.addresses.option, "0x0000000000000000000000000000000000000000"],
        bench.addresses.lenders.map((a) => a ?? "0x0000000000000000000000000000000000000000"),
        bench.factory.target,
        N_SWAPS,
        POLICY,
        enforcement,
        bench.verifier.target,
        A,
      ];
      const deploy = (enforcement: unknown) => bench.ethers.deployContract("RebalanceGate", args(enforcement));
      await revertsWith(deploy(gateEnforcement([0n, 1n], BONUS_BPS, WINDOW)), errors, "RebalanceGate__InvalidKeeperKey", [0n, 1n]);
      await revertsWith(deploy(gateEnforcement(keeperKeyOf(KEEPER_SECRETS[0]!), 2_001n, WINDOW)), errors, "RebalanceGate__LiquidationTermsOutOfRange", [2_001n, WINDOW]);
      const fresh = (await deploy(gateEnforcement(keeperKeyOf(KEEPER_SECRETS[3]!), 0n, 0n))) as unknown as Contract;
      assert.equal(await fresh.getFunction("keyGeneration")(), 1n);
      assert.deepEqual([...(await fresh.getFunction("keeperKey")())], keeperKeyOf(KEEPER_SECRETS[3]!));
      // The base point itself is a valid key (the subgroup's generator).
      await deploy(gateEnforcement(Base8, BONUS_BPS, WINDOW));
    });
  });

  describe("hostile tokens: a blocklisting debt token (USDC), a WETH that calls back into the gate", function () {
    let saved: Bench;
    before(async function () {
      saved = bench;
      await use(await deployBench({ tokenContracts: ["ReentrantToken", "TestToken", "BlocklistToken"] }));
    });
    after(async () => use(saved));

    const blocklist = async (who: string, listed: boolean) => (await bench.tokens[USDC]!.getFunction("setBlocklisted")(who, listed)).wait();

    it("a blocklisted owner cannot block a keeper: the swap excess and the repayment leftover are credited to claimable (liquidation and forced rebalance), claimed once off the list", async function () {
      const position = await registerIndebted();
      const bobs = await registerIndebted(bob);
      await blocklist(A, true);
      // The token refuses alice: her own transitions still push to her wallet, so a swap with an
      // excess fails for her (her choice of token, her transition).
      const own = noMovement();
      const out = await quote(bench, WETH, USDC, E18);
      own.swaps = [{ sell: WETH, buy: USDC, amountIn: E18, minOut: out - E6 }];
      await revertsWith(submit(bench, alice, position, own), errors, "BlocklistToken__Blocklisted", [A]);
      // The keeper's urgent liquidation: a swap 1 USDC above its minOut and a repayment whose
      // leftover is above 0 (the proof's index is projected ahead). Pushed, either would revert.
      const usdcBefore = await balanceOf(bench.tokens[USDC]!, A);
      const { next, receipt } = await liquidate(position, { urgent: true, excess: E6 });
      const credited = events(receipt, "ClaimableCredited").map((e) => [e.account, e.token, e.amount]);
      assert.equal(credited.length, 2, "the swap's excess, then the repayment's leftover");
      assert.deepEqual(credited[0], [A, bench.addresses.tokens[USDC], E6]);
      assert.ok(credited[1]![2] > 0n, "a repayment leftover above 0");
      const owed = E6 + credited[1]![2];
      assert.equal(await claimable(A, USDC), owed);
      assert.equal(await balanceOf(bench.tokens[USDC]!, A), usdcBefore);
      await checkCustody([next, bobs]);
      // A forced rebalance of bob credits his leftover too (no liquidation terms; bob is not listed).
      const { m, debtIndex } = await liquidationOf(bobs);
      delete m.liquidation;
      const forced = await submit(bench, keeper, bobs, { ...m, forced: true }, { debtIndex });
      const bobOwed = await claimable(B, USDC);
      assert.ok(bobOwed > 0n);
      assert.deepEqual(
        events(forced.receipt, "ClaimableCredited").map((e) => e.account),
        [B],
      );
      await checkCustody([next, forced.next]);
      // Alice cannot take it while listed (the token's rule), can once off the list; then nothing is left.
      const token = bench.addresses.tokens[USDC]!;
      await revertsWith(gate(alice).getFunction("claim")(token), errors, "BlocklistToken__Blocklisted", [A]);
      await blocklist(A, false);
      await (await gate(alice).getFunction("claim")(token)).wait();
      assert.equal((await balanceOf(bench.tokens[USDC]!, A)) - usdcBefore, owed);
      await revertsWith(gate(alice).getFunction("claim")(token), errors, "RebalanceGate__NothingToClaim", [A, token]);
      // Nobody claims another's balance: carol has nothing, bob's stays his.
      await revertsWith(gate(carol).getFunction("claim")(token), errors, "RebalanceGate__NothingToClaim", [await carol.getAddress(), token]);
      assert.equal(await claimable(B, USDC), bobOwed);
      assert.equal(BigInt(await bench.gate.getFunction("claimableTotal")(token)), bobOwed);
      await checkCustody([next, forced.next]);
    });

    it("every entry point is nonReentrant: a token calling back mid-transfer meets ReentrancyGuardReentrantCall; the new commitment is written before any token moves", async function () {
      const position = await registerIndebted();
      const weth = bench.tokens[WETH]!;
      const iface = bench.gate.interface;
      const reentries: [string, string][] = [
        ["register", iface.encodeFunctionData("register", [EPOCH, ZERO_PROOF, []])],
        ["rebalance", iface.encodeFunctionData("rebalance", [EPOCH, ZERO_PROOF, []])],
        ["flagBelowTrigger", iface.encodeFunctionData("flagBelowTrigger", [EPOCH, ZERO_PROOF, []])],
        ["liquidate", iface.encodeFunctionData("liquidate", [EPOCH, ZERO_PROOF, []])],
        ["claim", iface.encodeFunctionData("claim", [bench.addresses.tokens[USDC]])],
        ["setKeeperKey", iface.encodeFunctionData("setKeeperKey", keeperKeyOf(KEEPER_SECRETS[1]!))],
        ["setLiquidationTerms", iface.encodeFunctionData("setLiquidationTerms", [0n, 0n])],
        ["setPolicyHash", iface.encodeFunctionData("setPolicyHash", [1n])],
        ["setVerifier", iface.encodeFunctionData("setVerifier", [K])],
      ];
      const own = noMovement();
      own.flow[WETH] = -E18;
      // The WETH leaving the gate (to the pair, to the keeper's bonus, to alice's wallet) calls back.
      const outer: [string, () => Promise<unknown>][] = [
        ["liquidate", () => liquidate(position, { urgent: true })],
        ["rebalance", () => submit(bench, alice, position, own)],
      ];
      for (const [via, send] of outer) {
        for (const [fn, data] of reentries) {
          await (await weth.getFunction("arm")(bench.addresses.gate, data, true)).wait();
          await revertsWith(send(), errors, "ReentrancyGuardReentrantCall").catch((e: Error) => assert.fail(`${fn} inside ${via}: ${e.message}`));
        }
      }
      // Effects before interactions: a view read from inside the first WETH transfer already sees the new commitment.
      await (await weth.getFunction("arm")(bench.addresses.gate, iface.encodeFunctionData("commitmentOf", [A]), false)).wait();
      const { next } = await liquidate(position, { urgent: true });
      assert.equal(await weth.getFunction("lastSuccess")(), true);
      assert.equal(BigInt(await weth.getFunction("lastReturn")()), commitmentOf(next));
      await (await weth.getFunction("disarm")()).wait();
      await checkCustody([next]);
    });
  });

  describe("random sequences keep the custody and key invariants @property", function () {
    // 100 runs are about 1,200 steps (under a minute on 2 cores); ZKS_PROPERTY_RUNS=N runs longer.
    const RUNS = Number(process.env.ZKS_PROPERTY_RUNS ?? 100);
    type Kind = "deposit" | "withdraw" | "borrow" | "repay" | "rotate" | "flag" | "liquidate" | "time" | "staleKey" | "terms" | "claim";
    interface Step {
      who: number;
      kind: Kind;
      asset: number;
      frac: number;
      urgent: boolean;
      /** time: how long passes (a minute, past the window, past a flag's lifetime); terms: the new window. */
      span: number;
      /** A liquidation of USDC debt sells WETH on the pair first. */
      swap: boolean;
    }
    const stepArb: fc.Arbitrary<Step> = fc.record({
      // Account 0 acts most, so flags, time and liquidations of one position chain up often.
      who: fc.constantFrom(0, 0, 0, 1, 2),
      kind: fc.constantFrom<Kind>(
        "deposit",
        "deposit",
        "withdraw",
        "borrow",
        "borrow",
        "repay",
        "repay",
        "rotate",
        "flag",
        "flag",
        "liquidate",
        "liquidate",
        "liquidate",
        "time",
        "time",
        "staleKey",
        "terms",
        "claim",
        "claim",
      ),
      asset: fc.constantFrom(WETH, USDC),
      frac: fc.integer({ min: 1, max: 1000 }),
      urgent: fc.boolean(),
      span: fc.integer({ min: 0, max: 2 }),
      swap: fc.boolean(),
    });
    /** A minute; past the bench's window; past any window (at most 2 x WINDOW) and a flag's lifetime. */
    const TIME_STEPS = [60n, WINDOW + 60n, 2n * WINDOW + FLAG_LIFETIME + 60n];
    /** The steps' assets are WETH and USDC (the two with lenders); the other of the two. */
    const otherAsset = (i: number): number => (i === WETH ? USDC : WETH);
    /** Windows governance switches between: none, the bench's, two of the bench's. */
    const WINDOWS = [0n, WINDOW, 2n * WINDOW];

    /**
     * A sequence fast-check runs first, so every outcome the test requires occurs whatever the seed:
     * a flag that lapses (FlagExpired), a new flag, a liquidation with a swap after the window whose
     * excess and leftover alice claims, a repayment of her own.
     */
    const step = (kind: Kind, o: Partial<Step> = {}): Step => ({ who: 0, kind, asset: USDC, frac: 500, urgent: false, span: 0, swap: false, ...o });
    const EXAMPLE: Step[] = [
      step("deposit", { asset: WETH }),
      step("borrow"),
      step("flag"),
      step("time", { span: 2 }),
      step("liquidate"),
      step("flag"),
      step("time", { span: 1 }),
      step("liquidate", { swap: true, frac: 300 }),
      step("claim"),
      step("repay", { frac: 200 }),
    ];

    interface Model {
      position?: Opening;
      generation: bigint;
      flaggedSince: bigint;
      liquidatableAt: bigint;
      /** What keeper transitions credited the account, per asset (claim pays it). */
      owed: bigint[];
    }

    it("invariants (1) with claimable and (2) with bonuses paid out; sum of positionsUnderKey == registered accounts; keyGenerationOf; flags with their stored window and lifetime", async function () {
      this.timeout(600_000);
      const accounts = await Promise.all(bench.users.map((u) => u.getAddress()));
      const gateAddress = bench.addresses.gate.toLowerCase();
      const tokenAddresses = bench.addresses.tokens.map((a) => a.toLowerCase());
      const protocols = new Set([...bench.addresses.pairs, ...bench.addresses.lenders.filter((a): a is string => !!a)].map((a) => a.toLowerCase()));
      const keeperAddress = K.toLowerCase();
      const tally = new Map<string, number>();
      let steps = 0;
      const started = Date.now();

      await fc.assert(
        fc.asyncProperty(fc.array(stepArb, { minLength: 8, maxLength: 16, size: "max" }), async (sequence) => {
          await restore(snapshotId);
          snapshotId = await snapshot();
          const models: Model[] = accounts.map(() => ({ generation: 0n, flaggedSince: 0n, liquidatableAt: 0n, owed: [0n, 0n, 0n] }));
          let generation = 1n;
          let window = WINDOW;
          const keys = [keeperKeyOf(KEEPER_SECRETS[0]!)];
          bench.keeperKey = keys[0]!;
          // Per account, per asset: tokens the gate took in for it minus what it paid out for it (to it, to protocols, to its liquidator).
          const credit = accounts.map(() => [0n, 0n, 0n]);

          for (const step of sequence) {
            steps++;
            const model = models[step.who]!;
            const signer = bench.users[step.who]!;
            const account = accounts[step.who]!;
            let kind: Kind = step.kind;
            if (!model.position && !["rotate", "time", "terms", "claim"].includes(kind)) kind = "deposit";
            let detail = "";
            const label = (outcome: string) => tally.set(`${kind}${detail}:${outcome}`, (tally.get(`${kind}${detail}:${outcome}`) ?? 0) + 1);

            if (kind === "time") {
              await passTime(TIME_STEPS[step.span]!);
              label("ok");
            } else if (kind === "terms") {
              window = WINDOWS[step.span]!;
              await setTerms(BONUS_BPS, window);
              label("ok");
            } else if (kind === "rotate") {
              const key = keeperKeyOf(KEEPER_SECRETS[Number(generation) % KEEPER_SECRETS.length]! + generation);
              await (await gate(bench.owner).getFunction("setKeeperKey")(...key)).wait();
              generation++;
              keys.push(key);
              bench.keeperKey = key;
              label("ok");
            } else if (kind === "claim") {
              // The step's asset, or the other one when only that is owed.
              const asset = model.owed[step.asset] === 0n && model.owed[otherAsset(step.asset)]! > 0n ? otherAsset(step.asset) : step.asset;
              const token = bench.addresses.tokens[asset]!;
              if (model.owed[asset] === 0n) {
                await revertsWith(gate(signer).getFunction("claim")(token), errors, "RebalanceGate__NothingToClaim", [account, token]);
                label("NothingToClaim");
              } else {
                const receipt = await (await gate(signer).getFunction("claim")(token)).wait();
                model.owed[asset] = 0n;
                account_(receipt, step.who, false);
                label("ok");
              }
            } else {
              const old = model.position ?? emptyOpening(account);
              const debtIndex = await proofDebtIndex(bench);
              const part = (amount: bigint) => (amount * BigInt(step.frac)) / 1000n;
              let m = noMovement();
              let sender = signer;
              let expected: string | undefined;
              let keeperKey: readonly [bigint, bigint] | undefined;
              let fn: GateEntry = model.position ? "rebalance" : "register";
              // A repayment of the step's asset, or of the other one when only that is owed.
              const i = kind === "repay" && old.debt[step.asset] === 0n && old.debt[otherAsset(step.asset)]! > 0n ? otherAsset(step.asset) : step.asset;
              /** The most debt units of `i` that `collateral` of it repays at the proof's index. */
              const coverable = (collateral: bigint) => {
                let units = (collateral * E18) / debtIndex[i]!;
                while (units > 0n && repayAssets(units, debtIndex[i]!) > collateral) units--;
                return units;
              };
              if (kind === "deposit") {
                m.flow[i] = 1n + part(i === WETH ? 20n * E18 : 60_000n * E6);
              } else if (kind === "withdraw") {
                m.flow[i] = -(part(old.collateral[i]!) || 1n);
              } else if (kind === "borrow") {
                m = borrowMove(m, i, part(i === WETH ? 5n * E18 : 20_000n * E6) + 1n, (await currentDebtIndex(bench))[i]!);
              } else if (kind === "repay") {
                // From collateral; mostly within what it covers (frac > 900: a tenth beyond it, refused).
                const cap = step.frac > 900 ? old.debt[i]! : bigIntMin(old.debt[i]!, coverable(old.collateral[i]!));
                m = repayMove(m, i, part(cap) || 1n, debtIndex[i]!);
              } else if (kind === "staleKey") {
                // A proof to a key that is not the gate's current one (an old generation's, or an attacker's).
                keeperKey = generation > 1n ? keys[Number(step.frac) % (keys.length - 1)]! : keeperKeyOf(0xbad_5eedn);
                m.flow[i] = 1n;
                expected = "RebalanceGate__WrongKeeperKey";
              } else {
                // A keeper's flag or liquidation: repay part of the debt of `i` from its collateral
                // (of USDC debt, after selling part of the WETH on the pair, minOut a little below
                // what it delivers: the excess is the owner's, credited to claimable), and a bonus of
                // part of the WETH left (the clear verifier checks no prices: the circuit bounds the
                // bonus; the custody holds whatever it is).
                sender = keeper;
                fn = kind === "flag" ? "flagBelowTrigger" : "liquidate";
                let available = old.collateral[i]!;
                let sold = 0n;
                if (step.swap && i === USDC && old.collateral[WETH]! > 0n) {
                  sold = part(old.collateral[WETH]! / 2n) || 1n;
                  const out = await quote(bench, WETH, USDC, sold);
                  const minOut = out - (out * BigInt(step.frac % 7)) / 1000n;
                  if (minOut > 0n) {
                    m.swaps = [{ sell: WETH, buy: USDC, amountIn: sold, minOut }];
                    available += minOut;
                    detail = "+swap";
                  } else sold = 0n;
                }
                const units = bigIntMin(part(old.debt[i]!), coverable(available));
                if (units > 0n) m = repayMove(m, i, units, debtIndex[i]!);
                const bonus = [0n, 0n, 0n];
                bonus[WETH] = part(old.collateral[WETH]! - sold - (i === WETH ? m.debtAssets[WETH]! : 0n)) / 20n;
                m.liquidation = { liquidator: K, bonusBps: BONUS_BPS, bonus, urgent: step.urgent };
              }
              const next = applyMovement(old, m, m.liquidation ? old.salt : BigInt(steps) + 1n);
              // Every gate call is mined at exactly `at`: the model's flag arithmetic is exact.
              await stage(bench, old, next);
              const at = (await now()) + 1n;
              await bench.ethers.provider.send("evm_setNextBlockTimestamp", [Number(at)]);
              if (kind === "flag") {
                if (model.flaggedSince !== 0n && at < model.liquidatableAt + FLAG_LIFETIME) expected = "RebalanceGate__AlreadyFlagged";
              } else if (kind === "liquidate" && !step.urgent) {
                if (model.flaggedSince === 0n) expected = "RebalanceGate__NotFlagged";
                else if (at < model.liquidatableAt) expected = "RebalanceGate__GraceWindowOpen";
                else if (at >= model.liquidatableAt + FLAG_LIFETIME) expected = "RebalanceGate__FlagExpired";
              }
              if (!expected && [...next.collateral, ...next.debt].some((x) => x < 0n)) expected = "RebalanceGate__InvalidProof";
              const options = { next, debtIndex, fromEmpty: !model.position, fn, stage: false, ...(keeperKey && { keeperKey }) };
              if (expected) {
                const before = await Promise.all([bench.gate.getFunction("positionOf")(account), bench.gate.getFunction("flagOf")(account)]);
                await revertsWith(submit(bench, sender, old, m, options), errors, expected);
                const after = await Promise.all([bench.gate.getFunction("positionOf")(account), bench.gate.getFunction("flagOf")(account)]);
                assert.deepEqual(
                  after.map((r) => [...r]),
                  before.map((r) => [...r]),
                  "a rejected step changes nothing",
                );
                label(expected.replace("RebalanceGate__", ""));
              } else {
                const { receipt } = await submit(bench, sender, old, m, options);
                assert.equal(await minedAt(receipt), at);
                if (kind === "flag") {
                  model.flaggedSince = at;
                  model.liquidatableAt = at + window;
                } else {
                  model.position = next;
                  model.generation = generation;
                  model.flaggedSince = 0n;
                  model.liquidatableAt = 0n;
                }
                for (const e of events(receipt, "ClaimableCredited")) {
                  assert.equal(e.account, account, "a keeper's transition credits only the account it moved");
                  model.owed[tokenAddresses.indexOf(String(e.token).toLowerCase())]! += BigInt(e.amount);
                }
                if (kind !== "liquidate" && kind !== "flag") assert.equal(events(receipt, "ClaimableCredited").length, 0, "the owner's own transitions pay its wallet");
                account_(receipt, step.who, kind === "liquidate");
                label("ok");
              }
            }
            await checkInvariants();
          }

          /** Transfers of the step's receipt on the account's books: the liquidator's bonus is paid for the account. */
          function account_(receipt: TransactionReceipt, who: number, liquidation: boolean): void {
            const me = accounts[who]!.toLowerCase();
            for (const log of receipt.logs) {
              const t = tokenAddresses.indexOf(log.address.toLowerCase());
              if (t < 0 || log.topics[0] !== TRANSFER.getEvent("Transfer")!.topicHash) continue;
              const parsed = TRANSFER.parseLog(log)!;
              const [from, to, value] = [String(parsed.args[0]).toLowerCase(), String(parsed.args[1]).toLowerCase(), BigInt(parsed.args[2])];
              if (to === gateAddress && (from === me || protocols.has(from))) credit[who]![t]! += value;
              else if (from === gateAddress && (to === me || protocols.has(to) || (liquidation && to === keeperAddress))) credit[who]![t]! -= value;
              else if (from === gateAddress || to === gateAddress) assert.fail(`a transfer between the gate and a stranger: ${from} -> ${to}`);
            }
          }

          async function checkInvariants(): Promise<void> {
            const held = models.filter((x) => x.position).map((x) => x.position!);
            await checkCustody(held);
            for (let t = 0; t < N_ASSETS; t++) {
              const total = BigInt(await bench.gate.getFunction("claimableTotal")(bench.addresses.tokens[t]!));
              assert.equal(
                total,
                models.reduce((s, x) => s + x.owed[t]!, 0n),
                `claimableTotal(asset ${t}) == the sum of the accounts' claimable`,
              );
            }
            let sum = 0n;
            for (let g = 1n; g <= generation; g++) {
              const count = BigInt(await bench.gate.getFunction("positionsUnderKey")(g));
              assert.equal(count, BigInt(models.filter((x) => x.position && x.generation === g).length), `positionsUnderKey(${g})`);
              sum += count;
            }
            assert.equal(sum, BigInt(held.length), "sum over generations of positionsUnderKey == registered accounts");
            assert.equal(await bench.gate.getFunction("keyGeneration")(), generation);
            for (const [who, x] of models.entries()) {
              assert.equal(BigInt(await bench.gate.getFunction("keyGenerationOf")(accounts[who])), x.generation, `keyGenerationOf(account ${who})`);
              const expectedFlag = x.flaggedSince === 0n ? [0n, 0n, 0n, 0n] : [commitmentOf(x.position!), x.flaggedSince, x.liquidatableAt, x.liquidatableAt + FLAG_LIFETIME];
              assert.deepEqual(await flagOf(accounts[who]!), expectedFlag, `flagOf(account ${who})`);
              const c = x.position ? x.position.collateral : [0n, 0n, 0n];
              for (let t = 0; t < N_ASSETS; t++) {
                assert.equal(await claimable(accounts[who]!, t), x.owed[t], `claimable(account ${who}, asset ${t})`);
                // Bonuses are paid out of the account's own collateral; what the gate still owes it is
                // its committed balance plus its claimable balance, exactly what it brought in net.
                assert.equal(credit[who]![t], c[t]! + x.owed[t]!, `account ${who} token ${t}: net inflow == committed + claimable`);
              }
            }
          }
        }),
        { numRuns: RUNS, endOnFailure: true, examples: [[EXAMPLE]] },
      );
      const seconds = (Date.now() - started) / 1000;
      console.log(`      ${RUNS} runs, ${steps} steps in ${seconds.toFixed(1)} s: ${JSON.stringify(Object.fromEntries([...tally.entries()].sort()))}`);
      for (const outcome of [
        "liquidate:ok",
        "liquidate+swap:ok",
        "flag:ok",
        "rotate:ok",
        "repay:ok",
        "claim:ok",
        "liquidate:GraceWindowOpen",
        "liquidate:NotFlagged",
        "liquidate:FlagExpired",
        "flag:AlreadyFlagged",
        "staleKey:WrongKeeperKey",
      ]) {
        assert.ok((tally.get(outcome) ?? 0) > 0, `the sequences never produced ${outcome}`);
      }
    });
  });
});

const bigIntMin = (a: bigint, b: bigint): bigint => (a < b ? a : b);

/** Prices scaled by `factor` (percent) for WETH: the price shocks of part 2. */
function shocked(market: Market, epoch: number, timestamp: number, percent: bigint, usdcIndex: bigint): Market {
  return {
    ...market,
    epoch,
    timestamp,
    assets: market.assets.map((a, i) => (i === R_WETH ? { ...a, price: (a.price * percent) / 100n } : i === R_USDC ? { ...a, debtIndex: usdcIndex } : a)),
  };
}

const R_WETH = 0;
const R_USDC = 2;
const REBALANCE = "rebalance-3x3x16";
/** rebalance-3x3x16's slots (test/helpers/contracts-fixtures.ts LAYOUT). */
const REAL = { nAssets: 3, nInstruments: 3, nScenarios: 16, nSwaps: 2 } as const;
const REAL_SIGNALS = custodyLayout(REAL.nAssets, REAL.nInstruments, REAL.nSwaps);
const REAL_FRESHNESS = 3_600n;
/** A grace window inside one epoch's freshness, so one epoch serves the flag and the liquidation. */
const REAL_WINDOW = 600n;

describe("enforcement at the gate with real proofs (rebalance-3x3x16): decrypt, flag, liquidate, rotate", function () {
  let ethers: Bench["ethers"];
  let artifacts: InstanceArtifacts;
  let policy: Policy;
  let market42: Market;
  let owner: Signer, alice: Signer, bob: Signer, keeper: Signer, carol: Signer, publisher: Signer, lp: Signer;
  let A: string, B: string, K: string;
  let tokens: Contract[];
  let lender: Contract, pair: Contract, oracle: Contract, gate: Contract;
  let gateAddress: string;
  let context: bigint;
  let errors: Interface;
  let salt = 7_000_000n;

  const mined = async (tx: Promise<unknown>): Promise<TransactionReceipt> => {
    const receipt = await ((await tx) as { wait(): Promise<TransactionReceipt | null> }).wait();
    assert.ok(receipt && receipt.status === 1);
    return receipt;
  };
  const call = (contract: Contract, signer: Signer, method: string, ...args: unknown[]) => (contract.connect(signer) as Contract).getFunction(method)(...args);
  const balanceOf = async (token: Contract, who: string): Promise<bigint> => BigInt(await token.getFunction("balanceOf")(who));
  const now = async (): Promise<number> => (await ethers.provider.getBlock("latest"))!.timestamp;
  const passTime = async (seconds: bigint): Promise<void> => {
    await ethers.provider.send("evm_increaseTime", [Number(seconds)]);
    await ethers.provider.send("evm_mine", []);
  };
  const parsed = (receipt: TransactionReceipt, name: string) =>
    receipt.logs
      .map((log: Log) => gate.interface.parseLog(log))
      .filter((e) => e?.name === name)
      .map((e) => e!.args);
  /** What the OpeningEncrypted event of `receipt` publishes, as decryptOpening takes it. */
  const published = (receipt: TransactionReceipt): PublishedOpening & { keyGeneration: bigint } => {
    const [o] = parsed(receipt, "OpeningEncrypted");
    assert.ok(o, "an OpeningEncrypted event");
    return {
      account: o.account,
      nonce: o.nonce,
      commitment: o.commitment,
      ephemeralKey: [o.ephemeralKey[0], o.ephemeralKey[1]],
      ciphertext: [...o.ciphertext],
      keyGeneration: o.keyGeneration,
    };
  };
  const sameOpening = (decrypted: Position, proven: Position) =>
    assert.deepEqual({ ...decrypted, account: decrypted.account.toLowerCase() }, { ...proven, account: proven.account.toLowerCase() });
  const lenderIndexIn = async (seconds: bigint): Promise<bigint> => BigInt(await lender.getFunction("indexAt")(BigInt(await now()) + seconds));
  const publish = async (market: Market): Promise<void> =>
    void (await mined(call(oracle, publisher, "publish", BigInt(market.epoch), marketRoot(market, REAL), BigInt(market.timestamp))));

  /** A real proof of `t` under `market`, encrypted to `keeperKey`, as the gate's call arguments. */
  const prove = async (t: Transition, market: Market, keeperKey: readonly [bigint, bigint]): Promise<GateArguments> => {
    const check = checkTransition(t, market, policy);
    assert.ok(check.valid, check.violations.map((v) => v.message).join("; "));
    return gateArguments(await generateProof(rebalanceInput(t, market, policy, REAL, "position", context, { keeperKey }), artifacts));
  };
  /** No proof of `t` exists: the mirror names the rule, the circuit's witness generator refuses it. */
  const unprovable = async (t: Transition, market: Market, rule: RegExp): Promise<void> => {
    const check = checkTransition(t, market, policy);
    assert.equal(check.valid, false);
    assert.match(check.violations.map((v) => `${v.rule}: ${v.message}`).join("; "), rule);
    await assert.rejects(
      async () => generateProof(rebalanceInput(t, market, policy, REAL, "position", context, { keeperKey: OTHER_KEEPER.publicKey }), artifacts),
      (error: Error) => /the circuit rejects this input.*Assert Failed/s.test(error.message),
    );
  };

  /**
   * The liquidation of `position` under `market` the keeper would prove: sell WETH on the pair
   * (minOut = what it delivers now), repay the USDC debt it buys, take the largest WETH bonus
   * within the gate's rate; the least WETH (in steps of 1/4) after which the new position passes
   * the policy (checkTransition, the circuit's mirror).
   */
  async function planLiquidationOf(position: Position, market: Market, urgent: boolean): Promise<Transition> {
    const index = market.assets[R_USDC]!.debtIndex;
    for (let quarters = 1n; quarters <= (4n * position.collateral[R_WETH]!) / E18; quarters++) {
      const sell = (quarters * E18) / 4n;
      const out = await quoteAmountOut(pair, await tokens[R_WETH]!.getAddress(), sell);
      let units = (out * E18) / index;
      while (repayAssets(units, index) > out) units--;
      if (units > position.debt[R_USDC]!) units = position.debt[R_USDC]!;
      const m = noMovements(market);
      m.swaps = [{ sell: R_WETH, buy: R_USDC, amountIn: sell, minOut: out }];
      m.debtDelta[R_USDC] = -units;
      m.debtAssets[R_USDC] = repayAssets(units, index);
      // The largest WETH bonus worth at most BONUS_BPS of the repaid value at the oracle's prices.
      let bonus = (BONUS_BPS * repaidValue(m, market)) / (10_000n * swapValue(1n, market.assets[R_WETH]!));
      while (bonus > 0n && 10_000n * bonusValue([bonus, 0n, 0n], market) > BONUS_BPS * repaidValue(m, market)) bonus--;
      const liquidation = { liquidator: K, bonusBps: BONUS_BPS, bonus: [bonus, 0n, 0n], urgent };
      const t = transitionOf(position, m, position.salt!, { liquidation });
      if (checkTransition(t, market, policy).valid) return t;
    }
    throw new Error("no liquidation of the test position passes the policy");
  }

  before(async function () {
    artifacts = loadInstanceArtifacts(REBALANCE);
    if (artifacts.manifest.publicSignals.length !== REAL_SIGNALS.count || artifacts.manifest.publicSignals[REAL_SIGNALS.ciphertext] !== "ciphertext[0]") {
      throw new Error(
        `rebuild ${REBALANCE}: the gate's layout has ${REAL_SIGNALS.count} public signals ending in the ciphertext (docs/enforcement.md); the build has ${artifacts.manifest.publicSignals.length}`,
      );
    }
    const example = loadMarket();
    policy = loadPolicy(example);
    const connection = await network.connect();
    ethers = connection.ethers;
    [owner, alice, bob, keeper, carol, publisher, lp] = (await ethers.getSigners()) as unknown as Signer[] as [Signer, Signer, Signer, Signer, Signer, Signer, Signer];
    [A, B, K] = await Promise.all([alice.getAddress(), bob.getAddress(), keeper.getAddress()]);
    const ownerAddress = await owner.getAddress();
    const lpAddress = await lp.getAddress();

    // Tokens of the example market; a WETH/USDC pair at the oracle's price; a USDC lender.
    tokens = [];
    for (const a of example.assets) tokens.push((await ethers.deployContract("TestToken", [`Test ${a.symbol}`, a.symbol, a.decimals])) as unknown as Contract);
    const tokenAddresses = await Promise.all(tokens.map((t) => t.getAddress()));
    const mint = (t: Contract, to: string, amount: bigint) => mined(call(t, owner, "mint", to, amount));
    const factory = await deployUniswapV2Factory(owner);
    const weth = example.assets[R_WETH]!;
    const usdc = example.assets[R_USDC]!;
    const depth = 5_000n * E18;
    const quoteDepth = (depth * weth.price * 10n ** BigInt(usdc.decimals)) / (10n ** BigInt(weth.decimals) * usdc.price);
    await mint(tokens[R_WETH]!, lpAddress, depth);
    await mint(tokens[R_USDC]!, lpAddress, quoteDepth + 1_000_000n * E6);
    pair = await createPair(factory, tokenAddresses[R_WETH]!, tokenAddresses[R_USDC]!);
    await addLiquidity(pair, lp, tokenAddresses[R_WETH]!, depth, tokenAddresses[R_USDC]!, quoteDepth);
    lender = (await ethers.deployContract("LenderVault", [
      tokenAddresses[R_USDC]!,
      "Lent USDC",
      "lUSDC",
      (5n * 10n ** 16n) / (365n * 86_400n),
      ownerAddress,
    ])) as unknown as Contract;
    await mined(call(tokens[R_USDC]!, lp, "approve", await lender.getAddress(), 1_000_000n * E6));
    await mined(call(lender, lp, "deposit", 1_000_000n * E6, lpAddress));

    oracle = (await ethers.deployContract("MarketOracle", [ownerAddress, await publisher.getAddress(), REAL_FRESHNESS])) as unknown as Contract;
    const verifier = await ethers.deployContract(artifacts.manifest.verifierContract!);
    const ZERO = ethers.ZeroAddress;
    gate = (await ethers.deployContract("RebalanceGate", [
      await oracle.getAddress(),
      tokenAddresses,
      [ZERO, ZERO, ZERO],
      [ZERO, ZERO, await lender.getAddress()],
      await factory.getAddress(),
      REAL.nSwaps,
      policyHash(policy),
      gateEnforcement(TEST_KEEPER.publicKey, BONUS_BPS, REAL_WINDOW),
      await verifier.getAddress(),
      ownerAddress,
    ])) as unknown as Contract;
    gateAddress = await gate.getAddress();
    await mined(call(lender, owner, "setBorrower", gateAddress));
    context = gateContext((await ethers.provider.getNetwork()).chainId, gateAddress);
    errors = new Interface([...REBALANCE_GATE_ABI, "error OwnableUnauthorizedAccount(address account)"]);
    for (const user of [alice, bob]) {
      await mint(tokens[R_WETH]!, await user.getAddress(), 100n * E18);
      await mined(call(tokens[R_WETH]!, user, "approve", gateAddress, 1n << 255n));
    }
    market42 = shocked(example, 42, await now(), 100n, await lenderIndexIn(REAL_FRESHNESS));
    await publish(market42);
  });

  after(releaseProverThreads);

  it("the owner registers (10 WETH, 16,000 USDC borrowed to the wallet); the keeper decrypts the event; a rotation; a price shock; the keeper flags, waits and liquidates from the ciphertext alone; an urgent liquidation needs no flag", async function () {
    // 1. Alice and bob register, each a real proof; their openings are published encrypted to generation 1.
    const index = BigInt(await lender.getFunction("debtIndex")());
    const registration = (who: string): Transition => {
      const m = noMovements(market42);
      m.flows[R_WETH] = 10n * E18;
      m.debtDelta[R_USDC] = 16_000n * E6;
      m.debtAssets[R_USDC] = borrowAssets(16_000n * E6, index);
      m.flows[R_USDC] = -m.debtAssets[R_USDC]!;
      return transitionOf(emptyPosition(who, market42), m, ++salt);
    };
    // An owner who would hide its opening from the keeper behind the identity ephemeral key
    // (ephemeralSecret = 0: the shared key is the identity, which decryptOpening refuses): the
    // circuit has no witness for it, and the gate refuses x = 0 before the proof anyway.
    const hidden = registration(A);
    const honest = rebalanceInput(hidden, market42, policy, REAL, "position", context, { keeperKey: TEST_KEEPER.publicKey }) as Record<string, unknown>;
    const identityCiphertext = poseidonEncrypt(openingPlaintext({ ...hidden.next, nonce: 1n }, REAL), [0n, 1n], 1n);
    await assert.rejects(
      async () => generateProof({ ...honest, ephemeralSecret: 0n, ephemeralKey: [0n, 1n], ciphertext: identityCiphertext } as CircuitSignals, artifacts),
      (error: Error) => /the circuit rejects this input.*Assert Failed/s.test(error.message),
    );
    const registered: Position[] = [];
    for (const [who, signer] of [
      [A, alice],
      [B, bob],
    ] as const) {
      const t = registration(who);
      const proven = await prove(t, market42, TEST_KEEPER.publicKey);
      if (who === A) {
        // The valid proof with its ephemeral key replaced by the identity: refused before the
        // verifier runs (InvalidEphemeralKey, not InvalidProof).
        const identity = proven.signals.map((x, j) => (j === REAL_SIGNALS.ephemeralKey ? 0n : j === REAL_SIGNALS.ephemeralKey + 1 ? 1n : x));
        await revertsWith(call(gate, signer, "register", 42n, proven.proof, identity), errors, "RebalanceGate__InvalidEphemeralKey");
      }
      const receipt = await mined(call(gate, signer, "register", 42n, proven.proof, proven.signals));
      const opening = published(receipt);
      assert.equal(opening.keyGeneration, 1n);
      // The keeper's view of the position: the event and its secret, nothing from the owner.
      sameOpening(decryptOpening(opening, TEST_KEEPER.secret, market42, REAL), t.next);
      // Another key does not open it (the tag fails): exit 2 in the CLI.
      assert.throws(() => decryptOpening(opening, OTHER_KEEPER.secret, market42, REAL), OpeningDecryptionError);
      registered.push(t.next);
    }
    const [alicePosition, bobPosition] = registered as [Position, Position];
    const hf42 = checkPosition(alicePosition, market42, policy).healthFactor;
    assert.ok(hf42.numerator >= policy.trigger.healthFactor * hf42.denominator, "alice starts above the trigger");

    // 2. Governance rotates the key; the registered ciphertexts stay under generation 1 (the old
    // secret is kept until positionsUnderKey(1) is 0).
    await mined(call(gate, owner, "setKeeperKey", ...OTHER_KEEPER.publicKey));
    assert.deepEqual([await gate.getFunction("positionsUnderKey")(1n), await gate.getFunction("positionsUnderKey")(2n)], [2n, 0n]);

    // 3. A price shock: WETH -25 % (epoch 43). Alice is below the trigger, above health factor 1.0.
    const market43 = shocked(market42, 43, await now(), 75n, await lenderIndexIn(REAL_FRESHNESS));
    await publish(market43);
    const hf43 = checkPosition(alicePosition, market43, policy).healthFactor;
    assert.ok(hf43.numerator < policy.trigger.healthFactor * hf43.denominator && hf43.numerator >= 10_000n * hf43.denominator, "alice is below the trigger, not below 1.0");
    const t = await planLiquidationOf(alicePosition, market43, false);
    // What the keeper cannot prove: an urgent liquidation (no grace window) above health factor
    // 1.0; a bonus one unit above the gate's rate of the repaid value; a withdrawal to the owner.
    await unprovable({ ...t, liquidation: { ...t.liquidation!, urgent: true } }, market43, /liquidation: .*(urgent|1\.0)/i);
    const greedy = { ...t.liquidation!, bonus: [t.liquidation!.bonus[R_WETH]! + 1n, 0n, 0n] };
    await unprovable(transitionOf(alicePosition, t, alicePosition.salt!, { liquidation: greedy }), market43, /bonus: the bonus .* is worth more than 500 bps/);
    // A proof to the old key (generation 1) is refused: the gate takes only its current key.
    const stale = await prove(t, market43, TEST_KEEPER.publicKey);
    await revertsWith(call(gate, keeper, "flagBelowTrigger", 43n, stale.proof, stale.signals), errors, "RebalanceGate__WrongKeeperKey");
    // The keeper's proof to the current key: flag, the window, the liquidation.
    const p = await prove(t, market43, OTHER_KEEPER.publicKey);
    const flagged = await mined(call(gate, keeper, "flagBelowTrigger", 43n, p.proof, p.signals));
    const since = BigInt((await ethers.provider.getBlock(flagged.blockNumber))!.timestamp);
    await revertsWith(call(gate, keeper, "liquidate", 43n, p.proof, p.signals), errors, "RebalanceGate__GraceWindowOpen", [A, since + REAL_WINDOW]);
    // Governance cuts the window to 0 now: alice's flag keeps the liquidatableAt its event promised.
    await mined(call(gate, owner, "setLiquidationTerms", BONUS_BPS, 0n));
    await revertsWith(call(gate, keeper, "liquidate", 43n, p.proof, p.signals), errors, "RebalanceGate__GraceWindowOpen", [A, since + REAL_WINDOW]);
    assert.deepEqual(
      [...(await gate.getFunction("flagOf")(A))],
      [commitPosition(alicePosition, alicePosition.salt!, REAL), since, since + REAL_WINDOW, since + REAL_WINDOW + FLAG_LIFETIME],
    );
    await passTime(REAL_WINDOW);
    // A copier who rewrites the liquidator to itself breaks the proof; as is, it is not the liquidator.
    const C = await carol.getAddress();
    const copied = p.signals.map((x, j) => (j === REAL_SIGNALS.liquidator ? BigInt(C) : x));
    await revertsWith(call(gate, carol, "liquidate", 43n, p.proof, copied), errors, "RebalanceGate__InvalidProof");
    await revertsWith(call(gate, carol, "liquidate", 43n, p.proof, p.signals), errors, "RebalanceGate__NotLiquidator", [C, K]);
    const before = await Promise.all(tokens.map((token) => balanceOf(token, K)));
    const aliceBefore = await Promise.all(tokens.map((token) => balanceOf(token, A)));
    const receipt = await mined(call(gate, keeper, "liquidate", 43n, p.proof, p.signals));
    assert.deepEqual(await Promise.all(tokens.map(async (token, i) => (await balanceOf(token, K)) - before[i]!)), t.liquidation!.bonus, "the keeper got the bonus, nothing more");
    // Nothing was pushed to alice's wallet: what the lender did not take of the repayment (the
    // proof's index is projected ahead) and any swap excess are credited to her claimable balance.
    assert.deepEqual(await Promise.all(tokens.map((token) => balanceOf(token, A))), aliceBefore);
    const usdc = await tokens[R_USDC]!.getAddress();
    const owed = BigInt(await gate.getFunction("claimable")(A, usdc));
    assert.equal(
      owed,
      parsed(receipt, "ClaimableCredited").reduce((sum, e) => sum + BigInt(e.amount), 0n),
    );
    if (owed > 0n) {
      await mined(call(gate, alice, "claim", usdc));
      assert.equal((await balanceOf(tokens[R_USDC]!, A)) - aliceBefore[R_USDC]!, owed);
    }
    const opening = published(receipt);
    assert.equal(opening.keyGeneration, 2n);
    sameOpening(decryptOpening(opening, OTHER_KEEPER.secret, market43, REAL), t.next);
    assert.deepEqual(
      [...parsed(receipt, "Liquidated")[0]!],
      [A, K, commitPosition(alicePosition, alicePosition.salt!, REAL), commitPosition(t.next, t.next.salt!, REAL), 2n, 43n, false],
    );
    assert.ok(checkPosition(t.next, market43, policy).pass, "the liquidated position passes the policy");
    assert.deepEqual(
      [await gate.getFunction("positionsUnderKey")(1n), await gate.getFunction("positionsUnderKey")(2n), await gate.getFunction("keyGenerationOf")(A)],
      [1n, 1n, 2n],
    );

    // 4. A deeper shock (WETH -40 %, epoch 44): bob is below health factor 1.0, liquidated at once
    // (urgent, proven), without a flag; generation 1 then backs no position.
    const market44 = shocked(market42, 44, await now(), 60n, await lenderIndexIn(REAL_FRESHNESS));
    await publish(market44);
    const hf44 = checkPosition(bobPosition, market44, policy).healthFactor;
    assert.ok(hf44.numerator < 10_000n * hf44.denominator, "bob is below health factor 1.0");
    const u = await planLiquidationOf(bobPosition, market44, true);
    const q = await prove(u, market44, OTHER_KEEPER.publicKey);
    const urgent = await mined(call(gate, keeper, "liquidate", 44n, q.proof, q.signals));
    assert.equal(parsed(urgent, "Liquidated")[0]!.urgent, true);
    sameOpening(decryptOpening(published(urgent), OTHER_KEEPER.secret, market44, REAL), u.next);
    assert.deepEqual([await gate.getFunction("positionsUnderKey")(1n), await gate.getFunction("positionsUnderKey")(2n)], [0n, 2n]);
    // Custody: the gate holds exactly the committed collateral plus what it owes the accounts
    // (claimable: bob's leftover), the lender's debt of the gate is the committed debt.
    for (const i of [R_WETH, R_USDC]) {
      const owedTotal = BigInt(await gate.getFunction("claimableTotal")(await tokens[i]!.getAddress()));
      assert.equal(await balanceOf(tokens[i]!, gateAddress), t.next.collateral[i]! + u.next.collateral[i]! + owedTotal, `invariant (1), asset ${i}`);
    }
    assert.equal(BigInt(await lender.getFunction("debtUnitsOf")(gateAddress)), t.next.debt[R_USDC]! + u.next.debt[R_USDC]!, "invariant (2)");
  });
});
