// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title ProofContext
/// @notice The `context` public signal binds a proof to one chain and one verifying contract
/// (risk-model.md, "Binding"): `uint256(keccak256(abi.encode(chainid, contract))) >> 8`. The
/// shift keeps it below 2^248, so it is always a field element. `gateContext` in
/// src/chain/context.ts computes the same value for the prover.
library ProofContext {
    /// @notice Bits dropped from the hash so the context fits the BN254 scalar field.
    uint256 internal constant CONTEXT_SHIFT = 8;

    /// @notice The context of proofs meant for `verifyingContract` on the current chain. Computed
    /// at every call from `block.chainid`, so it follows the chain the transaction runs on.
    /// @param verifyingContract The contract that will verify the proofs.
    /// @return The context signal (below the BN254 scalar field).
    function contextOf(address verifyingContract) internal view returns (uint256) {
        return uint256(keccak256(abi.encode(block.chainid, verifyingContract))) >> CONTEXT_SHIFT;
    }
}
