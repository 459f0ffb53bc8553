pragma circom 2.1.9;

include "../lib/bounds.circom";
include "../lib/range-check.circom";

// ParametricVarCheck(nAssets, nInstruments): risk-model.md section 3 (delta-normal) as
// docs/risk-arithmetic.md section 6, comparing squares instead of taking a square root:
//   x_i  = collateralValue_i - debtValue_i + floor((sum_{k: u(k)=i} q_k delta_k p_i + 5e15) / 1e16)
//   Qf   = ceil(x^T Sigma x / 1e12)
//   V    : any V < 2^UNITS_BITS with (V * 1e8)^2 >= quantileZ^2 * horizonDays * Qf   (V >= the true VaR)
//   E    = floor(equity / 1e8) >= 0
//   pass <=>  capitalMultiplier * V <= E * 1e6
// V is a hint the prover may only overstate; its range check matters: -V has the same square.
// Widths (bounds.circom): a passing V is at most E < UNITS_BOUND (capitalMultiplier >= 1e6), so V,
// E and the final difference are checked to what a passing position reaches, and the minimal V
// exceeds the variance term by less than 2^VAR_COVER_BITS. Nothing wraps: V < 2^UNITS_BITS
// (85 at 8x8) keeps (V * 1e8)^2 < 2^224, the term is below 2^246, and a failing difference is a
// negative integer above -2^246 that wraps to about p.
// `enabled` (policy method bit) zeroes the exposures and equity, so every check holds trivially.
// Positions whose delta exposure on one asset reaches 2^84 quote units cannot be proven.
// Caller assumptions: values < 2^80 (AssetValues); |q| < 2^95 (PositionCommitment); |delta| < 2^40
// (InstrumentsDigest); price < 2^64 (AssetsDigest); underlying[k] an asset slot (checked here);
// covariance entries |c| < 2^40 and 1 <= horizonDays <= 1023 (CovarianceDigest); the matrix
// positive semidefinite (else Qf < 0 and no proof exists); quantileZ < 2^30 and
// 1e6 <= capitalMultiplier <= 1e9 (PolicyRanges, in Solvency).
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
    // EXPOSURE_SCALE, far above any exposure: |q * delta * p| < 2^95 * 2^40 * 2^64 = 2^199, summed
    // over at most 256 instruments < 2^207, while SHIFT * EXPOSURE_SCALE + 2^207 < p.
    var SHIFT = 1 << 200;
    enabled * (enabled - 1) === 0;
    // The market root packs underlyings in 8-bit slots; proving each below nAssets pins them.
    assert(nAssets <= 256);

    // Delta exposure, mapped onto each instrument's underlying. The selector is a hint pinned as
    // the one-hot vector of underlying[k]: bits, exactly one set (a sum of at most nAssets bits is
    // 1), and the index of the set one is underlying[k], so underlying[k] is an asset slot.
    signal quantityDelta[nInstruments];
    signal isUnderlying[nInstruments][nAssets];
    signal mapped[nInstruments][nAssets];
    for (var k = 0; k < nInstruments; k++) {
        quantityDelta[k] <== quantity[k] * delta[k];
        var slots = 0;
        var index = 0;
        for (var i = 0; i < nAssets; i++) {
            isUnderlying[k][i] <-- underlying[k] == i ? 1 : 0;
            isUnderlying[k][i] * (isUnderlying[k][i] - 1) === 0;
            mapped[k][i] <== isUnderlying[k][i] * quantityDelta[k];
            slots += isUnderlying[k][i];
            index += i * isUnderlying[k][i];
        }
        slots === 1;
        index === underlying[k];
    }

    signal exposureValue[nAssets];
    signal rounded[nAssets];
    signal x[nAssets];
    component roundingRemainder[nAssets];
    component roundingBound[nAssets];
    for (var i = 0; i < nAssets; i++) {
        var units = 0;
        for (var k = 0; k < nInstruments; k++) {
            units += mapped[k][i];
        }
        exposureValue[i] <== units * price[i];
        // rounded = floor((exposureValue + 5e15) / 1e16), pinned by its remainder in [0, 1e16).
        var shifted = exposureValue[i] + HALF + SHIFT * EXPOSURE_SCALE;
        rounded[i] <-- (shifted \ EXPOSURE_SCALE) - SHIFT;
        roundingRemainder[i] = RemainderCheck(EXPOSURE_SCALE);
        roundingRemainder[i].in <== shifted - (rounded[i] + SHIFT) * EXPOSURE_SCALE;
        // Bounds the rounded exposure (|rounded| < 2^84 quote units). This pins the hint as an
        // integer (the remainder alone fixes it only modulo p) and keeps x^T Sigma x < 2^216.
        roundingBound[i] = RangeCheck(85);
        roundingBound[i].in <== rounded[i] + (1 << 84);
        x[i] <== enabled * (collateralValue[i] - debtValue[i] + rounded[i]);
    }

    // x^T Sigma x from the upper triangle: sum_i x_i * (c_ii x_i + 2 sum_{j>i} c_ij x_j), the same
    // integer as the full double sum (Sigma is symmetric by construction).
    signal row[nUpper];
    signal quadratic[nAssets];
    var form = 0;
    var entry = 0;
    for (var i = 0; i < nAssets; i++) {
        var sigmaX = 0;
        for (var j = i; j < nAssets; j++) {
            row[entry] <== covarianceUpper[entry] * x[j];
            sigmaX += (j == i ? 1 : 2) * row[entry];
            entry++;
        }
        quadratic[i] <== x[i] * sigmaX;
        form += quadratic[i];
    }

    // Qf = ceil(form / 1e12) >= 0, pinned by its remainder in [0, 1e12).
    var COV_SCALE = 1000000000000;
    signal qf <-- (form + COV_SCALE - 1) \ COV_SCALE;
    component qfBound = RangeCheck(176); // so that Z^2 * h * Qf < 2^246 < p
    qfBound.in <== qf;
    component qfRemainder = RemainderCheck(COV_SCALE);
    qfRemainder.in <== qf * COV_SCALE - form;

    // (V * 1e8)^2 >= Z^2 * h * Qf, with V bounded.
    signal zSquared <== quantileZ * quantileZ;
    signal zSquaredH <== zSquared * horizonDays;
    signal varianceTerm <== zSquaredH * qf;
    signal valueAtRisk;
    valueAtRisk <-- varRoot(varianceTerm);
    component varBound = RangeCheck(UNITS_BITS(nAssets, nInstruments)); // a passing V <= E
    varBound.in <== valueAtRisk;
    signal varSquared <== valueAtRisk * valueAtRisk;
    component covers = RangeCheck(VAR_COVER_BITS(nAssets, nInstruments));
    covers.in <== varSquared * 10000000000000000 - varianceTerm;

    // E = floor(equity / 1e8) >= 0, then capitalMultiplier * V <= E * 1e6.
    var QUOTE_SCALE8 = 100000000;
    signal activeEquity <== enabled * equity;
    signal equityUnits <-- activeEquity \ QUOTE_SCALE8;
    component equityBound = RangeCheck(UNITS_BITS(nAssets, nInstruments));
    equityBound.in <== equityUnits;
    component equityRemainder = RemainderCheck(QUOTE_SCALE8);
    equityRemainder.in <== activeEquity - equityUnits * QUOTE_SCALE8;

    signal required <== capitalMultiplier * valueAtRisk;
    component holds = RangeCheck(log2ceil(UNITS_BOUND(nAssets, nInstruments) * RATIO));
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
