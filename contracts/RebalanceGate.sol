// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {IMarketOracle} from "./interfaces/IMarketOracle.sol";
import {IRebalanceGate} from "./interfaces/IRebalanceGate.sol";
import {Groth16, Groth16Proof} from "./libraries/Groth16.sol";
import {ProofContext} from "./libraries/ProofContext.sol";
import {PublicSignals as S} from "./libraries/PublicSignals.sol";

/// @title RebalanceGate
/// @notice Accepts a position, and every rebalance of it, only with a valid proof bound to this
/// chain and gate, the account, its current nonce, a fresh published market epoch and the policy
/// hash the gate holds (risk-model.md, "Binding"). It stores one commitment and nonce per account
/// and moves the public token flows of each rebalance; nothing about balances is revealed.
/// @dev The verifiers are snarkjs contracts of one circuit instance each (contracts/generated/):
/// a Solvency instance for registrations and a Rebalance instance with `nAssets` asset slots.
/// The owner (governance) sets the policy hash and the verifiers.
contract RebalanceGate is IRebalanceGate, Ownable, ReentrancyGuard {
    using SafeERC20 for IERC20;

    /// @dev A position as the gate knows it. `registered` shares the nonce's slot, so that slot is
    /// non-zero from registration on and every rebalance rewrites it at the non-zero price.
    struct Position {
        uint256 commitment;
        uint64 nonce;
        bool registered;
    }

    /// @notice Public signals of a Rebalance proof: 8 fixed ones, then one flow per asset slot.
    uint256 private constant REBALANCE_FIXED_SIGNALS = S.REBALANCE_FLOW;

    /// @inheritdoc IRebalanceGate
    IMarketOracle public immutable oracle;
    /// @inheritdoc IRebalanceGate
    uint256 public immutable nAssets;
    /// @notice Number of public signals of a Rebalance proof: 8 + nAssets.
    uint256 public immutable rebalanceSignalCount;

    bytes4 private immutable _solvencySelector;
    bytes4 private immutable _rebalanceSelector;

    /// @inheritdoc IRebalanceGate
    uint256 public policyHash;
    /// @inheritdoc IRebalanceGate
    address public solvencyVerifier;
    /// @inheritdoc IRebalanceGate
    address public rebalanceVerifier;

    address[] private _tokens;
    mapping(address account => Position) private _positions;

    /// @param oracle_ The market oracle.
    /// @param tokens The ERC-20 token of each asset slot of the Rebalance instance, in the market's
    /// asset order; the zero address for slots that never move tokens. Its length is nAssets.
    /// @param policyHash_ The policy hash proofs must carry.
    /// @param solvencyVerifier_ The generated verifier of the Solvency instance (registrations).
    /// @param rebalanceVerifier_ The generated verifier of the Rebalance instance.
    /// @param owner_ Governance.
    constructor(
        IMarketOracle oracle_,
        address[] memory tokens,
        uint256 policyHash_,
        address solvencyVerifier_,
        address rebalanceVerifier_,
        address owner_
    ) Ownable(owner_) {
        if (address(oracle_) == address(0)) revert RebalanceGate__ZeroAddress();
        if (tokens.length == 0) revert RebalanceGate__NoAssets();
        oracle = oracle_;
        nAssets = tokens.length;
        rebalanceSignalCount = REBALANCE_FIXED_SIGNALS + tokens.length;
        _solvencySelector = Groth16.verifyProofSelector(S.SOLVENCY_COUNT);
        _rebalanceSelector = Groth16.verifyProofSelector(REBALANCE_FIXED_SIGNALS + tokens.length);
        _tokens = tokens;
        _setPolicyHash(policyHash_);
        _setVerifiers(solvencyVerifier_, rebalanceVerifier_);
    }

    /// @inheritdoc IRebalanceGate
    function register(uint64 epoch, Groth16Proof calldata proof, uint256[] calldata signals) external {
        _checkSignals(signals, S.SOLVENCY_COUNT);
        address account = _account(signals[S.SOLVENCY_ACCOUNT]);
        if (msg.sender != account) revert RebalanceGate__NotAccount(msg.sender, account);
        if (_positions[account].registered) revert RebalanceGate__AlreadyRegistered(account);
        if (signals[S.SOLVENCY_NONCE] != 0) revert RebalanceGate__WrongNonce(0, signals[S.SOLVENCY_NONCE]);
        uint256 commitment = signals[S.SOLVENCY_COMMITMENT];
        if (commitment == 0) revert RebalanceGate__WrongCommitment();
        _checkBinding(epoch, signals[S.SOLVENCY_CONTEXT], signals[S.SOLVENCY_MARKET_ROOT], signals[S.SOLVENCY_POLICY_HASH]);
        if (!Groth16.verify(solvencyVerifier, _solvencySelector, proof, signals)) revert RebalanceGate__InvalidProof();

        _positions[account] = Position({commitment: commitment, nonce: 0, registered: true});
        emit PositionRegistered(account, commitment, epoch);
    }

    /// @inheritdoc IRebalanceGate
    function rebalance(uint64 epoch, Groth16Proof calldata proof, uint256[] calldata signals) external nonReentrant {
        _checkSignals(signals, rebalanceSignalCount);
        address account = _account(signals[S.REBALANCE_ACCOUNT]);
        Position storage position = _positions[account];
        if (!position.registered) revert RebalanceGate__NotRegistered(account);
        uint256 oldCommitment = position.commitment;
        if (signals[S.REBALANCE_OLD_COMMITMENT] != oldCommitment) revert RebalanceGate__WrongCommitment();
        uint64 nonce = position.nonce;
        if (signals[S.REBALANCE_NONCE] != nonce) revert RebalanceGate__WrongNonce(nonce, signals[S.REBALANCE_NONCE]);
        // forced = 1: a keeper's rebalance, the proof shows the old position was below the trigger.
        bool forced = signals[S.REBALANCE_FORCED] == 1;
        if (!forced && msg.sender != account) revert RebalanceGate__NotOwnerOrKeeperForced();
        uint256 newCommitment = signals[S.REBALANCE_NEW_COMMITMENT];
        if (newCommitment == 0) revert RebalanceGate__WrongCommitment();
        _checkBinding(epoch, signals[S.REBALANCE_CONTEXT], signals[S.REBALANCE_MARKET_ROOT], signals[S.REBALANCE_POLICY_HASH]);
        if (!Groth16.verify(rebalanceVerifier, _rebalanceSelector, proof, signals)) revert RebalanceGate__InvalidProof();

        // Effects before interactions (and nonReentrant): a token's callback sees the new state.
        // The circuit keeps nonces below 2^64, so nonce + 1 fits.
        position.commitment = newCommitment;
        position.nonce = nonce + 1;
        emit Rebalanced(account, oldCommitment, newCommitment, nonce + 1, epoch, forced);

        uint256 assets = nAssets;
        for (uint256 i = 0; i < assets; ++i) {
            uint256 flow = signals[REBALANCE_FIXED_SIGNALS + i];
            if (flow == 0) continue;
            address token = _tokens[i];
            if (token == address(0)) revert RebalanceGate__NoTokenForAsset(i);
            if (flow <= Groth16.HALF_FIELD) {
                // Deposit or repayment: from the account's wallet (it approved the gate).
                IERC20(token).safeTransferFrom(account, address(this), flow);
            } else {
                // Withdrawal or borrow: field element p - |f| stands for -|f|.
                IERC20(token).safeTransfer(account, Groth16.SNARK_SCALAR_FIELD - flow);
            }
        }
    }

    /// @inheritdoc IRebalanceGate
    function setPolicyHash(uint256 policyHash_) external onlyOwner {
        _setPolicyHash(policyHash_);
    }

    /// @inheritdoc IRebalanceGate
    function setVerifiers(address solvencyVerifier_, address rebalanceVerifier_) external onlyOwner {
        _setVerifiers(solvencyVerifier_, rebalanceVerifier_);
    }

    /// @inheritdoc IRebalanceGate
    function commitmentOf(address account) external view returns (uint256) {
        return _positions[account].commitment;
    }

    /// @inheritdoc IRebalanceGate
    function nonceOf(address account) external view returns (uint64) {
        return _positions[account].nonce;
    }

    /// @inheritdoc IRebalanceGate
    function isRegistered(address account) external view returns (bool) {
        return _positions[account].registered;
    }

    /// @inheritdoc IRebalanceGate
    function positionOf(address account) external view returns (uint256 commitment, uint64 nonce, bool registered) {
        Position storage position = _positions[account];
        return (position.commitment, position.nonce, position.registered);
    }

    /// @inheritdoc IRebalanceGate
    function tokenOf(uint256 index) external view returns (address) {
        return _tokens[index];
    }

    /// @inheritdoc IRebalanceGate
    function context() external view returns (uint256) {
        return ProofContext.contextOf(address(this));
    }

    /// @dev The right number of signals, each a field element (checked before anything reads them,
    /// and before the verifier, which would otherwise reduce them modulo p).
    function _checkSignals(uint256[] calldata signals, uint256 expected) private pure {
        if (signals.length != expected) revert RebalanceGate__WrongSignalCount(expected, signals.length);
        uint256 bad = Groth16.firstNotInField(signals);
        if (bad != Groth16.ALL_IN_FIELD) revert RebalanceGate__PublicInputNotInField(bad);
    }

    /// @dev The account signal as an address (the circuits range-check it to 160 bits).
    function _account(uint256 signal) private pure returns (address) {
        if (signal > type(uint160).max) revert RebalanceGate__InvalidAccount(signal);
        return address(uint160(signal));
    }

    /// @dev Context (chain and gate), a published and fresh epoch whose root the proof used, and
    /// the gate's policy.
    function _checkBinding(uint64 epoch, uint256 proofContext, uint256 marketRoot, uint256 proofPolicyHash) private view {
        if (proofContext != ProofContext.contextOf(address(this))) revert RebalanceGate__WrongContext();
        (uint256 root, , bool fresh) = oracle.marketOf(epoch);
        if (root == 0) revert RebalanceGate__UnknownEpoch(epoch);
        if (!fresh) revert RebalanceGate__StaleEpoch(epoch);
        if (marketRoot != root) revert RebalanceGate__WrongMarketRoot(epoch);
        if (proofPolicyHash != policyHash) revert RebalanceGate__WrongPolicy();
    }

    function _setPolicyHash(uint256 policyHash_) private {
        policyHash = policyHash_;
        emit PolicyHashSet(policyHash_);
    }

    function _setVerifiers(address solvencyVerifier_, address rebalanceVerifier_) private {
        if (solvencyVerifier_ == address(0) || rebalanceVerifier_ == address(0)) revert RebalanceGate__ZeroAddress();
        solvencyVerifier = solvencyVerifier_;
        rebalanceVerifier = rebalanceVerifier_;
        emit VerifiersSet(solvencyVerifier_, rebalanceVerifier_);
    }
}
