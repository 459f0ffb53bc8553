pragma circom 2.1.9;

include "circomlib/circuits/bitify.circom";
include "./position-commitment.circom";
include "./market/assets-digest.circom";
include "./market/instruments-digest.circom";
include "./market/scenarios-digest.circom";
include "./market/covariance-digest.circom";
include "./market/market-root.circom";
include "./policy/policy-hash.circom";
include "./risk/asset-values.circom";
include "./risk/debt-assets.circom";
include "./risk/health-factor-check.circom";
include "./risk/equity-and-losses.circom";
include "./risk/stress-check.circom";
include "./risk/historical-var-check.circom";
include "./risk/parametric-var-check.circom";
include "./lib/bounds.circom";
include "./lib/policy-ranges.circom";
include "./lib/range-check.circom";

// The `checks` bit that gates every check behind a private input (see Solvency below).
function CHECKS_GATED() { return 16; }

// Solvency(nAssets, nInstruments, nScenarios, checks): the committed position passes the
// policy's checks under the committed market (risk-model.md sections 1-3, and the audit
// claim of section 5). Public: commitment, marketRoot, policyHash (outputs), account, nonce,
// context. `context` binds the proof to where it may be used (risk-model.md, Binding): the
// verifying contract sets it to keccak256(abi.encode(chainid, address(this))) >> 8, so a proof
// made for one chain or contract is refused by any other.
//
// `checks` selects what the instance proves (bit 0 health factor, 1 stress, 2 historical VaR,
// 3 parametric VaR). A VaR method the policy asks for but the instance lacks is refused
// (policy varMethod is constrained), so a proof always covers the whole policy. Market
// sections the instance does not use enter as digests, so it does not pay for hashing them.
// Bit 4 (CHECKS_GATED) is for templates that embed Solvency, never for an instance: it adds a
// private input `checksEnabled` (0 or 1, the embedding template constrains it) that turns every
// check off; Rebalance uses it for a liquidation that closes the position (no debt left). Without
// the bit the template compiles exactly as before (the enables are the constant 1), so no
// solvency instance's statement, constraint system or signal names change.
//
// Debt is committed in index-scaled units and valued as ceil(debt * debtIndex / 1e18) base units
// (DebtAssets) wherever it enters a check; the commitment binds the units.
//
// Caller assumptions: none. Every market value a check uses is range-checked once, by the digest
// template of the market-root section that binds it (circuits/market/*.circom: prices, scales,
// thresholds, debt indices, marks, deltas, scenario count, returns, PnL, weights where stress
// uses them, horizon, covariance; underlyings by ParametricVarCheck), policy values by
// PolicyRanges (exactly the policy parser's bounds), and everything about the position by
// PositionCommitment: docs/risk-arithmetic.md, "Bounds".
template Solvency(nAssets, nInstruments, nScenarios, checks) {
    var CHECK_HF = checks & 1;
    var CHECK_STRESS = (checks >> 1) & 1;
    var CHECK_HVAR = (checks >> 2) & 1;
    var CHECK_PVAR = (checks >> 3) & 1;
    var GATED = (checks >> 4) & 1;
    var USES_SCENARIOS = CHECK_STRESS + CHECK_HVAR > 0 ? 1 : 0;
    var nUpper = nAssets * (nAssets + 1) \ 2;

    // Position (private except account and nonce).
    signal input account;
    signal input nonce;
    signal input context;
    signal input salt;
    signal input collateral[nAssets];
    signal input debt[nAssets];
    signal input quantity[nInstruments];

    // Market (private; bound by marketRoot).
    signal input epoch;
    signal input timestamp;
    signal input quoteScale;
    signal input symbol[nAssets];
    signal input scale[nAssets];
    signal input price[nAssets];
    signal input threshold[nAssets];
    signal input debtIndex[nAssets];
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
    // Digests of sections this instance does not check (ignored for sections it does).
    signal input scenariosDigest;
    signal input covarianceDigest;

    // Policy (private; bound by policyHash).
    signal input minHealthFactor;
    signal input triggerHealthFactor;
    signal input minEquity;
    signal input varMethod;
    signal input confidence;
    signal input capitalMultiplier;
    signal input quantileZ;
    signal input maxSlippage;

    signal output commitment;
    signal output marketRoot;
    signal output policyHash;

    // CHECKS_GATED only: 1 = every check below is enforced, 0 = none is. Caller assumption: the
    // caller constrains it to 0 or 1 (Rebalance: 1 - liquidation * closed). A signal declared in
    // the if block would be invisible to the checks' blocks, so the input is copied into checksOn,
    // an array of GATED elements: without the bit it has none, and the checks' enables are the
    // constant 1 exactly as before (identical r1cs and signal names).
    signal checksOn[GATED];
    if (GATED == 1) {
        signal input checksEnabled;
        checksOn[0] <== checksEnabled;
    }

    // Bindings. `context` is bound through the verifier's public-input terms; the square keeps it
    // a constrained signal of the circuit whatever the optimiser does.
    signal contextSquared <== context * context;
    component position = PositionCommitment(nAssets, nInstruments);
    position.account <== account;
    position.nonce <== nonce;
    position.salt <== salt;
    position.collateral <== collateral;
    position.debt <== debt;
    position.quantity <== quantity;
    commitment <== position.commitment;

    component assets = AssetsDigest(nAssets);
    assets.symbol <== symbol;
    assets.scale <== scale;
    assets.price <== price;
    assets.threshold <== threshold;
    assets.debtIndex <== debtIndex;
    component instruments = InstrumentsDigest(nInstruments);
    instruments.id <== instrumentId;
    instruments.underlying <== underlying;
    instruments.mark <== mark;
    instruments.delta <== delta;

    component root = MarketRoot();
    root.epoch <== epoch;
    root.timestamp <== timestamp;
    root.quoteScale <== quoteScale;
    root.assetsDigest <== assets.out;
    root.instrumentsDigest <== instruments.out;
    if (USES_SCENARIOS == 1) {
        component scenarios = ScenariosDigest(nScenarios, nAssets, nInstruments, CHECK_STRESS);
        scenarios.count <== scenarioCount;
        scenarios.weight <== weight;
        scenarios.assetReturn <== assetReturn;
        scenarios.instrumentPnl <== instrumentPnl;
        root.scenariosDigest <== scenarios.out;
    } else {
        root.scenariosDigest <== scenariosDigest;
    }
    if (CHECK_PVAR == 1) {
        component covariance = CovarianceDigest(nAssets);
        covariance.horizonDays <== horizonDays;
        covariance.upper <== covarianceUpper;
        root.covarianceDigest <== covariance.out;
    } else {
        root.covarianceDigest <== covarianceDigest;
    }
    marketRoot <== root.out;

    component policy = PolicyHash();
    policy.minHealthFactor <== minHealthFactor;
    policy.triggerHealthFactor <== triggerHealthFactor;
    policy.minEquity <== minEquity;
    policy.varMethod <== varMethod;
    policy.confidence <== confidence;
    policy.capitalMultiplier <== capitalMultiplier;
    policy.quantileZ <== quantileZ;
    policy.maxSlippage <== maxSlippage;
    policyHash <== policy.out;

    // Policy values, range-checked whatever this instance checks, to the bounds the policy parser
    // enforces (PolicyRanges): an out-of-range value (say a minimum equity that wraps the field
    // once scaled) must not make a comparison trivial.
    component policyRanges = PolicyRanges();
    policyRanges.minHealthFactor <== minHealthFactor;
    policyRanges.minEquity <== minEquity;
    policyRanges.capitalMultiplier <== capitalMultiplier;
    policyRanges.confidence <== confidence;
    policyRanges.quantileZ <== quantileZ;

    // The policy's VaR methods, as bits; a method the instance lacks must not be asked for.
    component method = Num2Bits(2);
    method.in <== varMethod;
    if (CHECK_HVAR == 0) {
        method.out[0] === 0;
    }
    if (CHECK_PVAR == 0) {
        method.out[1] === 0;
    }

    // Checks. Debt is committed in index-scaled units (docs/custody.md); every check values it in
    // base units through the market's debt index (AssetsDigest has range-checked the index).
    component debtAssets = DebtAssets(nAssets);
    debtAssets.debt <== debt;
    debtAssets.debtIndex <== debtIndex;
    component values = AssetValues(nAssets);
    values.collateral <== collateral;
    values.debt <== debtAssets.debtAssets;
    values.price <== price;
    values.scale <== scale;

    if (CHECK_HF == 1) {
        component health = HealthFactorCheck(nAssets);
        health.collateralValue <== values.collateralValue;
        health.debtValue <== values.debtValue;
        health.threshold <== threshold;
        health.minHealthFactor <== minHealthFactor;
        if (GATED == 1) {
            health.enabled <== checksOn[0];
        } else {
            health.enabled <== 1;
        }
    }

    component book = EquityAndLosses(USES_SCENARIOS == 1 ? nScenarios : 0, nAssets, nInstruments);
    book.collateralValue <== values.collateralValue;
    book.debtValue <== values.debtValue;
    book.quantity <== quantity;
    book.mark <== mark;
    if (USES_SCENARIOS == 1) {
        book.assetReturn <== assetReturn;
        book.instrumentPnl <== instrumentPnl;
    }

    if (CHECK_STRESS == 1) {
        component stress = StressCheck(nScenarios, nAssets, nInstruments);
        stress.equity <== book.equity;
        stress.loss <== book.loss;
        stress.weight <== weight;
        stress.minEquity <== minEquity;
        if (GATED == 1) {
            stress.enabled <== checksOn[0];
        } else {
            stress.enabled <== 1;
        }
    }
    if (CHECK_HVAR == 1) {
        component historical = HistoricalVarCheck(nScenarios, nAssets, nInstruments, CHECK_STRESS);
        if (GATED == 1) {
            // Off with the checks: HistoricalVarCheck then takes equity and T as 0, and relies on
            // StressCheck's equity >= 0 only when both are on (stress is on whenever this is).
            signal historicalEnabled <== method.out[0] * checksOn[0];
            historical.enabled <== historicalEnabled;
        } else {
            historical.enabled <== method.out[0];
        }
        historical.equity <== book.equity;
        historical.loss <== book.loss;
        historical.count <== scenarioCount;
        historical.confidence <== confidence;
        historical.capitalMultiplier <== capitalMultiplier;
    }
    if (CHECK_PVAR == 1) {
        component parametric = ParametricVarCheck(nAssets, nInstruments);
        if (GATED == 1) {
            signal parametricEnabled <== method.out[1] * checksOn[0];
            parametric.enabled <== parametricEnabled;
        } else {
            parametric.enabled <== method.out[1];
        }
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
    }
}
