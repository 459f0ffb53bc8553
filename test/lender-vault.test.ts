/**
 * LenderVault (packages/contracts/contracts/LenderVault.sol): interest accrual, depositors earning it, rounding in
 * the lenders' favour, the single borrower, liquidity limits. In-process hardhat network.
 *
 *   npx mocha --no-config -n import=tsx --timeout 600000 test/lender-vault.test.ts
 */
import assert from "node:assert/strict";
import { Contract, Interface, type Signer } from "ethers";
import { network } from "hardhat";
import { borrowAssets, INDEX_ONE, LENDER_VAULT_ABI, projectIndex, repayAssets } from "../packages/sdk/src/chain/lender.ts";
import { revertsWith } from "./helpers/contracts-fixtures.ts";

const E18 = 10n ** 18n;
const E6 = 10n ** 6n;
/** 10 % a year, simple: 1e17 / 31,536,000 per second. */
const RATE = E18 / 10n / 31_536_000n;
const YEAR = 31_536_000;

describe("LenderVault: an ERC-4626 lending market with one borrower", function () {
  let ethers: Awaited<ReturnType<typeof network.connect>>["ethers"];
  let owner: Signer, lender: Signer, lender2: Signer, borrower: Signer, stranger: Signer;
  let token: Contract, vault: Contract;
  let errors: Interface;
  let snapshotId: string;
  const as = (c: Contract, s: Signer) => c.connect(s) as Contract;
  const send = async (p: Promise<{ wait(): Promise<unknown> }>) => (await p).wait();
  const now = async () => BigInt((await ethers.provider.getBlock("latest"))!.timestamp);
  const call = async (c: Contract, m: string, ...a: unknown[]) => BigInt(await c.getFunction(m)(...a));
  const warp = async (seconds: number) => {
    await ethers.provider.send("evm_increaseTime", [seconds]);
    await ethers.provider.send("evm_mine", []);
  };

  before(async function () {
    ({ ethers } = await network.connect());
    [owner, lender, lender2, borrower, stranger] = (await ethers.getSigners()) as unknown as Signer[] as [Signer, Signer, Signer, Signer, Signer];
    token = (await ethers.deployContract("TestToken", ["USD Coin", "USDC", 6])) as unknown as Contract;
    vault = (await ethers.deployContract("LenderVault", [await token.getAddress(), "Lent USDC", "lUSDC", RATE, await owner.getAddress()])) as unknown as Contract;
    errors = new Interface([
      ...LENDER_VAULT_ABI,
      "error OwnableUnauthorizedAccount(address account)",
      "error ERC20InsufficientAllowance(address spender, uint256 allowance, uint256 needed)",
    ]);
    for (const s of [lender, lender2, borrower]) {
      await send(token.getFunction("mint")(await s.getAddress(), 10_000_000n * E6));
      await send(as(token, s).getFunction("approve")(await vault.getAddress(), 1n << 255n));
    }
    await send(vault.getFunction("setBorrower")(await borrower.getAddress()));
  });
  beforeEach(async () => void (snapshotId = await ethers.provider.send("evm_snapshot", [])));
  afterEach(async () => void (await ethers.provider.send("evm_revert", [snapshotId])));

  it("only the borrower borrows and repays; the borrower is set once; the rate is bounded", async function () {
    await send(as(vault, lender).getFunction("deposit")(1_000n * E6, await lender.getAddress()));
    await revertsWith(as(vault, stranger).getFunction("borrow")(E6, await stranger.getAddress()), errors, "LenderVault__NotBorrower", [await stranger.getAddress()]);
    await revertsWith(as(vault, stranger).getFunction("repay")(E6), errors, "LenderVault__NotBorrower", [await stranger.getAddress()]);
    await revertsWith(vault.getFunction("setBorrower")(await stranger.getAddress()), errors, "LenderVault__BorrowerAlreadySet", [await borrower.getAddress()]);
    await revertsWith(as(vault, stranger).getFunction("setRatePerSecond")(1n), errors, "OwnableUnauthorizedAccount");
    const max = await call(vault, "MAX_RATE_PER_SECOND");
    await revertsWith(vault.getFunction("setRatePerSecond")(max + 1n), errors, "LenderVault__RateTooHigh", [max + 1n, max]);
    await revertsWith(as(vault, borrower).getFunction("borrow")(0n, await borrower.getAddress()), errors, "LenderVault__ZeroAmount");
    assert.equal(await call(vault, "debtUnitsOf", await stranger.getAddress()), 0n);
  });

  it("the index accrues every second at the rate, linear per accrual; views project it; accrue stores it", async function () {
    const [start, t0] = (await vault.getFunction("storedIndex")()) as [bigint, bigint];
    assert.equal(start, INDEX_ONE);
    await warp(1_000);
    const t = await now();
    assert.equal(await call(vault, "debtIndex"), projectIndex(INDEX_ONE, RATE, t - t0));
    assert.equal(await call(vault, "indexAt", t + 3_600n), projectIndex(INDEX_ONE, RATE, t + 3_600n - t0));
    await send(vault.getFunction("accrue")());
    const [stored, at] = (await vault.getFunction("storedIndex")()) as [bigint, bigint];
    assert.equal(stored, projectIndex(INDEX_ONE, RATE, at - t0));
    await revertsWith(vault.getFunction("indexAt")(at - 1n), errors, "LenderVault__TimestampBeforeAccrual", [at - 1n, at]);
    // Compounding: two accruals a year apart give more than one linear step over two years.
    await warp(YEAR);
    await send(vault.getFunction("accrue")());
    await warp(YEAR);
    const twoSteps = await call(vault, "debtIndex");
    assert.ok(twoSteps > projectIndex(stored, RATE, 2n * BigInt(YEAR)));
    assert.ok(twoSteps > (INDEX_ONE * 121n) / 100n - INDEX_ONE / 100n, "about 1.1^2 after two years");
  });

  it("depositors earn the interest the borrower pays", async function () {
    await send(as(vault, lender).getFunction("deposit")(600_000n * E6, await lender.getAddress()));
    await send(as(vault, lender2).getFunction("deposit")(400_000n * E6, await lender2.getAddress()));
    await send(as(vault, borrower).getFunction("borrow")(500_000n * E6, await borrower.getAddress()));
    await warp(YEAR);
    const units = await call(vault, "debtUnits");
    const owed = await call(vault, "debtAssets");
    assert.ok(owed > 549_000n * E6 && owed < 551_000n * E6, `about 10 % on 500,000: ${owed}`);
    await send(as(vault, borrower).getFunction("repay")(units));
    assert.equal(await call(vault, "debtUnits"), 0n);
    const total = await call(vault, "totalAssets");
    assert.ok(total >= 1_049_000n * E6, `interest is the depositors': ${total}`);
    for (const [s, principal] of [
      [lender, 600_000n * E6],
      [lender2, 400_000n * E6],
    ] as const) {
      const shares = await call(vault, "balanceOf", await s.getAddress());
      const before = await call(token, "balanceOf", await s.getAddress());
      await send(as(vault, s).getFunction("redeem")(shares, await s.getAddress(), await s.getAddress()));
      const got = (await call(token, "balanceOf", await s.getAddress())) - before;
      assert.ok(got > (principal * 1049n) / 1000n, `a depositor gets its share of the interest: ${got} on ${principal}`);
    }
  });

  it("rounding: a borrow delivers floor(units x index), a repayment takes ceil(units x index), totalAssets rounds the debt down", async function () {
    await send(as(vault, lender).getFunction("deposit")(1_000_000n * E6, await lender.getAddress()));
    await send(as(vault, borrower).getFunction("borrow")(1n, await borrower.getAddress())); // accrual starts
    await warp(12_345);
    const b0 = await call(token, "balanceOf", await borrower.getAddress());
    await send(as(vault, borrower).getFunction("borrow")(333_333n, await borrower.getAddress()));
    const [index] = (await vault.getFunction("storedIndex")()) as [bigint, bigint];
    assert.ok(index > INDEX_ONE && (333_333n * index) % INDEX_ONE !== 0n, "a non-trivial product");
    assert.equal((await call(token, "balanceOf", await borrower.getAddress())) - b0, borrowAssets(333_333n, index));
    const idle = await call(vault, "idle");
    const units = await call(vault, "debtUnits");
    const t = await now();
    assert.equal(await call(vault, "totalAssets"), idle + (units * (await call(vault, "indexAt", t))) / INDEX_ONE);
    const b1 = await call(token, "balanceOf", await borrower.getAddress());
    await send(as(vault, borrower).getFunction("repay")(7n));
    const [index2] = (await vault.getFunction("storedIndex")()) as [bigint, bigint];
    assert.equal(b1 - (await call(token, "balanceOf", await borrower.getAddress())), repayAssets(7n, index2));
    assert.equal(repayAssets(7n, index2), borrowAssets(7n, index2) + 1n, "one unit more: rounded up");
    await revertsWith(as(vault, borrower).getFunction("repay")(units), errors, "LenderVault__RepayExceedsDebt", [units, units - 7n]);
  });

  it("liquidity limits: borrows and withdrawals take only idle tokens", async function () {
    await send(as(vault, lender).getFunction("deposit")(1_000n * E6, await lender.getAddress()));
    await revertsWith(as(vault, borrower).getFunction("borrow")(1_001n * E6, await borrower.getAddress()), errors, "LenderVault__InsufficientLiquidity");
    await send(as(vault, borrower).getFunction("borrow")(900n * E6, await borrower.getAddress()));
    const who = await lender.getAddress();
    const idle = await call(vault, "idle");
    assert.ok(idle < 100n * E6, "900 units at an index above 1 took a little more than 900 USDC");
    assert.equal(await call(vault, "maxWithdraw", who), idle);
    assert.ok((await call(vault, "maxRedeem", who)) < (await call(vault, "balanceOf", who)));
    await revertsWith(as(vault, lender).getFunction("withdraw")(idle + 1n, who, who), errors, "ERC4626ExceededMaxWithdraw");
    await send(as(vault, lender).getFunction("withdraw")(idle, who, who));
    assert.equal(await call(vault, "idle"), 0n);
    // A repayment restores liquidity.
    await send(as(vault, borrower).getFunction("repay")(await call(vault, "debtUnits")));
    assert.ok((await call(vault, "maxWithdraw", who)) >= 900n * E6);
  });
});
