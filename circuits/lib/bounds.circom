pragma circom 2.1.9;

// Bit widths of docs/risk-arithmetic.md ("Bounds"). Comparisons are sized to what an honest
// position within these bounds can reach; soundness only needs every intermediate value to stay
// far below the field prime, which these bounds guarantee with a wide margin.
function VALUE_BITS() { return 80; }       // per-asset value, quote units
function NOTIONAL_BITS() { return 107; }   // |q * m| and |q * g| at quote units * 1e8 (2^80 q.u.)
function RETURN_BITS() { return 31; }      // |asset return| at 1e8
function SCALE_BITS() { return 60; }       // 10^decimals of a token (decimals <= 18)
function BPS_BITS() { return 14; }         // 4-decimal fractions up to 1 (thresholds, weights)
function RATIO_BITS() { return 32; }       // policy ratios at 1e6 (multiplier <= 4294)

function log2ceil(n) {
    var bits = 0;
    while ((1 << bits) < n) bits++;
    return bits;
}

// |E*| and |L*_j| (quote units * 1e8) for nAssets assets and nInstruments instruments.
function EQUITY_BITS(nAssets, nInstruments) {
    return VALUE_BITS() + 27 + log2ceil(nAssets + nInstruments + 1) + 1;
}
function LOSS_BITS(nAssets, nInstruments) {
    return VALUE_BITS() + RETURN_BITS() + log2ceil(nAssets + nInstruments + 1) + 1;
}
