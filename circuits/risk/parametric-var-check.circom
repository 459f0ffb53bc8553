pragma circom 2.1.9;

include "circomlib/circuits/comparators.circom";
include "../lib/bounds.circom";
include "../lib/range-check.circom";

// ParametricVarCheck(nAssets, nInstruments): risk-model.md section 3 (delta-normal) as
// docs/risk-arithmetic.md section 6, comparing squares instead of taking a square root:
//   x_i  = collateralValue_i - debtValue_i + floor((sum_{k: u(k)=i} q_k delta_k p_i + 5e15) / 1e16)
//   Qf   = ceil(x^T Sigma x / 1e12)
//   V    : any V < 2^96 with (V * 1e8)^2 >= quantileZ^2 * horizonDays * Qf   (V >= the true VaR)
//   E    = floor(equity / 1e8) >= 0
//   pass <=>  capitalMultiplier * V <= E * 1e6
// V is a hint the prover may only overstate; its range check matters: -V has the same square.
// `enabled` (policy method bit) zeroes the exposures and equity, so every check holds trivially.
// Positions whose delta exposure on one asset reaches 2^84 quote units cannot be proven.
// Caller assumptions: values < 2^80; |q| < 2^95; |delta| < 2^31; price < 2^64; underlying[k] an
// asset slot (checked here); covariance entries |c| < 2^40, positive semidefinite (else Qf < 0
// and no proof exists); quantileZ < 2^30; horizonDays < 2^10; capitalMultiplier < 2^32.
// Positions whose Qf exceeds 2^176 (far beyond the value bounds) cannot be proven.
template ParametricVarCheck(nAssets, nInstruments) {
    var nUpper = nAssets * (nAssets + 1) \ 2;
    signal input enabled;
    signal input equity;
    signal input collateralValue[nAssets];
    signal input debtValue[nAssets];
    signal input price[nAssets];
    signal input quantity[nInstruments];
    signal input delta[nInstruments];
    signal input underlying[nInstruments];
    signal input covarianceUpper[nUpper];
    signal input horizonDays;
    signal input quantileZ;
    signal input capitalMultiplier;

    var RATIO = 1000000;
    var EXPOSURE_SCALE = 10000000000000000; // QTY * RATE = 1e16
    var HALF = 5000000000000000;
    // Shifts signed exposures to positive before the integer division of the hint; a multiple of
    // EXPOSURE_SCALE, far above any |q * delta * p| < 2^195.
    var SHIFT = 1 << 200;
    enabled * (enabled - 1) === 0;

    // Delta exposure, mapped onto each instrument's underlying (one-hot, exactly one slot).
    signal quantityDelta[nInstruments];
    component isUnderlying[nInstruments][nAssets];
    signal mapped[nInstruments][nAssets];
    for (var k = 0; k < nInstruments; k++) {
        quantityDelta[k] <== quantity[k] * delta[k];
        var slots = 0;
        for (var i = 0; i < nAssets; i++) {
            isUnderlying[k][i] = IsEqual();
            isUnderlying[k][i].in[0] <== underlying[k];
            isUnderlying[k][i].in[1] <== i;
            mapped[k][i] <== isUnderlying[k][i].out * quantityDelta[k];
            slots += isUnderlying[k][i].out;
        }
        slots === 1;
    }

    signal exposureValue[nAssets];
    signal rounded[nAssets];
    signal x[nAssets];
    component roundingChecks[nAssets][3];
    for (var i = 0; i < nAssets; i++) {
        var units = 0;
        for (var k = 0; k < nInstruments; k++) {
            units += mapped[k][i];
        }
        exposureValue[i] <== units * price[i];
        // rounded = floor((exposureValue + 5e15) / 1e16), pinned by its remainder in [0, 1e16).
        var shifted = exposureValue[i] + HALF + SHIFT * EXPOSURE_SCALE;
        rounded[i] <-- (shifted \ EXPOSURE_SCALE) - SHIFT;
        roundingChecks[i][0] = RangeCheck(54);
        roundingChecks[i][0].in <== shifted - (rounded[i] + SHIFT) * EXPOSURE_SCALE;
        roundingChecks[i][1] = RangeCheck(54);
        roundingChecks[i][1].in <== EXPOSURE_SCALE - 1 - (shifted - (rounded[i] + SHIFT) * EXPOSURE_SCALE);
        // Bounds the rounded exposure (|rounded| < 2^84 quote units). This pins the hint as an
        // integer (the remainder alone fixes it only modulo p) and keeps x^T Sigma x < 2^216.
        roundingChecks[i][2] = RangeCheck(85);
        roundingChecks[i][2].in <== rounded[i] + (1 << 84);
        x[i] <== enabled * (collateralValue[i] - debtValue[i] + rounded[i]);
    }

    // x^T Sigma x from the upper triangle.
    signal row[nAssets][nAssets];
    signal quadratic[nAssets];
    var form = 0;
    for (var i = 0; i < nAssets; i++) {
        var sigmaX = 0;
        for (var j = 0; j < nAssets; j++) {
            var a = i < j ? i : j;
            var b = i < j ? j : i;
            var index = a * nAssets - a * (a - 1) \ 2 + (b - a);
            row[i][j] <== covarianceUpper[index] * x[j];
            sigmaX += row[i][j];
        }
        quadratic[i] <== x[i] * sigmaX;
        form += quadratic[i];
    }

    // Qf = ceil(form / 1e12) >= 0, pinned by its remainder in [0, 1e12).
    var COV_SCALE = 1000000000000;
    signal qf <-- (form + COV_SCALE - 1) \ COV_SCALE;
    component qfChecks[3];
    qfChecks[0] = RangeCheck(176); // so that Z^2 * h * Qf < 2^246 and (V * 1e8)^2 cannot wrap
    qfChecks[0].in <== qf;
    qfChecks[1] = RangeCheck(40);
    qfChecks[1].in <== qf * COV_SCALE - form;
    qfChecks[2] = RangeCheck(40);
    qfChecks[2].in <== COV_SCALE - 1 - (qf * COV_SCALE - form);

    // (V * 1e8)^2 >= Z^2 * h * Qf, with V bounded.
    signal zSquared <== quantileZ * quantileZ;
    signal zSquaredH <== zSquared * horizonDays;
    signal varianceTerm <== zSquaredH * qf;
    signal valueAtRisk;
    valueAtRisk <-- varRoot(varianceTerm);
    component varBound = RangeCheck(96); // (V * 1e8)^2 < 2^246 < p
    varBound.in <== valueAtRisk;
    signal varSquared <== valueAtRisk * valueAtRisk;
    component covers = RangeCheck(246);
    covers.in <== varSquared * 10000000000000000 - varianceTerm;

    // E = floor(equity / 1e8) >= 0, then capitalMultiplier * V <= E * 1e6.
    var QUOTE_SCALE8 = 100000000;
    signal activeEquity <== enabled * equity;
    signal equityUnits <-- activeEquity \ QUOTE_SCALE8;
    component equityChecks[3];
    equityChecks[0] = RangeCheck(EQUITY_BITS(nAssets, nInstruments));
    equityChecks[0].in <== equityUnits;
    equityChecks[1] = RangeCheck(27);
    equityChecks[1].in <== activeEquity - equityUnits * QUOTE_SCALE8;
    equityChecks[2] = RangeCheck(27);
    equityChecks[2].in <== QUOTE_SCALE8 - 1 - (activeEquity - equityUnits * QUOTE_SCALE8);

    signal required <== capitalMultiplier * valueAtRisk;
    component holds = RangeCheck(EQUITY_BITS(nAssets, nInstruments) + 21);
    holds.in <== equityUnits * RATIO - required;
}

// ceil(sqrt(term) / 1e8): the smallest V with (V * 1e8)^2 >= term (witness computation only).
function varRoot(term) {
    if (term == 0) return 0;
    // Integer square root by Newton's method, then round up to a multiple of 1e8.
    var r = term;
    var y = (r + 1) \ 2;
    while (y < r) {
        r = y;
        y = (r + term \ r) \ 2;
    }
    if (r * r < term) r = r + 1;
    var v = (r + 99999999) \ 100000000;
    return v;
}
