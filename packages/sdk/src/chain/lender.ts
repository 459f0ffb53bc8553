/**
 * The LenderVault (packages/contracts/contracts/LenderVault.sol): its ABI fragments and the exact integer
 * arithmetic of its debt index, for provers (the debt a committed number of units stands for) and
 * for the oracle (the index projected to the end of an epoch's freshness window).
 */

import { DEBT_INDEX_SCALE } from "../core/fixed-point.ts";
import { ceilDiv } from "../model/rounding.ts";
import { borrowDelivery, repayCharge } from "../rebalance/actions.ts";

/** The index's unit: 18 decimals, 1e18 = 1.0 (the market's debt-index scale). */
export const INDEX_ONE = DEBT_INDEX_SCALE;

/** Loan tokens a borrow of `units` delivers at `index`: floor(units * index / 1e18) (the planner's rule). */
export const borrowAssets = (units: bigint, index: bigint): bigint => borrowDelivery(units, index);

/** Loan tokens a repayment of `units` takes at `index`: ceil(units * index / 1e18) (the planner's rule). */
export const repayAssets = (units: bigint, index: bigint): bigint => repayCharge(units, index);

/**
 * The vault's index after `elapsed` seconds from a stored `index` at `ratePerSecond` (18 decimals):
 * index + ceil(index * rate * elapsed / 1e18), linear within one accrual.
 */
export const projectIndex = (index: bigint, ratePerSecond: bigint, elapsed: bigint): bigint =>
  elapsed <= 0n ? index : index + ceilDiv(index * ratePerSecond * elapsed, INDEX_ONE);

export const LENDER_VAULT_ABI = [
  "function asset() view returns (address)",
  "function totalAssets() view returns (uint256)",
  "function deposit(uint256 assets, address receiver) returns (uint256 shares)",
  "function withdraw(uint256 assets, address receiver, address owner) returns (uint256 shares)",
  "function redeem(uint256 shares, address receiver, address owner) returns (uint256 assets)",
  "function maxWithdraw(address owner) view returns (uint256)",
  "function maxRedeem(address owner) view returns (uint256)",
  "function balanceOf(address account) view returns (uint256)",
  "function convertToAssets(uint256 shares) view returns (uint256)",
  "function accrue() returns (uint256 index)",
  "function borrow(uint256 units, address receiver) returns (uint256 assets)",
  "function repay(uint256 units) returns (uint256 assets)",
  "function setBorrower(address borrower)",
  "function setRatePerSecond(uint256 ratePerSecond)",
  "function debtIndex() view returns (uint256)",
  "function indexAt(uint256 timestamp) view returns (uint256)",
  "function debtUnits() view returns (uint256)",
  "function debtUnitsOf(address account) view returns (uint256)",
  "function debtAssets() view returns (uint256)",
  "function idle() view returns (uint256)",
  "function borrower() view returns (address)",
  "function ratePerSecond() view returns (uint256)",
  "function storedIndex() view returns (uint256 index, uint64 lastAccrual)",
  "event Accrued(uint256 index, uint64 timestamp)",
  "event Borrowed(address indexed receiver, uint256 units, uint256 assets)",
  "event Repaid(uint256 units, uint256 assets)",
  "event BorrowerSet(address borrower)",
  "event RatePerSecondSet(uint256 ratePerSecond)",
  "error LenderVault__NotBorrower(address caller)",
  "error LenderVault__BorrowerAlreadySet(address borrower)",
  "error LenderVault__ZeroAddress()",
  "error LenderVault__ZeroAmount()",
  "error LenderVault__InsufficientLiquidity(uint256 assets, uint256 idle)",
  "error LenderVault__RepayExceedsDebt(uint256 units, uint256 debt)",
  "error LenderVault__RateTooHigh(uint256 ratePerSecond, uint256 max)",
  "error LenderVault__TimestampBeforeAccrual(uint256 timestamp, uint256 lastAccrual)",
  "error ERC4626ExceededMaxWithdraw(address owner, uint256 assets, uint256 max)",
  "error ERC4626ExceededMaxRedeem(address owner, uint256 shares, uint256 max)",
] as const;
