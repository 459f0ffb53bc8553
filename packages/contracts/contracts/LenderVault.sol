// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {IERC4626} from "@openzeppelin/contracts/interfaces/IERC4626.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ERC4626} from "@openzeppelin/contracts/token/ERC20/extensions/ERC4626.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {ILenderVault} from "./interfaces/ILenderVault.sol";

/// @title LenderVault
/// @notice An ERC-4626 lending market over one loan token whose only borrower is the RebalanceGate
/// (docs/custody.md). Depositors lend and earn the interest the borrower pays; the borrower's debt
/// is held in index-scaled units (Aave's scaled balances).
/// @dev Interest: the borrow index starts at 1e18 and each accrual multiplies it by
/// `1 + ratePerSecond * elapsed / 1e18` (linear within an accrual, rounded up), so interest
/// compounds once per accrual: at every borrow, repayment, rate change or `accrue()` call (Aave's
/// linear-per-update index). Views ({debtIndex}, {totalAssets}) project the same linear step to
/// `block.timestamp` without writing it.
/// Rounding, always in the lenders' favour: a borrow delivers floor(units * index / 1e18), a
/// repayment takes ceil(units * index / 1e18), and {totalAssets} counts the debt as
/// floor(units * index / 1e18). Withdrawals and redemptions are limited to the idle liquidity.
contract LenderVault is ILenderVault, ERC4626, Ownable, ReentrancyGuard {
    using SafeERC20 for IERC20;

    /// @notice The index's unit and starting value: 18 decimals, 1e18 = 1.0.
    uint256 public constant INDEX_ONE = 1e18;
    /// @notice The highest per-second rate governance may set: 1e18 / 3,153,600, about 1,000% a year
    /// (simple), rounded down.
    uint256 public constant MAX_RATE_PER_SECOND = INDEX_ONE / 3_153_600;

    uint256 private _index;
    uint64 private _lastAccrual;
    /// @inheritdoc ILenderVault
    address public borrower;
    /// @inheritdoc ILenderVault
    uint256 public ratePerSecond;
    /// @inheritdoc ILenderVault
    uint256 public debtUnits;

    /// @notice Deploys a vault lending `loanToken`, with no borrower yet and the index at 1e18.
    /// @param loanToken The token lent.
    /// @param name_ The share token's name.
    /// @param symbol_ The share token's symbol.
    /// @param ratePerSecond_ The initial per-second rate (18 decimals).
    /// @param owner_ Governance: sets the borrower (once) and the rate.
    constructor(IERC20 loanToken, string memory name_, string memory symbol_, uint256 ratePerSecond_, address owner_) ERC20(name_, symbol_) ERC4626(loanToken) Ownable(owner_) {
        _index = INDEX_ONE;
        _lastAccrual = uint64(block.timestamp);
        _setRate(ratePerSecond_);
    }

    modifier onlyBorrower() {
        if (msg.sender != borrower || msg.sender == address(0)) revert LenderVault__NotBorrower(msg.sender);
        _;
    }

    /// @inheritdoc ILenderVault
    function accrue() public returns (uint256 index) {
        index = _indexAt(block.timestamp);
        if (_lastAccrual != block.timestamp) {
            _index = index;
            _lastAccrual = uint64(block.timestamp);
            emit Accrued(index, uint64(block.timestamp));
        }
    }

    /// @inheritdoc ILenderVault
    function borrow(uint256 units, address receiver) external onlyBorrower nonReentrant returns (uint256 assets) {
        if (units == 0) revert LenderVault__ZeroAmount();
        if (receiver == address(0)) revert LenderVault__ZeroAddress();
        uint256 index = accrue();
        assets = Math.mulDiv(units, index, INDEX_ONE, Math.Rounding.Floor);
        uint256 available = idle();
        if (assets > available) revert LenderVault__InsufficientLiquidity(assets, available);
        debtUnits += units;
        emit Borrowed(receiver, units, assets);
        IERC20(asset()).safeTransfer(receiver, assets);
    }

    /// @inheritdoc ILenderVault
    function repay(uint256 units) external onlyBorrower nonReentrant returns (uint256 assets) {
        if (units == 0) revert LenderVault__ZeroAmount();
        uint256 debt = debtUnits;
        if (units > debt) revert LenderVault__RepayExceedsDebt(units, debt);
        uint256 index = accrue();
        assets = Math.mulDiv(units, index, INDEX_ONE, Math.Rounding.Ceil);
        debtUnits = debt - units;
        emit Repaid(units, assets);
        IERC20(asset()).safeTransferFrom(msg.sender, address(this), assets);
    }

    /// @inheritdoc ILenderVault
    function setBorrower(address borrower_) external onlyOwner {
        if (borrower_ == address(0)) revert LenderVault__ZeroAddress();
        if (borrower != address(0)) revert LenderVault__BorrowerAlreadySet(borrower);
        borrower = borrower_;
        emit BorrowerSet(borrower_);
    }

    /// @inheritdoc ILenderVault
    function setRatePerSecond(uint256 ratePerSecond_) external onlyOwner {
        accrue();
        _setRate(ratePerSecond_);
    }

    /// @inheritdoc ILenderVault
    function debtIndex() public view returns (uint256) {
        return _indexAt(block.timestamp);
    }

    /// @inheritdoc ILenderVault
    function indexAt(uint256 timestamp) external view returns (uint256) {
        if (timestamp < _lastAccrual) revert LenderVault__TimestampBeforeAccrual(timestamp, _lastAccrual);
        return _indexAt(timestamp);
    }

    /// @inheritdoc ILenderVault
    function debtUnitsOf(address account) external view returns (uint256) {
        return account == borrower ? debtUnits : 0;
    }

    /// @inheritdoc ILenderVault
    function debtAssets() external view returns (uint256) {
        return Math.mulDiv(debtUnits, debtIndex(), INDEX_ONE, Math.Rounding.Ceil);
    }

    /// @inheritdoc ILenderVault
    function storedIndex() external view returns (uint256 index, uint64 lastAccrual) {
        return (_index, _lastAccrual);
    }

    /// @inheritdoc ILenderVault
    function idle() public view returns (uint256) {
        return IERC20(asset()).balanceOf(address(this));
    }

    /// @notice Idle tokens plus the borrower's debt at the current index, rounded down (the
    /// depositors are never credited with a fraction the borrower does not owe).
    function totalAssets() public view override(ERC4626, IERC4626) returns (uint256) {
        return idle() + Math.mulDiv(debtUnits, debtIndex(), INDEX_ONE, Math.Rounding.Floor);
    }

    /// @notice What `owner_` can withdraw now: its shares' worth, at most the idle liquidity.
    /// @param owner_ The share holder asked about.
    /// @return The loan tokens `owner_` can withdraw now.
    function maxWithdraw(address owner_) public view override(ERC4626, IERC4626) returns (uint256) {
        return Math.min(_convertToAssets(balanceOf(owner_), Math.Rounding.Floor), idle());
    }

    /// @notice What `owner_` can redeem now: its shares, at most the idle liquidity's worth
    /// (rounded down).
    /// @param owner_ The share holder asked about.
    /// @return The shares `owner_` can redeem now.
    function maxRedeem(address owner_) public view override(ERC4626, IERC4626) returns (uint256) {
        return Math.min(balanceOf(owner_), _convertToShares(idle(), Math.Rounding.Floor));
    }

    /// @dev The stored index grown linearly by `ratePerSecond * elapsed`, rounded up.
    function _indexAt(uint256 timestamp) private view returns (uint256) {
        uint256 last = _lastAccrual;
        uint256 index = _index;
        if (timestamp <= last) return index;
        return index + Math.mulDiv(index, ratePerSecond * (timestamp - last), INDEX_ONE, Math.Rounding.Ceil);
    }

    function _setRate(uint256 ratePerSecond_) private {
        if (ratePerSecond_ > MAX_RATE_PER_SECOND) revert LenderVault__RateTooHigh(ratePerSecond_, MAX_RATE_PER_SECOND);
        ratePerSecond = ratePerSecond_;
        emit RatePerSecondSet(ratePerSecond_);
    }
}
