pragma circom 2.1.9;

include "circomlib/circuits/bitify.circom";
include "circomlib/circuits/comparators.circom";
include "../lib/bounds.circom";
include "../lib/range-check.circom";

// The audit's crowding figures (docs/audit.md, "Crowding"): for each grid scenario j and asset
// slot i, the collateral value a position would sell net of the debt it would repay in that
// asset, were scenario j to happen and the position deleverage back to the policy's trigger
// health factor h. Mirrored exactly by packages/sdk/src/audit/crowding.ts.
//
// The rule, per position and scenario (values moved by the scenario's price factors g_ji):
//   VC_i = vc_i * g_ji, VD_i = vd_i * g_ji                      (quote units * 1e8)
//   A = sum_i LT_i * VC_i, C = sum_i VC_i, D = sum_i VD_i
//   nothing to do when A >= h * D; else sell collateral pro rata to value and repay debt pro
//   rata to value, the least total x with (A - x A / C) >= h (D - x) i.e.
//     rho = x / C = (h D - A) / (h C - A), capped at 1 (everything sold)
//   rho and beta = x / D (capped at 1: no more than the debt) are fixed-point at CROWD_RATIO = 2^20:
//   rho rounded up, beta rounded down, so the figure below is never understated;
//   crowding_ji = ceil(max(0, VC_i * rho - VD_i * beta) / 2^20)       (quote units * 1e8)
// A position buying the asset to repay debt in it (a negative difference) counts 0: it does not
// offset another position's sale.

// rho and beta are at 2^CROWD_RATIO_BITS: a power of two, so dividing the figure by it is the
// bits of its sign split (free), and the range [0, 2^20] is a 20-bit split and a flag.
function CROWD_RATIO_BITS() { return 20; }
// Price factor g = max(0, 1e8 + r) < 2^31 + 1e8 (|r| <= 2^31, ScenariosDigest).
function CROWD_FACTOR_BOUND() { return (1 << RETURN_BITS()) + 100000000; }
// A moved value VC_i or VD_i (vc_i, vd_i < 2^80, AssetValues) is below 2^CROWD_VALUE_BITS (112).
function CROWD_VALUE_BITS() { return log2ceil((1 << VALUE_BITS()) * CROWD_FACTOR_BOUND()); }
// The trigger health factor h <= MAX_HEALTH_FACTOR() = 1e6 < 2^20.
function CROWD_TRIGGER_BITS() { return log2ceil(MAX_HEALTH_FACTOR() + 1); }

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

// CrowdingLeaf(nAssets, nScenarios): one position's crowding figures (the rule above).
//
// rho and beta are hints. The circuit proves, per scenario, only what keeps the figure from
// being understated: rho in [0, 2^20] with either rho = 2^20 (everything sold) or
// rho * (h C - A) >= (h D - A) * 2^20 (the sale restores the health factor to h; for rho = 0
// that is A >= h D, nothing to do); beta in [0, 2^20] with beta * D <= rho * C (the repayment is
// no more than the sale, nor than the debt). The figure grows with rho and shrinks with beta, so a
// prover can overstate it (a larger rho, a smaller beta) but never understate it. An honest
// prover's hints are exact (the smallest rho, the largest beta), as the model computes them.
//
// Ranges (honest values; a dishonest one wraps and fails every check below):
//   the rho check, -(h D - A) <= A or rho (h C - A) - (h D - A) 2^20 < h C - A, below
//     nAssets * 2^112 * 2^20 (checkBits, 134 at 3 assets);
//   the beta check, rho C - beta D < max(C, D) < nAssets * 2^112 (repayBits, 114): beta is the floor,
//     or it is capped and the rounding of rho overshoots the debt by less than C / 2^20;
//   VC_i rho - VD_i beta in (-2^132, 2^132) (netBits).
// Caller assumptions: active is a bit; collateralValue, debtValue < 2^80 (AssetValues);
// threshold <= 1e4 (AssetsDigest); 1 <= trigger <= 1e6 (AuditBatch); factor < 2^31 + 1e8 (CrowdingPrices).
template CrowdingLeaf(nAssets, nScenarios) {
    signal input active;
    signal input collateralValue[nAssets];
    signal input debtValue[nAssets];
    signal input threshold[nAssets];
    signal input trigger;
    signal input factor[nScenarios][nAssets];
    signal output crowding[nScenarios][nAssets];

    var ratioBits = CROWD_RATIO_BITS();
    var ONE = 1 << ratioBits;
    var valueBits = CROWD_VALUE_BITS();
    var checkBits = valueBits + log2ceil(nAssets) + CROWD_TRIGGER_BITS();
    var repayBits = valueBits + log2ceil(nAssets);
    var netBits = valueBits + ratioBits;

    signal weighted[nAssets];
    for (var i = 0; i < nAssets; i++) weighted[i] <== threshold[i] * collateralValue[i];

    signal movedCollateral[nScenarios][nAssets];
    signal movedDebt[nScenarios][nAssets];
    signal movedWeighted[nScenarios][nAssets];
    signal triggerDebt[nScenarios];
    signal triggerCollateral[nScenarios];
    signal rhoFull[nScenarios];
    signal rhoLow[nScenarios];
    signal rhoZero[nScenarios];
    component rhoBits[nScenarios];
    signal zeroShortfall[nScenarios];
    signal rhoTimesRoom[nScenarios];
    signal restores[nScenarios];
    component rhoCheck[nScenarios];
    signal betaFull[nScenarios];
    signal betaLow[nScenarios];
    component betaBits[nScenarios];
    signal sold[nScenarios];
    signal repaid[nScenarios];
    component betaCheck[nScenarios];
    signal activeRho[nScenarios];
    signal saleShare[nScenarios][nAssets];
    signal repayShare[nScenarios][nAssets];
    component net[nScenarios][nAssets];

    for (var j = 0; j < nScenarios; j++) {
        var weightedSum = 0;
        var collateralSum = 0;
        var debtSum = 0;
        for (var i = 0; i < nAssets; i++) {
            movedCollateral[j][i] <== collateralValue[i] * factor[j][i];
            movedDebt[j][i] <== debtValue[i] * factor[j][i];
            movedWeighted[j][i] <== weighted[i] * factor[j][i];
            weightedSum += movedWeighted[j][i];
            collateralSum += movedCollateral[j][i];
            debtSum += movedDebt[j][i];
        }
        triggerDebt[j] <== trigger * debtSum;
        triggerCollateral[j] <== trigger * collateralSum;
        // shortfall = h D - A (> 0: below the trigger), room = h C - A (what selling everything gains).
        var shortfall = triggerDebt[j] - weightedSum;
        var room = triggerCollateral[j] - weightedSum;

        // rho = 0 when not below the trigger; 2^20 when even selling everything does not restore h
        // (shortfall >= room, which holds when room <= 0); else ceil(shortfall * 2^20 / room).
        // circom compares field elements as signed values, so shortfall > 0 is the integer test.
        // (if, not ?: : the witness code evaluates both sides of a conditional expression.)
        var rho = 0;
        if (shortfall > 0) {
            if (shortfall >= room) {
                rho = ONE;
            } else {
                rho = (shortfall * ONE + room - 1) \ room;
            }
        }
        rhoFull[j] <-- rho == ONE ? 1 : 0;
        rhoLow[j] <-- rho == ONE ? 0 : rho;
        rhoZero[j] <-- rho == 0 ? 1 : 0;
        rhoFull[j] * (rhoFull[j] - 1) === 0;
        rhoZero[j] * (rhoZero[j] - 1) === 0;
        rhoBits[j] = Num2Bits(ratioBits);
        rhoBits[j].in <== rhoLow[j];
        // rho = 2^20 * full + low with low < 2^20 and low = 0 when full: rho in [0, 2^20].
        rhoFull[j] * rhoLow[j] === 0;
        var rhoValue = rhoFull[j] * ONE + rhoLow[j];
        // zero => rho = 0 (and so not full): the three cases exclude each other.
        rhoZero[j] * rhoValue === 0;
        zeroShortfall[j] <== rhoZero[j] * shortfall;
        rhoTimesRoom[j] <== rhoValue * room;
        // In between (neither zero nor full): rho * room - shortfall * 2^20 >= 0.
        restores[j] <== (1 - rhoZero[j] - rhoFull[j]) * (rhoTimesRoom[j] - shortfall * ONE);
        // zero: -shortfall >= 0 (not below the trigger); full: nothing to check.
        rhoCheck[j] = RangeCheck(checkBits);
        rhoCheck[j].in <== restores[j] - zeroShortfall[j];

        // beta = min(2^20, floor(rho * C / D)), 0 without debt (then rho = 0 too).
        var beta = 0;
        if (debtSum != 0) {
            beta = (rho * collateralSum) \ debtSum;
            if (beta > ONE) {
                beta = ONE;
            }
        }
        betaFull[j] <-- beta == ONE ? 1 : 0;
        betaLow[j] <-- beta == ONE ? 0 : beta;
        betaFull[j] * (betaFull[j] - 1) === 0;
        betaBits[j] = Num2Bits(ratioBits);
        betaBits[j].in <== betaLow[j];
        betaFull[j] * betaLow[j] === 0;
        var betaValue = betaFull[j] * ONE + betaLow[j];
        sold[j] <== rhoValue * collateralSum;
        repaid[j] <== betaValue * debtSum;
        // Repay no more than the sale: beta * D <= rho * C.
        betaCheck[j] = RangeCheck(repayBits);
        betaCheck[j].in <== sold[j] - repaid[j];

        // A padding slot sells nothing (its repayments only lower its differences below 0).
        activeRho[j] <== active * rhoValue;
        for (var i = 0; i < nAssets; i++) {
            saleShare[j][i] <== movedCollateral[j][i] * activeRho[j];
            repayShare[j][i] <== movedDebt[j][i] * betaValue;
            // d = sale - repayment (at 2^20); bit netBits of d - 1 + 2^netBits is 1 exactly when
            // d >= 1, and then its bits 20 .. netBits - 1 are floor((d - 1) / 2^20), so the figure
            // ceil(d / 2^20) = floor((d - 1) / 2^20) + 1 costs no division.
            net[j][i] = Num2Bits(netBits + 1);
            net[j][i].in <== saleShare[j][i] - repayShare[j][i] - 1 + (1 << netBits);
            var high = 0;
            for (var b = ratioBits; b < netBits; b++) high += net[j][i].out[b] * (1 << (b - ratioBits));
            crowding[j][i] <== net[j][i].out[netBits] * (high + 1);
        }
    }
}
