import { readFileSync } from "node:fs";
import * as snarkjs from "snarkjs";
import type { CircuitSignals } from "snarkjs";
import { readR1cs, type R1cs } from "r1csfile";
import { F1Field } from "ffjavascript";
import { SNARK_FIELD } from "../../packages/sdk/src/core/field.ts";
import { calculateWitness } from "../../packages/sdk/src/prover/witness.ts";
import type { InstanceArtifacts } from "../../packages/node/src/artifacts.ts";
import { manifestFiles, readManifest } from "../../packages/node/src/setup/manifest.ts";
import { defaultBuildPaths, instanceDir } from "../../packages/node/src/setup/paths.ts";

/**
 * Direct access to a built circuit for constraint-level tests: the full witness, signal
 * indices by name, and an independent R1CS check, so a forged witness can be shown to
 * violate the constraints (not merely to be refused by the witness generator).
 */
export class CircuitUnderTest {
  private constructor(
    readonly r1cs: R1cs,
    private readonly signalIndex: Map<string, number>,
    private readonly wasm: string,
    private readonly name: string,
  ) {}

  /** From an instance's artifacts or just its name (a compiled instance needs no keys here). */
  static async load(instance: InstanceArtifacts | string): Promise<CircuitUnderTest> {
    const name = typeof instance === "string" ? instance : instance.instance;
    const dir = instanceDir(defaultBuildPaths(), name);
    const manifest = typeof instance === "string" ? readManifest(dir) : instance.manifest;
    if (!manifest) throw new Error(`circuit instance ${name} is not compiled; run \`zks setup --instance ${name} --compile-only\``);
    const files = manifestFiles(dir, manifest);
    // Plain bigint coefficients (F1Field) rather than Montgomery form, for the check below.
    const r1cs = await readR1cs(files.r1cs, { loadConstraints: true, loadMap: false, getFieldFromPrime: (p: bigint) => new F1Field(p) });
    const signalIndex = new Map<string, number>();
    for (const line of readFileSync(files.sym, "utf8").split("\n")) {
      const [, witness, , name] = line.split(",");
      if (name && witness && Number(witness) >= 0) signalIndex.set(name, Number(witness));
    }
    return new CircuitUnderTest(r1cs, signalIndex, files.wasm, name);
  }

  /** Throws UnprovableError when the circuit rejects the input. */
  async witness(input: CircuitSignals): Promise<bigint[]> {
    const wtns = await calculateWitness(input, this.wasm, this.name);
    return (await snarkjs.wtns.exportJson(wtns)).map(BigInt);
  }

  /** Witness index of a signal such as "main.commitment"; throws if --O2 optimised it away. */
  index(name: string): number {
    const found = this.signalIndex.get(name);
    if (found === undefined) throw new Error(`signal ${name} is not in the witness`);
    return found;
  }

  /** Indices of the constraints A*B = C that the witness violates (empty: all hold). */
  violated(witness: bigint[]): number[] {
    const dot = (lc: Record<string, bigint>) => Object.entries(lc).reduce((sum, [i, k]) => (sum + k * witness[Number(i)]!) % SNARK_FIELD, 0n);
    const failing: number[] = [];
    this.r1cs.constraints.forEach(([a, b, c], i) => {
      if ((dot(a) * dot(b) - dot(c)) % SNARK_FIELD !== 0n) failing.push(i);
    });
    return failing;
  }
}
