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
///     T_i.balanceOf(gate)   >= sum over accounts of committed collateral c_i   (1)
///     L_i.debtUnitsOf(gate) == sum over accounts of committed debt units d_i   (2)
/// The circuit proves each committed balance changes by exactly the transition's public movements
/// and stays >= 0; this contract makes the tokens move by the same amounts:
///   - deposit flow_i > 0: pulled from the account's wallet; withdrawal flow_i < 0: paid to it;
///   - swap (sell i, buy j, in, minOut): `in` sent to the Uniswap v2 pair of (T_i, T_j), the output
///     computed from its reserves with the v2 fee formula, reverting below minOut; the position is
///     credited minOut, the excess forwarded to the account's wallet;
///   - borrow debtDelta_i > 0 units: the lender must deliver >= debtAssets_i, the excess goes to the
///     account; repay debtDelta_i < 0: the lender may take <= debtAssets_i, the rest goes to the account;
///   - instrument flow g_k: option tokens pulled from / paid to the account's wallet.
/// Every token the gate forwards goes to the account, never to the caller.
/// @dev Effects (the new commitment and nonce) are written before any external protocol call, and
/// both entry points are nonReentrant (transient storage). Governance (owner) sets the policy hash
/// and the verifier.
contract RebalanceGate is IRebalanceGate, Ownable, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;

    /// @dev Bytes of one address in the configuration table (SSTORE2 data: the tokens, lenders and
    /// option tokens, one word each as abi.encodePacked pads array elements, read with one
    /// EXTCODECOPY per call instead of one cold SLOAD each).
    uint256 private constant ENTRY_BYTES = 32;

    /// @notice The debt index of an asset without a lender: exactly 1.0 (18 decimals).
    uint256 public constant INDEX_ONE = 1e18;
    /// @notice Uniswap v2's fee: the input counts for 997/1000 (0.3 %), as `getAmountOut`.
    uint256 private constant V2_FEE_NUMERATOR = 997;
    uint256 private constant V2_FEE_DENOMINATOR = 1000;
    /// @notice Largest swap amount: a v2 pair's reserves are uint112.
    uint256 private constant MAX_SWAP_AMOUNT = type(uint112).max;

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
    bytes4 private immutable _selector;

    /// @inheritdoc IRebalanceGate
    uint256 public policyHash;
    /// @inheritdoc IRebalanceGate
    address public rebalanceVerifier;

    /// @dev The configuration table: tokens[nAssets] ++ lenders[nAssets] ++ instrumentTokens[nInstruments],
    /// a word each, written once as a contract's code (solady's SSTORE2).
    address private immutable _table;
    /// @dev One storage slot per account: its commitment, 0 when unregistered. The nonce is not
    /// stored: the commitment binds it (the circuit opens the old commitment at the public nonce
    /// and the new one at nonce + 1), so a commitment never repeats and a replayed proof names an
    /// old commitment. A registration therefore writes one new slot, not two.
    mapping(address account => uint256 commitment) private _commitments;

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
        S.RebalanceLayout memory l = S.rebalanceLayout(tokens.length, instrumentTokens.length, nSwaps_);
        rebalanceSignalCount = l.count;
        _accountAt = l.account;
        _flowAt = l.flow;
        _debtDeltaAt = l.debtDelta;
        _debtAssetsAt = l.debtAssets;
        _swapSellAt = l.swapSell;
        _swapBuyAt = l.swapBuy;
        _swapInAt = l.swapIn;
        _swapMinOutAt = l.swapMinOut;
        _instrumentFlowAt = l.instrumentFlow;
        _selector = Groth16.verifyProofSelector(l.count);
        _table = SSTORE2.write(abi.encodePacked(tokens, lenders, instrumentTokens));
        _setPolicyHash(policyHash_);
        _setVerifier(rebalanceVerifier_);
    }

    /// @inheritdoc IRebalanceGate
    function register(uint64 epoch, Groth16Proof calldata proof, uint256[] calldata signals) external nonReentrant {
        _transition(epoch, proof, signals, true);
    }

    /// @inheritdoc IRebalanceGate
    function rebalance(uint64 epoch, Groth16Proof calldata proof, uint256[] calldata signals) external nonReentrant {
        _transition(epoch, proof, signals, false);
    }

    /// @inheritdoc IRebalanceGate
    function setPolicyHash(uint256 policyHash_) external onlyOwner {
        _setPolicyHash(policyHash_);
    }

    /// @inheritdoc IRebalanceGate
    function setVerifier(address rebalanceVerifier_) external onlyOwner {
        _setVerifier(rebalanceVerifier_);
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

    /// @dev The one transition behind `register` (registration = true: fromEmpty = 1) and
    /// `rebalance`: every check of docs/custody.md ("Gate rules and errors"), the proof, the new
    /// commitment and nonce, then the movements.
    function _transition(uint64 epoch, Groth16Proof calldata proof, uint256[] calldata signals, bool registration) private {
        if (signals.length != rebalanceSignalCount) revert RebalanceGate__WrongSignalCount(rebalanceSignalCount, signals.length);
        uint256 bad = Groth16.firstNotInField(signals);
        if (bad != Groth16.ALL_IN_FIELD) revert RebalanceGate__PublicInputNotInField(bad);
        (address account, bool forced) = _checkPosition(signals, registration);
        _checkBinding(epoch, signals);
        bytes memory table = SSTORE2.read(_table);
        _checkDebt(table, signals);
        if (forced) _checkForced(signals);
        if (!Groth16.verify(rebalanceVerifier, _selector, proof, signals)) revert RebalanceGate__InvalidProof();
        _commit(account, epoch, signals, forced, registration);
        _move(table, account, signals);
    }

    /// @dev fromEmpty matches the entry point; a registration comes from the account itself, not
    /// yet registered, at nonce 0 (the old commitment is the empty position's, which the proof
    /// checks); a rebalance from a registered account's current commitment (which binds its
    /// nonce: the proof opens it at the public nonce), submitted by the account unless forced.
    function _checkPosition(uint256[] calldata signals, bool registration) private view returns (address account, bool forced) {
        uint256 acc = _accountAt;
        account = _toAccount(signals[acc]);
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
            if (!forced && msg.sender != account) revert RebalanceGate__NotOwnerOrKeeperForced();
        }
        if (signals[S.REBALANCE_NEW_COMMITMENT] == 0) revert RebalanceGate__WrongCommitment();
    }

    /// @dev Effects, before any interaction (and nonReentrant): the new commitment (at nonce + 1:
    /// the circuit keeps nonces below 2^64, so the event's nonce fits), and the event.
    function _commit(address account, uint64 epoch, uint256[] calldata signals, bool forced, bool registration) private {
        uint256 newCommitment = signals[S.REBALANCE_NEW_COMMITMENT];
        _commitments[account] = newCommitment;
        if (registration) {
            emit PositionRegistered(account, newCommitment, epoch);
        } else {
            uint64 nonce = uint64(signals[_accountAt + S.NONCE_AFTER_ACCOUNT] + 1);
            emit Rebalanced(account, signals[S.REBALANCE_OLD_COMMITMENT], newCommitment, nonce, epoch, forced);
        }
    }

    /// @dev The account signal as an address (the circuit range-checks it to 160 bits).
    function _toAccount(uint256 signal) private pure returns (address) {
        if (signal > type(uint160).max) revert RebalanceGate__InvalidAccount(signal);
        return address(uint160(signal));
    }

    /// @dev Context (chain and gate), the oracle's latest epoch, still fresh, whose root the proof
    /// used, and the gate's policy.
    function _checkBinding(uint64 epoch, uint256[] calldata signals) private view {
        if (signals[_accountAt + S.CONTEXT_AFTER_ACCOUNT] != ProofContext.contextOf(address(this))) revert RebalanceGate__WrongContext();
        if (signals[S.REBALANCE_POLICY_HASH] != policyHash) revert RebalanceGate__WrongPolicy();
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

    /// @dev A keeper's transition moves no value out: no wallet flow, no instrument flow, no
    /// borrow. Repayments and swaps stay allowed (their proceeds stay in the position or go to the account).
    function _checkForced(uint256[] calldata signals) private view {
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
    /// repayments, withdrawals and option-token withdrawals.
    function _move(bytes memory table, address account, uint256[] calldata signals) private {
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
            if ((sell | buy | amountIn | minOut) != 0) _swap(table, account, s, sell, buy, amountIn, minOut);
        }
        for (uint256 i = 0; i < assets; ++i) {
            uint256 debtDelta = signals[_debtDeltaAt + i];
            if (_isNegative(debtDelta)) _repay(table, account, i, _magnitude(debtDelta), signals[_debtAssetsAt + i]);
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
    function _repay(bytes memory table, address account, uint256 i, uint256 units, uint256 debtAssets) private {
        ILenderVault lender = ILenderVault(_entry(table, nAssets + i));
        IERC20 token = IERC20(_entry(table, i));
        token.forceApprove(address(lender), debtAssets);
        uint256 taken = lender.repay(units);
        if (taken > debtAssets) revert RebalanceGate__LenderOvercharge(i, taken, debtAssets);
        if (taken < debtAssets) {
            token.forceApprove(address(lender), 0);
            token.safeTransfer(account, debtAssets - taken);
        }
    }

    /// @dev Swap slot `s` on the v2 pair of the two tokens: the output from the pair's reserves
    /// with v2's formula (`getAmountOut`), at least `minOut`; the position is credited `minOut`
    /// and the excess goes to the account.
    function _swap(bytes memory table, address account, uint256 s, uint256 sell, uint256 buy, uint256 amountIn, uint256 minOut) private {
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
        if (amountOut > minOut) IERC20(tokenOut).safeTransfer(account, amountOut - minOut);
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

    function _setVerifier(address rebalanceVerifier_) private {
        if (rebalanceVerifier_ == address(0)) revert RebalanceGate__ZeroAddress();
        rebalanceVerifier = rebalanceVerifier_;
        emit VerifierSet(rebalanceVerifier_);
    }
}
