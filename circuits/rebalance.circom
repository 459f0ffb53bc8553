pragma circom 2.1.9;

include "circomlib/circuits/comparators.circom";
include "./solvency.circom";
include "./position-commitment.circom";
include "./risk/asset-values.circom";
include "./risk/debt-assets.circom";
include "./risk/health-factor-check.circom";
include "./lib/bounds.circom";
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
// Public, in snarkjs order: oldCommitment, newCommitment, marketRoot, policyHash (outputs), then
// debtIndex[nAssets] (the market's, for the gate to check against the lender), account, nonce
// (of P), context, forced, fromEmpty, flow[nAssets], debtDelta[nAssets], debtAssets[nAssets],
// swapSell[nSwaps], swapBuy[nSwaps], swapIn[nSwaps], swapMinOut[nSwaps],
// instrumentFlow[nInstruments]. Signed values are field-encoded (p - |x| for -|x|).
// The gate (contracts/RebalanceGate.sol) executes the movements and enforces who may send which.
// Caller assumptions: none on the market: Solvency's digest templates range-check every market
// value (price < 2^64, scale a power of ten up to 10^18 so 10^18 / scale is an integer, ...).
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

    // P' passes the policy under the committed market; it carries nonce + 1 and the same account.
    // Solvency range-checks the market's debt indices (they enter the market root there).
    component next = Solvency(nAssets, nInstruments, nScenarios, checks);
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
    fromEmpty * (fromEmpty - 1) === 0;
    forced * (forced - 1) === 0;
    forced * fromEmpty === 0;
    fromEmpty * nonce === 0;
    fromEmpty * oldSalt === 0;
    // A keeper's transition keeps the owner's salt, so the owner can open the new commitment from
    // the public movements and its own old opening.
    forced * (salt - oldSalt) === 0;
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
    component flowRanges[nAssets];
    component debtDeltaBits[nAssets];
    component debtAssetRanges[nAssets];
    component noDebtMove[nAssets];
    signal signedDebtAssets[nAssets];
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
        collateral[i] === oldCollateral[i] + flow[i] + swapped + signedDebtAssets[i];
        debt[i] === oldDebt[i] + debtDelta[i];
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
    signal triggerMargin <== forced * (triggerLine - numerator - 1);
    // forced = 1: trigger * HFden - HFnum - 1 in [0, 2^20 * nAssets * 2^80) (trigger < 2^20, each
    // vd < 2^80); a position at or above the trigger makes it a negative integer that wraps.
    component belowTrigger = RangeCheck(log2ceil(nAssets * (1 << (20 + VALUE_BITS()))));
    belowTrigger.in <== triggerMargin;

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
    restored.enabled <== forced;
}
