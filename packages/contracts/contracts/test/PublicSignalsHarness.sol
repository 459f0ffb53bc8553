// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {PublicSignals} from "../libraries/PublicSignals.sol";

/// @title PublicSignalsHarness (tests only)
/// @notice Exposes PublicSignals.rebalanceLayout, an internal library function the gate reads its
/// offsets from, so tests compare it with src/chain/custody.ts and circuits/instances.json for every
/// Rebalance instance.
contract PublicSignalsHarness {
    function rebalanceLayout(uint256 nAssets, uint256 nInstruments, uint256 nSwaps) external pure returns (PublicSignals.RebalanceLayout memory) {
        return PublicSignals.rebalanceLayout(nAssets, nInstruments, nSwaps);
    }
}
