/**
 * The solvency circuit under test, loaded once per suite (test/solvency.test.ts,
 * test/debt-index.test.ts): its artifacts, R1CS checker, fast witness calculator and the spec's
 * example files; cases from positions; and the bindings every accepted witness must show.
 */
import assert from "node:assert/strict";
import { marketRoot } from "../../packages/sdk/src/commitment/market-root.ts";
import { policyHash } from "../../packages/sdk/src/commitment/policy-hash.ts";
import { commitPosition } from "../../packages/sdk/src/commitment/position-commitment.ts";
import type { Market, Policy, Position } from "../../packages/sdk/src/inputs/types.ts";
import { checkPosition, type RiskReport } from "../../packages/sdk/src/model/index.ts";
import { loadInstanceArtifacts, type InstanceArtifacts } from "../../packages/node/src/artifacts.ts";
import { solvencyInput } from "../../packages/sdk/src/prover/witness/solvency.ts";
import { CircuitUnderTest } from "./circuit.ts";
import { loadMarket, loadPolicy, loadPosition } from "./examples.ts";
import { salted, SOLVENCY_LAYOUT, type SolvencyCase } from "./solvency-cases.ts";
import { FastWitness, type WitnessResult } from "./solvency-witness.ts";

export class SolvencyHarness {
  private constructor(
    readonly artifacts: InstanceArtifacts,
    readonly circuit: CircuitUnderTest,
    readonly fast: FastWitness,
    readonly market: Market,
    readonly policy: Policy,
    readonly healthy: Position,
    readonly atRisk: Position,
  ) {}

  static async load(instance: string): Promise<SolvencyHarness> {
    const artifacts = loadInstanceArtifacts(instance);
    const market = loadMarket();
    return new SolvencyHarness(
      artifacts,
      await CircuitUnderTest.load(artifacts),
      await FastWitness.load(artifacts),
      market,
      loadPolicy(market),
      loadPosition("position-healthy.json", market),
      loadPosition("position-at-risk.json", market),
    );
  }

  /** A case of `position` (salted when it has no salt) under the example market and policy unless given. */
  caseOf(position: Position, market: Market = this.market, policy: Policy = this.policy, label = "case"): SolvencyCase {
    return { label, position: position.salt === undefined ? salted(position, 1n) : position, market, policy };
  }

  input(c: SolvencyCase) {
    return solvencyInput(c.position, c.market, c.policy, SOLVENCY_LAYOUT);
  }

  run(c: SolvencyCase): Promise<WitnessResult> {
    return this.fast.calculate(this.input(c));
  }

  signal(witness: bigint[], name: string): bigint {
    return witness[this.circuit.index(name)]!;
  }

  /** The public outputs equal the TypeScript commitment (of the committed units), marketRoot and policyHash. */
  assertBindings(witness: bigint[], c: SolvencyCase): void {
    const commitmentLayout = { nAssets: SOLVENCY_LAYOUT.nAssets, nInstruments: SOLVENCY_LAYOUT.nInstruments };
    assert.equal(this.signal(witness, "main.commitment"), commitPosition(c.position, c.position.salt!, commitmentLayout), `${c.label}: commitment`);
    assert.equal(this.signal(witness, "main.marketRoot"), marketRoot(c.market, SOLVENCY_LAYOUT), `${c.label}: marketRoot`);
    assert.equal(this.signal(witness, "main.policyHash"), policyHash(c.policy), `${c.label}: policyHash`);
  }
}

/** What the model says of a case: the failing checks, or that it refuses the inputs (bounds). */
export type ModelVerdict = { refused: false; report: RiskReport } | { refused: true; error: Error };

export function modelVerdict({ position, market, policy }: SolvencyCase): ModelVerdict {
  try {
    return { refused: false, report: checkPosition(position, market, policy) };
  } catch (error) {
    if (error instanceof Error) return { refused: true, error };
    throw error;
  }
}

export const modelAccepts = (verdict: ModelVerdict): boolean => !verdict.refused && verdict.report.pass;

export const describeModel = (verdict: ModelVerdict): string =>
  verdict.refused ? `model refuses (${verdict.error.message})` : verdict.report.pass ? "model passes" : `model fails ${verdict.report.failures.join(", ")}`;

export const describeCircuit = (result: WitnessResult): string => (result.accepted ? "circuit accepts" : `circuit rejects (${result.error})`);
