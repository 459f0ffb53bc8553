pragma circom 2.1.9;

include "circomlib/circuits/comparators.circom";
include "./solvency.circom";
include "./position-commitment.circom";
include "./risk/asset-values.circom";
include "./risk/debt-assets.circom";
include "./risk/health-factor-check.circom";
include "./lib/bounds.circom";
include "./lib/opening-encryption.circom";
include "./lib/range-check.circom";

// Rebalance(nAssets, nInstruments, nScenarios, checks, nSwaps): risk-model.md section 4 and the
// custody model of docs/custody.md. Moves the committed position P (nonce) to P' (nonce + 1) of
// the same account, where every change of a committed balance is a token movement the gate
// performs in the same transaction:
//   c'_i = c_i + flow_i + sum_s [buy_s = i] minOut_s - sum_s [sell_s = i] in_s + sign_i * debtAssets_i
//   d'_i = d_i + debtDelta_i                         (debt in index-scaled units)
//   q'_k = q_k + instrumentFlow_k,  instrumentFlow_k != 0 => q_k >= 0 and q'_k >= 0
// with sign_i = +1 for a borrow (debtDelta_i > 0: the lender delivers at least debtAssets_i) and
// -1 for a repayment (it takes at most debtAssets_i), debtAssets_i = 0 when debtDelta_i = 0.
//   - each swap slot s sells in_s of asset sell_s for at least minOut_s of asset buy_s on the
//     gate's AMM; at the epoch's oracle prices, exactly (quote units * 1e18, no rounding):
//         V_buy(minOut) * 1e6 >= (1e6 - maxSlippage) * V_sell(in)
//     an empty slot is (0, 0, 0, 0); a slot never sells an asset into itself;
//   - fromEmpty = 1 (a registration): P is the empty position (all zero, nonce 0, salt 0), so the
//     first commitment holds exactly what the movements brought;
//   - P' passes the policy's checks (Solvency);
//   - forced = 1 (a keeper's rebalance): P was strictly below the policy's trigger health factor,
//     P' is at or above it (a keeper restores the position; it cannot trade it down, e.g. in a
//     sandwich, and force again), and P' keeps P's salt (whoever forces a transition cannot lock
//     the owner out of a commitment it cannot open).
//   - liquidation = 1 (a keeper's liquidation, docs/enforcement.md): P was strictly below the
//     trigger (and, with urgent = 1, below health factor 1.0); nothing moves to or from the owner's
//     wallet and nothing is borrowed; P' keeps P's salt; the collateral pays
//     bonus[i] to `liquidator` on top of the movements:
//         c'_i = c_i + swaps_i - debtAssets_i - bonus_i     (repayments only)
//     worth at most liquidationBonus basis points of what the position paid the lender, at the
//     epoch's oracle unit values u_i = price_i * 1e18 / scale_i, exactly:
//         10^4 * sum_i bonus_i * u_i <= liquidationBonus * sum_i repaid_i * u_i
//     with repaid_i = debtAssets_i of a repayment, which may exceed the debt value it removes by
//     at most one base unit (so an inflated debtAssets, whose excess the gate forwards to the
//     owner, cannot inflate the bonus). The swaps serve the repayment: something is repaid, no
//     asset gains more from the swaps than its repayment takes, and the swaps sell at most nSwaps
//     times the repaid value (over the slippage allowance), so a keeper cannot churn the
//     collateral at the slippage floor. P' is closed (no debt left: the policy's checks are then
//     off, as the collateral may no longer carry the minimum equity) or passes the checks AND is
//     at or above the trigger, so a keeper cannot leave it flaggable again, one bonus at a time.
//     A liquidation is a single transaction with nSwaps swap slots: a position whose debts need
//     more swaps than that to raise (say 4 debt assets, none held as collateral, on 2 slots) may
//     have no provable liquidation at all; the planner reports it (cannotRepay).
//   - every transition encrypts the opening of P' to the protocol's keeper key (OpeningEncryption):
//     the ciphertext decrypts, under ECDH(ephemeralSecret, keeperKey) and nonce + 1, to the
//     commitment's packed words 1.. of P' (word 0, account + nonce * 2^160, is public), so a keeper
//     can open every committed position and nobody else learns anything.
// Public, in snarkjs order: oldCommitment, newCommitment, marketRoot, policyHash (outputs), then
// debtIndex[nAssets] (the market's, for the gate to check against the lender), account, nonce
// (of P), context, forced, fromEmpty, flow[nAssets], debtDelta[nAssets], debtAssets[nAssets],
// swapSell[nSwaps], swapBuy[nSwaps], swapIn[nSwaps], swapMinOut[nSwaps],
// instrumentFlow[nInstruments], liquidation, urgent, liquidator, liquidationBonus,
// bonus[nAssets], keeperKey[2], ephemeralKey[2], ciphertext[C] with C = 3 * ceil(L / 3) + 1 and
// L = 1 + nAssets + ceil(nInstruments / 2). Signed values are field-encoded (p - |x| for -|x|).
// The gate (contracts/RebalanceGate.sol) executes the movements and enforces who may send which.
// Caller assumptions: none on the market: Solvency's digest templates range-check every market
// value (price < 2^64, scale a power of ten up to 10^18 so 10^18 / scale is an integer, ...).
// keeperKey: the gate requires it to equal its governance-set key, which governance validates
// (prime-order subgroup, not the identity) before setting it; the circuit does not check it.
// liquidator is bound here only so the gate can require msg.sender == liquidator.
template Rebalance(nAssets, nInstruments, nScenarios, checks, nSwaps) {
    var nUpper = nAssets * (nAssets + 1) \ 2;
    var AMOUNT = 96;
    var QUANTITY_OFFSET = 1 << 95;

    signal output oldCommitment;
    signal output newCommitment;
    signal output marketRoot;
    signal output policyHash;

    // Declared first among the public inputs: they follow the outputs in the public signals.
    signal input debtIndex[nAssets];
    signal input account;
    signal input nonce;
    signal input context;
    signal input forced;
    signal input fromEmpty;
    signal input flow[nAssets];
    signal input debtDelta[nAssets];
    signal input debtAssets[nAssets];
    signal input swapSell[nSwaps];
    signal input swapBuy[nSwaps];
    signal input swapIn[nSwaps];
    signal input swapMinOut[nSwaps];
    signal input instrumentFlow[nInstruments];
    signal input liquidation;
    signal input urgent;
    signal input liquidator;
    signal input liquidationBonus;
    signal input bonus[nAssets];
    signal input keeperKey[2];
    signal input ephemeralKey[2];
    var nWords = 1 + nAssets + (nInstruments + 1) \ 2;
    signal input ciphertext[3 * ((nWords + 2) \ 3) + 1];

    // The ECDH secret behind ephemeralKey (OpeningEncryption range-checks it to 253 bits).
    signal input ephemeralSecret;

    // P (old) and P' (new).
    signal input oldSalt;
    signal input oldCollateral[nAssets];
    signal input oldDebt[nAssets];
    signal input oldQuantity[nInstruments];
    signal input salt;
    signal input collateral[nAssets];
    signal input debt[nAssets];
    signal input quantity[nInstruments];

    // Market and policy, as Solvency.
    signal input epoch;
    signal input timestamp;
    signal input quoteScale;
    signal input symbol[nAssets];
    signal input scale[nAssets];
    signal input price[nAssets];
    signal input threshold[nAssets];
    signal input instrumentId[nInstruments];
    signal input underlying[nInstruments];
    signal input mark[nInstruments];
    signal input delta[nInstruments];
    signal input scenarioCount;
    signal input weight[nScenarios];
    signal input assetReturn[nScenarios][nAssets];
    signal input instrumentPnl[nScenarios][nInstruments];
    signal input horizonDays;
    signal input covarianceUpper[nUpper];
    signal input scenariosDigest;
    signal input covarianceDigest;
    signal input minHealthFactor;
    signal input triggerHealthFactor;
    signal input minEquity;
    signal input varMethod;
    signal input confidence;
    signal input capitalMultiplier;
    signal input quantileZ;
    signal input maxSlippage;

    // Modes. A liquidation is neither a registration nor a forced rebalance; urgent only with it.
    fromEmpty * (fromEmpty - 1) === 0;
    forced * (forced - 1) === 0;
    liquidation * (liquidation - 1) === 0;
    urgent * (urgent - 1) === 0;
    forced * fromEmpty === 0;
    liquidation * fromEmpty === 0;
    liquidation * forced === 0;
    urgent * (1 - liquidation) === 0;
    // A keeper's transition (forced or liquidation; at most one is 1, so keeper is 0 or 1).
    signal keeper <== forced + liquidation;

    // P' is closed when it has no debt left: each debt[i] is range-checked below 2^96 (by Solvency's
    // commitment), so the sum (< nAssets * 2^96, far below p) is zero only if every debt is.
    var debtTotal = 0;
    for (var i = 0; i < nAssets; i++) {
        debtTotal += debt[i];
    }
    component closed = IsZero();
    closed.in <== debtTotal;
    // A liquidation that closes the position need not leave it passing the policy (its collateral
    // may no longer carry the minimum equity); every other transition's P' must pass.
    signal checksOff <== liquidation * closed.out;

    // P' passes the policy under the committed market (unless checksOff); it carries nonce + 1 and
    // the same account. Solvency range-checks the market's debt indices (they enter the market root
    // there).
    component next = Solvency(nAssets, nInstruments, nScenarios, checks | CHECKS_GATED());
    next.checksEnabled <== 1 - checksOff;
    next.account <== account;
    next.nonce <== nonce + 1;
    next.context <== context;
    next.salt <== salt;
    next.collateral <== collateral;
    next.debt <== debt;
    next.quantity <== quantity;
    next.epoch <== epoch;
    next.timestamp <== timestamp;
    next.quoteScale <== quoteScale;
    next.symbol <== symbol;
    next.scale <== scale;
    next.price <== price;
    next.threshold <== threshold;
    next.debtIndex <== debtIndex;
    next.instrumentId <== instrumentId;
    next.underlying <== underlying;
    next.mark <== mark;
    next.delta <== delta;
    next.scenarioCount <== scenarioCount;
    next.weight <== weight;
    next.assetReturn <== assetReturn;
    next.instrumentPnl <== instrumentPnl;
    next.horizonDays <== horizonDays;
    next.covarianceUpper <== covarianceUpper;
    next.scenariosDigest <== scenariosDigest;
    next.covarianceDigest <== covarianceDigest;
    next.minHealthFactor <== minHealthFactor;
    next.triggerHealthFactor <== triggerHealthFactor;
    next.minEquity <== minEquity;
    next.varMethod <== varMethod;
    next.confidence <== confidence;
    next.capitalMultiplier <== capitalMultiplier;
    next.quantileZ <== quantileZ;
    next.maxSlippage <== maxSlippage;
    newCommitment <== next.commitment;
    marketRoot <== next.marketRoot;
    policyHash <== next.policyHash;

    // P opens the commitment the chain holds (its fields range-checked there; the account, the
    // same signal as P's, once by the Solvency component above).
    component previous = PositionOpening(nAssets, nInstruments, 0);
    previous.account <== account;
    previous.nonce <== nonce;
    previous.salt <== oldSalt;
    previous.collateral <== oldCollateral;
    previous.debt <== oldDebt;
    previous.quantity <== oldQuantity;
    oldCommitment <== previous.commitment;

    // Registration: P is the empty position, so P' holds exactly what the movements brought. Its
    // salt is fixed too, so the (ignored) oldCommitment of a registration is one value per account.
    fromEmpty * nonce === 0;
    fromEmpty * oldSalt === 0;
    // A keeper's transition keeps the owner's salt, so the owner can open the new commitment from
    // the public movements and its own old opening.
    keeper * (salt - oldSalt) === 0;
    for (var i = 0; i < nAssets; i++) {
        fromEmpty * oldCollateral[i] === 0;
        fromEmpty * oldDebt[i] === 0;
    }
    for (var k = 0; k < nInstruments; k++) {
        fromEmpty * oldQuantity[k] === 0;
    }

    // Swap slots. Selectors are one-hot over the asset slots (which also bounds the indices);
    // an empty slot is all zero, and a non-empty one sells one asset for another.
    var E18 = 1000000000000000000;
    signal unitValue[nAssets];
    signal scaleFactor[nAssets];
    for (var i = 0; i < nAssets; i++) {
        // 10^18 / 10^decimals, an integer: AssetsDigest (in Solvency) proves the scale is a power
        // of ten from 10^0 to 10^18, so it is nonzero and the product pins the hint to the one
        // field solution, which is that integer (at most 10^18 < 2^60).
        scaleFactor[i] <-- E18 \ scale[i];
        scaleFactor[i] * scale[i] === E18;
        unitValue[i] <== price[i] * scaleFactor[i];
    }
    component sellIs[nSwaps][nAssets];
    component buyIs[nSwaps][nAssets];
    component slotEmpty[nSwaps];
    component swapRanges[nSwaps][2];
    component withinSlippage[nSwaps];
    signal sold[nSwaps][nAssets];
    signal bought[nSwaps][nAssets];
    signal sameAsset[nSwaps][nAssets];
    signal sellUnitTerm[nSwaps][nAssets];
    signal buyUnitTerm[nSwaps][nAssets];
    signal valueIn[nSwaps];
    signal valueOut[nSwaps];
    component slippageRanges[2];
    slippageRanges[0] = RangeCheck(20);
    slippageRanges[0].in <== maxSlippage;
    slippageRanges[1] = RangeCheck(20);
    slippageRanges[1].in <== 999999 - maxSlippage;
    for (var s = 0; s < nSwaps; s++) {
        swapRanges[s][0] = RangeCheck(AMOUNT);
        swapRanges[s][0].in <== swapIn[s];
        swapRanges[s][1] = RangeCheck(AMOUNT);
        swapRanges[s][1].in <== swapMinOut[s];
        slotEmpty[s] = IsZero();
        slotEmpty[s].in <== swapIn[s];
        slotEmpty[s].out * swapMinOut[s] === 0;
        slotEmpty[s].out * swapSell[s] === 0;
        slotEmpty[s].out * swapBuy[s] === 0;
        var sellCount = 0;
        var buyCount = 0;
        var same = 0;
        var sellUnit = 0;
        var buyUnit = 0;
        for (var i = 0; i < nAssets; i++) {
            sellIs[s][i] = IsEqual();
            sellIs[s][i].in[0] <== swapSell[s];
            sellIs[s][i].in[1] <== i;
            buyIs[s][i] = IsEqual();
            buyIs[s][i].in[0] <== swapBuy[s];
            buyIs[s][i].in[1] <== i;
            sellCount += sellIs[s][i].out;
            buyCount += buyIs[s][i].out;
            sameAsset[s][i] <== sellIs[s][i].out * buyIs[s][i].out;
            same += sameAsset[s][i];
            sold[s][i] <== sellIs[s][i].out * swapIn[s];
            bought[s][i] <== buyIs[s][i].out * swapMinOut[s];
            sellUnitTerm[s][i] <== sellIs[s][i].out * unitValue[i];
            buyUnitTerm[s][i] <== buyIs[s][i].out * unitValue[i];
            sellUnit += sellUnitTerm[s][i];
            buyUnit += buyUnitTerm[s][i];
        }
        // Indices name an asset slot (exactly one selector is 1), and never the same one twice
        // unless the slot is empty.
        sellCount === 1;
        buyCount === 1;
        same * swapIn[s] === 0;
        // Values at quote units * 1e18: amounts < 2^96, unit values < 2^64 * 2^60 (price and scale
        // range-checked by AssetsDigest), so each value
        // < 2^220 and each side below < 2^240; the difference is checked in 241 bits, so a
        // negative one (a trade below the slippage bound) wraps far above and fails.
        valueIn[s] <== swapIn[s] * sellUnit;
        valueOut[s] <== swapMinOut[s] * buyUnit;
        withinSlippage[s] = RangeCheck(241);
        withinSlippage[s].in <== valueOut[s] * 1000000 - (1000000 - maxSlippage) * valueIn[s];
    }

    // Conservation per asset: collateral by wallet flows, swaps and lender movements; debt by
    // lender movements only. Flows and debt changes have magnitude below 2^96 and debtAssets is
    // below 2^96, so with the commitments' ranges both sides of each equation are integers of
    // magnitude far below p, and the field equalities hold over the integers.
    // A liquidation pays bonus[i] of the collateral to the liquidator (0 otherwise); each below
    // 2^96 like every amount, so a "negative" bonus (p - x) cannot credit the position.
    component flowRanges[nAssets];
    component debtDeltaBits[nAssets];
    component debtAssetRanges[nAssets];
    component noDebtMove[nAssets];
    component bonusRanges[nAssets];
    signal signedDebtAssets[nAssets];
    signal liquidationBorrow[nAssets];
    for (var i = 0; i < nAssets; i++) {
        flowRanges[i] = RangeCheck(AMOUNT + 1);
        flowRanges[i].in <== flow[i] + (1 << AMOUNT);
        // Bit 96 of debtDelta + 2^96 is 1 exactly when debtDelta >= 0 (a borrow or nothing).
        debtDeltaBits[i] = Num2Bits(AMOUNT + 1);
        debtDeltaBits[i].in <== debtDelta[i] + (1 << AMOUNT);
        debtAssetRanges[i] = RangeCheck(AMOUNT);
        debtAssetRanges[i].in <== debtAssets[i];
        // No debt movement, no lender movement: otherwise a zero debtDelta could credit assets.
        noDebtMove[i] = IsZero();
        noDebtMove[i].in <== debtDelta[i];
        noDebtMove[i].out * debtAssets[i] === 0;
        signedDebtAssets[i] <== debtAssets[i] * (2 * debtDeltaBits[i].out[AMOUNT] - 1);

        var swapped = 0;
        for (var s = 0; s < nSwaps; s++) {
            swapped += bought[s][i] - sold[s][i];
        }
        bonusRanges[i] = RangeCheck(AMOUNT);
        bonusRanges[i].in <== bonus[i];
        bonus[i] * (1 - liquidation) === 0;
        collateral[i] === oldCollateral[i] + flow[i] + swapped + signedDebtAssets[i] - bonus[i];
        debt[i] === oldDebt[i] + debtDelta[i];

        // A liquidation moves nothing to or from the owner's wallet and borrows nothing (bit 96
        // set and debtDelta != 0 is a borrow); repayments and swaps remain, as for forced.
        liquidation * flow[i] === 0;
        liquidationBorrow[i] <== liquidation * debtDeltaBits[i].out[AMOUNT];
        liquidationBorrow[i] * (1 - noDebtMove[i].out) === 0;
    }

    // Instruments: option tokens in custody, longs only (a written option needs a cash-settled
    // series, docs/custody.md "Not yet"). Bit 95 of q + 2^95 is 1 exactly when q >= 0.
    component instrumentFlowRanges[nInstruments];
    component flowIsZero[nInstruments];
    component oldSign[nInstruments];
    component newSign[nInstruments];
    for (var k = 0; k < nInstruments; k++) {
        instrumentFlowRanges[k] = RangeCheck(AMOUNT + 1);
        instrumentFlowRanges[k].in <== instrumentFlow[k] + (1 << AMOUNT);
        quantity[k] === oldQuantity[k] + instrumentFlow[k];
        flowIsZero[k] = IsZero();
        flowIsZero[k].in <== instrumentFlow[k];
        oldSign[k] = Num2Bits(AMOUNT);
        oldSign[k].in <== oldQuantity[k] + QUANTITY_OFFSET;
        newSign[k] = Num2Bits(AMOUNT);
        newSign[k].in <== quantity[k] + QUANTITY_OFFSET;
        (1 - flowIsZero[k].out) * (1 - oldSign[k].out[AMOUNT - 1]) === 0;
        (1 - flowIsZero[k].out) * (1 - newSign[k].out[AMOUNT - 1]) === 0;
        liquidation * instrumentFlow[k] === 0;
    }

    // A keeper may force a rebalance only on a position below the trigger (owners need not). The
    // old debt is valued through the same debt index as the new one.
    component oldDebtAssets = DebtAssets(nAssets);
    oldDebtAssets.debt <== oldDebt;
    oldDebtAssets.debtIndex <== debtIndex;
    component oldValues = AssetValues(nAssets);
    oldValues.collateral <== oldCollateral;
    oldValues.debt <== oldDebtAssets.debtAssets;
    oldValues.price <== price;
    oldValues.scale <== scale;
    signal oldWeighted[nAssets];
    var numerator = 0;
    var denominator = 0;
    for (var i = 0; i < nAssets; i++) {
        oldWeighted[i] <== oldValues.collateralValue[i] * threshold[i];
        numerator += oldWeighted[i];
        denominator += oldValues.debtValue[i];
    }
    // The trigger, as the minimum health factor (PolicyRanges): (0, 100] at 1e4, the parser's bound.
    component triggerRange = InRange(20, 1, MAX_HEALTH_FACTOR());
    triggerRange.in <== triggerHealthFactor;
    signal triggerLine <== triggerHealthFactor * denominator;
    signal triggerMargin <== keeper * (triggerLine - numerator - 1);
    // forced or liquidation: trigger * HFden - HFnum - 1 in [0, 2^20 * nAssets * 2^80) (trigger
    // < 2^20, each vd < 2^80); a position at or above the trigger makes it a negative integer of
    // magnitude below nAssets * 2^94 + 1 (HFnum: vc < 2^80, threshold <= 10^4) that wraps far above.
    component belowTrigger = RangeCheck(log2ceil(nAssets * (1 << (20 + VALUE_BITS()))));
    belowTrigger.in <== triggerMargin;
    // urgent: P is strictly below health factor 1.0 (10^4 at the thresholds' scale), so the gate
    // may skip its grace window: 10^4 * HFden - HFnum - 1 in [0, nAssets * 2^94) (10^4 < 2^14);
    // at or above 1.0 the margin is negative, below nAssets * 2^94 + 1 in magnitude, and wraps.
    signal urgentMargin <== urgent * (BPS_ONE() * denominator - numerator - 1);
    component belowOne = RangeCheck(log2ceil(nAssets * (1 << (BPS_BITS() + VALUE_BITS()))));
    belowOne.in <== urgentMargin;

    // ... and leaves P' at or above the trigger (HFnum' >= trigger * HFden'), valued as Solvency
    // values it (debt through the index; collateral down, debt up).
    component newDebtAssets = DebtAssets(nAssets);
    newDebtAssets.debt <== debt;
    newDebtAssets.debtIndex <== debtIndex;
    component newValues = AssetValues(nAssets);
    newValues.collateral <== collateral;
    newValues.debt <== newDebtAssets.debtAssets;
    newValues.price <== price;
    newValues.scale <== scale;
    component restored = HealthFactorCheck(nAssets);
    restored.collateralValue <== newValues.collateralValue;
    restored.debtValue <== newValues.debtValue;
    restored.threshold <== threshold;
    restored.minHealthFactor <== triggerHealthFactor;
    // forced, or a liquidation that leaves debt (forced * liquidation = 0 and checksOff <= liquidation,
    // so this is 0 or 1): a liquidated position left between the minimum and the trigger could be
    // flagged again at once and liquidated for another bonus, a sliver at a time.
    restored.enabled <== forced + liquidation - checksOff;

    // Liquidation terms: zero unless liquidation. The liquidator is an address; the bonus rate is
    // at most 100 % (the gate requires exactly its governance-set rate, at most 20 %).
    liquidator * (1 - liquidation) === 0;
    component liquidatorRange = RangeCheck(160);
    liquidatorRange.in <== liquidator;
    liquidationBonus * (1 - liquidation) === 0;
    component bonusRateRange = InRange(BPS_BITS(), 0, BPS_ONE());
    bonusRateRange.in <== liquidationBonus;

    // What a liquidation's repayment pays the lender can exceed the debt value it removes (as the
    // position values debt: ceil(d * index / 1e18), so d -> d' removes oldDebtAssets - newDebtAssets
    // base units) by at most one base unit, the rounding of the lender's ceil(units * index / 1e18).
    // Otherwise a keeper could name a huge debtAssets (the gate forwards the excess to the owner)
    // and take a bonus on it. liquidation = 1 repays only, so both sides are in [0, 2^96) and the
    // margin in (-2^96, 2^96 + 1]: honest in 97 bits, a negative one wraps far above.
    // Both sides are valued at the proof's debt index, which the gate allows to be ahead of the
    // lender's (RebalanceGate _checkDebt: accrual within one epoch), so the lender may charge up to
    // units * (I_proof - I_lender) / 1e18 less than debtAssets: the bonus base exceeds what the
    // lender took by that much (the gate forwards the difference to the owner). That is a bonus on
    // the interest accrued within one epoch, bounded by liquidationBonus of it: negligible.
    signal repaidMargin[nAssets];
    component repaidCap[nAssets];
    for (var i = 0; i < nAssets; i++) {
        repaidMargin[i] <== liquidation * (oldDebtAssets.debtAssets[i] - newDebtAssets.debtAssets[i] + 1 - debtAssets[i]);
        repaidCap[i] = RangeCheck(AMOUNT + 1);
        repaidCap[i].in <== repaidMargin[i];
    }

    // The bonus is worth at most liquidationBonus bps of what the repayments paid, at the epoch's
    // oracle unit values (quote units * 1e18, exact as the swaps' slippage bound):
    //     liquidationBonus * sum_i repaid_i * u_i - 10^4 * sum_i bonus_i * u_i >= 0
    // repaid_i = debtAssets_i for a repayment (bit 96 of debtDelta + 2^96 clear), else 0. Each term
    // is below 2^96 * 2^124 = 2^220 (u_i = price * 10^18 / scale < 2^64 * 2^60), so each side is
    // below 10^4 * nAssets * 2^220 < 2^237 (8 assets): the difference is honest in that many bits
    // and a negative one wraps above p - 2^237. Outside a liquidation both rates and bonuses are 0.
    signal repaid[nAssets];
    signal repaidValueTerm[nAssets];
    signal bonusValueTerm[nAssets];
    var repaidValue = 0;
    var bonusValue = 0;
    for (var i = 0; i < nAssets; i++) {
        repaid[i] <== debtAssets[i] * (1 - debtDeltaBits[i].out[AMOUNT]);
        repaidValueTerm[i] <== repaid[i] * unitValue[i];
        bonusValueTerm[i] <== bonus[i] * unitValue[i];
        repaidValue += repaidValueTerm[i];
        bonusValue += bonusValueTerm[i];
    }
    signal bonusAllowance <== liquidationBonus * repaidValue;
    component bonusBound = RangeCheck(log2ceil(BPS_ONE() * nAssets * (1 << (AMOUNT + PRICE_BITS() + SCALE_BITS()))));
    bonusBound.in <== bonusAllowance - BPS_ONE() * bonusValue;

    // A liquidation's swaps serve its repayment. Without the three rules below a keeper could
    // "liquidate" by churning the collateral through the pool at the slippage floor (repaying
    // nothing, or a WETH -> USDC -> WETH round trip), sandwich its own swaps and take up to
    // maxSlippage of every amount swapped from the owner, once per grace window.
    // (i) Something is repaid: each repaid[i] is below 2^96 (debtAssets' range), so the sum
    // (< nAssets * 2^96, far below p) is zero only if every repayment is.
    var repaidTotal = 0;
    for (var i = 0; i < nAssets; i++) {
        repaidTotal += repaid[i];
    }
    component nothingRepaid = IsZero();
    nothingRepaid.in <== repaidTotal;
    liquidation * nothingRepaid.out === 0;
    // (ii) Per asset, the swaps' net inflow is at most what the repayment takes:
    //     repaid_i - sum_s bought[s][i] + sum_s sold[s][i] >= 0
    // so a liquidation never leaves the position longer in any asset (an unrepaid asset's net
    // inflow is <= 0) while a two-hop route through a third asset (net 0) stays possible. Every
    // term is below 2^96 (debtAssets, swapIn and swapMinOut are range-checked), so the margin is in
    // (-nSwaps * 2^96, (nSwaps + 1) * 2^96): honest in log2ceil((nSwaps + 1) * 2^96) bits (98 for
    // 2 slots), a negative one wraps above p - nSwaps * 2^96, far above.
    signal buyMargin[nAssets];
    component buyCap[nAssets];
    for (var i = 0; i < nAssets; i++) {
        var net = 0;
        for (var s = 0; s < nSwaps; s++) {
            net += bought[s][i] - sold[s][i];
        }
        buyMargin[i] <== liquidation * (repaid[i] - net);
        buyCap[i] = RangeCheck(log2ceil((nSwaps + 1) * (1 << AMOUNT)));
        buyCap[i].in <== buyMargin[i];
    }
    // (iii) Churn is bounded by the repayment: what the swaps sell, at oracle unit values, is at
    // most nSwaps times the repaid value over the slippage allowance,
    //     nSwaps * 10^6 * sum_i repaid_i * u_i - (10^6 - maxSlippage) * sum_s valueIn[s] >= 0.
    // An honest planner's direct swaps meet it with nSwaps = 1 (each minOut is at most what its
    // repayment takes, by (ii), and worth at least (10^6 - maxSlippage) / 10^6 of what it sells),
    // and nSwaps leaves room for a two-hop route; a round trip is then bounded by the repayment's
    // size. Bounds: repaidValue < nAssets * 2^220 (as bonusBound), 10^6 < 2^20, each valueIn[s]
    // < 2^220 and 10^6 - maxSlippage in [1, 10^6] (slippageRanges), so the margin is in
    // (-nSwaps * 10^6 * 2^220, nSwaps * nAssets * 10^6 * 2^220): honest in
    // log2ceil(nSwaps * nAssets * 10^6 * 2^220) bits (243 for 3x3, 244 for 8x8, 2 slots), and a
    // negative one (magnitude < 2^242) wraps above p - 2^242 > 2^253. The bonus is paid in
    // collateral without a swap, so it does not widen the allowance.
    var valueSold = 0;
    for (var s = 0; s < nSwaps; s++) {
        valueSold += valueIn[s];
    }
    signal slippedSold <== (1000000 - maxSlippage) * valueSold;
    signal churnMargin <== liquidation * (nSwaps * 1000000 * repaidValue - slippedSold);
    component churn = RangeCheck(log2ceil(nSwaps * nAssets * 1000000 * (1 << (AMOUNT + PRICE_BITS() + SCALE_BITS()))));
    churn.in <== churnMargin;

    // The opening of P' (the commitment's words 1.., exactly as PositionOpening packs them; every
    // field is range-checked there), encrypted to the keeper key under the new nonce.
    component opening = OpeningEncryption(nWords);
    opening.words[0] <== salt;
    for (var i = 0; i < nAssets; i++) {
        opening.words[1 + i] <== collateral[i] + debt[i] * (1 << AMOUNT);
    }
    for (var m = 0; m < (nInstruments + 1) \ 2; m++) {
        if (2 * m + 1 < nInstruments) {
            opening.words[1 + nAssets + m] <== (quantity[2 * m] + QUANTITY_OFFSET) + (quantity[2 * m + 1] + QUANTITY_OFFSET) * (1 << AMOUNT);
        } else {
            opening.words[1 + nAssets + m] <== quantity[2 * m] + QUANTITY_OFFSET;
        }
    }
    opening.nonce <== nonce + 1;
    opening.keeperKey <== keeperKey;
    opening.ephemeralSecret <== ephemeralSecret;
    opening.ephemeralKey <== ephemeralKey;
    opening.ciphertext <== ciphertext;
}
