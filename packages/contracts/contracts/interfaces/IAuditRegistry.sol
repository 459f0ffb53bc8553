// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Groth16Proof} from "../libraries/Groth16.sol";
import {IMarketOracle} from "./IMarketOracle.sol";
import {IRebalanceGate} from "./IRebalanceGate.sol";

/// @title IAuditRegistry
/// @notice Records audit claims (risk-model.md, section 5): a Solvency proof that the position an
/// account holds on the gate, unchanged, passes the registry's policy under an epoch's market.
/// Anyone can then ask whether an account was solvent at an epoch. Nothing but the account, the
/// epoch and the (already public) commitment is revealed.
interface IAuditRegistry {
    /// @notice A claim was recorded: `account`'s position `commitment` passes the policy at `epoch`.
    /// @param account The account whose position the claim is about.
    /// @param epoch The market epoch the proof was made under.
    /// @param commitment The position commitment the gate held for `account` when the claim was recorded.
    event AuditClaimRecorded(address indexed account, uint64 indexed epoch, uint256 commitment);

    /// @notice Governance set the policy hash claims must carry.
    /// @param policyHash The new policy hash.
    event PolicyHashSet(uint256 policyHash);

    /// @notice Governance set the Solvency verifier.
    /// @param solvencyVerifier The new verifier's address.
    event VerifierSet(address solvencyVerifier);

    /// @notice The Groth16 verifier rejected the proof.
    error AuditRegistry__InvalidProof();
    /// @notice The proof's context is not this chain and this registry's (ProofContext).
    error AuditRegistry__WrongContext();
    /// @notice The epoch was published but is no longer fresh.
    error AuditRegistry__StaleEpoch(uint64 epoch);
    /// @notice The oracle published no market for the epoch.
    error AuditRegistry__UnknownEpoch(uint64 epoch);
    /// @notice The proof's market root is not the one published for the epoch.
    error AuditRegistry__WrongMarketRoot(uint64 epoch);
    /// @notice The proof's policy hash is not the registry's.
    error AuditRegistry__WrongPolicy();
    /// @notice The proof's commitment is not the one the gate holds for the account.
    error AuditRegistry__WrongCommitment();
    /// @notice The account holds no position on the gate.
    error AuditRegistry__NotRegistered(address account);
    /// @notice A claim for this account and epoch is already recorded.
    error AuditRegistry__AlreadyRecorded(address account, uint64 epoch);
    /// @notice Public signal `index` is not a BN254 field element.
    error AuditRegistry__PublicInputNotInField(uint256 index);
    /// @notice The proof has `got` public signals; Solvency instances have `expected`.
    error AuditRegistry__WrongSignalCount(uint256 expected, uint256 got);
    /// @notice The account signal is not an address (>= 2^160).
    error AuditRegistry__InvalidAccount(uint256 account);
    /// @notice The zero address where a contract is needed.
    error AuditRegistry__ZeroAddress();

    /// @notice Records that the account's on-chain position passes the registry's policy at `epoch`.
    /// @dev Signals `[commitment, marketRoot, policyHash, account, nonce, context]`: `commitment` and
    /// `nonce` must be the gate's current ones for `account`; `context` this registry's;
    /// `marketRoot` the oracle's root of `epoch`, which must still be fresh; `policyHash` the
    /// registry's. Anyone may submit (only the owner of the position can make the proof).
    /// @param epoch The market epoch the proof was made under.
    /// @param proof The Groth16 proof.
    /// @param signals The proof's public signals, in snarkjs order.
    function recordClaim(uint64 epoch, Groth16Proof calldata proof, uint256[] calldata signals) external;

    /// @notice Whether a claim that `account` was solvent at `epoch` is recorded.
    /// @param account The account asked about.
    /// @param epoch The market epoch asked about.
    /// @return True when a claim for `account` at `epoch` is recorded.
    function isSolvent(address account, uint64 epoch) external view returns (bool);

    /// @notice The commitment the recorded claim for `account` at `epoch` is about (0 if none).
    /// @param account The account asked about.
    /// @param epoch The market epoch asked about.
    /// @return commitment The claim's position commitment, or 0 when no claim is recorded.
    function claimOf(address account, uint64 epoch) external view returns (uint256 commitment);

    /// @notice Sets the policy hash claims must carry. Only governance.
    /// @param policyHash The new policy hash (a BN254 field element).
    function setPolicyHash(uint256 policyHash) external;

    /// @notice Sets the Solvency verifier. Only governance.
    /// @param solvencyVerifier The new verifier (a contract, not the zero address).
    function setVerifier(address solvencyVerifier) external;

    /// @notice The policy hash claims must carry.
    function policyHash() external view returns (uint256);

    /// @notice The market oracle.
    function oracle() external view returns (IMarketOracle);

    /// @notice The gate whose positions claims are about.
    function gate() external view returns (IRebalanceGate);

    /// @notice The Solvency verifier.
    function solvencyVerifier() external view returns (address);

    /// @notice The `context` signal claims for this registry on this chain must carry.
    function context() external view returns (uint256);
}
