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
/// c_i + sum of what accounts may {claim} of T_i (equal unless someone donates), and
/// L_i.debtUnitsOf(gate) == sum of committed debt units d_i.
///
/// Enforcement (docs/enforcement.md): every committed position's opening is encrypted to the
/// protocol's keeper key (Baby Jubjub ECDH + Poseidon encryption, proven by the circuit) and
/// published in {OpeningEncrypted}, so a keeper can liquidate a position whose owner is gone: at
/// once when it is below health factor 1.0 (`urgent`), otherwise after a proven flag
/// ({flagBelowTrigger}) has stood for the governance-set window without the owner re-proving.
interface IRebalanceGate {
    /// @notice What enforcement starts with at deployment (docs/enforcement.md): one constructor
    /// argument (a tuple), since twelve separate ones are more than the ABI decoder of solc's legacy
    /// code generator keeps within the EVM's reachable stack.
    /// @param keeperKey The keeper key (x, y) openings are encrypted to: generation 1.
    /// @param liquidationBonus The liquidator's bonus, basis points of the debt value repaid (<= MAX_LIQUIDATION_BONUS).
    /// @param liquidationWindow Seconds a flag must stand before a non-urgent liquidation (<= MAX_LIQUIDATION_WINDOW).
    struct Enforcement {
        uint256[2] keeperKey;
        uint256 liquidationBonus;
        uint64 liquidationWindow;
    }

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

    /// @notice The opening of `account`'s new position, encrypted to the keeper key of generation
    /// `keyGeneration`: what a keeper needs to decrypt it (src/encryption/opening-cipher.ts
    /// `decryptOpening`). Emitted by every committed transition (register, rebalance, liquidate).
    /// @param account The position's owner (word 0 of the opening, with the nonce: public, not encrypted).
    /// @param commitment The commitment the decrypted opening must reproduce.
    /// @param nonce The new position's nonce (1 for a registration); the cipher's nonce.
    /// @param keyGeneration The generation of the keeper key the ciphertext is under ({keyGeneration}).
    /// @param ephemeralKey The transition's ephemeral public key (x, y): the keeper's shared key is
    /// keeperSecret * ephemeralKey.
    /// @param ciphertext The Poseidon ciphertext of the opening's words after the first (the last element is the tag).
    event OpeningEncrypted(address indexed account, uint256 indexed commitment, uint64 nonce, uint64 keyGeneration, uint256[2] ephemeralKey, uint256[] ciphertext);

    /// @notice Governance set a new keeper key; transitions from now on encrypt to it.
    /// @param generation The key's generation (1 for the key set at deployment, +1 per rotation).
    /// @param x The key's x coordinate.
    /// @param y The key's y coordinate.
    event KeeperKeyRotated(uint64 generation, uint256 x, uint256 y);

    /// @notice Governance set the liquidation terms.
    /// @param bonus The liquidator's bonus in basis points of the debt value repaid.
    /// @param window Seconds a flag must stand before a non-urgent liquidation.
    event LiquidationTermsSet(uint256 bonus, uint64 window);

    /// @notice A keeper proved `account`'s current position below the trigger at `epoch`.
    /// @param account The position's owner.
    /// @param commitment The flagged commitment (the account's current one).
    /// @param epoch The market epoch the proof ran under.
    /// @param liquidatableAt When a non-urgent liquidation may start, unless the owner re-proves first:
    /// exactly what the gate enforces (a later change of the window does not move it). The flag lapses
    /// {FLAG_LIFETIME} seconds later.
    event FlaggedBelowTrigger(address indexed account, uint256 commitment, uint64 epoch, uint64 liquidatableAt);

    /// @notice A keeper liquidated `account`'s position: repaid debt from its collateral and took the bonus.
    /// @param account The position's owner.
    /// @param liquidator Who submitted the proof and received the bonus.
    /// @param oldCommitment The commitment replaced.
    /// @param newCommitment The commitment now held, at nonce `nonce` (it passes the policy or holds no debt).
    /// @param nonce The new position's nonce.
    /// @param epoch The market epoch the proof ran under.
    /// @param urgent Whether the old position was below health factor 1.0 (no grace window).
    event Liquidated(address indexed account, address indexed liquidator, uint256 oldCommitment, uint256 newCommitment, uint64 nonce, uint64 indexed epoch, bool urgent);

    /// @notice A keeper's transition (forced or a liquidation) owed `account` `amount` of `token`
    /// (a swap's output above its minOut, what the lender did not take of a repayment): credited to
    /// {claimable} instead of sent, so a token that refuses transfers to the account (a blocklist)
    /// cannot block the transition. The account takes it with {claim}.
    /// @param account The account credited.
    /// @param token The token credited.
    /// @param amount The amount added to the account's {claimable} balance of `token`.
    event ClaimableCredited(address indexed account, address indexed token, uint256 amount);

    /// @notice `account` took its {claimable} balance of `token`.
    /// @param account The account that claimed.
    /// @param token The token claimed.
    /// @param amount The amount paid to the account (its whole balance).
    event Claimed(address indexed account, address indexed token, uint256 amount);

    /// @notice Governance set the policy hash proofs must carry.
    /// @param policyHash The new policy hash.
    event PolicyHashSet(uint256 policyHash);

    /// @notice Governance set the Rebalance verifier.
    /// @param rebalanceVerifier The new verifier's address.
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
    /// @notice A keeper-forced transition or a liquidation has a wallet flow, a borrow or an instrument flow.
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
    /// @notice Governance offered a keeper key that is not a Baby Jubjub point of the prime subgroup
    /// other than the identity (the zero point, off the curve, a small-order component, a coordinate >= p).
    error RebalanceGate__InvalidKeeperKey(uint256 x, uint256 y);
    /// @notice The proof's opening is encrypted to another keeper key than the gate's current one
    /// (an old key after a rotation, or an attacker's).
    error RebalanceGate__WrongKeeperKey();
    /// @notice The liquidation terms exceed MAX_LIQUIDATION_BONUS or MAX_LIQUIDATION_WINDOW.
    error RebalanceGate__LiquidationTermsOutOfRange(uint256 bonus, uint64 window);
    /// @notice The proof's liquidation flag is not the entry point's: `register` and `rebalance` take
    /// liquidation = 0 only, `flagBelowTrigger` and `liquidate` liquidation = 1 only.
    error RebalanceGate__WrongMode(uint256 expected, uint256 got);
    /// @notice The account's current commitment is already flagged, and the flag has not lapsed.
    error RebalanceGate__AlreadyFlagged(address account);
    /// @notice Only the liquidator the proof names may submit it (a copied transaction pays its copier nothing).
    error RebalanceGate__NotLiquidator(address sender, address liquidator);
    /// @notice The proof's bonus rate is not the gate's {liquidationBonus}.
    error RebalanceGate__WrongLiquidationBonus(uint256 expected, uint256 got);
    /// @notice A non-urgent liquidation needs a flag on the account's current commitment.
    error RebalanceGate__NotFlagged(address account);
    /// @notice A non-urgent liquidation before the flag has stood for the window in force when it was set.
    error RebalanceGate__GraceWindowOpen(address account, uint64 liquidatableAt);
    /// @notice A non-urgent liquidation on a flag that lapsed at `expiredAt` ({FLAG_LIFETIME} after it
    /// became usable): a new flag, proven at the latest epoch, starts a new window.
    error RebalanceGate__FlagExpired(address account, uint64 expiredAt);
    /// @notice The proof's ephemeral key has x = 0: the identity (the only such point of the prime
    /// subgroup the circuit proves it in), whose shared key anyone knows, or a point no keeper decrypts
    /// from.
    error RebalanceGate__InvalidEphemeralKey();
    /// @notice Governance offered the current keeper key, a retired one, or the negation of either
    /// (whose secret is the same secret negated): a generation's count reaching 0 must mean its secret
    /// can be destroyed.
    error RebalanceGate__KeeperKeyReused(uint256 x, uint256 y);
    /// @notice The caller has nothing to claim of `token`.
    error RebalanceGate__NothingToClaim(address account, address token);

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
    /// the account, 1 (a keeper's transition, which moves no value out) from anyone: then what the
    /// transition owes the account's wallet (a swap's excess, a repayment's leftover) is credited to
    /// {claimable} instead of sent.
    /// @param epoch The market epoch the proof was made under (the oracle's latest, fresh).
    /// @param proof The Groth16 proof.
    /// @param signals The proof's public signals, in snarkjs order (docs/custody.md).
    function rebalance(uint64 epoch, Groth16Proof calldata proof, uint256[] calldata signals) external;

    /// @notice Records that `account`'s current position is below the trigger, with a liquidation-mode
    /// proof (`liquidation = 1`) against its current commitment at the latest fresh epoch, under the
    /// gate's policy, context, keeper key and bonus: every check of a transition. It executes
    /// nothing and commits nothing. After {liquidationWindow} seconds (the window in force now, kept
    /// with the flag) without a new commitment (any transition clears the flag), a keeper may
    /// {liquidate} the position, for {FLAG_LIFETIME} seconds; then the flag lapses and a new one may be
    /// recorded, which starts a new window. Anyone may flag.
    /// @param epoch The market epoch the proof was made under (the oracle's latest, fresh).
    /// @param proof The Groth16 proof.
    /// @param signals The proof's public signals, in snarkjs order (docs/custody.md).
    function flagBelowTrigger(uint64 epoch, Groth16Proof calldata proof, uint256[] calldata signals) external;

    /// @notice Liquidates `account`'s position with a liquidation-mode proof: the old position below
    /// the trigger, debt repaid from its collateral through the lender and the v2 pairs, the new one
    /// passing the policy or holding no debt, at most the gate's bonus rate of the debt value repaid
    /// paid to the liquidator. Commits the new position (nonce + 1, encrypted to the current key),
    /// clears the flag, performs the swaps and repayments and pays `bonus[i]` of each asset to the
    /// liquidator; no wallet flow, borrow or instrument flow.
    /// @dev The caller must be the proof's `liquidator`; the proof's bonus rate the gate's; `urgent = 1`
    /// (proven health factor below 1.0), or a flag on the current commitment that is usable: at or
    /// after its `liquidatableAt` (the window in force when it was set) and before its expiry
    /// ({FLAG_LIFETIME} later). What the transition would forward to the owner's wallet (a swap's
    /// excess, a repayment's leftover) is credited to {claimable}.
    /// @param epoch The market epoch the proof was made under (the oracle's latest, fresh).
    /// @param proof The Groth16 proof.
    /// @param signals The proof's public signals, in snarkjs order (docs/custody.md).
    function liquidate(uint64 epoch, Groth16Proof calldata proof, uint256[] calldata signals) external;

    /// @notice Rotates the keeper key (generation + 1). Only governance. Positions re-encrypt to it on
    /// their next transition; until then their latest ciphertext stays under the generation
    /// {keyGenerationOf} names, so the old key must be kept until {positionsUnderKey} of its generation is 0.
    /// A key is used once: the current key, a retired one or its negation is refused
    /// (RebalanceGate__KeeperKeyReused), so a retired generation's count of 0 means its secret protects
    /// nothing any more.
    /// @param x The key's x coordinate (a Baby Jubjub point of the prime subgroup, not the identity).
    /// @param y The key's y coordinate.
    function setKeeperKey(uint256 x, uint256 y) external;

    /// @notice Sets the liquidation terms. Only governance.
    /// @param bonus The liquidator's bonus, basis points of the debt value repaid, at most MAX_LIQUIDATION_BONUS.
    /// @param window Seconds a flag must stand before a non-urgent liquidation, at most
    /// MAX_LIQUIDATION_WINDOW (0: a flagged position is liquidatable at once; the owner gets no grace).
    /// It applies to flags set from now on: a standing flag keeps the `liquidatableAt` it was set with.
    function setLiquidationTerms(uint256 bonus, uint64 window) external;

    /// @notice Pays the caller what keeper transitions credited it of `token` ({claimable}), all of it.
    /// @param token The token to claim.
    function claim(address token) external;

    /// @notice What `account` may {claim} of `token`: what keeper transitions (forced, liquidations)
    /// owed its wallet.
    /// @param account The account asked about.
    /// @param token The token asked about.
    /// @return The amount of `token` the account may claim.
    function claimable(address account, address token) external view returns (uint256);

    /// @notice The sum over accounts of {claimable} of `token`: the gate's liabilities in `token`
    /// beyond the committed collateral (custody invariant (1)).
    /// @param token The token asked about.
    /// @return The total claimable amount of `token`.
    function claimableTotal(address token) external view returns (uint256);

    /// @notice How long a flag stays usable after its `liquidatableAt`, in seconds.
    function FLAG_LIFETIME() external view returns (uint64);

    /// @notice The keeper key openings are encrypted to now.
    /// @return x The key's Baby Jubjub x coordinate.
    /// @return y The key's Baby Jubjub y coordinate.
    function keeperKey() external view returns (uint256 x, uint256 y);

    /// @notice The current keeper key's generation: 1 at deployment, + 1 per rotation.
    function keyGeneration() external view returns (uint64);

    /// @notice The generation of the key the account's current ciphertext is under (that of its last
    /// transition); 0 if not registered.
    /// @param account The account asked about.
    /// @return The key generation of the account's current ciphertext, or 0.
    function keyGenerationOf(address account) external view returns (uint64);

    /// @notice How many positions' current ciphertext is under key generation `generation`: a retired
    /// key may be destroyed once this is 0.
    /// @param generation The key generation asked about.
    /// @return The number of positions whose current ciphertext is under that generation.
    function positionsUnderKey(uint64 generation) external view returns (uint256);

    /// @notice The liquidator's bonus in basis points of the debt value repaid.
    function liquidationBonus() external view returns (uint256);

    /// @notice Seconds a flag must stand before a non-urgent liquidation.
    function liquidationWindow() external view returns (uint64);

    /// @notice The account's flag: its current commitment, when it was flagged, from when a non-urgent
    /// liquidation may use it (the window in force then) and when it lapses ({FLAG_LIFETIME} later),
    /// or all 0 when the current commitment was never flagged. A lapsed flag (now >= expiresAt) is
    /// still shown until a new flag or commitment replaces it; it no longer allows a liquidation.
    /// @param account The account asked about.
    /// @return commitment The flagged commitment (the account's current one), or 0.
    /// @return since When the flag was raised (unix seconds), or 0.
    /// @return liquidatableAt From when a non-urgent liquidation may use the flag, or 0.
    /// @return expiresAt When the flag lapses, or 0.
    function flagOf(address account) external view returns (uint256 commitment, uint64 since, uint64 liquidatableAt, uint64 expiresAt);

    /// @notice Sets the policy hash every proof must carry. Only governance.
    /// @param policyHash The new policy hash (a BN254 field element).
    function setPolicyHash(uint256 policyHash) external;

    /// @notice Sets the Rebalance verifier contract. Only governance.
    /// @param rebalanceVerifier The new verifier (a contract, not the zero address).
    function setVerifier(address rebalanceVerifier) external;

    /// @notice The account's current position commitment (0 if not registered).
    /// @param account The account asked about.
    /// @return The account's commitment, or 0.
    function commitmentOf(address account) external view returns (uint256);

    /// @notice Whether the account holds a position.
    /// @param account The account asked about.
    /// @return True when the account is registered.
    function isRegistered(address account) external view returns (bool);

    /// @notice The account's commitment and whether it is registered, in one call. The gate stores
    /// no nonce: the commitment binds it (events carry it; the owner's position file holds it).
    /// @param account The account asked about.
    /// @return commitment The account's current commitment, or 0.
    /// @return registered Whether the account is registered.
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
    /// @param index The asset slot.
    /// @return The slot's token, or the zero address.
    function tokenOf(uint256 index) external view returns (address);

    /// @notice The option token of instrument slot `index` (the zero address for none).
    /// @param index The instrument slot.
    /// @return The slot's option token, or the zero address.
    function instrumentTokenOf(uint256 index) external view returns (address);

    /// @notice The lender of asset slot `index` (the zero address for none).
    /// @param index The asset slot.
    /// @return The slot's lender, or the zero address.
    function lenderOf(uint256 index) external view returns (ILenderVault);

    /// @notice The `context` signal proofs for this gate on this chain must carry.
    function context() external view returns (uint256);
}
