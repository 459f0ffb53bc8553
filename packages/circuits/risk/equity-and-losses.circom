pragma circom 2.1.9;

// EquityAndLosses(nScenarios, nAssets, nInstruments): risk-model.md sections 2 and 3, in
// quote units * 1e8 (docs/risk-arithmetic.md; no division, so no rounding here):
//   equity  = (sum_i collateralValue[i] - debtValue[i]) * 1e8 + sum_k quantity[k] * mark[k]
//   loss[j] = -( sum_i (collateralValue[i] - debtValue[i]) * assetReturn[j][i]
//                + sum_k quantity[k] * instrumentPnl[j][k] )
// Outputs are signed, field-encoded. Caller assumptions: |quantity| < 2^95 (PositionCommitment),
// |mark| < 2^64 (InstrumentsDigest checks it), |pnl| < 2^49 and |return| < 2^31 (ScenariosDigest
// checks them), values < 2^80 (AssetValues): every term is below 2^160, far from wrapping.
template EquityAndLosses(nScenarios, nAssets, nInstruments) {
    signal input collateralValue[nAssets];
    signal input debtValue[nAssets];
    signal input quantity[nInstruments];
    signal input mark[nInstruments];
    signal input assetReturn[nScenarios][nAssets];
    signal input instrumentPnl[nScenarios][nInstruments];
    signal output equity;
    signal output loss[nScenarios];

    var QUANTITY_SCALE = 100000000;
    signal net[nAssets];
    var netTotal = 0;
    for (var i = 0; i < nAssets; i++) {
        net[i] <== collateralValue[i] - debtValue[i];
        netTotal += net[i];
    }
    signal markValue[nInstruments];
    var markTotal = 0;
    for (var k = 0; k < nInstruments; k++) {
        markValue[k] <== quantity[k] * mark[k];
        markTotal += markValue[k];
    }
    equity <== netTotal * QUANTITY_SCALE + markTotal;

    signal assetMove[nScenarios][nAssets];
    signal instrumentMove[nScenarios][nInstruments];
    for (var j = 0; j < nScenarios; j++) {
        var pnl = 0;
        for (var i = 0; i < nAssets; i++) {
            assetMove[j][i] <== net[i] * assetReturn[j][i];
            pnl += assetMove[j][i];
        }
        for (var k = 0; k < nInstruments; k++) {
            instrumentMove[j][k] <== quantity[k] * instrumentPnl[j][k];
            pnl += instrumentMove[j][k];
        }
        loss[j] <== -pnl;
    }
}
