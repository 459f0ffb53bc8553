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
include "./crowding.circom";

// AuditLeafCrowding(nAssets, nInstruments, nScenarios): AuditLeaf (audit-leaf.circom) with the crowding
// figures (docs/audit.md, "Crowding"), for the crowding instances. A copy rather than a parameter of
// AuditLeaf, so the plain instances' sources, and so their compile keys and keys, stay as published
// (test/audit-crowding.test.ts pins them).
//
// One account's leaf of the audit's Merkle sum tree
// (docs/audit.md), computed from the opened position, so the figures are the position's and not
// the prover's claim. Mirrored by src/audit/figures.ts and src/audit/merkle-sum-tree.ts:
//   figures = [counts, collateral, debt, loss[0..nScenarios-1],
//              amount[0..nAssets-1], debtUnits[0..nAssets-1], long[0..nInstruments-1], written[0..nInstruments-1]]
//     counts     = active + fails * 2^40: the position (1 per account, so the sums count the
//                  accounts) and whether it is counted as failing, packed in one word because both
//                  sum to at most 2^32 (depth <= 32), so neither carries into the other; one word
//                  fewer keeps the figures at 31, two Poseidon permutations per digest (AuditMerge
//                  splits the word back)
//     collateral = (sum_i collateralValue_i) * 1e8 + max(0, M)      quote units * 1e8
//     debt       = (sum_i debtValue_i) * 1e8 + max(0, -M)           M = sum_k q_k * m_k (marks)
//                  debtValue_i of the debt valued through the index: ceil(d_i * debtIndex_i / 1e18)
//                  so collateral - debt is the position's equity E* exactly
//     fails      = 1 when the position is not proven to pass the policy
//     loss[j]    = max(0, L*_j), unweighted: a gain does not offset another account's loss
//     amount[i]    = c_i, the committed collateral of asset slot i (token base units)
//     debtUnits[i] = d_i, the committed debt of asset slot i in index-scaled units (what the
//                    lender's debtUnitsOf(gate) counts)
//     long[k]    = max(0, q_k), written[k] = max(0, -q_k): instrument slot k's quantity by sign
//   The per-token figures sum up the tree like the others, so the root's sums say, per token, what
//   the audited positions hold and owe; `zks audit verify --rpc` compares them with what the gate
//   holds and owes on chain (reserves and liabilities in one statement).
//   the figures go on with crowding[j][i] for each scenario j and asset slot i
//   (CrowdingLeaf, crowding.circom; j-major), nScenarios * nAssets more words
//   owner = Poseidon(commitment, account)
//   hash  = Poseidon(owner, PoseidonChain(figures without the crowding words))
// The leaf's hash binds its plain figures only: the crowding words are computed here from the
// opened position, so the batch proof binds them, and the nodes above (SumNode) hash their sums
// with them. That keeps a leaf's digest at two Poseidon permutations (the crowding words would
// add four per leaf), and an owner's inclusion check is the same as in a plain audit.
// An inactive slot (active = 0) is the padding leaf: commitment, account and figures all 0.
// Output `owner` is Poseidon(commitment, account) (Poseidon(0, 0) for padding): AuditBatch
// publishes it as the slot's `members` entry, which the verifier recomputes from the gate's state.
//
// fails: with fails = 0 every check of the policy (health factor, stress, and the VaR methods the
// policy selects) is enforced, exactly as in Solvency; with fails = 1 none is. So a position
// counted as passing does pass, and the public count of failing positions is exact for an honest
// prover and can only be overstated by a dishonest one (never understated).
//
// Ranges: values < 2^80 (AssetValues), |M| < nInstruments * 2^107 and |L*_j| < LOSS_BOUND
// (bounds.circom) make every figure < 2^116 (3x3) with no extra range check; amounts, debt units
// and |q_k| are below 2^96 (PositionCommitment range-checks them). The sign splits below are sound
// because those bounds hold (Num2Bits(n + 1) of x + 2^n has a unique decomposition).
// Caller assumptions: the market values are the ones the batch's market root binds, which the
// batch's digest templates range-check once for all leaves (docs/risk-arithmetic.md, "Bounds");
// the policy values are range-checked by the batch (PolicyRanges); historicalEnabled and
// parametricEnabled are bits (the batch's Num2Bits of the VaR method).
template AuditLeafCrowding(nAssets, nInstruments, nScenarios) {
    var nPlain = 3 + nScenarios + 2 * nAssets + 2 * nInstruments;
    var nFigures = nPlain + nScenarios * nAssets;
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
    // The batch's CrowdingTerms and CrowdingPrices, computed once for every leaf.
    signal input target;
    signal input efficiency[nAssets];
    signal input live[nAssets];
    signal input priceFactor[nScenarios][nAssets];
    signal input unitTerm[nScenarios][nAssets];
    signal input crowdingMargin[nScenarios];

    signal output hash;
    signal output figures[nFigures];
    signal output digest;
    signal output owner;

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

    figures[0] <== active + fails * (1 << 40);
    figures[1] <== active * (collateralTotal * QUOTE_SCALE8 + longMarks);
    figures[2] <== active * (debtTotal * QUOTE_SCALE8 + shortMarks);

    var lossBits = LOSS_BITS(nAssets, nInstruments);
    component lossSign[nScenarios];
    signal counted[nScenarios];
    for (var j = 0; j < nScenarios; j++) {
        lossSign[j] = Num2Bits(lossBits + 1);
        lossSign[j].in <== book.loss[j] + (1 << lossBits);
        counted[j] <== active * lossSign[j].out[lossBits];
        figures[3 + j] <== counted[j] * book.loss[j];
    }

    // Per-token figures: the committed amounts themselves, 0 for a padding slot.
    var tokensAt = 3 + nScenarios;
    for (var i = 0; i < nAssets; i++) {
        figures[tokensAt + i] <== active * collateral[i];
        figures[tokensAt + nAssets + i] <== active * debt[i];
    }
    // q_k + 2^95 is in [0, 2^96) (PositionCommitment checks it), so its bit 95 is 1 exactly when
    // q_k >= 0; long = q_k or 0 by that bit, written = long - q_k, both non-negative.
    component quantitySign[nInstruments];
    signal activeQuantity[nInstruments];
    for (var k = 0; k < nInstruments; k++) {
        quantitySign[k] = Num2Bits(96);
        quantitySign[k].in <== quantity[k] + (1 << 95);
        activeQuantity[k] <== active * quantity[k];
        figures[tokensAt + 2 * nAssets + k] <== quantitySign[k].out[95] * activeQuantity[k];
        figures[tokensAt + 2 * nAssets + nInstruments + k] <== figures[tokensAt + 2 * nAssets + k] - activeQuantity[k];
    }

    component crowd = CrowdingLeaf(nAssets, nScenarios);
    crowd.active <== active;
    crowd.collateralValue <== values.collateralValue;
    crowd.debtValue <== values.debtValue;
    crowd.threshold <== threshold;
    crowd.target <== target;
    crowd.efficiency <== efficiency;
    crowd.live <== live;
    crowd.factor <== priceFactor;
    crowd.unitTerm <== unitTerm;
    crowd.margin <== crowdingMargin;
    for (var j = 0; j < nScenarios; j++) {
        for (var i = 0; i < nAssets; i++) figures[nPlain + j * nAssets + i] <== crowd.crowding[j][i];
    }

    component figuresDigest = PoseidonChain(nPlain);
    for (var f = 0; f < nPlain; f++) figuresDigest.in[f] <== figures[f];
    digest <== figuresDigest.out;

    component ownerHash = Poseidon(2);
    ownerHash.inputs[0] <== active * position.commitment;
    ownerHash.inputs[1] <== account;
    owner <== ownerHash.out;
    component leaf = Poseidon(2);
    leaf.inputs[0] <== owner;
    leaf.inputs[1] <== digest;
    hash <== leaf.out;
}
