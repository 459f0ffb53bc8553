pragma circom 2.1.9;

include "circomlib/circuits/bitify.circom";
include "../market/assets-digest.circom";
include "../market/instruments-digest.circom";
include "../market/scenarios-digest.circom";
include "../market/covariance-digest.circom";
include "../market/market-root.circom";
include "../policy/policy-hash.circom";
include "../lib/policy-ranges.circom";
include "../lib/range-check.circom";
include "./audit-leaf-crowding.circom";
include "./sum-subtree.circom";

// AuditBatchCrowding(nLeaves, nAssets, nInstruments, nScenarios): AuditBatch (audit-batch.circom) with
// each position's crowding figures (docs/audit.md, "Crowding"), for the crowding instances. A copy
// rather than a parameter of AuditBatch, so the plain instances' sources, and so their compile keys
// and keys, stay as published (test/audit-crowding.test.ts pins them).
//
// The bottom of the audit's Merkle sum tree (docs/audit.md). Opens up to nLeaves committed positions under one market and policy,
// computes each one's figures in-circuit (AuditLeaf), and outputs the subtree they form.
// Public (all outputs): hash, digest (of the subtree's sums), firstAccount, lastAccount,
// marketRoot, policyHash, positions, failing, members[nLeaves]. AuditMerge proofs chain batches by
// the first four.
//
// members[s] = Poseidon(commitment[s], account[s]), the leaf's owner hash (Poseidon(0, 0) for a
// padding slot): the batch's (account, commitment) list, which the verifier recomputes from the
// gate's public state at the audited block (`zks audit verify --rpc`) to prove the audit complete:
// an account the gate does not hold, an account it holds but the batch left out of its
// [firstAccount, lastAccount] range, or a commitment that is not the gate's current one shows in
// a slot (docs/audit.md, "Completeness against the chain"). Published per slot rather than chained
// into one hash: the hashes are already computed (a chain would cost a permutation per batch), and
// the verifier can name the slot that differs. They reveal nothing the chain does not: accounts
// and commitments are public there, and the batch's range already says which accounts it holds.
//
// Accounts strictly increase from slot to slot, across the whole audit (AuditMerge checks the
// batch boundaries), so no account is counted twice. Active slots come first; the rest are the
// padding leaf. A batch holds at least one position.
//
// Crowding: each leaf's figures go on with its crowding figures (AuditLeafCrowding, crowding.circom);
// the restore target, the gains of selling each asset (CrowdingTerms, which range-checks the trigger
// and the slippage bound to the policy parser's) and the scenarios' price factors (CrowdingPrices)
// are computed once here for all leaves. The public signals are AuditBatch's; the sums digest
// covers the crowding sums.
//
// Caller assumptions: none on the market: the digest templates range-check every market value the
// leaves use, once per batch (docs/risk-arithmetic.md, "Bounds"); the policy values PolicyRanges checks here.
template AuditBatchCrowding(nLeaves, nAssets, nInstruments, nScenarios) {
    var nFigures = 3 + nScenarios + 2 * nAssets + 2 * nInstruments + nScenarios * nAssets;
    var nUpper = nAssets * (nAssets + 1) \ 2;

    signal input active[nLeaves];
    signal input fails[nLeaves];
    signal input account[nLeaves];
    signal input nonce[nLeaves];
    signal input salt[nLeaves];
    signal input collateral[nLeaves][nAssets];
    signal input debt[nLeaves][nAssets];
    signal input quantity[nLeaves][nInstruments];

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

    // Policy (private; bound by policyHash).
    signal input minHealthFactor;
    signal input triggerHealthFactor;
    signal input minEquity;
    signal input varMethod;
    signal input confidence;
    signal input capitalMultiplier;
    signal input quantileZ;
    signal input maxSlippage;

    signal output hash;
    signal output digest;
    signal output firstAccount;
    signal output lastAccount;
    signal output marketRoot;
    signal output policyHash;
    signal output positions;
    signal output failing;
    signal output members[nLeaves];

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
    component scenarios = ScenariosDigest(nScenarios, nAssets, nInstruments, 1);
    scenarios.count <== scenarioCount;
    scenarios.weight <== weight;
    scenarios.assetReturn <== assetReturn;
    scenarios.instrumentPnl <== instrumentPnl;
    component covariance = CovarianceDigest(nAssets);
    covariance.horizonDays <== horizonDays;
    covariance.upper <== covarianceUpper;
    component root = MarketRoot();
    root.epoch <== epoch;
    root.timestamp <== timestamp;
    root.quoteScale <== quoteScale;
    root.assetsDigest <== assets.out;
    root.instrumentsDigest <== instruments.out;
    root.scenariosDigest <== scenarios.out;
    root.covarianceDigest <== covariance.out;
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

    // Policy values, range-checked as in Solvency to exactly the policy parser's bounds
    // (PolicyRanges): an out-of-range value must not make a comparison trivial.
    component policyRanges = PolicyRanges();
    policyRanges.minHealthFactor <== minHealthFactor;
    policyRanges.minEquity <== minEquity;
    policyRanges.capitalMultiplier <== capitalMultiplier;
    policyRanges.confidence <== confidence;
    policyRanges.quantileZ <== quantileZ;
    component method = Num2Bits(2);
    method.in <== varMethod;

    // Crowding: the restore target and each asset's least gain, the scenarios' price factors and
    // the value of a base unit at them, once for every leaf.
    component terms = CrowdingTerms(nAssets);
    terms.threshold <== threshold;
    terms.minHealthFactor <== minHealthFactor;
    terms.triggerHealthFactor <== triggerHealthFactor;
    terms.maxSlippage <== maxSlippage;
    component prices = CrowdingPrices(nScenarios, nAssets);
    prices.count <== scenarioCount;
    prices.assetReturn <== assetReturn;
    component units = CrowdingUnits(nScenarios, nAssets);
    units.price <== price;
    units.scale <== scale;
    units.debtIndex <== debtIndex;
    units.target <== terms.target;
    units.efficiency <== terms.efficiency;
    units.factor <== prices.factor;

    component leaves[nLeaves];
    for (var s = 0; s < nLeaves; s++) {
        leaves[s] = AuditLeafCrowding(nAssets, nInstruments, nScenarios);
        leaves[s].active <== active[s];
        leaves[s].fails <== fails[s];
        leaves[s].account <== account[s];
        leaves[s].nonce <== nonce[s];
        leaves[s].salt <== salt[s];
        leaves[s].collateral <== collateral[s];
        leaves[s].debt <== debt[s];
        leaves[s].quantity <== quantity[s];
        leaves[s].scale <== scale;
        leaves[s].price <== price;
        leaves[s].threshold <== threshold;
        leaves[s].debtIndex <== debtIndex;
        leaves[s].underlying <== underlying;
        leaves[s].mark <== mark;
        leaves[s].delta <== delta;
        leaves[s].scenarioCount <== scenarioCount;
        leaves[s].weight <== weight;
        leaves[s].assetReturn <== assetReturn;
        leaves[s].instrumentPnl <== instrumentPnl;
        leaves[s].horizonDays <== horizonDays;
        leaves[s].covarianceUpper <== covarianceUpper;
        leaves[s].minHealthFactor <== minHealthFactor;
        leaves[s].minEquity <== minEquity;
        leaves[s].historicalEnabled <== method.out[0];
        leaves[s].parametricEnabled <== method.out[1];
        leaves[s].confidence <== confidence;
        leaves[s].capitalMultiplier <== capitalMultiplier;
        leaves[s].quantileZ <== quantileZ;
        leaves[s].target <== terms.target;
        leaves[s].efficiency <== terms.efficiency;
        leaves[s].live <== terms.live;
        leaves[s].priceFactor <== prices.factor;
        leaves[s].unitTerm <== units.unitTerm;
        leaves[s].crowdingMargin <== units.margin;
    }

    // Order: active slots first, accounts strictly increasing and nonzero (an address below 2^160,
    // which PositionCommitment range-checks), so no account appears twice.
    active[0] === 1;
    // The first account is nonzero: it has an inverse (one constraint; the range check it needs is
    // PositionCommitment's, and the later ones follow from strictly increasing).
    signal firstInverse;
    firstInverse <-- account[0] != 0 ? 1 / account[0] : 0;
    account[0] * firstInverse === 1;
    component increasing[nLeaves];
    var last = 0;
    var count = 0;
    var failed = 0;
    for (var s = 0; s < nLeaves; s++) {
        if (s > 0) {
            active[s] * (1 - active[s - 1]) === 0;
            increasing[s] = RangeCheck(160);
            increasing[s].in <== active[s] * (account[s] - account[s - 1] - 1);
        }
        count += active[s];
        failed += fails[s];
    }
    // The last active account: the slot whose successor is inactive.
    signal lastTerm[nLeaves];
    for (var s = 0; s < nLeaves; s++) {
        lastTerm[s] <== account[s] * (active[s] - (s + 1 < nLeaves ? active[s + 1] : 0));
        last += lastTerm[s];
    }
    firstAccount <== account[0];
    lastAccount <== last;
    positions <== count;
    failing <== failed;

    component subtree = SumSubtree(nLeaves, nFigures);
    for (var s = 0; s < nLeaves; s++) {
        subtree.childHash[s] <== leaves[s].hash;
        subtree.childDigest[s] <== leaves[s].digest;
        subtree.childSums[s] <== leaves[s].figures;
    }
    hash <== subtree.hash;
    digest <== subtree.digest;

    for (var s = 0; s < nLeaves; s++) {
        members[s] <== leaves[s].owner;
    }
}
