// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Groth16Proof} from "../libraries/Groth16.sol";
import {IMarketOracle} from "./IMarketOracle.sol";
import {ILenderVault} from "./ILenderVault.sol";

/// @title IRebalanceGate
/// @notice Holds one position commitment per account and the tokens that back every committed
/// balance (docs/custody.md). A position enters only through a Rebalance proof from the empty
/// position (`register`) and moves only through Rebalance proofs (`rebalance`); each transition's
/// public movements (wallet flows, swaps on Uniswap v2, borrows and repayments on the lenders,
/// option-token flows) are performed by the gate in the same transaction.
///
/// Custody invariant: for every token, what the gate can ever be made to pay to an account is at
/// most what that account's own transitions brought in, plus what an external protocol actually
/// delivered in the same transaction (a swap's output, a loan). No proof can move another
/// account's backing. For every asset slot i: T_i.balanceOf(gate) >= sum of committed collateral
/// c_i (equal unless someone donates), and L_i.debtUnitsOf(gate) == sum of committed debt units d_i.
interface IRebalanceGate {
    /// @notice `account` registered its first position (nonce 1) from the empty position.
    /// @param account The position's owner.
    /// @param commitment The commitment of the new position.
    /// @param epoch The market epoch the proof was checked under.
    event PositionRegistered(address indexed account, uint256 commitment, uint64 indexed epoch);

    /// @notice `account`'s position moved from `oldCommitment` to `newCommitment`.
    /// @param account The position's owner.
    /// @param oldCommitment The commitment replaced.
    /// @param newCommitment The commitment now held, at nonce `nonce`.
    /// @param nonce The new position's nonce (the old one plus 1).
    /// @param epoch The market epoch the new position's checks ran under.
    /// @param forced Whether a keeper forced the transition (the old position was below the trigger).
    event Rebalanced(address indexed account, uint256 oldCommitment, uint256 newCommitment, uint64 nonce, uint64 indexed epoch, bool forced);

    /// @notice Governance set the policy hash proofs must carry.
    event PolicyHashSet(uint256 policyHash);

    /// @notice Governance set the Rebalance verifier.
    event VerifierSet(address rebalanceVerifier);

    /// @notice The Groth16 verifier rejected the proof.
    error RebalanceGate__InvalidProof();
    /// @notice The proof's context is not this chain and this gate's (ProofContext).
    error RebalanceGate__WrongContext();
    /// @notice The epoch is the latest but no longer fresh.
    error RebalanceGate__StaleEpoch(uint64 epoch);
    /// @notice The epoch is not the oracle's latest one.
    error RebalanceGate__NotLatestEpoch(uint64 epoch, uint64 latest);
    /// @notice The proof's market root is not the one published for the epoch.
    error RebalanceGate__WrongMarketRoot(uint64 epoch);
    /// @notice The proof's policy hash is not the one the gate holds.
    error RebalanceGate__WrongPolicy();
    /// @notice A registration's proof is not at nonce 0 (a rebalance's nonce is bound by its old commitment).
    error RebalanceGate__WrongNonce(uint256 expected, uint256 got);
    /// @notice The proof's old commitment is not the account's current one, or the new one is zero.
    error RebalanceGate__WrongCommitment();
    /// @notice Only the account may submit an unforced transition.
    error RebalanceGate__NotOwnerOrKeeperForced();
    /// @notice Only the account itself may register its position.
    error RebalanceGate__NotAccount(address sender, address account);
    /// @notice `register` takes fromEmpty = 1 proofs only, `rebalance` fromEmpty = 0 ones only.
    error RebalanceGate__WrongFromEmpty(uint256 expected, uint256 got);
    /// @notice Public signal `index` is not a BN254 field element.
    error RebalanceGate__PublicInputNotInField(uint256 index);
    /// @notice The proof has `got` public signals; the verifier's instance takes `expected`.
    error RebalanceGate__WrongSignalCount(uint256 expected, uint256 got);
    /// @notice The account signal is not an address (>= 2^160).
    error RebalanceGate__InvalidAccount(uint256 account);
    /// @notice The account already holds a position.
    error RebalanceGate__AlreadyRegistered(address account);
    /// @notice The account holds no position yet; register it first.
    error RebalanceGate__NotRegistered(address account);
    /// @notice A movement of asset slot `index` is non-zero but the gate has no token for that slot.
    error RebalanceGate__NoTokenForAsset(uint256 index);
    /// @notice An instrument flow of slot `index` is non-zero but the gate has no token for that slot.
    error RebalanceGate__NoTokenForInstrument(uint256 index);
    /// @notice Asset slot `index` has no lender: its debt index must be 1e18 and its debt movements 0.
    error RebalanceGate__NoLenderForAsset(uint256 index);
    /// @notice The proof's debt index of asset `index` is below the lender's current one.
    error RebalanceGate__DebtIndexBehind(uint256 index, uint256 proofIndex, uint256 lenderIndex);
    /// @notice A keeper-forced transition has a wallet flow, a borrow or an instrument flow.
    error RebalanceGate__ForcedTransitionMovesValue();
    /// @notice Swap slot `slot`'s pair would deliver `amountOut`, below its `minOut`.
    error RebalanceGate__InsufficientOutput(uint256 slot, uint256 amountOut, uint256 minOut);
    /// @notice Swap slot `slot` names asset slots that are out of range, equal, or have no pair.
    error RebalanceGate__InvalidSwap(uint256 slot);
    /// @notice The lender delivered `delivered` for a borrow of asset `index`, below `debtAssets`.
    error RebalanceGate__LenderShortfall(uint256 index, uint256 delivered, uint256 debtAssets);
    /// @notice The lender took `taken` for a repayment of asset `index`, above `debtAssets`.
    error RebalanceGate__LenderOvercharge(uint256 index, uint256 taken, uint256 debtAssets);
    /// @notice A lender's loan token is not the token of its asset slot.
    error RebalanceGate__LenderAssetMismatch(uint256 index);
    /// @notice The constructor's per-slot arrays have different lengths.
    error RebalanceGate__LengthMismatch();
    /// @notice The constructor or governance got the zero address where a contract is needed.
    error RebalanceGate__ZeroAddress();
    /// @notice The gate needs at least one asset slot.
    error RebalanceGate__NoAssets();

    /// @notice Registers the caller's first position with a Rebalance proof from the empty position
    /// (`fromEmpty = 1`, nonce 0), and performs its movements (typically deposits).
    /// @dev The account must be the caller and unregistered; the rest as {rebalance}.
    /// @param epoch The market epoch the proof was made under (the oracle's latest, fresh).
    /// @param proof The Groth16 proof.
    /// @param signals The proof's public signals, in snarkjs order (docs/custody.md).
    function register(uint64 epoch, Groth16Proof calldata proof, uint256[] calldata signals) external;

    /// @notice Moves an account's position to a new commitment with a Rebalance proof
    /// (`fromEmpty = 0`) and performs its public movements: deposits pulled from the account
    /// (approve the gate first), borrows, swaps on the Uniswap v2 pairs, repayments, withdrawals and
    /// option-token flows, every token forwarded going to the account, never to the caller.
    /// @dev `oldCommitment` must be the account's current one (it binds the nonce); `forced` 0 only from
    /// the account, 1 (a keeper's transition, which moves no value out) from anyone.
    /// @param epoch The market epoch the proof was made under (the oracle's latest, fresh).
    /// @param proof The Groth16 proof.
    /// @param signals The proof's public signals, in snarkjs order (docs/custody.md).
    function rebalance(uint64 epoch, Groth16Proof calldata proof, uint256[] calldata signals) external;

    /// @notice Sets the policy hash every proof must carry. Only governance.
    function setPolicyHash(uint256 policyHash) external;

    /// @notice Sets the Rebalance verifier contract. Only governance.
    function setVerifier(address rebalanceVerifier) external;

    /// @notice The account's current position commitment (0 if not registered).
    function commitmentOf(address account) external view returns (uint256);

    /// @notice Whether the account holds a position.
    function isRegistered(address account) external view returns (bool);

    /// @notice The account's commitment and whether it is registered, in one call. The gate stores
    /// no nonce: the commitment binds it (events carry it; the owner's position file holds it).
    function positionOf(address account) external view returns (uint256 commitment, bool registered);

    /// @notice The policy hash proofs must carry.
    function policyHash() external view returns (uint256);

    /// @notice The market oracle.
    function oracle() external view returns (IMarketOracle);

    /// @notice The verifier of Rebalance proofs.
    function rebalanceVerifier() external view returns (address);

    /// @notice The Uniswap v2 factory whose pairs execute swaps.
    function factory() external view returns (address);

    /// @notice Number of asset slots of the circuit instance.
    function nAssets() external view returns (uint256);

    /// @notice Number of instrument slots of the circuit instance.
    function nInstruments() external view returns (uint256);

    /// @notice Number of swap slots of the circuit instance.
    function nSwaps() external view returns (uint256);

    /// @notice Number of public signals of a Rebalance proof for this gate.
    function rebalanceSignalCount() external view returns (uint256);

    /// @notice The ERC-20 token of asset slot `index` (the zero address for slots that never move tokens).
    function tokenOf(uint256 index) external view returns (address);

    /// @notice The option token of instrument slot `index` (the zero address for none).
    function instrumentTokenOf(uint256 index) external view returns (address);

    /// @notice The lender of asset slot `index` (the zero address for none).
    function lenderOf(uint256 index) external view returns (ILenderVault);

    /// @notice The `context` signal proofs for this gate on this chain must carry.
    function context() external view returns (uint256);
}
