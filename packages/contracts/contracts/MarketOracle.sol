// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {IMarketOracle} from "./interfaces/IMarketOracle.sol";
import {Groth16} from "./libraries/Groth16.sol";

/// @title MarketOracle
/// @notice Market roots per epoch, posted by authorised publishers (the risk oracle's signers) and
/// read by the gate and the audit registry. Epochs and timestamps strictly increase; a market is
/// fresh for `freshnessWindow` seconds after its timestamp. The owner (governance) manages the
/// publishers and the window.
contract MarketOracle is IMarketOracle, Ownable {
    /// @dev A published epoch. `timestamp` 0 means unpublished (published timestamps are > 0,
    /// being above the previous one, which starts at 0).
    struct Market {
        uint256 root;
        uint64 timestamp;
    }

    mapping(uint64 epoch => Market) private _markets;
    mapping(address account => bool) private _publishers;

    /// @inheritdoc IMarketOracle
    uint64 public latestEpoch;
    /// @inheritdoc IMarketOracle
    uint64 public latestTimestamp;
    /// @inheritdoc IMarketOracle
    uint64 public freshnessWindow;

    /// @notice Deploys an oracle with no epoch published yet.
    /// @param owner_ Governance: manages publishers and the freshness window.
    /// @param publisher The first authorised publisher (the zero address for none yet).
    /// @param freshnessWindow_ Seconds a market stays fresh after its timestamp (> 0).
    constructor(address owner_, address publisher, uint64 freshnessWindow_) Ownable(owner_) {
        _setFreshnessWindow(freshnessWindow_);
        if (publisher != address(0)) _setPublisher(publisher, true);
    }

    /// @inheritdoc IMarketOracle
    function publish(uint64 epoch, uint256 marketRoot, uint64 timestamp) external {
        if (!_publishers[msg.sender]) revert MarketOracle__NotPublisher(msg.sender);
        uint64 lastTimestamp = latestTimestamp;
        // Before the first publication any epoch, 0 included, may come first.
        if (lastTimestamp != 0 && epoch <= latestEpoch) revert MarketOracle__EpochNotIncreasing(epoch, latestEpoch);
        if (timestamp <= lastTimestamp) revert MarketOracle__TimestampNotIncreasing(timestamp, lastTimestamp);
        if (timestamp > block.timestamp) revert MarketOracle__TimestampInFuture(timestamp, block.timestamp);
        if (marketRoot == 0 || marketRoot >= Groth16.SNARK_SCALAR_FIELD) revert MarketOracle__InvalidRoot(marketRoot);
        _markets[epoch] = Market({root: marketRoot, timestamp: timestamp});
        latestEpoch = epoch;
        latestTimestamp = timestamp;
        emit MarketPublished(epoch, marketRoot, timestamp);
    }

    /// @inheritdoc IMarketOracle
    function setPublisher(address publisher, bool allowed) external onlyOwner {
        _setPublisher(publisher, allowed);
    }

    /// @inheritdoc IMarketOracle
    function setFreshnessWindow(uint64 window) external onlyOwner {
        _setFreshnessWindow(window);
    }

    /// @inheritdoc IMarketOracle
    function isPublisher(address account) external view returns (bool) {
        return _publishers[account];
    }

    /// @inheritdoc IMarketOracle
    function rootOf(uint64 epoch) external view returns (uint256) {
        return _markets[epoch].root;
    }

    /// @inheritdoc IMarketOracle
    function timestampOf(uint64 epoch) external view returns (uint64) {
        return _markets[epoch].timestamp;
    }

    /// @inheritdoc IMarketOracle
    function isFresh(uint64 epoch) external view returns (bool) {
        return _isFresh(_markets[epoch].timestamp);
    }

    /// @inheritdoc IMarketOracle
    function marketOf(uint64 epoch) external view returns (uint256 marketRoot, uint64 timestamp, bool fresh) {
        Market storage market = _markets[epoch];
        timestamp = market.timestamp;
        return (market.root, timestamp, _isFresh(timestamp));
    }

    function _isFresh(uint64 timestamp) private view returns (bool) {
        // Added rather than subtracted: no underflow whatever the block's time.
        return timestamp != 0 && block.timestamp <= uint256(timestamp) + freshnessWindow;
    }

    function _setPublisher(address publisher, bool allowed) private {
        if (publisher == address(0)) revert MarketOracle__ZeroPublisher();
        _publishers[publisher] = allowed;
        emit PublisherSet(publisher, allowed);
    }

    function _setFreshnessWindow(uint64 window) private {
        if (window == 0) revert MarketOracle__ZeroFreshnessWindow();
        freshnessWindow = window;
        emit FreshnessWindowSet(window);
    }
}
