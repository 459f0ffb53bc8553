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
    // swapMinOut[nSwaps], instrumentFlow[nInstruments], liquidation, urgent, liquidator,
    // liquidationBonus, bonus[nAssets], keeperKey[2], ephemeralKey[2], ciphertext[C]] with
    // C = 3 * ceil(L / 3) + 1 and L = 1 + nAssets + ceil(nInstruments / 2) (the new opening's packed
    // words after the first: salt, one word per asset, one per pair of instruments; docs/enforcement.md).
    // Fixed positions first, then the offsets of the arrays, which depend on the instance's sizes
    // ({rebalanceLayout}).

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
        uint256 liquidation; // then urgent, liquidator, liquidationBonus at +1..+3
        uint256 bonus;
        uint256 keeperKey; // x, y
        uint256 ephemeralKey; // x, y
        uint256 ciphertext;
        uint256 ciphertextLength;
        uint256 count;
    }

    /// @notice Offsets of `account+1`: the old position's nonce; `+2`: context; `+3`: forced; `+4`: fromEmpty.
    uint256 internal constant NONCE_AFTER_ACCOUNT = 1;
    uint256 internal constant CONTEXT_AFTER_ACCOUNT = 2;
    uint256 internal constant FORCED_AFTER_ACCOUNT = 3;
    uint256 internal constant FROM_EMPTY_AFTER_ACCOUNT = 4;

    /// @notice Offsets of `liquidation+1`: urgent; `+2`: liquidator; `+3`: liquidationBonus (basis points).
    uint256 internal constant URGENT_AFTER_LIQUIDATION = 1;
    uint256 internal constant LIQUIDATOR_AFTER_LIQUIDATION = 2;
    uint256 internal constant LIQUIDATION_BONUS_AFTER_LIQUIDATION = 3;
    /// @notice Words of a Baby Jubjub point (x, y): the keeper key and the ephemeral key.
    uint256 internal constant POINT_WORDS = 2;
    /// @notice Poseidon encryption works on blocks of 3 field elements, plus one authentication tag.
    uint256 internal constant CIPHER_BLOCK = 3;
    /// @notice Field elements packing two instrument quantities (the commitment's layout).
    uint256 internal constant INSTRUMENTS_PER_WORD = 2;

    /// @notice Field elements of the ciphertext of a position with these slot counts: the opening's
    /// L = 1 + nAssets + ceil(nInstruments / 2) words, padded to whole blocks of 3, plus the tag.
    function ciphertextLength(uint256 nAssets, uint256 nInstruments) internal pure returns (uint256) {
        uint256 words = 1 + nAssets + (nInstruments + INSTRUMENTS_PER_WORD - 1) / INSTRUMENTS_PER_WORD;
        return CIPHER_BLOCK * ((words + CIPHER_BLOCK - 1) / CIPHER_BLOCK) + 1;
    }

    /// @notice The layout of `Rebalance(nAssets, nInstruments, _, _, nSwaps)`; its count is
    /// 4 + nAssets + 5 + 3 * nAssets + 4 * nSwaps + nInstruments + 4 + nAssets + 2 + 2 + C.
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
        l.liquidation = l.instrumentFlow + nInstruments;
        l.bonus = l.liquidation + 4;
        l.keeperKey = l.bonus + nAssets;
        l.ephemeralKey = l.keeperKey + POINT_WORDS;
        l.ciphertext = l.ephemeralKey + POINT_WORDS;
        l.ciphertextLength = ciphertextLength(nAssets, nInstruments);
        l.count = l.ciphertext + l.ciphertextLength;
    }
}
