// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title IMarketOracle
/// @notice Publishes, per epoch, the root of the market a risk oracle computed off-chain (prices,
/// liquidation thresholds, marks, deltas, scenarios, covariances: `marketRoot` in
/// src/commitment/market-root.ts). Proofs name the epoch they were made under; contracts that
/// accept them read the root and its freshness here.
interface IMarketOracle {
    /// @notice A market root was published for `epoch`.
    /// @param epoch The epoch, strictly greater than every earlier one.
    /// @param marketRoot The Poseidon root of the epoch's market.
    /// @param timestamp When the market was observed (unix seconds): freshness counts from it.
    event MarketPublished(uint64 indexed epoch, uint256 marketRoot, uint64 timestamp);

    /// @notice `publisher` was allowed (`allowed` true) or no longer allowed to publish.
    /// @param publisher The address whose right to publish changed.
    /// @param allowed Whether it may publish from now on.
    event PublisherSet(address indexed publisher, bool allowed);

    /// @notice Published markets now count as fresh for `window` seconds after their timestamp.
    /// @param window The new freshness window, in seconds.
    event FreshnessWindowSet(uint64 window);

    /// @notice The caller is not an authorised publisher.
    error MarketOracle__NotPublisher(address caller);
    /// @notice Epochs must strictly increase: `epoch` is not above the latest published `latest`.
    error MarketOracle__EpochNotIncreasing(uint64 epoch, uint64 latest);
    /// @notice Timestamps must strictly increase: `timestamp` is not above the latest `latest`.
    error MarketOracle__TimestampNotIncreasing(uint64 timestamp, uint64 latest);
    /// @notice A market cannot be observed after the block it is published in.
    error MarketOracle__TimestampInFuture(uint64 timestamp, uint256 blockTimestamp);
    /// @notice The root is not a BN254 field element, or zero (which marks an unpublished epoch).
    error MarketOracle__InvalidRoot(uint256 marketRoot);
    /// @notice The freshness window must be positive.
    error MarketOracle__ZeroFreshnessWindow();
    /// @notice The publisher is the zero address.
    error MarketOracle__ZeroPublisher();

    /// @notice Publishes `marketRoot` for `epoch`, observed at `timestamp`.
    /// @dev Only authorised publishers. Requires `epoch` and `timestamp` above the latest
    /// published ones, `timestamp <= block.timestamp`, and `0 < marketRoot < SNARK_SCALAR_FIELD`.
    /// @param epoch The epoch, as in the market file (`epoch`).
    /// @param marketRoot The market's root as the circuits compute it.
    /// @param timestamp The market file's `timestamp` (unix seconds).
    function publish(uint64 epoch, uint256 marketRoot, uint64 timestamp) external;

    /// @notice Allows or disallows `publisher` to publish. Only the owner.
    /// @param publisher The address (not zero) whose right to publish is set.
    /// @param allowed Whether it may publish.
    function setPublisher(address publisher, bool allowed) external;

    /// @notice Sets how long (seconds after its timestamp) a published market stays fresh. Only the owner.
    /// @param window The freshness window in seconds (positive).
    function setFreshnessWindow(uint64 window) external;

    /// @notice Whether `account` may publish.
    /// @param account The address asked about.
    /// @return True when `account` is an authorised publisher.
    function isPublisher(address account) external view returns (bool);

    /// @notice How long, in seconds after its timestamp, a published market stays fresh.
    function freshnessWindow() external view returns (uint64);

    /// @notice The root published for `epoch`, or 0 if none was.
    /// @param epoch The epoch asked about.
    /// @return The epoch's market root, or 0.
    function rootOf(uint64 epoch) external view returns (uint256);

    /// @notice The timestamp published with `epoch`'s root, or 0 if none was.
    /// @param epoch The epoch asked about.
    /// @return The epoch's observation timestamp (unix seconds), or 0.
    function timestampOf(uint64 epoch) external view returns (uint64);

    /// @notice Whether `epoch` was published and `block.timestamp - timestampOf(epoch) <= freshnessWindow()`.
    /// @param epoch The epoch asked about.
    /// @return True when the epoch's market is published and still fresh.
    function isFresh(uint64 epoch) external view returns (bool);

    /// @notice Everything a verifying contract needs in one call: root (0 if unpublished),
    /// timestamp and freshness of `epoch`.
    /// @param epoch The epoch asked about.
    /// @return marketRoot The epoch's market root, or 0 if unpublished.
    /// @return timestamp The epoch's observation timestamp, or 0 if unpublished.
    /// @return fresh Whether the epoch is published and still fresh (as `isFresh`).
    function marketOf(uint64 epoch) external view returns (uint256 marketRoot, uint64 timestamp, bool fresh);

    /// @notice The latest published epoch (0 before the first publication).
    function latestEpoch() external view returns (uint64);

    /// @notice The timestamp of the latest published epoch (0 before the first publication).
    function latestTimestamp() external view returns (uint64);
}
