// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Groth16Proof} from "../libraries/Groth16.sol";
import {IMarketOracle} from "./IMarketOracle.sol";

/// @title IRebalanceGate
/// @notice Holds one position commitment per account and moves it forward only with proofs
/// (risk-model.md, sections 4 and "Binding"): a Solvency proof to register the first commitment, a
/// Rebalance proof for every transition. Every proof must be bound to this chain and contract, the
/// account, its current nonce, a fresh published market epoch and the policy hash the gate holds.
/// Balances are never revealed: the gate stores and emits commitments only; the public token
/// flows of a rebalance are moved as ERC-20 transfers.
interface IRebalanceGate {
    /// @notice `account` registered its first position commitment (nonce 0).
    /// @param account The position's owner.
    /// @param commitment The Poseidon commitment of the position.
    /// @param epoch The market epoch the registration's Solvency proof was checked under.
    event PositionRegistered(address indexed account, uint256 commitment, uint64 indexed epoch);

    /// @notice `account`'s position moved from `oldCommitment` to `newCommitment`.
    /// @param account The position's owner.
    /// @param oldCommitment The commitment replaced.
    /// @param newCommitment The commitment now held, at nonce `nonce`.
    /// @param nonce The new position's nonce (the old one plus 1).
    /// @param epoch The market epoch the new position's checks ran under.
    /// @param forced Whether a keeper forced the rebalance (the old position was below the trigger).
    event Rebalanced(address indexed account, uint256 oldCommitment, uint256 newCommitment, uint64 nonce, uint64 indexed epoch, bool forced);

    /// @notice Governance set the policy hash proofs must carry.
    event PolicyHashSet(uint256 policyHash);

    /// @notice Governance set the verifier contracts.
    event VerifiersSet(address solvencyVerifier, address rebalanceVerifier);

    /// @notice The Groth16 verifier rejected the proof.
    error RebalanceGate__InvalidProof();
    /// @notice The proof's context is not this chain and this gate's (ProofContext).
    error RebalanceGate__WrongContext();
    /// @notice The epoch was published but is no longer fresh.
    error RebalanceGate__StaleEpoch(uint64 epoch);
    /// @notice The oracle published no market for the epoch.
    error RebalanceGate__UnknownEpoch(uint64 epoch);
    /// @notice The proof's market root is not the one published for the epoch.
    error RebalanceGate__WrongMarketRoot(uint64 epoch);
    /// @notice The proof's policy hash is not the one the gate holds.
    error RebalanceGate__WrongPolicy();
    /// @notice The proof's nonce is not the account's current one.
    error RebalanceGate__WrongNonce(uint256 expected, uint256 got);
    /// @notice The proof's (old) commitment is not the account's current one, or the new one is zero.
    error RebalanceGate__WrongCommitment();
    /// @notice Only the account may submit an unforced (owner's) rebalance.
    error RebalanceGate__NotOwnerOrKeeperForced();
    /// @notice Only the account itself may register its position.
    error RebalanceGate__NotAccount(address sender, address account);
    /// @notice Public signal `index` is not a BN254 field element.
    error RebalanceGate__PublicInputNotInField(uint256 index);
    /// @notice The proof has `got` public signals; the verifier's instance takes `expected`.
    error RebalanceGate__WrongSignalCount(uint256 expected, uint256 got);
    /// @notice The account signal is not an address (>= 2^160).
    error RebalanceGate__InvalidAccount(uint256 account);
    /// @notice The account already holds a position; it moves on with rebalances.
    error RebalanceGate__AlreadyRegistered(address account);
    /// @notice The account holds no position yet; register it first.
    error RebalanceGate__NotRegistered(address account);
    /// @notice A flow of asset slot `index` is non-zero but the gate has no token for that slot.
    error RebalanceGate__NoTokenForAsset(uint256 index);
    /// @notice The constructor or governance got the zero address where a contract is needed.
    error RebalanceGate__ZeroAddress();
    /// @notice The gate needs at least one asset slot.
    error RebalanceGate__NoAssets();

    /// @notice Registers the caller's first position commitment with a Solvency proof.
    /// @dev Signals `[commitment, marketRoot, policyHash, account, nonce, context]`: `account` must be
    /// the caller, not yet registered; `nonce` 0; `context` this gate's; `marketRoot` the oracle's
    /// root of `epoch`, which must be fresh; `policyHash` the gate's. The gate records the
    /// commitment only: it takes custody of no tokens here. Token custody starts with the flows of
    /// rebalances; registering a position that already holds collateral or debt is for positions
    /// whose assets are held in the underlying protocol, which must back the gate's withdrawals.
    /// @param epoch The market epoch the proof was made under.
    /// @param proof The Groth16 proof.
    /// @param signals The proof's public signals, in snarkjs order.
    function register(uint64 epoch, Groth16Proof calldata proof, uint256[] calldata signals) external;

    /// @notice Moves an account's position to a new commitment with a Rebalance proof, and its
    /// public token flows.
    /// @dev Signals `[oldCommitment, newCommitment, marketRoot, policyHash, account, nonce, context,
    /// forced, flow[0..nAssets-1]]`. `oldCommitment` and `nonce` must be the account's current ones;
    /// `forced` 0 only from the account, 1 (a keeper: the proof shows the old position was below
    /// the policy's trigger) from anyone; context, epoch and policy as for {register}. Flows are
    /// signed field elements (x > HALF_FIELD stands for x - p): a positive flow is pulled from the
    /// account (it must have approved the gate), a negative one sent to it.
    /// @param epoch The market epoch the proof was made under.
    /// @param proof The Groth16 proof.
    /// @param signals The proof's public signals, in snarkjs order.
    function rebalance(uint64 epoch, Groth16Proof calldata proof, uint256[] calldata signals) external;

    /// @notice Sets the policy hash every proof must carry. Only governance.
    function setPolicyHash(uint256 policyHash) external;

    /// @notice Sets the Solvency (registration) and Rebalance verifier contracts. Only governance.
    function setVerifiers(address solvencyVerifier, address rebalanceVerifier) external;

    /// @notice The account's current position commitment (0 if not registered).
    function commitmentOf(address account) external view returns (uint256);

    /// @notice The nonce the account's current commitment carries (0 if not registered).
    function nonceOf(address account) external view returns (uint64);

    /// @notice Whether the account holds a position.
    function isRegistered(address account) external view returns (bool);

    /// @notice The account's commitment, its nonce and whether it is registered, in one call.
    function positionOf(address account) external view returns (uint256 commitment, uint64 nonce, bool registered);

    /// @notice The policy hash proofs must carry.
    function policyHash() external view returns (uint256);

    /// @notice The market oracle.
    function oracle() external view returns (IMarketOracle);

    /// @notice The verifier of registration (Solvency) proofs.
    function solvencyVerifier() external view returns (address);

    /// @notice The verifier of Rebalance proofs.
    function rebalanceVerifier() external view returns (address);

    /// @notice Number of asset slots of the circuit instance (flows per rebalance).
    function nAssets() external view returns (uint256);

    /// @notice The ERC-20 token of asset slot `index` (the zero address for slots whose flows must be 0).
    function tokenOf(uint256 index) external view returns (address);

    /// @notice The `context` signal proofs for this gate on this chain must carry.
    function context() external view returns (uint256);
}
