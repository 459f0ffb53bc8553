// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title PublicSignals
/// @notice Positions of the public signals in the circuits' snarkjs order (circuits/instances.json:
/// outputs first, then public inputs in template order).
library PublicSignals {
    // Solvency(nAssets, nInstruments, nScenarios, checks):
    // [commitment, marketRoot, policyHash, account, nonce, context]

    /// @notice The position's commitment.
    uint256 internal constant SOLVENCY_COMMITMENT = 0;
    /// @notice The market root the checks ran under.
    uint256 internal constant SOLVENCY_MARKET_ROOT = 1;
    /// @notice The hash of the policy whose checks passed.
    uint256 internal constant SOLVENCY_POLICY_HASH = 2;
    /// @notice The position's owner (an address, < 2^160).
    uint256 internal constant SOLVENCY_ACCOUNT = 3;
    /// @notice The position's nonce (< 2^64).
    uint256 internal constant SOLVENCY_NONCE = 4;
    /// @notice The chain and contract the proof is for (ProofContext).
    uint256 internal constant SOLVENCY_CONTEXT = 5;
    /// @notice Number of public signals of every Solvency instance.
    uint256 internal constant SOLVENCY_COUNT = 6;

    // Rebalance(nAssets, ...): [oldCommitment, newCommitment, marketRoot, policyHash, account,
    // nonce, context, forced, flow[0], ..., flow[nAssets - 1]]

    /// @notice The commitment of the position before the rebalance (nonce `nonce`).
    uint256 internal constant REBALANCE_OLD_COMMITMENT = 0;
    /// @notice The commitment of the position after it (nonce `nonce + 1`).
    uint256 internal constant REBALANCE_NEW_COMMITMENT = 1;
    /// @notice The market root the new position's checks ran under.
    uint256 internal constant REBALANCE_MARKET_ROOT = 2;
    /// @notice The hash of the policy whose checks the new position passed.
    uint256 internal constant REBALANCE_POLICY_HASH = 3;
    /// @notice The position's owner.
    uint256 internal constant REBALANCE_ACCOUNT = 4;
    /// @notice The old position's nonce.
    uint256 internal constant REBALANCE_NONCE = 5;
    /// @notice The chain and contract the proof is for (ProofContext).
    uint256 internal constant REBALANCE_CONTEXT = 6;
    /// @notice 1 for a keeper's rebalance (the old position was below the trigger), else 0.
    uint256 internal constant REBALANCE_FORCED = 7;
    /// @notice Index of flow[0]; flow[i] is at REBALANCE_FLOW + i.
    uint256 internal constant REBALANCE_FLOW = 8;
}
