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

    // Rebalance(nAssets, nInstruments, nScenarios, checks, nSwaps) (docs/custody.md, "The Rebalance
    // circuit's public signals"): [oldCommitment, newCommitment, marketRoot, policyHash,
    // debtIndex[nAssets], account, nonce, context, forced, fromEmpty, flow[nAssets],
    // debtDelta[nAssets], debtAssets[nAssets], swapSell[nSwaps], swapBuy[nSwaps], swapIn[nSwaps],
    // swapMinOut[nSwaps], instrumentFlow[nInstruments]]. Fixed positions first, then the offsets of
    // the arrays, which depend on the instance's sizes ({rebalanceLayout}).

    /// @notice The commitment of the position before the transition (the empty position's when fromEmpty = 1).
    uint256 internal constant REBALANCE_OLD_COMMITMENT = 0;
    /// @notice The commitment of the position after it (nonce + 1).
    uint256 internal constant REBALANCE_NEW_COMMITMENT = 1;
    /// @notice The market root the new position's checks ran under.
    uint256 internal constant REBALANCE_MARKET_ROOT = 2;
    /// @notice The hash of the policy whose checks the new position passed.
    uint256 internal constant REBALANCE_POLICY_HASH = 3;
    /// @notice Index of debtIndex[0]; debtIndex[i] is at REBALANCE_DEBT_INDEX + i.
    uint256 internal constant REBALANCE_DEBT_INDEX = 4;
    /// @notice Where each part of a Rebalance instance's signals starts.
    struct RebalanceLayout {
        uint256 account; // then nonce, context, forced, fromEmpty at +1..+4
        uint256 flow;
        uint256 debtDelta;
        uint256 debtAssets;
        uint256 swapSell;
        uint256 swapBuy;
        uint256 swapIn;
        uint256 swapMinOut;
        uint256 instrumentFlow;
        uint256 count;
    }

    /// @notice Offsets of `account+1`: the old position's nonce; `+2`: context; `+3`: forced; `+4`: fromEmpty.
    uint256 internal constant NONCE_AFTER_ACCOUNT = 1;
    uint256 internal constant CONTEXT_AFTER_ACCOUNT = 2;
    uint256 internal constant FORCED_AFTER_ACCOUNT = 3;
    uint256 internal constant FROM_EMPTY_AFTER_ACCOUNT = 4;

    /// @notice The layout of `Rebalance(nAssets, nInstruments, _, _, nSwaps)`; its count is
    /// 4 + nAssets + 5 + 3 * nAssets + 4 * nSwaps + nInstruments.
    function rebalanceLayout(uint256 nAssets, uint256 nInstruments, uint256 nSwaps) internal pure returns (RebalanceLayout memory l) {
        l.account = REBALANCE_DEBT_INDEX + nAssets;
        l.flow = l.account + 5;
        l.debtDelta = l.flow + nAssets;
        l.debtAssets = l.debtDelta + nAssets;
        l.swapSell = l.debtAssets + nAssets;
        l.swapBuy = l.swapSell + nSwaps;
        l.swapIn = l.swapBuy + nSwaps;
        l.swapMinOut = l.swapIn + nSwaps;
        l.instrumentFlow = l.swapMinOut + nSwaps;
        l.count = l.instrumentFlow + nInstruments;
    }
}
