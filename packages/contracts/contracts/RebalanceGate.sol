// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {SSTORE2} from "solady/src/utils/SSTORE2.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {IUniswapV2Factory} from "@uniswap/v2-core/contracts/interfaces/IUniswapV2Factory.sol";
import {IUniswapV2Pair} from "@uniswap/v2-core/contracts/interfaces/IUniswapV2Pair.sol";
import {ILenderVault} from "./interfaces/ILenderVault.sol";
import {IMarketOracle} from "./interfaces/IMarketOracle.sol";
import {IRebalanceGate} from "./interfaces/IRebalanceGate.sol";
import {BabyJubjub} from "./libraries/BabyJubjub.sol";
import {CircuitConstants} from "./libraries/CircuitConstants.sol";
import {Groth16, Groth16Proof} from "./libraries/Groth16.sol";
import {ProofContext} from "./libraries/ProofContext.sol";
import {PublicSignals as S} from "./libraries/PublicSignals.sol";

/// @title RebalanceGate
/// @notice Holds one position commitment per account and the tokens backing every committed
/// balance (docs/custody.md). Positions enter only from the empty position (`register`, a proven
/// deposit) and move only with Rebalance proofs bound to this chain and gate, the account, its
/// nonce, the oracle's latest fresh epoch and the gate's policy; the gate performs each proof's
/// public movements in the same transaction.
///
/// Custody invariant: for every token, what the gate can ever be made to pay to an account is at
/// most what that account's own transitions brought in, plus what an external protocol actually
/// delivered in the same transaction (a swap's output, a loan). No proof can move another
/// account's backing. For every asset slot i with token T_i and lender L_i:
///     T_i.balanceOf(gate)   >= sum over accounts of committed collateral c_i
///                              + sum over accounts of claimable(account, T_i)  (1)
///     L_i.debtUnitsOf(gate) == sum over accounts of committed debt units d_i   (2)
/// The circuit proves each committed balance changes by exactly the transition's public movements
/// and stays >= 0; this contract makes the tokens move by the same amounts:
///   - deposit flow_i > 0: pulled from the account's wallet; withdrawal flow_i < 0: paid to it;
///   - swap (sell i, buy j, in, minOut): `in` sent to the Uniswap v2 pair of (T_i, T_j), the output
///     computed from its reserves with the v2 fee formula, reverting below minOut; the position is
///     credited minOut, the excess forwarded to the account;
///   - borrow debtDelta_i > 0 units: the lender must deliver >= debtAssets_i, the excess goes to the
///     account; repay debtDelta_i < 0: the lender may take <= debtAssets_i, the rest goes to the account;
///   - instrument flow g_k: option tokens pulled from / paid to the account's wallet;
///   - liquidation bonus b_i (a liquidation only): paid to the liquidator the proof names (the
///     caller), out of the position's collateral (c'_i = ... - b_i >= 0, proven).
/// Every other token the gate forwards goes to the account, never to the caller: to its wallet in the
/// owner's own transitions; in a keeper's (forced, a liquidation) it is credited to claimable(account,
/// T) and paid by claim(T), so that a token which refuses transfers to the account (a blocklist) lets
/// the owner block nothing but its own transitions. A bonus leaves
/// only the liquidated account's own committed collateral, so (1) and (2) hold with bonuses paid out;
/// the circuit bounds it by the gate's rate of the debt value repaid (docs/enforcement.md).
///
/// Enforcement (docs/enforcement.md): every commitment's opening is published encrypted to the
/// keeper key (OpeningEncrypted); governance rotates the key, and the gate counts the positions whose
/// latest ciphertext is under each key generation. A keeper liquidates at once a position proven
/// below health factor 1.0 (urgent), or one whose current commitment was proven below the trigger
/// (flagBelowTrigger) at least liquidationWindow seconds ago (the window when flagged) and at most
/// FLAG_LIFETIME after that: the owner's re-proof, any new commitment, clears the flag. The owner
/// cannot block it by withholding anything (the keeper decrypts the opening; an identity ephemeral
/// key, which the shipped keeper refuses, is refused here too) nor by a token refusing transfers to
/// its wallet (claimable), and the keeper cannot take more than the bonus (proven).
/// @dev Effects (the new commitment, the account's key generation and flag, the counts) are written
/// before any external protocol call, and every entry point is nonReentrant (transient storage).
/// register, rebalance, flagBelowTrigger and liquidate share one pipeline ({_transition}).
/// Governance (owner) sets the policy hash, the verifier, the keeper key (each key once) and the
/// liquidation terms.
contract RebalanceGate is IRebalanceGate, Ownable, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;

    /// @dev Bytes of one address in the configuration table (SSTORE2 data: the tokens, lenders and
    /// option tokens, one word each as abi.encodePacked pads array elements, read with one
    /// EXTCODECOPY per call instead of one cold SLOAD each).
    uint256 private constant ENTRY_BYTES = 32;

    /// @notice The debt index of an asset without a lender: exactly 1.0 (18 decimals), the circuits' scale.
    uint256 public constant INDEX_ONE = CircuitConstants.DEBT_INDEX_SCALE;
    /// @notice Uniswap v2's fee: the input counts for 997/1000 (0.3 %), as `getAmountOut`.
    uint256 private constant V2_FEE_NUMERATOR = 997;
    uint256 private constant V2_FEE_DENOMINATOR = 1000;
    /// @notice Largest swap amount: a v2 pair's reserves are uint112.
    uint256 private constant MAX_SWAP_AMOUNT = type(uint112).max;
    /// @notice Largest liquidation bonus governance may set: 2,000 basis points (20 % of the debt value repaid).
    uint256 public constant MAX_LIQUIDATION_BONUS = 2_000;
    /// @notice Longest grace window governance may set, in seconds: a flagged position waits at most 30 days.
    uint64 public constant MAX_LIQUIDATION_WINDOW = 30 days;
    /// @notice How long a flag stays usable for a non-urgent liquidation once its window has passed, in
    /// seconds. A flag proves the position below the trigger at one epoch only: an owner whose position
    /// recovered at the next epoch has no reason to spend a proof on a no-op, so a flag that never
    /// lapsed would let a keeper liquidate a later dip at once, with no window for the epoch that
    /// caused it. One day is many blocks for a keeper to act on a flag (through congestion or an RPC
    /// outage), and short against the weeks a recovered position may sit untouched; after it, a new
    /// flag (a fresh proof at the latest epoch) starts a new window.
    uint64 public constant FLAG_LIFETIME = 1 days;

    /// @dev The four entry points of the one pipeline: what each requires of the proof's
    /// fromEmpty and liquidation signals, and what it does after the proof.
    enum Mode {
        Register, // fromEmpty = 1, liquidation = 0: commit, move
        Rebalance, // fromEmpty = 0, liquidation = 0: commit, move
        Flag, // liquidation = 1: record the flag only
        Liquidate // liquidation = 1: commit, move, pay the bonus
    }

    /// @dev What every transition reads of governance's settings, in one slot (one cold SLOAD): the
    /// verifier, the current key generation, the liquidation bonus (basis points <= MAX_LIQUIDATION_BONUS).
    struct Config {
        address rebalanceVerifier;
        uint64 keyGeneration;
        uint16 liquidationBonus;
    }

    /// @dev Per account, one slot: the key generation of its current ciphertext, when its current
    /// commitment was flagged (0: not flagged) and from when that flag allows a liquidation (the
    /// window in force when it was set: what its event promised). Every commitment clears the flag,
    /// so a flag always belongs to the current commitment and never needs one stored.
    struct AccountState {
        uint64 keyGeneration;
        uint64 flaggedSince;
        uint64 liquidatableAt;
    }

    /// @inheritdoc IRebalanceGate
    IMarketOracle public immutable oracle;
    /// @inheritdoc IRebalanceGate
    address public immutable factory;
    /// @inheritdoc IRebalanceGate
    uint256 public immutable nAssets;
    /// @inheritdoc IRebalanceGate
    uint256 public immutable nInstruments;
    /// @inheritdoc IRebalanceGate
    uint256 public immutable nSwaps;
    /// @inheritdoc IRebalanceGate
    uint256 public immutable rebalanceSignalCount;

    // Signal offsets of this gate's instance (PublicSignals.rebalanceLayout).
    uint256 private immutable _accountAt;
    uint256 private immutable _flowAt;
    uint256 private immutable _debtDeltaAt;
    uint256 private immutable _debtAssetsAt;
    uint256 private immutable _swapSellAt;
    uint256 private immutable _swapBuyAt;
    uint256 private immutable _swapInAt;
    uint256 private immutable _swapMinOutAt;
    uint256 private immutable _instrumentFlowAt;
    uint256 private immutable _liquidationAt;
    uint256 private immutable _bonusAt;
    uint256 private immutable _keeperKeyAt;
    uint256 private immutable _ephemeralKeyAt;
    uint256 private immutable _ciphertextAt;
    uint256 private immutable _ciphertextLength;
    bytes4 private immutable _selector;

    /// @inheritdoc IRebalanceGate
    uint256 public policyHash;

    /// @dev The configuration table: tokens[nAssets] ++ lenders[nAssets] ++ instrumentTokens[nInstruments],
    /// a word each, written once as a contract's code (solady's SSTORE2).
    address private immutable _table;
    /// @dev One storage slot per account: its commitment, 0 when unregistered. The nonce is not
    /// stored: the commitment binds it (the circuit opens the old commitment at the public nonce
    /// and the new one at nonce + 1), so a commitment never repeats and a replayed proof names an
    /// old commitment. (A registration also writes the account's state slot, _accounts.)
    mapping(address account => uint256 commitment) private _commitments;
    /// @dev The key generation of each account's current ciphertext and its flag.
    mapping(address account => AccountState) private _accounts;
    /// @inheritdoc IRebalanceGate
    mapping(uint64 generation => uint256 positions) public positionsUnderKey;
    /// @dev The verifier, the current key generation and the bonus (Config).
    Config private _config;
    /// @dev Seconds a flag stands before a non-urgent liquidation (read by flags and liquidations only).
    uint64 private _liquidationWindow;
    /// @dev keccak256(x, y) of the keeper key: the one slot a transition reads to check the proof's
    /// key; the coordinates are kept for keeperKey() only.
    bytes32 private _keeperKeyHash;
    uint256 private _keeperKeyX;
    uint256 private _keeperKeyY;
    /// @dev keccak256(x, y) of every key ever set, and of its negation (-x, y), whose secret is the
    /// same secret negated: a key is used once (RebalanceGate__KeeperKeyReused).
    mapping(bytes32 keyHash => bool) private _usedKeys;
    /// @inheritdoc IRebalanceGate
    mapping(address account => mapping(address token => uint256 amount)) public claimable;
    /// @inheritdoc IRebalanceGate
    mapping(address token => uint256 amount) public claimableTotal;

    /// @notice Deploys a gate for one Rebalance circuit instance: its asset, instrument and swap
    /// slots, their tokens and lenders, the oracle, the swap factory and the keeper's terms.
    /// @param oracle_ The market oracle.
    /// @param tokens The ERC-20 of each asset slot, in the market's asset order (address(0) for
    /// slots that never move tokens). Its length is nAssets. Standard tokens only: the gate credits
    /// a deposit's full amount and a swap's minOut without measuring its balance, so a
    /// fee-on-transfer or rebasing token would break the custody invariant (docs/custody.md).
    /// @param instrumentTokens The option token of each instrument slot (address(0) for none). Its
    /// length is nInstruments.
    /// @param lenders The lender of each asset slot (address(0) for none); its loan token must be the slot's token.
    /// @param factory_ The Uniswap v2 factory whose pairs execute swaps.
    /// @param nSwaps_ The instance's number of swap slots.
    /// @param policyHash_ The policy hash proofs must carry.
    /// @param enforcement_ The keeper key (generation 1) and the liquidation terms (bonus, window).
    /// @param rebalanceVerifier_ The generated verifier of the Rebalance instance.
    /// @param owner_ Governance.
    constructor(
        IMarketOracle oracle_,
        address[] memory tokens,
        address[] memory instrumentTokens,
        ILenderVault[] memory lenders,
        address factory_,
        uint256 nSwaps_,
        uint256 policyHash_,
        Enforcement memory enforcement_,
        address rebalanceVerifier_,
        address owner_
    ) Ownable(owner_) {
        if (address(oracle_) == address(0) || factory_ == address(0)) revert RebalanceGate__ZeroAddress();
        if (tokens.length == 0) revert RebalanceGate__NoAssets();
        if (lenders.length != tokens.length) revert RebalanceGate__LengthMismatch();
        for (uint256 i = 0; i < lenders.length; ++i) {
            if (address(lenders[i]) != address(0) && (tokens[i] == address(0) || lenders[i].asset() != tokens[i])) {
                revert RebalanceGate__LenderAssetMismatch(i);
            }
        }
        oracle = oracle_;
        factory = factory_;
        nAssets = tokens.length;
        nInstruments = instrumentTokens.length;
        nSwaps = nSwaps_;
        S.RebalanceLayout memory layout = S.rebalanceLayout(tokens.length, instrumentTokens.length, nSwaps_);
        rebalanceSignalCount = layout.count;
        _accountAt = layout.account;
        _flowAt = layout.flow;
        _debtDeltaAt = layout.debtDelta;
        _debtAssetsAt = layout.debtAssets;
        _swapSellAt = layout.swapSell;
        _swapBuyAt = layout.swapBuy;
        _swapInAt = layout.swapIn;
        _swapMinOutAt = layout.swapMinOut;
        _instrumentFlowAt = layout.instrumentFlow;
        _liquidationAt = layout.liquidation;
        _bonusAt = layout.bonus;
        _keeperKeyAt = layout.keeperKey;
        _ephemeralKeyAt = layout.ephemeralKey;
        _ciphertextAt = layout.ciphertext;
        _ciphertextLength = layout.ciphertextLength;
        _selector = Groth16.verifyProofSelector(layout.count);
        _table = SSTORE2.write(abi.encodePacked(tokens, lenders, instrumentTokens));
        _setPolicyHash(policyHash_);
        _setKeeperKey(enforcement_.keeperKey[0], enforcement_.keeperKey[1]);
        _setLiquidationTerms(enforcement_.liquidationBonus, enforcement_.liquidationWindow);
        _setVerifier(rebalanceVerifier_);
    }

    /// @inheritdoc IRebalanceGate
    function register(uint64 epoch, Groth16Proof calldata proof, uint256[] calldata signals) external nonReentrant {
        _transition(Mode.Register, epoch, proof, signals);
    }

    /// @inheritdoc IRebalanceGate
    function rebalance(uint64 epoch, Groth16Proof calldata proof, uint256[] calldata signals) external nonReentrant {
        _transition(Mode.Rebalance, epoch, proof, signals);
    }

    /// @inheritdoc IRebalanceGate
    function flagBelowTrigger(uint64 epoch, Groth16Proof calldata proof, uint256[] calldata signals) external nonReentrant {
        _transition(Mode.Flag, epoch, proof, signals);
    }

    /// @inheritdoc IRebalanceGate
    function liquidate(uint64 epoch, Groth16Proof calldata proof, uint256[] calldata signals) external nonReentrant {
        _transition(Mode.Liquidate, epoch, proof, signals);
    }

    /// @inheritdoc IRebalanceGate
    function setPolicyHash(uint256 policyHash_) external nonReentrant onlyOwner {
        _setPolicyHash(policyHash_);
    }

    /// @inheritdoc IRebalanceGate
    function setVerifier(address rebalanceVerifier_) external nonReentrant onlyOwner {
        _setVerifier(rebalanceVerifier_);
    }

    /// @inheritdoc IRebalanceGate
    function setKeeperKey(uint256 x, uint256 y) external nonReentrant onlyOwner {
        _setKeeperKey(x, y);
    }

    /// @inheritdoc IRebalanceGate
    function setLiquidationTerms(uint256 bonus, uint64 window) external nonReentrant onlyOwner {
        _setLiquidationTerms(bonus, window);
    }

    /// @inheritdoc IRebalanceGate
    function claim(address token) external nonReentrant {
        uint256 amount = claimable[msg.sender][token];
        if (amount == 0) revert RebalanceGate__NothingToClaim(msg.sender, token);
        claimable[msg.sender][token] = 0;
        claimableTotal[token] -= amount;
        emit Claimed(msg.sender, token, amount);
        IERC20(token).safeTransfer(msg.sender, amount);
    }

    /// @inheritdoc IRebalanceGate
    function keeperKey() external view returns (uint256 x, uint256 y) {
        return (_keeperKeyX, _keeperKeyY);
    }

    /// @inheritdoc IRebalanceGate
    function keyGeneration() external view returns (uint64) {
        return _config.keyGeneration;
    }

    /// @inheritdoc IRebalanceGate
    function keyGenerationOf(address account) external view returns (uint64) {
        return _accounts[account].keyGeneration;
    }

    /// @inheritdoc IRebalanceGate
    function liquidationBonus() external view returns (uint256) {
        return _config.liquidationBonus;
    }

    /// @inheritdoc IRebalanceGate
    function liquidationWindow() external view returns (uint64) {
        return _liquidationWindow;
    }

    /// @inheritdoc IRebalanceGate
    function rebalanceVerifier() external view returns (address) {
        return _config.rebalanceVerifier;
    }

    /// @inheritdoc IRebalanceGate
    function flagOf(address account) external view returns (uint256 commitment, uint64 since, uint64 liquidatableAt, uint64 expiresAt) {
        AccountState memory state = _accounts[account];
        if (state.flaggedSince == 0) return (0, 0, 0, 0);
        return (_commitments[account], state.flaggedSince, state.liquidatableAt, state.liquidatableAt + FLAG_LIFETIME);
    }

    /// @inheritdoc IRebalanceGate
    function commitmentOf(address account) external view returns (uint256) {
        return _commitments[account];
    }

    /// @inheritdoc IRebalanceGate
    function isRegistered(address account) external view returns (bool) {
        return _commitments[account] != 0;
    }

    /// @inheritdoc IRebalanceGate
    function positionOf(address account) external view returns (uint256 commitment, bool registered) {
        commitment = _commitments[account];
        registered = commitment != 0;
    }

    /// @inheritdoc IRebalanceGate
    function tokenOf(uint256 index) external view returns (address) {
        if (index >= nAssets) revert RebalanceGate__NoTokenForAsset(index);
        return _entry(SSTORE2.read(_table), index);
    }

    /// @inheritdoc IRebalanceGate
    function instrumentTokenOf(uint256 index) external view returns (address) {
        if (index >= nInstruments) revert RebalanceGate__NoTokenForInstrument(index);
        return _entry(SSTORE2.read(_table), 2 * nAssets + index);
    }

    /// @inheritdoc IRebalanceGate
    function lenderOf(uint256 index) external view returns (ILenderVault) {
        if (index >= nAssets) revert RebalanceGate__NoLenderForAsset(index);
        return ILenderVault(_entry(SSTORE2.read(_table), nAssets + index));
    }

    /// @inheritdoc IRebalanceGate
    function context() external view returns (uint256) {
        return ProofContext.contextOf(address(this));
    }

    /// @dev The one transition behind every entry point: every check of docs/custody.md ("Gate rules
    /// and errors") and docs/enforcement.md, cheapest first, then the proof; a flag records itself
    /// and stops there, the others commit (effects) and then move the tokens (interactions).
    function _transition(Mode mode, uint64 epoch, Groth16Proof calldata proof, uint256[] calldata signals) private {
        if (signals.length != rebalanceSignalCount) revert RebalanceGate__WrongSignalCount(rebalanceSignalCount, signals.length);
        uint256 bad = Groth16.firstNotInField(signals);
        if (bad != Groth16.ALL_IN_FIELD) revert RebalanceGate__PublicInputNotInField(bad);
        (address account, bool forced) = _checkPosition(signals, mode);
        _checkBinding(epoch, signals);
        bytes memory table = SSTORE2.read(_table);
        _checkDebt(table, signals);
        bool liquidation = mode == Mode.Flag || mode == Mode.Liquidate;
        // A keeper's transition, forced or a liquidation, moves no value out of the position but to
        // the lender, the pairs and (a liquidation's bonus) the liquidator.
        if (forced || liquidation) _checkNoValueOut(signals);
        if (liquidation) _checkLiquidation(mode, account, signals);
        if (!Groth16.verify(_config.rebalanceVerifier, _selector, proof, signals)) revert RebalanceGate__InvalidProof();
        if (mode == Mode.Flag) {
            _flag(account, epoch);
            return;
        }
        _commit(mode, account, epoch, signals, forced);
        // A keeper's transition credits what it owes the owner's wallet (claimable): a token that
        // refuses transfers to the account must not let the owner block its enforcement.
        _move(table, account, mode == Mode.Liquidate ? msg.sender : address(0), forced || liquidation, signals);
    }

    /// @dev The liquidation signal and fromEmpty match the entry point; a registration comes from
    /// the account itself, not yet registered, at nonce 0 (the old commitment is the empty
    /// position's, which the proof checks); every other mode from a registered account's current
    /// commitment (which binds its nonce: the proof opens it at the public nonce); an unforced
    /// rebalance only from the account (flags and liquidations: _checkLiquidation).
    function _checkPosition(uint256[] calldata signals, Mode mode) private view returns (address account, bool forced) {
        uint256 acc = _accountAt;
        account = _toAccount(signals[acc]);
        bool registration = mode == Mode.Register;
        uint256 liquidationMode = mode == Mode.Flag || mode == Mode.Liquidate ? 1 : 0;
        uint256 liquidation = signals[_liquidationAt];
        if (liquidation != liquidationMode) revert RebalanceGate__WrongMode(liquidationMode, liquidation);
        uint256 fromEmpty = signals[acc + S.FROM_EMPTY_AFTER_ACCOUNT];
        if (fromEmpty != (registration ? 1 : 0)) revert RebalanceGate__WrongFromEmpty(registration ? 1 : 0, fromEmpty);
        forced = signals[acc + S.FORCED_AFTER_ACCOUNT] == 1;
        uint256 commitment = _commitments[account];
        if (registration) {
            if (msg.sender != account) revert RebalanceGate__NotAccount(msg.sender, account);
            if (commitment != 0) revert RebalanceGate__AlreadyRegistered(account);
            uint256 proofNonce = signals[acc + S.NONCE_AFTER_ACCOUNT];
            if (proofNonce != 0) revert RebalanceGate__WrongNonce(0, proofNonce);
        } else {
            if (commitment == 0) revert RebalanceGate__NotRegistered(account);
            if (signals[S.REBALANCE_OLD_COMMITMENT] != commitment) revert RebalanceGate__WrongCommitment();
            if (mode == Mode.Rebalance && !forced && msg.sender != account) revert RebalanceGate__NotOwnerOrKeeperForced();
        }
        if (signals[S.REBALANCE_NEW_COMMITMENT] == 0) revert RebalanceGate__WrongCommitment();
    }

    /// @dev A liquidation or a flag: the proof's bonus rate is the gate's. A liquidation comes from
    /// the liquidator the proof names (the bonus goes to the caller: a copied transaction pays its
    /// copier nothing) and is urgent (proven below health factor 1.0) or follows a flag on the
    /// current commitment that is usable: its stored liquidatableAt reached (the window in force when
    /// it was set: a later change moves no standing flag), FLAG_LIFETIME not yet past it. A commitment
    /// is flagged once while its flag stands; a lapsed flag may be replaced by a new one.
    function _checkLiquidation(Mode mode, address account, uint256[] calldata signals) private view {
        uint256 at = _liquidationAt;
        uint256 rate = _config.liquidationBonus;
        uint256 bonus = signals[at + S.LIQUIDATION_BONUS_AFTER_LIQUIDATION];
        AccountState memory state = _accounts[account];
        // liquidatableAt <= now + MAX_LIQUIDATION_WINDOW: the sum stays far inside uint64.
        uint64 expiresAt = state.liquidatableAt + FLAG_LIFETIME;
        if (mode == Mode.Liquidate) {
            uint256 liquidator = signals[at + S.LIQUIDATOR_AFTER_LIQUIDATION];
            if (liquidator != uint256(uint160(msg.sender))) revert RebalanceGate__NotLiquidator(msg.sender, address(uint160(liquidator)));
        } else if (state.flaggedSince != 0 && block.timestamp < expiresAt) {
            revert RebalanceGate__AlreadyFlagged(account);
        }
        if (bonus != rate) revert RebalanceGate__WrongLiquidationBonus(rate, bonus);
        if (mode == Mode.Liquidate && signals[at + S.URGENT_AFTER_LIQUIDATION] != 1) {
            if (state.flaggedSince == 0) revert RebalanceGate__NotFlagged(account);
            if (block.timestamp < state.liquidatableAt) revert RebalanceGate__GraceWindowOpen(account, state.liquidatableAt);
            if (block.timestamp >= expiresAt) revert RebalanceGate__FlagExpired(account, expiresAt);
        }
    }

    /// @dev Records the flag on the account's current commitment (the proof opened it), with the
    /// moment a liquidation may use it under the window in force now: the event's promise, kept.
    function _flag(address account, uint64 epoch) private {
        uint64 since = uint64(block.timestamp);
        uint64 liquidatableAt = since + _liquidationWindow;
        AccountState storage state = _accounts[account];
        state.flaggedSince = since;
        state.liquidatableAt = liquidatableAt;
        emit FlaggedBelowTrigger(account, _commitments[account], epoch, liquidatableAt);
    }

    /// @dev Effects, before any interaction (and nonReentrant): the new commitment (at nonce + 1: the
    /// circuit keeps nonces below 2^64, so the event's nonce fits), the account's key generation
    /// (the proof encrypted its opening to the current key) with its flag cleared, the per-generation
    /// counts, and the events.
    function _commit(Mode mode, address account, uint64 epoch, uint256[] calldata signals, bool forced) private {
        uint256 newCommitment = signals[S.REBALANCE_NEW_COMMITMENT];
        _commitments[account] = newCommitment;
        uint64 generation = _config.keyGeneration;
        uint64 previous = _accounts[account].keyGeneration;
        if (previous != generation) {
            // A registration's previous generation is 0, which counts nothing.
            if (previous != 0) --positionsUnderKey[previous];
            ++positionsUnderKey[generation];
        }
        _accounts[account] = AccountState({keyGeneration: generation, flaggedSince: 0, liquidatableAt: 0});
        uint64 nonce = uint64(signals[_accountAt + S.NONCE_AFTER_ACCOUNT] + 1);
        if (mode == Mode.Register) {
            emit PositionRegistered(account, newCommitment, epoch);
        } else if (mode == Mode.Liquidate) {
            bool urgent = signals[_liquidationAt + S.URGENT_AFTER_LIQUIDATION] == 1;
            emit Liquidated(account, msg.sender, signals[S.REBALANCE_OLD_COMMITMENT], newCommitment, nonce, epoch, urgent);
        } else {
            emit Rebalanced(account, signals[S.REBALANCE_OLD_COMMITMENT], newCommitment, nonce, epoch, forced);
        }
        _emitOpening(account, newCommitment, nonce, generation, signals);
    }

    /// @dev The new opening's ciphertext, straight from the proof's signals (the circuit proved it
    /// decrypts, under the current keeper key, to the opening of `commitment`).
    function _emitOpening(address account, uint256 commitment, uint64 nonce, uint64 generation, uint256[] calldata signals) private {
        uint256 e = _ephemeralKeyAt;
        uint256 c = _ciphertextAt;
        emit OpeningEncrypted(account, commitment, nonce, generation, [signals[e], signals[e + 1]], signals[c:c + _ciphertextLength]);
    }

    /// @dev The account signal as an address (the circuit range-checks it to 160 bits).
    function _toAccount(uint256 signal) private pure returns (address) {
        if (signal > type(uint160).max) revert RebalanceGate__InvalidAccount(signal);
        return address(uint160(signal));
    }

    /// @dev Context (chain and gate), the gate's policy, its current keeper key (the proof encrypted
    /// the new opening to it: a proof to an old key after a rotation, or to an attacker's, is refused),
    /// the oracle's latest epoch, still fresh, whose root the proof used.
    function _checkBinding(uint64 epoch, uint256[] calldata signals) private view {
        if (signals[_accountAt + S.CONTEXT_AFTER_ACCOUNT] != ProofContext.contextOf(address(this))) revert RebalanceGate__WrongContext();
        if (signals[S.REBALANCE_POLICY_HASH] != policyHash) revert RebalanceGate__WrongPolicy();
        uint256 k = _keeperKeyAt;
        if (keccak256(abi.encode(signals[k], signals[k + 1])) != _keeperKeyHash) revert RebalanceGate__WrongKeeperKey();
        // The circuit proves ephemeralKey = ephemeralSecret * Base8, a point of the prime subgroup,
        // whose only point with x = 0 is the identity: there the shared key is the identity too, which
        // anyone knows and the shipped keeper refuses (decryptOpening), so an owner could publish an
        // opening the keeper never reads and never be liquidated by it.
        if (signals[_ephemeralKeyAt] == 0) revert RebalanceGate__InvalidEphemeralKey();
        uint64 latest = oracle.latestEpoch();
        if (epoch != latest) revert RebalanceGate__NotLatestEpoch(epoch, latest);
        (uint256 root, , bool fresh) = oracle.marketOf(epoch);
        if (!fresh) revert RebalanceGate__StaleEpoch(epoch);
        if (signals[S.REBALANCE_MARKET_ROOT] != root) revert RebalanceGate__WrongMarketRoot(epoch);
    }

    /// @dev Each asset's debt index at least its lender's current one (the lender's view accrues to
    /// block.timestamp, the value `accrue()` would store), so a proof can only overstate debt; an
    /// asset without a lender has index exactly 1e18 and no debt movement.
    function _checkDebt(bytes memory table, uint256[] calldata signals) private view {
        uint256 assets = nAssets;
        for (uint256 i = 0; i < assets; ++i) {
            ILenderVault lender = ILenderVault(_entry(table, assets + i));
            uint256 index = signals[S.REBALANCE_DEBT_INDEX + i];
            if (address(lender) == address(0)) {
                if (index != INDEX_ONE || signals[_debtDeltaAt + i] != 0 || signals[_debtAssetsAt + i] != 0) {
                    revert RebalanceGate__NoLenderForAsset(i);
                }
            } else {
                uint256 lenderIndex = lender.debtIndex();
                if (index < lenderIndex) revert RebalanceGate__DebtIndexBehind(i, index, lenderIndex);
            }
        }
    }

    /// @dev A keeper's transition (forced or a liquidation) moves no value out: no wallet flow, no
    /// instrument flow, no borrow. Repayments and swaps stay allowed (their proceeds stay in the
    /// position or are credited to the account's claimable balance), and a liquidation's bonus,
    /// which the proof bounds.
    function _checkNoValueOut(uint256[] calldata signals) private view {
        uint256 assets = nAssets;
        for (uint256 i = 0; i < assets; ++i) {
            uint256 debtDelta = signals[_debtDeltaAt + i];
            if (signals[_flowAt + i] != 0 || (debtDelta != 0 && !_isNegative(debtDelta))) revert RebalanceGate__ForcedTransitionMovesValue();
        }
        uint256 instruments = nInstruments;
        for (uint256 k = 0; k < instruments; ++k) {
            if (signals[_instrumentFlowAt + k] != 0) revert RebalanceGate__ForcedTransitionMovesValue();
        }
    }

    /// @dev The movements, inflows first: deposits and option-token deposits, borrows, swaps, then
    /// repayments, a liquidation's bonus to `liquidator` (address(0) unless a liquidation: the
    /// circuit proves every bonus 0 then), withdrawals and option-token withdrawals. `escrow` (a
    /// keeper's transition) credits the account's share of swaps and repayments to claimable.
    function _move(bytes memory table, address account, address liquidator, bool escrow, uint256[] calldata signals) private {
        uint256 assets = nAssets;
        uint256 instruments = nInstruments;
        for (uint256 i = 0; i < assets; ++i) {
            uint256 flow = signals[_flowAt + i];
            if (flow != 0 && !_isNegative(flow)) IERC20(_assetToken(table, i)).safeTransferFrom(account, address(this), flow);
            uint256 debtDelta = signals[_debtDeltaAt + i];
            if (debtDelta != 0 && !_isNegative(debtDelta)) _borrow(table, account, i, debtDelta, signals[_debtAssetsAt + i]);
        }
        for (uint256 k = 0; k < instruments; ++k) {
            uint256 flow = signals[_instrumentFlowAt + k];
            if (flow != 0 && !_isNegative(flow)) IERC20(_instrumentToken(table, k)).safeTransferFrom(account, address(this), flow);
        }
        uint256 swaps = nSwaps;
        for (uint256 s = 0; s < swaps; ++s) {
            uint256 sell = signals[_swapSellAt + s];
            uint256 buy = signals[_swapBuyAt + s];
            uint256 amountIn = signals[_swapInAt + s];
            uint256 minOut = signals[_swapMinOutAt + s];
            if ((sell | buy | amountIn | minOut) != 0) _swap(table, account, escrow, s, sell, buy, amountIn, minOut);
        }
        for (uint256 i = 0; i < assets; ++i) {
            uint256 debtDelta = signals[_debtDeltaAt + i];
            if (_isNegative(debtDelta)) _repay(table, account, escrow, i, _magnitude(debtDelta), signals[_debtAssetsAt + i]);
            if (liquidator != address(0)) {
                uint256 bonus = signals[_bonusAt + i];
                if (bonus != 0) IERC20(_assetToken(table, i)).safeTransfer(liquidator, bonus);
            }
            uint256 flow = signals[_flowAt + i];
            if (_isNegative(flow)) IERC20(_assetToken(table, i)).safeTransfer(account, _magnitude(flow));
        }
        for (uint256 k = 0; k < instruments; ++k) {
            uint256 flow = signals[_instrumentFlowAt + k];
            if (_isNegative(flow)) IERC20(_instrumentToken(table, k)).safeTransfer(account, _magnitude(flow));
        }
    }

    /// @dev Borrows `units` of asset `i`; the position is credited `debtAssets`, so the lender must
    /// deliver at least that; the excess goes to the account.
    function _borrow(bytes memory table, address account, uint256 i, uint256 units, uint256 debtAssets) private {
        ILenderVault lender = ILenderVault(_entry(table, nAssets + i));
        uint256 delivered = lender.borrow(units, address(this));
        if (delivered < debtAssets) revert RebalanceGate__LenderShortfall(i, delivered, debtAssets);
        if (delivered > debtAssets) IERC20(_entry(table, i)).safeTransfer(account, delivered - debtAssets);
    }

    /// @dev Repays `units` of asset `i`; the position was debited `debtAssets`, so the lender may
    /// take at most that (it is approved for exactly that); the rest goes to the account.
    function _repay(bytes memory table, address account, bool escrow, uint256 i, uint256 units, uint256 debtAssets) private {
        ILenderVault lender = ILenderVault(_entry(table, nAssets + i));
        IERC20 token = IERC20(_entry(table, i));
        token.forceApprove(address(lender), debtAssets);
        uint256 taken = lender.repay(units);
        if (taken > debtAssets) revert RebalanceGate__LenderOvercharge(i, taken, debtAssets);
        if (taken < debtAssets) {
            token.forceApprove(address(lender), 0);
            _forward(token, account, escrow, debtAssets - taken);
        }
    }

    /// @dev Swap slot `s` on the v2 pair of the two tokens: the output from the pair's reserves
    /// with v2's formula (`getAmountOut`), at least `minOut`; the position is credited `minOut`
    /// and the excess goes to the account.
    function _swap(bytes memory table, address account, bool escrow, uint256 s, uint256 sell, uint256 buy, uint256 amountIn, uint256 minOut) private {
        uint256 assets = nAssets;
        if (sell >= assets || buy >= assets || sell == buy || amountIn > MAX_SWAP_AMOUNT || minOut > MAX_SWAP_AMOUNT) {
            revert RebalanceGate__InvalidSwap(s);
        }
        address tokenIn = _assetToken(table, sell);
        address tokenOut = _assetToken(table, buy);
        (address pair, uint256 amountOut) = _quote(s, tokenIn, tokenOut, amountIn);
        if (amountOut < minOut || amountOut == 0) revert RebalanceGate__InsufficientOutput(s, amountOut, minOut);
        IERC20(tokenIn).safeTransfer(pair, amountIn);
        // token0 is the lower address.
        (uint256 out0, uint256 out1) = tokenIn < tokenOut ? (uint256(0), amountOut) : (amountOut, uint256(0));
        IUniswapV2Pair(pair).swap(out0, out1, address(this), "");
        if (amountOut > minOut) _forward(IERC20(tokenOut), account, escrow, amountOut - minOut);
    }

    /// @dev What the account is owed outside its position: to its wallet, or (escrow: a keeper's
    /// transition) credited to claimable, which claim() pays.
    function _forward(IERC20 token, address account, bool escrow, uint256 amount) private {
        if (!escrow) {
            token.safeTransfer(account, amount);
            return;
        }
        claimable[account][address(token)] += amount;
        claimableTotal[address(token)] += amount;
        emit ClaimableCredited(account, address(token), amount);
    }

    /// @dev The factory's pair of the two tokens and v2's `getAmountOut` from its reserves:
    /// amountIn * 997 * reserveOut / (reserveIn * 1000 + amountIn * 997), rounded down.
    function _quote(uint256 s, address tokenIn, address tokenOut, uint256 amountIn) private view returns (address pair, uint256 amountOut) {
        pair = IUniswapV2Factory(factory).getPair(tokenIn, tokenOut);
        if (pair == address(0)) revert RebalanceGate__InvalidSwap(s);
        (uint112 reserve0, uint112 reserve1, ) = IUniswapV2Pair(pair).getReserves();
        (uint256 reserveIn, uint256 reserveOut) = tokenIn < tokenOut ? (uint256(reserve0), uint256(reserve1)) : (uint256(reserve1), uint256(reserve0));
        uint256 inWithFee = amountIn * V2_FEE_NUMERATOR;
        amountOut = (inWithFee * reserveOut) / (reserveIn * V2_FEE_DENOMINATOR + inWithFee);
    }

    function _assetToken(bytes memory table, uint256 i) private pure returns (address token) {
        token = _entry(table, i);
        if (token == address(0)) revert RebalanceGate__NoTokenForAsset(i);
    }

    function _instrumentToken(bytes memory table, uint256 k) private view returns (address token) {
        token = _entry(table, 2 * nAssets + k);
        if (token == address(0)) revert RebalanceGate__NoTokenForInstrument(k);
    }

    /// @dev Entry `n` of the configuration table: the address in word n (the caller keeps n in range).
    function _entry(bytes memory table, uint256 n) private pure returns (address entry) {
        // Assembly: Solidity has no word read of a `bytes`; mload takes entry n in place, with no copy of the table.
        // solhint-disable-next-line no-inline-assembly
        assembly ("memory-safe") {
            entry := and(mload(add(add(table, 32), mul(n, ENTRY_BYTES))), 0xffffffffffffffffffffffffffffffffffffffff)
        }
    }

    /// @dev Signed values are field-encoded: above HALF_FIELD stands for x - p.
    function _isNegative(uint256 x) private pure returns (bool) {
        return x > Groth16.HALF_FIELD;
    }

    function _magnitude(uint256 negative) private pure returns (uint256) {
        return Groth16.SNARK_SCALAR_FIELD - negative;
    }

    function _setPolicyHash(uint256 policyHash_) private {
        policyHash = policyHash_;
        emit PolicyHashSet(policyHash_);
    }

    /// @dev A new key generation. Both coordinates reduced, on the curve, in the prime subgroup and not
    /// the identity (BabyJubjub: the circuit takes the key as given); never set before, nor its
    /// negation: an operator destroys a retired generation's secret once its count is 0, which must not
    /// be a live generation's secret (or that secret negated).
    function _setKeeperKey(uint256 x, uint256 y) private {
        if (!BabyJubjub.isValidPublicKey(x, y)) revert RebalanceGate__InvalidKeeperKey(x, y);
        bytes32 keyHash = keccak256(abi.encode(x, y));
        if (_usedKeys[keyHash]) revert RebalanceGate__KeeperKeyReused(x, y);
        _usedKeys[keyHash] = true;
        // x != 0 (a valid key is not the identity), so BabyJubjub.Q - x is the reduced -x.
        _usedKeys[keccak256(abi.encode(BabyJubjub.Q - x, y))] = true;
        uint64 generation = _config.keyGeneration + 1;
        _config.keyGeneration = generation;
        _keeperKeyHash = keyHash;
        _keeperKeyX = x;
        _keeperKeyY = y;
        emit KeeperKeyRotated(generation, x, y);
    }

    function _setLiquidationTerms(uint256 bonus, uint64 window) private {
        if (bonus > MAX_LIQUIDATION_BONUS || window > MAX_LIQUIDATION_WINDOW) revert RebalanceGate__LiquidationTermsOutOfRange(bonus, window);
        _liquidationWindow = window;
        // bonus <= MAX_LIQUIDATION_BONUS < 2^16: the cast keeps it.
        _config.liquidationBonus = uint16(bonus);
        emit LiquidationTermsSet(bonus, window);
    }

    function _setVerifier(address rebalanceVerifier_) private {
        if (rebalanceVerifier_ == address(0)) revert RebalanceGate__ZeroAddress();
        _config.rebalanceVerifier = rebalanceVerifier_;
        emit VerifierSet(rebalanceVerifier_);
    }
}
