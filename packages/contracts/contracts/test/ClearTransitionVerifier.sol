// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

// =====================================================================================
//  FOR TESTS ONLY. NEVER DEPLOY WHERE IT MATTERS.
//  This contract stands in for the Rebalance circuit's Groth16 verifier in the gate's
//  property tests: it accepts any "proof" whose openings, staged in clear beforehand by
//  anyone, satisfy the custody equations. It checks no risk and hides nothing.
// =====================================================================================

import {CircuitConstants} from "../libraries/CircuitConstants.sol";
import {PublicSignals as S} from "../libraries/PublicSignals.sol";

/// @title ClearTransitionVerifier (tests only)
/// @notice Answers the gate's `verifyProof(uint256[2],uint256[2][2],uint256[2],uint256[n])`
/// staticcall for any n (through `fallback`), checking the transition in clear instead of a
/// proof. Before each gate call the test harness stages the old and new openings with {stage};
/// the verifier then checks, against the public signals (docs/custody.md, "The circuit proves"):
///   - the commitments: uint256(keccak256(abi.encode(opening))) % SNARK_SCALAR_FIELD, the old one
///     being the empty position (nonce 0, salt 0, every balance 0) when fromEmpty = 1;
///   - account and nonce: both openings are the signal's account, old nonce = the signal's, new = old + 1;
///   - c'_i = c_i + flow_i + sum_s [buy_s = i] minOut_s - sum_s [sell_s = i] in_s + sign_i * debtAssets_i - bonus_i,
///     d'_i = d_i + debtDelta_i, debtAssets_i = 0 when debtDelta_i = 0,
///     q'_k = q_k + instrumentFlow_k, with q_k >= 0 and q'_k >= 0 when instrumentFlow_k != 0;
///   - every new collateral and debt balance >= 0, forced and fromEmpty boolean, swap slots either
///     empty or selling one asset slot for another;
///   - the liquidation rules that need no prices (docs/enforcement.md): liquidation and urgent
///     boolean, urgent only with liquidation, no liquidation with forced or fromEmpty; liquidator,
///     bonus rate and bonuses 0 unless a liquidation, the liquidator < 2^160, the rate <= 10,000 bps,
///     each bonus < 2^96; a liquidation keeps the salt, has no wallet or instrument flow and no borrow.
/// It does not check risk (health, stress, VaR, slippage against the oracle, the trigger, the bonus
/// against the debt value repaid) nor the ciphertext: the circuit's own tests do.
contract ClearTransitionVerifier {
    uint256 internal constant SNARK_SCALAR_FIELD = 21888242871839275222246405745257275088548364400416034343698204186575808495617;
    uint256 internal constant HALF_FIELD = SNARK_SCALAR_FIELD / 2;
    /// @dev The circuit's ranges: a bonus < 2^96 (a balance), a rate <= 10,000 basis points.
    uint256 internal constant BALANCE_LIMIT = 1 << CircuitConstants.AMOUNT_BITS;
    uint256 internal constant BPS = CircuitConstants.BPS_ONE;
    /// @dev selector (4 bytes) + the proof's 8 words.
    uint256 internal constant HEADER_BYTES = 4 + 8 * 32;

    /// @notice A position in clear, as the circuit's commitment opens it.
    struct Opening {
        address account;
        uint64 nonce;
        uint256 salt;
        int256[] collateral;
        int256[] debt;
        int256[] quantity;
    }

    uint256 public immutable nAssets;
    uint256 public immutable nInstruments;
    uint256 public immutable nSwaps;

    Opening private _old;
    Opening private _next;

    constructor(uint256 nAssets_, uint256 nInstruments_, uint256 nSwaps_) {
        nAssets = nAssets_;
        nInstruments = nInstruments_;
        nSwaps = nSwaps_;
    }

    /// @notice Stages the openings the next verification checks.
    function stage(Opening calldata old, Opening calldata next) external {
        _old = old;
        _next = next;
    }

    /// @notice The commitment of an opening: keccak256 of its ABI encoding, reduced into the field.
    function commitmentOf(Opening memory opening) public pure returns (uint256) {
        return uint256(keccak256(abi.encode(opening))) % SNARK_SCALAR_FIELD;
    }

    /// @notice Any `verifyProof(...)` call: returns abi.encode(bool) whether the staged openings
    /// satisfy the transition the signals describe.
    fallback(bytes calldata data) external returns (bytes memory) {
        if (data.length < HEADER_BYTES || (data.length - HEADER_BYTES) % 32 != 0) return abi.encode(false);
        uint256[] memory signals = abi.decode(abi.encodePacked(uint256(0x20), (data.length - HEADER_BYTES) / 32, data[HEADER_BYTES:]), (uint256[]));
        return abi.encode(_check(signals));
    }

    function _check(uint256[] memory x) private view returns (bool) {
        uint256 nA = nAssets;
        S.RebalanceLayout memory l = S.rebalanceLayout(nA, nInstruments, nSwaps);
        if (x.length != l.count) return false;
        Opening memory old = _old;
        Opening memory next = _next;
        if (old.collateral.length != nA || old.debt.length != nA || old.quantity.length != nInstruments) return false;
        if (next.collateral.length != nA || next.debt.length != nA || next.quantity.length != nInstruments) return false;

        uint256 fromEmpty = x[l.account + S.FROM_EMPTY_AFTER_ACCOUNT];
        uint256 forced = x[l.account + S.FORCED_AFTER_ACCOUNT];
        if (fromEmpty > 1 || forced > 1) return false;
        if (uint256(uint160(old.account)) != x[l.account] || next.account != old.account) return false;
        if (uint256(old.nonce) != x[l.account + S.NONCE_AFTER_ACCOUNT] || uint256(next.nonce) != uint256(old.nonce) + 1) return false;
        if (fromEmpty == 1 && !_isEmpty(old)) return false;
        if (!_liquidationRules(x, l)) return false;
        // A keeper's transition (forced or a liquidation) keeps the owner's salt (the circuit's rule;
        // its risk rules, e.g. the trigger, are the circuit's tests' business).
        if ((forced == 1 || x[l.liquidation] == 1) && next.salt != old.salt) return false;
        if (commitmentOf(old) != x[S.REBALANCE_OLD_COMMITMENT] || commitmentOf(next) != x[S.REBALANCE_NEW_COMMITMENT]) return false;

        for (uint256 i = 0; i < nA; ++i) {
            int256 debtDelta = _signed(x[l.debtDelta + i]);
            uint256 debtAssetsRaw = x[l.debtAssets + i];
            if (debtAssetsRaw > HALF_FIELD) return false;
            int256 debtAssets = int256(debtAssetsRaw);
            if (debtDelta == 0 && debtAssets != 0) return false;
            int256 expected = old.collateral[i] + _signed(x[l.flow + i]) + (debtDelta > 0 ? debtAssets : -debtAssets) - int256(x[l.bonus + i]);
            for (uint256 s = 0; s < nSwaps; ++s) {
                if (x[l.swapBuy + s] == i) expected += _signed(x[l.swapMinOut + s]);
                if (x[l.swapSell + s] == i) expected -= _signed(x[l.swapIn + s]);
            }
            if (next.collateral[i] != expected || next.collateral[i] < 0) return false;
            if (next.debt[i] != old.debt[i] + debtDelta || next.debt[i] < 0) return false;
        }
        for (uint256 s = 0; s < nSwaps; ++s) {
            uint256 sell = x[l.swapSell + s];
            uint256 buy = x[l.swapBuy + s];
            uint256 amountIn = x[l.swapIn + s];
            uint256 minOut = x[l.swapMinOut + s];
            if ((sell | buy | amountIn | minOut) == 0) continue;
            if (sell >= nA || buy >= nA || sell == buy || amountIn > HALF_FIELD || minOut > HALF_FIELD) return false;
        }
        for (uint256 k = 0; k < nInstruments; ++k) {
            int256 flow = _signed(x[l.instrumentFlow + k]);
            if (next.quantity[k] != old.quantity[k] + flow) return false;
            if (flow != 0 && (old.quantity[k] < 0 || next.quantity[k] < 0)) return false;
        }
        return true;
    }

    /// @dev The liquidation rules without prices (the contract's header).
    function _liquidationRules(uint256[] memory x, S.RebalanceLayout memory l) private view returns (bool) {
        uint256 liquidation = x[l.liquidation];
        uint256 urgent = x[l.liquidation + S.URGENT_AFTER_LIQUIDATION];
        uint256 liquidator = x[l.liquidation + S.LIQUIDATOR_AFTER_LIQUIDATION];
        uint256 rate = x[l.liquidation + S.LIQUIDATION_BONUS_AFTER_LIQUIDATION];
        if (liquidation > 1 || urgent > liquidation) return false;
        if (liquidation == 1 && (x[l.account + S.FORCED_AFTER_ACCOUNT] != 0 || x[l.account + S.FROM_EMPTY_AFTER_ACCOUNT] != 0)) return false;
        if (liquidator > type(uint160).max || rate > BPS) return false;
        if (liquidation == 0 && (liquidator != 0 || rate != 0)) return false;
        for (uint256 i = 0; i < nAssets; ++i) {
            uint256 bonus = x[l.bonus + i];
            if (bonus >= BALANCE_LIMIT || (liquidation == 0 && bonus != 0)) return false;
            if (liquidation == 1 && (x[l.flow + i] != 0 || (x[l.debtDelta + i] != 0 && x[l.debtDelta + i] <= HALF_FIELD))) return false;
        }
        for (uint256 k = 0; k < nInstruments; ++k) if (liquidation == 1 && x[l.instrumentFlow + k] != 0) return false;
        return true;
    }

    function _isEmpty(Opening memory o) private pure returns (bool) {
        if (o.nonce != 0 || o.salt != 0) return false;
        for (uint256 i = 0; i < o.collateral.length; ++i) if (o.collateral[i] != 0 || o.debt[i] != 0) return false;
        for (uint256 k = 0; k < o.quantity.length; ++k) if (o.quantity[k] != 0) return false;
        return true;
    }

    /// @dev A field element as a signed integer: above HALF_FIELD stands for x - p.
    function _signed(uint256 x) private pure returns (int256) {
        return x > HALF_FIELD ? -int256(SNARK_SCALAR_FIELD - x) : int256(x);
    }
}
