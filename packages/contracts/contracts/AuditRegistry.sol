// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {IAuditRegistry} from "./interfaces/IAuditRegistry.sol";
import {IMarketOracle} from "./interfaces/IMarketOracle.sol";
import {IRebalanceGate} from "./interfaces/IRebalanceGate.sol";
import {Groth16, Groth16Proof} from "./libraries/Groth16.sol";
import {ProofContext} from "./libraries/ProofContext.sol";
import {PublicSignals as S} from "./libraries/PublicSignals.sol";

/// @title AuditRegistry
/// @notice Records audit claims (risk-model.md, section 5) from Solvency proofs about the
/// positions the gate holds, so that anyone can ask "was this account solvent at epoch E?".
/// @dev A claim is about the position on chain when it is recorded (the gate's commitment and
/// nonce, unchanged) under epoch E's market, and E must still be fresh, as every proof the
/// contracts accept (risk-model.md, "Binding"). A stale epoch is refused although its root is
/// known: a claim made later would test today's position under an old market, which says
/// nothing about the account at E. The registry holds its own policy hash (an auditor may ask for
/// a stricter policy than the gate's) and its own context, so gate proofs cannot be replayed here.
contract AuditRegistry is IAuditRegistry, Ownable {
    /// @inheritdoc IAuditRegistry
    IMarketOracle public immutable oracle;
    /// @inheritdoc IAuditRegistry
    IRebalanceGate public immutable gate;

    bytes4 private immutable _solvencySelector;

    /// @inheritdoc IAuditRegistry
    uint256 public policyHash;
    /// @inheritdoc IAuditRegistry
    address public solvencyVerifier;

    mapping(address account => mapping(uint64 epoch => uint256 commitment)) private _claims;

    /// @notice Deploys a registry of audit claims about `gate_`'s positions under `oracle_`'s markets.
    /// @param oracle_ The market oracle.
    /// @param gate_ The gate whose positions claims are about.
    /// @param solvencyVerifier_ The generated verifier of the Solvency instance the gate's
    /// positions are committed for (same asset and instrument slots).
    /// @param policyHash_ The policy hash claims must carry.
    /// @param owner_ Governance.
    constructor(IMarketOracle oracle_, IRebalanceGate gate_, address solvencyVerifier_, uint256 policyHash_, address owner_) Ownable(owner_) {
        if (address(oracle_) == address(0) || address(gate_) == address(0)) revert AuditRegistry__ZeroAddress();
        oracle = oracle_;
        gate = gate_;
        _solvencySelector = Groth16.verifyProofSelector(S.SOLVENCY_COUNT);
        _setVerifier(solvencyVerifier_);
        _setPolicyHash(policyHash_);
    }

    /// @inheritdoc IAuditRegistry
    function recordClaim(uint64 epoch, Groth16Proof calldata proof, uint256[] calldata signals) external {
        if (signals.length != S.SOLVENCY_COUNT) revert AuditRegistry__WrongSignalCount(S.SOLVENCY_COUNT, signals.length);
        uint256 bad = Groth16.firstNotInField(signals);
        if (bad != Groth16.ALL_IN_FIELD) revert AuditRegistry__PublicInputNotInField(bad);
        uint256 accountSignal = signals[S.SOLVENCY_ACCOUNT];
        if (accountSignal > type(uint160).max) revert AuditRegistry__InvalidAccount(accountSignal);
        address account = address(uint160(accountSignal));
        if (_claims[account][epoch] != 0) revert AuditRegistry__AlreadyRecorded(account, epoch);

        // The position the gate holds now, unchanged.
        // The commitment binds the nonce (the Solvency proof opens it at the public nonce).
        (uint256 commitment, bool registered) = gate.positionOf(account);
        if (!registered) revert AuditRegistry__NotRegistered(account);
        if (signals[S.SOLVENCY_COMMITMENT] != commitment) revert AuditRegistry__WrongCommitment();

        if (signals[S.SOLVENCY_CONTEXT] != ProofContext.contextOf(address(this))) revert AuditRegistry__WrongContext();
        (uint256 root, , bool fresh) = oracle.marketOf(epoch);
        if (root == 0) revert AuditRegistry__UnknownEpoch(epoch);
        if (!fresh) revert AuditRegistry__StaleEpoch(epoch);
        if (signals[S.SOLVENCY_MARKET_ROOT] != root) revert AuditRegistry__WrongMarketRoot(epoch);
        if (signals[S.SOLVENCY_POLICY_HASH] != policyHash) revert AuditRegistry__WrongPolicy();
        if (!Groth16.verify(solvencyVerifier, _solvencySelector, proof, signals)) revert AuditRegistry__InvalidProof();

        _claims[account][epoch] = commitment;
        emit AuditClaimRecorded(account, epoch, commitment);
    }

    /// @inheritdoc IAuditRegistry
    function isSolvent(address account, uint64 epoch) external view returns (bool) {
        return _claims[account][epoch] != 0;
    }

    /// @inheritdoc IAuditRegistry
    function claimOf(address account, uint64 epoch) external view returns (uint256) {
        return _claims[account][epoch];
    }

    /// @inheritdoc IAuditRegistry
    function setPolicyHash(uint256 policyHash_) external onlyOwner {
        _setPolicyHash(policyHash_);
    }

    /// @inheritdoc IAuditRegistry
    function setVerifier(address solvencyVerifier_) external onlyOwner {
        _setVerifier(solvencyVerifier_);
    }

    /// @inheritdoc IAuditRegistry
    function context() external view returns (uint256) {
        return ProofContext.contextOf(address(this));
    }

    function _setPolicyHash(uint256 policyHash_) private {
        policyHash = policyHash_;
        emit PolicyHashSet(policyHash_);
    }

    function _setVerifier(address solvencyVerifier_) private {
        if (solvencyVerifier_ == address(0)) revert AuditRegistry__ZeroAddress();
        solvencyVerifier = solvencyVerifier_;
        emit VerifierSet(solvencyVerifier_);
    }
}
