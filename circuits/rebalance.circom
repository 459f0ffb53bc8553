pragma circom 2.1.9;

include "./solvency.circom";
include "./position-commitment.circom";
include "./risk/asset-values.circom";
include "./lib/bounds.circom";
include "./lib/range-check.circom";

// Rebalance(nAssets, nInstruments, nScenarios, checks): risk-model.md section 4, as
// docs/rebalance.md. Moves the committed position P (nonce) to P' (nonce + 1) of the same account:
//   - oldCommitment opens to P, newCommitment to P' (same account, nonce + 1, fresh salt);
//   - conservation per asset and instrument, with the public token flows:
//       n'_i = n_i + flow_i + bought_i - sold_i,   q'_k = q_k + bought_k - sold_k,
//     each leg one-sided (bought * sold = 0: a wash trade would only inflate `traded`);
//   - at the epoch's oracle prices and marks, exactly (scale quote units * 1e18, no rounding):
//       0 <= lost = given - gained   and   lost * 1e6 <= maxSlippage * traded;
//   - P' passes the policy's checks (Solvency);
//   - forced = 1 (a keeper's rebalance): P was strictly below the policy's trigger health factor.
// Public: oldCommitment, newCommitment, marketRoot, policyHash (outputs), account, nonce (of P),
// context (as Solvency: the chain and contract the proof is for), forced (0 owner, 1 keeper), flow[nAssets] (signed, field-encoded; deposits and repayments
// positive). The gate contract accepts forced = 0 only from the owner.
// Caller assumptions: as Solvency (market values within docs/risk-arithmetic.md's bounds; token
// decimals <= 18 so 10^18 / 10^decimals is an integer).
template Rebalance(nAssets, nInstruments, nScenarios, checks) {
    var nUpper = nAssets * (nAssets + 1) \ 2;
    var AMOUNT = 96;

    signal input account;
    signal input nonce;
    signal input context;
    signal input forced;
    signal input flow[nAssets];

    // P (old) and P' (new).
    signal input oldSalt;
    signal input oldCollateral[nAssets];
    signal input oldDebt[nAssets];
    signal input oldQuantity[nInstruments];
    signal input salt;
    signal input collateral[nAssets];
    signal input debt[nAssets];
    signal input quantity[nInstruments];

    // Trade legs (private).
    signal input assetBought[nAssets];
    signal input assetSold[nAssets];
    signal input instrumentBought[nInstruments];
    signal input instrumentSold[nInstruments];

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

    signal output oldCommitment;
    signal output newCommitment;
    signal output marketRoot;
    signal output policyHash;

    // P' passes the policy under the committed market; it carries nonce + 1 and the same account.
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

    // Conservation. Legs below 2^96, flows of magnitude below 2^96: with the commitments'
    // ranges, both sides are integers far below p, so the equalities hold over the integers.
    component legRanges[2 * nAssets + 2 * nInstruments + nAssets];
    var r = 0;
    for (var i = 0; i < nAssets; i++) {
        legRanges[r] = RangeCheck(AMOUNT);
        legRanges[r].in <== assetBought[i];
        r++;
        legRanges[r] = RangeCheck(AMOUNT);
        legRanges[r].in <== assetSold[i];
        r++;
        legRanges[r] = RangeCheck(AMOUNT + 1);
        legRanges[r].in <== flow[i] + (1 << AMOUNT);
        r++;
        collateral[i] - debt[i] === oldCollateral[i] - oldDebt[i] + flow[i] + assetBought[i] - assetSold[i];
        // One side per asset: buying and selling the same amount would change nothing but
        // inflate `traded`, and with it the loss the slippage bound lets through. p is prime, so
        // a product of zero means one factor is zero.
        assetBought[i] * assetSold[i] === 0;
    }
    for (var k = 0; k < nInstruments; k++) {
        legRanges[r] = RangeCheck(AMOUNT);
        legRanges[r].in <== instrumentBought[k];
        r++;
        legRanges[r] = RangeCheck(AMOUNT);
        legRanges[r].in <== instrumentSold[k];
        r++;
        quantity[k] === oldQuantity[k] + instrumentBought[k] - instrumentSold[k];
        instrumentBought[k] * instrumentSold[k] === 0;
    }

    // Exact values at quote units * 1e18: an amount of asset i is worth amount * price * (1e18 / scale).
    var E18 = 1000000000000000000;
    signal unitValue[nAssets];
    signal scaleFactor[nAssets];
    signal soldValue[nAssets];
    signal boughtValue[nAssets];
    var given = 0;
    var gained = 0;
    for (var i = 0; i < nAssets; i++) {
        scaleFactor[i] <-- E18 \ scale[i];
        scaleFactor[i] * scale[i] === E18;
        unitValue[i] <== price[i] * scaleFactor[i];
        soldValue[i] <== assetSold[i] * unitValue[i];
        boughtValue[i] <== assetBought[i] * unitValue[i];
        given += soldValue[i];
        gained += boughtValue[i];
    }
    var E10 = 10000000000;
    signal absMark[nInstruments];
    signal markSquared[nInstruments];
    signal hedgeValue[nInstruments];
    signal hedgeTraded[nInstruments];
    component absRanges[nInstruments];
    var traded = given;
    for (var k = 0; k < nInstruments; k++) {
        // |mark|, pinned by its square and its sign range.
        absMark[k] <-- mark[k] > 0 ? mark[k] : -mark[k];
        markSquared[k] <== mark[k] * mark[k];
        absMark[k] * absMark[k] === markSquared[k];
        absRanges[k] = RangeCheck(64);
        absRanges[k].in <== absMark[k];
        hedgeValue[k] <== (instrumentBought[k] - instrumentSold[k]) * mark[k];
        hedgeTraded[k] <== (instrumentBought[k] + instrumentSold[k]) * absMark[k];
        gained += hedgeValue[k] * E10;
        traded += hedgeTraded[k] * E10;
    }
    // given, gained, traded < 2^(96 + 64 + 60 + log) < 2^226; times 1e6 or maxSlippage < 2^246.
    component noValueFromNowhere = RangeCheck(230);
    noValueFromNowhere.in <== given - gained;
    component slippageRange = RangeCheck(20);
    slippageRange.in <== 999999 - maxSlippage;
    signal allowedLoss <== maxSlippage * traded;
    component withinSlippage = RangeCheck(248);
    withinSlippage.in <== allowedLoss - (given - gained) * 1000000;

    // A keeper may force a rebalance only on a position below the trigger (owners need not).
    forced * (forced - 1) === 0;
    component oldValues = AssetValues(nAssets);
    oldValues.collateral <== oldCollateral;
    oldValues.debt <== oldDebt;
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
    component triggerRange = RangeCheck(20);
    triggerRange.in <== triggerHealthFactor;
    signal triggerLine <== triggerHealthFactor * denominator;
    signal triggerMargin <== forced * (triggerLine - numerator - 1);
    // forced = 1: trigger * HFden - HFnum - 1 in [0, 2^20 * nAssets * 2^80) (trigger < 2^20, each
    // vd < 2^80); a position at or above the trigger makes it a negative integer that wraps.
    component belowTrigger = RangeCheck(log2ceil(nAssets * (1 << (20 + VALUE_BITS()))));
    belowTrigger.in <== triggerMargin;
}
