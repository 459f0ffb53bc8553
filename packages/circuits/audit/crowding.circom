pragma circom 2.1.9;

include "circomlib/circuits/bitify.circom";
include "circomlib/circuits/comparators.circom";
include "../lib/bounds.circom";
include "../lib/range-check.circom";

// The audit's crowding figures (docs/audit.md, "Crowding"): for each grid scenario j and asset
// slot i, an upper bound on the value of asset i a position's threshold repair would sell, were
// scenario j to happen. Mirrored exactly by packages/sdk/src/audit/crowding.ts.
//
// The rule, per position and scenario (values moved by the scenario's price factors g_ji):
//   VC_i = vc_i * g_ji, VD_i = vd_i * g_ji                      (quote units * 1e8)
//   A = sum_i LT_i * VC_i, D = sum_i VD_i, h = max(trigger, minHealthFactor) (the planner's target)
//   M = sum_b (h * (2 * (v_b + 1e8) * K_b + 7e8) + 3 * BPS * 1e8), v_b = ceil(p_b / 10^decimals_b) * g_jb,
//       K_b = ceil(I_b / 1e18) (the debt index): the rounding allowance (docs/audit.md, "Why it
//       bounds the planner": the planner's health factor at the scenario's prices vs this rule's)
//   G = max(0, h * D - A + M)                                   (the gap: 0 well above h)
//   e_i = the least gain per unit of value sold of asset i over the ways a sale of i can raise
//         the health factor: repaying debt (k = h) or buying another asset t as collateral
//         (k = LT_t), gain k * (1 - s) - LT_i at slippage s; only the gains > 0 count
//   u_ji = ceil(p_i / 10^decimals_i) * g_ji, at least the value of one base unit of i at scenario prices
//   crowding_ji = min(VC_i, ceil(G * (1 + 1/64) / e_i) + u_ji) when G > 0, else 0; and 0 when no
//         way of selling i helps (G at BPS and e_i at BPS * RATIO: in integers,
//         ceil(65 * RATIO * G / (64 * e_i)) + u_ji)
// Every sale of asset i a repair that stops at h makes is at most G / e_i (each unit of i it sells
// closes at least e_i of the gap, and it stops once the gap is closed) and at most the holding;
// the 1/64 covers the planner's search, which stops up to 1% + 2^-14 above the least amount, and
// u_ji its whole base units (it sells the least whole number of them that restores h). The cap is
// VC_i + g_ji = (floor(c p / S) + 1) g_ji >= c p g_ji / S, the whole holding's value unrounded.
//
// The margin over the least sale: crowding * 64 * e >= 65 * RATIO * G (CROWD_MARGIN_NUM / CROWD_MARGIN_DEN).
function CROWD_MARGIN_NUM() { return 65; }
function CROWD_MARGIN_DEN() { return 64; }
// Price factor g = max(0, 1e8 + r) < 2^31 + 1e8 (|r| <= 2^31, ScenariosDigest).
function CROWD_FACTOR_BOUND() { return (1 << RETURN_BITS()) + 100000000; }
// A moved value VC_i or VD_i (vc_i, vd_i < 2^80, AssetValues) is below 2^CROWD_VALUE_BITS (112).
function CROWD_VALUE_BITS() { return log2ceil((1 << VALUE_BITS()) * CROWD_FACTOR_BOUND()); }
// A health factor h <= MAX_HEALTH_FACTOR() = 1e6 < 2^20.
function CROWD_TRIGGER_BITS() { return log2ceil(MAX_HEALTH_FACTOR() + 1); }
// A gain k * (RATIO - s) - LT_i * RATIO lies in (-2^34, 2^40): k <= 1e6, LT_i <= 1e4, s < RATIO = 1e6.
function CROWD_GAIN_BITS() { return log2ceil(MAX_HEALTH_FACTOR() * RATIO_ONE() + 1); }

// CrowdingPrices(nScenarios, nAssets): once per batch, the price factor of each scenario and
// asset slot, g_ji = max(0, 1e8 + r_ji) for the market's scenarios (j < count) and 0 for the
// padding slots, so a padding scenario moves every value to 0 and asks no position to sell. A
// return below -100% is a price of 0, not a negative one.
// Caller assumptions: 1 <= count <= nScenarios and |r_ji| <= 2^31 (ScenariosDigest range-checks both).
template CrowdingPrices(nScenarios, nAssets) {
    signal input count;
    signal input assetReturn[nScenarios][nAssets];
    signal output factor[nScenarios][nAssets];

    var RATE = 100000000;
    var signBits = RETURN_BITS() + 1;
    var countBits = log2ceil(nScenarios + 1);
    component inMarket[nScenarios];
    component sign[nScenarios][nAssets];
    signal clamped[nScenarios][nAssets];
    for (var j = 0; j < nScenarios; j++) {
        inMarket[j] = LessThan(countBits);
        inMarket[j].in[0] <== j;
        inMarket[j].in[1] <== count;
        for (var i = 0; i < nAssets; i++) {
            // 1e8 + r lies in (-2^32, 2^32): bit 32 of 1e8 + r + 2^32 is its sign.
            sign[j][i] = Num2Bits(signBits + 1);
            sign[j][i].in <== RATE + assetReturn[j][i] + (1 << signBits);
            clamped[j][i] <== sign[j][i].out[signBits] * (RATE + assetReturn[j][i]);
            factor[j][i] <== inMarket[j].out * clamped[j][i];
        }
    }
}

// CrowdingTerms(nAssets): once per batch, the policy's restore target h = max(trigger,
// minHealthFactor) (what the planner's threshold repair restores: rebalance/goal.ts takes the larger
// of its goal, the trigger by default, and the policy's minimum) and, per asset slot i, the least
// positive gain e_i of selling it (the rule above) at RATIO * BPS, with live_i = 0 when no way of
// selling it raises the health factor (then the figure is 0: a repair never sells it).
//
// e_i is a hint. The circuit proves live_i exactly (each gain's sign is computed) and e_i <= every
// positive gain, so e_i is at most the true least: a smaller e_i only overstates the figures. The
// sinks are h and the liquidation threshold of every other asset slot (a padding slot's is 0, never
// a gain): a superset of where the planner puts the proceeds of a sale (a repayment, or the swap
// into the market's safest asset), so the least gain is no more than the planner's.
// Caller assumptions: threshold <= 1e4 (AssetsDigest); 1 <= minHealthFactor <= 1e6 (PolicyRanges).
// triggerHealthFactor and maxSlippage are range-checked here, to the policy parser's bounds.
template CrowdingTerms(nAssets) {
    signal input threshold[nAssets];
    signal input minHealthFactor;
    signal input triggerHealthFactor;
    signal input maxSlippage;
    signal output target;
    signal output efficiency[nAssets];
    signal output live[nAssets];

    var RATIO = RATIO_ONE();
    var hBits = CROWD_TRIGGER_BITS();
    var gainBits = CROWD_GAIN_BITS();

    component triggerRange = InRange(hBits, 1, MAX_HEALTH_FACTOR());
    triggerRange.in <== triggerHealthFactor;
    // s in [0, RATIO): RATIO - 1 - s is a 20-bit number.
    component slippageRange = RangeCheck(log2ceil(RATIO));
    slippageRange.in <== RATIO - 1 - maxSlippage;
    component slippageBits = RangeCheck(log2ceil(RATIO));
    slippageBits.in <== maxSlippage;

    // h = max(trigger, minimum): both in [1, 1e6], so a 20-bit comparison is exact.
    component below = LessThan(hBits);
    below.in[0] <== triggerHealthFactor;
    below.in[1] <== minHealthFactor;
    target <== triggerHealthFactor + below.out * (minHealthFactor - triggerHealthFactor);

    // Sink k's value per unit of value sold: k * (1 - s), at BPS * RATIO.
    signal kept <== RATIO - maxSlippage;
    signal repayValue <== target * kept;
    signal collateralValue[nAssets];
    for (var t = 0; t < nAssets; t++) collateralValue[t] <== threshold[t] * kept;

    // Per asset i, sink 0 is the repayment and sink m (1 <= m < nAssets) the m-th other slot.
    component positive[nAssets][nAssets];
    component atMost[nAssets][nAssets];
    signal none[nAssets][nAssets];
    component eRange[nAssets];
    for (var i = 0; i < nAssets; i++) {
        var gains[nAssets];
        gains[0] = repayValue - threshold[i] * RATIO;
        var m = 1;
        for (var t = 0; t < nAssets; t++) {
            if (t != i) {
                gains[m] = collateralValue[t] - threshold[i] * RATIO;
                m++;
            }
        }
        // The honest hint: the least positive gain, 0 when none is positive. (if, not ?:, as the
        // witness code evaluates both sides of a conditional expression.)
        var least = 0;
        for (var k = 0; k < nAssets; k++) {
            var g = gains[k];
            if (g > 0) {
                if (least == 0 || g < least) least = g;
            }
        }
        efficiency[i] <-- least;
        eRange[i] = RangeCheck(gainBits);
        eRange[i].in <== efficiency[i];
        for (var k = 0; k < nAssets; k++) {
            // gain in (-2^gainBits, 2^gainBits): bit gainBits of gain - 1 + 2^gainBits is gain >= 1.
            positive[i][k] = Num2Bits(gainBits + 1);
            positive[i][k].in <== gains[k] - 1 + (1 << gainBits);
            // A positive gain bounds e_i: gain - e_i >= 0 (both below 2^gainBits, so exact).
            atMost[i][k] = RangeCheck(gainBits);
            atMost[i][k].in <== positive[i][k].out[gainBits] * (gains[k] - efficiency[i]);
            none[i][k] <== (k == 0 ? 1 : none[i][k - 1]) * (1 - positive[i][k].out[gainBits]);
        }
        live[i] <== 1 - none[i][nAssets - 1];
    }
}

// CrowdingUnits(nScenarios, nAssets): once per batch, per scenario j and asset slot i, e_i * u_ji
// with u_ji = ceil(price_i / scale_i) * g_ji (the rule above): the term one base unit adds to
// CrowdingLeaf's check; and per scenario the rounding allowance M_j (the rule above).
// ceil(price / scale) is a hint U pinned by U * scale - price in [0, scale); ceil(I / 1e18) a hint
// K pinned by K * 1e18 - I in [0, 1e18).
// Caller assumptions: price < 2^64, 1 <= scale < 2^60, 1e18 <= debtIndex < 2^64 (AssetsDigest);
// efficiency < 2^40 and 1 <= target <= 1e6 (CrowdingTerms); factor < 2^32 (CrowdingPrices).
// M_j < nAssets * 2^20 * (2 * 2^97 * 19 + 2^30) + 2^44 < 2^(124 + log2ceil(nAssets)).
template CrowdingUnits(nScenarios, nAssets) {
    signal input price[nAssets];
    signal input scale[nAssets];
    signal input debtIndex[nAssets];
    signal input target;
    signal input efficiency[nAssets];
    signal input factor[nScenarios][nAssets];
    signal output unitTerm[nScenarios][nAssets];
    signal output margin[nScenarios];

    var RATE = 100000000;
    var INDEX = DEBT_INDEX_SCALE();
    // K = ceil(I / 1e18) <= 19 (I < 2^64 < 19e18): a 5-bit number; 1e18 < 2^60.
    signal indexUnits[nAssets];
    component indexRange[nAssets];
    component indexOver[nAssets];
    component indexUnder[nAssets];
    for (var b = 0; b < nAssets; b++) {
        indexUnits[b] <-- (debtIndex[b] + INDEX - 1) \ INDEX;
        indexRange[b] = RangeCheck(5);
        indexRange[b].in <== indexUnits[b];
        indexOver[b] = RangeCheck(60);
        indexOver[b].in <== indexUnits[b] * INDEX - debtIndex[b];
        indexUnder[b] = RangeCheck(60);
        indexUnder[b].in <== INDEX - 1 - (indexUnits[b] * INDEX - debtIndex[b]);
    }

    signal unit[nAssets];
    signal scaledGain[nAssets];
    component unitRange[nAssets];
    component over[nAssets];
    component under[nAssets];
    for (var i = 0; i < nAssets; i++) {
        unit[i] <-- (price[i] + scale[i] - 1) \ scale[i];
        unitRange[i] = RangeCheck(PRICE_BITS());
        unitRange[i].in <== unit[i];
        // U * scale - price in [0, scale): U = ceil(price / scale) (no wrap: U < 2^64, scale < 2^60).
        over[i] = RangeCheck(SCALE_BITS());
        over[i].in <== unit[i] * scale[i] - price[i];
        under[i] = RangeCheck(SCALE_BITS());
        under[i].in <== scale[i] - 1 - (unit[i] * scale[i] - price[i]);
        scaledGain[i] <== efficiency[i] * unit[i];
        for (var j = 0; j < nScenarios; j++) unitTerm[j][i] <== scaledGain[i] * factor[j][i];
    }
    // M_j = sum_b (h (2 (v_jb + 1e8) K_b + 7e8) + 3 BPS 1e8), v_jb = U_b g_jb (docs/audit.md).
    signal unitValue[nScenarios][nAssets];
    signal indexed[nScenarios][nAssets];
    signal slotMargin[nScenarios][nAssets];
    for (var j = 0; j < nScenarios; j++) {
        var total = 0;
        for (var b = 0; b < nAssets; b++) {
            unitValue[j][b] <== unit[b] * factor[j][b];
            indexed[j][b] <== (unitValue[j][b] + RATE) * indexUnits[b];
            slotMargin[j][b] <== target * (2 * indexed[j][b] + 7 * RATE);
            total += slotMargin[j][b] + 3 * BPS_ONE() * RATE;
        }
        margin[j] <== total;
    }
}

// CrowdingLeaf(nAssets, nScenarios): one position's crowding figures (the rule above).
//
// Per scenario, G = max(0, h D - A + M) and pos = (G > 0) by the sign of h D - A + M - 1. Per scenario and
// asset the figure c is a hint with a flag f: f = 1 gives c = VC_i + g_ji (the whole holding, rounded up); f = 0 needs
// c * 64 * e_i >= 65 * RATIO * G + pos * 64 * e_i * u_ji (no less than the margin over the least
// sale and a base unit), unless live_i = 0. Either way c >=
// min(VC_i, the bound), so a prover can overstate a figure but never understate it; the honest
// prover (the model) takes f = 1 exactly when the bound reaches the holding, and the least c.
//
// Ranges (honest values):
//   VC_i, VD_i < 2^112 (CROWD_VALUE_BITS); D, A < nAssets * 2^112 * {1e6, 1e4}, M < 2^(124 +
//     log2ceil(nAssets)), so |h D - A + M| < 2^gapBits (135 at 3 assets) and its sign split is exact;
//   c < 2^112 (c <= VC_i + g_ji <= 2^80 g_ji), range-checked, so c * 64 e_i < 2^158, 65 RATIO G < 2^162 and
//     64 e_i u_ji < 2^142: the check, honestly in [0, 64 e_i) below 2^(gainBits + 6), cannot wrap.
// Caller assumptions: active is a bit; collateralValue, debtValue < 2^80 (AssetValues);
// threshold <= 1e4 (AssetsDigest); target, efficiency, live from CrowdingTerms; factor from
// CrowdingPrices (< 2^31 + 1e8); unitTerm and margin from CrowdingUnits.
template CrowdingLeaf(nAssets, nScenarios) {
    signal input active;
    signal input collateralValue[nAssets];
    signal input debtValue[nAssets];
    signal input threshold[nAssets];
    signal input target;
    signal input efficiency[nAssets];
    signal input live[nAssets];
    signal input factor[nScenarios][nAssets];
    signal input unitTerm[nScenarios][nAssets];
    signal input margin[nScenarios];
    signal output crowding[nScenarios][nAssets];

    var valueBits = CROWD_VALUE_BITS();
    var gapBits = valueBits + log2ceil(nAssets) + CROWD_TRIGGER_BITS() + 1;
    var checkBits = CROWD_GAIN_BITS() + log2ceil(CROWD_MARGIN_DEN());

    signal weighted[nAssets];
    for (var i = 0; i < nAssets; i++) weighted[i] <== threshold[i] * collateralValue[i];

    signal movedCollateral[nScenarios][nAssets];
    signal movedDebt[nScenarios][nAssets];
    signal movedWeighted[nScenarios][nAssets];
    signal targetDebt[nScenarios];
    component sign[nScenarios];
    signal gap[nScenarios];
    signal whole[nScenarios][nAssets];
    signal figure[nScenarios][nAssets];
    signal bounded[nScenarios][nAssets];
    signal scaled[nScenarios][nAssets];
    signal unitPart[nScenarios][nAssets];
    signal check[nScenarios][nAssets];
    component figureRange[nScenarios][nAssets];
    component checkRange[nScenarios][nAssets];

    for (var j = 0; j < nScenarios; j++) {
        var weightedSum = 0;
        var debtSum = 0;
        for (var i = 0; i < nAssets; i++) {
            movedCollateral[j][i] <== collateralValue[i] * factor[j][i];
            movedDebt[j][i] <== debtValue[i] * factor[j][i];
            movedWeighted[j][i] <== weighted[i] * factor[j][i];
            weightedSum += movedWeighted[j][i];
            debtSum += movedDebt[j][i];
        }
        targetDebt[j] <== target * debtSum;
        // h D - A + M in (-2^gapBits, 2^gapBits): bit gapBits of h D - A + M - 1 + 2^gapBits is (h D - A + M >= 1).
        sign[j] = Num2Bits(gapBits + 1);
        sign[j].in <== targetDebt[j] - weightedSum + margin[j] - 1 + (1 << gapBits);
        gap[j] <== sign[j].out[gapBits] * (targetDebt[j] - weightedSum + margin[j]);

        for (var i = 0; i < nAssets; i++) {
            // The honest hints: the least c with c * 64 e >= 65 RATIO G + pos 64 e u, capped at the holding.
            var c = 0;
            var takeAll = 0;
            if (live[i] == 1) {
                var want = (gap[j] * CROWD_MARGIN_NUM() * RATIO_ONE() + CROWD_MARGIN_DEN() * efficiency[i] - 1) \ (CROWD_MARGIN_DEN() * efficiency[i]);
                if (sign[j].out[gapBits] == 1) want += unitTerm[j][i] \ efficiency[i];
                if (want >= movedCollateral[j][i] + factor[j][i]) {
                    takeAll = 1;
                    c = movedCollateral[j][i] + factor[j][i];
                } else {
                    c = want;
                }
            }
            whole[j][i] <-- takeAll;
            figure[j][i] <-- c;
            whole[j][i] * (whole[j][i] - 1) === 0;
            whole[j][i] * (figure[j][i] - movedCollateral[j][i] - factor[j][i]) === 0;
            figureRange[j][i] = RangeCheck(valueBits);
            figureRange[j][i].in <== figure[j][i];
            // Checked when neither the whole holding nor a dead asset: c * 64 e - 65 RATIO G - pos * 64 e u >= 0.
            bounded[j][i] <== (1 - whole[j][i]) * live[i];
            scaled[j][i] <== figure[j][i] * efficiency[i];
            unitPart[j][i] <== sign[j].out[gapBits] * unitTerm[j][i];
            check[j][i] <== bounded[j][i] * ((scaled[j][i] - unitPart[j][i]) * CROWD_MARGIN_DEN() - gap[j] * (CROWD_MARGIN_NUM() * RATIO_ONE()));
            checkRange[j][i] = RangeCheck(checkBits);
            checkRange[j][i].in <== check[j][i];
            // A padding slot sells nothing.
            crowding[j][i] <== active * figure[j][i];
        }
    }
}
