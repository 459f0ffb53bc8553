import assert from "node:assert/strict";
import { network } from "hardhat";
import { commitPosition } from "../src/commitment/position-commitment.ts";
import { SNARK_FIELD, toField } from "../src/core/field.ts";
import type { Market, Policy, Position } from "../src/inputs/types.ts";
import { checkPosition } from "../src/model/check.ts";
import { checkRebalance } from "../src/rebalance/conservation.ts";
import { loadInstanceArtifacts, type InstanceArtifacts } from "../src/node/artifacts.ts";
import { UnprovableError } from "../src/prover/errors.ts";
import { generateProof } from "../src/prover/prove.ts";
import { releaseProverThreads } from "../src/prover/release.ts";
import { rebalanceInput, type RebalanceTransition } from "../src/prover/witness/rebalance.ts";
import { toSolidityProof } from "../src/verifier/calldata.ts";
import { verifyProof } from "../src/verifier/verify.ts";
import { CircuitUnderTest } from "./helpers/circuit.ts";
import { loadMarket, loadPolicy, loadPosition } from "./helpers/examples.ts";

const INSTANCE = "rebalance-3x3x16";
const LAYOUT = { nAssets: 3, nInstruments: 3, nScenarios: 16 };
const [WETH, , USDC] = [0, 1, 2];
const E18 = 10n ** 18n;

/** A transition with no flows or trades, to edit per test. */
function still(old: Position): RebalanceTransition {
  return {
    old,
    next: { ...old, nonce: old.nonce + 1n, salt: old.salt! + 7n, collateral: [...old.collateral], debt: [...old.debt], quantities: [...old.quantities] },
    flows: [0n, 0n, 0n],
    assetBought: [0n, 0n, 0n],
    assetSold: [0n, 0n, 0n],
    instrumentBought: [0n, 0n, 0n],
    instrumentSold: [0n, 0n, 0n],
    forced: false,
  };
}

function deposit(t: RebalanceTransition, asset: number, amount: bigint): RebalanceTransition {
  t.next.collateral[asset]! += amount;
  t.flows[asset]! += amount;
  return t;
}

/** Sells `amount` of one collateral asset for another, losing `lossPpm` millionths of the value. */
function swap(t: RebalanceTransition, market: Market, sell: number, amount: bigint, buy: number, lossPpm: bigint): RebalanceTransition {
  const unit = (i: number) => market.assets[i]!.price * (E18 / 10n ** BigInt(market.assets[i]!.decimals));
  const received = (amount * unit(sell) * (1_000_000n - lossPpm)) / 1_000_000n / unit(buy);
  t.next.collateral[sell]! -= amount;
  t.next.collateral[buy]! += received;
  t.assetSold[sell]! += amount;
  t.assetBought[buy]! += received;
  return t;
}

describe(`rebalance circuit (${INSTANCE})`, function () {
  let artifacts: InstanceArtifacts;
  let circuit: CircuitUnderTest;
  let market: Market;
  let policy: Policy;
  let healthy: Position;
  let atRisk: Position;

  before(async function () {
    artifacts = loadInstanceArtifacts(INSTANCE);
    circuit = await CircuitUnderTest.load(artifacts);
    market = loadMarket();
    policy = loadPolicy(market);
    healthy = loadPosition("position-healthy.json", market);
    atRisk = loadPosition("position-at-risk.json", market);
  });
  after(releaseProverThreads);

  const witness = (t: RebalanceTransition) => circuit.witness(rebalanceInput(t, market, policy, LAYOUT));
  const rejects = (t: RebalanceTransition) => assert.rejects(witness(t), UnprovableError);

  it("proves a deposit that restores the at-risk position, binding old and new commitments, account and nonce + 1", async function () {
    const t = deposit(still(atRisk), USDC, 20_000n * 10n ** 6n);
    assert.equal(checkPosition(atRisk, market, policy).pass, false);
    assert.equal(checkPosition(t.next, market, policy).pass, true);
    const w = await witness(t);
    assert.deepEqual(circuit.violated(w), []);
    assert.equal(w[circuit.index("main.oldCommitment")], commitPosition(atRisk, atRisk.salt!, LAYOUT));
    assert.equal(w[circuit.index("main.newCommitment")], commitPosition({ ...t.next, nonce: atRisk.nonce + 1n }, t.next.salt!, LAYOUT));
    assert.equal(w[circuit.index("main.flow[2]")], 20_000n * 10n ** 6n);
  });

  it("cannot conjure value: a balance change without a matching flow or trade is unprovable", async function () {
    const t = deposit(still(atRisk), USDC, 20_000n * 10n ** 6n);
    t.flows[USDC] = 0n;
    await rejects(t);
    // Nor by claiming a bought leg that no sold leg pays for.
    const free = still(atRisk);
    free.next.collateral[USDC]! += 20_000n * 10n ** 6n;
    free.assetBought[USDC] = 20_000n * 10n ** 6n;
    await rejects(free);
  });

  it("accepts a swap losing less than maxSlippage (0.5%) and rejects one losing more", async function () {
    assert.equal(policy.maxSlippage, 5_000n);
    await witness(swap(still(healthy), market, WETH, 2n * E18, USDC, 4_000n));
    await witness(swap(still(healthy), market, WETH, 2n * E18, USDC, 4_999n));
    // Exactly 0.5% plus the rounding of the amount received is already beyond the bound.
    await rejects(swap(still(healthy), market, WETH, 2n * E18, USDC, 5_000n));
    await rejects(swap(still(healthy), market, WETH, 2n * E18, USDC, 5_100n));
  });

  it("rejects wash volume: a leg bought and sold at once cannot stretch the slippage bound", async function () {
    // A swap losing 1% (over the 0.5% bound) is rejected; padding it with 10 WETH bought and
    // sold changes no balance but would double `traded` and let the loss through.
    const lossy = swap(still(healthy), market, WETH, 2n * E18, USDC, 10_000n);
    await rejects(lossy);
    const padded = swap(still(healthy), market, WETH, 2n * E18, USDC, 10_000n);
    padded.assetBought[WETH]! += 10n * E18;
    padded.assetSold[WETH]! += 10n * E18;
    const model = checkRebalance(padded.old, { ...padded.next, nonce: padded.old.nonce + 1n }, padded.flows, padded, market, policy);
    assert.deepEqual(model.violations.map((v) => v.rule), ["wash"], "the model names the wash leg, and nothing else objects");
    await rejects(padded);
    // The same for an instrument: bought and sold contracts net to nothing.
    const hedgeWash = still(healthy);
    hedgeWash.instrumentBought[0] = 5n * 10n ** 8n;
    hedgeWash.instrumentSold[0] = 5n * 10n ** 8n;
    await rejects(hedgeWash);
  });

  it("binds the account and nonce + 1: another account or a reused nonce gives another commitment", async function () {
    const t = deposit(still(healthy), USDC, 1n);
    const w = await witness(t);
    const proven = w[circuit.index("main.newCommitment")];
    assert.notEqual(proven, commitPosition({ ...t.next, nonce: healthy.nonce }, t.next.salt!, LAYOUT));
    assert.notEqual(proven, commitPosition({ ...t.next, nonce: healthy.nonce + 1n, account: "0x0000000000000000000000000000000000000001" }, t.next.salt!, LAYOUT));
    // The old commitment must be the chain's: claiming another nonce opens another commitment.
    const other = await witness({ ...t, old: { ...healthy, nonce: healthy.nonce + 5n }, next: { ...t.next } });
    assert.notEqual(other[circuit.index("main.oldCommitment")], w[circuit.index("main.oldCommitment")]);
  });

  it("rejects a new position that fails the policy, whatever the conservation", async function () {
    await rejects(still(atRisk));
  });

  it("forced (keeper) rebalances only of positions below the trigger", async function () {
    const rescue = deposit(still(atRisk), USDC, 20_000n * 10n ** 6n);
    await witness({ ...rescue, forced: true }); // HF 1.1905 < trigger 1.25
    const tidy = deposit(still(healthy), USDC, 1_000n * 10n ** 6n);
    await witness(tidy); // the owner may rebalance any time
    await rejects({ ...tidy, forced: true }); // HF 3.8 >= 1.25: no keeper may force it
  });

  it("forged witnesses (a flow's sign flipped, a keeper flag set on a healthy position, another nonce) violate the constraints", async function () {
    const t = deposit(still(atRisk), USDC, 20_000n * 10n ** 6n);
    const honest = await witness(t);
    const forged = [...honest];
    const flow = circuit.index("main.flow[2]");
    forged[flow] = toField(-forged[flow]!);
    assert.ok(circuit.violated(forged).length > 0);
    // Claiming a keeper's right on a healthy position (HF 3.8 >= trigger 1.25).
    const tidy = await witness(deposit(still(healthy), USDC, 1_000n * 10n ** 6n));
    const forced = [...tidy];
    forced[circuit.index("main.forced")] = 1n;
    assert.ok(circuit.violated(forced).length > 0);
    const nonce = [...honest];
    nonce[circuit.index("main.nonce")] = (nonce[circuit.index("main.nonce")]! + 1n) % SNARK_FIELD;
    assert.ok(circuit.violated(nonce).length > 0);
  });

  it("end to end: a real proof verifies with snarkjs and on-chain; a tampered flow is rejected by both", async function () {
    const t = deposit(still(atRisk), USDC, 20_000n * 10n ** 6n);
    const zkProof = await generateProof(rebalanceInput(t, market, policy, LAYOUT), artifacts);
    assert.equal(await verifyProof(artifacts.verificationKey, zkProof), true);
    const flowIndex = artifacts.manifest.publicSignals.indexOf("flow[2]");
    const signals = [...zkProof.publicSignals];
    signals[flowIndex] = (BigInt(signals[flowIndex]!) + 1n).toString();
    const tampered = { ...zkProof, publicSignals: signals };
    assert.equal(await verifyProof(artifacts.verificationKey, tampered), false);

    const { ethers } = await network.connect();
    const verifier = (await ethers.deployContract(artifacts.manifest.verifierContract!)).getFunction("verifyProof");
    const good = toSolidityProof(zkProof);
    assert.equal(await verifier(good.a, good.b, good.c, good.input), true);
    const bad = toSolidityProof(tampered);
    assert.equal(await verifier(bad.a, bad.b, bad.c, bad.input), false);
  });
});
