/**
 * Verifiable encryption of openings to the keeper key (docs/enforcement.md). Browser-safe.
 *
 * @module
 */
export {
  generateKeeperKey,
  keeperPublicKey,
  validateKeeperPublicKey,
  parseKeeperKeyFile,
  keeperKeyFileJson,
  keeperPublicKeyFileJson,
  parseKeeperPublicKeyFile,
  randomScalar,
  KEEPER_KEY_KIND,
  KEEPER_PUBLIC_KEY_KIND,
  type Point,
  type KeeperKeyPair,
} from "./keeper-key.ts";
export {
  openingPlaintext,
  openingPlaintextLength,
  openingCiphertextLength,
  encryptOpening,
  decryptOpening,
  randomEphemeralSecret,
  isProvableEphemeralSecret,
  UNPROVABLE_EPHEMERAL_LOW_BITS,
  OpeningDecryptionError,
  type EncryptedOpening,
  type PublishedOpening,
} from "./opening-cipher.ts";
