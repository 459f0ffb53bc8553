/**
 * Verifiable encryption of openings (packages/sdk/src/encryption): the keeper decrypts exactly the committed
 * position, and every way to get it wrong (another key, a tampered element or tag, another
 * nonce, a published commitment that does not match, invalid keys, malformed key files) is
 * refused with its own clear error.
 */
import assert from "node:assert/strict";
import { addPoint, Base8, mulPointEscalar, subOrder } from "@zk-kit/baby-jubjub";
import { poseidonDecrypt } from "@zk-kit/poseidon-cipher";
import { InputError } from "../packages/sdk/src/core/errors.ts";
import { SNARK_FIELD } from "../packages/sdk/src/core/field.ts";
import type { Market, Position } from "../packages/sdk/src/inputs/types.ts";
import { commitPosition, commitmentWords, positionSignals } from "../packages/sdk/src/commitment/position-commitment.ts";
import { STANDARD_LAYOUT } from "../packages/sdk/src/commitment/slot-layout.ts";
import {
  decryptOpening,
  encryptOpening,
  generateKeeperKey,
  isProvableEphemeralSecret,
  keeperKeyFileJson,
  keeperPublicKey,
  keeperPublicKeyFileJson,
  OpeningDecryptionError,
  openingCiphertextLength,
  openingPlaintext,
  openingPlaintextLength,
  parseKeeperKeyFile,
  parseKeeperPublicKeyFile,
  randomEphemeralSecret,
  UNPROVABLE_EPHEMERAL_LOW_BITS,
  validateKeeperPublicKey,
  type Point,
  type PublishedOpening,
} from "../packages/sdk/src/encryption/index.ts";
import { loadMarket, loadPosition } from "./helpers/examples.ts";

const TEST_LAYOUT = { nAssets: 3, nInstruments: 3, nScenarios: 16 };
const BIG_LAYOUT = { ...STANDARD_LAYOUT, nScenarios: 16 };

/** A deterministic "random" source for reproducible keys. */
function seeded(seed: bigint): () => bigint {
  let state = seed;
  return () => {
    state = (state * 6364136223846793005n + 1442695040888963407n) % (1n << 256n);
    return state;
  };
}

function publish(position: Position, keeperKey: Point, layout = TEST_LAYOUT): PublishedOpening {
  const encrypted = encryptOpening(position, position.nonce, keeperKey, layout);
  return {
    account: position.account,
    nonce: position.nonce,
    commitment: commitPosition(position, position.salt!, layout),
    ephemeralKey: encrypted.ephemeralKey,
    ciphertext: encrypted.ciphertext,
  };
}

function assertDecryptionError(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof OpeningDecryptionError, `expected OpeningDecryptionError, got ${String(error)}`);
    assert.equal(error.exitCode, 2);
    assert.match(error.message, pattern);
    assert.ok(!error.message.includes("\n"), "one line");
    return true;
  });
}

function assertInputError(fn: () => unknown, field: string, pattern: RegExp, source = "keeper.json"): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof InputError, `expected InputError, got ${String(error)}`);
    assert.equal(error.exitCode, 2);
    assert.equal(error.source, source);
    assert.equal(error.field, field);
    assert.match(error.problem, pattern);
    return true;
  });
}

describe("opening encryption (keeper key, Baby Jubjub ECDH + Poseidon cipher)", () => {
  let market: Market;
  let position: Position;
  const keeper = generateKeeperKey(seeded(1n));

  before(() => {
    market = loadMarket();
    // The new position of a transition: nonce 1 and the example's salt.
    position = { ...loadPosition("position-at-risk.json", market), nonce: 1n };
  });

  it("the plaintext is exactly the commitment's words 1.. (L = 6 for 3x3, 13 for 8x8)", () => {
    for (const layout of [TEST_LAYOUT, BIG_LAYOUT]) {
      const words = commitmentWords(positionSignals(position, position.salt!, layout));
      assert.deepEqual(openingPlaintext(position, layout), words.slice(1));
    }
    assert.equal(openingPlaintextLength(TEST_LAYOUT), 6);
    assert.equal(openingCiphertextLength(TEST_LAYOUT), 7);
    assert.equal(openingPlaintextLength(BIG_LAYOUT), 13);
    assert.equal(openingCiphertextLength(BIG_LAYOUT), 16);
  });

  it("round trip: the keeper decrypts the committed position, for the 3x3 and the 8x8 layouts", () => {
    for (const layout of [TEST_LAYOUT, BIG_LAYOUT]) {
      const published = publish(position, keeper.publicKey, layout);
      assert.equal(published.ciphertext.length, openingCiphertextLength(layout));
      assert.deepEqual(decryptOpening(published, keeper.secret, market, layout), position);
    }
  });

  it("the ciphertext is a standard @zk-kit/poseidon-cipher one: the library decrypts it with the ECDH key", () => {
    for (const layout of [TEST_LAYOUT, BIG_LAYOUT]) {
      const e = encryptOpening(position, 1n, keeper.publicKey, layout, 12345n);
      assert.deepEqual(e.ephemeralKey, mulPointEscalar(Base8, 12345n));
      // keeperSecret * ephemeralKey == ephemeralSecret * keeperKey: both sides of the ECDH.
      const shared = mulPointEscalar([e.ephemeralKey[0], e.ephemeralKey[1]], keeper.secret);
      assert.deepEqual(shared, mulPointEscalar([keeper.publicKey[0], keeper.publicKey[1]], 12345n));
      assert.deepEqual(poseidonDecrypt(e.ciphertext, shared, 1n, openingPlaintextLength(layout)), openingPlaintext(position, layout));
    }
  });

  it("a fresh ephemeral key per encryption: two encryptions of the same opening differ", () => {
    const a = encryptOpening(position, 1n, keeper.publicKey, TEST_LAYOUT);
    const b = encryptOpening(position, 1n, keeper.publicKey, TEST_LAYOUT);
    assert.notDeepEqual(a.ephemeralKey, b.ephemeralKey);
    assert.notDeepEqual(a.ciphertext, b.ciphertext);
    assert.ok(a.ephemeralSecret >= 1n && a.ephemeralSecret < subOrder);
  });

  it("another keeper key does not decrypt it", () => {
    const other = generateKeeperKey(seeded(2n));
    assertDecryptionError(() => decryptOpening(publish(position, keeper.publicKey), other.secret, market, TEST_LAYOUT), /does not decrypt under this keeper key/);
  });

  it("a tampered ciphertext element, or a tampered tag, is refused", () => {
    const published = publish(position, keeper.publicKey);
    for (const j of [0, 3, published.ciphertext.length - 1]) {
      const ciphertext = [...published.ciphertext];
      ciphertext[j] = (ciphertext[j]! + 1n) % SNARK_FIELD;
      assertDecryptionError(() => decryptOpening({ ...published, ciphertext }, keeper.secret, market, TEST_LAYOUT), /does not decrypt under this keeper key/);
    }
    assertDecryptionError(
      () => decryptOpening({ ...published, ciphertext: published.ciphertext.slice(1) }, keeper.secret, market, TEST_LAYOUT),
      /has 6 elements; the 3x3 layout's has 7/,
    );
    assertDecryptionError(
      () => decryptOpening({ ...published, ciphertext: published.ciphertext.map((c, j) => (j === 2 ? c + SNARK_FIELD : c)) }, keeper.secret, market, TEST_LAYOUT),
      /not a field element/,
    );
  });

  it("another nonce does not decrypt it (a replayed old ciphertext under the new nonce)", () => {
    const published = publish(position, keeper.publicKey);
    assertDecryptionError(() => decryptOpening({ ...published, nonce: 2n }, keeper.secret, market, TEST_LAYOUT), /does not decrypt/);
  });

  it("a ciphertext that decrypts, but not to the published commitment, is refused", () => {
    const published = publish(position, keeper.publicKey);
    assertDecryptionError(
      () => decryptOpening({ ...published, commitment: published.commitment + 1n }, keeper.secret, market, TEST_LAYOUT),
      /does not reproduce the published commitment/,
    );
    // Another account's commitment with this ciphertext: word 0 differs.
    const otherAccount = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC";
    assertDecryptionError(() => decryptOpening({ ...published, account: otherAccount }, keeper.secret, market, TEST_LAYOUT), /does not reproduce/);
  });

  it("an invalid ephemeral key is refused before any decryption", () => {
    const published = publish(position, keeper.publicKey);
    assertDecryptionError(
      () => decryptOpening({ ...published, ephemeralKey: [1n, 2n] }, keeper.secret, market, TEST_LAYOUT),
      /ephemeral key is invalid: the point is not on the Baby Jubjub curve/,
    );
  });

  it("the identity ephemeral key (an ephemeral secret = 0 mod subOrder, which the circuit refuses too) is refused", () => {
    const published = publish(position, keeper.publicKey);
    assertDecryptionError(
      () => decryptOpening({ ...published, ephemeralKey: [0n, 1n] }, keeper.secret, market, TEST_LAYOUT),
      /ephemeral key is invalid: the point is the identity/,
    );
  });

  it("the ephemeral-secret draw skips the 3 scalars below subOrder the circuit cannot prove (EscalarMulFix's gap), and encryption refuses them", () => {
    const sLow = UNPROVABLE_EPHEMERAL_LOW_BITS;
    // The documented value: subOrder - 2^250 - (2^249 - 1) / 7 (an integer: 2^249 = 1 mod 7).
    assert.equal(sLow, 797546722194482024037982888770643071568945925300745316575367714387401675944n);
    const unprovable = [sLow, sLow + (1n << 249n), sLow + (2n << 249n)];
    assert.ok(unprovable.every((x) => x >= 1n && x < subOrder) && sLow + (3n << 249n) >= subOrder);
    for (const x of unprovable) assert.equal(isProvableEphemeralSecret(x), false);
    for (const x of [sLow - 1n, sLow + 1n, 1n, subOrder - 1n]) assert.equal(isProvableEphemeralSecret(x), true);
    for (const x of [0n, subOrder, 3n * subOrder]) assert.equal(isProvableEphemeralSecret(x), false, `${x}: the identity`);
    // A source that offers the three first: each is skipped, the next draw is returned.
    const offers = [...unprovable, 12345n];
    const draws: bigint[] = [];
    const secret = randomEphemeralSecret(() => {
      const next = offers.shift()!;
      draws.push(next);
      return next;
    });
    assert.equal(secret, 12345n);
    assert.equal(draws.length, 4);
    for (const x of unprovable) {
      assertInputError(() => encryptOpening(position, 1n, keeper.publicKey, TEST_LAYOUT, x), "", /has no proof/, "ephemeral secret");
    }
  });

  it("encryption refuses a wrong nonce, a missing salt, an out-of-range ephemeral secret", () => {
    assertInputError(() => encryptOpening(position, 2n, keeper.publicKey, TEST_LAYOUT), "nonce", /must be the position's nonce 1/, `position of ${position.account}`);
    assertInputError(
      () => encryptOpening({ ...position, salt: undefined }, 1n, keeper.publicKey, TEST_LAYOUT),
      "salt",
      /needs the position's salt/,
      `position of ${position.account}`,
    );
    assertInputError(() => encryptOpening(position, 1n, keeper.publicKey, TEST_LAYOUT, 0n), "", /scalar in \[1, subOrder\)/, "ephemeral secret");
    assertInputError(() => encryptOpening(position, 1n, keeper.publicKey, TEST_LAYOUT, subOrder), "", /scalar in \[1, subOrder\)/, "ephemeral secret");
  });

  describe("keeper public keys", () => {
    const lowOrder: Point = [0n, SNARK_FIELD - 1n]; // (0, -1): order 2

    it("a generated key is valid and secret * Base8", () => {
      assert.deepEqual(validateKeeperPublicKey(keeper.publicKey, "k"), keeper.publicKey);
      assert.deepEqual(keeperPublicKey(keeper.secret), keeper.publicKey);
      assert.ok(keeper.secret >= 1n && keeper.secret < subOrder);
    });

    it("refuses a point off the curve, the identity, a low-order point, a point outside the subgroup, out-of-field coordinates", () => {
      assertInputError(() => validateKeeperPublicKey([1n, 2n], "keeper.json"), "publicKey", /not on the Baby Jubjub curve/);
      assertInputError(() => validateKeeperPublicKey([0n, 1n], "keeper.json"), "publicKey", /identity/);
      assertInputError(() => validateKeeperPublicKey(lowOrder, "keeper.json"), "publicKey", /not in Baby Jubjub's prime-order subgroup/);
      const mixed = addPoint(lowOrder as [bigint, bigint], [keeper.publicKey[0], keeper.publicKey[1]]);
      assertInputError(() => validateKeeperPublicKey(mixed, "keeper.json"), "publicKey", /not in Baby Jubjub's prime-order subgroup/);
      assertInputError(
        () => validateKeeperPublicKey([keeper.publicKey[0] + SNARK_FIELD, keeper.publicKey[1]], "keeper.json"),
        "publicKey",
        /coordinates must be integers in \[0, p\)/,
      );
    });

    it("encryption to an invalid key is refused (a low-order key would make the shared secret guessable)", () => {
      assertInputError(() => encryptOpening(position, 1n, lowOrder, TEST_LAYOUT), "publicKey", /prime-order subgroup/, "keeper key");
    });
  });

  describe("key files", () => {
    it("round trip of the secret and the public file", () => {
      assert.deepEqual(parseKeeperKeyFile(keeperKeyFileJson(keeper), "keeper.json"), keeper);
      assert.deepEqual(parseKeeperPublicKeyFile(keeperPublicKeyFileJson(keeper.publicKey), "keeper.pub.json"), keeper.publicKey);
    });

    const file = (patch: Record<string, unknown>): string => JSON.stringify({ ...JSON.parse(keeperKeyFileJson(keeper)), ...patch });

    it("malformed files get one line naming the file and field", () => {
      assertInputError(() => parseKeeperKeyFile("{not json", "keeper.json"), "", /not valid JSON/);
      assertInputError(() => parseKeeperKeyFile("[]", "keeper.json"), "", /expected a JSON object/);
      assertInputError(() => parseKeeperKeyFile(file({ version: 2 }), "keeper.json"), "version", /./);
      assertInputError(() => parseKeeperKeyFile(file({ kind: "zks-keeper-public-key" }), "keeper.json"), "kind", /./);
      assertInputError(() => parseKeeperKeyFile(file({ secret: "12" }), "keeper.json"), "secret", /0x-prefixed hex/);
      assertInputError(() => parseKeeperKeyFile(file({ secret: "0x0" }), "keeper.json"), "secret", /\[1, subOrder\)/);
      assertInputError(() => parseKeeperKeyFile(file({ secret: `0x${subOrder.toString(16)}` }), "keeper.json"), "secret", /\[1, subOrder\)/);
      assertInputError(() => parseKeeperKeyFile(file({ publicKey: ["1"] }), "keeper.json"), "publicKey", /./);
      assertInputError(() => parseKeeperKeyFile(file({ publicKey: ["0x1", "2"] }), "keeper.json"), "publicKey[0]", /decimal integer/);
      assertInputError(() => parseKeeperKeyFile(file({ extra: 1 }), "keeper.json"), "", /extra/);
      assertInputError(
        () => parseKeeperPublicKeyFile(JSON.stringify({ version: 1, kind: "zks-keeper-public-key", publicKey: ["1", "2"] }), "keeper.json"),
        "publicKey",
        /not on the Baby Jubjub curve/,
      );
    });

    it("a secret whose public key is another point is refused", () => {
      const other = generateKeeperKey(seeded(3n));
      assertInputError(() => parseKeeperKeyFile(file({ publicKey: other.publicKey.map(String) }), "keeper.json"), "publicKey", /does not match the secret/);
    });
  });
});
