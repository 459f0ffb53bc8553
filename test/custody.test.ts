/**
 * Custody (docs/custody.md): the RebalanceGate against real Uniswap v2 pairs and LenderVaults,
 * with the tests-only ClearTransitionVerifier standing in for the Groth16 verifier. Each attack is
 * rejected with its named error; a fast-check property test runs random sequences of deposits,
 * swaps, borrows, repayments and withdrawals by three accounts and checks the custody invariants
 * after every step; the gate's own gas per call is written to benchmarks/custody-gas.json.
 *
 *   npx mocha --no-config -n import=tsx test/custody.test.ts                      # everything (property test at its default size)
 *   npx mocha --no-config -n import=tsx test/custody.test.ts --grep @property     # the property test alone
 *   ZKS_PROPERTY_RUNS=1000 npx mocha --no-config -n import=tsx test/custody.test.ts --grep @property   # a longer run
 */
import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import fc from "fast-check";
import { Contract, Interface, type Signer, type TransactionReceipt } from "ethers";
import { ciphertextLength, custodyLayout } from "../packages/sdk/src/chain/custody.ts";
import { INDEX_ONE } from "../packages/sdk/src/chain/lender.ts";
import { loadInstances } from "../packages/node/src/setup/instances.ts";
import { PACKAGE_ROOT } from "../packages/node/src/setup/paths.ts";
import {
  applyMovement,
  BONUS_BPS,
  borrowMove,
  currentDebtIndex,
  deployBench,
  emptyOpening,
  FRESHNESS,
  LAYOUT,
  MARKET_ROOT,
  N_ASSETS,
  noMovement,
  OPT,
  proofDebtIndex,
  quote,
  repayMove,
  resend,
  submit,
  USDC,
  WBTC,
  WETH,
  WINDOW,
  type Bench,
  type Movement,
  type Opening,
} from "./helpers/custody-fixtures.ts";
import { revertsWith } from "./helpers/contracts-fixtures.ts";
import { GAS_SPLIT_METHOD, splitGas } from "./helpers/gas-trace.ts";

const E18 = 10n ** 18n;
const E8 = 10n ** 8n;
const E6 = 10n ** 6n;
const TRANSFER_TOPIC = new Interface(["event Transfer(address indexed from, address indexed to, uint256 value)"]);

describe("custody: RebalanceGate with Uniswap v2 and LenderVault (ClearTransitionVerifier)", function () {
  let bench: Bench;
  let alice: Signer, bob: Signer;
  let A: string, B: string;
  let snapshotId: string;

  const snapshot = async (): Promise<string> => bench.ethers.provider.send("evm_snapshot", []);
  const restore = async (id: string): Promise<void> => void (await bench.ethers.provider.send("evm_revert", [id]));
  const balanceOf = async (token: Contract, who: string): Promise<bigint> => BigInt(await token.getFunction("balanceOf")(who));
  const deposit = (i: number, amount: bigint): Movement => {
    const m = noMovement();
    m.flow[i] = amount;
    return m;
  };
  const withdrawal = (i: number, amount: bigint): Movement => deposit(i, -amount);

  before(async function () {
    bench = await deployBench();
    [alice, bob] = bench.users as [Signer, Signer, Signer];
    [A, B] = await Promise.all([alice.getAddress(), bob.getAddress()]);
  });
  beforeEach(async () => void (snapshotId = await snapshot()));
  afterEach(async () => restore(snapshotId));

  describe("attacks, each rejected with its named error", function () {
    it("a registration is a proven deposit: the gate holds exactly what arrived", async function () {
      const { next } = await submit(bench, alice, emptyOpening(A), deposit(WETH, 10n * E18));
      assert.equal(await balanceOf(bench.tokens[WETH]!, bench.addresses.gate), 10n * E18);
      const [commitment, registered] = await bench.gate.getFunction("positionOf")(A);
      assert.equal(registered, true);
      assert.equal(BigInt(commitment), (await import("./helpers/custody-fixtures.ts")).commitmentOf(next));
    });

    it("phantom registration: balances from nothing, a non-empty old position, fromEmpty through rebalance, someone else's account, twice", async function () {
      // 10,000 WETH committed, nothing deposited: the verifier's conservation check fails.
      const phantom = { ...emptyOpening(A), nonce: 1n, salt: 5n, collateral: [10_000n * E18, 0n, 0n] };
      await revertsWith(submit(bench, alice, emptyOpening(A), noMovement(), { next: phantom }), bench.gateErrors, "RebalanceGate__InvalidProof");
      // The old position is not the empty one (it claims 10,000 WETH already).
      const rich = { ...emptyOpening(A), salt: 9n, collateral: [10_000n * E18, 0n, 0n] };
      await revertsWith(submit(bench, alice, rich, withdrawal(WETH, 10_000n * E18), { fromEmpty: true }), bench.gateErrors, "RebalanceGate__InvalidProof");
      // fromEmpty = 0 through register, fromEmpty = 1 through rebalance.
      await revertsWith(submit(bench, alice, emptyOpening(A), deposit(WETH, E18), { edit: (x) => (x[LAYOUT.fromEmpty] = 0n) }), bench.gateErrors, "RebalanceGate__WrongFromEmpty", [
        1n,
        0n,
      ]);
      // Registering for someone else.
      await revertsWith(submit(bench, bob, emptyOpening(A), deposit(WETH, E18)), bench.gateErrors, "RebalanceGate__NotAccount", [B, A]);
      await submit(bench, alice, emptyOpening(A), deposit(WETH, E18));
      await revertsWith(submit(bench, alice, emptyOpening(A), deposit(WETH, E18)), bench.gateErrors, "RebalanceGate__AlreadyRegistered", [A]);
      assert.equal(await balanceOf(bench.tokens[WETH]!, bench.addresses.gate), E18);
    });

    it("a withdrawal beyond the account's own deposits: bob cannot take alice's WETH", async function () {
      await submit(bench, alice, emptyOpening(A), deposit(WETH, 10n * E18));
      const bobs = await submit(bench, bob, emptyOpening(B), deposit(WETH, E18));
      // Bob withdraws 5 WETH from his 1: his new balance would be -4.
      await revertsWith(submit(bench, bob, bobs.next, withdrawal(WETH, 5n * E18)), bench.gateErrors, "RebalanceGate__InvalidProof");
      // Bob opens his position as if it held 10 WETH: not the commitment the gate holds.
      const inflated = { ...bobs.next, collateral: [10n * E18, 0n, 0n] };
      await revertsWith(submit(bench, bob, inflated, withdrawal(WETH, 5n * E18)), bench.gateErrors, "RebalanceGate__WrongCommitment");
      // Bob submits alice's account: only she may, unless forced.
      const alicePosition = { ...emptyOpening(A) };
      await revertsWith(submit(bench, bob, alicePosition, withdrawal(WETH, E18), { fromEmpty: false }), bench.gateErrors, "RebalanceGate__WrongCommitment");
      assert.equal(await balanceOf(bench.tokens[WETH]!, bench.addresses.gate), 11n * E18);
      // Bob's own 1 WETH comes out.
      await submit(bench, bob, bobs.next, withdrawal(WETH, E18));
      assert.equal(await balanceOf(bench.tokens[WETH]!, bench.addresses.gate), 10n * E18);
    });

    it("a swap claiming more than the AMM delivered: minOut above the pair's output", async function () {
      const { next } = await submit(bench, alice, emptyOpening(A), deposit(WETH, 10n * E18));
      const out = await quote(bench, WETH, USDC, 5n * E18);
      const m = noMovement();
      m.swaps = [{ sell: WETH, buy: USDC, amountIn: 5n * E18, minOut: out + 1n }];
      await revertsWith(submit(bench, alice, next, m), bench.gateErrors, "RebalanceGate__InsufficientOutput", [0n, out, out + 1n]);
      // At minOut = 99 % of the output it goes through; the 1 % excess goes to alice's wallet.
      const before = await balanceOf(bench.tokens[USDC]!, A);
      m.swaps = [{ sell: WETH, buy: USDC, amountIn: 5n * E18, minOut: (out * 99n) / 100n }];
      await submit(bench, alice, next, m);
      assert.equal((await balanceOf(bench.tokens[USDC]!, A)) - before, out - (out * 99n) / 100n);
      assert.equal(await balanceOf(bench.tokens[USDC]!, bench.addresses.gate), (out * 99n) / 100n);
    });

    it("a proof at a superseded epoch (42 after 43 is published), and at a stale one", async function () {
      const { next } = await submit(bench, alice, emptyOpening(A), deposit(WETH, 10n * E18));
      const block = await bench.ethers.provider.getBlock("latest");
      await (await bench.oracle.getFunction("publish")(43n, MARKET_ROOT + 1n, BigInt(block!.timestamp))).wait();
      await revertsWith(submit(bench, alice, next, withdrawal(WETH, E18)), bench.gateErrors, "RebalanceGate__NotLatestEpoch", [42n, 43n]);
      await revertsWith(submit(bench, alice, next, withdrawal(WETH, E18), { epoch: 43n }), bench.gateErrors, "RebalanceGate__WrongMarketRoot", [43n]);
      await bench.ethers.provider.send("evm_increaseTime", [Number(FRESHNESS) + 1]);
      await revertsWith(
        submit(bench, alice, next, withdrawal(WETH, E18), { epoch: 43n, edit: (x) => (x[LAYOUT.marketRoot] = MARKET_ROOT + 1n) }),
        bench.gateErrors,
        "RebalanceGate__StaleEpoch",
        [43n],
      );
    });

    it("a borrow the lender did not fund: shortfall, or an asset without a lender", async function () {
      const { next } = await submit(bench, alice, emptyOpening(A), deposit(WETH, 10n * E18));
      const [index] = await currentDebtIndex(bench);
      const m = borrowMove(noMovement(), WETH, E18, index!);
      m.debtAssets[WETH] = m.debtAssets[WETH]! + 10n ** 16n; // credits 0.01 WETH the lender does not deliver
      const delivered = (E18 * (await bench.lenders[WETH]!.getFunction("indexAt")(BigInt((await bench.ethers.provider.getBlock("latest"))!.timestamp) + 2n))) / INDEX_ONE;
      await revertsWith(submit(bench, alice, next, m), bench.gateErrors, "RebalanceGate__LenderShortfall", [0n, delivered, m.debtAssets[WETH]]);
      const wbtc = borrowMove(noMovement(), WBTC, E8, INDEX_ONE);
      await revertsWith(submit(bench, alice, next, wbtc), bench.gateErrors, "RebalanceGate__NoLenderForAsset", [1n]);
      await revertsWith(
        submit(bench, alice, next, noMovement(), { edit: (x) => (x[LAYOUT.debtIndex + WBTC] = INDEX_ONE + 1n) }),
        bench.gateErrors,
        "RebalanceGate__NoLenderForAsset",
        [1n],
      );
      // A funded borrow: the lender's debt of the gate is the committed units, the position holds the assets.
      const ok = borrowMove(noMovement(), WETH, E18, index!);
      const { next: borrowed } = await submit(bench, alice, next, ok);
      assert.equal(BigInt(await bench.lenders[WETH]!.getFunction("debtUnitsOf")(bench.addresses.gate)), E18);
      assert.equal(borrowed.debt[WETH], E18);
    });

    it("a debt index behind the lender's", async function () {
      const { next } = await submit(bench, alice, emptyOpening(A), deposit(WETH, 10n * E18));
      await bench.ethers.provider.send("evm_increaseTime", [3_600]);
      const stale = [INDEX_ONE, INDEX_ONE, INDEX_ONE]; // the index of an hour ago
      await revertsWith(submit(bench, alice, next, withdrawal(WETH, E18), { debtIndex: stale }), bench.gateErrors, "RebalanceGate__DebtIndexBehind");
    });

    it("replay: the same signals twice", async function () {
      const { next } = await submit(bench, alice, emptyOpening(A), deposit(WETH, 10n * E18));
      const { signals } = await submit(bench, alice, next, withdrawal(WETH, E18));
      await revertsWith(resend(bench, alice, "rebalance", signals), bench.gateErrors, "RebalanceGate__WrongCommitment");
      // The current commitment with the old nonce: the commitment binds the nonce (the gate stores
      // no nonce), so no proof opens it at another one.
      const current = BigInt(await bench.gate.getFunction("commitmentOf")(A));
      await revertsWith(
        resend(
          bench,
          alice,
          "rebalance",
          signals.map((x, j) => (j === LAYOUT.oldCommitment ? current : x)),
        ),
        bench.gateErrors,
        "RebalanceGate__InvalidProof",
      );
      // The registration replayed.
      await revertsWith(resend(bench, alice, "register", (await submit(bench, bob, emptyOpening(B), deposit(WETH, E18))).signals), bench.gateErrors, "RebalanceGate__NotAccount", [
        A,
        B,
      ]);
    });

    it("a keeper-forced transition that moves value out; a forced repayment passes", async function () {
      const { next } = await submit(bench, alice, emptyOpening(A), deposit(WETH, 10n * E18));
      const [index] = await currentDebtIndex(bench);
      const { next: indebted } = await submit(bench, alice, next, borrowMove(noMovement(), WETH, 2n * E18, index!));
      const forced = (m: Movement): Movement => ({ ...m, forced: true });
      await revertsWith(submit(bench, bench.keeper, indebted, forced(withdrawal(WETH, E18))), bench.gateErrors, "RebalanceGate__ForcedTransitionMovesValue");
      await revertsWith(submit(bench, bench.keeper, indebted, forced(borrowMove(noMovement(), WETH, E18, index!))), bench.gateErrors, "RebalanceGate__ForcedTransitionMovesValue");
      const options = noMovement();
      options.instrumentFlow[OPT] = E18;
      await revertsWith(submit(bench, bench.keeper, indebted, forced(options)), bench.gateErrors, "RebalanceGate__ForcedTransitionMovesValue");
      // Unforced, only alice may submit.
      await revertsWith(submit(bench, bench.keeper, indebted, withdrawal(WETH, E18)), bench.gateErrors, "RebalanceGate__NotOwnerOrKeeperForced");
      // A forced repayment from collateral, by the keeper: the keeper receives nothing; what the
      // lender does not take (the proof's index is projected ahead) is credited to alice's claimable
      // balance, not pushed to her wallet (a token refusing her must not block the keeper).
      const keeperBefore = await balanceOf(bench.tokens[WETH]!, await bench.keeper.getAddress());
      const aliceBefore = await balanceOf(bench.tokens[WETH]!, A);
      const [proofIndex] = await proofDebtIndex(bench);
      const { next: repaid, receipt } = await submit(bench, bench.keeper, indebted, forced(repayMove(noMovement(), WETH, 2n * E18, proofIndex!)), {
        debtIndex: [proofIndex!, INDEX_ONE, (await proofDebtIndex(bench))[USDC]!],
      });
      assert.equal(repaid.debt[WETH], 0n);
      assert.equal(await balanceOf(bench.tokens[WETH]!, await bench.keeper.getAddress()), keeperBefore);
      assert.equal(await balanceOf(bench.tokens[WETH]!, A), aliceBefore);
      const owed = BigInt(await bench.gate.getFunction("claimable")(A, bench.addresses.tokens[WETH]!));
      assert.ok(owed > 0n, "a repayment leftover above 0");
      assert.equal(receipt.logs.map((l) => bench.gate.interface.parseLog(l)).filter((e) => e?.name === "ClaimableCredited").length, 1);
      assert.equal(await balanceOf(bench.tokens[WETH]!, bench.addresses.gate), repaid.collateral[WETH]! + owed, "invariant (1) with claimable");
      assert.equal(BigInt(await bench.lenders[WETH]!.getFunction("debtUnitsOf")(bench.addresses.gate)), 0n);
    });

    it("an instrument withdrawal without backing", async function () {
      const m = noMovement();
      m.instrumentFlow[OPT] = 5n * E18;
      await submit(bench, alice, emptyOpening(A), m);
      const bobs = await submit(bench, bob, emptyOpening(B), deposit(WETH, E18));
      const take = noMovement();
      take.instrumentFlow[OPT] = -5n * E18;
      await revertsWith(submit(bench, bob, bobs.next, take), bench.gateErrors, "RebalanceGate__InvalidProof");
      // A short holding cannot be paid out in tokens either.
      const short = { ...bobs.next, nonce: 2n, salt: 3n, quantity: [-5n * E18, 0n] };
      await revertsWith(submit(bench, bob, bobs.next, take, { next: short }), bench.gateErrors, "RebalanceGate__InvalidProof");
      // Slot 1 has no option token.
      const none = noMovement();
      none.instrumentFlow[1] = E18;
      await revertsWith(submit(bench, bob, bobs.next, none), bench.gateErrors, "RebalanceGate__NoTokenForInstrument", [1n]);
      assert.equal(await balanceOf(bench.option, bench.addresses.gate), 5n * E18);
    });

    it("binding: context, policy, signal count, field elements", async function () {
      const { next } = await submit(bench, alice, emptyOpening(A), deposit(WETH, E18));
      await revertsWith(
        submit(bench, alice, next, withdrawal(WETH, 1n), { edit: (x) => (x[LAYOUT.context] = x[LAYOUT.context]! + 1n) }),
        bench.gateErrors,
        "RebalanceGate__WrongContext",
      );
      await revertsWith(
        submit(bench, alice, next, withdrawal(WETH, 1n), { edit: (x) => (x[LAYOUT.policyHash] = x[LAYOUT.policyHash]! + 1n) }),
        bench.gateErrors,
        "RebalanceGate__WrongPolicy",
      );
      await revertsWith(resend(bench, alice, "rebalance", [1n, 2n]), bench.gateErrors, "RebalanceGate__WrongSignalCount", [BigInt(LAYOUT.count), 2n]);
      await revertsWith(
        submit(bench, alice, next, withdrawal(WETH, 1n), { edit: (x) => (x[LAYOUT.swapIn] = 1n << 255n) }),
        bench.gateErrors,
        "RebalanceGate__PublicInputNotInField",
        [BigInt(LAYOUT.swapIn)],
      );
    });
  });

  describe("random sequences keep the custody invariants @property", function () {
    // 200 runs are about 2,300 steps (a minute on 2 cores); ZKS_PROPERTY_RUNS=N runs longer.
    const RUNS = Number(process.env.ZKS_PROPERTY_RUNS ?? 200);
    const MIN_STEPS = 8;
    const MAX_STEPS = 16;

    type Kind = "deposit" | "withdraw" | "swap" | "borrow" | "repay" | "option";
    interface Step {
      who: number;
      kind: Kind;
      asset: number;
      other: number;
      /** Amount as a fraction of what is held (in thousandths; above 1000 = more than held). */
      frac: number;
      /** Swap minOut as thousandths of the pair's output (above 1000 = more than it delivers). */
      slip: number;
    }
    const stepArb: fc.Arbitrary<Step> = fc.record({
      who: fc.integer({ min: 0, max: 2 }),
      kind: fc.constantFrom<Kind>("deposit", "withdraw", "swap", "swap", "borrow", "repay", "repay", "option"),
      asset: fc.integer({ min: 0, max: N_ASSETS - 1 }),
      other: fc.integer({ min: 1, max: N_ASSETS - 1 }),
      frac: fc.oneof({ weight: 5, arbitrary: fc.integer({ min: 1, max: 1000 }) }, { weight: 1, arbitrary: fc.integer({ min: 1001, max: 1500 }) }),
      slip: fc.oneof({ weight: 9, arbitrary: fc.integer({ min: 900, max: 1000 }) }, { weight: 1, arbitrary: fc.integer({ min: 1001, max: 1050 }) }),
    });
    /** Deposit sizes per asset: up to 20 WETH, 1 WBTC, 60,000 USDC. */
    const DEPOSIT_CAP = [20n * E18, E8, 60_000n * E6];

    it("invariants (1) and (2) after every step; no account is paid more than its own inflows", async function () {
      this.timeout(600_000);
      const accounts = await Promise.all(bench.users.map((u) => u.getAddress()));
      const gate = bench.addresses.gate.toLowerCase();
      const tokenAddr = [...bench.addresses.tokens, bench.addresses.option].map((a) => a.toLowerCase());
      const protocols = new Set([...bench.addresses.pairs, ...bench.addresses.lenders.filter((a): a is string => !!a)].map((a) => a.toLowerCase()));
      let steps = 0;
      let accepted = 0;
      let rejected = 0;
      const byKind = new Map<string, number>();
      const started = Date.now();

      await fc.assert(
        fc.asyncProperty(fc.array(stepArb, { minLength: MIN_STEPS, maxLength: MAX_STEPS, size: "max" }), async (sequence) => {
          await restore(snapshotId);
          snapshotId = await snapshot();
          const positions: (Opening | undefined)[] = [undefined, undefined, undefined];
          // Per run: the proofs' debt index, the lenders' index an hour ahead (a run lasts well under
          // an hour of block time); borrows credit what the lender delivers at least, at the index now.
          const debtIndex = await proofDebtIndex(bench, 3_600n);
          const borrowIndex = await currentDebtIndex(bench);
          // Per account, per token (3 assets, then the option): net tokens the gate took in on its
          // behalf (deposits + protocol deliveries - what it sent to protocols) minus what it paid out.
          const credit = accounts.map(() => [0n, 0n, 0n, 0n]);

          for (const step of sequence) {
            steps++;
            const who = step.who;
            const signer = bench.users[who]!;
            const old = positions[who] ?? emptyOpening(accounts[who]!);
            const held = (i: number) => old.collateral[i]!;
            const part = (amount: bigint) => (amount * BigInt(step.frac)) / 1000n;
            let m = noMovement();
            let expected: string | undefined;
            const i = step.asset;
            const fresh = positions[who] === undefined;
            const kind: Kind = fresh && step.kind !== "option" ? "deposit" : step.kind;
            if (kind === "deposit") {
              m.flow[i] = 1n + (part(DEPOSIT_CAP[i]!) / 1000n) * 1000n;
            } else if (kind === "withdraw") {
              m.flow[i] = -(part(held(i)) || 1n);
            } else if (kind === "option") {
              m.instrumentFlow[OPT] = fresh || step.frac % 2 === 0 ? BigInt(step.frac) * 10n ** 15n : -(part(old.quantity[OPT]!) || 1n);
            } else if (kind === "swap") {
              const buy = (i + step.other) % N_ASSETS;
              const amountIn = part(held(i)) || 1n;
              const out = await quote(bench, i, buy, amountIn);
              m.swaps = [{ sell: i, buy, amountIn, minOut: (out * BigInt(step.slip)) / 1000n }];
              if (out === 0n || step.slip > 1000) expected = "RebalanceGate__InsufficientOutput";
            } else if (kind === "borrow") {
              const [units] = [part(DEPOSIT_CAP[i]!) / 4n + 1n];
              m = borrowMove(m, i, units, borrowIndex[i]!);
              if (!bench.lenders[i]) expected = "RebalanceGate__NoLenderForAsset";
            } else {
              const units = part(old.debt[i]!) || 1n;
              m = repayMove(m, i, units, debtIndex[i]!);
              if (!bench.lenders[i]) expected = "RebalanceGate__NoLenderForAsset";
            }
            const next = applyMovement(old, m, BigInt(steps));
            const invalid = [...next.collateral, ...next.debt].some((x) => x < 0n) || (m.instrumentFlow[OPT] !== 0n && (old.quantity[OPT]! < 0n || next.quantity[OPT]! < 0n));
            if (expected !== "RebalanceGate__NoLenderForAsset" && invalid) expected = "RebalanceGate__InvalidProof";

            if (expected) {
              const before = await bench.gate.getFunction("positionOf")(accounts[who]);
              await revertsWith(submit(bench, signer, old, m, { next, debtIndex, fromEmpty: fresh }), bench.gateErrors, expected);
              rejected++;
              const after = await bench.gate.getFunction("positionOf")(accounts[who]);
              assert.deepEqual([...after], [...before], "a rejected step leaves the position unchanged");
            } else {
              const { receipt } = await submit(bench, signer, old, m, { next, debtIndex, fromEmpty: fresh });
              accepted++;
              byKind.set(kind, (byKind.get(kind) ?? 0) + 1);
              positions[who] = next;
              account(receipt, who);
            }
            await checkInvariants(positions, credit);
          }

          function account(receipt: TransactionReceipt, who: number): void {
            const me = accounts[who]!.toLowerCase();
            for (const log of receipt.logs) {
              const t = tokenAddr.indexOf(log.address.toLowerCase());
              if (t < 0 || log.topics[0] !== TRANSFER_TOPIC.getEvent("Transfer")!.topicHash) continue;
              const parsed = TRANSFER_TOPIC.parseLog(log)!;
              const from = String(parsed.args[0]).toLowerCase();
              const to = String(parsed.args[1]).toLowerCase();
              const value = BigInt(parsed.args[2]);
              if (to === gate && (from === me || protocols.has(from))) credit[who]![t]! += value;
              else if (from === gate && (to === me || protocols.has(to))) credit[who]![t]! -= value;
              else if (from === gate || to === gate) assert.fail(`a transfer between the gate and a stranger: ${from} -> ${to}`);
            }
          }
        }),
        { numRuns: RUNS, endOnFailure: true },
      );

      async function checkInvariants(positions: (Opening | undefined)[], credit: bigint[][]): Promise<void> {
        const [balances, units] = await Promise.all([
          Promise.all([...bench.tokens, bench.option].map((t) => balanceOf(t, bench.addresses.gate))),
          Promise.all(bench.lenders.map(async (l) => (l ? BigInt(await l.getFunction("debtUnitsOf")(bench.addresses.gate)) : 0n))),
        ]);
        const held = positions.filter((p): p is Opening => !!p);
        for (let i = 0; i < N_ASSETS; i++) {
          // (1) tokens at the gate == committed collateral + claimable (0 here: the owners' own
          // transitions pay their wallets); (2) lender debt units == committed debt.
          const owed = BigInt(await bench.gate.getFunction("claimableTotal")(bench.addresses.tokens[i]!));
          assert.equal(owed, 0n, `claimableTotal, asset ${i}`);
          assert.equal(balances[i], held.reduce((s, p) => s + p.collateral[i]!, 0n) + owed, `invariant (1), asset ${i}`);
          assert.equal(
            units[i],
            held.reduce((s, p) => s + p.debt[i]!, 0n),
            `invariant (2), asset ${i}`,
          );
        }
        assert.equal(
          balances[N_ASSETS],
          held.reduce((s, p) => s + p.quantity[OPT]!, 0n),
          "option tokens == committed quantities",
        );
        positions.forEach((p, who) => {
          const c = p ? [...p.collateral, p.quantity[OPT]!] : [0n, 0n, 0n, 0n];
          credit[who]!.forEach((net, t) => {
            // What the gate paid this account never exceeds what its own transitions brought in:
            // the net is >= 0, and is exactly its committed balance.
            assert.ok(net >= 0n, `account ${who} token ${t}: paid more than its inflows`);
            assert.equal(net, c[t], `account ${who} token ${t}: net inflow == committed balance`);
          });
        });
      }

      const seconds = (Date.now() - started) / 1000;
      console.log(
        `      ${RUNS} runs, ${steps} steps (${accepted} accepted, ${rejected} rejected as expected) in ${seconds.toFixed(1)} s; accepted by kind: ${JSON.stringify(Object.fromEntries(byKind))}`,
      );
      assert.ok(accepted > 0 && rejected > 0);
    });
  });
  describe("the Rebalance signal layout: PublicSignals.sol, src/chain/custody.ts and circuits/instances.json agree for every instance", function () {
    /** The public signal names of Rebalance(nAssets, nInstruments, _, _, nSwaps) in snarkjs order (docs/custody.md). */
    const namesOf = (nA: number, nI: number, nS: number): string[] => {
      const array = (name: string, n: number) => Array.from({ length: n }, (_, j) => `${name}[${j}]`);
      return [
        ...["oldCommitment", "newCommitment", "marketRoot", "policyHash"],
        ...array("debtIndex", nA),
        ...["account", "nonce", "context", "forced", "fromEmpty"],
        ...array("flow", nA),
        ...array("debtDelta", nA),
        ...array("debtAssets", nA),
        ...array("swapSell", nS),
        ...array("swapBuy", nS),
        ...array("swapIn", nS),
        ...array("swapMinOut", nS),
        ...array("instrumentFlow", nI),
        ...["liquidation", "urgent", "liquidator", "liquidationBonus"],
        ...array("bonus", nA),
        ...array("keeperKey", 2),
        ...array("ephemeralKey", 2),
        ...array("ciphertext", ciphertextLength(nA, nI)),
      ];
    };

    it("every offset and the count, for rebalance-3x3x16 (50 signals) and rebalance-8x8x16 (89)", async function () {
      const harness = await bench.ethers.deployContract("PublicSignalsHarness");
      const instances = loadInstances().filter((i) => i.template === "Rebalance");
      assert.deepEqual(instances.map((i) => i.name).sort(), ["rebalance-3x3x16", "rebalance-8x8x16"]);
      for (const instance of instances) {
        const [nA, nI, , , nS] = instance.params as [number, number, number, number, number];
        const names = instance.publicSignals!;
        const ts = custodyLayout(nA, nI, nS);
        const sol = (await harness.getFunction("rebalanceLayout")(nA, nI, nS)) as unknown as Record<string, bigint>;
        // Solidity's struct, field by field, is custody.ts's layout.
        for (const field of [
          "account",
          "flow",
          "debtDelta",
          "debtAssets",
          "swapSell",
          "swapBuy",
          "swapIn",
          "swapMinOut",
          "instrumentFlow",
          "liquidation",
          "bonus",
          "keeperKey",
          "ephemeralKey",
          "ciphertext",
          "ciphertextLength",
          "count",
        ] as const) {
          assert.equal(Number(sol[field]), ts[field], `${instance.name}: PublicSignals.rebalanceLayout.${field} == custodyLayout.${field}`);
        }
        // instances.json's names are the circuit's order, and each offset names its signal.
        assert.deepEqual(names, namesOf(nA, nI, nS), `${instance.name}: instances.json publicSignals`);
        assert.equal(names.length, ts.count);
        const named: [keyof typeof ts, string][] = [
          ["oldCommitment", "oldCommitment"],
          ["newCommitment", "newCommitment"],
          ["marketRoot", "marketRoot"],
          ["policyHash", "policyHash"],
          ["debtIndex", "debtIndex[0]"],
          ["account", "account"],
          ["nonce", "nonce"],
          ["context", "context"],
          ["forced", "forced"],
          ["fromEmpty", "fromEmpty"],
          ["flow", "flow[0]"],
          ["debtDelta", "debtDelta[0]"],
          ["debtAssets", "debtAssets[0]"],
          ["swapSell", "swapSell[0]"],
          ["swapBuy", "swapBuy[0]"],
          ["swapIn", "swapIn[0]"],
          ["swapMinOut", "swapMinOut[0]"],
          ["instrumentFlow", "instrumentFlow[0]"],
          ["liquidation", "liquidation"],
          ["urgent", "urgent"],
          ["liquidator", "liquidator"],
          ["liquidationBonus", "liquidationBonus"],
          ["bonus", "bonus[0]"],
          ["keeperKey", "keeperKey[0]"],
          ["ephemeralKey", "ephemeralKey[0]"],
          ["ciphertext", "ciphertext[0]"],
        ];
        for (const [field, name] of named) assert.equal(names[ts[field] as number], name, `${instance.name}: ${field} at ${ts[field]}`);
        assert.equal(names[ts.count - 1], `ciphertext[${ts.ciphertextLength - 1}]`);
        // The Solidity offsets the gate reads after `account` and `liquidation`.
        assert.deepEqual([ts.nonce - ts.account, ts.context - ts.account, ts.forced - ts.account, ts.fromEmpty - ts.account], [1, 2, 3, 4]);
        assert.deepEqual([ts.urgent - ts.liquidation, ts.liquidator - ts.liquidation, ts.liquidationBonus - ts.liquidation], [1, 2, 3]);
      }
      // The review's figures (3x3x16: liquidation 32, bonus 36, keeperKey 39, ephemeralKey 41, ciphertext 43, C = 7; 8x8x16: 57, 61, 69, 71, 73, C = 16).
      const pick = (l: ReturnType<typeof custodyLayout>) => [l.liquidation, l.bonus, l.keeperKey, l.ephemeralKey, l.ciphertext, l.ciphertextLength, l.count];
      assert.deepEqual(pick(custodyLayout(3, 3, 2)), [32, 36, 39, 41, 43, 7, 50]);
      assert.deepEqual(pick(custodyLayout(8, 8, 2)), [57, 61, 69, 71, 73, 16, 89]);
    });
  });
  describe("gas: the gate's own work per call", function () {
    /** Target for the gate's own gas per call (docs/custody.md task): 60,000. */
    const TARGET = 60_000n;
    /** A zero-to-non-zero SSTORE, cold: what each storage slot a call creates costs. */
    const NEW_SLOT = 22_100n;
    /**
     * The OpeningEncrypted log (docs/enforcement.md): LOG3 (375 + 3 x 375) and 8 gas per data byte
     * of (nonce, keyGeneration, ephemeralKey[2], the ciphertext's offset, length and words).
     */
    const OPENING_LOG = 375n + 3n * 375n + 8n * 32n * BigInt(6 + LAYOUT.ciphertextLength);
    /**
     * A registration creates two slots no rebalance pays for beyond the commitment (the target's
     * own allowance): the account's state (key generation and flag) and, for the first position
     * of a key generation, that generation's count; and it logs the ciphertext. It is held to the
     * target plus those.
     */
    const REGISTER_LIMIT = TARGET + 2n * NEW_SLOT + OPENING_LOG;
    /**
     * A keeper's transition (forced, a liquidation) credits what it owes the owner to claimable
     * instead of a transfer (so a token that refuses the owner cannot block it): the account's and
     * the token's total balance, two slots, new the first time, and a ClaimableCredited log (LOG3, one
     * word). It is held to the target plus those.
     */
    const CREDIT_LOG = 4n * 375n + 8n * 32n;
    const KEEPER_LIMIT = TARGET + 2n * NEW_SLOT + CREDIT_LOG;
    const split = (receipt: TransactionReceipt) => splitGas(bench.ethers.provider, receipt, bench.verifier.target.toString());

    it(`stays within ${TARGET.toLocaleString("en-US")} gas per call (register and keeper transitions: plus the slots they create); writes benchmarks/custody-gas.json with ZKS_BENCHMARKS=1`, async function () {
      const rows: Record<string, unknown>[] = [];
      const record = async (call: string, receipt: TransactionReceipt) => {
        const g = await split(receipt);
        rows.push({
          call,
          gasUsed: g.gasUsed.toString(),
          execution: g.execution.toString(),
          verifier: g.verifier.toString(),
          externalCalls: g.external.toString(),
          gateOwn: g.own.toString(),
        });
        return g.own;
      };
      const [proofIndex, , usdcIndex] = await proofDebtIndex(bench, 3_600n);
      const debtIndex = [proofIndex!, INDEX_ONE, usdcIndex!];
      const [borrowIndex] = await currentDebtIndex(bench);
      const bobAccount = await bob.getAddress();
      const reg = await submit(bench, alice, emptyOpening(A), deposit(WETH, 10n * E18), { debtIndex });
      await record("register: 1 deposit (first position of the account)", reg.receipt);
      await submit(bench, bob, emptyOpening(bobAccount), deposit(USDC, 10_000n * E6), { debtIndex });
      const w = await submit(bench, alice, reg.next, withdrawal(WETH, E18), { debtIndex });
      await record("rebalance: 1 withdrawal", w.receipt);
      const out = await quote(bench, WETH, USDC, 2n * E18);
      const sw = noMovement();
      sw.swaps = [{ sell: WETH, buy: USDC, amountIn: 2n * E18, minOut: (out * 995n) / 1000n }];
      const s1 = await submit(bench, alice, w.next, sw, { debtIndex });
      await record("rebalance: 1 swap on a v2 pair, excess forwarded", s1.receipt);
      const b = await submit(bench, alice, s1.next, borrowMove(noMovement(), WETH, 2n * E18, borrowIndex!), { debtIndex });
      await record("rebalance: 1 borrow from the lender", b.receipt);
      const r = await submit(bench, alice, b.next, repayMove(noMovement(), WETH, E18, proofIndex!), { debtIndex });
      await record("rebalance: 1 repayment to the lender, remainder forwarded", r.receipt);
      const fr = await submit(bench, bench.keeper, r.next, { ...repayMove(noMovement(), WETH, E18 / 2n, proofIndex!), forced: true }, { debtIndex });
      await record("rebalance forced by a keeper: 1 repayment from collateral", fr.receipt);
      const combo = deposit(USDC, 1_000n * E6);
      borrowMove(combo, USDC, 500n * E6, (await currentDebtIndex(bench))[USDC]!);
      const out2 = await quote(bench, USDC, WETH, 1_500n * E6);
      combo.swaps = [{ sell: USDC, buy: WETH, amountIn: 1_500n * E6, minOut: (out2 * 995n) / 1000n }];
      combo.instrumentFlow[OPT] = E18;
      const c = await submit(bench, alice, fr.next, combo, { debtIndex });
      await record("rebalance: deposit + borrow + swap + option deposit", c.receipt);
      // A keeper flags alice's position, waits out the window and liquidates it: 0.5 WETH of debt
      // repaid from collateral, a bonus of 0.025 WETH to the keeper (docs/enforcement.md).
      const keeperAddress = await bench.keeper.getAddress();
      const liquidation = (index: bigint) => ({
        ...repayMove(noMovement(), WETH, E18 / 2n, index),
        liquidation: { liquidator: keeperAddress, bonusBps: BONUS_BPS, bonus: [E18 / 40n, 0n, 0n], urgent: false },
      });
      const flag = await submit(bench, bench.keeper, c.next, liquidation(proofIndex!), { debtIndex, fn: "flagBelowTrigger" });
      await record("flagBelowTrigger: a liquidation-mode proof, nothing executed", flag.receipt);
      await bench.ethers.provider.send("evm_increaseTime", [Number(WINDOW)]);
      await bench.ethers.provider.send("evm_mine", []);
      // An hour later the lender's index has moved: the proof's index and repayment at the new one.
      const later = await proofDebtIndex(bench, 3_600n);
      const l = await submit(bench, bench.keeper, c.next, liquidation(later[WETH]!), { debtIndex: later });
      await record("liquidate after the window: 1 repayment from collateral + the bonus", l.receipt);

      const method = GAS_SPLIT_METHOD.replace(
        "debug_traceTransaction struct logs:",
        "debug_traceTransaction struct logs of each call with the ClearTransitionVerifier as verifier:",
      );
      console.table(rows.map((r) => ({ call: r.call, gateOwn: r.gateOwn, externalCalls: r.externalCalls, gasUsed: r.gasUsed })));
      if (process.env.ZKS_BENCHMARKS === "1") {
        const dir = path.join(PACKAGE_ROOT, "benchmarks");
        mkdirSync(dir, { recursive: true });
        writeFileSync(
          path.join(dir, "custody-gas.json"),
          `${JSON.stringify({ generatedBy: "ZKS_BENCHMARKS=1 npx mocha --no-config -n import=tsx --timeout 600000 test/custody.test.ts --grep gas", date: new Date().toISOString(), targetGateOwn: Number(TARGET), note: "register writes three new storage slots (22,100 gas each of a zero-to-non-zero SSTORE): the commitment, the account's key generation and flag, and (first position of a key generation) the generation's count; it is held to the 60,000 target plus the last two. A keeper's transition (forced, liquidate) credits what it owes the owner to claimable (the account's and the token's total: two slots, new the first time, and a ClaimableCredited log) instead of a transfer; it is held to the target plus those. Every other call, each with its OpeningEncrypted event (docs/enforcement.md), is held to the target", instance: { nAssets: N_ASSETS, nInstruments: 2, nSwaps: 2, signals: LAYOUT.count }, method, rows }, null, 2)}\n`,
        );
      }
      for (const r of rows) {
        const call = String(r.call);
        const limit = call.startsWith("register") ? REGISTER_LIMIT : call.includes("keeper") || call.startsWith("liquidate") ? KEEPER_LIMIT : TARGET;
        assert.ok(BigInt(r.gateOwn as string) <= limit, `${r.call}: the gate's own gas ${r.gateOwn} > ${limit}`);
      }
    });
  });
});
