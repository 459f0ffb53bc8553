/**
 * The high-level SDK API (packages/sdk/src/api, docs/sdk.md): proveSolvency / verifySolvency and
 * proveRebalance / verifyRebalance with real proofs of the test tier (solvency-3x3x16,
 * rebalance-3x3x16, loaded with loadCircuitArtifacts), the named fields against the reference
 * model's and commitment functions' values, and every tampering a verifier must refuse.
 */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { VerificationKey } from "snarkjs";
import { loadCircuitArtifacts } from "../packages/node/src/artifacts.ts";
import { loadWarmProver } from "../packages/node/src/load-warm-prover.ts";
import { loadInstances } from "../packages/node/src/setup/instances.ts";
import { PACKAGE_ROOT } from "../packages/node/src/setup/paths.ts";
import {
  checkRebalanceProof,
  checkSolvencyProof,
  instanceShape,
  proofFileOf,
  proofFromFile,
  proveRebalance,
  proveSolvency,
  rebalanceProofOf,
  signalNames,
  solvencyProofOf,
  verifyRebalance,
  verifySolvency,
  type CircuitArtifacts,
  type RebalanceProof,
  type SolvencyProof,
} from "../packages/sdk/src/api/index.ts";
import { gateContext } from "../packages/sdk/src/chain/context.ts";
import { marketRoot } from "../packages/sdk/src/commitment/market-root.ts";
import { policyHash } from "../packages/sdk/src/commitment/policy-hash.ts";
import { commitPosition } from "../packages/sdk/src/commitment/position-commitment.ts";
import { InputError, SetupError, ZksError } from "../packages/sdk/src/core/errors.ts";
import { SNARK_FIELD } from "../packages/sdk/src/core/field.ts";
import { decryptOpening } from "../packages/sdk/src/encryption/opening-cipher.ts";
import type { Market, Policy, Position } from "../packages/sdk/src/inputs/types.ts";
import { checkPosition } from "../packages/sdk/src/model/check.ts";
import { UnprovableError } from "../packages/sdk/src/prover/errors.ts";
import { releaseProverThreads } from "../packages/sdk/src/prover/release.ts";
import { applyMovements, noMovements, slippageFloor, type Transition } from "../packages/sdk/src/rebalance/transition.ts";
import { ProofKeyError, verifyProofFile } from "../packages/sdk/src/verifier/proof-file-verdict.ts";
import { verificationKeyHash } from "../packages/sdk/src/verifier/key-hash.ts";
import { loadMarket, loadPolicy, loadPosition } from "./helpers/examples.ts";
import { OTHER_KEEPER, TEST_KEEPER } from "./helpers/keeper-key.ts";

const SOLVENCY = "solvency-3x3x16";
const REBALANCE = "rebalance-3x3x16";
const LAYOUT = { nAssets: 3, nInstruments: 3, nScenarios: 16 };
const CONTEXT = gateContext(31337n, "0x5FbDB2315678afecb367f032d93F642f64180aa3");

/** Rejects with `type`, one line, exit code `code`, message matching `fragment`. */
async function rejectsWith(run: () => Promise<unknown>, type: new (...args: never[]) => ZksError, code: number, fragment: RegExp): Promise<void> {
  await assert.rejects(run, (error: unknown) => {
    assert.ok(error instanceof type, `expected ${type.name}, got ${String(error)}`);
    assert.equal(error.exitCode, code);
    assert.match(error.message, fragment);
    assert.equal(error.message.split("\n").length, 1, "one line");
    return true;
  });
}

async function invalid(verdict: Promise<{ valid: boolean; problem?: string }>, fragment: RegExp): Promise<void> {
  const v = await verdict;
  assert.equal(v.valid, false, "expected the proof to be refused");
  assert.match(v.problem ?? "", fragment);
}

let market: Market;
let policy: Policy;
let healthy: Position;
let solvency: CircuitArtifacts;
let rebalance: CircuitArtifacts;

before(function () {
  market = loadMarket();
  policy = loadPolicy(market);
  healthy = loadPosition("position-healthy.json", market);
  solvency = loadCircuitArtifacts(SOLVENCY);
  rebalance = loadCircuitArtifacts(REBALANCE);
});

after(async function () {
  await releaseProverThreads();
});

describe("sdk api: instance shapes", function () {
  it("the naming rule (solvency-AxIxS, rebalance-AxIxS: all four checks) gives every so-named instance of circuits/instances.json its declared shape, and signalNames its signal list", function () {
    let named = 0;
    for (const declared of loadInstances()) {
      if (declared.template !== "Solvency" && declared.template !== "Rebalance") continue;
      const verificationKey = { protocol: "groth16", curve: "bn128", nPublic: declared.publicSignals.length } as VerificationKey;
      const fromParams = instanceShape({ instance: declared.name, verificationKey, template: declared.template, params: declared.params }, declared.template);
      assert.deepEqual(signalNames(fromParams), declared.publicSignals, declared.name);
      if (!/^(solvency|rebalance)-\d+x\d+x\d+$/.test(declared.name)) {
        assert.throws(() => instanceShape({ instance: declared.name, verificationKey }, declared.template as "Solvency"), InputError, declared.name);
        continue;
      }
      named++;
      assert.deepEqual(instanceShape({ instance: declared.name, verificationKey }, declared.template), fromParams, declared.name);
    }
    assert.ok(named >= 4, `only ${named} conventionally named instances`);
  });

  it("a key whose public signal count is not the instance's, a template mismatch and params of the wrong length are InputErrors naming the instance", function () {
    const key = (nPublic: number) => ({ protocol: "groth16", curve: "bn128", nPublic }) as VerificationKey;
    assert.throws(
      () => instanceShape({ instance: SOLVENCY, verificationKey: key(50) }, "Solvency"),
      /solvency-3x3x16.*nPublic: 50 public signals, but a Solvency instance .* has 6: the key is another instance's/,
    );
    assert.throws(() => instanceShape({ instance: REBALANCE, verificationKey: key(51) }, "Rebalance"), /51 public signals fit no Rebalance instance/);
    assert.throws(() => instanceShape({ instance: REBALANCE, verificationKey: key(50) }, "Solvency"), /is a Rebalance instance, not a Solvency one/);
    assert.throws(
      () => instanceShape({ instance: "x", verificationKey: key(6), template: "Solvency", params: [3, 3, 16] }, "Solvency"),
      /params: a Solvency instance has 4 positive integer parameters/,
    );
  });
});

describe("sdk api: entry points", function () {
  it("every exports subpath of @zk-solvency/sdk and @zk-solvency/node is a typedoc entry point, and no entry point is anything else (the worker script aside)", function () {
    const jsonc = (file: string) => JSON.parse(readFileSync(file, "utf8").replace(/^\s*\/\/.*$/gm, ""));
    for (const pkg of ["sdk", "node"]) {
      const dir = path.join(PACKAGE_ROOT, "packages", pkg);
      const exported = Object.entries(jsonc(path.join(dir, "package.json")).exports as Record<string, Record<string, string> | string>)
        .filter(([subpath]) => subpath !== "./package.json" && subpath !== "./prover-worker")
        .map(([, target]) => (target as Record<string, string>)["@zk-solvency/source"]!.replace(/^\.\//, ""));
      assert.deepEqual([...jsonc(path.join(dir, "typedoc.json")).entryPoints].sort(), exported.sort(), `packages/${pkg}/typedoc.json`);
    }
  });

  it("the package root exports no `export *` and names the high-level API, the parsers, the report, the errors and BrowserProver", async function () {
    const root = readFileSync(path.join(PACKAGE_ROOT, "packages/sdk/src/index.ts"), "utf8");
    assert.doesNotMatch(root, /export \*/);
    const sdk = await import("../packages/sdk/src/index.ts");
    for (const name of [
      "proveSolvency",
      "verifySolvency",
      "proveRebalance",
      "verifyRebalance",
      "parsePosition",
      "parseMarket",
      "parsePolicy",
      "checkPosition",
      "UnprovableError",
      "InputError",
      "BrowserProver",
    ]) {
      assert.equal(typeof (sdk as Record<string, unknown>)[name], "function", name);
    }
    // Internals stay in their subpaths.
    for (const name of ["buildSumTree", "quadraticForm", "poseidonChain", "parseKeeperKeyFile"]) assert.equal(name in sdk, false, name);
  });
});

describe("sdk api: loadCircuitArtifacts", function () {
  it("reads the manifest's template, params and key source beside the files", function () {
    assert.equal(solvency.template, "Solvency");
    assert.deepEqual(solvency.params, [3, 3, 16, 15]);
    assert.match(String(solvency.wasm), /solvency-3x3x16.*main\.wasm$/);
    assert.equal(solvency.verificationKey.nPublic, 6);
    assert.ok(solvency.keySource === "development" || solvency.keySource === "ceremony");
  });

  it("an instance not built in the build dir is a SetupError (exit 3) naming the command; a name that could climb out of it an InputError (exit 2)", function () {
    const empty = mkdtempSync(path.join(tmpdir(), "zks-api-"));
    try {
      assert.throws(
        () => loadCircuitArtifacts(SOLVENCY, { buildDir: empty }),
        (error: unknown) => {
          assert.ok(error instanceof SetupError);
          assert.equal(error.exitCode, 3);
          assert.match(error.message, /not built in .*zks-api-.*; run `zks setup --instance solvency-3x3x16`/);
          return true;
        },
      );
      assert.throws(
        () => loadCircuitArtifacts("../solvency-3x3x16"),
        (error: unknown) => error instanceof InputError && error.exitCode === 2 && /not an instance name/.test(error.message),
      );
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });
});

describe("sdk api: Solvency", function () {
  let proof: SolvencyProof;

  before(async function () {
    proof = await proveSolvency({ position: healthy, market, policy, context: CONTEXT }, solvency);
  });

  it("proves, and the named fields are the commitment, market root, policy hash, account, nonce and context the model's functions compute", async function () {
    assert.equal(proof.template, "Solvency");
    assert.equal(proof.instance, SOLVENCY);
    assert.equal(proof.commitment, commitPosition(healthy, healthy.salt!, LAYOUT));
    assert.equal(proof.marketRoot, marketRoot(market, LAYOUT));
    assert.equal(proof.policyHash, policyHash(policy));
    assert.equal(proof.account, healthy.account.toLowerCase());
    assert.equal(proof.nonce, healthy.nonce);
    assert.equal(proof.context, CONTEXT);
    assert.deepEqual(proof.publicSignals, [proof.commitment, proof.marketRoot, proof.policyHash, BigInt(proof.account), proof.nonce, proof.context].map(String));
    assert.deepEqual(instanceShape(solvency, "Solvency").checks, ["healthFactor", "stress", "historicalVar", "parametricVar"]);
    assert.equal(checkPosition(healthy, market, policy).pass, true);
  });

  it("verifies under the instance's key, bare or as the CircuitKey; the JSON wire form { proof, publicSignals } decodes to the same object", async function () {
    assert.deepEqual(await checkSolvencyProof(proof, solvency), { valid: true });
    assert.equal(await verifySolvency(proof, solvency.verificationKey), true);
    const wire = JSON.parse(JSON.stringify({ proof: proof.proof, publicSignals: proof.publicSignals }));
    const decoded = solvencyProofOf(wire, solvency);
    assert.deepEqual(decoded, proof);
    assert.equal(await verifySolvency(decoded, solvency), true);
  });

  it("refuses each named field edited (the signals and the Groth16 proof untouched)", async function () {
    const edits: [string, Partial<SolvencyProof>][] = [
      ["commitment", { commitment: proof.commitment + 1n }],
      ["marketRoot", { marketRoot: 0n }],
      ["policyHash", { policyHash: proof.policyHash ^ 1n }],
      ["account", { account: "0x0000000000000000000000000000000000000001" }],
      ["account", { account: healthy.account }], // checksummed: not the decoded lower-case form
      ["nonce", { nonce: proof.nonce + 1n }],
      ["context", { context: 0n }],
    ];
    for (const [field, edit] of edits) {
      const forged = { ...proof, ...edit };
      await invalid(checkSolvencyProof(forged, solvency), new RegExp(`^${field} is not what the public signals encode`));
      assert.equal(await verifySolvency(forged, solvency.verificationKey), false, field);
    }
    await invalid(checkSolvencyProof({ ...proof, template: "Rebalance" } as never, solvency), /template is "Rebalance"/);
    await invalid(checkSolvencyProof({ ...proof, instance: "solvency-8x8x16" }, solvency), /claims instance "solvency-8x8x16", but the key is solvency-3x3x16's/);
  });

  it("refuses an edited public signal even when the named fields are re-derived from it: the Groth16 proof fails", async function () {
    for (const at of [0, 1, 2, 3, 4, 5]) {
      const signals = [...proof.publicSignals];
      signals[at] = String((BigInt(signals[at]!) + 1n) % SNARK_FIELD);
      const forged = solvencyProofOf({ proof: proof.proof, publicSignals: signals }, solvency);
      await invalid(checkSolvencyProof(forged, solvency), /the Groth16 proof does not verify under solvency-3x3x16's key/);
      assert.equal(await verifySolvency(forged, solvency.verificationKey), false);
    }
  });

  it("refuses non-canonical signals snarkjs would reduce to the proven ones (x + p, leading zeros, hex), and a proof point with z != 1", async function () {
    for (const text of [String(CONTEXT + SNARK_FIELD), `0${CONTEXT}`, `0x${CONTEXT.toString(16)}`, ` ${CONTEXT}`, "1".repeat(78)]) {
      const signals = [...proof.publicSignals];
      signals[5] = text;
      await invalid(checkSolvencyProof({ ...proof, publicSignals: signals }, solvency), /publicSignals\[5\] is not a canonical decimal field element/);
    }
    await invalid(checkSolvencyProof({ ...proof, publicSignals: proof.publicSignals.slice(0, 5) }, solvency), /publicSignals has 5 entries; the instance has 6/);
    const pi_a = [proof.proof.pi_a[0]!, proof.proof.pi_a[1]!, "2"];
    await invalid(checkSolvencyProof({ ...proof, proof: { ...proof.proof, pi_a } }, solvency), /not an affine Groth16 BN254 proof/);
  });

  it("refuses the proof under another instance's key: Rebalance's (50 signals) and a key of the same shape made from it", async function () {
    await invalid(checkSolvencyProof(proof, rebalance.verificationKey), /the key has 50 public signals; a Solvency proof has 6/);
    await invalid(checkSolvencyProof(proof, rebalance), /claims instance "solvency-3x3x16", but the key is rebalance-3x3x16's/);
    // Rebalance's key cut to 6 public inputs: a valid Groth16 key of Solvency's shape, of another circuit.
    const other = { ...rebalance.verificationKey, nPublic: 6, IC: (rebalance.verificationKey.IC as unknown[]).slice(0, 7) } as VerificationKey;
    await invalid(checkSolvencyProof(proof, other), /does not verify/);
    await invalid(checkSolvencyProof(proof, { ...solvency, verificationKey: other }), /does not verify/);
  });

  it("proves with a WarmProver kept across proofs (options.prover); a WarmProver of another instance is an InputError", async function () {
    const warm = await loadWarmProver(SOLVENCY);
    const again = await proveSolvency({ position: healthy, market, policy, context: CONTEXT }, solvency, { prover: warm });
    assert.deepEqual(again.publicSignals, proof.publicSignals);
    assert.equal(await verifySolvency(again, solvency), true);
    const otherWarm = await loadWarmProver("commitment-3x3");
    await rejectsWith(
      () => proveSolvency({ position: healthy, market, policy }, solvency, { prover: otherWarm }),
      InputError,
      2,
      /^prover: instance: the WarmProver is loaded with commitment-3x3, not solvency-3x3x16/,
    );
  });

  it("a position that fails the policy is an UnprovableError (exit 1) naming the check and by how much, before the circuit runs", async function () {
    const atRisk = loadPosition("position-at-risk.json", market);
    const report = checkPosition(atRisk, market, policy);
    assert.ok(report.failures.length > 0);
    await rejectsWith(
      () => proveSolvency({ position: atRisk, market, policy }, solvency),
      UnprovableError,
      1,
      /^solvency-3x3x16: the circuit rejects this input, so no proof exists \(the position fails the policy: stress: worst loss .* exceeds equity .*; historical VaR .* exceeds equity/,
    );
  });

  it("a policy asking for a VaR method the instance does not check is an UnprovableError; a position without salt or a market the instance cannot hold an InputError", async function () {
    await rejectsWith(
      () => proveSolvency({ position: healthy, market, policy }, { ...solvency, params: [3, 3, 16, 1 + 2 + 4] }),
      UnprovableError,
      1,
      /var\.method "both" asks for parametric VaR, which solvency-3x3x16 does not check \(it checks health factor, scenario stress, historical VaR\)/,
    );
    await rejectsWith(() => proveSolvency({ position: { ...healthy, salt: undefined }, market, policy }, solvency), InputError, 2, /^position: salt: missing/);
    // A context outside the field would be reduced mod p: the proof would be bound elsewhere than asked.
    for (const context of [SNARK_FIELD + CONTEXT, -1n]) {
      await rejectsWith(() => proveSolvency({ position: healthy, market, policy, context }, solvency), InputError, 2, /^context: expected a bigint field element in \[0, p\)/);
    }
    const wide = { ...market, assets: [...market.assets, { ...market.assets[0]!, symbol: "EXTRA" }] };
    const widePosition = { ...healthy, collateral: [...healthy.collateral, 0n], debt: [...healthy.debt, 0n] };
    await rejectsWith(() => proveSolvency({ position: widePosition, market: wide, policy }, solvency), InputError, 2, /4 assets .*3 asset slots|asset slots/);
  });

  it("the proof-file bridge: proofFileOf writes what verifyProofFile (zks verify) accepts; proofFromFile reads it back; a file of another key is a ProofKeyError", async function () {
    const file = proofFileOf(proof, solvency, { epoch: market.epoch, statement: "audit" });
    const json = JSON.parse(JSON.stringify(file));
    const manifest = (solvency as CircuitArtifacts & { manifest: { publicSignals: string[] } }).manifest;
    assert.deepEqual(Object.keys(file.zks.named), manifest.publicSignals);
    const verdict = await verifyProofFile(json, solvency.verificationKey, {
      instance: SOLVENCY,
      template: "Solvency",
      params: [...solvency.params!],
      publicSignals: manifest.publicSignals,
      verificationKeyHash: verificationKeyHash(solvency.verificationKey),
    });
    assert.equal(verdict.valid, true);
    const back = proofFromFile(json, "proof.json", solvency);
    assert.deepEqual(back, proof);
    assert.equal(await verifySolvency(back as SolvencyProof, solvency), true);
    assert.throws(() => proofFileOf(proof, solvency, { epoch: 1 }), /statement: a Solvency proof file states/);
    const otherKey = { ...solvency, verificationKey: { ...rebalance.verificationKey, nPublic: 6, IC: (rebalance.verificationKey.IC as unknown[]).slice(0, 7) } as VerificationKey };
    assert.throws(
      () => proofFromFile(json, "proof.json", otherKey),
      (error: unknown) => error instanceof ProofKeyError && error.exitCode === 3 && /^proof\.json: made under key 0x[0-9a-f]{64}, not solvency-3x3x16's key 0x/.test(error.message),
    );
    assert.throws(() => proofFromFile(json, "proof.json", rebalance), /zks\.instance: "solvency-3x3x16", but the key given is rebalance-3x3x16's/);
  });
});

describe("sdk api: Rebalance", function () {
  const E18 = 10n ** 18n;
  let WETH: number;
  let USDC: number;
  let transition: Transition;
  let proof: RebalanceProof;

  before(async function () {
    WETH = market.assets.findIndex((a) => a.symbol === "WETH");
    USDC = market.assets.findIndex((a) => a.symbol === "USDC");
    // Custody holds long options only (a written one needs a cash-settled series): the healthy
    // position without its short call, at nonce 3.
    const old: Position = { ...healthy, nonce: 3n, quantities: healthy.quantities.map((q) => (q < 0n ? 0n : q)) };
    const m = noMovements(market);
    m.flows[USDC] = 1_000n * 10n ** 6n; // deposit 1,000 USDC
    m.swaps = [{ sell: WETH, buy: USDC, amountIn: E18 / 10n, minOut: slippageFloor(WETH, E18 / 10n, USDC, market, policy) }];
    const next = { ...applyMovements(old, m), salt: 0x1234567890abcdefn };
    transition = { old, next, ...m, forced: false, fromEmpty: false };
    proof = await proveRebalance({ transition, market, policy, keeperKey: TEST_KEEPER.publicKey, context: CONTEXT }, rebalance);
  });

  it("proves, and the named fields are the old and new commitments, roots, account, old nonce and movements; the ciphertext opens to the new position under the keeper's secret", async function () {
    const { old, next } = transition;
    assert.equal(proof.template, "Rebalance");
    assert.equal(proof.oldCommitment, commitPosition(old, old.salt!, LAYOUT));
    assert.equal(proof.newCommitment, commitPosition(next, next.salt!, LAYOUT));
    assert.equal(proof.marketRoot, marketRoot(market, LAYOUT));
    assert.equal(proof.policyHash, policyHash(policy));
    assert.deepEqual(
      proof.debtIndex,
      market.assets.map((a) => a.debtIndex),
    );
    assert.equal(proof.account, old.account.toLowerCase());
    assert.equal(proof.nonce, old.nonce);
    assert.equal(proof.context, CONTEXT);
    assert.equal(proof.forced, false);
    assert.equal(proof.fromEmpty, false);
    assert.deepEqual(proof.flows, transition.flows);
    assert.deepEqual(proof.debtDelta, transition.debtDelta);
    assert.deepEqual(proof.debtAssets, transition.debtAssets);
    assert.deepEqual(proof.swaps, [{ slot: 0, ...transition.swaps[0]! }]);
    assert.deepEqual(proof.instrumentFlows, transition.instrumentFlows);
    assert.equal(proof.liquidation, false);
    assert.deepEqual(proof.keeperKey, [...TEST_KEEPER.publicKey]);
    const opened = decryptOpening(
      { account: proof.account, nonce: proof.nonce + 1n, commitment: proof.newCommitment, ephemeralKey: proof.ephemeralKey, ciphertext: proof.ciphertext },
      TEST_KEEPER.secret,
      market,
      LAYOUT,
    );
    assert.deepEqual([opened.collateral, opened.debt, opened.quantities, opened.salt], [next.collateral, next.debt, next.quantities, next.salt]);
  });

  it("verifies under the instance's CircuitKey; the wire form decodes to the same object; a proof file round-trips", async function () {
    assert.deepEqual(await checkRebalanceProof(proof, rebalance), { valid: true });
    const wire = JSON.parse(JSON.stringify({ proof: proof.proof, publicSignals: proof.publicSignals }));
    assert.deepEqual(rebalanceProofOf(wire, rebalance), proof);
    const file = proofFileOf(proof, rebalance, { epoch: market.epoch });
    assert.equal(file.zks.statement, "rebalance");
    const back = proofFromFile(JSON.parse(JSON.stringify(file)), "proof.json", rebalance);
    assert.deepEqual(back, proof);
    assert.equal(await verifyRebalance(back as RebalanceProof, rebalance), true);
  });

  it("refuses each named field edited: a flow, a swap, the new commitment, the keeper key, the ciphertext, forced, the liquidator", async function () {
    const edits: [string, Partial<RebalanceProof>][] = [
      ["flows", { flows: proof.flows.map((f, i) => (i === USDC ? f * 10n : f)) }],
      ["swaps", { swaps: [{ ...proof.swaps[0]!, minOut: 1n }] }],
      ["swaps", { swaps: [] }],
      ["newCommitment", { newCommitment: proof.oldCommitment }],
      ["keeperKey", { keeperKey: [...OTHER_KEEPER.publicKey] as [bigint, bigint] }],
      ["ciphertext", { ciphertext: proof.ciphertext.slice(0, -1) }],
      ["forced", { forced: true }],
      ["liquidator", { liquidator: "0x000000000000000000000000000000000000dead" }],
    ];
    for (const [field, edit] of edits) {
      const forged = { ...proof, ...edit };
      await invalid(checkRebalanceProof(forged, rebalance), new RegExp(`^${field} is not what the public signals encode`));
      assert.equal(await verifyRebalance(forged, rebalance), false, field);
    }
  });

  it("refuses an edited flow signal with the fields re-derived, a relabelled instance whose layout decodes the same 50 signals otherwise, and another instance's key", async function () {
    const signals = [...proof.publicSignals];
    const at = signalNames(instanceShape(rebalance, "Rebalance")).indexOf(`flow[${USDC}]`);
    signals[at] = String(BigInt(signals[at]!) * 10n);
    const forged = rebalanceProofOf({ proof: proof.proof, publicSignals: signals }, rebalance);
    assert.equal(forged.flows[USDC], transition.flows[USDC]! * 10n);
    await invalid(checkRebalanceProof(forged, rebalance), /the Groth16 proof does not verify/);

    // rebalance-2x4x16 with 3 swap slots also has 50 signals: relabelled and re-decoded, every field
    // would match its own layout, so only the key's instance decides the layout.
    const relabel = { ...rebalance, instance: "rebalance-2x4x16", params: undefined, template: undefined };
    assert.equal(instanceShape(relabel, "Rebalance").layout.nSwaps, 3);
    const relabelled = rebalanceProofOf({ proof: proof.proof, publicSignals: proof.publicSignals }, relabel);
    await invalid(checkRebalanceProof(relabelled, rebalance), /claims instance "rebalance-2x4x16", but the key is rebalance-3x3x16's/);

    await invalid(checkRebalanceProof(proof, { ...solvency, instance: REBALANCE }), /is a Solvency instance, not a Rebalance one/);
    await invalid(checkRebalanceProof(proof, { ...rebalance, verificationKey: solvency.verificationKey }), /nPublic: 6 public signals, but a Rebalance instance .* has 50/);
    await assert.rejects(() => verifyRebalance(proof, rebalance.verificationKey as never), /checked under its instance's CircuitKey/);
  });

  it("a transition the circuit refuses is an UnprovableError naming the rule (the new position fails the policy; a swap below the slippage floor); arrays of the wrong size an InputError", async function () {
    const { old } = transition;
    const m = noMovements(market);
    // Withdraw all the WETH and 20,000 of the 25,000 USDC against 14,000 USDC of debt: P' fails the policy.
    m.flows[WETH] = -old.collateral[WETH]!;
    m.flows[USDC] = -20_000n * 10n ** 6n;
    const drained: Transition = { old, next: { ...applyMovements(old, m), salt: 5n }, ...m, forced: false, fromEmpty: false };
    await rejectsWith(
      () => proveRebalance({ transition: drained, market, policy, keeperKey: TEST_KEEPER.publicKey }, rebalance),
      UnprovableError,
      1,
      /^rebalance-3x3x16: .*the transition breaks the rule "checks": the new position fails the policy's checks: healthFactor/,
    );

    const s = noMovements(market);
    s.swaps = [{ sell: WETH, buy: USDC, amountIn: E18, minOut: 1n }];
    const dumped: Transition = { old, next: { ...applyMovements(old, s), salt: 5n }, ...s, forced: false, fromEmpty: false };
    await rejectsWith(() => proveRebalance({ transition: dumped, market, policy, keeperKey: TEST_KEEPER.publicKey }, rebalance), UnprovableError, 1, /breaks the rule "slippage"/);

    await rejectsWith(
      () => proveRebalance({ transition: { ...transition, flows: [0n] }, market, policy, keeperKey: TEST_KEEPER.publicKey }, rebalance),
      InputError,
      2,
      /^transition: flows has 1 entries; the market needs 3/,
    );
  });
});
