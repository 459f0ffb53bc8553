/**
 * What the high-level API needs of a circuit instance, and the instance's shape (template, slot
 * counts, the checks it proves) read from it. Browser-safe.
 */
import type { VerificationKey } from "snarkjs";
import type { CircuitLayout } from "../commitment/circuit-layout.ts";
import { InputError } from "../core/errors.ts";
import { custodyLayout } from "../chain/custody.ts";
import { SOLVENCY_SIGNAL_COUNT } from "../chain/calldata.ts";
import type { Artifact } from "../prover/artifacts.ts";
import type { KeySourceKind } from "../proof-file/proof-file.ts";
import { ALL_CHECKS, provenChecks, type ProvenCheck } from "../verifier/statements.ts";

/**
 * A circuit instance's artifacts: the witness generator and proving key as paths (Node), URLs
 * (browser) or bytes, and its verification key. `loadCircuitArtifacts` (`@zk-solvency/node`)
 * reads them from a build directory; `fetchCircuitArtifacts` fetches a published release.
 */
export interface CircuitArtifacts extends CircuitKey {
  /** The witness generator (`main.wasm`). */
  wasm: Artifact;
  /** The Groth16 proving key (`circuit.zkey`). */
  zkey: Artifact;
}

/**
 * What a verifier needs to know of an instance: its name, its verification key and, when the
 * name alone does not say, its template and parameters. `CircuitArtifacts` is one.
 */
export interface CircuitKey {
  /** The instance's name in packages/circuits/instances.json, e.g. "solvency-3x3x16". */
  instance: string;
  /** snarkjs' verification_key.json of the instance. */
  verificationKey: VerificationKey;
  /**
   * "Solvency" or "Rebalance" (packages/circuits/instances.json's `template`). Optional: the names
   * `solvency-AxIxS` and `rebalance-AxIxS` say it (see {@link instanceShape}).
   */
  template?: string;
  /**
   * The template's parameters (packages/circuits/instances.json's `params`, also in the build manifest and
   * the key index): [assets, instruments, scenarios, checks] for Solvency, plus swap slots for
   * Rebalance. Optional for instances named `solvency-AxIxS` / `rebalance-AxIxS`, which check all
   * four; required for any other instance (e.g. health-var-3x3x128, whose checks its name omits).
   */
  params?: readonly number[];
  /** Where the proving key came from (manifest or key index); proof files record it. Absent: "development". */
  keySource?: KeySourceKind;
}

/** The two templates whose proofs the high-level API makes and reads. */
export type ProofTemplate = "Solvency" | "Rebalance";

/** What an instance proves and how its public signals are laid out. */
export interface InstanceShape {
  instance: string;
  template: ProofTemplate;
  /** Asset, instrument and scenario slots, and for Rebalance the swap slots. */
  layout: CircuitLayout & { nSwaps?: number };
  /** The checks its circuit enforces (its `checks` parameter's bits). */
  checks: ProvenCheck[];
  /** How many public signals its proofs have. */
  nPublic: number;
}

/**
 * The naming rule of packages/circuits/instances.json for instances that check everything: `solvency-` or
 * `rebalance-`, then assets x instruments x scenarios. test/sdk-api.test.ts checks every instance
 * so named in instances.json has exactly the shape this rule gives.
 */
const CONVENTIONAL_NAME = /^(solvency|rebalance)-(\d{1,3})x(\d{1,3})x(\d{1,4})$/;

const isSlotCount = (n: unknown): n is number => typeof n === "number" && Number.isInteger(n) && n >= 1;

/**
 * The shape of the instance `key` names, as a `template` proof needs it: from its `params` when
 * given, else from its name (`solvency-AxIxS` / `rebalance-AxIxS`: all four checks; a Rebalance
 * instance's swap slots then follow from the key's public signal count). The verification key's
 * public signal count must be the one the shape gives. Throws InputError (exit 2) naming the
 * instance and what does not fit.
 */
export function instanceShape(key: CircuitKey, template: ProofTemplate): InstanceShape {
  const source = `circuit instance "${key.instance}"`;
  const named = CONVENTIONAL_NAME.exec(key.instance);
  const nPublic = key.verificationKey?.nPublic;
  if (!Number.isInteger(nPublic)) throw new InputError(source, "verificationKey.nPublic", "missing: not a snarkjs verification key");
  const declared = key.template ?? (named ? (named[1] === "solvency" ? "Solvency" : "Rebalance") : undefined);
  if (declared !== undefined && declared !== template) {
    throw new InputError(source, "template", `is a ${declared} instance, not a ${template} one`);
  }
  let params: number[];
  if (key.params !== undefined) {
    const want = template === "Solvency" ? 4 : 5;
    if (!Array.isArray(key.params) || key.params.length !== want || !key.params.every(isSlotCount)) {
      throw new InputError(source, "params", `a ${template} instance has ${want} positive integer parameters, got ${JSON.stringify(key.params)}`);
    }
    params = [...key.params];
  } else if (named) {
    const [nAssets, nInstruments, nScenarios] = [Number(named[2]), Number(named[3]), Number(named[4])];
    params = [nAssets, nInstruments, nScenarios, ALL_CHECKS];
    if (template === "Rebalance") {
      // The swap slots are not in the name; every 4 public signals beyond the others are one slot.
      const withoutSwaps = custodyLayout(nAssets, nInstruments, 0).count;
      const nSwaps = (nPublic - withoutSwaps) / 4;
      if (!Number.isInteger(nSwaps) || nSwaps < 0) {
        throw new InputError(source, "verificationKey.nPublic", `${nPublic} public signals fit no Rebalance instance of ${nAssets} assets and ${nInstruments} instruments`);
      }
      params.push(nSwaps);
    }
  } else {
    throw new InputError(
      source,
      "params",
      `its name does not say its shape (only solvency-AxIxS and rebalance-AxIxS do): pass the instance's template and params (circuits/instances.json, its manifest or key index)`,
    );
  }
  const [nAssets, nInstruments, nScenarios, , nSwaps] = params as [number, number, number, number, number | undefined];
  const layout = template === "Rebalance" ? { nAssets, nInstruments, nScenarios, nSwaps: nSwaps! } : { nAssets, nInstruments, nScenarios };
  const expected = template === "Solvency" ? SOLVENCY_SIGNAL_COUNT : custodyLayout(nAssets, nInstruments, nSwaps!).count;
  if (nPublic !== expected) {
    throw new InputError(
      source,
      "verificationKey.nPublic",
      `${nPublic} public signals, but a ${template} instance with parameters [${params.join(", ")}] has ${expected}: the key is another instance's`,
    );
  }
  return { instance: key.instance, template, layout, checks: provenChecks(template, params), nPublic: expected };
}
