pragma circom 2.1.9;

// Bit widths of docs/risk-arithmetic.md ("Bounds"). Comparisons are sized to what an honest
// position within these bounds can reach; soundness only needs every intermediate value to stay
// far below the field prime, which these bounds guarantee with a wide margin.
function VALUE_BITS() { return 80; }       // per-asset value, quote units
function NOTIONAL_BITS() { return 107; }   // |q * m| and |q * g| at quote units * 1e8 (2^80 q.u.)
function RETURN_BITS() { return 31; }      // |asset return| at 1e8
function SCALE_BITS() { return 60; }       // 10^decimals of a token (decimals <= 18)
function BPS_BITS() { return 14; }         // 4-decimal fractions up to 1 (thresholds, weights)
function BPS_ONE() { return 10000; }       // 1 at 4 decimals: thresholds and weights are <= BPS_ONE (< 2^14)
function RATIO_BITS() { return 32; }       // policy ratios at 1e6: the historical VaR remainder checks assume multiplier < 2^32
function RATIO_ONE() { return 1000000; }   // 1 at 6 decimals (confidence, capital multiplier)
// Policy bounds (PolicyRanges, the policy parser): health factors in (0, 100] at 1e4, the capital
// multiplier in [1, 1000] at 1e6.
function MAX_HEALTH_FACTOR() { return 1000000; }
function MAX_CAPITAL_MULTIPLIER() { return 1000000000; }
function DEBT_ASSETS_BITS() { return 96; } // debt valued through its index, base units (as any amount)
function DEBT_INDEX_BITS() { return 64; }  // debt index at 1e18: 10^18 <= index < 2^64 (below 18.45)
function DEBT_INDEX_SCALE() { return 1000000000000000000; }  // 10^18: index 1
// Market values, each range-checked once per circuit by the digest template of its market-root
// section (circuits/market/*.circom), so no statement assumes them of the oracle:
function PRICE_BITS() { return 64; }       // 0 <= price < 2^64 quote units per whole token
function MAX_DECIMALS() { return 18; }     // scale = 10^decimals, decimals in [0, 18]
function MARK_BITS() { return 64; }        // |instrument mark| < 2^64 quote units per contract
function DELTA_BITS() { return 40; }       // |delta| < 2^40 at 1e8 (10,995 underlying units per contract)
function PNL_BITS() { return 49; }         // |scenario PnL| < 2^49 quote units per contract (5 per 250-bit word)
function COVARIANCE_BITS() { return 40; }  // |covariance entry| < 2^40 at 1e12
function HORIZON_BITS() { return 10; }     // 1 <= horizonDays <= 1023

function log2ceil(n) {
    var bits = 0;
    while ((1 << bits) < n) bits++;
    return bits;
}

// Strict upper bounds on |E*| and |L*_j| (quote units * 1e8) for positions within the bounds
// table, with nAssets asset and nInstruments instrument slots:
//   |E*|   = |sum_i (vc_i - vd_i) * 1e8 + sum_k q_k * m_k|      < nAssets * 2^80 * 1e8 + nInstruments * 2^107
//   |L*_j| = |sum_i (vc_i - vd_i) * r_ji + sum_k q_k * g_jk|    < nAssets * 2^111      + nInstruments * 2^107
// (|vc_i - vd_i| < 2^80, |r| < 2^31, notionals |q * m|, |q * g| < 2^107.) Every comparison width
// below is the bit length of the largest difference an honest position within the table can
// produce, so the model's bounds decide completeness and nothing wider is checked.
function EQUITY_BOUND(nAssets, nInstruments) {
    return nAssets * (1 << VALUE_BITS()) * 100000000 + nInstruments * (1 << NOTIONAL_BITS());
}
function LOSS_BOUND(nAssets, nInstruments) {
    return nAssets * (1 << (VALUE_BITS() + RETURN_BITS())) + nInstruments * (1 << NOTIONAL_BITS());
}
// 0 <= E* < 2^EQUITY_BITS once E* >= 0 is proven (8x8: 111, 3x3: 110).
function EQUITY_BITS(nAssets, nInstruments) {
    return log2ceil(EQUITY_BOUND(nAssets, nInstruments));
}
// |L*_j| < 2^LOSS_BITS (8x8: 115, 3x3: 113).
function LOSS_BITS(nAssets, nInstruments) {
    return log2ceil(LOSS_BOUND(nAssets, nInstruments));
}
// Stress: 0 <= E* * 1e4 - minEquity * 1e12 - w_j * L*_j < 1e4 * (EQUITY_BOUND + LOSS_BOUND)
// (w_j <= 1e4, minEquity >= 0), 8x8: 128 bits.
function STRESS_BITS(nAssets, nInstruments) {
    return log2ceil(10000 * (EQUITY_BOUND(nAssets, nInstruments) + LOSS_BOUND(nAssets, nInstruments)));
}
// Stress margin: 0 <= E* * 1e4 - minEquity * 1e12 < 1e4 * EQUITY_BOUND, 8x8: 125 bits.
function MARGIN_BITS(nAssets, nInstruments) {
    return log2ceil(10000 * EQUITY_BOUND(nAssets, nInstruments));
}
// Historical VaR: 0 <= T* - L*_j < EQUITY_BOUND + LOSS_BOUND (0 <= T* <= E*), 8x8: 115 bits.
function COVER_BITS(nAssets, nInstruments) {
    return log2ceil(EQUITY_BOUND(nAssets, nInstruments) + LOSS_BOUND(nAssets, nInstruments));
}
// Health factor: 0 <= sum_i vc_i * LT_i - minHF * sum_i vd_i <= sum_i vc_i * LT_i < nAssets * 2^80 * 1e4.
function HEALTH_BITS(nAssets) {
    return log2ceil(nAssets * (1 << VALUE_BITS()) * 10000);
}
// Parametric VaR. E = floor(E* / 1e8) < UNITS_BOUND (quote units), 8x8: 85 bits. A passing V has
// capitalMultiplier * V <= E * 1e6 with capitalMultiplier >= 1e6, so V <= E < UNITS_BOUND; the
// smallest V with (V * 1e8)^2 >= term overshoots term by less than 2 * 1e8 * sqrt(term) + 1e16
// <= 2 * 1e16 * UNITS_BOUND + 1e16 (8x8: 140 bits).
function UNITS_BOUND(nAssets, nInstruments) {
    return EQUITY_BOUND(nAssets, nInstruments) \ 100000000 + 1;
}
function UNITS_BITS(nAssets, nInstruments) {
    return log2ceil(UNITS_BOUND(nAssets, nInstruments));
}
function VAR_COVER_BITS(nAssets, nInstruments) {
    return log2ceil(20000000000000000 * UNITS_BOUND(nAssets, nInstruments) + 10000000000000000);
}
