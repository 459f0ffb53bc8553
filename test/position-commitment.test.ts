import assert from "node:assert/strict";
import { network } from "hardhat";
import { commitPosition } from "../packages/sdk/src/commitment/position-commitment.ts";
import { toField, SNARK_FIELD } from "../packages/sdk/src/core/field.ts";
import { MAX_AMOUNT, QUANTITY_OFFSET } from "../packages/sdk/src/core/fixed-point.ts";
import type { Market, Position } from "../packages/sdk/src/inputs/types.ts";
import { loadInstanceArtifacts, type InstanceArtifacts } from "../packages/node/src/artifacts.ts";
import { UnprovableError } from "../packages/sdk/src/prover/errors.ts";
import { generateProof, type ZkProof } from "../packages/sdk/src/prover/prove.ts";
import { releaseProverThreads } from "../packages/sdk/src/prover/release.ts";
import { positionOpeningInput } from "../packages/sdk/src/prover/witness/position-opening.ts";
import { toSolidityProof } from "../packages/sdk/src/verifier/calldata.ts";
import { verifyProof } from "../packages/sdk/src/verifier/verify.ts";
import { CircuitUnderTest } from "./helpers/circuit.ts";
import { loadMarket, loadPosition } from "./helpers/examples.ts";

const INSTANCE = "commitment-3x3";
const LAYOUT = { nAssets: 3, nInstruments: 3 };

function withChanges(base: Position, changes: Partial<Position>): Position {
  return { ...base, ...changes };
}

describe(`position commitment (${INSTANCE})`, function () {
  let artifacts: InstanceArtifacts;
  let circuit: CircuitUnderTest;
  let market: Market;
  let healthy: Position;
  let atRisk: Position;

  before(async function () {
    artifacts = loadInstanceArtifacts(INSTANCE);
    circuit = await CircuitUnderTest.load(artifacts);
    market = loadMarket();
    healthy = loadPosition("position-healthy.json", market);
    atRisk = loadPosition("position-at-risk.json", market);
  });

  after(releaseProverThreads);

  async function circuitCommitment(position: Position): Promise<bigint> {
    const witness = await circuit.witness(positionOpeningInput(position, market, LAYOUT));
    assert.deepEqual(circuit.violated(witness), []);
    return witness[circuit.index("main.commitment")]!;
  }

  it("equals the TypeScript (poseidon-lite) commitment for the example positions", async function () {
    for (const position of [healthy, atRisk]) {
      assert.equal(await circuitCommitment(position), commitPosition(position, position.salt!, LAYOUT));
    }
  });

  it("agrees at the boundaries: empty position, maximal amounts, extreme signed quantities", async function () {
    const cases: Position[] = [
      withChanges(healthy, { collateral: [0n, 0n, 0n], debt: [0n, 0n, 0n], quantities: [0n, 0n, 0n], nonce: 0n, salt: 0n }),
      withChanges(healthy, { collateral: [MAX_AMOUNT, MAX_AMOUNT, MAX_AMOUNT], debt: [MAX_AMOUNT, 0n, MAX_AMOUNT] }),
      withChanges(healthy, { quantities: [-QUANTITY_OFFSET, QUANTITY_OFFSET - 1n, -1n] }),
      withChanges(healthy, { nonce: (1n << 64n) - 1n, salt: SNARK_FIELD - 1n, account: "0xFFfFfFffFFfffFFfFFfFFFFFffFFFffffFfFFFfF" }),
    ];
    for (const position of cases) {
      assert.equal(await circuitCommitment(position), commitPosition(position, position.salt!, LAYOUT));
    }
  });

  it("changes when any single field or the salt changes", function () {
    const base = commitPosition(healthy, healthy.salt!, LAYOUT);
    const variants: Position[] = [
      withChanges(healthy, { nonce: healthy.nonce + 1n }),
      withChanges(healthy, { salt: healthy.salt! + 1n }),
      withChanges(healthy, { account: "0x0000000000000000000000000000000000000001" }),
      withChanges(healthy, { collateral: [healthy.collateral[0]! + 1n, ...healthy.collateral.slice(1)] }),
      withChanges(healthy, { debt: [...healthy.debt.slice(0, 2), healthy.debt[2]! + 1n] }),
      withChanges(healthy, { quantities: [healthy.quantities[0]!, healthy.quantities[1]!, -1n] }),
      // Swapping collateral and debt of one asset must not collide either.
      withChanges(healthy, { collateral: healthy.debt, debt: healthy.collateral }),
    ];
    const commitments = new Set(variants.map((p) => commitPosition(p, p.salt!, LAYOUT)));
    assert.equal(commitments.size, variants.length);
    assert.ok(!commitments.has(base));
  });

  it("cannot be computed for out-of-range fields (2^96 amounts, |q| > 2^95, 161-bit account, 65-bit nonce)", async function () {
    const input = positionOpeningInput(healthy, market, LAYOUT);
    const bad = [
      { ...input, collateral: [1n << 96n, 0n, 0n] },
      { ...input, debt: [0n, 0n, SNARK_FIELD - 1n] },
      { ...input, quantity: [QUANTITY_OFFSET, 0n, 0n] },
      { ...input, quantity: [toField(-QUANTITY_OFFSET - 1n), 0n, 0n] },
      { ...input, account: 1n << 160n },
      { ...input, nonce: 1n << 64n },
    ];
    for (const signals of bad) {
      await assert.rejects(generateProof(signals, artifacts), UnprovableError);
    }
  });

  it("a forged witness that re-splits a packed word (collateral + 2^96, debt - 1) violates the constraints", async function () {
    const honest = await circuit.witness(positionOpeningInput(healthy, market, LAYOUT));
    const forged = [...honest];
    // USDC (slot 2) has both collateral and debt; the packed word c + d*2^96 is unchanged.
    const c = circuit.index("main.collateral[2]");
    const d = circuit.index("main.debt[2]");
    forged[c] = forged[c]! + (1n << 96n);
    forged[d] = forged[d]! - 1n;
    assert.ok(circuit.violated(forged).length > 0);

    const claimed = [...honest];
    const out = circuit.index("main.commitment");
    claimed[out] = (claimed[out]! + 1n) % SNARK_FIELD;
    assert.ok(circuit.violated(claimed).length > 0);
  });

  describe("end to end: real Groth16 proof", function () {
    let zkProof: ZkProof;
    const tampered = (): ZkProof => ({ ...zkProof, publicSignals: [zkProof.publicSignals[0]!, zkProof.publicSignals[1]!, (BigInt(zkProof.publicSignals[2]!) + 1n).toString()] });

    before(async function () {
      zkProof = await generateProof(positionOpeningInput(atRisk, market, LAYOUT), artifacts);
    });

    it("has the public signals [commitment, account, nonce]", function () {
      assert.deepEqual(zkProof.publicSignals, [commitPosition(atRisk, atRisk.salt!, LAYOUT), BigInt(atRisk.account), atRisk.nonce].map(String));
    });

    it("verifies with snarkjs, and a tampered public signal does not", async function () {
      assert.equal(await verifyProof(artifacts.verificationKey, zkProof), true);
      assert.equal(await verifyProof(artifacts.verificationKey, tampered()), false);
      const otherCommitment = { ...zkProof, publicSignals: [commitPosition(healthy, healthy.salt!, LAYOUT).toString(), ...zkProof.publicSignals.slice(1)] };
      assert.equal(await verifyProof(artifacts.verificationKey, otherCommitment), false);
    });

    it("verifies with the generated Solidity verifier on hardhat's in-process network, and tampering is rejected", async function () {
      const { ethers } = await network.connect();
      const deployed = await ethers.deployContract(artifacts.manifest.verifierContract!);
      const verifier = { verifyProof: deployed.getFunction("verifyProof") };
      const good = toSolidityProof(zkProof);
      assert.equal(await verifier.verifyProof(good.a, good.b, good.c, good.input), true);

      const badSignal = toSolidityProof(tampered());
      assert.equal(await verifier.verifyProof(badSignal.a, badSignal.b, badSignal.c, badSignal.input), false);

      const badProof = { ...good, c: [good.a[0], good.a[1]] };
      assert.equal(await verifier.verifyProof(badProof.a, badProof.b, badProof.c, badProof.input), false);
    });
  });
});
