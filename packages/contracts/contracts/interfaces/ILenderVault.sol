// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC4626} from "@openzeppelin/contracts/interfaces/IERC4626.sol";

/// @title ILenderVault
/// @notice A lending market over one loan token (docs/custody.md, "Debt from a real lending
/// market"): an ERC-4626 vault whose depositors lend the token and whose only borrower (set once by
/// governance; in this protocol the RebalanceGate) owes debt in index-scaled units. A debt of `d`
/// units is worth `d * debtIndex / 1e18` loan-token base units; the index (18 decimals, starting at
/// 1e18) grows every second at the governance-set per-second rate.
interface ILenderVault is IERC4626 {
    /// @notice The index was brought up to `timestamp`.
    /// @param index The borrow index after accrual (18 decimals).
    /// @param timestamp The time it was accrued to (unix seconds).
    event Accrued(uint256 index, uint64 timestamp);
    /// @notice The borrower took `units` of debt and `receiver` got `assets`.
    /// @param receiver Who received the loan tokens.
    /// @param units The index-scaled debt units added to the borrower's debt.
    /// @param assets The loan tokens delivered (rounded down).
    event Borrowed(address indexed receiver, uint256 units, uint256 assets);
    /// @notice The borrower repaid `units` of debt with `assets`.
    /// @param units The index-scaled debt units removed from the borrower's debt.
    /// @param assets The loan tokens taken from the borrower (rounded up).
    event Repaid(uint256 units, uint256 assets);
    /// @notice Governance set the borrower (once).
    /// @param borrower The only borrower from now on.
    event BorrowerSet(address borrower);
    /// @notice Governance set the per-second borrow rate (18 decimals).
    /// @param ratePerSecond The new rate (1e18 = 100% per second).
    event RatePerSecondSet(uint256 ratePerSecond);

    /// @notice Only the borrower may borrow or repay.
    error LenderVault__NotBorrower(address caller);
    /// @notice The borrower is set already (it is set once).
    error LenderVault__BorrowerAlreadySet(address borrower);
    /// @notice The zero address where an account is needed.
    error LenderVault__ZeroAddress();
    /// @notice Borrowing or repaying zero units.
    error LenderVault__ZeroAmount();
    /// @notice A borrow of `assets` exceeds the idle liquidity `idle`.
    error LenderVault__InsufficientLiquidity(uint256 assets, uint256 idle);
    /// @notice Repaying `units` exceeds the borrower's `debt` units.
    error LenderVault__RepayExceedsDebt(uint256 units, uint256 debt);
    /// @notice The rate exceeds {MAX_RATE_PER_SECOND}.
    error LenderVault__RateTooHigh(uint256 ratePerSecond, uint256 max);
    /// @notice `indexAt` was asked about a time before the last accrual.
    error LenderVault__TimestampBeforeAccrual(uint256 timestamp, uint256 lastAccrual);

    /// @notice Brings the stored index up to `block.timestamp` and returns it.
    /// @return index The borrow index at `block.timestamp` (18 decimals).
    function accrue() external returns (uint256 index);

    /// @notice Lends `units` index-scaled debt units to the borrower; `receiver` gets
    /// `floor(units * debtIndex / 1e18)` loan tokens (rounded down: the lenders keep the dust).
    /// @param units The index-scaled debt units to borrow (positive).
    /// @param receiver Who receives the loan tokens (not the zero address).
    /// @return assets The loan tokens delivered.
    function borrow(uint256 units, address receiver) external returns (uint256 assets);

    /// @notice Repays `units` of the borrower's debt, pulling `ceil(units * debtIndex / 1e18)` loan
    /// tokens from the borrower (rounded up: the lenders never lose to rounding). The borrower must
    /// have approved the vault.
    /// @param units The index-scaled debt units to repay (positive, at most the debt).
    /// @return assets The loan tokens taken.
    function repay(uint256 units) external returns (uint256 assets);

    /// @notice Sets the only borrower. Only governance, once.
    /// @param borrower The borrower (not the zero address).
    function setBorrower(address borrower) external;

    /// @notice Sets the per-second borrow rate (18 decimals), after accruing at the old one. Only governance.
    /// @param ratePerSecond The new rate, at most {MAX_RATE_PER_SECOND}.
    function setRatePerSecond(uint256 ratePerSecond) external;

    /// @notice The borrow index at `block.timestamp` (18 decimals), accrued in a view.
    function debtIndex() external view returns (uint256);

    /// @notice The borrow index projected to `timestamp` (>= the last accrual) at the current rate;
    /// what the oracle publishes for the end of an epoch's freshness window.
    /// @param timestamp The time to project to (unix seconds, not before the last accrual).
    /// @return The projected borrow index (18 decimals).
    function indexAt(uint256 timestamp) external view returns (uint256);

    /// @notice The borrower's debt in index-scaled units.
    function debtUnits() external view returns (uint256);

    /// @notice `account`'s debt units: the borrower's, 0 for anyone else.
    /// @param account The account asked about.
    /// @return The account's index-scaled debt units.
    function debtUnitsOf(address account) external view returns (uint256);

    /// @notice The borrower's debt in loan tokens at the current index, rounded up.
    function debtAssets() external view returns (uint256);

    /// @notice Loan tokens held by the vault (what withdrawals and borrows can take).
    function idle() external view returns (uint256);

    /// @notice The only borrower (the zero address until governance sets it).
    function borrower() external view returns (address);

    /// @notice The per-second borrow rate, 18 decimals (1e18 = 100% per second).
    function ratePerSecond() external view returns (uint256);

    /// @notice The stored index and the time it was accrued to.
    /// @return index The stored borrow index (18 decimals).
    /// @return lastAccrual The time it was last accrued to (unix seconds).
    function storedIndex() external view returns (uint256 index, uint64 lastAccrual);
}
