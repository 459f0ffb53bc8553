/**
 * Verifying a proof file as a statement, not just as a pairing: which key it may be checked under,
 * and which of its metadata the public signals back. Everything in `zks` but `publicSignals` is
 * text the prover wrote and anyone can edit, so the verdict carries only values read from the
 * signals, and metadata that disagrees with them is an error naming the field. Browser-safe.
 */
import type { VerificationKey } from "snarkjs";
import { getAddress } from "ethers";
import { ZksError } from "../core/errors.ts";
import type { Market, Policy } from "../inputs/types.ts";
import { marketRoot } from "../commitment/market-root.ts";
import { policyHash } from "../commitment/policy-hash.ts";
import { signalHex, type KeySourceKind, type ProofFile } from "../proof-file/proof-file.ts";
import { canonicalVerificationKey, VerificationKeyShapeError } from "./key-check.ts";
import { verificationKeyHash } from "./key-hash.ts";
import { isProofFileTemplate, provenChecks, statementProblem, type ProofFileTemplate, type ProvenCheck } from "./statements.ts";
import { verifyProof } from "./verify.ts";

/** What the verifier knows of the instance independently of the file: packages/circuits/instances.json, and the key it trusts for it. */
export interface InstanceDeclaration {
  instance: string;
  template: string;
  params: number[];
  /** Public signal names, in order. */
  publicSignals: string[];
  /**
   * The fingerprint of the key you trust for this instance, from a source other than the proof
   * file: your own build's verification_key.json, a ceremony's published transcript, your
   * deployments file. Required: a key says nothing of the circuit it was made for, so a key
   * trusted only because the file names its hash verifies whatever its maker (who may know its
   * trapdoor) wants.
   */
  verificationKeyHash: string;
  /** Where the trusted key came from, when a manifest or deployments file says; without it the file's `keySource` is only a claim. */
  keySource?: { kind: KeySourceKind };
}

/**
 * The key is not the key of this proof or of its instance. An error, never "invalid": a proof
 * checked under another key says nothing either way. Exit 3 (the build's key); the CLI reports a
 * key given with --vkey as bad input (exit 2).
 */
export class ProofKeyError extends ZksError {
  constructor(
    message: string,
    /** The key's own fingerprint, when it could be computed. */
    readonly keyHash?: string,
  ) {
    super(message, 3);
  }
}

/** The file's metadata (or a market, policy or chain it is checked against) disagrees with the public signals: a check failed, exit 1. */
export class ProofMetadataError extends ZksError {
  constructor(
    /** The field that disagrees: `zks.named.account`, `zks.statement`, `zks.epoch`, or a signal (`marketRoot`). */
    readonly field: string,
    readonly problem: string,
  ) {
    super(`${field}: ${problem}`, 1);
  }
}

export interface VerifiedProofFile {
  valid: true;
  instance: string;
  template: ProofFileTemplate;
  /** The file's statement, checked to be one the instance's circuit makes (and, for Rebalance, that fromEmpty agrees). */
  statement: string;
  /** The risk checks the circuit enforces (Solvency and Rebalance: the `checks` parameter); empty for a commitment opening. */
  proves: ProvenCheck[];
  /** Every public signal by name, as 0x and 64 hex digits. */
  signals: Record<string, string>;
  /** The `account` signal as an address. */
  account?: string;
  verificationKeyHash: string;
  /** Where the key came from: `kind` as the declaration's trusted source says (null when none does), `claimed` as the file says. */
  keySource: { kind: KeySourceKind | null; claimed: KeySourceKind };
  /** The epoch, only when a market file whose root is the proof's marketRoot vouches for it; the file's `zks.epoch` is otherwise a claim. */
  epoch?: number;
  /** What was compared with the signals beyond the pairing. */
  matched: { market: boolean; policy: boolean };
}

export interface InvalidProofFile {
  valid: false;
  instance: string;
  verificationKeyHash: string;
}

export type ProofFileVerdict = VerifiedProofFile | InvalidProofFile;

export interface ProofFileChecks {
  /** The market file the proof claims: its root must be the `marketRoot` signal, and then its epoch is the proof's. */
  market?: Market;
  /** The policy: its hash must be the `policyHash` signal. */
  policy?: Policy;
}

const KEY_HASH = /^0x[0-9a-f]{64}$/;

/**
 * The key, validated and rebuilt from exactly the words its fingerprint covers (key-check.ts), and
 * that fingerprint, once it is known to be the trusted key of the declaration's instance and the
 * key the proof file records. Throws ProofKeyError, naming both fingerprints, otherwise.
 */
export function checkProofKey(file: ProofFile, verificationKey: VerificationKey, declaration: InstanceDeclaration): { keyHash: string; key: VerificationKey } {
  const trusted = declaration.verificationKeyHash;
  if (typeof trusted !== "string" || !KEY_HASH.test(trusted)) {
    throw new ProofKeyError(
      `no trusted key fingerprint for instance ${declaration.instance} (declaration.verificationKeyHash: 0x and 64 lowercase hex digits): a key trusted because the file names it proves nothing`,
    );
  }
  let key: VerificationKey;
  try {
    key = canonicalVerificationKey(verificationKey);
  } catch (error) {
    if (error instanceof VerificationKeyShapeError) throw new ProofKeyError(`not a Groth16 BN254 verification key as its fingerprint covers it: ${error.message}`);
    throw error;
  }
  const keyHash = verificationKeyHash(key);
  if (keyHash !== trusted) {
    const count = declaration.publicSignals.length;
    const why = key.nPublic !== count ? `: it has ${key.nPublic} public signals and the instance ${count}, another instance's key` : "";
    throw new ProofKeyError(`the verification key's hash is ${keyHash} but the trusted key of instance ${declaration.instance} is ${trusted}${why}`, keyHash);
  }
  if (key.nPublic !== declaration.publicSignals.length) {
    // The trusted key itself disagrees with the declaration: a stale build or a wrong pin.
    throw new ProofKeyError(
      `the trusted key ${keyHash} has ${key.nPublic} public signals and instance ${declaration.instance} has ${declaration.publicSignals.length}: it is another instance's key`,
      keyHash,
    );
  }
  if (file.zks.verificationKeyHash !== keyHash) {
    throw new ProofKeyError(
      `the verification key's hash is ${keyHash} but the proof was made with key ${file.zks.verificationKeyHash} (zks.verificationKeyHash): another setup's key, under which the proof means nothing`,
      keyHash,
    );
  }
  return { keyHash, key };
}

const asAddress = (value: bigint): string | undefined => (value < 1n << 160n ? getAddress(`0x${value.toString(16).padStart(40, "0")}`) : undefined);

/**
 * Verifies `file` under `verificationKey` as a proof of `declaration`'s instance and returns what
 * its public signals say. Throws ProofKeyError when the key is not the declaration's trusted key
 * (`declaration.verificationKeyHash`) or not the proof's, ProofMetadataError when the file's metadata (named signals, statement, key source) or
 * the given market or policy disagrees with the signals. A proof that does not verify is
 * `{ valid: false }`.
 */
export async function verifyProofFile(
  file: ProofFile,
  verificationKey: VerificationKey,
  declaration: InstanceDeclaration,
  checks: ProofFileChecks = {},
): Promise<ProofFileVerdict> {
  const zks = file.zks;
  if (zks.instance !== declaration.instance) throw new ProofMetadataError("zks.instance", `the file names instance ${zks.instance} but is checked as ${declaration.instance}`);
  const template = declaration.template;
  if (!isProofFileTemplate(template)) {
    throw new ZksError(`zks.instance: ${declaration.instance} is an ${template} instance; audit proofs are checked with \`zks audit verify\``, 2);
  }
  const { keyHash, key } = checkProofKey(file, verificationKey, declaration);
  const names = declaration.publicSignals;
  if (zks.publicSignals.length !== names.length) {
    throw new ProofMetadataError("zks.publicSignals", `${zks.publicSignals.length} signals, but instance ${declaration.instance} has ${names.length} (${names.join(", ")})`);
  }

  const { zks: _metadata, ...proof } = file;
  if (!(await verifyProof(key, { proof, publicSignals: zks.publicSignals }))) return { valid: false, instance: declaration.instance, verificationKeyHash: keyHash };

  // From here the signals are proven; every other field is compared with them.
  const signals = Object.fromEntries(names.map((name, i) => [name, signalHex(zks.publicSignals[i]!)]));
  for (const name of names) {
    if (zks.named[name] !== signals[name]) {
      throw new ProofMetadataError(`zks.named.${name}`, `the file says ${JSON.stringify(zks.named[name] ?? null)} but the public signal ${name} is ${signals[name]}`);
    }
  }
  for (const name of Object.keys(zks.named)) {
    if (!(name in signals)) throw new ProofMetadataError(`zks.named.${name}`, `instance ${declaration.instance} has no public signal ${name}`);
  }
  const problem = statementProblem(zks.statement, declaration);
  if (problem) throw new ProofMetadataError("zks.statement", problem);
  if (template === "Rebalance") {
    // A registration is a transition from the empty position: the circuit's fromEmpty signal says which it is.
    const fromEmpty = BigInt(signals.fromEmpty ?? "0") === 1n;
    if ((zks.statement === "register") !== fromEmpty) {
      throw new ProofMetadataError(
        "zks.statement",
        `"${zks.statement}" but the public signal fromEmpty is ${fromEmpty ? 1 : 0} (${fromEmpty ? "a registration from the empty position" : "a rebalance of a registered position"})`,
      );
    }
  }
  const recorded = declaration.keySource?.kind;
  if (recorded !== undefined && zks.keySource !== recorded) {
    throw new ProofMetadataError("zks.keySource", `the file says "${zks.keySource}" but the manifest of key ${keyHash} says "${recorded}"`);
  }

  let epoch: number | undefined;
  if (checks.market) {
    if (!("marketRoot" in signals)) throw new ZksError(`a ${template} proof carries no marketRoot signal: a market file cannot be checked against it`, 2);
    const [nAssets, nInstruments, nScenarios] = declaration.params as [number, number, number];
    let root: bigint;
    try {
      root = marketRoot(checks.market, { nAssets, nInstruments, nScenarios });
    } catch (error) {
      throw new ZksError(`market: cannot compute its root for instance ${declaration.instance} (${(error as Error).message})`, 2);
    }
    if (signalHex(root) !== signals.marketRoot) {
      throw new ProofMetadataError("marketRoot", `the proof's market root is ${signals.marketRoot}, not the given market's (epoch ${checks.market.epoch}) ${signalHex(root)}`);
    }
    // The root commits to the epoch: this is the proof's epoch, whatever the file says.
    if (zks.epoch !== checks.market.epoch) {
      throw new ProofMetadataError("zks.epoch", `the file says epoch ${zks.epoch} but the proof's market root is the market of epoch ${checks.market.epoch}`);
    }
    epoch = checks.market.epoch;
  }
  if (checks.policy) {
    if (!("policyHash" in signals)) throw new ZksError(`a ${template} proof carries no policyHash signal: a policy cannot be checked against it`, 2);
    const hash = signalHex(policyHash(checks.policy));
    if (hash !== signals.policyHash) throw new ProofMetadataError("policyHash", `the proof's policy hash is ${signals.policyHash}, not the given policy's ${hash}`);
  }

  const account = signals.account === undefined ? undefined : asAddress(BigInt(signals.account));
  return {
    valid: true,
    instance: declaration.instance,
    template,
    statement: zks.statement,
    proves: provenChecks(template, declaration.params),
    signals,
    ...(account !== undefined && { account }),
    verificationKeyHash: keyHash,
    keySource: { kind: recorded ?? null, claimed: zks.keySource },
    ...(epoch !== undefined && { epoch }),
    matched: { market: checks.market !== undefined, policy: checks.policy !== undefined },
  };
}
