// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title BabyJubjub
/// @notice Validation of a Baby Jubjub public key (the keeper key every opening is encrypted to,
/// docs/enforcement.md): on the curve, in the prime-order subgroup, not the identity. The curve is
/// circomlib's (EIP-2494): the twisted Edwards curve a*x^2 + y^2 = 1 + d*x^2*y^2 over the BN254
/// scalar field, a = 168700, d = 168696, with a subgroup of prime order `SUB_ORDER` and cofactor 8.
/// @dev Why the subgroup matters: the circuit derives the shared key as `ephemeralSecret * keeperKey`
/// without checking the key. A key with a small-order component (cofactor 8) would put part of
/// that point in a set of at most 8 values anyone can enumerate, and a key of small order would
/// make every ciphertext readable by anyone. Governance validates keys off-chain too
/// (src/encryption/keeper-key.ts); the gate refuses them anyway, since a rotation is rare: the check
/// (251 projective doublings and additions) costs about 360,000 gas of the 457,368 a whole
/// `setKeeperKey` measures (test/liquidation-gate.test.ts prints it and bounds it).
library BabyJubjub {
    /// @notice The field the curve is over (the BN254 scalar field).
    uint256 internal constant Q = 21888242871839275222246405745257275088548364400416034343698204186575808495617;
    /// @notice The curve's a and d.
    uint256 internal constant A = 168700;
    uint256 internal constant D = 168696;
    /// @notice The order of the prime subgroup (Base8 generates it).
    uint256 internal constant SUB_ORDER = 2736030358979909402780800718157159386076813972158567259200215660948447373041;
    /// @notice SUB_ORDER < 2^SUB_ORDER_BITS.
    uint256 private constant SUB_ORDER_BITS = 251;

    /// @notice Whether (x, y) is a point of the prime subgroup other than the identity (0, 1),
    /// both coordinates reduced (below Q).
    /// @param x The point's x coordinate.
    /// @param y The point's y coordinate.
    /// @return True when (x, y) is a valid public key.
    function isValidPublicKey(uint256 x, uint256 y) internal pure returns (bool) {
        if (x >= Q || y >= Q || (x == 0 && y == 1)) return false;
        return isOnCurve(x, y) && inPrimeSubgroup(x, y);
    }

    /// @notice Whether a*x^2 + y^2 == 1 + d*x^2*y^2 (mod Q), for x, y < Q.
    /// @param x The point's x coordinate (below Q).
    /// @param y The point's y coordinate (below Q).
    /// @return True when (x, y) is on the curve.
    function isOnCurve(uint256 x, uint256 y) internal pure returns (bool) {
        uint256 xx = mulmod(x, x, Q);
        uint256 yy = mulmod(y, y, Q);
        return addmod(mulmod(A, xx, Q), yy, Q) == addmod(1, mulmod(mulmod(D, xx, Q), yy, Q), Q);
    }

    /// @notice Whether SUB_ORDER * (x, y) is the identity, for a point on the curve: double-and-add
    /// from the top bit in projective coordinates (no inversions).
    /// @param x The point's x coordinate (a point on the curve).
    /// @param y The point's y coordinate.
    /// @return True when (x, y) is in the prime-order subgroup.
    function inPrimeSubgroup(uint256 x, uint256 y) internal pure returns (bool) {
        (uint256 px, uint256 py, uint256 pz) = (0, 1, 1);
        for (uint256 i = SUB_ORDER_BITS; i > 0; --i) {
            (px, py, pz) = _double(px, py, pz);
            if ((SUB_ORDER >> (i - 1)) & 1 == 1) (px, py, pz) = _addAffine(px, py, pz, x, y);
        }
        // The identity (0, 1) in projective coordinates: X = 0 and Y = Z (Z != 0: the formulas are
        // exception-free on this curve, since a is a square and d is not).
        return px == 0 && py == pz;
    }

    /// @dev Projective twisted Edwards doubling (Bernstein, Birkner, Joye, Lange, Peters 2008,
    /// "dbl-2008-bbjlp"): B = (X1 + Y1)^2, C = X1^2, D' = Y1^2, E = a C, F = E + D', J = F - 2 Z1^2,
    /// X3 = (B - C - D') J, Y3 = F (E - D'), Z3 = F J.
    function _double(uint256 x1, uint256 y1, uint256 z1) private pure returns (uint256 x3, uint256 y3, uint256 z3) {
        // Assembly: 251 rounds of field arithmetic, where Yul skips the checked `Q - v` subtractions and keeps the temporaries within the 16 stack slots.
        // solhint-disable-next-line no-inline-assembly
        assembly ("memory-safe") {
            let s := addmod(x1, y1, Q)
            let c := mulmod(x1, x1, Q)
            let d := mulmod(y1, y1, Q)
            let e := mulmod(A, c, Q)
            let f := addmod(e, d, Q)
            let j := addmod(f, sub(Q, mulmod(2, mulmod(z1, z1, Q), Q)), Q)
            x3 := mulmod(addmod(mulmod(s, s, Q), sub(Q, addmod(c, d, Q)), Q), j, Q)
            y3 := mulmod(f, addmod(e, sub(Q, d), Q), Q)
            z3 := mulmod(f, j, Q)
        }
    }

    /// @dev Projective plus affine (Z2 = 1) twisted Edwards addition ("madd-2008-bbjlp"):
    /// B = Z1^2, C = X1 X2, D' = Y1 Y2, E = d C D', F = B - E, G = B + E,
    /// X3 = Z1 F ((X1 + Y1)(X2 + Y2) - C - D'), Y3 = Z1 G (D' - a C), Z3 = F G.
    function _addAffine(uint256 x1, uint256 y1, uint256 z1, uint256 x2, uint256 y2) private pure returns (uint256 x3, uint256 y3, uint256 z3) {
        // Assembly: 251 rounds of field arithmetic, where Yul skips the checked `Q - v` subtractions and keeps the temporaries within the 16 stack slots.
        // solhint-disable-next-line no-inline-assembly
        assembly ("memory-safe") {
            // The parameters are reused as temporaries (the stack holds 16 slots).
            let c := mulmod(x1, x2, Q)
            let d := mulmod(y1, y2, Q)
            x1 := addmod(mulmod(addmod(x1, y1, Q), addmod(x2, y2, Q), Q), sub(Q, addmod(c, d, Q)), Q) // (X1 + Y1)(X2 + Y2) - C - D'
            x2 := mulmod(mulmod(D, c, Q), d, Q) // E
            y2 := mulmod(z1, z1, Q) // B
            y1 := addmod(y2, sub(Q, x2), Q) // F = B - E
            y2 := addmod(y2, x2, Q) // G = B + E
            x3 := mulmod(mulmod(z1, y1, Q), x1, Q)
            y3 := mulmod(mulmod(z1, y2, Q), addmod(d, sub(Q, mulmod(A, c, Q)), Q), Q)
            z3 := mulmod(y1, y2, Q)
        }
    }
}
