/**
 * Verifiable encryption in packages/circuits/rebalance.circom (packages/circuits/lib/opening-encryption.circom):
 * every rebalance proof carries the opening of P' encrypted to the keeper key, and the circuit accepts
 * exactly the ciphertext @zk-kit/poseidon-cipher makes (packages/sdk/src/encryption/opening-cipher.ts) of the
 * packed words, under ECDH(ephemeralSecret, keeperKey) and nonce + 1. A keeper decrypts what a
 * real proof publishes; a ciphertext of another position, to another key, under another nonce,
 * with a tampered element or tag, or beside an ephemeral key that is not the secret's, is refused.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { Base8, mulPointEscalar, subOrder } from "@zk-kit/baby-jubjub";
import { poseidonEncrypt, poseidonPerm } from "@zk-kit/poseidon-cipher";
import fc from "fast-check";
import * as snarkjs from "snarkjs";
import type { CircuitSignals } from "snarkjs";
import { commitPosition } from "../packages/sdk/src/commitment/position-commitment.ts";
import { STANDARD_LAYOUT } from "../packages/sdk/src/commitment/slot-layout.ts";
import { SNARK_FIELD } from "../packages/sdk/src/core/field.ts";
import {
  decryptOpening,
  encryptOpening,
  isProvableEphemeralSecret,
  OpeningDecryptionError,
  openingCiphertextLength,
  openingPlaintext,
  UNPROVABLE_EPHEMERAL_LOW_BITS,
  type Point,
  type PublishedOpening,
} from "../packages/sdk/src/encryption/index.ts";
import { calculateWitness } from "../packages/sdk/src/prover/witness.ts";
import { CIRCOM_OPTIONS, circomPath, runCircom } from "../packages/node/src/setup/compile.ts";
import { PACKAGE_ROOT } from "../packages/node/src/setup/paths.ts";
import { LenientWitness } from "./helpers/lenient-witness.ts";
import type { Market, Policy, Position } from "../packages/sdk/src/inputs/types.ts";
import { loadInstanceArtifacts, type InstanceArtifacts } from "../packages/node/src/artifacts.ts";
import { InputError } from "../packages/sdk/src/core/errors.ts";
import { UnprovableError } from "../packages/sdk/src/prover/errors.ts";
import { generateProof } from "../packages/sdk/src/prover/prove.ts";
import { releaseProverThreads } from "../packages/sdk/src/prover/release.ts";
import { rebalanceInput } from "../packages/sdk/src/prover/witness/rebalance.ts";
import { applyMovements, noMovements, type Transition } from "../packages/sdk/src/rebalance/transition.ts";
import { verifyProof } from "../packages/sdk/src/verifier/verify.ts";
import { CircuitUnderTest } from "./helpers/circuit.ts";
import { loadMarket, loadPolicy, loadPosition } from "./helpers/examples.ts";
import { OTHER_KEEPER, seededEphemeral, TEST_KEEPER } from "./helpers/keeper-key.ts";

const INSTANCE = "rebalance-3x3x16";
const LAYOUT = { nAssets: 3, nInstruments: 3, nScenarios: 16, nSwaps: 2 };
const USDC = 2;
const USD = 10n ** 6n;

type Signals = Record<string, unknown>;

describe(`verifiable encryption of the new opening (${INSTANCE})`, function () {
  let artifacts: InstanceArtifacts;
  let circuit: CircuitUnderTest;
  let market: Market;
  let policy: Policy;
  let healthy: Position;
  let move: Transition;
  const ephemeral = seededEphemeral(7);

  before(async function () {
    artifacts = loadInstanceArtifacts(INSTANCE);
    circuit = await CircuitUnderTest.load(artifacts);
    market = loadMarket();
    policy = loadPolicy(market);
    healthy = { ...loadPosition("position-healthy.json", market), nonce: 4n };
    // A deposit of 1,000 USDC with a new salt: P' at nonce 5.
    const m = noMovements(market);
    m.flows[USDC] = 1_000n * USD;
    move = { old: healthy, next: { ...applyMovements(healthy, m), salt: healthy.salt! + 99n }, ...m, forced: false, fromEmpty: false };
  });
  after(releaseProverThreads);

  const honestInput = (ephemeralSecret = ephemeral()): Signals =>
    rebalanceInput(move, market, policy, LAYOUT, "position", 0n, { keeperKey: TEST_KEEPER.publicKey, ephemeralSecret }) as Signals;
  /** The witness generator stops inside OpeningEncryption (its message names the failing template chain). */
  const rejects = (input: Signals, what: string) =>
    assert.rejects(circuit.witness(input as CircuitSignals), (e: unknown) => e instanceof UnprovableError && /OpeningEncryption/.test(e.message), what);
  /** P' as the keeper must recover it: the new nonce, everything else as committed. */
  const expected = (): Position => ({ ...move.next, nonce: healthy.nonce + 1n });

  it("C = 7 ciphertext elements for the 3x3 layout (L = 6 words: salt, 3 asset words, 2 instrument pairs)", function () {
    assert.equal(openingCiphertextLength(LAYOUT), 7);
    assert.equal((honestInput().ciphertext as bigint[]).length, 7);
  });

  it("the circuit's ciphertext is encryptOpening's, bit for bit, for the same ephemeral secret", async function () {
    const secret = ephemeral();
    const input = honestInput(secret);
    const sealed = encryptOpening(expected(), expected().nonce, TEST_KEEPER.publicKey, LAYOUT, secret);
    assert.deepEqual(input.ciphertext, sealed.ciphertext);
    assert.deepEqual(input.ephemeralKey, [...sealed.ephemeralKey]);
    const w = await circuit.witness(input as CircuitSignals);
    assert.deepEqual(circuit.violated(w), []);
    sealed.ciphertext.forEach((c, j) => assert.equal(w[circuit.index(`main.ciphertext[${j}]`)], c));
  });

  it("passing: a real proof verifies, and the keeper decrypts its public ciphertext to exactly P' (nobody else can)", async function () {
    const zkProof = await generateProof(honestInput() as CircuitSignals, artifacts);
    assert.equal(await verifyProof(artifacts.verificationKey, zkProof), true);
    const at = (name: string): bigint => BigInt(zkProof.publicSignals[artifacts.manifest.publicSignals.indexOf(name)]!);
    const published: PublishedOpening = {
      account: `0x${at("account").toString(16).padStart(40, "0")}`,
      nonce: at("nonce") + 1n,
      commitment: at("newCommitment"),
      ephemeralKey: [at("ephemeralKey[0]"), at("ephemeralKey[1]")],
      ciphertext: Array.from({ length: 7 }, (_, j) => at(`ciphertext[${j}]`)),
    };
    assert.equal(published.commitment, commitPosition(expected(), expected().salt!, LAYOUT));
    const opened = decryptOpening(published, TEST_KEEPER.secret, market, LAYOUT);
    assert.deepEqual({ ...opened, account: opened.account.toLowerCase() }, { ...expected(), account: expected().account.toLowerCase() });
    assert.throws(() => decryptOpening(published, OTHER_KEEPER.secret, market, LAYOUT), OpeningDecryptionError);
    // The proof binds the ciphertext: a tampered element fails verification.
    const signals = [...zkProof.publicSignals];
    const c0 = artifacts.manifest.publicSignals.indexOf("ciphertext[0]");
    signals[c0] = ((BigInt(signals[c0]!) + 1n) % SNARK_FIELD).toString();
    assert.equal(await verifyProof(artifacts.verificationKey, { ...zkProof, publicSignals: signals }), false);
  });

  it("rejects the ciphertext of another position (the old one, or P' with one base unit more)", async function () {
    const secret = ephemeral();
    const input = honestInput(secret);
    const old = encryptOpening({ ...healthy, nonce: healthy.nonce + 1n }, healthy.nonce + 1n, TEST_KEEPER.publicKey, LAYOUT, secret);
    await rejects({ ...input, ciphertext: old.ciphertext }, "the old position's opening");
    const richer = { ...expected(), collateral: expected().collateral.map((c, i) => (i === USDC ? c + 1n : c)) };
    await rejects({ ...input, ciphertext: encryptOpening(richer, richer.nonce, TEST_KEEPER.publicKey, LAYOUT, secret).ciphertext }, "one base unit more");
  });

  it("rejects a ciphertext to another key, and a keeperKey signal other than the key it was made for", async function () {
    const secret = ephemeral();
    const input = honestInput(secret);
    const toOther = encryptOpening(expected(), expected().nonce, OTHER_KEEPER.publicKey, LAYOUT, secret);
    await rejects({ ...input, ciphertext: toOther.ciphertext }, "encrypted to another key");
    await rejects({ ...input, keeperKey: [...OTHER_KEEPER.publicKey] }, "keeperKey signal swapped");
    // ... while encrypting to that other key throughout proves (the gate decides which key is current).
    const other = rebalanceInput(move, market, policy, LAYOUT, "position", 0n, { keeperKey: OTHER_KEEPER.publicKey, ephemeralSecret: secret }) as Signals;
    await circuit.witness(other as CircuitSignals);
  });

  it("rejects a ciphertext under another nonce (the old nonce: a replayed ciphertext of an earlier commitment)", async function () {
    const secret = ephemeral();
    const input = honestInput(secret);
    for (const nonce of [healthy.nonce, healthy.nonce + 2n]) {
      const stale = encryptOpening({ ...expected(), nonce }, nonce, TEST_KEEPER.publicKey, LAYOUT, secret);
      await rejects({ ...input, ciphertext: stale.ciphertext }, `nonce ${nonce}`);
    }
  });

  it("rejects a tampered tag, and each tampered ciphertext element", async function () {
    const input = honestInput();
    const ciphertext = input.ciphertext as bigint[];
    for (let j = 0; j < ciphertext.length; j++) {
      const tampered = [...ciphertext];
      tampered[j] = (tampered[j]! + 1n) % SNARK_FIELD;
      await rejects({ ...input, ciphertext: tampered }, j === ciphertext.length - 1 ? "tag" : `element ${j}`);
    }
  });

  it("rejects an ephemeral key that is not the secret's (the keeper could not derive the shared key), and a secret of 2^253", async function () {
    const secret = ephemeral();
    const input = honestInput(secret);
    const [x, y] = mulPointEscalar(Base8, secret + 1n);
    await rejects({ ...input, ephemeralKey: [x, y] }, "(secret + 1) * Base8");
    await rejects({ ...input, ephemeralKey: [...TEST_KEEPER.publicKey] }, "the keeper's own key");
    // The secret is decomposed in 253 bits; 2^253 has no decomposition.
    await rejects({ ...input, ephemeralSecret: 1n << 253n }, "secret 2^253");
  });

  /** The input of an owner who picks `secret` itself (a hand-edited input: the SDK never draws these). */
  const withSecret = (secret: bigint): Signals => {
    const input = honestInput();
    const ephemeralKey = mulPointEscalar(Base8, secret);
    const shared = mulPointEscalar([TEST_KEEPER.publicKey[0], TEST_KEEPER.publicKey[1]], secret);
    return { ...input, ephemeralSecret: secret, ephemeralKey: [...ephemeralKey], ciphertext: poseidonEncrypt(openingPlaintext(expected(), LAYOUT), shared, expected().nonce) };
  };

  it("an ephemeral secret that is a multiple of subOrder (0, subOrder, 2, 3 and 5 times it) is refused: its key is the identity, which the keeper cannot use", async function () {
    for (const k of [0n, 1n, 2n, 3n, 5n]) {
      const input = withSecret(k * subOrder);
      assert.deepEqual(input.ephemeralKey, [0n, 1n], `${k} * subOrder`);
      await rejects(input, `${k} * subOrder`);
      // ... exactly what the keeper's decryption refuses: it would be an opening nobody acts on.
      const published: PublishedOpening = {
        account: expected().account,
        nonce: expected().nonce,
        commitment: commitPosition(expected(), expected().salt!, LAYOUT),
        ephemeralKey: [0n, 1n],
        ciphertext: input.ciphertext as bigint[],
      };
      assert.throws(
        () => decryptOpening(published, TEST_KEEPER.secret, market, LAYOUT),
        (e: unknown) => e instanceof OpeningDecryptionError && /identity/.test(e.message),
      );
    }
    // Its neighbours prove: the check refuses the identity, not large secrets.
    for (const secret of [subOrder - 1n, subOrder + 1n, 5n * subOrder + 1n, (1n << 253n) - 1n]) await circuit.witness(withSecret(secret) as CircuitSignals);
  });

  it("forged witness: with ephemeralSecret = subOrder only the x != 0 check is violated, whatever its inverse hint holds", async function () {
    // LenientWitness imports circom_runtime, whose (ESM) ffjavascript sets globalThis.curve_bn128 =
    // null when first loaded: the curve of the proof above would lose its last reference and its
    // worker threads would keep mocha from exiting. Release them first.
    await releaseProverThreads();
    const lenient = await LenientWitness.load(artifacts, honestInput() as CircuitSignals, (i) => circuit.witness(i));
    const base = await lenient.calculate(withSecret(subOrder) as CircuitSignals);
    const inverse = circuit.index("main.opening.ephemeralXInverse");
    assert.equal(base[inverse], 0n, "the hint's value for x = 0");
    for (const hint of [0n, 1n, 12345n, SNARK_FIELD - 1n]) {
      const forged = [...base];
      forged[inverse] = hint;
      const violated = circuit.violated(forged);
      assert.equal(violated.length, 1, `hint ${hint}: one constraint`);
      assert.ok(
        Object.keys(circuit.r1cs.constraints[violated[0]!]![0]).concat(Object.keys(circuit.r1cs.constraints[violated[0]!]![1])).includes(String(inverse)),
        `hint ${hint}: the inverse's constraint`,
      );
    }
  });

  it("a secret whose low 249 bits are sLow has no proof (circomlib EscalarMulFix's gap, documented); sLow +- 1 proves", async function () {
    const sLow = UNPROVABLE_EPHEMERAL_LOW_BITS;
    assert.equal(sLow, subOrder - (1n << 250n) - ((1n << 249n) - 1n) / 7n);
    // The three such scalars below subOrder (of 16 below 2^253), all refused.
    const inRange = Array.from({ length: 16 }, (_, k) => sLow + BigInt(k) * (1n << 249n)).filter((x) => x < subOrder);
    assert.equal(inRange.length, 3);
    for (const secret of [...inRange, sLow + 15n * (1n << 249n)]) {
      assert.equal(isProvableEphemeralSecret(secret), false);
      await assert.rejects(circuit.witness(withSecret(secret) as CircuitSignals), UnprovableError, `sLow + ${(secret - sLow) >> 249n} * 2^249`);
    }
    for (const secret of [sLow - 1n, sLow + 1n]) {
      assert.equal(isProvableEphemeralSecret(secret), true);
      await circuit.witness(withSecret(secret) as CircuitSignals);
    }
  });

  it("forged witness: a ciphertext element changed in an honest witness violates the R1CS", async function () {
    const w = await circuit.witness(honestInput() as CircuitSignals);
    for (const j of [0, 6]) {
      const forged = [...w];
      forged[circuit.index(`main.ciphertext[${j}]`)] = (forged[circuit.index(`main.ciphertext[${j}]`)]! + 1n) % SNARK_FIELD;
      assert.ok(circuit.violated(forged).length > 0, `ciphertext[${j}]`);
    }
  });

  it("the witness builder needs the keeper key, and refuses an invalid one (a low-order key would leak the shared key)", function () {
    assert.throws(
      () => rebalanceInput(move, market, policy, LAYOUT, "position", 0n, undefined as unknown as { keeperKey: Point }),
      (e: unknown) => e instanceof InputError && /keeper key/.test(e.message),
    );
    assert.throws(() => rebalanceInput(move, market, policy, LAYOUT, "position", 0n, { keeperKey: [0n, 1n] }), InputError);
  });

  describe("OpeningEncryption(13) on its own: the 8x8 layout's padding (L = 13, C = 16: two padding words)", function () {
    const BIG = { ...STANDARD_LAYOUT, nScenarios: 16 };
    let dir: string;
    let wasm: string;
    let opened: Position;
    before(async function () {
      this.timeout(300_000);
      opened = { ...loadPosition("position-at-risk.json", market), nonce: 9n };
      // circom2 sees only the package tree (its WASI sandbox), so the build goes under build/.
      dir = mkdtempSync(path.join(PACKAGE_ROOT, "build", "opening-encryption-"));
      const main = path.join(dir, "main.circom");
      writeFileSync(
        main,
        'pragma circom 2.1.9;\ninclude "lib/opening-encryption.circom";\ncomponent main {public [nonce, keeperKey, ephemeralKey, ciphertext]} = OpeningEncryption(13);\n',
      );
      await runCircom([circomPath(main), "--r1cs", "--wasm", ...CIRCOM_OPTIONS, "-o", circomPath(dir)]);
      wasm = path.join(dir, "main_js", "main.wasm");
      const info = await snarkjs.r1cs.info(path.join(dir, "main.r1cs"));
      assert.ok(info.nConstraints > 4_000 && info.nConstraints < 5_000, `${info.nConstraints} constraints`);
    });
    after(function () {
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    /** The circuit's input for `words` encrypted under `secret` (0 when the witness generator refuses it). */
    const inputFor = (secret: bigint, words = openingPlaintext(opened, BIG), nonce = opened.nonce): Signals => {
      const shared = mulPointEscalar([TEST_KEEPER.publicKey[0], TEST_KEEPER.publicKey[1]], secret);
      return {
        words,
        nonce,
        keeperKey: [...TEST_KEEPER.publicKey],
        ephemeralSecret: secret,
        ephemeralKey: [...mulPointEscalar(Base8, secret)],
        ciphertext: poseidonEncrypt(words, shared, nonce),
      };
    };
    const accepts = (input: Signals): Promise<boolean> =>
      calculateWitness(input as CircuitSignals, wasm, "opening-encryption-13").then(
        () => true,
        (error: unknown) => {
          if (error instanceof UnprovableError) return false;
          throw error;
        },
      );
    const published = (input: Signals): PublishedOpening => ({
      account: opened.account,
      nonce: opened.nonce,
      commitment: commitPosition(opened, opened.salt!, BIG),
      ephemeralKey: input.ephemeralKey as Point,
      ciphertext: input.ciphertext as bigint[],
    });

    it("accepts encryptOpening's 16-element ciphertext, which the keeper decrypts", async function () {
      const secret = ephemeral();
      const sealed = encryptOpening(opened, opened.nonce, TEST_KEEPER.publicKey, BIG, secret);
      const input = inputFor(secret);
      assert.deepEqual(input.ciphertext, sealed.ciphertext);
      assert.equal(sealed.ciphertext.length, 16);
      assert.equal(await accepts(input), true);
      assert.deepEqual(decryptOpening(published(input), TEST_KEEPER.secret, market, BIG), opened);
    });

    it("refuses nonzero padding even under a valid tag (poseidon-cipher's decryption requires zeros), and a tampered padding element", async function () {
      const secret = ephemeral();
      const shared = mulPointEscalar([TEST_KEEPER.publicKey[0], TEST_KEEPER.publicKey[1]], secret);
      // poseidon-cipher's sponge by hand, under the domain of L = 13 (nonce + 13 * 2^128), over 15
      // words whose last two (the padding positions) are not zero; the tag is the sponge's own, so
      // only the circuit's padding check stands in the way.
      const sponge = (words: bigint[]): bigint[] => {
        let state = [0n, shared[0], shared[1], opened.nonce + 13n * (1n << 128n)];
        const out: bigint[] = [];
        for (let b = 0; b < words.length / 3; b++) {
          state = poseidonPerm(state);
          for (let j = 1; j <= 3; j++) state[j] = (state[j]! + words[3 * b + j - 1]!) % SNARK_FIELD;
          out.push(state[1]!, state[2]!, state[3]!);
        }
        return [...out, poseidonPerm(state)[1]!];
      };
      const plain = openingPlaintext(opened, BIG);
      assert.deepEqual(sponge([...plain, 0n, 0n]), inputFor(secret).ciphertext, "the hand-made sponge is poseidonEncrypt's");
      for (const padding of [
        [1n, 0n],
        [0n, 1n],
        [SNARK_FIELD - 1n, 7n],
      ]) {
        assert.equal(await accepts({ ...inputFor(secret), ciphertext: sponge([...plain, ...padding]) }), false, `padding ${padding.join(", ")}`);
      }
      const honest = inputFor(secret);
      for (const j of [13, 14]) {
        const tampered = [...(honest.ciphertext as bigint[])];
        tampered[j] = (tampered[j]! + 1n) % SNARK_FIELD;
        assert.equal(await accepts({ ...honest, ciphertext: tampered }), false, `padding element ${j}`);
      }
    });

    it("differential (fast-check): the circuit accepts a secret exactly when the SDK calls it provable, and the keeper opens every ciphertext it accepts", async function () {
      this.timeout(300_000);
      const sLow = UNPROVABLE_EPHEMERAL_LOW_BITS;
      const edge = fc.constantFrom(
        0n,
        1n,
        subOrder - 1n,
        subOrder,
        subOrder + 1n,
        2n * subOrder,
        5n * subOrder,
        (1n << 253n) - 1n,
        sLow,
        sLow - 1n,
        sLow + 1n,
        sLow + (1n << 249n),
        sLow + (7n << 249n),
      );
      let accepted = 0;
      let runs = 0;
      await fc.assert(
        fc.asyncProperty(fc.oneof(edge, fc.bigInt(0n, (1n << 253n) - 1n)), async (secret) => {
          const input = inputFor(secret);
          const proven = await accepts(input);
          runs++;
          assert.equal(proven, isProvableEphemeralSecret(secret), `secret ${secret}`);
          if (!proven) return;
          accepted++;
          assert.deepEqual(decryptOpening(published(input), TEST_KEEPER.secret, market, BIG), opened, `secret ${secret}`);
        }),
        { numRuns: 40, seed: 18 },
      );
      assert.ok(accepted > 0 && accepted < runs, `both outcomes occur (${accepted}/${runs})`);
    });
  });
});
