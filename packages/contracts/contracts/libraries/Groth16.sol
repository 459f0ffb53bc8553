// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Strings} from "@openzeppelin/contracts/utils/Strings.sol";

/// @notice A Groth16 proof in the layout the EVM pairing precompile expects: G1 points as (x, y),
/// the G2 point `b` with each coordinate as (imaginary, real). `toSolidityProof` in
/// src/verifier/calldata.ts and `gateProof` in src/chain/calldata.ts produce it from snarkjs' proof.
struct Groth16Proof {
    uint256[2] a;
    uint256[2][2] b;
    uint256[2] c;
}

/// @title Groth16
/// @notice Calls a snarkjs-generated verifier (contracts/generated/*Verifier.sol). Their
/// `verifyProof` takes a fixed-size `uint256[N]` of public signals, N fixed per circuit instance,
/// so the call is assembled by hand: one contract can then hold a verifier of any instance size.
library Groth16 {
    /// @notice The BN254 scalar field modulus. Every public signal of a circuit is an element of
    /// this field; a uint256 at or above it would be reduced modulo it by the verifier's
    /// arithmetic, so two different uint256 values could verify as the same signal.
    uint256 internal constant SNARK_SCALAR_FIELD = 21888242871839275222246405745257275088548364400416034343698204186575808495617;

    /// @notice Half the field modulus, rounded down. Signed circuit values (token flows) are
    /// field-encoded: an element above it stands for the negative number `x - SNARK_SCALAR_FIELD`,
    /// as `fromField` in src/core/field.ts.
    uint256 internal constant HALF_FIELD = SNARK_SCALAR_FIELD / 2;

    /// @notice Size of a {Groth16Proof} in calldata: 8 words (a: 2, b: 4, c: 2), inline (a static struct).
    uint256 internal constant PROOF_BYTES = 256;

    /// @notice What {firstNotInField} returns when every signal is a field element.
    uint256 internal constant ALL_IN_FIELD = type(uint256).max;

    /// @notice Index of the first signal that is not a field element (>= SNARK_SCALAR_FIELD), or
    /// {ALL_IN_FIELD}.
    /// @param signals The public signals to check.
    /// @return The index of the first signal >= SNARK_SCALAR_FIELD, or {ALL_IN_FIELD}.
    function firstNotInField(uint256[] calldata signals) internal pure returns (uint256) {
        for (uint256 i = 0; i < signals.length; ++i) {
            if (signals[i] >= SNARK_SCALAR_FIELD) return i;
        }
        return ALL_IN_FIELD;
    }

    /// @notice The selector of the generated verifiers'
    /// `verifyProof(uint256[2],uint256[2][2],uint256[2],uint256[n])`; it depends on n.
    /// @param n The number of public signals.
    /// @return The 4-byte selector.
    function verifyProofSelector(uint256 n) internal pure returns (bytes4) {
        return bytes4(keccak256(abi.encodePacked("verifyProof(uint256[2],uint256[2][2],uint256[2],uint256[", Strings.toString(n), "])")));
    }

    /// @notice Runs `verifier` on `proof` and `signals` with a static call.
    /// @dev The calldata is `selector ++ a ++ b ++ c ++ signals`: the ABI encoding of
    /// `verifyProof(uint256[2], uint256[2][2], uint256[2], uint256[n])`, all static, so 8 proof
    /// words then the n signals without a length. Both parts are copied straight from this call's
    /// calldata into free memory. A verifier without code, one that reverts, or one that returns
    /// anything but the single word 1 (true) counts as a rejection.
    /// @param verifier The generated verifier contract.
    /// @param selector {verifyProofSelector} of `signals.length`, computed once by the caller.
    /// @param proof The Groth16 proof.
    /// @param signals The public signals, in snarkjs order.
    /// @return valid Whether the verifier accepted the proof.
    function verify(address verifier, bytes4 selector, Groth16Proof calldata proof, uint256[] calldata signals) internal view returns (bool valid) {
        // Assembly: copies proof and signals from calldata straight into the verifier's static uint256[n] layout, which abi.encode cannot build for a run-time n.
        // solhint-disable-next-line no-inline-assembly
        assembly ("memory-safe") {
            let data := mload(0x40)
            let signalBytes := shl(5, signals.length)
            mstore(data, selector)
            calldatacopy(add(data, 4), proof, PROOF_BYTES)
            calldatacopy(add(data, add(4, PROOF_BYTES)), signals.offset, signalBytes)
            let ok := staticcall(gas(), verifier, data, add(add(4, PROOF_BYTES), signalBytes), 0, 0x20)
            valid := and(ok, and(eq(returndatasize(), 0x20), eq(mload(0), 1)))
        }
    }
}
