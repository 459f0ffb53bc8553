pragma circom 2.1.9;

include "circomlib/circuits/bitify.circom";
include "circomlib/circuits/poseidon.circom";
include "../position-commitment.circom";
include "../risk/asset-values.circom";
include "../risk/debt-assets.circom";
include "../risk/health-factor-check.circom";
include "../risk/equity-and-losses.circom";
include "../risk/stress-check.circom";
include "../risk/historical-var-check.circom";
include "../risk/parametric-var-check.circom";
include "../lib/bounds.circom";
include "../lib/poseidon-chain.circom";

// AuditLeaf(nAssets, nInstruments, nScenarios): one account's leaf of the audit's Merkle sum tree
// (docs/audit.md), computed from the opened position, so the figures are the position's and not
// the prover's claim. Mirrored by src/audit/figures.ts and src/audit/merkle-sum-tree.ts:
//   figures = [positions, collateral, debt, fails, loss[0..nScenarios-1]]
//     positions  = active (1 per account)
//     collateral = (sum_i collateralValue_i) * 1e8 + max(0, M)      quote units * 1e8
//     debt       = (sum_i debtValue_i) * 1e8 + max(0, -M)           M = sum_k q_k * m_k (marks)
//                  debtValue_i of the debt valued through the index: ceil(d_i * debtIndex_i / 1e18)
//                  so collateral - debt is the position's equity E* exactly
//     fails      = 1 when the position is not proven to pass the policy
//     loss[j]    = max(0, L*_j), unweighted: a gain does not offset another account's loss
//   hash = Poseidon(Poseidon(commitment, account), PoseidonChain(figures))
// An inactive slot (active = 0) is the padding leaf: commitment, account and figures all 0.
//
// fails: with fails = 0 every check of the policy (health factor, stress, and the VaR methods the
// policy selects) is enforced, exactly as in Solvency; with fails = 1 none is. So a position
// counted as passing does pass, and the public count of failing positions is exact for an honest
// prover and can only be overstated by a dishonest one (never understated).
//
// Ranges: values < 2^80 (AssetValues), |M| < nInstruments * 2^107 and |L*_j| < LOSS_BOUND
// (bounds.circom) make every figure < 2^116 (3x3) with no extra range check; the sign splits below
// are sound because those bounds hold (Num2Bits(n + 1) of x + 2^n has a unique decomposition).
// Caller assumptions: the market values are the ones the batch's market root binds, within the
// bounds of docs/risk-arithmetic.md (10^18 <= debtIndex < 2^64: AssetsDigest checks it); the policy
// values are range-checked by the batch;
// historicalEnabled and parametricEnabled are bits.
template AuditLeaf(nAssets, nInstruments, nScenarios) {
    var nFigures = 4 + nScenarios;
    var nUpper = nAssets * (nAssets + 1) \ 2;
    signal input active;
    signal input fails;
    signal input account;
    signal input nonce;
    signal input salt;
    signal input collateral[nAssets];
    signal input debt[nAssets];
    signal input quantity[nInstruments];

    signal input scale[nAssets];
    signal input price[nAssets];
    signal input threshold[nAssets];
    signal input debtIndex[nAssets];
    signal input underlying[nInstruments];
    signal input mark[nInstruments];
    signal input delta[nInstruments];
    signal input scenarioCount;
    signal input weight[nScenarios];
    signal input assetReturn[nScenarios][nAssets];
    signal input instrumentPnl[nScenarios][nInstruments];
    signal input horizonDays;
    signal input covarianceUpper[nUpper];

    signal input minHealthFactor;
    signal input minEquity;
    signal input historicalEnabled;
    signal input parametricEnabled;
    signal input confidence;
    signal input capitalMultiplier;
    signal input quantileZ;

    signal output hash;
    signal output figures[nFigures];
    signal output digest;

    active * (active - 1) === 0;
    fails * (fails - 1) === 0;
    fails * (1 - active) === 0;
    // fails <= active, so this is active AND NOT fails.
    signal pass <== active - fails;
    account * (1 - active) === 0;

    component position = PositionCommitment(nAssets, nInstruments);
    position.account <== account;
    position.nonce <== nonce;
    position.salt <== salt;
    position.collateral <== collateral;
    position.debt <== debt;
    position.quantity <== quantity;

    // Debt is committed in index-scaled units: valued in base units through the market's index.
    component debtAssets = DebtAssets(nAssets);
    debtAssets.debt <== debt;
    debtAssets.debtIndex <== debtIndex;
    component values = AssetValues(nAssets);
    values.collateral <== collateral;
    values.debt <== debtAssets.debtAssets;
    values.price <== price;
    values.scale <== scale;

    component book = EquityAndLosses(nScenarios, nAssets, nInstruments);
    book.collateralValue <== values.collateralValue;
    book.debtValue <== values.debtValue;
    book.quantity <== quantity;
    book.mark <== mark;
    book.assetReturn <== assetReturn;
    book.instrumentPnl <== instrumentPnl;

    // The policy's checks, enforced unless the position is counted as failing.
    component health = HealthFactorCheck(nAssets);
    health.collateralValue <== values.collateralValue;
    health.debtValue <== values.debtValue;
    health.threshold <== threshold;
    health.minHealthFactor <== minHealthFactor;
    health.enabled <== pass;

    component stress = StressCheck(nScenarios, nAssets, nInstruments);
    stress.equity <== book.equity;
    stress.loss <== book.loss;
    stress.weight <== weight;
    stress.minEquity <== minEquity;
    stress.enabled <== pass;

    // StressCheck proves equity >= 0 whenever pass = 1, which HistoricalVarCheck relies on.
    component historical = HistoricalVarCheck(nScenarios, nAssets, nInstruments, 1);
    historical.enabled <== pass * historicalEnabled;
    historical.equity <== book.equity;
    historical.loss <== book.loss;
    historical.count <== scenarioCount;
    historical.confidence <== confidence;
    historical.capitalMultiplier <== capitalMultiplier;

    component parametric = ParametricVarCheck(nAssets, nInstruments);
    parametric.enabled <== pass * parametricEnabled;
    parametric.equity <== book.equity;
    parametric.collateralValue <== values.collateralValue;
    parametric.debtValue <== values.debtValue;
    parametric.price <== price;
    parametric.quantity <== quantity;
    parametric.delta <== delta;
    parametric.underlying <== underlying;
    parametric.covarianceUpper <== covarianceUpper;
    parametric.horizonDays <== horizonDays;
    parametric.quantileZ <== quantileZ;
    parametric.capitalMultiplier <== capitalMultiplier;

    // Figures. The derivatives' marked value M = E* - (sum_i (vc_i - vd_i)) * 1e8, split by sign.
    var QUOTE_SCALE8 = 100000000;
    var collateralTotal = 0;
    var debtTotal = 0;
    for (var i = 0; i < nAssets; i++) {
        collateralTotal += values.collateralValue[i];
        debtTotal += values.debtValue[i];
    }
    signal marks <== book.equity - (collateralTotal - debtTotal) * QUOTE_SCALE8;
    var markBits = NOTIONAL_BITS() + log2ceil(nInstruments);
    component markSign = Num2Bits(markBits + 1);
    markSign.in <== marks + (1 << markBits);
    signal longMarks <== markSign.out[markBits] * marks;
    signal shortMarks <== longMarks - marks;

    figures[0] <== active;
    figures[1] <== active * (collateralTotal * QUOTE_SCALE8 + longMarks);
    figures[2] <== active * (debtTotal * QUOTE_SCALE8 + shortMarks);
    figures[3] <== fails;

    var lossBits = LOSS_BITS(nAssets, nInstruments);
    component lossSign[nScenarios];
    signal counted[nScenarios];
    for (var j = 0; j < nScenarios; j++) {
        lossSign[j] = Num2Bits(lossBits + 1);
        lossSign[j].in <== book.loss[j] + (1 << lossBits);
        counted[j] <== active * lossSign[j].out[lossBits];
        figures[4 + j] <== counted[j] * book.loss[j];
    }

    component figuresDigest = PoseidonChain(nFigures);
    figuresDigest.in <== figures;
    digest <== figuresDigest.out;

    component owner = Poseidon(2);
    owner.inputs[0] <== active * position.commitment;
    owner.inputs[1] <== account;
    component leaf = Poseidon(2);
    leaf.inputs[0] <== owner.out;
    leaf.inputs[1] <== digest;
    hash <== leaf.out;
}
