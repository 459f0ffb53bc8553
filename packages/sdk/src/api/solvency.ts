/**
 * Solvency proofs in one call each: `proveSolvency` takes the parsed position, market and policy
 * and an instance's artifacts and returns the proof with its public signals decoded by name;
 * `verifySolvency` checks the Groth16 proof and that every named field is what the signals say.
 * Browser-safe (Node reads artifacts with `loadCircuitArtifacts` from `@zk-solvency/node`).
 */
import type { Groth16Proof, NumericString, VerificationKey } from "snarkjs";
import { SOLVENCY_SIGNAL } from "../chain/calldata.ts";
import { InputError } from "../core/errors.ts";
import type { Market, Policy, Position } from "../inputs/types.ts";
import { checkPosition } from "../model/check.ts";
import { explainChecks } from "../model/explain.ts";
import { UnprovableError } from "../prover/errors.ts";
import { solvencyInput } from "../prover/witness/solvency.ts";
import { describeChecks, type ProvenCheck } from "../verifier/statements.ts";
import { instanceShape, type CircuitArtifacts, type CircuitKey, type InstanceShape } from "./artifacts.ts";
import { proveWith, type ApiProveOptions } from "./prove-with.ts";
import { contextSignal, signalValues, verdictOf, type ProofEnvelope, type ProofVerdict } from "./verdict.ts";

/** What a Solvency proof is made of: parsed files (parsePosition, parseMarket, parsePolicy). */
export interface SolvencyProofInput {
  /** The position, with its salt (the commitment's blinding). */
  position: Position;
  /** The market of the epoch; its root is a public signal. */
  market: Market;
  /** The policy; its hash is a public signal. */
  policy: Policy;
  /**
   * Binds the proof to where it may be used: `gateContext(chainId, address)` of the contract that
   * will check it (`@zk-solvency/sdk/chain`), or 0 (the default) for a proof checked off-chain only.
   */
  context?: bigint;
}

/**
 * A Solvency proof: the position committed to by `commitment` passes the checks of the policy
 * `policyHash` under the market `marketRoot`. Every named field is decoded from `publicSignals`;
 * `verifySolvency` refuses an object whose fields say anything else. Which checks those are is a
 * property of the instance's key, not of the proof: `instanceShape(artifacts, "Solvency").checks`.
 */
export interface SolvencyProof extends ProofEnvelope {
  template: "Solvency";
  /** Poseidon commitment to the position (account, nonce, salt, balances): `commitPosition`. */
  commitment: bigint;
  /** The market's root: `marketRoot(market, layout)`, what the market oracle publishes per epoch. */
  marketRoot: bigint;
  /** The policy's hash: `policyHash(policy)`. */
  policyHash: bigint;
  /** The position's account, lower-case hex (0x and 40 digits). */
  account: string;
  /** The position's nonce. */
  nonce: bigint;
  /** The context the proof is bound to (0: off-chain only). */
  context: bigint;
}

/** A Solvency proof's public signals by name (`SOLVENCY_SIGNAL`'s positions). */
function decodeSolvency(x: readonly bigint[], key: { instance: string }): Omit<SolvencyProof, "proof" | "publicSignals"> {
  return {
    template: "Solvency",
    instance: key.instance,
    commitment: x[SOLVENCY_SIGNAL.commitment]!,
    marketRoot: x[SOLVENCY_SIGNAL.marketRoot]!,
    policyHash: x[SOLVENCY_SIGNAL.policyHash]!,
    account: `0x${x[SOLVENCY_SIGNAL.account]!.toString(16).padStart(40, "0")}`,
    nonce: x[SOLVENCY_SIGNAL.nonce]!,
    context: x[SOLVENCY_SIGNAL.context]!,
  };
}

/**
 * The typed proof object of a Groth16 proof and its public signals made with `key`'s instance
 * (e.g. received as JSON `{ proof, publicSignals }`). Throws InputError when the signals are not
 * the instance's; the proof itself is checked by `verifySolvency`.
 */
export function solvencyProofOf(zkProof: { proof: Groth16Proof; publicSignals: NumericString[] }, key: CircuitKey): SolvencyProof {
  const shape = instanceShape(key, "Solvency");
  const values = signalValues(zkProof.publicSignals, shape.nPublic);
  if (typeof values === "string") throw new InputError(`proof of ${key.instance}`, "publicSignals", values);
  return { ...decodeSolvency(values, shape), proof: zkProof.proof, publicSignals: [...zkProof.publicSignals] };
}

/**
 * Why the policy's checks that this instance proves fail for the position, from the reference
 * model (docs/risk-arithmetic.md, mirrored unit for unit by the circuit), or null when they pass.
 * A VaR method the policy asks for and the instance lacks has no witness either (the circuit
 * constrains the policy's method).
 */
function policyProblem(input: SolvencyProofInput, shape: InstanceShape): string | null {
  const method = input.policy.var.method;
  const wanted: ProvenCheck[] = [...(method === "parametric" ? [] : ["historicalVar" as const]), ...(method === "historical" ? [] : ["parametricVar" as const])];
  const lacking = wanted.filter((c) => !shape.checks.includes(c));
  if (lacking.length > 0) {
    return `the policy's var.method "${method}" asks for ${describeChecks(lacking)}, which ${shape.instance} does not check (it checks ${describeChecks(shape.checks)})`;
  }
  const report = checkPosition(input.position, input.market, input.policy);
  const failing = explainChecks(report).filter((e) => !e.pass && shape.checks.includes(e.check));
  return failing.length === 0 ? null : `the position fails the policy: ${failing.map((e) => e.line).join("; ")}`;
}

/**
 * Proves that the position passes the policy under the market, with `artifacts`' instance (its
 * slots must fit the market). Throws UnprovableError (exit 1) when the position fails a check the
 * instance proves, naming the check and by how much, before anything is computed in the circuit;
 * InputError (exit 2) for a position without a salt or a market the instance cannot hold;
 * ModelBoundsError (exit 2) for figures outside what the circuits can represent.
 */
export async function proveSolvency(input: SolvencyProofInput, artifacts: CircuitArtifacts, options: ApiProveOptions = {}): Promise<SolvencyProof> {
  const shape = instanceShape(artifacts, "Solvency");
  const signals = solvencyInput(input.position, input.market, input.policy, shape.layout, "position", contextSignal(input.context));
  const problem = policyProblem(input, shape);
  if (problem) throw new UnprovableError(artifacts.instance, problem);
  const { proof, publicSignals } = await proveWith(signals, artifacts, options);
  return solvencyProofOf({ proof, publicSignals }, artifacts);
}

/**
 * Whether `proof` verifies under `key`, and if not, why: its Groth16 proof must verify, and each
 * named field (commitment, marketRoot, policyHash, account, nonce, context) must be what its
 * public signals say. Given a CircuitKey (what loadCircuitArtifacts or fetchCircuitArtifacts
 * return) the proof must also claim that key's instance; given a bare verification key, nothing
 * checks `instance`, which is then only the prover's label (the signals themselves decode alike
 * in every Solvency instance). Throws only for a key that is not a canonical Groth16 BN254 key
 * (VerificationKeyShapeError): the verifier's own input.
 */
export function checkSolvencyProof(proof: SolvencyProof, key: VerificationKey | CircuitKey): Promise<ProofVerdict> {
  return verdictOf(proof, key, "Solvency", decodeSolvency);
}

/** `checkSolvencyProof(proof, key).valid`: true only for an untampered, valid Solvency proof. */
export async function verifySolvency(proof: SolvencyProof, key: VerificationKey | CircuitKey): Promise<boolean> {
  return (await checkSolvencyProof(proof, key)).valid;
}
